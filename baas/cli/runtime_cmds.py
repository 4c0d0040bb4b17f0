"""``baas up``, ``baas down`` and ``baas status``: thin wrappers over :mod:`baas.services`."""

from __future__ import annotations

from pathlib import Path

import typer

from baas.cli import output
from baas.cli.options import (
    CONTEXT,
    FILE,
    KUBECONFIG,
    SECRETS,
    TARGET,
    SecretsOpt,
    TargetOpt,
    kube_options,
)


def _say(line: str) -> None:
    output.err.print(f"  {line}", markup=False)


def up(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait for workloads to be ready."),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds to wait for workloads."),
    registry: str = typer.Option("", "--image-registry", help="Registry prefix for images."),
) -> None:
    """Bring the network up (idempotent: re-running changes only what differs)."""
    from baas import services

    output.err.print(f"[bold]baas up[/bold] {file} → {target.value}")
    result = services.up(
        file,
        target=target.value,
        kube=kube_options(kubeconfig, context, secrets, wait, timeout, registry),
        report=_say,
    )
    verdict = "changed" if getattr(result, "changed", True) else "already up to date"
    output.err.print(f"[green]done[/green]: {verdict}")


def down(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    secrets: SecretsOpt = SECRETS,
    purge: bool = typer.Option(False, "--purge", help="Also delete namespaces, data and keys."),
) -> None:
    """Stop the network; --purge deletes its namespaces, volumes and key material too."""
    from baas import services

    services.down(
        file,
        target=target.value,
        purge=purge,
        kube=kube_options(kubeconfig, context, secrets),
        report=_say,
    )
    output.err.print("[green]done[/green]")


def status(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
) -> None:
    """Show what runs for the network: namespaces and workloads with readiness (JSON)."""
    from baas import services

    output.print_json(
        services.status(
            file, target=target.value, kube=kube_options(kubeconfig, context, SecretsOpt.kubernetes)
        )
    )


def smoke(
    file: Path = FILE,
    target: TargetOpt = TARGET,
    context: str | None = CONTEXT,
    kubeconfig: Path | None = KUBECONFIG,
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds each helm test pod may take."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
) -> None:
    """End-to-end checks of the running network, one PASS/FAIL/SKIP line each (exit 1 if any
    check does not pass): workloads ready, bootstrap Job succeeded, `helm test` per org."""
    from baas import services
    from baas.kubernetes.smoke import CheckResult, format_check

    def show(check: CheckResult) -> None:
        if not as_json:
            for line in format_check(check):
                output.out.print(line, markup=False)

    if not as_json:
        output.err.print(f"[bold]baas smoke[/bold] {file} → {target.value}")
    report = services.smoke(
        file,
        target=target.value,
        kube=kube_options(kubeconfig, context, SecretsOpt.kubernetes, timeout=timeout),
        on_check=show,
    )
    if as_json:
        output.print_json(report.to_dict())
    else:
        output.out.print(report.summary(), markup=False)
    if not report.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(down)
    app.command()(status)
    app.command()(smoke)
