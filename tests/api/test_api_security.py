"""The attacks of issue [security], each against a real ``baas serve`` (SQLite and PostgreSQL):

* chaincode paths that point out of ``--source-dir`` (absolute, ``..``, a link) are 422 with
  the same words whether or not the folder exists, and no response shows a server path;
* a token scoped to one organisation cannot make baas sign for another: not by replacing a
  shared chaincode's definition, not by starting an ``up`` whose changes others must sign;
* one lock per network: DELETE, PUT, renew and revoke are 409 — with nothing run — while a
  job holds the network, and no job starts while they run;
* cancel belongs to the job's creator or a consortium-admin;
* DELETE works when the chaincode folder has gone, and forgets (``?force=true``) a
  Kubernetes network this server cannot reach.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from baas.api import tokens
from baas.api.db import deployments as jobs_db
from baas.api.db.models import DeploymentRow, NetworkRow
from tests.api.conftest import Api, MakeApi
from tests.api.support import EXAMPLES, two_orgs

YAML = {"Content-Type": "application/yaml"}

ORG1_CHANNEL = """\
    - name: org1only
      organizations: [org1]
      orderers: [ordererorg]
"""
ORG1_CHAINCODE = """\
    - name: mine
      channel: org1only
      version: "1.0"
      path: chaincode/asset-transfer
