"""The toolbox Secret, ConfigMap and Job of every example: strict schema validation (Kubernetes
1.34), key material only in the Secret, the Secret's items laying out the crypto tree that
configtx.yaml and the script expect, steps, digests, Job states. No cluster needed."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

import pki
import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.network import packaging
from baas.runtimes.kubernetes import bootstrap
from baas.runtimes.kubernetes import toolbox_layout as layout
from baas.runtimes.kubernetes.addresses import KubernetesAddresses
from baas.runtimes.kubernetes.namespaces import toolbox_namespace

ROOT = Path(__file__).resolve().parents[2]
KUBE = KubernetesAddresses()
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
KUBE_VERSION = "1.34.0"
PRIVATE_KEY = re.compile(r"PRIVATE KEY")
CERTIFICATE = re.compile(r"BEGIN CERTIFICATE")


@cache
def _plan(example: Path) -> planning.Plan:
    return planning.build(topology.load(example).network)


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """A generated PKI tree per example."""
    roots: dict[Path, Path] = {}
    for example in EXAMPLES:
        network = topology.load(example).network
        root = tmp_path_factory.mktemp(example.stem) / "crypto"
        pki.generate(root, planning.pki_org_specs(network), planning.pki_options(network))
        roots[example] = root
    return roots


def _inputs(
    example: Path, crypto: dict[Path, Path], options: bootstrap.BootstrapOptions | None = None
) -> bootstrap.BootstrapInputs:
    inputs = bootstrap.build_inputs(_plan(example), crypto[example], options)
    assert inputs is not None
    return inputs


def _decoded(secret: dict[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in secret["data"].items()}


def _tree(inputs: bootstrap.BootstrapInputs) -> dict[str, bytes]:
    """Path under CRYPTO_DIR → content, as the Job's volume items lay the Secret out."""
    data = _decoded(inputs.secret)
    volume = next(
        v for v in inputs.job["spec"]["template"]["spec"]["volumes"] if v["name"] == "crypto"
    )
    return {item["path"]: data[item["key"]] for item in volume["secret"]["items"]}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_objects_pass_strict_schema_validation(example: Path, crypto: dict[Path, Path]) -> None:
    inputs = _inputs(example, crypto)
    for obj in (inputs.secret, inputs.config_map, inputs.job):
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        assert obj["metadata"]["namespace"] == toolbox_namespace(_plan(example))
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == "fabric"
        assert obj["metadata"]["labels"]["app.kubernetes.io/component"] == "toolbox"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "baas"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_key_material_only_in_the_secret(example: Path, crypto: dict[Path, Path]) -> None:
    inputs = _inputs(example, crypto)
    texts = [json.dumps(inputs.config_map), json.dumps(inputs.job), repr(inputs)]
    for cm_key, b64 in inputs.config_map.get("binaryData", {}).items():
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(b64)), mode="r:gz") as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                assert handle is not None, cm_key
                raw = handle.read()
                texts.append(raw.decode(errors="replace"))
                if member.name == "code.tar.gz":
                    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as code:
                        for inner in code.getmembers():
                            f = code.extractfile(inner)
                            assert f is not None
                            texts.append(f.read().decode(errors="replace"))
    for text in texts:
        assert not PRIVATE_KEY.search(text)
        assert not CERTIFICATE.search(text)
    secret_text = b"".join(_decoded(inputs.secret).values())
    assert b"PRIVATE KEY" in secret_text  # the admins' keys are there, and only there
    assert not any(v in repr(inputs) for v in inputs.secret["data"].values())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_crypto_tree_matches_configtx_and_script(example: Path, crypto: dict[Path, Path]) -> None:
    plan = _plan(example)
    inputs = _inputs(example, crypto)
    tree = _tree(inputs)
    configtx_doc = yaml.safe_load(inputs.config_map["data"]["configtx.yaml"])
    prefix = f"{layout.CRYPTO_DIR}/"
    referenced: set[str] = set()
    for org in configtx_doc["Organizations"]:
        referenced.add(org["MSPDir"])
    for profile in configtx_doc["Profiles"].values():
        orderer = profile["Orderer"]
        for consenter in orderer.get("EtcdRaft", {}).get("Consenters", []):
            referenced |= {consenter["ClientTLSCert"], consenter["ServerTLSCert"]}
        for consenter in orderer.get("ConsenterMapping", []):
            referenced |= {
                consenter["Identity"],
                consenter["ClientTLSCert"],
                consenter["ServerTLSCert"],
            }
    for path in referenced:
        assert path.startswith(prefix)
        relative = path.removeprefix(prefix)
        assert relative in tree or any(p.startswith(relative + "/") for p in tree), path
    for org in plan.orgs:
        msp = {p.removeprefix(f"{org.name}/msp/") for p in tree if p.startswith(f"{org.name}/msp/")}
        assert "config.yaml" in msp
        assert any(p.startswith("cacerts/") for p in msp)
        assert any(p.startswith("tlscacerts/") for p in msp)
        assert not any(p.startswith("keystore/") for p in msp)
        # config.yaml names the CA file that is really there
        config = yaml.safe_load(tree[f"{org.name}/msp/config.yaml"])
        ca_file = config["NodeOUs"]["ClientOUIdentifier"]["Certificate"]
        assert ca_file in msp
        admin = {
            p.removeprefix(f"{org.name}/admin/") for p in tree if p.startswith(f"{org.name}/admin/")
        }
        assert {
            "msp/signcerts/cert.pem",
            "msp/keystore/priv_sk",
            "msp/config.yaml",
            "tls/client.crt",
            "tls/client.key",
            "tls/ca.crt",
        } <= admin
        admin_config = yaml.safe_load(tree[f"{org.name}/admin/msp/config.yaml"])
        assert f"msp/{admin_config['NodeOUs']['AdminOUIdentifier']['Certificate']}" in admin
        assert PRIVATE_KEY.search(tree[f"{org.name}/admin/tls/client.key"].decode())
        for node in org.orderers:
            assert f"{org.name}/orderers/{node.name}/tls/server.crt" in tree
            assert f"{org.name}/orderers/{node.name}/msp/signcerts/cert.pem" in tree
        # nothing of the nodes' own keys
    bundles = {
        b.name: b
        for spec in planning.pki_org_specs_from_plan(plan)
        for b in pki.load_bundles(crypto[example], spec)
    }
    node_keys = {b.tls_key.reveal() for b in bundles.values() if b.role in ("peer", "orderer")}
    node_keys |= {b.sign_key.reveal() for b in bundles.values() if b.role in ("peer", "orderer")}
    assert not node_keys & set(tree.values())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_job_is_restricted_and_inspectable(example: Path, crypto: dict[Path, Path]) -> None:
    plan = _plan(example)
    inputs = _inputs(example, crypto)
    job = inputs.job
    assert job["metadata"]["name"] == f"bootstrap-{inputs.digest[:10]}"
    assert job["metadata"]["annotations"][bootstrap.DIGEST_ANNOTATION] == inputs.digest
    spec = job["spec"]
    assert "ttlSecondsAfterFinished" not in spec
    assert spec["backoffLimit"] == 6
    pod = spec["template"]["spec"]
    assert spec["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "toolbox"
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["image"] == f"hyperledger/fabric-tools:{plan.fabric_release}"
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True
    assert container["command"] == ["bash", f"{layout.INPUT_DIR}/bootstrap.sh"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert set(volumes) == {"crypto", "inputs", "work"}
    assert volumes["crypto"]["secret"]["secretName"] == bootstrap.SECRET_NAME
    assert volumes["inputs"]["configMap"]["name"] == bootstrap.CONFIG_MAP_NAME
    keys = set(inputs.secret["data"])
    assert {i["key"] for i in volumes["crypto"]["secret"]["items"]} == keys


def test_registry_prefix_and_new_digest(crypto: dict[Path, Path]) -> None:
    example = ROOT / "examples" / "two-orgs.yaml"
    plain = _inputs(example, crypto)
    again = _inputs(example, crypto)
    assert (plain.digest, plain.job) == (again.digest, again.job)
    mirrored = _inputs(
        example, crypto, bootstrap.BootstrapOptions(image_registry="registry.local:5000/")
    )
    image = mirrored.job["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.local:5000/hyperledger/fabric-tools:2.5.16"
    assert mirrored.digest != plain.digest and mirrored.job_name != plain.job_name
    assert mirrored.config_map == plain.config_map


def test_config_map_contents(crypto: dict[Path, Path]) -> None:
    example = ROOT / "examples" / "two-orgs.yaml"
    plan = _plan(example)
    cm = _inputs(example, crypto).config_map
    assert set(cm["data"]) == {"bootstrap.sh", "configtx.yaml", "steps.tsv"}
    assert cm["data"]["bootstrap.sh"] == bootstrap.script_text()
    packages = {p.file_name: p for p in packaging.plan_packages(plan, addresses=KUBE)}
    assert set(cm["binaryData"]) == set(packages)
    for name, b64 in cm["binaryData"].items():
        assert base64.b64decode(b64) == packages[name].data


def test_steps_of_two_orgs() -> None:
    plan = _plan(ROOT / "examples" / "two-orgs.yaml")
    packages = packaging.plan_packages(plan, addresses=KUBE)
    steps = bootstrap.bootstrap_steps(plan, packages, addresses=KUBE)
    ops = [s[0] for s in steps]
    assert ops == ["block"] + ["osn-join"] * 3 + ["peer-join"] * 4 + ["install"] * 4 + [
        "approve"
    ] * 2 + ["commit"]
    block = steps[0]
    assert block[:3] == ("block", "mychannel", "mychannel")
    assert block[3:7] == (
        "ordererorg",
        "OrdererMSP",
        "orderer0.supplychain-ordererorg.svc.cluster.local:7053",
        "orderer0.supplychain-ordererorg.svc.cluster.local:7050",
    )
    ids = {p.org: p.package_id for p in packages}
    approvals = [s for s in steps if s[0] == "approve"]
    assert [(s[6], s[-1]) for s in approvals] == [("org1", ids["org1"]), ("org2", ids["org2"])]
    assert approvals[0][1:6] == (  # no sequence: the script derives it from the channel
        "mychannel",
        "basic",
        "1.0",
        "AND('Org1MSP.peer','Org2MSP.peer')",
        "no",
    )
    commit = steps[-1]
    assert commit[-4:] == (
        "org1",
        "peer0.supplychain-org1.svc.cluster.local:7051",
        "org2",
        "peer0.supplychain-org2.svc.cluster.local:7051",
    )
    tsv = bootstrap.steps_tsv(steps)
    assert tsv.endswith("\n") and len(tsv.splitlines()) == len(steps)
    assert [tuple(line.split("\t")) for line in tsv.splitlines()] == steps


def _with_chaincode(plan: planning.Plan, **changes: Any) -> planning.Plan:
    return dataclasses.replace(
        plan, chaincodes=(dataclasses.replace(plan.chaincodes[0], **changes),)
    )


def test_default_endorsement_and_init_required() -> None:
    plan = _with_chaincode(_plan(ROOT / "examples" / "bft.yaml"), init_required=True)
    steps = bootstrap.bootstrap_steps(
        plan, packaging.plan_packages(plan, addresses=KUBE), addresses=KUBE
    )
    approve = next(s for s in steps if s[0] == "approve")
    assert approve[4:6] == ("-", "yes")  # channel default policy, init
    assert [s[0] for s in steps][-2:] == ["commit", "init"]
    commit, init = steps[-2:]
    assert init[:4] == ("init", "mychannel", "basic", '{"Args":[]}')
    assert init[4:] == commit[6:]  # same submitter, orderer and endorsing peers as the commit
    peers = init[9:]
    assert peers == (
        "org1",
        "peer0.bftnet-org1.svc.cluster.local:7051",
        "org2",
        "peer0.bftnet-org2.svc.cluster.local:7051",
    )


def test_init_function_and_no_init_without_init_required() -> None:
    plan = _plan(ROOT / "examples" / "bft.yaml")
    named = _with_chaincode(plan, init_required=True, init_function="InitLedger")
    init = bootstrap.bootstrap_steps(
        named, packaging.plan_packages(named, addresses=KUBE), addresses=KUBE
    )[-1]
    assert init[3] == '{"function":"InitLedger","Args":[]}'
    assert json.loads(init[3]) == {"function": "InitLedger", "Args": []}
    ignored = _with_chaincode(plan, init_function="InitLedger")  # initRequired false
    steps = bootstrap.bootstrap_steps(
        ignored, packaging.plan_packages(ignored, addresses=KUBE), addresses=KUBE
    )
    assert "init" not in [s[0] for s in steps]


@pytest.mark.parametrize(
    "changes",
    [{"version": "1.1"}, {"init_required": True}, {"endorsement": "OR('Org1MSP.peer')"}],
    ids=["version", "init", "policy"],
)
def test_a_changed_definition_gives_a_new_job(
    crypto: dict[Path, Path], changes: dict[str, Any]
) -> None:
    """Jobs are immutable: a new definition must change the inputs digest, so that a new Job
    runs the script, which upgrades the chaincode."""
    example = ROOT / "examples" / "two-orgs.yaml"
    before = _inputs(example, crypto)
    after = bootstrap.build_inputs(_with_chaincode(_plan(example), **changes), crypto[example])
    assert after is not None
    assert after.digest != before.digest and after.job_name != before.job_name


def test_the_scripts_default_policy_is_fabrics() -> None:
    """bootstrap.sh compares the committed validation parameter with the bytes Fabric stores
    for the channel's default policy: ApplicationPolicy{channel_config_policy_reference}."""
    reference = planning.DEFAULT_ENDORSEMENT.encode()
    encoded = b"\x12" + bytes([len(reference)]) + reference  # field 2, wire type 2, short
    line = f"DEFAULT_POLICY_B64={base64.b64encode(encoded).decode()}\n"
    assert line in bootstrap.script_text()


def test_minimal_has_no_chaincode_steps_and_no_packages() -> None:
    plan = _plan(ROOT / "examples" / "minimal.yaml")
    steps = bootstrap.bootstrap_steps(
        plan, packaging.plan_packages(plan, addresses=KUBE), addresses=KUBE
    )
    assert [s[0] for s in steps] == ["block", "osn-join", "peer-join"]


def test_steps_refuse_tabs_and_line_breaks() -> None:
    with pytest.raises(UsageError, match="bootstrap script"):
        bootstrap.steps_tsv([("approve", "OR('A.peer',\n'B.peer')")])
    with pytest.raises(UsageError):
        bootstrap.steps_tsv([("approve", "")])


def test_no_channel_means_nothing_to_bootstrap(tmp_path: Path) -> None:
    plan = dataclasses.replace(_plan(ROOT / "examples" / "minimal.yaml"), channels=())
    assert bootstrap.build_inputs(plan, tmp_path) is None


def test_missing_crypto_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pki generate"):
        bootstrap.build_inputs(_plan(ROOT / "examples" / "minimal.yaml"), tmp_path / "nothing")


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ({}, "pending"),
        ({"active": 1, "ready": 0}, "pending"),
        ({"active": 1, "ready": 1}, "running"),
        ({"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}, "succeeded"),
        ({"conditions": [{"type": "Failed", "status": "True"}], "failed": 7}, "failed"),
        ({"conditions": [{"type": "Failed", "status": "False"}], "active": 1}, "pending"),
    ],
)
def test_job_state(status: dict[str, Any], state: str) -> None:
    assert bootstrap.job_state({"metadata": {"name": "x"}, "status": status}) == state
