"""``baas up`` on this machine: a chain of ensures, each timed and reported.

1. **config** — ports (allocated once, kept in ``ports.json``), the release's config folder
   with Docker disabled, and the chaincode sources' dependencies (``npm ci`` once per
   lockfile, in the background while the nodes start).
2. **start** — every orderer and peer as a supervised process (supervisord: restarted with
   backoff when it dies, one log per node), then each node's ``/healthz``.
3. **channel** — genesis blocks (configtxgen, once), orderer joins, a leader, peer joins.
   Then, only while an organisation's TLS CA rotates (``baas pki rotate-ca``), **tls-ca**:
   its nodes re-issued and restarted one at a time, then the old CA retired
   (:mod:`baas.network.tlsrotation`).
4. **chaincode** — per member organisation a chaincode-as-a-service package and a supervised
   chaincode server, then install, approve (each organisation with its own admin), commit and
   Init where required.

Every step reads what exists and acts only on the difference, so a second ``up`` changes
nothing, and one after ``down`` restarts the nodes on their existing ledgers (no new genesis).
State lives in ``$BAAS_HOME/networks/<name>/``.
"""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import pki
from baas import releases
from baas.errors import OperationError, UsageError
from baas.fabric import binaries, deliver, lifecycle
from baas.fabric.binaries import FabricInstall
from baas.network import chaincode as chaincode_ensures
from baas.network import channels as channel_ensures
from baas.network import config as channel_config
from baas.network import configtx, converge, packaging, tlsrotation
from baas.network.access import NetworkAccess
from baas.network.changes import Change, Report
from baas.network.crypto import CryptoTree
from baas.nodeconfig import LOCAL, Tunables
from baas.plan import ChaincodePlan, ChannelPlan, NodePlan, OrgPlan, Plan, pki_org_specs_from_plan
from baas.runtimes import Target
from baas.runtimes.local import chaincode as chaincode_servers
from baas.runtimes.local import logs as node_logs
from baas.runtimes.local import nodes, ports
from baas.runtimes.local.snapshots import LocalSnapshotFolders
from baas.runtimes.local.supervision import ProgramSpec, Supervisor
from baas.smoke import checks
from baas.smoke import load as load_probe
from baas.smoke.load import LoadOptions, LoadResult
from baas.smoke.probe import require_first_deployers, with_probes
from baas.smoke.report import OnCheck, SmokeReport
from topology.names import PROBE_CHAINCODE
from topology.sources import SourceOutside, SourceRoot

CHAINCODE_TIMEOUT = 60.0


@dataclass(frozen=True)
class LocalOptions:
    """Choices outside the topology: where chaincode paths point (``sources``: the topology
    file's folder, or the API's confined source folder), the Fabric install to run, how long
    nodes may take to become healthy, and the timing tunables."""

    sources: SourceRoot
    install: FabricInstall
    timeout: float = 120.0
    tunables: Tunables = LOCAL
    signers: frozenset[str] | None = None
    """The organisations whose admins may sign changes (``None``: all; see
    :class:`~baas.network.access.NetworkAccess`)."""


@dataclass
class Phase:
    """One step of ``up``: its name, how long it took and what it changed."""

    name: str
    seconds: float = 0.0
    changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "seconds": round(self.seconds, 3), "changes": self.changes}


@dataclass
class UpResult:
    network: str
    phases: list[Phase] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(p.changes for p in self.phases)

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "target": "local",
            "changed": self.changed,
            "seconds": round(self.seconds, 3),
            "phases": [p.to_dict() for p in self.phases],
        }


class _Timer:
    def __init__(self, result: UpResult, name: str) -> None:
        self.phase = Phase(name)
        result.phases.append(self.phase)
        self._start = time.monotonic()

    def add(self, changes: list[Change] | list[str]) -> None:
        self.phase.changes += [str(c) for c in changes]

    def __enter__(self) -> _Timer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.phase.seconds = time.monotonic() - self._start


# ------------------------------------------------------------------------------ paths


def _crypto(state_dir: Path) -> CryptoTree:
    return CryptoTree(state_dir / "crypto")


