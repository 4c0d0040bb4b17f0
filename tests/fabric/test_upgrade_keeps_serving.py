"""An upgrade keeps the previous version serving until the new definition is committed, on real
Fabric 2.5.16 (marked ``fabric``).

examples/two-orgs.yaml up with ``basic`` 1.0; then 1.1 is asked for by an ``up`` that may sign
for org1 only, so it stops before org2's approval: the chaincode servers were not switched to
1.1's packages, and ``basic`` 1.0 still endorses, commits and answers. A full ``up`` then
upgrades it (sequence 2) and the new servers serve.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import topology
from baas import services
from baas.errors import SigningRefused
from baas.services import chaincode as calls
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, asset_args, up_network

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
