"""baas's Fabric admin client against real nodes (marked ``fabric``).

examples/minimal.yaml (one organisation, one peer, one etcdraft orderer), renamed so that its
state folder and ports are this module's own, is brought up once on Fabric 2.5.16 for the whole
module; one test, run first, brings its 3.1.5 variant (Ed25519 client and node identities, a
client user) up and down on its own. The chaincode package installed points at ``127.0.0.1:1``: no
chaincode server runs, which ``_lifecycle`` never needs. Each test names its own chaincodes,
so the tests sharing the 2.5 network do not depend on one another.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from fabric_protos.common import common_pb2, configtx_pb2, policies_pb2

from baas.fabric import deliver, errors, lifecycle, osnadmin, policies
from baas.fabric.binaries import FabricInstall
from baas.fabric.identity import SigningIdentity
from baas.network import chaincode, channels, configtx, packaging
from baas.network.access import NetworkAccess
from baas.network.genesis import genesis_path
from baas.plan import NodePlan, OrgPlan, Plan
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import LocalNet, up_network

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CHANNEL = "mychannel"
NO_CHANNEL = "nosuchchannel"
UNREACHABLE_SERVER = "127.0.0.1:1"
POLL_ATTEMPTS = 300
POLL_PAUSE = 0.1
T = TypeVar("T")


def minimal_copy(
    directory: Path,
    name: str,
    *,
    version: str,
    key_algorithm: str | None = None,
    users: list[str] | None = None,
) -> Path:
    """examples/minimal.yaml renamed to ``name`` (its own state folder and ports), on Fabric
    ``version``, optionally with another key algorithm and client users."""
    data = yaml.safe_load((EXAMPLES / "minimal.yaml").read_text())
    data["metadata"]["name"] = name
    data["spec"]["fabric"]["version"] = version
    if key_algorithm is not None:
        data["spec"]["pki"] = {"keyAlgorithm": key_algorithm}
    if users:
        data["spec"]["organizations"][0]["users"] = users
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One BAAS_HOME for the module (both networks live there, with distinct names)."""
    path = tmp_path_factory.mktemp("baas-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BAAS_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def install25() -> FabricInstall:
    return fabric_install_or_skip("2.5.16")


@pytest.fixture(scope="module")
def net25(home: Path, install25: FabricInstall) -> Iterator[LocalNet]:
    """examples/minimal.yaml up on 2.5.16 for the whole module."""
    file = minimal_copy(home, "adminsdk25", version="2.5")
    with up_network(file, install=install25) as net:
        yield net


@pytest.fixture
def access(net25: LocalNet) -> Iterator[NetworkAccess]:
    with net25.access() as found:
        yield found


def _org(plan: Plan) -> OrgPlan:
    return plan.orgs[0]


def _peer_node(plan: Plan) -> NodePlan:
    return _org(plan).peers[0]


def _orderer_node(plan: Plan) -> NodePlan:
    return _org(plan).orderers[0]


def _reference_policy() -> bytes:
    return policies.validation_parameter("/Channel/Application/Endorsement", is_reference=True)


def _wait_for(what: str, probe: Callable[[], T], done: Callable[[T], bool]) -> T:
    """Call ``probe`` until ``done`` accepts its value, a bounded number of times (the nodes
    act asynchronously); the last value is in the failure message."""
    for _ in range(POLL_ATTEMPTS):
        value = probe()
        if done(value):
            return value
        time.sleep(POLL_PAUSE)
    raise AssertionError(f"{what}: not after {POLL_ATTEMPTS} attempts (last: {value!r})")


def _heights(access: NetworkAccess, identity: SigningIdentity) -> tuple[int, int]:
    """(peer height, orderer height) of the channel, read with ``identity``."""
    plan = access.plan
    peer = access.peer(_peer_node(plan)).target
    orderer = access.orderer(_orderer_node(plan))
    return (
        deliver.height(access.connections, peer, identity, channel=CHANNEL, source="peer"),
        deliver.height(access.connections, orderer, identity, channel=CHANNEL),
    )


def _heights_agree(access: NetworkAccess, identity: SigningIdentity) -> int:
    """Wait until the peer has every block the orderer has; returns that height."""
    peer, _ = _wait_for(
        "peer and orderer heights agree",
        lambda: _heights(access, identity),
        lambda pair: pair[0] == pair[1],
    )
    return peer


# ------------------------------------------------------------------------------ shared checks


def _inspect(install: FabricInstall, block: Path) -> dict[str, Any]:
    """``configtxgen -inspectBlock`` of ``install``'s release, as JSON."""
    proc = subprocess.run(
        [str(install.configtxgen), "-inspectBlock", str(block)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def _decoded_config(block: bytes) -> configtx_pb2.Config:
    envelope = common_pb2.Envelope.FromString(common_pb2.Block.FromString(block).data.data[0])
    payload = common_pb2.Payload.FromString(envelope.payload)
    return configtx_pb2.ConfigEnvelope.FromString(payload.data).config


def check_genesis(net: LocalNet, install: FabricInstall, access: NetworkAccess) -> None:
    """The stored genesis block: configtxgen of the same release reads it; channel, orderer
    type, consenters, orderer endpoints, MSPs and capabilities are the plan's; every
    organisation policy configtxgen compiled equals baas's own compilation of the same rule;
    and the orderer serves exactly this block as block 0."""
    plan = net.plan
    channel = next(c for c in plan.channels if c.name == CHANNEL)
    path = genesis_path(net.state_dir, CHANNEL)
    inspected = _inspect(install, path)
    [envelope] = inspected["data"]["data"]
    header = envelope["payload"]["header"]["channel_header"]
    assert header["channel_id"] == CHANNEL
    assert header["type"] == common_pb2.HeaderType.CONFIG
    group = envelope["payload"]["data"]["config"]["channel_group"]
    orderer = group["groups"]["Orderer"]
    consensus = orderer["values"]["ConsensusType"]["value"]
    assert consensus["type"] == ("BFT" if plan.consensus == "BFT" else "etcdraft")
    consenter_nodes = channels.consenters(plan, channel)
    found = [(c["host"], c["port"]) for c in consensus["metadata"]["consenters"]]
    assert found == [
        (access.addresses.cluster(n).host, access.addresses.cluster(n).port)
        for n in consenter_nodes
    ]
    for entry, node in zip(consensus["metadata"]["consenters"], consenter_nodes, strict=True):
        tls_cert = access.crypto.node(plan.org(node.org), node).tls_cert.read_bytes()
        assert base64.b64decode(entry["server_tls_cert"]) == tls_cert
    orderer_orgs = [plan.org(name) for name in channel.orderer_orgs]
    members = [plan.org(name) for name in channel.members]
    assert sorted(orderer["groups"]) == sorted(o.msp_id for o in orderer_orgs)
    assert sorted(group["groups"]["Application"]["groups"]) == sorted(o.msp_id for o in members)
    for org in orderer_orgs:
        values = orderer["groups"][org.msp_id]["values"]
        assert values["MSP"]["value"]["config"]["name"] == org.msp_id
        assert values["Endpoints"]["value"]["addresses"] == [
            str(access.addresses.orderer(o)) for o in org.orderers
        ]
    capabilities = group["values"]["Capabilities"]["value"]["capabilities"]
    assert sorted(capabilities) == sorted(configtx.channel_capabilities(plan))

    stored = path.read_bytes()
    config = _decoded_config(stored)
    for section, orgs in (("Application", members), ("Orderer", orderer_orgs)):
        for org in orgs:
            org_group = config.channel_group.groups[section].groups[org.msp_id]
            for name, spec in configtx.org_policies(org).items():
                policy = org_group.policies[name].policy
                assert policy.type == policies_pb2.Policy.PolicyType.SIGNATURE, name
                compiled = policies_pb2.SignaturePolicyEnvelope.FromString(policy.value)
                assert compiled == policies.signature_policy(spec["Rule"]), (section, name)

    node = consenter_nodes[0]
    served = deliver.fetch_block(
        access.connections,
        access.orderer(node),
        access.admin(plan.org(node.org)),
        channel=CHANNEL,
        ref=0,
    )
    assert served.header == common_pb2.Block.FromString(stored).header
    assert served.data == common_pb2.Block.FromString(stored).data


def check_rejoin_refused_once(
    net: LocalNet, access: NetworkAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect (e): joining an orderer again with the genesis block — through the ensure's own
    join step, with its retry loop — is refused after exactly one request, with Fabric's
    message, as not retryable."""
    sent: list[tuple[str, str]] = []
    real_call = osnadmin._call

    def counting(
        target: osnadmin.AdminTarget, action: str, method: str, path: str, **kw: Any
    ) -> Any:
        sent.append((method, path))
        return real_call(target, action, method, path, **kw)

    monkeypatch.setattr(osnadmin, "_call", counting)
    block = genesis_path(net.state_dir, CHANNEL).read_bytes()
    with pytest.raises(errors.FabricError) as caught:
        channels._join_orderer(access, _orderer_node(net.plan), CHANNEL, block)
    assert sent == [("POST", osnadmin.API)]
    assert not caught.value.retryable
    assert "channel already exists" in caught.value.message
    assert re.search(r"status 4\d\d", caught.value.message), caught.value.message


def check_definition_lifecycle(
    access: NetworkAccess, *, name: str, validation_parameter: bytes, reader: SigningIdentity
) -> None:
    """``committed`` is None before; approve → readiness true → commit (sequence 1) →
    ``committed``/``committed_all`` return the definition (read by ``reader``); committing the
    same sequence again fails with Fabric's message."""
    plan = access.plan
    org = _org(plan)
    peer = access.peer(_peer_node(plan))
    admin = access.admin(org)
    definition = lifecycle.Definition(
        name=name,
        version="1.0",
        sequence=1,
        validation_parameter=validation_parameter,
        init_required=False,
    )
    package_id = packaging.package_id(
        f"{name}_1.0",
        packaging.build_package(f"{name}_1.0", packaging.connection_json(UNREACHABLE_SERVER)),
    )
    assert lifecycle.committed(peer, reader, channel=CHANNEL, name=name) is None
    ready = lifecycle.commit_readiness(peer, admin, channel=CHANNEL, definition=definition)
    assert ready == {org.msp_id: False}
    approved = lifecycle.approve(
        peer, admin, channel=CHANNEL, definition=definition, package_id=package_id
    )
    assert approved.valid and approved.block > 0
    ready = lifecycle.commit_readiness(peer, admin, channel=CHANNEL, definition=definition)
    assert ready == {org.msp_id: True}
    done = lifecycle.commit([peer], admin, channel=CHANNEL, definition=definition)
    assert done.valid and done.block > approved.block
    assert lifecycle.committed(peer, reader, channel=CHANNEL, name=name) == definition
    assert definition in lifecycle.committed_all(peer, reader, channel=CHANNEL)
    with pytest.raises(errors.FabricError) as caught:
        lifecycle.commit([peer], admin, channel=CHANNEL, definition=definition)
    assert "new definition must be sequence 2" in caught.value.message
    assert not caught.value.retryable


# ------------------------------------------------------------------------------ Fabric 3.1.5


def test_minimal_on_3_1_with_ed25519_identities(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """examples/minimal.yaml on 3.1.5 with ``keyAlgorithm: Ed25519`` and a client user: the
    genesis block passes 3.1.5's configtxgen; the orderer serves the channel and refuses a
    second join once; the peer accepts proposals and seek requests signed with the user's
    Ed25519 key; the lifecycle runs install → approve → commit."""
    install = fabric_install_or_skip("3.1.5")
    file = minimal_copy(home, "adminsdk31", version="3.1", key_algorithm="Ed25519", users=["alice"])
    with up_network(file, install=install) as net, net.access() as access:
        plan = net.plan
        org = _org(plan)
        alice = access.user(org, org.users[0])
        assert isinstance(
            x509.load_pem_x509_certificate(alice.cert_pem).public_key(), ed25519.Ed25519PublicKey
        )
        check_genesis(net, install, access)
        info = osnadmin.channel_info(access.orderer_admin(_orderer_node(plan)), CHANNEL)
        assert info is not None and (info.status, info.consensus_relation) == (
            "active",
            "consenter",
        )
        check_rejoin_refused_once(net, access, monkeypatch)
        peer = access.peer(_peer_node(plan))
        assert peer.channels(alice) == [CHANNEL]
        label = "ed_1.0"
        data = packaging.build_package(label, packaging.connection_json(UNREACHABLE_SERVER))
        admin = access.admin(org)
        assert lifecycle.install(peer, admin, data) == packaging.package_id(label, data)
        check_definition_lifecycle(
            access, name="edcc", validation_parameter=_reference_policy(), reader=alice
        )
        assert _heights_agree(access, alice) >= 3  # genesis, approval, commit


# ------------------------------------------------------------------------------ Fabric 2.5.16


def test_genesis_block(net25: LocalNet, install25: FabricInstall, access: NetworkAccess) -> None:
    """The genesis block baas stored is the plan's channel, read by 2.5.16's configtxgen, and
    the one the orderer serves."""
    check_genesis(net25, install25, access)


def test_orderer_channel_participation(access: NetworkAccess) -> None:
    """The real orderer's participation API: the channel is active, served as consenter,
    with at least the genesis block; unknown channels read as None / False."""
    target = access.orderer_admin(_orderer_node(access.plan))
    listed = osnadmin.list_channels(target)
    assert [c.name for c in listed] == [CHANNEL]
    [info] = listed
    assert (info.status, info.consensus_relation) == ("active", "consenter")
    assert info.height >= 1
    again = osnadmin.channel_info(target, CHANNEL)
    assert again is not None and again.name == CHANNEL and again.height >= info.height
    assert osnadmin.channel_info(target, NO_CHANNEL) is None
    assert osnadmin.remove(target, NO_CHANNEL) is False


def test_rejoin_is_refused_after_one_request(
    net25: LocalNet, access: NetworkAccess, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_rejoin_refused_once(net25, access, monkeypatch)


def test_peer_channels_and_heights_agree(access: NetworkAccess) -> None:
    """The peer lists the channel; its height and the orderer's meet (polled, bounded)."""
    plan = access.plan
    admin = access.admin(_org(plan))
    assert access.peer(_peer_node(plan)).channels(admin) == [CHANNEL]
    assert _heights_agree(access, admin) >= 1


@pytest.mark.parametrize("source", ["orderer", "peer"])
def test_config_block(access: NetworkAccess, source: deliver.Source) -> None:
    """After a transaction block, ``config_block`` still returns the channel's config block
    (found through the newest block's metadata), whose envelope is a CONFIG transaction."""
    plan = access.plan
    org = _org(plan)
    admin = access.admin(org)
    peer = access.peer(_peer_node(plan))
    probe = lifecycle.Definition(
        name=f"cfgprobe-{source}",
        version="1",
        sequence=1,
        validation_parameter=_reference_policy(),
        init_required=False,
    )
    approved = lifecycle.approve(
        peer, admin, channel=CHANNEL, definition=probe, package_id=f"probe:{'0' * 64}"
    )
    target = peer.target if source == "peer" else access.orderer(_orderer_node(plan))
    newest = deliver.fetch_block(
        access.connections, target, admin, channel=CHANNEL, ref=approved.block, source=source
    )
    block = deliver.config_block(access.connections, target, admin, channel=CHANNEL, source=source)
    assert block.header.number == deliver.last_config_index(newest) < newest.header.number
    envelope = common_pb2.Envelope.FromString(block.data.data[0])
    header = common_pb2.Payload.FromString(envelope.payload).header
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    assert channel_header.type == common_pb2.HeaderType.CONFIG
    assert channel_header.channel_id == CHANNEL


@pytest.mark.parametrize("source", ["orderer", "peer"])
def test_fetch_block_of_unknown_channel(access: NetworkAccess, source: deliver.Source) -> None:
    plan = access.plan
    admin = access.admin(_org(plan))
    target = (
        access.peer(_peer_node(plan)).target
        if source == "peer"
        else access.orderer(_orderer_node(plan))
    )
    with pytest.raises(errors.FabricError) as caught:
        deliver.fetch_block(access.connections, target, admin, channel=NO_CHANNEL, source=source)
    assert "NOT_FOUND" in caught.value.message and NO_CHANNEL in caught.value.message
    assert not caught.value.retryable


def test_install_ccaas_package(access: NetworkAccess) -> None:
    """The peer installs baas's ccaas package under the ID baas computes and lists it; a
    second install is refused with the peer's message, and the ensure sees it present."""
    plan = access.plan
    org = _org(plan)
    admin = access.admin(org)
    peer = access.peer(_peer_node(plan))
    label = "installtest_1.0"
    data = packaging.build_package(label, packaging.connection_json(UNREACHABLE_SERVER))
    expected = packaging.package_id(label, data)
    assert expected not in lifecycle.installed(peer, admin)
    assert lifecycle.install(peer, admin, data) == expected
    assert lifecycle.installed(peer, admin)[expected] == label
    with pytest.raises(errors.FabricError) as caught:
        lifecycle.install(peer, admin, data)
    assert "already successfully installed" in caught.value.message
    assert expected in caught.value.message
    assert not caught.value.retryable
    assert chaincode._ensure_installed(peer, access, org, chaincode.Package(data, expected)) == []


def test_definition_lifecycle(access: NetworkAccess) -> None:
    """Approve, readiness, commit and the committed queries, with a signature policy baas
    compiled as the definition's validation parameter."""
    check_definition_lifecycle(
        access,
        name="lctest",
        validation_parameter=policies.validation_parameter(
            "OR('Org1MSP.peer', AND('Org1MSP.admin', 'Org1MSP.member'))", is_reference=False
        ),
        reader=access.admin(_org(access.plan)),
    )


def test_wrong_msp_id_is_refused(access: NetworkAccess) -> None:
    """The admin's certificate and key presented under an MSP ID the channel does not know:
    the peer refuses every proposal with its own message, the orderer the seek request."""
    plan = access.plan
    msp = access.crypto.admin(_org(plan)).msp
    impostor = SigningIdentity.from_msp_dir("NoSuchMSP", msp)
    peer = access.peer(_peer_node(plan))
    with pytest.raises(errors.FabricError) as caught:
        peer.channels(impostor)
    assert "creator org unknown" in caught.value.message
    assert not caught.value.retryable
    with pytest.raises(errors.FabricError) as caught:
        lifecycle.committed(peer, impostor, channel=CHANNEL, name="lctest")
    assert "access denied" in caught.value.message and "creator org unknown" in caught.value.message
    with pytest.raises(errors.FabricError) as caught:
        deliver.fetch_block(
            access.connections, access.orderer(_orderer_node(plan)), impostor, channel=CHANNEL
        )
    assert "FORBIDDEN" in caught.value.message
    assert not caught.value.retryable


def test_committed_on_an_unjoined_channel_raises(access: NetworkAccess) -> None:
    plan = access.plan
    peer = access.peer(_peer_node(plan))
    with pytest.raises(errors.FabricError, match=NO_CHANNEL):
        lifecycle.committed(peer, access.admin(_org(plan)), channel=NO_CHANNEL, name="basic")
