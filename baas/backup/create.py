"""``baas backup`` of a network on the local runtime: a folder a restore can trust.

Order matters for consistency: the peers' snapshots first (one agreed block per channel), then
each orderer's ledger, one orderer at a time (each copy holds at least the snapshots' blocks,
so a peer restored from a snapshot finds every later block at the orderers). The network keeps
serving transactions throughout (a single-orderer network pauses ordering while it is copied).

The folder is built beside ``dest`` (``<dest>.partial``) and moved into place only when
complete and signed; an earlier backup at ``dest`` is replaced then. A re-run starts the
partial folder afresh and reuses peers' snapshots already generated at the same block. Every
file is 0600 and every folder 0700; every private key is encrypted
(:mod:`baas.backup.encryption`).

Backup layout::

    topology.yaml                    the topology the network was brought up from
    state/...                        the network's state folder without data, logs, config:
                                     crypto/ (keys as *.enc), ports.json, channels/ (genesis
                                     blocks), chaincode/, smoke/
    blocks/<channel>/config.block    the latest config block
    snapshots/<channel>/<peer>/      a peer's ledger snapshot (Fabric's files as generated)
    orderers/<orderer>/              an orderer's data folder (ledger, Raft WAL and snapshots)
    manifest.json, manifest.sig
"""

from __future__ import annotations

import datetime
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from baas import __version__
from baas.backup import encryption, manifest, orderers, snapshots
from baas.errors import UsageError
from baas.fabric import deliver
from baas.network.access import NetworkAccess
from baas.network.changes import Report
from baas.plan import NodePlan, Plan

STATE_ITEMS = ("crypto", "ports.json", "channels", "chaincode", "smoke")
"""What of a local network's state folder a backup holds (data, logs, config, the supervisor's
files are either copied otherwise or rebuilt by ``up``)."""
ENCRYPTED_SUFFIX = ".enc"
DIR_MODE = 0o700
FILE_MODE = 0o600


@dataclass(frozen=True)
class BackupRequest:
    """What to back up and where: the plan, the topology's text, the network's state folder,
    the destination folder, the passphrase and the Fabric version that runs."""

    plan: Plan
    topology_text: str
    state_dir: Path
    dest: Path
    passphrase: str
    fabric_version: str


@dataclass
class BackupResult:
    """What a backup holds: per channel the height of its snapshots, per orderer the heights
    of its copy, the file count and bytes (of which encrypted), the signer's fingerprint."""

    network: str
    folder: Path
    heights: dict[str, int]
    orderers: dict[str, dict[str, int]]
    files: int
    bytes: int
    encrypted: int
    signer: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "target": "local",
            "folder": str(self.folder),
            "heights": self.heights,
            "orderers": self.orderers,
            "files": self.files,
            "bytes": self.bytes,
            "encrypted": self.encrypted,
            "signer": self.signer,
            "seconds": round(self.seconds, 3),
        }


def private_tree(root: Path) -> None:
    """Set every folder under ``root`` (itself included) to 0700 and every file to 0600."""
    root.chmod(DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            Path(folder, name).chmod(DIR_MODE)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(FILE_MODE)


def _prepare_dest(dest: Path) -> Path:
    """The partial folder to build in, fresh; refuses a ``dest`` that holds anything but an
    earlier backup."""
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / manifest.MANIFEST).is_file():
        raise UsageError(
            f"{dest} is not empty and holds no baas backup: refusing to write into it",
            hint="choose an empty or new folder",
        )
    partial = dest.with_name(dest.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True, mode=DIR_MODE)
    return partial


