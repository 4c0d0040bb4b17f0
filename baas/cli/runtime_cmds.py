"""``baas up``, ``down``, ``status``, ``logs`` and ``smoke``: thin wrappers over
:mod:`baas.services`. Progress and messages go to stderr; data (``-o json``, ``status``, logs,
smoke's text report) to stdout."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from baas.cli import common, output
from baas.cli.options import (
    CONTEXT,
    FILE,
    IMAGE_REGISTRY,
    KUBECONFIG,
    OUTPUT,
    SECRETS,
    TARGET,
    Format,
    SecretsOpt,
    TargetOpt,
    alias,
    hidden,
    kube_for,
)
from baas.errors import UsageError

FABRIC_BIN = typer.Option(
    None,
    "--fabric-bin",
    envvar="FABRIC_BIN",
    help="Folder of a Fabric release (bin/, config/, builders/); default: the cache, then PATH.",
    metavar="DIR",
)
TIMEOUT = typer.Option(
    300.0, "--timeout", help="Seconds nodes (or workloads) may take to become ready."
)


class _Progress:
    """Prints each progress line on stderr with the seconds since the command started."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, line: str) -> None:
        output.note(f"  [{time.monotonic() - self.start:5.1f}s] {line}")


PIPED_PROGRESS_EVERY = 5.0
"""Seconds of the load probe's own clock between progress lines when stderr is not a terminal."""


def _stderr_is_terminal() -> bool:
    return output.err.is_terminal


class _LoadProgress:
    """Turns the load probe's once-a-second results into stderr lines. On a terminal every tick
    prints; otherwise (a pipe, a log file) a line prints only when its text differs from the
    last one printed for that channel and at least :data:`PIPED_PROGRESS_EVERY` seconds of the
    probe's clock (``result.seconds``) have passed since then, so a log holds no run of
    identical lines."""

    def __init__(self, *, terminal: bool) -> None:
        self.terminal = terminal
        self.last: dict[str, tuple[str, float]] = {}

    def line(self, result: Any) -> str | None:
        """The line to print for ``result`` (a :class:`baas.smoke.load.LoadResult`), or None."""
        text = (
            f"  load {result.channel}: {result.committed} committed, "
            f"{sum(result.failed.values())} failed"
        )
        if not self.terminal:
            before = self.last.get(result.channel)
            if before is not None and (
                text == before[0] or result.seconds - before[1] < PIPED_PROGRESS_EVERY
            ):
                return None
        self.last[result.channel] = (text, result.seconds)
        return text


def _cluster_flags(context: str | None, kubeconfig: Path | None) -> list[str]:
    """``--context``/``--kubeconfig`` again, as given (for the commands suggested next)."""
    flags = ["--context", context] if context else []
    return flags + (["--kubeconfig", str(kubeconfig)] if kubeconfig else [])


def _phases(result: dict[str, Any]) -> None:
    for phase in result.get("phases", []):
        changes = phase.get("changes")  # None on Kubernetes: changes are listed per kind
        what = "" if changes is None else f"{len(changes)} change(s)" if changes else "no change"
        output.note(f"  {phase['name']:<10} {phase['seconds']:6.2f}s  {what}".rstrip())


def _next_after_up(
    file: Path, loaded: Any, target: TargetOpt, cluster: list[str]
) -> list[tuple[str, str]]:
    """What to run after a successful ``up``: status, smoke, and a log of the first peer (via
    kubectl on Kubernetes). ``cluster`` are the ``--context``/``--kubeconfig`` flags given."""
    from baas import plan as planning

    again = [] if target is TargetOpt.local else ["-t", "kubernetes", *cluster]
    steps = [
        (common.command_line("baas", "status", file, *again), "what runs, heights, chaincodes"),
        (common.command_line("baas", "smoke", file, *again), "end-to-end checks"),
    ]
    peers = [n for org in planning.build(loaded.network).orgs for n in org.peers]
    if target is TargetOpt.local:
        node = [peers[0].fqdn] if peers else []
        steps.append((common.command_line("baas", "logs", file, *node, "-f"), "follow a log"))
    elif peers:
        where = ["-n", peers[0].namespace, "logs", f"statefulset/{peers[0].service}"]
        steps.append((common.command_line("kubectl", *cluster, *where), "a peer's log"))
    return steps


