"""``baas.services.plan`` called directly: ``validate``, ``describe_plan``, ``schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from baas import services
from baas.services.plan import PlanResult, ValidationResult

ROOT = Path(__file__).resolve().parents[2]
TWO_ORGS = ROOT / "examples" / "two-orgs.yaml"
MINIMAL = ROOT / "examples" / "minimal.yaml"


def _keys(data: Any) -> set[str]:
    """Every dict key anywhere in ``data``."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


def test_validate_summary() -> None:
    outcome = services.validate(TWO_ORGS)
    assert isinstance(outcome.value, ValidationResult)
    assert outcome.to_dict() == {
        "kind": "ValidationResult",
        "apiVersion": "baas/v1alpha1",
        "file": str(TWO_ORGS),
        "valid": True,
        "network": "supplychain",
        "organizations": 3,
        "nodes": 7,
        "channels": 1,
        "chaincodes": 1,
        "diagnostics": [],
        "warnings": [],
    }


def test_validate_warnings_are_its_diagnostics() -> None:
    outcome = services.validate(MINIMAL)
    data = outcome.to_dict()
    assert outcome.value.diagnostics == tuple(outcome.warnings)
    (warning,) = data["warnings"]
    assert data["diagnostics"] == [warning]
    assert (warning["severity"], warning["path"]) == ("warning", "spec.channels[0]")


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "the file is empty"), ("- a\n", "the document is a list, not a mapping")],
)
def test_validate_errors_raise(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(topology.TopologyError) as caught:
        services.validate(bad)
    assert message in [d.message for d in caught.value.errors]


def test_validate_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(topology.TopologyError):
        services.validate(tmp_path / "absent.yaml")


def test_describe_plan_is_camel_case(two_orgs: topology.LoadedTopology) -> None:
    outcome = services.describe_plan(two_orgs)
    assert isinstance(outcome.value, PlanResult)
    assert outcome.value.plan == planning.build(two_orgs.network)
    data = outcome.to_dict()
    assert (data["kind"], data["network"], data["fabricRelease"], data["consensus"]) == (
        "Plan",
        "supplychain",
        "2.5.16",
        "etcdraft",
    )
    assert not [k for k in _keys(data) if "_" in k]
    org1 = next(o for o in data["orgs"] if o["name"] == "org1")
    assert (org1["mspId"], org1["namespace"]) == ("Org1MSP", "supplychain-org1")
    (channel,) = data["channels"]
    assert channel["ordererOrgs"] == ["ordererorg"]
    (cc,) = data["chaincodes"]
    assert {"endorsementIsDefault", "initRequired", "initFunction"} <= set(cc)
    assert data["pki"]["keyAlgorithm"] == "P-256"
    assert data["warnings"] == []


def test_describe_plan_values_match_the_plan(two_orgs: topology.LoadedTopology) -> None:
    """Only the keys change: every value is the plan's own."""
    snake = planning.build(two_orgs.network).to_dict()
    camel = services.describe_plan(two_orgs).to_dict()
    assert camel["orgs"][1]["peers"][0]["fqdn"] == snake["orgs"][1]["peers"][0]["fqdn"]
    assert camel["chaincodes"][0]["endorsement"] == snake["chaincodes"][0]["endorsement"]
    assert len(camel["orgs"]) == len(snake["orgs"])


def test_describe_plan_carries_warnings(minimal: topology.LoadedTopology) -> None:
    outcome = services.describe_plan(minimal)
    assert outcome.warnings == minimal.warnings
    assert outcome.to_dict()["warnings"][0]["severity"] == "warning"


def test_schema() -> None:
    schema = services.schema()
    assert schema == topology.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
