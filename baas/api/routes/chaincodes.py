"""``/api/v1/networks/{name}/chaincodes``: what the network's channels and peers hold of
chaincode (``baas chaincode list``): per channel every committed definition with each member
organisation's approved package, and per peer its installed packages. Read-only, authorised
like ``status``."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.routes.common import NetworkName, errors, loaded, network, target
from baas.api.schemas import ServiceResult
from baas.services import chaincode as calls

router = APIRouter(prefix="/api/v1/networks/{name}/chaincodes", tags=["chaincodes"])


@router.get("", response_model=ServiceResult, responses=errors())
def list_chaincodes(
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """Committed definitions (version, sequence, endorsement policy, Init, the version the
    topology wants, each member's approved package) and every peer's installed packages; 422
    when the network does not run."""
    row = network(ctx, principal, name)
    outcome = calls.chaincode_list(loaded(ctx, row), target=target(row), kube=ctx.settings.kube)
    return outcome.to_dict()
