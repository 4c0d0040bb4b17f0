"""The API's request and response bodies (pydantic v2, camelCase on the wire).

Service results (status, plan, certificates, …) are returned as the services' own
``to_dict()`` (the JSON ``baas … -o json`` prints), typed here as :data:`ServiceResult`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Row

from baas.api.db.models import AuditRow, DeploymentRow, EventRow, NetworkRow, utc

ServiceResult = dict[str, Any]
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$"
"""A network name (DNS-1123 label, at most 40 characters, as the topology requires)."""


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class _Request(BaseModel):
    """A request body: unknown fields and loose types (``0`` for ``false``) are refused."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", strict=True)


def _when(value: datetime | None) -> datetime | None:
    return utc(value) if value is not None else None


class Health(_Model):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]


class Version(_Model):
    version: str
    api_version: str = Field(alias="apiVersion")


class Organization(_Model):
    name: str
    msp_id: str = Field(alias="mspId")


class Counts(_Model):
    organizations: int
    nodes: int
    channels: int
    chaincodes: int


class NetworkSummary(_Model):
    name: str
    target: Literal["local", "kubernetes"]
    revision: int
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    organizations: list[Organization]
    counts: Counts

    @classmethod
    def of(cls, row: NetworkRow | Row[Any]) -> NetworkSummary:
        """From a stored network (or a row of the same columns)."""
        return cls.model_validate(
            {
                "name": row.name,
                "target": row.target,
                "revision": row.revision,
                "createdAt": utc(row.created_at),
                "updatedAt": utc(row.updated_at),
                "organizations": row.summary["organizations"],
                "counts": row.summary["counts"],
            }
        )


class Deployment(_Model):
    """A job: ``up``, ``down``, ``smoke`` or ``deliver`` (one chaincode's delivery), or a
    change made within its request under the
    network's lock (``replace``, ``delete``, ``renew``, ``revoke``). ``phases`` are the
    service's phases with their timings (once an ``up`` finished); ``lastStep`` the last
    progress line it reported; ``result`` the service's outcome (for ``smoke``, the
    report)."""

    id: str
    network: str
    action: Literal[
        "up", "down", "smoke", "deliver", "approve", "replace", "delete", "renew", "revoke"
    ]
    target: str
    purge: bool
    state: Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]
    revision: int
    created_at: datetime = Field(alias="createdAt")
    started_at: datetime | None = Field(alias="startedAt")
    finished_at: datetime | None = Field(alias="finishedAt")
    seconds: float | None
    last_step: str | None = Field(alias="lastStep")
    cancel_requested: bool = Field(alias="cancelRequested")
    phases: list[dict[str, Any]]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_by: str | None = Field(alias="createdBy")
    events: str

    @classmethod
    def of(cls, row: DeploymentRow) -> Deployment:
        started, finished = _when(row.started_at), _when(row.finished_at)
        result = row.result or {}
        return cls.model_validate(
            {
                "id": row.id,
                "network": row.network,
                "action": row.action,
                "target": row.target,
                "purge": row.purge,
                "state": row.state,
                "revision": row.revision,
                "createdAt": utc(row.created_at),
                "startedAt": started,
                "finishedAt": finished,
                "seconds": round((finished - started).total_seconds(), 3)
                if started and finished
                else None,
                "lastStep": row.last_step,
                "cancelRequested": row.cancel_requested,
                "phases": list(result.get("phases", [])),
                "result": row.result,
                "error": row.error,
                "createdBy": row.created_by,
                "events": f"/api/v1/deployments/{row.id}/events",
            }
        )


class NetworkDetail(NetworkSummary):
    """A network with its topology exactly as sent (``topology``, of ``mediaType``), its
    validation warnings and its latest deployment."""

    media_type: str = Field(alias="mediaType")
    topology: str
    warnings: list[dict[str, Any]]
    latest_deployment: Deployment | None = Field(alias="latestDeployment")

    @classmethod
    def detail(cls, row: NetworkRow, latest: DeploymentRow | None) -> NetworkDetail:
        base = NetworkSummary.of(row).model_dump(by_alias=True)
        return cls.model_validate(
            {
                **base,
                "mediaType": row.media_type,
                "topology": row.source,
                "warnings": row.summary.get("warnings", []),
                "latestDeployment": Deployment.of(latest) if latest else None,
            }
        )


class NetworkList(_Model):
    items: list[NetworkSummary]


class DeploymentList(_Model):
    items: list[Deployment]


