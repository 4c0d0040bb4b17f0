"""baas's Fabric admin client (``baas/fabric``) without any Fabric node.

What Fabric requires of a client is checked with independent means: signatures are verified
with ``cryptography`` against the certificate decoded from the message itself, transaction IDs
are recomputed from the decoded headers, the Gateway's error trailer is written byte by byte in
the protobuf wire format, and the channel participation client talks to a real HTTPS server
that demands a client certificate. Identities come from a real MSP tree issued by
:func:`pki.generate` (see :mod:`tests.support.adminpki`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import grpc
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.common import common_pb2, policies_pb2
from fabric_protos.gateway import gateway_pb2
from fabric_protos.msp import identities_pb2, msp_principal_pb2
from fabric_protos.peer import (
    chaincode_pb2,
    policy_pb2,
    proposal_pb2,
    proposal_response_pb2,
    transaction_pb2,
)

from baas.errors import UsageError
from baas.fabric import errors, gateway, osnadmin, policies, proposals
from baas.fabric.connection import Connections, NodeTarget
from baas.fabric.identity import SigningIdentity, TLSClient
from baas.fabric.peer import Peer
from pki.keys import load_private_key
from pki.lowsig import CURVE_ORDERS
from pki.spec import KeyAlgorithm
from tests.support.adminpki import Tree, issue_tree
from tests.support.localservers import (
    AdminServer,
    FailingGrpcServer,
    Failure,
    Reply,
    free_port,
    multipart_parts,
)
from topology.policy import PolicySyntaxError

ALGORITHMS: tuple[KeyAlgorithm, ...] = ("P-256", "P-384", "Ed25519")
ITERATIONS = 200
"""Signatures per ECDSA curve: a raw ECDSA signature has high S half of the time, so a missing
normalisation goes unnoticed with probability 2**-200."""
Role = msp_principal_pb2.MSPRole.MSPRoleType


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[KeyAlgorithm, Tree]:
    """One MSP tree per key algorithm."""
    return {alg: issue_tree(tmp_path_factory.mktemp(f"crypto-{alg}"), alg) for alg in ALGORITHMS}


@pytest.fixture
def tree(trees: dict[KeyAlgorithm, Tree]) -> Tree:
    """The P-256 tree (what baas issues by default)."""
    return trees["P-256"]


def _public_key(cert_pem: bytes) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    return key


def _verifies(cert_pem: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` over ``message`` verifies the way Fabric verifies it: ECDSA over
    SHA-256 whatever the curve, Ed25519 over the message itself."""
    key = _public_key(cert_pem)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


ALICE = "alice@org1.example.com"


def _signer(tree: Tree) -> SigningIdentity:
    """A client identity of org1: its key has the tree's algorithm (admins and TLS pairs stay
    P-256 in an Ed25519 tree, as cryptogen issues them)."""
    return tree.identity("org1", ALICE)


def _creator_cert(creator: bytes) -> bytes:
    """The certificate PEM inside a serialised ``msp.SerializedIdentity``."""
    return identities_pb2.SerializedIdentity.FromString(creator).id_bytes  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------ identity


@pytest.mark.parametrize("algorithm", ["P-256", "P-384"])
def test_ecdsa_signatures_are_low_s_der_over_sha256(
    trees: dict[KeyAlgorithm, Tree], algorithm: KeyAlgorithm
) -> None:
    """Every ECDSA signature is canonical DER with ``s <= n/2`` and verifies over SHA-256 of
    the message (Fabric's rule on P-384 too), ``ITERATIONS`` times."""
    identity = _signer(trees[algorithm])
    key = _public_key(identity.cert_pem)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    order = CURVE_ORDERS[key.curve.name]
    for i in range(ITERATIONS):
        message = os.urandom(40) + i.to_bytes(2, "big")
        signature = identity.sign(message)
        r, s = decode_dss_signature(signature)
        assert 0 < s <= order // 2, f"high S at iteration {i}"
        assert encode_dss_signature(r, s) == signature, "not canonical DER"
        assert _verifies(identity.cert_pem, signature, message)
        assert not _verifies(identity.cert_pem, signature, message + b"x")


