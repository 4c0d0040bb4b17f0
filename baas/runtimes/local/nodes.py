"""Peers and orderers of a local network: Fabric's own binaries, supervised, on 127.0.0.1.

Deciding and acting are apart: :func:`node_programs` turns the plan into one
:class:`~baas.runtimes.local.supervision.ProgramSpec` per node (pure: paths, argv and the
environment of :mod:`baas.nodeconfig`); :func:`ensure_nodes` hands them to the network's
:class:`~baas.runtimes.local.supervision.Supervisor` and waits until every node's operations
``/healthz`` answers 200.

Layout under the network's state folder::

    config/<release>/{core.yaml,orderer.yaml}   FABRIC_CFG_PATH (core.yaml: vm.endpoint "")
    data/<node fqdn>/                           ledger, Raft WAL and snapshots; cwd of the node
    logs/<program>.log                          program = fqdn with '.' replaced by '_'
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from baas.errors import OperationError
from baas.nodeconfig import NodeFiles, Tunables, node_env, write_core_yaml
from baas.plan import NodePlan, Plan, pki_org_specs_from_plan
from baas.runtimes.local import logs
from baas.runtimes.local.ports import LocalAddresses, check_free, load_addresses
from baas.runtimes.local.supervision import (
    RUNNING_STATES,
    ProgramChange,
    ProgramSpec,
    ProgramState,
    Supervisor,
)
from pki.identities import identities_of
from pki.layout import OrgPaths

SCOPE = "nodes"
"""The supervisor scope of node programs (chaincode servers use another)."""

DEFAULT_TIMEOUT_S = 60.0
HEALTH_PROBE_TIMEOUT_S = 5.0  # generous: 2 cores shared with a whole network
LOG_LINES = 20
FAILED_STATES = frozenset({"FATAL", "BACKOFF"})
"""States meaning a node died while starting (BACKOFF: supervisord is retrying it)."""

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class Install(Protocol):
    """What the local runtime needs of a Fabric install
    (:class:`baas.fabric.binaries.FabricInstall` fits): ``bin_dir`` with peer and orderer,
    ``config_dir`` with core.yaml and orderer.yaml, ``builders_dir`` the ccaas builder folder
    containing ``bin/``."""

    @property
    def release(self) -> str: ...

    @property
    def bin_dir(self) -> Path: ...

    @property
    def config_dir(self) -> Path: ...

    @property
    def builders_dir(self) -> Path: ...


# ------------------------------------------------------------------------------ deciding


def program_name(node: NodePlan) -> str:
    """supervisord's name for ``node``: its fqdn with ``.`` replaced by ``_`` (fqdns are DNS
    names, without ``_``, so the mapping is one-to-one)."""
    return node.fqdn.replace(".", "_")


def program_names(plan: Plan) -> list[str]:
    """:func:`program_name` of every node of ``plan``, in :func:`all_nodes` order."""
    return [program_name(node) for node in all_nodes(plan)]


def data_dir(state_dir: Path, node: NodePlan) -> Path:
    return state_dir.absolute() / "data" / node.fqdn


def config_dir(state_dir: Path, release: str) -> Path:
    return state_dir.absolute() / "config" / release


def all_nodes(plan: Plan) -> list[NodePlan]:
    """Every node of ``plan``: orderers first (peers need them once they join), plan order."""
    orderers = [n for org in plan.orgs for n in org.orderers]
    peers = [n for org in plan.orgs for n in org.peers]
    return orderers + peers


def node_files(
    plan: Plan, node: NodePlan, *, crypto_root: Path, state_dir: Path, install: Install
) -> NodeFiles:
    """Absolute paths of ``node``'s MSP and TLS files in the PKI tree at ``crypto_root``,
    its data folder and the patched config folder of ``install``'s release."""
    spec = next(s for s in pki_org_specs_from_plan(plan) if s.name == node.org)
    ident = next(i for i in identities_of(spec) if i.name == node.fqdn)
    paths = OrgPaths.of(crypto_root.absolute(), spec).identity(ident)
    return NodeFiles(
        msp_dir=str(paths.msp),
        tls_cert=str(paths.tls_cert),
        tls_key=str(paths.tls_key),
        tls_ca=str(paths.tls_ca),
        data_dir=str(data_dir(state_dir, node)),
        config_dir=str(config_dir(state_dir, install.release)),
        builders_dir=str(install.builders_dir.absolute()) if node.role == "peer" else "",
    )


