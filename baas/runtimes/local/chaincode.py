"""Chaincode servers on this machine: recognise a chaincode folder, install its dependencies
once, and say how to start it as a chaincode-as-a-service server (fabric.md §4.4).

Only Node chaincode is supported (npm ``fabric-shim`` 2.5.x, the safe choice per fabric.md §4.5):

* :func:`detect` reads a folder and returns a :class:`ChaincodeSource`, or refuses it with a
  :class:`~baas.errors.UsageError` (no lockfile, Go/Java/Python, missing or empty folder).
* :func:`prepare` runs ``npm ci --omit=dev --no-audit --no-fund`` once per dependency digest and
  lays the sources next to the installed modules::

      <cache>/node/<digest>/                 package.json, lockfile, node_modules/ (npm ci here)
      <cache>/node/<digest>/sources/<sha>/   the chaincode's files: the server's working folder

  ``<cache>`` is ``${XDG_CACHE_HOME:-~/.cache}/baas/chaincode``; ``<digest>`` is the SHA-256 of
  package.json and the lockfile (``-dev`` appended when dev dependencies are included) and
  ``<sha>`` that of the copied files. Sources are keyed separately so that editing the
  chaincode never runs stale code yet never reinstalls unchanged dependencies; Node finds
  ``node_modules`` by walking up from the sources. Both levels are built in a temporary folder
  and renamed into place, so a folder that exists is complete, and concurrent callers cannot
  corrupt it (the loser of a rename race uses the winner's folder).
* :func:`server_command` returns the :class:`ServerCommand` a supervisor keeps running:
  ``node <fabric-shim cli.js> server --chaincode-address=… --chaincode-id=…`` (+ TLS flags).

Root-package lifecycle scripts run by ``npm ci`` see only package.json and the lockfile, not the
sources, and a project ``.npmrc`` is not copied (npm uses the user's configuration).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from baas.errors import OperationError, UsageError

Report = Callable[[str], None]

NPM_CI_ARGS: tuple[str, ...] = ("ci", "--omit=dev", "--no-audit", "--no-fund")
"""``npm`` arguments for a production install (dev dependencies left out)."""
NPM_CI_DEV_ARGS: tuple[str, ...] = ("ci", "--no-audit", "--no-fund")
"""``npm`` arguments when dev dependencies are wanted (running the chaincode's own tests)."""
LOCKFILES: tuple[str, ...] = ("npm-shrinkwrap.json", "package-lock.json")
"""Lockfiles ``npm ci`` accepts, in npm's order of precedence."""
SHIM_PACKAGE = "fabric-shim"
"""The npm package whose CLI (``fabric-chaincode-node``) serves Node chaincode."""
SOURCES_DIR = "sources"

EXCLUDED_DIRS = frozenset({"node_modules", ".git"})
"""Folders never copied, at any depth."""
TEST_DIRS = frozenset({"test", "tests", "__tests__", "coverage"})
"""Top-level folders left out of a production install (a dev install keeps them)."""

_OTHER_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("go.mod", "Go"),
    ("pom.xml", "Java"),
    ("build.gradle", "Java"),
    ("build.gradle.kts", "Java"),
    ("setup.py", "Python"),
    ("pyproject.toml", "Python"),
)
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*:[0-9a-f]{64}$")
"""``<label>:<hex SHA-256>``; Fabric's label rule (fabric.md §4.2), lower-case hex digest."""
_ADDRESS = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")
_NPM_TIMEOUT = 900.0
_EXCERPT_LINES = 12


@dataclass(frozen=True)
class ChaincodeSource:
    """A chaincode folder :func:`detect` accepted.

    ``path`` is absolute; ``manifest`` is its package.json and ``lockfile`` the lockfile
    ``npm ci`` will use (npm-shrinkwrap.json wins over package-lock.json, as in npm).
    ``name`` is package.json's ``name`` (the folder's name when it has none).
    """

    path: Path
    name: str
    manifest: Path
    lockfile: Path
    language: Literal["node"] = "node"


@dataclass(frozen=True)
class PreparedChaincode:
    """A chaincode ready to serve.

    ``root`` holds package.json and the sources (the server's working folder); ``modules`` is
    the ``node_modules`` folder Node resolves from ``root``. ``digest`` names the dependency
    install, ``source_digest`` the copied sources. ``installed`` is true when this call ran
    ``npm ci``, false when the dependencies came from the cache.
    """

    source: ChaincodeSource
    root: Path
    modules: Path
    digest: str
    source_digest: str
    installed: bool


