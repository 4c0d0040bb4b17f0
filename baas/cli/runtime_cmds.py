"""``baas up``, ``down``, ``status``, ``logs`` and ``smoke``: thin wrappers over
:mod:`baas.services`. Progress and messages go to stderr; data (``-o json``, ``status``, logs)
to stdout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from baas.cli import output
from baas.cli.options import (
    CONTEXT,
    FILE,
    KUBECONFIG,
    SECRETS,
    TARGET,
    Format,
    SecretsOpt,
    TargetOpt,
    kube_options,
)

FABRIC_BIN = typer.Option(
    None,
    "--fabric-bin",
    envvar="FABRIC_BIN",
    help="Folder of a Fabric release (bin/, config/, builders/); default: the cache, then PATH.",
)
OUTPUT = typer.Option(Format.text, "--output", "-o", help="text or json.")


class _Progress:
    """Prints each progress line on stderr with the seconds since the command started."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, line: str) -> None:
        output.err.print(f"  [{time.monotonic() - self.start:5.1f}s] {line}", markup=False)


def _load(file: Path) -> Any:
    from baas import services

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    return loaded


def _kube(target: TargetOpt, **kwargs: Any) -> Any:
    return kube_options(**kwargs) if target is TargetOpt.kubernetes else None


def _phases(result: dict[str, Any]) -> None:
    for phase in result.get("phases", []):
        changes = phase["changes"]
        what = f"{len(changes)} change(s)" if changes else "no change"
        output.err.print(f"  {phase['name']:<10} {phase['seconds']:6.2f}s  {what}", markup=False)


def up(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    fabric_bin: Path | None = FABRIC_BIN,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for workloads (kubernetes)."),
    timeout: float = typer.Option(
        300.0, "--timeout", help="Seconds nodes (or workloads) may take to become ready."
    ),
    registry: str = typer.Option("", "--image-registry", help="Registry prefix for images."),
    fmt: Format = OUTPUT,
) -> None:
    """Bring the network up; re-running changes only what differs.

    Example: baas up examples/two-orgs.yaml
    """
    from baas import services

    loaded = _load(file)
    output.err.print(f"[bold]baas up[/bold] {file} → {target.value}")
    outcome = services.up(
        loaded,
        target=target.value,
        kube=_kube(
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
    data = outcome.to_dict()
    if fmt is Format.json:
        output.print_json(data)
        return
    _phases(data)
    verdict = "changed" if data.get("changed", True) else "already up to date"
    total = f" in {data['seconds']:.1f}s" if "seconds" in data else ""
    output.err.print(f"[green]done[/green]{total}: {verdict}")


def down(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    purge: bool = typer.Option(False, "--purge", help="Also delete ledgers, data and keys."),
    fmt: Format = OUTPUT,
) -> None:
    """Stop the network; --purge also deletes its ledgers and key material.

    Example: baas down examples/two-orgs.yaml --purge
    """
    from baas import services

    loaded = _load(file)
    outcome = services.down(
        loaded,
        target=target.value,
        purge=purge,
        kube=_kube(target, kubeconfig=kubeconfig, context=context, secrets=secrets),
        report=_Progress(),
    )
    if fmt is Format.json:
        output.print_json(outcome.to_dict())
    else:
        output.err.print("[green]done[/green]")


def _print_local_status(data: dict[str, Any]) -> None:
    say = output.out.print
    say(f"network {data['network']} (local): {'running' if data['running'] else 'not running'}")
    for node in data["nodes"]:
        health = "healthy" if node.get("healthy") else "unhealthy"
        ports = ", ".join(f"{k} {v}" for k, v in (node.get("ports") or {}).items())
        say(
            f"  {node['name']:<34} {node['role']:<8} pid {node.get('pid') or '-':<8} "
            f"{node.get('state', '?'):<9} {health:<9} {ports}",
            markup=False,
        )
    for server in data.get("chaincodeServers", []):
        say(
            f"  {server['program']:<34} chaincode {server['address'] or '-'} {server['state']}",
            markup=False,
        )
    for channel in data.get("channels", []):
        heights = ", ".join(
            f"{k.split('.')[0]}.{k.split('.')[1]} {v}" for k, v in channel["heights"].items()
        )
        say(f"channel {channel['name']}: heights {heights}", markup=False)
        for cc in channel["chaincodes"]:
            say(
                f"  chaincode {cc['name']} version {cc['version']} sequence {cc['sequence']}",
                markup=False,
            )


def status(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    fmt: Format = OUTPUT,
) -> None:
    """What runs: every node with pid, ports and health; per channel each node's height and
    the committed chaincodes.

    Example: baas status examples/two-orgs.yaml -o json
    """
    from baas import services

    loaded = _load(file)
    outcome = services.status(
        loaded,
        target=target.value,
        kube=_kube(target, kubeconfig=kubeconfig, context=context, secrets=SecretsOpt.kubernetes),
    )
    data = outcome.to_dict()
    if fmt is Format.json or target is TargetOpt.kubernetes:
        output.print_json(data)
    else:
        _print_local_status(data)


def logs(
    file: Path = FILE,
    node: str | None = typer.Argument(None, help="Node FQDN or chaincode server (default: all)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines."),
    lines: int = typer.Option(50, "--lines", "-n", help="How many lines of each log."),
) -> None:
    """Print a node's log (local target).

    Example: baas logs examples/two-orgs.yaml peer0.org1.example.com -f
    """
    from baas import services

    loaded = _load(file)
    try:
        for line in services.logs(loaded, node=node, follow=follow, lines=lines):
            output.out.print(line, markup=False, highlight=False)
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
    as_json: bool = typer.Option(False, "--json", hidden=True, help="Deprecated: use -o json."),
) -> None:
    """End-to-end checks of the running network, one PASS/FAIL/SKIP line each with its time;
    exit 1 unless every check passed. Local networks: nodes healthy, channel membership,
    heights, gossip, a probe transaction endorsed per the channel policy and read back from
    every peer, a too-weakly endorsed one rejected, outsiders refused, chaincode definitions.

    With --load, a load probe follows (when every check passed): submitted, committed,
    failed by reason, TPS and latency percentiles, kept for `baas status`.

    Example: baas smoke examples/two-orgs.yaml --load --duration 30 --concurrency 16
    """
    from baas import services
    from baas.smoke.load import LoadOptions, LoadResult
    from baas.smoke.report import CheckResult, format_check

    if as_json:
        output.err.print("warning: --json is deprecated; use -o json", markup=False)
        fmt = Format.json
    text = fmt is Format.text

    def show(check: CheckResult) -> None:
        if text:
            for line in format_check(check):
                output.out.print(line, markup=False, highlight=False)

    def progress(result: LoadResult) -> None:
        if text:
            output.err.print(
                f"  load {result.channel}: {result.committed} committed, "
                f"{sum(result.failed.values())} failed",
                markup=False,
            )

    options = LoadOptions(duration=duration, concurrency=concurrency, rate=rate) if load else None
    loaded = _load(file)
    if text:
        output.err.print(f"[bold]baas smoke[/bold] {file} → {target.value}")
    outcome = services.smoke(
        loaded,
        target=target.value,
        kube=_kube(
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
            output.out.print(result.summary(), markup=False, highlight=False)
        output.out.print(report.summary(), markup=False, highlight=False)
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
