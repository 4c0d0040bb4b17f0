"""Encryption of the secrets in a backup: AES-256-GCM under a key derived by scrypt.

One key per backup: ``scrypt(passphrase, salt, n, r, p)`` (parameters and salt in the
manifest's :class:`KeyDerivation`). Each encrypted file is ``MAGIC || nonce(12) ||
ciphertext+tag`` with the file's path in the backup as associated data, so a file moved to
another path does not decrypt. A *key check* (a known constant encrypted under the key, kept in
the manifest) tells a wrong passphrase from a damaged file before anything is decrypted.

The passphrase comes from ``BAAS_BACKUP_PASSPHRASE`` (:func:`passphrase_from_env`); the CLI
prompts when it is unset. Nothing here writes files.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from baas.errors import UsageError

PASSPHRASE_ENV = "BAAS_BACKUP_PASSPHRASE"
MAGIC = b"BAASENC1"
NONCE_SIZE = 12
KEY_SIZE = 32
KEY_CHECK = b"baas backup key check v1"
MIN_PASSPHRASE = 8
SECRET_NAMES = frozenset({"priv_sk", "server.key", "client.key"})


@dataclass(frozen=True)
class KeyDerivation:
    """scrypt's parameters and salt (base64 in the manifest). ``n`` = 2**15 costs about
    0.1 s and 32 MiB once per backup or restore."""

    salt: bytes
    n: int = 2**15
    r: int = 8
    p: int = 1

    @classmethod
    def fresh(cls) -> KeyDerivation:
        return cls(os.urandom(16))

    def derive(self, passphrase: str) -> bytes:
        kdf = Scrypt(salt=self.salt, length=KEY_SIZE, n=self.n, r=self.r, p=self.p)
        return kdf.derive(passphrase.encode())

    def to_dict(self) -> dict[str, object]:
        return {
            "algorithm": "scrypt",
            "salt": base64.b64encode(self.salt).decode(),
            "n": self.n,
            "r": self.r,
            "p": self.p,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> KeyDerivation:
        """Raises :class:`UsageError` on anything but scrypt with integer parameters."""
        try:
            if data["algorithm"] != "scrypt":
                raise ValueError(data["algorithm"])
            return cls(
                base64.b64decode(str(data["salt"])),
                int(str(data["n"])),
                int(str(data["r"])),
                int(str(data["p"])),
            )
        except (KeyError, ValueError) as exc:
            raise UsageError(f"the backup's key derivation is unreadable ({exc})") from None


def passphrase_from_env() -> str | None:
    """``$BAAS_BACKUP_PASSPHRASE``, or None when unset or empty."""
    return os.environ.get(PASSPHRASE_ENV) or None


def check_passphrase(passphrase: str) -> None:
    """Refuse (UsageError) a passphrase shorter than :data:`MIN_PASSPHRASE` characters."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise UsageError(
            f"the backup passphrase must have at least {MIN_PASSPHRASE} characters",
            hint=f"set {PASSPHRASE_ENV} to a longer one",
        )


def is_secret(path: PurePosixPath, data: bytes) -> bool:
    """Whether a file of the PKI tree must be encrypted: a private key by name (``priv_sk``,
    ``*.key``, anything in a ``keystore/``) or by content (a PEM ``PRIVATE KEY`` block)."""
    return (
        path.name in SECRET_NAMES
        or path.suffix == ".key"
        or "keystore" in path.parts
        or b"PRIVATE KEY" in data
    )


def encrypt(key: bytes, data: bytes, *, path: str) -> bytes:
    """``data`` sealed under ``key``, bound to ``path`` (the stored file's path)."""
    nonce = os.urandom(NONCE_SIZE)
    return MAGIC + nonce + AESGCM(key).encrypt(nonce, data, path.encode())


def decrypt(key: bytes, blob: bytes, *, path: str) -> bytes:
    """The plaintext of :func:`encrypt`'s ``blob``; UsageError naming ``path`` when the blob is
    not ours, was altered, or the key is wrong."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_SIZE + 16:
        raise UsageError(f"{path} is not an encrypted baas backup file")
    nonce = blob[len(MAGIC) : len(MAGIC) + NONCE_SIZE]
    try:
        return AESGCM(key).decrypt(nonce, blob[len(MAGIC) + NONCE_SIZE :], path.encode())
    except InvalidTag:
        raise UsageError(
            f"{path} does not decrypt: it was altered or the passphrase is wrong"
        ) from None


def key_check(key: bytes) -> str:
    """What the manifest keeps to recognise ``key`` (base64)."""
    return base64.b64encode(encrypt(key, KEY_CHECK, path="key-check")).decode()


def verify_key(key: bytes, check: str) -> None:
    """Raise UsageError ("wrong passphrase") unless ``key`` opens the manifest's key check."""
    try:
        ok = decrypt(key, base64.b64decode(check), path="key-check") == KEY_CHECK
    except (UsageError, ValueError):
        ok = False
    if not ok:
        raise UsageError(
            "wrong passphrase: it does not open this backup's keys",
            hint=f"set {PASSPHRASE_ENV} to the passphrase the backup was made with",
        )
