"""baas.nodeconfig: the node environment both runtimes use. Pure except write_core_yaml and the
PKI-backed no-key-material check."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import pki
import topology
from baas.addressing import Addresses, Endpoint
from baas.errors import UsageError
from baas.nodeconfig import (
    KUBERNETES,
    LOCAL,
    NodeFiles,
    Tunables,
    duration_ms,
    node_env,
    orderer_env,
    patched_core_yaml,
    peer_env,
    write_core_yaml,
)
from baas.plan import PORTS, ChaincodePlan, NodePlan, OrgPlan, Plan, build, pki_org_specs_from_plan
from baas.runtimes.local.nodes import all_nodes, node_files
from baas.runtimes.local.ports import LocalAddresses, allocate

TOPOLOGY = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: confnet}
spec:
  domain: example.com
  organizations:
    - {name: ord, mspId: OrdMSP, orderers: [{name: orderer0}, {name: orderer1}]}
    - name: org1
      mspId: Org1MSP
      peers: [{name: peer0, anchor: true}, {name: peer1}, {name: peer2}]
    - {name: org2, mspId: Org2MSP, peers: [{name: peer0}]}
  channels:
    - {name: ch, organizations: [org1, org2], orderers: [ord]}
"""

CACHE = Path("~/.cache/baas/fabric").expanduser()


@pytest.fixture(scope="module")
def plan() -> Plan:
    network, _ = topology.loads(TOPOLOGY)
    return build(network)


@pytest.fixture(scope="module")
def local(plan: Plan) -> LocalAddresses:
    return allocate(plan, LocalAddresses())


def peers(plan: Plan) -> list[NodePlan]:
    return [n for n in all_nodes(plan) if n.role == "peer"]


def orderers(plan: Plan) -> list[NodePlan]:
    return [n for n in all_nodes(plan) if n.role == "orderer"]


def files_of(node: NodePlan) -> NodeFiles:
    base = f"/crypto/{node.fqdn}"
    return NodeFiles(
        msp_dir=f"{base}/msp",
        tls_cert=f"{base}/tls/server.crt",
        tls_key=f"{base}/tls/server.key",
        tls_ca=f"{base}/tls/ca.crt",
        data_dir=f"/data/{node.fqdn}",
        config_dir="/config",
        builders_dir="/builders/ccaas" if node.role == "peer" else "",
    )


def env_of(
    plan: Plan, node: NodePlan, addresses: Addresses, tunables: Tunables = LOCAL
) -> dict[str, str]:
    return node_env(plan, node, addresses=addresses, files=files_of(node), tunables=tunables)


@dataclass(frozen=True)
class PodAddresses:
    """Addresses as a cluster would give them: bind 0.0.0.0, dial a DNS name, fixed ports."""

    @property
    def listen_host(self) -> str:
        return "0.0.0.0"

    def _at(self, node: NodePlan, port: int) -> Endpoint:
        return Endpoint(f"{node.service}.{node.namespace}.svc", port)

    def peer(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.peer)

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.peer_chaincode)

    def orderer(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.orderer)

    def cluster(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.orderer_cluster)

    def admin(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.orderer_admin)

    def operations(self, node: NodePlan) -> Endpoint:
        return self._at(node, PORTS.operations)

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        return Endpoint(f"cc.{org.namespace}.svc", PORTS.chaincode)


# ------------------------------------------------------------------------------ peers


@pytest.mark.parametrize("preset", [LOCAL, KUBERNETES], ids=["local", "kubernetes"])
def test_every_peer_is_a_static_org_leader(
    plan: Plan, local: LocalAddresses, preset: Tunables
) -> None:
    for node in peers(plan):
        env = env_of(plan, node, local, preset)
        assert env["CORE_PEER_GOSSIP_ORGLEADER"] == "true", node.fqdn
        assert env["CORE_PEER_GOSSIP_USELEADERELECTION"] == "false", node.fqdn


