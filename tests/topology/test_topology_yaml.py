"""Reading the file: YAML syntax, empty and non-mapping documents, duplicate keys, size cap,
alias bombs and runaway nesting. Everything here is refused before a model is built."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import topology
from topology import yamlsafe
from topology.errors import Diagnostic
from topology.yamlsafe import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MAX_FILE_BYTES,
    YamlProblem,
    check_nesting,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

Errors = Callable[[object], list[Diagnostic]]

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _only(diags: list[Diagnostic]) -> Diagnostic:
    assert len(diags) == 1, [d.render() for d in diags]
    return diags[0]


def test_syntax_error_names_line_and_column(errors: Errors) -> None:
    text = "apiVersion: baas/v1alpha1\nkind: Network\nmetadata:\n  name: [net\nspec: {}\n"
    diag = _only(errors(text))
    assert diag.message.startswith("YAML syntax error")
    assert diag.line is not None and diag.line >= 4
    assert diag.column is not None and diag.column >= 1
    assert diag.file.endswith("topology.yaml")
    assert diag.location == f"{diag.file}:{diag.line}:{diag.column}"
    assert diag.hint


def test_bad_indentation_points_at_the_offending_line(errors: Errors) -> None:
    text = "apiVersion: baas/v1alpha1\nkind: Network\nmetadata:\n  name: net\n   bad: 1\n"
    diag = _only(errors(text))
    assert "YAML syntax error" in diag.message
    assert (diag.line, diag.column) == (5, 7)


def test_tab_indentation_is_a_syntax_error(errors: Errors) -> None:
    diag = _only(errors("metadata:\n\tname: net\n"))
    assert "YAML syntax error" in diag.message
    assert diag.line == 2


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n"])
def test_empty_file(errors: Errors, text: str) -> None:
    diag = _only(errors(text))
    assert diag.message == "the file is empty"
    assert "examples/minimal.yaml" in diag.hint


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "list"), ("just text\n", "string"), ("42\n", "number"), ("true\n", "boolean")],
)
def test_document_that_is_not_a_mapping(errors: Errors, text: str, kind: str) -> None:
    diag = _only(errors(text))
    assert diag.message == f"the document is a {kind}, not a mapping"
    assert diag.line == 1


def test_several_documents_are_refused(errors: Errors) -> None:
    diag = _only(errors("a: 1\n---\nb: 2\n"))
    assert "more than one YAML document" in diag.message
    assert diag.line == 2


def test_duplicate_top_level_key(errors: Errors) -> None:
    text = "apiVersion: baas/v1alpha1\nkind: Network\nkind: Network\n"
    diag = _only(errors(text))
    assert diag.message == "duplicate key 'kind' (first defined on line 2)"
    assert diag.path == "kind"
    assert (diag.line, diag.column) == (3, 1)


def test_duplicate_nested_key_names_the_field_path(errors: Errors) -> None:
    text = (
        "apiVersion: baas/v1alpha1\nkind: Network\nmetadata: {name: net}\nspec:\n"
        "  domain: example.com\n  organizations:\n"
        "    - name: org1\n      mspId: Org1MSP\n      mspId: Org2MSP\n"
    )
    diag = _only(errors(text))
    assert diag.path == "spec.organizations[0].mspId"
    assert (diag.line, diag.column) == (9, 7)
    assert "first defined on line 8" in diag.message
    assert "silently" in diag.hint


def test_duplicate_key_in_flow_mapping(errors: Errors) -> None:
    diag = _only(errors("metadata: {name: a, name: b}\n"))
    assert diag.path == "metadata.name"
    assert diag.line == 1


def test_file_over_one_mebibyte_is_refused_before_parsing(errors: Errors) -> None:
    # Invalid YAML on purpose: the size check must win before any parsing happens.
    text = "[" + "x" * MAX_FILE_BYTES + "\n"
    diag = _only(errors(text))
    assert f"at most {MAX_FILE_BYTES}" in diag.message
    assert diag.line is None


def test_file_of_exactly_one_mebibyte_is_read(errors: Errors) -> None:
    text = "# " + "x" * (MAX_FILE_BYTES - 3) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES
    assert _only(errors(text)).message == "the file is empty"


def test_loads_refuses_oversized_text_too() -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.loads("# " + "x" * MAX_FILE_BYTES)
    assert "larger than 1024 KiB" in info.value.errors[0].message


def test_billion_laughs_is_refused(errors: Errors) -> None:
    diag = _only(errors(BILLION_LAUGHS))
    assert "alias bomb" in diag.message
    assert str(MAX_EXPANDED_NODES) in diag.message


def test_billion_laughs_inside_a_topology_is_refused(doc: dict[str, object]) -> None:
    text = (
        yaml.safe_dump(doc, sort_keys=False)
        + "  pki: {}\nbomb:\n"
        + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines())
    )
    with pytest.raises(topology.TopologyError) as info:
        topology.loads(text, base_dir=None)
    assert "alias bomb" in info.value.errors[0].message


def test_a_few_aliases_are_fine() -> None:
    text = (EXAMPLES / "two-orgs.yaml").read_text()
    text = text.replace("users: [alice]", "users: &u [alice]").replace("users: [bob]", "users: *u")
    network, _ = topology.loads(text, base_dir=None)
    assert network.spec.organizations[2].users == ["alice"]


def test_runaway_nesting_is_refused() -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.loads("a:\n" + "".join("  " * i + f"b{i}:\n" for i in range(1, 80)))
    assert "nests deeper than" in info.value.errors[0].message


def test_nesting_deeper_than_the_parser_stack_is_refused_without_crashing() -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.loads("[" * 5000 + "]" * 5000)
    assert "nests deeper than" in info.value.errors[0].message


def test_non_hashable_key_is_refused(errors: Errors) -> None:
    diag = _only(errors("? [a, b]\n: 1\n"))
    assert "plain value" in diag.message


def test_python_tags_are_not_executed(errors: Errors) -> None:
    diag = _only(errors("a: !!python/object/apply:os.system ['true']\n"))
    assert "YAML" in diag.message


def test_not_utf8(write: Callable[[object], Path]) -> None:
    path = write("")
    path.write_bytes(b"apiVersion: \xff\xfe\n")
    with pytest.raises(topology.TopologyError) as info:
        topology.load(path)
    assert "not UTF-8" in info.value.errors[0].message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.load(tmp_path / "absent.yaml")
    diag = info.value.errors[0]
    assert diag.message == "no such file"
    assert diag.file.endswith("absent.yaml")


def test_directory_is_not_a_topology(tmp_path: Path) -> None:
    with pytest.raises(topology.TopologyError) as info:
        topology.load(tmp_path)
    assert "not a regular file" in info.value.errors[0].message


def test_render_and_to_dict(errors: Errors) -> None:
    diag = _only(errors("- 1\n"))
    text = diag.render()
    assert text.startswith(f"{diag.file}:1:1: error: the document is a list")
    assert "\n  fix: " in text
    data = diag.to_dict()
    assert data["severity"] == "error" and data["line"] == 1 and data["path"] == ""


DEEP = 3000
TOO_DEEP = {
    "flow-lists": "spec: " + "[" * DEEP + "]" * DEEP,
    "flow-mappings": "spec: " + "{a: " * DEEP + "b" + "}" * DEEP,
    "json": '{"spec": ' + "[" * DEEP + "]" * DEEP + "}",
    "dashes-on-one-line": "spec:\n  " + "- " * DEEP + "x",
    "indented-mappings": "".join(" " * i + f"k{i}:\n" for i in range(300)),
    "indentless-sequences": "".join(" " * i + f"k{i}:\n" + " " * i + "- x\n" for i in range(70)),
    "explicit-keys": "? " * DEEP + "x",
    "after-a-plain-scalar-with-a-quote": "key: it's\nother: " + "[" * DEEP + " 'x'",
}


@pytest.mark.parametrize("name", sorted(TOO_DEEP))
def test_deep_documents_are_refused_by_the_pre_scan(name: str) -> None:
    """Refused by the linear pre-scan itself (before PyYAML reads a token), with a position."""
    with pytest.raises(YamlProblem) as info:
        check_nesting(TOO_DEEP[name])
    assert info.value.message == f"the document nests deeper than {MAX_DEPTH} levels"
    assert info.value.line is not None and info.value.column is not None
    with pytest.raises(topology.TopologyError) as loaded:
        topology.loads(TOO_DEEP[name])
    assert f"nests deeper than {MAX_DEPTH} levels" in loaded.value.errors[0].message


def test_the_limit_is_max_depth_for_flow_collections() -> None:
    check_nesting("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    with pytest.raises(YamlProblem) as info:
        check_nesting("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert (info.value.line, info.value.column) == (1, 3 + MAX_DEPTH)


NOT_NESTING = {
    "single-quoted": "a: '" + "[" * DEEP + "'",
    "double-quoted": 'a: "' + "[" * DEEP + '\\" [[["',
    "multi-line-quoted": "a: '\n  " + "[" * DEEP + "\n  '\nb: 1",
    "plain-scalar": "a: x " + "[" * DEEP,
    "plain-continuation": "a: x\n  " + "[" * DEEP + "\nb: 1",
    "comment": "a: 1 # " + "[" * DEEP + "\n# " + "{" * DEEP,
    "literal-block": "a: |\n  " + "[" * DEEP + "\n\n  - - - - -\nb: 1",
    "folded-block-with-increment": "a: >2\n   " + "[" * DEEP + "\nb: 1",
    "closing-brackets-only": "a: " + "]" * DEEP,
}


@pytest.mark.parametrize("name", sorted(NOT_NESTING))
def test_brackets_in_text_are_not_nesting(name: str) -> None:
    check_nesting(NOT_NESTING[name])


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_the_examples_pass_the_pre_scan_as_yaml_and_json(example: Path) -> None:
    text = example.read_text()
    check_nesting(text)
    check_nesting(json.dumps(yaml.safe_load(text), indent=2))


def test_the_composer_guard_holds_without_the_pre_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader itself refuses a node deeper than MAX_DEPTH (never a RecursionError), even
    for text the pre-scan did not look at."""
    monkeypatch.setattr(yamlsafe, "check_nesting", lambda text: None)
    with pytest.raises(YamlProblem) as info:
        yamlsafe.parse("spec: " + "[" * DEEP + "]" * DEEP)
    assert info.value.message == f"the document nests deeper than {MAX_DEPTH} levels"
    assert info.value.line == 1
    data, _ = yamlsafe.parse("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))
    assert isinstance(data, dict)


@pytest.mark.parametrize("text", ["\x1fapiVersion: x\n", "a: 1\nb: x\x7f\n", "a: '\ud800'\n"])
def test_a_character_yaml_does_not_allow_is_a_diagnostic(text: str) -> None:
    """Found by the fuzz test: PyYAML's reader raised its own error from the loader's
    constructor, before the parse errors were translated."""
    with pytest.raises(topology.TopologyError) as info:
        topology.loads(text, source="t.yaml")
    diag = info.value.errors[0]
    assert "character YAML does not allow" in diag.message
    lines = text.split("\n")
    line = next(i for i, part in enumerate(lines, 1) if not part.isprintable())
    assert diag.line == line and diag.column is not None and diag.hint


UNREADABLE = {
    "explicit-int": ("a: !!int abc\n", "'abc' is not a valid int"),
    "empty-int": ("a: !!int ''\n", "'' is not a valid int"),
    "verbatim-int-tag": ("a: !<tag:yaml.org,2002:int> x\n", "'x' is not a valid int"),
    "explicit-float": ("a: !!float .\n", "'.' is not a valid float"),
    "explicit-bool": ("a: !!bool maybe\n", "'maybe' is not a valid bool"),
    "impossible-date": ("a: 2001-13-45\n", "'2001-13-45' is not a valid timestamp"),
    "explicit-timestamp": ("a: !!timestamp 2001-01-01t\n", "is not a valid timestamp"),
    "5000-digit-int": ("a: " + "1" * 5000 + "\n", "is not a valid int (Exceeds the limit"),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_values_pyyaml_cannot_construct_are_diagnostics(name: str) -> None:
    """Found by the fuzz test: PyYAML's scalar constructors raise bare ValueError, KeyError or
    AttributeError for these; each is now an error at the value's line and column."""
    text, message = UNREADABLE[name]
    with pytest.raises(topology.TopologyError) as info:
        topology.loads(text, source="t.yaml")
    diag = _only(info.value.errors)
    assert message in diag.message
    assert (diag.line, diag.column) == (1, 4) and diag.hint


@pytest.mark.parametrize("tag", ["!!set", "!!map"])
def test_a_mapping_tag_on_a_sequence_is_a_diagnostic(tag: str) -> None:
    """Found by the fuzz test: the duplicate-key check asserted it was given a mapping."""
    with pytest.raises(topology.TopologyError) as info:
        topology.loads(f"a: {tag} [1]\n", source="t.yaml")
    assert "expected a mapping node" in _only(info.value.errors).message
