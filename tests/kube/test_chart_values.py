"""Pure parts of the chart tooling: values built from the plan, merging, key-material checks,
the helm locator and the test-hook split. No helm, no cluster."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import topology
from baas import nodeconfig
from baas import plan as planning
from baas.errors import OperationError, UsageError
from baas.runtimes.kubernetes import helm, pod_paths, rendering
from baas.runtimes.kubernetes import values as chart_values
from baas.runtimes.kubernetes.addresses import KubernetesAddresses, chaincode_service_name
from baas.secrets import kubernetes as kube_secrets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _plan(name: str) -> planning.Plan:
    return planning.build(topology.load(EXAMPLES / name).network)


def test_org_values_carry_names_from_plan_and_secret_store() -> None:
    plan = _plan("two-orgs.yaml")
    org = plan.org("org1")
    values = chart_values.org_values(plan, org)
    assert values["organization"] == {
        "name": "org1",
        "mspId": "Org1MSP",
        "domain": "org1.example.com",
        "namespace": "supplychain-org1",
    }
    assert values["network"]["fabricRelease"] == "2.5.16"
    assert [p["name"] for p in values["peers"]] == ["peer0", "peer1"]
    peer0 = dict(values["peers"][0])
    assert peer0.pop("env") == chart_values.node_env(
        plan, org.peers[0], cluster_domain="cluster.local"
    )
    names = kube_secrets.secret_names("peer0.org1.example.com")
    assert peer0 == {
        "name": "peer0",
        "fqdn": "peer0.org1.example.com",
        "service": "peer0",
        "anchor": True,
        "identity": "peer0.org1.example.com",
        "mspSecret": names.msp,
        "tlsSecret": names.tls,
    }
    assert values["admin"]["identity"] == "Admin@org1.example.com"
    assert values["admin"]["mspSecret"] == kube_secrets.secret_names("Admin@org1.example.com").msp
    assert values["channels"] == ["mychannel"]
    assert values["secrets"]["vault"]["role"] == "baas-supplychain-org1"
    assert values["serviceAccount"]["name"] == chart_values.service_account_name(org)
    # Secret keys are the store's own constants.
    assert (
        values["secrets"]["kubernetes"]["mspKeys"]["signKey"] == kube_secrets.MSP_KEYS["sign_key"]
    )
    assert values["secrets"]["kubernetes"]["tlsKeys"]["key"] == kube_secrets.TLS_KEYS["tls_key"]
    assert chart_values.key_material_paths(values) == []


def _expected_env(plan: planning.Plan, node: planning.NodePlan, domain: str) -> dict[str, str]:
    """A node's env built from its parts (pod paths, Service addresses, the KUBERNETES preset)
    without going through the values module."""
    return nodeconfig.node_env(
        plan,
        node,
        addresses=KubernetesAddresses(cluster_domain=domain),
        files=pod_paths.pod_files(node.role),
        tunables=nodeconfig.KUBERNETES,
    )


@pytest.mark.parametrize("example", ["two-orgs.yaml", "bft.yaml", "minimal.yaml"])
@pytest.mark.parametrize("domain", ["cluster.local", "k8s.internal"])
def test_every_node_entry_carries_its_nodeconfig_env(example: str, domain: str) -> None:
    plan = _plan(example)
    options = chart_values.ValuesOptions(cluster_domain=domain)
    for org in plan.orgs:
        values = chart_values.org_values(plan, org, options)
        entries = values["peers"] + values["orderers"]
        assert [e["fqdn"] for e in entries] == [n.fqdn for n in org.peers + org.orderers]
        for entry, node in zip(entries, org.peers + org.orderers, strict=True):
            env = entry["env"]
            assert env == _expected_env(plan, node, domain)
            assert list(env) == sorted(env)
            assert all(isinstance(v, str) for v in env.values())
            host = f"{node.service}.{org.namespace}.svc.{domain}"
            if node.role == "peer":
                assert env["CORE_PEER_ADDRESS"] == f"{host}:7051"
                others = [p for p in org.peers if p != node] or [node]
                assert env["CORE_PEER_GOSSIP_BOOTSTRAP"] == " ".join(
                    f"{p.service}.{org.namespace}.svc.{domain}:7051" for p in others
                )
        assert chart_values.key_material_paths(values) == []


def test_pod_files_are_what_the_chart_mounts() -> None:
    peer, orderer = pod_paths.pod_files("peer"), pod_paths.pod_files("orderer")
    assert peer == nodeconfig.NodeFiles(
        msp_dir="/etc/hyperledger/crypto/msp",
        tls_cert="/etc/hyperledger/crypto/tls/server.crt",
        tls_key="/etc/hyperledger/crypto/tls/server.key",
        tls_ca="/etc/hyperledger/crypto/tls/ca.crt",
        data_dir="/var/hyperledger/production",
        config_dir="/etc/hyperledger/fabric-config",
        builders_dir="/opt/hyperledger/ccaas_builder",
    )
    assert orderer == nodeconfig.NodeFiles(
        msp_dir="/etc/hyperledger/crypto/msp",
        tls_cert="/etc/hyperledger/crypto/tls/server.crt",
        tls_key="/etc/hyperledger/crypto/tls/server.key",
        tls_ca="/etc/hyperledger/crypto/tls/ca.crt",
        data_dir="/var/hyperledger/production/orderer",
        config_dir="/etc/hyperledger/fabric",
        builders_dir="",
    )


def test_orderer_ledger_wal_and_snapshots_stay_where_the_chart_had_them() -> None:
    plan = _plan("two-orgs.yaml")
    orderer = plan.org("ordererorg").orderers[0]
    env = chart_values.node_env(plan, orderer, cluster_domain="cluster.local")
    assert env["ORDERER_FILELEDGER_LOCATION"] == "/var/hyperledger/production/orderer"
    assert env["ORDERER_CONSENSUS_WALDIR"] == "/var/hyperledger/production/orderer/etcdraft/wal"
    assert (
        env["ORDERER_CONSENSUS_SNAPDIR"] == "/var/hyperledger/production/orderer/etcdraft/snapshot"
    )
    assert env["ORDERER_GENERAL_LISTENADDRESS"] == "0.0.0.0"
    assert env["FABRIC_CFG_PATH"] == "/etc/hyperledger/fabric"
    assert "FABRIC_LOGGING_FORMAT" not in env  # Fabric's own, as the chart ran


def test_node_env_refuses_a_node_of_another_plan() -> None:
    other = _plan("minimal.yaml").org("org1").peers[0]
    with pytest.raises(UsageError):
        chart_values.node_env(_plan("two-orgs.yaml"), other, cluster_domain="cluster.local")


def test_orderer_org_serves_no_chaincode_and_expects_no_channels() -> None:
    plan = _plan("two-orgs.yaml")
    values = chart_values.org_values(plan, plan.org("ordererorg"))
    assert values["peers"] == []
    assert [o["service"] for o in values["orderers"]] == ["orderer0", "orderer1", "orderer2"]
    assert values["chaincodes"] == []
    assert values["channels"] == []


def test_chaincodes_served_by_member_orgs() -> None:
    plan = _plan("two-orgs.yaml")
    served = chart_values.org_values(plan, plan.org("org2"))["chaincodes"]
    assert served == [
        {
            "name": "basic",
            "channel": "mychannel",
            "version": "1.0",
            "label": "basic_1.0",
            "service": "cc-basic-mychannel",
        }
    ]


@pytest.mark.parametrize(
    ("name", "channel"),
    [
        ("basic", "mychannel"),
        ("My_CC", "mychannel"),
        ("x" * 120, "c.h-an"),
        ("a-b", "c"),
    ],
)
def test_chaincode_service_names_are_dns_labels(name: str, channel: str) -> None:
    service = chaincode_service_name(name, channel)
    assert len(service) <= 63
    assert kube_secrets.dns_label(service) == service


def test_chaincode_service_names_keep_distinct_pairs_apart() -> None:
    assert chaincode_service_name("My_CC", "ch") != chaincode_service_name("my-cc", "ch")


def test_vault_identity_path() -> None:
    plan = _plan("two-orgs.yaml")
    path = chart_values.vault_identity_path(
        plan, plan.org("org1"), "peer0.org1.example.com", mount="/kv/"
    )
    assert path == "kv/data/supplychain/org1/peer0.org1.example.com"


def test_values_options_reject_unknown_mode() -> None:
    with pytest.raises(UsageError):
        chart_values.ValuesOptions(secrets_mode="files")  # type: ignore[arg-type]


def test_merge_values_follows_helm() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": 1}
    merged = chart_values.merge_values(base, {"a": {"c": [3], "f": True}, "d": None, "g": {}})
    assert merged == {"a": {"b": 1, "c": [3], "f": True}, "e": 1, "g": {}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x", "e": 1}  # not mutated


def test_key_material_is_found_and_refused_by_path_only() -> None:
    key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n"
    values = {
        "peer": {"extraEnv": {"K": key}},
        "list": ["ok", {"x": "-----BEGIN EC PRIVATE KEY-----"}],
    }
    assert chart_values.key_material_paths(values) == ["peer.extraEnv.K", "list[1].x"]
    with pytest.raises(UsageError) as caught:
        chart_values.check_no_key_material(values, source="test values")
    assert "MIGHAgEA" not in str(caught.value)
    assert "peer.extraEnv.K" in str(caught.value)
    assert chart_values.key_material_paths({"cert": "-----BEGIN CERTIFICATE-----"}) == []


def test_split_tests_separates_hook_documents() -> None:
    rendered = (
        "---\n# Source: fabric/templates/services.yaml\nkind: Service\n"
        "---\n# Source: fabric/templates/tests/test-peer-channels.yaml\nkind: Pod\n"
        "---\n# Source: fabric/templates/statefulsets.yaml\nkind: StatefulSet\n"
    )
    manifests, tests = rendering.split_tests(rendered)
    assert manifests == (
        "---\n# Source: fabric/templates/services.yaml\nkind: Service\n"
        "---\n# Source: fabric/templates/statefulsets.yaml\nkind: StatefulSet\n"
    )
    assert tests == "---\n# Source: fabric/templates/tests/test-peer-channels.yaml\nkind: Pod\n"
    assert rendering.split_tests("") == ("", "")


def test_load_values_files_refuses_bad_input(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("global:\n  imageRegistry: reg.local\n")
    assert rendering.load_values_files([good]) == [{"global": {"imageRegistry": "reg.local"}}]
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [\n")
    keyed = tmp_path / "key.yaml"
    keyed.write_text("x: |\n  -----BEGIN PRIVATE KEY-----\n  abc\n")
    for path in (listing, broken, keyed, tmp_path / "missing.yaml"):
        with pytest.raises(UsageError):
            rendering.load_values_files([path])


def test_helm_override_must_be_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("BAAS_HELM", str(fake))
    with pytest.raises(OperationError, match="not an executable"):
        helm.helm_binary()
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert helm.helm_binary() == fake


def test_helm_cache_path_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BAAS_HELM", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert helm.cache_path() == tmp_path / "baas" / "helm" / helm.HELM_VERSION / "helm"
    with pytest.raises(OperationError, match="not installed"):
        helm.helm_binary(install=False)


def test_helm_errors_carry_stderr_and_hint(tmp_path: Path) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(OperationError) as caught:
        helm.run(["template"], what="rendering x", hint="try y", helm=fake)
    assert "something broke" in caught.value.message
    assert "exit 3" in caught.value.message
    assert caught.value.hint == "try y"
    assert os.access(fake, os.X_OK)
