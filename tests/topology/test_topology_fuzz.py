"""Fuzzing the topology loader and validator (``topology.loads``) and the API's body parser
(``baas.api.topologies.parse``) with Hypothesis: random YAML/JSON structures, random text and
bytes, and mutations of the real examples (keys and values deleted, duplicated, replaced or
retyped, text truncated or spliced, deep nesting, anchors and aliases).

Every input must either load or be refused with baas's own :class:`topology.TopologyError`
whose diagnostics are well formed (a message, the source's name, no traceback); any other
exception is a crash. No timing thresholds here (deadline off): ``make fuzz`` runs the same
tests with a long budget (``BAAS_FUZZ_EXAMPLES`` examples per test, default
:data:`DEFAULT_EXAMPLES`) through ``bench/fuzz_topology.py``, which prints the inputs tried,
the crashes found and the slowest input's time, recorded in :data:`STATS`.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import topology
from baas.api import topologies
from topology.yamlsafe import MAX_DEPTH, YamlProblem, check_nesting

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_TEXTS = [p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))]
EXAMPLE_DOCS: list[Any] = [yaml.safe_load(t) for t in EXAMPLE_TEXTS]
SOURCE = "fuzz.yaml"
DEFAULT_EXAMPLES = 700
EXAMPLES_PER_TEST = int(os.environ.get("BAAS_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))

FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    database=None,  # fresh inputs every run; a crash found becomes an explicit regression test
    suppress_health_check=list(HealthCheck),
)


@dataclass
class FuzzStats:
    """What the fuzz tests have tried so far (read by ``bench/fuzz_topology.py``)."""

    inputs: int = 0
    slowest: float = 0.0
    slowest_input: str = ""

    def record(self, text: str, seconds: float) -> None:
        self.inputs += 1
        if seconds > self.slowest:
            self.slowest, self.slowest_input = seconds, text


STATS = FuzzStats()


# Checks -------------------------------------------------------------------------------------


def _well_formed(error: topology.TopologyError, source: str) -> None:
    """A refusal a user can act on: at least one error, each naming ``source``, with a
    message, a plausible position and no traceback in its text."""
    assert error.errors, "a TopologyError must carry an error"
    for diag in error.diagnostics:
        assert diag.file == source
        assert isinstance(diag.message, str) and diag.message
        assert diag.line is None or diag.line >= 1
        assert diag.column is None or diag.column >= 1
        assert "Traceback" not in diag.render()


def check_loads(text: str) -> None:
    """``topology.loads`` accepts ``text`` or refuses it with a well-formed TopologyError."""
    started = time.perf_counter()
    try:
        topology.loads(text, source=SOURCE, base_dir=EXAMPLES)
    except topology.TopologyError as error:
        _well_formed(error, SOURCE)
    finally:
        STATS.record(text, time.perf_counter() - started)


def check_api_parse(body: bytes, media: str) -> None:
    """The API's parser accepts ``body`` or refuses it with a well-formed TopologyError."""
    started = time.perf_counter()
    try:
        topologies.parse(body, media=media, source_dir=EXAMPLES)
    except topology.TopologyError as error:
        _well_formed(error, topologies.BODY)
    finally:
        STATS.record(body.decode("utf-8", errors="replace"), time.perf_counter() - started)


# Strategies ---------------------------------------------------------------------------------


def _keys_of(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            out.add(str(key))
            _keys_of(child, out)
    elif isinstance(value, list):
        for child in value:
            _keys_of(child, out)
    return out


KNOWN_KEYS = sorted(set().union(*(_keys_of(d, set()) for d in EXAMPLE_DOCS)))
TRICKY_STRINGS = [
    "",
    "org1",
    "Org1MSP",
    "etcdraft",
    "BFT",
    "2.5",
    "3.1",
    "baas/v1alpha1",
    "Network",
    "example.com",
    "chaincode/asset-transfer",
    "../../etc",
    "/etc",
    "AND('Org1MSP.peer')",
    "OR(",
    "OutOf(2, 'Org1MSP.member')",
    "~",
    "yes",
    "1e400",
    "-.inf",
    ".nan",
    "0x1F",
    "&a",
    "*a",
    "- x",
    "a: b",
    "[[[",
    "\x00",
    "\ufeff",
    "\u2028",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(TRICKY_STRINGS)
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=12)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
STYLES = ["yaml-block", "yaml-flow", "yaml-default", "json", "json-indented"]


def serialise(value: Any, style: str) -> str:
    """``value`` as YAML (block, flow or PyYAML's mix) or JSON (compact or indented)."""
    if style.startswith("json"):
        return json.dumps(value, indent=2 if style == "json-indented" else None)
    flow = {"yaml-block": False, "yaml-flow": True}.get(style)
    return yaml.safe_dump(value, default_flow_style=flow, sort_keys=False, allow_unicode=True)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in ``value`` (the root is ``()``)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


RETYPES: list[Callable[[Any], Any]] = [
    lambda v: [v],
    lambda v: {"value": v},
    str,
    lambda v: 7,
    lambda v: None,
    lambda v: True,
    lambda v: json.dumps(v),
]


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """An example document after a few structural mutations at random paths."""
    doc = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(doc)))
        doc = _mutate_at(doc, path, draw)
    return doc


