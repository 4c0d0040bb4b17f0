"""The unit every secret store moves: one identity's certificates and keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from pki.spec import IdentityRole


class SecretBytes:
    """Bytes that never show themselves: ``repr``/``str`` print a placeholder.

    Use :meth:`reveal` at the single place the bytes are written or sent.
    """

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = bytes(value)

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "SecretBytes(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretBytes) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __len__(self) -> int:
        return len(self._value)


@dataclass(frozen=True)
class IdentityBundle:
    """One identity (node, admin or user) ready to hand to a workload.

    All certificates are PEM bytes; keys are unencrypted PKCS#8 PEM wrapped in
    :class:`SecretBytes`. ``name`` is the identity's full name: ``peer0.org1.example.com``,
    ``Admin@org1.example.com`` or ``alice@org1.example.com``. ``tls_ca_cert`` is the TLS trust
    bundle: the TLS CA certificate, followed by the retiring one while a TLS CA rotation runs.
    """

    org: str
    msp_id: str
    name: str
    role: IdentityRole
    sign_cert: bytes
    sign_key: SecretBytes = field(repr=False)
    ca_cert: bytes
    tls_cert: bytes
    tls_key: SecretBytes = field(repr=False)
    tls_ca_cert: bytes
