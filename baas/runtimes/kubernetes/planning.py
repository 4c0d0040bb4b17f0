"""``baas plan --target kubernetes``: what ``baas up`` would change, found without changing it.

:func:`plan_changes` walks the same chain as :func:`baas.runtimes.kubernetes.runtime.up`,
reading only:

* PKI: the identities ``pki.generate`` would issue or re-issue (:func:`pki.preview_generate`,
  the same checks as ``generate``, on the tree as it is; a missing tree means "every identity").
* Namespaces, NetworkPolicies (plus ``allow-vault`` egress and the TokenReview service account
  in Vault mode) and identity Secrets (Kubernetes mode): server-side apply dry runs compared
  with the live objects (:mod:`baas.runtimes.kubernetes.diffing`).
  Objects whose content depends on credentials not issued yet are ``create`` when absent and
  ``update`` otherwise.
* Vault mode: each identity's KV record compared with the tree (``VaultStore.would_change``).
* Helm releases: the deployed revision's chart and values against the wanted ones, as pyhelm3's
  ``ensure_release`` decides; a release stuck in ``pending-*`` is reported as healed first. The
  values carry each node's certificate digest (:mod:`pki.digests`), so a renewed
  certificate shows as an upgrade of its organisation's release (``values peers``/``orderers``).
* Channels: when the network's nodes run, each channel's pending config changes, field by field,
  read through the admin route (:func:`baas.runtimes.kubernetes.fabric_steps.pending_changes`,
  the decision ``up`` acts on); otherwise ``create and join``.

Nothing is written: not the crypto tree, not the cluster (dry runs never reach etcd), not
Vault, not Helm's release history. Only names, actions and *field names* are reported — never a
value, so never key material.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pki
from baas.errors import OperationError
from baas.fabric.binaries import FabricInstall
from baas.network.crypto import CryptoTree
from baas.plan import Plan, pki_org_specs_from_plan
from baas.runtimes.kubernetes import fabric_steps
from baas.runtimes.kubernetes.admin_route import open_access
from baas.runtimes.kubernetes.cluster import api_client
from baas.runtimes.kubernetes.diffing import (
    ObjectDiff,
    PlannedAction,
    changed_keys,
    diff_objects,
    diff_unknown,
)
from baas.runtimes.kubernetes.helm import CHART_DIR
from baas.runtimes.kubernetes.namespaces import namespace_manifests, toolbox_namespace
from baas.runtimes.kubernetes.policies import network_policies, vault_egress_policies
from baas.runtimes.kubernetes.readiness import workload_status
from baas.runtimes.kubernetes.releases import chart_digest, helm_client, helm_error
from baas.runtimes.kubernetes.runtime import KubeOptions, helm_settings, release_values
from baas.runtimes.kubernetes.values import release_name
from baas.runtimes.kubernetes.vault_auth import reviewer_manifests
from baas.secrets.kubernetes import build_secrets, org_namespace, secret_names
from baas.secrets.vault import VaultStore
from pki.bundle import IdentityBundle
from pki.identities import identities_of
from pki.results import IdentityIssue
from pki.spec import OrgSpec

ReleaseAction = Literal["install", "upgrade", "unchanged"]
Issued = AbstractSet[tuple[str, str]]
"""``(org, identity name)`` of the identities PKI has yet to issue."""
ACTIONS: tuple[PlannedAction, ...] = ("create", "update", "delete", "unchanged")
_PENDING_REINSTALL = frozenset({"pending-install", "uninstalling"})
_PENDING_ROLLBACK = frozenset({"pending-upgrade", "pending-rollback"})
_NOT_ISSUED = "its content includes credentials PKI has not issued yet"
#: Stands for the digest of certificates still to be issued (compared, never installed).
PENDING_DIGEST = "to be issued"
_RELEASE_COUNTS: dict[ReleaseAction, PlannedAction] = {
    "install": "create",
    "upgrade": "update",
    "unchanged": "unchanged",
}
_STORE_CHANGES: dict[str, PlannedAction] = {
    "created": "create",
    "updated": "update",
    "unchanged": "unchanged",
}


@dataclass(frozen=True)
class ReleaseDiff:
    """What ``ensure_release`` would do to one release. ``heal`` is the ``pending-*`` status
    it would first repair (uninstall or roll back); ``reasons`` say why it would upgrade
    (``values peers``, ``chart content``...), naming keys, never values."""

    name: str
    namespace: str
    action: ReleaseAction
    revision: int | None = None
    heal: str = ""
    reasons: tuple[str, ...] = ()

    @property
    def counts_as(self) -> PlannedAction:
        return _RELEASE_COUNTS[self.action]

    def __str__(self) -> str:
        action = f"heal ({self.heal}) + {self.action}" if self.heal else self.action
        rev = (
            f" from revision {self.revision}" if self.revision and self.action != "install" else ""
        )
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"release {self.namespace}/{self.name}: {action}{rev}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "name": self.name,
            "action": self.action,
            "revision": self.revision,
            "heal": self.heal or None,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class VaultDiff:
    """What ``VaultStore.ensure_identity`` would do to one identity's KV record."""

    org: str
    name: str
    action: PlannedAction
    note: str = ""

    def __str__(self) -> str:
        return f"vault identity {self.org}/{self.name}: {self.action}" + (
            f" ({self.note})" if self.note else ""
        )

    def to_dict(self) -> dict[str, Any]:
        return {"org": self.org, "name": self.name, "action": self.action, "note": self.note}


