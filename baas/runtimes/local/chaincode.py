"""Chaincode servers on this machine: recognise a chaincode folder, install (and build) it once,
and say how to start it as a chaincode-as-a-service server (fabric.md §4.4).

Node chaincode, on npm ``fabric-shim`` 2.5.x (the safe choice per fabric.md §4.5), built as npm
builds it:

* **JavaScript** (package.json without a ``build`` script): ``npm ci --omit=dev`` once per
  dependency digest, the sources copied next to the installed modules.
* **TypeScript**, and any Node package with a ``build`` script: ``npm ci`` with dev dependencies
  (the compiler is one), then ``npm run build`` in a copy of the sources, once per content; the
  server then loads the package's ``main`` (the built file) like JavaScript's.

Other languages are recognised and refused with a :class:`~baas.errors.UsageError` saying why:
Go (go.mod) because fabric-chaincode-go comes from github.com/hyperledger, which the Go module
proxy reachable here refuses, so no Go chaincode can be built; Java (pom.xml, build.gradle) and
Python are not supported by the local runtime yet. On Kubernetes any language runs from an
``image``.

* :func:`detect` reads a folder and returns a :class:`ChaincodeSource`, or refuses it (no
  lockfile, no ``main``, no shim, TypeScript without a build script, another language, missing
  or empty folder).
* :func:`prepare` installs, builds and copies, each level cached::

      <cache>/node/<digest>/                 package.json, lockfile, node_modules/ (npm ci here)
      <cache>/node/<digest>/sources/<sha>/   the chaincode's files: the server's working folder
      <cache>/node/<digest>/builds/<sha>/    the same, after ``npm run build`` (built packages)

  ``<cache>`` is ``${XDG_CACHE_HOME:-~/.cache}/baas/chaincode``; ``<digest>`` is the SHA-256 of
  package.json and the lockfile (``-dev`` appended when dev dependencies are included, as they
  always are for a build) and ``<sha>`` that of the copied files. A built result is therefore
  keyed by manifest, lockfile and sources together: editing a source rebuilds (seconds) but
  never reinstalls unchanged dependencies; Node and the compiler find ``node_modules`` by
  walking up from the sources. Every level is made in a temporary folder and renamed into
  place, so a folder that exists is complete, and concurrent callers cannot corrupt it (the
  loser of a rename race uses the winner's folder). A build that fails (compiler errors, a
  failing script, a ``main`` the build did not produce) raises at once with the build's own
  output and leaves nothing in the cache.
* :func:`server_command` returns the :class:`ServerCommand` a supervisor keeps running:
  ``node <fabric-shim cli.js> server --chaincode-address=… --chaincode-id=…`` (+ TLS flags).
* :class:`ServerWatch` tells a caller waiting for a server to listen that the supervisor gave
  up on it (or that it keeps exiting), with the end of its log, so a server that dies at start
  fails in seconds instead of after the wait's timeout.

Root-package lifecycle scripts run by ``npm ci`` see only package.json and the lockfile, not the
sources, and a project ``.npmrc`` is not copied (npm uses the user's configuration). The build
script runs with the user's environment in the copy of the sources (never in the chaincode
folder itself, which stays untouched).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from baas.errors import OperationError, UsageError
from baas.runtimes.local import logs
from baas.runtimes.local.supervision import ProgramState, Supervisor

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
BUILDS_DIR = "builds"
NPM_BUILD_ARGS: tuple[str, ...] = ("run", "build")
"""``npm`` arguments that build a package with a ``build`` script (TypeScript: ``tsc``)."""

EXCLUDED_DIRS = frozenset({"node_modules", ".git"})
"""Folders never copied, at any depth."""
TEST_DIRS = frozenset({"test", "tests", "__tests__", "coverage"})
"""Top-level folders left out of a production install (a dev install keeps them)."""

_OTHER_LANGUAGES: tuple[tuple[str, str, str], ...] = (
    (
        "go.mod",
        "Go",
        "its shim, github.com/hyperledger/fabric-chaincode-go, cannot be fetched here (the Go "
        "module proxy refuses github.com/hyperledger/* modules)",
    ),
    ("pom.xml", "Java", "the local runtime does not build Java yet"),
    ("build.gradle", "Java", "the local runtime does not build Java yet"),
    ("build.gradle.kts", "Java", "the local runtime does not build Java yet"),
    ("setup.py", "Python", "Fabric has no Python chaincode shim"),
    ("pyproject.toml", "Python", "Fabric has no Python chaincode shim"),
)
"""Marker file, language and why the local runtime refuses it."""
_PACKAGE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*:[0-9a-f]{64}$")
"""``<label>:<hex SHA-256>``; Fabric's label rule (fabric.md §4.2), lower-case hex digest."""
_ADDRESS = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")
_NPM_TIMEOUT = 900.0
_BUILD_TIMEOUT = 600.0
_EXCERPT_LINES = 12
_BUILD_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "0", "NPM_CONFIG_UPDATE_NOTIFIER": "false"}
"""Set for ``npm run build``: plain text output (compilers colour only for terminals, but
some tools look at these instead)."""
_TYPESCRIPT_MARKERS = ("tsconfig.json",)
_ERROR_WORD = re.compile(r"\berror\b", re.IGNORECASE)


