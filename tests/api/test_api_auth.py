"""Who may do what, over a real server (SQLite and PostgreSQL): every endpoint by every role,
with the expected status written out; organisation scoping (certificates, identities); 401
for missing, unknown, expired and revoked tokens; 403 that does not reveal existence; the
audit log; and no secret in any response or in the server's log.

Columns: anonymous, consortium-admin, org-admin of org1, org-admin of an organisation in no
network (``outsider``), chaincode-deployer, viewer, chaincode-deployer scoped to org1
(``deployer1``: it signs for org1 only, so it may not change what org2 must approve, nor start
an ``up`` of a network never deployed, which every organisation signs). The world: network
``supplychain`` (examples/two-orgs.yaml) with crypto material issued by the CLI (``baas pki
generate`` in the server's ``BAAS_HOME``: the CLI and the API share networks), one finished
``up`` job, and per role its own networks for the calls that change or remove one.
"""

from __future__ import annotations

import gzip
import io
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from baas.api import tokens
from baas.api.db.models import TokenRow
from tests.api.conftest import Api
from tests.api.support import BAAS, EXAMPLES, read_events, two_orgs

ROLES = ("anon", "admin", "org1", "outsider", "deployer", "viewer", "deployer1")
YAML = {"Content-Type": "application/yaml"}


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str  # {r}: the role's own network; {job}: the finished job
    expected: tuple[int, int, int, int, int, int, int]  # in ROLES order
    json: Any = None
    yaml: str | None = None
    archive: bool = False  # the body is a chaincode source (.tar.gz)


SHARED_POLICY = (
    "endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"",
    "endorsement: \"AND('Org1MSP.peer')\"",
)


def _yaml_of(name: str) -> str:
    """``pol-*``: two-orgs with the shared chaincode's policy changed to org1's alone."""
    if name.startswith("pol-"):
        return two_orgs(name).replace(*SHARED_POLICY)
    return two_orgs(name)


