"""``baas up|down|status --target kubernetes``: the Kubernetes runtime.

``up`` is a chain of ensures, each reading the cluster first and acting only on differences:
PKI (files, the source of truth) → namespaces and NetworkPolicies (server-side apply) → key
material (Kubernetes Secrets, or Vault with per-org policies and Kubernetes-auth roles) → one Helm
release of ``charts/fabric`` per organisation (pyhelm3, upgraded only when chart or values
change; each node's pod template carries the digest of its certificates, so a renewal restarts
exactly the nodes whose certificates changed) → optionally, waiting for workloads. "Objects
applied" and "workloads ready" are separate steps: a cluster without schedulable nodes gets its
objects and a clear timeout message.
"""

from __future__ import annotations

import base64
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

import pki
from baas.errors import BaasError, UsageError
from baas.fabric import binaries
from baas.fabric.binaries import FabricInstall
from baas.home import crypto_dir
from baas.network.access import NetworkAccess
from baas.network.changes import Change
from baas.network.crypto import CryptoTree
from baas.plan import OrgPlan, Plan, pki_org_specs_from_plan
from baas.runtimes.kubernetes import fabric_steps, vault_auth
from baas.runtimes.kubernetes.admin_route import open_access
from baas.runtimes.kubernetes.applying import ObjectChange, delete_objects, ensure_objects
from baas.runtimes.kubernetes.cluster import ClusterTarget, api_client
from baas.runtimes.kubernetes.helm import helm_binary
from baas.runtimes.kubernetes.namespaces import namespace_manifests, toolbox_namespace
from baas.runtimes.kubernetes.policies import (
    network_policies,
    retired_network_policies,
    vault_egress_policies,
)
from baas.runtimes.kubernetes.readiness import Workload, wait_ready, workload_status
from baas.runtimes.kubernetes.releases import (
    HelmSettings,
    ReleaseChange,
    ensure_release,
    uninstall_release,
)
from baas.runtimes.kubernetes.values import (
    ValuesOptions,
    org_values,
    release_name,
    service_account_name,
)
from baas.secrets.kubernetes import TLS_KEYS, CoreV1SecretApi, KubernetesStore, secret_names
from baas.secrets.vault import VaultStore
from baas.smoke.probe import DEFAULT_IMAGE as DEFAULT_PROBE_IMAGE
from baas.smoke.probe import with_probes

SecretsMode = Literal["kubernetes", "vault"]
Report = Callable[[str], None]


@dataclass(frozen=True)
class KubeOptions:
    """How to deploy. ``vault`` holds VaultStore settings (address/token default to the
    ``VAULT_ADDR``/``VAULT_TOKEN`` environment); ``wait`` waits up to ``timeout`` seconds for
    workloads after applying; ``probe_image`` is the smoke probe's chaincode server image
    (``BAAS_PROBE_IMAGE``, else :data:`baas.smoke.probe.DEFAULT_IMAGE`)."""

    target: ClusterTarget = field(default_factory=ClusterTarget)
    secrets: SecretsMode = "kubernetes"
    vault: dict[str, Any] = field(default_factory=dict)
    wait: bool = True
    timeout: float = 300.0
    image_registry: str = ""
    probe_image: str = field(
        default_factory=lambda: os.environ.get("BAAS_PROBE_IMAGE") or DEFAULT_PROBE_IMAGE
    )


