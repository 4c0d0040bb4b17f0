"""A real, throw-away Kubernetes API server for tests: etcd + kube-apiserver on 127.0.0.1.

There is no kubelet, scheduler or controller-manager: pods never run, but every API object
(namespaces, NetworkPolicies, Secrets, StatefulSets, RBAC, Helm release Secrets) is really
validated, admitted and stored, and the TokenRequest / TokenReview APIs work (what Vault's
Kubernetes auth method calls).

Binaries come from ``scripts/install-kube.sh`` (cached under ``~/.cache/baas``; the first build of
kube-apiserver takes 10-25 minutes on 2 cores, later calls return in milliseconds). The fixtures
never skip silently: when the binaries cannot be built the test *fails*, unless the environment
sets ``BAAS_SKIP_KUBE=1``, which skips with that reason.

Consequences of the missing controllers that tests must keep in mind:

* a deleted namespace stays ``Terminating`` forever (no namespace controller): use fresh names;
* no ``default`` ServiceAccount and no ``kube-root-ca.crt`` ConfigMap appear in new namespaces;
  the ``ServiceAccount`` admission plugin is therefore disabled (it would reject every Pod whose
  ServiceAccount the absent controller never created);
* StatefulSets / Deployments are stored but never create Pods.

tests/support/cluster.py starts the same pair with :class:`ApiServerOptions` for a real
single-node cluster (kubelet, controllers, containerd), where pods do run.

Usage from a conftest::

    from tests.support.kubeapi import helm_binary, kube_cluster  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = REPO_ROOT / "scripts"
SKIP_ENV = "BAAS_SKIP_KUBE"

#: Issuer and audience of service-account tokens minted by the test API server.
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
#: Admission plugins that depend on controllers this server does not run.
DISABLED_ADMISSION_PLUGINS = ("ServiceAccount",)

_READY_TIMEOUT_S = 180.0
_STOP_TIMEOUT_S = 20.0
_START_ATTEMPTS = 3


class KubeStartError(RuntimeError):
    """etcd or kube-apiserver did not start; the message carries the tail of its log."""


# --------------------------------------------------------------------------- binaries


@dataclass(frozen=True)
class KubeBinaries:
    """Paths of the installed binaries (all exist and are executable)."""

    kube_apiserver: Path
    etcd: Path


def run_install_script(name: str, *args: str) -> dict[str, str]:
    """Run ``scripts/<name>`` and return the ``KEY=VALUE`` lines it printed on stdout.

    The scripts are idempotent and cached, so calling them on every session is cheap once the
    first install has happened. Raises ``RuntimeError`` with the end of stderr when the script
    fails (so a test fails loudly instead of skipping).
    """
    proc = subprocess.run(
        ["bash", str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-40:])
        raise RuntimeError(f"scripts/{name} failed (exit {proc.returncode}):\n{tail}")
    values: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def ensure_kube_binaries() -> KubeBinaries:
    """Install (or find cached) kube-apiserver and etcd; see ``scripts/install-kube.sh``."""
    values = run_install_script("install-kube.sh")
    return KubeBinaries(kube_apiserver=Path(values["KUBE_APISERVER"]), etcd=Path(values["ETCD"]))


def ensure_helm() -> Path:
    """Install (or find cached) the helm 3 binary; see ``scripts/install-helm.sh``."""
    return Path(run_install_script("install-helm.sh")["HELM"])


# --------------------------------------------------------------------------- PKI


@dataclass(frozen=True)
class _KeyPair:
    key_pem: bytes
    cert_pem: bytes


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 (created that way, never world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attrs)


def _validity(builder: x509.CertificateBuilder) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return builder.not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(
        now + dt.timedelta(days=2)
    )


def _make_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    return key, _validity(builder).sign(key, hashes.SHA256())


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    sans: Sequence[x509.GeneralName] = (),
) -> _KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    cert = _validity(builder).sign(ca_key, hashes.SHA256())
    return _KeyPair(key_pem=_key_pem(key), cert_pem=cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class KubePki:
    """Files of the throw-away PKI, all inside one 0700 directory. ``client_ca`` signs client
    certificates (``admin_cert`` is CN=admin, O=system:masters); ``sa_private`` signs
    ServiceAccount tokens (the controller-manager needs it too)."""

    serving_ca: Path
    serving_cert: Path
    serving_key: Path
    client_ca: Path
    admin_cert: Path
    admin_key: Path
    sa_public: Path
    sa_private: Path


def _make_pki(directory: Path, extra_ips: Sequence[str] = ()) -> KubePki:
    """Generate serving CA + cert (127.0.0.1/localhost and ``extra_ips``), client CA + admin
    cert, SA key pair."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    serving_ca_key, serving_ca = _make_ca("baas-test-kube-serving-ca")
    serving = _issue(
        serving_ca_key,
        serving_ca,
        subject=_name("kube-apiserver"),
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        sans=[
            x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
            *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in extra_ips),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes"),
            x509.DNSName("kubernetes.default.svc"),
            x509.DNSName("kubernetes.default.svc.cluster.local"),
        ],
    )
    client_ca_key, client_ca = _make_ca("baas-test-kube-client-ca")
    admin = _issue(
        client_ca_key,
        client_ca,
        subject=_name("admin", organization="system:masters"),
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pki = KubePki(
        serving_ca=directory / "serving-ca.pem",
        serving_cert=directory / "apiserver.pem",
        serving_key=directory / "apiserver-key.pem",
        client_ca=directory / "client-ca.pem",
        admin_cert=directory / "admin.pem",
        admin_key=directory / "admin-key.pem",
        sa_public=directory / "sa.pub",
        sa_private=directory / "sa-key.pem",
    )
    pki.serving_ca.write_bytes(serving_ca.public_bytes(serialization.Encoding.PEM))
    pki.serving_cert.write_bytes(serving.cert_pem)
    _write_private(pki.serving_key, serving.key_pem)
    pki.client_ca.write_bytes(client_ca.public_bytes(serialization.Encoding.PEM))
    pki.admin_cert.write_bytes(admin.cert_pem)
    _write_private(pki.admin_key, admin.key_pem)
    pki.sa_public.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    _write_private(pki.sa_private, _key_pem(sa_key))
    return pki


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (callers retry on a lost race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM the child when its parent thread dies, so
    a killed test run leaves no etcd / kube-apiserver behind (no-op elsewhere). The fixtures
    start processes from pytest's main thread, which lives as long as the session."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.closed:
            self.log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """SIGTERM, wait up to 20 s, then SIGKILL; always reaps the process and closes the log."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()


def _spawn(name: str, argv: Sequence[str], log_path: Path) -> _Proc:
    log = log_path.open("ab")
    popen = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    return _Proc(name=name, popen=popen, log_path=log_path, log=log)


def _wait_until(proc: _Proc, check: Callable[[], bool], *, what: str) -> None:
    """Poll ``check`` until it is true; raise KubeStartError if ``proc`` exits or time runs out."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise KubeStartError(
                f"{proc.name} exited with {proc.popen.returncode} before {what}:\n{proc.log_tail()}"
            )
        if check():
            return
        time.sleep(0.2)
    raise KubeStartError(
        f"{proc.name}: {what} not reached in {_READY_TIMEOUT_S:.0f}s:\n{proc.log_tail()}"
    )


def _http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


# --------------------------------------------------------------------------- cluster


@dataclass(frozen=True)
class KubeCluster:
    """A running test API server.

    ``kubeconfig_path`` authenticates as CN=admin, O=system:masters (cluster-admin through RBAC's
    bootstrap binding) with a client certificate; ``ca_pem`` is the CA of the serving
    certificate. Service-account tokens are issued by ``service_account_issuer`` for the audience
    ``service_account_issuer``.
    """

    kubeconfig_path: Path
    server_url: str
    ca_pem: Path
    service_account_issuer: str
    workdir: Path
    pki: KubePki

    def api_client(self) -> ApiClient:
        """A fresh ``kubernetes.client.ApiClient`` for the admin identity (caller closes it)."""
        from kubernetes import config

        api: ApiClient = config.new_client_from_config(config_file=str(self.kubeconfig_path))
        return api


def _write_kubeconfig(path: Path, *, server_url: str, pki: KubePki) -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "baas-test",
                "cluster": {"server": server_url, "certificate-authority": str(pki.serving_ca)},
            }
        ],
        "users": [
            {
                "name": "admin",
                "user": {
                    "client-certificate": str(pki.admin_cert),
                    "client-key": str(pki.admin_key),
                },
            }
        ],
        "contexts": [{"name": "baas-test", "context": {"cluster": "baas-test", "user": "admin"}}],
        "current-context": "baas-test",
        "preferences": {},
    }
    _write_private(path, yaml.safe_dump(doc, sort_keys=False).encode())


