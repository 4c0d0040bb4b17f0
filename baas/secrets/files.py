"""Secret store on the local filesystem (default for the local runtime).

Layout, one folder per identity, usable directly as a Fabric local MSP + TLS folder::

    <root>/<network>/<org>/<identity>/          0700 (so are <root>/<network> and <org>)
        identity.json                           org, msp_id, name, role (no secrets)
        msp/config.yaml                         NodeOUs enabled (cryptogen OU strings)
        msp/signcerts/cert.pem
        msp/keystore/priv_sk                    0600
        msp/cacerts/ca.pem
        msp/tlscacerts/tlsca.pem
        tls/ca.crt
        tls/server.crt, tls/server.key (0600)   peers/orderers; client.crt/client.key for users

Files are written atomically (temporary file + rename) with their final mode from creation, and
only when their content or mode differs: an unchanged identity keeps its mtimes.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from baas.errors import OperationError
from baas.secrets.base import (
    MSP_CONFIG_YAML,
    Change,
    SecretStore,
    bundle_from_record,
    bundle_to_record,
    check_segment,
    validated,
)
from pki.bundle import IdentityBundle

DIR_MODE = 0o700
KEY_MODE = 0o600
CERT_MODE = 0o644
METADATA_FILE = "identity.json"


class FilesSettings(BaseModel):
    """Settings of :class:`FilesStore`: the root folder (created 0700 when missing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    root: Path


def tls_file_stem(role: str) -> str:
    """``server`` for peers and orderers, ``client`` for admins and users (cryptogen names)."""
    return "server" if role in ("peer", "orderer") else "client"


def identity_layout(role: str) -> dict[str, tuple[str, int]]:
    """Record field → (relative path, mode) for an identity of ``role``. Pure."""
    tls = tls_file_stem(role)
    return {
        "sign_cert": ("msp/signcerts/cert.pem", CERT_MODE),
        "sign_key": ("msp/keystore/priv_sk", KEY_MODE),
        "ca_cert": ("msp/cacerts/ca.pem", CERT_MODE),
        "tls_ca_cert": ("tls/ca.crt", CERT_MODE),
        "tls_cert": (f"tls/{tls}.crt", CERT_MODE),
        "tls_key": (f"tls/{tls}.key", KEY_MODE),
    }


def identity_files(bundle: IdentityBundle) -> dict[str, tuple[bytes, int]]:
    """Every file of the identity folder: relative path → (content, mode). Pure."""
    record = bundle_to_record(bundle)
    meta = {k: record[k] for k in ("org", "msp_id", "name", "role")}
    files = {
        path: (record[field].encode(), mode)
        for field, (path, mode) in identity_layout(bundle.role).items()
    }
    files["msp/tlscacerts/tlsca.pem"] = (bundle.tls_ca_cert, CERT_MODE)
    files["msp/config.yaml"] = (MSP_CONFIG_YAML, CERT_MODE)
    files[METADATA_FILE] = ((json.dumps(meta, indent=2, sort_keys=True) + "\n").encode(), CERT_MODE)
    return files


class FilesStore(SecretStore):
    """Identities as files under ``root`` (see the module docstring for the layout)."""

    kind = "files"

    def __init__(self, root: Path) -> None:
        self._root = Path(root)

    @classmethod
    def from_settings(cls, **settings: object) -> FilesStore:
        parsed: FilesSettings = validated(FilesSettings, settings, "files")
        return cls(parsed.root)

    @property
    def root(self) -> Path:
        return self._root

    def describe(self) -> str:
        return f"files at {self._root}"

    def identity_dir(self, network: str, org: str, name: str) -> Path:
        """Folder of one identity (may not exist). Raises UsageError for unusable names."""
        return self._org_dir(network, org) / check_segment(name, "identity")

    def ensure_identity(self, network: str, bundle: IdentityBundle) -> Change:
        folder = self.identity_dir(network, bundle.org, bundle.name)
        existed = (folder / METADATA_FILE).is_file()
        changed = False
        try:
            if not self._root.exists():
                self._root.mkdir(parents=True, mode=DIR_MODE)
                os.chmod(self._root, DIR_MODE)  # mkdir's mode is filtered by the umask
            for d in (self._root / network, folder.parent, folder):
                changed |= _ensure_dir(d)
            for rel, (content, mode) in identity_files(bundle).items():
                path = folder / rel
                for d in reversed(path.relative_to(folder).parents[:-1]):
                    changed |= _ensure_dir(folder / d)
                changed |= _ensure_file(path, content, mode)
        except OSError as exc:
            raise _os_error("write", folder, exc) from None
        if not existed:
            return Change.CREATED
        return Change.UPDATED if changed else Change.UNCHANGED

    def read_identity(self, network: str, org: str, name: str) -> IdentityBundle | None:
        folder = self.identity_dir(network, org, name)
        meta_path = folder / METADATA_FILE
        try:
            if not meta_path.is_file():
                return None
            meta = json.loads(meta_path.read_text())
            if not isinstance(meta, dict):
                meta = {}
            record = dict(meta)
            role = str(meta.get("role", ""))
            for field, (rel, _mode) in identity_layout(role).items():
                path = folder / rel
                if path.is_file():
                    record[field] = path.read_text(encoding="ascii")
        except (OSError, ValueError) as exc:
            raise _os_error("read", folder, exc) from None
        return bundle_from_record(record, where=str(folder))

    def list_identities(self, network: str, org: str) -> list[str]:
        org_dir = self._org_dir(network, org)
        if not org_dir.is_dir():
            return []
        return sorted(p.name for p in org_dir.iterdir() if (p / METADATA_FILE).is_file())

    def delete_org(self, network: str, org: str) -> int:
        org_dir = self._org_dir(network, org)
        count = len(self.list_identities(network, org))
        if org_dir.is_dir():
            try:
                shutil.rmtree(org_dir)
            except OSError as exc:
                raise _os_error("delete", org_dir, exc) from None
        return count

    def _org_dir(self, network: str, org: str) -> Path:
        return self._root / check_segment(network, "network") / check_segment(org, "organisation")


def _ensure_dir(path: Path) -> bool:
    """Create ``path`` with mode 0700 or fix its mode; True when something changed."""
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE)
        os.chmod(path, DIR_MODE)
        return True
    if path.stat().st_mode & 0o777 != DIR_MODE:
        os.chmod(path, DIR_MODE)
        return True
    return False


def _ensure_file(path: Path, content: bytes, mode: int) -> bool:
    """Write ``content`` atomically with ``mode`` unless already equal; True when changed."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == content:
        if path.stat().st_mode & 0o777 == mode:
            return False
        os.chmod(path, mode)
        return True
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)  # the umask may have narrowed it
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return True


def _os_error(action: str, path: Path, exc: OSError | ValueError) -> OperationError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    return OperationError(
        f"could not {action} identity files at {path}: {reason}",
        hint="check that the secrets folder is on a writable disk and owned by you",
    )
