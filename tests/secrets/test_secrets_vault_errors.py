"""hvac/requests failures become OperationError with Vault's message and a useful hint."""

from __future__ import annotations

import hvac.exceptions
import pytest
import requests

from baas.secrets.vault import vault_error


def _err(exc: BaseException) -> tuple[str, str]:
    err = vault_error(
        exc, action="read x", path="baas/data/n/o/p", capability="read", addr="http://v:8200"
    )
    return err.message, err.hint


@pytest.mark.parametrize(
    ("exc", "hint"),
    [
        (hvac.exceptions.Forbidden("permission denied"), "lacks a policy granting 'read'"),
        (hvac.exceptions.Unauthorized("bad token"), "set VAULT_TOKEN"),
        (hvac.exceptions.InvalidPath("no handler for route"), "does not exist"),
        (hvac.exceptions.VaultDown("Vault is sealed"), "unseal"),
        (hvac.exceptions.InvalidRequest("cas mismatch"), "parameters"),
        (hvac.exceptions.InternalServerError("boom"), "server log"),
    ],
)
def test_hints_by_status(exc: BaseException, hint: str) -> None:
    message, got = _err(exc)
    assert str(exc) in message  # Vault's own message is kept
    assert hint in got


def test_connection_refused() -> None:
    message, hint = _err(requests.exceptions.ConnectionError("refused"))
    assert "no answer from Vault at http://v:8200" in message
    assert hint == "is Vault running at http://v:8200? set VAULT_ADDR (or BAO_ADDR)"


def test_tls_failure() -> None:
    _, hint = _err(requests.exceptions.SSLError("certificate verify failed"))
    assert "VAULT_CACERT" in hint
