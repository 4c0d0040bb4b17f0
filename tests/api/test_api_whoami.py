"""``GET /api/v1/whoami``: the calling token's name, role, organisation scope and the actions
its role allows (what the web console shows or hides), never its secret; 401 without a valid
token."""

from __future__ import annotations

from baas.api.auth import PERMISSIONS, Action
from baas.api.tokens import Role
from tests.api.conftest import Api


def allowed(role: Role) -> list[str]:
    return [a.value for a in Action if role in PERMISSIONS[a]]


def test_whoami_names_the_token_and_what_its_role_allows(api: Api) -> None:
    cases = (
        (api.tokens.admin, Role.consortium_admin, None),
        (api.tokens.org1, Role.org_admin, "org1"),
        (api.tokens.org2, Role.org_admin, "Org2MSP"),
        (api.tokens.deployer, Role.chaincode_deployer, None),
        (api.tokens.viewer, Role.viewer, None),
        (api.tokens.deployer1, Role.chaincode_deployer, "org1"),
    )
    for secret, role, org in cases:
        with api.server.client(secret) as http:
            response = http.get("/api/v1/whoami")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"id", "name", "role", "org", "expiresAt", "actions"}
        assert body["id"].startswith("tok_")
        assert body["name"] == f"test {role.value} {org or ''}"
        assert (body["role"], body["org"], body["expiresAt"]) == (role.value, org, None)
        assert body["actions"] == allowed(role)
        assert secret not in response.text
    with api.server.client(api.tokens.viewer) as http:
        actions = http.get("/api/v1/whoami").json()["actions"]
    assert "read" in actions and "deploy-up" not in actions and "run-smoke" not in actions


def test_whoami_needs_a_valid_token(api: Api) -> None:
    for secret in (None, "baas_not-a-real-token"):
        with api.server.client(secret) as http:
            response = http.get("/api/v1/whoami")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