def configtx_yaml(
    plan: Plan, *, state_dir: Path, addresses: ports.LocalAddresses, tunables: Tunables
) -> str:
    return configtx.configtx_yaml(
        plan,
        addresses=addresses,
        files=converge.TreeConfigtxFiles(plan, _crypto(state_dir)),
        batch_timeout=tunables.batch_timeout,
        raft=configtx.RaftOptions(
            tick_interval=tunables.raft_tick_interval,
            election_tick=tunables.raft_election_tick,
            heartbeat_tick=tunables.raft_heartbeat_tick,
        ),
    )


# ------------------------------------------------------------------------------ chaincode


def chaincode_program(org: OrgPlan, cc: ChaincodePlan) -> str:
    """supervisord program name of ``org``'s server of ``cc`` at its version
    (``cc-<org>-<channel>-<name>-v<version>``, characters supervisord refuses as ``_``): each
    version is a program of its own, so the next one starts beside it."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{_program_prefix(org, cc)}{cc.version}")


def _program_prefix(org: OrgPlan, cc: ChaincodePlan) -> str:
    """What every version's :func:`chaincode_program` of ``org``'s server of ``cc`` starts
    with."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"cc-{org.name}-{cc.channel}-{cc.name}-v")


def _previous_versions(
    plan: Plan, existing: list[str], *, wanted: set[str]
) -> dict[tuple[str, str], list[str]]:
    """Per (organisation, chaincode) of the plan, the programs in ``existing`` that serve
    another version of it: they keep serving until the plan's version is defined. Programs
    in ``wanted`` (the plan's own servers: a chaincode whose name extends another's, say
    ``basic-v2`` beside ``basic``, shares its prefix) are never among them."""
    found: dict[tuple[str, str], list[str]] = {}
    for org, cc in _served(plan):
        prefix = _program_prefix(org, cc)
        others = [n for n in existing if n.startswith(prefix) and n not in wanted]
        if others:
            found[(org.name, cc.name)] = others
    return found


def _served(plan: Plan) -> list[tuple[OrgPlan, ChaincodePlan]]:
    return [
        (org, cc)
        for cc in plan.chaincodes
        for org in plan.orgs
        if cc in packaging.served_chaincodes(plan, org)
    ]


def _folder(sources: SourceRoot, cc: ChaincodePlan) -> Path:
    """``cc``'s source folder: the smoke probe's is baas's own (validation reserves its name),
    every other one is the topology's, resolved by its :class:`SourceRoot` rule."""
    if cc.name == PROBE_CHAINCODE:
        return Path(cc.path)
    try:
        return sources.resolve(cc.path)
    except SourceOutside as exc:  # validated before; a link may have changed since
        raise UsageError(f"chaincode {cc.name}: {exc.message}", hint=exc.hint) from None


def _prepare_all(
    plan: Plan, sources: SourceRoot, report: Report
) -> dict[str, chaincode_servers.PreparedChaincode]:
    prepared: dict[str, chaincode_servers.PreparedChaincode] = {}
    for cc in plan.chaincodes:
        source = chaincode_servers.detect(_folder(sources, cc))
        prepared[cc.name] = chaincode_servers.prepare(source, report=report)
    return prepared


def _server_specs(
    plan: Plan,
    *,
    state_dir: Path,
    addresses: ports.LocalAddresses,
    prepared: dict[str, chaincode_servers.PreparedChaincode],
) -> tuple[list[ProgramSpec], dict[tuple[str, str], chaincode_ensures.Package]]:
    specs: list[ProgramSpec] = []
    packages: dict[tuple[str, str], chaincode_ensures.Package] = {}
    for org, cc in _served(plan):
        pkg = packaging.org_package(org, cc, addresses=addresses)
        packages[(org.name, cc.name)] = chaincode_ensures.Package(pkg.data, pkg.package_id)
        command = chaincode_servers.server_command(
            prepared[cc.name], package_id=pkg.package_id, address=pkg.address
        )
        name = chaincode_program(org, cc)
        specs.append(
            ProgramSpec(
                name=name,
                argv=command.argv,
                env=command.env,
                cwd=command.cwd,
                log_file=node_logs.log_path(state_dir, name),
            )
        )
    return specs, packages


