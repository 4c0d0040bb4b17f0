"""Bodies nested deeper than a topology can ever be, against a real ``baas serve`` (SQLite and
PostgreSQL): deep JSON and deep YAML (flow and block style) sent to ``POST /networks/validate``
(a viewer may call it) and to ``POST /networks`` are 422 with a diagnostic naming the limit,
refused before any recursive parser recurses, and leave no traceback in the server log."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import Api
from topology.yamlsafe import MAX_DEPTH

YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}
DEEP = 2000
"""Deeper than CPython's recursion limit (1000): the depth that gave a 500."""


def _deep_json() -> str:
    """A topology-shaped document whose ``spec`` nests :data:`DEEP` lists deep."""
    return '{"apiVersion": "baas/v1alpha1", "spec": ' + "[" * DEEP + "]" * DEEP + "}"


def _deep_flow_yaml() -> str:
    return "apiVersion: baas/v1alpha1\nspec: " + "{a: " * DEEP + "b" + "}" * DEEP + "\n"


def _deep_block_yaml() -> str:
    """Block sequences nested on one line (``- - - x``): deep in a few KiB."""
    return "apiVersion: baas/v1alpha1\nspec:\n  " + "- " * DEEP + "x\n"


def _deep_indented_yaml() -> str:
    """Block mappings, one more space of indentation per level."""
    return "spec:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200)) + " " * 200 + "v\n"


BODIES = {
    "json": (_deep_json, JSON),
    "json-as-yaml": (_deep_json, YAML),
    "yaml-flow": (_deep_flow_yaml, YAML),
    "yaml-block-dashes": (_deep_block_yaml, YAML),
    "yaml-block-indented": (_deep_indented_yaml, YAML),
}


@pytest.mark.parametrize("route", ["/api/v1/networks/validate", "/api/v1/networks"])
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_deep_bodies_are_422_naming_the_limit(api: Api, kind: str, route: str) -> None:
    make, headers = BODIES[kind]
    token = api.tokens.viewer if route.endswith("validate") else api.tokens.admin
    before = api.server.log.stat().st_size
    with api.server.client(token) as http:
        response = http.post(route, content=make(), headers=headers)
        assert response.status_code == 422, response.text[:2000]
        body = response.json()
        assert body["code"] == "invalid-topology"
        [diag] = body["diagnostics"]
        assert f"nests deeper than {MAX_DEPTH} levels" in diag["message"]
        assert diag["hint"]
        assert "Traceback" not in response.text
        assert http.get("/api/v1/health").status_code == 200
    with api.server.log.open("rb") as log:
        log.seek(before)
        written = log.read().decode("utf-8", errors="replace")
    assert "Traceback" not in written
    assert "RecursionError" not in written


def test_json_within_the_limit_still_gets_the_topology_diagnostics(api: Api) -> None:
    """Nesting under the limit reaches the model: the usual "expected a mapping" error."""
    text = json.dumps({"apiVersion": "baas/v1alpha1", "spec": [[[["x"]]]]})
    with api.server.client(api.tokens.viewer) as http:
        response = http.post("/api/v1/networks/validate", content=text, headers=JSON)
    assert response.status_code == 422
    messages = [d["message"] for d in response.json()["diagnostics"]]
    assert not any("nests deeper" in m for m in messages), messages


def test_json_with_a_5000_digit_number_is_422_not_500(api: Api) -> None:
    """Found by the fuzz test: ``json.loads`` (and PyYAML) raised a bare ValueError for an
    integer longer than Python's 4,300-digit conversion limit."""
    text = '{"apiVersion": ' + "1" * 5000 + "}"
    with api.server.client(api.tokens.viewer) as http:
        for headers in (JSON, YAML):
            response = http.post("/api/v1/networks/validate", content=text, headers=headers)
            assert response.status_code == 422, response.text[:500]
            [diag] = response.json()["diagnostics"]
            assert "is not a valid int" in diag["message"]
