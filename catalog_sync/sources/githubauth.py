"""How a github source proves who it is: a token from the environment, or a GitHub App installation.

An App's installation token is minted from the app's private key: a JWT (RS256, signed with PyJWT,
valid for nine minutes as GitHub allows at most ten) is sent to
``POST /app/installations/{id}/access_tokens``, which answers a token valid for an hour. The token is
renewed ``renew_before`` seconds before it expires, so no request is ever sent with a token about to
lapse, and none is minted while the last one is good. A token the API refuses (401) before its time
(revoked, the app reinstalled) is minted again once; a host refusing the new one too is asked again at
most once a minute, so a refusal never turns into a loop of mints. Secrets are
read from the environment when the source is built and never appear in a message: errors name the
setting, not its value.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from catalog_sync.config import AppAuth, TokenAuth
from catalog_sync.credentials import env_token, fits_a_header
from catalog_sync.errors import HostApiError, HostNotFoundError, SourceError
from catalog_sync.sources.hostapi import HostClient, HostLimits
from catalog_sync.sources.hostreach import DIRECT, Reach

RENEW_BEFORE = 300.0
"""Seconds before its expiry an installation token is replaced."""
JWT_SECONDS = 540
REFUSED_AGAIN_SECONDS = 60.0
"""How long a token minted to replace a refused one is kept when it is refused too: the host refuses
the app, not a token, and is asked again at most once a minute, never in a loop."""
_CLOCK_SKEW = 60


class Credentials:
    """A token for the API and for git; ``None`` for anonymous access to public repositories."""

    def token(self) -> str | None:
        """The token to send now."""
        return None

    def authorization(self) -> str | None:
        """The API's Authorization header value."""
        token = self.token()
        return f"Bearer {token}" if token else None

    def refused(self, authorization: str) -> bool:
        """The API refused ``authorization`` (a 401): whether another credential is due now, so
        the request is worth sending once more. A token from the environment stays what it is."""
        return False

    def git_header(self) -> str | None:
        """The header git sends to the git host: Basic, as GitHub's smart HTTP expects."""
        token = self.token()
        if not token:
            return None
        pair = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
        return f"Authorization: Basic {pair}"


class StaticToken(Credentials):
    """A personal access token (or any token) read once from the environment."""

    def __init__(self, value: str) -> None:
        self._value = value

    def token(self) -> str | None:
        """The configured token."""
        return self._value