@dataclass(frozen=True)
class NodeProgram:
    """A node and the program that runs it."""

    node: NodePlan
    files: NodeFiles
    spec: ProgramSpec


DIGEST_ENV = "BAAS_IDENTITY_DIGEST"
"""A peer's certificate digest in its environment (no Fabric setting: a restart trigger)."""


def node_programs(
    plan: Plan,
    *,
    crypto_root: Path,
    install: Install,
    state_dir: Path,
    addresses: LocalAddresses,
    tunables: Tunables,
    identity_digests: Mapping[str, str] | None = None,
) -> list[NodeProgram]:
    """One program per node (:func:`all_nodes` order): ``<bin>/orderer`` or
    ``<bin>/peer node start``, the environment of :func:`baas.nodeconfig.node_env`, its data
    folder as working directory, its log under ``state_dir/logs``. Pure.

    A peer found in ``identity_digests`` (node FQDN → digest of its certificates,
    :func:`pki.identity_digests`) also gets :data:`DIGEST_ENV`, which Fabric ignores: Fabric
    reads certificates at start-up, so a renewed certificate changes the peer's environment
    and the supervisor restarts exactly that peer. Orderers get none: a new orderer
    certificate must reach the channel's consenter set first, and the channel config step
    restarts the orderer itself (:mod:`baas.network.config`)."""
    result: list[NodeProgram] = []
    for node in all_nodes(plan):
        files = node_files(
            plan, node, crypto_root=crypto_root, state_dir=state_dir, install=install
        )
        binary = install.bin_dir.absolute() / node.role
        argv = (str(binary), "node", "start") if node.role == "peer" else (str(binary),)
        env = node_env(plan, node, addresses=addresses, files=files, tunables=tunables)
        digest = (identity_digests or {}).get(node.fqdn)
        if digest and node.role == "peer":
            env = {**env, DIGEST_ENV: digest}
        name = program_name(node)
        spec = ProgramSpec(
            name=name,
            argv=argv,
            env=env,
            cwd=Path(files.data_dir),
            log_file=logs.log_path(state_dir.absolute(), name),
        )
        result.append(NodeProgram(node, files, spec))
    return result


def missing_material(programs: Sequence[NodeProgram]) -> list[str]:
    """``"<fqdn>: <path>"`` for every MSP folder or TLS file a node needs that is absent."""
    missing: list[str] = []
    for p in programs:
        f = p.files
        for path in (f.msp_dir, f.tls_cert, f.tls_key, f.tls_ca):
            if not Path(path).exists():
                missing.append(f"{p.node.fqdn}: {path}")
    return missing


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class NodesResult:
    """What :func:`ensure_nodes` did. ``changes`` are the supervisor's (program names);
    ``running`` the fqdns that were already running and left alone; ``config_written`` the
    config files (re)written."""

    changes: tuple[ProgramChange, ...] = ()
    running: tuple[str, ...] = ()
    config_written: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.config_written)

    def names(self, *actions: str) -> list[str]:
        return [c.name for c in self.changes if c.action in actions]


