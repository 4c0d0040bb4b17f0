"""ensure_bootstrap / bootstrap_status / delete_bootstrap against a real kube-apiserver.

The test server has no controllers and no kubelet: the Job is admitted and stored but never
runs, so its state stays ``pending`` — "objects applied" is checked here, "work done" in
tests/kube/test_k3s.py. Each test uses a fresh network name (deleted namespaces stay
Terminating forever without a namespace controller).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

import pki
import topology
from baas import plan as planning
from baas.errors import OperationError
from baas.runtimes.kubernetes import bootstrap
from baas.runtimes.kubernetes.applying import ObjectChange, ensure_objects
from baas.runtimes.kubernetes.namespaces import namespace_manifests, toolbox_namespace

pytestmark = pytest.mark.kube

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def network(tmp_path: Path, api: client.ApiClient) -> tuple[planning.Plan, Path]:
    """examples/two-orgs.yaml under a fresh name, its PKI, and its namespaces applied."""
    doc: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "two-orgs.yaml").read_text())
    doc["metadata"]["name"] = f"bt{uuid.uuid4().hex[:8]}"
    (tmp_path / "chaincode" / "asset-transfer").mkdir(parents=True)
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    net = topology.load(path).network
    root = tmp_path / "crypto"
    pki.generate(root, planning.pki_org_specs(net), planning.pki_options(net))
    plan = planning.build(net)
    ensure_objects(api, namespace_manifests(plan))
    return plan, root


def _versions(api: client.ApiClient, plan: planning.Plan, job: str) -> dict[str, str]:
    ns = toolbox_namespace(plan)
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    return {
        "secret": core.read_namespaced_secret(bootstrap.SECRET_NAME, ns).metadata.resource_version,
        "configmap": core.read_namespaced_config_map(
            bootstrap.CONFIG_MAP_NAME, ns
        ).metadata.resource_version,
        "job": batch.read_namespaced_job(job, ns).metadata.resource_version,
    }


def _jobs(api: client.ApiClient, plan: planning.Plan) -> list[str]:
    listed = client.BatchV1Api(api).list_namespaced_job(
        toolbox_namespace(plan), label_selector=bootstrap.job_selector(plan)
    )
    return sorted(j.metadata.name for j in listed.items)


def _actions(changes: list[ObjectChange]) -> list[tuple[str, str, str]]:
    return [(c.kind, c.name, c.action) for c in changes]


def test_apply_then_nothing_changes(
    api: client.ApiClient, network: tuple[planning.Plan, Path]
) -> None:
    plan, root = network
    assert bootstrap.bootstrap_status(api, plan).state == "absent"
    seen: list[ObjectChange] = []
    first = bootstrap.ensure_bootstrap(api, plan, root, on_change=seen.append)
    assert first.job is not None and first.job.startswith("bootstrap-")
    assert _actions(first.objects) == [
        ("Secret", bootstrap.SECRET_NAME, "created"),
        ("ConfigMap", bootstrap.CONFIG_MAP_NAME, "created"),
        ("Job", first.job, "created"),
    ]
    assert seen == first.objects and first.changed
    versions = _versions(api, plan, first.job)

    second = bootstrap.ensure_bootstrap(api, plan, root)
    assert second.job == first.job and second.digest == first.digest
    assert {c.action for c in second.objects} == {"unchanged"} and not second.changed
    assert _versions(api, plan, first.job) == versions

    status = bootstrap.bootstrap_status(api, plan)
    assert (status.job, status.state, status.done) == (first.job, "pending", False)
    stored = client.BatchV1Api(api).read_namespaced_job(first.job, toolbox_namespace(plan))
    assert stored.metadata.annotations[bootstrap.DIGEST_ANNOTATION] == first.digest
    assert stored.spec.ttl_seconds_after_finished is None


def test_new_inputs_replace_the_job(
    api: client.ApiClient, network: tuple[planning.Plan, Path]
) -> None:
    plan, root = network
    first = bootstrap.ensure_bootstrap(api, plan, root)
    mirrored = bootstrap.BootstrapOptions(image_registry="registry.local:5000")
    second = bootstrap.ensure_bootstrap(api, plan, root, mirrored)
    assert second.job != first.job
    assert _actions(second.objects) == [
        ("Job", str(first.job), "deleted"),
        ("Secret", bootstrap.SECRET_NAME, "unchanged"),
        ("ConfigMap", bootstrap.CONFIG_MAP_NAME, "unchanged"),
        ("Job", str(second.job), "created"),
    ]
    assert _jobs(api, plan) == [second.job]
    assert bootstrap.bootstrap_status(api, plan).job == second.job


def test_a_failed_job_is_created_again(
    api: client.ApiClient, network: tuple[planning.Plan, Path]
) -> None:
    plan, root = network
    first = bootstrap.ensure_bootstrap(api, plan, root)
    assert first.job is not None
    ns = toolbox_namespace(plan)
    now = "2030-01-01T00:00:00Z"
    failed = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
    target = {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded"}
    client.BatchV1Api(api).patch_namespaced_job_status(
        first.job,
        ns,
        {
            "status": {
                "startTime": now,
                "failed": 7,
                "conditions": [
                    {**c, "message": "x", "lastProbeTime": now, "lastTransitionTime": now}
                    for c in (target, failed)
                ],
            }
        },
    )
    status = bootstrap.bootstrap_status(api, plan)
    assert (status.state, status.failed) == ("failed", 7)
    assert "BackoffLimitExceeded" in status.message
    with pytest.raises(OperationError, match="failed") as caught:
        bootstrap.wait_bootstrap(api, plan, timeout=0)
    assert f"logs job/{first.job}" in (caught.value.hint or "")

    again = bootstrap.ensure_bootstrap(api, plan, root)
    assert again.job == first.job
    assert _actions(again.objects) == [
        ("Job", first.job, "deleted"),
        ("Secret", bootstrap.SECRET_NAME, "unchanged"),
        ("ConfigMap", bootstrap.CONFIG_MAP_NAME, "unchanged"),
        ("Job", first.job, "created"),
    ]
    assert bootstrap.bootstrap_status(api, plan).state == "pending"


def test_wait_reports_a_job_that_cannot_run(
    api: client.ApiClient, network: tuple[planning.Plan, Path]
) -> None:
    plan, root = network
    with pytest.raises(OperationError, match="no bootstrap Job"):
        bootstrap.wait_bootstrap(api, plan, timeout=0)
    result = bootstrap.ensure_bootstrap(api, plan, root)
    with pytest.raises(OperationError, match="still pending") as caught:
        bootstrap.wait_bootstrap(api, plan, timeout=0)
    assert f"describe job {result.job}" in (caught.value.hint or "")


def test_delete_bootstrap(api: client.ApiClient, network: tuple[planning.Plan, Path]) -> None:
    plan, root = network
    result = bootstrap.ensure_bootstrap(api, plan, root)
    deleted = bootstrap.delete_bootstrap(api, plan)
    assert sorted(_actions(deleted)) == sorted(
        [
            ("Job", str(result.job), "deleted"),
            ("Secret", bootstrap.SECRET_NAME, "deleted"),
            ("ConfigMap", bootstrap.CONFIG_MAP_NAME, "deleted"),
        ]
    )
    assert _jobs(api, plan) == []
    assert bootstrap.bootstrap_status(api, plan).state == "absent"
    again = bootstrap.delete_bootstrap(api, plan)
    assert {c.action for c in again} == {"absent"}


def test_missing_toolbox_namespace_is_an_operation_error(
    api: client.ApiClient, tmp_path: Path
) -> None:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "minimal.yaml").read_text())
    doc["metadata"]["name"] = f"bt{uuid.uuid4().hex[:8]}"
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    net = topology.load(path).network
    root = tmp_path / "crypto"
    pki.generate(root, planning.pki_org_specs(net), planning.pki_options(net))
    with pytest.raises(OperationError, match="Kubernetes refused"):
        bootstrap.ensure_bootstrap(api, planning.build(net), root)