def test_peer_listens_on_listen_host_and_advertises_its_endpoint(
    plan: Plan, local: LocalAddresses
) -> None:
    node = plan.org("org1").peers[1]
    for addresses in (local, PodAddresses()):
        env = env_of(plan, node, addresses)
        me = addresses.peer(node)
        host = addresses.listen_host
        assert env["CORE_PEER_LISTENADDRESS"] == f"{host}:{me.port}"
        assert env["CORE_PEER_ADDRESS"] == str(me)
        assert env["CORE_PEER_GOSSIP_EXTERNALENDPOINT"] == str(me)
        cc = addresses.peer_chaincode(node)
        assert env["CORE_PEER_CHAINCODELISTENADDRESS"] == f"{host}:{cc.port}"
        assert env["CORE_PEER_CHAINCODEADDRESS"] == str(cc)
        ops = addresses.operations(node)
        assert env["CORE_OPERATIONS_LISTENADDRESS"] == f"{host}:{ops.port}"
    assert PodAddresses().peer(node).host == "peer1.confnet-org1.svc"
    assert env_of(plan, node, local)["CORE_PEER_ADDRESS"].startswith("127.0.0.1:")


def test_gossip_bootstraps_from_the_orgs_other_peers_or_itself(
    plan: Plan, local: LocalAddresses
) -> None:
    org1 = plan.org("org1").peers
    env = env_of(plan, org1[0], local)
    assert env["CORE_PEER_GOSSIP_BOOTSTRAP"].split() == [str(local.peer(p)) for p in org1[1:]]
    alone = plan.org("org2").peers[0]
    assert env_of(plan, alone, local)["CORE_PEER_GOSSIP_BOOTSTRAP"] == str(local.peer(alone))


def test_peer_identity_tls_data_and_builder(plan: Plan, local: LocalAddresses) -> None:
    node = plan.org("org2").peers[0]
    env = env_of(plan, node, local)
    f = files_of(node)
    assert env["CORE_PEER_ID"] == "peer0.org2.example.com"
    assert env["CORE_PEER_LOCALMSPID"] == "Org2MSP"
    assert env["CORE_PEER_NETWORKID"] == "confnet"
    assert env["CORE_PEER_MSPCONFIGPATH"] == f.msp_dir
    assert (env["CORE_PEER_TLS_CERT_FILE"], env["CORE_PEER_TLS_KEY_FILE"]) == (
        f.tls_cert,
        f.tls_key,
    )
    assert env["CORE_PEER_TLS_ROOTCERT_FILE"] == f.tls_ca
    assert env["CORE_PEER_TLS_ENABLED"] == "true"
    assert env["CORE_PEER_FILESYSTEMPATH"] == f.data_dir
    assert env["CORE_LEDGER_SNAPSHOTS_ROOTDIR"].startswith(f.data_dir + "/")
    assert env["CORE_OPERATIONS_TLS_ENABLED"] == "false"
    assert env["CORE_METRICS_PROVIDER"] == "prometheus"
    assert env["FABRIC_CFG_PATH"] == "/config"
    assert env["CORE_VM_ENDPOINT"] == ""
    builders = yaml.safe_load(env["CORE_CHAINCODE_EXTERNALBUILDERS"])
    assert builders == [
        {
            "name": "ccaas_builder",
            "path": "/builders/ccaas",
            "propagateEnvironment": ["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"],
        }
    ]


def test_builder_path_with_yaml_specials_survives(plan: Plan, local: LocalAddresses) -> None:
    node = plan.org("org2").peers[0]
    files = NodeFiles(**{**files_of(node).__dict__, "builders_dir": "/odd: [dir], {x}/ccaas"})
    env = peer_env(plan, node, addresses=local, files=files, tunables=LOCAL)
    assert yaml.safe_load(env["CORE_CHAINCODE_EXTERNALBUILDERS"])[0]["path"] == files.builders_dir


