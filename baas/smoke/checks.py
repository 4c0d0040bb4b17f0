"""The checks of ``baas smoke``, in order, each timed and given a verdict:

1. ``nodes healthy`` — every peer and orderer answers its operations ``/healthz``.
2. ``channel membership`` — every peer and orderer has joined exactly its channels.
3. ``probe chaincode`` — the probe is deployed on every channel (reused when it is).
4. ``heights <channel>`` — every member peer and consenter reports the same height
   (bounded wait: peers commit a moment after the orderers cut a block).
5. ``gossip <channel>`` — every member peer knows every other member peer on the channel
   (``gossip_membership_total_peers_known``; bounded wait: a fresh channel takes seconds).
6. ``endorsement <channel>`` — a probe ``Put`` endorsed as the Gateway plans it from the
   channel's endorsement policy commits VALID, its chaincode event arrives, and ``Get`` reads
   the value back from every member peer.
7. ``weak endorsement <channel>`` — the same transaction endorsed by one organisation only is
   invalidated with ENDORSEMENT_POLICY_FAILURE (skipped on single-organisation channels).
8. ``outsider <channel>`` — a client of an organisation that is not a member is refused.
9. ``chaincode <name>`` — each application chaincode is committed at the topology's version
   and the sequence baas expects.
10. ``private data <name>`` — for each chaincode with collections, per collection: a client of
    a member organisation writes a random value (``PutPrivate(collection, key)``, the value in
    the transient map under ``value``), reads it back through every member organisation's
    peers (``GetPrivate(collection, key)``), and a client of a channel member outside the
    collection is refused it (memberOnlyRead: by a member's peer; otherwise its own peers do
    not hold it). Skipped, saying so, when the chaincode serves no ``PutPrivate``.

A check that depends on a failed one is skipped, saying which. Target-neutral: the runtime
supplies node health, the probe deployment and metrics through :class:`SmokeTarget`.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from baas.errors import BaasError
from baas.fabric import deliver, osnadmin, transactions
from baas.fabric.client import Contract
from baas.fabric.identity import SigningIdentity
from baas.network import chaincode as chaincode_ensures
from baas.network.access import NetworkAccess
from baas.network.channels import consenters, members
from baas.plan import ChaincodePlan, ChannelPlan, CollectionPlan, NodePlan, OrgPlan, Plan
from baas.smoke.probe import EVENT, is_probe
from baas.smoke.report import (
    CheckFailed,
    CheckResult,
    CheckSkipped,
    OnCheck,
    run_check,
    skipped,
)
from topology import policy
from topology.names import PROBE_CHAINCODE

HEIGHT_WAIT = 15.0
GOSSIP_WAIT = 30.0
READ_WAIT = 15.0


class SmokeTarget(Protocol):
    """What a runtime gives the checks."""

    def node_health(self, plan: Plan) -> dict[str, bool]:
        """Node FQDN → whether its ``/healthz`` answered."""
        ...

    def ensure_probe(self, plan: Plan) -> list[str]:
        """Deploy the probe on every channel (idempotent); what changed."""
        ...

    def metrics(self, node: NodePlan) -> str:
        """The node's Prometheus metrics text."""
        ...


def _orgs(plan: Plan, channel: ChannelPlan) -> list[OrgPlan]:
    return [plan.org(name) for name in channel.members]


def _client(access: NetworkAccess, org: OrgPlan) -> tuple[str, SigningIdentity]:
    """A client identity of ``org``: its first user, else its admin."""
    if org.users:
        return org.users[0], access.user(org, org.users[0])
    return org.admin, access.admin(org)


def _wait(
    predicate: Callable[[], str | None], *, timeout: float, interval: float = 0.2
) -> str | None:
    """Poll ``predicate`` (None: satisfied; a text: what is still wrong) until satisfied or
    ``timeout``; returns the last complaint (None when satisfied)."""
    deadline = time.monotonic() + timeout
    while True:
        complaint = predicate()
        if complaint is None or time.monotonic() > deadline:
            return complaint
        time.sleep(interval)


# ------------------------------------------------------------------------------ 1, 2


def nodes_healthy(target: SmokeTarget, plan: Plan) -> str:
    health = target.node_health(plan)
    sick = sorted(name for name, ok in health.items() if not ok)
    if sick:
        raise CheckFailed(
            f"{len(sick)} of {len(health)} node(s) not healthy: {', '.join(sick)}",
            hint="`baas status FILE` shows their state; `baas logs FILE NODE`; `baas up FILE` "
            "restarts what is down",
        )
    return f"{len(health)} node(s) answer /healthz"


