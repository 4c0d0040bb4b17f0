"""What several commands do alike: load a topology (its warnings shown once), summarise a valid
one as ``validate`` does, print a result in the asked format, and say what to run next."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baas.cli import output
from baas.cli.options import Format

if TYPE_CHECKING:
    import topology
    from baas.services.plan import ValidationResult


def load(file: Path) -> topology.LoadedTopology:
    """The validated topology ``file``, its warnings printed once on stderr (text mode; in JSON
    mode they are the document's ``warnings``). Raises :class:`topology.TopologyError`."""
    from baas import services

    loaded = services.load(file)
    output.print_warnings(loaded.warnings)
    return loaded


def count(n: int, noun: str) -> str:
    """``1 organisation``, ``3 organisations``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(file: Path | str, result: ValidationResult) -> str:
    """``validate``'s line for a valid file: ``FILE: network 'n', 3 organisations, 7 nodes, 1
    channel, 1 chaincode``."""
    return (
        f"{file}: network {result.network!r}, {count(result.organizations, 'organisation')}, "
        f"{count(result.nodes, 'node')}, {count(result.channels, 'channel')}, "
        f"{count(result.chaincodes, 'chaincode')}"
    )


def emit(outcome: Any, fmt: Format) -> bool:
    """Print ``outcome`` (anything with ``to_dict()``) as the JSON document when ``fmt`` is
    json; returns whether it did (the caller then prints nothing else on stdout)."""
    if fmt is not Format.json:
        return False
    output.print_json(outcome.to_dict())
    return True


def command_line(*words: str | Path) -> str:
    """``words`` as one shell command line, each quoted when needed."""
    return " ".join(shlex.quote(str(w)) for w in words)


def print_next(lines: Sequence[tuple[str, str]]) -> None:
    """``next:`` then each ``(command line, what it does)``, aligned, on stderr."""
    if not lines:
        return
    width = max(len(cmd) for cmd, _ in lines)
    output.note("next:")
    for cmd, what in lines:
        output.note(f"  {cmd:<{width}}  # {what}")


def helm_to_install() -> str | None:
    """The pinned helm release when it is neither configured (``BAAS_HELM``) nor cached, so
    that the next helm run installs it first; else None."""
    from baas.runtimes.kubernetes import helm

    if os.environ.get("BAAS_HELM") or helm.cache_path().is_file():
        return None
    return helm.HELM_VERSION


def announce_helm() -> None:
    """Say, before it happens, that helm is about to be installed (once, into the cache)."""
    from baas.runtimes.kubernetes import helm

    version = helm_to_install()
    if version is not None:
        output.note(
            f"helm {version} is not installed: installing it into {helm.cache_path().parent} "
            "(once; set BAAS_HELM to use another helm 3 binary)"
        )
