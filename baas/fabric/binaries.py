"""Fabric's own binaries (peer, orderer, configtxgen, ...): find them, check them, install them.

A usable install is laid out like Fabric's official release archive
``hyperledger-fabric-<os>-<arch>-<release>.tar.gz``::

    bin/peer, bin/orderer, bin/configtxgen, ...     the binaries
    config/core.yaml, config/orderer.yaml           sample configs (FABRIC_CFG_PATH)
    builders/ccaas/bin/{detect,build,release}       the chaincode-as-a-service builder

and its ``peer version`` and ``orderer version`` report exactly the pinned release (a build
without release metadata says ``Version: latest`` and is refused).

:func:`find` searches, in order: the ``--fabric-bin`` folder, ``$FABRIC_BIN``, the cache
``${XDG_CACHE_HOME:-~/.cache}/baas/fabric/<release>`` and ``PATH``. The first two are explicit:
when set but wrong they fail at once instead of falling through. :func:`install` downloads the
official archive into the cache, verifies it and moves it into place atomically.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

import httpx

from baas.errors import OperationError, UsageError
from topology.model import FABRIC_VERSIONS

Source = Literal["--fabric-bin", "FABRIC_BIN", "cache", "PATH"]
"""Where an install was found."""

State = Literal["ok", "not-set", "absent", "incomplete", "wrong-version", "unusable"]
"""What a searched place holds: ``ok`` (accepted), ``not-set`` (no ``--fabric-bin`` /
``FABRIC_BIN`` given), ``absent`` (no such folder, no peer on PATH), ``incomplete`` (required
files missing), ``wrong-version`` (peer or orderer report another release), ``unusable`` (a
binary does not run or prints no version)."""

Progress = Callable[[int, int | None], None]
"""Download progress: ``(bytes done, bytes total or None when the server does not say)``."""

DEFAULT_DOWNLOAD_URL = "https://github.com/hyperledger/fabric/releases/download"
DOWNLOAD_URL_ENV = "BAAS_FABRIC_DOWNLOAD_URL"
FABRIC_BIN_ENV = "FABRIC_BIN"
PROBE_TIMEOUT_S = 20.0  # `peer version` takes milliseconds; this only bounds a hung binary
DOWNLOAD_TIMEOUT_S = 60.0  # per network operation (connect, each read), not the whole download
CHUNK = 1 << 16

BINARIES = ("peer", "orderer", "configtxgen")
CONFIG_FILES = ("core.yaml", "orderer.yaml")
BUILDER_SCRIPTS = ("detect", "build", "release")
VERSIONED = ("peer", "orderer")

_VERSION_LINE = re.compile(r"^\s*Version:\s*(\S+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class FabricInstall:
    """A verified Fabric release on this machine.

    ``root`` is the folder holding ``bin/``, ``config/`` and ``builders/`` (None when the
    binaries were found on PATH); ``config_dir`` holds core.yaml and orderer.yaml (use it as
    ``FABRIC_CFG_PATH``); ``builders_dir`` is the ccaas external builder, the folder containing
    ``bin/detect``.
    """

    release: str
    root: Path | None
    bin_dir: Path
    config_dir: Path
    builders_dir: Path
    source: Source

    def binary(self, name: str) -> Path:
        """Path of the executable ``name`` in ``bin_dir``; :class:`OperationError` when it is
        not there or not executable (only peer, orderer and configtxgen are checked by
        :func:`find`)."""
        path = self.bin_dir / name
        if not _is_executable(path):
            raise OperationError(
                f"Fabric {self.release} at {self.bin_dir} has no executable {name}",
                hint=f"the official release archive has it; {_provide_hint(self.release)}",
            )
        return path

    @property
    def peer(self) -> Path:
        return self.binary("peer")

    @property
    def orderer(self) -> Path:
        return self.binary("orderer")

    @property
    def configtxgen(self) -> Path:
        return self.binary("configtxgen")


@dataclass(frozen=True)
class Candidate:
    """One place :func:`find` looks at and what it holds there. ``path`` is the release folder
    (the ``bin`` folder for PATH; None when not set); ``missing`` lists required files by their
    archive name (``bin/peer``, ``config/core.yaml``...); ``problem`` says why the place was not
    accepted (empty when ``state`` is ``ok``, then ``install`` is set)."""

    source: Source
    path: Path | None
    state: State
    problem: str = ""
    missing: tuple[str, ...] = ()
    install: FabricInstall | None = None

    @property
    def found(self) -> bool:
        return self.state == "ok"

    @property
    def explicit(self) -> bool:
        """Set by the user (``--fabric-bin`` or ``FABRIC_BIN``): a failure here is final."""
        return self.source in ("--fabric-bin", "FABRIC_BIN") and self.state != "not-set"

    def describe(self) -> str:
        """``"cache /x/2.5.16: no such folder"`` — for messages."""
        where = f"{self.source} {self.path}" if self.path is not None else self.source
        return f"{where}: {self.problem}" if self.problem else f"{where}: ok"


@dataclass(frozen=True)
class InstallStatus:
    """What :func:`find` would do for one pinned release (``line`` "2.5", ``release``
    "2.5.16"). ``candidate`` is the accepted place, or the explicit one find stops at, or the
    first place that holds something unusable; None when nothing is anywhere. ``searched`` are
    the places looked at, in order."""

    line: str
    release: str
    candidate: Candidate | None
    searched: tuple[Candidate, ...]

    @property
    def found(self) -> bool:
        return self.candidate is not None and self.candidate.found

    @property
    def install(self) -> FabricInstall | None:
        return self.candidate.install if self.candidate is not None else None


# ---------------------------------------------------------------------------- releases


def pinned_releases() -> dict[str, str]:
    """``{"2.5": "2.5.16", "3.1": "3.1.5"}``: each Fabric line and its pinned release."""
    return dict(FABRIC_VERSIONS)


def resolve_release(version: str) -> str:
    """The pinned release for ``version``: a line ("2.5") or a pinned release ("2.5.16").
    :class:`UsageError` listing the choices for anything else."""
    text = version.strip().removeprefix("v")
    if text in FABRIC_VERSIONS:
        return FABRIC_VERSIONS[text]
    if text in FABRIC_VERSIONS.values():
        return text
    choices = ", ".join(f"{line} ({release})" for line, release in FABRIC_VERSIONS.items())
    raise UsageError(f"unsupported Fabric version {version!r}", hint=f"choose one of: {choices}")


def line_of(release: str) -> str:
    """The Fabric line ("2.5") of a pinned release ("2.5.16"); the release itself otherwise."""
    for line, pinned in FABRIC_VERSIONS.items():
        if pinned == release:
            return line
    return release


def cache_root() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/baas/fabric`` (a relative XDG_CACHE_HOME is ignored, as
    the XDG spec says)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path("~/.cache").expanduser()
    return base / "baas" / "fabric"


def cache_dir(release: str) -> Path:
    """The cache folder of ``release``: ``cache_root()/<release>``."""
    return cache_root() / release


def archive_name(release: str) -> str:
    """``hyperledger-fabric-<os>-<arch>-<release>.tar.gz`` for this machine;
    :class:`OperationError` on a platform Fabric publishes no archive for."""
    return f"hyperledger-fabric-{_platform()}-{release}.tar.gz"


def download_url(release: str, *, base_url: str | None = None) -> str:
    """``<base>/v<release>/<archive_name>``; base is ``base_url``, else
    ``$BAAS_FABRIC_DOWNLOAD_URL``, else GitHub's release downloads."""
    base = base_url or os.environ.get(DOWNLOAD_URL_ENV) or DEFAULT_DOWNLOAD_URL
    return f"{base.rstrip('/')}/v{release}/{archive_name(release)}"