@dataclass(frozen=True)
class ServerTLS:
    """TLS material for a chaincode server: PEM files (paths, not contents).

    ``key_file``/``cert_file`` are the server's key and certificate; with ``client_ca_file``
    the server also requires the peer to present a client certificate issued by that CA.
    """

    key_file: Path
    cert_file: Path
    client_ca_file: Path | None = None


@dataclass(frozen=True)
class ServerCommand:
    """How to start a chaincode server: run ``argv`` in ``cwd`` with exactly ``env``.

    ``env`` is the complete environment, not additions to the caller's: the shim reads every
    ``CORE_*`` variable as a command-line flag, so an inherited environment could change its
    options. It holds only NODE_ENV=production and the CHAINCODE_SERVER_ADDRESS/CHAINCODE_ID
    variables chaincode conventionally reads, so it depends on nothing but the arguments (a
    supervisor that restarts programs whose environment changed is not disturbed).
    ``argv[0]`` is node's absolute path, so no PATH is needed.
    """

    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path


def default_cache_dir() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/baas/chaincode`` (an empty XDG_CACHE_HOME counts as unset)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "baas" / "chaincode"


# --- detect -----------------------------------------------------------------------------------


def detect(path: Path) -> ChaincodeSource:
    """Recognise the chaincode in folder ``path`` by its files.

    ``package.json`` means Node: it must be a JSON object with a ``main`` entry and
    ``fabric-shim`` among its ``dependencies``, next to a lockfile (package-lock.json or
    npm-shrinkwrap.json). Go (go.mod), Java (pom.xml, build.gradle) and Python (setup.py,
    pyproject.toml) are recognised and refused. Every refusal is a :class:`UsageError`: a
    missing path, a file, an empty folder, a folder with none of those files.
    """
    folder = _existing_folder(path)
    manifest = folder / "package.json"
    if manifest.is_file():
        return _node_source(folder, manifest)
    for marker, language in _OTHER_LANGUAGES:
        if (folder / marker).is_file():
            raise UsageError(
                f"{folder} holds {language} chaincode ({marker}); {language} chaincode is not "
                "supported yet",
                hint="chaincode for the local runtime must be Node for now (a folder with "
                "package.json and package-lock.json, on fabric-shim 2.5); on Kubernetes, give "
                "the chaincode an `image` that runs its server instead of a path",
            )
    raise UsageError(
        f"no chaincode found in {folder}: it has no package.json",
        hint="point the chaincode's path at a Node chaincode folder (package.json, "
        "package-lock.json and the sources), such as examples/chaincode/asset-transfer",
    )


def _existing_folder(path: Path) -> Path:
    folder = path.expanduser().absolute()
    if not folder.exists():
        raise UsageError(
            f"chaincode folder {folder} does not exist",
            hint="check the chaincode's path (relative paths start from the current folder)",
        )
    if not folder.is_dir():
        raise UsageError(
            f"chaincode path {folder} is not a folder",
            hint="point the chaincode's path at the folder holding its package.json",
        )
    if next(folder.iterdir(), None) is None:
        raise UsageError(
            f"chaincode folder {folder} is empty",
            hint="point the chaincode's path at the folder holding its package.json and sources",
        )
    return folder


def _node_source(folder: Path, manifest: Path) -> ChaincodeSource:
    package = _read_manifest(manifest)
    if not isinstance(package.get("main"), str) or not package["main"]:
        raise UsageError(
            f'{manifest} has no "main" entry',
            hint='fabric-chaincode-node loads the file "main" names: add e.g. '
            '"main": "index.js" exporting the contracts',
        )
    dependencies = package.get("dependencies")
    if not isinstance(dependencies, dict) or SHIM_PACKAGE not in dependencies:
        raise UsageError(
            f"{manifest} does not depend on {SHIM_PACKAGE}",
            hint=f'add "{SHIM_PACKAGE}": "2.5.8" to "dependencies" (not devDependencies): '
            "its fabric-chaincode-node command runs the chaincode server",
        )
    lockfile = next((folder / n for n in LOCKFILES if (folder / n).is_file()), None)
    if lockfile is None:
        raise UsageError(
            f"{folder} has package.json but no package-lock.json",
            hint=f"run `npm install` in {folder} and commit package-lock.json: baas installs "
            "exactly what the lockfile pins (npm ci)",
        )
    name = package.get("name")
    return ChaincodeSource(
        path=folder,
        name=name if isinstance(name, str) and name else folder.name,
        manifest=manifest,
        lockfile=lockfile,
    )


