"""Chaincode as ensures over the lifecycle: installed on every serving peer, approved by every
member organisation (each with its own admin, on its own peer), committed, initialised.

The definition baas wants is decided from the plan and what the channel already has
(:func:`decide`): the committed definition if it has the same terms, else the next sequence —
so a changed version, ``initRequired``, endorsement policy or collection set upgrades the
chaincode, and an unchanged one is left alone. :func:`ensure_chaincode` acts on that decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from baas.fabric import discovery, errors, lifecycle, policies, transactions
from baas.fabric.peer import Peer
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report, retrying
from baas.plan import ChaincodePlan, NodePlan, OrgPlan

NODE_TIMEOUT = 60.0
T = TypeVar("T")
OnDefined = Callable[[ChaincodePlan], None]
"""Called once the definition the plan asks for is the one every member peer has committed
(before Init): where a runtime switches its servers to the new packages."""


@dataclass(frozen=True)
class Package:
    """One organisation's package of a chaincode: its bytes and package ID."""

    data: bytes
    package_id: str


@dataclass(frozen=True)
class Decision:
    """What the channel should hold for one chaincode, and whether it already does."""

    chaincode: str
    channel: str
    definition: lifecycle.Definition
    committed: lifecycle.Definition | None

    @property
    def is_committed(self) -> bool:
        return self.committed is not None and self.committed.sequence == self.definition.sequence

    @property
    def is_upgrade(self) -> bool:
        return self.committed is not None and not self.is_committed


def member_orgs(access: NetworkAccess, cc: ChaincodePlan) -> list[OrgPlan]:
    channel = next(c for c in access.plan.channels if c.name == cc.channel)
    return [access.plan.org(name) for name in channel.members]


def _endorser(org: OrgPlan) -> NodePlan:
    return org.anchor_peers[0]


def wanted(cc: ChaincodePlan, *, sequence: int) -> lifecycle.Definition:
    """The definition the plan asks for, at ``sequence`` (its collections included, so a
    changed collection set is another definition). Raises ``ValueError`` for a plan whose
    ``collections:`` file was never read (:attr:`ChaincodePlan.collections_file`)."""
    if cc.collections_file is not None:
        raise ValueError(
            f"chaincode {cc.name}: the collections file {cc.collections_file!r} was not read "
            "(the topology was loaded without its folder)"
        )
    return lifecycle.Definition(
        name=cc.name,
        version=cc.version,
        sequence=sequence,
        validation_parameter=policies.validation_parameter(
            cc.endorsement, is_reference=cc.endorsement_is_default
        ),
        init_required=cc.init_required,
        collections=policies.collection_package(cc.collections),
    )


def decide(access: NetworkAccess, cc: ChaincodePlan) -> Decision:
    """Read the committed definition and decide the one to hold (read-only)."""
    org = member_orgs(access, cc)[0]
    peer = access.peer(_endorser(org))
    admin = access.admin(org)
    current = retrying(
        lambda: lifecycle.committed(peer, admin, channel=cc.channel, name=cc.name),
        timeout=NODE_TIMEOUT,
    )
    target = wanted(cc, sequence=1)
    if current is not None:
        same = target.same_terms(current)
        target = wanted(cc, sequence=current.sequence if same else current.sequence + 1)
    return Decision(cc.name, cc.channel, target, current)


def _ensure_installed(
    peer: Peer, access: NetworkAccess, org: OrgPlan, pkg: Package
) -> list[Change]:
    admin = access.admin(org)
    present = retrying(lambda: lifecycle.installed(peer, admin), timeout=NODE_TIMEOUT)
    if pkg.package_id in present:
        return []
    installer = access.signer(org, purpose=f"installing {pkg.package_id} on {peer.target.name}")
    lifecycle.install(peer, installer, pkg.data)
    return [Change("installed", peer.target.name, pkg.package_id)]


