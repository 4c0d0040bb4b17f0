"""`baas pki renew` then `baas up` against a REAL etcd + kube-apiserver and helm: exactly the
renewed node rolls.

On networks of their own (``renewnet`` with Kubernetes Secrets, ``renewvault`` with a real
OpenBao): after ``up``, renewing peer0.org1's certificates makes ``plan`` name that identity's
two Secrets (or its Vault record) and org1's release upgrade (values ``peers``) and nothing
else (besides the channels, still to create: no pod ever runs here); ``up`` then changes the
pod template (annotation ``baas.io/identity-digest``) and so the generation of peer0's
StatefulSet only — every other StatefulSet keeps its generation and pod template annotations
— and a second ``up`` changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from baas.cli.app import main
from baas.home import crypto_dir
from baas.plan import pki_org_specs_from_plan
from baas.runtimes.kubernetes.values import IDENTITY_DIGEST_ANNOTATION as ANNOTATION
from pki import identity_digests
from tests.support.kubeapi import KubeCluster
from tests.support.networks import (
    channel_lines,
    kube_args,
    pending_changes,
    two_orgs_copy,
    vault_env,
)

pytestmark = pytest.mark.kube

NETWORKS = {"kubernetes": "renewnet", "vault": "renewvault"}
RENEWED = "peer0.org1.example.com"


@contextlib.contextmanager
def _store(request: pytest.FixtureRequest, mode: str) -> Iterator[None]:
    """The secrets store's environment: nothing for Kubernetes, a real OpenBao for Vault."""
    if mode == "kubernetes":
        yield
        return
    with vault_env(request.getfixturevalue("bao")):
        yield


def _baas(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _statefulsets(cluster: KubeCluster, plan: planning.Plan) -> dict[str, dict[str, Any]]:
    """namespace/name -> generation and pod template annotations of every StatefulSet."""
    from kubernetes import client

    apps = client.AppsV1Api(cluster.api_client())
    found: dict[str, dict[str, Any]] = {}
    for org in plan.orgs:
        for sts in apps.list_namespaced_stateful_set(org.namespace).items:
            found[f"{org.namespace}/{sts.metadata.name}"] = {
                "generation": sts.metadata.generation,
                "annotations": dict(sts.spec.template.metadata.annotations or {}),
            }
    return found


def _changes(
    capsys: pytest.CaptureFixture[str], cluster: KubeCluster, file: Path, *args: str
) -> set[Any]:
    """(kind, namespace/name, action, fields or reasons...) of everything plan would change."""
    code, out, err = _baas(capsys, "plan", str(file), *kube_args(cluster), *args, "-o", "json")
    assert code == 0, out + err
    changes: dict[str, Any] = json.loads(out)["changes"]
    assert changes["pki"] == []
    return pending_changes(changes)


@pytest.mark.parametrize("mode", list(NETWORKS))
def test_renewal_rolls_exactly_the_renewed_node(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    mode: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    network = NETWORKS[mode]
    file = two_orgs_copy(tmp_path, network)
    target = (*kube_args(kube_cluster), "--secrets", mode)
    plan = planning.build(topology.load(file).network)
    channels = channel_lines(plan)  # no pod runs here, so no channel is ever created
    with _store(request, mode):
        code, out, err = _baas(capsys, "up", str(file), *target, "--no-wait")
        assert code == 0, out + err
        root = crypto_dir(network)
        before = _statefulsets(kube_cluster, plan)
        digests = identity_digests(root, pki_org_specs_from_plan(plan))
        nodes = {
            f"{n.namespace}/{n.name}": n.fqdn for o in plan.orgs for n in (*o.peers, *o.orderers)
        }
        assert set(before) == set(nodes)
        for where, sts in before.items():  # every node carries its certificates' digest
            assert sts["annotations"][ANNOTATION] == digests[nodes[where]]
        assert _changes(capsys, kube_cluster, file, "--secrets", mode) == channels

        code, out, err = _baas(capsys, "pki", "renew", str(file), "--identity", RENEWED)
        assert code == 0, out + err
        renewed = identity_digests(root, pki_org_specs_from_plan(plan))
        assert {n for n in digests if digests[n] != renewed[n]} == {RENEWED}
        stored: set[Any] = {
            ("Secret", f"{network}-org1/peer0-msp", "update", "data"),
            ("Secret", f"{network}-org1/peer0-tls", "update", "data"),
        }
        if mode == "vault":
            stored = {("vault", f"org1/{RENEWED}", "update")}
        assert _changes(capsys, kube_cluster, file, "--secrets", mode) == stored | channels | {
            ("release", f"{network}-org1/org1", "upgrade", "values peers"),
        }

        code, out, err = _baas(capsys, "up", str(file), *target, "--no-wait")
        assert code == 0, out + err
        assert f"release {network}-org1/org1: upgraded" in out + err
        after = _statefulsets(kube_cluster, plan)
        rolled = f"{network}-org1/peer0"
        assert {w for w in before if after[w] != before[w]} == {rolled}
        assert after[rolled]["generation"] > before[rolled]["generation"]
        assert after[rolled]["annotations"] == {
            **before[rolled]["annotations"],
            ANNOTATION: renewed[RENEWED],
        }

        code, out, err = _baas(capsys, "up", str(file), *target, "--no-wait")
        assert code == 0, out + err
        assert "already up to date" in out + err
        assert _statefulsets(kube_cluster, plan) == after
        assert _changes(capsys, kube_cluster, file, "--secrets", mode) == channels
        assert "PRIVATE KEY" not in out + err
        if mode == "kubernetes":
            # a new orderer TLS key would leave the consenter sets behind: refused before
            # anything is written, naming the orderer and the way out
            orderer = "orderer0.ordererorg.example.com"
            code, out, err = _baas(
                capsys, "pki", "renew", str(file), "--identity", orderer, "--new-key"
            )
            assert code == 0, out + err
            code, out, err = _baas(capsys, "up", str(file), *target, "--no-wait")
            assert code == 2, out + err
            assert orderer in out + err and "--new-key" in out + err
            assert _statefulsets(kube_cluster, plan) == after
        code, out, err = _baas(capsys, "down", str(file), *target, "--purge")  # tidy the cluster
        assert code == 0, out + err
