# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit schemas bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make run: the demo on the embedded default (SQLite, the example repositories, 127.0.0.1:8080)
run: $(STAMP)
	$(BIN)/catalog-sync demo --port 8080

## make test: environment, lint, type checks and the whole test suite
test: $(STAMP) lint
	$(BIN)/pytest -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff check catalog_sync plugin_api tests benchmarks dashboards
	$(BIN)/ruff format --check catalog_sync plugin_api tests benchmarks dashboards
	$(BIN)/mypy

## make schemas: regenerate descriptors/schema/ from the marshmallow schemas
schemas: $(STAMP)
	$(BIN)/python -m catalog_sync.descriptors.jsonschema descriptors/schema

## make bench: the sync benchmark at 1,000 and 10,000 repositories
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .catalog-sync .pytest_cache .mypy_cache .ruff_cache