MATRIX = [
    Case("health", "GET", "/api/v1/health", (200, 200, 200, 200, 200, 200, 200)),
    Case("version", "GET", "/api/v1/version", (200, 200, 200, 200, 200, 200, 200)),
    Case("whoami", "GET", "/api/v1/whoami", (401, 200, 200, 200, 200, 200, 200)),
    Case("topology schema", "GET", "/api/v1/schema/topology", (401, 200, 200, 200, 200, 200, 200)),
    Case("list networks", "GET", "/api/v1/networks", (401, 200, 200, 200, 200, 200, 200)),
    Case(
        "create network",
        "POST",
        "/api/v1/networks",
        (401, 201, 403, 403, 403, 403, 403),
        yaml="new-{r}",
    ),
    Case(
        "validate",
        "POST",
        "/api/v1/networks/validate",
        (401, 200, 200, 200, 200, 200, 200),
        yaml="checked",
    ),
    Case(
        "read network", "GET", "/api/v1/networks/supplychain", (401, 200, 200, 403, 200, 200, 200)
    ),
    Case(
        "read missing network", "GET", "/api/v1/networks/nope", (401, 404, 403, 403, 404, 404, 403)
    ),
    Case(
        "replace network",
        "PUT",
        "/api/v1/networks/supplychain",
        (401, 200, 403, 403, 200, 403, 200),
        yaml="supplychain",
    ),
    Case(
        "replace a shared chaincode's policy",
        "PUT",
        "/api/v1/networks/pol-{r}",
        (401, 200, 403, 403, 200, 403, 403),
        yaml="pol-{r}",
    ),
    Case(
        "delete network", "DELETE", "/api/v1/networks/del-{r}", (401, 200, 403, 403, 403, 403, 403)
    ),
    Case("plan", "GET", "/api/v1/networks/supplychain/plan", (401, 200, 200, 403, 200, 200, 200)),
    Case(
        "status", "GET", "/api/v1/networks/supplychain/status", (401, 200, 200, 403, 200, 200, 200)
    ),
    Case(
        "start up",
        "POST",
        "/api/v1/networks/dep-{r}/deployments",
        (401, 202, 403, 403, 202, 403, 403),
        json={"action": "up"},
    ),
    Case(
        "start down",
        "POST",
        "/api/v1/networks/down-{r}/deployments",
        (401, 202, 403, 403, 403, 403, 403),
        json={"action": "down"},
    ),
    Case(
        "list deployments",
        "GET",
        "/api/v1/networks/supplychain/deployments",
        (401, 200, 200, 403, 200, 200, 200),
    ),
    Case(
        "read deployment",
        "GET",
        "/api/v1/networks/supplychain/deployments/{job}",
        (401, 200, 200, 403, 200, 200, 200),
    ),
    Case(
        "read deployment by id",
        "GET",
        "/api/v1/deployments/{job}",
        (401, 200, 200, 403, 200, 200, 200),
    ),
    Case("events", "GET", "/api/v1/deployments/{job}/events", (401, 200, 200, 403, 200, 200, 200)),
    Case(
        "cancel a finished up",
        "POST",
        "/api/v1/networks/supplychain/deployments/{job}/cancel",
        (401, 409, 403, 403, 403, 403, 403),  # the admin's job: a deployer cancels only its own
    ),
    Case(
        "certificates",
        "GET",
        "/api/v1/networks/supplychain/certificates",
        (401, 200, 200, 403, 403, 200, 403),
    ),
    Case(
        "renew own org's identity",
        "POST",
        "/api/v1/networks/supplychain/certificates/renew",
        (401, 200, 200, 403, 403, 403, 403),
        json={"identity": "peer0.org1.example.com"},
    ),
    Case(
        "renew another org's identity",
        "POST",
        "/api/v1/networks/supplychain/certificates/renew",
        (401, 200, 403, 403, 403, 403, 403),
        json={"identity": "peer0.org2.example.com"},
    ),
    Case(
        "renew by expiry window",
        "POST",
        "/api/v1/networks/supplychain/certificates/renew",
        (401, 200, 403, 403, 403, 403, 403),
        json={"expiringWithin": 30},
    ),
    Case(
        "revoke own org's user",
        "POST",
        "/api/v1/networks/supplychain/certificates/revoke",
        (401, 200, 200, 403, 403, 403, 403),
        json={"identity": "alice@org1.example.com"},
    ),
    Case(
        "revoke another org's user",
        "POST",
        "/api/v1/networks/supplychain/certificates/revoke",
        (401, 200, 403, 403, 403, 403, 403),
        json={"identity": "bob@org2.example.com"},
    ),
    Case(
        "revoke an unknown identity",
        "POST",
        "/api/v1/networks/supplychain/certificates/revoke",
        (401, 422, 403, 403, 403, 403, 403),
        json={"identity": "nobody@org1.example.com"},
    ),
    Case(
        "own organisation",
        "GET",
        "/api/v1/networks/supplychain/organizations/org1",
        (401, 200, 200, 403, 403, 200, 403),
    ),
    Case(
        "another organisation",
        "GET",
        "/api/v1/networks/supplychain/organizations/org2",
        (401, 200, 403, 403, 403, 200, 403),
    ),
    Case(
        "missing organisation",
        "GET",
        "/api/v1/networks/supplychain/organizations/org7",
        (401, 404, 403, 403, 403, 404, 403),
    ),
    Case(
        "run smoke",
        "POST",
        "/api/v1/networks/smoke-{r}/smoke",
        (401, 202, 202, 403, 202, 403, 202),
        json={},
    ),
    Case(
        "run smoke on a missing network",
        "POST",
        "/api/v1/networks/nope/smoke",
        (401, 404, 403, 403, 404, 403, 403),
        json={},
    ),
    Case(
        "latest smoke run",
        "GET",
        "/api/v1/networks/supplychain/smoke",
        (401, 404, 404, 403, 404, 404, 404),
    ),
    Case(
        "chaincodes of a network that does not run",
        "GET",
        "/api/v1/networks/supplychain/chaincodes",
        (401, 422, 422, 403, 422, 422, 422),
    ),
    Case(
        "upload a chaincode source",  # 201 stores it, 200: the same bytes are stored
        "POST",
        "/api/v1/networks/supplychain/chaincode-sources",
        (401, 201, 403, 403, 200, 403, 200),
        archive=True,
    ),
    Case(
        "deliver a chaincode",  # basic needs org2's approval too: not org1's deployer
        "POST",
        "/api/v1/networks/dlv-{r}/chaincodes/basic/deliveries",
        (401, 202, 403, 403, 202, 403, 403),
        json={"version": "1.1", "image": "example.com/basic:1.1"},
    ),
    Case(
        "delivery history",
        "GET",
        "/api/v1/networks/supplychain/chaincodes/basic/deliveries",
        (401, 200, 200, 403, 200, 200, 200),
    ),
    Case(
        "approvals of a network that does not run",
        "GET",
        "/api/v1/networks/supplychain/chaincodes/basic/approvals",
        (401, 422, 422, 403, 422, 422, 422),
    ),
    Case(
        "approve as org1",  # an org-admin for its own organisation, a consortium-admin for any
        "POST",
        "/api/v1/networks/apr-{r}/chaincodes/basic/approvals",
        (401, 202, 202, 403, 403, 403, 403),
        json={"organizations": ["org1"]},
    ),
    Case(
        "approve as org2",  # org1's admin may not sign for org2
        "POST",
        "/api/v1/networks/apx-{r}/chaincodes/basic/approvals",
        (401, 202, 403, 403, 403, 403, 403),
        json={"organizations": ["org2"]},
    ),
    Case(
        "approve naming nobody",  # a scoped admin means its own; a consortium-admin must name
        "POST",
        "/api/v1/networks/apn-{r}/chaincodes/basic/approvals",
        (401, 422, 202, 403, 403, 403, 403),
        json={},
    ),
    Case(
        "approve as an organisation not on the channel",
        "POST",
        "/api/v1/networks/aps-{r}/chaincodes/basic/approvals",
        (401, 422, 403, 403, 403, 403, 403),
        json={"organizations": ["ordererorg"]},
    ),
    Case("audit log", "GET", "/api/v1/audit", (401, 200, 403, 403, 403, 403, 403)),
]