def _wait_listening(address: str, *, timeout: float, watch: chaincode_servers.ServerWatch) -> None:
    """Return once the chaincode server at ``address`` (``HOST:PORT``) accepts a connection.

    Raises :class:`OperationError` after ``timeout`` seconds, or — ``watch`` checked twice a
    second — as soon as supervisord gave up on the server or it keeps being restarted (it
    exits at start: a missing module, a bad main), the message then ending with the server's
    own log."""
    host, _, port = address.rpartition(":")
    deadline = time.monotonic() + timeout
    next_check = time.monotonic() + 0.5
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.5
                failure = watch.failure()
                if failure is not None:
                    raise OperationError(
                        failure, hint="fix the chaincode and run `baas up` again"
                    ) from None
            if now > deadline:
                raise OperationError(
                    f"the chaincode server at {address} does not accept connections",
                    hint="see its log with `baas logs FILE` (chaincode servers are listed)",
                ) from None
            time.sleep(0.05)


# ------------------------------------------------------------------------------ channel config


def _restarter(state_dir: Path, addresses: ports.LocalAddresses) -> channel_config.Restart:
    def restart(node: NodePlan) -> None:
        Supervisor(state_dir).restart(nodes.program_name(node))
        deadline = time.monotonic() + CHAINCODE_TIMEOUT
        while not nodes.probe_health(addresses, node).ok:
            if time.monotonic() > deadline:
                raise OperationError(
                    f"{node.fqdn} is not healthy after its restart",
                    hint=f"see its log: `baas logs FILE {node.fqdn}`",
                )
            time.sleep(0.1)

    return restart


# ------------------------------------------------------------------------------ up


def _ensure_chaincodes(
    plan: Plan,
    access: NetworkAccess,
    *,
    state_dir: Path,
    prepared: dict[str, chaincode_servers.PreparedChaincode],
    step: _Timer,
    report: Report,
) -> None:
    """Chaincode servers (exactly the plan's: servers of chaincodes gone from the topology
    stop), then each chaincode's lifecycle, then a check that every server listens.

    A server that already runs and would change (a new version's package, new code) keeps
    serving as it is until its chaincode's new definition is committed on every member peer
    (``on_defined``); only then is it restarted with the new package. A step that fails before
    that, or approvals still awaited, leave the previous version serving."""
    addresses = access.addresses
    assert isinstance(addresses, ports.LocalAddresses)
    specs, packages = _server_specs(
        plan, state_dir=state_dir, addresses=addresses, prepared=prepared
    )
    supervisor = Supervisor(state_dir)
    held = set(supervisor.pending(specs, scope="chaincode"))
    previous = _previous_versions(
        plan, supervisor.existing(scope="chaincode"), wanted={spec.name for spec in specs}
    )
    held |= {name for names in previous.values() for name in names}

    def apply() -> None:
        changes = supervisor.ensure_programs(specs, scope="chaincode", hold=held)
        step.add([f"{c.action} chaincode server {c.name}" for c in changes])

    def listening(cc: ChaincodePlan) -> None:
        """The plan's servers of ``cc`` answer (before its commit: the new version's servers
        started beside the running ones)."""
        for org, c in _served(plan):
            if c == cc:
                watch = chaincode_servers.ServerWatch(state_dir, chaincode_program(org, c))
                _wait_listening(
                    str(addresses.chaincode(org, c)), timeout=CHAINCODE_TIMEOUT, watch=watch
                )

    def serve(cc: ChaincodePlan) -> None:
        mine = [(org, c) for org, c in _served(plan) if c == cc]
        released = held & {chaincode_program(org, c) for org, c in mine}
        retired = {name for org, c in mine for name in previous.get((org.name, c.name), [])}
        if released or retired & held:
            held.difference_update(released | retired)
            apply()
        if cc.name != PROBE_CHAINCODE:  # the version now defined: what a rollback returns to
            releases.keep(
                plan.network,
                chaincode=cc.name,
                version=cc.version,
                source=prepared[cc.name].source.path,
            )

    apply()
    # A chaincode still awaiting approvals (``approval: manual``) never reaches serve(): its
    # held servers keep serving the committed definition until a later run commits the new one.
    step.add(
        converge.ensure_chaincodes(
            access, packages, report=report, on_defined=serve, before_commit=listening
        )
    )
    for org, cc in _served(plan):
        watch = chaincode_servers.ServerWatch(state_dir, chaincode_program(org, cc))
        _wait_listening(str(addresses.chaincode(org, cc)), timeout=CHAINCODE_TIMEOUT, watch=watch)


