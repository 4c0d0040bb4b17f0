"""The ready CI recipes (examples/ci/): both pipelines test the chaincode and then deliver it
by running examples/ci/deliver.py with the server and token from the CI's secret store; the
test job's own commands pass on the example chaincode; the script's failures say the server's
message and hint (never the token); and, on real Fabric, the script delivers a new version
of the Node chaincode to a real ``baas serve``: the committed sequence goes up and the
history lists it (the same call again changes nothing)."""

from __future__ import annotations

import importlib.util
import io
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.api.conftest import Api, MakeApi
from tests.api.support import ROOT, read_events, two_orgs
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import leftover_processes

CI = ROOT / "examples" / "ci"
SCRIPT = CI / "deliver.py"
YAML = {"Content-Type": "application/yaml"}


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_deliver", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _expand(command: str, variables: dict[str, str]) -> list[str]:
    """``command``'s words with ``$VAR``, ``${{ env.VAR }}`` and the CI's run numbers filled
    in (as the runner would)."""
    for key, value in variables.items():
        command = command.replace(f"${{{{ env.{key} }}}}", value).replace(f"${key}", value)
    command = command.replace("${{ github.run_number }}", "7").replace("$CI_PIPELINE_IID", "7")
    return shlex.split(command)


def _delivery_args(command: str, variables: dict[str, str]) -> Any:
    words = _expand(command, variables)
    assert words[:2] == ["python3", "examples/ci/deliver.py"], words
    return _script()._arguments(words[2:])


def test_github_actions_tests_then_delivers_with_the_secret_token() -> None:
    flow = yaml.safe_load((CI / "github-actions.yml").read_text())
    variables = flow["env"]
    folder = ROOT / variables["CHAINCODE_DIR"]
    assert (folder / "package.json").is_file()
    test, deliver = flow["jobs"]["test"], flow["jobs"]["deliver"]
    runs = [s.get("run") for s in test["steps"]]
    assert "npm ci" in runs and "npm test" in runs
    assert {s.get("working-directory") for s in test["steps"] if s.get("run")} == {
        "${{ env.CHAINCODE_DIR }}"
    }
    assert deliver["needs"] == "test"
    [step] = [s for s in deliver["steps"] if "deliver.py" in s.get("run", "")]
    assert step["env"] == {
        "BAAS_URL": "${{ secrets.BAAS_URL }}",
        "BAAS_TOKEN": "${{ secrets.BAAS_TOKEN }}",
    }
    args = _delivery_args(step["run"], variables)
    assert (args.network, args.chaincode, args.version) == ("supplychain", "basic", "1.0.7")
    assert ROOT / args.path == folder


def test_gitlab_ci_tests_then_delivers_with_the_secret_token() -> None:
    flow = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    variables = flow["variables"]
    assert "BAAS_TOKEN" not in variables and "BAAS_URL" not in variables  # CI/CD variables
    folder = ROOT / variables["CHAINCODE_DIR"]
    test, deliver = flow["chaincode-test"], flow["chaincode-deliver"]
    assert test["stage"] == "test" and deliver["stage"] == "deliver"
    assert any(line.startswith("npm ci") for line in test["script"])
    assert "npm test" in test["script"]
    assert deliver["needs"] == ["chaincode-test"]
    [command] = [line for line in deliver["script"] if "deliver.py" in line]
    args = _delivery_args(command, variables)
    assert (args.network, args.chaincode, args.version) == ("supplychain", "basic", "1.0.7")
    assert ROOT / args.path == folder


