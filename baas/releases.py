"""Chaincode releases: a copy of each chaincode version's sources as it was built, kept so
that ``baas chaincode rollback`` can serve an earlier version's code again after its folder
has moved on.

A runtime that builds chaincode from a folder calls :func:`keep` with each chaincode's name,
version and source folder; the copy goes to ``$BAAS_HOME/networks/<network>/chaincode/
releases/<name>/<version>/`` (dependencies and build outputs left out: they are rebuilt from
the lockfile), and a line is appended to ``releases.jsonl`` beside it whenever the version
kept differs from the last one logged, so the order in which versions were defined is known
(a rollback to 1.0 after 1.1 logs 1.0 again). Keeping the version logged last with the same
files again does nothing; the same version with other files replaces the copy (the newest
build of a version is the one it names).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from baas.home import network_dir

LEFT_OUT = frozenset({"node_modules", ".git", "target", "build", "dist", ".gradle"})
"""Folder names not copied (dependencies, VCS data and build outputs)."""
DIGEST_FILE = ".baas-release"


@dataclass(frozen=True)
class Release:
    """A kept version: its chaincode, version, copy and the files' digest."""

    chaincode: str
    version: str
    folder: Path
    digest: str


def releases_dir(network: str, chaincode: str) -> Path:
    return network_dir(network) / "chaincode" / "releases" / chaincode


def _log(network: str) -> Path:
    return network_dir(network) / "chaincode" / "releases.jsonl"


def _files(source: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, names in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT)
        found += [Path(root) / n for n in sorted(names) if n != DIGEST_FILE]
    return [f for f in found if f.is_file() and not f.is_symlink()]


def digest(source: Path) -> str:
    """SHA-256 over the relative paths and contents of the files :func:`keep` copies."""
    hashed = hashlib.sha256()
    for file in _files(source):
        relative = file.relative_to(source).as_posix().encode()
        data = file.read_bytes()
        hashed.update(len(relative).to_bytes(8, "big") + relative)
        hashed.update(len(data).to_bytes(8, "big") + data)
    return hashed.hexdigest()


def keep(network: str, *, chaincode: str, version: str, source: Path) -> Release:
    """Keep ``source``'s files as ``chaincode`` ``version`` of ``network`` (see the module
    docstring); returns the release. Idempotent for unchanged files."""
    folder = releases_dir(network, chaincode) / version
    wanted = digest(source)
    marker = folder / DIGEST_FILE
    if not (marker.is_file() and marker.read_text(encoding="utf-8").strip() == wanted):
        _copy(source, folder, wanted)
    last = _entries(network, chaincode)[-1:]
    if last != [(version, wanted)]:  # a new version defined (or a rollback): log the turn
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "chaincode": chaincode,
            "version": version,
            "digest": wanted,
        }
        with _log(network).open("a", encoding="utf-8") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")
    return Release(chaincode, version, folder, wanted)


def _copy(source: Path, folder: Path, wanted: str) -> None:
    """``source``'s files into ``folder`` (replacing it), through a staging folder."""
    version = folder.name
    staging = folder.with_name(f".{version}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    for file in _files(source):
        target = staging / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file, target)
    staging.mkdir(parents=True, exist_ok=True)
    (staging / DIGEST_FILE).write_text(wanted + "\n", encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    staging.replace(folder)


def _entries(network: str, chaincode: str) -> list[tuple[str, str]]:
    """``(version, digest)`` of each logged turn of ``chaincode``, oldest first."""
    try:
        lines = _log(network).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found: list[tuple[str, str]] = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("chaincode") == chaincode:
            found.append((str(entry.get("version")), str(entry.get("digest"))))
    return found


def kept(network: str, chaincode: str) -> list[Release]:
    """``chaincode``'s kept versions whose copy still exists, most recently defined first (a
    version defined twice counts at its latest)."""
    seen: set[str] = set()
    found: list[Release] = []
    for version, hashed in reversed(_entries(network, chaincode)):
        folder = releases_dir(network, chaincode) / version
        if version in seen or not (folder / DIGEST_FILE).is_file():
            continue
        seen.add(version)
        found.append(Release(chaincode, version, folder, hashed))
    return found