class AppInstallation(Credentials):
    """Installation tokens of a GitHub App, minted on demand and renewed before they expire."""

    def __init__(
        self,
        source: str,
        app: AppAuth,
        private_key: RSAPrivateKey,
        api_url: str,
        limits: HostLimits,
        renew_before: float = RENEW_BEFORE,
        reach: Reach = DIRECT,
    ) -> None:
        self._source = source
        self._app = app
        self._key = private_key
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._dropped = False
        """The last token was refused before its time: the next one is minted for that reason."""
        self._after_refusal = False
        """The token held replaced a refused one: refused too within ``REFUSED_AGAIN_SECONDS``, it is kept."""
        self._minted_at = 0.0
        self._client = HostClient(source, api_url, authorization=self._signed, limits=limits, reach=reach)
        self.minted = 0
        """Tokens minted by this object (a renewal adds one)."""

    def signed_jwt(self) -> str:
        """The app's JWT, as GitHub checks it: issued a minute ago (the clocks may differ), valid
        for nine minutes more (GitHub refuses more than ten), issued by the app's id."""
        now = int(time.time())
        claims = {"iat": now - _CLOCK_SKEW, "exp": now + JWT_SECONDS, "iss": str(self._app.app_id)}
        try:
            return jwt.encode(claims, self._key, algorithm="RS256")
        except (ValueError, TypeError, AttributeError, jwt.PyJWTError) as exc:
            raise SourceError(
                f"auth.app.private_key_env: the variable {self._app.private_key_env} does not hold an RSA "
                f"private key in PEM form ({type(exc).__name__})"
            ) from None

    def _signed(self) -> str:
        return "Bearer " + self.signed_jwt()

    def token(self) -> str | None:
        """The installation token, minted when there is none or it expires within ``renew_before``."""
        with self._lock:
            if self._token is None or self._expires - time.time() <= self._renew_before:
                self._token, self._expires = self._mint()
                self._after_refusal, self._dropped = self._dropped, False
                self._minted_at = time.monotonic()
                self.minted += 1
            return self._token

    def refused(self, authorization: str) -> bool:
        """Drop the token the API refused: a revoked token is replaced, but one minted to replace a
        refused one is not replaced again within ``REFUSED_AGAIN_SECONDS`` (the host refuses the app,
        not a token). A token another thread has replaced meanwhile is simply sent anew."""
        with self._lock:
            if self._token is None or authorization != f"Bearer {self._token}":
                return True
            if self._after_refusal and time.monotonic() - self._minted_at < REFUSED_AGAIN_SECONDS:
                return False
            self._token, self._dropped = None, True
            return True

    def _mint(self) -> tuple[str, float]:
        app = self._app
        path = f"/app/installations/{app.installation_id}/access_tokens"
        try:
            answer = self._client.post(path)
        except HostNotFoundError:  # not the caller's resource: a read must not take it for a missing one
            raise HostApiError(
                f"source {self._source!r}: auth.app.installation_id {app.installation_id} is no installation "
                f"of the GitHub App {app.app_id} (HTTP 404); the id is the number ending the address of the "
                "app's installation in the organisation's settings (Settings > GitHub Apps > Configure)"
            ) from None
        except HostApiError as exc:
            raise HostApiError(
                f"no installation token for auth.app (app_id {app.app_id}, installation_id "
                f"{app.installation_id}): {exc}"
            ) from None
        token = answer.get("token") if isinstance(answer, dict) else None
        expires_at = answer.get("expires_at") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not fits_a_header(token) or not isinstance(expires_at, str):
            raise HostApiError(f"{path}: the host's answer carries no valid installation token")
        try:
            expires = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise HostApiError(f"{path}: the token's expires_at is not a time") from None
        return token, expires


def credentials_for(
    source: str,
    auth: TokenAuth | AppAuth | None,
    api_url: str,
    limits: HostLimits,
    environ: Mapping[str, str] | None = None,
    reach: Reach = DIRECT,
) -> Credentials:
    """The credentials of a source, read from the environment now; a variable that is not set fails
    the source naming the setting (the key of the configuration), never a value."""
    env = os.environ if environ is None else environ
    if auth is None:
        return Credentials()
    if isinstance(auth, TokenAuth):
        return StaticToken(env_token(env, source, auth.token_env))
    return AppInstallation(source, auth, private_key(source, auth, env), api_url, limits, reach=reach)


def private_key(source: str, auth: AppAuth, env: Mapping[str, str]) -> RSAPrivateKey:
    """The app's RSA key from the variable ``auth.private_key_env`` names, checked when the source is
    built, so a wrong one fails the source at once with what is wrong, never the key. Line breaks
    written ``\\n`` or ``\\r\\n`` (a key pasted into one line of a ``.env`` file or a CI variable)
    are read as such."""
    named = f"source {source!r}: auth.app.private_key_env names {auth.private_key_env}"
    text = env.get(auth.private_key_env, "").strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\r\\n", "\n").replace("\\n", "\n").strip()
    if not text:
        raise SourceError(f"{named}, which is not set in the environment")
    try:
        key = serialization.load_pem_private_key(text.encode("utf-8", "replace"), password=None)
    except TypeError:
        raise SourceError(
            f"{named}, which holds an encrypted private key; give the key as GitHub made it (not "
            "encrypted), or decrypt it (openssl pkey -in KEY.pem)"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        kind = "a public key" if "PUBLIC KEY" in text or text.startswith("ssh-") else None
        raise SourceError(
            f"{named}, which holds {kind}; give the app's private key (the .pem file generated in the "
            "app's settings)"
            if kind
            else f"{named}, which does not hold a private key in PEM form: give the whole .pem file "
            "generated in the app's settings, from its -----BEGIN line to its -----END line"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        kind = type(key).__name__.removeprefix("_").removesuffix("PrivateKey") or "another"
        raise SourceError(f"{named}, which holds a key of type {kind}; a GitHub App's key is an RSA key")
    return key
