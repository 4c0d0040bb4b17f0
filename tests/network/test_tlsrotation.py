"""The pure half of TLS CA rotation on a network: which phase an organisation is in and what
``up`` has left to do, from the tree and what the network shows (no Fabric needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

import pki
from baas.network.tlsrotation import Observation, decide, served_certificate
from pki.spec import NodeSpec, OrgSpec

NOW = datetime.now(UTC)
PEERS = ("peer0.org1.example.com", "peer1.org1.example.com")
ORGS = [
    OrgSpec(
        "org1",
        "Org1MSP",
        "org1.example.com",
        tuple(NodeSpec(n, n.split(".")[0], "peer", ("localhost",)) for n in PEERS),
        ("alice",),
    )
]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "crypto"
    pki.generate(root, ORGS)
    return root


def _tls(root: Path, name: str) -> bytes:
    return (
        root / "peerOrganizations/org1.example.com/peers" / name / "tls/server.crt"
    ).read_bytes()


def _state(root: Path) -> pki.OrgRotation:
    found = pki.rotation_state(root, ORGS[0])
    assert found is not None
    return found


def test_phases_follow_the_network(tree: Path) -> None:
    old_leaves = {n: _tls(tree, n) for n in PEERS}
    pki.rotate_ca(tree, ORGS, "org1")
    state = _state(tree)
    old_only = Observation({"mychannel": [state.retiring_pem]}, old_leaves)

    first = decide(state, old_only)
    assert first.phase == "trust" and first.untrusting == ("mychannel",)
    assert first.reissue == PEERS and first.users == (
        "Admin@org1.example.com",
        "alice@org1.example.com",
    )
    assert any("phase trust" in line for line in first.lines())

    both = Observation({"mychannel": [state.current_pem, state.retiring_pem]}, old_leaves)
    assert decide(state, both).phase == "roll"

    # peer0 re-issued on disk but not restarted: it must restart, not be re-issued again
    pki.reissue_tls(tree, ORGS, PEERS[0])
    state = _state(tree)
    mid = decide(state, both)
    assert mid.phase == "roll" and mid.reissue == PEERS[1:] and mid.restart == PEERS[:1]

    for name in (PEERS[1], "Admin@org1.example.com", "alice@org1.example.com"):
        pki.reissue_tls(tree, ORGS, name)
    state = _state(tree)
    serving = {n: _tls(tree, n) for n in PEERS}
    down = decide(state, Observation(both.channel_roots, {**serving, PEERS[1]: None}))
    assert down.phase == "roll" and down.silent == PEERS[1:]
    done = decide(state, Observation(both.channel_roots, serving))
    assert done.phase == "retire" and not (done.reissue or done.restart or done.users)
    assert done.to_dict()["phase"] == "retire"


def test_served_certificate_of_nothing_is_none() -> None:
    assert served_certificate("127.0.0.1", 1, timeout=0.5) is None
