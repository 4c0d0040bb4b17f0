"""A real single-node Kubernetes cluster for tests: pods really run.

Started once per session by the :func:`kube_node_cluster` fixture, as root, on this machine:

* etcd + kube-apiserver (tests/support/kubeapi.py), bound to the node address ``NODE_IP`` on a
  address the suite adds to ``lo``, so pods reach the ``kubernetes`` Service;
  the ServiceAccount admission plugin is on (its controllers run);
* kube-controller-manager and kube-scheduler;
* containerd (own config, root, state and socket under the session's tmp dir; runc; cgroupfs;
  sandbox image = the static ``pause`` program, imported, never pulled) and kubelet (own root
  dir; ``failCgroupV1: false`` for cgroup v1 hosts; registers node ``NODE_NAME``, no taints);
* the CNI ``bridge`` plugin (bridge ``BRIDGE``, host-local IPAM on ``POD_SUBNET``, portmap),
  kube-proxy (iptables mode);
* CoreDNS (the built binary in a locally assembled image) as the Deployment + Service
  ``kube-system/kube-dns`` at ``DNS_IP`` (kubelet's clusterDNS), pods labelled
  ``k8s-app=kube-dns`` as on kubeadm clusters (NetworkPolicies allowing DNS egress to them
  work), serving ``cluster.local``;
* kube-router's NetworkPolicy controller (iptables + ipset): NetworkPolicies are enforced.
  (SIG Network's kube-network-policies needs the kernel's nft ``queue`` expression, which the
  CI VM kernel lacks, see scripts/install-cluster.sh.)

Images cannot be pulled (no registry): build them with tests/support/oci.py and load them with
:meth:`NodeCluster.import_image`; use ``imagePullPolicy: Never`` (or IfNotPresent with a tag).
A busybox image (:data:`tests.support.oci.BUSYBOX_REF`) is imported at start.

Binaries come from ``scripts/install-cluster.sh`` (cached under ``~/.cache/baas``). The fixture
never skips silently: it fails when they cannot be installed or the cluster does not start,
unless ``BAAS_SKIP_CLUSTER=1``, which skips with that reason.

Teardown deletes every pod (kubelet stops the sandboxes, so CNI removes veths and netns), stops
everything (process groups, containerd shims), unmounts what kubelet/containerd mounted under
the tmp dir, deletes the interfaces, the iptables chains/rules, nft tables and ipsets that were
not there before, the cgroups, and restores the sysctls it changed. Whatever is still left
afterwards is reported as a teardown error (:class:`ClusterTeardownError`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest
import yaml

from tests.support import oci
from tests.support.kubeapi import (
    ApiServerOptions,
    KubeBinaries,
    KubeCluster,
    KubeStartError,
    _http_ok,
    _Proc,
    _spawn,
    _wait_until,
    free_port,
    run_install_script,
    running_kube,
)

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

SKIP_ENV = "BAAS_SKIP_CLUSTER"

NODE_NAME = "baas-node"
#: The node address (kube-apiserver, kubelet, CoreDNS listen there), added to ``lo`` for the
#: session (kernels without the dummy driver are common in CI VMs); pods reach it through the
#: bridge gateway like any host address.
NODE_IP = "10.250.0.1"
#: The CNI bridge and the pod subnet of this node (host-local IPAM).
BRIDGE = "baascni0"
POD_SUBNET = "10.244.0.0/24"
POD_GATEWAY = "10.244.0.1"
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/16"
DNS_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
CNI_NETWORK = "baas"
#: The default StorageClass; PersistentVolumeClaims of it get a hostPath PersistentVolume
#: under the cluster's tmp dir (:class:`HostPathProvisioner`, like kind's local-path).
STORAGE_CLASS = "standard"
PROVISIONER = "baas.test/hostpath"
#: cgroup (v1: in every hierarchy) under which kubelet puts kubepods.
CGROUP_ROOT = "/baas-cluster"
#: Serialises clusters on one machine (they share NODE_IP, BRIDGE, ports 53).
HOST_LOCK = Path("/run/lock/baas-cluster.lock")

#: Sysctls the cluster needs (set at start, restored at teardown).
REQUIRED_SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
    "net/bridge/bridge-nf-call-ip6tables": "1",
}
#: Sysctls kubelet / kube-proxy may change on their own (restored at teardown).
RESTORED_SYSCTLS = (
    "vm/overcommit_memory",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/conf/all/route_localnet",
    "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_tcp_timeout_established",
    "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
)

_READY_TIMEOUT_S = 180.0
_POD_GONE_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 20.0
_IPTABLES_TABLES = ("filter", "nat", "mangle", "raw")


class ClusterStartError(RuntimeError):
    """A cluster component did not start; the message carries the tail of its log."""


class ClusterTeardownError(RuntimeError):
    """Teardown finished but left something behind (listed in the message)."""


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class ClusterBinaries:
    """Paths of everything ``scripts/install-cluster.sh`` installs (all exist)."""

    etcd: Path
    kube_apiserver: Path
    kubelet: Path
    kube_proxy: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kubectl: Path
    coredns: Path
    kube_router: Path
    pause: Path
    containerd: Path
    ctr: Path
    runc: Path
    busybox: Path
    iptables: Path
    ipset: Path
    nft: Path
    conntrack: Path
    cni_bin_dir: Path

    @property
    def kube(self) -> KubeBinaries:
        return KubeBinaries(kube_apiserver=self.kube_apiserver, etcd=self.etcd)


def ensure_cluster_binaries() -> ClusterBinaries:
    """Install (or find cached) everything; ``RuntimeError`` when the script fails."""
    values = run_install_script("install-cluster.sh")
    fields = ClusterBinaries.__dataclass_fields__
    try:
        return ClusterBinaries(**{name: Path(values[name.upper()]) for name in fields})
    except KeyError as exc:
        raise RuntimeError(f"scripts/install-cluster.sh printed no {exc.args[0]}=") from exc


# --------------------------------------------------------------------------- host helpers


def _run(argv: Sequence[str], *, check: bool = True, timeout: float = 60) -> str:
    """Run a host command; return stdout. ``ClusterStartError`` on failure when ``check``."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        raise ClusterStartError(f"{shlex.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name


def _read_sysctl(name: str) -> str | None:
    try:
        return _sysctl_path(name).read_text().strip()
    except OSError:
        return None


def _write_sysctl(name: str, value: str) -> None:
    with contextlib.suppress(OSError):
        _sysctl_path(name).write_text(value + "\n")


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()


def _has_node_ip() -> bool:
    return f" {NODE_IP}/" in _run(["ip", "-o", "-4", "addr", "show", "dev", "lo"], check=False)


def _netns_names() -> set[str]:
    folder = Path("/run/netns")
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _mounts_under(root: Path) -> list[str]:
    """Mount points at or below ``root``, deepest first."""
    prefix = str(root.resolve())
    found: list[str] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        target = line.split()[4].encode().decode("unicode_escape")
        if target == prefix or target.startswith(prefix + "/"):
            found.append(target)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def _unmount_all(root: Path) -> None:
    for target in _mounts_under(root):
        subprocess.run(["umount", "-l", target], capture_output=True, check=False)


def _cgroup_mounts(*types: str) -> list[Path]:
    """Mount points of the cgroup filesystems of ``types`` (``cgroup`` = v1 hierarchies such as
    ``/sys/fs/cgroup/memory``; ``cgroup2`` = the unified one, also present on hybrid hosts)."""
    found: list[Path] = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        parts = line.split()
        if parts[2] in types:
            found.append(Path(parts[1]))
    return found


def _v1_hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies; empty on a pure v2 host."""
    return _cgroup_mounts("cgroup")


def _make_cgroup_root() -> None:
    """Create ``CGROUP_ROOT`` in every v1 hierarchy (cpuset: copy cpus/mems from the parent)."""
    for hierarchy in _v1_hierarchies():
        path = hierarchy / CGROUP_ROOT.lstrip("/")
        path.mkdir(exist_ok=True)
        for knob in ("cpuset.cpus", "cpuset.mems"):
            parent, child = hierarchy / knob, path / knob
            if parent.exists() and not child.read_text().strip():
                child.write_text(parent.read_text())


def _remove_cgroup_root() -> list[str]:
    """rmdir ``CGROUP_ROOT`` and its children in every hierarchy (v1 and unified: runc creates
    it in both on hybrid hosts), deepest first; returns what could not go."""
    left: list[str] = []
    for hierarchy in _cgroup_mounts("cgroup", "cgroup2"):
        root = hierarchy / CGROUP_ROOT.lstrip("/")
        if not root.exists():
            continue
        dirs = sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts))
        for path in [*dirs, root]:
            try:
                path.rmdir()
            except OSError:
                left.append(str(path))
    return left


# --------------------------------------------------------------------------- firewall state


@dataclass(frozen=True)
class FirewallState:
    """iptables/ip6tables chains + rules per table, nft tables, ipsets: compared before/after."""

    chains: frozenset[tuple[str, str, str]]  # (binary, table, chain)
    rules: frozenset[tuple[str, str, str]]  # (binary, table, "-A CHAIN ...")
    nft_tables: frozenset[str]  # "ip filter"
    ipsets: frozenset[str]


def _save_iptables(binary: str, table: str) -> tuple[set[str], list[str]]:
    out = _run([f"{binary}-save", "-t", table], check=False)
    chains = {line[1:].split()[0] for line in out.splitlines() if line.startswith(":")}
    rules = [line for line in out.splitlines() if line.startswith("-A ")]
    return chains, rules


def firewall_state() -> FirewallState:
    """The current firewall state of the host."""
    chains: set[tuple[str, str, str]] = set()
    rules: set[tuple[str, str, str]] = set()
    for binary in ("iptables", "ip6tables"):
        for table in _IPTABLES_TABLES:
            table_chains, table_rules = _save_iptables(binary, table)
            chains |= {(binary, table, c) for c in table_chains}
            rules |= {(binary, table, r) for r in table_rules}
    nft = _run(["nft", "list", "tables"], check=False).splitlines()
    tables = frozenset(line.removeprefix("table ").strip() for line in nft if line.strip())
    sets = _run(["ipset", "list", "-n"], check=False).split()
    return FirewallState(frozenset(chains), frozenset(rules), tables, frozenset(sets))


def restore_firewall(before: FirewallState) -> None:
    """Delete rules, chains, nft tables and ipsets that are not in ``before``."""
    now = firewall_state()
    for binary, table, rule in sorted(now.rules - before.rules):
        argv = shlex.split(rule)
        argv[0] = "-D"
        _run([binary, "-w", "-t", table, *argv], check=False)
    new_chains = sorted(now.chains - before.chains)
    for binary, table, chain in new_chains:
        _run([binary, "-w", "-t", table, "-F", chain], check=False)
    for binary, table, chain in new_chains:
        _run([binary, "-w", "-t", table, "-X", chain], check=False)
    for name in sorted(now.nft_tables - before.nft_tables):
        _run(["nft", "delete", "table", *name.split()], check=False)
    for name in sorted(now.ipsets - before.ipsets):
        _run(["ipset", "destroy", name], check=False)


def firewall_leftovers(before: FirewallState) -> list[str]:
    """What the firewall holds now that it did not hold in ``before`` (readable lines)."""
    now = firewall_state()
    left = [f"{b} -t {t} {r}" for b, t, r in sorted(now.rules - before.rules)]
    left += [f"{b} -t {t} chain {c}" for b, t, c in sorted(now.chains - before.chains)]
    left += [f"nft table {t}" for t in sorted(now.nft_tables - before.nft_tables)]
    left += [f"ipset {s}" for s in sorted(now.ipsets - before.ipsets)]
    return left


# --------------------------------------------------------------------------- config files


def containerd_config(workdir: Path, binaries: ClusterBinaries, cni_conf_dir: Path) -> str:
    """containerd 1.6/1.7 config (version 2): own root/state/socket, CRI with runc + cgroupfs,
    sandbox image :data:`oci.PAUSE_REF`, CNI from ``binaries.cni_bin_dir`` + ``cni_conf_dir``."""
    base = workdir / "containerd"
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = {json.dumps(str(base / "root"))}
state = {json.dumps(str(base / "state"))}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = {json.dumps(str(containerd_socket(workdir)))}

[ttrpc]
  address = {json.dumps(str(base / "containerd.sock.ttrpc"))}

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = {json.dumps(str(base / "opt"))}

{cri}]
  sandbox_image = {json.dumps(oci.PAUSE_REF)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384
  # Never below containerd's own OOM score: lowering it needs CAP_SYS_RESOURCE, which root
  # lacks in some CI sandboxes (the Firecracker VM here), and runc then fails with "failed to
  # update /proc/self/oom_score_adj: Permission denied" for every pod sandbox (-998).
  restrict_oom_score_adj = true

{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = {json.dumps(str(binaries.runc))}
  Root = {json.dumps(str(base / "runc"))}

{cri}.cni]
  bin_dir = {json.dumps(str(binaries.cni_bin_dir))}
  conf_dir = {json.dumps(str(cni_conf_dir))}
  max_conf_num = 1
"""


def containerd_socket(workdir: Path) -> Path:
    return workdir / "containerd" / "containerd.sock"


def cni_conflist(ipam_dir: Path) -> dict[str, Any]:
    """The CNI network: bridge :data:`BRIDGE` (gateway, masquerade, hairpin), host-local IPAM
    on :data:`POD_SUBNET` with its state in ``ipam_dir``, portmap. (containerd sets up the
    loopback interface itself with the ``loopback`` plugin.)"""
    return {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET, "gateway": POD_GATEWAY}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(ipam_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }


def kubelet_config(
    workdir: Path, *, client_ca: Path, port: int, healthz_port: int
) -> dict[str, Any]:
    """KubeletConfiguration for this node (cgroup v1 allowed, swap allowed, cgroupfs, no
    anonymous access: the API server authenticates with the admin client certificate)."""
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": NODE_IP,
        "port": port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(client_ca)},
        },
        "authorization": {"mode": "AlwaysAllow"},
        "containerRuntimeEndpoint": f"unix://{containerd_socket(workdir)}",
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": CGROUP_ROOT,
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDomain": CLUSTER_DOMAIN,
        "clusterDNS": [DNS_IP],
        "resolvConf": "/etc/resolv.conf",
        "podLogsDir": str(workdir / "pod-logs"),
        "volumePluginDir": str(workdir / "volume-plugins"),
        "registerNode": True,
        "hairpinMode": "hairpin-veth",
        "serializeImagePulls": False,
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "evictionHard": {
            "memory.available": "50Mi",
            "nodefs.available": "1%",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "1%",
            "imagefs.inodesFree": "1%",
        },
        "containerLogMaxSize": "10Mi",
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
    }


