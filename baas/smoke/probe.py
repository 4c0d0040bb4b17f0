"""The probe chaincode ``baas-probe``: shipped in ``probe/`` (Node, on the same fabric-shim as the
sample chaincode), deployed on every channel by ``baas smoke`` with the channel's default
endorsement policy (``MAJORITY Endorsement``), so a probe transaction proves exactly what the
channel's policy demands. ``Put(key, value)`` stores and emits a ``probe`` event; ``Get(key)``
reads. Its keys are its own: smoke never touches application chaincodes' state.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from baas.network.access import require_signers
from baas.plan import DEFAULT_ENDORSEMENT, ChaincodePlan, ChannelPlan, Plan
from topology.names import PROBE_CHAINCODE

PROBE_DIR = Path(__file__).resolve().parent / "probe"
PROBE_VERSION = "1.0"
"""Bump with every change of ``probe/``: a new version upgrades the probe on every channel."""
EVENT = "probe"
DEFAULT_IMAGE = f"baas/probe-chaincode:{PROBE_VERSION}"
"""The probe server's image on Kubernetes unless ``BAAS_PROBE_IMAGE`` names another: build it
from ``probe/Dockerfile`` and push it where the cluster pulls from."""


def probe_chaincode(channel: ChannelPlan, *, image: str | None = None) -> ChaincodePlan:
    """The probe's definition on ``channel``; ``image`` is its server's container image on
    Kubernetes (built from ``probe/Dockerfile``), ``None`` locally."""
    return ChaincodePlan(
        name=PROBE_CHAINCODE,
        channel=channel.name,
        version=PROBE_VERSION,
        path=str(PROBE_DIR),
        endorsement=DEFAULT_ENDORSEMENT,
        endorsement_is_default=True,
        init_required=False,
        image=image,
    )


def with_probes(plan: Plan, *, image: str | None = None) -> Plan:
    """``plan`` plus the probe on every channel (after the application chaincodes)."""
    probes = tuple(probe_chaincode(c, image=image) for c in plan.channels)
    return dataclasses.replace(plan, chaincodes=plan.chaincodes + probes)


def is_probe(chaincode: ChaincodePlan) -> bool:
    return chaincode.name == PROBE_CHAINCODE


def require_first_deployers(signers: frozenset[str] | None, plan: Plan, *, deployed: bool) -> None:
    """Before the probe is first deployed (``deployed``: smoke deployed it before), refuse —
    before any server starts or release changes — unless ``signers`` covers every member of
    every channel: each of them approves the probe's definition
    (:class:`~baas.errors.SigningRefused`). Once deployed, reusing it signs nothing."""
    if deployed:
        return
    members = {name for channel in plan.channels for name in channel.members}
    require_signers(
        signers,
        [org for org in plan.orgs if org.name in members],
        purpose=f"deploying the smoke probe chaincode {PROBE_CHAINCODE}",
    )
