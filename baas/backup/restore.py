"""``baas restore``: a backup folder back into a network's state folder on this machine.

Nothing is written before the whole backup is verified: the manifest's signature and every
file's size and SHA-256 (:func:`baas.backup.manifest.verify`), then the passphrase (the
manifest's key check) and every encrypted file decrypted in memory. Only then is the tree
written — into ``.<name>.restoring`` beside the network's folder, moved into place when
complete — so a refused or interrupted restore leaves no network folder behind.

What is written (the local runtime's layout): the state folder's files as backed up, private
keys decrypted (0600), each orderer's ledger as its ``data/<orderer>/``, and
``backup/restored.json`` (what was restored, from which manifest). Peers' data folders stay
empty: the next ``baas up`` starts the orderers on their ledgers, and the peers join the
channels and catch up from them, so every block the backup held is on every peer again.

An ensure: restoring the same backup again over what it restored changes nothing; any other
existing state of the network is refused (``baas down FILE --purge`` first, or
``--as-network``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baas.backup import encryption, manifest
from baas.backup.create import ENCRYPTED_SUFFIX, private_tree
from baas.errors import UsageError
from baas.network.changes import Report

MARKER = Path("backup") / "restored.json"


@dataclass
class RestoreResult:
    """What a restore did: the network and its folder, the heights the backup holds per
    channel (every transaction of a block beyond them, committed after the backup, is lost),
    the signer's fingerprint and how many files were written (0: already restored)."""

    network: str
    folder: Path
    heights: dict[str, int]
    orderers: dict[str, dict[str, int]]
    signer: str
    written: int
    created: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "target": "local",
            "folder": str(self.folder),
            "heights": self.heights,
            "orderers": self.orderers,
            "backupCreated": self.created,
            "signer": self.signer,
            "written": self.written,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def _manifest_digest(root: Path) -> str:
    return hashlib.sha256((root / manifest.MANIFEST).read_bytes()).hexdigest()


def _decrypt_all(source: Path, made: manifest.Manifest, passphrase: str) -> dict[str, bytes]:
    """Every encrypted file's plaintext by stored path; UsageError for a wrong passphrase or
    a file that does not decrypt (named)."""
    key = encryption.KeyDerivation.from_dict(made.kdf).derive(passphrase)
    encryption.verify_key(key, made.key_check)
    return {
        item.path: encryption.decrypt(key, (source / item.path).read_bytes(), path=item.path)
        for item in made.files
        if item.encrypted
    }


def _target_paths(
    item: manifest.FileEntry, made: manifest.Manifest, clones: dict[str, list[str]]
) -> list[Path]:
    """Where a stored file goes in the network's folder (none: it stays in the backup). A
    peer's data folder goes to every peer of its organisation (``clones``)."""
    parts = Path(item.path).parts
    if parts[0] == "state":
        rel = Path(*parts[1:])
        name = rel.with_name(rel.name.removesuffix(ENCRYPTED_SUFFIX)) if item.encrypted else rel
        return [name]
    for node in [*made.orderers, *made.peers]:
        prefix = Path(node.folder)
        if Path(item.path).is_relative_to(prefix):
            inner = Path(item.path).relative_to(prefix)
            return [Path("data") / name / inner for name in clones.get(node.name, [node.name])]
    return []


def _clones(made: manifest.Manifest) -> dict[str, list[str]]:
    """Each backed-up peer → every peer of its organisation, read from the backed-up PKI
    tree (``state/crypto/peerOrganizations/<domain>/peers/<fqdn>/``)."""
    by_domain: dict[str, set[str]] = {}
    for item in made.files:
        parts = Path(item.path).parts
        peers = parts[:3] == ("state", "crypto", "peerOrganizations") and parts[4:5] == ("peers",)
        if peers and len(parts) > 5:
            by_domain.setdefault(parts[3], set()).add(parts[5])
    found: dict[str, list[str]] = {}
    for peer in made.peers:
        for names in by_domain.values():
            if peer.name in names:
                found[peer.name] = sorted(names)
    return found


def _already_restored(folder: Path, digest: str) -> bool:
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        return bool(json.loads(marker.read_text()).get("manifest") == digest)
    except ValueError:
        return False


def _refuse_existing(folder: Path, network: str) -> None:
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(
            f"network {network} already has state in {folder}: restore writes only an empty one",
            hint="stop and delete it with `baas down FILE --purge` first, or restore it "
            "under another name with --as-network",
        )


def _write_tree(
    source: Path, made: manifest.Manifest, plaintexts: dict[str, bytes], out: Path
) -> int:
    written = 0
    clones = _clones(made)
    for item in made.files:
        for target in _target_paths(item, made, clones):
            path = out / target
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if item.encrypted:
                path.write_bytes(plaintexts[item.path])
            else:
                shutil.copyfile(source / item.path, path)
            written += 1
    return written


def restore(
    source: Path,
    *,
    folder_for: Callable[[str], Path],
    passphrase: str,
    report: Report,
    network: str | None = None,
) -> RestoreResult:
    """Verify the backup at ``source`` and write its network's state (see the module
    docstring). ``network``: the name it is restored as (default: the backed-up one);
    ``folder_for(name)`` gives the network's folder, asked only once all is verified. Raises
    UsageError, naming the file, for a tampered, truncated or incomplete backup, a wrong
    passphrase, or a folder with other state — in every case before anything is written."""
    started = time.monotonic()
    report(f"verifying {source}")
    made = manifest.verify(source)
    name = network or made.network
    report(
        f"manifest of {made.network} ({made.created}) signed by {made.signer.org}: "
        f"{len(made.files)} files verified"
    )
    digest = _manifest_digest(source)
    result = RestoreResult(
        network=name,
        folder=Path(),
        heights=made.heights(),
        orderers={o.name: o.heights for o in made.orderers},
        signer=made.signer.fingerprint(),
        written=0,
        created=made.created,
    )
    plaintexts = _decrypt_all(source, made, passphrase)
    folder = folder_for(name)
    result.folder = folder
    if _already_restored(folder, digest):
        result.notes.append("already restored from this backup: nothing written")
        report(result.notes[-1])
        return result
    _refuse_existing(folder, name)
    staging = folder.with_name(f".{folder.name}.restoring")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True, mode=0o700)
    result.written = _write_tree(source, made, plaintexts, staging)
    marker = staging / MARKER
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(
        json.dumps({"manifest": digest, "source": str(source), "heights": made.heights()}, indent=1)
    )
    private_tree(staging)
    if folder.exists():
        folder.rmdir()  # empty (checked above)
    staging.rename(folder)
    result.seconds = time.monotonic() - started
    lost = ", ".join(f"{c} above height {h}" for c, h in result.heights.items())
    result.notes.append(
        f"restored at heights {result.heights}; blocks committed after the backup ({lost}) are lost"
    )
    report(result.notes[-1])
    return result
