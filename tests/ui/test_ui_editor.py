"""The topology editor, plan before apply and the add-organisation wizard in a real Chromium
against a real ``baas serve`` (no Fabric binaries: an ``up`` fails in its preflight, after
the plan was shown and confirmed; tests/ui/test_ui_fabric.py confirms one that runs).

- an invalid topology pasted into the editor is marked at its line (gutter, underline and
  the list under the editor, with the message and the fix), and Save is disabled;
- examples/minimal.yaml pasted into the editor of a new network and created appears in the
  networks list;
- the editor's forms change the text in place (an organisation joined to the channel, a peer)
  and saving the edit leads to the plan, which lists the new nodes;
- the wizard shows its change to the topology, saves it, shows the plan with the new
  organisation's peers, and only its confirmation (from the keyboard) starts the up;
- the editor is no keyboard trap (Tab leaves it).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.api.support import EXAMPLES, two_orgs
from tests.ui.conftest import ConsoleServer, Page
from tests.ui.test_ui_console import REFUSED_LOAD, create, sign_in

pytestmark = pytest.mark.ui

INVALID_LOAD = r"Failed to load resource: the server responded with a status of 422"
"""Chromium's own console line for the API's 422 answer to an invalid topology (which the
editor then marks): expected in the tests that type one."""


def paste(page: Page, text: str) -> None:
    """Select all the editor's text and paste ``text`` over it (a paste event carrying it,
    as the browser sends one from the clipboard)."""
    editor = page.page.get_by_test_id("yaml")
    editor.click()
    page.page.keyboard.press("Control+a")
    editor.evaluate(
        """(element, text) => {
            const data = new DataTransfer();
            data.setData('text/plain', text);
            const options = {clipboardData: data, bubbles: true, cancelable: true};
            element.dispatchEvent(new ClipboardEvent('paste', options));
        }""",
        text,
    )
    expect(editor).to_contain_text(text.splitlines()[-1].strip())


def start_up(page: Page, network: str) -> None:
    """Deploy (up)… on the network's screen, then confirm the plan it shows: the deployment
    screen opens."""
    page.page.get_by_role("link", name="Deploy (up)…").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{network}/plan$"))
    expect(page.page).to_have_title(f"Plan of {network} · baas console")
    page.page.get_by_role("button", name="Confirm and deploy (up)").click()
    expect(page.page).to_have_url(
        re.compile(rf"/networks/{network}/deployments/dep_[0-9a-f]{{16}}$")
    )


def test_an_invalid_topology_is_marked_at_its_line(page: Page, console: ConsoleServer) -> None:
    page.log.expect(INVALID_LOAD)
    sign_in(page, console.tokens.admin, at="/new-network")
    expect(page.page).to_have_title("New network · baas console")
    check = page.page.get_by_test_id("check")
    expect(check).to_have_attribute("data-state", "valid")
    wrong = "      organizations: [org1, org9]"
    bad = two_orgs("ui-bad").replace("      organizations: [org1, org2]", wrong)
    line = bad.splitlines().index(wrong) + 1
    paste(page, bad)
    expect(check).to_have_attribute("data-state", "invalid")
    # two errors: the unknown organisation, and the chaincode's policy naming Org2MSP, no
    # longer a member of the channel (line 41)
    items = page.page.get_by_test_id("diagnostics").locator("li.error")
    expect(items).to_have_count(2)
    item = items.first
    expect(item).to_have_attribute("data-line", str(line))
    expect(item).to_contain_text(f"line {line}, column 29")
    expect(item).to_contain_text("unknown organisation 'org9'")
    expect(item).to_contain_text("Fix: use one of: ordererorg, org1, org2")
    expect(items.nth(1)).to_have_attribute("data-line", str(line + 7))
    # the editor marks the same lines: underlined from the column, an error marker in the gutter
    marked = page.page.locator(".cm-line:has(.cm-lintRange-error)")
    expect(marked).to_have_count(2)
    expect(marked.first).to_have_text(wrong)
    expect(marked.first.locator(".cm-lintRange-error")).to_have_text("org9]")
    expect(marked.nth(1)).to_contain_text("endorsement:")
    expect(page.page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(2)
    expect(page.page.get_by_test_id("save")).to_be_disabled()
    page.shot("editor-invalid")

    # a list item takes the cursor to its line; fixing the text clears the marks
    item.get_by_role("button").click()
    expect(page.page.locator(".cm-activeLine")).to_have_text(wrong)
    paste(page, two_orgs("ui-bad"))
    expect(check).to_have_attribute("data-state", "valid")
    expect(page.page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.page.get_by_test_id("save")).to_be_enabled()


def test_minimal_created_through_the_editor_is_listed(page: Page, console: ConsoleServer) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text().replace("name: minimal", "name: ui-minimal")
    sign_in(page, console.tokens.admin, at="/networks")
    page.page.get_by_role("link", name="New network").click()
    expect(page.page).to_have_url(re.compile(r"/new-network$"))
    paste(page, text)
    expect(page.page.get_by_test_id("check")).to_contain_text("Valid: 1 organisations, 2 nodes")
    page.page.get_by_role("button", name="Create network").click()
    expect(page.page).to_have_url(re.compile(r"/networks/ui-minimal$"))
    page.page.get_by_role("link", name="Networks", exact=True).click()
    expect(page.page.locator('tr[data-network="ui-minimal"]')).to_contain_text("never deployed")
    with console.server.client(console.tokens.admin) as http:
        stored = http.get("/api/v1/networks/ui-minimal").json()["topology"]
    assert stored.rstrip("\n") == text.rstrip("\n")


def test_the_forms_edit_the_text_and_saving_shows_the_plan(
    page: Page, console: ConsoleServer
) -> None:
    name = create(console, two_orgs("ui-forms"))
    sign_in(page, console.tokens.admin, at=f"/networks/{name}")
    page.page.get_by_role("link", name="Edit topology").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/edit$"))
    expect(page.page).to_have_title(f"Edit {name} · baas console")
    expect(page.page.get_by_test_id("check")).to_have_attribute("data-state", "valid")
    editor = page.page.get_by_test_id("yaml")

    forms = page.page.get_by_role("complementary", name="Common edits")
    forms.get_by_text("Add an organisation").click()
    organisation = forms.locator("form").first
    organisation.get_by_label("Name").fill("org3")
    organisation.get_by_label("Peers").fill("peer0")
    organisation.get_by_label("mychannel").check()
    organisation.get_by_role("button", name="Add organisation").click()
    expect(page.page.get_by_test_id("form-done")).to_contain_text("Added organisation org3")
    expect(editor).to_contain_text("- name: org3")
    expect(editor).to_contain_text("mspId: Org3MSP")
    expect(editor).to_contain_text("organizations: [org1, org2, org3]")
    # the file's comment stays: the text was edited in place
    expect(editor).to_contain_text("# Two peer organisations")

    forms.get_by_text("Add a peer").click()
    peer = forms.locator("form").nth(1)
    expect(peer.get_by_role("option", name="org3")).to_be_attached()
    peer.get_by_label("Organisation").select_option("org3")
    peer.get_by_label("Peer name").fill("peer1")
    peer.get_by_role("button", name="Add peer").click()
    expect(page.page.get_by_test_id("check")).to_contain_text("Valid: 4 organisations, 9 nodes")
    page.shot("editor-forms")

    page.page.get_by_role("button", name="Save and review the plan").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/plan$"))
    changes = page.page.get_by_test_id("plan-changes")
    expect(changes).to_contain_text("start peer0.org3.example.com")
    expect(changes).to_contain_text("start peer1.org3.example.com")
    with console.server.client(console.tokens.admin) as http:
        stored = http.get(f"/api/v1/networks/{name}").json()
    assert stored["revision"] == 2 and "- name: org3" in stored["topology"]


def test_the_wizard_adds_an_organisation_through_the_plan(
    page: Page, console: ConsoleServer
) -> None:
    name = create(console, two_orgs("ui-wizard"))
    sign_in(page, console.tokens.admin, at=f"/networks/{name}")
    page.page.get_by_role("link", name="Add organisation").click()
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/add-organization$"))
    expect(page.page).to_have_title(f"Add an organisation to {name} · baas console")
    page.page.get_by_label("Name").fill("org3")
    page.page.get_by_label("Peers").fill("peer0")
    expect(page.page.get_by_label("mychannel")).to_be_checked()
    page.page.get_by_role("button", name="Show the change").click()
    diff = page.page.get_by_test_id("wizard-diff")
    expect(diff).to_contain_text("- name: org3")
    expect(diff).to_contain_text("mspId: Org3MSP")
    expect(diff).to_contain_text("organizations: [org1, org2, org3]")
    page.shot("wizard-change")
    page.page.get_by_role("button", name="Save and review the plan").click()

    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/plan$"))
    expect(page.page.get_by_test_id("plan-changes")).to_contain_text("start peer0.org3.example.com")
    page.shot("plan")
    # no up started before the confirmation (the latest job is the save's replace)
    with console.server.client(console.tokens.admin) as http:
        latest = http.get(f"/api/v1/networks/{name}").json()["latestDeployment"]
    assert latest is None or latest["action"] != "up"
    confirm = page.page.get_by_role("button", name="Confirm and deploy (up)")
    confirm.focus()
    page.page.keyboard.press("Enter")
    expect(page.page).to_have_url(re.compile(rf"/networks/{name}/deployments/dep_[0-9a-f]{{16}}$"))
    # no Fabric binaries here: the up fails in its preflight (test_ui_fabric runs one)
    expect(page.page.get_by_test_id("job-state")).to_contain_text("failed")


def test_the_editor_is_no_keyboard_trap_and_a_viewer_cannot_save(
    page: Page, console: ConsoleServer
) -> None:
    page.log.expect(REFUSED_LOAD)
    name = create(console, two_orgs("ui-editor-viewer"))
    sign_in(page, console.tokens.viewer, at=f"/networks/{name}/edit")
    expect(page.page.get_by_test_id("check")).to_have_attribute("data-state", "valid")
    expect(page.page.get_by_test_id("read-only")).to_be_visible()
    expect(page.page.get_by_test_id("save")).to_have_count(0)
    editor = page.page.get_by_test_id("yaml")
    editor.click()
    page.page.keyboard.press("Tab")
    assert page.page.evaluate("() => document.activeElement?.dataset?.testid") != "yaml"
    page.page.goto(f"/networks/{name}/plan")
    expect(page.page.get_by_test_id("plan-changes")).to_be_visible()
    expect(page.page.get_by_role("button", name="Confirm and deploy (up)")).to_have_count(0)