def up(plan: Plan, *, state_dir: Path, options: LocalOptions, report: Report) -> UpResult:
    """Bring ``plan`` up on this machine (see the module docstring); the PKI tree must exist
    under ``state_dir/crypto``. Returns every phase with its timing and changes."""
    result = UpResult(plan.network)
    crypto = _crypto(state_dir)
    with ThreadPoolExecutor(max_workers=1) as background:
        with _Timer(result, "config") as step:
            table = ports.ensure_ports(plan, state_dir)
            addresses = table.addresses
            step.add([f"allocated {lis.describe()}" for lis in table.allocated])
            prepared: Future[dict[str, chaincode_servers.PreparedChaincode]] = background.submit(
                _prepare_all, plan, options.sources, report
            )
        with _Timer(result, "start") as step:
            started = _ensure_nodes(
                plan, state_dir=state_dir, addresses=addresses, options=options, report=report
            )
            step.add([f"{c.action} {c.name}" for c in started.changes])
            step.add([f"wrote {name}" for name in started.config_written])
        with NetworkAccess(plan, crypto, addresses, signers=options.signers) as access:
            with _Timer(result, "channel") as step:
                text = configtx_yaml(
                    plan, state_dir=state_dir, addresses=addresses, tunables=options.tunables
                )
                inputs = converge.ChannelInputs(text, options.install.configtxgen, state_dir)
                step.add(
                    converge.ensure_channels(
                        access,
                        inputs,
                        restart=_restarter(state_dir, addresses),
                        report=report,
                        snapshots=LocalSnapshotFolders(state_dir),
                    )
                )
            if pki.rotations(crypto.root, pki_org_specs_from_plan(plan)):
                with _Timer(result, "tls-ca") as step:
                    step.add(_rotate_tls_cas(plan, access, inputs, options=options, report=report))
            with _Timer(result, "chaincode") as step:
                _ensure_chaincodes(
                    plan,
                    access,
                    state_dir=state_dir,
                    prepared=prepared.result(),
                    step=step,
                    report=report,
                )
    return result


def _ensure_nodes(
    plan: Plan,
    *,
    state_dir: Path,
    addresses: ports.LocalAddresses,
    options: LocalOptions,
    report: Report,
) -> nodes.NodesResult:
    """Every node supervised with its current files; a node whose certificates changed (its
    identity digest) restarts. What ``up``'s start phase and a TLS CA roll both run."""
    crypto = _crypto(state_dir)
    return nodes.ensure_nodes(
        plan,
        crypto_root=crypto.root,
        install=options.install,
        state_dir=state_dir,
        addresses=addresses,
        tunables=options.tunables,
        report=report,
        timeout=options.timeout,
        identity_digests=pki.identity_digests(crypto.root, pki_org_specs_from_plan(plan)),
    )


def _rotate_tls_cas(
    plan: Plan,
    access: NetworkAccess,
    inputs: converge.ChannelInputs,
    *,
    options: LocalOptions,
    report: Report,
) -> list[Change]:
    """The TLS CA rotations in progress (:mod:`baas.network.tlsrotation`), with this machine's
    channel step and rolling node restarts (each node restarts when its certificates or
    trust bundle changed, one at a time, healthy before the next)."""
    state_dir = inputs.state_dir
    addresses = access.addresses
    assert isinstance(addresses, ports.LocalAddresses)

    def sync() -> list[Change]:
        return converge.ensure_channels(
            access,
            inputs,
            restart=_restarter(state_dir, addresses),
            report=report,
            snapshots=LocalSnapshotFolders(state_dir),
        )

    def roll() -> None:
        _ensure_nodes(
            plan, state_dir=state_dir, addresses=addresses, options=options, report=report
        )

    return tlsrotation.ensure_all(access, options=plan.pki, sync=sync, roll=roll, report=report)


# ------------------------------------------------------------------------------ down, status


@dataclass
class DownResult:
    network: str
    stopped: list[str]
    purged: bool

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "stopped": self.stopped, "purged": self.purged}


def down(plan: Plan, *, state_dir: Path, purge: bool, report: Report) -> DownResult:
    """Stop every process of the network (nodes, chaincode servers, the supervisor). Ledgers,
    ports and the PKI stay, so the next ``up`` resumes; ``purge`` deletes the whole state
    folder (ledgers, keys, logs) as well."""
    supervisor = Supervisor(state_dir)
    running = (
        [name for name, state in supervisor.status().items() if state.running]
        if supervisor.answers()
        else []
    )
    if supervisor.shutdown():
        report(f"stopped {len(running)} process(es) and their supervisor")
    stopped = running
    if purge and state_dir.exists():
        shutil.rmtree(state_dir)
        report(f"deleted {state_dir}")
    return DownResult(plan.network, stopped, purge)


