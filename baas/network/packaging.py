"""Chaincode-as-a-service packages, built byte-for-byte reproducibly (fabric.md §4.2).

A package is a gzip-compressed tar holding exactly two regular files:

* ``metadata.json`` — ``{"type": "ccaas", "label": "<label>"}``;
* ``code.tar.gz`` — a gzip-compressed tar holding ``connection.json``:
  ``{"address": "<host>:<port>", "dial_timeout": "10s", "tls_required": false}``.

The package ID is ``<label>:<hex SHA-256 of the package bytes>`` (what
``peer lifecycle chaincode calculatepackageid`` prints), so the bytes must not depend on the
time, the user or the zlib build: tar entries carry mtime 0, uid/gid 0, no user/group names,
mode 0644, in a fixed order (USTAR format), and gzip streams use *stored* (uncompressed) deflate
blocks with a zero timestamp, which every inflater reads and which no compression-level or
zlib-version difference can change. Packages are a few hundred bytes, so compression buys
nothing.

Each organisation serving a chaincode (:func:`served_chaincodes`) runs its own server for it,
at the address the runtime gives (:meth:`baas.addressing.Addresses.chaincode`; on Kubernetes the
Service ``cc-<chaincode>-<channel>`` in the organisation's namespace), so each organisation gets
its own package — same label, different address, different package ID — and approves the
definition with its own ID.

``tls_required`` is ``false`` for now: chaincode servers listen in plain text
(``CORE_PEER_TLS_ENABLED=false``) and only the organisation's own peers may reach them (on
Kubernetes, NetworkPolicy ``same-org-chaincode``). Turning TLS on needs a server certificate for
the chaincode server and ``root_cert`` (PEM contents) in connection.json.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import tarfile
import zlib
from dataclasses import dataclass, field

from baas.addressing import Addresses
from baas.errors import UsageError
from baas.plan import ChaincodePlan, OrgPlan, Plan

LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
"""Fabric's label rule ``^[[:alnum:]][[:alnum:]_.+-]*$`` (Go's ``[[:alnum:]]`` is ASCII)."""
DIAL_TIMEOUT = "10s"
PACKAGE_TYPE = "ccaas"

_STORED_BLOCK_MAX = 0xFFFF
_NUL = b"\0"


def served_chaincodes(plan: Plan, org: OrgPlan) -> tuple[ChaincodePlan, ...]:
    """Chaincodes the organisation runs a server for (and packages, installs and approves): it
    has peers and is a member of the chaincode's channel. Empty for orderer-only
    organisations. Plan order."""
    if not org.peers:
        return ()
    channels = {ch.name for ch in plan.channels if org.name in ch.members}
    return tuple(cc for cc in plan.chaincodes if cc.channel in channels)


def package_file_name(org: str, channel: str, chaincode: str) -> str:
    """File name of ``org``'s package of ``chaincode`` on ``channel``:
    ``<org>_<channel>_<chaincode>.tar.gz`` (the toolbox's ConfigMap key too). Unique because
    neither organisation names (DNS labels) nor channel names contain ``_``."""
    return f"{org}_{channel}_{chaincode}.tar.gz"


def check_label(label: str) -> str:
    """Return ``label`` when Fabric accepts it, else raise :class:`UsageError`."""
    if not LABEL_PATTERN.match(label):
        raise UsageError(
            f"chaincode package label {label!r} is not valid",
            hint="labels start with a letter or digit and contain only letters, digits and "
            "_ . + - (the label is <chaincode name>_<version>)",
        )
    return label


def gzip_stored(data: bytes) -> bytes:
    """``data`` as a gzip member with stored deflate blocks, MTIME 0, no file name, OS 255.

    Deterministic for a given input on every platform; ``gzip.decompress`` and Go's
    ``compress/gzip`` read it like any other gzip file.
    """
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    chunks = [data[i : i + _STORED_BLOCK_MAX] for i in range(0, len(data), _STORED_BLOCK_MAX)]
    chunks = chunks or [b""]
    body = bytearray()
    for index, chunk in enumerate(chunks):
        final = 1 if index == len(chunks) - 1 else 0
        body += bytes([final])  # BFINAL, BTYPE=00 (stored), padded to the byte boundary
        body += struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF)
        body += chunk
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + bytes(body) + trailer


def tar_files(files: list[tuple[str, bytes]]) -> bytes:
    """A USTAR archive of regular files in the given order, with fixed metadata (mtime 0,
    uid/gid 0, empty user/group names, mode 0644), ended by the two zero blocks POSIX requires
    but not padded to a 10 KiB record (readers do not need it; it would only add zeros)."""
    out = bytearray()
    for name, data in files:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0
        info.mode = 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.type = tarfile.REGTYPE
        out += info.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict")
        out += data + _NUL * (-len(data) % tarfile.BLOCKSIZE)
    out += _NUL * (2 * tarfile.BLOCKSIZE)
    return bytes(out)


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2) + "\n").encode()


def connection_json(address: str, *, dial_timeout: str = DIAL_TIMEOUT) -> bytes:
    """The ccaas ``connection.json`` for a plain-text server at ``address`` (``host:port``)."""
    return _json({"address": address, "dial_timeout": dial_timeout, "tls_required": False})


def metadata_json(label: str) -> bytes:
    return _json({"type": PACKAGE_TYPE, "label": check_label(label)})


def build_package(label: str, connection: bytes) -> bytes:
    """The package bytes: ``metadata.json`` then ``code.tar.gz`` (holding ``connection.json``).
    Raises :class:`UsageError` for a label Fabric refuses."""
    code = gzip_stored(tar_files([("connection.json", connection)]))
    return gzip_stored(tar_files([("metadata.json", metadata_json(label)), ("code.tar.gz", code)]))


def package_id(label: str, data: bytes) -> str:
    """``<label>:<sha256 of data>``, as Fabric computes it (``persistence.PackageID``)."""
    return f"{label}:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class ChaincodePackage:
    """The package of ``chaincode`` (on ``channel``) for organisation ``org``."""

    org: str
    chaincode: str
    channel: str
    label: str
    address: str
    data: bytes = field(repr=False)

    @property
    def package_id(self) -> str:
        return package_id(self.label, self.data)

    @property
    def file_name(self) -> str:
        """Its file name (:func:`package_file_name`)."""
        return package_file_name(self.org, self.channel, self.chaincode)


def org_package(
    org: OrgPlan, chaincode: ChaincodePlan, *, addresses: Addresses
) -> ChaincodePackage:
    """``org``'s package of ``chaincode``: its connection.json dials
    ``addresses.chaincode(org, chaincode)``. Raises :class:`UsageError` for a label Fabric
    refuses."""
    address = str(addresses.chaincode(org, chaincode))
    return ChaincodePackage(
        org=org.name,
        chaincode=chaincode.name,
        channel=chaincode.channel,
        label=chaincode.label,
        address=address,
        data=build_package(chaincode.label, connection_json(address)),
    )


def plan_packages(plan: Plan, *, addresses: Addresses) -> list[ChaincodePackage]:
    """One package per (organisation serving the chaincode, chaincode), chaincodes in plan
    order, then organisations in plan order (see :func:`served_chaincodes`)."""
    return [
        org_package(org, cc, addresses=addresses)
        for cc in plan.chaincodes
        for org in plan.orgs
        if cc in served_chaincodes(plan, org)
    ]


def package_ids(plan: Plan, org: OrgPlan, *, addresses: Addresses) -> dict[str, str]:
    """Chaincode name → package ID for ``org``'s servers (what each server's ``CHAINCODE_ID``
    must be; empty for organisations that serve nothing)."""
    return {
        cc.name: org_package(org, cc, addresses=addresses).package_id
        for cc in served_chaincodes(plan, org)
    }
