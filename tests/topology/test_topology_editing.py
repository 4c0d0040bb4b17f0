"""topology.editing: adding or updating one chaincode entry in a topology file's text, with
everything else in the file kept byte for byte."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from topology.editing import ChaincodeChange, Edit, apply_chaincode_change, unified_diff

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))
TWO_ORGS = (EXAMPLES / "two-orgs.yaml").read_text(encoding="utf-8")
MINIMAL = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")

# Comments everywhere, flow-style lists and mappings, plain, single- and double-quoted scalars,
# odd indentation, CRLF line endings and a last line without a line break.
TRICKY = "\r\n".join(
    [
        "# A network written by hand.   ",
        "apiVersion:   baas/v1alpha1   # spacing kept",
        "kind: 'Network'",
        "metadata: {name: tricky, labels: {team: 'a b'}}",
        "",
        "spec:",
        '   fabric: {version: "2.5"}',
        "   domain: example.com",
        "   organizations:",
        "   -   name: org1      # first",
        '       mspId: "Org1MSP"',
        "       peers: [ {name: peer0, anchor: true},{name: peer1} ]",
        "       orderers: [{name: orderer0}]",
        "   channels:",
        "   -   name: c1",
        "       organizations: [ org1 ]",
        "   -   name: c2",
        "       organizations: [org1]",
        "",
        "   # the chaincodes",
        "   chaincodes:",
        "   -   name: basic",
        "       channel: c1     # on c1",
        "       version: '1.0'",
        '       path: "chaincode/asset-transfer"',
        "",
        "       # trailing comment inside the entry",
        "   -   {name: flowcc, channel: c2, path: chaincode/asset-transfer}",
        "   -   name: basic",
        "       channel: c2",
        "       path: chaincode/asset-transfer",
        "       endorsement: OR('Org1MSP.peer')",
    ]
)


def edit(text: str, change: ChaincodeChange, source: str = "topology.yaml") -> Edit:
    return apply_chaincode_change(text, change, source=source)


def validate(text: str) -> topology.Network:
    network, _ = topology.loads(text, source="topology.yaml")
    return network


def chaincodes(text: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = yaml.safe_load(text)["spec"]["chaincodes"]
    return entries


def changes(old: str, new: str) -> list[tuple[str, list[str], list[str]]]:
    """The differing runs of lines (line ends included) as (operation, old lines, new)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [
        (op, a[i1:i2], b[j1:j2]) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal"
    ]


def error_of(text: str, change: ChaincodeChange) -> topology.Diagnostic:
    with pytest.raises(topology.TopologyError) as caught:
        edit(text, change)
    assert len(caught.value.errors) == 1
    diag = caught.value.errors[0]
    assert diag.file == "topology.yaml"
    assert diag.hint
    return diag


def dump_without(network: topology.Network, *fields: str) -> dict[str, Any]:
    data = network.dump()
    for entry in data["spec"]["chaincodes"]:
        for name in fields:
            entry.pop(name, None)
    return data


# --- Updating an existing entry --------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "key", "value"),
    [
        (ChaincodeChange("basic", version="2.0"), "version", "2.0"),
        (ChaincodeChange("basic", endorsement="OR('Org1MSP.peer')"), "endorsement", None),
        (ChaincodeChange("basic", path="chaincode/other"), "path", None),
    ],
)
def test_update_of_two_orgs_validates_and_changes_only_that_field(
    change: ChaincodeChange, key: str, value: str | None
) -> None:
    result = edit(TWO_ORGS, change)
    assert result.outcome == "updated"
    assert result.changed == (key,)
    assert result.index == 0
    before, after = validate(TWO_ORGS), validate(result.text)
    expected = value if value is not None else getattr(change, key)
    assert after.dump()["spec"]["chaincodes"][0][key] == expected
    assert dump_without(after, key) == dump_without(before, key)
    [(op, old, new)] = changes(TWO_ORGS, result.text)
    assert op == "replace" and len(old) == len(new) == 1
    assert old[0].split(":")[0] == new[0].split(":")[0] == f"      {key}"


def test_version_is_written_quoted_and_stays_a_string() -> None:
    result = edit(TWO_ORGS, ChaincodeChange("basic", version="2"))
    assert '      version: "2"\n' in result.text
    assert chaincodes(result.text)[0]["version"] == "2"
    added = edit(MINIMAL, ChaincodeChange("cc", path="p", version="1.10"))
    assert '      version: "1.10"\n' in added.text
    assert chaincodes(added.text)[0]["version"] == "1.10"