def up(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    fabric_bin: Path | None = FABRIC_BIN,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    wait: bool = typer.Option(
        True, "--wait/--no-wait", help="Wait for the workloads to be ready (kubernetes)."
    ),
    timeout: float = TIMEOUT,
    registry: str = IMAGE_REGISTRY,
    fmt: Format = OUTPUT,
) -> None:
    """Bring the network up; re-running changes only what differs. It validates the file,
    issues the crypto material it lacks, starts (local) or applies (kubernetes) every node,
    then creates the channels and deploys the chaincodes, and ends with the commands to run
    next.

    \b
    Example: baas up examples/two-orgs.yaml
    """
    from baas import services
    from baas.services.plan import ValidationResult

    loaded = common.load(file)
    if fmt is Format.text:
        output.ok(common.summary(file, ValidationResult.of(loaded)))
        output.err.print(output.styled("baas up", "bold", f" {file} → {target.value}"))
    if target is TargetOpt.kubernetes:
        common.announce_helm()
    outcome = services.up(
        loaded,
        target=target.value,
        kube=kube_for(
            target,
            kubeconfig=kubeconfig,
            context=context,
            secrets=secrets,
            wait=wait,
            timeout=timeout,
            registry=registry,
        ),
        fabric_bin=fabric_bin,
        timeout=timeout,
        report=_Progress(),
    )
    if common.emit(outcome, fmt):
        return
    data = outcome.to_dict()
    _phases(data)
    verdict = "changed" if data.get("changed", True) else "already up to date"
    total = f" in {data['seconds']:.1f}s" if "seconds" in data else ""
    output.done(f"{total}: {verdict}")
    common.print_next(_next_after_up(file, loaded, target, _cluster_flags(context, kubeconfig)))


def down(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    purge: bool = typer.Option(False, "--purge", help="Also delete ledgers, data and keys."),
    fmt: Format = OUTPUT,
) -> None:
    """Stop the network; --purge also deletes its ledgers, data and keys. Otherwise, locally,
    the ledgers, ports and keys stay, so the next `baas up` resumes; on Kubernetes the
    releases are uninstalled.

    \b
    Example: baas down examples/two-orgs.yaml --purge
    """
    from baas import services

    loaded = common.load(file)
    outcome = services.down(
        loaded,
        target=target.value,
        purge=purge,
        kube=kube_for(target, kubeconfig=kubeconfig, context=context, secrets=secrets),
        report=_Progress(),
    )
    if not common.emit(outcome, fmt):
        output.done()


_SNAKE = re.compile(r"_([a-z0-9])")


