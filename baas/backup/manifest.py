"""A backup's manifest: what it holds, at which heights, and the SHA-256 of every file, signed
by an organisation admin's key.

Layout of a backup folder::

    manifest.json     this manifest (UTF-8 JSON, keys sorted)
    manifest.sig      base64 signature of manifest.json's exact bytes by ``signer``
    ...               every file named in ``files`` (paths relative to the folder, POSIX)

:func:`verify` is what a restore runs before it writes anything: the signature (by the
certificate in the manifest, which must be issued by the CA certificate the manifest names,
itself a hashed file of the backup), then every listed file's presence, size and hash. Every
refusal is a :class:`~baas.errors.UsageError` naming the file. The signature proves the
manifest was made by a holder of that admin key; whoever restores should compare the signer's
fingerprint (in the restore's report) with one kept apart from the backup.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from baas.errors import UsageError
from baas.fabric.identity import SigningIdentity

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    """One stored file: ``path`` relative to the backup, its size and SHA-256 (of the stored
    bytes: for an encrypted file, of the ciphertext) and whether it is encrypted."""

    path: str
    sha256: str
    size: int
    encrypted: bool = False


@dataclass(frozen=True)
class ChannelEntry:
    """A channel at backup time: ``height`` (blocks) the snapshots were taken at, the one
    ``state_hash`` every snapshot agreed on, each snapshotting peer's folder in the backup, and
    the genesis and latest config blocks."""

    name: str
    height: int
    state_hash: str
    snapshots: dict[str, str]
    genesis_block: str
    config_block: str


@dataclass(frozen=True)
class OrdererEntry:
    """An orderer's ledger copy (``folder`` in the backup) and its heights per channel."""

    name: str
    folder: str
    heights: dict[str, int]


@dataclass(frozen=True)
class Signer:
    """Who signed: the organisation, its MSP ID, the admin certificate and the path (in the
    backup) of the CA certificate that issued it."""

    org: str
    msp_id: str
    cert_pem: str
    ca_path: str

    def fingerprint(self) -> str:
        cert = x509.load_pem_x509_certificate(self.cert_pem.encode())
        return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class Manifest:
    """Everything a restore needs to know; see the module docstring."""

    network: str
    created: str
    baas_version: str
    fabric_version: str
    topology: str
    kdf: dict[str, Any]
    key_check: str
    signer: Signer
    channels: list[ChannelEntry] = field(default_factory=list)
    orderers: list[OrdererEntry] = field(default_factory=list)
    peers: list[OrdererEntry] = field(default_factory=list)
    """Peers' data folders (one peer per organisation), copied while stopped."""
    files: list[FileEntry] = field(default_factory=list)
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, indent=1).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Manifest:
        """Parse; UsageError naming manifest.json when it is not a manifest of this format."""
        try:
            data = json.loads(raw)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            return cls(
                **{
                    **data,
                    "signer": Signer(**data["signer"]),
                    "channels": [ChannelEntry(**c) for c in data["channels"]],
                    "orderers": [OrdererEntry(**o) for o in data["orderers"]],
                    "peers": [OrdererEntry(**o) for o in data.get("peers", [])],
                    "files": [FileEntry(**f) for f in data["files"]],
                }
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise UsageError(f"{MANIFEST} is not a baas backup manifest ({exc})") from None

    def heights(self) -> dict[str, int]:
        return {c.name: c.height for c in self.channels}


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def entry(root: Path, path: Path, *, encrypted: bool = False) -> FileEntry:
    """The :class:`FileEntry` of ``path`` (a file under ``root``)."""
    sha, size = file_digest(path)
    return FileEntry(path.relative_to(root).as_posix(), sha, size, encrypted)


def write(root: Path, manifest: Manifest, signer: SigningIdentity) -> None:
    """Write manifest.json and manifest.sig (both 0600) under ``root``."""
    raw = manifest.to_bytes()
    for name, data in ((MANIFEST, raw), (SIGNATURE, base64.b64encode(signer.sign(raw)))):
        path = root / name
        path.write_bytes(data)
        path.chmod(0o600)


def _verify_signature(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, data)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        raise InvalidSignature(f"unsupported key type {type(key).__name__}")


def _read(root: Path, name: str) -> bytes:
    path = root / name
    if not path.is_file():
        raise UsageError(
            f"{path} is missing: {root} is not a complete baas backup",
            hint="point at the folder `baas backup` wrote",
        )
    return path.read_bytes()


def _check_signer(root: Path, manifest: Manifest, raw: bytes, signature: bytes) -> None:
    signer = manifest.signer
    try:
        cert = x509.load_pem_x509_certificate(signer.cert_pem.encode())
        _verify_signature(cert, signature, raw)
    except (InvalidSignature, ValueError):
        raise UsageError(
            f"{root / SIGNATURE} does not match {root / MANIFEST}: the manifest was altered",
        ) from None
    ca_file = root / signer.ca_path
    try:
        ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        raise UsageError(
            f"the manifest's signer is not issued by the CA certificate {ca_file}",
        ) from None


def check_file(root: Path, item: FileEntry) -> None:
    """Raise UsageError naming the file unless it is present with its listed size and hash."""
    path = root / item.path
    if ".." in Path(item.path).parts or Path(item.path).is_absolute():
        raise UsageError(f"the manifest lists a path outside the backup: {item.path}")
    if not path.is_file():
        raise UsageError(f"{path} is missing from the backup", hint="the backup is incomplete")
    sha, size = file_digest(path)
    if size != item.size:
        raise UsageError(
            f"{path} has {size} bytes, the manifest says {item.size}: it was truncated or altered"
        )
    if sha != item.sha256:
        raise UsageError(f"{path} does not match its SHA-256 in the manifest: it was altered")


def verify(root: Path) -> Manifest:
    """The manifest of the backup at ``root`` after checking its signature and every file
    (see the module docstring). Reads only; raises UsageError at the first problem."""
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder", hint="point at the folder `baas backup` wrote")
    raw = _read(root, MANIFEST)
    try:
        signature = base64.b64decode(_read(root, SIGNATURE), validate=True)
    except ValueError:
        raise UsageError(f"{root / SIGNATURE} is not a base64 signature") from None
    manifest = Manifest.from_bytes(raw)
    _check_signer(root, manifest, raw, signature)
    for item in manifest.files:
        check_file(root, item)
    return manifest
