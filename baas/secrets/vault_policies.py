"""Per-organisation access to Vault/OpenBao, as pure data: names, policy text, role parameters.

Each organisation ``<org>`` of network ``<network>`` gets:

* policy ``baas-<network>-<org>``: read its own KV v2 secrets (``data/`` and ``metadata/`` under
  ``<mount>/<network>/<org>/``) and list them — nothing else, no ``sys/`` access;
* AppRole role ``baas-<network>-<org>`` (tools outside the cluster) with that policy only;
* Kubernetes-auth role ``baas-<network>-<org>`` bound to a service account of the namespace
  ``<network>-<org>``, with that policy only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from baas.errors import UsageError

_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")


def _check(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise UsageError(
            f"invalid {what} name {value!r} for Vault policies and roles",
            hint="use lower-case letters, digits, '-' and '_' (letter or digit at both ends)",
        )
    return value


def org_access_name(network: str, org: str) -> str:
    """``baas-<network>-<org>``: the name of the org's policy, AppRole role and Kubernetes role."""
    return f"baas-{_check(network, 'network')}-{_check(org, 'organisation')}"


def org_secret_prefix(network: str, org: str) -> str:
    """``<network>/<org>``: where the org's identities live under the KV v2 mount."""
    return f"{_check(network, 'network')}/{_check(org, 'organisation')}"


def org_policy_hcl(mount: str, network: str, org: str) -> str:
    """Policy text granting read-only access to the org's own KV v2 paths. Pure, deterministic."""
    prefix = f"{mount.strip('/')}/%s/{org_secret_prefix(network, org)}"
    return (
        f"# managed by baas: read-only access for organisation {org} of network {network}\n"
        f'path "{prefix % "data"}/*" {{\n  capabilities = ["read"]\n}}\n\n'
        f'path "{prefix % "metadata"}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
    )


@dataclass(frozen=True)
class AppRoleOptions:
    """Lifetimes (seconds) of AppRole logins and secret ids; 0 means Vault's default/unlimited."""

    token_ttl: int = 3600
    token_max_ttl: int = 4 * 3600
    secret_id_ttl: int = 24 * 3600
    secret_id_num_uses: int = 0


def approle_role_params(policy: str, options: AppRoleOptions) -> dict[str, Any]:
    """Parameters of the org's AppRole role, named as Vault both accepts and returns them."""
    return {
        "token_policies": [policy],
        "token_ttl": options.token_ttl,
        "token_max_ttl": options.token_max_ttl,
        "secret_id_ttl": options.secret_id_ttl,
        "secret_id_num_uses": options.secret_id_num_uses,
        "bind_secret_id": True,
    }


def kubernetes_role_params(
    policy: str, *, namespace: str, service_account: str, token_ttl: int = 3600
) -> dict[str, Any]:
    """Parameters of the org's Kubernetes-auth role, named as Vault accepts and returns them."""
    return {
        "bound_service_account_names": [service_account],
        "bound_service_account_namespaces": [namespace],
        "token_policies": [policy],
        "token_ttl": token_ttl,
    }


def params_differ(existing: Mapping[str, Any] | None, desired: Mapping[str, Any]) -> bool:
    """True when ``existing`` (as read back from Vault) lacks or differs on a desired parameter.

    Lists compare as sets (Vault may reorder); parameters Vault adds on its own are ignored.
    """
    if existing is None:
        return True
    for key, want in desired.items():
        have = existing.get(key)
        if isinstance(want, list):
            if not isinstance(have, list) or sorted(map(str, have)) != sorted(map(str, want)):
                return True
        elif have != want:
            return True
    return False