def _copy_state(state_dir: Path, out: Path, key: bytes) -> set[str]:
    """Copy :data:`STATE_ITEMS` of ``state_dir`` to ``out/state``, every secret of the PKI
    tree encrypted; returns the stored paths of the encrypted files."""
    encrypted: set[str] = set()
    for item in STATE_ITEMS:
        source = state_dir / item
        if not source.exists():
            continue
        files = (
            [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
        )
        for path in files:
            rel = PurePosixPath("state") / path.relative_to(state_dir).as_posix()
            data = path.read_bytes()
            if item == "crypto" and encryption.is_secret(rel, data):
                stored = f"{rel}{ENCRYPTED_SUFFIX}"
                data = encryption.encrypt(key, data, path=stored)
                encrypted.add(stored)
            else:
                stored = str(rel)
            target = out / stored
            target.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            target.write_bytes(data)
    return encrypted


@dataclass(frozen=True)
class LocalOrderers:
    """:class:`~baas.backup.orderers.OrdererControl` of the local runtime: the network's
    supervisor stops and starts one orderer; started means healthy again."""

    state_dir: Path
    timeout: float = 120.0

    def stop(self, node: NodePlan) -> None:
        from baas.runtimes.local import nodes
        from baas.runtimes.local.supervision import Supervisor

        Supervisor(self.state_dir).stop(nodes.program_name(node))

    def start(self, node: NodePlan) -> None:
        from baas.errors import OperationError
        from baas.runtimes.local import nodes, ports
        from baas.runtimes.local.supervision import Supervisor

        Supervisor(self.state_dir).start(nodes.program_name(node))
        addresses = ports.load_addresses(self.state_dir)
        deadline = time.monotonic() + self.timeout
        while not nodes.probe_health(addresses, node).ok:
            if time.monotonic() > deadline:
                raise OperationError(f"{node.fqdn} is not healthy after its restart")
            time.sleep(0.1)

    def data_dir(self, node: NodePlan) -> Path:
        from baas.runtimes.local import nodes

        return nodes.data_dir(self.state_dir, node)


def local_snapshot_folder(state_dir: Path) -> snapshots.Locate:
    """Where a local peer writes its completed snapshots (``CORE_LEDGER_SNAPSHOTS_ROOTDIR``
    is ``data/<fqdn>/snapshots``)."""
    from baas.runtimes.local import nodes

    def locate(peer: NodePlan, channel: str, block: int) -> Path:
        return nodes.data_dir(state_dir, peer) / "snapshots" / "completed" / channel / str(block)

    return locate


def _config_block(access: NetworkAccess, orderer: NodePlan, channel: str) -> bytes:
    block = deliver.config_block(
        access.connections,
        access.orderer(orderer),
        access.admin(access.org_of(orderer)),
        channel=channel,
    )
    data: bytes = block.SerializeToString()
    return data


def _write(out: Path, rel: str, data: bytes) -> None:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    path.write_bytes(data)


def _snapshot_channels(
    access: NetworkAccess, out: Path, *, state_dir: Path, report: Report
) -> list[manifest.ChannelEntry]:
    entries = []
    locate = local_snapshot_folder(state_dir)
    for channel in access.plan.channels:
        taken = snapshots.take(access, channel, locate=locate, report=report)
        stored = {}
        for peer, folder in taken.folders.items():
            rel = f"snapshots/{channel.name}/{peer}"
            shutil.copytree(folder, out / rel)
            stored[peer] = rel
        orderer = access.plan.org(channel.orderer_orgs[0]).orderers[0]
        config_rel = f"blocks/{channel.name}/config.block"
        _write(out, config_rel, _config_block(access, orderer, channel.name))
        entries.append(
            manifest.ChannelEntry(
                name=channel.name,
                height=taken.height,
                state_hash=taken.state_hash,
                snapshots=stored,
                genesis_block=f"state/channels/{channel.name}.block",
                config_block=config_rel,
            )
        )
    return entries


def _copy_orderers(
    access: NetworkAccess, out: Path, *, state_dir: Path, report: Report
) -> list[manifest.OrdererEntry]:
    plan = access.plan
    all_orderers = [o for org in plan.orgs for o in org.orderers]
    control = LocalOrderers(state_dir)
    entries = []
    for node in all_orderers:
        served = [c.name for c in plan.channels if node.org in c.orderer_orgs]
        others = [o for o in all_orderers if o != node]
        if not others:
            report(f"orderer {node.fqdn} is the only one: ordering pauses while it is copied")
        rel = f"orderers/{node.fqdn}"
        copy = orderers.copy_ledger(
            access,
            node,
            control=control,
            dest=out / rel,
            channels=served,
            others=others,
            report=report,
        )
        entries.append(manifest.OrdererEntry(node.fqdn, rel, copy.heights))
    return entries


def _copy_peers(
    access: NetworkAccess, out: Path, *, state_dir: Path, report: Report
) -> list[manifest.OrdererEntry]:
    """The first peer of each organisation stopped, its data folder copied (ledger, state and
    private data: a snapshot holds only private data *hashes*, so a network whose every peer is
    lost needs these for its implicit collections, chaincode approvals included), started."""
    control = LocalOrderers(state_dir)
    entries = []
    for org in access.plan.orgs:
        if not org.peers:
            continue
        node = org.peers[0]
        report(f"peer {node.fqdn}: stopping to copy its ledger and private data")
        rel = f"peers/{node.fqdn}"
        control.stop(node)
        try:
            shutil.copytree(control.data_dir(node), out / rel, symlinks=True)
        finally:
            control.start(node)
        entries.append(manifest.OrdererEntry(node.fqdn, rel, {}))
    return entries


def _signer(access: NetworkAccess) -> tuple[manifest.Signer, Any]:
    """The consortium admin: the admin of the plan's first organisation (the one that
    orders, in every example topology); the CA certificate that issued it."""
    org = access.plan.orgs[0]
    identity = access.admin(org)
    ca = access.crypto.org(org).authority("ca").cert
    crypto_rel = ca.relative_to(access.crypto.root).as_posix()
    ca_rel = f"state/crypto/{crypto_rel}"
    signer = manifest.Signer(org.name, org.msp_id, identity.cert_pem.decode(), ca_rel)
    return signer, identity


def _swap_into_place(partial: Path, dest: Path) -> None:
    if dest.exists():
        old = dest.with_name(dest.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        dest.rename(old)
        partial.rename(dest)
        shutil.rmtree(old)
    else:
        partial.rename(dest)


def create(request: BackupRequest, *, access: NetworkAccess, report: Report) -> BackupResult:
    """Back the running network of ``access`` up into ``request.dest`` (see the module
    docstring). Raises UsageError for a wrong destination or passphrase, OperationError when
    a snapshot or an orderer copy fails (the partial folder is left for inspection; the next
    run starts it afresh)."""
    started = time.monotonic()
    encryption.check_passphrase(request.passphrase)
    out = _prepare_dest(request.dest)
    kdf = encryption.KeyDerivation.fresh()
    key = kdf.derive(request.passphrase)
    report(f"backup of {request.plan.network} into {request.dest}")
    encrypted = _copy_state(request.state_dir, out, key)
    report(f"copied the network's state: {len(encrypted)} private key(s) encrypted")
    _write(out, "topology.yaml", request.topology_text.encode())
    channels = _snapshot_channels(access, out, state_dir=request.state_dir, report=report)
    copies = _copy_orderers(access, out, state_dir=request.state_dir, report=report)
    peer_copies = _copy_peers(access, out, state_dir=request.state_dir, report=report)
    private_tree(out)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    entries = [
        manifest.entry(out, p, encrypted=p.relative_to(out).as_posix() in encrypted) for p in files
    ]
    signer, identity = _signer(access)
    made = manifest.Manifest(
        network=request.plan.network,
        created=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        baas_version=__version__,
        fabric_version=request.fabric_version,
        topology="topology.yaml",
        kdf=kdf.to_dict(),
        key_check=encryption.key_check(key),
        signer=signer,
        channels=channels,
        orderers=copies,
        peers=peer_copies,
        files=entries,
    )
    manifest.write(out, made, identity)
    _swap_into_place(out, request.dest)
    result = BackupResult(
        network=request.plan.network,
        folder=request.dest,
        heights=made.heights(),
        orderers={o.name: o.heights for o in copies},
        files=len(entries),
        bytes=sum(e.size for e in entries),
        encrypted=len(encrypted),
        signer=signer.fingerprint(),
        seconds=time.monotonic() - started,
    )
    report(f"backup complete: {result.files} files, {result.bytes} bytes, heights {result.heights}")
    return result