@dataclass
class UpResult:
    objects: list[ObjectChange] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    releases: list[ReleaseChange] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    network: list[Change] = field(default_factory=list)
    network_skipped: str = ""
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per step: ``objects``, ``secrets``, ``releases``, ``ready``, ``channel``,
    ``chaincode`` (those that ran)."""

    @property
    def changed(self) -> bool:
        return (
            any(c.action != "unchanged" for c in self.objects)
            or any(v != "unchanged" for v in self.secrets.values())
            or any(r.action != "unchanged" for r in self.releases)
            or bool(self.network)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": "kubernetes",
            "changed": self.changed,
            "objects": [str(c) for c in self.objects],
            "secrets": dict(self.secrets),
            "releases": [str(r) for r in self.releases],
            "workloads": [
                {"kind": w.kind, "namespace": w.namespace, "name": w.name, "ready": w.ready}
                for w in self.workloads
            ],
            "network": [c.to_dict() for c in self.network],
            "networkSkipped": self.network_skipped,
            "phases": [{"name": k, "seconds": round(v, 3)} for k, v in self.phases.items()],
        }


def helm_settings(options: KubeOptions) -> HelmSettings:
    return HelmSettings(
        executable=str(helm_binary()),
        kubeconfig=options.target.kubeconfig_path,
        context=options.target.context,
    )


def release_values(
    plan: Plan, options: KubeOptions, *, identity_digests: Mapping[str, str]
) -> list[tuple[OrgPlan, dict[str, Any]]]:
    """Each organisation's release values as ``up`` installs them (without ``chartDigest``,
    which :func:`baas.runtimes.kubernetes.releases.ensure_release` adds), in plan order.
    ``baas plan`` compares these same values with the deployed ones. Pure."""
    values_options = ValuesOptions(
        secrets_mode=options.secrets, image_registry=options.image_registry
    )
    return [
        (org, org_values(plan, org, values_options, identity_digests=identity_digests))
        for org in plan.orgs
    ]


def _open_store(api: Any, options: KubeOptions) -> Any:
    if options.secrets == "vault":
        return VaultStore.from_settings(**options.vault)
    from kubernetes import client

    return KubernetesStore(CoreV1SecretApi(client.CoreV1Api(api)))


def _ensure_vault_access(api: Any, store: Any, plan: Plan, report: Report) -> None:
    toolbox = toolbox_namespace(plan)
    _, jwt = vault_auth.ensure_reviewer(api, network=plan.network, namespace=toolbox)
    host, ca = vault_auth.cluster_endpoint(api)
    store.ensure_auth_mount("kubernetes", "kubernetes")
    change = store.ensure_kubernetes_auth_config(host=host, ca_cert=ca, reviewer_jwt=jwt)
    report(f"vault kubernetes auth → {host}: {change}")
    for org in plan.orgs:
        access = store.ensure_org_access(
            plan.network, org.name, kubernetes=True, service_account=service_account_name(org)
        )
        report(
            f"vault access for {org.name}: policy {access.policy} "
            f"({', '.join(f'{k} {v}' for k, v in access.changes.items())})"
        )


def ensure_releases(
    plan: Plan, crypto_root: Path, options: KubeOptions, *, report: Report
) -> list[ReleaseChange]:
    """One Helm release of ``charts/fabric`` per organisation, upgraded only when chart or
    values changed. A renewed certificate changes its node's digest, hence its pod template:
    exactly that node rolls."""
    helm = helm_settings(options)
    digests = pki.identity_digests(crypto_root, pki_org_specs_from_plan(plan))
    changes: list[ReleaseChange] = []
    for org, values in release_values(plan, options, identity_digests=digests):
        change = ensure_release(
            helm, name=release_name(org), namespace=org.namespace, values=values
        )
        changes.append(change)
        report(str(change))
    return changes


def up(
    plan: Plan,
    crypto_root: Path,
    options: KubeOptions,
    *,
    install: FabricInstall | None,
    report: Report = lambda _: None,
    signers: frozenset[str] | None = None,
) -> UpResult:
    """Bring ``plan`` up on the cluster in ``options.target``; idempotent.

    ``crypto_root`` must hold the network's PKI tree (``pki.generate`` ran); ``install`` gives
    configtxgen for the channels (``None`` only for a plan without channels). With
    ``options.wait`` the channel and chaincode steps run once the pods are ready, through the
    admin route; without it they are skipped, saying so. Raises
    :class:`baas.errors.OperationError` with the cluster's, Vault's, helm's or Fabric's own
    message."""
    result = UpResult()
    clock = _Clock(result.phases)
    api = api_client(options.target)
    store = _open_store(api, options)
    manifests = namespace_manifests(plan) + network_policies(plan)
    if options.secrets == "vault":
        manifests += vault_egress_policies(plan, vault_addr=store.address)
    result.objects = ensure_objects(api, manifests, on_change=lambda c: report(str(c)))
    # policies of the retired toolbox admin Jobs, left by earlier releases of baas
    retired = delete_objects(api, retired_network_policies(plan))
    for gone in (c for c in retired if c.action == "deleted"):
        result.objects.append(gone)
        report(str(gone))
    clock.lap("objects")
    if options.secrets == "vault":
        _ensure_vault_access(api, store, plan, report)
    specs = pki_org_specs_from_plan(plan)
    for spec in specs:
        for bundle in pki.load_bundles(crypto_root, spec):
            change = store.ensure_identity(plan.network, bundle)
            result.secrets[f"{spec.name}/{bundle.name}"] = str(change)
            report(f"secret {spec.name}/{bundle.name} ({options.secrets}): {change}")
    clock.lap("secrets")
    result.releases = ensure_releases(plan, crypto_root, options, report=report)
    clock.lap("releases")
    if not options.wait:
        if plan.channels:
            result.network_skipped = (
                "channels and chaincode were not ensured (--no-wait): they need ready nodes; "
                "run `baas up` again once the pods are ready"
            )
            report(result.network_skipped)
        return result
    namespaces = [org.namespace for org in plan.orgs]
    result.workloads = wait_ready(
        api,
        namespaces,
        timeout=options.timeout,
        on_progress=lambda ws: report(f"workloads ready: {sum(w.is_ready for w in ws)}/{len(ws)}"),
    )
    clock.lap("ready")
    if plan.channels:
        if install is None:
            raise UsageError("the channels need configtxgen: no Fabric binaries were given")
        result.network = fabric_steps.ensure_network(
            api,
            plan,
            CryptoTree(crypto_root),
            install=install,
            report=report,
            timings=result.phases,
            signers=signers,
        )
        for change in result.network:
            report(str(change))
    return result


@dataclass
class _Clock:
    """Records the seconds since the previous lap under a phase name."""

    phases: dict[str, float]
    last: float = field(default_factory=time.monotonic)

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = now - self.last
        self.last = now


def down(
    plan: Plan, options: KubeOptions, *, purge: bool = False, report: Report = lambda _: None
) -> list[str]:
    """Uninstall every release; with ``purge`` also delete key material, policies and the
    namespaces (and with them the ledgers' volumes). Absent things are skipped."""
    done: list[str] = []
    helm = helm_settings(options)
    for org in plan.orgs:
        change = uninstall_release(helm, name=release_name(org), namespace=org.namespace)
        done.append(str(change))
        report(str(change))
    if not purge:
        return done
    api = api_client(options.target)
    store = _open_store(api, options)
    for org in plan.orgs:
        removed = store.delete_org(plan.network, org.name)
        if options.secrets == "vault":
            store.remove_org_access(plan.network, org.name)
        done.append(f"{options.secrets} secrets of {org.name}: {removed} deleted")
        report(done[-1])
    # genesis blocks and config digests: a purged network starts its channels afresh
    kept = fabric_steps.state_dir(plan)
    if kept.is_dir():
        shutil.rmtree(kept)
        done.append(f"removed {kept}")
        report(done[-1])
    # Policies and the reviewer go explicitly: namespace deletion is finished asynchronously by
    # the cluster's namespace controller, and the ClusterRoleBinding is cluster-scoped.
    extra = vault_auth.reviewer_manifests(network=plan.network, namespace=toolbox_namespace(plan))
    owned = namespace_manifests(plan) + network_policies(plan) + extra
    for deleted in delete_objects(api, owned):
        done.append(str(deleted))
        report(str(deleted))
    return done


def status(plan: Plan, options: KubeOptions) -> dict[str, Any]:
    """What exists: namespaces, releases' workloads and their readiness."""
    from kubernetes import client

    api = api_client(options.target)
    core = client.CoreV1Api(api)
    existing = {ns.metadata.name for ns in core.list_namespace().items}
    namespaces = {org.namespace: org.namespace in existing for org in plan.orgs}
    workloads = workload_status(api, [ns for ns, ok in namespaces.items() if ok])
    return {
        "namespaces": namespaces,
        "workloads": [
            {
                "kind": w.kind,
                "namespace": w.namespace,
                "name": w.name,
                "ready": w.ready,
                "wanted": w.wanted,
            }
            for w in workloads
        ],
    }


# ------------------------------------------------------------------------------ the Runtime


@dataclass(frozen=True)
class _Done:
    """``down``'s list of what it did, as a result."""

    done: list[str]
    purged: bool

    def to_dict(self) -> dict[str, Any]:
        return {"target": "kubernetes", "done": self.done, "purged": self.purged}


@dataclass(frozen=True)
class _Status:
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"target": "kubernetes", **self.data}