def camel_ports(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a local ``Status`` document) with each node's listener names in camelCase
    (``peer_chaincode`` → ``peerChaincode``), the one snake_case key the local runtime's
    status carries. Returns a new dict; ``data`` is left as it was."""
    nodes = [
        {**node, "ports": {_SNAKE.sub(lambda m: m[1].upper(), k): v for k, v in ports.items()}}
        if isinstance(ports := node.get("ports"), dict)
        else node
        for node in data.get("nodes", [])
    ]
    return {**data, "nodes": nodes} if "nodes" in data else dict(data)


def _print_local_status(data: dict[str, Any]) -> None:
    say = output.out.print
    say(f"network {data['network']} (local): {'running' if data['running'] else 'not running'}")
    for node in data["nodes"]:
        health = "healthy" if node.get("healthy") else "unhealthy"
        ports = ", ".join(f"{k} {v}" for k, v in (node.get("ports") or {}).items())
        say(
            f"  {node['name']:<34} {node['role']:<8} pid {node.get('pid') or '-':<8} "
            f"{node.get('state', '?'):<9} {health:<9} {ports}"
        )
    for server in data.get("chaincodeServers", []):
        say(f"  {server['program']:<34} chaincode {server['address'] or '-'} {server['state']}")
    for channel in data.get("channels", []):
        heights = ", ".join(
            f"{k.split('.')[0]}.{k.split('.')[1]} {v}" for k, v in channel["heights"].items()
        )
        say(f"channel {channel['name']}: heights {heights}")
        for cc in channel["chaincodes"]:
            say(f"  chaincode {cc['name']} version {cc['version']} sequence {cc['sequence']}")


def _print_kube_status(network: str, data: dict[str, Any]) -> None:
    say = output.out.print
    namespaces = data.get("namespaces", {})
    say(f"network {network} (kubernetes): {sum(namespaces.values())}/{len(namespaces)} namespaces")
    for name, present in namespaces.items():
        say(f"  namespace {name:<32} {'present' if present else 'missing'}")
    for w in data.get("workloads", []):
        say(f"  {w['kind']} {w['namespace']}/{w['name']}: {w['ready']}/{w['wanted']} ready")


def status(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """Show what runs: nodes, health, channel heights and chaincodes. Locally every node with
    pid, state, ports and health, the chaincode servers, and per channel each node's block
    height and the committed chaincodes; on Kubernetes the namespaces, each workload's
    readiness. A network that is not up is no error: it shows as not
    running.

    \b
    Example: baas status examples/two-orgs.yaml -o json
    """
    from baas import services

    loaded = common.load(file)
    outcome = services.status(
        loaded,
        target=target.value,
        kube=kube_for(
            target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes
        ),
    )
    data = camel_ports(outcome.to_dict())
    if fmt is Format.json:
        output.print_json(data)
    elif target is TargetOpt.kubernetes:
        _print_kube_status(loaded.network.metadata.name, data)
    else:
        _print_local_status(data)


@dataclass(frozen=True)
class LogLines:
    """What ``logs -o json`` prints: the network, the node asked for (None: all) and the lines
    as the text form prints them (``==> path <==`` before each log when there are several)."""

    network: str
    node: str | None
    lines: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "target": "local", "node": self.node, "lines": self.lines}


def logs(
    file: Path = FILE,
    node: str | None = typer.Argument(
        None, help="Node FQDN or chaincode server (default: all).", metavar="NODE"
    ),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    lines: int = typer.Option(50, "--lines", "-n", help="How many lines of each log."),
    fmt: Format = OUTPUT,
) -> None:
    """Print a node's log, or every node's (local target). That is the last --lines lines of
    a node's or chaincode server's log; --follow keeps printing one log's new lines until
    interrupted, and cannot be combined with -o json, which prints one document.

    \b
    Example: baas logs examples/two-orgs.yaml peer0.org1.example.com -f
    """
    from baas import services
    from baas.services.results import Outcome

    if follow and fmt is Format.json:
        raise UsageError(
            "--follow prints lines until interrupted; -o json prints one document",
            hint="drop --follow, or use text output",
        )
    loaded = common.load(file)
    stream = services.logs(loaded, node=node, follow=follow, lines=lines)
    if fmt is Format.json:
        value = LogLines(loaded.network.metadata.name, node, list(stream))
        output.print_json(Outcome("Logs", value, loaded.warnings).to_dict())
        return
    try:
        for line in stream:
            output.out.print(Text(line))
    except KeyboardInterrupt:
        return


def smoke(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds each helm test pod may take."),
    load: bool = typer.Option(False, "--load", help="Then drive probe transactions (local)."),
    duration: float = typer.Option(10.0, "--duration", help="Seconds of load."),
    concurrency: int = typer.Option(8, "--concurrency", help="Concurrent load workers."),
    rate: float | None = typer.Option(None, "--rate", help="At most this many tx/s in all."),
    fmt: Format = OUTPUT,
    old_json: bool = hidden("--json", default=False),
) -> None:
    """Run end-to-end checks of the running network; exit status 1 unless every one passed.
    One PASS, FAIL or SKIP line each, with its time. Locally: nodes healthy, channel
    membership, heights, gossip, a probe transaction endorsed per the channel policy and read
    back from every peer, a too weakly endorsed one rejected, outsiders refused, chaincode
    definitions. On Kubernetes: workloads ready and `helm test` per organisation first, then
    the same checks through port-forwards (the probe's server image is
    $BAAS_PROBE_IMAGE, built from baas/smoke/probe/Dockerfile).

    With --load, a load probe follows when every check passed: submitted, committed, failed by
    reason, TPS and latency percentiles, kept for `baas status`.

    \b
    Example: baas smoke examples/two-orgs.yaml --load --duration 30 --concurrency 16
    """
    from baas import services
    from baas.smoke.load import LoadOptions, LoadResult
    from baas.smoke.report import CheckResult, format_check

    text = not alias(
        fmt is Format.json, True if old_json else None, old="--json", new="-o json", default=False
    )

    def show(check: CheckResult) -> None:
        if text:
            for line in format_check(check):
                output.out.print(Text(line))

    lines = _LoadProgress(terminal=_stderr_is_terminal())

    def progress(result: LoadResult) -> None:
        line = lines.line(result) if text else None
        if line is not None:
            output.note(line)

    options = LoadOptions(duration=duration, concurrency=concurrency, rate=rate) if load else None
    loaded = common.load(file)
    if text:
        # The whole text report (this header, the check lines, the verdict) is one document on
        # stdout, so that it reads in order however stdout and stderr are captured or shown.
        output.out.print(output.styled("baas smoke", "bold", f" {file} → {target.value}"))
    outcome = services.smoke(
        loaded,
        target=target.value,
        kube=kube_for(
            target,
            kubeconfig=kubeconfig,
            context=context,
            secrets=SecretsOpt.kubernetes,
            timeout=timeout,
        ),
        on_check=show,
        load=options,
        on_load=progress,
    )
    report = outcome.value
    if text:
        for result in report.load:
            output.out.print(Text(result.summary()))
        output.out.print(Text(report.summary()))
    else:
        output.print_json(outcome.to_dict())
    if not report.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(logs)
    app.command()(smoke)