def kube_proxy_config(kubeconfig: Path, *, healthz_port: int, metrics_port: int) -> dict[str, Any]:
    """KubeProxyConfiguration: iptables mode, NodePorts on the node address only, no conntrack
    sysctl tuning, no localhost NodePorts (which would need route_localnet)."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "hostnameOverride": NODE_NAME,
        "mode": "iptables",
        "clusterCIDR": CLUSTER_CIDR,
        "healthzBindAddress": f"127.0.0.1:{healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{metrics_port}",
        "nodePortAddresses": [f"{NODE_IP}/32"],
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
        },
        "iptables": {"localhostNodePorts": False, "syncPeriod": "30s", "minSyncPeriod": "0s"},
    }


COREDNS_REF = "registry.k8s.io/coredns/coredns:v1.14.0"
COREDNS_READY_PORT = 8181


def corefile(kubeconfig: Path) -> str:
    """CoreDNS config: ``cluster.local`` from the API (through ``kubeconfig``, mounted into the
    pod at the same path), the rest forwarded to the node's resolvers."""
    return f""".:53 {{
    errors
    health :8080
    ready :{COREDNS_READY_PORT}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig} baas-test
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    forward . /etc/resolv.conf
    cache 5
    loadbalance
}}
"""


def coredns_manifests(kubeconfig: Path, credentials_dir: Path) -> list[dict[str, Any]]:
    """ConfigMap, Deployment and Service ``kube-system/kube-dns`` (at :data:`DNS_IP`) of the
    cluster DNS, as on kubeadm clusters: pods labelled ``k8s-app=kube-dns`` on the pod network,
    so NetworkPolicies that allow DNS egress to exactly those pods work. The API credentials
    (kubeconfig + client certificate, all under ``credentials_dir``) are a read-only hostPath."""
    labels = {"k8s-app": "kube-dns"}
    container = {
        "name": "coredns",
        "image": COREDNS_REF,
        "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": 53, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
        ],
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": COREDNS_READY_PORT},
            "periodSeconds": 1,
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/coredns", "readOnly": True},
            {"name": "credentials", "mountPath": str(credentials_dir), "readOnly": True},
        ],
    }
    pod_spec = {
        "dnsPolicy": "Default",
        "automountServiceAccountToken": False,
        "priorityClassName": "system-cluster-critical",
        "containers": [container],
        "volumes": [
            {"name": "config", "configMap": {"name": "coredns"}},
            {
                "name": "credentials",
                "hostPath": {"path": str(credentials_dir), "type": "Directory"},
            },
        ],
    }
    ports = [("dns", "UDP"), ("dns-tcp", "TCP")]
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "coredns", "namespace": "kube-system"},
            "data": {"Corefile": corefile(kubeconfig)},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": pod_spec},
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
            "spec": {
                "clusterIP": DNS_IP,
                "selector": labels,
                "ports": [
                    {"name": n, "protocol": p, "port": 53, "targetPort": 53} for n, p in ports
                ],
            },
        },
    ]