def _expected(plan: Plan) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for org in plan.orgs:
        for node in org.nodes:
            wanted[node.fqdn] = set()
    for channel in plan.channels:
        for node in [*consenters(plan, channel), *members(plan, channel)]:
            wanted[node.fqdn].add(channel.name)
    return wanted


def _joined(access: NetworkAccess, node: NodePlan) -> set[str]:
    if node.role == "peer":
        return set(access.peer(node).channels(access.admin(access.org_of(node))))
    return {c.name for c in osnadmin.list_channels(access.orderer_admin(node))}


def channel_membership(access: NetworkAccess) -> str:
    plan = access.plan
    wanted = _expected(plan)
    nodes = [n for org in plan.orgs for n in org.nodes]
    with ThreadPoolExecutor(max_workers=8) as pool:
        joined = dict(
            zip([n.fqdn for n in nodes], pool.map(lambda n: _joined(access, n), nodes), strict=True)
        )
    wrong = []
    for fqdn, want in wanted.items():
        have = joined[fqdn]
        if have != want:
            missing = ", ".join(sorted(want - have)) or "-"
            extra = ", ".join(sorted(have - want)) or "-"
            wrong.append(f"{fqdn}: missing {missing}; not in the topology {extra}")
    if wrong:
        raise CheckFailed("\n".join(wrong), hint="`baas up FILE` joins missing channels")
    return f"{len(nodes)} node(s) joined exactly their channels"


# ------------------------------------------------------------------------------ 4, 5


def heights_agree(access: NetworkAccess, channel: ChannelPlan) -> str:
    plan = access.plan
    nodes = [*consenters(plan, channel), *members(plan, channel)]

    def height(node: NodePlan) -> int:
        admin = access.admin(access.org_of(node))
        if node.role == "peer":
            return deliver.height(
                access.connections,
                access.peer(node).target,
                admin,
                channel=channel.name,
                source="peer",
            )
        return deliver.height(access.connections, access.orderer(node), admin, channel=channel.name)

    last: dict[str, int] = {}

    def differs() -> str | None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            last.update(zip([n.fqdn for n in nodes], pool.map(height, nodes), strict=True))
        if len(set(last.values())) == 1:
            return None
        return ", ".join(f"{k} {v}" for k, v in sorted(last.items()))

    complaint = _wait(differs, timeout=HEIGHT_WAIT)
    if complaint:
        raise CheckFailed(
            f"heights differ after {HEIGHT_WAIT:.0f}s: {complaint}",
            hint="a node behind may not reach the orderers; see its log",
        )
    return f"{len(nodes)} node(s) at height {next(iter(last.values()))}"


_KNOWN = re.compile(r'^gossip_membership_total_peers_known\{channel="([^"]+)"\}\s+(\S+)', re.M)


def peers_known(metrics: str, channel: str) -> int:
    """``gossip_membership_total_peers_known`` for ``channel`` in a Prometheus text (0 when
    absent). Pure."""
    for name, value in _KNOWN.findall(metrics):
        if name == channel:
            return int(float(value))
    return 0


def gossip_complete(target: SmokeTarget, access: NetworkAccess, channel: ChannelPlan) -> str:
    peers = members(access.plan, channel)
    want = len(peers) - 1
    started = time.monotonic()

    def incomplete() -> str | None:
        short = []
        for node in peers:
            known = peers_known(target.metrics(node), channel.name)
            if known < want:
                short.append(f"{node.fqdn} knows {known} of {want}")
        return "; ".join(short) or None

    complaint = _wait(incomplete, timeout=GOSSIP_WAIT, interval=0.5)
    if complaint:
        raise CheckFailed(
            f"gossip membership incomplete after {GOSSIP_WAIT:.0f}s: {complaint}",
            hint="peers of different organisations find each other through anchor peers; "
            "check the anchors' external endpoints and the logs",
        )
    waited = time.monotonic() - started
    note = f" (waited {waited:.1f}s for it)" if waited > 0.5 else ""
    return f"every peer knows the other {want} member peer(s){note}"


# ------------------------------------------------------------------------------ 6, 7, 8