class DeploymentRequest(_Request):
    """Start ``up`` or ``down``. ``purge`` (``down`` only) also deletes ledgers and keys;
    ``timeout`` is how long nodes may take to become ready (``up``)."""

    action: Literal["up", "down"]
    purge: bool = False
    timeout: float = Field(default=300.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _purge_needs_down(self) -> DeploymentRequest:
        if self.purge and self.action != "down":
            raise ValueError("purge goes with action 'down' only; drop it or use 'down'")
        return self


class Event(_Model):
    id: int
    deployment: str
    at: datetime
    kind: Literal["state", "progress"]
    data: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> Event:
        return cls(
            id=row.id, deployment=row.deployment_id, at=utc(row.at), kind=row.kind, data=row.data
        )


class RenewRequest(_Request):
    """Exactly one of ``identity`` (renew that identity's certificates) or ``expiringWithin``
    (every leaf certificate with fewer days left); ``newKey`` issues new keys."""

    identity: str | None = Field(default=None, min_length=1, max_length=253)
    expiring_within: int | None = Field(default=None, alias="expiringWithin", ge=0, le=3650)
    new_key: bool = Field(default=False, alias="newKey")

    @model_validator(mode="after")
    def _exactly_one(self) -> RenewRequest:
        if (self.identity is None) == (self.expiring_within is None):
            raise ValueError("give exactly one of identity or expiringWithin")
        return self


class RevokeRequest(_Request):
    identity: str = Field(min_length=1, max_length=253)


class LoadProbe(_Request):
    """``baas smoke --load``: ``duration`` seconds from ``concurrency`` workers, at most
    ``rate`` transactions a second in all (none: as fast as the network answers)."""

    duration: float = Field(default=10, gt=0, le=600)
    concurrency: int = Field(default=8, ge=1, le=256)
    rate: float | None = Field(default=None, gt=0, le=100000)


class SmokeRequest(_Request):
    """Run the network's smoke checks; ``load`` then runs the load probe. ``timeout`` is how
    long each helm test pod may take (Kubernetes)."""

    timeout: float = Field(default=300, ge=1, le=3600)
    load: LoadProbe | None = None


class SmokeRun(Deployment):
    """A smoke job; ``passed`` (once it ended) whether every check passed, ``report`` the
    report (checks, and load-probe results when asked for)."""

    passed: bool | None
    report: dict[str, Any] | None

    @classmethod
    def run(cls, row: DeploymentRow) -> SmokeRun:
        base = Deployment.of(row).model_dump(by_alias=True)
        report = row.result if row.state == "succeeded" else None
        return cls.model_validate(
            {**base, "passed": report.get("passed") if report else None, "report": report}
        )


class AuditEntry(_Model):
    id: int
    at: datetime
    actor: str
    role: str | None
    org: str | None
    method: str
    path: str
    status: int
    outcome: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        return cls(
            id=row.id,
            at=utc(row.at),
            actor=row.actor,
            role=row.role,
            org=row.org,
            method=row.method,
            path=row.path,
            status=row.status,
            outcome=row.outcome,
            detail=row.detail,
        )


class AuditList(_Model):
    items: list[AuditEntry]


SOURCE_DIGEST = r"^sha256:[0-9a-f]{64}$"
"""An uploaded chaincode source (``POST …/chaincode-sources`` returns it)."""
CHANNEL_PATTERN = r"^[a-z][a-z0-9.-]*$"
VERSION_PATTERN = r"^[A-Za-z0-9_.+-]+$"
ORG_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class SourceUpload(_Model):
    """A stored chaincode source archive: ``digest`` names it in a delivery's ``source``;
    ``created`` false when the same bytes were there already (nothing was done)."""

    digest: str
    created: bool
    files: int
    bytes: int
    archive_bytes: int = Field(alias="archiveBytes")


class DeliveryRequest(_Request):
    """Deliver one chaincode: ``version``, and ``source`` (an uploaded archive's digest: the
    chaincode's folder) and/or ``image`` (its server's container image, Kubernetes). Fields
    left out stay as the topology has them (a new chaincode takes the topology's defaults);
    ``channel`` picks the entry when the chaincode is on several channels (and is a new
    chaincode's channel)."""

    version: str = Field(min_length=1, max_length=64, pattern=VERSION_PATTERN)
    source: str | None = Field(default=None, pattern=SOURCE_DIGEST)
    image: str | None = Field(default=None, min_length=1, max_length=512)
    endorsement: str | None = Field(default=None, min_length=1, max_length=4096)
    channel: str | None = Field(default=None, max_length=249, pattern=CHANNEL_PATTERN)
    init_required: bool | None = Field(default=None, alias="initRequired")

    @model_validator(mode="after")
    def _source_or_image(self) -> DeliveryRequest:
        if self.source is None and self.image is None:
            raise ValueError("give source (an uploaded archive's digest) or image")
        return self


class ApprovalRequest(_Request):
    """Approve the definition the topology wants for a chaincode as ``organizations`` (names
    as in the topology). A token scoped to an organisation approves for its own only (and may
    leave the list out); a consortium-admin names them."""

    organizations: list[Annotated[str, Field(pattern=ORG_PATTERN, max_length=63)]] | None = Field(
        default=None, min_length=1, max_length=64
    )


class DeliveryEntry(_Model):
    """One recorded delivery: when, who (the API token's name and id; the machine's user for
    the CLI), its outcome (``delivered`` or ``failed`` with ``error``) and ``seconds``, and
    the definition committed after it (``version``, ``sequence``, each organisation's
    ``packages``; null after a failure). Fields a newer baas records are left out."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    at: str
    who: str | None = None
    chaincode: str
    channel: str | None = None
    edit: str | None = None
    fields: list[str] = Field(default_factory=list)
    outcome: str
    seconds: float | None = None
    version: str | None = None
    sequence: int | None = None
    packages: dict[str, str | None] | None = None
    error: str | None = None


class DeliveryHistory(_Model):
    items: list[DeliveryEntry]
