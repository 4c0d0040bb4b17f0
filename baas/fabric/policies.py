"""Fabric policies as protobufs: signature-policy expressions compiled the way Fabric's
``policydsl`` compiles them, chaincode validation parameters (``ApplicationPolicy``) and
private data collections (``CollectionConfigPackage``)."""

from __future__ import annotations

from collections.abc import Sequence

from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import collection_pb2, policy_pb2
from google.protobuf.message import DecodeError

from baas.plan import CollectionPlan
from topology.policy import Gate, Principal, parse

_ROLES = {
    "member": msp_principal_pb2.MSPRole.MSPRoleType.MEMBER,
    "admin": msp_principal_pb2.MSPRole.MSPRoleType.ADMIN,
    "client": msp_principal_pb2.MSPRole.MSPRoleType.CLIENT,
    "peer": msp_principal_pb2.MSPRole.MSPRoleType.PEER,
    "orderer": msp_principal_pb2.MSPRole.MSPRoleType.ORDERER,
}


def _principal(principal: Principal) -> msp_principal_pb2.MSPPrincipal:
    role = msp_principal_pb2.MSPRole(msp_identifier=principal.msp_id, role=_ROLES[principal.role])
    return msp_principal_pb2.MSPPrincipal(
        principal_classification=msp_principal_pb2.MSPPrincipal.Classification.ROLE,
        principal=role.SerializeToString(),
    )


def signature_policy(expression: str) -> policies_pb2.SignaturePolicyEnvelope:
    """``AND('Org1MSP.peer', …)`` as a ``SignaturePolicyEnvelope``: every principal occurrence
    gets its own identity entry, in order of appearance, as ``policydsl.FromString`` does.
    Raises ``topology.policy.PolicySyntaxError`` for an expression that does not parse."""
    identities: list[msp_principal_pb2.MSPPrincipal] = []

    def compile_rule(rule: Gate | Principal) -> policies_pb2.SignaturePolicy:
        if isinstance(rule, Principal):
            identities.append(_principal(rule))
            return policies_pb2.SignaturePolicy(signed_by=len(identities) - 1)
        return policies_pb2.SignaturePolicy(
            n_out_of=policies_pb2.SignaturePolicy.NOutOf(
                n=rule.n, rules=[compile_rule(r) for r in rule.rules]
            )
        )

    gate = parse(expression)
    rule = compile_rule(gate)
    return policies_pb2.SignaturePolicyEnvelope(version=0, rule=rule, identities=identities)


def validation_parameter(endorsement: str, *, is_reference: bool) -> bytes:
    """A chaincode definition's ``validation_parameter``: a reference to a channel policy
    (``/Channel/Application/Endorsement``) or a compiled signature policy."""
    if is_reference:
        policy = policy_pb2.ApplicationPolicy(channel_config_policy_reference=endorsement)
    else:
        policy = policy_pb2.ApplicationPolicy(signature_policy=signature_policy(endorsement))
    return policy.SerializeToString()  # type: ignore[no-any-return]


def collection_package(collections: Sequence[CollectionPlan]) -> bytes:
    """A definition's ``collections``: a serialised ``CollectionConfigPackage`` holding one
    ``StaticCollectionConfig`` per collection, in order, as ``peer lifecycle chaincode
    approveformyorg --collections-config`` builds it (member policy and signature endorsement
    policies compiled by :func:`signature_policy`). No collections: ``b""`` (the field is then
    left out of the definition, as the peer CLI leaves it)."""
    if not collections:
        return b""
    configs = []
    for found in collections:
        endorsement = None
        if found.endorsement is not None:
            endorsement = policy_pb2.ApplicationPolicy(
                signature_policy=signature_policy(found.endorsement)
            )
        elif found.endorsement_reference is not None:
            endorsement = policy_pb2.ApplicationPolicy(
                channel_config_policy_reference=found.endorsement_reference
            )
        static = collection_pb2.StaticCollectionConfig(
            name=found.name,
            member_orgs_policy=collection_pb2.CollectionPolicyConfig(
                signature_policy=signature_policy(found.policy)
            ),
            required_peer_count=found.required_peer_count,
            maximum_peer_count=found.max_peer_count,
            block_to_live=found.block_to_live,
            member_only_read=found.member_only_read,
            member_only_write=found.member_only_write,
            endorsement_policy=endorsement,
        )
        configs.append(collection_pb2.CollectionConfig(static_collection_config=static))
    package = collection_pb2.CollectionConfigPackage(config=configs)
    return package.SerializeToString()  # type: ignore[no-any-return]


def describe_collections(package: bytes) -> list[dict[str, object]]:
    """A definition's ``collections`` as the topology writes them: one mapping per collection
    (``name``, ``policy`` as an expression, ``requiredPeerCount``, ``maxPeerCount``,
    ``blockToLive``, ``memberOnlyRead``, ``memberOnlyWrite`` and, when set,
    ``endorsementPolicy``). Unreadable bytes read as no collections."""
    try:
        found = collection_pb2.CollectionConfigPackage.FromString(package)
    except DecodeError:
        return []
    described: list[dict[str, object]] = []
    for config in found.config:
        static = config.static_collection_config
        entry: dict[str, object] = {
            "name": static.name,
            "policy": _envelope_text(static.member_orgs_policy.signature_policy),
            "requiredPeerCount": static.required_peer_count,
            "maxPeerCount": static.maximum_peer_count,
            "blockToLive": static.block_to_live,
            "memberOnlyRead": static.member_only_read,
            "memberOnlyWrite": static.member_only_write,
        }
        if static.HasField("endorsement_policy"):
            entry["endorsementPolicy"] = describe(static.endorsement_policy.SerializeToString())
        described.append(entry)
    return described


_ROLE_NAMES = {value: name for name, value in _ROLES.items()}


def describe(validation: bytes) -> str:
    """A definition's ``validation_parameter`` as the topology writes it: the channel policy
    it refers to (``/Channel/Application/Endorsement``), or the signature policy as an
    expression (``AND('Org1MSP.peer','Org2MSP.peer')``; ``OR`` for one of several,
    ``OutOf(n, …)`` otherwise). An unreadable parameter reads ``(unreadable policy)``."""
    try:
        policy = policy_pb2.ApplicationPolicy.FromString(validation)
    except DecodeError:
        return "(unreadable policy)"
    if policy.WhichOneof("Type") == "channel_config_policy_reference":
        return str(policy.channel_config_policy_reference)
    return _envelope_text(policy.signature_policy)


def _envelope_text(envelope: policies_pb2.SignaturePolicyEnvelope) -> str:
    names = [_principal_text(p) for p in envelope.identities]
    return _rule_text(envelope.rule, names)


def _principal_text(principal: msp_principal_pb2.MSPPrincipal) -> str:
    if principal.principal_classification != msp_principal_pb2.MSPPrincipal.Classification.ROLE:
        return "'(identity)'"
    role = msp_principal_pb2.MSPRole.FromString(principal.principal)
    return f"'{role.msp_identifier}.{_ROLE_NAMES.get(role.role, 'member')}'"


def _rule_text(rule: policies_pb2.SignaturePolicy, names: list[str]) -> str:
    if rule.WhichOneof("Type") == "signed_by":
        return names[rule.signed_by] if rule.signed_by < len(names) else "'(unknown)'"
    parts = [_rule_text(r, names) for r in rule.n_out_of.rules]
    n = rule.n_out_of.n
    if n == len(parts):
        return f"AND({','.join(parts)})"
    if n == 1:
        return f"OR({','.join(parts)})"
    return f"OutOf({n},{','.join(parts)})"