def _to_approve(
    access: NetworkAccess,
    cc: ChaincodePlan,
    orgs: list[OrgPlan],
    packages: Mapping[str, Package],
    decision: Decision,
) -> list[OrgPlan]:
    """The member organisations whose approval of ``decision``'s definition is missing
    (read-only). For a committed definition: those whose approval names another package than
    their own (an organisation that joined after the commit, or whose package changed)."""
    definition = decision.definition
    if decision.is_committed:
        approved = _approved_packages(access, cc, orgs, sequence=definition.sequence)
        return [org for org in orgs if approved[org.name] != packages[org.name].package_id]
    readiness = _readiness(access, cc, orgs, definition)
    return [org for org in orgs if not readiness.get(org.msp_id, False)]


def _approved_packages(
    access: NetworkAccess, cc: ChaincodePlan, orgs: list[OrgPlan], *, sequence: int
) -> dict[str, str | None]:
    """Per organisation (by name) the package ID it approved for ``cc`` at ``sequence``
    (``None``: not approved), read on its own peer once that peer has caught up."""
    return {
        org.name: _caught_up(
            lambda org=org: lifecycle.approved_package(  # type: ignore[misc]
                access.peer(_endorser(org)),
                access.admin(org),
                channel=cc.channel,
                name=cc.name,
                sequence=sequence,
            )
        )
        for org in orgs
    }


def _readiness(
    access: NetworkAccess,
    cc: ChaincodePlan,
    orgs: list[OrgPlan],
    definition: lifecycle.Definition,
) -> dict[str, bool]:
    """The channel's commit readiness of ``definition`` (MSP ID -> approved), read on the
    first organisation's peer."""
    first = orgs[0]
    return lifecycle.commit_readiness(
        access.peer(_endorser(first)),
        access.admin(first),
        channel=cc.channel,
        definition=definition,
    )


def _caught_up(read: Callable[[], T]) -> T:
    """``read()`` on an organisation's own peer, which may still be catching up with the config
    block that made the organisation a member (a peer that has just joined answers "creator
    org unknown" until it has): retried for up to :data:`NODE_TIMEOUT` seconds, any other
    error raised at once."""
    deadline = time.monotonic() + NODE_TIMEOUT
    while True:
        try:
            return read()
        except errors.FabricError as exc:
            if "creator org unknown" not in exc.message or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def _submitter(access: NetworkAccess, cc: ChaincodePlan, orgs: list[OrgPlan]) -> OrgPlan:
    """The member organisation whose admin submits the commit and Init: the first one
    :attr:`NetworkAccess.signers` allows."""
    allowed = [org for org in orgs if access.may_sign(org)]
    if not allowed:
        access.require_signers(orgs[:1], purpose=f"committing chaincode {cc.name}")
    return allowed[0]


@dataclass(frozen=True)
class Approvals:
    """Who approves ``decision``'s definition in this run, decided before anything is done.

    ``acting``: the member organisations baas approves for now (and whose peers it installs
    on); ``approved``: those whose approval the channel will hold once ``acting`` have
    approved; ``waiting``: members that have not approved and will not in this run.
    ``can_commit``: the definition is not committed yet and ``approved`` satisfies the
    channel's LifecycleEndorsement (``MAJORITY Endorsement``: more than half the channel's
    organisations)."""

    decision: Decision
    members: tuple[OrgPlan, ...]
    acting: tuple[OrgPlan, ...]
    approved: tuple[OrgPlan, ...]
    waiting: tuple[OrgPlan, ...]

    @property
    def can_commit(self) -> bool:
        return not self.decision.is_committed and 2 * len(self.approved) > len(self.members)


def plan_approvals(
    access: NetworkAccess, cc: ChaincodePlan, packages: Mapping[str, Package]
) -> Approvals:
    """Decide who approves ``cc``'s wanted definition in this run (read-only).

    ``approval: auto``: every member whose approval is missing; one that ``access.signers``
    does not allow raises :class:`~baas.errors.SigningRefused` (nothing done yet).
    ``approval: manual``: only the members that asked — the organisations of an explicit
    ``access.signers`` (``None``, every key at hand, is no one's consent: ``up`` approves a
    manual chaincode for nobody)."""
    orgs = member_orgs(access, cc)
    decision = decide(access, cc)
    missing = _to_approve(access, cc, orgs, packages, decision)
    if cc.approval == "manual":
        acting = [o for o in missing if access.signers is not None and access.may_sign(o)]
    else:
        acting = missing
        access.require_signers(
            acting,
            purpose=f"approving chaincode {cc.name} {cc.version} "
            f"(sequence {decision.definition.sequence}) on {cc.channel}",
        )
    waiting = [o for o in missing if o not in acting]
    return Approvals(
        decision=decision,
        members=tuple(orgs),
        acting=tuple(acting),
        approved=tuple(o for o in orgs if o not in waiting),
        waiting=tuple(waiting),
    )