def _platform() -> str:
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform)
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    if system is None or arch is None:
        raise OperationError(
            f"Fabric publishes no release archive for {sys.platform}/{platform.machine()}",
            hint=f"build Fabric yourself and point {FABRIC_BIN_ENV} at a folder laid out like "
            "the release archive (bin/, config/, builders/ccaas/)",
        )
    return f"{system}-{arch}"


def _provide_hint(release: str) -> str:
    return (
        f"run `baas fabric install --version {line_of(release)}`, or point --fabric-bin DIR "
        f"or {FABRIC_BIN_ENV} at an extracted official release archive "
        f"(hyperledger-fabric-<os>-<arch>-{release}.tar.gz)"
    )


# ---------------------------------------------------------------------------- version probe


@dataclass(frozen=True)
class _Probe:
    version: str | None
    error: str = ""


_PROBES: dict[tuple[str, int, int], _Probe] = {}
_PROBES_LOCK = threading.Lock()


def probe_version(binary: Path) -> str:
    """The release ``<binary> version`` reports (its ``Version:`` line, e.g. "2.5.16" or
    "latest"). :class:`OperationError` when it does not run, fails, times out or prints no
    version. Memoised per (path, mtime, size) for the life of the process."""
    probe = _probe(binary)
    if probe.version is None:
        raise OperationError(probe.error, hint="check the binary runs on this machine")
    return probe.version


