"""``/api/v1/networks/{name}/organizations/{org}``: one organisation as the plan has it (MSP
ID, domain, nodes, admin, users, channels) with its identities' certificate metadata from the
PKI inventory (subject, serial, expiry, state) — never a private key or a path to one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path

from baas import services
from baas.api.auth import Action, Principal, allow, refuse_unseen
from baas.api.context import Context, context
from baas.api.errors import not_found
from baas.api.routes.common import NetworkName, errors, loaded, network
from baas.api.schemas import ServiceResult
from baas.errors import UsageError

router = APIRouter(prefix="/api/v1/networks/{name}/organizations", tags=["organizations"])

OrgName = Path(max_length=64, description="The organisation's name in the topology.")


def _identities(org: dict[str, Any], certificates: list[dict[str, Any]] | None) -> list[Any]:
    """Each identity of ``org`` (nodes, admin, users) with its certificates' metadata."""
    kinds = [(n["fqdn"], n["role"]) for n in org["peers"] + org["orderers"]]
    kinds += [(org["admin"], "admin"), *((u, "user") for u in org["users"])]
    return [
        {
            "name": holder,
            "kind": kind,
            "certificates": None
            if certificates is None
            else [
                {k: c[k] for k in ("kind", "subject", "serial", "notAfter", "daysLeft", "state")}
                for c in certificates
                if c["holder"] == holder
            ],
        }
        for holder, kind in kinds
    ]


@router.get("/{org}", response_model=ServiceResult, responses=errors())
def read_organization(
    name: str = NetworkName,
    org: str = OrgName,
    principal: Principal = Depends(allow(Action.read_organization)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """The organisation's members, nodes and identities' metadata."""
    row = network(ctx, principal, name)
    if not principal.acts_on(row.summary["organizations"], org):
        raise refuse_unseen(principal)
    found = loaded(ctx, row)
    plan = services.describe_plan(found).to_dict()
    entry = next((o for o in plan["orgs"] if o["name"] == org), None)
    if entry is None:
        raise not_found(f"network {name} has no organisation {org!r}")
    try:
        inventory = services.pki_status(found).to_dict()["certificates"]
        certificates: list[dict[str, Any]] | None = [c for c in inventory if c["org"] == org]
        note = ""
    except UsageError as exc:  # no crypto material yet
        certificates, note = None, exc.message
    channels = [c["name"] for c in plan["channels"] if org in c["members"] + c["ordererOrgs"]]
    return {
        "kind": "Organization",
        "apiVersion": plan["apiVersion"],
        "network": name,
        "name": org,
        "mspId": entry["mspId"],
        "domain": entry["domain"],
        "peers": entry["peers"],
        "orderers": entry["orderers"],
        "admin": entry["admin"],
        "users": entry["users"],
        "channels": channels,
        "identities": _identities(entry, certificates),
        "certificatesNote": note,
    }
