"""Rotating an organisation's TLS CA on a running network, without downtime: the network half
(:mod:`pki.rotation` is the tree's half; ``baas pki rotate-ca FILE ORG --tls`` starts it).

While a rotation runs, the tree trusts both the organisation's new TLS CA and the retiring
one (MSP ``tlscacerts/``, every identity's ``tls/ca.crt``), and the next ``baas up``
converges in a safe order. Each phase is derived from what the network and the tree show now,
never from a record of earlier runs, so an ``up`` interrupted anywhere resumes where it
stopped:

1. **trust** — every channel the organisation belongs to trusts both CAs. The channel step of
   ``up`` makes it so on its own: the desired config is made from the MSP folders, which hold
   both CAs since ``rotate-ca`` (a config update "TLS root CAs 1 → 2"). :func:`ensure` checks
   it before any certificate changes, and runs the channel step again otherwise.
2. **roll** — node by node (plan order): its TLS certificate is re-issued from the new CA
   (new key), the node restarts (the runtime's :data:`Roll`) and is waited for until it
   serves the new certificate and has caught up with the channel, then the next. Then the
   admin's and users' TLS certificates (nothing restarts for them). A node whose new
   certificate is on disk but which still serves the old one (an ``up`` stopped between the
   two) is only restarted.
3. **retire** — once every node of the organisation *serves* a certificate of the new CA
   (checked by a TLS handshake with each): the retiring CA is deleted from the tree
   (:func:`pki.retire_ca`), the channel step pushes the final config (only the new CA), and
   the nodes restart one at a time once more to drop the old CA from their trust bundles.

:func:`decide` is the pure decision (``baas plan`` prints it); :func:`observe` reads the
channels and the served certificates; :func:`ensure` acts. Organisations that run orderers
are refused before anything is written (``baas pki rotate-ca``), as is a rotation on the
Kubernetes target.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fabric_protos.msp import msp_config_pb2

import pki
from baas.errors import OperationError
from baas.fabric import deliver, errors
from baas.fabric.configupdate import Config
from baas.network import config as channel_config
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report
from baas.network.channels import consenters
from baas.plan import ChannelPlan, NodePlan, OrgPlan, pki_org_specs_from_plan
from pki.certs import issued_by
from pki.spec import OrgSpec, PKIOptions

Phase = Literal["trust", "roll", "retire"]
WAIT = 60.0
HANDSHAKE_TIMEOUT = 5.0

Sync = Callable[[], list[Change]]
"""The channel step of ``up``: every channel created, joined and its config in step with the
tree (idempotent)."""
Roll = Callable[[], None]
"""Make every running node run with the tree's current material, restarting the ones whose
material changed one at a time, each healthy before the next (idempotent)."""


# ------------------------------------------------------------------------------ reading


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def channels_of(access: NetworkAccess, org: OrgPlan) -> list[ChannelPlan]:
    """The channels ``org`` belongs to (as a member or as an orderer organisation)."""
    return [c for c in access.plan.channels if org.name in c.members or org.name in c.orderer_orgs]


def channel_tls_roots(config: Config, msp_id: str) -> list[bytes] | None:
    """The TLS root certificates (PEM) organisation ``msp_id``'s MSP has in a channel config
    (its Application or Orderer group), None when the organisation is not in it. Pure."""
    for section in ("Application", "Orderer"):
        group = config.channel_group.groups.get(section)
        if group is None or msp_id not in group.groups:
            continue
        value = group.groups[msp_id].values["MSP"].value
        fabric = msp_config_pb2.FabricMSPConfig.FromString(
            msp_config_pb2.MSPConfig.FromString(value).config
        )
        return list(fabric.tls_root_certs)
    return None


def served_certificate(host: str, port: int, *, timeout: float = HANDSHAKE_TIMEOUT) -> bytes | None:
    """The PEM certificate a TLS server at ``host:port`` presents (not verified: this only
    looks at it), None when nothing answers a TLS handshake there."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])  # gRPC servers may insist on ALPN
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            context.wrap_socket(raw) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError):
        return None
    if not der:
        return None
    return x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)


def served_by_node(access: NetworkAccess, node: NodePlan) -> bytes | None:
    """The certificate ``node`` serves on its client listener (peer or orderer)."""
    endpoint = (
        access.addresses.peer(node) if node.role == "peer" else access.addresses.orderer(node)
    )
    return served_certificate(endpoint.host, endpoint.port)


@dataclass(frozen=True)
class Observation:
    """What the network shows of one rotation: each channel's TLS roots for the organisation
    (PEM; channels it is not in yet are absent) and the certificate each node serves (None:
    not answering)."""

    channel_roots: Mapping[str, Sequence[bytes]]
    served: Mapping[str, bytes | None]