def _read_manifest(manifest: Path) -> dict[str, object]:
    try:
        package = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(
            f"cannot read {manifest}: {exc}",
            hint="package.json must be valid JSON (check it with `npm pkg get name`)",
        ) from None
    if not isinstance(package, dict):
        raise UsageError(
            f"{manifest} is not a JSON object",
            hint="package.json must be an object with name, main and dependencies",
        )
    return package


# --- prepare ----------------------------------------------------------------------------------


def prepare(
    source: ChaincodeSource,
    *,
    cache_dir: Path | None = None,
    report: Report | None = None,
    include_dev: bool = False,
) -> PreparedChaincode:
    """Install ``source``'s dependencies (once per digest) and copy its sources (once per content).

    ``cache_dir`` defaults to :func:`default_cache_dir`. ``report`` receives one line per step,
    saying whether ``npm ci`` ran or the cache was used. ``include_dev`` installs dev
    dependencies too and keeps test folders (to run the chaincode's own tests); it uses its own
    cache folder (``<digest>-dev``).

    Raises :class:`OperationError` when npm is missing, ``npm ci`` fails (the command and
    npm's last error report from stderr are in the message) or the cache cannot be written;
    nothing is left behind in that case. The files are read when this is called: edit the
    chaincode, call it again, and a new sources folder appears next to the same
    ``node_modules``.
    """
    say = report or _silent
    root = (cache_dir or default_cache_dir()) / "node"
    digest = dependency_digest(source, include_dev=include_dev)
    install = root / digest
    installed = _ensure_dependencies(source, install=install, include_dev=include_dev, say=say)
    files = dict(_source_files(source.path, include_tests=include_dev))
    source_digest = _files_digest(files)
    sources = install / SOURCES_DIR / source_digest
    _ensure_sources(files, sources=sources, name=source.name, say=say)
    return PreparedChaincode(
        source=source,
        root=sources,
        modules=install / "node_modules",
        digest=digest,
        source_digest=source_digest,
        installed=installed,
    )


def dependency_digest(source: ChaincodeSource, *, include_dev: bool = False) -> str:
    """SHA-256 (hex) of package.json and the lockfile (file names and bytes, length-framed);
    ``-dev`` appended when dev dependencies are included."""
    digest = hashlib.sha256()
    for file in (source.manifest, source.lockfile):
        _frame(digest, file.name.encode())
        _frame(digest, _read_bytes(file))
    return digest.hexdigest() + ("-dev" if include_dev else "")


def _frame(digest: hashlib._Hash, data: bytes) -> None:
    digest.update(len(data).to_bytes(8, "big"))
    digest.update(data)


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read {file}: {exc.strerror or exc}",
            hint="check the chaincode folder's permissions",
        ) from None


def _ensure_dependencies(
    source: ChaincodeSource, *, install: Path, include_dev: bool, say: Report
) -> bool:
    """Make ``install`` hold the npm ci result; return whether npm ci ran (and won)."""
    if install.is_dir():
        say(f"{source.name}: dependencies already installed ({install.name[:12]}), npm ci skipped")
        return False
    npm = _npm()
    args = NPM_CI_DEV_ARGS if include_dev else NPM_CI_ARGS
    say(f"{source.name}: installing dependencies (npm {' '.join(args)})")
    with _staging(install.parent, install.name) as staging:
        for file in (source.manifest, source.lockfile):
            shutil.copy2(file, staging / file.name)
        _run_npm(npm, args, cwd=staging, source=source)
        if not _publish(staging, install):
            say(f"{source.name}: another caller installed the same dependencies first; using them")
            return False
    say(f"{source.name}: dependencies installed in {install}")
    return True


def _ensure_sources(files: dict[str, bytes], *, sources: Path, name: str, say: Report) -> None:
    """Make ``sources`` hold ``files`` (relative path -> bytes) unless it already exists."""
    if sources.is_dir():
        say(f"{name}: sources unchanged ({sources.name[:12]}), nothing copied")
        return
    with _staging(sources.parent, sources.name) as staging:
        for relative, data in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _publish(staging, sources)
    say(f"{name}: copied {len(files)} source files to {sources}")


