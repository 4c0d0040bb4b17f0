"""Who an organisation's CAs issue certificates to, derived from an :class:`OrgSpec`.

Also validates the specs: every name becomes a folder name, so only safe characters pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from baas.errors import UsageError
from pki.spec import IdentityRole, KeyAlgorithm, OrgSpec, PKIOptions

Folder = Literal["peers", "orderers", "users"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
_SAN = re.compile(r"^[A-Za-z0-9*:][A-Za-z0-9._:*-]*$")


@dataclass(frozen=True)
class Identity:
    """One certificate holder: node, admin or user. ``sans`` are its TLS names (nodes only)."""

    name: str
    role: IdentityRole
    folder: Folder
    sans: tuple[str, ...] = ()

    @property
    def is_node(self) -> bool:
        return self.folder != "users"

    def key_algorithm(self, options: PKIOptions, *, tls: bool = False) -> KeyAlgorithm:
        """The algorithm of a new key for this identity's signing (or ``tls``) credential.

        Ed25519 applies to MSP signing identities only: admins (as in cryptogen) and all TLS
        material stay ECDSA P-256, which every gRPC/TLS client supports.
        """
        if tls or self.role == "admin":
            return tls_key_algorithm(options)
        return options.key_algorithm


def tls_key_algorithm(options: PKIOptions) -> KeyAlgorithm:
    """Key algorithm of TLS CAs and TLS leaves: ECDSA P-256 when Ed25519 is asked for."""
    return "P-256" if options.key_algorithm == "Ed25519" else options.key_algorithm


def admin_name(org: OrgSpec) -> str:
    return f"Admin@{org.domain}"


def identities_of(org: OrgSpec) -> list[Identity]:
    """Nodes (in spec order), then the admin, then users: everything the org's CAs issue."""
    result: list[Identity] = []
    for node in org.nodes:
        sans = tuple(dict.fromkeys((node.name, node.short_name, *node.sans)))
        folder: Folder = "peers" if node.role == "peer" else "orderers"
        result.append(Identity(node.name, node.role, folder, sans))
    result.append(Identity(admin_name(org), "admin", "users"))
    result.extend(Identity(f"{user}@{org.domain}", "client", "users") for user in org.users)
    return result


def validate(orgs: Sequence[OrgSpec], options: PKIOptions) -> None:
    """Raise :class:`UsageError` for unsafe or duplicate names and impossible options."""
    if options.ca_validity_days <= 0 or options.leaf_validity_days <= 0:
        raise UsageError("certificate validity must be at least one day")
    if options.key_algorithm not in ("P-256", "P-384", "Ed25519"):
        raise UsageError(
            f"unsupported key algorithm {options.key_algorithm!r}",
            hint="use P-256, P-384 or Ed25519",
        )
    seen_domains: set[str] = set()
    for org in orgs:
        _check_name(org.domain, f"organisation {org.name!r} domain")
        if org.domain in seen_domains:
            raise UsageError(f"two organisations use the domain {org.domain!r}")
        seen_domains.add(org.domain)
        names: set[str] = set()
        for ident in identities_of(org):
            _check_name(ident.name, f"identity in organisation {org.name!r}")
            if ident.name.lower() in names:
                raise UsageError(
                    f"organisation {org.name!r} lists {ident.name!r} twice",
                    hint="node and user names must be unique; 'Admin' is reserved",
                )
            names.add(ident.name.lower())
            for san in ident.sans:
                if not _SAN.match(san):
                    raise UsageError(f"{ident.name}: {san!r} is not a DNS name or IP address")


def _check_name(name: str, what: str) -> None:
    if not _SAFE.match(name) or ".." in name:
        raise UsageError(
            f"{what} {name!r} is not usable as a certificate and folder name",
            hint="use letters, digits, '.', '-', '_' and '@' only",
        )


def find_identity(orgs: Sequence[OrgSpec], name: str) -> tuple[OrgSpec, Identity]:
    """The org and identity called ``name`` (case-insensitive); UsageError when unknown."""
    for org in orgs:
        for ident in identities_of(org):
            if ident.name.lower() == name.lower():
                return org, ident
    known = [i.name for o in orgs for i in identities_of(o)]
    sample = ", ".join(known[:6]) + (" …" if len(known) > 6 else "")
    raise UsageError(f"no identity named {name!r}", hint=f"known identities: {sample}")
