"""A network's crypto material as services: ``pki_generate``, ``pki_status``, ``pki_renew``,
``pki_revoke``, ``pki_rotate_ca``.

Each takes a loaded topology, builds the plan once, derives what the PKI must issue
(:func:`baas.plan.pki_org_specs_from_plan`) and works on the crypto folder ``out`` (default
``$BAAS_HOME/networks/<name>/crypto``). Results wrap :mod:`pki`'s own (:class:`pki.PKIResult`,
:class:`pki.CertStatus`) and give them a camelCase ``to_dict()``; none of them ever holds key
material.

Errors: :class:`baas.errors.UsageError` for an Ed25519 network on a Fabric release that cannot
run it, a missing tree (status, renew, revoke), a bad renewal selector, and whatever :mod:`pki`
raises (an unknown identity, a damaged CA).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pki
import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.home import crypto_dir, ensure_home
from baas.runtimes import Report
from baas.services.results import Outcome
from pki.results import EXPIRY_WARNING_DAYS
from pki.spec import OrgSpec, PKIOptions

__all__ = [
    "PKIChanges",
    "PKIStatus",
    "pki_generate",
    "pki_renew",
    "pki_revoke",
    "pki_rotate_ca",
    "pki_status",
]


CERTIFICATE_ITEMS = frozenset({"ca", "tlsca", "sign", "tls"})
"""The changes that are certificates: a CA, a TLS CA, an identity's signing or TLS pair."""
CERTIFICATE_ACTIONS: tuple[str, ...] = ("created", "reissued", "renewed", "revoked", "kept")
"""What can happen to a certificate, in the order counts are reported."""


def _quiet(_: str) -> None:
    return None


def _change_dict(change: pki.Change) -> dict[str, str]:
    return {
        "org": change.org,
        "holder": change.holder,
        "item": change.item,
        "action": change.action,
        "detail": change.detail,
    }


def _cert_dict(cert: pki.CertStatus) -> dict[str, Any]:
    return {
        "org": cert.org,
        "holder": cert.holder,
        "kind": cert.kind,
        "path": str(cert.path),
        "state": cert.state,
        "subject": cert.subject,
        "serial": cert.serial,
        "notAfter": cert.not_after.isoformat() if cert.not_after else None,
        "daysLeft": cert.days_left,
    }


@dataclass(frozen=True)
class PKIChanges:
    """What ``pki_generate``, ``pki_renew`` or ``pki_revoke`` did: :class:`pki.PKIResult` (the
    crypto ``root`` and every change in spec order, ``kept`` items included)."""

    result: pki.PKIResult

    @property
    def root(self) -> Path:
        return self.result.root

    @property
    def changes(self) -> tuple[pki.Change, ...]:
        return tuple(self.result.changes)

    @property
    def changed(self) -> bool:
        """True when anything on disk was written."""
        return self.result.changed

    @property
    def summary(self) -> dict[str, int]:
        """Count of changes per action, only actions that occurred (``{"kept": 30}``); MSP
        folder and CRL writes included."""
        return self.result.summary()

    @property
    def certificates(self) -> dict[str, int]:
        """Certificates looked at, per action of :data:`CERTIFICATE_ACTIONS` (every action,
        zeros included). MSP folders and CRLs are not certificates (see :attr:`msp_updates`),
        so for ``generate`` the counts add up to the network's certificates on every run:
        30 created, then 30 kept, then 32 (2 created, 30 kept) after adding a peer."""
        counts = dict.fromkeys(CERTIFICATE_ACTIONS, 0)
        for change in self.changes:
            if change.item in CERTIFICATE_ITEMS:
                counts[change.action] = counts.get(change.action, 0) + 1
        return counts

    @property
    def msp_updates(self) -> int:
        """How many times shared MSP files (CA certificates, ``config.yaml``, published CRLs)
        were written into an organisation's or identity's MSP folders."""
        return sum(1 for c in self.changes if c.item not in CERTIFICATE_ITEMS)

    def counts_line(self, *, always: tuple[str, ...] = ()) -> str:
        """``30 certificates: 30 created, 0 kept`` (actions that occurred, plus ``always``),
        then ``; 3 MSP folder updates`` when there were any."""
        counts = self.certificates
        parts = [f"{n} {a}" for a, n in counts.items() if n or a in always]
        total = sum(counts.values())
        line = f"{total} certificate{'' if total == 1 else 's'}: {', '.join(parts) or 'none'}"
        if self.msp_updates:
            line += f"; {self.msp_updates} MSP folder update{'' if self.msp_updates == 1 else 's'}"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "summary": self.summary,
            "certificates": {"total": sum(self.certificates.values()), **self.certificates},
            "mspUpdates": self.msp_updates,
            "changes": [_change_dict(c) for c in self.changes],
        }


