"""Identity digests (no cluster): the SHA-256 of each node's certificates, read from a real PKI
tree, which ``up``, ``plan`` and ``render`` put on the node's pod template so that a renewed
certificate restarts exactly that node. Keys are never read; the chart is rendered by the real
helm binary."""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import pki
import topology
from baas import plan as planning
from baas.errors import OperationError, UsageError
from baas.runtimes.kubernetes import rendering
from baas.runtimes.kubernetes import values as chart_values
from baas.runtimes.kubernetes.planning import PENDING_DIGEST, planned_digests
from baas.runtimes.kubernetes.runtime import KubeOptions, release_values
from baas.runtimes.kubernetes.values import IDENTITY_DIGEST_ANNOTATION as ANNOTATION
from pki import digests as node_digests
from pki.identities import identities_of
from pki.layout import OrgPaths

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"
PEER0 = "peer0.org1.example.com"
KUBE_VERSION = "1.34.0"


@cache
def _network() -> Any:
    return topology.load(TWO_ORGS).network


def _plan() -> planning.Plan:
    return planning.build(_network())


def _digests(plan: planning.Plan, root: Path) -> dict[str, str]:
    return pki.identity_digests(root, planning.pki_org_specs_from_plan(plan))


def _nodes(plan: planning.Plan) -> set[str]:
    return {n.fqdn for o in plan.orgs for n in (*o.peers, *o.orderers)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two-orgs PKI tree, generated once for the module."""
    root = tmp_path_factory.mktemp("digests-source") / "crypto"
    pki.generate(root, planning.pki_org_specs(_network()), planning.pki_options(_network()))
    return root


@pytest.fixture
def tree(generated: Path, tmp_path: Path) -> Path:
    """A fresh copy of the generated tree, for one test to change."""
    copy = tmp_path / "crypto"
    shutil.copytree(generated, copy)
    return copy


def _spec(org: str) -> pki.OrgSpec:
    return next(s for s in planning.pki_org_specs(_network()) if s.name == org)


def _paths(root: Path, org: str, name: str) -> Any:
    spec = _spec(org)
    ident = next(i for i in identities_of(spec) if i.name == name)
    return OrgPaths.of(root, spec).identity(ident)


# --------------------------------------------------------------------------- digests


def test_every_node_has_a_digest_and_no_tree_gives_none(tree: Path, tmp_path: Path) -> None:
    plan = _plan()
    digests = _digests(plan, tree)
    assert set(digests) == _nodes(plan)  # nodes only: no admin, no user
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in digests.values())
    assert len(set(digests.values())) == len(digests)
    assert _digests(plan, tree) == digests  # deterministic
    assert _digests(plan, tmp_path / "absent") == {}


def test_renewal_changes_only_the_renewed_nodes_digest(tree: Path) -> None:
    plan = _plan()
    before = _digests(plan, tree)
    pki.renew(tree, planning.pki_org_specs(_network()), identity=PEER0)
    after = _digests(plan, tree)
    assert {n for n in before if before[n] != after[n]} == {PEER0}
    pki.renew(tree, planning.pki_org_specs(_network()), identity=PEER0, new_key=True)
    again = _digests(plan, tree)
    assert {n for n in after if after[n] != again[n]} == {PEER0}


def test_keys_are_never_read(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only certificate files are opened; a key file's bytes do not enter the digest."""
    from pki import files

    plan = _plan()
    read: list[Path] = []
    real_read = files.read

    def recording(path: Path) -> bytes | None:
        read.append(path)
        return real_read(path)

    monkeypatch.setattr(files, "read", recording)
    before = _digests(plan, tree)
    assert read and all(p.name != "priv_sk" and not p.name.endswith(".key") for p in read)
    assert all(b"PRIVATE KEY" not in p.read_bytes() for p in read)
    peer0 = _paths(tree, "org1", PEER0)
    peer0.sign_key.write_bytes(b"not the key")
    peer0.tls_key.write_bytes(b"not the key either")
    assert _digests(plan, tree) == before


def test_a_key_change_without_a_new_certificate_cannot_reach_the_cluster(tree: Path) -> None:
    """A certificate binds its public key: a key swapped under an unchanged certificate is
    refused by load_bundles (up stops before storing anything), so hashing certificates only
    misses no change a pod could see."""
    other = _paths(tree, "org1", "peer1.org1.example.com")
    peer0 = _paths(tree, "org1", PEER0)
    shutil.copyfile(other.sign_key, peer0.sign_key)
    with pytest.raises(UsageError) as caught:
        pki.load_bundles(tree, _spec("org1"))
    assert "does not belong to" in caught.value.message


def test_a_node_with_a_missing_certificate_gets_no_digest(tree: Path) -> None:
    plan = _plan()
    _paths(tree, "org1", PEER0).tls_cert.unlink()
    digests = _digests(plan, tree)
    assert set(digests) == _nodes(plan) - {PEER0}


def test_digest_labels_its_parts() -> None:
    digest = node_digests.certificate_digest
    assert digest([("a", b"xy"), ("b", b"z")]) != digest([("a", b"x"), ("b", b"yz")])
    assert digest([("a", b"x")]) != digest([("b", b"x")])


# --------------------------------------------------------------------------- values, plan


def test_values_carry_the_digest_only_when_given(tree: Path) -> None:
    plan = _plan()
    org1 = plan.org("org1")
    digests = _digests(plan, tree)
    plain = chart_values.org_values(plan, org1)
    assert all("identityDigest" not in p for p in plain["peers"])
    for mode in chart_values.SECRETS_MODES:
        options = chart_values.ValuesOptions(secrets_mode=mode)
        values = chart_values.org_values(plan, org1, options, identity_digests=digests)
        assert [p["identityDigest"] for p in values["peers"]] == [
            digests[p.fqdn] for p in org1.peers
        ]
    orderers = chart_values.org_values(plan, plan.org("ordererorg"), identity_digests=digests)
    assert {o["fqdn"]: o["identityDigest"] for o in orderers["orderers"]} == {
        n.fqdn: digests[n.fqdn] for n in plan.org("ordererorg").orderers
    }
    assert chart_values.key_material_paths(values) == []


def test_up_and_plan_build_the_same_values(tree: Path) -> None:
    """plan compares what up installs: with nothing to issue, the same digests and values."""
    plan = _plan()
    options = KubeOptions()
    planned = planned_digests(plan, tree, set())
    assert planned == _digests(plan, tree)
    assert release_values(plan, options, identity_digests=planned) == release_values(
        plan, options, identity_digests=_digests(plan, tree)
    )


def test_plan_marks_nodes_still_to_be_issued(tree: Path, tmp_path: Path) -> None:
    plan = _plan()
    digests = planned_digests(plan, tree, {("org1", PEER0), ("org1", "Admin@org1.example.com")})
    assert digests[PEER0] == PENDING_DIGEST
    assert sum(d == PENDING_DIGEST for d in digests.values()) == 1
    issued = {(o.name, n.fqdn) for o in plan.orgs for n in (*o.peers, *o.orderers)}
    assert set(planned_digests(plan, tmp_path / "absent", issued).values()) == {PENDING_DIGEST}


# --------------------------------------------------------------------------- chart


def _statefulsets(render: rendering.OrgRender) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(render.manifests) if d]
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "StatefulSet"}


