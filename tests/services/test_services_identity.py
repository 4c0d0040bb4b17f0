"""Which identity ``invoke``/``query`` sign as (``--as``): a full name, or a short name (the part
before ``@``) when exactly one member identity has it; an ambiguous short name is refused with
the candidates listed. Pure: the network access is a fake that hands back names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.plan import OrgPlan
from baas.services.chaincode import _identity

TWO_ORGS = Path(__file__).resolve().parents[2] / "examples" / "two-orgs.yaml"


class _Access:
    def admin(self, org: OrgPlan) -> Any:
        return ("admin", org.name)

    def user(self, org: OrgPlan, name: str) -> Any:
        return ("user", org.name, name)


def _pick(orgs: list[OrgPlan], name: str | None) -> tuple[OrgPlan, Any, str]:
    access: Any = _Access()
    return _identity(access, orgs, name)


def _orgs(loaded: topology.LoadedTopology) -> list[OrgPlan]:
    plan = planning.build(loaded.network)
    return [o for o in plan.orgs if o.peers]


def _with_users(tmp_path: Path, users: dict[str, list[str]]) -> topology.LoadedTopology:
    doc = yaml.safe_load(TWO_ORGS.read_text())
    for org in doc["spec"]["organizations"]:
        if org["name"] in users:
            org["users"] = users[org["name"]]
    for cc in doc["spec"].get("chaincodes", []):
        cc["path"] = str(TWO_ORGS.parent / cc["path"])
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(doc))
    return topology.load(path)


def test_a_unique_short_name_picks_that_identity(two_orgs: topology.LoadedTopology) -> None:
    org, ident, name = _pick(_orgs(two_orgs), "bob")
    assert (org.name, name) == ("org2", "bob@org2.example.com")
    assert ident == ("user", "org2", "bob@org2.example.com")


def test_a_full_name_and_the_default_still_work(two_orgs: topology.LoadedTopology) -> None:
    orgs = _orgs(two_orgs)
    assert _pick(orgs, "Admin@org2.example.com")[1:] == (
        ("admin", "org2"),
        "Admin@org2.example.com",
    )
    assert _pick(orgs, None)[2] == "alice@org1.example.com"


def test_an_ambiguous_short_name_is_refused_with_its_candidates(
    tmp_path: Path, two_orgs: topology.LoadedTopology
) -> None:
    for loaded, short, candidates in (
        (
            _with_users(tmp_path, {"org1": ["sam"], "org2": ["sam"]}),
            "sam",
            "sam@org1.example.com, sam@org2.example.com",
        ),
        (two_orgs, "Admin", "Admin@org1.example.com, Admin@org2.example.com"),
    ):
        with pytest.raises(UsageError) as caught:
            _pick(_orgs(loaded), short)
        assert f"{short!r} names 2 identities" in str(caught.value)
        assert caught.value.hint == f"use the full name: {candidates}"


def test_an_unknown_name_lists_every_identity(two_orgs: topology.LoadedTopology) -> None:
    with pytest.raises(UsageError) as caught:
        _pick(_orgs(two_orgs), "carol")
    assert "'carol' is not an identity" in str(caught.value)
    assert "alice@org1.example.com" in caught.value.hint
