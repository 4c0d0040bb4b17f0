"""A network's certificates: the inventory with expiry (``baas pki status``), renewal and
revocation (``baas pki renew`` / ``revoke``). Never any key material: the services return
certificate metadata only.

A token scoped to an organisation sees that organisation's certificates only, and renews or
revokes only its identities (one identity at a time: an expiry window spans every
organisation).
"""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Body, Depends, Request

from baas import services
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db.models import NetworkRow
from baas.api.errors import forbidden
from baas.api.routes.common import NetworkName, errors, loaded, locked, network, note
from baas.api.schemas import RenewRequest, RevokeRequest, ServiceResult
from baas.services.results import Outcome

router = APIRouter(prefix="/api/v1/networks/{name}/certificates", tags=["certificates"])


def _org_of(ctx: Context, row: NetworkRow, identity: str) -> str | None:
    """The organisation whose CAs issue ``identity`` (None when no organisation does)."""
    plan = services.describe_plan(loaded(ctx, row)).value.plan
    return next((o.name for o in plan.orgs if identity in o.identities), None)


def _require_own_identity(ctx: Context, principal: Principal, row: NetworkRow, name: str) -> None:
    if principal.scoped and not principal.acts_on(
        row.summary["organizations"], _org_of(ctx, row, name) or ""
    ):
        raise forbidden(
            f"this token acts on organisation {principal.org}'s identities only",
            hint="name one of its nodes, its admin or its users",
        )


@router.get("", response_model=ServiceResult, responses=errors())
def list_certificates(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read_certificates)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """Every CA, signing and TLS certificate with its expiry, days left and state (those of
    the token's organisation when it is scoped)."""
    row = network(ctx, principal, name)
    outcome = services.pki_status(loaded(ctx, row))
    if principal.scoped:
        own = principal.own_org(row.summary["organizations"])
        kept = tuple(c for c in outcome.value.certificates if c.org == own)
        outcome = Outcome(
            outcome.kind, dataclasses.replace(outcome.value, certificates=kept), outcome.warnings
        )
    return outcome.to_dict()


@router.post("/renew", response_model=ServiceResult, responses=errors())
def renew_certificates(
    request: Request,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.change_certificates)),
    ctx: Context = Depends(context),
    body: RenewRequest = Body(...),
) -> ServiceResult:
    """Re-issue an identity's certificates, or every leaf certificate expiring within a
    number of days (keys kept unless ``newKey``)."""
    note(request, network=name, identity=body.identity, expiringWithin=body.expiring_within)
    row = network(ctx, principal, name)
    if body.identity is None and principal.scoped:
        raise forbidden(
            "a token scoped to one organisation renews one identity at a time",
            hint="give identity instead of expiringWithin",
        )
    if body.identity is not None:
        _require_own_identity(ctx, principal, row, body.identity)
    found = loaded(ctx, row)
    with locked(ctx, principal, row, action="renew"):
        outcome = services.pki_renew(
            found,
            identity=body.identity,
            expiring_within=body.expiring_within,
            new_key=body.new_key,
        )
    return outcome.to_dict()


@router.post("/revoke", response_model=ServiceResult, responses=errors())
def revoke_certificates(
    request: Request,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.change_certificates)),
    ctx: Context = Depends(context),
    body: RevokeRequest = Body(...),
) -> ServiceResult:
    """Revoke an identity's signing and TLS certificates and publish the CRLs in its
    organisation's MSPs."""
    note(request, network=name, identity=body.identity)
    row = network(ctx, principal, name)
    _require_own_identity(ctx, principal, row, body.identity)
    found = loaded(ctx, row)
    with locked(ctx, principal, row, action="revoke"):
        return services.pki_revoke(found, body.identity).to_dict()
