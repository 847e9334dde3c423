"""A GitHub App's private key, read from the environment when the source is built: each way an
operator gets it wrong is refused then, naming the setting and the variable, never quoting the key."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from catalog_sync.config import AppAuth, TokenAuth
from catalog_sync.errors import SourceError
from catalog_sync.sources.githubauth import AppInstallation, credentials_for
from catalog_sync.sources.hostapi import HostLimits

AUTH = AppAuth(app_id=1234, private_key_env="GITHUB_APP_KEY", installation_id=5678)
_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PEM = _RSA.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
BODY = PEM.splitlines()[5]
"""A line of the key's body: it must appear in no message."""


def build(value: str) -> AppInstallation:
    built = credentials_for(
        "acme", AUTH, "https://api.github.example", HostLimits(), {"GITHUB_APP_KEY": value}
    )
    assert isinstance(built, AppInstallation)
    return built


def refusal(value: str) -> str:
    with pytest.raises(SourceError) as caught:
        build(value)
    message = str(caught.value)
    assert "source 'acme': auth.app.private_key_env names GITHUB_APP_KEY" in message
    assert BODY not in message
    assert "PRIVATE KEY-----" not in message
    return message


@pytest.mark.parametrize("written", ["\\n", "\\r\\n", "\r\n"])
def test_a_key_whose_line_breaks_are_written_otherwise_is_read(written: str) -> None:
    assert build(PEM.replace("\n", written)).signed_jwt()


def test_the_jwt_is_one_github_accepts_whatever_the_clocks_say() -> None:
    before = time.time()
    token = build(PEM).signed_jwt()
    claims = jwt.decode(token, _RSA.public_key(), algorithms=["RS256"], options={"verify_iat": False})
    assert claims["iss"] == "1234"
    assert claims["iat"] <= before - 30  # backdated: a host clock behind ours still sees it issued
    assert claims["exp"] - time.time() <= 600  # GitHub refuses more than ten minutes
    assert claims["exp"] - claims["iat"] <= 600


def test_a_public_key_is_refused_as_one() -> None:
    public = _RSA.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert "a public key" in refusal(public.decode())


def test_a_key_that_is_not_rsa_is_refused_naming_its_type() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert "a key of type EC" in refusal(key.decode())


def test_an_encrypted_key_is_refused_as_encrypted() -> None:
    key = _RSA.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    assert "encrypted" in refusal(key.decode())


@pytest.mark.parametrize(
    "value",
    [pytest.param(PEM[:300], id="truncated"), pytest.param("not a key at all", id="text")],
)
def test_a_value_that_is_no_key_is_refused_without_being_shown(value: str) -> None:
    assert "does not hold a private key in PEM form" in refusal(value)


def test_an_unset_key_variable_is_refused_naming_it() -> None:
    assert "which is not set" in refusal("  ")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_key_in_quotes_as_docker_env_files_keep_them_is_read(quote: str) -> None:
    assert build(quote + PEM.replace("\n", "\\n") + quote).signed_jwt()


@pytest.mark.parametrize("quote", ['"', "'"])
def test_a_token_in_quotes_as_docker_env_files_keep_them_is_sent_without_them(quote: str) -> None:
    token = "ghp_" + "x" * 36
    built = credentials_for(
        "acme",
        TokenAuth("GITHUB_TOKEN"),
        "https://api.github.example",
        HostLimits(),
        {"GITHUB_TOKEN": quote + token + quote},
    )
    assert built.token() == token
