"""Ports of a local network: chosen once, kept in ``<state_dir>/ports.json``, all on 127.0.0.1.

Every listener gets its own port: a peer its gRPC, chaincode and operations ports; an orderer
its client, cluster, admin and operations ports; every (organisation with peers, chaincode of
a channel it belongs to) a chaincode server port. :func:`ensure_ports` allocates what the file
lacks and drops what the plan no longer has; ports already in the file never move, so node
configuration (and every address written into a channel) stays stable across runs.

New ports come from ``[20000, 30000)``: above the usual service defaults (Fabric's 7050-7053,
9443, 8443, 9999, CouchDB 5984...), below Kubernetes' NodePort range (30000-32767) and Linux's
ephemeral range (32768-60999), from which outgoing connections take random ports. The search
starts at a base hashed from the network name (so two networks rarely interleave) and skips
ports in this file, in other networks' ``ports.json`` next to it, and ports bound right now.

:func:`check_free` runs before nodes start: it names each busy port and who it belongs to.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import socket
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baas.addressing import Endpoint
from baas.errors import OperationError
from baas.plan import ChaincodePlan, NodePlan, OrgPlan, Plan

HOST = "127.0.0.1"
PORT_RANGE = range(20000, 30000)
PORTS_FILE = "ports.json"
FORMAT_VERSION = 1

PEER_LISTENERS = ("peer", "peer_chaincode", "operations")
ORDERER_LISTENERS = ("orderer", "cluster", "admin", "operations")

_WHAT = {
    "peer": "peer",
    "peer_chaincode": "peer chaincode listener",
    "operations": "operations",
    "orderer": "orderer",
    "cluster": "orderer cluster",
    "admin": "orderer admin",
}


# ------------------------------------------------------------------------------ keys


def chaincode_key(org: str, channel: str, chaincode: str, version: str) -> str:
    """Key of a chaincode server in ``ports.json``: ``<org>/<channel>/<chaincode>@<version>``.
    Each version has its own port (and so its own package, whose connection.json dials it):
    a new version's servers start beside the running ones, which keep serving until the new
    definition is committed, and a rollback finds its version's package where it was."""
    return f"{org}/{channel}/{chaincode}@{version}"


def _chaincode_of(key: str) -> str:
    """``<org>/<channel>/<chaincode>`` of a :func:`chaincode_key` (any version)."""
    return key.split("@", 1)[0]


def node_listeners(node: NodePlan) -> tuple[str, ...]:
    """The listener names of ``node``, in allocation order."""
    return PEER_LISTENERS if node.role == "peer" else ORDERER_LISTENERS


def chaincode_servers(plan: Plan) -> list[tuple[OrgPlan, ChaincodePlan]]:
    """Every (organisation, chaincode) pair that runs a chaincode server: organisations with
    peers that are members of the chaincode's channel. Plan order."""
    members = {c.name: set(c.members) for c in plan.channels}
    return [
        (org, cc)
        for cc in plan.chaincodes
        for org in plan.orgs
        if org.peers and org.name in members.get(cc.channel, set())
    ]


@dataclass(frozen=True)
class Listener:
    """One port of the plan: ``owner`` is a node fqdn or a chaincode key, ``what`` the
    listener (``peer``, ``operations``, ``chaincode``...)."""

    owner: str
    what: str
    port: int

    def describe(self) -> str:
        """``port 27051 (peer0.org1.example.com peer)``."""
        if self.what == "chaincode":
            org, channel, name = _chaincode_of(self.owner).split("/", 2)
            version = self.owner.partition("@")[2]
            return f"port {self.port} (chaincode {name} {version} of {org} on channel {channel})"
        return f"port {self.port} ({self.owner} {_WHAT.get(self.what, self.what)})"


# ------------------------------------------------------------------------------ addresses