@dataclass
class ChannelStatus:
    name: str
    heights: dict[str, int | None]
    chaincodes: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "heights": self.heights, "chaincodes": self.chaincodes}


@dataclass
class StatusResult:
    network: str
    nodes: list[dict[str, Any]]
    chaincode_servers: list[dict[str, Any]]
    channels: list[ChannelStatus]
    last_load: dict[str, Any] | None = None

    @property
    def running(self) -> bool:
        return bool(self.nodes) and all(n.get("healthy") for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "target": "local",
            "running": self.running,
            "nodes": self.nodes,
            "chaincodeServers": self.chaincode_servers,
            "channels": [c.to_dict() for c in self.channels],
            "lastLoad": self.last_load,
        }


def _height(access: NetworkAccess, node: NodePlan, channel: str) -> int | None:
    admin = access.admin(access.org_of(node))
    target = access.peer(node).target if node.role == "peer" else access.orderer(node)
    source: deliver.Source = "peer" if node.role == "peer" else "orderer"
    try:
        return deliver.height(access.connections, target, admin, channel=channel, source=source)
    except OperationError:
        return None


def _channel_status(
    access: NetworkAccess, channel: ChannelPlan, healthy: set[str]
) -> ChannelStatus:
    plan = access.plan
    involved = channel_ensures.consenters(plan, channel) + channel_ensures.members(plan, channel)

    def height_of(node: NodePlan) -> int | None:
        return _height(access, node, channel.name) if node.fqdn in healthy else None

    with ThreadPoolExecutor(max_workers=8) as pool:
        heights = dict(zip([n.fqdn for n in involved], pool.map(height_of, involved), strict=True))
    committed: list[dict[str, Any]] = []
    members = [p for p in channel_ensures.members(plan, channel) if heights.get(p.fqdn)]
    if members:
        try:
            found = lifecycle.committed_all(
                access.peer(members[0]),
                access.admin(access.org_of(members[0])),
                channel=channel.name,
            )
        except OperationError:
            found = []
        committed = [{"name": d.name, "version": d.version, "sequence": d.sequence} for d in found]
    return ChannelStatus(channel.name, heights, committed)


def status(plan: Plan, *, state_dir: Path) -> StatusResult:
    """Every node (pid, state, ports, health), every chaincode server, and per channel each
    node's block height and the committed chaincodes. Read-only; nodes that are down show
    ``healthy: false`` and no height."""
    addresses = ports.load_addresses(state_dir)
    node_states = nodes.node_status(plan, state_dir=state_dir, addresses=addresses)
    supervisor_state = Supervisor(state_dir).status()
    servers = [
        {
            "program": chaincode_program(org, cc),
            "org": org.name,
            "chaincode": cc.name,
            "channel": cc.channel,
            "address": str(addresses.chaincode(org, cc))
            if addresses.has_chaincode(org, cc)
            else None,
            "state": supervisor_state[chaincode_program(org, cc)].state
            if chaincode_program(org, cc) in supervisor_state
            else "absent",
        }
        for org, cc in _served(plan)
    ]
    healthy = {n.name for n in node_states if n.healthy}
    result = StatusResult(
        plan.network,
        [n.to_dict() for n in node_states],
        servers,
        [],
        load_probe.latest(state_dir),
    )
    if not healthy:
        return result
    with NetworkAccess(plan, _crypto(state_dir), addresses) as access:
        result.channels = [_channel_status(access, ch, healthy) for ch in plan.channels]
    return result


def logs(
    plan: Plan, *, state_dir: Path, node: str | None, follow: bool, lines: int = 50
) -> Iterator[str]:
    """The last ``lines`` of one node's log (``node``: its FQDN, short program name or a
    chaincode server program), or of every node's; ``follow`` keeps reading."""
    names = nodes.program_names(plan) + [chaincode_program(o, c) for o, c in _served(plan)]
    chosen = names if node is None else [n for n in names if node in (n, n.replace("_", "."))]
    if node is not None and not chosen:
        from baas.errors import UsageError

        raise UsageError(
            f"no node or chaincode server named {node!r} in network {plan.network}",
            hint="choose one of: " + ", ".join(n.replace("_", ".") for n in names),
        )
    if follow and len(chosen) == 1:
        yield from node_logs.follow(node_logs.log_path(state_dir, chosen[0]))
        return
    for name in chosen:
        path = node_logs.log_path(state_dir, name)
        if len(chosen) > 1:
            yield f"==> {path} <=="
        yield from node_logs.tail(path, lines)


