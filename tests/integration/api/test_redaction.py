"""No credential reaches an HTTP answer, whatever text an error carries: the API's and the portal's.

Error answers pass through one redaction at the HTTP edge, so a URL with a password or a token-like
query parameter inside any error message is shown without it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from catalog_sync.errors import CatalogSyncError, NotFoundError, SourceError
from plugin_api.state import STATE_KEY
from tests.integration.api.conftest import AUTH

SECRET = "s3cret"
TOKEN_LIKE = "ghp_Zq8s3cretTokenValue"
URL = f"https://user:{SECRET}@host/x.git"


def _assert_clean(text: str) -> None:
    assert SECRET not in text
    assert TOKEN_LIKE not in text


def test_a_registered_url_with_a_password_is_refused_and_shown_nowhere(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app().test_client()

    for body in (
        {"url": URL},
        {"url": f"ext::{URL}"},
        {"url": f"https://host/x.git?access_token={TOKEN_LIKE}"},
    ):
        response = client.post("/api/repositories", json=body, headers=AUTH)
        assert response.status_code == 400
        _assert_clean(response.get_data(as_text=True))
    for path in (
        "/api/repositories",
        "/api/sources",
        "/repositories",
        f"/api/catalog/entities/by-name/x/y/{URL}",
    ):
        _assert_clean(client.get(path).get_data(as_text=True))


@pytest.mark.parametrize("path", ["/api/repositories/1", "/repositories/1"])
@pytest.mark.parametrize(("error", "status"), [(SourceError, 400), (NotFoundError, 404)])
def test_credentials_in_an_error_message_never_reach_the_answer(
    make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    error: type[CatalogSyncError],
    status: int,
) -> None:
    app = make_app()
    message = f"clone of {URL} failed: fatal: https://host/x.git?access_token={TOKEN_LIKE} was refused"

    def failing(*_args: object, **_kwargs: object) -> None:
        raise error(message)

    monkeypatch.setattr(app.extensions[STATE_KEY].catalog, "get_repository", failing)
    response = app.test_client().get(path)

    assert response.status_code == status
    text = response.get_data(as_text=True)
    _assert_clean(text)
    assert "https://user:***@host/x.git" in text
