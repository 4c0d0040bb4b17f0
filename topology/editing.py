"""Editing a topology file's text: add or update one chaincode entry, touching nothing else.

:func:`apply_chaincode_change` is the file half of ``baas chaincode deliver``: it takes the
topology *text* and a :class:`ChaincodeChange`, and returns the new text with a unified diff of
the two. It is pure (no I/O) and never validates the result against the model: the caller runs
:func:`topology.loads` on :attr:`Edit.text` (an input that validated gives an output that
validates, provided the change's values are themselves valid).

How the file is kept
    The text is edited in place, span by span, from the positions PyYAML's composer gives every
    node; it is never re-serialised. Every byte outside the edited spans stays as it was:
    comments, key order, blank lines, indentation, quoting of untouched values, flow-style
    lists, CRLF line endings, a BOM, a final line without a line break. A replaced value keeps
    its old quoting style when that style can hold the new value (version strings are always
    written quoted, ``"1.0"``, so YAML keeps them strings); a new key goes on its own line after
    the entry's last one, at the entry's indentation, with the file's line break; a new entry
    goes after the last one of ``spec.chaincodes`` (which is created, after the last key of
    ``spec``, when absent or null), indented as the file's other lists are.
    ruamel.yaml's round trip was tried and rejected: it re-indents every sequence to one style,
    normalises spacing inside flow lists and after keys, rewraps long lines, drops ``~`` and
    writes LF for CRLF files.

JSON
    A topology written as JSON (YAML's flow style) is edited the same way, in JSON syntax:
    quoted keys, JSON values, and new keys and entries laid out as the surrounding object is
    (one per line at its indentation when it spans several lines, inline otherwise). The
    output is still JSON.

Refused (:class:`topology.TopologyError`, one :class:`topology.Diagnostic` naming ``source``,
the field path and the fix): text :mod:`topology.yamlsafe` refuses (size, depth, alias bombs,
syntax), a document whose ``spec``/``spec.chaincodes``/entry is not of the right kind, a name
declared on several channels when no channel is given, a new entry without a channel when the
network does not have exactly one, a new entry without a ``path``, and an edit that would go
through a YAML anchor or alias (it would change every place that shares it).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from yaml.nodes import CollectionNode, MappingNode, Node, ScalarNode, SequenceNode

from topology.errors import Diagnostic, TopologyError
from topology.yamlsafe import Positions, YamlProblem, join_path, parse

Outcome = Literal["added", "updated", "unchanged"]
Value = str | bool


@dataclass(frozen=True)
class ChaincodeChange:
    """What to set on the chaincode entry called ``name``. ``None`` leaves a field as it is
    (or, on a new entry, out of the file). ``channel`` picks the entry (and is the new entry's
    channel); it is never changed on an existing entry. ``collections`` is written as a string
    (the path of a ``collections_config.json``)."""

    name: str
    path: str | None = None
    image: str | None = None
    version: str | None = None
    endorsement: str | None = None
    channel: str | None = None
    init_required: bool | None = None
    collections: str | None = None
    approval: str | None = None

    def fields(self) -> list[tuple[str, Value]]:
        """The given fields other than ``name`` and ``channel`` as ``(file key, value)``, in
        the order a new entry lists them."""
        given: list[tuple[str, Value | None]] = [
            ("version", self.version),
            ("path", self.path),
            ("image", self.image),
            ("endorsement", self.endorsement),
            ("initRequired", self.init_required),
            ("collections", self.collections),
            ("approval", self.approval),
        ]
        return [(key, value) for key, value in given if value is not None]


@dataclass(frozen=True)
class Edit:
    """The result of an edit. ``text`` is the whole new file; ``diff`` a unified diff of old
    vs new (empty when ``outcome`` is ``"unchanged"``); ``index`` the entry's position in
    ``spec.chaincodes``; ``changed`` the file keys written (``()`` when unchanged)."""

    text: str
    diff: str
    outcome: Outcome
    index: int
    changed: tuple[str, ...]


def apply_chaincode_change(text: str, change: ChaincodeChange, *, source: str) -> Edit:
    """Add or update ``change.name``'s entry in the topology ``text`` (``source`` names the
    file in diagnostics and in the diff's header).

    The entry is the one with that name (on ``change.channel`` when given). An existing entry
    gets only the given fields that differ from what the file says; the rest of the file is
    kept byte for byte. No entry: a new one is appended to ``spec.chaincodes``; its channel
    defaults to the network's only channel. Nothing to change: ``"unchanged"``, the same text
    and an empty diff. Raises :class:`TopologyError` (see the module docstring)."""
    doc = _Document.read(text, source=source)
    chaincodes = doc.chaincodes()
    index = _find_entry(doc, chaincodes, change)
    if index is None:
        return _add(doc, chaincodes, change)
    return _update(doc, chaincodes, index, change)


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Document:
    """The text, its data (as :func:`topology.yamlsafe.parse` built it), the field positions and
    the composed node graph whose marks are offsets into ``text``."""

    text: str
    source: str
    data: dict[str, Any]
    positions: Positions
    root: MappingNode
    newline: str
    json: bool

    @classmethod
    def read(cls, text: str, *, source: str) -> _Document:
        try:
            data, positions = parse(text)  # refuses bombs before anything else reads the text
        except YamlProblem as exc:
            raise TopologyError(
                [Diagnostic("error", source, exc.path, exc.message, exc.hint, exc.line, exc.column)]
            ) from None
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if not isinstance(data, dict) or not isinstance(root, MappingNode):
            raise _error(source, "", "the document is not a mapping", _WHOLE_HINT, positions)
        return cls(
            text=text,
            source=source,
            data=data,
            positions=positions,
            root=root,
            newline=_newline(text),
            json=bool(root.flow_style),
        )

    def fail(self, path: str, message: str, hint: str) -> TopologyError:
        """The error for ``path`` (placed at its line, or its closest ancestor's)."""
        return _error(self.source, path, message, hint, self.positions)

    def spec(self) -> MappingNode:
        spec = _value(self.root, "spec")
        if not isinstance(spec, MappingNode) or _shared(self, spec):
            raise self.fail("spec", "spec is missing or not a mapping", _WHOLE_HINT)
        return spec

    def spec_data(self) -> dict[str, Any]:
        spec = self.data.get("spec")
        if not isinstance(spec, dict):
            raise self.fail("spec", "spec is missing or not a mapping", _WHOLE_HINT)
        return spec

    def chaincodes(self) -> list[dict[str, Any]]:
        """``spec.chaincodes`` as data (``[]`` when absent or null)."""
        entries = self.spec_data().get("chaincodes")
        if entries is None:
            return []
        if not isinstance(entries, list):
            raise self.fail("spec.chaincodes", "spec.chaincodes is not a list", _LIST_HINT)
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self.fail(f"spec.chaincodes[{i}]", "this entry is not a mapping", _LIST_HINT)
        return entries

    def chaincodes_node(self) -> tuple[MappingNode, ScalarNode | None, Node | None]:
        """``spec``'s node, and the key and value nodes of ``chaincodes`` (``None`` when
        absent); refuses a ``chaincodes`` value that is anchored or an alias."""
        spec = self.spec()
        found = _pair(spec, "chaincodes")
        if found is None:
            return spec, None, None
        key, value = found
        if value.start_mark.index < key.start_mark.index or _shared(self, value):
            raise self.fail("spec.chaincodes", "this value is a YAML anchor or alias", _ANCHOR_HINT)
        return spec, key, value

    def channels(self) -> list[str]:
        channels = self.spec_data().get("channels")
        if not isinstance(channels, list):
            return []
        return [str(c["name"]) for c in channels if isinstance(c, dict) and "name" in c]


_WHOLE_HINT = "a topology file is a mapping with apiVersion, kind, metadata and spec"
_LIST_HINT = "spec.chaincodes is a list of mappings ('- name: ...'); see examples/two-orgs.yaml"
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")


def _newline(text: str) -> str:
    """The file's line break (its first one), ``"\\n"`` for a one-line file."""
    found = _LINE_BREAK.search(text)
    return found.group() if found else "\n"


def _pairs(mapping: MappingNode) -> Iterator[tuple[ScalarNode, Node]]:
    """The mapping's own ``(key, value)`` pairs with a plain key (merge keys excluded)."""
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            yield key, value


def _pair(mapping: MappingNode, key: str) -> tuple[ScalarNode, Node] | None:
    return next(((k, v) for k, v in _pairs(mapping) if k.value == key), None)


def _value(mapping: MappingNode, key: str) -> Node | None:
    found = _pair(mapping, key)
    return found[1] if found else None


def _error(source: str, path: str, message: str, hint: str, positions: Positions) -> TopologyError:
    found = positions.find(path)
    line, column = found if found else (None, None)
    return TopologyError([Diagnostic("error", source, path, message, hint, line, column)])


# --- Finding the entry -----------------------------------------------------------------------


def _find_entry(
    doc: _Document, chaincodes: list[dict[str, Any]], change: ChaincodeChange
) -> int | None:
    """Index of the entry ``change`` is about, ``None`` when there is none. Refuses a name
    declared on several channels when ``change.channel`` is not given."""
    named = [i for i, entry in enumerate(chaincodes) if entry.get("name") == change.name]
    if change.channel is not None:
        named = [i for i in named if chaincodes[i].get("channel") == change.channel]
    if len(named) > 1 and change.channel is None:
        where = ", ".join(repr(str(chaincodes[i].get("channel"))) for i in named)
        raise doc.fail(
            f"spec.chaincodes[{named[1]}].name",
            f"chaincode {change.name!r} is declared on several channels ({where})",
            f"say which one: --channel {chaincodes[named[0]].get('channel')}",
        )
    return named[0] if named else None


# --- Updating an existing entry --------------------------------------------------------------


def _update(
    doc: _Document, chaincodes: list[dict[str, Any]], index: int, change: ChaincodeChange
) -> Edit:
    entry = chaincodes[index]
    todo = [(k, v) for k, v in change.fields() if not _same(entry.get(k), v, key=k)]
    if not todo:
        return Edit(doc.text, "", "unchanged", index, ())
    node = _entry_node(doc, index)
    path = f"spec.chaincodes[{index}]"
    splices: list[_Splice] = []
    missing: list[tuple[str, Value]] = []
    for key, value in todo:
        found = _pair(node, key)
        if found is None:
            missing.append((key, value))
        else:
            splices.append(_replace_value(doc, node, found, value, path=path))
    if missing:
        splices.append(_add_keys(doc, node, missing))
    new = _apply(doc.text, splices)
    diff = unified_diff(doc.text, new, source=doc.source)
    return Edit(new, diff, "updated", index, tuple(k for k, _ in todo))


def _same(current: Any, new: Value, *, key: str) -> bool:
    """Whether the file already says ``new`` (a version ``1`` read as a number is ``"1"``)."""
    if key == "version" and type(current) is int:
        return str(current) == new
    return type(current) is type(new) and current == new


def _entry_node(doc: _Document, index: int) -> MappingNode:
    _, _, sequence = doc.chaincodes_node()
    assert isinstance(sequence, SequenceNode)  # chaincodes() checked the data
    node = sequence.value[index]
    path = f"spec.chaincodes[{index}]"
    if not isinstance(node, MappingNode):
        raise doc.fail(path, "this entry is not a mapping", _LIST_HINT)
    if _shared(doc, node):
        raise doc.fail(path, "this entry is a YAML anchor or alias", _ANCHOR_HINT)
    return node


_ANCHOR_HINT = (
    "editing it would change every place that shares it; write the entry out in full "
    "(no &anchor/*alias) or edit the file by hand"
)
_ANCHORED = re.compile(r"(?:![^\s]*\s+)?&")


def _shared(doc: _Document, node: Node) -> bool:
    """The node carries an anchor (``&name``, maybe after a tag): aliases may share it. (Every
    aliased node is anchored, and a node's start mark is that of its anchor or tag.)"""
    return _ANCHORED.match(doc.text, node.start_mark.index) is not None


@dataclass(frozen=True)
class _Splice:
    """Replace ``text[start:end]`` with ``new`` (``start == end``: insert)."""

    start: int
    end: int
    new: str


def _apply(text: str, splices: Sequence[_Splice]) -> str:
    """``text`` with non-overlapping ``splices`` applied (right to left, so offsets hold)."""
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.new + text[splice.end :]
    return text


def _replace_value(
    doc: _Document,
    mapping: MappingNode,
    pair: tuple[ScalarNode, Node],
    value: Value,
    *,
    path: str,
) -> _Splice:
    """Write ``value`` over the value of ``pair`` (a key of the entry ``mapping``): a one-line
    scalar in place, keeping its quoting style; anything else (a block scalar, a collection)
    from the ``:`` on."""
    key, current = pair
    field = join_path(path, key.value)
    if current.start_mark.index < key.start_mark.index or _shared(doc, current):
        raise doc.fail(field, "this value is a YAML anchor or alias", _ANCHOR_HINT)
    flow = bool(mapping.flow_style)
    start, end = current.start_mark.index, current.end_mark.index
    if isinstance(current, ScalarNode) and current.style not in ("|", ">"):
        if start == end:  # "key:" with nothing after it
            return _Splice(start, end, " " + _scalar(doc, key.value, value, flow=flow))
        rendered = _scalar(doc, key.value, value, flow=flow, style=current.style)
        return _Splice(start, end, rendered)
    colon = doc.text.index(":", key.end_mark.index) + 1
    rendered = _scalar(doc, key.value, value, flow=flow)
    return _Splice(colon, _content_end(doc.text, current), " " + rendered)


def _content_end(text: str, node: Node) -> int:
    """Where ``node``'s own text ends: after a flow collection's bracket, after a scalar's
    last character (a block scalar's trailing line breaks excluded), else where the block
    collection's last element ends (:func:`_inner_end`)."""
    if not isinstance(node, CollectionNode) or node.flow_style:
        end = node.end_mark.index
        while end > node.start_mark.index and text[end - 1] in _BLANKS:
            end -= 1
        return end
    return _inner_end(text, node)


_BLANKS = " \t\r\n\x85\u2028\u2029"


def _inner_end(text: str, node: Node) -> int:
    """Where the last element of the collection ``node`` ends (a mapping's: its last value).
    An alias's marks are its anchor's, earlier in the file: an element that starts before the
    end of the one before it is an alias, and ends after the ``*name`` that comes next."""
    cursor = node.start_mark.index
    if isinstance(node, MappingNode):
        for key, value in node.value:
            cursor = max(cursor, _end_after(text, key, cursor))
            cursor = max(cursor, _end_after(text, value, cursor))
    else:
        for item in node.value:
            cursor = max(cursor, _end_after(text, item, cursor))
    return cursor


def _end_after(text: str, node: Node, cursor: int) -> int:
    if node.start_mark.index < cursor:
        return _alias_end(text, cursor)
    return _content_end(text, node)


_ALIAS_OR_COMMENT = re.compile(r"#[^\r\n\x85\u2028\u2029]*|\*[^\s,\[\]{}]+")


def _alias_end(text: str, start: int) -> int:
    """End of the first ``*alias`` token after ``start`` (comments skipped)."""
    for found in _ALIAS_OR_COMMENT.finditer(text, start):
        if found.group().startswith("*"):
            return found.end()
    raise ValueError("no alias after this position")  # cannot happen for composed text


def _line_end(text: str, index: int) -> int:
    """Index of the line break ending the line ``index`` is on (``len(text)`` on the last)."""
    found = _LINE_BREAK.search(text, index)
    return found.start() if found else len(text)


def _add_keys(doc: _Document, mapping: MappingNode, fields: list[tuple[str, Value]]) -> _Splice:
    """Insert ``fields`` after the last key of ``mapping`` (an existing entry)."""
    end = _inner_end(doc.text, mapping)
    if not mapping.flow_style:
        column = mapping.value[0][0].start_mark.column
        lines = [" " * column + f"{k}: {_scalar(doc, k, v, flow=False)}" for k, v in fields]
        at = _line_end(doc.text, end)
        return _Splice(at, at, "".join(doc.newline + line for line in lines))
    items = [f"{_key(doc, k)}: {_scalar(doc, k, v, flow=True)}" for k, v in fields]
    return _Splice(end, end, _flow_append(doc, mapping, items))


def _flow_append(doc: _Document, collection: Node, items: list[str]) -> str:
    """Text to put after the last element of a non-empty flow collection: ``, a, b`` inline,
    or one item per line at the last element's column when the collection spans several
    lines (``"\\n"`` inside an item becomes the file's line break at that column)."""
    if collection.start_mark.line == collection.end_mark.line:
        return "".join(", " + item for item in items)
    last = collection.value[-1]
    column = (last[0] if isinstance(last, tuple) else last).start_mark.column
    indent = doc.newline + " " * column
    return "".join("," + indent + item.replace("\n", indent) for item in items)


# --- Adding a new entry ----------------------------------------------------------------------


def _add(doc: _Document, chaincodes: list[dict[str, Any]], change: ChaincodeChange) -> Edit:
    index = len(chaincodes)
    path = f"spec.chaincodes[{index}]"
    channel = change.channel if change.channel is not None else _only_channel(doc, path)
    if change.path is None:
        raise doc.fail(
            join_path(path, "path"),
            f"chaincode {change.name!r} is not in the file yet and no path was given",
            "give the folder of its source (--path DIR), relative to the topology file",
        )
    fields: list[tuple[str, Value]] = [("name", change.name), ("channel", channel)]
    fields += change.fields()
    new = _apply(doc.text, _new_entry(doc, fields))
    diff = unified_diff(doc.text, new, source=doc.source)
    return Edit(new, diff, "added", index, tuple(k for k, _ in fields))


def _only_channel(doc: _Document, path: str) -> str:
    channels = doc.channels()
    if len(channels) == 1:
        return channels[0]
    named = ", ".join(channels) if channels else "none declared"
    raise doc.fail(
        join_path(path, "channel"),
        "a new chaincode needs a channel and the network does not have exactly one "
        f"(channels: {named})",
        "say which one with --channel CH" if channels else "declare a channel in spec.channels",
    )


def _new_entry(doc: _Document, fields: list[tuple[str, Value]]) -> list[_Splice]:
    """The splices that append an entry made of ``fields`` to ``spec.chaincodes``."""
    spec, key, sequence = doc.chaincodes_node()
    if isinstance(sequence, SequenceNode) and sequence.value:
        return [_append_item(doc, sequence, fields)]
    if isinstance(sequence, SequenceNode):  # an empty flow list: "[]"
        inside = sequence.start_mark.index + 1
        return [_Splice(inside, inside, _flow_entry(doc, fields, column=None))]
    if key is None or sequence is None:
        return [_append_chaincodes_key(doc, spec, fields)]
    return _fill_null(doc, spec, key, sequence, fields)


def _append_item(
    doc: _Document, sequence: SequenceNode, fields: list[tuple[str, Value]]
) -> _Splice:
    end = _inner_end(doc.text, sequence)
    if sequence.flow_style:
        multiline = sequence.start_mark.line != sequence.end_mark.line
        column = sequence.value[-1].start_mark.column if multiline else None
        item = _flow_entry(doc, fields, column=column)
        return _Splice(end, end, _flow_append(doc, sequence, [item]))
    dash = sequence.start_mark.column
    first = sequence.value[0]
    key = dash + 2
    if isinstance(first, MappingNode) and not first.flow_style:
        key = first.value[0][0].start_mark.column
    at = _line_end(doc.text, end)
    return _Splice(at, at, _block_entry(doc, fields, dash=dash, key=key))


def _block_entry(doc: _Document, fields: list[tuple[str, Value]], *, dash: int, key: int) -> str:
    """``- name: ...`` lines, each after a line break, the dash and the keys at these columns
    (keys at least two columns right of the dash)."""
    key = max(key, dash + 2)
    first = " " * dash + "-" + " " * (key - dash - 1)
    lines = [
        (first if i == 0 else " " * key) + f"{k}: {_scalar(doc, k, v, flow=False)}"
        for i, (k, v) in enumerate(fields)
    ]
    return "".join(doc.newline + line for line in lines)


def _flow_entry(doc: _Document, fields: list[tuple[str, Value]], *, column: int | None) -> str:
    """A flow mapping ``{...}``: inline, or (JSON, ``column`` given) one key per line with the
    document's indentation step (``"\\n"`` line breaks; :func:`_flow_append` places them)."""
    if doc.json:
        indent = None if column is None else _json_unit(doc)
        return json.dumps(dict(fields), indent=indent, ensure_ascii=False)
    return "{" + ", ".join(f"{k}: {_scalar(doc, k, v, flow=True)}" for k, v in fields) + "}"


def _json_unit(doc: _Document) -> int:
    """A JSON document's indentation step: the column of its first key (2 if on line 1)."""
    first = doc.root.value[0][0]
    same_line = first.start_mark.line == doc.root.start_mark.line
    return 2 if same_line else max(1, first.start_mark.column - doc.root.start_mark.column)


def _list_style(spec: MappingNode) -> tuple[int, int]:
    """(dash offset from its key, key offset from the dash) of the file's block lists, read
    from ``spec.organizations``; ``(2, 2)`` when that is not a block list of mappings."""
    found = _pair(spec, "organizations")
    if found is None:
        return 2, 2
    key, value = found
    if not isinstance(value, SequenceNode) or value.flow_style or not value.value:
        return 2, 2
    first = value.value[0]
    if not isinstance(first, MappingNode) or first.flow_style:
        return 2, 2
    dash, first_key = value.start_mark, first.value[0][0].start_mark
    if first_key.line != dash.line:
        return 2, 2
    return dash.column - key.start_mark.column, first_key.column - dash.column


def _append_chaincodes_key(
    doc: _Document, spec: MappingNode, fields: list[tuple[str, Value]]
) -> _Splice:
    """``chaincodes:`` holding the entry, after the last key of ``spec``."""
    end = _inner_end(doc.text, spec)
    if spec.flow_style:
        multiline = spec.start_mark.line != spec.end_mark.line
        if doc.json and multiline:
            value = json.dumps([dict(fields)], indent=_json_unit(doc), ensure_ascii=False)
        else:
            value = "[" + _flow_entry(doc, fields, column=None) + "]"
        item = f"{_key(doc, 'chaincodes')}: {value}"
        return _Splice(end, end, _flow_append(doc, spec, [item]))
    column = spec.value[0][0].start_mark.column
    dash_offset, key_offset = _list_style(spec)
    dash = column + dash_offset
    entry = _block_entry(doc, fields, dash=dash, key=dash + key_offset)
    at = _line_end(doc.text, end)
    return _Splice(at, at, doc.newline + " " * column + "chaincodes:" + entry)


def _fill_null(
    doc: _Document,
    spec: MappingNode,
    key: ScalarNode,
    null: Node,
    fields: list[tuple[str, Value]],
) -> list[_Splice]:
    """Put the entry in place of a null ``chaincodes`` value (``chaincodes:``, ``~``)."""
    start, end = null.start_mark.index, null.end_mark.index
    if spec.flow_style:
        value = "[" + _flow_entry(doc, fields, column=None) + "]"
        space = " " if doc.text[start - 1] == ":" else ""
        return [_Splice(start, end, space + value)]
    dash_offset, key_offset = _list_style(spec)
    dash = key.start_mark.column + dash_offset
    entry = _block_entry(doc, fields, dash=dash, key=dash + key_offset)
    at = _line_end(doc.text, end)
    return [_Splice(start, end, ""), _Splice(at, at, entry)]


# --- Writing values --------------------------------------------------------------------------


def _key(doc: _Document, key: str) -> str:
    return json.dumps(key) if doc.json else key


def _scalar(doc: _Document, key: str, value: Value, *, flow: bool, style: str | None = None) -> str:
    """``value`` as YAML (or JSON) text that reads back as exactly ``value``.

    Booleans are ``true``/``false``. A string keeps ``style`` (the old value's: ``'``, ``"``
    or ``None`` for plain) when that style can hold it; versions are never plain; plain is
    used only when PyYAML reads the text back as the same string in this context (``flow``:
    inside ``{...}``); anything else is double-quoted with escapes, so no value can break
    the structure around it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if doc.json:
        return _double_quoted(value)
    if style is None and key == "version":
        style = '"'
    if style == "'" and _single_quotable(value):
        return "'" + value.replace("'", "''") + "'"
    if style is None and _plain_ok(value, flow=flow):
        return value
    return _double_quoted(value)


_PRINTABLE = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
"""One character YAML keeps as is inside quotes (PyYAML's printable set minus line breaks)."""


def _double_quoted(value: str) -> str:
    """A JSON string (valid YAML double-quoted too), with every character YAML would not keep
    as is (control, line-break, BOM, surrogate) escaped."""
    return '"' + "".join(_escape(char) for char in value) + '"'


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if _PRINTABLE.fullmatch(char):
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _single_quotable(value: str) -> bool:
    return all(_PRINTABLE.fullmatch(char) for char in value)


def _plain_ok(value: str, *, flow: bool) -> bool:
    """PyYAML reads ``key: value`` (in ``{...}`` when ``flow``) back with ``value`` as the
    same string, and the value is one line of printable characters."""
    if not value or value != value.strip() or not _single_quotable(value):
        return False
    sample = "{k: " + value + "}" if flow else "k: " + value
    try:
        return bool(yaml.safe_load(sample) == {"k": value})
    except yaml.YAMLError:
        return False


# --- The diff --------------------------------------------------------------------------------


def unified_diff(old: str, new: str, *, source: str) -> str:
    """A unified diff of ``old`` vs ``new`` (``""`` when equal), headed ``--- source`` /
    ``+++ source``, each line ended with ``\\n`` whatever the file uses, and git's
    ``\\ No newline at end of file`` after a last line without one."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), source, source
    )
    out: list[str] = []
    for line in lines:
        body = line.rstrip("\r\n\x85\u2028\u2029")
        out.append(body + "\n")
        if body == line and line[:1] in " +-" and not line.startswith(("---", "+++")):
            out.append("\\ No newline at end of file\n")
    return "".join(out)
