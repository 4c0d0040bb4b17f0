"""``baas smoke --target kubernetes``: end-to-end checks of a deployed network, each with a verdict.

Checks, in order (each timed; :class:`CheckResult`):

1. ``workloads <org>`` — per organisation with nodes: every peer and orderer StatefulSet exists and
   has its ready replicas, and every other workload of the release (chaincode servers) is ready
   (:func:`baas.runtimes.kubernetes.readiness.workload_status`). On failure the message names each
   workload that is missing or not ready, and what Kubernetes says about its pods (pending,
   unschedulable, image pull back-off...).
2. ``helm test <org>`` — per organisation with peers: ``helm test <release> -n <namespace>
   --timeout <T>``. The chart's test hooks run ``peer channel list`` on each peer (peer image)
   as the organisation admin and fail unless every channel of the organisation is listed.
   Skipped (with the reason) when the organisation's peers are not ready.
3. The transaction checks every runtime shares (:func:`baas.smoke.checks.run_checks`: nodes
   healthy, channel membership, the probe chaincode, heights, gossip, endorsement as the
   policy says, a too-weak endorsement refused, outsiders refused, application chaincodes
   committed), through the admin route (:mod:`baas.runtimes.kubernetes.admin_route`). The probe
   chaincode's server runs in each member organisation's namespace from
   ``KubeOptions.probe_image`` (built from ``baas/smoke/probe/Dockerfile``); smoke adds it to
   the organisations' releases, and later ``up`` runs keep it.

``--logs`` is not passed to helm: helm 3.17 deletes test pods with the chart's ``hook-succeeded``
policy *before* ``--logs`` reads them, so a passing run exits non-zero with "unable to get pod
logs" (helm/helm#9098, fixed by helm/helm#31579 in a later helm). On failure the test pods are
kept by helm, and this module reads their logs from the API server instead (tail only).

Nothing in the cluster is changed except the test pods ``helm test`` creates and the probe
chaincode (its servers, its definition on each channel, its own keys).
Failures of the cluster API, helm or the kubeconfig become *failed checks* (message and hint),
never tracebacks; programming errors still propagate.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from baas.errors import BaasError
from baas.fabric.binaries import FabricInstall
from baas.home import crypto_dir
from baas.network import converge
from baas.network.access import NetworkAccess
from baas.network.crypto import CryptoTree
from baas.plan import NodePlan, OrgPlan, Plan
from baas.runtimes.kubernetes import fabric_steps
from baas.runtimes.kubernetes import helm as helm_mod
from baas.runtimes.kubernetes.addresses import DEFAULT_CLUSTER_DOMAIN
from baas.runtimes.kubernetes.admin_route import open_access
from baas.runtimes.kubernetes.cluster import api_client as connect
from baas.runtimes.kubernetes.readiness import SELECTOR, Workload, wait_ready, workload_status
from baas.runtimes.kubernetes.runtime import KubeOptions, ensure_releases
from baas.runtimes.kubernetes.values import release_name
from baas.smoke import checks as shared_checks
from baas.smoke import load as load_probe
from baas.smoke.load import LoadOptions, LoadResult
from baas.smoke.probe import require_first_deployers, with_probes
from baas.smoke.report import CheckFailed as _Failed
from baas.smoke.report import CheckResult, OnCheck, SmokeReport, skipped
from topology.names import PROBE_CHAINCODE

TEST_CONTAINER = "channel-list"
"""The container of the chart's test pods (templates/tests/test-peer-channels.yaml)."""
LOG_LINES = 20
"""Lines of a pod's log kept in a failure message."""


# --------------------------------------------------------------------------- results (pure)


def tail(text: str, lines: int = LOG_LINES) -> str:
    """The last ``lines`` non-blank-trailing lines of ``text``; ``(no output)`` when empty. Pure."""
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) or "(no output)"


_SUITE = re.compile(r"^TEST SUITE:\s+(\S+)\s*$")
_PHASE = re.compile(r"^Phase:\s+(\S+)\s*$")


