"""Rotating an organisation's TLS CA on real Fabric (marked ``fabric``): ``baas pki rotate-ca
FILE org1 --tls`` then ``baas up`` while a load probe runs — interrupted once mid-roll, then
resumed. Checked: the decoded channel config field by field (both CAs mid-rotation, only the
new one at the end, nothing else changed), every org1 node serving a certificate chained to
the new CA, no committed transaction lost, commits all along, smoke green afterwards."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from fabric_protos.msp import msp_config_pb2

from baas import services
from baas.fabric import configupdate
from baas.network import config as channel_config
from baas.network import tlsrotation
from baas.network.crypto import CryptoTree
from baas.smoke.load import LoadOptions, LoadResult, run_load
from pki.certs import issued_by
from tests.fabric.test_smoke import _ledger_tx_ids
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Interrupted(Exception):
    """Stands for a Ctrl-C in the middle of ``up``."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _config(net: LocalNet) -> configupdate.Config:
    with net.access() as access:
        return channel_config.current_config(access, net.plan.channels[0])


def _msp(config: configupdate.Config, msp_id: str) -> msp_config_pb2.FabricMSPConfig:
    value = config.channel_group.groups["Application"].groups[msp_id].values["MSP"].value
    return msp_config_pb2.FabricMSPConfig.FromString(
        msp_config_pb2.MSPConfig.FromString(value).config
    )


def _without_tls_roots(msp: msp_config_pb2.FabricMSPConfig) -> bytes:
    copy = msp_config_pb2.FabricMSPConfig()
    copy.CopyFrom(msp)
    del copy.tls_root_certs[:]
    return copy.SerializeToString(deterministic=True)


def _others(config: configupdate.Config) -> dict[str, bytes]:
    """Every part of the channel config but Org1MSP's MSP value, serialised (for equality)."""
    channel = config.channel_group
    parts = {
        name: group.SerializeToString(deterministic=True)
        for name, group in channel.groups.items()
        if name != "Application"
    }
    app = channel.groups["Application"]
    for name, group in app.groups.items():
        for key, value in group.values.items():
            if (name, key) != ("Org1MSP", "MSP"):
                parts[f"{name}/{key}"] = value.SerializeToString(deterministic=True)
    parts["Application/values"] = b"".join(
        v.SerializeToString(deterministic=True) for _, v in sorted(app.values.items())
    )
    parts["Application/policies"] = b"".join(
        p.SerializeToString(deterministic=True) for _, p in sorted(app.policies.items())
    )
    return parts


def _issued_by(pem: bytes | None, ca_pem: bytes) -> bool:
    return pem is not None and issued_by(
        x509.load_pem_x509_certificate(pem), x509.load_pem_x509_certificate(ca_pem)
    )


def _longest_stall(load: LoadResult) -> float:
    """The longest stretch of the load's timeline without a new commit (seconds)."""
    longest, since, last = 0.0, 0.0, 0
    for at, committed in load.timeline:
        if committed > last:
            since, last = at, committed
        longest = max(longest, at - since)
    return longest


