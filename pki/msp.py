"""The files every MSP of an organisation shares: CA certs, NodeOUs config.yaml, CRLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pki import files
from pki.layout import OrgPaths
from pki.profiles import Authority

NODE_OUS = {
    "ClientOUIdentifier": "client",
    "PeerOUIdentifier": "peer",
    "AdminOUIdentifier": "admin",
    "OrdererOUIdentifier": "orderer",
}


def config_yaml(ca_cert_name: str) -> bytes:
    """NodeOUs config.yaml exactly as cryptogen writes it (fabric.md §1.2)."""
    lines = ["NodeOUs:", "  Enable: true"]
    for key, ou in NODE_OUS.items():
        lines += [
            f"  {key}:",
            f"    Certificate: cacerts/{ca_cert_name}",
            f"    OrganizationalUnitIdentifier: {ou}",
        ]
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class SharedFiles:
    """Relative path → bytes of the files common to every MSP of one organisation."""

    content: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(
        cls, paths: OrgPaths, *, ca: Authority, tlsca: Authority, crls: dict[str, bytes]
    ) -> SharedFiles:
        """``crls`` maps a CRL file name to its PEM (empty until something is revoked)."""
        ca_paths, tls_paths = paths.authority("ca"), paths.authority("tlsca")
        content = {
            f"cacerts/{ca_paths.cert_name}": ca.cert_pem,
            f"tlscacerts/{tls_paths.cert_name}": tlsca.cert_pem,
            "config.yaml": config_yaml(ca_paths.cert_name),
        }
        content.update({f"crls/{name}": data for name, data in sorted(crls.items())})
        return cls(content)

    def ensure(self, msp_dir: Path) -> int:
        """Write what differs under ``msp_dir``; returns the number of files written."""
        return sum(files.ensure_file(msp_dir / rel, data) for rel, data in self.content.items())
