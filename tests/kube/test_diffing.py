"""The pure comparison behind `baas plan --target kubernetes` (no cluster needed)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from baas.runtimes.kubernetes.diffing import (
    ObjectDiff,
    changed_fields,
    changed_keys,
    diff_of,
    normalized,
)
from baas.runtimes.kubernetes.planning import ChangePlan, ReleaseDiff, VaultDiff
from pki import IdentityIssue

KEY = "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t"  # base64 of a PEM private key header


def _live_policy() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": "allow-peers",
            "namespace": "net-org1",
            "labels": {"app.kubernetes.io/managed-by": "baas"},
            "resourceVersion": "41",
            "uid": "0b0e",
            "generation": 3,
            "creationTimestamp": "2025-01-01T00:00:00Z",
            "managedFields": [{"manager": "baas", "operation": "Apply"}],
        },
        "spec": {
            "podSelector": {},
            "egress": [{"ports": [{"port": 7051, "protocol": "TCP"}]}],
            "policyTypes": ["Egress"],
        },
        "status": {},
    }


def test_identical_objects_have_no_changed_fields() -> None:
    live = _live_policy()
    assert changed_fields(live, copy.deepcopy(live)) == []


def test_server_maintained_metadata_and_status_are_ignored() -> None:
    live = _live_policy()
    answer = copy.deepcopy(live)
    answer["metadata"].update(
        resourceVersion="42",
        uid="other",
        generation=4,
        creationTimestamp="2026-01-01T00:00:00Z",
        managedFields=[{"manager": "baas", "operation": "Apply", "time": "now"}],
    )
    answer["status"] = {"conditions": [{"type": "Ready"}]}
    assert changed_fields(live, answer) == []


def test_spec_and_metadata_changes_are_named_one_level_down() -> None:
    live = _live_policy()
    answer = copy.deepcopy(live)
    answer["spec"]["egress"] = [{"ports": [{"port": 7050, "protocol": "TCP"}]}]
    answer["metadata"]["labels"]["extra"] = "x"
    answer["metadata"]["annotations"] = {"a": "b"}
    assert changed_fields(live, answer) == [
        "metadata.annotations",
        "metadata.labels",
        "spec.egress",
    ]


def test_other_top_level_fields_are_named_as_they_are() -> None:
    live = {"kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "YQ=="}}
    answer = {**live, "data": {"k": KEY}}
    assert changed_fields(live, answer) == ["data"]
    assert changed_fields(live, {k: v for k, v in live.items() if k != "data"}) == ["data"]


def test_normalized_does_not_modify_its_input() -> None:
    live = _live_policy()
    before = copy.deepcopy(live)
    normalized(live)
    assert live == before


def test_changed_keys_names_top_level_keys_only() -> None:
    deployed = {"peers": [{"name": "peer0"}], "chartDigest": "a", "admin": {"name": "x"}}
    wanted = {"peers": [{"name": "peer0"}, {"name": "peer1"}], "chartDigest": "b", "new": 1}
    assert changed_keys(deployed, wanted) == ["admin", "chartDigest", "new", "peers"]
    assert changed_keys(wanted, wanted) == []


def _secret(secret_type: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "peer0-tls", "namespace": "net-org1"},
        "type": secret_type,
        "data": {"tls.key": KEY},
    }


def test_diff_of_absent_unchanged_updated_and_retyped() -> None:
    manifest = _secret("kubernetes.io/tls")
    assert diff_of(manifest, None, None).action == "create"
    live = {**manifest, "metadata": {**manifest["metadata"], "resourceVersion": "1"}}
    assert diff_of(manifest, live, live).action == "unchanged"
    changed = {**live, "data": {"tls.key": "b3RoZXI="}}
    diff = diff_of(manifest, live, changed)
    assert (diff.action, diff.fields) == ("update", ("data",))
    retyped = diff_of(manifest, _secret("Opaque"), None)
    assert (retyped.action, retyped.fields) == ("update", ("type",))
    assert "cannot change" in retyped.note


def test_no_value_reaches_the_text_or_json() -> None:
    manifest = _secret("kubernetes.io/tls")
    live = {**manifest, "data": {"tls.key": "b3RoZXI="}}
    diff = diff_of(manifest, live, manifest)
    assert KEY not in str(diff)
    assert KEY not in repr(diff)
    assert KEY not in str(diff.to_dict())
    assert str(diff) == "Secret net-org1/peer0-tls: update (data)"


def test_release_diff_text() -> None:
    assert str(ReleaseDiff("org1", "n-org1", "install")) == "release n-org1/org1: install"
    upgrade = ReleaseDiff("org1", "n-org1", "upgrade", 2, reasons=("values peers",))
    assert str(upgrade) == "release n-org1/org1: upgrade from revision 2 (values peers)"
    healed = ReleaseDiff("org1", "n-org1", "upgrade", 3, heal="pending-upgrade")
    assert str(healed).startswith("release n-org1/org1: heal (pending-upgrade) + upgrade")
    assert (upgrade.counts_as, healed.counts_as) == ("update", "update")


def test_change_plan_summary_counts_every_kind() -> None:
    changes = ChangePlan(
        network="n",
        secrets="vault",
        crypto_root=Path("/nowhere"),
        crypto_exists=False,
        issues=[IdentityIssue("org1", "peer0.org1.example.com", "no ca yet")],
        objects=[
            ObjectDiff("Namespace", "n-org1", None, "create"),
            ObjectDiff("NetworkPolicy", "p", "n-org1", "update", ("spec.egress",)),
            ObjectDiff("NetworkPolicy", "old", "n-org1", "delete"),
        ],
        vault=[VaultDiff("org1", "peer0.org1.example.com", "unchanged")],
        releases=[ReleaseDiff("org1", "n-org1", "install")],
        channels=["channel c: create and join (after the nodes start)"],
    )
    assert changes.summary() == {"create": 2, "update": 1, "delete": 1, "unchanged": 1}
    assert changes.summary_line() == (
        "2 to create, 1 to update, 1 unchanged, 1 to delete; 1 identities to issue"
    )
    assert changes.changed
    lines = changes.lines()
    text = "\n".join(lines)
    assert "does not exist yet" in text
    assert "NetworkPolicy n-org1/p: update (spec.egress)" in text
    assert lines[-1] == "channel c: create and join (after the nodes start)"  # in up's order
    data = changes.to_dict()
    assert data["summary"]["create"] == 2
    assert data["channels"] == ["channel c: create and join (after the nodes start)"]


def test_channels_alone_are_a_change_but_not_counted() -> None:
    """Channels still to create make ``up`` change something, though no object or release
    would (the summary counts cluster objects only)."""
    quiet = ChangePlan(
        network="n",
        secrets="kubernetes",
        crypto_root=Path("/tree"),
        crypto_exists=True,
        objects=[ObjectDiff("Namespace", "n-org1", None, "unchanged")],
        releases=[ReleaseDiff("org1", "n-org1", "unchanged", 1)],
    )
    assert not quiet.changed
    assert quiet.to_dict()["channels"] == []
    pending = replace(quiet, channels=["channel c: create and join (after the nodes start)"])
    assert pending.changed
    assert pending.summary() == quiet.summary()
    assert pending.summary_line() == "0 to create, 0 to update, 2 unchanged"


# --------------------------------------------------------------------------- release decisions
# A release stuck in pending-* cannot be produced on demand with a real helm here, so the
# decision is checked against a stand-in for pyhelm3's revision objects (status, chart, values).


class _Meta:
    def __init__(self, name: str = "fabric", version: str = "0.1.0") -> None:
        self.name, self.version = name, version


class _Chart:
    metadata = _Meta()


class _Revision:
    def __init__(self, status: str, values: dict[str, Any], chart: _Meta | None = None) -> None:
        self.status, self.revision, self._values, self._chart = status, 4, values, chart or _Meta()

    async def chart_metadata(self) -> _Meta:
        return self._chart

    async def values(self) -> dict[str, Any]:
        return self._values


class _Client:
    def __init__(self, revision: _Revision | None) -> None:
        self._revision = revision

    async def get_current_revision(self, name: str, *, namespace: str) -> _Revision:
        from pyhelm3.errors import ReleaseNotFoundError

        if self._revision is None:
            raise ReleaseNotFoundError(1, b"", b"release: not found")
        return self._revision


def _decide(revision: _Revision | None, wanted: dict[str, Any]) -> ReleaseDiff:
    import asyncio

    from baas.runtimes.kubernetes.planning import _release_diff

    return asyncio.run(
        _release_diff(_Client(revision), _Chart(), name="org1", namespace="n-org1", values=wanted)
    )


def test_release_decisions() -> None:
    wanted = {"peers": [1, 2], "chartDigest": "new"}
    assert _decide(None, wanted).action == "install"
    same = _decide(_Revision("deployed", dict(wanted)), wanted)
    assert (same.action, same.reasons) == ("unchanged", ())
    grown = _decide(_Revision("deployed", {"peers": [1], "chartDigest": "old"}), wanted)
    assert (grown.action, grown.reasons) == ("upgrade", ("chart content", "values peers"))
    stuck = _decide(_Revision("pending-upgrade", dict(wanted)), wanted)
    assert (stuck.action, stuck.heal) == ("upgrade", "pending-upgrade")
    assert "heal (pending-upgrade) + upgrade" in str(stuck)
    half = _decide(_Revision("pending-install", dict(wanted)), wanted)
    assert (half.action, half.heal) == ("install", "pending-install")
    failed = _decide(_Revision("failed", dict(wanted)), wanted)
    assert (failed.action, failed.reasons) == ("upgrade", ("status failed",))
    other = _decide(_Revision("deployed", dict(wanted), _Meta(version="0.0.9")), wanted)
    assert other.reasons == ("chart fabric-0.0.9 → fabric-0.1.0",)
