"""Chaincode languages on the local runtime, without Fabric: detect() tells JavaScript from
TypeScript (and refuses Go, Java, Python saying why), prepare() builds a TypeScript package with
a real ``npm ci`` + ``npm run build`` (cached: a second prepare runs nothing), a build error
surfaces in seconds with the compiler's own lines, and a supervised server that dies at start
makes the wait for it fail in seconds with its own log instead of the 60 s timeout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from baas.errors import OperationError, UsageError
from baas.runtimes.local import chaincode
from baas.runtimes.local.chaincode import PreparedChaincode, build_excerpt, detect, prepare
from baas.runtimes.local.runtime import _wait_listening
from baas.runtimes.local.supervision import ProgramSpec, Supervisor

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "chaincode"
TS_EXAMPLE = EXAMPLES / "asset-transfer-ts"
JS_EXAMPLE = EXAMPLES / "asset-transfer"

needs_npm = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs node and npm on PATH (and the npm registry for the first npm ci)",
)


def copy_example(target: Path, source: Path = TS_EXAMPLE) -> Path:
    """The example's files (no node_modules or build output) in ``target``."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("node_modules", "dist"))
    return target


def edit_package(folder: Path, **changes: Any) -> None:
    manifest = folder / "package.json"
    package = json.loads(manifest.read_text())
    package.update(changes)
    manifest.write_text(json.dumps(package, indent=2) + "\n")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module: the example's dependencies are installed once (every
    variant below keeps its package-lock.json), then each variant only builds."""
    return tmp_path_factory.mktemp("chaincode-cache")


@pytest.fixture(scope="module")
def built(cache: Path) -> tuple[PreparedChaincode, list[str]]:
    lines: list[str] = []
    return prepare(detect(TS_EXAMPLE), cache_dir=cache, report=lines.append), lines


# --- detect -----------------------------------------------------------------------------------


def test_detect_sees_a_typescript_package_with_its_build_script() -> None:
    source = detect(TS_EXAMPLE)
    assert (source.language, source.build, source.main) == ("typescript", "tsc", "dist/index.js")
    assert source.lockfile == TS_EXAMPLE / "package-lock.json"


def test_detect_keeps_javascript_unbuilt() -> None:
    source = detect(JS_EXAMPLE)
    assert (source.language, source.build, source.main) == ("node", None, "index.js")


def test_detect_takes_any_node_package_with_a_build_script(tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "cc", JS_EXAMPLE)
    edit_package(folder, scripts={"build": "node scripts/bundle.js"})
    source = detect(folder)
    assert (source.language, source.build) == ("node", "node scripts/bundle.js")


def test_detect_refuses_typescript_that_nothing_builds(tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "cc")
    edit_package(folder, scripts={"start": "fabric-chaincode-node server"})
    with pytest.raises(UsageError) as caught:
        detect(folder)
    assert str(folder) in caught.value.message
    assert "'dist/index.js' does not exist" in caught.value.message
    assert '"build": "tsc"' in caught.value.hint


def test_detect_accepts_typescript_shipped_prebuilt(tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "cc")
    edit_package(folder, scripts={})
    (folder / "dist").mkdir()
    (folder / "dist" / "index.js").write_text("module.exports.contracts = [];\n")
    assert detect(folder).build is None


@pytest.mark.parametrize(
    ("marker", "reason"),
    [
        ("go.mod", "Go module proxy refuses github.com/hyperledger/* modules"),
        ("pyproject.toml", "no Python chaincode shim"),
    ],
)
def test_detect_refuses_other_languages_with_the_reason(
    tmp_path: Path, marker: str, reason: str
) -> None:
    (tmp_path / marker).write_text("")
    with pytest.raises(UsageError) as caught:
        detect(tmp_path)
    assert f"({marker})" in caught.value.message
    assert reason in caught.value.message
    assert "TypeScript" in caught.value.hint


# --- prepare: building ------------------------------------------------------------------------


@needs_npm
def test_prepare_installs_dev_dependencies_and_builds_main(
    built: tuple[PreparedChaincode, list[str]], cache: Path
) -> None:
    prepared, lines = built
    assert prepared.installed and prepared.built
    assert prepared.digest.endswith("-dev")
    assert prepared.root == cache / "node" / prepared.digest / "builds" / prepared.source_digest
    assert (prepared.root / "dist" / "index.js").is_file()
    assert (prepared.root / "src" / "assetTransfer.ts").is_file()
    assert (prepared.modules / "typescript").is_dir()  # dev dependency: the compiler
    assert (prepared.modules / "fabric-shim").is_dir()
    assert any("npm ci --no-audit --no-fund" in line for line in lines)
    assert any("npm run build: tsc" in line for line in lines)
    assert not list((cache / "node" / prepared.digest / "builds").glob(".tmp-*"))


@needs_npm
def test_the_built_main_loads_and_exports_the_contract(
    built: tuple[PreparedChaincode, list[str]],
) -> None:
    prepared, _ = built
    node = shutil.which("node")
    assert node is not None
    script = "const m = require('./dist/index.js'); console.log(m.contracts[0].name)"
    done = subprocess.run(
        [node, "-e", script], cwd=prepared.root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "AssetTransfer"


@needs_npm
def test_a_second_prepare_runs_nothing(
    built: tuple[PreparedChaincode, list[str]], cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = built

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a cached prepare ran {args}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    lines: list[str] = []
    again = prepare(detect(TS_EXAMPLE), cache_dir=cache, report=lines.append)
    assert (again.root, again.installed, again.built) == (first.root, False, False)
    assert any("npm ci skipped" in line for line in lines)
    assert any("build skipped" in line for line in lines)


@needs_npm
def test_an_edited_source_rebuilds_without_reinstalling(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    first, _ = built
    folder = copy_example(tmp_path / "cc")
    index = folder / "src" / "index.ts"
    index.write_text(index.read_text() + "\nexport const edition = 2;\n")
    again = prepare(detect(folder), cache_dir=cache)
    assert (again.installed, again.built) == (False, True)
    assert again.digest == first.digest and again.root != first.root
    assert "edition = 2" in (again.root / "dist" / "index.js").read_text()


@needs_npm
def test_a_type_error_fails_with_the_compiler_lines(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    first, _ = built
    folder = copy_example(tmp_path / "broken")
    contract = folder / "src" / "assetTransfer.ts"
    contract.write_text(
        contract.read_text().replace(
            "const previous = asset.Owner;", "const previous: number = asset.Owner;"
        )
    )
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=cache)
    message = caught.value.message
    assert message.startswith(f"chaincode folder {folder}: `npm run build` (tsc) failed (exit ")
    assert "src/assetTransfer.ts(" in message
    assert "error TS2322: Type 'string' is not assignable to type 'number'" in message
    assert ".tmp-" not in message  # the staging folder is never shown
    builds = cache / "node" / first.digest / "builds"
    assert sorted(p.name for p in builds.iterdir()) == sorted(
        p.name for p in builds.iterdir() if not p.name.startswith(".tmp-")
    )


@needs_npm
def test_a_failing_build_script_shows_its_own_output(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    folder = copy_example(tmp_path / "script")
    script = (
        "node -e \"console.log('bundling'); console.error('Error: no entry'); process.exit(3)\""
    )
    edit_package(folder, scripts={"build": script})
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=cache)
    assert "failed (exit 3)" in caught.value.message
    assert "Error: no entry" in caught.value.message


@needs_npm
def test_a_build_that_misses_main_says_so(
    built: tuple[PreparedChaincode, list[str]], cache: Path, tmp_path: Path
) -> None:
    folder = copy_example(tmp_path / "elsewhere")
    edit_package(folder, main="out/index.js")
    with pytest.raises(UsageError) as caught:
        prepare(detect(folder), cache_dir=cache)
    assert "did not produce main 'out/index.js'" in caught.value.message
    assert "outDir" in caught.value.hint


def test_build_excerpt_starts_at_the_first_error_and_hides_the_staging_folder() -> None:
    staging, source = Path("/cache/builds/.tmp-abc"), Path("/src/cc")
    output = "\n".join(
        [
            "",
            "> cc@1.0.0 build",
            "> tsc",
            "",
            "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
            f"{staging}/src/b.ts(9,1): error TS1005: ';' expected.",
            *[f"line {i}" for i in range(20)],
        ]
    )
    excerpt = build_excerpt(output, staging=staging, source=source).splitlines()
    assert excerpt[0].startswith("src/a.ts(3,7): error TS2322")
    assert excerpt[1] == "/src/cc/src/b.ts(9,1): error TS1005: ';' expected."
    assert len(excerpt) == 13 and excerpt[-1] == "… (10 more lines)"


def test_build_excerpt_without_an_error_line_keeps_the_end() -> None:
    output = "\n".join(f"step {i}" for i in range(30))
    excerpt = build_excerpt(output, staging=Path("/s"), source=Path("/c"))
    assert excerpt.splitlines() == [f"step {i}" for i in range(18, 30)]
    assert build_excerpt("", staging=Path("/s"), source=Path("/c")) == "(no output)"


# --- a server that dies at start --------------------------------------------------------------


def test_waiting_for_a_server_that_dies_at_start_fails_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A supervised "server" that exits at once as node does on MODULE_NOT_FOUND: the wait
    ends on the supervisor's verdict (not its timeout, whose message is another) with the
    server's own stderr."""
    home = tmp_path / "home"
    monkeypatch.setenv("BAAS_HOME", str(home))
    state_dir = home / "networks" / "dies"
    address = "127.0.0.1:1"  # nothing listens there
    crash = "echo \"Error: Cannot find module '/cc/dist/index.js'\" >&2; exit 1"
    spec = ProgramSpec(
        name="cc-org1-mychannel-basic",
        argv=("/bin/sh", "-c", crash),
        env={"CHAINCODE_SERVER_ADDRESS": address, "CHAINCODE_ID": "basic_1.0:" + "0" * 64},
        cwd=tmp_path,
        log_file=state_dir / "logs" / "cc-org1-mychannel-basic.log",
    )
    supervisor = Supervisor(state_dir)
    try:
        supervisor.ensure_programs([spec], scope="chaincode")
        watch = chaincode.ServerWatch(state_dir, spec.name)
        with pytest.raises(OperationError) as caught:
            _wait_listening(address, timeout=600.0, watch=watch)
    finally:
        supervisor.shutdown()
    message = caught.value.message
    assert "chaincode server cc-org1-mychannel-basic" in message
    assert "Error: Cannot find module '/cc/dist/index.js'" in message


def test_a_server_nobody_supervises_gives_no_early_verdict(tmp_path: Path) -> None:
    watch = chaincode.ServerWatch(tmp_path / "networks" / "none", "cc-org1-mychannel-basic")
    assert watch.failure() is None