def test_gossip_tunables_reach_the_peer(plan: Plan, local: LocalAddresses) -> None:
    node = plan.org("org2").peers[0]
    env = env_of(plan, node, local)
    assert env["CORE_PEER_GOSSIP_RECONNECTINTERVAL"] == "1s"
    assert env["CORE_PEER_GOSSIP_PULLINTERVAL"] == LOCAL.gossip_pull_interval
    assert env["CORE_PEER_GOSSIP_ALIVEEXPIRATIONTIMEOUT"] == LOCAL.gossip_alive_expiration_timeout
    assert env["FABRIC_LOGGING_SPEC"] == "INFO"
    custom = Tunables(logging_spec="info:gossip=debug", logging_format="json")
    env = env_of(plan, node, local, custom)
    assert env["FABRIC_LOGGING_SPEC"] == "info:gossip=debug"
    assert env["FABRIC_LOGGING_FORMAT"] == "json"


def test_peer_env_refuses_an_orderer_and_a_missing_builder(
    plan: Plan, local: LocalAddresses
) -> None:
    orderer = orderers(plan)[0]
    with pytest.raises(UsageError, match="not a peer"):
        peer_env(plan, orderer, addresses=local, files=files_of(orderer), tunables=LOCAL)
    peer = peers(plan)[0]
    no_builder = NodeFiles(**{**files_of(peer).__dict__, "builders_dir": ""})
    with pytest.raises(UsageError, match="builder"):
        peer_env(plan, peer, addresses=local, files=no_builder, tunables=LOCAL)
    with pytest.raises(UsageError, match="not an orderer"):
        orderer_env(plan, peer, addresses=local, files=files_of(peer), tunables=LOCAL)


def test_relative_paths_are_refused() -> None:
    with pytest.raises(UsageError, match="absolute"):
        NodeFiles("msp", "/t", "/k", "/ca", "/d", "/c")


# ------------------------------------------------------------------------------ orderers


def test_orderer_without_system_channel_and_separate_listeners(
    plan: Plan, local: LocalAddresses
) -> None:
    node = orderers(plan)[1]
    f = files_of(node)
    env = env_of(plan, node, local)
    assert env["ORDERER_GENERAL_BOOTSTRAPMETHOD"] == "none"
    assert env["ORDERER_CHANNELPARTICIPATION_ENABLED"] == "true"
    assert env["ORDERER_GENERAL_LISTENADDRESS"] == "127.0.0.1"
    assert env["ORDERER_GENERAL_LISTENPORT"] == str(local.orderer(node).port)
    assert env["ORDERER_GENERAL_LOCALMSPID"] == "OrdMSP"
    assert env["ORDERER_GENERAL_LOCALMSPDIR"] == f.msp_dir
    cluster = local.cluster(node)
    assert cluster.port != local.orderer(node).port
    assert env["ORDERER_GENERAL_CLUSTER_LISTENADDRESS"] == "127.0.0.1"
    assert env["ORDERER_GENERAL_CLUSTER_LISTENPORT"] == str(cluster.port)
    assert env["ORDERER_GENERAL_CLUSTER_SERVERCERTIFICATE"] == f.tls_cert
    assert env["ORDERER_GENERAL_CLUSTER_SERVERPRIVATEKEY"] == f.tls_key
    assert env["ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE"] == f.tls_cert
    assert env["ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY"] == f.tls_key
    assert env["ORDERER_ADMIN_LISTENADDRESS"] == f"127.0.0.1:{local.admin(node).port}"
    assert env["ORDERER_ADMIN_TLS_ENABLED"] == "true"
    assert env["ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED"] == "true"
    assert env["ORDERER_ADMIN_TLS_CLIENTROOTCAS"] == f"[{f.tls_ca}]"
    assert env["ORDERER_OPERATIONS_LISTENADDRESS"] == f"127.0.0.1:{local.operations(node).port}"
    assert env["ORDERER_FILELEDGER_LOCATION"] == f.data_dir
    assert env["ORDERER_CONSENSUS_WALDIR"].startswith(f.data_dir + "/")
    assert env["ORDERER_CONSENSUS_SNAPDIR"].startswith(f.data_dir + "/")
    assert env["ORDERER_CONSENSUS_WALDIR"] != env["ORDERER_CONSENSUS_SNAPDIR"]
    pod = env_of(plan, node, PodAddresses())
    assert pod["ORDERER_GENERAL_LISTENADDRESS"] == "0.0.0.0"
    assert pod["ORDERER_GENERAL_CLUSTER_LISTENPORT"] == str(PORTS.orderer_cluster)