def _contract(
    access: NetworkAccess, org: OrgPlan, channel: str, peer: NodePlan | None = None
) -> Contract:
    _, identity = _client(access, org)
    node = peer or org.anchor_peers[0]
    return Contract(access.peer(node), identity, channel=channel, chaincode=PROBE_CHAINCODE)


def endorsement(access: NetworkAccess, channel: ChannelPlan) -> str:
    plan = access.plan
    orgs = _orgs(plan, channel)
    contract = _contract(access, orgs[0], channel.name)
    key = f"smoke-{secrets.token_hex(6)}"
    value = secrets.token_hex(8)
    outcome = contract.submit("Put", key, value)
    if not outcome.valid:
        raise CheckFailed(
            f"the probe transaction {outcome.tx_id[:12]}… was committed as {outcome.code}",
            hint="the Gateway could not gather endorsements satisfying the channel's policy",
        )
    event = next(
        (
            e
            for e in contract.events(start_block=outcome.block, timeout=5.0)
            if e.tx_id == outcome.tx_id
        ),
        None,
    )
    if event is None or event.name != EVENT or event.payload != key.encode():
        raise CheckFailed(f"no '{EVENT}' chaincode event for {outcome.tx_id[:12]}…")
    readers = [(org, node) for org in orgs for node in org.peers]

    def read(item: tuple[OrgPlan, NodePlan]) -> str | None:
        org, node = item

        def missing() -> str | None:
            try:
                got = transactions.evaluate(
                    access.peer(node),
                    access.admin(org),
                    channel=channel.name,
                    chaincode=PROBE_CHAINCODE,
                    function="Get",
                    args=[key],
                )
            except BaasError as exc:
                return f"{node.fqdn}: {exc.message}"
            return None if got.decode() == value else f"{node.fqdn}: read {got!r}"

        return _wait(missing, timeout=READ_WAIT)

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for p in pool.map(read, readers) if p]
    if problems:
        raise CheckFailed("the committed value is not readable everywhere:\n" + "\n".join(problems))
    return (
        f"tx {outcome.tx_id[:12]}… VALID in block {outcome.block} ({outcome.seconds:.2f}s), "
        f"event received, read back from {len(readers)} peer(s)"
    )


def weak_endorsement(access: NetworkAccess, channel: ChannelPlan) -> str:
    orgs = _orgs(access.plan, channel)
    contract = _contract(access, orgs[0], channel.name)
    outcome = contract.submit(
        "Put", f"smoke-weak-{secrets.token_hex(6)}", "x", endorsing_orgs=[orgs[0].msp_id]
    )
    if outcome.code != "ENDORSEMENT_POLICY_FAILURE":
        raise CheckFailed(
            f"a transaction endorsed by {orgs[0].msp_id} alone was committed as {outcome.code}",
            hint="the channel's endorsement policy should need more than one organisation",
        )
    return f"endorsed by {orgs[0].msp_id} alone: rejected with ENDORSEMENT_POLICY_FAILURE"


def outsiders(plan: Plan, channel: ChannelPlan) -> list[OrgPlan]:
    return [org for org in plan.orgs if org.name not in channel.members]


def outsider_refused(access: NetworkAccess, channel: ChannelPlan) -> str:
    plan = access.plan
    outsider = outsiders(plan, channel)[0]
    name, identity = _client(access, outsider)
    member = _orgs(plan, channel)[0]
    node = member.anchor_peers[0]
    try:
        transactions.evaluate(
            access.peer(node),
            identity,
            channel=channel.name,
            chaincode=PROBE_CHAINCODE,
            function="Get",
            args=["smoke-outsider"],
        )
    except BaasError as exc:
        reason = exc.message.split(": ", 2)[-1]
        return f"{name} refused by {node.fqdn}: {reason[:200]}"
    raise CheckFailed(
        f"{name} ({outsider.msp_id}, not a member of {channel.name}) was served by {node.fqdn}",
        hint="the channel's Readers policy admits organisations outside the channel",
    )


# ------------------------------------------------------------------------------ 9


