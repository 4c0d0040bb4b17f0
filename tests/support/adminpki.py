"""Real MSP trees for tests of baas's Fabric admin client that need no Fabric node.

:func:`issue_tree` runs :func:`pki.generate` on a small topology (read with
:func:`topology.loads`): organisation ``org1`` runs a peer and an orderer and has the user
``alice``; ``org2`` runs a peer. Each organisation has its own signing CA and TLS CA, so
``org2``'s TLS CA is a CA that ``org1``'s nodes do not trust.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pki
import topology
from baas.fabric.identity import SigningIdentity, TLSClient
from baas.network.crypto import CryptoTree
from baas.plan import NodePlan, OrgPlan, Plan, build, pki_org_specs_from_plan
from pki.layout import IdentityPaths
from pki.spec import KeyAlgorithm, PKIOptions

SMALL_TOPOLOGY = """
apiVersion: baas/v1alpha1
kind: Network
metadata: {name: admintest}
spec:
  domain: example.com
  organizations:
    - name: org1
      mspId: Org1MSP
      peers: [{name: peer0}]
      orderers: [{name: orderer0}]
      users: [alice]
    - name: org2
      mspId: Org2MSP
      peers: [{name: peer0}]
  channels:
    - {name: mychannel, organizations: [org1, org2], orderers: [org1]}
"""


@dataclass(frozen=True)
class Tree:
    """The plan of :data:`SMALL_TOPOLOGY` and where its issued material lies."""

    plan: Plan
    crypto: CryptoTree
    key_algorithm: KeyAlgorithm

    def org(self, name: str) -> OrgPlan:
        return self.plan.org(name)

    def user(self, org: str, name: str) -> IdentityPaths:
        """A user's folders (``name`` as in ``OrgPlan.users``, or the admin's name)."""
        return self.crypto.user(self.org(org), name)

    def admin(self, org: str) -> IdentityPaths:
        return self.crypto.admin(self.org(org))

    def node(self, org: str, role: str) -> tuple[NodePlan, IdentityPaths]:
        """The first peer (``role="peer"``) or orderer of ``org`` and its folders."""
        plan = self.org(org)
        node = (plan.peers if role == "peer" else plan.orderers)[0]
        return node, self.crypto.node(plan, node)

    def tls_ca(self, org: str) -> Path:
        return self.crypto.tls_ca(self.org(org))

    def identity(self, org: str, name: str | None = None) -> SigningIdentity:
        """``name``'s (default: the admin's) signing identity, loaded as baas loads it."""
        paths = self.admin(org) if name is None else self.user(org, name)
        return SigningIdentity.from_msp_dir(self.org(org).msp_id, paths.msp)

    def tls_client(self, org: str) -> TLSClient:
        """The admin's TLS client pair."""
        admin = self.admin(org)
        return TLSClient.from_files(admin.tls_cert, admin.tls_key)


def issue_tree(root: Path, key_algorithm: KeyAlgorithm = "P-256") -> Tree:
    """Issue every identity of :data:`SMALL_TOPOLOGY` under ``root`` with ``key_algorithm``."""
    network, _ = topology.loads(SMALL_TOPOLOGY)
    plan = build(network)
    pki.generate(root, pki_org_specs_from_plan(plan), PKIOptions(key_algorithm=key_algorithm))
    return Tree(plan, CryptoTree(root), key_algorithm)
