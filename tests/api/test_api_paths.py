"""No absolute server path in any API response (issue [security]): certificate entries, the
PKI root, a failed job's error and its events show paths under ``$BAAS_HOME`` as
``$BAAS_HOME/…`` and chaincode folders relative to the source folder — against a real server
(SQLite and PostgreSQL), its crypto material issued by the CLI as a user would."""

from __future__ import annotations

import subprocess

from tests.api.conftest import Api
from tests.api.support import BAAS, EXAMPLES, read_events, two_orgs

YAML = {"Content-Type": "application/yaml"}


def _no_server_path(api: Api, text: str) -> None:
    assert str(api.server.home) not in text
    assert str(api.server.home.resolve()) not in text
    assert str(EXAMPLES) not in text


def test_certificates_and_jobs_show_no_server_path(api: Api) -> None:
    name = "paths"
    with api.server.client(api.tokens.admin) as http:
        created = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
        assert created.status_code == 201, created.text
    topology_file = api.server.home / f"{name}.yaml"  # the CLI's copy, chaincode path absolute
    topology_file.write_text(
        two_orgs(name).replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/")
    )
    generated = subprocess.run(
        [str(BAAS), "pki", "generate", str(topology_file)],
        env=api.server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    with api.server.client(api.tokens.admin) as http:
        listed = http.get(f"/api/v1/networks/{name}/certificates")
        assert listed.status_code == 200, listed.text
        _no_server_path(api, listed.text)
        paths = [c["path"] for c in listed.json()["certificates"]]
        assert paths and all(p.startswith(f"$BAAS_HOME/networks/{name}/crypto/") for p in paths)
        assert int(listed.headers["content-length"]) == len(listed.content)

        job = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}).json()
        events = list(read_events(http, job["id"]))
        assert events[-1].data["data"]["state"] == "failed"  # no Fabric binaries here
        for event in events:
            _no_server_path(api, repr(event.data))
        read = http.get(f"/api/v1/deployments/{job['id']}")
        _no_server_path(api, read.text)
        assert "$BAAS_HOME" in read.text  # the error names FABRIC_BIN's folder under it

        text = two_orgs("missing").replace("chaincode/asset-transfer", "chaincode/none")
        invalid = http.post("/api/v1/networks/validate", content=text, headers=YAML)
        assert invalid.status_code == 422
        _no_server_path(api, invalid.text)
        assert "looked in chaincode/none" in invalid.text