def service_programmed(namespace: str, name: str) -> bool:
    """Whether kube-proxy has written the iptables rules that send the Service's ClusterIP to at
    least one endpoint (a ``KUBE-SVC`` rule commented ``ns/name... -> ip:port``). Until then a
    connection to the ClusterIP is rejected, or routed off the node."""
    marker = f'--comment "{namespace}/{name}'
    for line in _run(["iptables-save", "-t", "nat"], check=False).splitlines():
        if marker in line and " -> " in line and line.startswith("-A KUBE-SVC-"):
            return True
    return False


def _write_yaml(path: Path, doc: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(doc), sort_keys=False))
    return path


# --------------------------------------------------------------------------- the cluster


@dataclass
class NodeCluster:
    """A running single-node cluster.

    ``kubeconfig_path`` is cluster-admin (client certificate); ``api`` is the underlying API
    server (:class:`tests.support.kubeapi.KubeCluster`); ``binaries`` has kubectl, ctr, ...
    """

    api: KubeCluster
    binaries: ClusterBinaries
    workdir: Path
    containerd_socket: Path
    node_name: str = NODE_NAME
    images: dict[str, oci.BuiltImage] = field(default_factory=dict)

    @property
    def kubeconfig_path(self) -> Path:
        return self.api.kubeconfig_path

    def api_client(self) -> ApiClient:
        """A fresh ``kubernetes.client.ApiClient`` (cluster-admin; caller closes it)."""
        return self.api.api_client()

    def wait_service_programmed(
        self, namespace: str, name: str, timeout_s: float = _READY_TIMEOUT_S
    ) -> None:
        """Wait until kube-proxy routes the Service to an endpoint (:func:`service_programmed`):
        call it after the backing pods are Ready and before connecting to the ClusterIP or the
        DNS name, or the first connections race kube-proxy's sync. ``TimeoutError`` otherwise."""
        wait_for(
            lambda: service_programmed(namespace, name),
            what=f"kube-proxy rules for Service {namespace}/{name}",
            timeout_s=timeout_s,
        )

    def import_image(self, image: oci.BuiltImage | oci.ImageSpec) -> str:
        """Load an image (built archive, or a spec that is built first) into the node's
        containerd; returns its normalised ref (what a Pod's ``image`` may say, with
        ``imagePullPolicy: Never`` or ``IfNotPresent``)."""
        built = oci.build_image(image) if isinstance(image, oci.ImageSpec) else image
        oci.import_image(built, ctr=self.binaries.ctr, address=self.containerd_socket)
        self.images[built.ref] = built
        return built.ref

    def kubectl(
        self, *args: str, timeout: float = 120, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against the cluster (never raises on a non-zero exit: check
        ``returncode``)."""
        return subprocess.run(
            [str(self.binaries.kubectl), f"--kubeconfig={self.kubeconfig_path}", *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            input=input_text,
        )

    def exec(
        self,
        namespace: str,
        pod: str,
        argv: Sequence[str],
        *,
        container: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside a running pod's container (``kubectl exec``); ``returncode`` is
        the command's exit code."""
        where = ["-c", container] if container else []
        return self.kubectl("exec", "-n", namespace, pod, *where, "--", *argv, timeout=timeout)

    def http_request(
        self,
        namespace: str,
        pod: str,
        host: str,
        port: int = 80,
        path: str = "/",
        *,
        connect_timeout_s: int = 3,
    ) -> subprocess.CompletedProcess[str]:
        """An HTTP/1.0 GET of ``http://host:port/path`` from inside ``pod`` with busybox ``nc``
        (``host`` may be a DNS name: resolved in the pod). ``stdout`` is the raw response."""
        request = f"GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n"
        script = f"printf '{request}' | nc -w {connect_timeout_s} {host} {port}"
        return self.exec(namespace, pod, ["sh", "-c", script])

    def can_open(
        self, namespace: str, pod: str, host: str, port: int, *, connect_timeout_s: int = 3
    ) -> bool:
        """Whether a TCP connection to ``host:port`` (a DNS name is resolved in the pod) opens
        from inside ``pod`` (busybox ``nc -w``, which has no ``-z``: stdin is empty, so nc exits
        0 right after connecting, 1 when refused or timed out)."""
        script = f"nc -w {connect_timeout_s} {host} {port} </dev/null >/dev/null"
        return self.exec(namespace, pod, ["sh", "-c", script]).returncode == 0

    def can_connect(
        self, namespace: str, pod: str, host: str, port: int = 80, *, connect_timeout_s: int = 3
    ) -> bool:
        """Whether an HTTP GET of ``host:port`` from inside ``pod`` gets any HTTP response."""
        proc = self.http_request(namespace, pod, host, port, connect_timeout_s=connect_timeout_s)
        return proc.returncode == 0 and proc.stdout.startswith("HTTP/")

    def http_get(
        self,
        namespace: str,
        pod: str,
        host: str,
        port: int = 80,
        path: str = "/",
        *,
        connect_timeout_s: int = 3,
    ) -> str:
        """The body of a ``200`` response to an HTTP GET from inside ``pod``;
        ``AssertionError`` with the response or nc's error otherwise."""
        proc = self.http_request(
            namespace, pod, host, port, path, connect_timeout_s=connect_timeout_s
        )
        head, _, body = proc.stdout.replace("\r\n", "\n").partition("\n\n")
        status = head.split("\n", 1)[0]
        assert proc.returncode == 0 and " 200 " in f"{status} ", (
            f"GET http://{host}:{port}{path} from {namespace}/{pod}: exit {proc.returncode},"
            f" {status!r} {proc.stderr.strip()}"
        )
        return body


def busybox_pod(
    name: str,
    command: Sequence[str],
    *,
    labels: Mapping[str, str] | None = None,
    image: str = oci.BUSYBOX_REF,
    port: int | None = None,
) -> dict[str, Any]:
    """A Pod manifest running ``command`` in the busybox image (pull policy Never, no service
    account token, terminates at once on delete)."""
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "Never",
        "command": list(command),
    }
    if port is not None:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {
            "containers": [container],
            "terminationGracePeriodSeconds": 0,
            "automountServiceAccountToken": False,
            "restartPolicy": "Always",
        },
    }