@dataclass(frozen=True)
class ChaincodeSource:
    """A chaincode folder :func:`detect` accepted.

    ``path`` is absolute; ``manifest`` is its package.json and ``lockfile`` the lockfile
    ``npm ci`` will use (npm-shrinkwrap.json wins over package-lock.json, as in npm).
    ``name`` is package.json's ``name`` (the folder's name when it has none), ``main`` its
    ``main`` entry (for a built package, a file the build produces). ``build`` is the package's
    ``build`` script when it has one (:func:`prepare` then runs ``npm run build``), else None.
    ``language`` is ``typescript`` for a folder with tsconfig.json or a ``typescript``
    dependency, else ``node``; it is informative: what :func:`prepare` does follows ``build``.
    """

    path: Path
    name: str
    manifest: Path
    lockfile: Path
    language: Literal["node", "typescript"] = "node"
    main: str = "index.js"
    build: str | None = None


@dataclass(frozen=True)
class PreparedChaincode:
    """A chaincode ready to serve.

    ``root`` holds package.json and the sources (the server's working folder); ``modules`` is
    the ``node_modules`` folder Node resolves from ``root``. ``digest`` names the dependency
    install, ``source_digest`` the copied sources. ``installed`` is true when this call ran
    ``npm ci``, false when the dependencies came from the cache; ``built`` is true when this
    call ran the package's build, false when it has none or the built result was cached.
    """

    source: ChaincodeSource
    root: Path
    modules: Path
    digest: str
    source_digest: str
    installed: bool
    built: bool = False


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
    npm-shrinkwrap.json). A ``build`` script (a string in ``scripts``) makes it a built
    package; a TypeScript folder (tsconfig.json) whose ``main`` does not exist yet and that has
    no build script is refused, since nothing would produce the file the server loads.

    Go (go.mod) is refused because its shim cannot be fetched here (the Go module proxy refuses
    github.com/hyperledger/* modules); Java (pom.xml, build.gradle) and Python (setup.py,
    pyproject.toml) are refused too, each naming the marker file and the reason. Every refusal
    is a :class:`UsageError`: a missing path, a file, an empty folder, a folder with none of
    those files.
    """
    folder = _existing_folder(path)
    manifest = folder / "package.json"
    if manifest.is_file():
        return _node_source(folder, manifest)
    for marker, language, reason in _OTHER_LANGUAGES:
        if (folder / marker).is_file():
            raise UsageError(
                f"{folder} holds {language} chaincode ({marker}); {language} chaincode is not "
                f"supported yet: {reason}",
                hint="chaincode for the local runtime must be Node for now (a folder with "
                "package.json and package-lock.json on fabric-shim 2.5, in JavaScript or in "
                "TypeScript with a build script); on Kubernetes, give the chaincode an `image` "
                "that runs its server instead of a path",
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
    main = package.get("main")
    if not isinstance(main, str) or not main:
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
    lockfile = _lockfile(folder)
    name = package.get("name")
    language = _node_language(folder, package)
    build = _build_script(package)
    if build is None and language == "typescript" and not _main_exists(folder, main):
        raise UsageError(
            f'{folder} is TypeScript but package.json has no "build" script, and its main '
            f"{main!r} does not exist",
            hint='add "build": "tsc" to "scripts" (typescript in devDependencies): baas runs '
            "`npm ci` and `npm run build`, then serves the built main",
        )
    return ChaincodeSource(
        path=folder,
        name=name if isinstance(name, str) and name else folder.name,
        manifest=manifest,
        lockfile=lockfile,
        language=language,
        main=main,
        build=build,
    )


def _lockfile(folder: Path) -> Path:
    lockfile = next((folder / n for n in LOCKFILES if (folder / n).is_file()), None)
    if lockfile is None:
        raise UsageError(
            f"{folder} has package.json but no package-lock.json",
            hint=f"run `npm install` in {folder} and commit package-lock.json: baas installs "
            "exactly what the lockfile pins (npm ci)",
        )
    return lockfile


def _node_language(folder: Path, package: dict[str, object]) -> Literal["node", "typescript"]:
    """``typescript`` when the folder has tsconfig.json or depends on typescript at all."""
    if any((folder / marker).is_file() for marker in _TYPESCRIPT_MARKERS):
        return "typescript"
    for key in ("dependencies", "devDependencies"):
        section = package.get(key)
        if isinstance(section, dict) and "typescript" in section:
            return "typescript"
    return "node"


def _build_script(package: dict[str, object]) -> str | None:
    """The ``build`` script's command line, None without one (or an empty one)."""
    scripts = package.get("scripts")
    if not isinstance(scripts, dict):
        return None
    build = scripts.get("build")
    return build if isinstance(build, str) and build.strip() else None


def _main_exists(root: Path, main: str) -> bool:
    """Whether ``require(root/main)`` finds a file, as Node resolves it: the file itself,
    with ``.js``/``.json``/``.node`` added, or a folder's ``index.js`` (or package.json)."""
    target = root / main
    candidates = [
        target,
        *(target.with_name(target.name + ext) for ext in (".js", ".json", ".node")),
    ]
    if any(c.is_file() for c in candidates):
        return True
    return (target / "index.js").is_file() or (target / "package.json").is_file()


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
    """Install ``source``'s dependencies (once per digest), copy its sources and, for a package
    with a ``build`` script, build them (once per content).

    ``cache_dir`` defaults to :func:`default_cache_dir`. ``report`` receives one line per step,
    saying whether ``npm ci`` and the build ran or the cache was used. ``include_dev`` installs
    dev dependencies too and keeps test folders (to run the chaincode's own tests); it uses its
    own cache folder (``<digest>-dev``). A built package always gets dev dependencies and every
    file (its build configuration may name tests), so ``include_dev`` changes nothing for it.
    Once everything is cached, a second call runs nothing and copies nothing.

    Raises :class:`OperationError` when npm is missing, ``npm ci`` fails (the command and
    npm's last error report from stderr are in the message), a build does not finish in time
    or the cache cannot be written; :class:`UsageError` naming the chaincode folder when the
    build fails (the compiler's own ``file(line,col): error …`` lines in the message) or does
    not produce ``main``. Nothing is left behind in those cases. The files are read when this
    is called: edit the chaincode, call it again, and a new sources (or build) folder appears
    next to the same ``node_modules``.
    """
    say = report or _silent
    root = (cache_dir or default_cache_dir()) / "node"
    if source.build is not None:
        return _prepare_built(source, root=root, say=say)
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


def _prepare_built(source: ChaincodeSource, *, root: Path, say: Report) -> PreparedChaincode:
    """:func:`prepare` for a package with a build script: dev dependencies, then the build."""
    digest = dependency_digest(source, include_dev=True)
    install = root / digest
    installed = _ensure_dependencies(source, install=install, include_dev=True, say=say)
    files = dict(_source_files(source.path, include_tests=True))
    source_digest = _files_digest(files)
    build = install / BUILDS_DIR / source_digest
    built = _ensure_build(source, files, build=build, say=say)
    return PreparedChaincode(
        source=source,
        root=build,
        modules=install / "node_modules",
        digest=digest,
        source_digest=source_digest,
        installed=installed,
        built=built,
    )


def _ensure_build(
    source: ChaincodeSource, files: dict[str, bytes], *, build: Path, say: Report
) -> bool:
    """Make ``build`` hold ``files`` after ``npm run build``; return whether this call built."""
    if build.is_dir():
        say(f"{source.name}: already built ({build.name[:12]}), build skipped")
        return False
    npm = _npm()
    say(f"{source.name}: building (npm {' '.join(NPM_BUILD_ARGS)}: {source.build})")
    with _staging(build.parent, build.name) as staging:
        _write_files(files, staging)
        _run_build(npm, cwd=staging, source=source)
        if not _main_exists(staging, source.main):
            raise UsageError(
                f"chaincode folder {source.path}: `npm run build` succeeded but did not produce "
                f"main {source.main!r}",
                hint='make "main" in package.json name the file the build writes (for tsc: '
                'outDir in tsconfig.json, e.g. "main": "dist/index.js" with "outDir": "dist")',
            )
        if not _publish(staging, build):
            say(f"{source.name}: another caller built the same sources first; using theirs")
            return False
    say(f"{source.name}: built in {build}")
    return True


def _run_build(npm: str, *, cwd: Path, source: ChaincodeSource) -> None:
    """``npm run build`` in ``cwd`` (stdout and stderr merged, as the build printed them)."""
    try:
        done = subprocess.run(
            [npm, *NPM_BUILD_ARGS],
            cwd=cwd,
            env={**os.environ, **_BUILD_ENV},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            timeout=_BUILD_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OperationError(
            f"chaincode folder {source.path}: `npm run build` did not finish: "
            f"{type(exc).__name__}: {exc}",
            hint=f"run `npm ci && npm run build` in {source.path} to see what it waits for",
        ) from None
    if done.returncode != 0:
        excerpt = build_excerpt(done.stdout, staging=cwd, source=source.path)
        raise UsageError(
            f"chaincode folder {source.path}: `npm run build` ({source.build}) failed "
            f"(exit {done.returncode}):\n{excerpt}",
            hint=f"fix the errors above (paths are relative to {source.path}); "
            f"`npm ci && npm run build` there shows the same output",
        )


def build_excerpt(output: str, *, staging: Path, source: Path) -> str:
    """The part of a failed build's ``output`` that says why, for an error message.

    The temporary build folder's path is replaced by the chaincode folder's; npm's banner
    (``> pkg@1.0.0 build``, ``> tsc``) and blank lines are dropped. From the first line that
    reports an error (``error`` as a word, any case: tsc's ``src/a.ts(3,7): error TS2322: …``,
    a script's ``Error: …``) at most :data:`_EXCERPT_LINES` lines are kept, then how many were
    left out; without such a line, the last :data:`_EXCERPT_LINES` lines.
    """
    text = output.replace(str(staging), str(source))
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("> ")]
    first = next((i for i, line in enumerate(lines) if _ERROR_WORD.search(line)), None)
    if first is None:
        return "\n".join(lines[-_EXCERPT_LINES:]) or "(no output)"
    kept = lines[first : first + _EXCERPT_LINES]
    rest = len(lines) - first - len(kept)
    return "\n".join(kept + ([f"… ({rest} more lines)"] if rest else []))


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
        _write_files(files, staging)
        _publish(staging, sources)
    say(f"{name}: copied {len(files)} source files to {sources}")


def _write_files(files: dict[str, bytes], folder: Path) -> None:
    for relative, data in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


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


# --- servers that do not come up -------------------------------------------------------------


GAVE_UP_STATES = frozenset({"FATAL"})
"""supervisord states in which it no longer restarts a program."""
RESTARTS_TO_FAIL = 2
"""A server that does not listen yet and was restarted this many times while watched keeps
dying (supervisord restarts a program that ran past ``startsecs`` without end)."""
_LOG_LINES = 20
_LOG_SCAN_LINES = 200


@dataclass
class ServerWatch:
    """Watches supervised chaincode server ``name`` of the network in ``state_dir``, for a
    caller waiting for it to accept connections.

    :meth:`failure` is None while the server may still come up (starting, running, backing
    off, or unknown to supervisord: the caller's own timeout applies) and a message ending
    with the last lines of its log once supervisord gave up on it (FATAL: it exited at start
    ``startretries`` times) or it was restarted :data:`RESTARTS_TO_FAIL` times while watched.
    Each call asks supervisord once."""

    state_dir: Path
    name: str
    _starts: set[float] = field(default_factory=set)

    def failure(self) -> str | None:
        state = Supervisor(self.state_dir).status().get(self.name)
        if state is None:
            return None
        why = self._why(state)
        if why is None:
            return None
        log = Path(state.log_file) if state.log_file else logs.log_path(self.state_dir, self.name)
        return f"chaincode server {self.name} {why}; its log ({log}) ends:\n{log_excerpt(log)}"

    def _why(self, state: ProgramState) -> str | None:
        if state.state in GAVE_UP_STATES:
            return f"exited at start and was given up ({state.state}{_spawn_error(state)})"
        if state.since is not None and state.state in ("STARTING", "RUNNING", "BACKOFF"):
            self._starts.add(state.since)
        if len(self._starts) > RESTARTS_TO_FAIL:
            return f"keeps exiting (restarted {len(self._starts) - 1} times without listening)"
        return None


def log_excerpt(log: Path) -> str:
    """What a dead server's ``log`` says about its last failure: from the last line reporting an
    error (``error`` as a word, any case: node's ``Error: Cannot find module …``, a Java
    exception) among its last :data:`_LOG_SCAN_LINES` lines, at most :data:`_LOG_LINES` lines;
    without such a line its last :data:`_LOG_LINES` lines; ``(its log is empty)``."""
    lines = [line for line in logs.tail(log, _LOG_SCAN_LINES) if line.strip()]
    last = next(
        (i for i in range(len(lines) - 1, -1, -1) if _ERROR_WORD.search(lines[i])),
        None,
    )
    kept = lines[-_LOG_LINES:] if last is None else lines[last : last + _LOG_LINES]
    return "\n".join(kept) or "(its log is empty)"


def _spawn_error(state: ProgramState) -> str:
    return f": {state.spawn_error}" if state.spawn_error else ""
