"""Chaincode lifecycle through the peers' ``_lifecycle`` system chaincode (Fabric 2.x/3.x):
install, query installed, approve for my organisation, check commit readiness, commit, query
committed — one function each, like hyperledger/fabric-admin-sdk's ``pkg/chaincode``.

Approvals and commits are transactions: endorsed by the peers given, then submitted and waited
for through the first peer's Gateway (:mod:`baas.fabric.gateway`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fabric_protos.peer import collection_pb2, proposal_response_pb2
from fabric_protos.peer.lifecycle import lifecycle_pb2

from baas.fabric import errors, gateway, proposals
from baas.fabric.identity import SigningIdentity
from baas.fabric.peer import Peer

LIFECYCLE = "_lifecycle"
ENDORSEMENT_PLUGIN = "escc"
VALIDATION_PLUGIN = "vscc"
INSTALL_TIMEOUT = 300.0


@dataclass(frozen=True)
class Definition:
    """A chaincode definition as the channel agrees on it (everything but the package).
    ``collections``: its private data collections, a serialised ``CollectionConfigPackage``
    (:func:`baas.fabric.policies.collection_package`; ``b""``: none)."""

    name: str
    version: str
    sequence: int
    validation_parameter: bytes
    init_required: bool
    endorsement_plugin: str = ENDORSEMENT_PLUGIN
    validation_plugin: str = VALIDATION_PLUGIN
    collections: bytes = b""

    def same_terms(self, other: Definition) -> bool:
        """Equal in everything but the sequence (so no upgrade is needed). Collections are
        compared as messages (a package Fabric serialised and the same one built here are
        the same terms)."""
        return (
            self.name == other.name
            and self.version == other.version
            and self.validation_parameter == other.validation_parameter
            and self.init_required == other.init_required
            and self.endorsement_plugin == other.endorsement_plugin
            and self.validation_plugin == other.validation_plugin
            and _collections(self.collections) == _collections(other.collections)
        )


def _collections(package: bytes) -> collection_pb2.CollectionConfigPackage:
    return collection_pb2.CollectionConfigPackage.FromString(package)


def _call(
    peer: Peer,
    admin: SigningIdentity,
    *,
    channel: str,
    function: str,
    message: bytes,
    action: str,
    timeout: float = gateway.TIMEOUT,
) -> tuple[proposals.Proposal, proposal_response_pb2.ProposalResponse]:
    """Send one ``_lifecycle`` proposal to ``peer``; returns it with the peer's response."""
    proposal = proposals.chaincode_proposal(
        admin, channel=channel, chaincode=LIFECYCLE, args=[function.encode(), message]
    )
    return proposal, peer.endorse(proposal, action=action, timeout=timeout)


def install(peer: Peer, admin: SigningIdentity, package: bytes) -> str:
    """Install ``package`` (a chaincode package's bytes) on ``peer``; returns its package ID."""
    args = lifecycle_pb2.InstallChaincodeArgs(chaincode_install_package=package)
    _, response = _call(
        peer,
        admin,
        channel="",
        function="InstallChaincode",
        message=args.SerializeToString(),
        action=f"install a chaincode package on {peer.target.name}",
        timeout=INSTALL_TIMEOUT,
    )
    return str(
        lifecycle_pb2.InstallChaincodeResult.FromString(response.response.payload).package_id
    )


def installed(peer: Peer, admin: SigningIdentity) -> dict[str, str]:
    """Package ID → label of every package installed on ``peer``."""
    args = lifecycle_pb2.QueryInstalledChaincodesArgs()
    _, response = _call(
        peer,
        admin,
        channel="",
        function="QueryInstalledChaincodes",
        message=args.SerializeToString(),
        action=f"list the chaincodes installed on {peer.target.name}",
    )
    result = lifecycle_pb2.QueryInstalledChaincodesResult.FromString(response.response.payload)
    return {c.package_id: c.label for c in result.installed_chaincodes}


def _definition_fields(definition: Definition) -> dict[str, object]:
    fields: dict[str, object] = {
        "sequence": definition.sequence,
        "name": definition.name,
        "version": definition.version,
        "endorsement_plugin": definition.endorsement_plugin,
        "validation_plugin": definition.validation_plugin,
        "validation_parameter": definition.validation_parameter,
        "init_required": definition.init_required,
    }
    if definition.collections:
        fields["collections"] = _collections(definition.collections)
    return fields


def approve(
    peer: Peer,
    admin: SigningIdentity,
    *,
    channel: str,
    definition: Definition,
    package_id: str,
) -> gateway.Committed:
    """Approve ``definition`` for the admin's organisation, pointing it at ``package_id``; the
    approval transaction is endorsed by ``peer`` (of the same organisation) and committed."""
    args = lifecycle_pb2.ApproveChaincodeDefinitionForMyOrgArgs(
        **_definition_fields(definition),
        source=lifecycle_pb2.ChaincodeSource(
            local_package=lifecycle_pb2.ChaincodeSource.Local(package_id=package_id)
        ),
    )
    action = (
        f"approve {definition.name} {definition.version} (sequence {definition.sequence}) "
        f"on {channel} for {admin.msp_id}"
    )
    proposal, response = _call(
        peer,
        admin,
        channel=channel,
        function="ApproveChaincodeDefinitionForMyOrg",
        message=args.SerializeToString(),
        action=action,
    )
    return gateway.submit_and_wait(peer, admin, proposal, [response], action=action)


