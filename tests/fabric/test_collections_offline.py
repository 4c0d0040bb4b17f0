"""Private data collections as Fabric reads them, without a network: the
``CollectionConfigPackage`` a definition carries, and that a changed collection set is a
different definition (an upgrade) while the same one is no change."""

from __future__ import annotations

import dataclasses

from fabric_protos.common import policies_pb2
from fabric_protos.msp import msp_principal_pb2
from fabric_protos.peer import collection_pb2, policy_pb2

from baas.fabric import lifecycle, policies
from baas.plan import CollectionPlan

ORG1 = CollectionPlan(
    name="org1Private",
    policy="OR('Org1MSP.member')",
    required_peer_count=0,
    max_peer_count=1,
    block_to_live=10,
    member_only_read=True,
    member_only_write=True,
    endorsement="OR('Org1MSP.peer')",
)
SHARED = CollectionPlan(
    name="shared",
    policy="OR('Org1MSP.member','Org2MSP.member')",
    endorsement_reference="/Channel/Application/Endorsement",
)


def _definition(collections: bytes, sequence: int = 1) -> lifecycle.Definition:
    return lifecycle.Definition(
        name="basic",
        version="1.0",
        sequence=sequence,
        validation_parameter=policies.validation_parameter(
            "/Channel/Application/Endorsement", is_reference=True
        ),
        init_required=False,
        collections=collections,
    )


def test_no_collections_is_no_field() -> None:
    assert policies.collection_package([]) == b""
    fields = lifecycle._definition_fields(_definition(b""))
    assert "collections" not in fields


def test_package_holds_each_collection_as_peer_lifecycle_builds_it() -> None:
    package = collection_pb2.CollectionConfigPackage.FromString(
        policies.collection_package([ORG1, SHARED])
    )
    first, second = (c.static_collection_config for c in package.config)
    assert first.name == "org1Private"
    assert (first.required_peer_count, first.maximum_peer_count, first.block_to_live) == (0, 1, 10)
    assert first.member_only_read and first.member_only_write
    member = first.member_orgs_policy.signature_policy
    assert member == policies.signature_policy("OR('Org1MSP.member')")
    role = msp_principal_pb2.MSPRole.FromString(member.identities[0].principal)
    assert (role.msp_identifier, role.role) == ("Org1MSP", msp_principal_pb2.MSPRole.MEMBER)
    assert member.rule.n_out_of.n == 1
    assert first.endorsement_policy == policy_pb2.ApplicationPolicy(
        signature_policy=policies.signature_policy("OR('Org1MSP.peer')")
    )
    assert second.endorsement_policy.channel_config_policy_reference == (
        "/Channel/Application/Endorsement"
    )
    assert not second.member_only_read
    assert isinstance(member, policies_pb2.SignaturePolicyEnvelope)


def test_definition_fields_carry_the_package_message() -> None:
    raw = policies.collection_package([ORG1])
    fields = lifecycle._definition_fields(_definition(raw))
    assert fields["collections"] == collection_pb2.CollectionConfigPackage.FromString(raw)


def test_same_collections_are_the_same_terms_whatever_the_encoding() -> None:
    raw = policies.collection_package([ORG1, SHARED])
    # what a peer answers, parsed and serialised again, is the same definition
    again = collection_pb2.CollectionConfigPackage.FromString(raw).SerializeToString()
    assert _definition(raw).same_terms(_definition(again, sequence=4))
    # an empty package read back from a peer equals none
    empty = collection_pb2.CollectionConfigPackage().SerializeToString()
    assert _definition(b"").same_terms(_definition(empty))


def test_a_changed_collection_set_is_an_upgrade() -> None:
    base = _definition(policies.collection_package([ORG1]))
    added = _definition(policies.collection_package([ORG1, SHARED]))
    wider = _definition(
        policies.collection_package(
            [dataclasses.replace(ORG1, policy="OR('Org1MSP.member','Org2MSP.member')")]
        )
    )
    assert not base.same_terms(added)
    assert not base.same_terms(wider)
    assert not base.same_terms(_definition(b""))


def test_describe_collections_reads_them_back_as_the_topology_writes_them() -> None:
    described = policies.describe_collections(policies.collection_package([ORG1, SHARED]))
    assert described[0] == {
        "name": "org1Private",
        "policy": "AND('Org1MSP.member')",  # one of one
        "requiredPeerCount": 0,
        "maxPeerCount": 1,
        "blockToLive": 10,
        "memberOnlyRead": True,
        "memberOnlyWrite": True,
        "endorsementPolicy": "AND('Org1MSP.peer')",
    }
    assert described[1]["policy"] == "OR('Org1MSP.member','Org2MSP.member')"
    assert described[1]["endorsementPolicy"] == "/Channel/Application/Endorsement"
    assert policies.describe_collections(b"\xff\xff") == []