def wait_for(check: Callable[[], bool], *, what: str, timeout_s: float = _READY_TIMEOUT_S) -> None:
    """Poll ``check`` every 0.5 s until true; ``TimeoutError`` naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} not reached in {timeout_s:.0f}s")


def wait_pod_ready(api: ApiClient, namespace: str, name: str, timeout_s: float = 180) -> Any:
    """Wait until the pod's Ready condition is True; returns the pod. ``TimeoutError`` with the
    pod's status otherwise."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    last: list[Any] = [None]

    def ready() -> bool:
        pod = core.read_namespaced_pod(name, namespace)
        last[0] = pod
        conditions = pod.status.conditions or []
        return any(c.type == "Ready" and c.status == "True" for c in conditions)

    try:
        wait_for(ready, what=f"pod {namespace}/{name} Ready", timeout_s=timeout_s)
    except TimeoutError as exc:
        status = last[0].status if last[0] is not None else None
        raise TimeoutError(f"{exc}; status: {status}") from None
    return last[0]


# --------------------------------------------------------------------------- storage


class HostPathProvisioner:
    """Dynamic provisioning for :data:`STORAGE_CLASS` (the default class): every Pending claim
    of that class gets a hostPath PersistentVolume (a fresh directory under ``root``, capacity
    and access modes as requested, pre-bound through ``claimRef``); a Released volume of ours is
    deleted with its directory. Runs as a polling thread (every 0.5 s) until :meth:`stop`;
    failures of a pass are kept in ``errors`` and in ``provisioner.log`` (copied with the other
    logs)."""

    def __init__(self, api: KubeCluster, root: Path) -> None:
        self._api = api
        self._root = root
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hostpath-provisioner", daemon=True)
        self.errors: list[str] = []

    def start(self) -> None:
        """Create the default StorageClass and start the thread."""
        from kubernetes import client

        self._root.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(self._api.api_client()) as api_client:
            client.StorageV1Api(api_client).create_storage_class(
                {
                    "apiVersion": "storage.k8s.io/v1",
                    "kind": "StorageClass",
                    "metadata": {
                        "name": STORAGE_CLASS,
                        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                    },
                    "provisioner": PROVISIONER,
                    "reclaimPolicy": "Delete",
                    "volumeBindingMode": "Immediate",
                }
            )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        with contextlib.closing(self._api.api_client()) as api_client:
            while not self._stop.wait(0.5):
                try:
                    self.sync(api_client)
                except Exception as exc:  # keep provisioning; the log says what failed
                    self.errors.append(repr(exc))
                    with (self._root.parent / "provisioner.log").open("a") as log:
                        log.write(f"{time.strftime('%H:%M:%S')} {exc!r}\n")

    def sync(self, api_client: ApiClient) -> None:
        """One pass: provision Pending claims of our class, delete our Released volumes."""
        from kubernetes import client

        core = client.CoreV1Api(api_client)
        volumes = core.list_persistent_volume().items
        claimed = {
            (v.spec.claim_ref.namespace, v.spec.claim_ref.name)
            for v in volumes
            if v.spec.claim_ref is not None
        }
        for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
            key = (claim.metadata.namespace, claim.metadata.name)
            if (
                claim.spec.storage_class_name == STORAGE_CLASS
                and claim.status.phase == "Pending"
                and key not in claimed
            ):
                try:
                    core.create_persistent_volume(self._volume_for(claim))
                except client.ApiException as exc:
                    if exc.status != 409:  # 409: created by the previous pass, not yet seen
                        raise
        for volume in volumes:
            mine = (volume.metadata.annotations or {}).get("pv.kubernetes.io/provisioned-by")
            if mine == PROVISIONER and volume.status.phase in ("Released", "Failed"):
                core.delete_persistent_volume(volume.metadata.name)
                shutil.rmtree(volume.spec.host_path.path, ignore_errors=True)

    def _volume_for(self, claim: Any) -> dict[str, Any]:
        name = f"pvc-{claim.metadata.uid}"
        path = self._root / name
        path.mkdir(mode=0o777, exist_ok=True)
        path.chmod(0o777)  # any container user may write, as with kind's local-path
        requests = claim.spec.resources.requests or {}
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": requests.get("storage", "1Gi")},
                "accessModes": claim.spec.access_modes or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": STORAGE_CLASS,
                "volumeMode": claim.spec.volume_mode or "Filesystem",
                "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": claim.metadata.namespace,
                    "name": claim.metadata.name,
                    "uid": claim.metadata.uid,
                },
            },
        }