def _camel(name: str) -> str:
    """A listener name as JSON keys are written (``peer_chaincode`` → ``peerChaincode``)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class NodeStatus:
    """One node as it is now. ``state`` is supervisord's (``ABSENT`` when it has no program);
    ``healthy`` is the answer of ``/healthz`` (None when not asked or not running)."""

    name: str
    role: str
    org: str
    pid: int | None
    state: str
    ports: Mapping[str, int] = field(default_factory=dict)
    healthy: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "org": self.org,
            "pid": self.pid,
            "state": self.state,
            "ports": {_camel(name): port for name, port in self.ports.items()},
            "healthy": self.healthy,
        }


# ------------------------------------------------------------------------------ acting


def ensure_nodes(
    plan: Plan,
    *,
    crypto_root: Path,
    install: Install,
    state_dir: Path,
    addresses: LocalAddresses,
    tunables: Tunables,
    report: Report = _quiet,
    timeout: float = DEFAULT_TIMEOUT_S,
    supervisor: Supervisor | None = None,
    identity_digests: Mapping[str, str] | None = None,
) -> NodesResult:
    """Ensure every orderer and peer of ``plan`` runs with its current configuration and is
    healthy.

    Writes the release's patched config folder (only when it differs), computes the node
    programs, checks the PKI material exists and that the ports of nodes not running now are
    free, applies the programs (new nodes start, nodes whose argv or env changed restart,
    running unchanged nodes are untouched, nodes gone from the plan stop — their data folders
    stay; running nodes that change restart one at a time, each healthy before the next, so
    that renewing or re-trusting an organisation's certificates never stops all its peers at
    once), restarts running
    nodes if their config folder was rewritten, then waits up to ``timeout`` seconds for every
    node's ``/healthz``. A node whose data folder is missing restarts on an empty one.
    Reports what changed through ``report``.

    Raises :class:`OperationError`: PKI material missing (run ``baas pki generate``), a port
    in use by another process, a node that died while starting or is not healthy in time (with
    the last lines of its log and the log's path).
    """
    sup = supervisor or Supervisor(state_dir)
    written = write_core_yaml(install.config_dir, config_dir(state_dir, install.release))
    if written:
        report(f"wrote {', '.join(written)} for Fabric {install.release}")
    programs = node_programs(
        plan,
        crypto_root=crypto_root,
        install=install,
        state_dir=state_dir,
        addresses=addresses,
        tunables=tunables,
        identity_digests=identity_digests,
    )
    _require_material(programs, crypto_root)
    # a data folder lost (a disk, a wrong rm): its node, running on deleted files or failing
    # to restart in a folder that is gone, restarts on a new empty one, and the channel step
    # joins it again (from a snapshot on a long channel)
    lost = [p.spec.name for p in programs if not Path(p.spec.cwd).is_dir()]
    before = sup.status()
    idle = [p.node.fqdn for p in programs if _state_of(before, p.spec.name) not in RUNNING_STATES]
    check_free(addresses, plan, owners=idle)
    specs = [p.spec for p in programs]
    live = {p.spec.name for p in programs if p.node.fqdn not in idle}
    rolling = [name for name in sup.pending(specs, scope=SCOPE) if name in live][1:]
    changes = sup.ensure_programs(specs, scope=SCOPE, hold=rolling)
    by_name = {p.spec.name: p for p in programs}
    for i in range(len(rolling)):
        # one running node at a time: the one restarted last must answer before the next
        done = [by_name[c.name] for c in changes if c.name in by_name]
        wait_healthy(done, addresses=addresses, supervisor=sup, timeout=timeout)
        changes += sup.ensure_programs(specs, scope=SCOPE, hold=rolling[i + 1 :])
    touched = {c.name for c in changes}
    for name in lost:
        if name not in touched and _state_of(before, name) != "ABSENT":
            sup.restart(name)
            changes.append(ProgramChange(name, "restarted"))
            touched.add(name)
    if written:
        for p in programs:
            if p.spec.name not in touched and _state_of(before, p.spec.name) in RUNNING_STATES:
                sup.restart(p.spec.name)
                changes.append(ProgramChange(p.spec.name, "restarted"))
                touched.add(p.spec.name)
    running = tuple(p.node.fqdn for p in programs if p.spec.name not in touched)
    result = NodesResult(tuple(changes), running, written)
    _report(result, programs, report)
    wait_healthy(programs, addresses=addresses, supervisor=sup, timeout=timeout)
    report(f"{_count(len(programs))} healthy")
    return result


def _state_of(states: Mapping[str, ProgramState], name: str) -> str:
    state = states.get(name)
    return state.state if state is not None else "ABSENT"


def _require_material(programs: Sequence[NodeProgram], crypto_root: Path) -> None:
    missing = missing_material(programs)
    if missing:
        shown = "; ".join(missing[:4]) + (
            f" (and {len(missing) - 4} more)" if len(missing) > 4 else ""
        )
        raise OperationError(
            f"node crypto material is missing under {crypto_root}: {shown}",
            hint="run `baas pki generate` for this topology first",
        )


def _count(n: int) -> str:
    return f"{n} node" if n == 1 else f"{n} nodes"


def _report(result: NodesResult, programs: Sequence[NodeProgram], report: Report) -> None:
    fqdn = {p.spec.name: p.node.fqdn for p in programs}

    def shown(names: list[str]) -> str:
        return ", ".join(fqdn.get(n, n.replace("_", ".")) for n in names)

    started = result.names("added", "started")
    if started:
        report(f"started {_count(len(started))}: {shown(started)}")
    restarted = result.names("restarted")
    if restarted:
        report(f"restarted {_count(len(restarted))} (configuration changed): {shown(restarted)}")
    removed = result.names("removed")
    if removed:
        report(f"stopped and removed {_count(len(removed))}: {shown(removed)}")
    if result.running:
        report(f"{_count(len(result.running))} already running")


# ------------------------------------------------------------------------------ health


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str


def probe_health(addresses: LocalAddresses, node: NodePlan) -> Health:
    """GET ``/healthz`` on ``node``'s operations endpoint (plain HTTP, never via a proxy)."""
    endpoint = addresses.operations(node)
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=HEALTH_PROBE_TIMEOUT_S)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        body = response.read(2000).decode("utf-8", errors="replace").strip()
    except (OSError, http.client.HTTPException) as exc:
        return Health(False, f"operations endpoint {endpoint} not answering ({exc})")
    finally:
        conn.close()
    if response.status == 200:
        return Health(True, "OK")
    return Health(False, f"/healthz on {endpoint} answered {response.status}: {body[:300]}")


