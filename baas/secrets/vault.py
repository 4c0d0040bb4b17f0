"""Secret store on HashiCorp Vault / OpenBao (KV v2, via hvac), plus per-organisation access.

Identities live at ``<mount>/<network>/<org>/<identity>`` (KV v2; default mount ``baas``). The
store's token comes from the settings or the environment (``VAULT_ADDR``/``VAULT_TOKEN``, else
``BAO_ADDR``/``BAO_TOKEN``; ``VAULT_CACERT``/``BAO_CACERT`` for TLS) or from an AppRole login; it
is never printed, logged, written to disk or copied into a cluster. Every hvac/requests failure
becomes an :class:`~baas.errors.OperationError` carrying Vault's message (tokens redacted) and a
hint.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac
import hvac.exceptions as hvac_errors
import requests
from pydantic import BaseModel, ConfigDict, SecretStr

from baas.errors import OperationError, UsageError
from baas.secrets.base import (
    Change,
    SecretStore,
    bundle_from_record,
    bundle_to_record,
    check_segment,
    validated,
)
from baas.secrets.kubernetes import org_namespace
from baas.secrets.vault_policies import (
    AppRoleOptions,
    approle_role_params,
    kubernetes_role_params,
    org_access_name,
    org_policy_hcl,
    org_secret_prefix,
    params_differ,
)
from pki.bundle import IdentityBundle

_TOKEN_LIKE = re.compile(r"\b(?:hv[sbr]|s|b|r)\.[A-Za-z0-9_-]{20,}")


class VaultSettings(BaseModel):
    """How to reach Vault. Unset ``addr``/``token``/``ca_cert`` fall back to the environment.

    Give either a ``token`` or an AppRole ``role_id`` + ``secret_id`` (the store then logs in).
    ``manage_mount=False`` skips ensuring the KV v2 mount (for tokens without sys/mounts access).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    addr: str | None = None
    token: SecretStr | None = None
    role_id: str | None = None
    secret_id: SecretStr | None = None
    approle_mount: str = "approle"
    mount: str = "baas"
    manage_mount: bool = True
    ca_cert: Path | None = None
    timeout: float = 30.0


def _env(*names: str) -> tuple[str, str] | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return name, value
    return None


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret and anything shaped like a Vault token replaced. Pure."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return _TOKEN_LIKE.sub("<redacted>", text)


