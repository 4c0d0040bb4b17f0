"""The JSON Schema (topology.json_schema(), printed by ``baas schema``) is a valid draft 2020-12
schema that accepts every example and rejects obviously wrong documents."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

import topology

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = topology.json_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_schema_header() -> None:
    schema = topology.json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"].startswith("baas Network")
    assert {"apiVersion", "kind", "metadata", "spec"} <= set(schema["required"])
    assert schema["additionalProperties"] is False


def test_there_are_examples() -> None:
    assert {p.name for p in EXAMPLES} >= {"minimal.yaml", "two-orgs.yaml", "bft.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_schema_accepts_every_example(validator: Draft202012Validator, path: Path) -> None:
    document = yaml.safe_load(path.read_text())
    assert list(validator.iter_errors(document)) == []


def _two_orgs() -> dict[str, Any]:
    path = next(p for p in EXAMPLES if p.name == "two-orgs.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


@pytest.mark.parametrize(
    "document",
    [
        {"apiVersion": "v1", "kind": "Pod"},
        [],
        "text",
        {**_two_orgs(), "kind": "Cluster"},
        {**_two_orgs(), "extra": 1},
        {**_two_orgs(), "spec": {"domain": "example.com"}},
    ],
    ids=["pod", "list", "string", "wrong-kind", "unknown-key", "no-organizations"],
)
def test_schema_rejects_wrong_documents(validator: Draft202012Validator, document: Any) -> None:
    assert list(validator.iter_errors(document))


def test_schema_rejects_unknown_nested_key(validator: Draft202012Validator) -> None:
    document = copy.deepcopy(_two_orgs())
    document["spec"]["organizations"][1]["peers"][0]["anchr"] = True
    assert list(validator.iter_errors(document))


def test_schema_accepts_a_dumped_model(validator: Draft202012Validator) -> None:
    network, _ = topology.loads(yaml.safe_dump(_two_orgs()), base_dir=None)
    assert list(validator.iter_errors(network.dump())) == []
