"""``invoke`` and ``query`` reach the network through the runtime of the target they are given
(``runtime_for(target, ...).access(plan)``), as ``chaincode_list`` does: no runtime's own
shortcut. The runtime, its access and Fabric's calls are fakes that record what they were asked;
tests/cluster/test_kube_network.py runs both on a real cluster."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

import topology
from baas.fabric import transactions
from baas.services import chaincode as calls


class _Access:
    def peer(self, node: Any) -> str:
        return f"peer:{node.fqdn}"

    def admin(self, org: Any) -> str:
        return f"admin:{org.name}"

    def user(self, org: Any, name: str) -> str:
        return f"user:{name}"


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    record: dict[str, Any] = {}

    class Runtime:
        @contextmanager
        def access(self, plan: Any) -> Iterator[_Access]:
            record["network"] = plan.network
            yield _Access()

    def runtime_for(target: str, loaded: Any, *, kube: Any = None) -> Runtime:
        record["target"], record["kube"] = target, kube
        return Runtime()

    def submit(endorsers: Any, identity: Any, **kw: Any) -> Any:
        record["endorsers"], record["signer"] = list(endorsers), identity
        return SimpleNamespace(result=b"ok", tx_id="tx1", block=7)

    def evaluate(peer: Any, identity: Any, **kw: Any) -> bytes:
        record["peer"], record["signer"] = peer, identity
        return b'{"ID":"a1"}'

    monkeypatch.setattr(calls, "runtime_for", runtime_for)
    monkeypatch.setattr(transactions, "submit", submit)
    monkeypatch.setattr(transactions, "evaluate", evaluate)
    return record


def test_invoke_uses_the_targets_runtime_access(
    two_orgs: topology.LoadedTopology, seen: dict[str, Any]
) -> None:
    kube = object()
    done = calls.invoke(
        two_orgs,
        chaincode="basic",
        function="CreateAsset",
        args=["a1"],
        target="kubernetes",
        kube=kube,
    ).value
    assert (seen["target"], seen["kube"], seen["network"]) == ("kubernetes", kube, "supplychain")
    assert seen["endorsers"] == ["peer:peer0.org1.example.com", "peer:peer0.org2.example.com"]
    assert (done.tx_id, done.block, done.identity) == ("tx1", 7, "alice@org1.example.com")


def test_query_uses_the_targets_runtime_access(
    two_orgs: topology.LoadedTopology, seen: dict[str, Any]
) -> None:
    answer = calls.query(
        two_orgs,
        chaincode="basic",
        function="ReadAsset",
        args=["a1"],
        identity="bob",
        peer="peer1.org2.example.com",
        target="kubernetes",
    ).value
    assert seen["target"] == "kubernetes"
    assert (seen["peer"], seen["signer"]) == (
        "peer:peer1.org2.example.com",
        "user:bob@org2.example.com",
    )
    assert answer.text == '{"ID":"a1"}'


def test_the_default_target_is_local(
    two_orgs: topology.LoadedTopology, seen: dict[str, Any]
) -> None:
    calls.query(two_orgs, chaincode="basic", function="ReadAsset", args=["a1"])
    assert (seen["target"], seen["kube"]) == ("local", None)