def _mutate_at(doc: Any, path: tuple[Any, ...], draw: st.DrawFn) -> Any:
    """One of: delete, duplicate, replace, retype or deeply nest the value at ``path``."""
    if not path:
        return draw(values) if draw(st.booleans()) else doc
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last, current = path[-1], parent[path[-1]]
    action = draw(st.sampled_from(["delete", "duplicate", "replace", "retype", "nest"]))
    if action == "delete":
        del parent[last]
    elif action == "duplicate" and isinstance(parent, list):
        parent.insert(last, copy.deepcopy(current))
    elif action == "duplicate":
        parent[draw(keys)] = copy.deepcopy(current)
    elif action == "replace":
        parent[last] = draw(values)
    elif action == "retype":
        parent[last] = draw(st.sampled_from(RETYPES))(current)
    else:
        parent[last] = _nest(current, draw(st.integers(1, MAX_DEPTH + 20)))
    return doc


def _anchor_and_alias(text: str, at: int, to: int) -> str:
    """Anchor the value after the ``at``-th ``": "`` and refer to it after the ``to``-th."""
    parts = text.split(": ")
    if len(parts) < 3:
        return text
    at, to = at % (len(parts) - 1) + 1, to % (len(parts) - 1) + 1
    parts[at] = "&fz " + parts[at]
    if to != at:
        parts[to] = "*fz" + parts[to][parts[to].find("\n") :] if "\n" in parts[to] else "*fz"
    return ": ".join(parts)


