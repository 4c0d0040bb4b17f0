"""How baas reaches a network as its administrator: every node as a client target, every
organisation's admin identity, from the plan, the PKI tree and the runtime's addresses.

One :class:`NetworkAccess` per command; it caches identities and gRPC connections and must be
closed (use it as a context manager).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

from baas.addressing import Addresses
from baas.errors import SigningRefused
from baas.fabric.connection import Connections, NodeTarget
from baas.fabric.identity import SigningIdentity, TLSClient
from baas.fabric.osnadmin import AdminTarget
from baas.fabric.peer import Peer
from baas.network.crypto import CryptoTree
from baas.plan import NodePlan, OrgPlan, Plan


def require_signers(
    signers: frozenset[str] | None, orgs: Iterable[OrgPlan], *, purpose: str
) -> None:
    """Raise :class:`~baas.errors.SigningRefused` naming every organisation of ``orgs`` not
    in ``signers`` (``None``: all may sign)."""
    if signers is None:
        return
    refused = sorted({org.name for org in orgs if org.name not in signers})
    if refused:
        raise SigningRefused(refused, purpose=purpose, allowed=signers)


@dataclass
class NetworkAccess:
    """``signers``: the organisations (by name) whose admins may sign *changes* through this
    access — joins, chaincode installs, approvals, commits, Init, channel config updates;
    ``None``: every organisation. Reads are signed by the organisation that owns the node
    whatever ``signers`` says (a query changes nothing)."""

    plan: Plan
    crypto: CryptoTree
    addresses: Addresses
    connections: Connections = field(default_factory=Connections)
    signers: frozenset[str] | None = None
    _identities: dict[str, SigningIdentity] = field(default_factory=dict, repr=False)
    _tls_connections: dict[str, tuple[TLSClient, Connections]] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def org_of(self, node: NodePlan) -> OrgPlan:
        return self.plan.org(node.org)

    def admin(self, org: OrgPlan) -> SigningIdentity:
        """The organisation's admin identity (``Admin@<domain>``), loaded once."""
        with self._lock:
            found = self._identities.get(org.admin)
            if found is None:
                found = SigningIdentity.from_msp_dir(org.msp_id, self.crypto.admin(org).msp)
                self._identities[org.admin] = found
            return found

    def may_sign(self, org: OrgPlan) -> bool:
        """Whether changes may be signed as ``org``'s admin."""
        return self.signers is None or org.name in self.signers

    def require_signers(self, orgs: Iterable[OrgPlan], *, purpose: str) -> None:
        """Raise :class:`~baas.errors.SigningRefused` naming every organisation of ``orgs``
        that may not sign (call it before acting, so that nothing is half done)."""
        require_signers(self.signers, orgs, purpose=purpose)

    def signer(self, org: OrgPlan, *, purpose: str) -> SigningIdentity:
        """``org``'s admin identity for signing a change (``purpose`` names it in the refusal
        when ``org`` is not one of :attr:`signers`)."""
        self.require_signers([org], purpose=purpose)
        return self.admin(org)

    def user(self, org: OrgPlan, name: str) -> SigningIdentity:
        """A client identity of ``org`` (``name`` as in ``org.users``), loaded once."""
        with self._lock:
            found = self._identities.get(name)
            if found is None:
                found = SigningIdentity.from_msp_dir(org.msp_id, self.crypto.user(org, name).msp)
                self._identities[name] = found
            return found

    def _tls_ca(self, node: NodePlan) -> bytes:
        return self.crypto.tls_trust(self.org_of(node)).read_bytes()

    def peer(self, node: NodePlan) -> Peer:
        target = NodeTarget(node.fqdn, str(self.addresses.peer(node)), self._tls_ca(node))
        return Peer(target, self.connections)

    def admin_tls(self, org: OrgPlan) -> TLSClient:
        """``org``'s admin TLS client pair (loaded once)."""
        return self._tls_connection(org)[0]

    def peer_over_admin_tls(self, node: NodePlan) -> Peer:
        """``node`` dialled with its organisation admin's TLS client certificate, for the
        services that bind a request to the TLS session (discovery)."""
        target = NodeTarget(node.fqdn, str(self.addresses.peer(node)), self._tls_ca(node))
        return Peer(target, self._tls_connection(self.org_of(node))[1])

    def _tls_connection(self, org: OrgPlan) -> tuple[TLSClient, Connections]:
        with self._lock:
            found = self._tls_connections.get(org.name)
            if found is None:
                paths = self.crypto.admin(org)
                client = TLSClient.from_files(paths.tls_cert, paths.tls_key)
                found = (client, Connections(tls_client=client))
                self._tls_connections[org.name] = found
            return found

    def orderer(self, node: NodePlan) -> NodeTarget:
        return NodeTarget(node.fqdn, str(self.addresses.orderer(node)), self._tls_ca(node))

    def orderer_admin(self, node: NodePlan) -> AdminTarget:
        """The orderer's channel participation API, called with its organisation admin's TLS
        client pair."""
        org = self.org_of(node)
        tls = self.crypto.admin(org)
        return AdminTarget(
            name=node.fqdn,
            address=str(self.addresses.admin(node)),
            tls_ca=self.crypto.tls_trust(org),
            client_cert=tls.tls_cert,
            client_key=tls.tls_key,
        )

    def close(self) -> None:
        self.connections.close()
        with self._lock:
            extra = [connections for _, connections in self._tls_connections.values()]
            self._tls_connections.clear()
        for connections in extra:
            connections.close()

    def __enter__(self) -> NetworkAccess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
