"""The files store: layout, modes, idempotence, round trip, listing and deletion."""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

import pytest

from baas.errors import OperationError, UsageError
from baas.secrets import Change, open_store
from baas.secrets.files import FilesStore
from tests.support.tinyca import org_bundles


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """relative path -> (mtime_ns, inode) of every file under folder."""
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_ino)
        for p in folder.rglob("*")
        if p.is_file()
    }


def test_whole_org_round_trip(tmp_path: Path) -> None:
    store = open_store("files", root=tmp_path / "secrets")
    bundles = org_bundles("org1", peers=("peer0", "peer1"), users=("alice", "bob"))
    changes = store.ensure_identities("net1", bundles)
    assert set(changes.values()) == {Change.CREATED}
    assert store.list_identities("net1", "org1") == sorted(b.name for b in bundles)
    for bundle in bundles:
        assert store.read_identity("net1", "org1", bundle.name) == bundle


def test_layout_is_a_fabric_msp_and_tls_folder(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    peer, admin = org_bundles("org1", peers=("peer0",), users=())
    store.ensure_identity("net1", peer)
    store.ensure_identity("net1", admin)
    folder = store.identity_dir("net1", "org1", "peer0.org1.example.com")
    assert (folder / "msp/signcerts/cert.pem").read_bytes() == peer.sign_cert
    assert (folder / "msp/keystore/priv_sk").read_bytes() == peer.sign_key.reveal()
    assert (folder / "msp/cacerts/ca.pem").read_bytes() == peer.ca_cert
    assert (folder / "msp/tlscacerts/tlsca.pem").read_bytes() == peer.tls_ca_cert
    assert b"Enable: true" in (folder / "msp/config.yaml").read_bytes()
    assert (folder / "tls/server.crt").read_bytes() == peer.tls_cert
    assert (folder / "tls/server.key").read_bytes() == peer.tls_key.reveal()
    assert (folder / "tls/ca.crt").read_bytes() == peer.tls_ca_cert
    meta = json.loads((folder / "identity.json").read_text())
    assert meta == {"org": "org1", "msp_id": "Org1MSP", "name": peer.name, "role": "peer"}
    admin_dir = store.identity_dir("net1", "org1", "Admin@org1.example.com")
    assert (admin_dir / "tls/client.key").read_bytes() == admin.tls_key.reveal()


def test_key_files_0600_and_folders_0700(tmp_path: Path) -> None:
    root = tmp_path / "secrets"
    store = FilesStore(root)
    (bundle,) = org_bundles("org1", peers=("peer0",), users=())[:1]
    old_umask = os.umask(0o000)  # a permissive umask must not widen anything
    try:
        store.ensure_identity("net1", bundle)
    finally:
        os.umask(old_umask)
    folder = store.identity_dir("net1", "org1", bundle.name)
    for d in [
        root,
        root / "net1",
        root / "net1/org1",
        folder,
        *[p for p in folder.rglob("*") if p.is_dir()],
    ]:
        assert _mode(d) == 0o700, d
    assert _mode(folder / "msp/keystore/priv_sk") == 0o600
    assert _mode(folder / "tls/server.key") == 0o600
    assert _mode(folder / "msp/signcerts/cert.pem") == 0o644
    assert not list(folder.rglob(".*.tmp"))


def test_second_ensure_is_unchanged_and_rewrites_nothing(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    bundles = org_bundles("org1")
    store.ensure_identities("net1", bundles)
    before = _snapshot(tmp_path)
    assert set(store.ensure_identities("net1", bundles).values()) == {Change.UNCHANGED}
    assert _snapshot(tmp_path) == before


def test_changed_material_is_updated_and_only_that_file_rewritten(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    bundle = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", bundle)
    folder = store.identity_dir("net1", "org1", bundle.name)
    before = _snapshot(folder)
    renewed = org_bundles("org1", peers=("peer0",), users=())[0]
    changed = dataclasses.replace(bundle, tls_key=renewed.tls_key)
    assert store.ensure_identity("net1", changed) is Change.UPDATED
    after = _snapshot(folder)
    assert {k for k in after if after[k] != before[k]} == {"tls/server.key"}
    assert store.read_identity("net1", "org1", bundle.name) == changed


def test_a_widened_key_mode_is_repaired(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    bundle = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", bundle)
    key = store.identity_dir("net1", "org1", bundle.name) / "msp/keystore/priv_sk"
    key.chmod(0o644)
    assert store.ensure_identity("net1", bundle) is Change.UPDATED
    assert _mode(key) == 0o600


def test_absent_identity_and_org(tmp_path: Path) -> None:
    store = FilesStore(tmp_path / "nothing-here")
    assert store.read_identity("net1", "org1", "peer0.org1.example.com") is None
    assert store.list_identities("net1", "org1") == []
    assert store.delete_org("net1", "org1") == 0


def test_delete_org_removes_only_that_org(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    org1 = org_bundles("org1", users=("alice",))
    org2 = org_bundles("org2")
    store.ensure_identities("net1", org1 + org2)
    assert store.delete_org("net1", "org1") == len(org1)
    assert store.list_identities("net1", "org1") == []
    assert store.list_identities("net1", "org2") == sorted(b.name for b in org2)


def test_incomplete_copy_is_an_operation_error_naming_fields_only(tmp_path: Path) -> None:
    store = FilesStore(tmp_path)
    bundle = org_bundles("org1", peers=("peer0",), users=())[0]
    store.ensure_identity("net1", bundle)
    (store.identity_dir("net1", "org1", bundle.name) / "tls/server.key").unlink()
    with pytest.raises(OperationError, match="missing tls_key") as info:
        store.read_identity("net1", "org1", bundle.name)
    assert bundle.sign_key.reveal().decode() not in str(info.value)


@pytest.mark.parametrize("bad", ["", "..", "a/b", " x"])
def test_unusable_names_are_usage_errors(tmp_path: Path, bad: str) -> None:
    store = FilesStore(tmp_path)
    with pytest.raises(UsageError):
        store.read_identity(bad, "org1", "peer0")
    with pytest.raises(UsageError):
        store.read_identity("net1", "org1", bad)


def test_open_store_validates_settings() -> None:
    with pytest.raises(UsageError, match="root"):
        open_store("files")
    with pytest.raises(UsageError, match="unknown secret store"):
        open_store("s3")
