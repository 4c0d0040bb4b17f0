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
    """Relative path → bytes of the files common to every MSP of one organisation.

    ``managed`` are the other file names this module may have written into an MSP in another
    state of the organisation (a retiring CA's certificate and CRL, a CRL no longer issued):
    :meth:`ensure` removes them, so that the end of a CA rotation leaves no stale trust.
    """

    content: dict[str, bytes] = field(default_factory=dict)
    managed: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        paths: OrgPaths,
        *,
        ca: Authority,
        tlsca: Authority,
        crls: dict[str, bytes],
        retiring_tlsca: Authority | None = None,
    ) -> SharedFiles:
        """``crls`` maps a CRL file name to its PEM (empty until something is revoked);
        ``retiring_tlsca`` is the previous TLS CA while a rotation runs: trusted beside the
        current one (``tlscacerts/tlsca.<domain>-retiring-cert.pem``)."""
        ca_paths, tls_paths = paths.authority("ca"), paths.authority("tlsca")
        content = {
            f"cacerts/{ca_paths.cert_name}": ca.cert_pem,
            f"tlscacerts/{tls_paths.cert_name}": tlsca.cert_pem,
            "config.yaml": config_yaml(ca_paths.cert_name),
        }
        if retiring_tlsca is not None:
            content[f"tlscacerts/{tls_paths.retiring_cert_name}"] = retiring_tlsca.cert_pem
        content.update({f"crls/{name}": data for name, data in sorted(crls.items())})
        managed = (
            f"tlscacerts/{tls_paths.retiring_cert_name}",
            f"cacerts/{ca_paths.retiring_cert_name}",
            f"crls/{tls_paths.retiring_crl_name}",
            f"crls/{ca_paths.retiring_crl_name}",
            f"crls/{tls_paths.crl_name}",
            f"crls/{ca_paths.crl_name}",
        )
        return cls(content, tuple(m for m in managed if m not in content))

    def ensure(self, msp_dir: Path) -> int:
        """Write what differs under ``msp_dir`` and remove the :attr:`managed` files that are
        no longer part of it; returns the number of files written or removed."""
        written = sum(files.ensure_file(msp_dir / rel, data) for rel, data in self.content.items())
        return written + sum(files.remove(msp_dir / rel) for rel in self.managed)