TEXT_EDITS = [
    "truncate",
    "insert",
    "delete",
    "duplicate-line",
    "swap-lines",
    "indent",
    "anchor",
    "nest",
]


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """An example's text after a few textual edits (truncation, random insertions, line
    edits, anchors and aliases, a deep flow nest)."""
    text: str = draw(st.sampled_from(EXAMPLE_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        text = _edit(text, draw(st.sampled_from(TEXT_EDITS)), draw)
    return text


def _edit(text: str, edit: str, draw: st.DrawFn) -> str:
    at = draw(st.integers(0, max(0, len(text))))
    lines = text.split("\n")
    line = draw(st.integers(0, len(lines) - 1))
    if edit == "truncate":
        return text[:at]
    if edit == "insert":
        noise = draw(st.text(max_size=8) | st.sampled_from(["[", "{", "- ", ": ", "'", '"', "#"]))
        return text[:at] + noise + text[at:]
    if edit == "delete":
        return text[:at] + text[at + draw(st.integers(1, 40)) :]
    if edit == "duplicate-line":
        lines.insert(line, lines[line])
    elif edit == "swap-lines":
        other = draw(st.integers(0, len(lines) - 1))
        lines[line], lines[other] = lines[other], lines[line]
    elif edit == "indent":
        lines[line] = " " * draw(st.integers(0, 6)) + lines[line].lstrip(" ")
    elif edit == "anchor":
        return _anchor_and_alias(text, draw(st.integers(0, 99)), draw(st.integers(0, 99)))
    else:
        depth = draw(st.integers(MAX_DEPTH - 2, 3 * MAX_DEPTH))
        opener = draw(st.sampled_from(["[", "{a: ", "- "]))
        closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
        return text[:at] + opener * depth + "x" + closer * depth + text[at:]
    return "\n".join(lines)


TAGS = ["", "", "!!str", "!!int", "!!float", "!!bool", "!!null", "!!timestamp", "!!binary"]
TAGS += ["!!set", "!!map", "!!seq", "!!omap", "!!pairs", "!!merge", "!<tag:yaml.org,2002:int>"]
SPELLINGS = ["abc", "''", "0x", "0b", "0o", "0b2", "1_0", "190:20:30", ".", "maybe", "~", "<<"]
SPELLINGS += ["2001-13-45", "2001-01-01t", "2001-02-29", "1" * 5000, "[1]", "{a: 1}", "@@", "-"]
raw_scalars = st.builds(
    lambda tag, body: f"{tag} {body}".strip(),
    st.sampled_from(TAGS),
    st.sampled_from(SPELLINGS) | st.text(alphabet="0123456789-:.+_xobe tT", max_size=12),
)
"""A value's YAML spelling, with or without an explicit tag: what PyYAML's constructors read."""


@st.composite
def retagged_texts(draw: st.DrawFn) -> str:
    """An example's text with a few values (after ``key: ``) respelt as :data:`raw_scalars`."""
    lines = draw(st.sampled_from(EXAMPLE_TEXTS)).split("\n")
    valued = [i for i, line in enumerate(lines) if ": " in line] or [0]
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.sampled_from(valued))
        key, _, _ = lines[index].partition(": ")
        lines[index] = f"{key}: {draw(raw_scalars)}"
    return "\n".join(lines)


MEDIA = st.sampled_from([topologies.YAML, topologies.JSON])


# The fuzz tests -----------------------------------------------------------------------------


@FUZZ
@given(values, st.sampled_from(STYLES))
def test_fuzz_random_structures(value: Any, style: str) -> None:
    check_loads(serialise(value, style))


@FUZZ
@given(mutated_documents(), st.sampled_from(STYLES))
def test_fuzz_mutated_example_documents(doc: Any, style: str) -> None:
    check_loads(serialise(doc, style))


@FUZZ
@given(mutated_texts())
def test_fuzz_mutated_example_texts(text: str) -> None:
    check_loads(text)


@FUZZ
@given(retagged_texts() | st.builds("a: {}\n".format, raw_scalars))
def test_fuzz_value_spellings(text: str) -> None:
    check_loads(text)


@FUZZ
@given(st.text(max_size=400) | st.text(alphabet="[]{}-:?&*!|>'\"# \n\t,ab", max_size=400))
def test_fuzz_random_text(text: str) -> None:
    check_loads(text)


@FUZZ
@given(
    st.binary(max_size=300)
    | mutated_texts().map(str.encode)
    | retagged_texts().map(str.encode)
    | st.builds('{{"apiVersion": {}}}'.format, st.sampled_from(SPELLINGS)).map(str.encode)
    | st.builds(serialise, mutated_documents(), st.sampled_from(STYLES)).map(str.encode),
    MEDIA,
)
def test_fuzz_api_bodies(body: bytes, media: str) -> None:
    check_api_parse(body, media)


def _true_depth(root: yaml.Node) -> int:
    """Deepest node of a composed document (root 0), without recursion."""
    deepest, stack, seen = 0, [(root, 0)], set()
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if id(node) in seen:
            continue
        seen.add(id(node))
        children = node.value if isinstance(node, yaml.SequenceNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        stack += [(child, depth + 1) for child in children]
    return deepest


@FUZZ
@given(
    st.builds(serialise, values | mutated_documents(), st.sampled_from(STYLES)) | mutated_texts()
)
def test_fuzz_the_pre_scan_never_counts_short(text: str) -> None:
    """For every text PyYAML composes, ``check_nesting`` counts at least its real depth
    (refusing it at a limit one below), so the composer never goes deeper than the limit."""
    started = time.perf_counter()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return
    finally:
        STATS.record(text, time.perf_counter() - started)
    if root is None or _true_depth(root) == 0:
        return
    with pytest.raises(YamlProblem):
        check_nesting(text, limit=_true_depth(root) - 1)


def test_an_overlong_chaincode_path_is_a_diagnostic() -> None:
    """Found by ``make fuzz``: a folder name longer than the file system allows made
    ``Path.is_dir()`` raise ENAMETOOLONG out of the chaincode-folder check."""
    text = EXAMPLE_TEXTS[-1].replace("path: chaincode/asset-transfer", "path: " + "c" * 300)
    assert "c" * 300 in text
    check_loads(text)
