"""Where everything lives: Fabric's cryptogen folder layout, as paths only (no I/O).

::

    <root>/peerOrganizations/<domain>/            (ordererOrganizations/ when the org runs no peer)
        ca/ca.<domain>-cert.pem, ca/priv_sk           signing CA (+ ca.<domain>-crl.pem)
        tlsca/tlsca.<domain>-cert.pem, tlsca/priv_sk  TLS CA     (+ tlsca.<domain>-crl.pem)
        tlsca/retiring/…                              the previous TLS CA while a rotation runs
        tlsca/incoming/…                              the next TLS CA while ``rotate-ca`` writes it
        msp/{cacerts,tlscacerts,crls,config.yaml}     verifying MSP (configtx MSPDir)
        peers/<node>/{msp,tls}  orderers/<node>/{msp,tls}  users/<Name@domain>/{msp,tls}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pki.identities import Identity
from pki.spec import OrgSpec

AuthorityKind = Literal["ca", "tlsca"]
KEY_FILE = "priv_sk"
RETIRING = "retiring"
"""Sub-folder of a CA folder holding the previous CA while a rotation runs (:mod:`pki.rotation`)."""
INCOMING = "incoming"
"""Sub-folder of a CA folder holding the next CA while ``rotate_ca`` promotes it."""


@dataclass(frozen=True)
class AuthorityPaths:
    """A CA's folder: ``name`` is its CN (``ca.org1.example.com`` / ``tlsca.…``)."""

    kind: AuthorityKind
    dir: Path
    name: str

    @property
    def cert(self) -> Path:
        return self.dir / f"{self.name}-cert.pem"

    @property
    def key(self) -> Path:
        return self.dir / KEY_FILE

    @property
    def crl(self) -> Path:
        return self.dir / self.crl_name

    @property
    def cert_name(self) -> str:
        return f"{self.name}-cert.pem"

    @property
    def crl_name(self) -> str:
        return f"{self.name}-crl.pem"

    @property
    def retiring_cert_name(self) -> str:
        """The file name of the retiring CA's certificate in MSP folders (``tlscacerts/``)."""
        return f"{self.name}-retiring-cert.pem"

    @property
    def retiring_crl_name(self) -> str:
        """The file name of the retiring CA's CRL in MSP ``crls/`` folders."""
        return f"{self.name}-retiring-crl.pem"


@dataclass(frozen=True)
class IdentityPaths:
    """An identity's local MSP and TLS folder."""

    base: Path
    name: str
    is_node: bool

    @property
    def msp(self) -> Path:
        return self.base / "msp"

    @property
    def keystore(self) -> Path:
        return self.msp / "keystore"

    @property
    def sign_key(self) -> Path:
        return self.keystore / KEY_FILE

    @property
    def sign_cert(self) -> Path:
        return self.msp / "signcerts" / f"{self.name}-cert.pem"

    @property
    def tls(self) -> Path:
        return self.base / "tls"

    @property
    def tls_cert(self) -> Path:
        return self.tls / ("server.crt" if self.is_node else "client.crt")

    @property
    def tls_key(self) -> Path:
        return self.tls / ("server.key" if self.is_node else "client.key")

    @property
    def tls_ca(self) -> Path:
        return self.tls / "ca.crt"


@dataclass(frozen=True)
class OrgPaths:
    """Paths of one organisation under the crypto root."""

    dir: Path
    domain: str

    @classmethod
    def of(cls, root: Path, org: OrgSpec) -> OrgPaths:
        kind = "peerOrganizations" if org.has_peers else "ordererOrganizations"
        return cls(root / kind / org.domain, org.domain)

    @classmethod
    def elsewhere(cls, root: Path, org: OrgSpec) -> OrgPaths:
        """Where the org would live if it did (or did not) run peers: the *other* folder."""
        kind = "ordererOrganizations" if org.has_peers else "peerOrganizations"
        return cls(root / kind / org.domain, org.domain)

    def authority(self, kind: AuthorityKind) -> AuthorityPaths:
        return AuthorityPaths(kind, self.dir / kind, f"{kind}.{self.domain}")

    def retiring(self, kind: AuthorityKind) -> AuthorityPaths:
        """The previous CA of ``kind`` while a rotation runs (same name, own folder)."""
        return AuthorityPaths(kind, self.dir / kind / RETIRING, f"{kind}.{self.domain}")

    def incoming(self, kind: AuthorityKind) -> AuthorityPaths:
        """The next CA of ``kind`` while ``rotate_ca`` promotes it (same name, own folder)."""
        return AuthorityPaths(kind, self.dir / kind / INCOMING, f"{kind}.{self.domain}")

    @property
    def msp(self) -> Path:
        return self.dir / "msp"

    def identity(self, ident: Identity) -> IdentityPaths:
        return IdentityPaths(self.dir / ident.folder / ident.name, ident.name, ident.is_node)

    def all_msps(self) -> list[Path]:
        """Every MSP folder present on disk: the org's, then each identity's (sorted)."""
        found = [self.msp] if self.msp.is_dir() else []
        for folder in ("peers", "orderers", "users"):
            parent = self.dir / folder
            if parent.is_dir():
                found.extend(p / "msp" for p in sorted(parent.iterdir()) if (p / "msp").is_dir())
        return found