# --------------------------------------------------------------------------- processes


@dataclass
class _Runtime:
    """Everything started besides the API server, and the host state to restore."""

    workdir: Path
    binaries: ClusterBinaries
    procs: dict[str, _Proc] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)
    firewall: FirewallState | None = None
    netns_before: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)
    node_ip_added: bool = False
    provisioner: HostPathProvisioner | None = None
    lock: IO[bytes] | None = None

    def spawn(self, name: str, argv: Sequence[str], **env: str) -> _Proc:
        log = self.workdir / f"{name}.log"
        if env:
            argv = ["env", *(f"{k}={v}" for k, v in env.items()), *argv]
        proc = _spawn(name, argv, log)
        self.procs[name] = proc
        return proc


def _tls_insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _wait(proc: _Proc, check: Callable[[], bool], what: str) -> None:
    try:
        _wait_until(proc, check, what=what)
    except KubeStartError as exc:
        raise ClusterStartError(str(exc)) from None


def _prepare_host(rt: _Runtime) -> None:
    """Lock, snapshot the firewall/netns, set sysctls, create the node address and cgroups."""
    HOST_LOCK.parent.mkdir(parents=True, exist_ok=True)
    rt.lock = HOST_LOCK.open("wb")
    fcntl.flock(rt.lock, fcntl.LOCK_EX)
    if _has_node_ip() or _link_exists(BRIDGE):
        _clean_killed_run(rt.binaries)
    rt.firewall = firewall_state()
    rt.netns_before = _netns_names()
    for name in (*REQUIRED_SYSCTLS, *RESTORED_SYSCTLS):
        value = _read_sysctl(name)
        if value is not None:
            rt.sysctls[name] = value
    for name, value in REQUIRED_SYSCTLS.items():
        if _read_sysctl(name) is None:
            raise ClusterStartError(f"/proc/sys/{name} is missing (br_netfilter not loaded?)")
        _write_sysctl(name, value)
    _run(["ip", "addr", "add", f"{NODE_IP}/32", "dev", "lo"])
    rt.node_ip_added = True
    rt.links.append(BRIDGE)
    _make_cgroup_root()