def wait_healthy(
    programs: Sequence[NodeProgram],
    *,
    addresses: LocalAddresses,
    supervisor: Supervisor,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Poll every node's ``/healthz`` concurrently until all answer 200.

    :class:`OperationError` at once when a node's program is FATAL or BACKOFF (it died while
    starting), or after ``timeout`` seconds for the nodes still unhealthy — each with the
    last :data:`LOG_LINES` lines of its log and the log's path."""
    pending = {p.spec.name: p for p in programs}
    last: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    pause = 0.05
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(pending)))) as pool:
        while pending:
            states = supervisor.status()
            for name, p in pending.items():
                state = states.get(name)
                if state is not None and state.state in FAILED_STATES:
                    raise _died(p, state)
            checked = list(pending.values())
            for p, health in zip(
                checked, pool.map(lambda q: probe_health(addresses, q.node), checked), strict=True
            ):
                if health.ok:
                    pending.pop(p.spec.name)
                else:
                    last[p.spec.name] = health.detail
            if not pending:
                return
            if time.monotonic() > deadline:
                raise _unhealthy(list(pending.values()), states, last, timeout)
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def log_excerpt(lines: Sequence[str], count: int = LOG_LINES) -> list[str]:
    """The ``count`` lines of a node log worth showing: the last ones — or, when the node
    panicked, those up to Go's ``panic:`` line (the goroutine dump after it says little to a
    user). ANSI colour codes are removed. Pure."""
    clean = [_ANSI.sub("", line) for line in lines]
    panics = [i for i, line in enumerate(clean) if line.startswith("panic: ")]
    end = panics[-1] + 1 if panics else len(clean)
    return clean[max(0, end - count) : end]


