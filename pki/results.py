"""What the PKI operations report: changes made, certificate status, progress."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pki.bundle import IdentityBundle

Item = Literal["ca", "tlsca", "sign", "tls", "msp", "crl"]
Action = Literal["created", "kept", "reissued", "renewed", "updated", "revoked", "retired"]
CertKind = Literal["ca", "tlsca", "sign", "tls"]
CertState = Literal["ok", "expiring", "expired", "revoked", "missing"]

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True)
class Change:
    """One thing an operation looked at.

    ``holder`` is the CA name (``ca.org1.example.com``) or identity name; ``item`` what part
    (``sign`` = MSP signcert+key, ``tls`` = TLS cert+key, ``msp`` = shared MSP files, ``crl``);
    ``detail`` says why (``expired``, ``new key``, ``3 files``…) and never holds secrets.
    """

    org: str
    holder: str
    item: Item
    action: Action
    detail: str = ""


@dataclass
class PKIResult:
    """The outcome of generate / renew / revoke: the crypto root and every change, in order."""

    root: Path
    changes: list[Change] = field(default_factory=list)

    def by_action(self, action: Action) -> list[Change]:
        return [c for c in self.changes if c.action == action]

    @property
    def changed(self) -> bool:
        """True when anything on disk was written."""
        return any(c.action != "kept" for c in self.changes)

    def summary(self) -> dict[str, int]:
        """Count of changes per action (only actions that occurred)."""
        counts: dict[str, int] = {}
        for c in self.changes:
            counts[c.action] = counts.get(c.action, 0) + 1
        return counts


@dataclass(frozen=True)
class CertStatus:
    """One certificate in the tree. ``state`` is ``missing`` (then dates are None) when the
    spec asks for an identity whose certificate is not on disk."""

    org: str
    holder: str
    kind: CertKind
    path: Path
    state: CertState
    subject: str = ""
    serial: str = ""
    not_after: datetime | None = None
    days_left: int | None = None

    @property
    def needs_attention(self) -> bool:
        return self.state != "ok"

    def as_dict(self) -> dict[str, object]:
        return {
            "org": self.org,
            "holder": self.holder,
            "kind": self.kind,
            "path": str(self.path),
            "state": self.state,
            "subject": self.subject,
            "serial": self.serial,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "days_left": self.days_left,
        }


@dataclass(frozen=True)
class Progress:
    """Reported after each step: ``done`` of ``total`` steps, the one just finished."""

    done: int
    total: int
    org: str
    holder: str


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class IdentityIssue:
    """An identity ``generate`` would issue (``reason``: ``no ca yet``, ``sign missing``,
    ``tls expired``, ``files missing``...). Never holds key material."""

    org: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"identity {self.org}/{self.name}: issue ({self.reason})"

    def to_dict(self) -> dict[str, str]:
        return {"org": self.org, "name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class GeneratePreview:
    """What :func:`pki.preview_generate` found: the identities ``generate`` would issue, and the
    bundles of all the others as the tree holds them, keyed ``(org, identity name)``. The
    bundles hold private keys (never printed: :class:`pki.bundle.SecretBytes`)."""

    issues: tuple[IdentityIssue, ...]
    bundles: Mapping[tuple[str, str], IdentityBundle] = field(repr=False)

    @property
    def issued(self) -> frozenset[tuple[str, str]]:
        """``(org, identity name)`` of every identity ``generate`` would issue."""
        return frozenset((i.org, i.name) for i in self.issues)