def test_several_fields_in_one_update_and_a_missing_key_added_after_the_last() -> None:
    change = ChaincodeChange(
        "basic", version="3.0", image="ghcr.io/acme/basic:3", init_required=True
    )
    result = edit(TWO_ORGS, change)
    assert result.changed == ("version", "image", "initRequired")
    entry = chaincodes(result.text)[0]
    assert entry["image"] == "ghcr.io/acme/basic:3"
    assert entry["initRequired"] is True
    assert list(entry) == [
        "name",
        "channel",
        "version",
        "path",
        "endorsement",
        "image",
        "initRequired",
    ]
    assert result.text.endswith(
        "      endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n"
        "      image: ghcr.io/acme/basic:3\n"
        "      initRequired: true\n"
    )
    validate(result.text)


def test_nothing_to_change_is_unchanged_with_an_empty_diff() -> None:
    for change in (
        ChaincodeChange("basic"),
        ChaincodeChange("basic", channel="mychannel"),
        ChaincodeChange("basic", version="1.0", path="chaincode/asset-transfer"),
    ):
        result = edit(TWO_ORGS, change)
        assert result == Edit(TWO_ORGS, "", "unchanged", 0, ())


def test_a_version_read_as_a_number_equals_its_text() -> None:
    text = TWO_ORGS.replace('version: "1.0"', "version: 7")
    assert edit(text, ChaincodeChange("basic", version="7")).outcome == "unchanged"
    result = edit(text, ChaincodeChange("basic", version="8"))
    assert '      version: "8"\n' in result.text


def test_replaced_values_keep_their_quoting_style() -> None:
    result = edit(TRICKY, ChaincodeChange("basic", channel="c1", version="1.1", path="cc/new"))
    assert "       version: '1.1'\r\n" in result.text
    assert '       path: "cc/new"\r\n' in result.text
    plain = edit(TRICKY, ChaincodeChange("basic", channel="c2", path="cc/new"))
    assert "       path: cc/new\r\n" in plain.text


def test_a_value_that_plain_yaml_would_misread_is_double_quoted() -> None:
    for value in ("yes", "1.5", "a #b", "x: y", "[a]", "*alias", " padded", "null", "@at", "é ü"):
        result = edit(TWO_ORGS, ChaincodeChange("basic", path=value))
        assert chaincodes(result.text)[0]["path"] == value, value
        assert len(changes(TWO_ORGS, result.text)) == 1


def test_a_hostile_value_cannot_break_out_of_its_field() -> None:
    evil = 'x"\nimage: evil\n  - name: other\r\u2028\x85\ufeff\x00\\'
    result = edit(TWO_ORGS, ChaincodeChange("basic", path=evil, endorsement="a'b\"c"))
    entry = chaincodes(result.text)[0]
    assert entry["path"] == evil
    assert entry["endorsement"] == "a'b\"c"
    assert "image" not in entry
    assert len(chaincodes(result.text)) == 1
    assert len(result.text.splitlines()) == len(TWO_ORGS.splitlines())


def test_the_entry_is_found_by_name_and_channel() -> None:
    result = edit(TRICKY, ChaincodeChange("basic", channel="c2", version="9"))
    assert result.index == 2
    entries = chaincodes(result.text)
    assert entries[2]["version"] == "9"
    assert entries[0]["version"] == "1.0"
    validate(result.text)


def test_a_name_on_several_channels_without_a_channel_is_refused_naming_them() -> None:
    diag = error_of(TRICKY, ChaincodeChange("basic", version="9"))
    assert diag.path == "spec.chaincodes[2].name"
    assert "'c1'" in diag.message and "'c2'" in diag.message
    assert "--channel" in diag.hint
    assert diag.line == 29


def test_a_flow_style_entry_gets_keys_inline() -> None:
    result = edit(TRICKY, ChaincodeChange("flowcc", version="2.0", image="img:1"))
    assert (
        '   -   {name: flowcc, channel: c2, path: chaincode/asset-transfer, version: "2.0", '
        "image: img:1}\r\n"
    ) in result.text
    assert len(changes(TRICKY, result.text)) == 1
    validate(result.text)


def test_a_block_scalar_value_is_replaced_whole() -> None:
    text = TWO_ORGS.replace(
        "      endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n",
        "      endorsement: >-\n        AND('Org1MSP.peer',\n        'Org2MSP.peer')\n",
    )
    result = edit(text, ChaincodeChange("basic", endorsement="OR('Org1MSP.peer')"))
    assert result.text == TWO_ORGS.replace(
        "\"AND('Org1MSP.peer','Org2MSP.peer')\"", "OR('Org1MSP.peer')"
    )