@dataclass(frozen=True)
class ApprovalState:
    """Where the definition the plan wants for a chaincode stands (read-only): its version
    and sequence, whether it is committed, and which member organisations (MSP IDs) have
    approved it and which have not. ``approval`` is the chaincode's mode."""

    chaincode: str
    channel: str
    version: str
    sequence: int
    committed: bool
    approval: str
    approved: tuple[str, ...]
    waiting: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "chaincode": self.chaincode,
            "channel": self.channel,
            "version": self.version,
            "sequence": self.sequence,
            "committed": self.committed,
            "approval": self.approval,
            "approved": list(self.approved),
            "waiting": list(self.waiting),
        }


def approval_state(access: NetworkAccess, cc: ChaincodePlan) -> ApprovalState:
    """Read who has approved the definition the plan wants for ``cc``: for a pending one the
    channel's commit readiness; for a committed one each member's approval at its sequence
    (a member that joined afterwards and has not approved is waiting). Reads only, signed by
    each organisation's own admin on its own peer."""
    decision = decide(access, cc)
    definition = decision.definition
    orgs = member_orgs(access, cc)
    if decision.is_committed:
        approved = _approved_packages(access, cc, orgs, sequence=definition.sequence)
        done = {org.msp_id: approved[org.name] is not None for org in orgs}
    else:
        readiness = _readiness(access, cc, orgs, definition)
        done = {org.msp_id: readiness.get(org.msp_id, False) for org in orgs}
    return ApprovalState(
        chaincode=cc.name,
        channel=cc.channel,
        version=cc.version,
        sequence=definition.sequence,
        committed=decision.is_committed,
        approval=cc.approval,
        approved=tuple(m for m, ok in done.items() if ok),
        waiting=tuple(m for m, ok in done.items() if not ok),
    )


def ensure_chaincode(
    access: NetworkAccess,
    cc: ChaincodePlan,
    *,
    packages: Mapping[str, Package],
    report: Report,
    on_defined: OnDefined | None = None,
    before_commit: OnDefined | None = None,
) -> list[Change]:
    """Install, approve, commit and (when required) initialise ``cc``; ``packages`` maps each
    member organisation's name to its own package. Returns what changed. ``before_commit(cc)``
    runs just before a commit (never when nothing is committed): a runtime that started the
    new version's servers beside the running ones waits there until they answer, so the
    peers find them the moment the definition switches. ``on_defined(cc)``
    runs once the wanted definition is committed on every member peer (at once when it already
    was), before Init: a runtime that kept the previous servers serving until then switches
    them there, so that a failure before the commit leaves the previous version in use.

    Who approves is decided first (:func:`plan_approvals`): with ``approval: auto`` an
    organisation that must approve but is not one of ``access.signers`` raises
    :class:`~baas.errors.SigningRefused` before anything is installed or approved. With
    ``approval: manual`` baas installs and approves only for the organisations that asked;
    while the approvals fall short of the channel's LifecycleEndorsement it commits nothing,
    returns an ``awaiting`` change naming who has approved and who has not, never calls
    ``on_defined``, and the committed definition keeps serving."""
    approvals = plan_approvals(access, cc, packages)
    decision = approvals.decision
    definition = decision.definition
    orgs = list(approvals.members)
    if approvals.can_commit:
        _submitter(access, cc, orgs)  # no member may commit: refused before anything is done
    changes = _install_and_approve(access, cc, approvals, packages=packages, report=report)
    if decision.is_committed:
        # A run stopped between commit and Init converges here: Init is retried, and
        # "already initialized" is the answer of every later run. A caller that may sign for
        # no member leaves the retry to those who may.
        retry = cc.init_required and any(access.may_sign(org) for org in orgs)
        if on_defined is not None:
            on_defined(cc)
        return changes + (_initialise(access, cc, list(approvals.approved)) if retry else [])
    if not approvals.can_commit:
        detail = _awaiting(cc, approvals)
        report(f"chaincode {cc.name} {detail}")
        return [*changes, Change("awaiting", cc.name, detail)]
    endorsers = [access.peer(_endorser(org)) for org in orgs]
    step = f"chaincode {cc.name} {cc.version} (sequence {definition.sequence})"
    _wait_ready_everywhere(access, cc, orgs, definition, approved=approvals.approved)
    report(f"{step}: every peer sees the approvals")
    if before_commit is not None:
        before_commit(cc)
    report(f"{step}: committing")
    lifecycle.commit(
        endorsers,
        access.admin(_submitter(access, cc, orgs)),
        channel=cc.channel,
        definition=definition,
    )
    _wait_defined_everywhere(access, cc, orgs, definition.sequence)
    report(f"{step}: defined on every peer, switching servers")
    if on_defined is not None:
        on_defined(cc)
    report(f"{step}: waiting until every peer can plan an endorsement")
    _wait_endorsable_everywhere(access, cc, orgs)
    verb = "upgraded" if decision.is_upgrade else "committed"
    changes.append(
        Change(verb, cc.name, f"{cc.version}, sequence {definition.sequence} on {cc.channel}")
    )
    if cc.init_required:
        changes += _initialise(access, cc, list(approvals.approved))
    return changes


