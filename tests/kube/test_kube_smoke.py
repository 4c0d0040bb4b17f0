"""`baas smoke --target kubernetes`.

Against the REAL etcd + kube-apiserver (marker ``kube``) after ``baas up --no-wait``: there is no
kubelet, so the smoke must fail fast and clearly — every workloads check fails naming the
StatefulSets that are not ready, helm test is skipped with the reason, and of the shared
transaction checks "nodes healthy" fails naming every node (the port-forwards to their pods,
which do not exist, are refused at once: no wait) and the checks that need healthy nodes are
skipped; exit status 1, no traceback; ``-o json`` has the documented shape. ``helm test``
itself is run against the real server (real helm) with a 1-second per-pod timeout, to see its
failure reported with helm's message and the test pod's state.

Without a cluster: result formatting, JSON shape, helm output parsing, and the local target's
error. The all-checks-pass path needs a cluster whose pods run (tests/cluster/).
"""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from baas.cli.app import main
from baas.errors import OperationError
from baas.home import crypto_dir
from baas.runtimes.kubernetes import fabric_steps, smoke
from baas.runtimes.kubernetes.portforward import PodPort, PortForwarder
from baas.runtimes.kubernetes.smoke import HelmTestSettings
from baas.smoke import report as smoke_report
from baas.smoke.report import CheckResult, SmokeReport
from tests.support.kubeapi import KubeCluster
from tests.support.networks import TWO_ORGS, kube_args, two_orgs_copy


def _baas(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ----------------------------------------------------------------------------- no cluster


def _report() -> SmokeReport:
    return SmokeReport(
        "net",
        "kubernetes",
        (
            CheckResult("workloads org1", "passed", 0.25, "2 ready: StatefulSet peer0, ..."),
            CheckResult(
                "workloads org2",
                "failed",
                0.5,
                "not ready: StatefulSet net-org2/peer0 0/1 ready\n"
                "pod peer0-0 Pending: Unschedulable: 0/1 nodes are available\n"
                "pod peer1-0 Pending: peer ImagePullBackOff",
                "kubectl -n net-org2 describe pod NAME",
            ),
            CheckResult("helm test org2", "skipped", 0.0, "peers not ready: peer0"),
        ),
    )


def test_format_check_lines() -> None:
    passed, failed, skipped = _report().checks
    assert smoke_report.format_check(passed, width=15) == [
        "PASS  workloads org1     0.25s  2 ready: StatefulSet peer0, ..."
    ]
    lines = smoke_report.format_check(failed, width=15)
    assert (
        lines[0]
        == "FAIL  workloads org2     0.50s  not ready: StatefulSet net-org2/peer0 0/1 ready"
    )
    assert lines[1:] == [
        "      pod peer0-0 Pending: Unschedulable: 0/1 nodes are available",
        "      pod peer1-0 Pending: peer ImagePullBackOff",
        "      hint: kubectl -n net-org2 describe pod NAME",
    ]
    assert smoke_report.format_check(skipped, width=15) == [
        "SKIP  helm test org2     0.00s  peers not ready: peer0"
    ]
    hinted_pass = CheckResult("x", "passed", 0.0, "", "never shown")
    assert smoke_report.format_check(hinted_pass, width=1) == ["PASS  x    0.00s"]


def test_report_summary_json_and_verdict() -> None:
    report = _report()
    assert not report.passed
    assert report.counts() == {"passed": 1, "failed": 1, "skipped": 1}
    lines = smoke_report.format_report(report)
    assert lines[-1] == "smoke net (kubernetes): FAILED: 1 passed, 1 failed, 1 skipped in 0.8s"
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data) == {"network", "target", "passed", "seconds", "counts", "checks", "load"}
    assert data["passed"] is False
    assert [c["status"] for c in data["checks"]] == ["passed", "failed", "skipped"]
    assert set(data["checks"][1]) == {"name", "status", "passed", "seconds", "message", "hint"}
    all_pass = SmokeReport("net", "kubernetes", report.checks[:1])
    assert all_pass.passed
    assert all_pass.summary() == "smoke net (kubernetes): passed: 1 passed in 0.2s"
    assert not SmokeReport("net", "kubernetes", ()).passed  # nothing checked is not a pass
    only_skipped = SmokeReport("net", "kubernetes", report.checks[2:])
    assert not only_skipped.passed  # skipping everything is not a pass either
    not_applicable = SmokeReport("net", "kubernetes", (report.checks[0], report.checks[2]))
    assert not_applicable.passed  # a check that does not apply is no failure