def _clean_killed_run(binaries: ClusterBinaries) -> None:
    """Undo what a cluster whose test run was killed (SIGKILL: no teardown) left behind, as far
    as it is recognisably ours: NODE_IP on lo, the bridge, kube-proxy's and kube-router's
    rules and ipsets, the cgroup root. (Its processes died with it: PR_SET_PDEATHSIG.)"""
    _run([str(binaries.kube_proxy), "--cleanup"], check=False)
    _run([str(binaries.kube_router), "--cleanup-config"], check=False)
    if _link_exists(BRIDGE):
        _run(["ip", "link", "delete", BRIDGE], check=False)
    if _has_node_ip():
        _run(["ip", "addr", "del", f"{NODE_IP}/32", "dev", "lo"], check=False)
    _remove_cgroup_root()


def _start_containerd(rt: _Runtime) -> Path:
    cni_dir = rt.workdir / "cni" / "net.d"
    cni_dir.mkdir(parents=True)
    (rt.workdir / "cni" / "ipam").mkdir()
    (cni_dir / "10-baas.conflist").write_text(
        json.dumps(cni_conflist(rt.workdir / "cni" / "ipam"), indent=2)
    )
    (rt.workdir / "containerd").mkdir()
    config = rt.workdir / "containerd" / "config.toml"
    config.write_text(containerd_config(rt.workdir, rt.binaries, cni_dir))
    sock = containerd_socket(rt.workdir)
    proc = rt.spawn("containerd", [str(rt.binaries.containerd), "--config", str(config)])
    ctr = [str(rt.binaries.ctr), "--address", str(sock), "version"]
    _wait(proc, lambda: sock.exists() and _run(ctr, check=False) != "", "ctr version ok")
    for image in (oci.pause_image(rt.binaries.pause), oci.busybox_image(rt.binaries.busybox)):
        oci.import_image(image, ctr=rt.binaries.ctr, address=sock)
    return sock


def _start_control_plane(rt: _Runtime, api: KubeCluster) -> None:
    kubeconfig = str(api.kubeconfig_path)
    kcm_port, sched_port = free_port(), free_port()
    kcm = rt.spawn(
        "kube-controller-manager",
        [
            str(rt.binaries.kube_controller_manager),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            f"--service-account-private-key-file={api.pki.sa_private}",
            f"--root-ca-file={api.ca_pem}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--use-service-account-credentials=false",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={kcm_port}",
            f"--cert-dir={rt.workdir / 'kcm-certs'}",
            "--controllers=*,-nodeipam",
            "--v=0",
        ],
    )
    scheduler = rt.spawn(
        "kube-scheduler",
        [
            str(rt.binaries.kube_scheduler),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={sched_port}",
            f"--cert-dir={rt.workdir / 'scheduler-certs'}",
            "--v=0",
        ],
    )
    tls = _tls_insecure()
    _wait(kcm, lambda: _http_ok(f"https://127.0.0.1:{kcm_port}/healthz", tls), "/healthz ok")
    _wait(
        scheduler, lambda: _http_ok(f"https://127.0.0.1:{sched_port}/healthz", tls), "/healthz ok"
    )


def _node_ready(api: ApiClient) -> bool:
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    try:
        node = client.CoreV1Api(api).read_node(NODE_NAME)
    except ApiException:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


def _start_kubelet(rt: _Runtime, api: KubeCluster, api_client: ApiClient) -> None:
    root = rt.workdir / "kubelet"
    root.mkdir()
    for name in ("pod-logs", "volume-plugins"):
        (rt.workdir / name).mkdir()
    config = _write_yaml(
        rt.workdir / "kubelet-config.yaml",
        kubelet_config(
            rt.workdir, client_ca=api.pki.client_ca, port=free_port(), healthz_port=free_port()
        ),
    )
    proc = rt.spawn(
        "kubelet",
        [
            str(rt.binaries.kubelet),
            f"--config={config}",
            f"--kubeconfig={api.kubeconfig_path}",
            f"--root-dir={root}",
            f"--cert-dir={root / 'pki'}",
            f"--hostname-override={NODE_NAME}",
            f"--node-ip={NODE_IP}",
            "--v=1",
        ],
    )
    _wait(proc, lambda: _node_ready(api_client), f"node {NODE_NAME} Ready")


def _start_kube_proxy(rt: _Runtime, api: KubeCluster) -> None:
    healthz = free_port()
    config = _write_yaml(
        rt.workdir / "kube-proxy-config.yaml",
        kube_proxy_config(api.kubeconfig_path, healthz_port=healthz, metrics_port=free_port()),
    )
    proc = rt.spawn("kube-proxy", [str(rt.binaries.kube_proxy), f"--config={config}", "--v=0"])
    _wait(proc, lambda: _http_ok(f"http://127.0.0.1:{healthz}/healthz"), "/healthz ok")