def test_channel_settings_are_not_node_settings(plan: Plan, local: LocalAddresses) -> None:
    for node in all_nodes(plan):
        keys = " ".join(env_of(plan, node, local))
        assert "BATCH" not in keys and "TICK" not in keys


# ------------------------------------------------------------------------------ tunables


def test_presets() -> None:
    assert (LOCAL.batch_timeout, LOCAL.raft_tick_interval) == ("50ms", "100ms")
    assert KUBERNETES.batch_timeout == "2s"
    assert KUBERNETES.raft_tick_interval == "500ms"
    assert (KUBERNETES.raft_election_tick, KUBERNETES.raft_heartbeat_tick) == (10, 1)
    assert KUBERNETES.gossip_pull_interval == "4s"  # Fabric's default, as the chart ran
    assert KUBERNETES.gossip_alive_expiration_timeout == "25s"
    assert LOCAL.gossip_reconnect_interval == "1s"


@pytest.mark.parametrize("preset", [LOCAL, KUBERNETES], ids=["local", "kubernetes"])
def test_presets_keep_the_pull_rule(preset: Tunables) -> None:
    pull = duration_ms(preset.gossip_pull_interval)
    assert pull > duration_ms(preset.gossip_digest_wait_time) + duration_ms(
        preset.gossip_response_wait_time
    )


@pytest.mark.parametrize(
    "changes",
    [
        {
            "gossip_pull_interval": "1s",
            "gossip_digest_wait_time": "500ms",
            "gossip_request_wait_time": "600ms",
            "gossip_response_wait_time": "500ms",
        },
        {"gossip_request_wait_time": "100ms"},  # below digest wait time
        {"gossip_alive_expiration_timeout": "1s"},  # not above the alive interval
        {"raft_election_tick": 1},
        {"raft_heartbeat_tick": 0},
        {"batch_timeout": "0"},
        {"batch_timeout": "soon"},
        {"logging_spec": " "},
    ],
)
def test_tunables_refuse_broken_rules(changes: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Tunables(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "ms"),
    [("50ms", 50), ("1s", 1000), ("1m30s", 90000), ("1.5s", 1500), ("3600s", 3_600_000), ("0", 0)],
)
def test_durations(text: str, ms: float) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "1", "s", "1 s", "-1s", "1s2"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        duration_ms(text)


# ------------------------------------------------------------------------------ real material


@dataclass(frozen=True)
class FakeInstall:
    release: str
    bin_dir: Path
    config_dir: Path
    builders_dir: Path


def test_env_holds_paths_to_real_material_never_key_material(
    plan: Plan, local: LocalAddresses, tmp_path: Path
) -> None:
    crypto = tmp_path / "crypto"
    pki.generate(crypto, pki_org_specs_from_plan(plan), plan.pki)
    install = FakeInstall("2.5.16", tmp_path / "bin", tmp_path / "config", tmp_path / "ccaas")
    secrets = [p.read_text() for p in crypto.rglob("*") if p.is_file() and _is_key(p)]
    assert secrets, "the PKI wrote no keys?"
    for node in all_nodes(plan):
        files = node_files(plan, node, crypto_root=crypto, state_dir=tmp_path, install=install)
        for path in (files.msp_dir, files.tls_cert, files.tls_key, files.tls_ca):
            assert Path(path).exists(), path
        env = node_env(plan, node, addresses=local, files=files, tunables=LOCAL)
        text = "\n".join(env.values())
        assert "PRIVATE KEY" not in text and "BEGIN" not in text
        for secret in secrets:
            body = "".join(secret.splitlines()[1:-1])
            assert body[:40] not in text.replace("\n", "")
        key = env.get("CORE_PEER_TLS_KEY_FILE") or env["ORDERER_GENERAL_TLS_PRIVATEKEY"]
        assert Path(key).read_text().startswith("-----BEGIN")  # a path to the key, not the key
        tls_ca = env.get("CORE_PEER_TLS_ROOTCERT_FILE") or env["ORDERER_ADMIN_TLS_CLIENTROOTCAS"]
        assert "tls/ca.crt" in tls_ca


