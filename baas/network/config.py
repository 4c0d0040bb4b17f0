"""Channel configuration as an ensure: what the topology and the PKI say a channel's config
should be, compared with what the channel has, turned into signed config updates.

The desired config is the one Fabric's own ``configtxgen`` makes from today's topology and PKI
tree (the same generator that made the genesis block, so an unchanged network gives an equal
config): organisations' MSPs with their CA and TLS CA certificates, CRLs and NodeOUs, anchor
peers, orderer endpoints, consenters and their TLS certificates, policies, capabilities, batch
parameters. :func:`decide` compares it with the channel's current config block and returns
the steps (a pure decision that ``baas plan`` prints); :func:`ensure` acts on them:

* **Consenter rotation** — when orderers' TLS certificates changed (``baas pki renew
  --new-key``), one orderer at a time: a config update replacing only its certificates, then
  that orderer is restarted (the runtime's ``restart`` callback) and waited for until it serves
  the channel again at the others' height; then the next. Ordering never loses its quorum.
* **Everything else** in one update (new CRLs after a revocation, an organisation joining or
  leaving, anchor peers, a new consenter, batch parameters).

Every update is signed by the admins of every organisation of the channel (members and
orderer organisations: a superset of what any of its policies can demand), submitted to the
ordering service, and waited for until every consenter and member peer holds the new config.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from baas.errors import OperationError, UsageError
from baas.fabric import broadcast, configupdate, deliver, errors, osnadmin
from baas.fabric.configupdate import Config, ConfigUpdate, consenter_certs, with_consenter_of
from baas.fabric.identity import SigningIdentity
from baas.network import genesis
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report, retrying
from baas.network.channels import consenters, members
from baas.plan import ChannelPlan, NodePlan, OrgPlan

WAIT = 60.0

Restart = Callable[[NodePlan], None]
"""Restart one node so it reads its new certificates, and return once it answers again."""


# ------------------------------------------------------------------------------ reading


def current_config(access: NetworkAccess, channel: ChannelPlan) -> Config:
    """The channel's config as the first reachable consenter holds it."""
    last: errors.FabricError | None = None
    for node in consenters(access.plan, channel):
        try:
            block = deliver.config_block(
                access.connections,
                access.orderer(node),
                access.admin(access.org_of(node)),
                channel=channel.name,
            )
            return configupdate.config_of(block)
        except errors.FabricError as exc:
            last = exc
    assert last is not None
    raise last


def desired_config(*, configtxgen: Path, configtx_yaml: str, channel: ChannelPlan) -> Config:
    """The config ``configtxgen`` makes for ``channel`` from ``configtx_yaml`` today."""
    block = genesis.make_block(
        configtxgen=configtxgen,
        configtx_yaml=configtx_yaml,
        channel=channel.name,
        profile=channel.name,
    )
    return configupdate.config_of_bytes(block)


# ------------------------------------------------------------------------------ deciding


@dataclass(frozen=True)
class ConfigDecision:
    """What a channel's config needs: orderers whose TLS certificates rotate (in order), then
    the remaining field changes (empty: nothing to do)."""

    channel: str
    rotations: tuple[NodePlan, ...]
    changes: tuple[configupdate.FieldChange, ...]

    @property
    def needed(self) -> bool:
        return bool(self.rotations or self.changes)

    def lines(self) -> list[str]:
        out = [f"rotate consenter {n.fqdn}: new TLS certificate" for n in self.rotations]
        return out + [str(c) for c in self.changes]

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "rotations": [n.fqdn for n in self.rotations],
            "changes": [c.to_dict() for c in self.changes],
        }


def check_membership(channel: ChannelPlan, *, have: set[str], want: set[str]) -> None:
    """etcdraft and BFT change their consenter set one member per config update, and an
    update must leave a quorum of the current set running: refuse anything else, saying how
    to get there."""
    added, removed = want - have, have - want
    if len(added) + len(removed) > 1:
        raise UsageError(
            f"channel {channel.name}: the topology adds {len(added)} and removes "
            f"{len(removed)} orderer(s) at once; Fabric changes its consenter set one "
            "orderer per config update",
            hint="add or remove one orderer, run `baas up`, then the next",
        )
    if removed and len(have) - 1 < len(have) // 2 + 1:
        raise UsageError(
            f"channel {channel.name}: removing an orderer from {len(have)} consenters leaves "
            f"{len(have) - 1}, less than a quorum of the current set",
            hint="add a replacement orderer first, then remove the old one",
        )