def test_ed25519_signs_the_raw_message(trees: dict[KeyAlgorithm, Tree]) -> None:
    """Ed25519 signs the message itself, not a digest of it."""
    identity = _signer(trees["Ed25519"])
    key = _public_key(identity.cert_pem)
    assert isinstance(key, ed25519.Ed25519PublicKey)
    message = os.urandom(100)
    signature = identity.sign(message)
    assert len(signature) == 64
    key.verify(signature, message)
    with pytest.raises(InvalidSignature):
        key.verify(signature, hashlib.sha256(message).digest())


def _key_material(msp: Path) -> list[str]:
    """Strings that would betray the private key in ``msp``'s keystore."""
    [key_file] = list((msp / "keystore").iterdir())
    pem = key_file.read_bytes()
    key = load_private_key(pem, source=str(key_file))
    body = [line for line in pem.decode().splitlines() if line and not line.startswith("-")]
    raw = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    found = [*body, raw.hex(), "PRIVATE"]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        value = key.private_numbers().private_value
        found += [str(value), f"{value:x}"]
    else:
        found.append(
            key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            ).hex()
        )
    return found


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_repr_never_shows_key_bytes(
    trees: dict[KeyAlgorithm, Tree], algorithm: KeyAlgorithm
) -> None:
    """``repr`` of a signing identity and of a TLS client pair names the holder, never key
    material (PEM lines, DER, the private scalar)."""
    tree = trees[algorithm]
    admin = tree.admin("org1")
    identity = _signer(tree)
    shown = repr(identity)
    assert "Org1MSP" in shown and ALICE in shown
    for secret in _key_material(tree.user("org1", ALICE).msp):
        assert secret not in shown
        assert secret not in str([identity])
    tls = TLSClient.from_files(admin.tls_cert, admin.tls_key)
    tls_body = [ln for ln in tls.key_pem.decode().splitlines() if ln and not ln.startswith("-")]
    for line in tls_body:
        assert line not in repr(tls)


def test_identity_loads_signcert_and_serializes(tree: Tree) -> None:
    """``from_msp_dir`` reads the signcert; ``serialize`` is the SerializedIdentity Fabric
    reads (MSP ID + that certificate)."""
    paths = tree.user("org1", ALICE)
    identity = SigningIdentity.from_msp_dir("Org1MSP", paths.msp)
    assert identity.cert_pem == paths.sign_cert.read_bytes()
    decoded = identities_pb2.SerializedIdentity.FromString(identity.serialize())
    assert (decoded.mspid, decoded.id_bytes) == ("Org1MSP", paths.sign_cert.read_bytes())


def _copy_msp(tree: Tree, dest: Path) -> Path:
    msp = dest / "msp"
    shutil.copytree(tree.admin("org1").msp, msp)
    return msp


@pytest.mark.parametrize("emptied", ["signcerts", "keystore", None])
def test_from_msp_dir_errors_name_the_folder(
    tree: Tree, tmp_path: Path, emptied: str | None
) -> None:
    """A missing MSP, or one without a signcert or a key, is a UsageError naming the folder."""
    if emptied is None:
        msp = tmp_path / "nowhere" / "msp"
    else:
        msp = _copy_msp(tree, tmp_path)
        for file in (msp / emptied).iterdir():
            file.unlink()
    with pytest.raises(UsageError) as caught:
        SigningIdentity.from_msp_dir("Org1MSP", msp)
    assert str(msp) in caught.value.message


def test_unreadable_key_is_named_not_quoted(tree: Tree, tmp_path: Path) -> None:
    """A damaged key file is named in the error; its content is not repeated."""
    msp = _copy_msp(tree, tmp_path)
    [key_file] = list((msp / "keystore").iterdir())
    key_file.write_text(
        "-----BEGIN PRIVATE KEY-----\nQUJDREVGR0hJSktM\n-----END PRIVATE KEY-----\n"
    )
    with pytest.raises(UsageError) as caught:
        SigningIdentity.from_msp_dir("Org1MSP", msp)
    assert str(key_file) in caught.value.message
    assert "QUJDREVGR0hJSktM" not in str(caught.value)


def test_tls_client_names_a_missing_file(tree: Tree, tmp_path: Path) -> None:
    admin = tree.admin("org1")
    missing = tmp_path / "client.key"
    with pytest.raises(UsageError) as caught:
        TLSClient.from_files(admin.tls_cert, missing)
    assert str(missing) in caught.value.message


# ------------------------------------------------------------------------------ proposals