def _archive() -> bytes:
    """A chaincode folder of one file as a .tar.gz (the same bytes every call)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("index.js")
        data = b"module.exports = {};\n"
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue(), mtime=0)


@dataclass
class World:
    api: Api
    job: str
    secret_of: Callable[[str], str | None]
    responses: list[httpx.Response]


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    server = api.server
    with server.client(api.tokens.admin) as http:
        kinds = ("del", "dep", "down", "smoke", "pol", "dlv", "apr", "apx", "apn", "aps")
        names = ["supplychain"] + [f"{k}-{r}" for k in kinds for r in ROLES]
        for name in names:
            response = http.post("/api/v1/networks", content=two_orgs(name), headers=YAML)
            assert response.status_code == 201, response.text
        job = http.post("/api/v1/networks/supplychain/deployments", json={"action": "up"}).json()
        assert list(read_events(http, job["id"]))[-1].data["data"]["state"] == "failed"
    generated = subprocess.run(
        [str(BAAS), "pki", "generate", str(EXAMPLES / "two-orgs.yaml")],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr
    by_role = {
        "anon": None,
        "admin": api.tokens.admin,
        "org1": api.tokens.org1,
        "outsider": api.tokens.outsider,
        "deployer": api.tokens.deployer,
        "viewer": api.tokens.viewer,
        "deployer1": api.tokens.deployer1,
    }
    return World(api, job["id"], by_role.__getitem__, [])


def _call(world: World, case: Case, role: str) -> httpx.Response:
    path = case.path.format(r=role, job=world.job)
    kwargs: dict[str, Any] = {}
    if case.json is not None:
        kwargs["json"] = case.json
    if case.yaml is not None:
        kwargs["content"] = _yaml_of(case.yaml.format(r=role))
        kwargs["headers"] = YAML
    if case.archive:
        kwargs["content"] = _archive()
        kwargs["headers"] = {"Content-Type": "application/gzip"}
    with world.api.server.client(world.secret_of(role)) as http:
        if case.method == "GET" and path.endswith("/events"):
            with http.stream("GET", path) as response:
                response.read()
                return response
        return http.request(case.method, path, **kwargs)


@pytest.mark.parametrize("case", MATRIX, ids=[c.label for c in MATRIX])
def test_authorisation_matrix(world: World, case: Case) -> None:
    got = []
    for role in ROLES:
        response = _call(world, case, role)
        world.responses.append(response)
        got.append(response.status_code)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, case.expected, strict=True))


def test_refusals_say_nothing_about_existence(world: World) -> None:
    """For a scoped token, a network it cannot see and one that does not exist answer the
    same; an anonymous call gets the bearer challenge."""
    with world.api.server.client(world.api.tokens.outsider) as http:
        hidden = http.get("/api/v1/networks/supplychain")
        missing = http.get("/api/v1/networks/nope")
        assert hidden.status_code == missing.status_code == 403
        assert hidden.json() == missing.json()
        assert http.get("/api/v1/networks").json()["items"] == []
    with world.api.server.client() as http:
        anonymous = http.get("/api/v1/networks")
        assert anonymous.headers["www-authenticate"] == "Bearer"


def test_scoped_tokens_see_their_own_organisation(world: World) -> None:
    with world.api.server.client(world.api.tokens.org2) as http:  # scoped by MSP ID
        certificates = http.get("/api/v1/networks/supplychain/certificates").json()
        assert {c["org"] for c in certificates["certificates"]} == {"org2"}
        assert certificates["total"] == len(certificates["certificates"])
        org = http.get("/api/v1/networks/supplychain/organizations/org2").json()
        assert org["mspId"] == "Org2MSP" and org["channels"] == ["mychannel"]
        names = [i["name"] for i in org["identities"]]
        assert names == [
            "peer0.org2.example.com",
            "peer1.org2.example.com",
            "Admin@org2.example.com",
            "bob@org2.example.com",
        ]
        assert all(i["certificates"] for i in org["identities"])
    with world.api.server.client(world.api.tokens.admin) as http:
        everything = http.get("/api/v1/networks/supplychain/certificates").json()
        assert {c["org"] for c in everything["certificates"]} == {"ordererorg", "org1", "org2"}


def test_expired_and_revoked_tokens_get_401(world: World) -> None:
    db = world.api.server.database()
    made = tokens.create(db, role=tokens.Role.viewer, expires_days=1)
    with world.api.server.client(made.secret) as http:
        assert http.get("/api/v1/networks").status_code == 200
        with db.session() as session:
            row = session.get(TokenRow, made.info.id)
            assert row is not None
            row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        assert http.get("/api/v1/networks").status_code == 401
    other = tokens.create(db, role=tokens.Role.viewer)
    with world.api.server.client(other.secret) as http:
        assert http.get("/api/v1/networks").status_code == 200
        tokens.revoke(db, other.info.id)
        assert http.get("/api/v1/networks").status_code == 401
    with world.api.server.client("baas_" + "x" * 43) as http:
        assert http.get("/api/v1/networks").status_code == 401
    db.dispose()


def test_the_audit_log_records_mutating_calls(world: World) -> None:
    with world.api.server.client(world.api.tokens.admin) as http:
        assert http.post("/api/v1/networks", content=two_orgs("audited"), headers=YAML).is_success
        job = http.post("/api/v1/networks/audited/deployments", json={"action": "up"}).json()
        list(read_events(http, job["id"]))
        assert http.delete("/api/v1/networks/audited").status_code == 200
    with world.api.server.client(world.api.tokens.viewer) as http:
        assert http.delete("/api/v1/networks/del-viewer").status_code == 403
    with world.api.server.client() as http:
        assert http.post("/api/v1/networks", content="x", headers=YAML).status_code == 401
    with world.api.server.client(world.api.tokens.admin) as http:
        entries = http.get("/api/v1/audit", params={"limit": 1000}).json()["items"]
    assert [e for e in entries if e["method"] == "GET"] == []
    denied = next(e for e in entries if e["path"] == "/api/v1/networks/del-viewer")
    assert (denied["outcome"], denied["role"], denied["status"]) == ("denied", "viewer", 403)
    anonymous = next(e for e in entries if e["actor"] == "anonymous")
    assert anonymous["status"] == 401 and anonymous["outcome"] == "denied"
    mine = [e for e in entries if e["detail"].get("network") == "audited"]
    assert [(e["method"], e["path"], e["status"]) for e in reversed(mine)] == [
        ("POST", "/api/v1/networks", 201),
        ("POST", "/api/v1/networks/audited/deployments", 202),
        ("DELETE", "/api/v1/networks/audited", 200),
    ]
    assert all(e["role"] == "consortium-admin" and e["outcome"] == "ok" for e in mine)
    assert mine[1]["detail"] == {
        "network": "audited",
        "action": "up",
        "purge": False,
        "deployment": job["id"],
    }
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    cli = [e for e in entries if e["method"] == "CLI"]
    assert {e["path"] for e in cli} >= {"baas token create"}


def test_no_secret_in_any_response_or_the_log(world: World) -> None:
    secrets = world.api.tokens.all()
    responses = world.responses or [_call(world, c, r) for c in MATRIX for r in ROLES]
    for response in responses:
        text = response.text
        assert "PRIVATE KEY" not in text and "Traceback" not in text
        assert "_sk" not in text and "priv_sk" not in text
        for secret in secrets:
            assert secret not in text
    log = world.api.server.log.read_text()
    assert log.count("HTTP/1.1") > len(MATRIX)  # the access log was written
    for secret in secrets:
        assert secret not in log
    assert "PRIVATE KEY" not in log