def check_consenter_change(access: NetworkAccess, channel: ChannelPlan) -> None:
    """Before anything starts: refuse a topology whose consenters differ from the running
    channel's by more than one orderer, or shrink it below a quorum (see
    :func:`check_membership`). Orderers without an address yet count as new. Does nothing
    when the channel cannot be read (not created, or the network is down)."""
    try:
        current = current_config(access, channel)
    except errors.FabricError:
        return
    want: set[str] = set()
    for node in consenters(access.plan, channel):
        try:
            want.add(_endpoint(access, node))
        except OperationError:
            want.add(f"new orderer {node.fqdn}")
    check_membership(channel, have=set(consenter_certs(current)), want=want)


def _endpoint(access: NetworkAccess, node: NodePlan) -> str:
    return str(access.addresses.cluster(node))


def decide(
    access: NetworkAccess,
    channel: ChannelPlan,
    *,
    current: Config,
    desired: Config,
) -> ConfigDecision:
    """The steps from ``current`` to ``desired`` (read-only)."""
    have, want = consenter_certs(current), consenter_certs(desired)
    check_membership(channel, have=set(have), want=set(want))
    rotations = tuple(
        node
        for node in consenters(access.plan, channel)
        if (ep := _endpoint(access, node)) in have and ep in want and have[ep] != want[ep]
    )
    rotated = current
    for node in rotations:
        rotated = with_consenter_of(rotated, desired, _endpoint(access, node))
    update = configupdate.compute_update(channel.name, rotated, desired)
    changes = tuple(configupdate.describe(update, rotated)) if update is not None else ()
    return ConfigDecision(channel.name, rotations, changes)


# ------------------------------------------------------------------------------ acting


def _channel_orgs(access: NetworkAccess, channel: ChannelPlan) -> list[OrgPlan]:
    names = dict.fromkeys([*channel.members, *channel.orderer_orgs])
    return [access.plan.org(name) for name in names]


@dataclass
class _Submission:
    access: NetworkAccess
    channel: ChannelPlan
    signers: list[SigningIdentity] = field(default_factory=list)

    def submit(self, update: ConfigUpdate, *, action: str) -> None:
        """Hand the signed update to the consenters in turn until one accepts it; transient
        refusals (no leader yet, a freshly restarted orderer that does not yet see its peers
        alive) are retried for up to :data:`WAIT` seconds, final ones raised at once."""
        submitter = self.signers[0]
        envelope = configupdate.update_envelope(update, signers=self.signers, submitter=submitter)
        nodes = consenters(self.access.plan, self.channel)
        deadline = time.monotonic() + WAIT
        attempt = 0
        while True:
            node = nodes[attempt % len(nodes)]
            attempt += 1
            try:
                broadcast.broadcast(
                    self.access.connections, self.access.orderer(node), envelope, action=action
                )
                return
            except errors.FabricError as exc:
                if not exc.retryable or time.monotonic() > deadline:
                    raise
            time.sleep(0.2 if attempt % len(nodes) else 1.0)


def _sequence(access: NetworkAccess, node: NodePlan, channel: str) -> int:
    admin = access.admin(access.org_of(node))
    if node.role == "peer":
        block = deliver.config_block(
            access.connections, access.peer(node).target, admin, channel=channel, source="peer"
        )
    else:
        block = deliver.config_block(
            access.connections, access.orderer(node), admin, channel=channel
        )
    return int(configupdate.config_of(block).sequence)


def wait_for_sequence(
    access: NetworkAccess,
    channel: ChannelPlan,
    sequence: int,
    *,
    skip: tuple[str, ...] = (),
    timeout: float = WAIT,
) -> None:
    """Wait until every consenter and member peer (but ``skip``) that serves the channel holds
    config ``sequence``; nodes that have not joined it (an organisation's peers join once the
    update making it a member is in) are not waited for."""
    nodes = [
        n
        for n in [*consenters(access.plan, channel), *members(access.plan, channel)]
        if n.fqdn not in skip
    ]
    deadline = time.monotonic() + timeout

    def behind(node: NodePlan) -> bool:
        try:
            return _sequence(access, node, channel.name) < sequence
        except errors.FabricError as exc:
            return "NOT_FOUND" not in exc.message

    while True:
        with ThreadPoolExecutor(max_workers=8) as pool:
            late = [n.fqdn for n, b in zip(nodes, pool.map(behind, nodes), strict=True) if b]
        if not late:
            return
        if time.monotonic() > deadline:
            raise OperationError(
                f"channel {channel.name}: {', '.join(late)} did not reach config sequence "
                f"{sequence} within {timeout:.0f}s",
                hint="see those nodes' logs (`baas logs FILE NODE`)",
            )
        time.sleep(0.2)