def vault_error(
    exc: BaseException,
    *,
    action: str,
    path: str,
    capability: str,
    addr: str,
    secrets: Iterable[str | None] = (),
) -> OperationError:
    """Translate an hvac/requests exception into an OperationError with a hint. Pure.

    ``path`` is the API path touched (``baas/data/net/org1/peer0...``), ``capability`` the policy
    capability it needs; both go into the 403 hint. Secrets are redacted from Vault's message.
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return OperationError(
            f"could not {action}: TLS verification of Vault at {addr} failed",
            hint="set VAULT_CACERT (or BAO_CACERT, or ca_cert=) to the CA that signed Vault's "
            "certificate",
        )
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return OperationError(
            f"could not {action}: no answer from Vault at {addr}",
            hint=f"is Vault running at {addr}? set VAULT_ADDR (or BAO_ADDR)",
        )
    message = redact(str(exc), secrets)
    hints: list[tuple[type[BaseException], str]] = [
        (
            hvac_errors.Forbidden,
            f"the token lacks a policy granting {capability!r} on {path!r}, or it is invalid or "
            "expired (check VAULT_TOKEN)",
        ),
        (hvac_errors.Unauthorized, "the token is invalid or expired: set VAULT_TOKEN"),
        (
            hvac_errors.InvalidPath,
            f"{path} does not exist: is the secrets engine/auth method mounted there?",
        ),
        (hvac_errors.InvalidRequest, "Vault rejected the request's parameters"),
        (
            hvac_errors.VaultDown,
            "Vault is sealed or not ready: unseal it or point VAULT_ADDR at the active node",
        ),
        (hvac_errors.InternalServerError, "Vault failed internally: see the Vault server log"),
    ]
    hint = next((h for t, h in hints if isinstance(exc, t)), f"check Vault at {addr}")
    return OperationError(f"Vault refused to {action}: {message}", hint=hint)


@dataclass(frozen=True)
class OrgAccess:
    """What :meth:`VaultStore.ensure_org_access` ensured. ``role_id`` is not a credential alone
    (a secret id is also needed, see :meth:`VaultStore.mint_secret_id`), but is not logged."""

    policy: str
    approle_role: str | None
    role_id: str | None = field(repr=False)
    kubernetes_role: str | None
    changes: dict[str, Change]


class VaultStore(SecretStore):
    """Identities in a KV v2 mount; ``client`` is an authenticated ``hvac.Client`` (injected)."""

    kind = "vault"

    def __init__(
        self,
        client: Any,
        *,
        mount: str = "baas",
        manage_mount: bool = True,
        token_source: str = "caller",
    ) -> None:
        self._client = client
        self._mount = "/".join(check_segment(s, "mount") for s in mount.strip("/").split("/"))
        self._token_source = token_source
        self._mount_checked = not manage_mount

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_settings(cls, **settings: object) -> VaultStore:
        """Build from :class:`VaultSettings` + environment; logs in when given an AppRole."""
        parsed: VaultSettings = validated(VaultSettings, settings, "vault")
        addr = parsed.addr or (_env("VAULT_ADDR", "BAO_ADDR") or ("", ""))[1]
        if not addr:
            raise UsageError("no Vault address given", hint="set VAULT_ADDR (or BAO_ADDR)")
        ca = parsed.ca_cert or (_env("VAULT_CACERT", "BAO_CACERT") or (None, None))[1]
        # token="" keeps hvac from picking up VAULT_TOKEN or ~/.vault-token on its own
        client = hvac.Client(
            url=addr, token="", verify=str(ca) if ca else True, timeout=parsed.timeout
        )
        if parsed.role_id and parsed.secret_id:
            store = cls(
                client,
                mount=parsed.mount,
                manage_mount=parsed.manage_mount,
                token_source="AppRole login",
            )
            secret_id = parsed.secret_id.get_secret_value()
            with store._vault(
                "log in with AppRole",
                f"auth/{parsed.approle_mount}/login",
                "update",
                extra_secrets=(secret_id,),
            ):
                client.auth.approle.login(
                    parsed.role_id, secret_id, mount_point=parsed.approle_mount
                )
            return store
        if parsed.token is not None:
            client.token = parsed.token.get_secret_value()
            return cls(
                client,
                mount=parsed.mount,
                manage_mount=parsed.manage_mount,
                token_source="settings",
            )
        found = _env("VAULT_TOKEN", "BAO_TOKEN")
        if found is None:
            raise UsageError(
                "no Vault token given",
                hint="set VAULT_TOKEN (or BAO_TOKEN), or give an AppRole role_id and secret_id",
            )
        client.token = found[1]
        return cls(
            client, mount=parsed.mount, manage_mount=parsed.manage_mount, token_source=found[0]
        )

    @property
    def mount(self) -> str:
        return self._mount

    @property
    def address(self) -> str:
        """The Vault server's URL (never holds credentials)."""
        return self._addr()

    def describe(self) -> str:
        return (
            f"vault at {self._addr()} kv-v2 mount {self._mount!r} (token from {self._token_source})"
        )

    # ------------------------------------------------------------------ identities

    def ensure_mount(self) -> Change:
        """Make sure a KV v2 engine is mounted at ``mount`` (needs read/update on sys/mounts).

        Raises OperationError when something else (e.g. KV v1) is mounted there.
        """
        with self._vault("list secrets engines", "sys/mounts", "read"):
            mounts = self._client.sys.list_mounted_secrets_engines()
        mounts = mounts.get("data", mounts)
        current = mounts.get(f"{self._mount}/")
        if current is not None:
            version = str((current.get("options") or {}).get("version", "1"))
            if current.get("type") != "kv" or version != "2":
                raise OperationError(
                    f"mount {self._mount!r} is a {current.get('type')} engine (version {version}), "
                    "not KV version 2",
                    hint="choose another mount for baas (setting mount=...) or migrate this one",
                )
            return Change.UNCHANGED
        with self._vault(f"enable KV v2 at {self._mount}", f"sys/mounts/{self._mount}", "update"):
            self._client.sys.enable_secrets_engine(
                "kv", path=self._mount, options={"version": "2"}, description="baas identities"
            )
        return Change.CREATED

    def ensure_identity(self, network: str, bundle: IdentityBundle) -> Change:
        path = self._identity_path(network, bundle.org, bundle.name)
        if not self._mount_checked:
            self.ensure_mount()
            self._mount_checked = True
        record = bundle_to_record(bundle)
        current = self._read(path)
        if current is not None and current["data"] == record:
            return Change.UNCHANGED
        version = current["metadata"]["version"] if current else self._current_version(path)
        with self._vault(f"write identity {bundle.name}", self._api(path, "data"), "update"):
            self._client.secrets.kv.v2.create_or_update_secret(
                path, record, cas=version, mount_point=self._mount
            )
        return Change.UPDATED if current is not None else Change.CREATED

    def would_change(self, network: str, bundle: IdentityBundle) -> Change:
        """What :meth:`ensure_identity` would report for ``bundle``, found by reading only:
        CREATED when nothing is stored (or the mount does not exist yet), UPDATED when the
        stored record differs, UNCHANGED when it equals ``bundle``. Writes nothing."""
        current = self._read(self._identity_path(network, bundle.org, bundle.name))
        if current is None:
            return Change.CREATED
        return Change.UNCHANGED if current["data"] == bundle_to_record(bundle) else Change.UPDATED

    def read_identity(self, network: str, org: str, name: str) -> IdentityBundle | None:
        path = self._identity_path(network, org, name)
        current = self._read(path)
        if current is None:
            return None
        return bundle_from_record(current["data"], where=f"vault {self._mount}/{path}")

    def list_identities(self, network: str, org: str) -> list[str]:
        prefix = self._org_path(network, org)
        with self._vault(
            f"list identities of {org}", self._api(prefix, "metadata"), "list", absent_ok=True
        ) as absent:
            listing = self._client.secrets.kv.v2.list_secrets(prefix, mount_point=self._mount)
        if absent:
            return []
        return sorted(k for k in listing["data"]["keys"] if not k.endswith("/"))

    def delete_org(self, network: str, org: str) -> int:
        names = self.list_identities(network, org)
        for name in names:
            path = self._identity_path(network, org, name)
            with self._vault(f"delete identity {name}", self._api(path, "metadata"), "delete"):
                self._client.secrets.kv.v2.delete_metadata_and_all_versions(
                    path, mount_point=self._mount
                )
        return len(names)

    # ------------------------------------------------------------------ per-org access

    def ensure_org_access(
        self,
        network: str,
        org: str,
        *,
        approle: bool = True,
        approle_mount: str = "approle",
        approle_options: AppRoleOptions | None = None,
        kubernetes: bool = False,
        kubernetes_mount: str = "kubernetes",
        ensure_kubernetes_mount: bool = False,
        service_account: str = "default",
    ) -> OrgAccess:
        """Ensure the org's read-only policy, and its AppRole and/or Kubernetes-auth role.

        The AppRole mount is enabled when missing; the Kubernetes mount only when
        ``ensure_kubernetes_mount`` (configuring it needs an API server, see
        :meth:`ensure_kubernetes_auth_config`). Needs a deployer token (sys/policy, sys/auth).
        """
        name = org_access_name(network, org)
        changes: dict[str, Change] = {"policy": self._ensure_policy(name, network, org)}
        role_id: str | None = None
        if approle:
            changes["approle-mount"] = self.ensure_auth_mount("approle", approle_mount)
            params = approle_role_params(name, approle_options or AppRoleOptions())
            changes["approle-role"] = self._ensure_role(f"auth/{approle_mount}/role/{name}", params)
            role_id = self.approle_role_id(network, org, approle_mount=approle_mount)
        if kubernetes:
            if ensure_kubernetes_mount:
                changes["kubernetes-mount"] = self.ensure_auth_mount("kubernetes", kubernetes_mount)
            params = kubernetes_role_params(
                name, namespace=org_namespace(network, org), service_account=service_account
            )
            changes["kubernetes-role"] = self._ensure_role(
                f"auth/{kubernetes_mount}/role/{name}", params
            )
        return OrgAccess(
            policy=name,
            approle_role=name if approle else None,
            role_id=role_id,
            kubernetes_role=name if kubernetes else None,
            changes=changes,
        )

    def approle_role_id(self, network: str, org: str, *, approle_mount: str = "approle") -> str:
        """The org's AppRole role_id (stable until the role is deleted)."""
        name = org_access_name(network, org)
        path = f"auth/{approle_mount}/role/{name}/role-id"
        with self._vault(f"read the role id of {name}", path, "read"):
            result = self._client.auth.approle.read_role_id(name, mount_point=approle_mount)
        return str(result["data"]["role_id"])

    def mint_secret_id(
        self, network: str, org: str, *, approle_mount: str = "approle"
    ) -> SecretStr:
        """A fresh secret_id for the org's AppRole (TTL from :class:`AppRoleOptions`).

        Returned as ``SecretStr``: shown only by ``get_secret_value()``; never logged.
        """
        name = org_access_name(network, org)
        path = f"auth/{approle_mount}/role/{name}/secret-id"
        with self._vault(f"mint a secret id for {name}", path, "update"):
            result = self._client.auth.approle.generate_secret_id(name, mount_point=approle_mount)
        return SecretStr(str(result["data"]["secret_id"]))

    def ensure_auth_mount(self, method: str, path: str) -> Change:
        """Make sure auth method ``method`` is enabled at ``path`` (needs sys/auth access)."""
        with self._vault("list auth methods", "sys/auth", "read"):
            methods = self._client.sys.list_auth_methods()
        current = methods.get("data", methods).get(f"{path.strip('/')}/")
        if current is not None:
            if current.get("type") != method:
                raise OperationError(
                    f"auth path {path!r} holds a {current.get('type')} method, not {method}",
                    hint=f"pick another mount path for the {method} auth method",
                )
            return Change.UNCHANGED
        with self._vault(f"enable {method} auth at {path}", f"sys/auth/{path}", "update"):
            self._client.sys.enable_auth_method(method, path=path)
        return Change.CREATED

    def ensure_kubernetes_auth_config(
        self,
        *,
        host: str,
        ca_cert: str | bytes,
        reviewer_jwt: SecretStr,
        mount: str = "kubernetes",
        rotate_reviewer_jwt: bool = False,
    ) -> Change:
        """Point the Kubernetes auth method at an API server (host, CA, TokenReview JWT).

        Vault never returns the reviewer JWT, so it is only rewritten when the host or CA differ,
        no JWT is set yet, or ``rotate_reviewer_jwt`` is true.
        """
        ca = ca_cert.decode("ascii") if isinstance(ca_cert, bytes) else ca_cert
        path = f"auth/{mount}/config"
        with self._vault("read the kubernetes auth config", path, "read", absent_ok=True) as absent:
            current = self._client.adapter.get(f"/v1/{path}")
        data: Mapping[str, Any] = {} if absent or not current else current.get("data") or {}
        same = (
            data.get("kubernetes_host") == host
            and str(data.get("kubernetes_ca_cert", "")).strip() == ca.strip()
            and data.get("token_reviewer_jwt_set") is True
            and data.get("disable_local_ca_jwt") is True
        )
        if same and not rotate_reviewer_jwt:
            return Change.UNCHANGED
        jwt = reviewer_jwt.get_secret_value()
        with self._vault("configure kubernetes auth", path, "update", extra_secrets=(jwt,)):
            self._client.auth.kubernetes.configure(
                host,
                kubernetes_ca_cert=ca,
                token_reviewer_jwt=jwt,
                disable_local_ca_jwt=True,
                mount_point=mount,
            )
        return Change.CREATED if not data else Change.UPDATED

    def remove_org_access(
        self,
        network: str,
        org: str,
        *,
        approle_mount: str = "approle",
        kubernetes_mount: str = "kubernetes",
    ) -> None:
        """Delete the org's policy and roles; missing ones (or missing mounts) are fine."""
        name = org_access_name(network, org)
        for path in (
            f"auth/{approle_mount}/role/{name}",
            f"auth/{kubernetes_mount}/role/{name}",
            f"sys/policies/acl/{name}",
        ):
            with self._vault(f"delete {path}", path, "delete", absent_ok=True):
                self._client.adapter.delete(f"/v1/{path}")

    # ------------------------------------------------------------------ helpers

    def _ensure_policy(self, name: str, network: str, org: str) -> Change:
        wanted = org_policy_hcl(self._mount, network, org)
        path = f"sys/policies/acl/{name}"
        with self._vault(f"read policy {name}", path, "read", absent_ok=True) as absent:
            current = self._client.sys.read_acl_policy(name)
        if not absent and current["data"].get("policy") == wanted:
            return Change.UNCHANGED
        with self._vault(f"write policy {name}", path, "update"):
            self._client.sys.create_or_update_acl_policy(name, wanted)
        return Change.CREATED if absent else Change.UPDATED

    def _ensure_role(self, path: str, params: Mapping[str, Any]) -> Change:
        with self._vault(f"read {path}", path, "read", absent_ok=True) as absent:
            current = self._client.adapter.get(f"/v1/{path}")
        existing = None if absent or not current else current.get("data")
        if not params_differ(existing, params):
            return Change.UNCHANGED
        with self._vault(f"write {path}", path, "update"):
            self._client.adapter.post(f"/v1/{path}", json=dict(params))
        return Change.CREATED if existing is None else Change.UPDATED

    def _read(self, path: str) -> dict[str, Any] | None:
        """Latest live version of a KV v2 secret (``data``, ``metadata``); None if absent."""
        with self._vault(
            "read an identity", self._api(path, "data"), "read", absent_ok=True
        ) as absent:
            result = self._client.secrets.kv.v2.read_secret_version(
                path, mount_point=self._mount, raise_on_deleted_version=True
            )
        return None if absent else dict(result["data"])

    def _current_version(self, path: str) -> int:
        """Current version number kept in the metadata (0 when never written)."""
        with self._vault(
            "read identity metadata", self._api(path, "metadata"), "read", absent_ok=True
        ) as absent:
            meta = self._client.secrets.kv.v2.read_secret_metadata(path, mount_point=self._mount)
        return 0 if absent else int(meta["data"].get("current_version", 0))

    def _org_path(self, network: str, org: str) -> str:
        check_segment(network, "network")
        check_segment(org, "organisation")
        return org_secret_prefix(network, org)

    def _identity_path(self, network: str, org: str, name: str) -> str:
        return f"{self._org_path(network, org)}/{check_segment(name, 'identity')}"

    def _api(self, path: str, kind: str) -> str:
        return f"{self._mount}/{kind}/{path}"

    def _addr(self) -> str:
        return str(getattr(getattr(self._client, "adapter", None), "base_uri", "?"))

    @contextmanager
    def _vault(
        self,
        action: str,
        path: str,
        capability: str,
        *,
        absent_ok: bool = False,
        extra_secrets: Iterable[str] = (),
    ) -> Iterator[list[bool]]:
        """Run the block; translate failures. With ``absent_ok``, a 404 is swallowed and the
        yielded list becomes truthy (``[True]``), so ``with ... as absent: ...; if absent:``."""
        absent: list[bool] = []
        try:
            yield absent
        except hvac_errors.InvalidPath as exc:
            if not absent_ok:
                raise self._error(exc, action, path, capability, extra_secrets) from None
            absent.append(True)
        except (hvac_errors.VaultError, requests.exceptions.RequestException) as exc:
            raise self._error(exc, action, path, capability, extra_secrets) from None

    def _error(
        self,
        exc: BaseException,
        action: str,
        path: str,
        capability: str,
        extra_secrets: Iterable[str],
    ) -> OperationError:
        return vault_error(
            exc,
            action=action,
            path=path,
            capability=capability,
            addr=self._addr(),
            secrets=(getattr(self._client, "token", None), *extra_secrets),
        )