@contextmanager
def _staging(parent: Path, name: str) -> Iterator[Path]:
    """A fresh temporary folder beside ``parent/name``, removed on exit unless renamed away."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=f".tmp-{name[:16]}-", dir=parent))
    except OSError as exc:
        raise OperationError(
            f"cannot create a folder in {parent}: {exc.strerror or exc}",
            hint="check that the cache folder is writable, or set XDG_CACHE_HOME elsewhere",
        ) from None
    try:
        yield path
    finally:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def _publish(staging: Path, final: Path) -> bool:
    """Rename ``staging`` to ``final``; False when ``final`` already exists (a concurrent
    caller won: ``staging`` is left for its context manager to remove)."""
    try:
        staging.rename(final)
    except OSError as exc:
        if final.is_dir():
            return False
        raise OperationError(
            f"cannot move {staging} to {final}: {exc.strerror or exc}",
            hint="check that the cache folder is writable, or set XDG_CACHE_HOME elsewhere",
        ) from None
    return True


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise OperationError(
            "npm is not installed (needed to install the chaincode's dependencies)",
            hint="install Node.js 18 or newer with npm, and make sure `npm` is on PATH",
        )
    return npm


def _run_npm(npm: str, args: tuple[str, ...], *, cwd: Path, source: ChaincodeSource) -> None:
    command = f"npm {' '.join(args)}"
    try:
        done = subprocess.run(
            [npm, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_NPM_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(
            f"`{command}` for {source.name} did not finish: {type(exc).__name__}: {exc}",
            hint="check that the npm registry is reachable, then try again",
        ) from None
    if done.returncode != 0:
        raise OperationError(
            f"`{command}` for {source.name} failed (exit {done.returncode}):\n"
            f"{_npm_excerpt(done.stderr or done.stdout)}",
            hint=f"check that the npm registry is reachable and that {source.lockfile.name} "
            f"matches package.json (run `npm install` in {source.path} and commit the lockfile)",
        )


def _npm_excerpt(output: str) -> str:
    """npm's last error report from ``output``: from the last ``npm error code …`` line, at
    most :data:`_EXCERPT_LINES` non-blank lines (npm states the cause first, then often a page
    of usage text), plus the pointer to npm's full log. Without such a line: the last lines."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip() not in ("", "npm error")]
    starts = [i for i, line in enumerate(lines) if line.startswith("npm error code ")]
    if not starts:
        return "\n".join(lines[-_EXCERPT_LINES:]) or "(no output)"
    kept = lines[starts[-1] :][:_EXCERPT_LINES]
    log = next((line for line in reversed(lines) if "complete log of this run" in line), None)
    if log is not None and log not in kept:
        kept.extend(("…", log))
    return "\n".join(kept)


def _source_files(folder: Path, *, include_tests: bool) -> Iterator[tuple[str, bytes]]:
    """``(relative POSIX path, bytes)`` of every file to copy, sorted by path.

    Skips :data:`EXCLUDED_DIRS` at any depth, :data:`TEST_DIRS` at the top (unless
    ``include_tests``) and symbolic links to folders; follows symbolic links to files.
    """
    top_level = EXCLUDED_DIRS if include_tests else EXCLUDED_DIRS | TEST_DIRS
    found: list[tuple[str, Path]] = []
    for current, dirs, names in os.walk(folder):
        base = Path(current)
        excluded = top_level if base == folder else EXCLUDED_DIRS
        dirs[:] = [d for d in dirs if d not in excluded and not (base / d).is_symlink()]
        found.extend(((base / n).relative_to(folder).as_posix(), base / n) for n in names)
    for relative, path in sorted(found):
        if path.is_file():
            yield relative, _read_bytes(path)


def _files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for relative, data in sorted(files.items()):
        _frame(digest, relative.encode())
        _frame(digest, data)
    return digest.hexdigest()


def _silent(_: str) -> None:
    return None


# --- server_command ---------------------------------------------------------------------------


