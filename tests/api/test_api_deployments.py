"""Deployments as jobs against a real server (SQLite and PostgreSQL), without Fabric: the
server's ``FABRIC_BIN`` names an empty folder, so ``up`` fails in its preflight with the CLI's
message (a real failure of the real service), and ``down`` of a network that never ran
succeeds. Events stream as SSE and resume with ``Last-Event-ID``; one job per network."""

from __future__ import annotations

from datetime import UTC, datetime

from baas.api.db.models import DeploymentRow, EventRow
from tests.api.conftest import Api
from tests.api.support import read_events, two_orgs

YAML = {"Content-Type": "application/yaml"}


def _network(api: Api, name: str) -> None:
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
        assert response.status_code == 201, response.text


def _start(api: Api, name: str, **body: object) -> dict[str, object]:
    with api.server.client(api.tokens.admin) as http:
        response = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up", **body})
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/api/v1/deployments/{response.json()['id']}"
        return dict(response.json())


def test_up_without_binaries_fails_with_the_cli_message(api: Api) -> None:
    _network(api, "dep-fail")
    job = _start(api, "dep-fail")
    assert job["state"] == "queued"
    with api.server.client(api.tokens.viewer) as http:
        events = list(read_events(http, str(job["id"])))
        states = [e.data["data"]["state"] for e in events if e.kind == "state"]
        assert states == ["queued", "running", "failed"]
        ids = [e.id for e in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        final = events[-1].data["data"]
        assert "FABRIC_BIN" in final["error"]["message"]
        assert final["error"]["hint"]
        read = http.get(f"/api/v1/deployments/{job['id']}").json()
        assert read["state"] == "failed" and read["finishedAt"] and read["seconds"] is not None
        assert read["error"]["message"] == final["error"]["message"]
        same = http.get(f"/api/v1/networks/dep-fail/deployments/{job['id']}").json()
        assert same == read
        listed = http.get("/api/v1/networks/dep-fail/deployments").json()["items"]
        assert [d["id"] for d in listed] == [job["id"]]
        detail = http.get("/api/v1/networks/dep-fail").json()
        assert detail["latestDeployment"]["id"] == job["id"]

        resumed = list(read_events(http, str(job["id"]), last=ids[0]))
        assert [e.id for e in resumed] == ids[1:]
        assert list(read_events(http, str(job["id"]), last=ids[-1])) == []


def test_down_runs_as_a_job(api: Api) -> None:
    _network(api, "dep-down")
    with api.server.client(api.tokens.admin) as http:
        response = http.post(
            "/api/v1/networks/dep-down/deployments", json={"action": "down", "purge": True}
        )
        assert response.status_code == 202, response.text
        events = list(read_events(http, response.json()["id"]))
        final = events[-1].data["data"]
        assert final["state"] == "succeeded", final
        assert final["result"]["kind"] == "DownResult" and final["result"]["purged"] is True


def test_bad_requests_name_the_field(api: Api) -> None:
    _network(api, "dep-bad")
    with api.server.client(api.tokens.admin) as http:
        purge_up = http.post(
            "/api/v1/networks/dep-bad/deployments", json={"action": "up", "purge": True}
        )
        assert purge_up.status_code == 422
        assert "purge" in purge_up.json()["message"]
        unknown = http.post("/api/v1/networks/dep-bad/deployments", json={"action": "sideways"})
        assert unknown.status_code == 422
        assert unknown.json()["diagnostics"][0]["path"] == "body.action"
        header = http.get(
            "/api/v1/deployments/dep_0000000000000000/events", headers={"Last-Event-ID": "x"}
        )
        assert header.status_code == 422 and "Last-Event-ID" in header.json()["message"]
        missing = http.get("/api/v1/deployments/dep_0000000000000000")
        assert missing.status_code == 404


def test_one_deployment_per_network(api: Api) -> None:
    """A job another server process left running (seeded in the shared database) blocks a
    second one with 409 naming it; the database's unique index holds the rule."""
    _network(api, "dep-busy")
    db = api.server.database()
    stamp = datetime.now(UTC)
    with db.session() as session:
        session.add(
            DeploymentRow(
                id="dep_00000000000000aa",
                network="dep-busy",
                action="up",
                target="local",
                purge=False,
                state="running",
                revision=1,
                created_at=stamp,
                started_at=stamp,
                created_by=None,
                cancel_requested=False,
            )
        )
    try:
        with api.server.client(api.tokens.admin) as http:
            response = http.post("/api/v1/networks/dep-busy/deployments", json={"action": "up"})
            assert response.status_code == 409
            assert "dep_00000000000000aa" in response.json()["message"]
            replace = http.put(
                "/api/v1/networks/dep-busy", content=two_orgs("dep-busy"), headers=YAML
            )
            assert replace.status_code == 409
            assert http.delete("/api/v1/networks/dep-busy").status_code == 409
            cancel = http.post("/api/v1/networks/dep-busy/deployments/dep_00000000000000aa/cancel")
            assert cancel.status_code == 202
            assert cancel.json()["cancelRequested"] is True
    finally:
        with db.session() as session:
            row = session.get(DeploymentRow, "dep_00000000000000aa")
            assert row is not None
            row.state = "cancelled"
            session.add(
                EventRow(deployment_id=row.id, at=stamp, kind="state", data={"state": "cancelled"})
            )
        db.dispose()
    with api.server.client(api.tokens.admin) as http:
        done = http.post("/api/v1/networks/dep-busy/deployments/dep_00000000000000aa/cancel")
        assert done.status_code == 409 and "already ended" in done.json()["message"]
