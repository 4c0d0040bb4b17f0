"""The approval gate over the REST API on real Fabric 2.5.16 (marked ``fabric``): two-orgs with
``basic`` at ``approval: manual`` is deployed by a consortium-admin, whose ``up`` approves for
nobody; org1's org-admin approves for org1 (still awaiting org2, nothing committed) and may
not approve for org2 (403, before anything is done); org2's org-admin approves and the
definition is committed; approving again changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import MakeApi
from tests.api.support import read_events, two_orgs
from tests.support.fabric import fabric_install_or_skip
from tests.support.localnet import leftover_processes

pytestmark = [pytest.mark.fabric, pytest.mark.timeout(1200)]

YAML = {"Content-Type": "application/yaml"}
POLICY = "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\""


def _finished(http: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    final: dict[str, Any] = list(read_events(http, response.json()["id"]))[-1].data["data"]
    return final


def _state(http: httpx.Client, name: str) -> dict[str, Any]:
    response = http.get(f"/api/v1/networks/{name}/chaincodes/basic/approvals")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def test_manual_approval_over_the_api(make_api: MakeApi) -> None:
    fabric_install_or_skip("2.5.16")
    api = make_api("sqlite", fabric=True)
    name = "gate"
    text = two_orgs(name).replace(POLICY, POLICY + "\n      approval: manual")
    approvals = f"/api/v1/networks/{name}/chaincodes/basic/approvals"
    try:
        with api.server.client(api.tokens.admin) as http:
            assert http.post("/api/v1/networks", content=text, headers=YAML).status_code == 201
            up = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
            assert _finished(http, up)["state"] == "succeeded"
            state = _state(http, name)
            assert (state["committed"], state["approved"]) == (False, [])
            assert state["waiting"] == ["Org1MSP", "Org2MSP"]

        with api.server.client(api.tokens.org1) as http:
            refused = http.post(approvals, json={"organizations": ["org2"]})
            assert refused.status_code == 403, refused.text
            assert refused.json()["code"] == "signing-refused"
            assert _finished(http, http.post(approvals, json={}))["state"] == "succeeded"
            state = _state(http, name)
            assert (state["committed"], state["approved"]) == (False, ["Org1MSP"])

        with api.server.client(api.tokens.org2) as http:
            assert _finished(http, http.post(approvals, json={}))["state"] == "succeeded"
            state = _state(http, name)
            assert (state["committed"], state["sequence"]) == (True, 1)
            assert state["approved"] == ["Org1MSP", "Org2MSP"]
            again = http.post(approvals, json={})
            assert _finished(http, again)["state"] == "succeeded"

        with api.server.client(api.tokens.viewer) as http:
            [channel] = http.get(f"/api/v1/networks/{name}/chaincodes").json()["channels"]
            assert [(c["name"], c["sequence"]) for c in channel["committed"]] == [("basic", 1)]
            history = http.get(f"/api/v1/networks/{name}/chaincodes/basic/deliveries").json()
            outcomes = [e["outcome"] for e in reversed(history["items"])]
            assert outcomes == ["awaiting approval", "delivered", "delivered"], outcomes
    finally:
        state_dir = api.server.home / "networks" / name
        with api.server.client(api.tokens.admin) as http:
            deleted = http.delete(f"/api/v1/networks/{name}", params={"purge": "true"})
            assert deleted.status_code == 200, deleted.text
        assert leftover_processes(state_dir) == []
