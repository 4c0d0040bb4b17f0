"""charts/fabric through the real helm binary: lint, `helm template` of every organisation of
every example in both secrets modes, strict schema validation (kubernetes-validate, Kubernetes
1.34) and assertions on the rendered objects. No cluster needed."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

import topology
from baas import nodeconfig
from baas import plan as planning
from baas.errors import OperationError, UsageError
from baas.runtimes.kubernetes import helm, namespaces, pod_paths, rendering
from baas.runtimes.kubernetes import values as chart_values
from baas.runtimes.kubernetes.addresses import KubernetesAddresses
from baas.secrets import kubernetes as kube_secrets

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MODES = ("kubernetes", "vault")
KUBE_VERSION = "1.34.0"
PRIVATE_KEY = re.compile(r"PRIVATE KEY")
STANDARD_LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
)
PEER_PORTS = {"peer": 7051, "chaincode": 7052, "operations": 9443}
ORDERER_PORTS = {"orderer": 7050, "cluster": 7055, "admin": 7053, "operations": 9443}

pytestmark = pytest.mark.usefixtures("helm_binary")


@cache
def _plan(example: Path) -> planning.Plan:
    return planning.build(topology.load(example).network)


@cache
def _renders(example: Path, mode: str) -> tuple[rendering.OrgRender, ...]:
    options = chart_values.ValuesOptions(secrets_mode="vault" if mode == "vault" else "kubernetes")
    return tuple(rendering.render_orgs(_plan(example), options=options, kube_version=KUBE_VERSION))


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def _cases() -> Iterator[Any]:
    for example in EXAMPLES:
        for mode in MODES:
            yield pytest.param(example, mode, id=f"{example.stem}-{mode}")


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] == "Pod":
        return [doc["spec"]]
    if doc["kind"] in ("StatefulSet", "Deployment"):
        return [doc["spec"]["template"]["spec"]]
    return []


def _pod_meta(doc: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = (
        doc["metadata"] if doc["kind"] == "Pod" else doc["spec"]["template"]["metadata"]
    )
    return meta


def _by(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _nodeconfig_env(plan: planning.Plan, node: planning.NodePlan) -> dict[str, str]:
    """The env baas.nodeconfig gives ``node`` in a pod (what the local runtime's function
    yields for the chart's paths, Service addresses and the KUBERNETES preset)."""
    return nodeconfig.node_env(
        plan,
        node,
        addresses=KubernetesAddresses(),
        files=pod_paths.pod_files(node.role),
        tunables=nodeconfig.KUBERNETES,
    )


def _config_maps(r: rendering.OrgRender) -> dict[str, dict[str, str]]:
    """Node name → data of its ``<node>-env`` ConfigMap."""
    maps = _by(_docs(r.manifests), "ConfigMap")
    return {name.removesuffix("-env"): m["data"] for name, m in maps.items()}


# --------------------------------------------------------------------------- lint


def test_helm_lint_strict_with_defaults() -> None:
    report = helm.lint()
    assert "0 chart(s) failed" in report


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_helm_lint_strict_with_each_org_values(example: Path, mode: str, tmp_path: Path) -> None:
    for r in _renders(example, mode):
        values = tmp_path / f"{r.org}.yaml"
        values.write_text(r.values_yaml)
        assert "0 chart(s) failed" in helm.lint(values_files=[values], namespace=r.namespace)


def test_lint_reports_failures() -> None:
    with pytest.raises(OperationError) as caught:
        helm.lint(values_files=[], namespace="default", chart=ROOT / "examples")
    assert "lint" in caught.value.message


# --------------------------------------------------------------------------- every example


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_every_object_is_valid_kubernetes(example: Path, mode: str) -> None:
    for r in _renders(example, mode):
        for doc in _docs(r.manifests) + _docs(r.tests):
            try:
                kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(
                    f"{r.org}: {doc['kind']}/{doc['metadata']['name']}: {exc.message} "
                    f"at {'.'.join(map(str, exc.path))}"
                )


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_no_key_material_anywhere(example: Path, mode: str) -> None:
    for r in _renders(example, mode):
        for text in (r.values_yaml, r.manifests, r.tests):
            assert not PRIVATE_KEY.search(text)
        assert not PRIVATE_KEY.search(yaml.safe_dump(r.values))
        # Secrets are mounted, never created by the chart.
        assert not [d for d in _docs(r.manifests) if d["kind"] == "Secret"]


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_labels_follow_the_contract(example: Path, mode: str) -> None:
    plan = _plan(example)
    for r in _renders(example, mode):
        for doc in _docs(r.manifests) + _docs(r.tests):
            labels = doc["metadata"]["labels"]
            for key in STANDARD_LABELS:
                assert labels.get(key), f"{doc['kind']}/{doc['metadata']['name']} lacks {key}"
            assert labels[namespaces.LABEL_NAME] == namespaces.APP_NAME
            assert labels[namespaces.LABEL_INSTANCE] == r.release
            assert labels["app.kubernetes.io/version"] == plan.fabric_release
            assert labels["app.kubernetes.io/managed-by"] == "Helm"
            assert labels[namespaces.LABEL_ORG] == r.org
            assert labels[namespaces.LABEL_NETWORK] == plan.network
            if _pod_specs(doc):
                pod_labels = _pod_meta(doc)["labels"]
                component = pod_labels[namespaces.LABEL_COMPONENT]
                assert component in (
                    namespaces.COMPONENT_PEER,
                    namespaces.COMPONENT_ORDERER,
                    namespaces.COMPONENT_CHAINCODE,
                    namespaces.COMPONENT_TEST,
                )
                if component in (namespaces.COMPONENT_PEER, namespaces.COMPONENT_ORDERER):
                    assert pod_labels[namespaces.LABEL_NODE] == doc["metadata"]["name"]


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_nodes_services_and_volumes(example: Path, mode: str) -> None:
    plan = _plan(example)
    for r in _renders(example, mode):
        org = plan.org(r.org)
        docs = _docs(r.manifests)
        sets = _by(docs, "StatefulSet")
        services = _by(docs, "Service")
        assert sorted(sets) == sorted(n.name for n in org.nodes)
        for node in org.nodes:
            sts = sets[node.name]
            assert sts["spec"]["replicas"] == 1
            assert sts["spec"]["serviceName"] == node.service
            claim = sts["spec"]["volumeClaimTemplates"][0]
            assert claim["metadata"]["name"] == "data"
            assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
            spec = sts["spec"]["template"]["spec"]
            container = spec["containers"][0]
            assert container["name"] == node.role
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/var/hyperledger/production"] == "data"
            assert mounts["/tmp"] == "tmp"
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports == (PEER_PORTS if node.role == "peer" else ORDERER_PORTS)
            service = services[node.service]
            assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == ports
            assert service["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
            assert service["metadata"]["annotations"]["baas.io/fqdn"] == node.fqdn
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                get = container[probe]["httpGet"]
                assert (get["path"], get["port"]) == ("/healthz", "operations")
            assert container["resources"]["requests"] and container["resources"]["limits"]
            env = _by(docs, "ConfigMap")[f"{node.name}-env"]["data"]
            assert container["envFrom"] == [{"configMapRef": {"name": f"{node.name}-env"}}]
            _check_env(env, node, plan, sts)


def _check_env(
    env: dict[str, str], node: planning.NodePlan, plan: planning.Plan, sts: dict[str, Any]
) -> None:
    # With the chart's default values the ConfigMap is exactly nodeconfig's env, keys sorted.
    assert env == _nodeconfig_env(plan, node)
    assert list(env) == sorted(env)
    org = plan.org(node.org)
    host = f"{node.service}.{org.namespace}.svc.cluster.local"
    if node.role == "peer":
        assert env["CORE_PEER_ID"] == node.fqdn
        assert env["CORE_PEER_LOCALMSPID"] == org.msp_id
        assert env["CORE_PEER_ADDRESS"] == f"{host}:7051"
        assert env["CORE_PEER_GOSSIP_EXTERNALENDPOINT"] == f"{host}:7051"
        assert env["CORE_PEER_GOSSIP_USELEADERELECTION"] == "false"
        assert env["CORE_PEER_GOSSIP_ORGLEADER"] == "true"
        assert env["CORE_PEER_TLS_ENABLED"] == "true"
        assert env["CORE_OPERATIONS_LISTENADDRESS"] == "0.0.0.0:9443"
        assert "ccaas_builder" in env["CORE_CHAINCODE_EXTERNALBUILDERS"]
        assert env["FABRIC_CFG_PATH"] == "/etc/hyperledger/fabric-config"
        assert env["CORE_PEER_FILESYSTEMPATH"] == "/var/hyperledger/production"
        assert env["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"] == (
            f'{{"namespace":"{org.namespace}","peername":"{node.name}"}}'
        )
        init = sts["spec"]["template"]["spec"]["initContainers"]
        assert [c["name"] for c in init] == ["core-config"]
        assert "unix:///var/run/docker.sock" in init[0]["command"][2]
    else:
        assert env["ORDERER_GENERAL_LOCALMSPID"] == org.msp_id
        assert env["ORDERER_GENERAL_BOOTSTRAPMETHOD"] == "none"
        assert env["ORDERER_CHANNELPARTICIPATION_ENABLED"] == "true"
        assert env["ORDERER_GENERAL_TLS_ENABLED"] == "true"
        assert env["ORDERER_GENERAL_CLUSTER_LISTENPORT"] == "7055"
        assert env["ORDERER_ADMIN_LISTENADDRESS"] == "0.0.0.0:7053"
        assert env["ORDERER_ADMIN_TLS_ENABLED"] == "true"
        assert env["ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED"] == "true"
        assert env["ORDERER_OPERATIONS_LISTENADDRESS"] == "0.0.0.0:9443"
        assert env["ORDERER_FILELEDGER_LOCATION"] == "/var/hyperledger/production/orderer"
        assert env["ORDERER_CONSENSUS_WALDIR"] == "/var/hyperledger/production/orderer/etcdraft/wal"
    for key, value in env.items():
        if key.endswith(("_FILE", "_CERTIFICATE", "_PRIVATEKEY", "DIR", "PATH")) and "/" in value:
            assert value.startswith("/"), f"{key} must be absolute"


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_chart_mounts_what_pod_files_names(example: Path, mode: str) -> None:
    """The paths in every node's env (baas.runtimes.kubernetes.pod_paths) are where the chart
    mounts the identity, the data volume and the peer's config folder."""
    for r in _renders(example, mode):
        for name, sts in _by(_docs(r.manifests), "StatefulSet").items():
            role = sts["spec"]["template"]["metadata"]["labels"][namespaces.LABEL_COMPONENT]
            files = pod_paths.pod_files(role)
            spec = sts["spec"]["template"]["spec"]
            mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
            crypto = str(Path(files.msp_dir).parent)
            assert crypto == pod_paths.CRYPTO_DIR
            for path in (files.tls_cert, files.tls_key, files.tls_ca):
                assert path.startswith(f"{crypto}/tls/")
            if mode == "kubernetes":
                assert mounts["crypto"] == crypto
            else:
                annotations = sts["spec"]["template"]["metadata"]["annotations"]
                assert annotations["vault.hashicorp.com/secret-volume-path"] == crypto
            data = mounts["data"]
            assert files.data_dir == data or files.data_dir.startswith(f"{data}/"), name
            if role == "peer":
                assert mounts["fabric-config"] == files.config_dir
                script = spec["initContainers"][0]["command"][2]
                assert f"> {files.config_dir}/core.yaml" in script
            else:
                assert "fabric-config" not in mounts  # the image's own FABRIC_CFG_PATH
                assert files.config_dir == pod_paths.IMAGE_CONFIG_DIR


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_pods_are_locked_down(example: Path, mode: str) -> None:
    for r in _renders(example, mode):
        for doc in _docs(r.manifests) + _docs(r.tests):
            for spec in _pod_specs(doc):
                assert spec["automountServiceAccountToken"] is False
                assert spec["enableServiceLinks"] is False
                assert spec["serviceAccountName"] == chart_values.service_account_name(
                    _plan(example).org(r.org)
                )
                pod = spec["securityContext"]
                assert pod["runAsNonRoot"] is True
                assert isinstance(pod["runAsUser"], int) and pod["runAsUser"] > 0
                assert isinstance(pod["fsGroup"], int)
                assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
                for c in spec["containers"] + spec.get("initContainers", []):
                    sc = c["securityContext"]
                    assert sc["runAsNonRoot"] is True
                    assert sc["readOnlyRootFilesystem"] is True
                    assert sc["allowPrivilegeEscalation"] is False
                    assert sc["capabilities"] == {"drop": ["ALL"]}
                    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
                    assert "resources" in c
        sas = _by(_docs(r.manifests), "ServiceAccount")
        assert list(sas) == [chart_values.service_account_name(_plan(example).org(r.org))]
        assert next(iter(sas.values()))["automountServiceAccountToken"] is False


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_images_are_pinned_to_the_plan_release(example: Path, mode: str) -> None:
    release = _plan(example).fabric_release
    for r in _renders(example, mode):
        for doc in _docs(r.manifests) + _docs(r.tests):
            for spec in _pod_specs(doc):
                for c in spec["containers"] + spec.get("initContainers", []):
                    component = _pod_meta(doc)["labels"]["app.kubernetes.io/component"]
                    image = {
                        "peer": "fabric-peer",
                        "orderer": "fabric-orderer",
                        "test": "fabric-peer",  # `peer channel list` with the peer's own image
                    }[component]
                    assert c["image"] == f"hyperledger/{image}:{release}"


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_disruption_budgets(example: Path, mode: str) -> None:
    plan = _plan(example)
    for r in _renders(example, mode):
        org = plan.org(r.org)
        pdbs = list(_by(_docs(r.manifests), "PodDisruptionBudget").values())
        roles = sorted(
            p["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for p in pdbs
        )
        assert roles == sorted(
            role for role, nodes in (("peer", org.peers), ("orderer", org.orderers)) if nodes
        )
        for pdb in pdbs:
            assert pdb["spec"]["maxUnavailable"] == 1
            selector = pdb["spec"]["selector"]["matchLabels"]
            pods = [_pod_meta(d)["labels"] for d in _docs(r.manifests) if _pod_specs(d)]
            assert any(selector.items() <= labels.items() for labels in pods)


@pytest.mark.parametrize(("example", "mode"), list(_cases()))
def test_helm_test_hooks_check_each_peer(example: Path, mode: str) -> None:
    plan = _plan(example)
    for r in _renders(example, mode):
        org = plan.org(r.org)
        assert "helm.sh/hook" not in r.manifests
        pods = _docs(r.tests)
        assert len(pods) == len(org.peers)
        expected = " ".join(ch.name for ch in plan.channels if org.name in ch.members)
        for pod, peer in zip(pods, org.peers, strict=True):
            assert pod["kind"] == "Pod"
            annotations = pod["metadata"]["annotations"]
            assert annotations["helm.sh/hook"] == "test"
            assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
            assert pod["spec"]["restartPolicy"] == "Never"
            container = pod["spec"]["containers"][0]
            assert "peer channel list" in container["command"][-1]
            assert container["command"][0] == "/bin/sh"  # the peer image has it
            assert container["image"] == f"hyperledger/fabric-peer:{plan.fabric_release}"
            env = {e["name"]: e["value"] for e in container["env"]}
            assert env["EXPECTED_CHANNELS"] == expected
            assert env["CORE_PEER_ADDRESS"] == (
                f"{peer.service}.{org.namespace}.svc.cluster.local:7051"
            )
            assert env["CORE_PEER_ADDRESS"] == _nodeconfig_env(plan, peer)["CORE_PEER_ADDRESS"]
            assert env["CORE_PEER_LOCALMSPID"] == org.msp_id
            assert env["CORE_PEER_MSPCONFIGPATH"] == "/etc/hyperledger/crypto/msp"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_kubernetes_mode_projects_the_store_secrets(example: Path) -> None:
    plan = _plan(example)
    for r in _renders(example, "kubernetes"):
        org = plan.org(r.org)
        docs = _docs(r.manifests) + _docs(r.tests)
        for doc in docs:
            if _pod_specs(doc):
                assert not any(
                    k.startswith("vault.hashicorp.com/")
                    for k in _pod_meta(doc).get("annotations", {})
                )
        for node in org.nodes:
            spec = _by(docs, "StatefulSet")[node.name]["spec"]["template"]["spec"]
            crypto = next(v for v in spec["volumes"] if v["name"] == "crypto")
            names = kube_secrets.secret_names(node.fqdn)
            msp, tls = crypto["projected"]["sources"]
            assert msp["secret"]["name"] == names.msp
            assert tls["secret"]["name"] == names.tls
            msp_items = {i["path"]: i["key"] for i in msp["secret"]["items"]}
            assert msp_items == {
                "msp/signcerts/cert.pem": kube_secrets.MSP_KEYS["sign_cert"],
                "msp/keystore/key.pem": kube_secrets.MSP_KEYS["sign_key"],
                "msp/cacerts/ca.pem": kube_secrets.MSP_KEYS["ca_cert"],
                "msp/tlscacerts/tlsca.pem": kube_secrets.MSP_KEYS["tls_ca_cert"],
                "msp/config.yaml": kube_secrets.MSP_CONFIG_KEY,
            }
            assert {i["path"]: i["key"] for i in tls["secret"]["items"]} == {
                "tls/server.crt": "tls.crt",
                "tls/server.key": "tls.key",
                "tls/ca.crt": "ca.crt",
            }
            mount = next(m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "crypto")
            assert mount == {
                "name": "crypto",
                "mountPath": "/etc/hyperledger/crypto",
                "readOnly": True,
            }
        admin = kube_secrets.secret_names(org.admin)
        for pod in _docs(r.tests):
            crypto = next(v for v in pod["spec"]["volumes"] if v["name"] == "crypto")
            msp, tls = crypto["projected"]["sources"]
            assert (msp["secret"]["name"], tls["secret"]["name"]) == (admin.msp, admin.tls)
            # The admin's TLS key is not needed to list channels: only the CA is mounted.
            assert [i["path"] for i in tls["secret"]["items"]] == ["tls/ca.crt"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_vault_mode_uses_the_agent_injector(example: Path) -> None:
    plan = _plan(example)
    for r in _renders(example, "vault"):
        org = plan.org(r.org)
        docs = _docs(r.manifests) + _docs(r.tests)
        for doc in docs:
            for spec in _pod_specs(doc):
                assert not any(
                    "secret" in v
                    or ("projected" in v and any("secret" in s for s in v["projected"]["sources"]))
                    for v in spec["volumes"]
                )
        identities = {n.name: n.fqdn for n in org.nodes}
        for doc in docs:
            if not _pod_specs(doc):
                continue
            annotations = _pod_meta(doc)["annotations"]
            identity = identities.get(doc["metadata"]["name"], org.admin)
            path = chart_values.vault_identity_path(plan, org, identity)
            assert annotations["vault.hashicorp.com/agent-inject"] == "true"
            assert annotations["vault.hashicorp.com/role"] == f"baas-{plan.network}-{org.name}"
            assert (
                annotations["vault.hashicorp.com/secret-volume-path"] == "/etc/hyperledger/crypto"
            )
            assert annotations["vault.hashicorp.com/agent-inject-secret-msp-keystore"] == path
            assert (
                annotations["vault.hashicorp.com/agent-inject-file-msp-keystore"]
                == "msp/keystore/key.pem"
            )
            assert (
                ".Data.data.sign_key"
                in annotations["vault.hashicorp.com/agent-inject-template-msp-keystore"]
            )
            assert annotations["vault.hashicorp.com/agent-inject-perms-msp-keystore"] == "0400"
            node_pod = doc["kind"] == "StatefulSet"
            assert ("vault.hashicorp.com/agent-inject-secret-tls-key" in annotations) == node_pod
            token = annotations["vault.hashicorp.com/agent-service-account-token-volume-name"]
            volume = next(v for v in _pod_specs(doc)[0]["volumes"] if v["name"] == token)
            assert volume["projected"]["sources"][0]["serviceAccountToken"]["path"] == "token"


# --------------------------------------------------------------------------- options


def _render_one(
    example: str,
    org: str,
    *extra: dict[str, Any],
    options: chart_values.ValuesOptions | None = None,
) -> rendering.OrgRender:
    plan = _plan(ROOT / "examples" / example)
    return rendering.render_org(
        plan,
        plan.org(org),
        options=options or chart_values.ValuesOptions(),
        extra_values=extra,
        kube_version=KUBE_VERSION,
    )


def test_image_registry_prefixes_every_fabric_image() -> None:
    r = _render_one(
        "minimal.yaml",
        "org1",
        options=chart_values.ValuesOptions(image_registry="registry.local:5000/"),
    )
    images = set(re.findall(r'image: "([^"]+)"', r.manifests + r.tests))
    assert images == {
        "registry.local:5000/hyperledger/fabric-peer:2.5.16",
        "registry.local:5000/hyperledger/fabric-orderer:2.5.16",
    }


@pytest.mark.parametrize("version", ["2.5", "3.1"])
def test_every_peer_pulls_blocks_from_the_orderers_itself(version: str) -> None:
    """No leader election, every peer its org's leader: Fabric 3.0 turned
    peer.deliveryclient.blockGossipEnabled off by default, so a peer that is not the leader
    would never receive a block from the leader."""
    base = _plan(ROOT / "examples" / "two-orgs.yaml")
    plan = dataclasses.replace(base, fabric_version=version)
    org = plan.org("org1")
    assert len(org.peers) == 2
    r = rendering.render_org(
        plan, org, options=chart_values.ValuesOptions(), kube_version=KUBE_VERSION
    )
    configs = _by(_docs(r.manifests), "ConfigMap")
    for peer in org.peers:
        env = configs[f"{peer.name}-env"]["data"]
        assert env["CORE_PEER_GOSSIP_USELEADERELECTION"] == "false", peer.name
        assert env["CORE_PEER_GOSSIP_ORGLEADER"] == "true", peer.name
        assert env["CORE_PEER_DELIVERYCLIENT_BLOCKGOSSIPENABLED"] == "false", peer.name
        assert env == _nodeconfig_env(plan, peer)


CHART_SETTINGS: dict[str, Any] = {
    "logging": {"spec": "info:gossip=debug", "format": "%{level} %{message}"},
    "peer": {
        "gateway": False,
        "extraEnv": {"CORE_PEER_GOSSIP_PULLINTERVAL": "10s", "CORE_PEER_KEEPALIVE_MININTERVAL": 60},
    },
    "orderer": {"extraEnv": {"ORDERER_GENERAL_KEEPALIVE_SERVERINTERVAL": "3m"}},
}


@pytest.mark.parametrize("example", ["two-orgs.yaml", "bft.yaml"])
def test_node_env_is_nodeconfig_with_the_chart_settings_on_top(example: str) -> None:
    """Each ConfigMap is baas.nodeconfig's env of that node, then logging.*, peer.gateway and
    the role's extraEnv (added or overriding, as strings); a changed env rolls the pod."""
    plan = _plan(ROOT / "examples" / example)
    for org in plan.orgs:
        default = _render_one(example, org.name)
        tuned = _render_one(example, org.name, CHART_SETTINGS)
        maps = _config_maps(tuned)
        assert sorted(maps) == sorted(n.name for n in org.nodes)
        for node in org.nodes:
            expected = {
                **_nodeconfig_env(plan, node),
                "FABRIC_LOGGING_SPEC": "info:gossip=debug",
                "FABRIC_LOGGING_FORMAT": "%{level} %{message}",
            }
            if node.role == "peer":
                expected |= {
                    "CORE_PEER_GATEWAY_ENABLED": "false",
                    "CORE_PEER_GOSSIP_PULLINTERVAL": "10s",
                    "CORE_PEER_KEEPALIVE_MININTERVAL": "60",
                }
            else:
                expected["ORDERER_GENERAL_KEEPALIVE_SERVERINTERVAL"] = "3m"
            assert maps[node.name] == expected, node.fqdn
            assert list(maps[node.name]) == sorted(expected)
            assert _config_maps(default)[node.name] == _nodeconfig_env(plan, node)
            checksums = [
                _by(_docs(r.manifests), "StatefulSet")[node.name]["spec"]["template"]["metadata"][
                    "annotations"
                ]["checksum/config"]
                for r in (default, tuned)
            ]
            assert checksums[0] != checksums[1]


def test_node_without_env_is_refused(tmp_path: Path) -> None:
    """env is baas's: the schema requires it, and the chart fails without it even when the
    schema is skipped."""
    plan = _plan(ROOT / "examples" / "minimal.yaml")
    org = plan.org("org1")
    values = chart_values.org_values(plan, org)
    bare = [{k: v for k, v in n.items() if k != "env"} for n in values["peers"]]
    with pytest.raises(OperationError) as caught:
        _render_one("minimal.yaml", "org1", {"peers": bare})
    assert "env is required" in caught.value.message
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump({**values, "peers": bare}))
    with pytest.raises(OperationError) as caught:
        helm.run(
            [
                "template",
                "org1",
                str(helm.CHART_DIR),
                "-n",
                org.namespace,
                "-f",
                str(path),
                "--skip-schema-validation",
            ],
            what="rendering without env",
            hint="",
        )
    assert 'peers entry "peer0" has no env' in caught.value.message


def test_fabric_3_release_is_used_for_bft_example() -> None:
    r = _render_one("bft.yaml", "ordererorg")
    assert 'image: "hyperledger/fabric-orderer:3.1.5"' in r.manifests


def test_chaincode_servers_render_only_with_an_image() -> None:
    assert "kind: Deployment" not in _render_one("two-orgs.yaml", "org1").manifests
    r = _render_one(
        "two-orgs.yaml",
        "org1",
        {
            "chaincodeServers": {
                "basic": {
                    "image": "registry.local/basic-ccaas:1.0",
                    "packageId": "basic_1.0:" + "ab" * 32,
                }
            }
        },
    )
    docs = _docs(r.manifests)
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    deployment = _by(docs, "Deployment")["cc-basic-mychannel"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.local/basic-ccaas:1.0"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["CHAINCODE_SERVER_ADDRESS"] == "0.0.0.0:9999"
    assert env["CHAINCODE_ID"] == "basic_1.0:" + "ab" * 32
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = _by(docs, "Service")["cc-basic-mychannel"]
    assert service["spec"]["ports"][0]["port"] == 9999
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels[namespaces.LABEL_COMPONENT] == namespaces.COMPONENT_CHAINCODE
    assert labels[namespaces.LABEL_CHAINCODE] == "cc-basic-mychannel"


def test_chaincode_server_without_package_id_is_refused() -> None:
    with pytest.raises(OperationError) as caught:
        _render_one(
            "two-orgs.yaml",
            "org1",
            {"chaincodeServers": {"basic": {"image": "registry.local/basic:1"}}},
        )
    assert "packageId is required" in caught.value.message


def test_service_monitor_is_opt_in() -> None:
    assert "ServiceMonitor" not in _render_one("minimal.yaml", "org1").manifests
    r = _render_one("minimal.yaml", "org1", {"serviceMonitor": {"enabled": True}})
    monitors = [d for d in _docs(r.manifests) if d["kind"] == "ServiceMonitor"]
    assert len(monitors) == 1
    assert monitors[0]["spec"]["endpoints"][0]["port"] == "operations"
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):  # a CRD: no built-in schema
        kubernetes_validate.validate(monitors[0], KUBE_VERSION, strict=True)


def test_wrong_namespace_is_refused_by_the_chart(tmp_path: Path) -> None:
    plan = _plan(ROOT / "examples" / "minimal.yaml")
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(chart_values.org_values(plan, plan.org("org1"))))
    with pytest.raises(OperationError) as caught:
        helm.template(release="org1", namespace="default", values_files=[values])
    assert "--namespace minimal-org1" in caught.value.message
    assert caught.value.hint


def test_schema_rejects_unknown_values() -> None:
    with pytest.raises(OperationError) as caught:
        _render_one("minimal.yaml", "org1", {"peer": {"replicas": 3}})
    assert "replicas" in caught.value.message


def test_schema_has_no_tools_image() -> None:
    """images.tools is gone (Fabric publishes no fabric-tools from 3.0): a values file that
    still sets it is refused instead of silently ignored."""
    with pytest.raises(OperationError) as caught:
        _render_one("minimal.yaml", "org1", {"images": {"tools": {"repository": "x/tools"}}})
    assert "tools" in caught.value.message


def test_helm_test_pods_follow_the_peer_image_settings() -> None:
    r = _render_one(
        "minimal.yaml",
        "org1",
        {"images": {"peer": {"repository": "mirror.local/fabric-peer", "pullPolicy": "Always"}}},
    )
    (pod,) = _docs(r.tests)
    container = pod["spec"]["containers"][0]
    assert container["image"] == "mirror.local/fabric-peer:2.5.16"
    assert container["imagePullPolicy"] == "Always"


def test_key_material_in_extra_values_is_refused() -> None:
    with pytest.raises(UsageError):
        _render_one(
            "minimal.yaml",
            "org1",
            {"peer": {"extraEnv": {"KEY": "-----BEGIN PRIVATE KEY-----\nx\n"}}},
        )


def test_notes_render(tmp_path: Path) -> None:
    """NOTES.txt (only rendered by install/upgrade) rendered through a copy of the chart where
    it is an ordinary template."""
    chart = tmp_path / "fabric"
    shutil.copytree(helm.CHART_DIR, chart)
    notes = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "NOTES.txt").unlink()
    body = "".join(f"  {line}\n" for line in notes.splitlines())
    (chart / "templates" / "zz-notes.yaml").write_text(f"notes: |\n{body}")
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(chart_values.org_values(plan, plan.org("org1"))))
    rendered = helm.run(
        [
            "template",
            "org1",
            str(chart),
            "-n",
            "supplychain-org1",
            "-f",
            str(values),
            "--show-only",
            "templates/zz-notes.yaml",
        ],
        what="rendering NOTES",
        hint="",
    )
    text = yaml.safe_load(rendered.split("\n", 2)[2])["notes"]
    assert "peer0.org1.example.com  ->  peer0.supplychain-org1.svc.cluster.local:7051" in text
    assert "helm test org1 -n supplychain-org1" in text