def _coredns_ready(api_client: ApiClient) -> bool:
    from kubernetes import client

    pods = client.CoreV1Api(api_client).list_namespaced_pod(
        "kube-system", label_selector="k8s-app=kube-dns"
    )
    return any(
        c.type == "Ready" and c.status == "True"
        for pod in pods.items
        for c in pod.status.conditions or []
    )


def _start_coredns(rt: _Runtime, api: KubeCluster, api_client: ApiClient) -> None:
    """CoreDNS as a Deployment in kube-system (image: the built binary); waits until its pod
    is Ready and kube-proxy routes the kube-dns Service to it."""
    from kubernetes import utils

    image = oci.ImageSpec(
        ref=COREDNS_REF,
        entries=(*oci.base_entries(), oci.file_from(rt.binaries.coredns, "/coredns", mode=0o755)),
        config=oci.ImageConfig(entrypoint=("/coredns",)),
    )
    oci.import_image(
        oci.build_image(image), ctr=rt.binaries.ctr, address=containerd_socket(rt.workdir)
    )
    credentials = api.kubeconfig_path.parent
    for doc in coredns_manifests(api.kubeconfig_path, credentials):
        utils.create_from_dict(api_client, doc)
    kube_proxy = rt.procs["kube-proxy"]
    _wait(kube_proxy, lambda: _coredns_ready(api_client), "CoreDNS pod Ready")
    _wait(kube_proxy, lambda: service_programmed("kube-system", "kube-dns"), "kube-dns rules")


def _chain_exists(chain: str) -> bool:
    return chain in _save_iptables("iptables", "filter")[0]


def _start_kube_router(rt: _Runtime, api: KubeCluster) -> None:
    proc = rt.spawn(
        "kube-router",
        [
            str(rt.binaries.kube_router),
            f"--kubeconfig={api.kubeconfig_path}",
            f"--hostname-override={NODE_NAME}",
            "--run-firewall=true",
            "--run-router=false",
            "--run-service-proxy=false",
            "--enable-cni=false",
            "--enable-ipv4=true",
            "--enable-ipv6=false",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--health-port=0",
            "--metrics-port=0",
            "--iptables-sync-period=30s",
            "--v=1",
        ],
    )
    _wait(proc, lambda: _chain_exists("KUBE-ROUTER-FORWARD"), "KUBE-ROUTER-FORWARD chain")


def _start(rt: _Runtime, api: KubeCluster) -> NodeCluster:
    """Start every node component after the API server; returns the cluster."""
    api_client = api.api_client()
    try:
        sock = _start_containerd(rt)
        _start_control_plane(rt, api)
        _start_kubelet(rt, api, api_client)
        _start_kube_proxy(rt, api)
        _start_coredns(rt, api, api_client)
        _start_kube_router(rt, api)
        rt.provisioner = HostPathProvisioner(api, rt.workdir / "volumes")
        rt.provisioner.start()
    finally:
        api_client.close()
    return NodeCluster(api=api, binaries=rt.binaries, workdir=rt.workdir, containerd_socket=sock)


# --------------------------------------------------------------------------- teardown


def _delete_all_pods(api: KubeCluster) -> None:
    """Force-delete every pod and wait until containerd runs no container any more."""
    from kubernetes import client

    with contextlib.closing(api.api_client()) as api_client:
        core = client.CoreV1Api(api_client)
        for pod in core.list_pod_for_all_namespaces().items:
            with contextlib.suppress(Exception):
                core.delete_namespaced_pod(
                    pod.metadata.name, pod.metadata.namespace, grace_period_seconds=0
                )


def _containers_left(rt: _Runtime) -> list[str]:
    sock = containerd_socket(rt.workdir)
    if not sock.exists():
        return []
    out = _run(
        [str(rt.binaries.ctr), "--address", str(sock), "-n", "k8s.io", "containers", "ls", "-q"],
        check=False,
    )
    return out.split()


def _running_tasks(rt: _Runtime) -> list[str]:
    """IDs of the containerd tasks (container processes) still RUNNING, pods' sandboxes
    included."""
    sock = containerd_socket(rt.workdir)
    if not sock.exists():
        return []
    out = _run(
        [str(rt.binaries.ctr), "--address", str(sock), "-n", "k8s.io", "tasks", "ls"],
        check=False,
    )
    return [line.split()[0] for line in out.splitlines()[1:] if "RUNNING" in line.split()]


def _force_remove_containers(rt: _Runtime) -> None:
    """SIGKILL and delete whatever containers kubelet did not remove (their processes would
    otherwise outlive the shims)."""
    sock = containerd_socket(rt.workdir)
    ctr = [str(rt.binaries.ctr), "--address", str(sock), "-n", "k8s.io"]
    for cid in _containers_left(rt):
        _run([*ctr, "tasks", "kill", "--all", "--signal", "SIGKILL", cid], check=False)
        _run([*ctr, "tasks", "delete", "--force", cid], check=False)
        _run([*ctr, "containers", "delete", cid], check=False)


def _kill_shims(rt: _Runtime) -> None:
    """SIGKILL the containerd shims of *this* containerd (found by its socket path)."""
    needle = str(containerd_socket(rt.workdir)).encode()
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes()
        except OSError:
            continue
        if b"containerd-shim" in cmdline and needle in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc_dir.name), signal.SIGKILL)