@dataclass
class ChangePlan:
    """Everything :func:`plan_changes` found, in the order ``up`` would act."""

    network: str
    secrets: str
    crypto_root: Path
    crypto_exists: bool
    issues: list[IdentityIssue] = field(default_factory=list)
    objects: list[ObjectDiff] = field(default_factory=list)
    vault: list[VaultDiff] = field(default_factory=list)
    releases: list[ReleaseDiff] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    def _actions(self) -> list[PlannedAction]:
        objects = self.objects
        return (
            [o.action for o in objects]
            + [v.action for v in self.vault]
            + [r.counts_as for r in self.releases]
        )

    def summary(self) -> dict[str, int]:
        """Counts of cluster-side actions (objects, Vault records, releases) by action;
        ``install`` counts as ``create`` and ``upgrade`` as ``update``. PKI issuance is not
        counted here (see :attr:`issues`)."""
        actions = self._actions()
        return {a: actions.count(a) for a in ACTIONS}

    @property
    def changed(self) -> bool:
        """True when ``up`` would change anything (PKI included)."""
        return (
            bool(self.issues)
            or bool(self.channels)
            or any(a != "unchanged" for a in self._actions())
        )

    def summary_line(self) -> str:
        s = self.summary()
        line = f"{s['create']} to create, {s['update']} to update, {s['unchanged']} unchanged"
        if s["delete"]:
            line += f", {s['delete']} to delete"
        if self.issues:
            line += f"; {len(self.issues)} identities to issue"
        return line

    def lines(self) -> list[str]:
        """The change list as text, one line per item (no values, no key material)."""
        lines = []
        if not self.crypto_exists:
            lines.append(
                f"pki: crypto tree {self.crypto_root} does not exist yet: every identity would "
                "be issued and every Secret created"
            )
        lines += [str(i) for i in self.issues]
        lines += [str(o) for o in self.objects]
        lines += [str(v) for v in self.vault]
        lines += [str(r) for r in self.releases]
        lines += self.channels
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "secrets": self.secrets,
            "crypto": {"root": str(self.crypto_root), "exists": self.crypto_exists},
            "pki": [i.to_dict() for i in self.issues],
            "objects": [o.to_dict() for o in self.objects],
            "vault": [v.to_dict() for v in self.vault],
            "releases": [r.to_dict() for r in self.releases],
            "channels": list(self.channels),
            "summary": self.summary(),
            "changed": self.changed,
        }


# --------------------------------------------------------------------------- identities


def _secret_stub(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
    }