def _decoded_headers(
    proposal: proposals.Proposal,
) -> tuple[common_pb2.ChannelHeader, common_pb2.SignatureHeader]:
    hdr = common_pb2.Header.FromString(proposal.proposal.header)
    return (
        common_pb2.ChannelHeader.FromString(hdr.channel_header),
        common_pb2.SignatureHeader.FromString(hdr.signature_header),
    )


def _sample_proposal(identity: SigningIdentity) -> proposals.Proposal:
    return proposals.chaincode_proposal(
        identity,
        channel="mychannel",
        chaincode="basic",
        args=[b"CreateAsset", b"asset-1", b"blue"],
        transient={"secret": b"s3cr3t"},
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_proposal_tx_id_and_signature(
    trees: dict[KeyAlgorithm, Tree], algorithm: KeyAlgorithm
) -> None:
    """The transaction ID is SHA-256(nonce || creator) of the decoded signature header, the
    channel header carries it, and the signed proposal verifies against the certificate of the
    creator named inside it."""
    identity = _signer(trees[algorithm])
    proposal = _sample_proposal(identity)
    channel_hdr, signature_hdr = _decoded_headers(proposal)
    recomputed = hashlib.sha256(signature_hdr.nonce + signature_hdr.creator).hexdigest()
    assert proposal.tx_id == channel_hdr.tx_id == recomputed
    assert len(signature_hdr.nonce) == proposals.NONCE_SIZE
    assert signature_hdr.creator == identity.serialize()
    assert channel_hdr.channel_id == "mychannel"
    assert channel_hdr.type == common_pb2.HeaderType.ENDORSER_TRANSACTION
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_hdr.extension)
    assert extension.chaincode_id.name == "basic"

    signed = proposal.signed
    assert proposal_pb2.Proposal.FromString(signed.proposal_bytes) == proposal.proposal
    cert = _creator_cert(signature_hdr.creator)
    assert _verifies(cert, signed.signature, signed.proposal_bytes)
    assert not _verifies(cert, signed.signature, signed.proposal_bytes[:-1])


def test_proposal_payload_and_fresh_nonces(tree: Tree) -> None:
    """The payload holds the invocation spec and the transient map; two proposals never share a
    nonce or a transaction ID."""
    identity = tree.identity("org1")
    first, second = _sample_proposal(identity), _sample_proposal(identity)
    payload = proposal_pb2.ChaincodeProposalPayload.FromString(first.proposal.payload)
    spec = chaincode_pb2.ChaincodeInvocationSpec.FromString(payload.input)
    assert list(spec.chaincode_spec.input.args) == [b"CreateAsset", b"asset-1", b"blue"]
    assert spec.chaincode_spec.chaincode_id.name == "basic"
    assert dict(payload.TransientMap) == {"secret": b"s3cr3t"}
    assert first.tx_id != second.tx_id
    assert _decoded_headers(first)[1].nonce != _decoded_headers(second)[1].nonce


def _response(payload: bytes, endorser: bytes) -> proposal_response_pb2.ProposalResponse:
    return proposal_response_pb2.ProposalResponse(
        version=1,
        response=proposal_response_pb2.Response(status=200),
        payload=payload,
        endorsement=proposal_response_pb2.Endorsement(
            endorser=endorser, signature=b"sig-" + endorser
        ),
    )


def test_transaction_envelope_strips_transient_and_signs(tree: Tree) -> None:
    """The transaction carries the proposal's header, its input without the transient map,
    every endorsement and the common response payload, and is signed by the creator."""
    identity = tree.identity("org1")
    proposal = _sample_proposal(identity)
    responses = [_response(b"same result", b"peer-a"), _response(b"same result", b"peer-b")]
    envelope = proposals.transaction_envelope(identity, proposal, responses)

    assert _verifies(identity.cert_pem, envelope.signature, envelope.payload)
    payload = common_pb2.Payload.FromString(envelope.payload)
    assert payload.header == common_pb2.Header.FromString(proposal.proposal.header)
    transaction = transaction_pb2.Transaction.FromString(payload.data)
    [action] = transaction.actions
    assert action.header == payload.header.signature_header
    action_payload = transaction_pb2.ChaincodeActionPayload.FromString(action.payload)
    stripped = proposal_pb2.ChaincodeProposalPayload.FromString(
        action_payload.chaincode_proposal_payload
    )
    original = proposal_pb2.ChaincodeProposalPayload.FromString(proposal.proposal.payload)
    assert dict(original.TransientMap), "the sample proposal has a transient map"
    assert dict(stripped.TransientMap) == {}
    assert stripped.input == original.input
    assert b"s3cr3t" not in envelope.payload
    assert action_payload.action.proposal_response_payload == b"same result"
    assert list(action_payload.action.endorsements) == [r.endorsement for r in responses]