def _etcd_argv(etcd: Path, data_dir: Path, *, client_port: int, peer_port: int) -> list[str]:
    client = f"http://127.0.0.1:{client_port}"
    peer = f"http://127.0.0.1:{peer_port}"
    return [
        str(etcd),
        "--name=baas-test",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=baas-test={peer}",
        "--initial-cluster-state=new",
        "--log-level=warn",
        # Throw-away data: durability buys nothing and costs seconds on slow disks.
        "--unsafe-no-fsync",
    ]


@dataclass(frozen=True)
class ApiServerOptions:
    """How :func:`running_kube` configures kube-apiserver. The defaults are the API-only server
    of the ``kube`` suite; tests/support/cluster.py binds it to the node address (reachable
    from pods), keeps the ServiceAccount admission plugin (its controllers run there) and lets
    the endpoint reconciler publish the ``kubernetes`` Service."""

    bind_address: str = "127.0.0.1"
    disabled_admission_plugins: tuple[str, ...] = DISABLED_ADMISSION_PLUGINS
    endpoint_reconciler: str = "none"
    service_cluster_ip_range: str = "10.96.0.0/16"
    #: Authenticate to kubelets with the admin client certificate (exec, logs, port-forward).
    kubelet_client_cert: bool = False
    extra_args: tuple[str, ...] = ()


