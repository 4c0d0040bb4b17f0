"""The approval gate in the console on real Fabric 2.5.16 (marked ``ui`` and ``fabric``; skips
without the binaries or Chromium): two-orgs with ``basic`` at ``approval: manual``, deployed
through the API (its ``up`` approves for nobody), is pending on the chaincodes screen; org1's
org-admin clicks Approve for org1 (and is offered no button for org2), the job succeeds and
the screen shows org1's approval and org2 awaited; org2's org-admin approves in a browser of
its own and the definition is committed."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.api.support import ApiServer, Tokens, read_events, server_env, two_orgs
from tests.support.fabric import fabric_install_or_skip
from tests.ui.conftest import ConsoleServer, Page

pytestmark = [pytest.mark.ui, pytest.mark.fabric, pytest.mark.timeout(900)]

NAME = "ui-gate"
POLICY = "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\""
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def console(
    console_built: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """``baas serve`` with Fabric's binaries and the module's network deployed (pending)."""
    fabric_install_or_skip("2.5.16")
    home = tmp_path_factory.mktemp("ui-gate")
    url = f"sqlite:///{home / 'api.sqlite3'}"
    server = ApiServer(home=home, database_url=url, env=server_env(home, url, fabric=True))
    db = server.database()
    db.migrate()
    made = Tokens.create(db)
    db.dispose()
    server.start()
    try:
        with server.client(made.admin) as http:
            text = two_orgs(NAME).replace(POLICY, POLICY + "\n      approval: manual")
            created = http.post(
                "/api/v1/networks", content=text, headers={"Content-Type": "application/yaml"}
            )
            assert created.status_code == 201, created.text
            up = http.post(f"/api/v1/networks/{NAME}/deployments", json={"action": "up"})
            assert up.status_code == 202, up.text
            events = list(read_events(http, up.json()["id"]))
            assert events[-1].data["data"]["state"] == "succeeded", events[-1].data
        yield ConsoleServer(server, made)
    finally:
        with server.client(made.admin) as http:
            http.delete(f"/api/v1/networks/{NAME}", params={"purge": "true"})
        server.stop()


def _approve_as(page: Page, token: str, org: str, *, other: str) -> None:
    page.page.goto(f"/networks/{NAME}/chaincodes")
    page.page.get_by_label("API token").fill(token)
    page.page.get_by_role("button", name="Sign in").click()
    wanted = page.page.locator('[data-testid="wanted"][data-chaincode="basic"]')
    expect(wanted).to_contain_text("pending", timeout=JOB_TIMEOUT_MS)
    expect(page.page.get_by_role("button", name=f"Approve basic for {other}")).to_have_count(0)
    page.page.get_by_role("button", name=f"Approve basic for {org}").click()
    expect(page.page).to_have_url(re.compile(r"/deployments/"))
    expect(page.page.get_by_test_id("job-state")).to_contain_text(
        "succeeded", timeout=JOB_TIMEOUT_MS
    )


def test_each_organisation_approves_in_the_console(page: Page, console: ConsoleServer) -> None:
    _approve_as(page, console.tokens.org1, "org1", other="org2")
    page.page.goto(f"/networks/{NAME}/chaincodes")
    wanted = page.page.locator('[data-testid="wanted"][data-chaincode="basic"]')
    expect(wanted).to_contain_text("approved by Org1MSP; waiting for Org2MSP")
    page.shot("chaincodes-pending-approval")

    second = page.page.context.browser.new_context(base_url=console.url)  # type: ignore[union-attr]
    try:
        other = Page(second.new_page(), page.log, console.url)
        _approve_as(other, console.tokens.org2, "org2", other="org1")
        other.page.goto(f"/networks/{NAME}/chaincodes")
        done = other.page.locator('[data-testid="wanted"][data-chaincode="basic"]')
        expect(done).to_contain_text("committed", timeout=JOB_TIMEOUT_MS)
        expect(done).to_contain_text("approved by Org1MSP, Org2MSP")
    finally:
        second.close()
