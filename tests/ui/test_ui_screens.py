"""The console's certificates, chaincodes, smoke and audit screens and its role-aware buttons,
in a real Chromium against a real ``baas serve`` (no Fabric binaries: the network is stored and
its crypto material issued by ``baas pki generate``, as the API tests do; it never runs, so the
chaincodes screen says it must be deployed and a smoke run fails, which the screens show).

- who the token is (``GET /api/v1/whoami``) is in the header; a viewer sees no action button
  on any screen (Deploy, Renew, Revoke, Run smoke, Approve) and no audit log;
- certificates: sorted by days left, coloured, renew one identity and see its restart plan,
  revoke one (after a confirmation) and see it flagged; an org-admin sees its own organisation's
  certificates only;
- every screen has its title and URL, and a reload lands on the same screen.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from playwright.sync_api import expect

from tests.api.support import BAAS, EXAMPLES, two_orgs
from tests.ui.conftest import ConsoleServer, Page
from tests.ui.test_ui_console import REFUSED_LOAD, create, sign_in

pytestmark = pytest.mark.ui

NAME = "supplychain"  # examples/two-orgs.yaml's name: `baas pki generate` issues its material
ACTIONS = re.compile(r"^(Deploy|Cancel|Renew|Revoke|Confirm|Run smoke|Approve)")


def with_crypto(console: ConsoleServer) -> str:
    """Network :data:`NAME` stored through the API with its crypto material issued."""
    create(console, two_orgs(NAME))
    generated = subprocess.run(
        [str(BAAS), "pki", "generate", str(EXAMPLES / "two-orgs.yaml")],
        env=console.server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    return NAME


def action_buttons(page: Page) -> list[str]:
    names = [b.inner_text().strip() for b in page.page.get_by_role("button").all()]
    labels = [b.get_attribute("aria-label") or "" for b in page.page.get_by_role("button").all()]
    return [n for n in names + labels if ACTIONS.match(n)]


def test_the_header_says_who_the_token_is(page: Page, console: ConsoleServer) -> None:
    sign_in(page, console.tokens.org1)
    who = page.page.get_by_test_id("whoami")
    expect(who).to_contain_text("test org-admin org1")
    expect(who).to_contain_text("(org-admin of org1)")
    expect(page.page.get_by_role("link", name="Audit log")).to_have_count(0)


def test_a_viewer_sees_no_action_buttons(page: Page, console: ConsoleServer) -> None:
    page.log.expect(REFUSED_LOAD)
    name = with_crypto(console)
    sign_in(page, console.tokens.viewer, at=f"/networks/{name}")
    expect(page.page.get_by_test_id("whoami")).to_have_attribute("data-role", "viewer")
    expect(page.page.get_by_test_id("not-deployed")).to_be_visible()
    assert action_buttons(page) == []

    page.page.get_by_role("link", name="Certificates").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/certificates$"))
    expect(page.page.get_by_test_id("certificates")).to_contain_text("peer0.org1.example.com")
    assert action_buttons(page) == []
    expect(page.page.get_by_role("columnheader", name="Actions")).to_have_count(0)

    page.page.get_by_role("link", name="Smoke").click()
    expect(page.page.get_by_test_id("smoke-none")).to_contain_text("not a viewer")
    assert action_buttons(page) == []

    page.page.get_by_role("link", name="Chaincodes").click()
    expect(page.page.get_by_test_id("chaincodes-not-running")).to_be_visible()
    expect(page.page.locator('[data-testid="deliveries"][data-chaincode="basic"]')).to_contain_text(
        "No delivery recorded"
    )
    assert action_buttons(page) == []

    expect(page.page.get_by_role("link", name="Audit log")).to_have_count(0)
    page.page.goto("/audit")
    expect(page.page.get_by_test_id("problem")).to_contain_text("does not allow this")
    page.shot("viewer-audit-forbidden")


def test_an_admin_sees_the_action_buttons(page: Page, console: ConsoleServer) -> None:
    name = with_crypto(console)
    sign_in(page, console.tokens.admin, at=f"/networks/{name}")
    expect(page.page.get_by_role("link", name="Deploy (up)…")).to_be_visible()
    page.page.goto(f"/networks/{name}/smoke")
    expect(page.page.get_by_role("button", name="Run smoke")).to_be_visible()
    page.page.goto(f"/networks/{name}/certificates")
    expect(page.page.get_by_role("button", name="Renew expiring")).to_be_visible()
    renew = page.page.get_by_role("button", name="Renew peer0.org1.example.com")
    expect(renew.first).to_be_visible()


def test_certificates_sorted_renewed_with_the_restart_plan_and_revoked(
    page: Page, console: ConsoleServer
) -> None:
    name = with_crypto(console)
    sign_in(page, console.tokens.admin, at=f"/networks/{name}/certificates")
    expect(page.page).to_have_title(f"Certificates of {name} · baas console")
    table = page.page.get_by_test_id("certificates")
    expect(table).to_contain_text("ca.org1.example.com")
    days = [int(text) for text in table.locator("td.days").all_inner_texts() if text.isdigit()]
    assert len(days) == 30 and days == sorted(days)
    expect(page.page.get_by_test_id("cert-summary")).to_contain_text("30 certificates")
    page.shot("certificates")

    page.page.get_by_role("button", name="Renew peer0.org1.example.com").first.click()
    result = page.page.get_by_test_id("renew-result")
    expect(result).to_contain_text("Renewed: peer0.org1.example.com")
    expect(result).to_contain_text("sign: renewed")
    expect(page.page.get_by_test_id("restart-plan")).to_contain_text("peer0.org1.example.com")
    page.shot("certificates-renewed")

    page.page.get_by_role("button", name="Revoke alice@org1.example.com").first.click()
    page.page.get_by_role("button", name="Confirm revoking alice@org1.example.com").click()
    expect(result).to_contain_text("Revoked: alice@org1.example.com")
    expect(page.page.get_by_test_id("restart-plan")).to_contain_text("No node restarts")
    alice = page.page.locator('tr[data-holder="alice@org1.example.com"]')
    expect(alice.first).to_contain_text("REVOKED")
    expect(alice.first).to_have_attribute("data-urgency", "red")
    first = table.locator("tbody tr").first
    expect(first).to_have_attribute("data-holder", "alice@org1.example.com")

    page.page.reload()  # the deep link lands on the same screen
    expect(page.page).to_have_title(f"Certificates of {name} · baas console")
    expect(page.page.get_by_test_id("certificates")).to_contain_text("REVOKED")


def test_an_org_admin_sees_only_its_own_certificates(page: Page, console: ConsoleServer) -> None:
    name = with_crypto(console)
    sign_in(page, console.tokens.org2, at=f"/networks/{name}/certificates")
    table = page.page.get_by_test_id("certificates")
    expect(table).to_contain_text("peer0.org2.example.com")
    orgs = set(table.locator("tbody tr td:nth-child(3)").all_inner_texts())
    assert orgs == {"org2"}
    expect(page.page.get_by_role("button", name="Renew expiring")).to_have_count(0)
    renew = page.page.get_by_role("button", name="Renew peer0.org2.example.com")
    expect(renew.first).to_be_visible()


def test_a_smoke_run_on_a_network_that_does_not_run_fails_with_its_hint(
    page: Page, console: ConsoleServer
) -> None:
    name = create(console, two_orgs("ui-smoke"))
    sign_in(page, console.tokens.admin, at=f"/networks/{name}/smoke")
    expect(page.page).to_have_title(f"Smoke of {name} · baas console")
    expect(page.page.get_by_test_id("smoke-none")).to_contain_text("No smoke run yet")
    page.page.get_by_label("with the load probe for").check()
    page.page.get_by_label("Load probe seconds").fill("3")
    page.page.get_by_role("button", name="Run smoke").click()
    expect(page.page.get_by_test_id("smoke-state")).to_contain_text("FAILED")
    checks = page.page.get_by_test_id("checks")
    expect(checks.locator("td.status.failed").first).to_be_visible()
    expect(checks.locator(".hint").first).not_to_be_empty()
    page.shot("smoke-failed")
    page.page.reload()
    expect(page.page.get_by_test_id("smoke-state")).to_contain_text("FAILED")


def test_the_chaincodes_screen_of_a_stored_network(page: Page, console: ConsoleServer) -> None:
    name = create(console, two_orgs("ui-cc"))
    sign_in(page, console.tokens.deployer, at=f"/networks/{name}/chaincodes")
    expect(page.page).to_have_title(f"Chaincodes of {name} · baas console")
    expect(page.page.get_by_test_id("chaincodes-not-running")).to_contain_text("does not run")
    history = page.page.locator('[data-testid="deliveries"][data-chaincode="basic"]')
    expect(history).to_contain_text("No delivery recorded for basic")
    page.shot("chaincodes-not-running")


def test_the_audit_log(page: Page, console: ConsoleServer) -> None:
    name = create(console, two_orgs("ui-audit"))
    sign_in(page, console.tokens.admin)
    page.page.get_by_role("link", name="Audit log").click()
    expect(page.page).to_have_url(re.compile(r"/audit$"))
    expect(page.page).to_have_title("Audit log · baas console")
    audit = page.page.get_by_test_id("audit")
    expect(audit).to_contain_text("POST /api/v1/networks")
    expect(audit).to_contain_text(f"network={name}")
    expect(audit).to_contain_text("consortium-admin")
    page.shot("audit")
    page.page.goto("/audit?before=1")
    expect(page.page.get_by_test_id("audit-empty")).to_contain_text("No older entries")


def test_the_new_screens_fit_a_768_px_window(page: Page, console: ConsoleServer) -> None:
    name = with_crypto(console)
    sign_in(page, console.tokens.admin, at=f"/networks/{name}/certificates")
    page.page.set_viewport_size({"width": 768, "height": 1024})  # a tablet held upright
    screens = {
        f"/networks/{name}/certificates": "certificates",
        f"/networks/{name}/chaincodes": "deliveries",
        f"/networks/{name}/smoke": "smoke-none",
        "/audit": "audit",
    }
    for path, testid in screens.items():
        page.page.goto(path)
        expect(page.page.get_by_test_id(testid).first).to_be_visible()
        expect(page.page.locator("html")).to_have_js_property("scrollWidth", 768)
    page.page.goto(f"/networks/{name}/certificates")
    expect(page.page.get_by_test_id("certificates")).to_be_visible()
    page.shot("certificates-768")