def _apiserver_argv(
    binary: Path,
    workdir: Path,
    *,
    etcd_url: str,
    port: int,
    pki: KubePki,
    options: ApiServerOptions,
) -> list[str]:
    disabled = ",".join(options.disabled_admission_plugins)
    return [
        str(binary),
        f"--etcd-servers={etcd_url}",
        f"--bind-address={options.bind_address}",
        f"--advertise-address={options.bind_address}",
        f"--secure-port={port}",
        f"--cert-dir={workdir / 'cert-dir'}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.client_ca}",
        "--authorization-mode=RBAC",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.sa_public}",
        f"--service-account-signing-key-file={pki.sa_private}",
        f"--api-audiences={SERVICE_ACCOUNT_ISSUER}",
        f"--service-cluster-ip-range={options.service_cluster_ip_range}",
        *([f"--disable-admission-plugins={disabled}"] if disabled else []),
        # The "kubernetes" Endpoints may not hold a loopback address: "none" unless the server
        # listens on a routable address.
        f"--endpoint-reconciler-type={options.endpoint_reconciler}",
        "--allow-privileged=true",
        "--profiling=false",
        "--v=0",
        *(
            [
                f"--kubelet-client-certificate={pki.admin_cert}",
                f"--kubelet-client-key={pki.admin_key}",
                "--kubelet-preferred-address-types=InternalIP",
            ]
            if options.kubelet_client_cert
            else []
        ),
        *options.extra_args,
    ]


@dataclass
class _Started:
    cluster: KubeCluster
    procs: list[_Proc]

    def stop(self) -> None:
        """Stop kube-apiserver, then etcd (reverse start order); each is reaped."""
        for proc in reversed(self.procs):
            proc.stop()


