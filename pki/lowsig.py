"""Low-S, canonical DER signatures on certificates and CRLs signed with ECDSA.

OpenSSL (behind ``cryptography``) may produce ECDSA signatures with ``s > n/2``. Fabric accepts
such certificates (it re-encodes them in memory), but cryptogen always writes low-S ones and some
tools compare certificate bytes, so we rewrite ``s`` to ``n - s``: the result is an equally valid
signature over the same to-be-signed bytes. Ed25519 signatures are returned untouched.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

# Group orders of the curves we issue with (SEC 2).
CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
}


def _read_tlv(buf: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``offset``."""
    tag = buf[offset]
    first = buf[offset + 1]
    if first < 0x80:
        return tag, offset + 2, offset + 2 + first
    n = first & 0x7F
    length = int.from_bytes(buf[offset + 2 : offset + 2 + n], "big")
    start = offset + 2 + n
    return tag, start, start + length


def _encode_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def is_high_s(signature: bytes, curve_name: str) -> bool:
    """True when the DER ECDSA ``signature`` has ``s > n/2`` on ``curve_name``."""
    order = CURVE_ORDERS.get(curve_name)
    if order is None:
        return False
    _, s = decode_dss_signature(signature)
    return s > order // 2


def _signature_span(der: bytes) -> tuple[int, int, int]:
    """(content start of the outer SEQUENCE, start of the BIT STRING, end) of a signed object."""
    tag, start, end = _read_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER SEQUENCE")
    _, _, tbs_end = _read_tlv(der, start)
    _, _, alg_end = _read_tlv(der, tbs_end)
    bit_tag, bit_start, bit_end = _read_tlv(der, alg_end)
    if bit_tag != 0x03 or bit_end != end or der[bit_start] != 0:
        raise ValueError("unexpected signature encoding")
    return start, alg_end, bit_end


def signature_of(der: bytes) -> bytes:
    """The signature bytes of a DER Certificate or CertificateList."""
    _, alg_end, _ = _signature_span(der)
    _, bit_start, bit_end = _read_tlv(der, alg_end)
    return der[bit_start + 1 : bit_end]


def replace_signature(der: bytes, signature: bytes) -> bytes:
    """``der`` (Certificate or CertificateList) with its signature value replaced."""
    start, alg_end, _ = _signature_span(der)
    body = der[start:alg_end] + _encode_tlv(0x03, b"\x00" + signature)
    return _encode_tlv(0x30, body)


def normalize_signed(der: bytes, curve_name: str | None) -> bytes:
    """Return ``der`` (a Certificate or CertificateList) with a low-S ECDSA signature.

    ``curve_name`` is the issuer key's curve (``secp256r1``…), or None for Ed25519: then, and
    when ``s`` is already low, ``der`` itself is returned.
    """
    order = CURVE_ORDERS.get(curve_name or "")
    if order is None:
        return der
    r, s = decode_dss_signature(signature_of(der))
    if s <= order // 2:
        return der
    return replace_signature(der, encode_dss_signature(r, order - s))