def _awaiting(cc: ChaincodePlan, approvals: Approvals) -> str:
    sequence = approvals.decision.definition.sequence
    approved = ", ".join(o.msp_id for o in approvals.approved) or "nobody"
    waiting = ", ".join(o.msp_id for o in approvals.waiting)
    return (
        f"{cc.version} (sequence {sequence}) on {cc.channel}: approved by {approved}; "
        f"awaiting {waiting}"
    )


def _install_and_approve(
    access: NetworkAccess,
    cc: ChaincodePlan,
    approvals: Approvals,
    *,
    packages: Mapping[str, Package],
    report: Report,
) -> list[Change]:
    """Each organisation's package on its peers, then the approvals of ``approvals.acting``.
    ``auto`` installs on every member's peers (a package missing from a peer is installed
    even when its organisation's approval stands); ``manual`` only on the acting ones'."""
    definition = approvals.decision.definition
    installing = approvals.members if cc.approval != "manual" else approvals.acting
    peers = [(org, node) for org in installing for node in org.peers]
    changes: list[Change] = []
    report(
        f"chaincode {cc.name} {cc.version} (sequence {definition.sequence}): "
        f"checking the package on {len(peers)} peer(s)"
    )
    with ThreadPoolExecutor(max_workers=max(1, min(len(peers), 16))) as pool:
        for found in pool.map(
            lambda item: _ensure_installed(
                access.peer(item[1]), access, item[0], packages[item[0].name]
            ),
            peers,
        ):
            changes += found
        if approvals.acting:
            report(
                f"chaincode {cc.name} {cc.version} (sequence {definition.sequence}): "
                f"approving for {', '.join(o.msp_id for o in approvals.acting)}"
            )
        for org, _ in zip(
            approvals.acting,
            pool.map(
                lambda org: lifecycle.approve(
                    access.peer(_endorser(org)),
                    access.admin(org),
                    channel=cc.channel,
                    definition=definition,
                    package_id=packages[org.name].package_id,
                ),
                approvals.acting,
            ),
            strict=True,
        ):
            committed = " (committed)" if approvals.decision.is_committed else ""
            changes.append(Change("approved", cc.name, f"{org.msp_id} on {cc.channel}{committed}"))
    return changes