def _log_excerpt(p: NodeProgram) -> str:
    lines = log_excerpt(logs.tail(p.spec.log_file, 10 * LOG_LINES))
    return "\n".join(f"    {line}" for line in lines) if lines else "    (the log is empty)"


def _died(p: NodeProgram, state: ProgramState) -> OperationError:
    why = state.spawn_error or state.state
    if state.exit_status is not None:
        why += f", exit status {state.exit_status}"
    return OperationError(
        f"{p.node.fqdn} ({p.node.role}) died while starting ({why}); last lines of its log:\n"
        f"{_log_excerpt(p)}",
        hint=f"full log: {p.spec.log_file}",
    )


def _unhealthy(
    stuck: Sequence[NodeProgram],
    states: Mapping[str, ProgramState],
    last: Mapping[str, str],
    timeout: float,
) -> OperationError:
    parts = [
        f"{p.node.fqdn} ({p.node.role}, {_state_of(states, p.spec.name)}): "
        f"{last.get(p.spec.name, 'not probed')}; last lines of {p.spec.log_file}:\n"
        f"{_log_excerpt(p)}"
        for p in stuck
    ]
    return OperationError(
        f"{_count(len(stuck))} not healthy after {timeout:.0f}s:\n" + "\n".join(parts),
        hint="read the logs above; a loaded machine may need a longer --timeout",
    )


# ------------------------------------------------------------------------------ stop, status


def stop_nodes(
    plan: Plan,
    *,
    state_dir: Path,
    names: Collection[str] | None = None,
    report: Report = _quiet,
    supervisor: Supervisor | None = None,
) -> list[str]:
    """Stop the nodes of ``plan`` (only the fqdns in ``names`` when given); they stay
    configured and the next :func:`ensure_nodes` starts them. Returns the fqdns stopped
    (running before). Never starts a daemon."""
    sup = supervisor or Supervisor(state_dir)
    states = sup.status()
    stopped: list[str] = []
    for node in reversed(all_nodes(plan)):  # peers first, orderers last
        if names is not None and node.fqdn not in names:
            continue
        name = program_name(node)
        if _state_of(states, name) in RUNNING_STATES and sup.stop(name):
            stopped.append(node.fqdn)
    if stopped:
        report(f"stopped {_count(len(stopped))}: {', '.join(stopped)}")
    return stopped


def node_status(
    plan: Plan,
    *,
    state_dir: Path,
    addresses: LocalAddresses | None = None,
    check_health: bool = True,
    supervisor: Supervisor | None = None,
) -> list[NodeStatus]:
    """Every node of ``plan`` (:func:`all_nodes` order) with its program state, pid, ports
    (from ``ports.json`` unless ``addresses`` is given) and — when ``check_health`` and it
    runs (RUNNING, or STARTING: supervisord calls a program RUNNING once it stayed up one
    second, a node is often healthy before) — whether ``/healthz`` answers 200. Never starts
    a daemon."""
    sup = supervisor or Supervisor(state_dir)
    table = addresses if addresses is not None else load_addresses(state_dir)
    states = sup.status()
    nodes = all_nodes(plan)

    def one(node: NodePlan) -> NodeStatus:
        state = states.get(program_name(node))
        ports = table.node_ports(node)
        healthy: bool | None = None
        up = state is not None and state.state in ("STARTING", "RUNNING")
        if check_health and up and "operations" in ports:
            healthy = probe_health(table, node).ok
        return NodeStatus(
            name=node.fqdn,
            role=node.role,
            org=node.org,
            pid=state.pid if state is not None else None,
            state=state.state if state is not None else "ABSENT",
            ports=ports,
            healthy=healthy,
        )

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(nodes)))) as pool:
        return list(pool.map(one, nodes))
