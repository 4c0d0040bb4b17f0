"""A cryptogen ``crypto-config.yaml`` equivalent to a list of :class:`OrgSpec` (benchmarks,
and for people who want to compare with Fabric's own tool).

Limits of cryptogen that make the match approximate: users are a count (``User1@…``), not
names; a peer organisation cannot hold orderers, so orderers of an org that also runs peers
are emitted as an extra orderer org with the same domain (its own CAs); P-384 does not exist
in cryptogen (emitted as the default ECDSA P-256); Ed25519 needs cryptogen from Fabric 3.
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml

from pki.spec import NodeSpec, OrgSpec, PKIOptions


def _node(node: NodeSpec, algorithm: str | None) -> dict[str, object]:
    spec: dict[str, object] = {"Hostname": node.short_name, "CommonName": node.name}
    if node.sans:
        spec["SANS"] = list(node.sans)
    if algorithm:
        spec["PublicKeyAlgorithm"] = algorithm
    return spec


def _org(
    org: OrgSpec, nodes: list[NodeSpec], *, users: int, algorithm: str | None
) -> dict[str, object]:
    entry: dict[str, object] = {"Name": org.name, "Domain": org.domain, "EnableNodeOUs": True}
    if algorithm:
        entry["CA"] = {"PublicKeyAlgorithm": algorithm}
    entry["Specs"] = [_node(n, algorithm) for n in nodes]
    if users:
        users_spec: dict[str, object] = {"Count": users}
        if algorithm:
            users_spec["PublicKeyAlgorithm"] = algorithm
        entry["Users"] = users_spec
    return entry


def crypto_config(orgs: Sequence[OrgSpec], options: PKIOptions | None = None) -> str:
    """The YAML text of a crypto-config.yaml covering ``orgs`` (see module limits)."""
    options = options or PKIOptions()
    algorithm = "ed25519" if options.key_algorithm == "Ed25519" else None
    peer_orgs: list[dict[str, object]] = []
    orderer_orgs: list[dict[str, object]] = []
    for org in orgs:
        peers = [n for n in org.nodes if n.role == "peer"]
        orderers = [n for n in org.nodes if n.role == "orderer"]
        if peers:
            peer_orgs.append(_org(org, peers, users=len(org.users), algorithm=algorithm))
        if orderers:
            users = 0 if peers else len(org.users)
            orderer_orgs.append(_org(org, orderers, users=users, algorithm=algorithm))
    doc = {"OrdererOrgs": orderer_orgs, "PeerOrgs": peer_orgs}
    return yaml.safe_dump(doc, sort_keys=False)
