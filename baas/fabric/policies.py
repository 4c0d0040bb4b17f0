"""Fabric policies as protobufs: signature-policy expressions compiled the way Fabric's
``policydsl`` compiles them, and chaincode validation parameters (``ApplicationPolicy``)."""

from __future__ import annotations

from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import policy_pb2

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