def _kubernetes_secrets(
    api: Any,
    plan: Plan,
    specs: Sequence[OrgSpec],
    issued: Issued,
    bundles: Mapping[tuple[str, str], IdentityBundle],
) -> list[ObjectDiff]:
    diffs: list[ObjectDiff] = []
    for spec in specs:
        for ident in identities_of(spec):
            key = (spec.name, ident.name)
            if key in issued:
                names = secret_names(ident.name)
                namespace = org_namespace(plan.network, spec.name)
                stubs = [_secret_stub(namespace, n) for n in (names.msp, names.tls)]
                diffs += diff_unknown(api, stubs, note="credentials to be issued")
            else:
                diffs += diff_objects(api, build_secrets(plan.network, bundles[key]))
    return diffs


def _vault_secrets(
    store: Any,
    plan: Plan,
    specs: Sequence[OrgSpec],
    issued: Issued,
    bundles: Mapping[tuple[str, str], IdentityBundle],
) -> list[VaultDiff]:
    diffs: list[VaultDiff] = []
    for spec in specs:
        idents = identities_of(spec)
        stored: set[str] = set()
        if any((spec.name, i.name) in issued for i in idents):
            stored = set(store.list_identities(plan.network, spec.name))
        for ident in idents:
            key = (spec.name, ident.name)
            if key in issued:
                action: PlannedAction = "update" if ident.name in stored else "create"
                diffs.append(VaultDiff(spec.name, ident.name, action, "credentials to be issued"))
                continue
            change = str(store.would_change(plan.network, bundles[key]))
            diffs.append(VaultDiff(spec.name, ident.name, _STORE_CHANGES[change]))
    return diffs


# --------------------------------------------------------------------------- Helm releases


async def _release_diff(
    client: Any, chart: Any, *, name: str, namespace: str, values: Mapping[str, Any]
) -> ReleaseDiff:
    from pyhelm3.errors import ReleaseNotFoundError

    try:
        current = await client.get_current_revision(name, namespace=namespace)
    except ReleaseNotFoundError:
        return ReleaseDiff(name, namespace, "install")
    status = str(getattr(current.status, "value", current.status))
    revision = int(current.revision)
    if status in _PENDING_REINSTALL:
        return ReleaseDiff(name, namespace, "install", revision, heal=status)
    heal = status if status in _PENDING_ROLLBACK else ""
    reasons: list[str] = []
    if status != "deployed" and not heal:
        reasons.append(f"status {status}")
    deployed_chart = await current.chart_metadata()
    wanted_chart = chart.metadata
    if (deployed_chart.name, deployed_chart.version) != (wanted_chart.name, wanted_chart.version):
        reasons.append(
            f"chart {deployed_chart.name}-{deployed_chart.version} → "
            f"{wanted_chart.name}-{wanted_chart.version}"
        )
    keys = changed_keys(await current.values(), values)
    if "chartDigest" in keys:
        keys.remove("chartDigest")
        reasons.append("chart content")
    if keys:
        reasons.append(f"values {', '.join(keys)}")
    action: ReleaseAction = "upgrade" if reasons or heal else "unchanged"
    return ReleaseDiff(name, namespace, action, revision, heal=heal, reasons=tuple(reasons))


async def _release_diffs(
    settings: Any, wanted: Sequence[tuple[str, str, dict[str, Any]]]
) -> list[ReleaseDiff]:
    client = helm_client(settings)
    chart = await client.get_chart(CHART_DIR)
    return [
        await _release_diff(client, chart, name=name, namespace=namespace, values=values)
        for name, namespace, values in wanted
    ]


def planned_digests(plan: Plan, crypto_root: Path, issued: Issued) -> dict[str, str]:
    """The identity digests ``up`` would put on the pod templates once PKI has issued what
    ``issued`` names (``(org, identity name)``): the tree's own
    (:func:`pki.identity_digests`), and :data:`PENDING_DIGEST` for each node
    still to be issued — its new certificate will give it a new digest. The marker is only
    compared with deployed values, never installed. A node re-issued only because MSP files are
    missing (``files missing``) may keep its digest: its release is then reported as an upgrade
    that ``up`` finds unnecessary. Reads only."""
    digests = pki.identity_digests(crypto_root, pki_org_specs_from_plan(plan))
    for org in plan.orgs:
        for node in (*org.peers, *org.orderers):
            if (org.name, node.fqdn) in issued:
                digests[node.fqdn] = PENDING_DIGEST
    return digests


