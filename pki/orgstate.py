"""One organisation's signing state read from the tree: both CAs and their CRLs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from baas.errors import UsageError
from pki import crl, files
from pki.authority import ensure_authority, load_authority
from pki.certs import read_crl
from pki.layout import AuthorityKind, OrgPaths
from pki.msp import SharedFiles
from pki.profiles import Authority
from pki.results import Change
from pki.spec import OrgSpec, PKIOptions

KINDS: tuple[AuthorityKind, AuthorityKind] = ("ca", "tlsca")


@dataclass(frozen=True)
class OrgContext:
    """An organisation ready to issue: CAs, revoked serials per CA, and the shared MSP files."""

    spec: OrgSpec
    paths: OrgPaths
    authorities: dict[AuthorityKind, Authority]
    revoked: dict[AuthorityKind, frozenset[int]]
    crl_pems: dict[str, bytes]

    @cached_property
    def shared(self) -> SharedFiles:
        """The files every MSP of this organisation holds (computed once)."""
        return SharedFiles.of(
            self.paths,
            ca=self.authorities["ca"],
            tlsca=self.authorities["tlsca"],
            crls=self.crl_pems,
        )


def open_org(
    root: Path, org: OrgSpec, options: PKIOptions, *, now: datetime, create: bool
) -> tuple[OrgContext, list[Change]]:
    """Read the org's CAs (creating missing ones when ``create``) and CRLs.

    Without ``create`` a missing CA raises :class:`UsageError` (run ``generate`` first).
    The changes list says, per CA, whether it was created or kept.
    """
    paths = OrgPaths.of(root, org)
    moved = OrgPaths.elsewhere(root, org)
    if create and not paths.dir.exists() and moved.authority("ca").cert.exists():
        raise UsageError(
            f"organisation {org.name!r} has its CAs in {moved.dir}, but now belongs in "
            f"{paths.dir} (it {'now runs' if org.has_peers else 'no longer runs'} peers)",
            hint=f"move the folder (mv {moved.dir} {paths.dir}) to keep its CAs and identities",
        )
    authorities: dict[AuthorityKind, Authority] = {}
    changes: list[Change] = []
    for kind in KINDS:
        ca_paths = paths.authority(kind)
        if create:
            authority, created = ensure_authority(
                ca_paths, domain=org.domain, options=options, now=now
            )
            changes.append(Change(org.name, ca_paths.name, kind, "created" if created else "kept"))
        else:
            loaded = load_authority(ca_paths)
            if loaded is None:
                raise UsageError(
                    f"organisation {org.name!r} has no {kind} under {paths.dir}",
                    hint="run `baas pki generate` first",
                )
            authority = loaded
        authorities[kind] = authority
    revoked: dict[AuthorityKind, frozenset[int]] = {}
    crl_pems: dict[str, bytes] = {}
    for kind in KINDS:
        ca_paths = paths.authority(kind)
        listed = crl.entries(read_crl(ca_paths.crl), authorities[kind].cert)
        revoked[kind] = frozenset(listed)
        data = files.read(ca_paths.crl)
        if listed and data is not None:
            crl_pems[ca_paths.crl_name] = data
    return OrgContext(org, paths, authorities, revoked, crl_pems), changes
