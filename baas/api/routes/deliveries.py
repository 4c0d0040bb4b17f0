"""Chaincode delivery over the API (``baas chaincode deliver``): upload a chaincode's source,
deliver a new version of it as a tracked job, and read its delivery history.

* ``POST /api/v1/networks/{name}/chaincode-sources`` — the body is a ``.tar.gz`` of the
  chaincode folder (``Content-Type: application/gzip`` or ``application/octet-stream``, at
  most the server's ``max_upload_bytes``). It is checked whole before anything is unpacked
  (:mod:`baas.services.sources`: size unpacked, member count, names, no links, devices or
  fifos; each refusal a 422 ``invalid-archive`` naming the member and the fix), kept under
  ``$BAAS_HOME/sources`` by its SHA-256 and unpacked once. 201 with its ``digest``
  (``sha256:…``); the same bytes again are 200 with the same digest, and nothing is done.
* ``POST /api/v1/networks/{name}/chaincodes/{cc}/deliveries`` — edits the stored topology's
  entry of chaincode ``cc`` (:func:`topology.editing.apply_chaincode_change`: the text keeps
  its comments and order; the entry's ``path`` becomes ``sha256:…``, the one way a topology
  names the content store) and runs the delivery (build, install, approve, commit, Init) as
  a ``deliver`` job: 202 with the job, its progress on ``GET /api/v1/deployments/{id}/
  events``. Everything that can be refused is refused before anything changes: an unknown
  digest or a topology that would not validate (422), a scoped caller whose delivery needs
  another organisation's approval (403 ``signing-refused``), another job on the network
  (409). The stored topology keeps the edit whatever the job's outcome (as the CLI keeps
  the edited file); until the new definition is committed the previous version serves.
* ``GET /api/v1/networks/{name}/chaincodes/{cc}/approvals`` — who has approved the definition
  the topology wants (version, sequence, committed or not, approved and waiting MSP IDs);
  read like ``status``.
* ``POST /api/v1/networks/{name}/chaincodes/{cc}/approvals`` — approve it as organisations
  (``approval: manual``'s gate): an org-admin token for its own organisation only, a
  consortium-admin for those it names; a ``approve`` job installs their packages, approves,
  and commits once the channel's LifecycleEndorsement is met. Naming an organisation the
  caller does not act for is 403 ``signing-refused``; one not on the channel 422.
* ``GET /api/v1/networks/{name}/chaincodes/{cc}/deliveries`` — the chaincode's deliveries
  (from the CLI and the API alike), newest first: who, when, version, sequence, package IDs,
  outcome, duration.

Uploading and delivering need ``chaincode-deployer`` or ``consortium-admin``
(:attr:`~baas.api.auth.Action.deliver_chaincode`); a token scoped to an organisation uses
only networks that organisation belongs to. The history is read like ``status``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

import topology
from baas.api import topologies
from baas.api.auth import Action, Principal, allow
from baas.api.context import Context, context
from baas.api.db import deployments as jobs_db
from baas.api.db.models import NetworkRow, TokenRow, now
from baas.api.errors import ApiError, conflict
from baas.api.jobs import Work
from baas.api.routes.common import (
    NetworkName,
    busy,
    errors,
    find_network,
    loaded,
    network,
    note,
    recorded,
    require_own_signatures,
    signers,
    target,
)
from baas.api.schemas import (
    ApprovalRequest,
    DeliveryEntry,
    DeliveryHistory,
    DeliveryRequest,
    Deployment,
    ServiceResult,
    SourceUpload,
)
from baas.errors import SigningRefused
from baas.services import chaincode as chaincode_calls
from baas.services import delivery, sources
from topology.editing import ChaincodeChange, Edit, apply_chaincode_change

router = APIRouter(tags=["chaincodes"])

ChaincodeName = Path(
    pattern=r"^[a-zA-Z0-9]+([-_][a-zA-Z0-9]+)*$",
    max_length=128,
    description="The chaincode's name (spec.chaincodes[].name).",
)
ARCHIVE_MEDIA = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})
ARCHIVE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The chaincode folder as a .tar.gz (`tar -czf - -C DIR .`), at most "
        "the server's upload limit (32 MiB unless configured).",
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in sorted(ARCHIVE_MEDIA)
        },
    }
}


def _upload_errors() -> dict[int | str, dict[str, Any]]:
    documented = errors(415)
    documented[413] = {**documented[413], "description": "The archive is over the upload limit."}
    documented[422] = {
        **documented[422],
        "description": "The archive is refused (code invalid-archive: the member and the fix).",
    }
    return documented


def _archive_media(request: Request) -> None:
    base = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if base not in ARCHIVE_MEDIA:
        raise ApiError(
            415,
            "unsupported-media-type",
            f"a chaincode source is sent as a .tar.gz, not {base or 'an untyped body'}",
            hint="set Content-Type: application/gzip",
        )


@router.post(
    "/api/v1/networks/{name}/chaincode-sources",
    status_code=201,
    response_model=SourceUpload,
    responses={200: {"model": SourceUpload, "description": "Stored already."}, **_upload_errors()},
    openapi_extra=ARCHIVE_BODY,
)
async def upload_source(
    request: Request,
    response: Response,
    name: str = NetworkName,
    principal: Principal = Depends(allow(Action.deliver_chaincode)),
    ctx: Context = Depends(context),
) -> SourceUpload:
    """Store a chaincode folder (a ``.tar.gz``) for a delivery's ``source``: 201 with its
    digest, or 200 when the same bytes were stored before (nothing is done). Checked before
    anything is unpacked; a refusal (422 ``invalid-archive``) names the member and the fix."""
    note(request, network=name)
    _archive_media(request)
    await run_in_threadpool(network, ctx, principal, name)
    data = await request.body()
    limits = sources.Limits(
        max_bytes=ctx.settings.max_source_bytes, max_members=ctx.settings.max_source_members
    )
    try:
        stored = await run_in_threadpool(sources.store, data, limits=limits)
    except sources.SourceRefused as exc:
        raise ApiError(422, "invalid-archive", exc.message, hint=exc.hint) from None
    note(request, source=stored.digest, created=stored.created)
    if not stored.created:
        response.status_code = 200
    return SourceUpload.model_validate(stored.to_dict())


# --------------------------------------------------------------------------- deliveries


def _who(ctx: Context, principal: Principal) -> str:
    """The history's ``who`` for an API caller: its token's name and id (never the secret)."""
    with ctx.db.session() as session:
        row = session.get(TokenRow, principal.token_id)
        label = row.name.strip() if row is not None and row.name else ""
    return f"{label} ({principal.token_id})" if label else principal.token_id


def _change(cc: str, body: DeliveryRequest) -> ChaincodeChange:
    return ChaincodeChange(
        name=cc,
        path=body.source,
        image=body.image,
        version=body.version,
        endorsement=body.endorsement,
        channel=body.channel,
        init_required=body.init_required,
    )


def _edited(
    ctx: Context, row: NetworkRow, change: ChaincodeChange
) -> tuple[Edit, topology.LoadedTopology]:
    """The stored topology with ``change`` applied, validated as a posted one (422 when the
    result is not valid)."""
    shown = f"network {row.name}"

    def load(text: str) -> topology.LoadedTopology:
        return topologies.load(text, source_dir=ctx.settings.source_dir, source=shown)

    return delivery.edit_text(row.source, change, source=shown, load=load)


def _mark_deployed(ctx: Context, name: str, change: ChaincodeChange) -> None:
    """After a delivery: the deployed topology (what a scoped caller's next change is judged
    against) gets the same chaincode edit. Left as it is when it cannot take it (never
    deployed through the API, or an entry the edit cannot place): judged stricter, never
    looser."""
    with ctx.db.session() as session:
        stored = session.get(NetworkRow, name)
        if stored is None or stored.deployed_source is None:
            return
        try:
            made = apply_chaincode_change(stored.deployed_source, change, source=name)
        except topology.TopologyError:
            return
        stored.deployed_source = made.text


def _work(
    ctx: Context,
    principal: Principal,
    row: NetworkRow,
    *,
    made: Edit,
    found: topology.LoadedTopology,
    change: ChaincodeChange,
) -> Work:
    where, kube = target(row), ctx.settings.kube
    allowed = signers(principal, row)
    who = _who(ctx, principal)

    def run(report: Callable[[str], None]) -> Any:
        for line in made.diff.splitlines():
            report(line)
        outcome = delivery.deliver_edited(
            found, made, change, target=where, kube=kube, report=report, signers=allowed, who=who
        )
        _mark_deployed(ctx, row.name, change)
        return outcome

    return run


@router.post(
    "/api/v1/networks/{name}/chaincodes/{cc}/deliveries",
    status_code=202,
    response_model=Deployment,
    responses=errors(409),
)
def start_delivery(
    request: Request,
    response: Response,
    name: str = NetworkName,
    cc: str = ChaincodeName,
    principal: Principal = Depends(allow(Action.deliver_chaincode)),
    ctx: Context = Depends(context),
    body: DeliveryRequest = Body(...),
) -> Deployment:
    """Deliver ``version`` of chaincode ``cc`` (added when the topology lacks it) from an
    uploaded ``source`` or an ``image``: the stored topology's entry is edited, then a
    ``deliver`` job builds, installs, approves, commits and starts it (202; follow its
    events). The previous version serves until the commit; the same source and version
    again change nothing. Refused before anything changes: an unknown digest or an invalid
    result (422), approvals of organisations a scoped token does not act for (403), another
    job on the network (409)."""
    note(request, network=name, chaincode=cc, version=body.version)
    row = network(ctx, principal, name)
    if body.source is not None:
        sources.require(
            body.source,
            upload_hint=f"upload the .tar.gz first: POST /api/v1/networks/{name}/"
            "chaincode-sources returns its digest",
        )
        note(request, source=body.source)
    change = _change(cc, body)
    made, found = _edited(ctx, row, change)
    deployed = row.deployed_source
    before = recorded(ctx, row, text=deployed) if deployed else recorded(ctx, row)
    require_own_signatures(principal, before=before, after=found)
    work = _work(ctx, principal, row, made=made, found=found, change=change)
    try:
        with ctx.db.session() as session:
            job = jobs_db.create(
                session,
                network=name,
                action="deliver",
                target=row.target,
                purge=False,
                revision=row.revision,
                created_by=principal.token_id,
            )
            stored = find_network(session, principal, name)
            if stored.revision != row.revision:
                raise conflict(
                    f"network {name}'s topology changed while this delivery was prepared",
                    hint="send the delivery again",
                )
            if made.outcome != "unchanged":
                stored.source = made.text
                stored.summary = topologies.summary(found)
                stored.revision += 1
                stored.updated_at = now()
                job.revision = stored.revision
    except jobs_db.ActiveDeployment as holder:
        raise busy(name, holder) from None
    note(request, deployment=job.id, revision=job.revision, edit=made.outcome)
    ctx.runner.start(job.id, work)
    response.headers["Location"] = f"/api/v1/deployments/{job.id}"
    return Deployment.of(job)


@router.get(
    "/api/v1/networks/{name}/chaincodes/{cc}/deliveries",
    response_model=DeliveryHistory,
    responses=errors(),
)
def list_deliveries(
    name: str = NetworkName,
    cc: str = ChaincodeName,
    limit: int = Query(50, ge=1, le=500),
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> DeliveryHistory:
    """Chaincode ``cc``'s deliveries (from the API and the CLI), newest first: who, when,
    version, sequence, package IDs, outcome and duration. Empty when none was recorded."""
    network(ctx, principal, name)
    entries = delivery.read_history(name, chaincode=cc, limit=limit)
    return DeliveryHistory(items=[DeliveryEntry.model_validate(e) for e in entries])


@router.get(
    "/api/v1/networks/{name}/chaincodes/{cc}/approvals",
    response_model=ServiceResult,
    responses=errors(),
)
def read_approvals(
    name: str = NetworkName,
    cc: str = ChaincodeName,
    principal: Principal = Depends(allow(Action.read)),
    ctx: Context = Depends(context),
) -> ServiceResult:
    """Who has approved the definition the topology wants for ``cc``: its version and
    sequence, whether it is committed, the approved and the waiting organisations (MSP IDs),
    and the chaincode's approval mode; 422 when the network does not run."""
    row = network(ctx, principal, name)
    outcome = chaincode_calls.approvals(
        recorded(ctx, row), chaincode=cc, target=target(row), kube=ctx.settings.kube
    )
    return outcome.to_dict()


