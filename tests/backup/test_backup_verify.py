"""A backup's encryption, manifest and verification without Fabric: a small backup is made
from a real PKI tree (no nodes), then damaged in every way a restore must refuse — a wrong
passphrase, a flipped byte, a truncated or missing file, an edited manifest — each with a clear
message naming the file and nothing written; an intact one restores its keys exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

import pytest

import topology
from baas.backup import create, encryption, manifest
from baas.backup import restore as restoring
from baas.cli.app import main
from baas.errors import UsageError
from baas.fabric.identity import SigningIdentity
from baas.home import network_dir
from baas.plan import build
from baas.services import pki_generate
from tests.support.localnet import EXAMPLES

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(encryption.PASSPHRASE_ENV, PASSPHRASE)
    return tmp_path / "home"


def _make_backup(state_dir: Path, out: Path) -> manifest.Manifest:
    """What :func:`baas.backup.create.create` writes, minus snapshots and orderer ledgers."""
    plan = build(topology.load(EXAMPLES / "two-orgs.yaml").network)
    (state_dir / "channels").mkdir(parents=True)
    (state_dir / "channels" / "mychannel.block").write_bytes(b"genesis")
    (state_dir / "ports.json").write_text("{}")
    out.mkdir()
    kdf = encryption.KeyDerivation.fresh()
    key = kdf.derive(PASSPHRASE)
    encrypted = create._copy_state(state_dir, out, key)
    (out / "orderers" / "orderer0.example.com" / "chains").mkdir(parents=True)
    (out / "orderers" / "orderer0.example.com" / "chains" / "blockfile_000000").write_bytes(
        b"blocks" * 100
    )
    create.private_tree(out)
    org = plan.orgs[0]
    tree = state_dir / "crypto" / "ordererOrganizations" / org.domain
    identity = SigningIdentity.from_msp_dir(org.msp_id, tree / "users" / org.admin / "msp")
    ca = f"state/crypto/ordererOrganizations/{org.domain}/ca/ca.{org.domain}-cert.pem"
    files = sorted(p for p in out.rglob("*") if p.is_file())
    made = manifest.Manifest(
        network=plan.network,
        created="2026-01-01T00:00:00+00:00",
        baas_version="test",
        fabric_version="2.5.16",
        topology="topology.yaml",
        kdf=kdf.to_dict(),
        key_check=encryption.key_check(key),
        signer=manifest.Signer(org.name, org.msp_id, identity.cert_pem.decode(), ca),
        channels=[
            manifest.ChannelEntry("mychannel", 5, "h", {}, "state/channels/mychannel.block", "")
        ],
        orderers=[
            manifest.OrdererEntry(
                "orderer0.example.com", "orderers/orderer0.example.com", {"mychannel": 5}
            )
        ],
        files=[
            manifest.entry(out, p, encrypted=p.relative_to(out).as_posix() in encrypted)
            for p in files
        ],
    )
    manifest.write(out, made, identity)
    return made


@pytest.fixture
def backup(home: Path, tmp_path: Path) -> tuple[Path, Path]:
    """(the backup folder, the original state folder it was made from)."""
    source_state = tmp_path / "original"
    pki_generate(topology.load(EXAMPLES / "two-orgs.yaml"), out=source_state / "crypto")
    out = tmp_path / "backup"
    _make_backup(source_state, out)
    return out, source_state


def _restore(source: Path, passphrase: str = PASSPHRASE) -> restoring.RestoreResult:
    return restoring.restore(
        source, folder_for=network_dir, passphrase=passphrase, report=lambda _: None
    )


def test_keys_are_encrypted_files_private_and_restored_exactly(
    backup: tuple[Path, Path],
) -> None:
    out, original = backup
    stored = [p for p in out.rglob("*") if p.is_file()]
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in stored)
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in stored)
    keys = [
        p
        for p in (original / "crypto").rglob("*")
        if p.is_file() and encryption.is_secret(PurePosixPath(p.name), p.read_bytes())
    ]
    assert len(keys) > 10
    result = _restore(out)
    folder = network_dir("supplychain")
    assert result.folder == folder and result.heights == {"mychannel": 5}
    for key in keys:
        restored = folder / key.relative_to(original)
        assert restored.read_bytes() == key.read_bytes()
        assert restored.stat().st_mode & 0o777 == 0o600
    ledger = folder / "data" / "orderer0.example.com" / "chains" / "blockfile_000000"
    assert ledger.read_bytes() == b"blocks" * 100
    assert "lost" in result.notes[-1]


def test_restoring_again_changes_nothing_and_other_state_is_refused(
    backup: tuple[Path, Path],
) -> None:
    out, _ = backup
    _restore(out)
    assert _restore(out).written == 0
    (network_dir("supplychain") / "backup" / "restored.json").unlink()
    with pytest.raises(UsageError, match="already has state"):
        _restore(out)


def test_wrong_passphrase_is_refused_before_anything_is_written(
    backup: tuple[Path, Path],
) -> None:
    with pytest.raises(UsageError, match="wrong passphrase"):
        _restore(backup[0], "another passphrase")
    assert not network_dir("supplychain").exists()


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_a_flipped_byte_is_refused_naming_the_file(backup: tuple[Path, Path], kind: str) -> None:
    out, _ = backup
    made = manifest.Manifest.from_bytes((out / manifest.MANIFEST).read_bytes())
    victim = next(f.path for f in made.files if f.encrypted == (kind == "encrypted"))
    _flip(out / victim)
    with pytest.raises(UsageError, match="does not match its SHA-256") as caught:
        _restore(out)
    assert victim in caught.value.message
    assert not network_dir("supplychain").exists()


def test_truncated_and_missing_files_are_refused(backup: tuple[Path, Path]) -> None:
    out, _ = backup
    ledger = out / "orderers" / "orderer0.example.com" / "chains" / "blockfile_000000"
    ledger.write_bytes(ledger.read_bytes()[:10])
    with pytest.raises(UsageError, match="truncated"):
        _restore(out)
    ledger.unlink()
    with pytest.raises(UsageError, match="blockfile_000000 is missing"):
        _restore(out)
    assert not network_dir("supplychain").exists()


def test_an_edited_manifest_fails_its_signature(backup: tuple[Path, Path]) -> None:
    out, _ = backup
    data = json.loads((out / manifest.MANIFEST).read_text())
    data["channels"][0]["height"] = 99
    (out / manifest.MANIFEST).write_text(json.dumps(data, sort_keys=True, indent=1))
    with pytest.raises(UsageError, match="manifest was altered"):
        _restore(out)
    (out / manifest.SIGNATURE).unlink()
    with pytest.raises(UsageError, match=r"manifest\.sig is missing"):
        _restore(out)


def test_an_encrypted_file_moved_elsewhere_does_not_decrypt() -> None:
    key = encryption.KeyDerivation.fresh().derive(PASSPHRASE)
    blob = encryption.encrypt(key, b"secret", path="a/priv_sk.enc")
    assert encryption.decrypt(key, blob, path="a/priv_sk.enc") == b"secret"
    with pytest.raises(UsageError, match=r"b/priv_sk\.enc does not decrypt"):
        encryption.decrypt(key, blob, path="b/priv_sk.enc")


def test_cli_refusal_exits_2_without_traceback(
    backup: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = backup
    _flip(out / "ports.json" if (out / "ports.json").exists() else out / "state" / "ports.json")
    assert main(["restore", str(out)]) == 2
    err = capsys.readouterr().err
    assert "state/ports.json does not match its SHA-256" in err
    assert "Traceback" not in err
    assert not network_dir("supplychain").exists()


def test_backup_without_a_running_network_is_refused(
    home: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["backup", str(EXAMPLES / "two-orgs.yaml"), "--to", str(tmp_path / "b")]) == 2
    assert "does not run on this machine" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    shutil.rmtree(home, ignore_errors=True)