# ------------------------------------------------------------------------------ the Runtime


@dataclass
class ChangeList:
    """What ``up`` would do locally (read-only)."""

    network: str
    items: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "target": "local", "changes": self.items}

    def lines(self) -> list[str]:
        return list(self.items)

    def summary_line(self) -> str:
        return f"{len(self.items)} change(s)" if self.items else "no changes: the network is up"


@dataclass
class LocalRuntime:
    """The local runtime behind :class:`baas.runtimes.Runtime`. ``release`` is the pinned
    Fabric release; ``fabric_bin`` an explicit Fabric folder (else FABRIC_BIN, the cache,
    PATH)."""

    state_dir: Path
    sources: SourceRoot
    release: str
    fabric_bin: Path | None = None
    timeout: float | None = None
    tunables: Tunables = LOCAL
    target: Target = "local"
    _install: FabricInstall | None = None

    def install(self) -> FabricInstall:
        if self._install is None:
            self._install = binaries.find(self.release, fabric_bin=self.fabric_bin)
        return self._install

    def preflight(self, plan: Plan) -> None:
        """Binaries, chaincode folders, and — for a running network — that the consenter set
        changes by at most one orderer, all before anything is written."""
        self.install()
        for cc in plan.chaincodes:
            chaincode_servers.detect(_folder(self.sources, cc))
        addresses = ports.load_addresses(self.state_dir)
        if not addresses.nodes or not (self.state_dir / "crypto").is_dir():
            return
        with NetworkAccess(plan, _crypto(self.state_dir), addresses) as access:
            for channel in plan.channels:
                channel_config.check_consenter_change(access, channel)

    @property
    def probe_marker(self) -> Path:
        """Present once ``baas smoke`` deployed its probe: ``up`` then keeps it running."""
        return self.state_dir / "smoke" / "probe-deployed"

    def effective(self, plan: Plan) -> Plan:
        """``plan``, plus the smoke probe on every channel once smoke has deployed it (so that
        ``up`` keeps its servers and ports instead of dropping them)."""
        return with_probes(plan) if self.probe_marker.exists() else plan

    def up(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> UpResult:
        plan = self.effective(plan)
        options = LocalOptions(
            sources=self.sources,
            install=self.install(),
            timeout=self.timeout or 120.0,
            tunables=self.tunables,
            signers=signers,
        )
        return up(plan, state_dir=self.state_dir, options=options, report=report)

    def deliver(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> UpResult:
        """``up``'s ``config`` step for chaincode (ports of new chaincode servers, builds) and
        its ``chaincode`` step, nothing else: the nodes must run (UsageError otherwise). The
        running servers keep serving until a new definition is committed."""
        plan = self.effective(plan)
        if not ports.load_addresses(self.state_dir).nodes or not crypto.is_dir():
            raise UsageError(
                f"network {plan.network} does not run on this machine",
                hint="start it with `baas up FILE`, then deliver",
            )
        result = UpResult(plan.network)
        with _Timer(result, "build") as step:
            table = ports.ensure_ports(plan, self.state_dir)
            step.add([f"allocated {lis.describe()}" for lis in table.allocated])
            prepared = _prepare_all(plan, self.sources, report)
        with (
            NetworkAccess(plan, _crypto(self.state_dir), table.addresses, signers=signers) as a,
            _Timer(result, "chaincode") as step,
        ):
            _ensure_chaincodes(
                plan, a, state_dir=self.state_dir, prepared=prepared, step=step, report=report
            )
        return result

    def down(self, plan: Plan, *, purge: bool, report: Report) -> DownResult:
        return down(plan, state_dir=self.state_dir, purge=purge, report=report)

    def status(self, plan: Plan) -> StatusResult:
        return status(self.effective(plan), state_dir=self.state_dir)

    def changes(self, plan: Plan, *, crypto: Path) -> ChangeList:
        """What ``up`` would do, read-only: nodes to start, and — when the network runs —
        each channel's pending config changes, field by field (consenter rotations first)."""
        plan = self.effective(plan)
        state = status(plan, state_dir=self.state_dir)
        items = [f"start {n['name']}" for n in state.nodes if not n.get("healthy")]
        if not state.running or not crypto.is_dir():
            return ChangeList(plan.network, items)
        addresses = ports.load_addresses(self.state_dir)
        text = configtx_yaml(
            plan, state_dir=self.state_dir, addresses=addresses, tunables=self.tunables
        )
        with NetworkAccess(plan, _crypto(self.state_dir), addresses) as access:
            items += converge.pending_changes(
                access, configtx_yaml=text, configtxgen=self.install().configtxgen
            )
            items += tlsrotation.pending_changes(access)
        return ChangeList(plan.network, items)

    @contextmanager
    def access(self, plan: Plan) -> Iterator[NetworkAccess]:
        """Admin access to this machine's network (``plan`` plus smoke's probe once it is
        deployed); UsageError when it was never brought up here."""
        addresses = ports.load_addresses(self.state_dir)
        if not addresses.nodes or not (self.state_dir / "crypto").is_dir():
            raise UsageError(
                f"network {plan.network} does not run on this machine",
                hint="start it with `baas up FILE`",
            )
        with NetworkAccess(self.effective(plan), _crypto(self.state_dir), addresses) as access:
            yield access

    def logs(self, plan: Plan, *, node: str | None, follow: bool, lines: int) -> Iterator[str]:
        return logs(
            self.effective(plan), state_dir=self.state_dir, node=node, follow=follow, lines=lines
        )

    def smoke(
        self,
        plan: Plan,
        *,
        on_check: OnCheck | None = None,
        load: LoadOptions | None = None,
        on_load: Callable[[LoadResult], None] | None = None,
        signers: frozenset[str] | None = None,
    ) -> SmokeReport:
        """Every check of :mod:`baas.smoke.checks` against this machine's network; with
        ``load``, then a load probe on every channel (only when every check passed), whose
        results are kept for ``baas status``. ``signers``: who may sign the probe's
        deployment (:class:`~baas.network.access.NetworkAccess`)."""
        target = _LocalSmokeTarget(self, signers)
        addresses = ports.load_addresses(self.state_dir)
        loads: list[LoadResult] = []
        with NetworkAccess(plan, _crypto(self.state_dir), addresses, signers=signers) as access:
            results = checks.run_checks(target, access, on_check=on_check)
            if load is not None and all(r.passed or r.status == "skipped" for r in results):
                for channel in plan.channels:
                    done = load_probe.run_load(access, channel, load, on_progress=on_load)
                    load_probe.save(done, self.state_dir)
                    loads.append(done)
        return SmokeReport(plan.network, "local", tuple(results), tuple(loads))


@dataclass
class _LocalSmokeTarget:
    """What the smoke checks need from the local runtime."""

    runtime: LocalRuntime
    signers: frozenset[str] | None = None

    def node_health(self, plan: Plan) -> dict[str, bool]:
        state = nodes.node_status(
            plan,
            state_dir=self.runtime.state_dir,
            addresses=ports.load_addresses(self.runtime.state_dir),
        )
        return {n.name: bool(n.healthy) for n in state}

    def ensure_probe(self, plan: Plan) -> list[str]:
        runtime = self.runtime
        require_first_deployers(self.signers, plan, deployed=runtime.probe_marker.exists())
        runtime.probe_marker.parent.mkdir(parents=True, exist_ok=True)
        runtime.probe_marker.touch()
        probed = with_probes(plan)
        table = ports.ensure_ports(probed, runtime.state_dir)
        prepared = _prepare_all(probed, runtime.sources, lambda _: None)
        phase = _Timer(UpResult(plan.network), "probe")
        crypto = _crypto(runtime.state_dir)
        with NetworkAccess(probed, crypto, table.addresses, signers=self.signers) as access:
            _ensure_chaincodes(
                probed,
                access,
                state_dir=runtime.state_dir,
                prepared=prepared,
                step=phase,
                report=lambda _: None,
            )
        return [c for c in phase.phase.changes if PROBE_CHAINCODE in c]

    def metrics(self, node: NodePlan) -> str:
        address = ports.load_addresses(self.runtime.state_dir).operations(node)
        try:
            return httpx.get(f"http://{address}/metrics", timeout=5.0).text
        except httpx.HTTPError:
            return ""