def test_an_empty_value_is_filled() -> None:
    text = TWO_ORGS.replace("path: chaincode/asset-transfer", "path:")
    result = edit(text, ChaincodeChange("basic", path="cc/x"))
    assert "      path: cc/x\n" in result.text


def test_anchored_and_aliased_values_are_refused() -> None:
    anchored = TWO_ORGS.replace('version: "1.0"', 'version: &v "1.0"')
    diag = error_of(anchored, ChaincodeChange("basic", version="2.0"))
    assert diag.path == "spec.chaincodes[0].version"
    assert "anchor" in diag.message
    whole = TWO_ORGS.replace("    - name: basic", "    - &cc\n      name: basic")
    assert error_of(whole, ChaincodeChange("basic", version="2.0")).path == "spec.chaincodes[0]"


def test_an_alias_elsewhere_does_not_disturb_the_edit() -> None:
    text = TWO_ORGS.replace("  domain: example.com", "  domain: &d example.com").replace(
        "      endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n",
        "      endorsement: \"AND('Org1MSP.peer','Org2MSP.peer')\"\n      image: *d\n",
    )
    result = edit(text, ChaincodeChange("basic", init_required=True))
    assert result.text.endswith("      image: *d\n      initRequired: true\n")
    added = edit(text, ChaincodeChange("two", path="p"))
    assert added.text.endswith(
        "      image: *d\n    - name: two\n      channel: mychannel\n      path: p\n"
    )


# --- Adding a new entry ----------------------------------------------------------------------


def test_a_new_entry_is_appended_in_the_files_style() -> None:
    result = edit(
        TWO_ORGS, ChaincodeChange("assets", path="chaincode/asset-transfer", version="1.0")
    )
    assert result.outcome == "added"
    assert result.index == 1
    assert result.changed == ("name", "channel", "version", "path")
    assert result.text == TWO_ORGS + (
        "    - name: assets\n"
        "      channel: mychannel\n"
        '      version: "1.0"\n'
        "      path: chaincode/asset-transfer\n"
    )
    network = validate(result.text)
    assert [c.name for c in network.spec.chaincodes] == ["basic", "assets"]


def test_a_new_entry_on_another_channel_of_an_existing_name() -> None:
    result = edit(TRICKY, ChaincodeChange("flowcc", channel="c1", path="p"))
    assert result.outcome == "added"
    assert result.index == 3
    assert result.text == TRICKY + "\r\n   -   name: flowcc\r\n       channel: c1\r\n       path: p"
    validate(result.text)


def test_spec_chaincodes_is_created_when_absent() -> None:
    result = edit(MINIMAL, ChaincodeChange("basic", path="chaincode/asset-transfer"))
    assert result.text == MINIMAL + (
        "  chaincodes:\n    - name: basic\n      channel: mychannel\n"
        "      path: chaincode/asset-transfer\n"
    )
    assert validate(result.text).spec.chaincodes[0].channel == "mychannel"


@pytest.mark.parametrize("null", ["", " ~", " null  # none yet"])
def test_a_null_spec_chaincodes_is_filled(null: str) -> None:
    text = MINIMAL.replace("  channels:", f"  chaincodes:{null}\n  channels:")
    result = edit(text, ChaincodeChange("basic", path="chaincode/asset-transfer"))
    validate(result.text)
    assert chaincodes(result.text) == [
        {"name": "basic", "channel": "mychannel", "path": "chaincode/asset-transfer"}
    ]
    assert "    - name: basic\n      channel: mychannel\n" in result.text
    assert ("# none yet" in result.text) == ("#" in null)


def test_an_empty_flow_list_gets_a_flow_entry() -> None:
    text = MINIMAL + "  chaincodes: []   # later\n"
    result = edit(text, ChaincodeChange("basic", path="chaincode/asset-transfer"))
    assert result.text == MINIMAL + (
        "  chaincodes: [{name: basic, channel: mychannel, path: chaincode/asset-transfer}]"
        "   # later\n"
    )
    validate(result.text)
    flow = text.replace("[]", "[{name: a, channel: mychannel, path: p}]")
    more = edit(flow, ChaincodeChange("b", path="q"))
    assert "[{name: a, channel: mychannel, path: p}, {name: b, channel: mychannel, path: q}]" in (
        more.text
    )


