"""Cross-field rules (topology/validation.py): duplicates, channel membership, consenters and
consensus, chaincodes and endorsement policies, chaincode folders, anchor peers. Warnings never
make a topology invalid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import topology
from topology.errors import Diagnostic

Doc = dict[str, Any]
Errors = Callable[[object], list[Diagnostic]]
Load = Callable[[object], topology.LoadedTopology]


def _at(diags: list[Diagnostic], path: str) -> Diagnostic:
    found = [d for d in diags if d.path == path]
    assert found, f"nothing at {path}: {[d.render() for d in diags]}"
    return found[0]


def _orderers(n: int) -> list[dict[str, str]]:
    return [{"name": f"orderer{i}"} for i in range(n)]


def _bft(doc: Doc, *, version: str, orderers: int) -> Doc:
    doc["spec"]["consensus"] = "BFT"
    doc["spec"]["fabric"]["version"] = version
    doc["spec"]["organizations"][0]["orderers"] = _orderers(orderers)
    return doc


# --- duplicates ------------------------------------------------------------------------------


def test_duplicate_org_name(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][2]["name"] = "org1"
    diag = _at(errors(doc), "spec.organizations[2].name")
    assert "'org1' is declared twice" in diag.message
    assert diag.hint and diag.line is not None


def test_duplicate_msp_id(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][2]["mspId"] = "Org1MSP"
    diag = _at(errors(doc), "spec.organizations[2].mspId")
    assert "already used by organisation 'org1'" in diag.message


def test_duplicate_peer_names(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["peers"][1]["name"] = "peer0"
    diag = _at(errors(doc), "spec.organizations[1].peers[1].name")
    assert "'peer0' is used twice" in diag.message


def test_duplicate_orderer_names(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][0]["orderers"][2]["name"] = "orderer0"
    _at(errors(doc), "spec.organizations[0].orderers[2].name")


def test_peer_and_orderer_sharing_a_name(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["orderers"] = [{"name": "peer1"}]
    assert "used twice" in errors(doc)[0].message


def test_same_node_names_in_different_orgs_are_fine(load: Load, doc: Doc) -> None:
    # org1 and org2 both run peer0 and peer1 in the example.
    assert load(doc).warnings == []


def test_duplicate_users_and_reserved_admin(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["users"] = ["alice", "alice", "Admin"]
    found = errors(doc)
    assert "listed twice" in _at(found, "spec.organizations[1].users").message
    assert "reserved" in _at(found, "spec.organizations[1].users[2]").message


def test_users_differing_only_in_case(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["users"] = ["alice", "Alice"]
    assert "listed twice" in _at(errors(doc), "spec.organizations[1].users").message


def test_user_named_like_a_node(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][1]["users"] = ["alice", "Peer1"]
    diag = _at(errors(doc), "spec.organizations[1].users[1]")
    assert "name of a node" in diag.message


def test_duplicate_channel(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"].append(dict(doc["spec"]["channels"][0]))
    assert "declared twice" in _at(errors(doc), "spec.channels[1].name").message


def test_duplicate_chaincode_on_a_channel(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"].append(dict(doc["spec"]["chaincodes"][0]))
    assert "declared twice" in _at(errors(doc), "spec.chaincodes[1].name").message


def test_organisation_without_nodes(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"].append({"name": "org3", "mspId": "Org3MSP"})
    assert "neither peers nor orderers" in _at(errors(doc), "spec.organizations[3]").message


# --- channels --------------------------------------------------------------------------------


def test_channel_naming_unknown_org(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["organizations"].append("org3")
    diag = _at(errors(doc), "spec.channels[0].organizations[2]")
    assert "unknown organisation 'org3' (did you mean 'org2'?)" in diag.message
    assert "ordererorg, org1, org2" in diag.hint


def test_channel_member_without_peers(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["organizations"].append("ordererorg")
    diag = _at(errors(doc), "spec.channels[0].organizations[2]")
    assert "runs no peers" in diag.message


def test_channel_listing_a_member_twice(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["organizations"].append("org1")
    assert "listed twice" in _at(errors(doc), "spec.channels[0].organizations").message


def test_channel_without_members(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["organizations"] = []
    doc["spec"]["chaincodes"] = []
    assert "at least one member" in _at(errors(doc), "spec.channels[0].organizations").message


def test_channel_orderers_naming_unknown_org(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["orderers"] = ["ordrerorg"]
    diag = _at(errors(doc), "spec.channels[0].orderers[0]")
    assert "(did you mean 'ordererorg'?)" in diag.message


def test_orderer_org_without_orderers(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["orderers"] = ["ordererorg", "org1"]
    diag = _at(errors(doc), "spec.channels[0].orderers[1]")
    assert "'org1' runs no orderers" in diag.message


def test_channel_with_no_consenters_explicit(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"][0]["orderers"] = []
    diag = _at(errors(doc), "spec.channels[0].orderers")
    assert "no consenters" in diag.message


def test_channel_with_no_consenters_in_the_network(errors: Errors, doc: Doc) -> None:
    del doc["spec"]["organizations"][0]
    del doc["spec"]["channels"][0]["orderers"]
    diag = _at(errors(doc), "spec.channels[0]")
    assert "no consenters" in diag.message


def test_default_orderers_are_every_org_running_orderers(load: Load, doc: Doc) -> None:
    del doc["spec"]["channels"][0]["orderers"]
    doc["spec"]["organizations"][1]["orderers"] = _orderers(2)
    loaded = load(doc)
    net = loaded.network
    assert net.channel_orderer_orgs(net.spec.channels[0]) == ["ordererorg", "org1"]
    # 3 + 2 = 5 consenters: odd and >= 3, so no consensus warning.
    assert loaded.warnings == []


# --- consensus -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "fragment"), [(1, "1 etcdraft consenter"), (2, "2 etcdraft consenter")]
)
def test_etcdraft_fewer_than_three_is_a_warning(
    load: Load, doc: Doc, count: int, fragment: str
) -> None:
    doc["spec"]["organizations"][0]["orderers"] = _orderers(count)
    loaded = load(doc)
    (warning,) = loaded.warnings
    assert warning.severity == "warning"
    assert warning.path == "spec.channels[0]"
    assert fragment in warning.message
    assert warning.hint


@pytest.mark.parametrize("count", [4, 6])
def test_etcdraft_even_count_is_a_warning(load: Load, doc: Doc, count: int) -> None:
    doc["spec"]["organizations"][0]["orderers"] = _orderers(count)
    (warning,) = load(doc).warnings
    assert f"even number of consenters ({count})" in warning.message


@pytest.mark.parametrize("count", [3, 5, 7])
def test_etcdraft_odd_count_of_three_or_more_is_quiet(load: Load, doc: Doc, count: int) -> None:
    doc["spec"]["organizations"][0]["orderers"] = _orderers(count)
    assert load(doc).warnings == []


def test_bft_on_fabric_25_is_an_error(errors: Errors, doc: Doc) -> None:
    diag = _at(errors(_bft(doc, version="2.5", orderers=4)), "spec.consensus")
    assert "Fabric 3" in diag.message
    assert '"3.1"' in diag.hint


@pytest.mark.parametrize("count", [1, 2, 3])
def test_bft_with_fewer_than_four_consenters_is_an_error(
    errors: Errors, doc: Doc, count: int
) -> None:
    diag = _at(errors(_bft(doc, version="3.1", orderers=count)), "spec.channels[0]")
    assert "at least 4 consenters" in diag.message and f"has {count}" in diag.message


@pytest.mark.parametrize("count", [4, 5, 7])
def test_bft_on_fabric_31_with_four_or_more(load: Load, doc: Doc, count: int) -> None:
    # BFT has no even/odd advice: 3f+1 is all that is asked.
    assert load(_bft(doc, version="3.1", orderers=count)).warnings == []


def test_ed25519_needs_fabric_31(errors: Errors, load: Load, doc: Doc) -> None:
    doc["spec"]["pki"] = {"keyAlgorithm": "Ed25519"}
    _at(errors(doc), "spec.pki.keyAlgorithm")
    doc["spec"]["fabric"]["version"] = "3.1"
    assert load(doc).network.spec.pki.key_algorithm == "Ed25519"


def test_bft_with_ed25519_is_an_error_naming_both_fields(errors: Errors, doc: Doc) -> None:
    """Fabric 3.1.5 refuses BFT consenters with Ed25519 certificates (osnadmin join: HTTP 400
    "failed unmarshaling ECDSA signature")."""
    doc = _bft(doc, version="3.1", orderers=4)
    doc["spec"]["pki"] = {"keyAlgorithm": "Ed25519"}
    found = errors(doc)
    assert [d.path for d in found] == ["spec.pki.keyAlgorithm"]
    diag = found[0]
    assert "spec.consensus" in diag.message and "spec.pki.keyAlgorithm" in diag.message
    assert "3.1.5" in diag.message and "ECDSA" in diag.message
    assert "P-256" in diag.hint and "etcdraft" in diag.hint
    assert diag.line is not None


@pytest.mark.parametrize("algorithm", ["P-256", "P-384"])
def test_bft_with_ecdsa_keys_is_fine(load: Load, doc: Doc, algorithm: str) -> None:
    doc = _bft(doc, version="3.1", orderers=4)
    doc["spec"]["pki"] = {"keyAlgorithm": algorithm}
    assert load(doc).network.spec.pki.key_algorithm == algorithm


def test_etcdraft_with_ed25519_on_fabric_31_is_fine(load: Load, doc: Doc) -> None:
    doc["spec"]["fabric"]["version"] = "3.1"
    doc["spec"]["pki"] = {"keyAlgorithm": "Ed25519"}
    assert load(doc).network.spec.consensus == "etcdraft"


def test_bft_with_ed25519_on_fabric_25_reports_every_problem(errors: Errors, doc: Doc) -> None:
    doc = _bft(doc, version="2.5", orderers=4)
    doc["spec"]["pki"] = {"keyAlgorithm": "Ed25519"}
    found = errors(doc)
    assert sorted(d.path for d in found) == [
        "spec.consensus",
        "spec.pki.keyAlgorithm",
        "spec.pki.keyAlgorithm",
    ]


# --- chaincodes ------------------------------------------------------------------------------


def test_chaincode_on_unknown_channel(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["channel"] = "mychanel"
    diag = _at(errors(doc), "spec.chaincodes[0].channel")
    assert "unknown channel 'mychanel' (did you mean 'mychannel'?)" in diag.message
    assert "mychannel" in diag.hint


def test_chaincode_without_any_channel(errors: Errors, doc: Doc) -> None:
    doc["spec"]["channels"] = []
    diag = _at(errors(doc), "spec.chaincodes[0].channel")
    assert "(no channels declared)" in diag.hint


@pytest.mark.parametrize(
    "policy",
    [
        "AND('Org1MSP.peer'",
        "AND('Org1MSP.peer',)",
        "XOR('Org1MSP.peer')",
        "'Org1MSP'",
        "'Org1MSP.boss'",
        "OutOf(3, 'Org1MSP.peer', 'Org2MSP.peer')",
        "OutOf(0, 'Org1MSP.peer')",
        "AND('Org1MSP.peer') extra",
        "",
        "AND('Org1MSP.peer'; 'Org2MSP.peer')",
    ],
)
def test_endorsement_policy_that_does_not_parse(errors: Errors, doc: Doc, policy: str) -> None:
    doc["spec"]["chaincodes"][0]["endorsement"] = policy
    diag = _at(errors(doc), "spec.chaincodes[0].endorsement")
    assert "does not parse" in diag.message
    assert "AND(" in diag.hint


def test_endorsement_naming_msp_outside_the_channel(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["endorsement"] = "OR('Org1MSP.peer', 'OrdererMSP.peer')"
    diag = _at(errors(doc), "spec.chaincodes[0].endorsement")
    assert "'OrdererMSP'" in diag.message and "not a member of the channel" in diag.message
    assert "Org1MSP, Org2MSP" in diag.hint


def test_endorsement_naming_unknown_msp(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["endorsement"] = "AND('Org1MSP.peer', 'Org2MPS.peer')"
    diag = _at(errors(doc), "spec.chaincodes[0].endorsement")
    assert "(did you mean 'Org2MSP'?)" in diag.message


@pytest.mark.parametrize(
    "policy",
    [
        "AND('Org1MSP.peer','Org2MSP.peer')",
        "OR('Org1MSP.member', 'Org2MSP.admin')",
        "OutOf(1, 'Org1MSP.peer', 'Org2MSP.peer')",
        "outof(2, 'Org1MSP.peer', OR('Org2MSP.peer', 'Org2MSP.client'))",
        '"Org1MSP.peer"',
    ],
)
def test_valid_endorsement_policies(load: Load, doc: Doc, policy: str) -> None:
    doc["spec"]["chaincodes"][0]["endorsement"] = policy
    assert load(doc).network.spec.chaincodes[0].endorsement == policy


def test_missing_chaincode_folder(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["path"] = "chaincode/absent"
    diag = _at(errors(doc), "spec.chaincodes[0].path")
    assert "'chaincode/absent' does not exist" in diag.message
    assert "relative to the topology file" in diag.hint


def test_chaincode_path_is_relative_to_the_file_not_the_cwd(
    doc: Doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = tmp_path / "deep" / "er"
    (sub / "chaincode" / "asset-transfer").mkdir(parents=True)
    (sub / "net.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.chdir(tmp_path)
    loaded = topology.load("deep/er/net.yaml")
    assert loaded.resolve("chaincode/asset-transfer") == sub / "chaincode" / "asset-transfer"


def test_chaincode_path_check_skipped_without_base_dir(doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["path"] = "nowhere"
    network, warnings = topology.loads(yaml.safe_dump(doc), base_dir=None)
    assert network.spec.chaincodes[0].path == "nowhere" and warnings == []


# --- anchors and warnings --------------------------------------------------------------------


def test_no_anchor_peer_is_a_warning_naming_the_peer_used(load: Load, doc: Doc) -> None:
    for peer in doc["spec"]["organizations"][2]["peers"]:
        peer.pop("anchor", None)
    (warning,) = load(doc).warnings
    assert warning.path == "spec.organizations[2].peers"
    assert "'org2' has no anchor peer; 'peer0' will be used" in warning.message
    assert "anchor: true" in warning.hint
    assert warning.line is not None


def test_orderer_only_org_needs_no_anchor(load: Load, doc: Doc) -> None:
    assert all(w.path != "spec.organizations[0].peers" for w in load(doc).warnings)


def test_warnings_do_not_fail_validation(load: Load, doc: Doc) -> None:
    doc["spec"]["organizations"][0]["orderers"] = _orderers(2)
    doc["spec"]["organizations"][1]["peers"][0]["anchor"] = False
    loaded = load(doc)
    assert {w.severity for w in loaded.warnings} == {"warning"}
    assert len(loaded.warnings) == 2


def test_errors_carry_warnings_found_alongside(errors: Errors, doc: Doc, write: Any) -> None:
    doc["spec"]["organizations"][0]["orderers"] = _orderers(2)
    doc["spec"]["chaincodes"][0]["channel"] = "other"
    with pytest.raises(topology.TopologyError) as info:
        topology.load(write(doc))
    assert [d.severity for d in info.value.warnings] == ["warning"]
    assert [d.path for d in info.value.errors] == ["spec.chaincodes[0].channel"]
    assert str(info.value).startswith(info.value.errors[0].render().splitlines()[0])


def test_every_cross_field_error_is_reported_at_once(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][2]["mspId"] = "Org1MSP"
    doc["spec"]["channels"][0]["organizations"].append("nobody")
    doc["spec"]["chaincodes"][0]["path"] = "missing"
    found = {d.path for d in errors(doc)}
    assert {
        "spec.organizations[2].mspId",
        "spec.channels[0].organizations[2]",
        "spec.chaincodes[0].path",
    } <= found


def test_org_named_toolbox_is_reserved(errors: Errors, doc: Doc) -> None:
    doc["spec"]["organizations"][2]["name"] = "toolbox"
    doc["spec"]["channels"][0]["organizations"] = ["org1", "toolbox"]
    diag = _at(errors(doc), "spec.organizations[2].name")
    assert "reserved" in diag.message and "supplychain-toolbox" in diag.message


def test_init_function_needs_init_required(errors: Errors, doc: Doc) -> None:
    doc["spec"]["chaincodes"][0]["initFunction"] = "InitLedger"
    diag = _at(errors(doc), "spec.chaincodes[0].initFunction")
    assert "initRequired is false" in diag.message