@dataclass(frozen=True)
class LocalAddresses:
    """:class:`baas.addressing.Addresses` of a local network: every endpoint is
    ``127.0.0.1:<port from ports.json>`` and nodes bind ``127.0.0.1``.

    ``nodes`` maps a node fqdn to its listener ports; ``chaincodes`` maps
    :func:`chaincode_key` to a port. Asking for a node or chaincode the table lacks raises
    :class:`OperationError` (the table was built for another plan: run :func:`ensure_ports`).
    """

    nodes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    chaincodes: Mapping[str, int] = field(default_factory=dict)
    host: str = HOST

    @property
    def listen_host(self) -> str:
        return self.host

    def port(self, node: NodePlan, listener: str) -> int:
        try:
            return self.nodes[node.fqdn][listener]
        except KeyError:
            raise OperationError(
                f"no {listener} port allocated for {node.fqdn}",
                hint="the port table belongs to another version of the topology; "
                "run `baas up` to allocate ports for new nodes",
            ) from None

    def _at(self, node: NodePlan, listener: str) -> Endpoint:
        return Endpoint(self.host, self.port(node, listener))

    def peer(self, node: NodePlan) -> Endpoint:
        return self._at(node, "peer")

    def peer_chaincode(self, node: NodePlan) -> Endpoint:
        return self._at(node, "peer_chaincode")

    def orderer(self, node: NodePlan) -> Endpoint:
        return self._at(node, "orderer")

    def cluster(self, node: NodePlan) -> Endpoint:
        return self._at(node, "cluster")

    def admin(self, node: NodePlan) -> Endpoint:
        return self._at(node, "admin")

    def operations(self, node: NodePlan) -> Endpoint:
        return self._at(node, "operations")

    def chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> Endpoint:
        key = chaincode_key(org.name, chaincode.channel, chaincode.name, chaincode.version)
        try:
            return Endpoint(self.host, self.chaincodes[key])
        except KeyError:
            raise OperationError(
                f"no port allocated for chaincode {chaincode.name} of {org.name} on "
                f"channel {chaincode.channel}",
                hint="run `baas up` to allocate ports for new chaincodes",
            ) from None

    def has_chaincode(self, org: OrgPlan, chaincode: ChaincodePlan) -> bool:
        """True when the table has a port for ``org``'s server of ``chaincode``."""
        key = chaincode_key(org.name, chaincode.channel, chaincode.name, chaincode.version)
        return key in self.chaincodes

    def listeners(self, plan: Plan) -> list[Listener]:
        """Every port of ``plan``'s nodes and chaincode servers, in plan order."""
        found = [
            Listener(node.fqdn, what, self.port(node, what))
            for org in plan.orgs
            for node in org.nodes
            for what in node_listeners(node)
        ]
        for org, cc in chaincode_servers(plan):
            key = chaincode_key(org.name, cc.channel, cc.name, cc.version)
            found.append(Listener(key, "chaincode", self.chaincode(org, cc).port))
        return found

    def node_ports(self, node: NodePlan) -> dict[str, int]:
        """``{listener: port}`` of ``node`` (empty when it has none)."""
        return dict(self.nodes.get(node.fqdn, {}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "host": self.host,
            "nodes": {k: dict(v) for k, v in sorted(self.nodes.items())},
            "chaincodes": dict(sorted(self.chaincodes.items())),
        }


# ------------------------------------------------------------------------------ deciding


def base_port(network: str) -> int:
    """Where the search for ``network``'s ports starts: a hash of its name into
    :data:`PORT_RANGE`, rounded down to a multiple of 10."""
    digest = int(hashlib.sha256(network.encode()).hexdigest()[:8], 16)
    return PORT_RANGE.start + (digest % len(PORT_RANGE)) // 10 * 10


def _wanted(plan: Plan) -> Iterator[tuple[str, str | None]]:
    """(owner, listener) of every port ``plan`` needs; listener None for chaincodes."""
    for org in plan.orgs:
        for node in org.nodes:
            for what in node_listeners(node):
                yield node.fqdn, what
    for org, cc in chaincode_servers(plan):
        yield chaincode_key(org.name, cc.channel, cc.name, cc.version), None


def allocate(
    plan: Plan,
    existing: LocalAddresses,
    *,
    reserved: Collection[int] = (),
    is_free: Callable[[int], bool] = lambda _: True,
) -> LocalAddresses:
    """The port table for ``plan``: every entry of ``existing`` the plan still has, kept as
    is; a new port for each missing one — the first port from :func:`base_port` upwards
    (wrapping inside :data:`PORT_RANGE`) not used in the table, not in ``reserved`` and for
    which ``is_free`` says yes. Entries the plan no longer has are dropped, except the ports of
    other versions of a chaincode server the plan still has (the previous version serves on
    its port until the new definition is committed; a rollback reuses it). Entries of the
    unversioned format of earlier baas releases are dropped (their servers restart on a
    versioned port). Deterministic for the same inputs; :class:`OperationError` when the
    range is exhausted.
    """
    nodes: dict[str, dict[str, int]] = {}
    chaincodes: dict[str, int] = {}
    pending: list[tuple[str, str | None]] = []
    for owner, what in _wanted(plan):
        if what is None:
            port = existing.chaincodes.get(owner)
            if port is not None:
                chaincodes[owner] = port
                continue
        else:
            port = existing.nodes.get(owner, {}).get(what)
            if port is not None:
                nodes.setdefault(owner, {})[what] = port
                continue
        pending.append((owner, what))
    served = {_chaincode_of(key) for key, what in _wanted(plan) if what is None}
    for key, port in existing.chaincodes.items():  # earlier versions of served chaincodes
        if key not in chaincodes and "@" in key and _chaincode_of(key) in served:
            chaincodes[key] = port
    taken = {p for ports in nodes.values() for p in ports.values()} | set(chaincodes.values())
    candidates = _candidates(base_port(plan.network))
    for owner, what in pending:
        port = _next_port(candidates, taken, reserved, is_free)
        taken.add(port)
        if what is None:
            chaincodes[owner] = port
        else:
            nodes.setdefault(owner, {})[what] = port
    return LocalAddresses(nodes=nodes, chaincodes=chaincodes, host=existing.host)


def _candidates(start: int) -> Iterator[int]:
    lo, hi = PORT_RANGE.start, PORT_RANGE.stop
    yield from range(start, hi)
    yield from range(lo, start)


def _next_port(
    candidates: Iterator[int],
    taken: Collection[int],
    reserved: Collection[int],
    is_free: Callable[[int], bool],
) -> int:
    for port in candidates:
        if port not in taken and port not in reserved and is_free(port):
            return port
    raise OperationError(
        f"no free port left in {PORT_RANGE.start}-{PORT_RANGE.stop - 1}",
        hint="stop other local networks (`baas down`) or free ports in that range",
    )


# ------------------------------------------------------------------------------ acting


@dataclass(frozen=True)
class PortsResult:
    """What :func:`ensure_ports` did: the table, the listeners it allocated and the owners
    (nodes / chaincode keys) it dropped."""

    addresses: LocalAddresses
    allocated: tuple[Listener, ...] = ()
    dropped: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.allocated or self.dropped)


