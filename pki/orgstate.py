"""One organisation's signing state read from the tree: both CAs and their CRLs, and — while a
TLS CA rotation runs (:mod:`pki.rotation`) — the retiring TLS CA, still trusted."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from baas.errors import UsageError
from pki import crl, files
from pki.authority import ensure_authority, load_authority
from pki.certs import read_crl
from pki.keys import private_key_pem, public_der
from pki.layout import AuthorityKind, OrgPaths
from pki.msp import SharedFiles
from pki.profiles import Authority
from pki.results import Change
from pki.spec import OrgSpec, PKIOptions

KINDS: tuple[AuthorityKind, AuthorityKind] = ("ca", "tlsca")


@dataclass(frozen=True)
class OrgContext:
    """An organisation ready to issue: CAs, revoked serials per CA, and the shared MSP files.

    ``authorities`` are the CAs that issue now; ``retiring`` the previous CA of a kind whose
    rotation runs (empty otherwise): certificates it issued still count as current, and it
    stays trusted (MSP ``tlscacerts/``, every identity's ``tls/ca.crt``) until the rotation
    retires it. ``revoked`` holds both CAs' revoked serials.
    """

    spec: OrgSpec
    paths: OrgPaths
    authorities: dict[AuthorityKind, Authority]
    revoked: dict[AuthorityKind, frozenset[int]]
    crl_pems: dict[str, bytes]
    retiring: dict[AuthorityKind, Authority] = field(default_factory=dict)

    @cached_property
    def shared(self) -> SharedFiles:
        """The files every MSP of this organisation holds (computed once)."""
        return SharedFiles.of(
            self.paths,
            ca=self.authorities["ca"],
            tlsca=self.authorities["tlsca"],
            crls=self.crl_pems,
            retiring_tlsca=self.retiring.get("tlsca"),
        )

    @property
    def tls_trust(self) -> bytes:
        """Every identity's ``tls/ca.crt``: the TLS CA certificate, followed by the retiring
        TLS CA's while a rotation runs (a PEM bundle; Fabric and gRPC read every block)."""
        bundle = self.authorities["tlsca"].cert_pem
        retiring = self.retiring.get("tlsca")
        return bundle if retiring is None else bundle + retiring.cert_pem


def open_org(
    root: Path, org: OrgSpec, options: PKIOptions, *, now: datetime, create: bool
) -> tuple[OrgContext, list[Change]]:
    """Read the org's CAs (creating missing ones when ``create``) and CRLs.

    Without ``create`` a missing CA raises :class:`UsageError` (run ``generate`` first).
    The changes list says, per CA, whether it was created or kept. A ``rotate_ca`` that was
    interrupted while promoting the next CA is finished first with ``create``, and refused
    without (nothing may be written then).
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
        if paths.incoming(kind).dir.exists():
            if not create:
                raise UsageError(
                    f"an interrupted `baas pki rotate-ca` left {paths.incoming(kind).dir}",
                    hint="run `baas pki rotate-ca` (or `baas pki generate`) again to finish it",
                )
            changes += finish_promotion(org, paths, kind)
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
    retiring: dict[AuthorityKind, Authority] = {}
    old = load_authority(paths.retiring("tlsca"))
    if old is not None:
        retiring["tlsca"] = old
    revoked: dict[AuthorityKind, frozenset[int]] = {}
    crl_pems: dict[str, bytes] = {}
    for kind in KINDS:
        ca_paths = paths.authority(kind)
        listed = crl.entries(read_crl(ca_paths.crl), authorities[kind].cert)
        data = files.read(ca_paths.crl)
        if listed and data is not None:
            crl_pems[ca_paths.crl_name] = data
        previous = retiring.get(kind)
        if previous is not None:
            old_paths = paths.retiring(kind)
            old_listed = crl.entries(read_crl(old_paths.crl), previous.cert)
            old_data = files.read(old_paths.crl)
            if old_listed and old_data is not None:
                crl_pems[ca_paths.retiring_crl_name] = old_data
            listed = {**old_listed, **listed}
        revoked[kind] = frozenset(listed)
    return OrgContext(org, paths, authorities, revoked, crl_pems, retiring), changes


def finish_promotion(org: OrgSpec, paths: OrgPaths, kind: AuthorityKind) -> list[Change]:
    """Finish a ``rotate_ca`` interrupted after the next CA was written to ``incoming/``:
    copy the current CA to ``retiring/`` (unless that copy is complete already), put the
    next CA in place, then delete ``incoming/``. Each step is an ensure, so finishing again
    after another interruption is safe. An ``incoming/`` folder without a complete CA (the
    first write was torn) is deleted: the rotation had not started.

    Raises :class:`UsageError` when the current CA is missing or damaged.
    """
    incoming, current, old = paths.incoming(kind), paths.authority(kind), paths.retiring(kind)
    try:
        nxt = load_authority(incoming)
    except UsageError:
        nxt = None
    if nxt is None:
        shutil.rmtree(incoming.dir, ignore_errors=True)
        return []
    try:
        kept = load_authority(old)
    except UsageError:
        kept = None
    if kept is None:
        present = load_authority(current)
        if present is None:
            raise UsageError(
                f"the {current.name} CA is missing while its rotation was being prepared",
                hint=f"restore {current.dir} from a backup",
            )
        files.ensure_dir(old.dir, private=True)
        files.ensure_file(old.key, private_key_pem(present.key).reveal(), private=True)
        files.ensure_file(old.cert, present.cert_pem)
        crl_data = files.read(current.crl)
        if crl_data is not None:
            files.ensure_file(old.crl, crl_data)
    elif public_der(kept.cert.public_key()) == public_der(nxt.cert.public_key()):
        raise UsageError(f"{incoming.dir} holds the retiring CA; the tree is damaged")
    files.ensure_file(current.key, private_key_pem(nxt.key).reveal(), private=True)
    files.ensure_file(current.cert, nxt.cert_pem)
    files.remove(current.crl)  # the retiring CA's CRL, kept in retiring/
    shutil.rmtree(incoming.dir)
    return [Change(org.name, current.name, kind, "created", "next CA; the previous one retires")]
