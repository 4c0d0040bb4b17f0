"""The target-neutral half of ``baas up``: channels and chaincode, once the nodes answer.

Every runtime starts nodes its own way (supervised processes, Helm releases) and then hands a
:class:`~baas.network.access.NetworkAccess` to these two ensures, so that channel creation,
config updates and chaincode lifecycles exist once:

* :func:`ensure_channels` — each channel's genesis block (made once with configtxgen and kept
  under ``state_dir/channels/``), orderers and peers joined
  (:func:`baas.network.channels.ensure_channels`), and the channel's config kept in step with
  the topology and PKI (:func:`baas.network.config.ensure`). The config step is skipped for a
  channel created in this run (its genesis *is* today's config) and for one whose inputs —
  the configtx text and every file it points at — did not change since the last successful
  sync (:func:`config_digest`, kept beside the genesis block).
* :func:`ensure_chaincodes` — each chaincode's lifecycle with each organisation's own package
  (:func:`baas.network.chaincode.ensure_chaincode`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from baas.errors import OperationError
from baas.network import chaincode as chaincode_ensures
from baas.network import channels as channel_ensures
from baas.network import config as channel_config
from baas.network import configtx, genesis, snapshotjoin
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report
from baas.network.crypto import CryptoTree
from baas.plan import ChannelPlan, NodePlan, OrgPlan, Plan


@dataclass(frozen=True)
class TreeConfigtxFiles:
    """configtx paths straight into the PKI tree on this machine (where configtxgen runs)."""

    plan: Plan
    crypto: CryptoTree

    def org_msp_dir(self, org: OrgPlan) -> str:
        return str(self.crypto.org_msp(org))

    def orderer_tls_cert(self, node: NodePlan) -> str:
        return str(self.crypto.node(self.plan.org(node.org), node).tls_cert)

    def orderer_sign_cert(self, node: NodePlan) -> str:
        return str(self.crypto.node(self.plan.org(node.org), node).sign_cert)


@dataclass(frozen=True)
class ChannelInputs:
    """What channel configs are made from: ``configtx_yaml`` (its addresses are the ones nodes
    dial, its file paths point into the PKI tree), the ``configtxgen`` that reads it, and the
    ``state_dir`` that keeps genesis blocks and config digests."""

    configtx_yaml: str
    configtxgen: Path
    state_dir: Path


def config_digest(plan: Plan, crypto: CryptoTree, text: str) -> str:
    """SHA-256 of everything a channel config is made from: the configtx text and every file
    it points at (organisations' verifying MSPs, CRLs included; consenters' certificates).
    Equal digests mean the channels need no config update."""
    digest = hashlib.sha256(text.encode())
    for org in plan.orgs:
        root = crypto.org_msp(org)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(crypto.root)).encode() + b"\0" + path.read_bytes())
        for node in org.orderers:
            paths = crypto.node(org, node)
            for path in (paths.tls_cert, paths.sign_cert):
                if path.is_file():
                    digest.update(path.read_bytes())
    return digest.hexdigest()


def digest_file(state_dir: Path, channel: str) -> Path:
    """Where the digest of a channel's last synced config inputs is kept."""
    return state_dir / "channels" / f"{channel}.config-digest"


def ensure_channels(
    access: NetworkAccess,
    inputs: ChannelInputs,
    *,
    restart: channel_config.Restart,
    report: Report,
    snapshots: snapshotjoin.SnapshotFolders | None = None,
) -> list[Change]:
    """Create, join and configure every channel of ``access.plan`` (see the module docstring).
    ``restart`` restarts one orderer (consenter rotation needs it); ``snapshots``, where the
    runtime's peers keep ledger snapshots, lets new peers of long channels join from one.
    Returns what changed."""
    changes: list[Change] = []
    created: set[str] = set()
    digest = config_digest(access.plan, access.crypto, inputs.configtx_yaml)

    def make_genesis(channel: ChannelPlan) -> bytes:
        block, made = genesis.ensure_genesis(
            configtxgen=inputs.configtxgen,
            configtx_yaml=inputs.configtx_yaml,
            channel=channel.name,
            profile=configtx.profile_name(channel),
            state_dir=inputs.state_dir,
        )
        if made:
            created.add(channel.name)
            changes.append(Change("created", f"genesis block of {channel.name}"))
        return block

    def sync(channel: ChannelPlan) -> list[Change]:
        marker = digest_file(inputs.state_dir, channel.name)
        done: list[Change] = []
        fresh = channel.name in created
        if not fresh and not (marker.is_file() and marker.read_text() == digest):
            desired = channel_config.desired_config(
                configtxgen=inputs.configtxgen,
                configtx_yaml=inputs.configtx_yaml,
                channel=channel,
            )
            done = channel_config.ensure(
                access, channel, desired=desired, restart=restart, report=report
            )
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(digest)
        return done

    joined = channel_ensures.ensure_channels(
        access, genesis=make_genesis, report=report, configure=sync, snapshots=snapshots
    )
    return changes + joined


def ensure_chaincodes(
    access: NetworkAccess,
    packages: Mapping[tuple[str, str], chaincode_ensures.Package],
    *,
    report: Report,
    on_defined: chaincode_ensures.OnDefined | None = None,
    before_commit: chaincode_ensures.OnDefined | None = None,
) -> list[Change]:
    """Every chaincode of ``access.plan`` defined on its channel; ``packages`` maps
    ``(organisation name, chaincode name)`` to that organisation's package of the chaincode,
    for every organisation that serves it. ``on_defined`` and ``before_commit`` as in
    :func:`baas.network.chaincode.ensure_chaincode`."""
    changes: list[Change] = []
    for cc in access.plan.chaincodes:
        own = {org: pkg for (org, name), pkg in packages.items() if name == cc.name}
        changes += chaincode_ensures.ensure_chaincode(
            access,
            cc,
            packages=own,
            report=report,
            on_defined=on_defined,
            before_commit=before_commit,
        )
    return changes


def pending_changes(access: NetworkAccess, *, configtx_yaml: str, configtxgen: Path) -> list[str]:
    """What :func:`ensure_channels` would change on each channel, read-only: ``create and
    join`` for a channel the orderers do not serve yet, else its config changes field by
    field (consenter rotations first), each line prefixed with ``channel <name>:``."""
    items: list[str] = []
    for channel in access.plan.channels:
        desired = channel_config.desired_config(
            configtxgen=configtxgen, configtx_yaml=configtx_yaml, channel=channel
        )
        try:
            current = channel_config.current_config(access, channel)
        except OperationError:
            items.append(f"channel {channel.name}: create and join")
            continue
        decision = channel_config.decide(access, channel, current=current, desired=desired)
        items += [f"channel {channel.name}: {line}" for line in decision.lines()]
    return items
