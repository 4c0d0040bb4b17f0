"""Node configuration: the CORE_* / ORDERER_* overrides of one peer or orderer, as pure data.

The one source both runtimes use. A node's environment is a function of

* the :class:`~baas.plan.Plan` and the node (names, MSP ID, org peers),
* an :class:`~baas.addressing.Addresses` (where it listens and what it advertises),
* its :class:`NodeFiles` (absolute paths of its MSP, TLS files, data and config folders),
* :class:`Tunables` (timing knobs; :data:`LOCAL` and :data:`KUBERNETES` presets),

and nothing else: no I/O, no defaults hidden in a runtime. The values override the release's
sample ``core.yaml`` / ``orderer.yaml`` (see ``fabric.md`` §2); every path is absolute because
Fabric resolves relative ones against the config file's folder. The environment carries paths
only, never key material.

Every peer is a static org leader (``CORE_PEER_GOSSIP_ORGLEADER=true``,
``CORE_PEER_GOSSIP_USELEADERELECTION=false``) and pulls blocks from the orderers itself: Fabric
3.0 turned ``peer.deliveryclient.blockGossipEnabled`` off, so a non-leader would never receive a
block, and leader election costs ~6 s after each join on 2.5.

Fabric 2.5 ignores an empty ``CORE_VM_ENDPOINT`` (viper's ``AllowEmptyEnv`` is off there), so a
peer would register a Docker health check that fails without Docker: :func:`write_core_yaml`
writes a copy of the release's config folder with ``vm.endpoint: ""`` for ``FABRIC_CFG_PATH``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from baas.addressing import Addresses
from baas.errors import UsageError
from baas.plan import NodePlan, Plan

CCAAS_BUILDER = "ccaas_builder"
"""Name of the chaincode-as-a-service external builder in ``chaincode.externalBuilders``."""

CCAAS_BUILDER_CONFIG = "CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"
"""Env var the ccaas builder renders connection.json templates with (propagated by the peer)."""

CONFIG_FILES = ("core.yaml", "orderer.yaml")


# ------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class NodeFiles:
    """Where a node's files are, as absolute path strings (as the node's host sees them).

    ``msp_dir`` is the node's local MSP; ``tls_cert`` / ``tls_key`` its TLS server pair (also
    used as the orderer's cluster client pair); ``tls_ca`` its organisation's TLS CA
    certificate — it is also the orderer admin API's client root, because baas's admin client
    presents the organisation admin's TLS client certificate, issued by that CA.
    ``data_dir`` holds the ledger (peer: ``peer.fileSystemPath``; orderer: the file ledger,
    with ``etcdraft/wal`` and ``etcdraft/snapshot`` below it); ``config_dir`` is
    ``FABRIC_CFG_PATH`` (holds the node's core.yaml or orderer.yaml); ``builders_dir`` is the
    ccaas builder folder containing ``bin/`` (peers only; ignored for orderers).
    The local runtime's are in ``baas.runtimes.local.nodes.node_files``, the pods' in
    ``baas.runtimes.kubernetes.pod_paths.pod_files``.
    """

    msp_dir: str
    tls_cert: str
    tls_key: str
    tls_ca: str
    data_dir: str
    config_dir: str
    builders_dir: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value: str = getattr(self, f.name)
            if f.name == "builders_dir" and not value:
                continue
            if not value.startswith("/"):
                raise UsageError(
                    f"node file {f.name} must be an absolute path, got {value!r}",
                    hint="Fabric resolves relative paths against its config folder; "
                    "pass absolute ones",
                )


PLAIN_LOG_FORMAT = (
    "%{time:2006-01-02 15:04:05.000 MST} [%{module}] %{shortfunc} -> %{level:.4s} %{id:03x} "
    "%{message}"
)
"""Fabric's default log format without its ``%{color}`` verbs (log files stay plain text)."""

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_MS = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def duration_ms(text: str) -> float:
    """Milliseconds of a Go duration string (``"500ms"``, ``"1s"``, ``"1m30s"``).

    Raises :class:`UsageError` for anything Go's ``time.ParseDuration`` would refuse, except
    that a sign is not accepted (every Fabric duration here is positive) and a bare ``0`` is.
    """
    if text == "0":
        return 0.0
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise UsageError(
            f"{text!r} is not a duration",
            hint='write durations as Go does: "250ms", "1s", "1m30s"',
        )
    return total


_DURATION_FIELDS = (
    "gossip_alive_time_interval",
    "gossip_alive_expiration_timeout",
    "gossip_reconnect_interval",
    "gossip_pull_interval",
    "gossip_digest_wait_time",
    "gossip_request_wait_time",
    "gossip_response_wait_time",
    "gossip_membership_tracker_interval",
    "gossip_publish_state_info_interval",
    "gossip_request_state_info_interval",
    "deliver_reconnect_backoff_threshold",
    "batch_timeout",
    "raft_tick_interval",
)


@dataclass(frozen=True)
class Tunables:
    """Timing knobs of a network. The defaults are the local runtime's (:data:`LOCAL`):
    chosen for a fast first transaction on one machine (``fabric.md`` §7); :data:`KUBERNETES`
    keeps Fabric's defaults, as the chart did, except where they are defects.

    Peer gossip (``peer.gossip.*`` in core.yaml; exported by :func:`peer_env`):

    * ``gossip_alive_time_interval`` / ``gossip_alive_expiration_timeout`` (5 s / 25 s in
      Fabric): how often a peer says it is alive and when silence means dead. Local 1 s / 5 s:
      a restarted peer is noticed in seconds. The expiration must exceed the interval.
    * ``gossip_reconnect_interval`` (25 s): how long a peer waits before re-dialling a peer it
      lost. 1 s locally: when orgs join a channel one at a time, the first cross-org probes
      fail (the other org has not joined, or its TLS CAs are not yet trusted) and with 25 s
      Gateway submits fail "no combination of peers can be derived which satisfy the
      endorsement policy" for that long (1 run in 6); 1 s removed it in every run.
    * ``gossip_pull_interval``, ``gossip_digest_wait_time``, ``gossip_request_wait_time``,
      ``gossip_response_wait_time`` (4 s, 1 s, 1.5 s, 2 s): the pull engine (blocks and
      identities). core.yaml requires ``pull_interval > digest_wait_time +
      response_wait_time`` and ``request_wait_time`` slightly above ``digest_wait_time``; both
      are checked. Local 1 s / 200 ms / 300 ms / 400 ms.
    * ``gossip_membership_tracker_interval`` (5 s): membership change logging. Local 1 s.
    * ``gossip_publish_state_info_interval`` / ``gossip_request_state_info_interval`` (4 s):
      how fast peers learn each other's ledger height and installed chaincodes (what the
      Gateway and discovery pick endorsers from). Local 1 s.

    Peer delivery: ``deliver_reconnect_backoff_threshold`` (``peer.deliveryclient.
    reConnectBackoffThreshold``, 3600 s): the longest pause between re-dials of the ordering
    service. Local 5 s, so a peer is back within seconds of an orderer restart.

    Logging: ``logging_spec`` (``FABRIC_LOGGING_SPEC``), ``logging_format``
    (``FABRIC_LOGGING_FORMAT``; ``None`` keeps Fabric's, which colours every line with ANSI
    escapes even into a file). Local: :data:`PLAIN_LOG_FORMAT`, Fabric's without colours.

    Channel configuration, not node configuration — exposed here so the configtx builder reads
    the same preset, never exported by :func:`peer_env` / :func:`orderer_env`:
    ``batch_timeout`` (Fabric 2 s; local 50 ms — every transaction waits for it when blocks
    are not full), ``raft_tick_interval`` / ``raft_election_tick`` / ``raft_heartbeat_tick``
    (Fabric 500 ms / 10 / 1; local 100 ms / 10 / 1, so a Raft leader exists ~1 s after the
    orderers join). ``raft_election_tick`` must exceed ``raft_heartbeat_tick``; both > 0.

    Raises :class:`UsageError` when a value breaks one of these rules or is not a duration.
    """

    logging_spec: str = "INFO"
    logging_format: str | None = PLAIN_LOG_FORMAT
    gossip_alive_time_interval: str = "1s"
    gossip_alive_expiration_timeout: str = "5s"
    gossip_reconnect_interval: str = "1s"
    gossip_pull_interval: str = "1s"
    gossip_digest_wait_time: str = "200ms"
    gossip_request_wait_time: str = "300ms"
    gossip_response_wait_time: str = "400ms"
    gossip_membership_tracker_interval: str = "1s"
    gossip_publish_state_info_interval: str = "1s"
    gossip_request_state_info_interval: str = "1s"
    deliver_reconnect_backoff_threshold: str = "5s"
    batch_timeout: str = "50ms"
    raft_tick_interval: str = "100ms"
    raft_election_tick: int = 10
    raft_heartbeat_tick: int = 1

    def __post_init__(self) -> None:
        if not self.logging_spec.strip():
            raise UsageError("logging_spec is empty", hint='use e.g. "INFO" or "info:gossip=debug"')
        ms = {name: duration_ms(getattr(self, name)) for name in _DURATION_FIELDS}
        for name, value in ms.items():
            if value <= 0:
                raise UsageError(f"{name} must be a positive duration, got {getattr(self, name)!r}")
        _require(
            ms["gossip_pull_interval"]
            > ms["gossip_digest_wait_time"] + ms["gossip_response_wait_time"],
            "gossip_pull_interval must exceed gossip_digest_wait_time + "
            "gossip_response_wait_time (core.yaml's rule for the pull engine)",
        )
        _require(
            ms["gossip_request_wait_time"] > ms["gossip_digest_wait_time"],
            "gossip_request_wait_time must exceed gossip_digest_wait_time",
        )
        _require(
            ms["gossip_alive_expiration_timeout"] > ms["gossip_alive_time_interval"],
            "gossip_alive_expiration_timeout must exceed gossip_alive_time_interval",
        )
        _require(
            self.raft_heartbeat_tick > 0 and self.raft_election_tick > self.raft_heartbeat_tick,
            "raft_election_tick must exceed raft_heartbeat_tick, and both be positive "
            "(etcdraft refuses the channel otherwise)",
        )

    def gossip_env(self) -> dict[str, str]:
        """The gossip and delivery overrides of a peer (``CORE_PEER_GOSSIP_*``...)."""
        g = "CORE_PEER_GOSSIP_"
        return {
            f"{g}ALIVETIMEINTERVAL": self.gossip_alive_time_interval,
            f"{g}ALIVEEXPIRATIONTIMEOUT": self.gossip_alive_expiration_timeout,
            f"{g}RECONNECTINTERVAL": self.gossip_reconnect_interval,
            f"{g}PULLINTERVAL": self.gossip_pull_interval,
            f"{g}DIGESTWAITTIME": self.gossip_digest_wait_time,
            f"{g}REQUESTWAITTIME": self.gossip_request_wait_time,
            f"{g}RESPONSEWAITTIME": self.gossip_response_wait_time,
            f"{g}MEMBERSHIPTRACKERINTERVAL": self.gossip_membership_tracker_interval,
            f"{g}PUBLISHSTATEINFOINTERVAL": self.gossip_publish_state_info_interval,
            f"{g}REQUESTSTATEINFOINTERVAL": self.gossip_request_state_info_interval,
            "CORE_PEER_DELIVERYCLIENT_RECONNECTBACKOFFTHRESHOLD": (
                self.deliver_reconnect_backoff_threshold
            ),
        }

    def logging_env(self) -> dict[str, str]:
        env = {"FABRIC_LOGGING_SPEC": self.logging_spec}
        if self.logging_format is not None:
            env["FABRIC_LOGGING_FORMAT"] = self.logging_format
        return env


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message, hint="see baas.nodeconfig.Tunables for the rules")