def observe(access: NetworkAccess, org: OrgPlan) -> Observation:
    """Read the channels' configs and every node's served certificate. Reads only; a channel
    that cannot be read (not created yet) is left out."""
    roots: dict[str, Sequence[bytes]] = {}
    for channel in channels_of(access, org):
        try:
            config = channel_config.current_config(access, channel)
        except errors.FabricError:
            continue
        found = channel_tls_roots(config, org.msp_id)
        if found is not None:
            roots[channel.name] = found
    served = {node.fqdn: served_by_node(access, node) for node in [*org.peers, *org.orderers]}
    return Observation(roots, served)


# ------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class RotationDecision:
    """Where one organisation's TLS CA rotation stands and what is left, in order.

    ``untrusting``: channels whose config does not trust the new CA yet; ``reissue``: nodes
    whose certificate on disk is still of the old CA (each then restarts); ``restart``: nodes
    with a new certificate on disk that still serve the old one; ``users``: the admin and
    users still holding an old TLS certificate; ``phase``: the first phase with work left
    (``retire`` once nothing else is).
    """

    org: str
    msp_id: str
    phase: Phase
    untrusting: tuple[str, ...] = ()
    reissue: tuple[str, ...] = ()
    restart: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    silent: tuple[str, ...] = field(default=())
    """Nodes that answered no TLS handshake (down): the retire phase waits for them."""

    def lines(self) -> list[str]:
        """One line per pending step, as ``baas plan`` prints them."""
        head = f"rotate TLS CA of {self.org} ({self.msp_id}), phase {self.phase}"
        out = [head]
        out += [f"{head}: channel {c} must trust both TLS CAs" for c in self.untrusting]
        out += [
            f"{head}: re-issue {n}'s TLS certificate from the new CA, restart it"
            for n in self.reissue
        ]
        out += [f"{head}: restart {n} (it still serves the old certificate)" for n in self.restart]
        if self.users:
            out.append(f"{head}: re-issue the TLS certificates of {', '.join(self.users)}")
        out.append(
            f"{head}: then retire the old TLS CA (dropped from {self.msp_id} on every channel "
            "and from every node's trust bundle)"
        )
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "org": self.org,
            "mspId": self.msp_id,
            "phase": self.phase,
            "untrusting": list(self.untrusting),
            "reissue": list(self.reissue),
            "restart": list(self.restart),
            "users": list(self.users),
            "silent": list(self.silent),
        }


def decide(rotation: pki.OrgRotation, observed: Observation) -> RotationDecision:
    """The rotation's phase and pending steps from the tree (``rotation``) and what the
    network shows (``observed``). Pure."""
    new = _der(rotation.current_pem)
    untrusting = tuple(
        name
        for name, roots in observed.channel_roots.items()
        if new not in {_der(r) for r in roots}
    )
    current = x509.load_pem_x509_certificate(rotation.current_pem)
    pending = set(rotation.pending)
    reissue = tuple(n for n in rotation.nodes if n in pending)
    restart: list[str] = []
    silent: list[str] = []
    for node in rotation.nodes:
        if node in pending:
            continue
        served = observed.served.get(node)
        if served is None:
            silent.append(node)
        elif not issued_by(x509.load_pem_x509_certificate(served), current):
            restart.append(node)
    users = tuple(n for n in rotation.pending if n not in rotation.nodes)
    phase: Phase = (
        "trust" if untrusting else "roll" if reissue or restart or users or silent else "retire"
    )
    return RotationDecision(
        rotation.org,
        rotation.msp_id,
        phase,
        untrusting,
        reissue,
        tuple(restart),
        users,
        tuple(silent),
    )


# ------------------------------------------------------------------------------ acting


def _heights(access: NetworkAccess, org: OrgPlan) -> dict[str, int]:
    """Each of ``org``'s channels' height at its first answering consenter."""
    found: dict[str, int] = {}
    for channel in channels_of(access, org):
        for node in consenters(access.plan, channel):
            try:
                found[channel.name] = deliver.height(
                    access.connections,
                    access.orderer(node),
                    access.admin(access.org_of(node)),
                    channel=channel.name,
                )
                break
            except errors.FabricError:
                continue
    return found


