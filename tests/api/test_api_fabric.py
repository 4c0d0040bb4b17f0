"""The whole API flow on real Fabric (marked ``fabric``; skips, saying how to provide the
binaries, where Fabric 2.5.16 is not installed): create examples/two-orgs.yaml over HTTP,
deploy it on the local runtime, stream its events to completion, read its status and an
organisation, run smoke with a load probe and read its report, delete it with purge — and a
server killed during a real deployment, whose job the next server marks interrupted and whose
next ``up`` converges; and a cancelled ``up``."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, MakeApi
from tests.api.support import SseEvent, read_events, two_orgs
from tests.api.test_api_security import ORG1_CHAINCODE as MINE_1_0
from tests.api.test_api_security import with_org1_channel
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import leftover_processes

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(600)]

YAML = {"Content-Type": "application/yaml"}


def _final(events: list[SseEvent]) -> dict[str, object]:
    assert events[-1].kind == "state"
    return dict(events[-1].data["data"])


def _purge(api: Api, name: str) -> None:
    state_dir = api.server.home / "networks" / name
    with api.server.client(api.tokens.admin) as http:
        deleted = http.delete(f"/api/v1/networks/{name}", params={"purge": "true"})
        assert deleted.status_code == 200, deleted.text
        assert deleted.json()["purged"] is True
    assert not state_dir.exists()
    assert leftover_processes(state_dir) == []


def test_full_flow_over_http(make_api: MakeApi) -> None:
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "supplychain"
    try:
        with api.server.client(api.tokens.admin) as http:
            created = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
            assert created.status_code == 201, created.text
            started = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert started.status_code == 202, started.text
            job = started.json()["id"]
            second = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert second.status_code == 409 and job in second.json()["message"]

        with api.server.client(api.tokens.viewer) as http:
            events = list(read_events(http, job))
            final = _final(events)
            assert final["state"] == "succeeded", final
            states = [e.data["data"]["state"] for e in events if e.kind == "state"]
            assert states == ["queued", "running", "succeeded"]
            progress = [e.data["data"]["message"] for e in events if e.kind == "progress"]
            assert any(line.startswith("pki ") for line in progress)
            assert any("healthy" in line for line in progress)
            read = http.get(f"/api/v1/deployments/{job}").json()
            assert [p["name"] for p in read["phases"]] == [
                "config",
                "start",
                "channel",
                "chaincode",
            ]
            assert all(p["seconds"] >= 0 for p in read["phases"])
            assert any("committed basic" in c for c in read["phases"][-1]["changes"])

            status = http.get(f"/api/v1/networks/{name}/status").json()
            assert status["running"] is True
            assert len(status["nodes"]) == 7 and all(n["healthy"] for n in status["nodes"])
            [channel] = status["channels"]
            assert channel["name"] == "mychannel"
            assert all(h and h > 0 for h in channel["heights"].values())
            assert [c["name"] for c in channel["chaincodes"]] == ["basic"]

            plan = http.get(f"/api/v1/networks/{name}/plan").json()
            assert plan["changes"] == []
            org = http.get(f"/api/v1/networks/{name}/organizations/org1").json()
            assert all(i["certificates"] for i in org["identities"])

        with api.server.client(api.tokens.org1) as http:
            # an org-admin may run smoke, but not deploy its probe: org2 must approve that
            first = http.post(f"/api/v1/networks/{name}/smoke", json={})
            events = list(read_events(http, first.json()["id"]))
            lines = [e.data["data"]["message"] for e in events if e.kind == "progress"]
            [refused] = [line for line in lines if line.startswith("FAIL")]
            assert "probe chaincode" in refused and "signing as the admin of org2" in refused
            marker = api.server.home / "networks" / name / "smoke" / "probe-deployed"
            assert not marker.exists()  # refused before anything: `up` does not take it up
        with api.server.client(api.tokens.admin) as http:  # deploys the probe
            deployed = http.post(f"/api/v1/networks/{name}/smoke", json={})
            assert _final(list(read_events(http, deployed.json()["id"])))["state"] == "succeeded"
            assert http.get(f"/api/v1/networks/{name}/smoke").json()["passed"] is True
        with api.server.client(api.tokens.org1) as http:  # now it only reuses it
            probe = {"load": {"duration": 3, "concurrency": 2}}
            smoke = http.post(f"/api/v1/networks/{name}/smoke", json=probe)
            assert smoke.status_code == 202, smoke.text
            events = list(read_events(http, smoke.json()["id"]))
            assert _final(events)["state"] == "succeeded", _final(events)
            lines = [e.data["data"]["message"] for e in events if e.kind == "progress"]
            assert any(line.startswith("PASS") and "nodes healthy" in line for line in lines)
            assert not any(line.startswith("FAIL") for line in lines), lines
            run = http.get(f"/api/v1/networks/{name}/smoke").json()
            assert run["id"] == smoke.json()["id"] and run["passed"] is True, run
            checks = {c["name"]: c["status"] for c in run["report"]["checks"]}
            assert checks["endorsement mychannel"] == "passed"
            assert checks["weak endorsement mychannel"] == "passed"
            [load] = run["report"]["load"]
            assert load["committed"] > 0
        with api.server.client(api.tokens.admin) as http:
            again = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert again.status_code == 202
            rerun = _final(list(read_events(http, again.json()["id"])))
            assert rerun["state"] == "succeeded"
            assert rerun["result"]["changed"] is False  # type: ignore[index]
    finally:
        _purge(api, name)


def test_a_server_killed_during_up(make_api: MakeApi) -> None:
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "killed"
    try:
        with api.server.client(api.tokens.admin) as http:
            assert http.post("/api/v1/networks", content=two_orgs(name), headers=YAML).is_success
            job = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}).json()
            for event in read_events(http, job["id"]):
                if event.kind == "progress":
                    break
        api.server.kill()
        api.server.start()
        with api.server.client(api.tokens.admin) as http:
            read = http.get(f"/api/v1/deployments/{job['id']}").json()
            assert read["state"] == "interrupted", read
            assert read["lastStep"] and read["lastStep"] in read["error"]["message"]
            resumed = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert resumed.status_code == 202, resumed.text
            final = _final(list(read_events(http, resumed.json()["id"])))
            assert final["state"] == "succeeded", final
            status = http.get(f"/api/v1/networks/{name}/status").json()
            assert status["running"] is True
    finally:
        _purge(api, name)


def test_cancelling_a_real_up(make_api: MakeApi) -> None:
    """A cancelled ``up`` stops at its next step (``cancelled``, with that step); a new ``up``
    converges from what it left."""
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "cancelled"
    try:
        with api.server.client(api.tokens.deployer) as http:
            assert (
                http.post("/api/v1/networks", content=two_orgs(name), headers=YAML).status_code
                == 403
            )
        with api.server.client(api.tokens.admin) as http:
            assert http.post("/api/v1/networks", content=two_orgs(name), headers=YAML).is_success
        with api.server.client(api.tokens.deployer) as http:
            job = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}).json()
            events = read_events(http, job["id"])
            for event in events:
                if event.kind == "progress":
                    cancel = http.post(f"/api/v1/networks/{name}/deployments/{job['id']}/cancel")
                    assert cancel.status_code == 202, cancel.text
                    break
            final = _final(list(events))
            assert final["state"] == "cancelled", final
            assert final["lastStep"]
            read = http.get(f"/api/v1/deployments/{job['id']}").json()
            assert read["cancelRequested"] is True and read["state"] == "cancelled"
            again = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert _final(list(read_events(http, again.json()["id"])))["state"] == "succeeded"
    finally:
        _purge(api, name)


def test_a_scoped_deployer_delivers_what_its_organisation_alone_approves(
    make_api: MakeApi,
) -> None:
    """After a consortium-admin's real ``up`` (recorded as what the network runs), a
    chaincode-deployer scoped to org1 upgrades the chaincode of org1's own channel with its
    own ``up``; the shared chaincode it may not touch."""
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "scoped"
    text = with_org1_channel(name)
    try:
        with api.server.client(api.tokens.admin) as http:
            assert http.post("/api/v1/networks", content=text, headers=YAML).is_success
            job = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}).json()
            assert _final(list(read_events(http, job["id"])))["state"] == "succeeded"
        upgraded = text.replace(MINE_1_0, MINE_1_0.replace('"1.0"', '"1.1"'))
        assert upgraded != text
        with api.server.client(api.tokens.deployer1) as http:
            replaced = http.put(f"/api/v1/networks/{name}", content=upgraded, headers=YAML)
            assert replaced.status_code == 200, replaced.text
            job = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}).json()
            final = _final(list(read_events(http, job["id"])))
            assert final["state"] == "succeeded", final
            changes = [c for p in final["result"]["phases"] for c in p["changes"]]  # type: ignore[index]
            assert any("upgraded mine" in c for c in changes), changes
            assert not any("basic" in c for c in changes), changes
            status = http.get(f"/api/v1/networks/{name}/status").json()
            own = next(c for c in status["channels"] if c["name"] == "org1only")
            assert [(c["name"], c["version"]) for c in own["chaincodes"]] == [("mine", "1.1")]
            listed = http.get(f"/api/v1/networks/{name}/chaincodes")
            assert listed.status_code == 200, listed.text
            mine = next(c for c in listed.json()["channels"] if c["channel"] == "org1only")
            [definition] = mine["committed"]
            assert (definition["version"], definition["sequence"]) == ("1.1", 2)
            assert [a["mspId"] for a in definition["approvals"]] == ["Org1MSP"]
            shared = upgraded.replace('version: "1.0"', 'version: "2.0"', 1)
            refused = http.put(f"/api/v1/networks/{name}", content=shared, headers=YAML)
            assert refused.status_code == 403 and "org2" in refused.json()["message"]
    finally:
        _purge(api, name)