def release_diffs(
    plan: Plan, options: KubeOptions, *, identity_digests: Mapping[str, str] | None = None
) -> list[ReleaseDiff]:
    """What ``ensure_release`` would do to each organisation's release (read-only: ``helm
    status`` and ``helm get values``), given the nodes' ``identity_digests`` (see
    :func:`planned_digests`; ``None``: no digests). Raises :class:`OperationError` with helm's
    message."""
    digest = chart_digest()
    wanted = [
        (release_name(org), org.namespace, {**values, "chartDigest": digest})
        for org, values in release_values(plan, options, identity_digests=identity_digests or {})
    ]
    try:
        return asyncio.run(_release_diffs(helm_settings(options), wanted))
    except OperationError:
        raise
    except Exception as exc:
        raise helm_error(exc, "reading the releases") from None


# --------------------------------------------------------------------------- channels


def channel_changes(
    api: Any, plan: Plan, crypto_root: Path, *, install: FabricInstall | None
) -> list[str]:
    """Each channel's pending changes: field by field when its orderers answer through the
    admin route, else ``create and join``; one line saying why when they cannot be read (no
    crypto tree, no Fabric binaries for configtxgen, nodes not ready)."""
    if not plan.channels:
        return []
    if install is None or not crypto_root.is_dir():
        why = "no Fabric binaries (configtxgen)" if install is None else "no crypto tree yet"
        return [f"channel {c.name}: create and join ({why})" for c in plan.channels]
    ready = workload_status(api, [org.namespace for org in plan.orgs])
    if not ready or not all(w.is_ready for w in ready):
        return [f"channel {c.name}: create and join (after the nodes start)" for c in plan.channels]
    crypto = CryptoTree(crypto_root)
    with open_access(api, plan, crypto) as access:
        return fabric_steps.pending_changes(access, plan, crypto, install=install)


# --------------------------------------------------------------------------- the whole chain


def plan_changes(
    plan: Plan, crypto_root: Path, options: KubeOptions, *, install: FabricInstall | None = None
) -> ChangePlan:
    """What :func:`baas.runtimes.kubernetes.runtime.up` would change for ``plan``, read-only.

    ``crypto_root`` is where the network's PKI tree is (or would be); it may not exist, then
    every identity is reported as to be issued and every Secret as ``create``. Raises
    :class:`baas.errors.OperationError` with the cluster's, Vault's or helm's message when they
    cannot be read, :class:`UsageError` for a damaged CA or an unusable kubeconfig.
    """
    specs = pki_org_specs_from_plan(plan)
    preview = pki.preview_generate(crypto_root, specs)
    issued, bundles = preview.issued, preview.bundles
    result = ChangePlan(
        network=plan.network,
        secrets=options.secrets,
        crypto_root=crypto_root,
        crypto_exists=crypto_root.exists(),
        issues=list(preview.issues),
    )
    api = api_client(options.target)
    manifests = namespace_manifests(plan) + network_policies(plan)
    store: Any = None
    if options.secrets == "vault":
        store = VaultStore.from_settings(**options.vault)
        manifests += vault_egress_policies(plan, vault_addr=store.address)
        manifests += reviewer_manifests(network=plan.network, namespace=toolbox_namespace(plan))
    result.objects = diff_objects(api, manifests)
    if store is not None:
        result.vault = _vault_secrets(store, plan, specs, issued, bundles)
    else:
        result.objects += _kubernetes_secrets(api, plan, specs, issued, bundles)
    digests = planned_digests(plan, crypto_root, issued)
    result.releases = release_diffs(plan, options, identity_digests=digests)
    result.channels = channel_changes(api, plan, crypto_root, install=install)
    return result