def test_a_new_entry_without_a_channel_needs_the_only_channel() -> None:
    diag = error_of(TRICKY, ChaincodeChange("fresh", path="p"))
    assert diag.path == "spec.chaincodes[3].channel"
    assert "c1, c2" in diag.message
    assert "--channel" in diag.hint
    none = MINIMAL.replace("  channels:\n    - name: mychannel\n      organizations: [org1]\n", "")
    diag = error_of(none, ChaincodeChange("fresh", path="p"))
    assert "spec.channels" in diag.hint


def test_a_new_entry_without_a_path_is_refused() -> None:
    diag = error_of(TWO_ORGS, ChaincodeChange("fresh", image="img:1"))
    assert diag.path == "spec.chaincodes[1].path"
    assert "--path" in diag.hint
    assert error_of(TWO_ORGS, ChaincodeChange("fresh")).path == "spec.chaincodes[1].path"


# --- Refused input ---------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_before_any_editing() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 7):
        bomb += (
            f"{chr(97 + level)}: &{chr(97 + level)} ["
            + ", ".join([f"*{chr(96 + level)}"] * 10)
            + "]\n"
        )
    with pytest.raises(topology.TopologyError) as caught:
        edit(bomb, ChaincodeChange("basic", version="2"), source="bomb.yaml")
    assert "alias" in caught.value.errors[0].message
    assert caught.value.errors[0].file == "bomb.yaml"


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", ""),
        ("- a\n- b\n", ""),
        ("apiVersion: baas/v1alpha1\nspec: [1]\n", "spec"),
        ("spec:\n  chaincodes: nope\n", "spec.chaincodes"),
        ("spec:\n  chaincodes: [1]\n", "spec.chaincodes[0]"),
        ("spec: {chaincodes: [], chaincodes: []}\n", "spec.chaincodes"),
    ],
)
def test_documents_of_the_wrong_shape_are_refused(text: str, path: str) -> None:
    assert error_of(text, ChaincodeChange("basic", path="p")).path == path


# --- Keeping the rest of the file ------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_one_field_edit_touches_only_that_line(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    validate_here = {"base_dir": example.parent}
    topology.loads(text, **validate_here)
    entries = yaml.safe_load(text)["spec"].get("chaincodes") or []
    if not entries:
        result = edit(text, ChaincodeChange("basic", path="chaincode/asset-transfer"))
        [(op, old, new)] = changes(text, result.text)
        assert op == "insert" and not old and len(new) == 4
    for field, value in (
        ("version", "9.9"),
        ("path", "chaincode"),
        ("endorsement", "OR('Org1MSP.peer')"),
    ):
        for entry in entries:
            change = ChaincodeChange(entry["name"], channel=entry["channel"], **{field: value})
            result = edit(text, change)
            topology.loads(result.text, **validate_here)
            [(op, old, new)] = changes(text, result.text)
            if field in entry:
                assert op == "replace" and len(old) == len(new) == 1
                assert old[0].split(":")[0] == new[0].split(":")[0]
            else:
                assert op == "insert" and len(new) == 1


TRICKY_LINES = {"version": 24, "path": 25}
"""1-based lines of the first ``basic`` entry's fields in TRICKY."""


@pytest.mark.parametrize("field", ["version", "path"])
def test_tricky_file_one_field_edit_touches_only_that_line(field: str) -> None:
    result = edit(TRICKY, ChaincodeChange("basic", channel="c1", **{field: "7.0"}))
    old_lines = TRICKY.splitlines(keepends=True)
    new_lines = result.text.splitlines(keepends=True)
    line = TRICKY_LINES[field] - 1
    assert len(old_lines) == len(new_lines)
    assert [i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b] == [
        line
    ]
    assert new_lines[line].endswith("\r\n")
    assert not result.text.endswith("\n")
    validate(result.text)


def test_tricky_file_edit_of_the_last_line_keeps_it_without_a_line_break() -> None:
    result = edit(TRICKY, ChaincodeChange("basic", channel="c2", endorsement="AND('Org1MSP.peer')"))
    assert result.text == TRICKY.replace("OR('Org1MSP.peer')", "AND('Org1MSP.peer')")
    added = edit(TRICKY, ChaincodeChange("basic", channel="c2", version="2"))
    assert added.text == TRICKY + '\r\n       version: "2"'
    assert "\\ No newline at end of file\n" in added.diff