def _approvers(principal: Principal, row: NetworkRow, asked: list[str] | None) -> list[str]:
    """The organisations a caller approves for: a scoped caller its own (naming another is
    refused, 403); an unscoped one those it names (422 when none)."""
    allowed = signers(principal, row)
    if allowed is None:
        if not asked:
            raise ApiError(
                422,
                "invalid-request",
                "name the organisations to approve for",
                hint='send {"organizations": ["org1"]} (names as in the topology)',
            )
        return list(dict.fromkeys(asked))
    wanted = list(dict.fromkeys(asked or sorted(allowed)))
    refused = sorted(set(wanted) - allowed) if allowed else wanted or [str(principal.org)]
    if refused:
        raise SigningRefused(refused, purpose="approving a chaincode definition", allowed=allowed)
    return wanted


@router.post(
    "/api/v1/networks/{name}/chaincodes/{cc}/approvals",
    status_code=202,
    response_model=Deployment,
    responses=errors(409),
)
def start_approval(
    request: Request,
    response: Response,
    name: str = NetworkName,
    cc: str = ChaincodeName,
    principal: Principal = Depends(allow(Action.approve_chaincode)),
    ctx: Context = Depends(context),
    body: ApprovalRequest = Body(default_factory=ApprovalRequest),
) -> Deployment:
    """Approve the definition the topology wants for ``cc`` as organisations (see the module
    docstring): an ``approve`` job (202; follow its events). Refused before anything is done:
    an organisation the caller does not act for (403), one not on the chaincode's channel or
    no organisation named (422), another job on the network (409)."""
    row = network(ctx, principal, name)
    orgs = _approvers(principal, row, body.organizations)
    note(request, network=name, chaincode=cc, organizations=orgs)
    found = loaded(ctx, row)
    delivery.check_approvers(found, name=cc, channel=None, organizations=orgs)
    where, kube, who = target(row), ctx.settings.kube, _who(ctx, principal)

    def run(report: Callable[[str], None]) -> Any:
        return delivery.approve_loaded(
            found, name=cc, organizations=orgs, target=where, kube=kube, report=report, who=who
        )

    try:
        with ctx.db.session() as session:
            job = jobs_db.create(
                session,
                network=name,
                action="approve",
                target=row.target,
                purge=False,
                revision=row.revision,
                created_by=principal.token_id,
            )
    except jobs_db.ActiveDeployment as holder:
        raise busy(name, holder) from None
    note(request, deployment=job.id)
    ctx.runner.start(job.id, run)
    response.headers["Location"] = f"/api/v1/deployments/{job.id}"
    return Deployment.of(job)