def submit_and_wait(
    access: NetworkAccess,
    channel: ChannelPlan,
    submission: _Submission,
    update: ConfigUpdate,
    *,
    sequence: int,
    action: str,
    skip: tuple[str, ...] = (),
) -> None:
    """Submit ``update`` (making config ``sequence``) and wait for every node to hold it.

    An orderer may accept a transaction and lose it — an etcdraft leader whose own TLS
    certificate the update rotates hands leadership over with the update in flight — so when
    the ordering service has not reached ``sequence`` after a while, the update is submitted
    again (at most three times; a duplicate would be refused as stale, never applied twice)."""
    for attempt in range(3):
        submission.submit(update, action=action)
        try:
            wait_for_sequence(access, channel, sequence, skip=skip, timeout=5.0)
            return
        except OperationError:
            if current_config(access, channel).sequence >= sequence:
                wait_for_sequence(access, channel, sequence, skip=skip)
                return
            if attempt == 2:
                raise


def _wait_rejoined(access: NetworkAccess, channel: ChannelPlan, node: NodePlan) -> None:
    """Wait until ``node`` serves ``channel`` as an active consenter at the others' height."""
    target = access.orderer_admin(node)
    others = [n for n in consenters(access.plan, channel) if n.fqdn != node.fqdn]
    deadline = time.monotonic() + WAIT
    while True:
        info = retrying(lambda: osnadmin.channel_info(target, channel.name), timeout=WAIT)
        best = max(
            (
                info_other.height
                for other in others
                if (info_other := osnadmin.channel_info(access.orderer_admin(other), channel.name))
            ),
            default=0,
        )
        if (
            info is not None
            and info.status == "active"
            and info.consensus_relation == "consenter"
            and info.height >= best
        ):
            return
        if time.monotonic() > deadline:
            state = "absent" if info is None else f"{info.status}/{info.consensus_relation}"
            raise OperationError(
                f"{node.fqdn} did not rejoin channel {channel.name} as a consenter "
                f"(it is {state}, height {info.height if info else 0} of {best})",
                hint=f"see its log: `baas logs FILE {node.fqdn}`",
            )
        time.sleep(0.2)


def ensure(
    access: NetworkAccess,
    channel: ChannelPlan,
    *,
    desired: Config,
    restart: Restart,
    report: Report,
) -> list[Change]:
    """Bring ``channel``'s config to ``desired`` (see the module docstring); returns what
    changed (empty when nothing differed)."""
    current = current_config(access, channel)
    decision = decide(access, channel, current=current, desired=desired)
    if not decision.needed:
        return []
    orgs = _channel_orgs(access, channel)
    purpose = f"the config update of channel {channel.name}"
    access.require_signers(orgs, purpose=purpose)
    submission = _Submission(access, channel, [access.signer(org, purpose=purpose) for org in orgs])
    signed_by = ", ".join(org.msp_id for org in orgs)
    changes: list[Change] = []
    for node in decision.rotations:
        rotated = with_consenter_of(current, desired, _endpoint(access, node))
        update = configupdate.compute_update(channel.name, current, rotated)
        if update is not None:
            report(f"channel {channel.name}: replacing {node.fqdn}'s TLS certificate")
            submit_and_wait(
                access,
                channel,
                submission,
                update,
                sequence=current.sequence + 1,
                action=f"rotate {node.fqdn} on {channel.name}",
                skip=(node.fqdn,),
            )
        restart(node)
        _wait_rejoined(access, channel, node)
        changes.append(Change("rotated", node.fqdn, f"consenter TLS certificate on {channel.name}"))
        current = current_config(access, channel)
    update = configupdate.compute_update(channel.name, current, desired)
    if update is not None:
        added = set(consenter_certs(desired)) - set(consenter_certs(current))
        described = configupdate.describe(update, current)
        report(
            f"channel {channel.name}: config update ({len(described)} field(s)), signed by "
            f"{signed_by}"
        )
        submit_and_wait(
            access,
            channel,
            submission,
            update,
            sequence=current.sequence + 1,
            action=f"update the config of {channel.name}",
        )
        for node in consenters(access.plan, channel):
            if _endpoint(access, node) in added:
                # a new consenter joined as a follower; it switches to consensus once it has
                # pulled the block that adds it
                report(f"channel {channel.name}: waiting for {node.fqdn} to become a consenter")
                _wait_rejoined(access, channel, node)
        changes += [
            Change("updated", f"{channel.name}{c.path[len('/Channel') :]}", c.detail or c.action)
            for c in described
        ]
    return changes
