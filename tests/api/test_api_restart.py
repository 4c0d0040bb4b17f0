"""Jobs survive a server restart (SQLite and PostgreSQL): what a killed server left running is
marked ``interrupted`` with its last step when the next one starts, its event stream ends,
and a new ``up`` is accepted. Networks and tokens outlive a graceful restart too. (The same
with a server killed during a real deployment: ``test_api_fabric.py``.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baas.api import topologies
from baas.api.db.models import DeploymentRow, EventRow, NetworkRow
from tests.api.conftest import BACKENDS, Api, MakeApi
from tests.api.support import EXAMPLES, read_events, two_orgs

LAST_STEP = "started 7 nodes: orderer0.ordererorg.example.com, …"


def _left_running(make_api: MakeApi, backend: str) -> tuple[Api, str]:
    """A database as a server killed during an ``up`` leaves it; the server not started."""
    api = make_api(backend, start=False)
    stamp = datetime.now(UTC)
    found = topologies.load(two_orgs("crashed"), source_dir=EXAMPLES)
    db = api.server.database()
    with db.session() as session:
        session.add(
            NetworkRow(
                name="crashed",
                target="local",
                source=two_orgs("crashed"),
                media_type="application/yaml",
                summary=topologies.summary(found),
                revision=1,
                created_at=stamp,
                updated_at=stamp,
            )
        )
        session.flush()
        session.add(
            DeploymentRow(
                id="dep_00000000000000c1",
                network="crashed",
                action="up",
                target="local",
                purge=False,
                state="running",
                revision=1,
                created_at=stamp,
                started_at=stamp,
                last_step=LAST_STEP,
                cancel_requested=False,
            )
        )
        session.flush()
        for kind, data in (
            ("state", {"state": "queued"}),
            ("state", {"state": "running"}),
            ("progress", {"message": LAST_STEP}),
        ):
            session.add(
                EventRow(deployment_id="dep_00000000000000c1", at=stamp, kind=kind, data=data)
            )
    db.dispose()
    return api, "dep_00000000000000c1"


@pytest.mark.parametrize("backend", BACKENDS)
def test_unfinished_jobs_are_interrupted_at_start(make_api: MakeApi, backend: str) -> None:
    api, job = _left_running(make_api, backend)
    api.server.start()
    with api.server.client(api.tokens.viewer) as http:
        read = http.get(f"/api/v1/deployments/{job}").json()
        assert read["state"] == "interrupted"
        assert read["lastStep"] == LAST_STEP
        assert LAST_STEP in read["error"]["message"]
        events = list(read_events(http, job))
        assert [e.data["data"].get("message") or e.data["data"]["state"] for e in events] == [
            "queued",
            "running",
            LAST_STEP,
            "interrupted",
        ]
    with api.server.client(api.tokens.admin) as http:
        again = http.post("/api/v1/networks/crashed/deployments", json={"action": "up"})
        assert again.status_code == 202, again.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_networks_and_tokens_outlive_a_restart(make_api: MakeApi, backend: str) -> None:
    api = make_api(backend)
    with api.server.client(api.tokens.admin) as http:
        created = http.post(
            "/api/v1/networks",
            content=two_orgs("kept"),
            headers={"Content-Type": "application/yaml"},
        )
        assert created.status_code == 201
    assert api.server.stop() in (0, -15)
    assert "Application shutdown complete" in api.server.log.read_text()
    api.server.start()
    with api.server.client(api.tokens.org1) as http:
        assert http.get("/api/v1/networks/kept").json()["topology"] == two_orgs("kept")