def _probe(binary: Path) -> _Probe:
    try:
        stat = binary.stat()
    except OSError as exc:
        return _Probe(None, f"{binary}: {exc.strerror or exc}")
    key = (str(binary.absolute()), stat.st_mtime_ns, stat.st_size)
    with _PROBES_LOCK:
        known = _PROBES.get(key)
    if known is not None:
        return known
    result = _run_probe(binary)
    with _PROBES_LOCK:
        _PROBES[key] = result
    return result


def _run_probe(binary: Path) -> _Probe:
    try:
        done = subprocess.run(
            [str(binary), "version"],
            capture_output=True,
            text=True,
            errors="replace",
            stdin=subprocess.DEVNULL,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _Probe(None, f"`{binary} version` did not finish within {PROBE_TIMEOUT_S:.0f}s")
    except OSError as exc:
        return _Probe(None, f"`{binary} version` could not run: {exc.strerror or exc}")
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
        return _Probe(None, f"`{binary} version` exited with {done.returncode}: {last[0]}")
    match = _VERSION_LINE.search(done.stdout)
    if match is None:
        return _Probe(None, f"`{binary} version` printed no 'Version:' line")
    return _Probe(match.group(1))


# ---------------------------------------------------------------------------- checking places


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _missing_files(bin_dir: Path, config_dir: Path, builders_dir: Path) -> tuple[str, ...]:
    """Required files absent (or binaries not executable), by their archive name."""
    missing: list[str] = []
    for name in BINARIES:
        path = bin_dir / name
        if not path.is_file():
            missing.append(f"bin/{name}")
        elif not _is_executable(path):
            missing.append(f"bin/{name} (not executable)")
    missing += [f"config/{name}" for name in CONFIG_FILES if not (config_dir / name).is_file()]
    for name in BUILDER_SCRIPTS:
        path = builders_dir / "bin" / name
        if not _is_executable(path):
            missing.append(f"builders/ccaas/bin/{name}")
    return tuple(missing)


def _check(install: FabricInstall, *, path: Path) -> Candidate:
    """Accept ``install`` if every required file is there and peer and orderer report its
    release."""
    source, release = install.source, install.release
    missing = _missing_files(install.bin_dir, install.config_dir, install.builders_dir)
    if missing:
        problem = f"not a complete Fabric release folder: missing {', '.join(missing)}"
        return Candidate(source, path, "incomplete", problem, missing)
    for name in VERSIONED:
        binary = install.bin_dir / name
        probe = _probe(binary)
        if probe.version is None:
            return Candidate(source, path, "unusable", probe.error)
        if probe.version != release:
            note = (
                " (a build without release version metadata)" if probe.version == "latest" else ""
            )
            problem = f"{binary} reports version {probe.version}{note}; Fabric {release} is needed"
            return Candidate(source, path, "wrong-version", problem)
    return Candidate(source, path, "ok", install=install)


def _layout(root: Path, source: Source, release: str) -> FabricInstall:
    return FabricInstall(
        release=release,
        root=root,
        bin_dir=root / "bin",
        config_dir=root / "config",
        builders_dir=root / "builders" / "ccaas",
        source=source,
    )


def _release_folder(folder: Path) -> Path:
    """The release folder for ``folder``: itself, or its parent when ``folder`` is the
    ``bin/`` of a release (has a peer, or is named ``bin`` with no ``bin/`` inside)."""
    if (folder / "bin").is_dir():
        return folder
    if (folder / "peer").exists() or folder.name == "bin":
        return folder.parent
    return folder


def _folder_candidate(folder: Path, source: Source, release: str) -> Candidate:
    folder = folder.expanduser()
    if not folder.is_dir():
        return Candidate(source, folder, "absent", "no such folder")
    root = _release_folder(folder.absolute())
    return _check(_layout(root, source, release), path=root)


def _path_candidate(release: str) -> Candidate:
    """``peer`` on PATH: its folder is ``bin``; config and builders sit beside it. A symlinked
    peer is also tried in its target's folder."""
    found = shutil.which("peer")
    if found is None:
        return Candidate("PATH", None, "absent", "no peer on PATH")
    first: Candidate | None = None
    for bin_dir in dict.fromkeys([Path(found).absolute().parent, Path(found).resolve().parent]):
        install = FabricInstall(
            release=release,
            root=None,
            bin_dir=bin_dir,
            config_dir=bin_dir.parent / "config",
            builders_dir=bin_dir.parent / "builders" / "ccaas",
            source="PATH",
        )
        candidate = _check(install, path=bin_dir)
        if candidate.found:
            return candidate
        first = first or candidate
    assert first is not None
    return first


def _candidates(release: str, fabric_bin: Path | None) -> Iterator[Candidate]:
    """Every place, in search order, checked lazily."""
    if fabric_bin is None:
        yield Candidate("--fabric-bin", None, "not-set", "not given")
    else:
        yield _folder_candidate(Path(fabric_bin), "--fabric-bin", release)
    env = os.environ.get(FABRIC_BIN_ENV, "")
    if env:
        yield _folder_candidate(Path(env), "FABRIC_BIN", release)
    else:
        yield Candidate("FABRIC_BIN", None, "not-set", "not set")
    yield _folder_candidate(cache_dir(release), "cache", release)
    yield _path_candidate(release)


def _decide(candidates: Iterator[Candidate]) -> tuple[Candidate | None, tuple[Candidate, ...]]:
    """(the accepted or final explicit candidate or None, the candidates looked at)."""
    seen: list[Candidate] = []
    for candidate in candidates:
        seen.append(candidate)
        if candidate.found or candidate.explicit:
            return candidate, tuple(seen)
    return None, tuple(seen)


# ---------------------------------------------------------------------------- public: find


def find(release: str, *, fabric_bin: Path | None = None) -> FabricInstall:
    """The install of ``release`` (a pinned release "2.5.16" or its line "2.5") to use.

    Searches ``fabric_bin`` (a release folder or its ``bin/``), ``$FABRIC_BIN`` (same), the
    cache, then PATH; the first place whose files are complete and whose peer and orderer report
    exactly ``release`` wins. Raises :class:`UsageError` when ``fabric_bin`` or ``FABRIC_BIN``
    is set but wrong (naming the missing files, or the binary with the version found and the
    one needed) — without looking further; :class:`OperationError` naming every place searched
    when none holds the release; :class:`UsageError` for an unsupported version. Cheap to call
    again: version probes are memoised.
    """
    release = resolve_release(release)
    chosen, seen = _decide(_candidates(release, fabric_bin))
    if chosen is not None and chosen.install is not None:
        return chosen.install
    if chosen is not None:  # an explicit place, set but wrong
        what = chosen.source
        raise UsageError(
            f"{what} {chosen.path}: {chosen.problem}",
            hint=f"point {what} at an extracted hyperledger-fabric-<os>-<arch>-{release}.tar.gz"
            f" (bin/, config/, builders/ccaas/), or drop it and run "
            f"`baas fabric install --version {line_of(release)}`",
        )
    searched = "; ".join(c.describe() for c in seen)
    raise OperationError(
        f"Fabric {release} binaries not found (searched {searched})",
        hint=_provide_hint(release),
    )


def cached(release: str) -> FabricInstall | None:
    """The verified cache install of ``release`` (a line or pinned release), or None."""
    release = resolve_release(release)
    return _folder_candidate(cache_dir(release), "cache", release).install


def status(release: str, *, fabric_bin: Path | None = None) -> list[Candidate]:
    """Every place :func:`find` would search for ``release``, each checked (even after one
    is accepted), in search order."""
    return list(_candidates(resolve_release(release), fabric_bin))


def list_installs(*, fabric_bin: Path | None = None) -> list[InstallStatus]:
    """One :class:`InstallStatus` per pinned release, in line order."""
    result: list[InstallStatus] = []
    for line, release in FABRIC_VERSIONS.items():
        chosen, seen = _decide(_candidates(release, fabric_bin))
        if chosen is None:
            chosen = next((c for c in seen if c.state not in ("absent", "not-set")), None)
        result.append(InstallStatus(line, release, chosen, seen))
    return result


# ---------------------------------------------------------------------------- public: install


def install(
    version: str,
    *,
    base_url: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> FabricInstall:
    """Download Fabric's official archive for ``version`` ("2.5", "3.1" or a pinned release)
    into the cache and return the verified install.

    Returns the existing cache install untouched when it verifies, unless ``force``. The archive
    comes from :func:`download_url` (``base_url``, ``$BAAS_FABRIC_DOWNLOAD_URL``, GitHub) and is
    streamed to a temporary sibling of the cache folder (``progress(done, total)`` after each
    chunk), extracted there with tarfile's ``data`` filter (absolute paths, ``..``, escaping
    links and device files are refused), checked (required files, peer and orderer versions) and
    renamed into place. Any failure or interruption removes the temporary folder and leaves the
    previous cache folder (if any) as it was. Raises :class:`UsageError` for an unsupported
    version and :class:`OperationError` for network/HTTP errors, a bad archive or a failed
    verification.
    """
    release = resolve_release(version)
    target = cache_dir(release)
    if not force:
        existing = _folder_candidate(target, "cache", release)
        if existing.install is not None:
            return existing.install
    url = download_url(release, base_url=base_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{release}.partial-", dir=target.parent))
    try:
        archive = work / "download.tar.gz"
        _download(url, archive, progress)
        tree = work / "tree"
        _extract(archive, tree, url=url)
        _verify(tree, release, url=url)
        _replace(target, tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _layout(target, "cache", release)


def _download_error(url: str, what: str) -> OperationError:
    return OperationError(
        f"download of {url} failed: {what}",
        hint=f"check the network (or {DOWNLOAD_URL_ENV}); on an air-gapped machine copy the "
        f"archive over, extract it and point {FABRIC_BIN_ENV} at the folder",
    )


def _download(url: str, dest: Path, progress: Progress | None) -> None:
    """Stream ``url`` to ``dest``; a short body (connection closed early) is an error."""
    timeout = httpx.Timeout(DOWNLOAD_TIMEOUT_S)
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise _download_error(
                    url, f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                )
            total = _content_length(response)
            if progress is not None:
                progress(0, total)
            with dest.open("wb") as sink:
                for chunk in response.iter_bytes(CHUNK):
                    sink.write(chunk)
                    if progress is not None:
                        progress(response.num_bytes_downloaded, total)
            if total is not None and response.num_bytes_downloaded < total:
                got = response.num_bytes_downloaded
                raise _download_error(url, f"connection closed after {got} of {total} bytes")
    except httpx.HTTPError as exc:
        raise _download_error(url, f"{type(exc).__name__}: {exc}") from exc


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value is not None and value.isdigit() else None


def _unsafe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return path.is_absolute() or ".." in path.parts or name.startswith("\\")


def _extract(archive: Path, dest: Path, *, url: str) -> None:
    """Extract ``archive`` into ``dest`` refusing anything that could land outside it."""
    hint = "the archive should be Fabric's official release archive; check the download URL"
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            bad = [m.name for m in members if _unsafe_name(m.name)]
            if bad:
                raise OperationError(
                    f"refusing the archive from {url}: unsafe path {bad[0]!r}", hint=hint
                )
            dest.mkdir()
            tar.extractall(dest, members=members, filter="data")
    except tarfile.FilterError as exc:
        raise OperationError(f"refusing the archive from {url}: {exc}", hint=hint) from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise OperationError(f"cannot extract the archive from {url}: {exc}", hint=hint) from exc


def _verify(tree: Path, release: str, *, url: str) -> None:
    candidate = _check(_layout(tree, "cache", release), path=tree)
    if not candidate.found:
        raise OperationError(
            f"the archive from {url} is not a usable Fabric {release}: {candidate.problem}",
            hint=f"check {DOWNLOAD_URL_ENV} points at Fabric's release downloads; nothing was "
            "changed in the cache",
        )


def _replace(target: Path, tree: Path) -> None:
    """Move ``tree`` to ``target``. An existing ``target`` is set aside first, restored if the
    move fails and deleted once it succeeded."""
    if not target.exists():
        try:
            tree.rename(target)
            return
        except OSError:
            if not target.exists():
                raise  # otherwise another install got there first: replace it below
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    try:
        aside = holder / "old"
        target.rename(aside)
        try:
            tree.rename(target)
        except BaseException:
            aside.rename(target)
            raise
    finally:
        shutil.rmtree(holder, ignore_errors=True)
