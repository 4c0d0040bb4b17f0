"""The sample chaincode's own unit tests (``node --test``), run on a dev install made by
``prepare(include_dev=True)`` — the same npm ci path baas uses, cached by lockfile digest in
pytest's cache folder (``.pytest_cache``), so a re-run does not reinstall."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from baas.runtimes.local.chaincode import PreparedChaincode, detect, prepare

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chaincode" / "asset-transfer"
TRANSACTIONS = (
    "InitLedger",
    "CreateAsset",
    "ReadAsset",
    "UpdateAsset",
    "DeleteAsset",
    "TransferAsset",
    "GetAllAssets",
    "AssetExists",
)
NODE_TEST_TIMEOUT = 600.0
"""Only stops a hung test run from hanging the suite; no assertion depends on it."""

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="needs node and npm on PATH",
)


@dataclass(frozen=True)
class TapSummary:
    """What ``node --test --test-reporter=tap`` reported."""

    returncode: int
    tests: int
    passed: int
    failed: int
    ok_names: tuple[str, ...]
    output: str


def parse_tap(returncode: int, output: str) -> TapSummary:
    """Read the ``# tests N`` / ``# pass N`` / ``# fail N`` summary and the top-level
    ``ok N - name`` lines; a missing summary line fails the test that asked."""

    def count(name: str) -> int:
        found = re.search(rf"^# {name} (\d+)$", output, re.MULTILINE)
        assert found, f"no '# {name}' line in node --test output:\n{output}"
        return int(found[1])

    names = tuple(re.findall(r"^ok \d+ - (.+)$", output, re.MULTILINE))
    return TapSummary(
        returncode=returncode,
        tests=count("tests"),
        passed=count("pass"),
        failed=count("fail"),
        ok_names=names,
        output=output,
    )


def run_node_tests(prepared: PreparedChaincode) -> TapSummary:
    node = shutil.which("node")
    assert node is not None
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap"],
        cwd=prepared.root,
        capture_output=True,
        text=True,
        timeout=NODE_TEST_TIMEOUT,
        check=False,
    )
    return parse_tap(done.returncode, done.stdout + done.stderr)


@pytest.fixture(scope="module")
def cache_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's persistent cache folder when the cache plugin is on, else a fresh tmp folder."""
    cache = getattr(request.config, "cache", None)
    if cache is not None:
        folder: Path = cache.mkdir("baas-chaincode")
        return folder
    return tmp_path_factory.mktemp("baas-chaincode")


def test_the_chaincode_unit_tests_pass(cache_dir: Path) -> None:
    prepared = prepare(detect(EXAMPLE), cache_dir=cache_dir, include_dev=True)
    assert prepared.digest.endswith("-dev")
    assert (prepared.root / "test").is_dir()
    summary = run_node_tests(prepared)
    assert summary.returncode == 0, summary.output
    assert summary.tests > 0
    assert summary.failed == 0
    assert summary.passed == summary.tests == len(summary.ok_names)
    for transaction in TRANSACTIONS:
        assert any(transaction in name for name in summary.ok_names), (
            f"no passing test names {transaction}: {summary.ok_names}"
        )


def test_a_broken_contract_fails_its_unit_tests(cache_dir: Path, tmp_path: Path) -> None:
    """The harness can fail: TransferAsset returning the new owner is caught."""
    folder = shutil.copytree(
        EXAMPLE, tmp_path / "asset-transfer", ignore=shutil.ignore_patterns("node_modules")
    )
    contract = folder / "lib" / "assetTransfer.js"
    text = contract.read_text()
    assert "return oldOwner;" in text
    contract.write_text(text.replace("return oldOwner;", "return owner;"))
    prepared = prepare(detect(folder), cache_dir=cache_dir, include_dev=True)
    expected = prepare(detect(EXAMPLE), cache_dir=cache_dir, include_dev=True)
    assert prepared.modules == expected.modules  # same package.json and lockfile: one install
    assert prepared.root != expected.root
    summary = run_node_tests(prepared)
    assert summary.returncode != 0
    assert summary.failed >= 1
    assert summary.passed < summary.tests
    assert re.search(r"^not ok \d+ - TransferAsset", summary.output, re.MULTILINE)
