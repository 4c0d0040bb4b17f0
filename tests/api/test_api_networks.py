"""Networks over HTTP against a real ``baas serve`` (SQLite and PostgreSQL): create from YAML
and JSON, validate, the CLI's diagnostics for invalid topologies, body limits, conflicts,
replacement rules, idempotent POSTs, deletion, CORS off by default."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from baas.cli.app import main
from tests.api.conftest import Api
from tests.api.support import two_orgs

YAML = {"Content-Type": "application/yaml"}
JSON = {"Content-Type": "application/json"}


def _create(api: Api, name: str, **headers: str) -> dict[str, Any]:
    with api.server.client(api.tokens.admin) as http:
        response = http.post(
            "/api/v1/networks", content=two_orgs(name), headers={**YAML, **headers}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def test_create_read_list_from_yaml_and_json(api: Api) -> None:
    created = _create(api, "net-yaml")
    assert created["counts"] == {"organizations": 3, "nodes": 7, "channels": 1, "chaincodes": 1}
    assert created["organizations"][1] == {"name": "org1", "mspId": "Org1MSP"}
    assert created["topology"] == two_orgs("net-yaml")
    as_json = json.dumps(yaml.safe_load(two_orgs("net-json")))
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks", content=as_json, headers=JSON)
        assert response.status_code == 201, response.text
        assert response.headers["location"] == "/api/v1/networks/net-json"
        assert response.json()["mediaType"] == "application/json"
        detail = http.get("/api/v1/networks/net-yaml").json()
        assert detail["revision"] == 1 and detail["target"] == "local"
        assert detail["latestDeployment"] is None
        names = [n["name"] for n in http.get("/api/v1/networks").json()["items"]]
        assert {"net-yaml", "net-json"} <= set(names)
        assert names == sorted(names)


@pytest.mark.parametrize("media", ["yaml", "json"])
def test_invalid_topology_gets_the_cli_diagnostics(
    api: Api, media: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """422 with the diagnostics `baas validate -o json` gives for the same text: field path,
    line, column, message; nothing is stored."""
    text = two_orgs("broken").replace("mspId: Org2MSP", 'mspId: "bad msp"')
    if media == "json":
        text = json.dumps(yaml.safe_load(text), indent=2)
    file = tmp_path / f"broken.{media}"
    file.write_text(text)
    capsys.readouterr()
    assert main(["validate", "-o", "json", str(file)]) == 2
    report = json.loads(capsys.readouterr().out)
    expected = (report["files"] if isinstance(report, dict) else report)[0]["diagnostics"]
    with api.server.client(api.tokens.admin) as http:
        response = http.post(
            "/api/v1/networks", content=text, headers=JSON if media == "json" else YAML
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid-topology"
        assert "Traceback" not in response.text
        got = [{**d, "file": None} for d in body["diagnostics"]]
        assert got == [{**d, "file": None} for d in expected]
        assert got[0]["path"] == "spec.organizations[2].mspId"
        assert got[0]["line"] is not None and got[0]["column"] is not None
        assert http.get("/api/v1/networks/broken").status_code == 404


def test_malformed_json_names_line_and_column(api: Api) -> None:
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks", content='{\n  "apiVersion": ,\n}', headers=JSON)
    assert response.status_code == 422
    [diag] = response.json()["diagnostics"]
    assert (diag["line"], diag["column"]) == (2, 17)


def test_validate_stores_nothing(api: Api) -> None:
    with api.server.client(api.tokens.viewer) as http:
        response = http.post(
            "/api/v1/networks/validate", content=two_orgs("only-checked"), headers=YAML
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["kind"] == "ValidationResult" and body["valid"] is True
        assert body["network"] == "only-checked" and body["nodes"] == 7
        assert http.get("/api/v1/networks/only-checked").status_code == 404


def test_bodies_over_one_mib_get_413_before_parsing(api: Api) -> None:
    big = b"#" * (1024 * 1024 + 1)
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks", content=big, headers=YAML)
        assert response.status_code == 413
        assert response.json()["code"] == "body-too-large"

        def chunks() -> Iterator[bytes]:
            for _ in range(17):
                yield b"#" * 65536

        chunked = http.post("/api/v1/networks", content=chunks(), headers=YAML)
        assert chunked.status_code == 413
        exactly = http.post("/api/v1/networks", content=b"#" * (1024 * 1024), headers=YAML)
        assert exactly.status_code == 422  # read and parsed: a comment is an empty topology


def test_wrong_media_type_and_duplicate(api: Api) -> None:
    _create(api, "net-dup")
    with api.server.client(api.tokens.admin) as http:
        wrong = http.post(
            "/api/v1/networks", content=two_orgs("x"), headers={"Content-Type": "text/plain"}
        )
        assert wrong.status_code == 415
        again = http.post("/api/v1/networks", content=two_orgs("net-dup"), headers=YAML)
        assert again.status_code == 409
        assert "net-dup" in again.json()["message"]


def test_replace_and_its_rules(api: Api) -> None:
    _create(api, "net-put")
    changed = two_orgs("net-put").replace('version: "1.0"', 'version: "1.1"')
    with api.server.client(api.tokens.admin) as http:
        renamed = http.put("/api/v1/networks/net-put", content=two_orgs("other"), headers=YAML)
        assert renamed.status_code == 422
        assert renamed.json()["diagnostics"][0]["path"] == "metadata.name"
    with api.server.client(api.tokens.deployer) as http:
        ok = http.put("/api/v1/networks/net-put", content=changed, headers=YAML)
        assert ok.status_code == 200, ok.text
        assert ok.json()["revision"] == 2
        more = changed.replace("users: [alice]", "users: [alice, carol]")
        refused = http.put("/api/v1/networks/net-put", content=more, headers=YAML)
        assert refused.status_code == 403
        assert "spec.chaincodes" in refused.json()["message"]
    with api.server.client(api.tokens.admin) as http:
        more = changed.replace("users: [alice]", "users: [alice, carol]")
        assert http.put("/api/v1/networks/net-put", content=more, headers=YAML).status_code == 200
        assert http.get("/api/v1/networks/net-put").json()["revision"] == 3


def test_idempotency_key(api: Api) -> None:
    headers = {"Idempotency-Key": "create-net-idem-1"}
    first = _create(api, "net-idem", **headers)
    with api.server.client(api.tokens.admin) as http:
        again = http.post(
            "/api/v1/networks", content=two_orgs("net-idem"), headers={**YAML, **headers}
        )
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first
        other = http.post(
            "/api/v1/networks", content=two_orgs("net-idem-2"), headers={**YAML, **headers}
        )
        assert other.status_code == 422
        assert other.json()["code"] == "idempotency-key-reused"
        # a failed request keeps no key: the retry runs again (409: it exists)
        failed = {"Idempotency-Key": "dup-create"}
        for _ in range(2):
            dup = http.post(
                "/api/v1/networks", content=two_orgs("net-idem"), headers={**YAML, **failed}
            )
            assert dup.status_code == 409
            assert "idempotent-replayed" not in dup.headers
    with api.server.client(api.tokens.viewer) as http:  # keys belong to one token
        response = http.post(
            "/api/v1/networks", content=two_orgs("net-idem"), headers={**YAML, **headers}
        )
        assert response.status_code == 403


def test_delete_forgets_the_network(api: Api) -> None:
    _create(api, "net-del")
    with api.server.client(api.tokens.admin) as http:
        response = http.delete("/api/v1/networks/net-del", params={"purge": "true"})
        assert response.status_code == 200, response.text
        assert response.json()["kind"] == "DownResult"
        assert response.json()["purged"] is True
        assert http.get("/api/v1/networks/net-del").status_code == 404
        assert http.delete("/api/v1/networks/net-del").status_code == 404


def test_cors_is_off_by_default(api: Api) -> None:
    with api.server.client(api.tokens.admin, Origin="https://ui.example.com") as http:
        response = http.get("/api/v1/networks")
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflight = http.options(
            "/api/v1/networks", headers={"Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in preflight.headers