def refuse_new_orderer_keys(api: Any, plan: Plan) -> None:
    """Refuse to deploy an orderer whose TLS key differs from the one in its cluster Secret:
    the consenter set pins TLS certificates, so a new key needs channel config updates one
    orderer at a time, which the Kubernetes target does not run yet (the local runtime does).
    Renewing with the same key is fine (``baas pki renew`` without ``--new-key``)."""
    from kubernetes import client  # the client is imported where it is used, as elsewhere here
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(api)
    tree = CryptoTree(crypto_dir(plan.network))
    for org in plan.orgs:
        for node in org.orderers:
            local = tree.node(org, node).tls_cert
            if not local.is_file():
                continue
            try:
                secret = core.read_namespaced_secret(secret_names(node.fqdn).tls, org.namespace)
            except ApiException as exc:
                if exc.status == 404:
                    continue
                raise
            deployed = base64.b64decode((secret.data or {}).get(TLS_KEYS["tls_cert"], ""))
            if deployed and _public_key(deployed) != _public_key(local.read_bytes()):
                raise UsageError(
                    f"{node.fqdn} has a new TLS key, which its channels' consenter sets do "
                    "not know yet; on Kubernetes baas cannot rotate consenters yet",
                    hint="renew orderer certificates without --new-key on this target, or "
                    "rotate on the local runtime (it updates the channels one orderer at a time)",
                )