@dataclass(frozen=True)
class PKIStatus:
    """Every certificate of the tree at ``root`` in spec order (:class:`pki.CertStatus`), with
    the window (``warn_days``) under which a certificate counts as ``expiring``."""

    root: Path
    certificates: tuple[pki.CertStatus, ...]
    warn_days: int = EXPIRY_WARNING_DAYS

    @property
    def attention(self) -> tuple[pki.CertStatus, ...]:
        """The certificates that are not ``ok`` (expiring, expired, revoked or missing)."""
        return tuple(c for c in self.certificates if c.needs_attention)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "warnDays": self.warn_days,
            "total": len(self.certificates),
            "needAttention": len(self.attention),
            "certificates": [_cert_dict(c) for c in self.certificates],
        }


@dataclass(frozen=True)
class _Inputs:
    """What every PKI service works from: the crypto ``root``, the org specs and options."""

    root: Path
    orgs: list[OrgSpec]
    options: PKIOptions


def _inputs(loaded: topology.LoadedTopology, out: Path | None) -> _Inputs:
    """The plan-derived PKI inputs of ``loaded``, the plan built once. Raises UsageError for an
    Ed25519 network that is not on Fabric 3.1 (validation refuses it too; this guards
    topologies assembled without :func:`topology.load`)."""
    network = loaded.network
    plan = planning.build(network)
    if plan.pki.key_algorithm == "Ed25519" and network.spec.fabric.version != "3.1":
        raise UsageError(
            "Ed25519 keys need Fabric 3.1",
            hint='set spec.fabric.version to "3.1" or spec.pki.keyAlgorithm to P-256',
        )
    root = out if out is not None else crypto_dir(network.metadata.name)
    return _Inputs(root, planning.pki_org_specs_from_plan(plan), plan.pki)


def _require_tree(root: Path) -> None:
    if not root.is_dir():
        raise UsageError(f"no crypto material at {root}", hint="run `baas pki generate FILE` first")


def pki_generate(
    loaded: topology.LoadedTopology,
    *,
    out: Path | None = None,
    report: Report = _quiet,
    progress: pki.ProgressCallback | None = None,
) -> Outcome[PKIChanges]:
    """Create the CAs and identities the network lacks; keep everything still valid byte for
    byte (idempotent: a second call changes nothing and reports only ``kept``).

    ``out`` is the crypto folder (created when missing). ``report`` gets one line when done
    (``pki <root>: 30 certificates: 30 created, 0 kept; 3 MSP folder updates``, see
    :meth:`PKIChanges.counts_line`); ``progress`` sees each issuing step
    (:class:`pki.Progress`). Organisations finished before an error keep their material.
    """
    inputs = _inputs(loaded, out)
    if out is None:
        ensure_home()  # the tree goes under $BAAS_HOME: private before the first key lands
    result = pki.generate(inputs.root, inputs.orgs, inputs.options, progress=progress)
    changes = PKIChanges(result)
    report(f"pki {inputs.root}: {changes.counts_line(always=('created', 'kept'))}")
    return Outcome("PKIGenerateResult", changes, loaded.warnings)


def pki_status(
    loaded: topology.LoadedTopology,
    *,
    out: Path | None = None,
    warn_days: int = EXPIRY_WARNING_DAYS,
) -> Outcome[PKIStatus]:
    """Every CA, signing and TLS certificate with its expiry; read-only. A certificate with
    fewer than ``warn_days`` days left is ``expiring``; one the spec asks for but the tree
    lacks is ``missing``. Raises UsageError when there is no tree at all."""
    inputs = _inputs(loaded, out)
    _require_tree(inputs.root)
    rows = pki.status(inputs.root, inputs.orgs, warn_days=warn_days)
    return Outcome("PKIStatus", PKIStatus(inputs.root, tuple(rows), warn_days), loaded.warnings)