def ports_path(state_dir: Path) -> Path:
    return state_dir / PORTS_FILE


def load_addresses(state_dir: Path) -> LocalAddresses:
    """The table in ``state_dir/ports.json`` (an empty one when the file does not exist).
    :class:`OperationError` when the file is unreadable or malformed."""
    path = ports_path(state_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return LocalAddresses()
    except OSError as exc:
        raise OperationError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return _parse(json.loads(raw))
    except (ValueError, TypeError, AttributeError) as exc:
        raise OperationError(
            f"{path} is not a port table: {exc}",
            hint="delete it; baas allocates new ports (nodes then restart on them)",
        ) from exc


def _parse(data: Any) -> LocalAddresses:
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError(f"expected a mapping with version {FORMAT_VERSION}")
    nodes = {
        str(owner): {str(k): _port(v) for k, v in ports.items()}
        for owner, ports in data.get("nodes", {}).items()
    }
    chaincodes = {str(k): _port(v) for k, v in data.get("chaincodes", {}).items()}
    return LocalAddresses(nodes=nodes, chaincodes=chaincodes, host=str(data.get("host", HOST)))


def _port(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
        raise ValueError(f"{value!r} is not a port")
    return value


def _other_networks_ports(state_dir: Path) -> set[int]:
    """Ports in the ``ports.json`` of sibling network folders (unreadable ones skipped)."""
    found: set[int] = set()
    parent = state_dir.absolute().parent
    for other in parent.glob(f"*/{PORTS_FILE}"):
        if other.parent.resolve() == state_dir.resolve():
            continue
        try:
            table = _parse(json.loads(other.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        found |= {p for ports in table.nodes.values() for p in ports.values()}
        found |= set(table.chaincodes.values())
    return found


def ensure_ports(plan: Plan, state_dir: Path) -> PortsResult:
    """Ensure ``state_dir/ports.json`` has exactly the ports ``plan`` needs (:func:`allocate`)
    and return them. Writes the file (atomically) only when something was allocated or
    dropped; a re-run with the same plan changes nothing."""
    existing = load_addresses(state_dir)
    table = allocate(
        plan, existing, reserved=_other_networks_ports(state_dir), is_free=port_is_free
    )
    before = {(lis.owner, lis.what) for lis in _listeners_of(existing)}
    allocated = tuple(lis for lis in _listeners_of(table) if (lis.owner, lis.what) not in before)
    dropped = tuple(
        sorted(
            (set(existing.nodes) - set(table.nodes))
            | (set(existing.chaincodes) - set(table.chaincodes))
        )
    )
    result = PortsResult(table, allocated, dropped)
    if result.changed or not ports_path(state_dir).is_file():
        _write(ports_path(state_dir), table)
    return result


def _listeners_of(table: LocalAddresses) -> list[Listener]:
    found = [
        Listener(owner, what, port)
        for owner, ports in table.nodes.items()
        for what, port in ports.items()
    ]
    found += [Listener(key, "chaincode", port) for key, port in table.chaincodes.items()]
    return found


def _write(path: Path, table: LocalAddresses) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(table.to_dict(), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


# ------------------------------------------------------------------------------ checking


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when ``host:port`` can be bound right now (with ``SO_REUSEADDR``, as Go's
    listeners do, so sockets lingering in TIME_WAIT do not count as busy)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def busy_listeners(
    addresses: LocalAddresses, plan: Plan, *, owners: Collection[str] | None = None
) -> list[Listener]:
    """The listeners of ``plan`` (only those of ``owners`` when given: node fqdns or
    chaincode keys) whose port cannot be bound now."""
    return [
        lis
        for lis in addresses.listeners(plan)
        if (owners is None or lis.owner in owners)
        and not port_is_free(lis.port, addresses.listen_host)
    ]


def check_free(
    addresses: LocalAddresses, plan: Plan, *, owners: Collection[str] | None = None
) -> None:
    """Raise :class:`OperationError` naming every busy port of ``plan`` and its owner — e.g.
    ``port 27051 (peer0.org1.example.com peer) is in use by another process``.

    Call it before starting nodes that are NOT running, passing them as ``owners`` (a
    running node's ports are busy with itself); ``None`` checks every listener."""
    busy = busy_listeners(addresses, plan, owners=owners)
    if not busy:
        return
    lines = [f"{lis.describe()} is in use by another process" for lis in busy]
    raise OperationError(
        "; ".join(lines),
        hint="stop what listens there (`ss -ltnp` shows it), or delete the network's "
        f"{PORTS_FILE} so baas chooses new ports",
    )
