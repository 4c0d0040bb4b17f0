"""Whose admin signatures a change of topology needs, decided from plans alone (no network).

``up`` signs as an organisation's admin to join its nodes to channels, to install and approve
chaincode definitions, to commit them and to sign channel config updates. :func:`required`
tells, for a network deployed as one plan and wanted as another, which organisations must sign
and why — the decision the REST API checks a scoped caller against before it stores a change
or starts an ``up``; :class:`~baas.network.access.NetworkAccess` enforces the same boundary
while ``up`` acts (a change outside it is refused before it is made).

The decision errs on the side of asking: a chaincode whose entry changed in any way (version,
source, policy, Init) is approved again by every member of its channel, since a new package
or definition needs each member's approval — unless it is ``approval: manual``, where no
organisation is signed for without asking (each approves for itself); a channel or
organisation that changed needs the signatures of every organisation on the channel (baas has
every channel organisation sign its config updates). A chaincode removed from the topology
needs nobody (baas leaves committed definitions in place).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from baas.plan import ChannelPlan, Plan


@dataclass(frozen=True)
class Signature:
    """Organisation ``org`` (its name in the topology) must sign ``purpose``."""

    org: str
    purpose: str


def _on_channel(channel: ChannelPlan) -> tuple[str, ...]:
    return tuple(dict.fromkeys([*channel.members, *channel.orderer_orgs]))


def _network_terms(plan: Plan) -> tuple[object, ...]:
    return (plan.fabric_version, plan.fabric_release, plan.consensus, plan.domain, plan.pki)


def _first_deployment(plan: Plan) -> list[Signature]:
    return [
        Signature(org.name, f"the first deployment of network {plan.network}") for org in plan.orgs
    ]


def _chaincodes(before: Plan, after: Plan) -> Iterable[Signature]:
    old = {(cc.channel, cc.name): cc for cc in before.chaincodes}
    channels = {c.name: c for c in after.channels}
    for cc in after.chaincodes:
        if old.get((cc.channel, cc.name)) == cc or cc.approval == "manual":
            continue  # manual: each organisation approves only for itself, when it asks
        verb = "approving" if (cc.channel, cc.name) in old else "approving new"
        for org in channels[cc.channel].members:
            yield Signature(org, f"{verb} chaincode {cc.name} {cc.version} on {cc.channel}")


def _channels(before: Plan, after: Plan) -> Iterable[Signature]:
    old_channels = {c.name: c for c in before.channels}
    old_orgs = {o.name: o for o in before.orgs}
    changed_orgs = {o.name for o in after.orgs if old_orgs.get(o.name) != o}
    for channel in after.channels:
        orgs = _on_channel(channel)
        previous = old_channels.get(channel.name)
        if previous is None:
            purpose = f"creating and joining channel {channel.name}"
        elif previous != channel or changed_orgs.intersection(orgs):
            purpose = f"the config update of channel {channel.name}"
        else:
            continue
        yield from (Signature(org, purpose) for org in orgs)
    for org in sorted(changed_orgs - {o for c in after.channels for o in _on_channel(c)}):
        yield Signature(org, f"the changed nodes of organisation {org}")


def required(before: Plan | None, after: Plan) -> list[Signature]:
    """Every admin signature ``up`` makes to take a network deployed as ``before`` (``None``:
    never deployed) to ``after``, one per organisation and purpose, in plan order. Empty when
    ``up`` would sign nothing new (the same plan)."""
    if before is None or _network_terms(before) != _network_terms(after):
        return _first_deployment(after) if before is None else _everyone(after)
    found = [*_channels(before, after), *_chaincodes(before, after)]
    return list(dict.fromkeys(found))


def _everyone(plan: Plan) -> list[Signature]:
    return [Signature(org.name, f"changing network {plan.network}'s settings") for org in plan.orgs]


def others(signatures: Iterable[Signature], org: str) -> dict[str, list[str]]:
    """The signatures of ``signatures`` that organisations other than ``org`` would make:
    ``{organisation: [purposes]}`` (empty: ``org`` may make the change alone)."""
    found: dict[str, list[str]] = {}
    for sig in signatures:
        if sig.org != org:
            found.setdefault(sig.org, []).append(sig.purpose)
    return found
