"""The contract every secret store follows, and the record format they share.

A store keeps one :class:`~pki.bundle.IdentityBundle` per identity, addressed by
``(network, org, identity name)``. Every write is an *ensure*: the store reads what it holds,
compares, and writes only when something differs, reporting a :class:`Change`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, get_args

from baas.errors import OperationError, UsageError
from pki.bundle import IdentityBundle, SecretBytes
from pki.spec import IdentityRole


class Change(StrEnum):
    """What an ensure did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class SecretStore(ABC):
    """Where identities live: a folder, Kubernetes Secrets, or Vault/OpenBao KV v2.

    Implementations never include key material or credentials in ``repr``, ``str``,
    :meth:`describe`, logs or exceptions.
    """

    kind: str = "abstract"

    @abstractmethod
    def ensure_identity(self, network: str, bundle: IdentityBundle) -> Change:
        """Store ``bundle`` for ``network``; write only if the stored copy differs.

        Returns CREATED when nothing was stored, UPDATED when something was rewritten,
        UNCHANGED when the stored copy already equals ``bundle`` (nothing is written).
        """

    @abstractmethod
    def read_identity(self, network: str, org: str, name: str) -> IdentityBundle | None:
        """The stored bundle, or ``None`` when the identity is absent.

        Raises OperationError when a copy exists but is incomplete or unreadable.
        """

    @abstractmethod
    def list_identities(self, network: str, org: str) -> list[str]:
        """Sorted identity names stored for the organisation (empty when none)."""

    @abstractmethod
    def delete_org(self, network: str, org: str) -> int:
        """Delete every identity of the organisation; returns how many were deleted (0 if none)."""

    @abstractmethod
    def describe(self) -> str:
        """One line saying where the store is (path, API server, Vault address), no credentials."""

    def ensure_identities(
        self, network: str, bundles: Iterable[IdentityBundle]
    ) -> dict[str, Change]:
        """Ensure several bundles; returns ``{identity name: Change}`` in input order."""
        return {b.name: self.ensure_identity(network, b) for b in bundles}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"

    __str__ = __repr__


# --------------------------------------------------------------------------- record format

ROLES: tuple[str, ...] = get_args(IdentityRole)
META_FIELDS = ("org", "msp_id", "name", "role")
CERT_FIELDS = ("sign_cert", "ca_cert", "tls_cert", "tls_ca_cert")
KEY_FIELDS = ("sign_key", "tls_key")
RECORD_FIELDS = META_FIELDS + CERT_FIELDS + KEY_FIELDS

# Fabric MSP ``config.yaml`` enabling NodeOUs with the OU strings cryptogen uses (fabric.md §1.2):
# lets an identity folder/Secret serve directly as a local MSP without ``admincerts/``.
MSP_CONFIG_YAML = b"""NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
"""


def bundle_to_record(bundle: IdentityBundle) -> dict[str, str]:
    """Flatten a bundle to text fields (PEM is ASCII). Keys are revealed: handle with care."""
    record = {f: str(getattr(bundle, f)) for f in META_FIELDS}
    record.update({f: _text(getattr(bundle, f), f) for f in CERT_FIELDS})
    record.update({f: _text(getattr(bundle, f).reveal(), f) for f in KEY_FIELDS})
    return record


def bundle_from_record(record: Mapping[str, Any], *, where: str) -> IdentityBundle:
    """Rebuild a bundle from :func:`bundle_to_record` output.

    ``where`` names the stored copy in errors. Raises OperationError listing missing or invalid
    field *names* (never values) when the record is incomplete.
    """
    missing = [f for f in RECORD_FIELDS if not isinstance(record.get(f), str) or not record[f]]
    if missing:
        raise OperationError(
            f"stored identity at {where} is incomplete: missing {', '.join(missing)}",
            hint="re-run the command that stores identities (it rewrites the copy) "
            "or delete the copy",
        )
    role = record["role"]
    if role not in ROLES:
        raise OperationError(
            f"stored identity at {where} has an unknown role {role!r}",
            hint=f"expected one of {', '.join(ROLES)}",
        )
    return IdentityBundle(
        org=record["org"],
        msp_id=record["msp_id"],
        name=record["name"],
        role=role,
        sign_cert=record["sign_cert"].encode(),
        sign_key=SecretBytes(record["sign_key"].encode()),
        ca_cert=record["ca_cert"].encode(),
        tls_cert=record["tls_cert"].encode(),
        tls_key=SecretBytes(record["tls_key"].encode()),
        tls_ca_cert=record["tls_ca_cert"].encode(),
    )


def _text(value: bytes, field: str) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(
            f"identity field {field} is not PEM text", hint="bundles must hold PEM-encoded material"
        ) from None


def check_segment(value: str, what: str) -> str:
    """Return ``value`` if it is usable as one path segment (no ``/``, not ``.``/``..``, no NUL).

    Raises UsageError otherwise. Used for network, org and identity names in files and Vault paths.
    """
    if (
        not value
        or value in (".", "..")
        or any(c in value for c in "/\\\0")
        or value != value.strip()
    ):
        raise UsageError(
            f"invalid {what} name {value!r} for a secret store path",
            hint="use letters, digits, '.', '-', '_' or '@' (no slashes, no surrounding spaces)",
        )
    return value


# --------------------------------------------------------------------------- factory


def open_store(kind: str, **settings: Any) -> SecretStore:
    """Open a store by kind: ``files`` (``root=``), ``kubernetes`` or ``vault``.

    Settings are validated (``FilesSettings``, ``KubernetesSettings``, ``VaultSettings``); a bad
    kind or setting raises UsageError. Nothing is contacted for ``files``; ``vault`` logs in
    (AppRole) when given ``role_id``/``secret_id`` instead of a token.
    """
    if kind == "files":
        from baas.secrets.files import FilesStore

        return FilesStore.from_settings(**settings)
    if kind == "kubernetes":
        from baas.secrets.kubernetes import KubernetesStore

        return KubernetesStore.from_settings(**settings)
    if kind == "vault":
        from baas.secrets.vault import VaultStore

        return VaultStore.from_settings(**settings)
    raise UsageError(
        f"unknown secret store {kind!r}", hint="choose one of: files, kubernetes, vault"
    )


def validated(model: Any, settings: Mapping[str, Any], kind: str) -> Any:
    """Validate ``settings`` with the pydantic ``model``; errors become UsageError (names only)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(
            f"invalid settings for the {kind} secret store: {problems}",
            hint=f"accepted settings: {', '.join(model.model_fields)}",
        ) from None