def test_transaction_envelope_refuses_diverging_or_no_endorsements(tree: Tree) -> None:
    identity = tree.identity("org1")
    proposal = _sample_proposal(identity)
    diverging = [_response(b"result A", b"peer-a"), _response(b"result B", b"peer-b")]
    with pytest.raises(ValueError, match="different results"):
        proposals.transaction_envelope(identity, proposal, diverging)
    with pytest.raises(ValueError):
        proposals.transaction_envelope(identity, proposal, [])


def test_submit_refuses_diverging_endorsements_as_retryable(tree: Tree) -> None:
    """A peer a block behind the others simulates a different result: the submit is refused
    before anything is sent, as a retryable FabricError (not a traceback) saying what to do."""
    identity = tree.identity("org1")
    proposal = _sample_proposal(identity)
    diverging = [_response(b"result A", b"peer-a"), _response(b"result B", b"peer-b")]
    unused_peer = cast(Peer, object())  # would fail at once if contacted
    with pytest.raises(errors.FabricError, match="different results") as caught:
        gateway.submit_and_wait(
            unused_peer, identity, proposal, list(diverging), action="commit cc on ch"
        )
    assert caught.value.retryable
    assert "behind" in caught.value.hint


def test_non_proposal_header_has_matching_tx_id(tree: Tree) -> None:
    """``header`` (seek requests, config updates) follows the same tx ID rule, and
    ``signed_envelope`` signs its payload."""
    identity = tree.identity("org1")
    raw = proposals.header(
        identity, header_type=common_pb2.HeaderType.DELIVER_SEEK_INFO, channel="c"
    )
    envelope = proposals.signed_envelope(identity, header=raw, data=b"data")
    hdr = common_pb2.Payload.FromString(envelope.payload).header
    channel_hdr = common_pb2.ChannelHeader.FromString(hdr.channel_header)
    signature_hdr = common_pb2.SignatureHeader.FromString(hdr.signature_header)
    assert (
        channel_hdr.tx_id == hashlib.sha256(signature_hdr.nonce + signature_hdr.creator).hexdigest()
    )
    assert channel_hdr.type == common_pb2.HeaderType.DELIVER_SEEK_INFO
    assert _verifies(identity.cert_pem, envelope.signature, envelope.payload)


# ------------------------------------------------------------------------------ policies


def _principals(envelope: policies_pb2.SignaturePolicyEnvelope) -> list[tuple[str, str]]:
    found = []
    for principal in envelope.identities:
        assert principal.principal_classification == msp_principal_pb2.MSPPrincipal.ROLE
        role = msp_principal_pb2.MSPRole.FromString(principal.principal)
        found.append((role.msp_identifier, Role.Name(role.role)))
    return found


def _signed_by(index: int) -> policies_pb2.SignaturePolicy:
    return policies_pb2.SignaturePolicy(signed_by=index)


def _n_of(n: int, *rules: policies_pb2.SignaturePolicy) -> policies_pb2.SignaturePolicy:
    return policies_pb2.SignaturePolicy(
        n_out_of=policies_pb2.SignaturePolicy.NOutOf(n=n, rules=list(rules))
    )


def test_nested_and_or_policy() -> None:
    envelope = policies.signature_policy(
        "AND('Org1MSP.peer', OR('Org2MSP.admin', 'Org3MSP.member'))"
    )
    assert envelope.version == 0
    assert envelope.rule == _n_of(2, _signed_by(0), _n_of(1, _signed_by(1), _signed_by(2)))
    assert _principals(envelope) == [
        ("Org1MSP", "PEER"),
        ("Org2MSP", "ADMIN"),
        ("Org3MSP", "MEMBER"),
    ]


