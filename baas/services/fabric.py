"""Fabric's binaries as services: list what is installed, install a pinned release, find one.

Thin typed wrappers over :mod:`baas.fabric.binaries`; results have ``to_dict()`` with camelCase
keys (the ``-o json`` and REST shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baas.fabric import binaries
from baas.fabric.binaries import Candidate, FabricInstall, InstallStatus, Progress

__all__ = [
    "FabricInstall",
    "FabricInstallResult",
    "FabricListResult",
    "fabric_install",
    "fabric_list",
    "find_fabric",
]


def _install_dict(install: FabricInstall) -> dict[str, Any]:
    return {
        "release": install.release,
        "source": install.source,
        "root": str(install.root) if install.root is not None else None,
        "binDir": str(install.bin_dir),
        "configDir": str(install.config_dir),
        "buildersDir": str(install.builders_dir),
    }


def _candidate_dict(candidate: Candidate) -> dict[str, Any]:
    return {
        "source": candidate.source,
        "path": str(candidate.path) if candidate.path is not None else None,
        "state": candidate.state,
        "problem": candidate.problem,
        "missing": list(candidate.missing),
    }


@dataclass(frozen=True)
class FabricReleaseRow:
    """One pinned release: ``version`` (the line, "2.5"), ``release`` ("2.5.16"), ``status``
    (a :data:`baas.fabric.binaries.State`; ``absent`` when nothing was found anywhere), where it
    is (``source``, ``path``), what is ``missing`` and the ``problem`` (e.g. a version
    mismatch)."""

    status: InstallStatus

    @property
    def state(self) -> str:
        candidate = self.status.candidate
        return candidate.state if candidate is not None else "absent"

    def to_dict(self) -> dict[str, Any]:
        candidate = self.status.candidate
        install = self.status.install
        return {
            "version": self.status.line,
            "release": self.status.release,
            "found": self.status.found,
            "status": self.state,
            "source": candidate.source if candidate is not None else None,
            "path": str(candidate.path) if candidate and candidate.path is not None else None,
            "missing": list(candidate.missing) if candidate is not None else [],
            "problem": candidate.problem if candidate is not None else "not found",
            "install": _install_dict(install) if install is not None else None,
            "searched": [_candidate_dict(c) for c in self.status.searched],
        }


@dataclass(frozen=True)
class FabricListResult:
    """Every pinned release and whether (and where) its binaries are installed."""

    rows: tuple[FabricReleaseRow, ...]

    @property
    def all_found(self) -> bool:
        return all(row.status.found for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"allFound": self.all_found, "releases": [row.to_dict() for row in self.rows]}


@dataclass(frozen=True)
class FabricInstallResult:
    """The cache install of a release; ``installed`` is False when a verified install was
    already there and nothing was downloaded."""

    install: FabricInstall
    installed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": binaries.line_of(self.install.release),
            "installed": self.installed,
            **_install_dict(self.install),
        }


def fabric_list(*, fabric_bin: Path | None = None) -> FabricListResult:
    """Where each pinned release would be found (``fabric_bin`` as for :func:`find_fabric`)."""
    return FabricListResult(
        tuple(FabricReleaseRow(s) for s in binaries.list_installs(fabric_bin=fabric_bin))
    )


def fabric_install(
    version: str = "2.5",
    *,
    force: bool = False,
    progress: Progress | None = None,
    base_url: str | None = None,
) -> FabricInstallResult:
    """Install ``version`` ("2.5", "3.1" or a pinned release) into the cache, unless a verified
    install is already there (``force`` re-downloads). ``progress(done, total)`` sees download
    bytes. Errors as :func:`baas.fabric.binaries.install`."""
    existing = None if force else binaries.cached(version)
    if existing is not None:
        return FabricInstallResult(existing, installed=False)
    done = binaries.install(version, base_url=base_url, progress=progress, force=force)
    return FabricInstallResult(done, installed=True)


def find_fabric(release: str, fabric_bin: Path | None = None) -> FabricInstall:
    """The install of ``release`` to use; see :func:`baas.fabric.binaries.find`."""
    return binaries.find(release, fabric_bin=fabric_bin)
