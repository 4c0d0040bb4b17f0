"""Chaincode-as-a-service packages: Fabric's format (fabric.md §4.2), byte-stable package IDs."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import topology
from baas import plan as planning
from baas.addressing import Endpoint
from baas.errors import UsageError
from baas.network import packaging
from baas.plan import ChaincodePlan, OrgPlan
from baas.runtimes.kubernetes.addresses import KubernetesAddresses, chaincode_service_name

KUBE = KubernetesAddresses()

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"

# The package for this label and address must never change: a different ID would make every
# organisation re-approve (new sequence) and every chaincode server restart with a new ID.
GOLDEN_ADDRESS = "cc-basic-mychannel.supplychain-org1.svc.cluster.local:9999"
GOLDEN_ID = "basic_1.0:9c83be22fd39f452a609ad209d5a973e45080be1af8733bfbca1bb33f57cba3b"


@cache
def _plan() -> planning.Plan:
    return planning.build(topology.load(TWO_ORGS).network)


def _members(data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        out = []
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            out.append((info, handle.read() if handle else b""))
        return out


def test_package_holds_exactly_metadata_and_code_as_regular_files() -> None:
    data = packaging.build_package("basic_1.0", packaging.connection_json(GOLDEN_ADDRESS))
    members = _members(data)
    assert [m.name for m, _ in members] == ["metadata.json", "code.tar.gz"]
    for info, _ in members:
        assert info.isreg()
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (0, 0, 0, "", "")
        assert info.mode == 0o644
    metadata = json.loads(members[0][1])
    assert metadata == {"type": "ccaas", "label": "basic_1.0"}
    code = _members(members[1][1])
    assert [(m.name, m.isreg()) for m, _ in code] == [("connection.json", True)]
    assert json.loads(code[0][1]) == {
        "address": GOLDEN_ADDRESS,
        "dial_timeout": "10s",
        "tls_required": False,
    }


def test_package_id_is_label_and_sha256_and_stable() -> None:
    data = packaging.build_package("basic_1.0", packaging.connection_json(GOLDEN_ADDRESS))
    assert packaging.build_package("basic_1.0", packaging.connection_json(GOLDEN_ADDRESS)) == data
    assert packaging.package_id("basic_1.0", data) == (
        f"basic_1.0:{hashlib.sha256(data).hexdigest()}"
    )
    assert packaging.package_id("basic_1.0", data) == GOLDEN_ID


@pytest.mark.skipif(shutil.which("tar") is None, reason="no tar binary on this machine")
def test_gnu_tar_reads_the_package(tmp_path: Path) -> None:
    package = tmp_path / "basic.tar.gz"
    package.write_bytes(
        packaging.build_package("basic_1.0", packaging.connection_json(GOLDEN_ADDRESS))
    )
    subprocess.run(["tar", "-xzf", str(package), "-C", str(tmp_path)], check=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "basic.tar.gz",
        "code.tar.gz",
        "metadata.json",
    ]
    listing = subprocess.run(
        ["tar", "-tzf", str(tmp_path / "code.tar.gz")], check=True, capture_output=True, text=True
    )
    assert listing.stdout.split() == ["connection.json"]


@pytest.mark.parametrize("label", ["basic_1.0", "a", "9cc+build.1-rc_2", "X.Y"])
def test_valid_labels(label: str) -> None:
    assert packaging.check_label(label) == label
    assert packaging.LABEL_PATTERN.match(label)


@pytest.mark.parametrize("label", ["", "_basic", "-x", ".x", "basic 1.0", "a/b", "a:b", "é"])
def test_invalid_labels_are_refused(label: str) -> None:
    with pytest.raises(UsageError, match="label"):
        packaging.build_package(label, b"{}")


@given(st.binary(max_size=200_000))
def test_gzip_stored_round_trips(data: bytes) -> None:
    assert gzip.decompress(packaging.gzip_stored(data)) == data


def test_each_org_gets_its_own_package_and_id() -> None:
    plan = _plan()
    packages = packaging.plan_packages(plan, addresses=KUBE)
    assert [(p.org, p.chaincode, p.channel) for p in packages] == [
        ("org1", "basic", "mychannel"),
        ("org2", "basic", "mychannel"),
    ]
    service = chaincode_service_name("basic", "mychannel")
    assert [p.address for p in packages] == [
        f"{service}.supplychain-org1.svc.cluster.local:9999",
        f"{service}.supplychain-org2.svc.cluster.local:9999",
    ]
    assert packages[0].address == GOLDEN_ADDRESS
    assert packages[0].package_id == GOLDEN_ID
    assert packages[0].package_id != packages[1].package_id
    assert all(p.label == "basic_1.0" for p in packages)
    assert [p.file_name for p in packages] == [
        "org1_mychannel_basic.tar.gz",
        "org2_mychannel_basic.tar.gz",
    ]
    assert "data" not in repr(packages[0])


def test_package_ids_per_org() -> None:
    plan = _plan()
    by_org = {o.name: packaging.package_ids(plan, o, addresses=KUBE) for o in plan.orgs}
    assert by_org["ordererorg"] == {}
    assert by_org["org1"] == {"basic": GOLDEN_ID}
    assert by_org["org2"]["basic"].startswith("basic_1.0:")


def test_cluster_domain_changes_address_and_id() -> None:
    plan = _plan()
    addresses = KubernetesAddresses(cluster_domain="k8s.internal")
    other = packaging.plan_packages(plan, addresses=addresses)[0]
    assert other.address.endswith(".svc.k8s.internal:9999")
    assert other.package_id != GOLDEN_ID


class _OnePort(KubernetesAddresses):
    """Any Addresses will do: packages dial whatever ``chaincode(org, cc)`` says."""

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        return Endpoint("127.0.0.1", 30000 + len(org.name))


def test_packages_dial_the_addresses_chaincode_endpoint() -> None:
    plan = _plan()
    packages = packaging.plan_packages(plan, addresses=_OnePort())
    assert [p.address for p in packages] == ["127.0.0.1:30004", "127.0.0.1:30004"]
    code = _members(_members(packages[0].data)[1][1])
    assert json.loads(code[0][1])["address"] == "127.0.0.1:30004"


def test_served_chaincodes_are_those_of_member_orgs_with_peers() -> None:
    plan = _plan()
    served = {o.name: packaging.served_chaincodes(plan, o) for o in plan.orgs}
    assert served["ordererorg"] == ()
    assert [cc.name for cc in served["org1"]] == [cc.name for cc in plan.chaincodes]
    assert served["org1"] == served["org2"]
