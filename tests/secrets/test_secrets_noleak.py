"""No key material, token or secret id in reprs, strings, errors or logs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hvac.exceptions
import pytest

from baas.errors import OperationError, UsageError
from baas.secrets import open_store
from baas.secrets.base import bundle_from_record, bundle_to_record
from baas.secrets.kubernetes import KubernetesStore
from baas.secrets.vault import VaultSettings, VaultStore, redact, vault_error
from pki.bundle import IdentityBundle
from tests.support.openbao import OpenBao
from tests.support.tinyca import org_bundles


def _secret_lines(bundle: IdentityBundle) -> list[str]:
    """The base64 body lines of both private keys: none may ever appear in text output."""
    lines = []
    for key in (bundle.sign_key, bundle.tls_key):
        lines += [ln for ln in key.reveal().decode().splitlines() if not ln.startswith("-----")]
    return lines


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def _everything(obj: Any) -> str:
    return f"{obj!r}\n{obj!s}\n{getattr(obj, 'hint', '')}"


def test_bundles_hide_their_keys() -> None:
    for bundle in org_bundles("org1"):
        _assert_clean(_everything(bundle), *_secret_lines(bundle))
        _assert_clean(_everything(bundle.sign_key), *_secret_lines(bundle))


def test_incomplete_record_error_names_fields_not_values() -> None:
    bundle = org_bundles("org1")[0]
    record = bundle_to_record(bundle)
    del record["tls_cert"]
    with pytest.raises(OperationError) as info:
        bundle_from_record(record, where="somewhere")
    _assert_clean(_everything(info.value), *_secret_lines(bundle))


def test_store_reprs(tmp_path: Path) -> None:
    files = open_store("files", root=tmp_path)
    assert repr(files) == f"<FilesStore files at {tmp_path}>"

    class Api:
        def describe(self) -> str:
            return "API server https://127.0.0.1:6443"

    kube = KubernetesStore(Api())  # type: ignore[arg-type]
    assert "https://127.0.0.1:6443" in repr(kube)


def test_vault_settings_repr_hides_token_and_secret_id() -> None:
    settings = VaultSettings(addr="http://x", token="tok-value-1", secret_id="sid-value-2")
    _assert_clean(f"{settings!r}{settings!s}{settings.model_dump()}", "tok-value-1", "sid-value-2")


def test_invalid_settings_error_does_not_echo_values() -> None:
    with pytest.raises(UsageError) as info:
        open_store("vault", addr="http://x", token=["tok-value-3"])
    _assert_clean(_everything(info.value), "tok-value-3")


def test_vault_error_redacts_tokens() -> None:
    exc = hvac.exceptions.Forbidden(
        "permission denied for s.abcdefghijklmnopqrstuvwxyz0123 and mytok"
    )
    err = vault_error(exc, action="read", path="p", capability="read", addr="a", secrets=["mytok"])
    _assert_clean(_everything(err), "mytok", "s.abcdefghijklmnopqrstuvwxyz0123")
    assert "<redacted>" in err.message
    assert redact("hvs.CAESIJabcdefghijklmnopqrstuvwxyz") == "<redacted>"


@pytest.mark.vault
def test_vault_store_objects_errors_and_logs_are_clean(
    openbao: OpenBao, network: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = open_store("vault", addr=openbao.addr, token=openbao.root_token)
    assert isinstance(admin, VaultStore)
    bundles = org_bundles("org1")
    admin.ensure_identities(network, bundles)
    access = admin.ensure_org_access(network, "org1")
    secret_id = admin.mint_secret_id(network, "org1").get_secret_value()
    org_store = open_store("vault", addr=openbao.addr, role_id=access.role_id, secret_id=secret_id)
    org_token = org_store._client.token  # type: ignore[attr-defined]
    assert org_store.read_identity(network, "org1", bundles[0].name) == bundles[0]
    with pytest.raises(OperationError) as denied:
        org_store.read_identity(network, "org2", "peer0.org2.example.com")
    assert denied.value.__cause__ is None and denied.value.__suppress_context__
    with pytest.raises(OperationError) as bad_login:
        open_store("vault", addr=openbao.addr, role_id=access.role_id, secret_id="sid-wrong-4")

    secrets = [openbao.root_token, secret_id, org_token, "sid-wrong-4"]
    secrets += [line for b in bundles for line in _secret_lines(b)]
    for obj in (admin, org_store, access, denied.value, bad_login.value):
        _assert_clean(_everything(obj), *secrets)
    assert access.role_id and access.role_id not in repr(access)
    _assert_clean(caplog.text, *secrets)