def _template_annotations(sts: dict[str, Any]) -> dict[str, str]:
    annotations: dict[str, str] = sts["spec"]["template"]["metadata"]["annotations"]
    return annotations


@pytest.mark.usefixtures("helm_binary")
@pytest.mark.parametrize("mode", chart_values.SECRETS_MODES)
def test_chart_puts_the_digest_on_each_node_pod_template(tree: Path, mode: str) -> None:
    import kubernetes_validate

    plan = _plan()
    options = chart_values.ValuesOptions(secrets_mode="vault" if mode == "vault" else "kubernetes")
    digests = _digests(plan, tree)
    renders = rendering.render_orgs(
        plan, options=options, identity_digests=digests, kube_version=KUBE_VERSION
    )
    plain = rendering.render_orgs(plan, options=options, kube_version=KUBE_VERSION)
    for with_digest, without in zip(renders, plain, strict=True):
        org = plan.org(with_digest.org)
        nodes = {n.name: n.fqdn for n in (*org.peers, *org.orderers)}
        sets = _statefulsets(with_digest)
        assert set(sets) == set(nodes)
        for name, sts in sets.items():
            kubernetes_validate.validate(sts, KUBE_VERSION, strict=True)
            annotations = _template_annotations(sts)
            assert annotations[ANNOTATION] == digests[nodes[name]]
            assert ANNOTATION not in sts["metadata"].get("annotations", {})
            bare = _template_annotations(_statefulsets(without)[name])
            assert ANNOTATION not in bare
            assert {k: v for k, v in annotations.items() if k != ANNOTATION} == bare
        assert ANNOTATION not in with_digest.tests


@pytest.mark.usefixtures("helm_binary")
def test_schema_refuses_a_digest_that_is_not_sha256() -> None:
    plan = _plan()
    with pytest.raises(OperationError) as caught:
        rendering.render_org(
            plan,
            plan.org("org1"),
            options=chart_values.ValuesOptions(),
            identity_digests={PEER0: PENDING_DIGEST},
            kube_version=KUBE_VERSION,
        )
    assert "identityDigest" in caught.value.message


@pytest.mark.usefixtures("helm_binary")
def test_render_uses_the_crypto_tree_when_it_exists(tree: Path, tmp_path: Path) -> None:
    plan = _plan()
    out = tmp_path / "out"
    rendering.render(plan, out, crypto_root=tmp_path / "absent", kube_version=KUBE_VERSION)
    manifests = (out / "orgs" / "org1" / "manifests.yaml").read_text()
    assert ANNOTATION not in manifests
    result = rendering.render(plan, out, crypto_root=tree, kube_version=KUBE_VERSION)
    changed = {c.path for c in result.changed}
    files = ("values.yaml", "manifests.yaml")
    assert changed == {f"orgs/{o.name}/{f}" for o in plan.orgs for f in files}
    digest = _digests(plan, tree)[PEER0]
    assert digest in (out / "orgs" / "org1" / "manifests.yaml").read_text()