def pki_renew(
    loaded: topology.LoadedTopology,
    *,
    out: Path | None = None,
    identity: str | None = None,
    expiring_within: int | None = None,
    new_key: bool = False,
) -> Outcome[PKIChanges]:
    """Re-issue leaf certificates: both of ``identity``'s, or every one with fewer than
    ``expiring_within`` days left — exactly one of the two. Keys are kept unless ``new_key``
    (a revoked certificate always gets a new one). Nothing to renew gives an empty result.

    Raises UsageError for a bad selector (checked first), a missing tree, an unknown identity
    or one with nothing on disk.
    """
    if (identity is None) == (expiring_within is None):
        raise UsageError("give exactly one of an identity name or an expiry window (days)")
    inputs = _inputs(loaded, out)
    _require_tree(inputs.root)
    result = pki.renew(
        inputs.root,
        inputs.orgs,
        identity=identity,
        expiring_within=expiring_within,
        new_key=new_key,
        options=inputs.options,
    )
    return Outcome("PKIRenewResult", PKIChanges(result), loaded.warnings)


def pki_revoke(
    loaded: topology.LoadedTopology, name: str, *, out: Path | None = None
) -> Outcome[PKIChanges]:
    """Revoke identity ``name``'s current signing and TLS certificates and publish the CRLs in
    every MSP of its org. Idempotent: an already revoked serial is reported ``kept``. Raises
    UsageError for a missing tree, an unknown identity or one without certificates."""
    inputs = _inputs(loaded, out)
    _require_tree(inputs.root)
    result = pki.revoke(inputs.root, inputs.orgs, name, options=inputs.options)
    return Outcome("PKIRevokeResult", PKIChanges(result), loaded.warnings)


def pki_rotate_ca(
    loaded: topology.LoadedTopology, org: str, *, tls: bool, out: Path | None = None
) -> Outcome[PKIChanges]:
    """Start rotating organisation ``org``'s TLS CA (``tls`` must be True: the signing CA does
    not rotate): a next TLS CA issues from now on while the current one stays trusted beside
    it (:func:`pki.rotate_ca`). Writes the tree only; the next ``baas up`` (local runtime)
    converges the network in three phases — every channel trusts both CAs, each node gets a
    certificate of the next CA and restarts one at a time, then the old CA is dropped from
    the MSPs and the channels (:mod:`baas.network.tlsrotation`). Idempotent while the
    rotation runs (``kept``).

    Raises UsageError (nothing written) without ``tls``, for an unknown organisation, a
    missing tree, and an organisation that runs orderers: their admin and cluster TLS trust
    is read at start-up and the local runtime does not roll orderers through it yet.
    """
    if not tls:
        raise UsageError(
            "rotating an organisation's signing (enrollment) CA is not supported",
            hint="add --tls to rotate its TLS CA; renew signing certificates with `baas pki renew`",
        )
    inputs = _inputs(loaded, out)
    _require_tree(inputs.root)
    spec = next((o for o in inputs.orgs if o.name == org), None)
    if spec is None:
        raise UsageError(
            f"no organisation named {org!r}",
            hint="choose one of: " + ", ".join(o.name for o in inputs.orgs),
        )
    if any(n.role == "orderer" for n in spec.nodes):
        raise UsageError(
            f"organisation {org!r} runs orderers; rotating the TLS CA of an orderer "
            "organisation is not supported yet (orderers read their admin and cluster TLS "
            "trust only at start-up)",
            hint="rotate the TLS CAs of peer organisations; for orderers, renew their TLS "
            "certificates with `baas pki renew --identity NAME --new-key`",
        )
    result = pki.rotate_ca(inputs.root, inputs.orgs, org, options=inputs.options)
    return Outcome("PKIRotateResult", PKIChanges(result), loaded.warnings)
