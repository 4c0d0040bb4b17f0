"""An upgrade keeps the previous version serving until the new definition is committed, on real
Fabric 2.5.16 (marked ``fabric``).

examples/two-orgs.yaml up with ``basic`` 1.0; then 1.1 is asked for by an ``up`` that may sign
for org1 only, so it stops before org2's approval: the chaincode servers were not switched to
1.1's packages, and ``basic`` 1.0 still endorses, commits and answers. A full ``up`` then
upgrades it (sequence 2) and the new servers serve.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import topology
from baas import services
from baas.errors import BaasError, SigningRefused
from baas.runtimes.local.supervision import Supervisor
from baas.services import chaincode as calls
from baas.services import delivery
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, asset_args, up_network
from topology.editing import ChaincodeChange

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _write(folder: Path, version: str) -> Path:
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/")
    text = text.replace('version: "1.0"', f'version: "{version}"')
    file = folder / f"two-orgs-{version}.yaml"
    file.write_text(text)
    return file


def _create(net: LocalNet, asset: str) -> bool:
    """CreateAsset endorsed by both organisations (``baas invoke``), then ReadAsset."""
    calls.invoke(net.loaded, chaincode="basic", function="CreateAsset", args=asset_args(asset))
    read = calls.query(net.loaded, chaincode="basic", function="ReadAsset", args=[asset])
    return asset in read.value.text


def test_a_refused_upgrade_leaves_the_previous_version_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    with up_network(_write(tmp_path, "1.0"), install=install) as net:
        assert _create(net, "before")
        upgraded = topology.load(_write(tmp_path, "1.1"))
        with pytest.raises(SigningRefused):
            services.up(
                upgraded, target="local", fabric_bin=install.root, signers=frozenset({"org1"})
            )
        [basic] = calls.chaincode_list(net.loaded).value.channels[0].committed
        assert (basic.version, basic.sequence) == ("1.0", 1)
        assert _create(net, "after-refusal")

        net.loaded = upgraded
        net.up()
        [basic] = calls.chaincode_list(net.loaded).value.channels[0].committed
        assert (basic.version, basic.sequence) == ("1.1", 2)
        assert _create(net, "after-upgrade")


def test_an_upgrade_under_load_needs_at_most_one_retry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1.1 delivered while a client submits in a loop: 1.1's servers start on their own
    ports beside 1.0's and answer before the commit, 1.0's stop only once 1.1 is defined on
    every peer, so no transaction fails twice in a row (one may straddle the definition's
    block: endorsed on 1.0 by one peer and on 1.1 by another); the sequence goes up by one
    and 1.0's servers are gone afterwards."""
    install = fabric_install_or_skip("2.5.16")
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FABRIC_BIN", str(install.root / "bin"))
    file = _write(tmp_path, "1.0")
    with up_network(file, install=install) as net:
        stop = threading.Event()
        outcomes: list[tuple[str, int]] = []  # (asset, failed attempts before it committed)

        def loop() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                for attempt in range(3):
                    try:
                        calls.invoke(
                            net.loaded,
                            chaincode="basic",
                            function="CreateAsset",
                            args=asset_args(f"load-{n}-{attempt}"),
                        )
                        outcomes.append((f"load-{n}", attempt))
                        break
                    except BaasError:
                        continue
                else:
                    outcomes.append((f"load-{n}", 3))

        worker = threading.Thread(target=loop)
        worker.start()
        try:
            while len(outcomes) < 5:  # the loop runs before the delivery starts
                time.sleep(0.05)
            done = delivery.deliver_file(file, ChaincodeChange(name="basic", version="1.1"))
            seen = len(outcomes)
            while len(outcomes) < seen + 5:  # and goes on after it on 1.1
                time.sleep(0.05)
        finally:
            stop.set()
            worker.join()
        assert done.value.committed is not None
        assert (done.value.committed.version, done.value.committed.sequence) == ("1.1", 2)
        assert all(failed <= 1 for _, failed in outcomes), outcomes
        programs = Supervisor(net.state_dir).existing(scope="chaincode")
        assert programs and all(name.endswith("-v1.1") for name in programs), programs