def test_run_check_turns_external_failures_into_results() -> None:
    def refuse() -> str:
        raise OperationError("helm failed", hint="try again")

    failed = smoke.run_check("c", refuse)
    assert (failed.status, failed.message, failed.hint) == ("failed", "helm failed", "try again")
    assert smoke.run_check("c", lambda: "fine").passed

    def bug() -> str:
        raise KeyError("programming error")

    with pytest.raises(KeyError):  # bugs are not disguised as failed checks
        smoke.run_check("c", bug)


HELM_TEST_OUTPUT = """\
NAME: org1
LAST DEPLOYED: Mon Jan  5 10:00:00 2026
NAMESPACE: net-org1
STATUS: deployed
REVISION: 1
TEST SUITE:     org1-fabric-test-peer0
Last Started:   Mon Jan  5 10:01:00 2026
Last Completed: Mon Jan  5 10:01:03 2026
Phase:          Succeeded
TEST SUITE:     org1-fabric-test-peer1
Last Started:   Mon Jan  5 10:01:03 2026
Last Completed: Mon Jan  5 10:01:09 2026
Phase:          Failed
NOTES:
Phase: not a test line
"""


def test_parse_test_suites() -> None:
    assert smoke.parse_test_suites(HELM_TEST_OUTPUT) == [
        ("org1-fabric-test-peer0", "Succeeded"),
        ("org1-fabric-test-peer1", "Failed"),
    ]
    assert smoke.parse_test_suites("TEST SUITE: None\n") == []


def test_helm_test_args() -> None:
    settings = HelmTestSettings(kubeconfig=Path("/k/config"), timeout=90.4)
    assert smoke.helm_test_args("org1", "net-org1", settings) == [
        "test",
        "org1",
        "--namespace",
        "net-org1",
        "--timeout",
        "90s",
        "--kubeconfig",
        "/k/config",
    ]
    with_context = HelmTestSettings(kubeconfig=Path("/k"), context="prod", timeout=0.1)
    args = smoke.helm_test_args("org1", "ns", with_context)
    assert args[args.index("--timeout") + 1] == "1s"
    assert args[-2:] == ["--kube-context", "prod"]