def server_command(
    prepared: PreparedChaincode,
    *,
    package_id: str,
    address: str,
    tls: ServerTLS | None = None,
) -> ServerCommand:
    """The command that serves ``prepared`` on ``address`` (``HOST:PORT``) as ``package_id``.

    ``argv`` is ``node <real path of fabric-shim's cli.js> server --chaincode-address=ADDRESS
    --chaincode-id=PACKAGE_ID --module-path=ROOT`` followed, with ``tls``, by
    ``--chaincode-tls-key-file``, ``--chaincode-tls-cert-file`` and (when a client CA is given)
    ``--chaincode-tls-client-cacert-file``, each with an absolute path. ``cwd`` is
    ``prepared.root``. Nothing is started.

    Raises :class:`UsageError` for a package ID that is not ``<label>:<64 hex digits>``, an
    address that is not ``HOST:PORT`` with a port in 1-65535, or a TLS file that is missing or
    not PEM; :class:`OperationError` when ``node`` is not on PATH or the prepared folder lost
    the shim (the cache was cleared: call :func:`prepare` again).
    """
    _check_package_id(package_id)
    _check_address(address)
    argv = [
        _node(),
        str(_shim_cli(prepared)),
        "server",
        f"--chaincode-address={address}",
        f"--chaincode-id={package_id}",
        f"--module-path={prepared.root}",
    ]
    if tls is not None:
        argv.extend(_tls_flags(tls))
    return ServerCommand(
        argv=tuple(argv),
        env=_server_env(package_id=package_id, address=address),
        cwd=prepared.root,
    )


def _check_package_id(package_id: str) -> None:
    if not _PACKAGE_ID.match(package_id):
        raise UsageError(
            f"chaincode package ID {package_id!r} is not <label>:<64 hex digits>",
            hint="use the ID `peer lifecycle chaincode calculatepackageid` prints for the "
            "chaincode package (label, colon, SHA-256 of the package file)",
        )


def _check_address(address: str) -> None:
    match = _ADDRESS.match(address)
    if match is None or not 1 <= int(match["port"]) <= 65535:
        raise UsageError(
            f"chaincode server address {address!r} is not HOST:PORT",
            hint="give a host (or [IPv6]) and a port in 1-65535, such as 127.0.0.1:9999",
        )


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise OperationError(
            "node is not installed (needed to run the chaincode server)",
            hint="install Node.js 18 or newer and make sure `node` is on PATH",
        )
    return node


def _shim_cli(prepared: PreparedChaincode) -> Path:
    """The real path of fabric-chaincode-node: node_modules/.bin's link, else fabric-shim/cli.js."""
    linked = prepared.modules / ".bin" / "fabric-chaincode-node"
    if linked.exists():
        target = linked.resolve()
        if target.suffix == ".js":
            return target
    cli = prepared.modules / SHIM_PACKAGE / "cli.js"
    if cli.is_file():
        return cli.resolve()
    raise OperationError(
        f"{prepared.modules} has no {SHIM_PACKAGE} command line (fabric-chaincode-node)",
        hint="the chaincode cache was changed or cleared: prepare the chaincode again",
    )


def _tls_flags(tls: ServerTLS) -> list[str]:
    flags = [
        ("--chaincode-tls-key-file", tls.key_file),
        ("--chaincode-tls-cert-file", tls.cert_file),
    ]
    if tls.client_ca_file is not None:
        flags.append(("--chaincode-tls-client-cacert-file", tls.client_ca_file))
    argv: list[str] = []
    for flag, file in flags:
        argv.extend((flag, str(_pem_file(file, flag=flag))))
    return argv


def _pem_file(file: Path, *, flag: str) -> Path:
    path = file.expanduser().absolute()
    try:
        head = path.read_bytes()[:4096]
    except OSError as exc:
        raise UsageError(
            f"cannot read the chaincode server's TLS file {path} ({flag}): {exc.strerror or exc}",
            hint="generate the chaincode server's TLS material first (PEM files)",
        ) from None
    if b"-----BEGIN " not in head:
        raise UsageError(
            f"the chaincode server's TLS file {path} ({flag}) is not PEM",
            hint="give PEM files (-----BEGIN ...-----), not DER or base64 of PEM",
        )
    return path


def _server_env(*, package_id: str, address: str) -> dict[str, str]:
    return {
        "NODE_ENV": "production",
        "CHAINCODE_SERVER_ADDRESS": address,
        "CHAINCODE_ID": package_id,
    }
