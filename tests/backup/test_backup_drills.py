"""Backup and restore drills against real Fabric on the local runtime (marked ``fabric``).

Drill (b): a two-orgs network with assets written, backed up, its whole ``$BAAS_HOME`` folder
deleted, restored and brought up again: every asset is read back from every peer, the heights
are at least the backed-up ones and smoke is green. Drill (d) on a real backup: a wrong
passphrase, a flipped byte and a missing file are each refused and nothing is written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from baas import services
from baas.errors import UsageError
from baas.home import network_dir
from baas.services import backup as backups
from baas.services import chaincode as chaincode_calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import EXAMPLES, asset_args, read_when_committed, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

PASSPHRASE = "correct horse battery staple"
ASSETS = [f"backup-asset-{i}" for i in range(3)]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _peers(loaded: object) -> list[str]:
    from baas.plan import build

    plan = build(loaded.network)  # type: ignore[attr-defined]
    return [p.fqdn for org in plan.orgs for p in org.peers]


def _refusals(source: Path, tmp_path: Path) -> None:
    """Drill (d) on a real backup: each damage refused by name, nothing written."""
    folder = network_dir("supplychain")
    with pytest.raises(UsageError, match="wrong passphrase"):
        backups.restore(source, passphrase="not the passphrase")
    assert not folder.exists()
    damaged = tmp_path / "damaged"
    shutil.copytree(source, damaged)
    made = json.loads((damaged / "manifest.json").read_text())
    victim = next(f["path"] for f in made["files"] if f["path"].startswith("snapshots/"))
    data = bytearray((damaged / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (damaged / victim).write_bytes(bytes(data))
    with pytest.raises(UsageError, match=victim.split("/")[-1]):
        backups.restore(damaged, passphrase=PASSPHRASE)
    shutil.rmtree(damaged)
    shutil.copytree(source, damaged)
    key = next(f["path"] for f in made["files"] if f["encrypted"])
    (damaged / key).unlink()
    with pytest.raises(UsageError, match="missing"):
        backups.restore(damaged, passphrase=PASSPHRASE)
    assert not folder.exists()


def test_whole_home_lost_restore_and_up_finds_every_asset(home: Path, tmp_path: Path) -> None:
    install = fabric_install_or_skip("2.5")
    dest = tmp_path / "backup"
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        for asset in ASSETS:
            chaincode_calls.invoke(
                net.loaded, chaincode="basic", function="CreateAsset", args=asset_args(asset)
            )
        for asset in ASSETS:
            for peer in _peers(net.loaded):
                read_when_committed(net.loaded, asset=asset, peer=peer)
        lines: list[str] = []
        made = backups.backup(net.loaded, to=dest, passphrase=PASSPHRASE, report=lines.append)
        heights = made.value.heights
        assert heights["mychannel"] > len(ASSETS)
        blob = b"".join(p.read_bytes() for p in dest.rglob("*") if p.is_file())
        assert b"PRIVATE KEY" not in blob
        assert all(p.stat().st_mode & 0o077 == 0 for p in dest.rglob("*"))
        again = backups.backup(net.loaded, to=dest, passphrase=PASSPHRASE)  # converges
        assert again.value.heights["mychannel"] >= heights["mychannel"]
        services.down(net.loaded, target="local", purge=True)
        assert not net.state_dir.exists()
        _refusals(dest, tmp_path)
        restored = backups.restore(dest, passphrase=PASSPHRASE)
        assert restored.value.written > 0
        assert backups.restore(dest, passphrase=PASSPHRASE).value.written == 0  # an ensure
        net.up()
        for asset in ASSETS:
            for peer in _peers(net.loaded):
                raw = read_when_committed(net.loaded, asset=asset, peer=peer)
                assert json.loads(raw)["ID"] == asset, peer
        channel = net.status()["channels"][0]
        assert all(h is not None and h >= heights["mychannel"] for h in channel["heights"].values())
        report = services.smoke(net.loaded, target="local").value
        assert report.passed, report.summary()