# --------------------------------------------------------------------------- pod scripts
# The shell snippets the chart runs inside Fabric images, run here with /bin/sh against inputs
# shaped like what the images hold (no Fabric image or binary exists on this machine).

# The vm section of the images' core.yaml (sampleconfig/core.yaml, Fabric 2.5 and 3.1): the
# socket is named in a comment above the setting. {i} is one indentation level.
CORE_YAML = """peer:
{i}id: jdoe
vm:
{i}# Endpoint of the vm management system, for example
{i}# unix:///var/run/docker.sock
{i}# http://localhost:2375
{i}endpoint: unix:///var/run/docker.sock{tail}
{i}docker:
{i}{i}attachStdout: false
"""


def _script(text: str, container: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in text, f"{old} not in the {container} script"
        text = text.replace(old, new)
    return text


def _core_config_script(out: Path) -> str:
    r = _render_one("minimal.yaml", "org1")
    sts = _by(_docs(r.manifests), "StatefulSet")["peer0"]
    init = sts["spec"]["template"]["spec"]["initContainers"][0]
    assert init["command"][:2] == ["/bin/sh", "-ec"]
    return _script(init["command"][2], "core-config", ("/etc/hyperledger/fabric-config", str(out)))


@pytest.mark.parametrize("indent", [4, 2], ids=["fabric-2.5-layout", "fabric-3.1-layout"])
def test_core_config_init_empties_vm_endpoint(indent: int, tmp_path: Path) -> None:
    image_cfg, out = tmp_path / "image", tmp_path / "out"
    image_cfg.mkdir()
    out.mkdir()
    (image_cfg / "core.yaml").write_text(CORE_YAML.format(i=" " * indent, tail=""))
    result = subprocess.run(
        ["/bin/sh", "-ec", _core_config_script(out)],
        env={"PATH": os.environ["PATH"], "FABRIC_CFG_PATH": str(image_cfg)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = (out / "core.yaml").read_text()
    assert yaml.safe_load(text)["vm"] == {"endpoint": "", "docker": {"attachStdout": False}}
    assert "# unix:///var/run/docker.sock" in text  # comments untouched


def test_core_config_init_fails_when_the_endpoint_stays(tmp_path: Path) -> None:
    image_cfg, out = tmp_path / "image", tmp_path / "out"
    image_cfg.mkdir()
    out.mkdir()
    (image_cfg / "core.yaml").write_text(CORE_YAML.format(i="  ", tail="  # unexpected"))
    result = subprocess.run(
        ["/bin/sh", "-ec", _core_config_script(out)],
        env={"PATH": os.environ["PATH"], "FABRIC_CFG_PATH": str(image_cfg)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "could not disable vm.endpoint" in result.stderr


FAKE_PEER = """#!/bin/sh
# `peer channel list`: header and names on stdout, log lines on stderr (as Fabric does).
echo "2026-01-01 00:00:00.000 UTC 0001 WARN [main] something to say" >&2
echo "Channels peers has joined: "
for c in $FAKE_CHANNELS; do echo "$c"; done
echo "2026-01-01 00:00:00.001 UTC 0002 WARN [main] more to say" >&2
"""


def _helm_test(tmp_path: Path, joined: str) -> subprocess.CompletedProcess[str]:
    r = _render_one("minimal.yaml", "org1")
    pod = _docs(r.tests)[0]
    container = pod["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["EXPECTED_CHANNELS"] == "mychannel"
    bin_dir, tmp = tmp_path / "bin", tmp_path / "tmp"
    bin_dir.mkdir()
    tmp.mkdir()
    (bin_dir / "peer").write_text(FAKE_PEER)
    (bin_dir / "peer").chmod(0o755)
    script = _script(container["command"][2], "helm test", ("/tmp/", f"{tmp}/"))
    return subprocess.run(
        [*container["command"][:2], script],
        env={**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_CHANNELS": joined},
        capture_output=True,
        text=True,
        check=False,
    )


def test_helm_test_reads_channel_names_from_stdout_only(tmp_path: Path) -> None:
    result = _helm_test(tmp_path, "mychannel")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: peer0.org1.example.com has joined exactly: mychannel" in result.stdout
    assert "WARN [main] more to say" in result.stderr  # Fabric's log is still shown


@pytest.mark.parametrize(
    ("joined", "error"),
    [
        ("", "has not joined: mychannel"),
        ("mychannel other", "has joined channels it should not: other"),
    ],
)
def test_helm_test_fails_on_missing_or_extra_channels(
    tmp_path: Path, joined: str, error: str
) -> None:
    result = _helm_test(tmp_path, joined)
    assert result.returncode != 0
    assert error in result.stderr
