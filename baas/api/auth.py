"""Who may do what: bearer tokens (:mod:`baas.api.tokens`), roles and organisation scoping.

Every route names the :class:`Action` it performs; :func:`allow` checks the token (401 when
absent, unknown, expired or revoked) and the role (403) before the route looks anything up, so
a refusal never reveals whether the resource exists. A token scoped to an organisation
(``org-admin``, and ``viewer`` or ``chaincode-deployer`` created with ``--org``) sees only
networks that organisation belongs to; for it a network it cannot see and one that does not
exist give the same 403. It reads the whole network but only its own organisation's
certificates and identities, and acts only on those.

=====================  ================  =========  ==================  ======
action                 consortium-admin  org-admin  chaincode-deployer  viewer
=====================  ================  =========  ==================  ======
read                   yes               yes        yes                 yes
validate               yes               yes        yes                 yes
create / delete        yes               no         no                  no
replace                yes               no         spec.chaincodes     no
deploy up              yes               no         yes                 no
deploy down, cancel    yes               no         cancel own up       no
read certificates      yes               own org    no                  yes
renew / revoke         yes               own org    no                  no
read organisation      yes               own org    no                  yes
run smoke              yes               yes        yes                 no
deliver chaincode      yes               no         yes                 no
read audit log         yes               no         no                  no
=====================  ================  =========  ==================  ======
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from baas.api import tokens
from baas.api.context import Context, context
from baas.api.errors import forbidden, unauthorized
from baas.api.tokens import Role

CA, OA, CD, V = Role.consortium_admin, Role.org_admin, Role.chaincode_deployer, Role.viewer


class Action(StrEnum):
    read = "read"
    validate = "validate"
    create_network = "create-network"
    replace_network = "replace-network"
    delete_network = "delete-network"
    deploy_up = "deploy-up"
    deploy_down = "deploy-down"
    cancel_deployment = "cancel-deployment"
    read_certificates = "read-certificates"
    change_certificates = "change-certificates"
    read_organization = "read-organization"
    run_smoke = "run-smoke"
    read_audit = "read-audit"
    deliver_chaincode = "deliver-chaincode"
    approve_chaincode = "approve-chaincode"


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.read: frozenset({CA, OA, CD, V}),
    Action.validate: frozenset({CA, OA, CD, V}),
    Action.create_network: frozenset({CA}),
    Action.replace_network: frozenset({CA, CD}),
    Action.delete_network: frozenset({CA}),
    Action.deploy_up: frozenset({CA, CD}),
    Action.deploy_down: frozenset({CA}),
    Action.cancel_deployment: frozenset({CA, CD}),
    Action.read_certificates: frozenset({CA, OA, V}),
    Action.change_certificates: frozenset({CA, OA}),
    Action.read_organization: frozenset({CA, OA, V}),
    Action.run_smoke: frozenset({CA, OA, CD}),
    Action.read_audit: frozenset({CA}),
    Action.deliver_chaincode: frozenset({CA, CD}),
    Action.approve_chaincode: frozenset({CA, OA}),
}


@dataclass(frozen=True)
class Principal:
    """The caller: its token's id, role and organisation scope (None: every organisation)."""

    token_id: str
    role: Role
    org: str | None

    def may(self, action: Action) -> bool:
        return self.role in PERMISSIONS[action]

    @property
    def scoped(self) -> bool:
        return self.org is not None

    def own_org(self, organizations: Iterable[dict[str, Any]]) -> str | None:
        """The name of the caller's organisation among ``organizations`` (``{"name", "mspId"}``
        each), matched by name or MSP ID; None when it is not one of them."""
        for org in organizations:
            if self.org in (org.get("name"), org.get("mspId")):
                return str(org["name"])
        return None

    def sees(self, organizations: Iterable[dict[str, Any]]) -> bool:
        """Whether the caller may see a network with these organisations."""
        return not self.scoped or self.own_org(organizations) is not None

    def acts_on(self, organizations: Iterable[dict[str, Any]], org: str) -> bool:
        """Whether the caller may read or change organisation ``org``'s certificates and
        identities."""
        return not self.scoped or self.own_org(organizations) == org


bearer = HTTPBearer(
    auto_error=False,
    description="An API token from `baas token create` (shown once).",
)


def allow(*actions: Action) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold a valid token whose role may do one of
    ``actions``. Raises 401 or 403 (as :class:`~baas.api.errors.ApiError`).

    The token check is one indexed read (:meth:`~baas.api.db.Database.run`: on the event
    loop for SQLite, in a worker thread otherwise)."""

    async def check(
        request: Request,
        ctx: Context = Depends(context),
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise unauthorized()
        info = await ctx.db.run(tokens.verify, ctx.db, credentials.credentials)
        if info is None:
            raise unauthorized()
        principal = Principal(info.id, info.role, info.org)
        request.state.principal = principal
        if not any(principal.may(a) for a in actions):
            raise forbidden(f"a {principal.role.value} token may not do this")
        return principal

    return check


def refuse_unseen(principal: Principal) -> Exception:
    """What a scoped caller gets for a network it cannot see or that does not exist."""
    return forbidden(
        "this token may not use that network",
        hint=f"the token is scoped to organisation {principal.org}",
    )