def _stop(proc: _Proc | None) -> None:
    """Stop one component and anything left in its process group."""
    if proc is None:
        return
    pid = proc.popen.pid
    proc.stop()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _teardown(rt: _Runtime, api: KubeCluster | None) -> list[str]:
    """Stop everything and undo host changes; returns the leftovers (empty when clean)."""
    left: list[str] = []
    procs = rt.procs
    began = time.monotonic()
    log = (rt.workdir / "teardown.log").open("a")

    def step(what: str) -> None:
        log.write(f"{time.monotonic() - began:7.2f}s {what}\n")
        log.flush()

    if rt.provisioner is not None:
        rt.provisioner.stop()
        rt.provisioner = None
    for name in ("kube-controller-manager", "kube-scheduler"):
        _stop(procs.get(name))
    step("controllers stopped")
    if api is not None and "kubelet" in procs:
        with contextlib.suppress(Exception):
            _delete_all_pods(api)
            # Running tasks, not containers: kubelet garbage-collects the stopped containers
            # of deleted pods only once a minute; those are removed below.
            wait_for(
                lambda: not _running_tasks(rt), what="pods stopped", timeout_s=_POD_GONE_TIMEOUT_S
            )
    step("pods deleted")
    _stop(procs.get("kubelet"))
    step("kubelet stopped")
    _force_remove_containers(rt)
    left += [f"container {c}" for c in _containers_left(rt)]
    for name in ("kube-router", "kube-proxy"):
        _stop(procs.get(name))
    if "kube-router" in procs:
        _run([str(rt.binaries.kube_router), "--cleanup-config"], check=False)
    if "kube-proxy" in procs:
        _run([str(rt.binaries.kube_proxy), "--cleanup"], check=False)
    step("network components stopped and cleaned up")
    _stop(procs.get("containerd"))
    step("containerd stopped")
    _kill_shims(rt)
    _unmount_all(rt.workdir)
    for name in sorted(_netns_names() - rt.netns_before):
        if name.startswith("cni-"):
            _run(["ip", "netns", "delete", name], check=False)
    for link in rt.links:
        if _link_exists(link):
            _run(["ip", "link", "delete", link], check=False)
    added_ip, rt.node_ip_added = rt.node_ip_added, False
    if added_ip:
        _run(["ip", "addr", "del", f"{NODE_IP}/32", "dev", "lo"], check=False)
    _run(["conntrack", "-D", "-s", POD_SUBNET], check=False)
    if rt.firewall is not None:
        restore_firewall(rt.firewall)
        left += firewall_leftovers(rt.firewall)
    left += [f"cgroup {c}" for c in _remove_cgroup_root()]
    for name, value in rt.sysctls.items():
        if _read_sysctl(name) != value:
            _write_sysctl(name, value)
    left += [f"mount {m}" for m in _mounts_under(rt.workdir)]
    left += [f"netns {n}" for n in sorted(_netns_names() - rt.netns_before)]
    left += [f"link {link}" for link in rt.links if _link_exists(link)]
    left += [f"address {NODE_IP} on lo"] if added_ip and _has_node_ip() else []
    step(f"host restored; left behind: {left}")
    log.close()
    if rt.lock is not None:
        rt.lock.close()
    return left


@contextlib.contextmanager
def running_cluster(binaries: ClusterBinaries, workdir: Path) -> Iterator[NodeCluster]:
    """Start the whole single-node cluster under ``workdir`` (must be root); yield it once the
    node is Ready, DNS answers and the NetworkPolicy controller runs; tear everything down on
    exit. ``ClusterStartError`` when a component does not start (with its log tail);
    ``ClusterTeardownError`` when teardown leaves something behind."""
    if os.geteuid() != 0:
        raise ClusterStartError("the single-node cluster needs root (kubelet, containerd, CNI)")
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    rt = _Runtime(workdir=workdir, binaries=binaries)
    options = ApiServerOptions(
        bind_address=NODE_IP,
        disabled_admission_plugins=(),
        endpoint_reconciler="lease",
        service_cluster_ip_range=SERVICE_CIDR,
        kubelet_client_cert=True,
    )
    left: list[str] = []
    torn_down = False
    try:
        _prepare_host(rt)
        with running_kube(binaries.kube, workdir / "apiserver", options) as api:
            try:
                yield _start(rt, api)
            finally:
                left, torn_down = _teardown(rt, api), True
    finally:
        if not torn_down:
            left = _teardown(rt, None)
    if left:
        raise ClusterTeardownError("teardown left behind:\n  " + "\n  ".join(left))


# --------------------------------------------------------------------------- pytest fixtures


def _skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "") == "1"


@pytest.fixture(scope="session")
def cluster_binaries() -> ClusterBinaries:
    """Everything the cluster needs, installed on first use (fails, never skips, unless
    ``BAAS_SKIP_CLUSTER=1``)."""
    if _skip_requested():
        pytest.skip(f"{SKIP_ENV}=1: tests that need the real single-node cluster are disabled")
    try:
        return ensure_cluster_binaries()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@contextlib.contextmanager
def private_workdir(keep_logs_in: Path) -> Iterator[Path]:
    """A fresh 0700 directory under ``$TMPDIR`` (never under pytest's basetemp, which a
    concurrent pytest run may prune while kubelet has mounts in it); on exit the component logs
    and the pods' container logs (``pods/``) are copied into ``keep_logs_in`` and the directory
    is removed, unless something is still
    mounted below it (then it is left alone, and reported by the teardown)."""
    workdir = Path(tempfile.mkdtemp(prefix="baas-cluster-"))
    try:
        yield workdir
    finally:
        keep_logs_in.mkdir(parents=True, exist_ok=True)
        for log in [*workdir.glob("*.log"), *workdir.glob("apiserver/*/*.log")]:
            shutil.copyfile(log, keep_logs_in / log.name)
        pod_logs = workdir / "pod-logs"
        if pod_logs.is_dir():  # <ns>_<pod>_<uid>/<container>/<n>.log, kept for post-mortems
            shutil.copytree(pod_logs, keep_logs_in / "pods", dirs_exist_ok=True, symlinks=True)
        if not _mounts_under(workdir):
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def kube_node_cluster(
    cluster_binaries: ClusterBinaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeCluster]:
    """One single-node cluster for the whole session; torn down at session end (the component
    logs end up in the session's ``cluster-logs*`` tmp dir)."""
    logs = tmp_path_factory.mktemp("cluster-logs")
    try:
        with private_workdir(logs) as workdir, running_cluster(cluster_binaries, workdir) as c:
            yield c
    except (ClusterStartError, KubeStartError) as exc:
        pytest.fail(str(exc), pytrace=False)
