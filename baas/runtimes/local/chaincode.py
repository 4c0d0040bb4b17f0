"""Chaincode servers on this machine: recognise a chaincode folder, install (and build) it once,
and say how to start it as a chaincode-as-a-service server (fabric.md §4.4).

Node chaincode, on npm ``fabric-shim`` 2.5.x (the safe choice per fabric.md §4.5), built as npm
builds it:

* **JavaScript** (package.json without a ``build`` script): ``npm ci --omit=dev`` once per
  dependency digest, the sources copied next to the installed modules.
* **TypeScript**, and any Node package with a ``build`` script: ``npm ci`` with dev dependencies
  (the compiler is one), then ``npm run build`` in a copy of the sources, once per content; the
  server then loads the package's ``main`` (the built file) like JavaScript's.

Java chaincode, on Maven Central's ``org.hyperledger.fabric-chaincode-java:fabric-chaincode-shim``
2.5.x (its contract API, ``org.hyperledger.fabric.contract``, ships in the same artifact), built
as its build tool builds it, once per digest of the project's files:

* **Maven** (pom.xml): ``mvn -q -B -DskipTests package``; Maven keeps what it downloaded in the
  user's ``~/.m2``, so later builds need no network. The server is the runnable jar the build
  left in ``target/`` (shaded or assembled: the shim inside, e.g. maven-shade-plugin with
  ``Main-Class``), run with ``java -jar``; a plain jar gets its runtime dependencies copied next
  to it (``mvn dependency:copy-dependencies``) and runs with ``java -cp`` and its manifest's
  ``Main-Class`` (the shim's ``ContractRouter`` without one).
* **Gradle** (build.gradle, build.gradle.kts): ``assemble`` with the project's committed wrapper
  (``gradlew``) when the distribution it names is already in the Gradle user home, else with a
  ``gradle`` on PATH; the server is a self-contained jar in ``build/libs`` (the shadow plugin's
  ``-all`` jar, say). Gradle distributions are never downloaded during a build (builds stay
  offline once Maven's cache is warm), so a folder with neither, or a wrapper whose
  distribution is not cached, is refused saying so (add a Maven pom.xml, or a wrapper whose
  distribution is cached).

The Java server is the shim's own chaincode-as-a-service mode: the shim starts its Netty server
when ``CHAINCODE_SERVER_ADDRESS`` is set, with ``CORE_CHAINCODE_ID_NAME`` as its package ID.

Other languages are recognised and refused with a :class:`~baas.errors.UsageError` saying why:
Go (go.mod) because fabric-chaincode-go comes from github.com/hyperledger, which the Go module
proxy reachable here refuses, so no Go chaincode can be built; Python has no Fabric shim. On
Kubernetes any language runs from an ``image``.

* :func:`detect` reads a folder and returns a :class:`ChaincodeSource`, or refuses it (no
  lockfile, no ``main``, no shim, TypeScript without a build script, another language, missing
  or empty folder).
* :func:`prepare` installs, builds and copies, each level cached::

      <cache>/node/<digest>/                 package.json, lockfile, node_modules/ (npm ci here)
      <cache>/node/<digest>/sources/<sha>/   the chaincode's files: the server's working folder
      <cache>/node/<digest>/builds/<sha>/    the same, after ``npm run build`` (built packages)
      <cache>/java/<sha>/                    a Java project after its build (target/, build/),
                                             with baas-launch.json saying how to start it

  ``<cache>`` is ``${XDG_CACHE_HOME:-~/.cache}/baas/chaincode``; ``<digest>`` is the SHA-256 of
  package.json and the lockfile (``-dev`` appended when dev dependencies are included, as they
  always are for a build) and ``<sha>`` that of the copied files. A built result is therefore
  keyed by manifest, lockfile and sources together: editing a source rebuilds (seconds) but
  never reinstalls unchanged dependencies; Node and the compiler find ``node_modules`` by
  walking up from the sources. Every level is made in a temporary folder and renamed into
  place, so a folder that exists is complete, and concurrent callers cannot corrupt it (the
  loser of a rename race uses the winner's folder). A build that fails (compiler errors, a
  failing script, a ``main`` the build did not produce) raises at once with the build's own
  output and leaves nothing in the cache. A Java project's ``<sha>`` covers every file but
  the build's own output (target/, build/, .gradle/, .git/); Maven's ``[ERROR]`` lines (the
  compiler's ``File.java:[line,col] …``) are the message of a failed build.
* :func:`server_command` returns the :class:`ServerCommand` a supervisor keeps running:
  ``node <fabric-shim cli.js> server --chaincode-address=… --chaincode-id=…`` (+ TLS flags), or
  ``java -jar <jar>`` / ``java -cp <classpath> <main>`` with the address and ID in its
  environment (+ TLS variables).
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
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

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

JAVA_DIR = "java"
"""Cache folder of built Java projects."""
JAVA_SHIM = "fabric-chaincode-shim"
"""The Maven Central artifact (group ``org.hyperledger.fabric-chaincode-java``) of the Java shim."""
CONTRACT_ROUTER = "org.hyperledger.fabric.contract.ContractRouter"
"""The Java shim's main class: it serves as a chaincode server when CHAINCODE_SERVER_ADDRESS is
set, routing to every ``@Contract`` class on the classpath."""
MAVEN_ARGS: tuple[str, ...] = ("-q", "-B", "-Dstyle.color=never", "-DskipTests", "package")
"""``mvn`` arguments of a Java build (quiet, batch: warnings and errors only)."""
MAVEN_COPY_DEPENDENCIES_ARGS: tuple[str, ...] = (
    "-q",
    "-B",
    "-Dstyle.color=never",
    "dependency:copy-dependencies",
    "-DincludeScope=runtime",
    "-DoutputDirectory=target/baas-lib",
)
"""``mvn`` arguments that put a plain jar's runtime dependencies in ``target/baas-lib``."""
GRADLE_ARGS: tuple[str, ...] = ("--no-daemon", "--console=plain", "-q", "assemble")
"""Gradle arguments of a Java build (no daemon is left running after it)."""
GRADLE_FILES: tuple[str, ...] = ("build.gradle", "build.gradle.kts")
JAVA_EXCLUDED_DIRS = frozenset({"target", "build", ".gradle", ".idea"})
"""Top-level folders of a Java project never copied (build output, IDE state)."""
LAUNCH_FILE = "baas-launch.json"
"""Written into a built Java project: its :class:`JavaLaunch`."""
_JAR_DIRS = {"maven": "target", "gradle": "build/libs", "gradlew": "build/libs"}
_SHIM_CLASS = CONTRACT_ROUTER.replace(".", "/") + ".class"
_NOT_RUNNABLE_JARS = ("-sources.jar", "-javadoc.jar", "-tests.jar", "-test-sources.jar")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAVEN_NOISE = (
    "-> [Help",
    "To see the full stack trace",
    "Re-run Maven using",
    "For more information about the errors",
    "[Help 1]",
    "After correcting the problems",
    "mvn <args> -rf",
)
_MAVEN_FETCH_FAILURES = (
    "Could not resolve dependencies",
    "Could not transfer artifact",
    "Non-resolvable parent POM",
    "could not be resolved",
    "Unknown host",
    "Could not find artifact",
)
"""Maven errors that mean it could not download something (no network, wrong version)."""
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
    dependency, else ``node``; it is informative: what :func:`prepare` does for Node follows
    ``build``.

    For Java (``language`` ``java``), ``manifest`` is pom.xml or the Gradle build file,
    ``lockfile`` is None, ``main`` is empty (the built jar's manifest names the main class),
    ``build`` is the build's command line as shown to the user and ``builder`` says which tool
    runs it (``maven``, ``gradle`` on PATH, or the project's ``gradlew`` wrapper).
    """

    path: Path
    name: str
    manifest: Path
    lockfile: Path | None
    language: Literal["node", "typescript", "java"] = "node"
    main: str = "index.js"
    build: str | None = None
    builder: Literal["npm", "maven", "gradle", "gradlew"] = "npm"


@dataclass(frozen=True)
class JavaLaunch:
    """How a built Java chaincode starts: ``java -jar CLASSPATH[0]`` when ``main_class`` is
    None, else ``java -cp CLASSPATH MAIN_CLASS``. Entries are relative to the build folder; one
    ending in ``/*`` stands for every jar in that folder (Java's own wildcard)."""

    classpath: tuple[str, ...]
    main_class: str | None = None


@dataclass(frozen=True)
class PreparedChaincode:
    """A chaincode ready to serve.

    ``root`` holds package.json and the sources (the server's working folder); ``modules`` is
    the ``node_modules`` folder Node resolves from ``root``. ``digest`` names the dependency
    install, ``source_digest`` the copied sources. ``installed`` is true when this call ran
    ``npm ci``, false when the dependencies came from the cache; ``built`` is true when this
    call ran the package's build, false when it has none or the built result was cached.

    For Java, ``root`` is the built project (the server's working folder), ``modules`` the
    folder holding the runnable jar, ``digest`` and ``source_digest`` both the project files'
    digest, ``installed`` and ``built`` both whether this call ran the build, and ``launch``
    (None for Node) how to start it.
    """

    source: ChaincodeSource
    root: Path
    modules: Path
    digest: str
    source_digest: str
    installed: bool
    built: bool = False
    launch: JavaLaunch | None = None


@dataclass(frozen=True)
class ServerTLS:
    """TLS material for a chaincode server: PEM files (paths, not contents).

    ``key_file``/``cert_file`` are the server's key and certificate; with ``client_ca_file``
    the server also requires the peer to present a client certificate issued by that CA (Node
    only: the Java shim's server mode cannot require client certificates, so a Java server is
    refused one rather than silently accepting any client). The Java shim (Netty) reads the
    key as PKCS#8 PEM (``-----BEGIN PRIVATE KEY-----``).
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
    supervisor that restarts programs whose environment changed is not disturbed). A Java
    server's holds CHAINCODE_SERVER_ADDRESS, CORE_CHAINCODE_ID_NAME (what the Java shim reads)
    and CHAINCODE_ID, plus the shim's TLS variables when TLS is given.
    ``argv[0]`` is node's (or java's) absolute path, so no PATH is needed.
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

    ``pom.xml`` means Java built by Maven (it must be well-formed XML naming
    ``fabric-chaincode-shim``); ``build.gradle``/``build.gradle.kts`` without a pom means Java
    built by Gradle (the build file must name ``fabric-chaincode-shim``), accepted only with a
    committed wrapper whose distribution is cached, or a ``gradle`` on PATH (see the module
    docstring); package.json wins over both, pom.xml over Gradle.

    Go (go.mod) is refused because its shim cannot be fetched here (the Go module proxy refuses
    github.com/hyperledger/* modules), Python (setup.py, pyproject.toml) because Fabric has no
    Python shim, each naming the marker file and the reason. Every refusal is a
    :class:`UsageError`: a missing path, a file, an empty folder, a folder with none of those
    files.
    """
    folder = _existing_folder(path)
    manifest = folder / "package.json"
    if manifest.is_file():
        return _node_source(folder, manifest)
    if (folder / "pom.xml").is_file():
        return _maven_source(folder, folder / "pom.xml")
    gradle_file = next((folder / n for n in GRADLE_FILES if (folder / n).is_file()), None)
    if gradle_file is not None:
        return _gradle_source(folder, gradle_file)
    for marker, language, reason in _OTHER_LANGUAGES:
        if (folder / marker).is_file():
            raise UsageError(
                f"{folder} holds {language} chaincode ({marker}); {language} chaincode is not "
                f"supported yet: {reason}",
                hint="chaincode for the local runtime must be Node (a folder with package.json "
                "and package-lock.json on fabric-shim 2.5, in JavaScript or in TypeScript with a "
                "build script) or Java (a Maven pom.xml on fabric-chaincode-shim 2.5); on "
                "Kubernetes, give the chaincode an `image` that runs its server instead of a path",
            )
    raise UsageError(
        f"no chaincode found in {folder}: it has no package.json (nor pom.xml)",
        hint="point the chaincode's path at a Node chaincode folder (package.json, "
        "package-lock.json and the sources), such as examples/chaincode/asset-transfer, or a "
        "Java one (pom.xml), such as examples/chaincode/asset-transfer-java",
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

    A Java ``source`` is built once per digest of its files (``include_dev`` changes nothing):
    see :func:`_prepare_java`.

    Raises :class:`OperationError` when npm is missing, ``npm ci`` fails (the command and
    npm's last error report from stderr are in the message), a build does not finish in time
    or the cache cannot be written; :class:`UsageError` naming the chaincode folder when the
    build fails (the compiler's own ``file(line,col): error …`` lines in the message) or does
    not produce ``main``. Nothing is left behind in those cases. The files are read when this
    is called: edit the chaincode, call it again, and a new sources (or build) folder appears
    next to the same ``node_modules``.
    """
    say = report or _silent
    if source.language == "java":
        return _prepare_java(source, root=(cache_dir or default_cache_dir()) / JAVA_DIR, say=say)
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


def _build_step(
    argv: list[str], *, cwd: Path, source: ChaincodeSource, command: str, rerun: str
) -> subprocess.CompletedProcess[str]:
    """Run one build step of ``source`` in ``cwd`` (stdout and stderr merged, as the build
    printed them) and return it whatever its exit status; OperationError naming ``command``
    when it cannot start or does not finish (``rerun``: what the user runs to see why)."""
    try:
        return subprocess.run(
            argv,
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
            f"chaincode folder {source.path}: `{command}` did not finish: "
            f"{type(exc).__name__}: {exc}",
            hint=f"run `{rerun}` in {source.path} to see what it waits for",
        ) from None


def _run_build(npm: str, *, cwd: Path, source: ChaincodeSource) -> None:
    """``npm run build`` in ``cwd``; UsageError with the build's own error lines."""
    done = _build_step(
        [npm, *NPM_BUILD_ARGS],
        cwd=cwd,
        source=source,
        command="npm run build",
        rerun="npm ci && npm run build",
    )
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
    for file in _npm_inputs(source):
        _frame(digest, file.name.encode())
        _frame(digest, _read_bytes(file))
    return digest.hexdigest() + ("-dev" if include_dev else "")


def _npm_inputs(source: ChaincodeSource) -> tuple[Path, ...]:
    """package.json and the lockfile (just the manifest for a source without a lockfile)."""
    return (source.manifest,) if source.lockfile is None else (source.manifest, source.lockfile)


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
        for file in _npm_inputs(source):
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
            hint="check that the npm registry is reachable and that "
            f"{_npm_inputs(source)[-1].name} matches package.json (run `npm install` in "
            f"{source.path} and commit the lockfile)",
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


def _source_files(
    folder: Path, *, include_tests: bool, top_excluded: frozenset[str] = frozenset()
) -> Iterator[tuple[str, bytes]]:
    """``(relative POSIX path, bytes)`` of every file to copy, sorted by path.

    Skips :data:`EXCLUDED_DIRS` at any depth, :data:`TEST_DIRS` at the top (unless
    ``include_tests``), ``top_excluded`` at the top and symbolic links to folders; follows
    symbolic links to files.
    """
    top_level = EXCLUDED_DIRS if include_tests else EXCLUDED_DIRS | TEST_DIRS
    top_level |= top_excluded
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

    A Java chaincode (``prepared.launch`` set) is ``java -jar JAR`` or ``java -cp CLASSPATH
    MAIN`` (absolute paths) with CHAINCODE_SERVER_ADDRESS and CORE_CHAINCODE_ID_NAME in ``env``
    and, with ``tls``, CORE_PEER_TLS_ENABLED=true and the shim's key/certificate variables
    (CORE_TLS_CLIENT_KEY_FILE, CORE_TLS_CLIENT_CERT_FILE: the names the Java shim gives its
    server's files; the ``*_PATH`` and CORE_PEER_TLS_ROOTCERT_FILE ones it also insists on are
    set to the same files).

    Raises :class:`UsageError` for a package ID that is not ``<label>:<64 hex digits>``, an
    address that is not ``HOST:PORT`` with a port in 1-65535, a TLS file that is missing or
    not PEM, or a client CA for a Java server; :class:`OperationError` when ``node`` (``java``)
    is not on PATH or the prepared folder lost the shim or the jar (the cache was cleared: call
    :func:`prepare` again).
    """
    _check_package_id(package_id)
    _check_address(address)
    if prepared.launch is not None:
        return _java_server_command(
            prepared, prepared.launch, package_id=package_id, address=address, tls=tls
        )
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


# --- Java -------------------------------------------------------------------------------------


def _maven_source(folder: Path, pom: Path) -> ChaincodeSource:
    """A Maven project: pom.xml must be well-formed XML with an ``artifactId`` naming the
    shim (in ``dependencies`` or ``dependencyManagement``)."""
    root = _read_pom(pom)
    if not any(
        _local_name(e.tag) == "artifactId" and (e.text or "").strip() == JAVA_SHIM
        for e in root.iter()
    ):
        raise UsageError(
            f"{pom} does not depend on {JAVA_SHIM}",
            hint="add the dependency org.hyperledger.fabric-chaincode-java:"
            f"{JAVA_SHIM}:2.5.10 (it holds the contract API too) to pom.xml",
        )
    artifact = next(
        (e.text.strip() for e in root if _local_name(e.tag) == "artifactId" and e.text), None
    )
    return ChaincodeSource(
        path=folder,
        name=artifact or folder.name,
        manifest=pom,
        lockfile=None,
        language="java",
        main="",
        build=f"mvn {' '.join(MAVEN_ARGS)}",
        builder="maven",
    )


def _read_pom(pom: Path) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(_read_bytes(pom))
    except ElementTree.ParseError as exc:
        raise UsageError(
            f"cannot read {pom}: it is not well-formed XML ({exc})",
            hint="pom.xml must be a Maven project file (<project>…</project>); "
            "`mvn -q validate` in the folder shows what Maven thinks of it",
        ) from None


def _local_name(tag: object) -> str:
    """An XML tag without its ``{namespace}`` (Maven's POM namespace is optional)."""
    return str(tag).rpartition("}")[2]


def _gradle_source(folder: Path, build_file: Path) -> ChaincodeSource:
    """A Gradle project: the build file must name the shim, and Gradle must be runnable here
    without downloading a distribution (see :func:`_gradle_builder`)."""
    if JAVA_SHIM not in _read_bytes(build_file).decode("utf-8", errors="replace"):
        raise UsageError(
            f"{build_file} does not depend on {JAVA_SHIM}",
            hint="add implementation 'org.hyperledger.fabric-chaincode-java:"
            f"{JAVA_SHIM}:2.5.10' to its dependencies",
        )
    builder = _gradle_builder(folder, build_file)
    program = "./gradlew" if builder == "gradlew" else "gradle"
    return ChaincodeSource(
        path=folder,
        name=folder.name,
        manifest=build_file,
        lockfile=None,
        language="java",
        main="",
        build=f"{program} {' '.join(GRADLE_ARGS)}",
        builder=builder,
    )


def _gradle_builder(folder: Path, build_file: Path) -> Literal["gradle", "gradlew"]:
    """``gradlew`` for a committed wrapper whose distribution is cached, ``gradle`` for a
    gradle on PATH; a :class:`UsageError` otherwise (a wrapper with an uncached distribution
    is refused even with gradle on PATH: the project asked for that version)."""
    if (folder / "gradlew").is_file():
        distribution = _wrapper_distribution(folder)
        if _cached_distribution(distribution) is None:
            raise UsageError(
                f"{folder} is a Gradle project whose wrapper wants {distribution}, which is not "
                f"in {_gradle_user_home() / 'wrapper' / 'dists'}; baas does not download Gradle "
                "distributions during a build",
                hint="add a Maven pom.xml, or point the wrapper at "
                "a Gradle distribution that is already cached",
            )
        return "gradlew"
    if shutil.which("gradle") is not None:
        return "gradle"
    raise UsageError(
        f"{folder} is a Gradle project ({build_file.name}) but there is no `gradle` on PATH "
        "and no committed wrapper (gradlew); baas does not download Gradle distributions "
        "during a build",
        hint="add a Maven pom.xml building a runnable jar (see "
        "examples/chaincode/asset-transfer-java), or commit the Gradle wrapper "
        "(gradlew, gradle/wrapper/) with a distribution already in the Gradle user home",
    )


def _wrapper_distribution(folder: Path) -> str:
    """The distribution name in gradle-wrapper.properties' ``distributionUrl``, such as
    ``gradle-8.5-bin`` (the folder the wrapper unpacks it into)."""
    properties = folder / "gradle" / "wrapper" / "gradle-wrapper.properties"
    if not properties.is_file():
        raise UsageError(
            f"{folder} has gradlew but no gradle/wrapper/gradle-wrapper.properties",
            hint="commit the whole Gradle wrapper (gradlew, gradle/wrapper/*), or add a pom.xml",
        )
    text = _read_bytes(properties).decode("utf-8", errors="replace")
    match = re.search(r"^\s*distributionUrl\s*[=:]\s*(\S+)", text, re.MULTILINE)
    if match is None:
        raise UsageError(
            f"{properties} has no distributionUrl",
            hint="regenerate the wrapper (`gradle wrapper`) where Gradle is installed",
        )
    name = match[1].replace("\\:", ":").rsplit("/", 1)[-1]
    return name.removesuffix(".zip")


def _gradle_user_home() -> Path:
    return Path(os.environ.get("GRADLE_USER_HOME") or Path.home() / ".gradle")


def _cached_distribution(distribution: str) -> Path | None:
    """The ``bin/gradle`` of a cached, completely unpacked ``distribution``, or None (the
    wrapper writes ``<zip>.ok`` once unpacking finished)."""
    dists = _gradle_user_home() / "wrapper" / "dists" / distribution
    for marker in sorted(dists.glob(f"*/{distribution}.zip.ok")):
        found = sorted(marker.parent.glob("gradle-*/bin/gradle"))
        if found:
            return found[0]
    return None


def _prepare_java(source: ChaincodeSource, *, root: Path, say: Report) -> PreparedChaincode:
    """:func:`prepare` for Java: build the project's files once per digest into
    ``root/<digest>``, with its :class:`JavaLaunch` in :data:`LAUNCH_FILE`.

    Raises :class:`UsageError` naming the folder for a failed build (Maven's ``[ERROR]``
    lines) or one that left no runnable jar, :class:`OperationError` when the build tool is
    missing, cannot download what the project needs, or does not finish in time.
    """
    files = dict(_source_files(source.path, include_tests=True, top_excluded=JAVA_EXCLUDED_DIRS))
    digest = _files_digest(files)
    build = root / digest
    built = _ensure_java_build(source, files, build=build, say=say)
    launch = _read_launch(build)
    jar_dir = (build / launch.classpath[0]).parent
    return PreparedChaincode(
        source=source,
        root=build,
        modules=jar_dir,
        digest=digest,
        source_digest=digest,
        installed=built,
        built=built,
        launch=launch,
    )


def _ensure_java_build(
    source: ChaincodeSource, files: dict[str, bytes], *, build: Path, say: Report
) -> bool:
    """Make ``build`` hold the built project; return whether this call built it."""
    if build.is_dir() and (build / LAUNCH_FILE).is_file():
        say(f"{source.name}: already built ({build.name[:12]}), build skipped")
        return False
    argv = _java_build_argv(source)
    say(f"{source.name}: building ({source.build})")
    with _staging(build.parent, build.name) as staging:
        _write_files(files, staging)
        _run_java_build(argv, cwd=staging, source=source)
        launch = _find_launch(source, staging)
        (staging / LAUNCH_FILE).write_text(
            json.dumps({"classpath": list(launch.classpath), "mainClass": launch.main_class})
        )
        if not _publish(staging, build):
            say(f"{source.name}: another caller built the same sources first; using theirs")
            return False
    say(f"{source.name}: built in {build} ({' '.join(launch.classpath)})")
    return True


def _java_build_argv(source: ChaincodeSource) -> list[str]:
    """The build's command line, run in the copy of the project."""
    if source.builder == "gradlew":
        return ["/bin/sh", "gradlew", *GRADLE_ARGS]  # copies lose the execute bit
    tool = "mvn" if source.builder == "maven" else "gradle"
    found = shutil.which(tool)
    if found is None:
        raise OperationError(
            f"{tool} is not installed (needed to build the Java chaincode {source.path})",
            hint="install Maven 3.8+ and a JDK 11+ and make sure `mvn` is on PATH"
            if tool == "mvn"
            else "install Gradle, commit the project's wrapper, or add a Maven pom.xml",
        )
    return [found, *(MAVEN_ARGS if tool == "mvn" else GRADLE_ARGS)]


def _run_java_build(argv: list[str], *, cwd: Path, source: ChaincodeSource) -> None:
    """Run a build step in ``cwd`` (stdout and stderr merged) and raise on failure."""
    command = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
    done = _build_step(argv, cwd=cwd, source=source, command=command, rerun=str(source.build))
    if done.returncode == 0:
        return
    excerpt = java_build_excerpt(done.stdout, staging=cwd, source=source.path)
    message = f"chaincode folder {source.path}: `{command}` failed (exit {done.returncode}):\n"
    if any(failure in done.stdout for failure in _MAVEN_FETCH_FAILURES):
        raise OperationError(
            message + excerpt,
            hint="the build could not download what the project needs: check that Maven "
            "Central is reachable and that the versions in the build file exist",
        )
    raise UsageError(
        message + excerpt,
        hint=f"fix the errors above (paths are relative to {source.path}); "
        f"`{source.build}` there shows the same output",
    )


def java_build_excerpt(output: str, *, staging: Path, source: Path) -> str:
    """The part of a failed Java build's ``output`` that says why, for an error message.

    Colour codes are dropped and the temporary build folder's path is replaced by the
    chaincode folder's. Maven's ``[ERROR]`` lines are kept (each once, in order, without
    Maven's advice on re-running it), at most :data:`_EXCERPT_LINES`; the compiler's lines
    come first, e.g. ``[ERROR] /src/cc/src/main/java/A.java:[9,21] incompatible types: …``.
    Output without ``[ERROR]`` lines (Gradle's) is cut as :func:`build_excerpt` cuts it.
    """
    text = _ANSI.sub("", output)
    seen: set[str] = set()
    errors: list[str] = []
    for line in text.replace(str(staging), str(source)).splitlines():
        line = line.rstrip()
        if not line.startswith("[ERROR]") or line.strip() == "[ERROR]" or line in seen:
            continue
        if any(noise in line for noise in _MAVEN_NOISE):
            continue
        seen.add(line)
        errors.append(line)
    if not errors:
        return build_excerpt(text, staging=staging, source=source)
    kept = errors[:_EXCERPT_LINES]
    rest = len(errors) - len(kept)
    return "\n".join(kept + ([f"… ({rest} more lines)"] if rest else []))


def _find_launch(source: ChaincodeSource, project: Path) -> JavaLaunch:
    """How to start the project just built in ``project``: its self-contained jar (the shim
    inside), else — Maven only — its plain jar with the runtime dependencies copied next to
    it. A :class:`UsageError` when the build left neither."""
    jar_dir = _JAR_DIRS[source.builder]
    jars = _runnable_jars(project / jar_dir)
    whole = [jar for jar in jars if _jar_has(jar, _SHIM_CLASS)]
    if whole:
        jar = whole[0]
        relative = f"{jar_dir}/{jar.name}"
        main = _manifest_main(jar)
        return JavaLaunch((relative,)) if main else JavaLaunch((relative,), CONTRACT_ROUTER)
    if jars and source.builder == "maven":
        jar = jars[0]
        _run_java_build(
            [_java_build_argv(source)[0], *MAVEN_COPY_DEPENDENCIES_ARGS], cwd=project, source=source
        )
        classpath = (f"{jar_dir}/{jar.name}", "target/baas-lib/*")
        return JavaLaunch(classpath, _manifest_main(jar) or CONTRACT_ROUTER)
    found = ", ".join(j.name for j in jars) or "no jar"
    raise UsageError(
        f"chaincode folder {source.path}: `{source.build}` left {found} in {jar_dir}/, and no "
        f"jar with {JAVA_SHIM} inside",
        hint="build a runnable jar holding the shim and its dependencies: the shadow plugin "
        "for Gradle, maven-shade-plugin (with Main-Class " + CONTRACT_ROUTER + ") for Maven",
    )


def _runnable_jars(folder: Path) -> list[Path]:
    """Jars in ``folder`` that could run, largest first (a shaded jar is the largest); never
    sources, javadoc or test jars, nor the ``original-`` jar maven-shade-plugin keeps."""
    if not folder.is_dir():
        return []
    jars = [
        p
        for p in folder.glob("*.jar")
        if p.is_file()
        and not p.name.startswith("original-")
        and not p.name.endswith(_NOT_RUNNABLE_JARS)
    ]
    return sorted(jars, key=lambda p: (-p.stat().st_size, p.name))


def _jar_has(jar: Path, member: str) -> bool:
    try:
        with zipfile.ZipFile(jar) as archive:
            archive.getinfo(member)
    except (KeyError, OSError, zipfile.BadZipFile):
        return False
    return True


def _manifest_main(jar: Path) -> str | None:
    """The ``Main-Class`` of ``jar``'s manifest, None without one (or an unreadable jar)."""
    try:
        with zipfile.ZipFile(jar) as archive:
            text = archive.read("META-INF/MANIFEST.MF").decode("utf-8", errors="replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    match = re.search(r"^Main-Class:\s*(\S+)\s*$", text, re.MULTILINE)
    return match[1] if match else None


def _read_launch(build: Path) -> JavaLaunch:
    """The :class:`JavaLaunch` a build wrote into ``build``."""
    try:
        data = json.loads((build / LAUNCH_FILE).read_text(encoding="utf-8"))
        classpath = tuple(str(entry) for entry in data["classpath"])
        main = data.get("mainClass")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OperationError(
            f"the built chaincode in {build} has no usable {LAUNCH_FILE}: {exc}",
            hint="the chaincode cache was changed: remove that folder and prepare again",
        ) from None
    if not classpath:
        raise OperationError(
            f"the built chaincode in {build} names no jar in {LAUNCH_FILE}",
            hint="the chaincode cache was changed: remove that folder and prepare again",
        )
    return JavaLaunch(classpath, main if isinstance(main, str) and main else None)


def _java_server_command(
    prepared: PreparedChaincode,
    launch: JavaLaunch,
    *,
    package_id: str,
    address: str,
    tls: ServerTLS | None,
) -> ServerCommand:
    """:func:`server_command` for a built Java chaincode (arguments already checked)."""
    entries = [prepared.root / entry for entry in launch.classpath]
    first = entries[0]
    if not first.is_file():
        raise OperationError(
            f"the built chaincode's jar {first} is missing",
            hint="the chaincode cache was changed or cleared: prepare the chaincode again",
        )
    java = _java()
    if launch.main_class is None:
        argv: tuple[str, ...] = (java, "-jar", str(first))
    else:
        argv = (java, "-cp", os.pathsep.join(map(str, entries)), launch.main_class)
    env = {
        "CHAINCODE_SERVER_ADDRESS": address,
        "CORE_CHAINCODE_ID_NAME": package_id,
        "CHAINCODE_ID": package_id,
    }
    if tls is not None:
        env.update(_java_tls_env(tls))
    return ServerCommand(argv=argv, env=env, cwd=prepared.root)


def _java() -> str:
    """``$JAVA_HOME/bin/java`` when JAVA_HOME names a JDK, else ``java`` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise OperationError(
            "java is not installed (needed to run the Java chaincode server)",
            hint="install a JDK 11 or newer and make sure `java` is on PATH (or set JAVA_HOME)",
        )
    return java


def _java_tls_env(tls: ServerTLS) -> dict[str, str]:
    """The Java shim's server TLS variables: it serves with CORE_TLS_CLIENT_KEY_FILE and
    CORE_TLS_CLIENT_CERT_FILE, and refuses to start with TLS unless the ``*_PATH`` and root
    certificate variables are set too (they matter only for a shim dialling a peer)."""
    if tls.client_ca_file is not None:
        raise UsageError(
            "a Java chaincode server cannot require client certificates: the Java shim's "
            "server mode has no client CA setting",
            hint="serve Java chaincode with server-side TLS only (no client CA), or not at all",
        )
    key = str(_pem_file(tls.key_file, flag="key file"))
    cert = str(_pem_file(tls.cert_file, flag="certificate file"))
    return {
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_TLS_CLIENT_KEY_FILE": key,
        "CORE_TLS_CLIENT_CERT_FILE": cert,
        "CORE_TLS_CLIENT_KEY_PATH": key,
        "CORE_TLS_CLIENT_CERT_PATH": cert,
        "CORE_PEER_TLS_ROOTCERT_FILE": cert,
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