def test_the_diff_is_a_unified_diff_of_the_file() -> None:
    result = edit(
        TWO_ORGS, ChaincodeChange("basic", version="2.0"), source="examples/two-orgs.yaml"
    )
    lines = result.diff.splitlines()
    assert lines[:3] == [
        "--- examples/two-orgs.yaml",
        "+++ examples/two-orgs.yaml",
        "@@ -36,6 +36,6 @@",
    ]
    assert [line for line in lines if line[:1] in "+-" and line[:3] not in ("---", "+++")] == [
        '-      version: "1.0"',
        '+      version: "2.0"',
    ]
    crlf = edit(TRICKY, ChaincodeChange("basic", channel="c1", version="2"))
    assert "\r" not in crlf.diff
    assert unified_diff("a\n", "a\n", source="x") == ""
    assert unified_diff("a", "b", source="x") == (
        "--- x\n+++ x\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n"
        "+b\n\\ No newline at end of file\n"
    )


def test_a_byte_order_mark_is_kept() -> None:
    result = edit("\ufeff" + TWO_ORGS, ChaincodeChange("basic", version="2.0"))
    assert result.text == "\ufeff" + TWO_ORGS.replace('"1.0"', '"2.0"')


# --- JSON ------------------------------------------------------------------------------------


def as_json(text: str, indent: int | None) -> str:
    return json.dumps(yaml.safe_load(text), indent=indent) + "\n"


@pytest.mark.parametrize("indent", [2, 4, None])
def test_json_topologies_are_edited_as_json(indent: int | None) -> None:
    text = as_json(TWO_ORGS, indent)
    updated = edit(text, ChaincodeChange("basic", version="2.0", image="img:2"))
    data = json.loads(updated.text)["spec"]["chaincodes"][0]
    assert data["version"] == "2.0" and data["image"] == "img:2"
    validate(updated.text)
    added = edit(text, ChaincodeChange("other", path="chaincode/asset-transfer"))
    assert [c["name"] for c in json.loads(added.text)["spec"]["chaincodes"]] == ["basic", "other"]
    validate(added.text)
    if indent is not None:
        pad = " " * 4 * indent
        endorsement = pad + "\"endorsement\": \"AND('Org1MSP.peer','Org2MSP.peer')\""
        assert changes(text, updated.text) == [  # JSON: the last line before a new key gains ","
            ("replace", [pad + '"version": "1.0",\n'], [pad + '"version": "2.0",\n']),
            ("replace", [endorsement + "\n"], [endorsement + ",\n", pad + '"image": "img:2"\n']),
        ]
        created = edit(as_json(MINIMAL, indent), ChaincodeChange("cc", path="p"))
        assert json.loads(created.text)["spec"]["chaincodes"] == [
            {"name": "cc", "channel": "mychannel", "path": "p"}
        ]
        assert f'\n{" " * indent * 2}"chaincodes": [\n' in created.text
    else:
        assert updated.text.count("\n") == 1


# --- Properties ------------------------------------------------------------------------------

printable = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=30,
)
versions = st.from_regex(r"\A[A-Za-z0-9_.+-]{1,20}\Z")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(["version", "path", "endorsement", "image", "collections"]),
    value=printable,
    base=st.sampled_from([TWO_ORGS, TRICKY]),
)
def test_any_value_lands_in_its_field_and_nothing_else_moves(
    field: str, value: str, base: str
) -> None:
    change = ChaincodeChange("basic", channel="c1" if base is TRICKY else None, **{field: value})
    result = edit(base, change)
    before, after = yaml.safe_load(base), yaml.safe_load(result.text)
    index = result.index
    if result.outcome == "unchanged":
        assert result.text == base and result.diff == ""
        return
    assert after["spec"]["chaincodes"][index].pop(field) == value
    before["spec"]["chaincodes"][index].pop(field, None)
    assert after == before
    [(op, old, new)] = changes(base, result.text)
    if op == "insert":  # a key the entry did not have, on a line of its own
        assert len(new) == 1
    elif len(new) == 1:  # the field's own line
        assert op == "replace" and len(old) == 1
    else:  # a key added after a last line without a line break: that line gains one
        assert op == "replace" and len(old) == 1 and len(new) == 2
        assert new[0].rstrip("\r\n") == old[0] and not base.endswith("\n")


@settings(max_examples=60, deadline=None)
@given(version=versions, path=st.from_regex(r"\A[a-z0-9/_-]{1,30}\Z"))
def test_updates_and_additions_of_valid_values_validate(version: str, path: str) -> None:
    for base, channel in ((TWO_ORGS, None), (TRICKY, "c1")):
        updated = edit(base, ChaincodeChange("basic", channel=channel, version=version, path=path))
        entry = validate(updated.text).spec.chaincodes[updated.index]
        assert (entry.version, entry.path) == (version, path)
        added = edit(base, ChaincodeChange("zz", channel=channel, version=version, path=path))
        assert validate(added.text).spec.chaincodes[-1].version == version
