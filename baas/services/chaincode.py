"""Chaincode on a running network: ``invoke`` (endorsed by every member organisation of the
channel, ordered, committed) and ``query`` (one peer) as one of the network's identities, and
``chaincode_list``: what the channels and peers hold (committed definitions, approvals,
installed packages).

Calls are for people and scripts trying a network out (``make demo``); applications use a
Fabric Gateway SDK. Each reaches the network through its runtime's admin access
(:meth:`baas.runtimes.Runtime.access`), on either target.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import topology
from baas import plan as planning
from baas.errors import UsageError
from baas.fabric import transactions
from baas.fabric.identity import SigningIdentity
from baas.network import chaincode as chaincode_ensures
from baas.network import inventory
from baas.network.access import NetworkAccess
from baas.plan import ChaincodePlan, OrgPlan, Plan
from baas.runtimes import Target
from baas.services.results import Outcome
from baas.services.runtime import runtime_for


@dataclass(frozen=True)
class CallResult:
    """A chaincode call: who called, what, and the chaincode's answer (UTF-8 text when it
    decodes, else hex)."""

    chaincode: str
    channel: str
    function: str
    identity: str
    result: bytes
    tx_id: str | None = None
    block: int | None = None
    seconds: float = 0.0

    @property
    def text(self) -> str:
        try:
            return self.result.decode()
        except UnicodeDecodeError:
            return self.result.hex()

    def to_dict(self) -> dict[str, Any]:
        return {
            "chaincode": self.chaincode,
            "channel": self.channel,
            "function": self.function,
            "identity": self.identity,
            "result": self.text,
            "txId": self.tx_id,
            "block": self.block,
            "seconds": round(self.seconds, 3),
        }


def _chaincode(plan: Plan, name: str) -> ChaincodePlan:
    for cc in plan.chaincodes:
        if cc.name == name:
            return cc
    known = ", ".join(cc.name for cc in plan.chaincodes) or "none"
    raise UsageError(
        f"network {plan.network} has no chaincode {name!r}", hint=f"chaincodes: {known}"
    )


def _members(plan: Plan, cc: ChaincodePlan) -> list[OrgPlan]:
    channel = next(c for c in plan.channels if c.name == cc.channel)
    return [plan.org(n) for n in channel.members]


def _identity(
    access: NetworkAccess, orgs: Sequence[OrgPlan], name: str | None
) -> tuple[OrgPlan, SigningIdentity, str]:
    """The identity ``name`` names among the member organisations' admins and users: a full
    name (``alice@org1.example.com``, ``Admin@…``), or a short one without ``@`` (``alice``)
    when exactly one identity has that part before its ``@``; with ``name`` None, the first
    member organisation's first user (its admin when it has none). Raises UsageError for a
    name no identity has (listing them all) or a short name several have (listing those)."""
    everyone = [(org, candidate) for org in orgs for candidate in (org.admin, *org.users)]
    if name is None:
        found = [next((o, u) for o, u in everyone if not o.users or u != o.admin)]
    else:
        found = [(o, c) for o, c in everyone if c == name]
        if not found and "@" not in name:
            found = [(o, c) for o, c in everyone if c.partition("@")[0] == name]
            if len(found) > 1:
                raise UsageError(
                    f"{name!r} names {len(found)} identities of the channel's member organisations",
                    hint="use the full name: " + ", ".join(c for _, c in found),
                )
    if not found:
        choices = ", ".join(c for _, c in everyone)
        raise UsageError(
            f"{name!r} is not an identity of the channel's member organisations",
            hint=f"use one of: {choices}",
        )
    org, candidate = found[0]
    ident = access.admin(org) if candidate == org.admin else access.user(org, candidate)
    return org, ident, candidate


def _access(
    loaded: topology.LoadedTopology, plan: Plan, *, target: Target = "local", kube: Any = None
) -> AbstractContextManager[NetworkAccess]:
    return runtime_for(target, loaded, kube=kube).access(plan)


def chaincode_list(
    loaded: topology.LoadedTopology, *, target: Target = "local", kube: Any = None
) -> Outcome[inventory.Inventory]:
    """Per channel every committed chaincode definition (version, sequence, endorsement
    policy, Init, the version the topology wants) with each member organisation's approved
    package, and per peer its installed packages; read-only. Raises UsageError when the
    network does not run on ``target``."""
    plan = planning.build(loaded.network)
    with _access(loaded, plan, target=target, kube=kube) as access:
        found = inventory.chaincodes(access)
    return Outcome("ChaincodeList", found, loaded.warnings)


def approvals(
    loaded: topology.LoadedTopology,
    *,
    chaincode: str,
    channel: str | None = None,
    target: Target = "local",
    kube: Any = None,
) -> Outcome[chaincode_ensures.ApprovalState]:
    """Who has approved the definition the topology wants for ``chaincode`` (version,
    sequence, committed or not, approved and waiting organisations); read-only. Raises
    UsageError for an unknown chaincode or when the network does not run on ``target``."""
    plan = planning.build(loaded.network)
    found = [c for c in plan.chaincodes if c.name == chaincode and channel in (None, c.channel)]
    if not found:
        raise UsageError(
            f"no chaincode {chaincode!r} in network {plan.network}",
            hint="`baas chaincode list FILE` shows the chaincodes the channels hold",
        )
    with _access(loaded, plan, target=target, kube=kube) as access:
        state = chaincode_ensures.approval_state(access, found[0])
    return Outcome("ChaincodeApprovals", state, loaded.warnings)


def invoke(
    loaded: topology.LoadedTopology,
    *,
    chaincode: str,
    function: str,
    args: Sequence[str] = (),
    identity: str | None = None,
    target: Target = "local",
    kube: Any = None,
) -> Outcome[CallResult]:
    """Submit ``function(args)`` endorsed by one peer of every member organisation and wait
    for the commit, on the network running on ``target`` (reached through its runtime's
    :meth:`~baas.runtimes.Runtime.access`). Raises ``FabricError`` with the peers' own message
    when it fails, UsageError when the network does not run on ``target``."""
    plan = planning.build(loaded.network)
    cc = _chaincode(plan, chaincode)
    orgs = _members(plan, cc)
    start = time.monotonic()
    with _access(loaded, plan, target=target, kube=kube) as access:
        _, signer, name = _identity(access, orgs, identity)
        done = transactions.submit(
            [access.peer(o.anchor_peers[0]) for o in orgs],
            signer,
            channel=cc.channel,
            chaincode=cc.name,
            function=function,
            args=list(args),
        )
    result = CallResult(
        cc.name,
        cc.channel,
        function,
        name,
        done.result,
        done.tx_id,
        done.block,
        time.monotonic() - start,
    )
    return Outcome("ChaincodeInvocation", result, loaded.warnings)


def query(
    loaded: topology.LoadedTopology,
    *,
    chaincode: str,
    function: str,
    args: Sequence[str] = (),
    identity: str | None = None,
    peer: str | None = None,
    target: Target = "local",
    kube: Any = None,
) -> Outcome[CallResult]:
    """Evaluate ``function(args)`` on one peer (``peer``'s FQDN, default the identity's
    organisation's anchor peer) of the network running on ``target``; nothing is ordered.
    Raises UsageError when the network does not run on ``target``."""
    plan = planning.build(loaded.network)
    cc = _chaincode(plan, chaincode)
    orgs = _members(plan, cc)
    start = time.monotonic()
    with _access(loaded, plan, target=target, kube=kube) as access:
        org, signer, name = _identity(access, orgs, identity)
        nodes = [n for o in orgs for n in o.peers]
        node = next((n for n in nodes if n.fqdn == peer), None)
        if peer is not None and node is None:
            raise UsageError(
                f"{peer!r} is not a peer of the channel {cc.channel}",
                hint="peers: " + ", ".join(n.fqdn for n in nodes),
            )
        answer = transactions.evaluate(
            access.peer(node or org.anchor_peers[0]),
            signer,
            channel=cc.channel,
            chaincode=cc.name,
            function=function,
            args=list(args),
        )
    result = CallResult(
        cc.name, cc.channel, function, name, answer, seconds=time.monotonic() - start
    )
    return Outcome("ChaincodeQuery", result, loaded.warnings)