def _submit(
    via: Peer,
    identity: SigningIdentity,
    proposal: proposals.Proposal,
    endorsers: Sequence[Peer],
    *,
    action: str,
) -> gateway.Committed:
    responses = [p.endorse(proposal, action=action) for p in endorsers]
    return gateway.submit_and_wait(via, identity, proposal, list(responses), action=action)


def commit_readiness(
    peer: Peer, admin: SigningIdentity, *, channel: str, definition: Definition
) -> dict[str, bool]:
    """MSP ID → whether that organisation has approved exactly ``definition``."""
    args = lifecycle_pb2.CheckCommitReadinessArgs(**_definition_fields(definition))
    _, response = _call(
        peer,
        admin,
        channel=channel,
        function="CheckCommitReadiness",
        message=args.SerializeToString(),
        action=f"check commit readiness of {definition.name} on {channel}",
    )
    result = lifecycle_pb2.CheckCommitReadinessResult.FromString(response.response.payload)
    return dict(result.approvals)


def commit(
    endorsers: Sequence[Peer],
    admin: SigningIdentity,
    *,
    channel: str,
    definition: Definition,
) -> gateway.Committed:
    """Commit ``definition`` on ``channel``, endorsed by ``endorsers`` (enough organisations'
    peers to satisfy the channel's LifecycleEndorsement policy) and submitted through the first."""
    if not endorsers:
        raise ValueError("commit needs at least one endorsing peer")
    args = lifecycle_pb2.CommitChaincodeDefinitionArgs(**_definition_fields(definition))
    action = (
        f"commit {definition.name} {definition.version} (sequence {definition.sequence}) "
        f"on {channel}"
    )
    proposal = proposals.chaincode_proposal(
        admin,
        channel=channel,
        chaincode=LIFECYCLE,
        args=[b"CommitChaincodeDefinition", args.SerializeToString()],
    )
    return _submit(endorsers[0], admin, proposal, endorsers, action=action)


def approved_package(
    peer: Peer, admin: SigningIdentity, *, channel: str, name: str, sequence: int
) -> str | None:
    """The package ID the admin's organisation approved for ``name`` at ``sequence``
    (``""`` when approved without a package), or ``None`` when it has not approved it."""
    args = lifecycle_pb2.QueryApprovedChaincodeDefinitionArgs(name=name, sequence=sequence)
    try:
        _, response = _call(
            peer,
            admin,
            channel=channel,
            function="QueryApprovedChaincodeDefinition",
            message=args.SerializeToString(),
            action=f"read {admin.msp_id}'s approval of {name} on {channel}",
        )
    except errors.FabricError as exc:
        if "could not fetch approved chaincode definition" in exc.message:
            return None
        raise
    result = lifecycle_pb2.QueryApprovedChaincodeDefinitionResult.FromString(
        response.response.payload
    )
    return str(result.source.local_package.package_id)


def committed(peer: Peer, admin: SigningIdentity, *, channel: str, name: str) -> Definition | None:
    """The committed definition of chaincode ``name`` on ``channel``, or ``None``."""
    args = lifecycle_pb2.QueryChaincodeDefinitionArgs(name=name)
    try:
        _, response = _call(
            peer,
            admin,
            channel=channel,
            function="QueryChaincodeDefinition",
            message=args.SerializeToString(),
            action=f"read the definition of {name} on {channel}",
        )
    except errors.FabricError as exc:
        # Fabric's answer for a name without a definition: "status 404: namespace X is not
        # defined". Anything else (an unjoined channel is "500: channel 'x' not found") is an
        # error, not an absent definition.
        if f"namespace {name} is not defined" in exc.message:
            return None
        raise
    result = lifecycle_pb2.QueryChaincodeDefinitionResult.FromString(response.response.payload)
    return _definition(name, result)


def _definition(name: str, found: Any) -> Definition:
    """A :class:`Definition` from a committed-definition message of the lifecycle SCC."""
    return Definition(
        name=name,
        version=found.version,
        sequence=int(found.sequence),
        validation_parameter=bytes(found.validation_parameter),
        init_required=bool(found.init_required),
        endorsement_plugin=found.endorsement_plugin,
        validation_plugin=found.validation_plugin,
        collections=found.collections.SerializeToString(),
    )


def committed_all(peer: Peer, admin: SigningIdentity, *, channel: str) -> list[Definition]:
    """Every committed chaincode definition on ``channel`` (sorted by name)."""
    args = lifecycle_pb2.QueryChaincodeDefinitionsArgs()
    _, response = _call(
        peer,
        admin,
        channel=channel,
        function="QueryChaincodeDefinitions",
        message=args.SerializeToString(),
        action=f"list the chaincodes committed on {channel}",
    )
    result = lifecycle_pb2.QueryChaincodeDefinitionsResult.FromString(response.response.payload)
    return sorted(
        (_definition(d.name, d) for d in result.chaincode_definitions), key=lambda d: d.name
    )