def parse_test_suites(helm_output: str) -> list[tuple[str, str]]:
    """``(test pod, phase)`` pairs from ``helm test``'s status output (``TEST SUITE:`` lines
    each followed by a ``Phase:`` line); pods without a phase are left out. Pure."""
    found: list[tuple[str, str]] = []
    current: str | None = None
    for line in helm_output.splitlines():
        suite = _SUITE.match(line.strip())
        if suite:
            current = suite.group(1)
            continue
        phase = _PHASE.match(line.strip())
        if phase and current is not None and current != "None":
            found.append((current, phase.group(1)))
            current = None
    return found


# --------------------------------------------------------------------------- running checks


def _external_errors() -> tuple[type[BaseException], ...]:
    """Exceptions of the outside world that turn a check into a failure (not a traceback)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    return (BaasError, ApiException, HTTPError, OSError, subprocess.SubprocessError)


def status_message(body: Any) -> str:
    """The ``message`` of a Kubernetes ``Status`` body ("" when there is none). Pure."""
    try:
        parsed = json.loads(body) if isinstance(body, str | bytes) else {}
    except ValueError:
        return ""
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else ""


def _describe_error(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, _Failed | BaasError):
        return exc.message, exc.hint
    status = getattr(exc, "status", None)
    if status is not None:  # ApiException: its reason and the Status message, never a body
        detail = status_message(getattr(exc, "body", None)) or str(getattr(exc, "reason", ""))
        return (
            f"the Kubernetes API refused (HTTP {status}): {detail}",
            "check the kubeconfig's user may read StatefulSets, Deployments, Jobs and Pods",
        )
    return (
        f"could not talk to the cluster: {type(exc).__name__}: {exc}",
        "is the cluster running and reachable? check --kubeconfig / --context",
    )


def run_check(name: str, body: Callable[[], str]) -> CheckResult:
    """Time ``body``; its return value is the pass message. :class:`_Failed`, baas errors and
    API/network/subprocess errors give a failed result; anything else propagates."""
    started = time.monotonic()
    caught: tuple[type[BaseException], ...] = (_Failed, *_external_errors())
    try:
        message = body()
    except caught as exc:
        text, hint = _describe_error(exc)
        return CheckResult(name, "failed", time.monotonic() - started, text, hint)
    return CheckResult(name, "passed", time.monotonic() - started, message)


# --------------------------------------------------------------------------- pods (I/O)


def _core(api_client: Any) -> Any:
    from kubernetes import client

    return client.CoreV1Api(api_client)


def pod_problem(pod: dict[str, Any]) -> str | None:
    """What keeps one pod (JSON-shaped, as read from the API) from being ready, in Kubernetes's
    own words: phase, an unscheduled condition, waiting or terminated containers; ``None`` when
    it is ready or has completed successfully. Pure."""
    meta = pod.get("metadata") or {}
    status = pod.get("status") or {}
    phase = status.get("phase") or "Unknown"
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    if (conditions.get("Ready") or {}).get("status") == "True" or phase == "Succeeded":
        return None
    reasons: list[str] = []
    scheduled = conditions.get("PodScheduled")
    if scheduled is not None and scheduled.get("status") != "True":
        reasons.append(_reason(scheduled.get("reason"), scheduled.get("message")))
    elif scheduled is None and not (pod.get("spec") or {}).get("nodeName"):
        reasons.append("not scheduled to a node (is a scheduler running?)")
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        name = container.get("name", "?")
        if state.get("waiting"):
            waiting = state["waiting"]
            reasons.append(f"{name} {_reason(waiting.get('reason'), waiting.get('message'))}")
        elif state.get("terminated"):
            done = state["terminated"]
            reasons.append(
                f"{name} terminated: {done.get('reason') or '?'} (exit {done.get('exitCode')})"
            )
    return f"pod {meta.get('name', '?')} {phase}: {'; '.join(reasons) or 'not ready'}"


def _reason(reason: Any, message: Any) -> str:
    return ": ".join(str(part) for part in (reason, message) if part) or "no reason given"


def _pods(api_client: Any, namespace: str, label_selector: str) -> list[dict[str, Any]]:
    listed = _core(api_client).list_namespaced_pod(namespace, label_selector=label_selector)
    items = api_client.sanitize_for_serialization(listed).get("items") or []
    return [dict(i) for i in items]


def pod_problems(api_client: Any, namespace: str, label_selector: str) -> list[str]:
    """:func:`pod_problem` of every pod matching ``label_selector`` (ready pods give nothing);
    ``["no pod exists ..."]`` when there is none."""
    pods = _pods(api_client, namespace, label_selector)
    if not pods:
        return [
            f"no pod exists in {namespace}: is a controller-manager running and does the "
            f"cluster have schedulable nodes? (`kubectl get events -n {namespace}`)"
        ]
    return [p for p in (pod_problem(pod) for pod in pods) if p is not None]


def pod_logs(
    api_client: Any, namespace: str, label_selector: str, *, container: str, lines: int = LOG_LINES
) -> str:
    """The log tails of the pods matching ``label_selector`` (``--- pod (phase)`` headers), or
    why there is none. Never raises for a pod whose container has not started."""
    from kubernetes.client.exceptions import ApiException

    core = _core(api_client)
    out: list[str] = []
    for pod in _pods(api_client, namespace, label_selector):
        name = str((pod.get("metadata") or {}).get("name"))
        status = pod.get("status") or {}
        if not status.get("containerStatuses"):
            text = "(no log: no container has started)"
        else:
            try:
                text = tail(
                    str(
                        core.read_namespaced_pod_log(
                            name, namespace, container=container, tail_lines=lines
                        )
                        or ""
                    ),
                    lines,
                )
            except ApiException as exc:
                text = f"(no log: {status_message(exc.body) or exc.reason})"
        out.append(f"--- {name} ({status.get('phase') or 'Unknown'})\n{text}")
    return "\n".join(out) or f"(no pod matches {label_selector} in {namespace})"


# --------------------------------------------------------------------------- check 1: workloads


def _expected_statefulsets(org: OrgPlan) -> list[str]:
    """StatefulSet names the chart creates for ``org``: one per node, named after it."""
    return [node.name for node in org.nodes]


def workloads_check(api_client: Any, org: OrgPlan) -> tuple[CheckResult, list[Workload] | None]:
    """The ``workloads <org>`` check and the workloads it read (``None`` when they could not be
    read; empty when the namespace holds none)."""
    read: list[list[Workload]] = []

    def body() -> str:
        read.append(workload_status(api_client, [org.namespace]))
        found = read[0]
        have = {w.name for w in found if w.kind == "StatefulSet"}
        missing = [n for n in _expected_statefulsets(org) if n not in have]
        pending = [w for w in found if not w.is_ready]
        if not missing and not pending:
            return f"{len(found)} ready: " + ", ".join(f"{w.kind} {w.name}" for w in found)
        parts = [f"not ready: {'; '.join(str(w) for w in pending)}"] if pending else []
        if missing:
            parts.append(
                "missing: " + ", ".join(f"StatefulSet {org.namespace}/{n}" for n in missing)
            )
        details = pod_problems(api_client, org.namespace, SELECTOR) if pending else []
        hint = (
            "run `baas up` (the release has no such workload)"
            if missing and not pending
            else f"`kubectl -n {org.namespace} get pods` and `kubectl -n {org.namespace} "
            "describe pod NAME` tell why; re-run `baas smoke` once they are ready"
        )
        raise _Failed("\n".join(parts + details), hint)

    return run_check(f"workloads {org.name}", body), (read[0] if read else None)


def _peers_not_ready(org: OrgPlan, workloads: Sequence[Workload]) -> list[str]:
    ready = {w.name for w in workloads if w.kind == "StatefulSet" and w.is_ready}
    return [p.name for p in org.peers if p.name not in ready]


# --------------------------------------------------------------------------- check 2: helm test


@dataclass(frozen=True)
class HelmTestSettings:
    """How to run ``helm test``: the binary (``None`` →
    :func:`baas.runtimes.kubernetes.helm.helm_binary`, resolved inside the check so a missing
    helm is a failed check), the kubeconfig and context, and ``timeout``: seconds each test pod
    may take (helm's ``--timeout``)."""

    kubeconfig: Path
    context: str | None = None
    timeout: float = 300.0
    executable: Path | None = None


def helm_test_args(release: str, namespace: str, settings: HelmTestSettings) -> list[str]:
    """The arguments after the helm binary. Pure."""
    args = [
        "test",
        release,
        "--namespace",
        namespace,
        "--timeout",
        f"{max(1, round(settings.timeout))}s",
        "--kubeconfig",
        str(settings.kubeconfig),
    ]
    if settings.context:
        args += ["--kube-context", settings.context]
    return args


def helm_test_pod_selector(release: str) -> str:
    """Label selector of a release's ``helm test`` pods (component ``test`` in the chart)."""
    return f"app.kubernetes.io/instance={release},app.kubernetes.io/component=test"


def helm_test_check(
    api_client: Any, plan: Plan, org: OrgPlan, settings: HelmTestSettings
) -> CheckResult:
    """The ``helm test <org>`` check (run it only when the org's peers are ready). Helm runs
    the test pods one after the other, each within ``settings.timeout``; the process itself
    gets that per peer plus a minute."""
    release = release_name(org)

    def body() -> str:
        executable = settings.executable or helm_mod.helm_binary()
        limit = settings.timeout * max(1, len(org.peers)) + 60
        try:
            done = subprocess.run(
                [str(executable), *helm_test_args(release, org.namespace, settings)],
                capture_output=True,
                text=True,
                timeout=limit,
                check=False,
                env=helm_mod.helm_env(),
            )
        except subprocess.TimeoutExpired:
            raise _Failed(
                f"helm test {org.namespace}/{release} did not finish within {limit:.0f}s",
                f"`kubectl -n {org.namespace} get pods -l app.kubernetes.io/component=test`",
            ) from None
        suites = parse_test_suites(done.stdout)
        phases = ", ".join(f"{pod} {phase}" for pod, phase in suites)
        if done.returncode == 0:
            return f"{len(suites)} test pod(s): {phases}" if suites else "helm test passed"
        logs = pod_logs(
            api_client, org.namespace, helm_test_pod_selector(release), container=TEST_CONTAINER
        )
        problems = pod_problems(api_client, org.namespace, helm_test_pod_selector(release))
        raise _Failed(
            f"helm test {org.namespace}/{release} failed (exit {done.returncode}): "
            f"{tail(done.stderr, 5)}"
            + (f"\ntest pods: {phases}" if phases else "")
            + "".join(f"\n{p}" for p in problems if not p.startswith("no pod"))
            + f"\n{logs}",
            "each test pod runs `peer channel list` as the organisation admin: 'has not "
            "joined' means `baas up` did not join that peer (re-run it; `baas status`); "
            f"a connection error means the peer does not answer (`kubectl -n "
            f"{org.namespace} logs statefulset/PEER`). Re-run with a longer --timeout if pods "
            "were still starting",
        )

    return run_check(f"helm test {org.name}", body)


# --------------------------------------------------------------------------- all checks


def run_checks(
    api_client: Any,
    plan: Plan,
    helm: HelmTestSettings,
    *,
    on_check: OnCheck | None = None,
    target: str = "kubernetes",
    transactions: Callable[[Callable[[CheckResult], None]], None] | None = None,
) -> SmokeReport:
    """Run every check in order (workloads per org, helm test per org with peers, then
    ``transactions``, which records the shared transaction checks); ``on_check`` sees each
    result as soon as it is known."""
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        if on_check:
            on_check(result)

    workloads: dict[str, list[Workload] | None] = {}
    for org in plan.orgs:
        if not org.nodes:
            continue
        result, workloads[org.name] = workloads_check(api_client, org)
        record(result)
    for org in plan.orgs:
        if not org.peers:
            continue
        name = f"helm test {org.name}"
        read = workloads.get(org.name)
        if read is None:
            record(skipped(name, "its workloads could not be read (see above)"))
            continue
        not_ready = _peers_not_ready(org, read)
        if not_ready:
            record(skipped(name, f"peers not ready: {', '.join(not_ready)}"))
        else:
            record(helm_test_check(api_client, plan, org, helm))
    if transactions is not None:
        transactions(record)
    return SmokeReport(plan.network, target, tuple(results))


@dataclass
class KubeSmokeTarget:
    """What the shared smoke checks (:class:`baas.smoke.checks.SmokeTarget`) need from the
    cluster, through the admin route of ``access``."""

    api: Any
    options: KubeOptions
    access: NetworkAccess
    install: FabricInstall | None

    def _operations(self, node: NodePlan, path: str) -> httpx.Response:
        address = self.access.addresses.operations(node)
        return httpx.get(f"http://{address}{path}", timeout=5.0)

    def node_health(self, plan: Plan) -> dict[str, bool]:
        health: dict[str, bool] = {}
        for org in plan.orgs:
            for node in org.nodes:
                try:
                    health[node.fqdn] = self._operations(node, "/healthz").status_code == 200
                except httpx.HTTPError:
                    health[node.fqdn] = False
        return health

    def ensure_probe(self, plan: Plan) -> list[str]:
        """The probe's servers in every member organisation's release (waiting until they are
        ready), then its definition on every channel; the names of what changed."""
        marker = fabric_steps.probe_marker(plan)
        require_first_deployers(self.access.signers, plan, deployed=marker.exists())
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        probed = with_probes(plan, image=self.options.probe_image)
        crypto_root = crypto_dir(plan.network)
        releases = ensure_releases(probed, crypto_root, self.options, report=lambda _: None)
        wait_ready(self.api, [o.namespace for o in plan.orgs], timeout=self.options.timeout)
        with open_access(
            self.api, probed, self.access.crypto, signers=self.access.signers
        ) as access:
            changes = converge.ensure_chaincodes(
                access,
                fabric_steps.packages(probed, cluster_domain=DEFAULT_CLUSTER_DOMAIN),
                report=lambda _: None,
            )
        done = [str(r) for r in releases if r.action != "unchanged"]
        return done + [str(c) for c in changes if PROBE_CHAINCODE in str(c)]

    def metrics(self, node: NodePlan) -> str:
        try:
            return self._operations(node, "/metrics").text
        except httpx.HTTPError:
            return ""


def smoke(
    plan: Plan,
    options: KubeOptions,
    *,
    install: FabricInstall | None = None,
    on_check: OnCheck | None = None,
    load: LoadOptions | None = None,
    on_load: Callable[[LoadResult], None] | None = None,
    signers: frozenset[str] | None = None,
) -> SmokeReport:
    """``baas smoke --target kubernetes``: every check against the cluster in
    ``options.target``; ``options.timeout`` is each helm test pod's timeout; ``signers`` who
    may sign the probe's deployment (:class:`~baas.network.access.NetworkAccess`). With ``load``,
    then the load probe on every channel (only when every check passed). Raises only for a
    kubeconfig that cannot be used (:class:`baas.errors.UsageError`/:class:`OperationError`);
    everything the cluster answers becomes a check result."""
    api = connect(options.target)
    settings = HelmTestSettings(
        kubeconfig=options.target.kubeconfig_path,
        context=options.target.context,
        timeout=options.timeout,
    )
    loads: list[LoadResult] = []
    crypto = CryptoTree(crypto_dir(plan.network))
    try:
        with open_access(api, plan, crypto, signers=signers) as access:
            target = KubeSmokeTarget(api, options, access, install)

            def transactions(record: Callable[[CheckResult], None]) -> None:
                results = shared_checks.run_checks(target, access, on_check=record)
                if load is not None and all(r.passed or r.status == "skipped" for r in results):
                    for channel in plan.channels:
                        loads.append(
                            load_probe.run_load(access, channel, load, on_progress=on_load)
                        )

            report = run_checks(api, plan, settings, on_check=on_check, transactions=transactions)
        return SmokeReport(plan.network, report.target, report.checks, tuple(loads))
    finally:
        close = getattr(api, "close", None)
        if callable(close):
            close()