@pytest.mark.parametrize(
    ("pod", "want"),
    [
        (
            {
                "metadata": {"name": "p"},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            },
            None,
        ),
        ({"metadata": {"name": "t"}, "status": {"phase": "Succeeded"}}, None),
        (
            {"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}},
            "pod p Pending: not scheduled to a node (is a scheduler running?)",
        ),
        (
            {
                "metadata": {"name": "p"},
                "status": {
                    "phase": "Pending",
                    "conditions": [
                        {
                            "type": "PodScheduled",
                            "status": "False",
                            "reason": "Unschedulable",
                            "message": "0/1 nodes are available",
                        }
                    ],
                },
            },
            "pod p Pending: Unschedulable: 0/1 nodes are available",
        ),
        (
            {
                "metadata": {"name": "peer0-0"},
                "spec": {"nodeName": "n1"},
                "status": {
                    "phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "True"}],
                    "containerStatuses": [
                        {"name": "peer", "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                        {"name": "x", "state": {"terminated": {"reason": "Error", "exitCode": 1}}},
                    ],
                },
            },
            "pod peer0-0 Pending: peer ImagePullBackOff; x terminated: Error (exit 1)",
        ),
    ],
)
def test_pod_problem(pod: dict[str, Any], want: str | None) -> None:
    assert smoke.pod_problem(pod) == want


def test_local_smoke_of_a_network_that_is_not_up_fails_clearly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local smoke without a running network: "nodes healthy" fails naming the nodes, the
    checks that need them are skipped, exit status 1, no traceback."""
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    code, out, err = _baas(capsys, "smoke", str(TWO_ORGS))
    assert code == 1
    assert "FAIL  nodes healthy" in out and "orderer0.ordererorg.example.com" in out
    assert "SKIP  probe chaincode" in out
    assert "Traceback" not in out + err


# ----------------------------------------------------------------------------- real API server


@pytest.fixture(scope="module")
def deployed(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A fresh network (``smokenet``) after ``baas up --no-wait``: every object is applied, no
    pod ever runs."""
    path = two_orgs_copy(tmp_path_factory.mktemp("smokenet"), "smokenet")
    kube = kube_args(kube_cluster)
    code = main(["up", str(path), *kube, "--no-wait"])
    assert code == 0
    return path


def _smoke_args(cluster: KubeCluster, path: Path, *extra: str) -> list[str]:
    kube = ["--target", "kubernetes", "--kubeconfig", str(cluster.kubeconfig_path)]
    return ["smoke", str(path), *kube, *extra]


NODES = (
    "orderer0.ordererorg.example.com",
    "orderer1.ordererorg.example.com",
    "orderer2.ordererorg.example.com",
    "peer0.org1.example.com",
    "peer0.org2.example.com",
    "peer1.org1.example.com",
    "peer1.org2.example.com",
)
CHECKS = [
    "workloads ordererorg",
    "workloads org1",
    "workloads org2",
    "helm test org1",
    "helm test org2",
    "nodes healthy",
    "channel membership",
    "probe chaincode",
]
"""Every check a smoke of a two-organisation network whose nodes do not answer runs, in order."""
FAST = 10.0
"""Seconds within which a smoke of nodes that do not run must have told why (no check waits:
each health probe's port-forward is refused by the API server at once)."""


@pytest.mark.kube
def test_smoke_without_kubelets_fails_fast_and_clearly(
    kube_cluster: KubeCluster, deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code, out, err = _baas(capsys, *_smoke_args(kube_cluster, deployed))
    took = time.monotonic() - started
    assert code == 1, out + err
    assert "Traceback" not in out + err
    assert took < FAST, out
    lines = out.splitlines()
    for org in ("ordererorg", "org1", "org2"):
        assert any(line.startswith(f"FAIL  workloads {org} ") for line in lines), out
    assert "StatefulSet smokenet-org1/peer0 0/1 ready" in out
    assert "StatefulSet smokenet-ordererorg/orderer2 0/1 ready" in out
    assert "no pod exists in smokenet-org1" in out
    for org in ("org1", "org2"):
        skip = next(line for line in lines if line.startswith(f"SKIP  helm test {org}"))
        assert skip.endswith("peers not ready: peer0, peer1")
    assert not any("helm test ordererorg" in line for line in lines)  # no peers, no test
    sick = next(line for line in lines if line.startswith("FAIL  nodes healthy"))
    assert sick.endswith(f"7 of 7 node(s) not healthy: {', '.join(NODES)}")
    for name in ("channel membership", "probe chaincode"):
        skip = next(line for line in lines if line.startswith(f"SKIP  {name}"))
        assert skip.endswith("nodes are not healthy")
    verdicts = [re.match(r"(PASS|FAIL|SKIP)  (.+?) +\d+\.\d\ds", line) for line in lines]
    assert [m[2] for m in verdicts if m] == CHECKS  # in order
    assert lines[-1].startswith("smoke smokenet (kubernetes): FAILED: 4 failed, 4 skipped in ")
    plan = planning.build(topology.load(deployed).network)
    assert not fabric_steps.probe_marker(plan).exists()  # the probe was never deployed


@pytest.mark.kube
def test_smoke_json_shape(
    kube_cluster: KubeCluster, deployed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _baas(capsys, *_smoke_args(kube_cluster, deployed, "-o", "json"))
    assert code == 1
    data: dict[str, Any] = json.loads(out)  # stdout is exactly one JSON document
    assert (data["network"], data["target"], data["passed"]) == ("smokenet", "kubernetes", False)
    assert data["counts"] == {"passed": 0, "failed": 4, "skipped": 4}
    assert data["load"] == []
    assert [c["name"] for c in data["checks"]] == CHECKS
    for check in data["checks"]:
        assert set(check) == {"name", "status", "passed", "seconds", "message", "hint"}
        assert check["passed"] is False
        assert check["seconds"] >= 0
        assert check["hint"] or check["status"] == "skipped"
    healthy = data["checks"][5]
    assert healthy["status"] == "failed" and healthy["message"].startswith("7 of 7 node(s)")
    assert healthy["seconds"] < FAST
    assert {c["status"] for c in data["checks"][6:]} == {"skipped"}


@pytest.mark.kube
def test_smoke_of_a_network_never_deployed(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No namespace, no release, no crypto tree: every check says so, and smoke creates
    nothing (no namespace, no probe, no local state)."""
    from kubernetes import client

    path = two_orgs_copy(tmp_path, "ghostnet")
    plan = planning.build(topology.load(path).network)
    code, out, err = _baas(capsys, *_smoke_args(kube_cluster, path, "-o", "json"))
    assert code == 1, err
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert list(checks) == CHECKS
    org1 = checks["workloads org1"]
    assert (
        "missing: StatefulSet ghostnet-org1/peer0, StatefulSet ghostnet-org1/peer1"
        in (org1["message"])
    )
    assert "baas up" in org1["hint"]
    assert checks["helm test org1"] == {
        "name": "helm test org1",
        "status": "skipped",
        "passed": False,
        "seconds": 0.0,
        "message": "peers not ready: peer0, peer1",
        "hint": "",
    }
    assert checks["nodes healthy"]["status"] == "failed"
    assert checks["nodes healthy"]["message"].startswith("7 of 7 node(s) not healthy")
    assert checks["probe chaincode"]["status"] == "skipped"
    api = kube_cluster.api_client()
    try:
        namespaces = {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items}
    finally:
        api.close()
    assert not {n for n in namespaces if n.startswith("ghostnet")}
    assert not fabric_steps.state_dir(plan).exists()
    assert not crypto_dir(plan.network).exists()


@pytest.mark.kube
def test_port_forward_to_a_pod_that_cannot_answer_fails_at_once(api: Any, deployed: Path) -> None:
    """What "nodes healthy" meets on this server: a forwarded connection to a pod that does not
    exist, or that exists but was never scheduled, is closed at once, and the forwarder keeps
    the API server's reason."""
    from kubernetes import client

    namespace = "smokenet-org1"
    restricted = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }  # the namespace enforces the restricted Pod Security Standard
    pod = {
        "metadata": {"name": "unscheduled-0"},
        "spec": {
            "containers": [
                {"name": "c", "image": "registry.invalid/none", "securityContext": restricted}
            ]
        },
    }
    client.CoreV1Api(api).create_namespaced_pod(namespace, pod)
    try:
        for name, reason in (
            ("peer0-0", 'HTTP 404: pods "peer0-0" not found'),
            ("unscheduled-0", "does not have a host assigned"),
        ):
            with PortForwarder(api) as forwarder:
                local = forwarder.endpoint(PodPort(namespace, name, 9443))
                started = time.monotonic()
                with socket.create_connection((local.host, local.port), timeout=FAST) as conn:
                    conn.settimeout(FAST)
                    assert conn.recv(1) == b""  # closed, not left hanging
                assert time.monotonic() - started < FAST / 2
                assert forwarder.last_error.startswith(
                    f"port-forward to {namespace}/{name}:9443 failed: "
                )
                assert reason in forwarder.last_error, forwarder.last_error
    finally:
        client.CoreV1Api(api).delete_namespaced_pod("unscheduled-0", namespace)


@pytest.mark.kube
def test_helm_test_failure_carries_helms_message_and_pod_state(
    kube_cluster: KubeCluster, helm_binary: Path, deployed: Path
) -> None:
    """Real helm, real API server: the test pod is created but never runs (no kubelet), so a
    1-second per-pod timeout makes helm fail; the check reports helm's error and the pod."""
    plan = planning.build(topology.load(deployed).network)
    org = plan.org("org2")
    settings = HelmTestSettings(
        kubeconfig=kube_cluster.kubeconfig_path, timeout=1, executable=helm_binary
    )
    api = kube_cluster.api_client()
    try:
        result = smoke.helm_test_check(api, plan, org, settings)
    finally:
        api.close()
    assert result.status == "failed"
    assert result.message.startswith("helm test smokenet-org2/org2 failed (exit 1): ")
    assert "pod org2-fabric-test-peer0 Pending: not scheduled to a node" in result.message
    assert "(no log: no container has started)" in result.message
    assert "peer channel list" in result.hint


def _play_the_controllers(cluster: KubeCluster, plan: planning.Plan) -> None:
    """Write what a kubelet would report: every StatefulSet of the network has its replica
    ready (status subresources, real server). Still no pod exists."""
    from kubernetes import client

    api = cluster.api_client()
    try:
        apps = client.AppsV1Api(api)
        for org in plan.orgs:
            for sts in apps.list_namespaced_stateful_set(org.namespace).items:
                ready = {
                    "observedGeneration": sts.metadata.generation,
                    "replicas": 1,
                    "readyReplicas": 1,
                    "availableReplicas": 1,
                    "currentReplicas": 1,
                    "updatedReplicas": 1,
                }
                apps.patch_namespaced_stateful_set_status(
                    sts.metadata.name, org.namespace, {"status": ready}
                )
    finally:
        api.close()


@pytest.mark.kube
def test_helm_test_runs_once_workloads_pass(
    kube_cluster: KubeCluster,
    helm_binary: Path,
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With the workloads' status written as the missing kubelet would, the workloads checks
    pass and helm test really runs for each peer organisation (and fails: its test pods can
    never run here); the nodes' pods still do not exist, so "nodes healthy" fails at once and
    the probe is not deployed."""
    path = two_orgs_copy(tmp_path, "readynet")
    kube = kube_args(kube_cluster)
    assert main(["up", str(path), *kube, "--no-wait"]) == 0
    plan = planning.build(topology.load(path).network)
    _play_the_controllers(kube_cluster, plan)
    capsys.readouterr()
    code, out, err = _baas(capsys, *_smoke_args(kube_cluster, path, "--timeout", "1", "-o", "json"))
    assert code == 1, err
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert list(checks) == CHECKS
    for name in ("workloads ordererorg", "workloads org1", "workloads org2"):
        assert checks[name]["status"] == "passed", checks[name]
    assert "StatefulSet peer0" in checks["workloads org1"]["message"]
    for org in ("org1", "org2"):
        test = checks[f"helm test {org}"]
        assert test["status"] == "failed"
        assert f"helm test readynet-{org}/{org} failed" in test["message"]
        assert "timed out waiting for the condition" in test["message"]
    healthy = checks["nodes healthy"]
    assert healthy["status"] == "failed"
    assert healthy["message"] == f"7 of 7 node(s) not healthy: {', '.join(NODES)}"
    assert healthy["seconds"] < FAST
    assert checks["probe chaincode"]["message"] == "nodes are not healthy"
    assert not fabric_steps.probe_marker(plan).exists()