def _start_once(binaries: KubeBinaries, workdir: Path, options: ApiServerOptions) -> _Started:
    """Start etcd then kube-apiserver; on any failure stop what was started and re-raise."""
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    extra_ips = () if options.bind_address == "127.0.0.1" else (options.bind_address,)
    pki = _make_pki(workdir / "pki", extra_ips)
    procs: list[_Proc] = []
    try:
        client_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{client_port}"
        data_dir = workdir / "etcd-data"
        data_dir.mkdir(mode=0o700)
        etcd = _spawn(
            "etcd",
            _etcd_argv(binaries.etcd, data_dir, client_port=client_port, peer_port=peer_port),
            workdir / "etcd.log",
        )
        procs.append(etcd)
        _wait_until(etcd, lambda: _http_ok(f"{etcd_url}/health"), what="/health ok")

        apiserver = _spawn(
            "kube-apiserver",
            _apiserver_argv(
                binaries.kube_apiserver,
                workdir,
                etcd_url=etcd_url,
                port=api_port,
                pki=pki,
                options=options,
            ),
            workdir / "kube-apiserver.log",
        )
        procs.append(apiserver)
        server_url = f"https://{options.bind_address}:{api_port}"
        tls = ssl.create_default_context(cafile=str(pki.serving_ca))
        tls.load_cert_chain(str(pki.admin_cert), str(pki.admin_key))
        _wait_until(apiserver, lambda: _http_ok(f"{server_url}/readyz", tls), what="/readyz ok")

        kubeconfig = workdir / "kubeconfig"
        _write_kubeconfig(kubeconfig, server_url=server_url, pki=pki)
    except BaseException:
        for proc in reversed(procs):
            proc.stop()
        raise
    cluster = KubeCluster(
        kubeconfig_path=kubeconfig,
        server_url=server_url,
        ca_pem=pki.serving_ca,
        service_account_issuer=SERVICE_ACCOUNT_ISSUER,
        workdir=workdir,
        pki=pki,
    )
    return _Started(cluster=cluster, procs=procs)


@contextlib.contextmanager
def running_kube(
    binaries: KubeBinaries, workdir: Path, options: ApiServerOptions | None = None
) -> Iterator[KubeCluster]:
    """Start etcd + kube-apiserver under ``workdir``; yield once /readyz is ok; stop both on exit.
    ``options`` (default: :class:`ApiServerOptions`) say how kube-apiserver is configured.

    Ports are picked at random on 127.0.0.1; a start that fails (e.g. a port taken between
    picking and binding) is retried up to 3 times in a fresh sub-directory. Raises
    ``KubeStartError`` (with the log tail) when every attempt fails. On exit both processes get
    SIGTERM, then SIGKILL after 20 s, and are reaped.
    """
    last: KubeStartError | None = None
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            started = _start_once(
                binaries, workdir / f"attempt-{attempt}", options or ApiServerOptions()
            )
        except KubeStartError as exc:
            last = exc
            continue
        try:
            yield started.cluster
        finally:
            started.stop()
        return
    assert last is not None
    raise last


# --------------------------------------------------------------------------- pytest fixtures


def _skip_requested() -> bool:
    return os.environ.get(SKIP_ENV, "") == "1"


@pytest.fixture(scope="session")
def kube_binaries() -> KubeBinaries:
    """kube-apiserver + etcd, built/installed on first use (fails, never skips, unless
    ``BAAS_SKIP_KUBE=1``)."""
    if _skip_requested():
        pytest.skip(f"{SKIP_ENV}=1: tests that need a real kube-apiserver are disabled")
    try:
        return ensure_kube_binaries()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def kube_cluster(
    kube_binaries: KubeBinaries, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KubeCluster]:
    """One etcd + kube-apiserver for the whole session; stopped and reaped at session end."""
    try:
        with running_kube(kube_binaries, tmp_path_factory.mktemp("kube")) as cluster:
            yield cluster
    except KubeStartError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    """The cached helm 3 binary (installed on first use; fails, never skips, unless
    ``BAAS_SKIP_KUBE=1``)."""
    if _skip_requested():
        pytest.skip(f"{SKIP_ENV}=1: tests that need helm and a kube-apiserver are disabled")
    try:
        return ensure_helm()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