def chaincode_committed(access: NetworkAccess, name: str, channel: str) -> str:
    cc = next(c for c in access.plan.chaincodes if c.name == name and c.channel == channel)
    decision = chaincode_ensures.decide(access, cc)
    current = decision.committed
    if current is None:
        raise CheckFailed(f"{name} is not committed on {channel}", hint="run `baas up FILE`")
    if not decision.is_committed:
        raise CheckFailed(
            f"{name} on {channel} is at version {current.version} sequence {current.sequence}; "
            f"the topology asks for version {cc.version} (sequence {decision.definition.sequence})",
            hint="run `baas up FILE` to upgrade it",
        )
    return f"version {current.version}, sequence {current.sequence} on {channel}"


# ------------------------------------------------------------------------------ 10

PRIVATE_VALUE = "value"
"""The transient map key ``PutPrivate`` reads the value from."""
_NO_FUNCTION = re.compile(r"does not exist|not found|unknown function|no such function", re.I)


def holders(plan: Plan, cc: ChaincodePlan, collection: CollectionPlan) -> list[OrgPlan]:
    """The channel members ``collection``'s policy names (in channel order). Pure."""
    named = {p.msp_id for p in policy.parse(collection.policy).principals()}
    channel = next(c for c in plan.channels if c.name == cc.channel)
    return [org for org in _orgs(plan, channel) if org.msp_id in named]


def private_data(access: NetworkAccess, cc: ChaincodePlan) -> str:
    """Check 10 for ``cc`` (see the module docstring); raises :class:`CheckSkipped` when the
    chaincode has no ``PutPrivate``."""
    plan = access.plan
    channel = next(c for c in plan.channels if c.name == cc.channel)
    said = []
    for collection in cc.collections:
        said.append(_private_collection(access, cc, channel, collection))
    return "; ".join(said)


def _private_collection(
    access: NetworkAccess, cc: ChaincodePlan, channel: ChannelPlan, collection: CollectionPlan
) -> str:
    plan = access.plan
    members = holders(plan, cc, collection)
    writer = members[0]
    name, identity = _client(access, writer)
    contract = Contract(
        access.peer(writer.anchor_peers[0]), identity, channel=cc.channel, chaincode=cc.name
    )
    key = f"smoke-{secrets.token_hex(6)}"
    value = secrets.token_hex(8)
    try:
        outcome = contract.submit(
            "PutPrivate", collection.name, key, transient={PRIVATE_VALUE: value.encode()}
        )
    except BaasError as exc:
        if "PutPrivate" in exc.message and _NO_FUNCTION.search(exc.message):
            raise CheckSkipped(
                f"{cc.name} serves no PutPrivate(collection, key) (the value in the transient "
                f"map under {PRIVATE_VALUE!r}) and GetPrivate(collection, key), which this "
                "check calls"
            ) from None
        raise CheckFailed(
            f"{name} ({writer.msp_id}) could not write to collection {collection.name}: "
            f"{exc.message}",
            hint="a write endorsed only by the collection's members needs a policy they can "
            "satisfy: give the collection an endorsementPolicy such as "
            f"{{signaturePolicy: \"OR('{writer.msp_id}.peer')\"}}",
        ) from None
    if not outcome.valid:
        raise CheckFailed(
            f"the private write {outcome.tx_id[:12]}… to {collection.name} was committed as "
            f"{outcome.code}",
            hint="ENDORSEMENT_POLICY_FAILURE: the collection's endorsementPolicy (or the "
            "chaincode's) needs organisations that did not endorse",
        )

    def unread(org: OrgPlan) -> str | None:
        _, reader = _client(access, org)
        node = org.anchor_peers[0]
        try:
            got = Contract(
                access.peer(node), reader, channel=cc.channel, chaincode=cc.name
            ).evaluate("GetPrivate", collection.name, key, target_orgs=[org.msp_id])
        except BaasError as exc:
            return f"{org.msp_id}: {exc.message}"
        return None if got.decode() == value else f"{org.msp_id}: read {got!r}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [
            p for p in pool.map(lambda o: _wait(lambda: unread(o), timeout=READ_WAIT), members) if p
        ]
    if problems:
        raise CheckFailed(
            f"the private value in {collection.name} is not readable by its members:\n"
            + "\n".join(problems),
            hint="members' peers receive private data by gossip: check the anchors and "
            "`baas logs FILE PEER`",
        )
    said = (
        f"{collection.name}: written by {name} in block {outcome.block}, read back by "
        f"{', '.join(o.msp_id for o in members)}"
    )
    others = [org for org in _orgs(plan, channel) if org not in members]
    if not others:
        return f"{said}; every channel member is a member (no outsider to refuse)"
    return f"{said}; {_outsider_refused(access, cc, collection, writer, others[0], key, value)}"