LOCAL = Tunables()
"""The local runtime's preset (the :class:`Tunables` defaults)."""

KUBERNETES = Tunables(
    logging_format=None,
    gossip_alive_time_interval="5s",
    gossip_alive_expiration_timeout="25s",
    gossip_reconnect_interval="5s",
    gossip_pull_interval="4s",
    gossip_digest_wait_time="1s",
    gossip_request_wait_time="1500ms",
    gossip_response_wait_time="2s",
    gossip_membership_tracker_interval="5s",
    gossip_publish_state_info_interval="4s",
    gossip_request_state_info_interval="4s",
    deliver_reconnect_backoff_threshold="3600s",
    batch_timeout="2s",
    raft_tick_interval="500ms",
    raft_election_tick=10,
    raft_heartbeat_tick=1,
)
"""The Kubernetes runtime's preset (the env ``baas.runtimes.kubernetes.values`` writes for the
chart's pods): Fabric's log format, its sample-config gossip timing and channel defaults
(BatchTimeout 2 s, Raft 500 ms / 10 / 1), except the reconnect interval (5 s instead of 25 s: it
bounds the cross-org gossip race described in :class:`Tunables`) and static leaders (in every
preset)."""


# ------------------------------------------------------------------------------ peers


def peer_env(
    plan: Plan, node: NodePlan, *, addresses: Addresses, files: NodeFiles, tunables: Tunables
) -> dict[str, str]:
    """Every environment override of peer ``node`` (``FABRIC_CFG_PATH``, ``CORE_*``, the ccaas
    builder config), sorted by name.

    Listeners bind ``addresses.listen_host`` with the port of the matching endpoint; the peer
    advertises its own :meth:`~baas.addressing.Addresses.peer` endpoint (``CORE_PEER_ADDRESS``
    and the gossip external endpoint, so other orgs and discovery know it); gossip bootstraps
    from the org's other peers, or from itself when it is alone. Operations are plain HTTP with
    Prometheus metrics. Raises :class:`UsageError` when ``node`` is not a peer of ``plan`` or
    ``files.builders_dir`` is empty.
    """
    if node.role != "peer":
        raise UsageError(f"{node.fqdn} is an orderer, not a peer")
    org = plan.org(node.org)
    if node not in org.peers:
        raise UsageError(f"{node.fqdn} is not a peer of organisation {org.name!r}")
    if not files.builders_dir:
        raise UsageError(
            f"no ccaas builder folder for {node.fqdn}",
            hint="NodeFiles.builders_dir must name the folder that contains bin/detect",
        )
    listen = addresses.listen_host
    me = addresses.peer(node)
    chaincode = addresses.peer_chaincode(node)
    others = [addresses.peer(p) for p in org.peers if p != node]
    bootstrap = " ".join(str(e) for e in others) or str(me)
    builder = (
        f"[{{name: {CCAAS_BUILDER}, path: {json.dumps(files.builders_dir)}, "
        f"propagateEnvironment: [{CCAAS_BUILDER_CONFIG}]}}]"
    )
    env: dict[str, str] = {
        "FABRIC_CFG_PATH": files.config_dir,
        **tunables.logging_env(),
        "CORE_PEER_ID": node.fqdn,
        "CORE_PEER_NETWORKID": plan.network,
        "CORE_PEER_LOCALMSPID": org.msp_id,
        "CORE_PEER_MSPCONFIGPATH": files.msp_dir,
        "CORE_PEER_LISTENADDRESS": f"{listen}:{me.port}",
        "CORE_PEER_ADDRESS": str(me),
        "CORE_PEER_ADDRESSAUTODETECT": "false",
        "CORE_PEER_CHAINCODELISTENADDRESS": f"{listen}:{chaincode.port}",
        "CORE_PEER_CHAINCODEADDRESS": str(chaincode),
        "CORE_PEER_GOSSIP_BOOTSTRAP": bootstrap,
        "CORE_PEER_GOSSIP_EXTERNALENDPOINT": str(me),
        "CORE_PEER_GOSSIP_ORGLEADER": "true",
        "CORE_PEER_GOSSIP_USELEADERELECTION": "false",
        # Every peer pulls from the orderers; gossiping blocks on top only duplicates them.
        "CORE_PEER_DELIVERYCLIENT_BLOCKGOSSIPENABLED": "false",
        **tunables.gossip_env(),
        "CORE_PEER_GATEWAY_ENABLED": "true",
        "CORE_PEER_TLS_ENABLED": "true",
        "CORE_PEER_TLS_CERT_FILE": files.tls_cert,
        "CORE_PEER_TLS_KEY_FILE": files.tls_key,
        "CORE_PEER_TLS_ROOTCERT_FILE": files.tls_ca,
        "CORE_PEER_TLS_CLIENTAUTHREQUIRED": "false",
        "CORE_PEER_FILESYSTEMPATH": files.data_dir,
        "CORE_LEDGER_SNAPSHOTS_ROOTDIR": f"{files.data_dir}/snapshots",
        "CORE_OPERATIONS_LISTENADDRESS": f"{listen}:{addresses.operations(node).port}",
        "CORE_OPERATIONS_TLS_ENABLED": "false",
        "CORE_METRICS_PROVIDER": "prometheus",
        # Honoured by 3.x only; 2.5 needs vm.endpoint "" in core.yaml (write_core_yaml).
        "CORE_VM_ENDPOINT": "",
        "CORE_CHAINCODE_EXTERNALBUILDERS": builder,
        CCAAS_BUILDER_CONFIG: json.dumps(
            {"namespace": node.namespace, "peername": node.name},
            sort_keys=True,
            separators=(",", ":"),
        ),
    }
    return dict(sorted(env.items()))


