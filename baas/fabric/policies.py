"""Fabric policies as protobufs: signature-policy expressions compiled the way Fabric's
``policydsl`` compiles them, and chaincode validation parameters (``ApplicationPolicy``)."""

from __future__ import annotations

from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import policy_pb2
from google.protobuf.message import DecodeError

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
    envelope = policy.signature_policy
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