def _outsider_refused(
    access: NetworkAccess,
    cc: ChaincodePlan,
    collection: CollectionPlan,
    member: OrgPlan,
    outsider: OrgPlan,
    key: str,
    value: str,
) -> str:
    """A client of ``outsider`` (a channel member outside ``collection``) does not get the
    value: with memberOnlyRead a member's peer refuses it; otherwise its own organisation's
    peers do not hold it."""
    name, identity = _client(access, outsider)
    if collection.member_only_read:
        node, target = member.anchor_peers[0], member.msp_id
    else:
        node, target = outsider.anchor_peers[0], outsider.msp_id
    try:
        got = Contract(access.peer(node), identity, channel=cc.channel, chaincode=cc.name).evaluate(
            "GetPrivate", collection.name, key, target_orgs=[target]
        )
    except BaasError as exc:
        reason = exc.message.split(": ", 2)[-1]
        return f"{name} ({outsider.msp_id}) refused by {target}: {reason[:160]}"
    if got.decode() == value:
        raise CheckFailed(
            f"{name} ({outsider.msp_id}, not a member of {collection.name}) read the private "
            f"value through {node.fqdn}",
            hint="set memberOnlyRead: true on the collection, or check its policy",
        )
    return f"{name} ({outsider.msp_id}) not served by {target}"


# ------------------------------------------------------------------------------ running


def run_checks(
    target: SmokeTarget,
    access: NetworkAccess,
    *,
    on_check: OnCheck | None = None,
) -> list[CheckResult]:
    """Every check, in order; ``on_check`` sees each result as soon as it is known."""
    plan = access.plan
    results: list[CheckResult] = []

    def record(result: CheckResult) -> CheckResult:
        results.append(result)
        if on_check is not None:
            on_check(result)
        return result

    healthy = record(run_check("nodes healthy", lambda: nodes_healthy(target, plan)))
    if not healthy.passed:
        for name in ("channel membership", "probe chaincode"):
            record(skipped(name, "nodes are not healthy"))
        return results
    record(run_check("channel membership", lambda: channel_membership(access)))
    probe = record(run_check("probe chaincode", lambda: _probe_message(target.ensure_probe(plan))))
    for channel in plan.channels:
        _channel_checks(target, access, channel, probe_ok=probe.passed, record=record)
    for cc in plan.chaincodes:
        if is_probe(cc):
            continue
        defined = record(
            run_check(
                f"chaincode {cc.name}",
                lambda cc=cc: chaincode_committed(access, cc.name, cc.channel),  # type: ignore[misc]
            )
        )
        if not cc.collections:
            continue
        if not defined.passed:
            record(skipped(f"private data {cc.name}", f"chaincode {cc.name} is not as wanted"))
            continue
        record(
            run_check(
                f"private data {cc.name}",
                lambda cc=cc: private_data(access, cc),  # type: ignore[misc]
            )
        )
    return results


def _probe_message(changes: Sequence[str]) -> str:
    return f"deployed ({len(changes)} change(s))" if changes else "already deployed, reused"


def _channel_checks(
    target: SmokeTarget,
    access: NetworkAccess,
    channel: ChannelPlan,
    *,
    probe_ok: bool,
    record: Callable[[CheckResult], CheckResult],
) -> None:
    ch = channel.name
    record(run_check(f"heights {ch}", lambda: heights_agree(access, channel)))
    gossip = record(run_check(f"gossip {ch}", lambda: gossip_complete(target, access, channel)))
    names = (f"endorsement {ch}", f"weak endorsement {ch}", f"outsider {ch}")
    if not probe_ok or not gossip.passed:
        reason = "the probe chaincode is not deployed" if not probe_ok else "gossip is incomplete"
        for name in names:
            record(skipped(name, reason))
        return
    record(run_check(names[0], lambda: endorsement(access, channel)))
    if len(channel.members) < 2:
        record(skipped(names[1], "a single-organisation channel: one organisation is a majority"))
    else:
        record(run_check(names[1], lambda: weak_endorsement(access, channel)))
    if not outsiders(access.plan, channel):
        record(skipped(names[2], "every organisation of the network is a member"))
    else:
        record(run_check(names[2], lambda: outsider_refused(access, channel)))