def _wait_ready_everywhere(
    access: NetworkAccess,
    cc: ChaincodePlan,
    orgs: list[OrgPlan],
    definition: lifecycle.Definition,
    *,
    approved: tuple[OrgPlan, ...],
) -> None:
    """Wait (bounded) until every endorsing peer (one per organisation of ``orgs``) sees the
    approval of ``definition`` by every organisation of ``approved``. Each approval was
    awaited on its own organisation's peer only; a commit endorsed by a peer still missing
    another's approval block would simulate against a different state, and the endorsements
    would not match."""
    deadline = time.monotonic() + NODE_TIMEOUT
    pending = list(orgs)
    wanted_ids = {org.msp_id for org in approved}
    while pending:
        org = pending[0]
        try:
            readiness = lifecycle.commit_readiness(
                access.peer(_endorser(org)),
                access.admin(org),
                channel=cc.channel,
                definition=definition,
            )
        except errors.FabricError:
            readiness = {}
        missing = sorted(m for m in wanted_ids if not readiness.get(m, False))
        if not missing:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise errors.FabricError(
                f"{_endorser(org).fqdn} does not see the approval of {cc.name} sequence "
                f"{definition.sequence} by {', '.join(missing)} on {cc.channel} "
                f"after {NODE_TIMEOUT:.0f}s",
                hint=f"is it connected to the orderers? `baas logs FILE {_endorser(org).fqdn}`",
            )
        time.sleep(0.05)


def _wait_defined_everywhere(
    access: NetworkAccess, cc: ChaincodePlan, orgs: list[OrgPlan], sequence: int
) -> None:
    """Wait (bounded) until every member peer has committed the definition at ``sequence``:
    the commit was awaited on one peer only, and a peer still a block behind would endorse
    against the previous definition — or not at all."""
    deadline = time.monotonic() + NODE_TIMEOUT
    pending = [(org, node) for org in orgs for node in org.peers]
    while pending:
        org, node = pending[0]
        try:
            found = lifecycle.committed(
                access.peer(node), access.admin(org), channel=cc.channel, name=cc.name
            )
        except errors.FabricError:
            found = None
        if found is not None and found.sequence >= sequence:
            pending.pop(0)
            continue
        if time.monotonic() > deadline:
            raise errors.FabricError(
                f"{node.fqdn} has not committed {cc.name} sequence {sequence} on {cc.channel} "
                f"after {NODE_TIMEOUT:.0f}s",
                hint=f"is it connected to the orderers? `baas logs FILE {node.fqdn}`",
            )
        time.sleep(0.05)


def _wait_endorsable_everywhere(
    access: NetworkAccess, cc: ChaincodePlan, orgs: list[OrgPlan]
) -> None:
    """Wait (bounded) until every member peer's discovery service can satisfy ``cc``'s
    endorsement policy: a Gateway picks endorsers from what gossip has told its peer of the
    others' installed chaincodes, which lags the commit by a state-info round, and until then
    a client's first submit fails "no combination of peers can be derived which satisfy the
    endorsement policy". Once this returns, the first transaction through any member peer
    can be endorsed."""
    deadline = time.monotonic() + NODE_TIMEOUT
    pending = [(org, node) for org in orgs for node in org.peers]
    while pending:
        org, node = pending[0]
        try:
            discovery.endorsement_layouts(
                access.peer_over_admin_tls(node),
                access.admin(org),
                access.admin_tls(org),
                channel=cc.channel,
                chaincode=cc.name,
            )
        except errors.FabricError as exc:
            if not exc.retryable or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        pending.pop(0)


def _initialise(access: NetworkAccess, cc: ChaincodePlan, orgs: list[OrgPlan]) -> list[Change]:
    """Run Init once for the new definition, endorsed by a peer of each organisation of
    ``orgs`` (those that approved: they have the package installed) and submitted by the
    first one :attr:`NetworkAccess.signers` allows."""
    endorsers = [access.peer(_endorser(org)) for org in orgs]
    try:
        transactions.submit(
            endorsers,
            access.admin(_submitter(access, cc, orgs)),
            channel=cc.channel,
            chaincode=cc.name,
            function=cc.init_function,
            args=(),
            is_init=True,
        )
    except errors.FabricError as exc:
        if "already initialized" in exc.message:
            return []
        exc.hint = (
            "Init runs the chaincode's `initFunction` (set it in the topology when the "
            "chaincode's API needs a function name, as Node and Java contracts do)"
        )
        raise
    return [Change("initialised", cc.name, f"on {cc.channel}")]