def _is_key(path: Path) -> bool:
    return path.name in ("priv_sk", "server.key", "client.key")


# ------------------------------------------------------------------------------ config files


def _config_dirs() -> list[Path]:
    return [d for d in sorted(CACHE.glob("*/config")) if (d / "core.yaml").is_file()]


def _fake_config(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "core.yaml").write_text(
        "# comment\npeer:\n  id: jdoe\nvm:\n  endpoint: unix:///var/run/docker.sock\n"
        "  docker: {tls: {enabled: false}}\nchaincode:\n  keepalive: 0\n"
    )
    (src / "orderer.yaml").write_text("# kept verbatim\nGeneral:\n  ListenPort: 7050\n")
    return src


def test_write_core_yaml_disables_docker_and_converges(tmp_path: Path) -> None:
    src = _fake_config(tmp_path)
    target = tmp_path / "out"
    assert write_core_yaml(src, target) == ("core.yaml", "orderer.yaml")
    core = yaml.safe_load((target / "core.yaml").read_text())
    assert core["vm"]["endpoint"] == ""
    original = yaml.safe_load((src / "core.yaml").read_text())
    original["vm"]["endpoint"] = ""
    assert core == original
    assert (target / "orderer.yaml").read_text() == (src / "orderer.yaml").read_text()
    assert write_core_yaml(src, target) == ()
    (target / "orderer.yaml").write_text("tampered")
    assert write_core_yaml(src, target) == ("orderer.yaml",)
    with pytest.raises(UsageError):
        write_core_yaml(tmp_path / "nowhere", target)


def test_patched_core_yaml_refuses_non_mappings() -> None:
    with pytest.raises(UsageError):
        patched_core_yaml("- a\n- b\n")


@pytest.mark.parametrize("config", _config_dirs(), ids=lambda p: p.parent.name)
def test_release_core_yaml_patch_and_env_keys_exist(
    config: Path, plan: Plan, local: LocalAddresses, tmp_path: Path
) -> None:
    """Against the releases' own sample config: the patch keeps every other value, and every
    CORE_* / ORDERER_* override names a key of core.yaml / orderer.yaml (a typo would be
    silently ignored by Fabric)."""
    write_core_yaml(config, tmp_path)
    original = yaml.safe_load((config / "core.yaml").read_text())
    patched = yaml.safe_load((tmp_path / "core.yaml").read_text())
    assert original["vm"]["endpoint"] and patched["vm"]["endpoint"] == ""
    original["vm"]["endpoint"] = ""
    assert patched == original
    core_keys = _flat(original)
    orderer_keys = _flat(yaml.safe_load((config / "orderer.yaml").read_text()))
    # Keys Fabric reads although the sample file has them commented out or dropped.
    not_in_samples = {
        "PEER_CHAINCODELISTENADDRESS",
        "PEER_CHAINCODEADDRESS",
        "GENERAL_BOOTSTRAPMETHOD",  # 3.x: a deprecated struct field, gone from the sample
        "GENERAL_CLUSTER_ROOTCAS",  # localconfig.Cluster.RootCAs
    }
    for node in all_nodes(plan):
        for key in env_of(plan, node, local):
            prefix, _, rest = key.partition("_")
            if prefix == "CORE":
                assert rest in core_keys or rest in not_in_samples, key
            elif prefix == "ORDERER":
                assert rest in orderer_keys or rest in not_in_samples, key


def _flat(data: object, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(data, dict):
        for k, v in data.items():
            name = f"{prefix}_{k}".upper() if prefix else str(k).upper()
            keys.add(name)
            keys |= _flat(v, name)
    return keys
