"""Private data collections in the topology: inline or from a collections_config.json, the
rules Fabric's ``_lifecycle`` applies checked up front, and the API's confinement of the
file's path."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import topology
from baas import plan as planning
from topology.errors import Diagnostic

Doc = dict[str, Any]
Errors = Callable[[Doc], list[Diagnostic]]
Load = Callable[[Doc], topology.LoadedTopology]

ORG1_ONLY = {
    "name": "org1Private",
    "policy": "OR('Org1MSP.member')",
    "memberOnlyRead": True,
    "memberOnlyWrite": True,
    "endorsementPolicy": {"signaturePolicy": "OR('Org1MSP.peer')"},
}


def _with(doc: Doc, collections: object) -> Doc:
    doc["spec"]["chaincodes"][0]["collections"] = collections
    return doc


def test_inline_collections_reach_the_plan_with_fabric_defaults(doc: Doc, load: Load) -> None:
    shared = {"name": "shared", "policy": "OR('Org1MSP.member','Org2MSP.member')"}
    loaded = load(_with(doc, [ORG1_ONLY, shared]))
    cc = planning.build(loaded.network).chaincodes[0]
    assert [c.name for c in cc.collections] == ["org1Private", "shared"]
    first, second = cc.collections
    assert first.member_only_read and first.member_only_write
    assert first.endorsement == "OR('Org1MSP.peer')" and first.endorsement_reference is None
    # peer lifecycle's defaults for keys left out: requiredPeerCount 0, maxPeerCount 1
    assert (second.required_peer_count, second.max_peer_count, second.block_to_live) == (0, 1, 0)
    assert cc.collections_file is None


def test_a_collections_file_is_read_relative_to_the_topology(
    doc: Doc, write: Callable[[Doc], Path]
) -> None:
    file = write(_with(doc, "chaincode/collections_config.json"))
    (file.parent / "chaincode" / "collections_config.json").write_text(json.dumps([ORG1_ONLY]))
    loaded = topology.load(file)
    collections = loaded.network.spec.chaincodes[0].collections
    assert isinstance(collections, list) and collections[0].name == "org1Private"
    assert planning.build(loaded.network).chaincodes[0].collections[0].member_only_read


def test_without_a_folder_the_path_stays_and_the_plan_says_so(doc: Doc) -> None:
    import yaml

    text = yaml.safe_dump(_with(doc, "collections_config.json"), sort_keys=False)
    network, _ = topology.loads(text)
    cc = planning.build(network).chaincodes[0]
    assert cc.collections == () and cc.collections_file == "collections_config.json"
    from baas.network.chaincode import wanted

    with pytest.raises(ValueError, match="was not read"):
        wanted(cc, sequence=1)


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ({"name": "_x", "policy": "OR('Org1MSP.member')"}, "name", "not a valid collection"),
        ({"name": "x", "policy": "AND('Org1MSP.member','Org2MSP.member')"}, "policy", "an OR"),
        ({"name": "x", "policy": "OR('Org9MSP.member')"}, "policy", "not in the network"),
        ({"name": "x", "policy": "OR('Org1MSP.member'"}, "policy", "does not parse"),
        (
            {"name": "x", "policy": "OR('Org1MSP.member')", "requiredPeerCount": 2},
            "maxPeerCount",
            "less than requiredPeerCount",
        ),
        (
            {
                "name": "x",
                "policy": "OR('Org1MSP.member')",
                "requiredPeerCount": 3,
                "maxPeerCount": 3,
            },
            "requiredPeerCount",
            "run 2 peer(s) in all",
        ),
        (
            {"name": "x", "policy": "OR('Org1MSP.member')", "requiredPeerCount": -1},
            "requiredPeerCount",
            "greater than or equal to 0",
        ),
        (
            {
                "name": "x",
                "policy": "OR('Org1MSP.member')",
                "endorsementPolicy": {"signaturePolicy": "OR('OrdererMSP.peer')"},
            },
            "endorsementPolicy",
            "not a member of the channel",
        ),
        (
            {"name": "x", "policy": "OR('Org1MSP.member')", "endorsementPolicy": {}},
            "endorsementPolicy",
            "exactly one of",
        ),
        ({"name": "x", "policy": "OR('Org1MSP.member')", "blockToLve": 3}, "blockToLve", "unknown"),
    ],
)
def test_inline_errors_name_the_field_and_a_fix(
    doc: Doc, errors: Errors, entry: Doc, field: str, words: str
) -> None:
    found = errors(_with(doc, [entry]))
    assert found[0].path == f"spec.chaincodes[0].collections[0].{field}"
    assert words in found[0].message
    assert found[0].line is not None


def test_duplicate_names_are_refused(doc: Doc, errors: Errors) -> None:
    found = errors(_with(doc, [ORG1_ONLY, dict(ORG1_ONLY)]))
    assert found[0].path == "spec.chaincodes[0].collections[1].name"
    assert "declared twice" in found[0].message


def test_a_collection_naming_a_network_org_outside_the_channel_is_refused(
    doc: Doc, errors: Errors
) -> None:
    found = errors(_with(doc, [{"name": "x", "policy": "OR('OrdererMSP.member')"}]))
    assert "not a member of the channel" in found[0].message
    assert "Org1MSP, Org2MSP" in found[0].hint


def test_neither_list_nor_path_is_refused(doc: Doc, errors: Errors) -> None:
    found = errors(_with(doc, 5))
    assert found[0].path == "spec.chaincodes[0].collections"
    assert "a list of collections or a file path" in found[0].message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (json.dumps([{"name": "x", "policy": "OR('Org9MSP.member')"}]), "at [0].policy"),
        (json.dumps([{"name": "x", "policy": "OR('Org1MSP.member')", "x": 1}]), "at [0].x"),
        (json.dumps({"name": "x"}), "a JSON list"),
        ("[{", "is not JSON"),
        ("[" * 200 + "]" * 200, "collections_config.json"),
    ],
)
def test_file_errors_name_the_file_and_the_entry(
    doc: Doc, write: Callable[[Doc], Path], content: str, words: str
) -> None:
    file = write(_with(doc, "collections_config.json"))
    (file.parent / "collections_config.json").write_text(content)
    with pytest.raises(topology.TopologyError) as info:
        topology.load(file)
    first = info.value.errors[0]
    assert first.path == "spec.chaincodes[0].collections"
    assert "collections_config.json" in first.message and words in first.message
    assert first.hint


def test_a_missing_file_says_where_it_looked(doc: Doc, write: Callable[[Doc], Path]) -> None:
    file = write(_with(doc, "nope.json"))
    with pytest.raises(topology.TopologyError) as info:
        topology.load(file)
    assert "does not exist" in info.value.errors[0].message
    assert "relative to the topology file" in info.value.errors[0].hint


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.json", "link.json", "missing/../../x"])
def test_confined_paths_never_leave_the_source_folder(doc: Doc, tmp_path: Path, path: str) -> None:
    import yaml

    base = tmp_path / "sources"
    (base / "chaincode" / "asset-transfer").mkdir(parents=True)
    (tmp_path / "outside.json").write_text(json.dumps([ORG1_ONLY]))
    (base / "link.json").symlink_to(tmp_path / "outside.json")
    text = yaml.safe_dump(_with(doc, path), sort_keys=False)
    with pytest.raises(topology.TopologyError) as info:
        topology.loads(text, base_dir=base, confined=True)
    message = info.value.errors[0].message
    assert "must be a relative path inside the server's source folder" in message
    assert str(tmp_path) not in message + info.value.errors[0].hint


def test_confined_relative_file_inside_is_read(doc: Doc, tmp_path: Path) -> None:
    import yaml

    (tmp_path / "chaincode" / "asset-transfer").mkdir(parents=True)
    (tmp_path / "cols.json").write_text(json.dumps([ORG1_ONLY]))
    text = yaml.safe_dump(_with(doc, "cols.json"), sort_keys=False)
    network, _ = topology.loads(text, base_dir=tmp_path, confined=True)
    assert isinstance(network.spec.chaincodes[0].collections, list)


def test_schema_describes_both_forms() -> None:
    schema = topology.json_schema()
    prop = schema["$defs"]["Chaincode"]["properties"]["collections"]
    kinds = json.dumps(prop)
    assert '"type": "array"' in kinds and '"type": "string"' in kinds
    assert "requiredPeerCount" in schema["$defs"]["Collection"]["properties"]
