# The catalog-sync image: the locked dependency set in a virtual environment, run as a non-root uid.
#
#   docker build -t registry.example.com/catalog-sync:0.1.0 .
#
# Kubernetes probes /healthz and /readyz (helm/catalog-sync), so the image has no HEALTHCHECK. The
# command is chosen by the chart: gunicorn for the API, `catalog-sync worker`, `catalog-sync db upgrade`.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# Build stage: wheels only (--only-binary), checked against the lock's hashes, so no compiler is needed
# here either; the virtual environment is copied whole into the final stage at the same path.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/catalog-sync
COPY requirements/run.lock requirements/run.lock
RUN /opt/catalog-sync/bin/pip install --require-hashes --only-binary=:all: -r requirements/run.lock
COPY pyproject.toml README.md ./
COPY catalog_sync catalog_sync
COPY plugin_api plugin_api
RUN /opt/catalog-sync/bin/pip install --no-deps --no-build-isolation . \
    && /opt/catalog-sync/bin/python -m compileall -q /opt/catalog-sync

FROM ${PYTHON_IMAGE}
# git reads the repositories; Debian's security updates pick its exact version, so it is not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 catalog \
    && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin catalog
COPY --from=build /opt/catalog-sync /opt/catalog-sync
ENV PATH=/opt/catalog-sync/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
WORKDIR /tmp
USER 10001:10001
EXPOSE 8080 9464
CMD ["catalog-sync", "serve", "--host", "0.0.0.0", "--port", "8080"]
