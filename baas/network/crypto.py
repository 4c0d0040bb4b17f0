"""Where the PKI tree keeps each plan object's material: a view of :mod:`pki.layout` keyed by
the plan's organisations and nodes (``$BAAS_HOME/networks/<name>/crypto`` by default)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from baas.plan import NodePlan, OrgPlan
from pki.layout import IdentityPaths, OrgPaths


@dataclass(frozen=True)
class CryptoTree:
    """Paths only; nothing here reads or writes."""

    root: Path

    def org(self, org: OrgPlan) -> OrgPaths:
        kind = "peerOrganizations" if org.peers else "ordererOrganizations"
        return OrgPaths(self.root / kind / org.domain, org.domain)

    def org_msp(self, org: OrgPlan) -> Path:
        """The verifying MSP (configtx ``MSPDir``)."""
        return self.org(org).msp

    def tls_ca(self, org: OrgPlan) -> Path:
        """The organisation's TLS CA certificate (PEM)."""
        return self.org(org).authority("tlsca").cert

    def tls_trust(self, org: OrgPlan) -> Path:
        """The organisation's TLS trust bundle (PEM), what a client dialling its nodes must
        trust: its TLS CA — and, while a TLS CA rotation runs, the retiring one too, since its
        nodes serve certificates of either. This is the ``tls/ca.crt`` every identity of the
        organisation holds (its admin's), or the TLS CA certificate before that exists."""
        bundle = self.admin(org).tls_ca
        return bundle if bundle.is_file() else self.tls_ca(org)

    def node(self, org: OrgPlan, node: NodePlan) -> IdentityPaths:
        folder = "peers" if node.role == "peer" else "orderers"
        return IdentityPaths(self.org(org).dir / folder / node.fqdn, node.fqdn, True)

    def user(self, org: OrgPlan, name: str) -> IdentityPaths:
        """A user or the admin (``Admin@<domain>``)."""
        return IdentityPaths(self.org(org).dir / "users" / name, name, False)

    def admin(self, org: OrgPlan) -> IdentityPaths:
        return self.user(org, org.admin)