def test_the_test_job_passes_on_the_example_chaincode(tmp_path: Path) -> None:
    """The GitHub test job's commands (npm ci, npm test) in a copy of the chaincode folder."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed")
    flow = yaml.safe_load((CI / "github-actions.yml").read_text())
    folder = tmp_path / "cc"
    shutil.copytree(ROOT / flow["env"]["CHAINCODE_DIR"], folder)
    installed = subprocess.run(
        [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if installed.returncode != 0:
        pytest.skip(f"npm ci could not install the dependencies here: {installed.stderr[-500:]}")
    tested = subprocess.run(
        [npm, "test"], cwd=folder, capture_output=True, text=True, check=False, timeout=600
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]


def test_the_same_folder_packs_to_the_same_digest(tmp_path: Path) -> None:
    """Packing twice (at different times) gives the same bytes, so an unchanged chaincode
    uploads as the digest the server has; node_modules and .git are left out."""
    script = _script()
    folder = tmp_path / "cc"
    shutil.copytree(ROOT / "examples" / "chaincode" / "asset-transfer", folder)
    (folder / "node_modules" / "x").mkdir(parents=True)
    (folder / "node_modules" / "x" / "index.js").write_text("left out")
    (folder / ".git").mkdir()
    first = script.pack(folder)
    os.utime(folder / "index.js", (1, 1))
    assert script.pack(folder) == first
    with tarfile.open(fileobj=io.BytesIO(first)) as tar:
        names = tar.getnames()
    assert "./package.json" in names and "./lib" in names
    assert not any("node_modules" in n or ".git" in n for n in names)


def _run(api: Api, *args: str, token: str | None, net: str, version: str = "1.1") -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAAS_")}
    if token is not None:
        env.update(BAAS_URL=api.server.url, BAAS_TOKEN=token)
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--network",
            net,
            "--chaincode",
            "basic",
            "--path",
            str(ROOT / "examples" / "chaincode" / "asset-transfer"),
            "--version",
            version,
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )


def test_the_script_fails_with_the_servers_message_and_hint(api: Api) -> None:
    with api.server.client(api.tokens.admin) as http:
        created = http.post("/api/v1/networks", content=two_orgs("ci-nofabric"), headers=YAML)
        assert created.status_code == 201, created.text
    unset = _run(api, token=None, net="ci-nofabric")
    assert unset.returncode == 2 and "BAAS_TOKEN" in unset.stderr
    wrong = _run(api, token="not-a-token", net="ci-nofabric")
    assert wrong.returncode == 1 and "valid API token" in wrong.stderr and "hint:" in wrong.stderr
    assert "not-a-token" not in wrong.stdout + wrong.stderr
    viewer = _run(api, token=api.tokens.viewer, net="ci-nofabric")
    assert viewer.returncode == 1 and "(HTTP 403)" in viewer.stderr
    missing = _run(api, token=api.tokens.deployer, net="nope")
    assert missing.returncode == 1 and "no network 'nope'" in missing.stderr
    bad = _run(api, token=api.tokens.deployer, net="ci-nofabric", version="1 1")
    assert bad.returncode == 1 and "version" in bad.stderr and "(HTTP 422)" in bad.stderr
    # this server has no Fabric: the job fails in its preflight, and the script says why
    failed = _run(api, token=api.tokens.deployer, net="ci-nofabric")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "uploaded sha256:" in failed.stdout and "delivery dep_" in failed.stdout
    assert "failed: FABRIC_BIN" in failed.stderr and "hint:" in failed.stderr
    for secret in api.tokens.all():
        assert secret not in failed.stdout + failed.stderr


@pytest.mark.fabric
@pytest.mark.timeout(1200)
def test_the_script_delivers_a_new_version_on_real_fabric(
    make_api: MakeApi, tmp_path: Path
) -> None:
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "ci-deliver"
    folder = tmp_path / "asset-transfer"
    shutil.copytree(ROOT / "examples" / "chaincode" / "asset-transfer", folder)
    (folder / "lib" / "version.js").write_text("module.exports = '1.1';\n")  # new code
    try:
        with api.server.client(api.tokens.admin) as http:
            created = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
            assert created.status_code == 201, created.text
            up = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            final = list(read_events(http, up.json()["id"]))[-1].data["data"]
            assert final["state"] == "succeeded", final
            [before] = http.get(f"/api/v1/networks/{name}/chaincodes").json()["channels"]
            assert [(c["name"], c["sequence"]) for c in before["committed"]] == [("basic", 1)]

        env = {k: v for k, v in os.environ.items() if not k.startswith("BAAS_")}
        env.update(BAAS_URL=api.server.url, BAAS_TOKEN=api.tokens.deployer)
        command = [
            sys.executable,
            str(SCRIPT),
            "--network",
            name,
            "--chaincode",
            "basic",
            "--path",
            str(folder),
            "--version",
            "1.1",
        ]
        started = time.monotonic()
        delivered = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        seconds = time.monotonic() - started
        assert delivered.returncode == 0, delivered.stdout[-5000:] + delivered.stderr[-3000:]
        assert "delivered basic 1.1 (sequence 2)" in delivered.stdout, delivered.stdout
        print(f"upload + delivery of basic 1.1 through examples/ci/deliver.py: {seconds:.1f}s")

        with api.server.client(api.tokens.viewer) as http:
            [after] = http.get(f"/api/v1/networks/{name}/chaincodes").json()["channels"]
            [basic] = after["committed"]
            assert (basic["version"], basic["sequence"]) == ("1.1", 2)
            assert all(a["packageId"] and "1.1" in a["packageId"] for a in basic["approvals"])
            history = http.get(f"/api/v1/networks/{name}/chaincodes/basic/deliveries").json()
            [entry] = history["items"]
            assert entry["outcome"] == "delivered", entry
            assert (entry["version"], entry["sequence"]) == ("1.1", 2)
            assert entry["who"].startswith("test chaincode-deployer")
            assert set(entry["packages"]) == {"org1", "org2"}
            assert entry["seconds"] > 0

        again = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False, timeout=900
        )
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        assert "known already" in again.stdout
        assert "already delivered basic 1.1 (sequence 2)" in again.stdout, again.stdout
        for secret in api.tokens.all():
            assert secret not in delivered.stdout + delivered.stderr + api.server.log.read_text()
    finally:
        state_dir = api.server.home / "networks" / name
        with api.server.client(api.tokens.admin) as http:
            deleted = http.delete(f"/api/v1/networks/{name}", params={"purge": "true"})
            assert deleted.status_code == 200, deleted.text
        assert leftover_processes(state_dir) == []