def _wait_serving(
    access: NetworkAccess, node: NodePlan, ca_pem: bytes, heights: Mapping[str, int]
) -> None:
    """Wait until ``node`` serves a certificate of ``ca_pem`` and (a peer) holds at least
    ``heights`` blocks of each channel: it is back and caught up."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    deadline = time.monotonic() + WAIT
    admin = access.admin(access.org_of(node))
    while True:
        served = served_by_node(access, node)
        ok = served is not None and issued_by(x509.load_pem_x509_certificate(served), ca)
        if ok and node.role == "peer":
            for channel, height in heights.items():
                try:
                    have = deliver.height(
                        access.connections,
                        access.peer(node).target,
                        admin,
                        channel=channel,
                        source="peer",
                    )
                except errors.FabricError:
                    have = 0
                ok = ok and have >= height
        if ok:
            return
        if time.monotonic() > deadline:
            raise OperationError(
                f"{node.fqdn} does not serve a certificate of the new TLS CA, caught up, "
                f"{WAIT:.0f}s after its restart",
                hint=f"see its log: `baas logs FILE {node.fqdn}`",
            )
        time.sleep(0.2)


def ensure(
    access: NetworkAccess,
    rotation: pki.OrgRotation,
    *,
    crypto_orgs: Sequence[OrgSpec],
    options: PKIOptions,
    sync: Sync,
    roll: Roll,
    report: Report,
) -> list[Change]:
    """Drive one organisation's rotation to its end (see the module docstring); returns what
    changed. Raises :class:`OperationError` when a channel does not come to trust the new CA,
    or a node does not come back serving a certificate of it (nothing is retired then: the
    next ``up`` resumes). ``crypto_orgs`` and ``options`` are the tree's specs and options
    (:func:`baas.plan.pki_org_specs_from_plan`)."""
    tree = access.crypto.root
    org = access.plan.org(rotation.org)
    changes: list[Change] = []
    decision = decide(rotation, observe(access, org))
    if decision.untrusting:
        changes += sync()
        decision = decide(rotation, observe(access, org))
        if decision.untrusting:
            raise OperationError(
                f"channel(s) {', '.join(decision.untrusting)} do not trust {org.name}'s new "
                "TLS CA after their config update",
                hint="see `baas plan FILE -t local`; then run `baas up` again",
            )
    report(f"TLS CA rotation of {org.name}: every channel trusts both CAs")
    by_name = {n.fqdn: n for n in [*org.peers, *org.orderers]}
    for name in decision.reissue + decision.restart:
        node = by_name[name]
        heights = _heights(access, org)
        if name in decision.reissue:
            pki.reissue_tls(tree, crypto_orgs, name, options=options)
            report(f"TLS CA rotation of {org.name}: {name} re-issued, restarting it")
        roll()
        _wait_serving(access, node, rotation.current_pem, heights)
        changes.append(Change("rotated", name, "TLS certificate of the new TLS CA"))
    for name in decision.users:
        pki.reissue_tls(tree, crypto_orgs, name, options=options)
        changes.append(Change("rotated", name, "TLS certificate of the new TLS CA"))
    spec = next(o for o in crypto_orgs if o.name == org.name)
    state = pki.rotation_state(tree, spec)
    assert state is not None
    final = decide(state, observe(access, org))
    if final.phase != "retire":
        waiting = final.silent + final.restart + final.reissue
        raise OperationError(
            f"{org.name}'s old TLS CA cannot retire yet: {', '.join(waiting)} do not serve a "
            "certificate of the new one",
            hint="start those nodes (or wait for them), then run `baas up` again",
        )
    pki.retire_ca(tree, crypto_orgs, org.name, options=options)
    report(f"TLS CA rotation of {org.name}: every node serves the new CA; retiring the old one")
    changes.append(Change("retired", f"old TLS CA of {org.name}", "trusted no more"))
    changes += sync()
    roll()
    return changes


def ensure_all(
    access: NetworkAccess, *, options: PKIOptions, sync: Sync, roll: Roll, report: Report
) -> list[Change]:
    """:func:`ensure` for every organisation of ``access.plan`` with a rotation running, in
    plan order (one organisation at a time); empty when none runs."""
    specs = pki_org_specs_from_plan(access.plan)
    changes: list[Change] = []
    for rotation in pki.rotations(access.crypto.root, specs):
        changes += ensure(
            access,
            rotation,
            crypto_orgs=specs,
            options=options,
            sync=sync,
            roll=roll,
            report=report,
        )
    return changes


def pending_changes(access: NetworkAccess) -> list[str]:
    """What :func:`ensure_all` would do, read-only: per rotating organisation its phase and
    pending steps (:meth:`RotationDecision.lines`)."""
    specs = pki_org_specs_from_plan(access.plan)
    items: list[str] = []
    for rotation in pki.rotations(access.crypto.root, specs):
        org = access.plan.org(rotation.org)
        items += decide(rotation, observe(access, org)).lines()
    return items
