"""Whose admin signatures a change needs (:mod:`baas.network.signatures`), decided from the
plans of examples/two-orgs.yaml and variants of it: nothing for the same plan, every member of
the channel for a changed chaincode, every organisation on a channel for its config update,
everyone for a first deployment or a change of the network's settings."""

from __future__ import annotations

from pathlib import Path

import topology
from baas import plan as planning
from baas.network.signatures import Signature, others, required
from baas.plan import Plan

TWO_ORGS = (Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml").read_text()
POLICY = "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\""


def _plan(text: str = TWO_ORGS) -> Plan:
    network, _ = topology.loads(text)
    return planning.build(network)


def _orgs(found: list[Signature]) -> set[str]:
    return {s.org for s in found}


def test_the_same_plan_needs_no_signature() -> None:
    assert required(_plan(), _plan()) == []


def test_a_first_deployment_needs_every_organisation() -> None:
    found = required(None, _plan())
    assert _orgs(found) == {"ordererorg", "org1", "org2"}
    assert all("first deployment" in s.purpose for s in found)


def test_a_changed_chaincode_needs_every_member_of_its_channel() -> None:
    for change in (
        TWO_ORGS.replace(POLICY, "endorsement: \"AND('Org1MSP.peer')\""),
        TWO_ORGS.replace('version: "1.0"', 'version: "1.1"'),
        TWO_ORGS.replace(POLICY, POLICY + "\n      initRequired: true"),
    ):
        assert change != TWO_ORGS
        found = required(_plan(), _plan(change))
        assert found == [
            Signature("org1", found[0].purpose),
            Signature("org2", found[0].purpose),
        ]
        assert "approving chaincode basic" in found[0].purpose
        assert others(found, "org1") == {"org2": [found[0].purpose]}


def test_a_changed_manual_approval_chaincode_needs_nobody_elses_signature() -> None:
    """With approval: manual each organisation approves only for itself: an org1-scoped
    delivery of 1.1 signs for org1 alone and leaves org2's approval to org2."""
    manual = TWO_ORGS.replace(POLICY, POLICY + "\n      approval: manual")
    assert manual != TWO_ORGS
    assert required(_plan(manual), _plan(manual.replace('version: "1.0"', 'version: "1.1"'))) == []


def test_a_removed_chaincode_needs_nobody() -> None:
    before = _plan()
    after = Plan(**{**before.__dict__, "chaincodes": ()})
    assert required(before, after) == []


def test_a_new_anchor_peer_needs_everyone_on_the_channel() -> None:
    changed = TWO_ORGS.replace(
        "        - name: peer1\n      users: [bob]",
        "        - name: peer1\n          anchor: true\n      users: [bob]",
    )
    assert changed != TWO_ORGS
    found = required(_plan(), _plan(changed))
    assert _orgs(found) == {"ordererorg", "org1", "org2"}
    assert {s.purpose for s in found} == {"the config update of channel mychannel"}


def test_a_changed_network_setting_needs_everyone() -> None:
    changed = TWO_ORGS.replace('version: "2.5"', 'version: "3.1"')
    assert changed != TWO_ORGS
    assert _orgs(required(_plan(), _plan(changed))) == {"ordererorg", "org1", "org2"}