# ------------------------------------------------------------------------------ orderers


def orderer_env(
    plan: Plan, node: NodePlan, *, addresses: Addresses, files: NodeFiles, tunables: Tunables
) -> dict[str, str]:
    """Every environment override of orderer ``node`` (``FABRIC_CFG_PATH``, ``ORDERER_*``),
    sorted by name.

    No system channel (bootstrap method ``none``, channel participation on — required on 2.5,
    the defaults on 3.x); TLS on the client listener; a separate cluster listener on
    :meth:`~baas.addressing.Addresses.cluster` serving the node's TLS pair, which is also its
    cluster client pair; the channel participation API on
    :meth:`~baas.addressing.Addresses.admin` with mutual TLS whose client roots are the
    organisation's TLS CA (baas's admin client presents the org admin's TLS client
    certificate); plain-HTTP operations with Prometheus metrics; file ledger, Raft WAL and
    snapshots under ``files.data_dir``. ``tunables`` contributes logging only (batch timeout
    and Raft ticks are channel configuration). Raises :class:`UsageError` when ``node`` is not
    an orderer of ``plan``.
    """
    if node.role != "orderer":
        raise UsageError(f"{node.fqdn} is a peer, not an orderer")
    org = plan.org(node.org)
    if node not in org.orderers:
        raise UsageError(f"{node.fqdn} is not an orderer of organisation {org.name!r}")
    listen = addresses.listen_host
    roots = f"[{files.tls_ca}]"
    env: dict[str, str] = {
        "FABRIC_CFG_PATH": files.config_dir,
        **tunables.logging_env(),
        "ORDERER_GENERAL_LISTENADDRESS": listen,
        "ORDERER_GENERAL_LISTENPORT": str(addresses.orderer(node).port),
        "ORDERER_GENERAL_LOCALMSPID": org.msp_id,
        "ORDERER_GENERAL_LOCALMSPDIR": files.msp_dir,
        "ORDERER_GENERAL_BOOTSTRAPMETHOD": "none",
        "ORDERER_CHANNELPARTICIPATION_ENABLED": "true",
        "ORDERER_GENERAL_TLS_ENABLED": "true",
        "ORDERER_GENERAL_TLS_CERTIFICATE": files.tls_cert,
        "ORDERER_GENERAL_TLS_PRIVATEKEY": files.tls_key,
        "ORDERER_GENERAL_TLS_ROOTCAS": roots,
        "ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED": "false",
        "ORDERER_GENERAL_CLUSTER_LISTENADDRESS": listen,
        "ORDERER_GENERAL_CLUSTER_LISTENPORT": str(addresses.cluster(node).port),
        "ORDERER_GENERAL_CLUSTER_SERVERCERTIFICATE": files.tls_cert,
        "ORDERER_GENERAL_CLUSTER_SERVERPRIVATEKEY": files.tls_key,
        "ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE": files.tls_cert,
        "ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY": files.tls_key,
        "ORDERER_GENERAL_CLUSTER_ROOTCAS": roots,
        "ORDERER_ADMIN_LISTENADDRESS": f"{listen}:{addresses.admin(node).port}",
        "ORDERER_ADMIN_TLS_ENABLED": "true",
        "ORDERER_ADMIN_TLS_CERTIFICATE": files.tls_cert,
        "ORDERER_ADMIN_TLS_PRIVATEKEY": files.tls_key,
        "ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED": "true",
        "ORDERER_ADMIN_TLS_CLIENTROOTCAS": roots,
        "ORDERER_OPERATIONS_LISTENADDRESS": f"{listen}:{addresses.operations(node).port}",
        "ORDERER_OPERATIONS_TLS_ENABLED": "false",
        "ORDERER_METRICS_PROVIDER": "prometheus",
        "ORDERER_FILELEDGER_LOCATION": files.data_dir,
        "ORDERER_CONSENSUS_WALDIR": f"{files.data_dir}/etcdraft/wal",
        "ORDERER_CONSENSUS_SNAPDIR": f"{files.data_dir}/etcdraft/snapshot",
    }
    return dict(sorted(env.items()))