def _public_key(pem: bytes) -> bytes:
    return (
        x509.load_pem_x509_certificate(pem)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@dataclass(frozen=True)
class KubernetesRuntime:
    """The Kubernetes target behind :class:`baas.runtimes.Runtime`."""

    options: KubeOptions = field(default_factory=KubeOptions)
    fabric_bin: Path | None = None
    target: Literal["kubernetes"] = "kubernetes"

    def install(self, plan: Plan) -> FabricInstall | None:
        """The Fabric binaries whose configtxgen makes the channels (``None``: no channel)."""
        if not plan.channels:
            return None
        return binaries.find(plan.fabric_release, fabric_bin=self.fabric_bin)

    def effective(self, plan: Plan) -> Plan:
        """``plan``, plus the smoke probe on every channel once smoke has deployed it (so that
        ``up`` keeps its servers instead of dropping them)."""
        if fabric_steps.probe_marker(plan).exists():
            return with_probes(plan, image=self.options.probe_image)
        return plan

    def preflight(self, plan: Plan) -> None:
        api = api_client(self.options.target)  # a wrong kubeconfig fails before any write
        self.install(plan)  # missing binaries fail before any write, saying how to get them
        if self.options.secrets == "kubernetes":
            refuse_new_orderer_keys(api, plan)

    def up(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> UpResult:
        plan = self.effective(plan)
        return up(
            plan, crypto, self.options, install=self.install(plan), report=report, signers=signers
        )

    def deliver(
        self,
        plan: Plan,
        *,
        crypto: Path,
        report: Report,
        signers: frozenset[str] | None = None,
    ) -> UpResult:
        """``up`` itself: on the cluster the chaincode servers are part of each
        organisation's release, so delivering converges the releases (only the chaincode's
        change) and then the lifecycle."""
        return self.up(plan, crypto=crypto, report=report, signers=signers)

    def down(self, plan: Plan, *, purge: bool, report: Report) -> _Done:
        return _Done(down(plan, self.options, purge=purge, report=report), purge)

    def status(self, plan: Plan) -> _Status:
        return _Status(status(plan, self.options))

    @contextmanager
    def access(self, plan: Plan) -> Iterator[NetworkAccess]:
        """Admin access to the network on the cluster, through port-forwards (the admin
        route) that are closed on exit."""
        api = api_client(self.options.target)
        crypto = CryptoTree(crypto_dir(plan.network))
        with open_access(api, self.effective(plan), crypto) as access:
            yield access

    def changes(self, plan: Plan, *, crypto: Path) -> Any:
        from baas.runtimes.kubernetes import planning  # planning imports this module

        try:
            install = self.install(plan)
        except BaasError:
            install = None  # the plan says the channels cannot be read, and why
        return planning.plan_changes(self.effective(plan), crypto, self.options, install=install)

    def smoke(
        self,
        plan: Plan,
        *,
        on_check: Callable[[Any], None] | None = None,
        load: Any = None,
        on_load: Callable[[Any], None] | None = None,
        signers: frozenset[str] | None = None,
    ) -> Any:
        from baas.runtimes.kubernetes import smoke  # smoke imports this module

        return smoke.smoke(
            plan,
            self.options,
            install=self.install(plan),
            on_check=on_check,
            load=load,
            on_load=on_load,
            signers=signers,
        )

    def logs(self, plan: Plan, *, node: str | None, follow: bool, lines: int) -> Iterator[str]:
        raise UsageError(
            "baas logs reads local networks only",
            hint="on Kubernetes: kubectl logs -n <network>-<org> statefulset/<node>",
        )