def test_out_of_policy_keeps_every_occurrence() -> None:
    """``OutOf(n, …)`` keeps n; like Fabric's policydsl, a principal written twice gets two
    identity entries."""
    envelope = policies.signature_policy(
        "OutOf(2, 'Org1MSP.member', 'Org2MSP.client', AND('Org1MSP.member', 'Org3MSP.orderer'))"
    )
    assert envelope.rule == _n_of(
        2, _signed_by(0), _signed_by(1), _n_of(2, _signed_by(2), _signed_by(3))
    )
    assert _principals(envelope) == [
        ("Org1MSP", "MEMBER"),
        ("Org2MSP", "CLIENT"),
        ("Org1MSP", "MEMBER"),
        ("Org3MSP", "ORDERER"),
    ]


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "AND(",
        "AND('Org1MSP.peer'",
        "AND('Org1MSP.peer',)",
        "XOR('Org1MSP.peer')",
        "OR('Org1MSP.boss')",
        "OR('Org1MSP')",
        "OutOf(3, 'Org1MSP.peer', 'Org2MSP.peer')",
        "OutOf(0, 'Org1MSP.peer')",
        "OR('Org1MSP.peer') OR('Org2MSP.peer')",
        "AND('Org1MSP.peer'; 'Org2MSP.peer')",
    ],
)
def test_invalid_policies_raise_syntax_errors(expression: str) -> None:
    with pytest.raises(PolicySyntaxError):
        policies.signature_policy(expression)


def test_validation_parameter_reference_and_signature() -> None:
    """A channel-policy reference, or the compiled signature policy, wrapped in an
    ``ApplicationPolicy``."""
    reference = policy_pb2.ApplicationPolicy.FromString(
        policies.validation_parameter("/Channel/Application/Endorsement", is_reference=True)
    )
    assert reference.WhichOneof("Type") == "channel_config_policy_reference"
    assert reference.channel_config_policy_reference == "/Channel/Application/Endorsement"
    expression = "OR('Org1MSP.peer', 'Org2MSP.peer')"
    signature = policy_pb2.ApplicationPolicy.FromString(
        policies.validation_parameter(expression, is_reference=False)
    )
    assert signature.WhichOneof("Type") == "signature_policy"
    assert signature.signature_policy == policies.signature_policy(expression)


# ------------------------------------------------------------------------------ gateway errors


def _wire_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _wire_key(number: int, wire_type: int) -> bytes:
    return _wire_varint(number << 3 | wire_type)


