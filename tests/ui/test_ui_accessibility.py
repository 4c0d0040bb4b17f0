"""axe-core (the npm package in ui/'s lockfile, installed by ``scripts/build-ui.sh``) finds no
serious or critical accessibility violation on any screen of the console: sign in, the
networks list, a network's detail with a node selected, a deployment, certificates after a
renew, chaincodes, a smoke report, the audit log, the 403 state and an unknown path; the
topology editor (with its diagnostics and forms), the plan and the add-organisation wizard. axe runs
through Playwright's evaluate (the DevTools protocol), so the page's Content-Security-Policy
stays as served."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.api.support import two_orgs
from tests.ui.conftest import ConsoleServer, Page
from tests.ui.test_ui_console import REFUSED_LOAD, create, sign_in
from tests.ui.test_ui_editor import INVALID_LOAD, paste
from tests.ui.test_ui_screens import with_crypto

pytestmark = pytest.mark.ui

AXE = Path(__file__).resolve().parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `bash scripts/build-ui.sh` (npm ci in ui/)")
    return AXE.read_text()


def violations(page: Page, source: str) -> list[str]:
    """The serious and critical violations axe finds on the page as it is now: rule id,
    impact and the first offending elements."""
    page.page.evaluate(source)
    found: list[dict[str, Any]] = page.page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v.get("impact") in BLOCKING
    ]


def test_every_screen_passes_axe(page: Page, console: ConsoleServer, axe_source: str) -> None:
    page.log.expect(REFUSED_LOAD)
    name = create(console, two_orgs("ui-axe"))
    seen: dict[str, list[str]] = {}

    page.page.goto("/signin")
    expect(page.page.get_by_label("API token")).to_be_visible()
    seen["sign in"] = violations(page, axe_source)

    sign_in(page, console.tokens.admin)
    expect(page.page.locator(f'tr[data-network="{name}"]')).to_contain_text("never deployed")
    seen["networks"] = violations(page, axe_source)

    page.page.goto(f"/networks/{name}?select=node%3Apeer0.org1.example.com")
    expect(page.page.get_by_test_id("graph")).to_have_attribute("data-nodes", "7")
    expect(page.page.get_by_test_id("panel")).to_contain_text("peer0.org1.example.com")
    seen["network detail"] = violations(page, axe_source)

    page.page.get_by_role("link", name="Deploy (up)…").click()
    expect(page.page.get_by_test_id("plan-changes")).to_be_visible()
    seen["plan"] = violations(page, axe_source)
    page.page.get_by_role("button", name="Confirm and deploy (up)").click()
    expect(page.page).to_have_url(re.compile(r"/deployments/dep_"))
    expect(page.page.get_by_test_id("job-state")).to_contain_text("failed")
    seen["deployment"] = violations(page, axe_source)

    crypto = with_crypto(console)
    page.page.goto(f"/networks/{crypto}/certificates")
    page.page.get_by_role("button", name="Renew peer0.org1.example.com").first.click()
    expect(page.page.get_by_test_id("restart-plan")).to_contain_text("peer0.org1.example.com")
    seen["certificates"] = violations(page, axe_source)

    page.page.goto(f"/networks/{name}/chaincodes")
    expect(page.page.get_by_test_id("chaincodes-not-running")).to_be_visible()
    expect(page.page.locator('[data-testid="deliveries"]').first).to_contain_text("No delivery")
    seen["chaincodes"] = violations(page, axe_source)

    page.page.goto(f"/networks/{name}/smoke")
    page.page.get_by_role("button", name="Run smoke").click()
    expect(page.page.get_by_test_id("checks")).to_be_visible()
    seen["smoke"] = violations(page, axe_source)

    page.page.goto("/audit")
    expect(page.page.get_by_test_id("audit")).to_contain_text("POST")
    seen["audit log"] = violations(page, axe_source)

    page.page.goto("/no/such/screen")
    expect(page.page).to_have_title("Page not found · baas console")
    seen["not found"] = violations(page, axe_source)

    page.page.get_by_role("button", name="Sign out").click()
    sign_in(page, console.tokens.outsider, at=f"/networks/{name}")
    expect(page.page.get_by_test_id("problem")).to_contain_text("does not allow this")
    seen["forbidden"] = violations(page, axe_source)

    assert {screen: found for screen, found in seen.items() if found} == {}


def test_the_editor_and_the_wizard_pass_axe(
    page: Page, console: ConsoleServer, axe_source: str
) -> None:
    page.log.expect(INVALID_LOAD)
    name = create(console, two_orgs("ui-axe-editor"))
    seen: dict[str, list[str]] = {}
    sign_in(page, console.tokens.admin, at=f"/networks/{name}/edit")
    check = page.page.get_by_test_id("check")
    expect(check).to_have_attribute("data-state", "valid")
    page.page.get_by_text("Add an organisation").click()
    seen["editor"] = violations(page, axe_source)
    paste(page, two_orgs(name).replace("[org1, org2]", "[org1, org9]"))
    expect(check).to_have_attribute("data-state", "invalid")
    expect(page.page.get_by_test_id("diagnostics")).to_be_visible()
    seen["editor with errors"] = violations(page, axe_source)

    page.page.goto(f"/networks/{name}/add-organization")
    page.page.get_by_label("Name").fill("org3")
    page.page.get_by_role("button", name="Show the change").click()
    expect(page.page.get_by_test_id("wizard-diff")).to_contain_text("org3")
    seen["wizard"] = violations(page, axe_source)

    assert {screen: found for screen, found in seen.items() if found} == {}