def test_org1_tls_ca_rotates_under_load(home: Path) -> None:
    install = fabric_install_or_skip("2.5.16")
    with up_network(EXAMPLES / "two-orgs.yaml", install=install) as net:
        assert services.smoke(net.loaded, target="local").value.passed  # deploys the probe
        org1 = net.plan.org("org1")
        crypto = CryptoTree(net.state_dir / "crypto")
        before = _config(net)
        old_ca = crypto.tls_ca(org1).read_bytes()
        assert list(_msp(before, "Org1MSP").tls_root_certs) == [old_ca]

        outcome = services.pki_rotate_ca(net.loaded, "org1", tls=True)
        new_ca = crypto.tls_ca(org1).read_bytes()
        assert new_ca != old_ca and outcome.value.changed
        pending = services.plan_changes(net.loaded, target="local").value.lines()
        assert any("Org1MSP/MSP" in line and "TLS root CAs 1 → 2" in line for line in pending), (
            pending
        )
        assert any("phase trust" in line for line in pending), pending
        assert any("re-issue peer0.org1.example.com" in line for line in pending), pending

        seen: dict[str, Any] = {}
        progress: list[str] = []

        def report(line: str) -> None:
            progress.append(line)
            if "every channel trusts both CAs" in line and "mid" not in seen:
                seen["mid"] = _config(net)
                with net.access() as access:
                    seen["served"] = {
                        n.fqdn: tlsrotation.served_by_node(access, n) for n in org1.peers
                    }
            if "peer0.org1.example.com re-issued" in line and "interrupted" not in seen:
                seen["interrupted"] = True
                raise Interrupted

        box: dict[str, LoadResult] = {}
        stop = threading.Event()

        def keep_live(live: LoadResult) -> None:
            box.setdefault("live", live)

        with net.access() as access:
            options = LoadOptions(duration=300, concurrency=4, commit_timeout=4.0)
            worker = threading.Thread(
                target=lambda: box.setdefault(
                    "r",
                    run_load(
                        access,
                        net.plan.channels[0],
                        options,
                        stop=stop,
                        on_progress=keep_live,
                    ),
                )
            )
            worker.start()
            try:
                time.sleep(2.0)
                started = time.monotonic()
                with pytest.raises(Interrupted):
                    services.up(net.loaded, target="local", fabric_bin=install.root, report=report)
                result = services.up(
                    net.loaded, target="local", fabric_bin=install.root, report=report
                ).value
                seen["seconds"] = time.monotonic() - started
                committed_at_end = box["live"].committed
                time.sleep(3.0)  # commits go on after the rotation
                seen["after"] = box["live"].committed - committed_at_end
            finally:
                stop.set()
                worker.join()

        # mid-rotation: the channel trusted both CAs while the nodes still served the old one
        mid = seen["mid"]
        assert isinstance(mid, configupdate.Config)
        mid_msp = _msp(mid, "Org1MSP")
        assert list(mid_msp.tls_root_certs) == [new_ca, old_ca]
        assert _without_tls_roots(mid_msp) == _without_tls_roots(_msp(before, "Org1MSP"))
        assert _others(mid) == _others(before)
        served = seen["served"]
        assert isinstance(served, dict)
        assert all(_issued_by(pem, old_ca) for pem in served.values()), served

        # the end: only the new CA, nothing else changed, every node and identity moved
        after = _config(net)
        after_msp = _msp(after, "Org1MSP")
        assert list(after_msp.tls_root_certs) == [new_ca]
        assert list(after_msp.root_certs) == list(_msp(before, "Org1MSP").root_certs)
        assert list(after_msp.revocation_list) == list(_msp(before, "Org1MSP").revocation_list)
        assert _without_tls_roots(after_msp) == _without_tls_roots(_msp(before, "Org1MSP"))
        assert _others(after) == _others(before)
        assert after.sequence == before.sequence + 2  # trust both, then the new one alone
        with net.access() as access:
            for node in org1.peers:
                assert _issued_by(tlsrotation.served_by_node(access, node), new_ca), node.fqdn
                assert crypto.node(org1, node).tls_ca.read_bytes() == new_ca
            for node in net.plan.org("org2").peers:  # the other organisation is untouched
                assert not _issued_by(tlsrotation.served_by_node(access, node), new_ca)
        for name in (org1.admin, "alice@org1.example.com"):
            assert _issued_by(crypto.user(org1, name).tls_cert.read_bytes(), new_ca)
        assert not crypto.org(org1).retiring("tlsca").dir.exists()
        phases = {p.name: p.changes for p in result.phases}
        assert any(c.startswith("retired old TLS CA of org1") for c in phases["tls-ca"]), phases

        # no committed transaction lost, and the channel never stopped for long
        load = box["r"]
        assert load.committed > 0
        with net.access() as access:
            for org in ("org1", "org2"):
                for node in net.plan.org(org).peers:
                    missing = set(load.committed_tx_ids) - _ledger_tx_ids(
                        access, node.fqdn, "mychannel"
                    )
                    assert not missing, f"{len(missing)} committed transactions lost on {node}"
        stall = _longest_stall(load)
        assert stall < 15.0, (stall, load.timeline, dict(load.failed))
        assert seen["after"] > 0  # still committing once the rotation is over

        report_ = services.smoke(net.loaded, target="local").value
        assert report_.passed, [(c.name, c.message) for c in report_.checks if not c.passed]
        assert not services.plan_changes(net.loaded, target="local").value.lines()
        again = services.up(net.loaded, target="local", fabric_bin=install.root).value
        assert not again.changed, again.to_dict()
        print(
            f"rotation: {seen['seconds']:.1f}s (two ups), load {load.summary()}, "
            f"longest stall {stall:.1f}s"
        )