def _wire_bytes(number: int, data: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _wire_key(number, 2) + _wire_varint(len(data)) + data


def _any(type_url: str, value: bytes) -> bytes:
    """``google.protobuf.Any{type_url = 1, value = 2}``."""
    return _wire_bytes(1, type_url.encode()) + _wire_bytes(2, value)


ERROR_DETAIL_URL = "type.googleapis.com/gateway.ErrorDetail"


def _status_details(code: int, message: str, details: list[gateway_pb2.ErrorDetail]) -> bytes:
    """``google.rpc.Status{code = 1, message = 2, repeated Any details = 3}``, written by hand;
    a fixed64 and a fixed32 field (unknown to Status) sit in between, which a reader must
    skip."""
    out = _wire_key(1, 0) + _wire_varint(code) + _wire_bytes(2, message.encode())
    out += _wire_key(7, 1) + struct.pack("<Q", 2**64 - 1) + _wire_key(8, 5) + b"\x03\x02\x02\x01"
    for detail in details:
        out += _wire_bytes(3, _any(ERROR_DETAIL_URL, detail.SerializeToString()))
    return out


DETAILS = [
    gateway_pb2.ErrorDetail(
        address="peer0.org1.example.com:7051",
        msp_id="Org1MSP",
        message="chaincode response 500, the asset asset-1 does not exist",
    ),
    gateway_pb2.ErrorDetail(
        address="peer0.org2.example.com:9051",
        msp_id="Org2MSP",
        message="x" * 300,  # a length that needs a two-byte varint
    ),
]


def test_fields_reads_length_delimited_fields_by_number() -> None:
    raw = _status_details(300, "failed to evaluate", DETAILS)
    anys = gateway._fields(raw, 3)
    assert len(anys) == 2
    assert gateway._fields(raw, 2) == [b"failed to evaluate"]
    for found, detail in zip(anys, DETAILS, strict=True):
        assert gateway._fields(found, 1) == [ERROR_DETAIL_URL.encode()]
        assert gateway_pb2.ErrorDetail.FromString(gateway._fields(found, 2)[0]) == detail
    assert gateway._fields(raw, 9) == []


@pytest.fixture
def grpc_node(tree: Tree) -> Iterator[FailingGrpcServer]:
    """A TLS gRPC server with org1's peer0 certificate that fails every call as told."""
    _, paths = tree.node("org1", "peer")
    with FailingGrpcServer(paths.tls_cert, paths.tls_key) as server:
        yield server


@pytest.fixture
def peer_client(tree: Tree, grpc_node: FailingGrpcServer) -> Iterator[Peer]:
    target = NodeTarget(
        "peer0.org1.example.com", grpc_node.address, tree.tls_ca("org1").read_bytes()
    )
    with Connections() as connections:
        yield Peer(target, connections)


def test_gateway_error_carries_every_peer_message(
    tree: Tree, grpc_node: FailingGrpcServer, peer_client: Peer
) -> None:
    """An Evaluate failing with a ``grpc-status-details-bin`` trailer (as the Gateway sends)
    becomes a FabricError naming each peer, its MSP and its message."""
    raw = _status_details(
        grpc.StatusCode.ABORTED.value[0], "evaluate call to endorser failed", DETAILS
    )
    grpc_node.failure = Failure(
        grpc.StatusCode.ABORTED,
        "evaluate call to endorser failed",
        trailing=[("grpc-status-details-bin", raw)],
    )
    proposal = _sample_proposal(tree.identity("org1"))
    with pytest.raises(errors.FabricError) as caught:
        gateway.evaluate(peer_client, proposal)
    message = caught.value.message
    assert "ABORTED: evaluate call to endorser failed" in message
    assert (
        "; peer0.org1.example.com:7051 (Org1MSP): chaincode response 500, the asset asset-1 "
        "does not exist; peer0.org2.example.com:9051 (Org2MSP): " + "x" * 300
    ) in message
    assert grpc_node.calls, "the server was reached"


def test_gateway_error_without_details(
    tree: Tree, grpc_node: FailingGrpcServer, peer_client: Peer
) -> None:
    """Without the trailer the message is gRPC's alone; a non-call error has no details."""
    grpc_node.failure = Failure(grpc.StatusCode.FAILED_PRECONDITION, "no such channel")
    with pytest.raises(errors.FabricError) as caught:
        gateway.evaluate(peer_client, _sample_proposal(tree.identity("org1")))
    assert caught.value.message.endswith("FAILED_PRECONDITION: no such channel")
    assert gateway._error_details(grpc.RpcError()) == ""


# ------------------------------------------------------------------------------ errors


def _rpc_error(node: FailingGrpcServer, peer: Peer, failure: Failure) -> grpc.RpcError:
    """The error a real gRPC call gets when the server fails with ``failure``."""
    node.failure = failure
    call = peer.channel.unary_unary("/baas.test.Any/Fail")
    with pytest.raises(grpc.RpcError) as caught:
        call(b"", timeout=30)
    return caught.value


@pytest.mark.parametrize(
    ("code", "details", "retryable"),
    [
        (grpc.StatusCode.UNAVAILABLE, "connection reset by peer", True),
        (grpc.StatusCode.DEADLINE_EXCEEDED, "took too long", True),
        (grpc.StatusCode.UNKNOWN, "cannot enqueue envelope: no Raft leader", True),
        (grpc.StatusCode.INVALID_ARGUMENT, "malformed proposal", False),
        (grpc.StatusCode.UNKNOWN, "access denied: creator org unknown", False),
        (grpc.StatusCode.PERMISSION_DENIED, "forbidden", False),
    ],
)
def test_from_rpc_classification(
    grpc_node: FailingGrpcServer,
    peer_client: Peer,
    code: grpc.StatusCode,
    details: str,
    retryable: bool,
) -> None:
    exc = _rpc_error(grpc_node, peer_client, Failure(code, details))
    error = errors.from_rpc(exc, action="join peer0 to mychannel", target="peer0 (127.0.0.1)")
    assert error.retryable is retryable
    assert (
        error.message
        == f"join peer0 to mychannel failed on peer0 (127.0.0.1): {code.name}: {details}"
    )
    assert ("running?" in error.hint) is (code == grpc.StatusCode.UNAVAILABLE)


def test_from_rpc_on_a_closed_port_is_retryable(tree: Tree) -> None:
    """Nothing listening: a real UNAVAILABLE, retryable, with a hint to check the node."""
    target = NodeTarget("peer0", f"127.0.0.1:{free_port()}", tree.tls_ca("org1").read_bytes())
    with Connections() as connections:
        call = connections.channel(target).unary_unary("/baas.test.Any/Fail")
        with pytest.raises(grpc.RpcError) as caught:
            call(b"", timeout=30)
    error = errors.from_rpc(caught.value, action="list channels", target=str(target))
    assert error.retryable
    assert "UNAVAILABLE" in error.message and "running?" in error.hint


def test_from_rpc_on_a_plain_rpc_error() -> None:
    error = errors.from_rpc(grpc.RpcError("boom"), action="x", target="y")
    assert not error.retryable
    assert error.message == "x failed on y: error: boom"


@pytest.mark.parametrize(
    ("status", "message", "retryable"),
    [
        (503, "service unavailable", True),
        (0, "", True),
        (400, "no Raft leader", True),
        (400, "bad request", False),
        (500, "chaincode already successfully installed", False),
    ],
)
def test_refused_classification(status: int, message: str, retryable: bool) -> None:
    error = errors.refused(action="install", target="peer0", status=status, message=message)
    assert error.retryable is retryable
    assert f"status {status}: {message}" in error.message


# ------------------------------------------------------------------------------ osnadmin


@pytest.fixture
def admin_server(tree: Tree) -> Iterator[AdminServer]:
    """The orderer's admin endpoint: org1's orderer TLS certificate, client certificates from
    org1's TLS CA required."""
    _, paths = tree.node("org1", "orderer")
    with AdminServer(paths.tls_cert, paths.tls_key, tree.tls_ca("org1")) as server:
        yield server


def _admin_target(tree: Tree, address: str, *, org: str = "org1") -> osnadmin.AdminTarget:
    admin = tree.admin(org)
    return osnadmin.AdminTarget(
        name="orderer0.org1.example.com",
        address=address,
        tls_ca=tree.tls_ca("org1"),
        client_cert=admin.tls_cert,
        client_key=admin.tls_key,
    )


API = osnadmin.API


def _info_body(name: str, height: int = 1, status: str = "active") -> dict[str, object]:
    return {
        "name": name,
        "url": f"{API}/{name}",
        "consensusRelation": "consenter",
        "status": status,
        "height": height,
    }


def test_join_posts_the_block_as_multipart(tree: Tree, admin_server: AdminServer) -> None:
    """One POST with the block in form part ``config-block``, the admin's client certificate
    presented; 201 → the orderer's ChannelInfo."""
    admin_server.routes[("POST", API)] = Reply(201, _info_body("mychannel", 0, "onboarding"))
    block = os.urandom(512) + b"\r\n--not-a-boundary\r\n" + bytes(range(256))
    info = osnadmin.join(_admin_target(tree, admin_server.address), "mychannel", block)
    assert info == osnadmin.ChannelInfo("mychannel", "onboarding", "consenter", 0)
    [request] = admin_server.requests
    assert (request.method, request.path) == ("POST", API)
    assert "Admin@org1.example.com" in request.client_subject
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data")
    parts = multipart_parts(content_type, request.body)
    assert list(parts) == ["config-block"]
    assert parts["config-block"][1] == block


@pytest.mark.parametrize(
    ("status", "message", "retryable"),
    [
        (405, "cannot join: channel already exists", False),
        (400, "cannot join: failed to unmarshal config block", False),
        (403, "access denied", False),
        (503, "cannot join: the orderer is shutting down", True),
        (500, "cannot join: internal error", True),
    ],
)
def test_join_refusals(
    tree: Tree, admin_server: AdminServer, status: int, message: str, retryable: bool
) -> None:
    """A 4xx refusal is final, a 5xx one retryable; either way the server's message is in the
    error, and join itself sends exactly one request."""
    admin_server.routes[("POST", API)] = Reply(status, {"error": message})
    with pytest.raises(errors.FabricError) as caught:
        osnadmin.join(_admin_target(tree, admin_server.address), "mychannel", b"block")
    assert caught.value.retryable is retryable
    assert f"status {status}: {message}" in caught.value.message
    assert len(admin_server.requests) == 1


def test_connection_refused_is_retryable(tree: Tree) -> None:
    target = _admin_target(tree, f"127.0.0.1:{free_port()}")
    with pytest.raises(errors.FabricError) as caught:
        osnadmin.join(target, "mychannel", b"block")
    assert caught.value.retryable
    assert str(target) in caught.value.message


def test_list_info_and_remove(tree: Tree, admin_server: AdminServer) -> None:
    """list reads every channel (sorted; one gone in between is left out); a channel the
    orderer does not serve is ``None`` / ``False``; other failures raise."""
    admin_server.routes.update(
        {
            ("GET", API): Reply(
                200,
                {
                    "systemChannel": None,
                    "channels": [
                        {"name": "zeta", "url": f"{API}/zeta"},
                        {"name": "alpha", "url": f"{API}/alpha"},
                        {"name": "gone", "url": f"{API}/gone"},
                    ],
                },
            ),
            ("GET", f"{API}/zeta"): Reply(200, _info_body("zeta", 7)),
            ("GET", f"{API}/alpha"): Reply(200, _info_body("alpha", 3, "onboarding")),
            ("GET", f"{API}/broken"): Reply(500, {"error": "ledger is damaged"}),
            ("DELETE", f"{API}/alpha"): Reply(204),
        }
    )
    target = _admin_target(tree, admin_server.address)
    assert osnadmin.list_channels(target) == [
        osnadmin.ChannelInfo("alpha", "onboarding", "consenter", 3),
        osnadmin.ChannelInfo("zeta", "active", "consenter", 7),
    ]
    assert osnadmin.channel_info(target, "missing") is None
    assert osnadmin.remove(target, "missing") is False
    assert osnadmin.remove(target, "alpha") is True
    with pytest.raises(errors.FabricError, match="ledger is damaged") as caught:
        osnadmin.channel_info(target, "broken")
    assert not caught.value.retryable
    methods = [(r.method, r.path) for r in admin_server.requests]
    assert ("DELETE", f"{API}/alpha") in methods and ("DELETE", f"{API}/missing") in methods


def test_list_refused(tree: Tree, admin_server: AdminServer) -> None:
    admin_server.routes[("GET", API)] = Reply(403, {"error": "client certificate not authorized"})
    with pytest.raises(errors.FabricError, match="client certificate not authorized"):
        osnadmin.list_channels(_admin_target(tree, admin_server.address))


@pytest.mark.parametrize("mismatch", ["server certificate", "client certificate"])
def test_tls_mismatches_are_not_retryable(tree: Tree, mismatch: str) -> None:
    """A server certificate the configured TLS CA did not issue, or a client certificate of
    a CA the server does not trust, fails the handshake: an error waiting cannot fix, which
    must name the certificate problem."""
    _, orderer = tree.node("org1", "orderer")
    _, org2_peer = tree.node("org2", "peer")
    server_pair = org2_peer if mismatch == "server certificate" else orderer
    client_org = "org1" if mismatch == "server certificate" else "org2"
    with AdminServer(server_pair.tls_cert, server_pair.tls_key, tree.tls_ca("org1")) as server:
        with pytest.raises(errors.FabricError) as caught:
            osnadmin.channel_info(_admin_target(tree, server.address, org=client_org), "c")
        assert server.requests == []
    message = caught.value.message.upper()
    assert "CERTIFICATE" in message or "UNKNOWN_CA" in message
    assert not caught.value.retryable


def test_client_certificate_of_another_ca_never_reaches_the_api(tree: Tree) -> None:
    """The server demands a client certificate from org1's TLS CA; org2's admin pair is
    refused during the handshake, so no request is served; org1's admin pair is served."""
    _, paths = tree.node("org1", "orderer")
    with AdminServer(paths.tls_cert, paths.tls_key, tree.tls_ca("org1")) as server:
        server.routes[("GET", f"{API}/mychannel")] = Reply(200, _info_body("mychannel"))
        with pytest.raises(errors.FabricError):
            osnadmin.channel_info(_admin_target(tree, server.address, org="org2"), "mychannel")
        assert server.requests == []
        assert osnadmin.channel_info(_admin_target(tree, server.address), "mychannel")
        assert len(server.requests) == 1