"""


def with_org1_channel(name: str) -> str:
    """two-orgs plus a channel only org1 is in, with chaincode ``mine`` on it."""
    text = two_orgs(name)
    text = text.replace("  chaincodes:\n", ORG1_CHANNEL + "  chaincodes:\n", 1)
    return text.rstrip("\n") + "\n" + ORG1_CHAINCODE


def _scoped(api: Api, role: tokens.Role, org: str) -> str:
    db = api.server.database()
    try:
        return tokens.create(db, role=role, org=org, name=f"scoped {role.value}").secret
    finally:
        db.dispose()


def _create(api: Api, name: str, text: str, **params: str) -> None:
    with api.server.client(api.tokens.admin) as http:
        response = http.post("/api/v1/networks", content=text, headers=YAML, params=params)
        assert response.status_code == 201, response.text


def _revision(api: Api, name: str) -> int:
    with api.server.client(api.tokens.admin) as http:
        return int(http.get(f"/api/v1/networks/{name}").json()["revision"])


@contextmanager
def _job_running(api: Api, name: str, *, created_by: str | None = None) -> Iterator[str]:
    """A running ``up`` job of network ``name``, as a job another request started."""
    db = api.server.database()
    try:
        with db.session() as session:
            row = jobs_db.create(
                session,
                network=name,
                action="up",
                target="local",
                purge=False,
                revision=1,
                created_by=created_by,
            )
            job_id = row.id
        with db.session() as session:
            stored = session.get(DeploymentRow, job_id)
            assert stored is not None
            stored.state = "running"
        yield job_id
        with db.session() as session:
            stored = session.get(DeploymentRow, job_id)
            if stored is not None:
                stored.state = "failed"
    finally:
        db.dispose()


def _token_id(api: Api, secret: str) -> str:
    db = api.server.database()
    try:
        info = tokens.verify(db, secret)
        assert info is not None
        return info.id
    finally:
        db.dispose()


# ------------------------------------------------------------------ confined chaincode sources


OUTSIDE = ["/etc", "../../../../etc", "../../../../no/such/folder", "/no/such/folder"]


@pytest.mark.parametrize("path", OUTSIDE)
def test_chaincode_path_out_of_the_source_dir_is_422_without_saying_if_it_exists(
    api: Api, path: str
) -> None:
    text = two_orgs("escape").replace("path: chaincode/asset-transfer", f"path: {path}")
    with api.server.client(api.tokens.admin) as http:
        for method, url in (("POST", "/api/v1/networks"), ("POST", "/api/v1/networks/validate")):
            response = http.request(method, url, content=text, headers=YAML)
            assert response.status_code == 422, response.text
            [diag] = response.json()["diagnostics"]
            assert diag["path"] == "spec.chaincodes[0].path"
            assert "must be a relative path inside the server's source folder" in diag["message"]
            assert "exist" not in diag["message"]
            assert str(EXAMPLES) not in response.text
        assert http.get("/api/v1/networks/escape").status_code == 404


def test_a_link_out_of_the_source_dir_is_refused_like_any_outside_path(
    make_api: MakeApi, tmp_path: Path
) -> None:
    """A folder under --source-dir that is a symbolic link to a Node project elsewhere (the
    code `up` would run as the server's user) is refused; the same project copied inside the
    source dir is accepted; a missing folder inside says so with a relative path only."""
    source = tmp_path / "sources"
    source.mkdir()
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(EXAMPLES / "chaincode" / "asset-transfer", elsewhere)
    (source / "linked").symlink_to(elsewhere, target_is_directory=True)
    shutil.copytree(elsewhere, source / "inside")
    api = make_api("sqlite", start=False)
    api.server.source_dir = source
    api.server.start()
    with api.server.client(api.tokens.admin) as http:

        def validate(path: str) -> tuple[int, str]:
            text = two_orgs("links").replace("path: chaincode/asset-transfer", f"path: {path}")
            response = http.post("/api/v1/networks/validate", content=text, headers=YAML)
            return response.status_code, response.text

        status, body = validate("linked")
        assert status == 422 and "inside the server's source folder" in body
        assert str(tmp_path) not in body
        status, body = validate("inside/../linked")
        assert status == 422 and "inside the server's source folder" in body
        assert validate("inside")[0] == 200
        status, body = validate("missing")
        assert status == 422 and "does not exist (looked in missing)" in body
        assert str(tmp_path) not in body


# ------------------------------------------------------------- no signing for another org


def test_scoped_deployer_cannot_change_a_shared_chaincode(api: Api) -> None:
    """The finding: an org1-scoped chaincode-deployer set a shared chaincode's policy to
    AND('Org1MSP.peer'), and `up` approved it as Org2MSP. Now the PUT is refused naming the
    organisations whose admins would have to sign, and nothing is stored."""
    name = "shared-cc"
    _create(api, name, with_org1_channel(name))
    deployer = _scoped(api, tokens.Role.chaincode_deployer, "org1")
    changed = with_org1_channel(name).replace(
        "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"",
        "endorsement: \"AND('Org1MSP.peer')\"",
    )
    assert changed != with_org1_channel(name)
    with api.server.client(deployer) as http:
        response = http.put(f"/api/v1/networks/{name}", content=changed, headers=YAML)
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["code"] == "signing-refused"
    assert "org2" in problem["message"] and "approving chaincode basic" in problem["message"]
    assert "org1 only" in problem["message"]
    assert _revision(api, name) == 1

    own = with_org1_channel(name).replace(
        'name: mine\n      channel: org1only\n      version: "1.0"',
        'name: mine\n      channel: org1only\n      version: "1.1"',
    )
    assert own != with_org1_channel(name)
    with api.server.client(deployer) as http:
        response = http.put(f"/api/v1/networks/{name}", content=own, headers=YAML)
    assert response.status_code == 200, response.text
    assert _revision(api, name) == 2


def test_scoped_up_is_refused_when_others_must_sign(api: Api) -> None:
    """A scoped deployer's `up` is judged against what the network last ran: never deployed
    (every organisation joins and approves) or changed by a consortium-admin in a shared
    chaincode, it is 403 naming the others and no job is created; a change only org1 signs
    for is accepted."""
    name = "scoped-up"
    text = with_org1_channel(name)
    _create(api, name, text)
    deployer = _scoped(api, tokens.Role.chaincode_deployer, "Org1MSP")
    with api.server.client(deployer) as http:
        response = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "signing-refused"
        assert "first deployment" in response.json()["message"]
        assert http.get(f"/api/v1/networks/{name}/deployments").json()["items"] == []

    db = api.server.database()  # as the last successful up would have recorded it
    try:
        with db.session() as session:
            row = session.get(NetworkRow, name)
            assert row is not None
            row.deployed_source, row.deployed_revision = row.source, row.revision
    finally:
        db.dispose()
    shared = text.replace(
        'version: "1.0"\n      path: chaincode/asset-transfer\n      endorse',
        'version: "2.0"\n      path: chaincode/asset-transfer\n      endorse',
    )
    assert shared != text
    with api.server.client(api.tokens.admin) as http:
        assert http.put(f"/api/v1/networks/{name}", content=shared, headers=YAML).is_success
    with api.server.client(deployer) as http:
        response = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
        assert response.status_code == 403, response.text
        assert "org2" in response.json()["message"]
        assert "approving chaincode basic 2.0 on mychannel" in response.json()["message"]
    with api.server.client(api.tokens.admin) as http:
        assert http.put(f"/api/v1/networks/{name}", content=text, headers=YAML).is_success
    own = text.replace(
        'name: mine\n      channel: org1only\n      version: "1.0"',
        'name: mine\n      channel: org1only\n      version: "1.1"',
    )
    with api.server.client(deployer) as http:
        assert http.put(f"/api/v1/networks/{name}", content=own, headers=YAML).is_success
        response = http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"})
        assert response.status_code == 202, response.text


# ------------------------------------------------------------------ one lock per network


def test_every_mutating_path_waits_for_the_network_lock(api: Api) -> None:
    """The finding: DELETE ran `down` outside the one-job-per-network lock. Now DELETE, PUT,
    renew and revoke get 409 naming the running job, and nothing ran: the network, its
    revision and its files are as they were."""
    name = "locked"
    _create(api, name, two_orgs(name))
    marker = api.server.home / "networks" / name / "keep"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("still here")
    with _job_running(api, name) as job, api.server.client(api.tokens.admin) as http:
        calls = [
            http.delete(f"/api/v1/networks/{name}", params={"purge": "true"}),
            http.put(f"/api/v1/networks/{name}", content=two_orgs(name), headers=YAML),
            http.post(f"/api/v1/networks/{name}/certificates/renew", json={"identity": "x"}),
            http.post(f"/api/v1/networks/{name}/certificates/revoke", json={"identity": "x"}),
            http.post(f"/api/v1/networks/{name}/deployments", json={"action": "up"}),
            http.post(f"/api/v1/networks/{name}/smoke", json={}),
        ]
        for response in calls:
            assert response.status_code == 409, (response.request.url, response.text)
            assert job in response.json()["message"]
    assert marker.read_text() == "still here"
    assert _revision(api, name) == 1
    with api.server.client(api.tokens.admin) as http:
        replaced = http.put(f"/api/v1/networks/{name}", content=two_orgs(name), headers=YAML)
        assert replaced.status_code == 200, replaced.text
        latest = http.get(f"/api/v1/networks/{name}/deployments").json()["items"][0]
        assert (latest["action"], latest["state"]) == ("replace", "succeeded")


def test_cancel_is_for_the_jobs_creator_or_a_consortium_admin(api: Api) -> None:
    name = "cancels"
    _create(api, name, two_orgs(name))
    admin_id = _token_id(api, api.tokens.admin)
    deployer_id = _token_id(api, api.tokens.deployer)
    with api.server.client(api.tokens.deployer) as http:
        with _job_running(api, name, created_by=admin_id) as job:
            refused = http.post(f"/api/v1/networks/{name}/deployments/{job}/cancel")
            assert refused.status_code == 403, refused.text
            assert "only the jobs it started" in refused.json()["message"]
        with _job_running(api, name, created_by=deployer_id) as job:
            own = http.post(f"/api/v1/networks/{name}/deployments/{job}/cancel")
            assert own.status_code == 202, own.text
            assert own.json()["cancelRequested"] is True
    with (
        _job_running(api, name, created_by=deployer_id) as job,
        api.server.client(api.tokens.admin) as http,
    ):
        assert http.post(f"/api/v1/networks/{name}/deployments/{job}/cancel").status_code == 202


# ----------------------------------------------------------------------- deleting networks


def test_delete_with_purge_when_the_chaincode_folder_has_gone(
    make_api: MakeApi, tmp_path: Path
) -> None:
    source = tmp_path / "sources"
    shutil.copytree(EXAMPLES / "chaincode", source / "chaincode")
    api = make_api("sqlite", start=False)
    api.server.source_dir = source
    api.server.start()
    name = "gone"
    _create(api, name, two_orgs(name))
    state = api.server.home / "networks" / name
    state.mkdir(parents=True)
    (state / "ledger").write_text("data")
    shutil.rmtree(source / "chaincode")
    with api.server.client(api.tokens.admin) as http:
        response = http.delete(f"/api/v1/networks/{name}", params={"purge": "true"})
        assert response.status_code == 200, response.text
        assert response.json()["purged"] is True
        assert http.get(f"/api/v1/networks/{name}").status_code == 404
    assert not state.exists()


def test_a_kubernetes_network_without_cluster_access_is_forgotten_with_force(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "no-cluster"
    _create(api, name, two_orgs(name), target="kubernetes")
    with api.server.client(api.tokens.admin) as http:
        failed = http.delete(f"/api/v1/networks/{name}")
        assert failed.status_code in (422, 502), failed.text
        assert f"DELETE /api/v1/networks/{name}?force=true" in failed.json()["hint"]
        assert http.get(f"/api/v1/networks/{name}").status_code == 200
        both = http.delete(f"/api/v1/networks/{name}", params={"force": "true", "purge": "true"})
        assert both.status_code == 422, both.text
        forgotten = http.delete(f"/api/v1/networks/{name}", params={"force": "true"})
        assert forgotten.status_code == 200, forgotten.text
        assert forgotten.json() == {"kind": "Forgotten", "network": name, "stopped": False}
        assert http.get(f"/api/v1/networks/{name}").status_code == 404