def node_env(
    plan: Plan, node: NodePlan, *, addresses: Addresses, files: NodeFiles, tunables: Tunables
) -> dict[str, str]:
    """:func:`peer_env` or :func:`orderer_env`, by ``node.role``."""
    build = peer_env if node.role == "peer" else orderer_env
    return build(plan, node, addresses=addresses, files=files, tunables=tunables)


# ------------------------------------------------------------------------------ config folder


def patched_core_yaml(text: str) -> str:
    """core.yaml ``text`` with ``vm.endpoint`` set to ``""`` (no Docker), as YAML. Pure.

    Raises :class:`UsageError` when ``text`` is not a YAML mapping."""
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise UsageError("core.yaml is not a YAML mapping", hint="use the release's config/")
    vm = data.get("vm")
    if not isinstance(vm, dict):
        vm = {}
        data["vm"] = vm
    vm["endpoint"] = ""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def write_core_yaml(source_config_dir: Path, target_dir: Path) -> tuple[str, ...]:
    """Ensure ``target_dir`` holds the release's config for ``FABRIC_CFG_PATH``: core.yaml with
    ``vm.endpoint: ""`` (:func:`patched_core_yaml`) and orderer.yaml as it is.

    Writes only files whose content differs (atomically: temporary file, then rename) and
    returns their names — empty when everything was already there. Raises
    :class:`UsageError` when ``source_config_dir`` lacks either file.
    """
    wanted: dict[str, str] = {}
    for name in CONFIG_FILES:
        source = source_config_dir / name
        if not source.is_file():
            raise UsageError(
                f"{source} does not exist",
                hint="pass the config/ folder of a Fabric release (it holds core.yaml and "
                "orderer.yaml)",
            )
        text = source.read_text(encoding="utf-8")
        wanted[name] = patched_core_yaml(text) if name == "core.yaml" else text
    target_dir.mkdir(parents=True, exist_ok=True)
    changed: list[str] = []
    for name, text in wanted.items():
        target = target_dir / name
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        partial = target.with_name(f".{name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(target)
        changed.append(name)
    return tuple(changed)
