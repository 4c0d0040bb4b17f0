"""End to end on a real cluster with kubelets: k3s in Docker (testcontainers).

``baas up --target kubernetes --wait`` on examples/two-orgs.yaml, then the bootstrap Job must
succeed — the real ``hyperledger/fabric-tools`` image runs bootstrap.sh against real peers and
orderers (channel genesis, osnadmin joins, peer joins, chaincode install/approve/commit) —
``baas smoke`` must pass every check (workloads ready, bootstrap Job succeeded, ``helm test`` for
every organisation with peers: each peer lists its channel), a second ``up`` must leave the Job
alone, and ``baas down --purge`` must succeed.

This is the only place the bootstrap script meets real Fabric binaries; it needs a Docker engine
(privileged containers) and registry access for the k3s and Fabric images. Everywhere else —
including machines without Docker, like the development machines of this project — every test
here SKIPS with the reason. Image override: ``BAAS_K3S_IMAGE``.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from baas.cli.app import main
from baas.runtimes.kubernetes import bootstrap
from baas.runtimes.kubernetes.namespaces import toolbox_namespace

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"
K3S_IMAGE = os.environ.get("BAAS_K3S_IMAGE", "rancher/k3s:v1.34.1-k3s1")
DOCKER_SOCKET = Path("/var/run/docker.sock")
WAIT_S = 1200  # image pulls on a cold machine; a limit against hanging, not a performance bar


def docker_unavailable() -> str | None:
    """Why no Docker engine can be used here, or ``None`` when one answers a ping.

    Quick: without ``DOCKER_HOST`` and without the default socket no connection is tried; a
    ping waits at most 5 seconds."""
    if not os.environ.get("DOCKER_HOST") and not DOCKER_SOCKET.exists():
        return f"no Docker engine: DOCKER_HOST is unset and {DOCKER_SOCKET} does not exist"
    try:
        docker: Any = importlib.import_module(
            "docker"
        )  # untyped; a dev dependency via testcontainers
        engine = docker.from_env(timeout=5)
        try:
            engine.ping()
        finally:
            engine.close()
    except Exception as exc:
        return f"no Docker engine answers ({type(exc).__name__}: {exc})"
    return None


_UNAVAILABLE = docker_unavailable()

pytestmark = [
    pytest.mark.kube,
    pytest.mark.slow,
    pytest.mark.skipif(_UNAVAILABLE is not None, reason=_UNAVAILABLE or ""),
]


@pytest.fixture(scope="module")
def k3s(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A k3s server in Docker; yields a kubeconfig file for it (mode 0600)."""
    try:
        from testcontainers.community.k3s import K3SContainer
    except ImportError:  # older testcontainers
        from testcontainers.k3s import K3SContainer

    with K3SContainer(K3S_IMAGE) as cluster:
        kubeconfig = tmp_path_factory.mktemp("k3s") / "kubeconfig"
        fd = os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(cluster.config_yaml())
        yield kubeconfig


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "baas-home"))
    return tmp_path / "baas-home"


def _baas(*args: str) -> int:
    return main(list(args))


def _smoke(kube: list[str]) -> tuple[int, dict[str, Any]]:
    """``baas smoke -o json``: its exit status and parsed report (stdout captured)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = _baas("smoke", str(TWO_ORGS), *kube, "--timeout", "600", "-o", "json")
    return code, dict(json.loads(out.getvalue()))


def _api(kubeconfig: Path) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig))


def _job_logs(api: Any, plan: planning.Plan) -> str:
    """The bootstrap pods' logs, for failure messages (never key material: the script prints
    paths and Fabric's output only)."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    ns = toolbox_namespace(plan)
    out = []
    for pod in core.list_namespaced_pod(ns, label_selector=bootstrap.job_selector(plan)).items:
        try:
            text = core.read_namespaced_pod_log(pod.metadata.name, ns)
        except Exception as exc:
            text = f"(no log: {exc})"
        out.append(f"--- {pod.metadata.name} ({pod.status.phase})\n{text}")
    return "\n".join(out) or "(no bootstrap pod)"


def test_two_orgs_up_bootstrap_helm_test_down(k3s: Path, home: Path, helm_binary: Path) -> None:
    plan = planning.build(topology.load(TWO_ORGS).network)
    kube = ["--target", "kubernetes", "--kubeconfig", str(k3s)]
    assert _baas("up", str(TWO_ORGS), *kube, "--wait", "--timeout", str(WAIT_S)) == 0

    api = _api(k3s)
    purged: int | None = None
    try:
        try:
            done = bootstrap.wait_bootstrap(api, plan, timeout=WAIT_S)
        except Exception as exc:
            pytest.fail(f"bootstrap did not succeed: {exc}\n{_job_logs(api, plan)}")
        assert done.state == "succeeded"

        # `baas smoke`: workloads ready, bootstrap Job succeeded, `helm test` per peer org (each
        # peer lists exactly its channels). It runs helm test without --logs: helm 3.17 deletes
        # the chart's hook-succeeded test pods before --logs reads them (helm/helm#9098).
        code, report = _smoke(kube)
        failed = [c for c in report["checks"] if c["status"] != "passed"]
        assert code == 0 and report["passed"], "baas smoke:\n" + json.dumps(failed, indent=2)
        names = [c["name"] for c in report["checks"]]
        assert [n for n in names if n.startswith("helm test ")] == [
            f"helm test {org.name}" for org in plan.orgs if org.peers
        ]

        # nothing changed: the same Job stays, still succeeded
        assert _baas("up", str(TWO_ORGS), *kube, "--wait", "--timeout", str(WAIT_S)) == 0
        again = bootstrap.bootstrap_status(api, plan)
        assert (again.job, again.state) == (done.job, "succeeded")
    finally:
        api.close()
        purged = _baas("down", str(TWO_ORGS), *kube, "--purge")
    assert purged == 0
