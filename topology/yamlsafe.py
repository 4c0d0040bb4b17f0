"""Reading YAML defensively: size cap, alias-bomb guard, duplicate keys, positions of every field.

The loader composes the node graph first (cheap: aliases are references), measures how large the
document would be once aliases are expanded, and refuses it before constructing any Python object
when it exceeds :data:`MAX_EXPANDED_NODES`. Duplicate mapping keys are errors (PyYAML silently keeps
the last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64
"""Deepest nesting of collections accepted, in YAML and JSON alike (a topology is about six
levels deep); shared by :func:`check_nesting`, the composer guard and the node count."""
_DEPTH_HINT = "a topology file is a few levels deep; check for a runaway structure"


class YamlProblem(Exception):
    """A problem with the YAML text itself; ``line``/``column`` are 1-based when known."""

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        line: int | None = None,
        column: int | None = None,
        path: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line = line
        self.column = column
        self.path = path


@dataclass
class Positions:
    """Field path → (line, column), both 1-based. Paths look like
    ``spec.organizations[1].mspId``."""

    by_path: dict[str, tuple[int, int]] = field(default_factory=dict)

    def find(self, path: str) -> tuple[int, int] | None:
        """Position of ``path`` or of its closest recorded ancestor; ``None`` when nothing
        matches."""
        candidate = path
        while candidate:
            if candidate in self.by_path:
                return self.by_path[candidate]
            cut = max(candidate.rfind("."), candidate.rfind("["))
            if cut <= 0:
                break
            candidate = candidate[:cut]
        return self.by_path.get("")


def join_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and refuses to compose nodes deeper than
    :data:`MAX_DEPTH` (the composer recurses once per level: this bounds it exactly, whatever
    :func:`check_nesting` let through)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        """As PyYAML's, one level deeper; the root is depth 0 (as in :func:`_expanded_size`)."""
        if self._depth > MAX_DEPTH:
            raise YamlProblem(
                f"the document nests deeper than {MAX_DEPTH} levels",
                hint=_DEPTH_HINT,
                line=self._next_line(),
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _next_line(self) -> int:
        """1-based line of the next event (the node that would go too deep)."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        return int(event.start_mark.line) + 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """As PyYAML's, but a scalar its constructors cannot read (``!!int abc``, a date
        ``2001-13-45``, an integer of more than 4,300 digits) is a :class:`YamlProblem` at the
        node instead of the bare ``ValueError``/``KeyError``/``AttributeError`` they raise."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, LookupError, AttributeError, TypeError) as exc:
            raise _unreadable(node, exc) from None

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # "!!set [1]": PyYAML's ConstructorError
            return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlProblem(
                    "a mapping key must be a plain value",
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                ) from None
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise YamlProblem(
                    f"duplicate key {key!r} (first defined on line {first})",
                    hint="remove one of the two entries; YAML would silently keep only the last",
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def _unreadable(node: Node, exc: Exception) -> YamlProblem:
    """The problem for a value PyYAML resolved (or was told by a tag) to read as a type it
    is not: which value, which type, why, where."""
    kind = node.tag.rsplit(":", 1)[-1]
    value = node.value if isinstance(node, ScalarNode) else "a collection"
    shown = value if len(value) <= 40 else value[:37] + "..."
    reason = str(exc).split(";", 1)[0] if isinstance(exc, ValueError) else ""
    return YamlProblem(
        f"{shown!r} is not a valid {kind}" + (f" ({reason})" if reason else ""),
        hint="quote it to keep it as text, or fix the value (or its !!tag)",
        line=node.start_mark.line + 1,
        column=node.start_mark.column + 1,
    )


def _expanded_size(root: Node) -> int:
    """Nodes in the document once aliases are expanded; stops counting past the limit."""
    memo: dict[int, int] = {}

    def size(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"the document nests deeper than {MAX_DEPTH} levels",
                hint=_DEPTH_HINT,
                line=node.start_mark.line + 1,
            )
        cached = memo.get(id(node))
        if cached is not None:
            return cached
        total = 1
        if isinstance(node, SequenceNode):
            for child in node.value:
                total += size(child, depth + 1)
                if total > MAX_EXPANDED_NODES:
                    break
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                total += size(key, depth + 1) + size(value, depth + 1)
                if total > MAX_EXPANDED_NODES:
                    break
        memo[id(node)] = total
        return total

    return size(root, 0)


def _refuse_duplicate_keys(node: Node, path: str, seen: set[int]) -> None:
    """Raise :class:`YamlProblem` naming the field path of the first repeated plain key.

    Runs on the composed node graph (before any object is built), so the error can say which
    field is repeated; the loader's own check stays as a backstop for keys that only collide
    once constructed (``1`` and ``01``)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        first: dict[tuple[str, str], Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                continue
            child = join_path(path, str(key_node.value))
            ident = (key_node.tag, str(key_node.value))
            if ident in first:
                raise YamlProblem(
                    f"duplicate key {key_node.value!r} (first defined on line "
                    f"{first[ident].start_mark.line + 1})",
                    hint="remove one of the two entries; YAML would silently keep only the last",
                    line=key_node.start_mark.line + 1,
                    column=key_node.start_mark.column + 1,
                    path=child,
                )
            first[ident] = key_node
            _refuse_duplicate_keys(value_node, child, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, join_path(path, index), seen)


def _record_positions(
    node: Node, path: str, out: dict[str, tuple[int, int]], seen: set[int]
) -> None:
    out.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if id(node) in seen:  # an alias points back here: positions are the anchor's
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                child = join_path(path, str(key_node.value))
                out.setdefault(
                    child, (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                )
                _record_positions(value_node, child, out, seen)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            _record_positions(item, join_path(path, index), out, seen)


# --- Nesting pre-scan ------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
_BLANK = " \t"
_FLOW_STOPS = ",[]{}"
_PLAIN_BLOCK_END = re.compile(r":(?=[ \t]|$)|[ \t]#")
_PLAIN_FLOW_END = re.compile(r":(?=[ \t,\[\]{}]|$)|[ \t]#|[,?\[\]{}]")
_SINGLE_QUOTED_END = re.compile(r"(?:[^']|'')*+'")
_DOUBLE_QUOTED_END = re.compile(r'(?:[^"\\]|\\.)*+"')
_PROPERTY = re.compile(r"[^ \t,\[\]{}]*")
_HEADER_INCREMENT = re.compile(r"[+-]?([1-9])")


def _property_end(line: str, pos: int) -> int:
    """End of the anchor, tag or alias starting at ``pos`` (its indicator)."""
    found = _PROPERTY.match(line, pos + 1)
    return found.end() if found else pos + 1


@dataclass
class _Level:
    """One open block-style level: the column its entries start at and whether it is a
    sequence (``- ``), a mapping (a ``key:`` or ``? `` seen at that column) or not yet known
    (a scalar or flow collection on its own line, counted as a level all the same)."""

    column: int
    kind: str  # "seq" | "map" | "node"


@dataclass
class _BlockScalar:
    """A ``|`` or ``>`` scalar being skipped: its lines are text, never structure. As PyYAML:
    content lines are indented at least ``indent`` (the first content line's indentation
    unless the header gave an increment), blank lines always belong to it."""

    min_indent: int
    indent: int | None = None
    widest_blank: int = 0

    def holds(self, line: str) -> bool:
        """Whether ``line`` is part of the scalar (updates the detected indentation)."""
        spaces = len(line) - len(line.lstrip(" "))
        if spaces == len(line):
            self.widest_blank = max(self.widest_blank, spaces)
            return True
        if self.indent is None:
            if spaces < max(self.min_indent, self.widest_blank):
                return False
            self.indent = spaces
        return spaces >= self.indent


class _NestingScan:
    """A single left-to-right pass over YAML (or JSON, which is YAML's flow style) text that
    tracks how many collections are open, without building anything.

    Flow collections (``[``, ``{``) are counted outside quoted scalars, plain scalars, comments
    and block scalars; block-style levels are a stack of indentation columns, one per ``- ``,
    ``? ``, ``key:`` or value line more indented than the one above (an indentless ``- `` list
    under a key at the same column is a level of its own). The count never falls below the
    depth PyYAML's composer would reach, and exceeds it by at most one (a scalar on its own
    line is counted as a level), so refusing at ``count > limit`` refuses every document
    deeper than ``limit``. Each character is looked at a bounded number of times: linear."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.levels: list[_Level] = []
        self.flow = 0
        self.quote = ""  # "'" or '"' while inside a quoted scalar that spans lines
        self.plain = False  # inside a plain scalar (it may continue on the next line)
        self.scalar: _BlockScalar | None = None
        self.fresh = False  # the next token starts a block-style node (line start, after "- ")
        self.line = 0

    def run(self, text: str) -> None:
        for self.line, line in enumerate(_LINE_BREAKS.split(text.lstrip("\ufeff")), 1):
            self._scan_line(line)

    # Lines ------------------------------------------------------------------------------

    def _scan_line(self, line: str) -> None:
        if self.scalar is not None:
            if self.scalar.holds(line):
                return
            self.scalar = None
        pos = 0
        if self.quote:
            pos = self._skip_quoted(line, 0)
            if self.quote:
                return
        else:
            pos = self._line_start(line)
        self._tokens(line, pos)

    def _line_start(self, line: str) -> int:
        """Position of the line's first token; sets :attr:`fresh` for block context."""
        pos = len(line) - len(line.lstrip(_BLANK))
        if pos == len(line):
            return pos  # blank: a plain scalar may go on after it
        if line[pos] == "#":
            self.plain = False
            return len(line)
        if self.flow:
            return pos
        if self.plain and pos > self._indent():
            return pos  # the plain scalar above goes on here
        self.plain = False
        if pos == 0 and self._marker(line):
            self.levels.clear()
            self.fresh = True
            return 3 if line.startswith(("---", "...")) else len(line)
        self.fresh = True
        return pos

    @staticmethod
    def _marker(line: str) -> bool:
        """A directive (``%YAML``) or a document marker (``---``, ``...``) at column 0."""
        if line.startswith("%"):
            return True
        return line[:3] in ("---", "...") and (len(line) == 3 or line[3] in _BLANK)

    def _indent(self) -> int:
        """PyYAML's block indentation here: the column of the innermost collection."""
        for level in reversed(self.levels):
            if level.kind != "node":
                return level.column
        return -1

    # Tokens -----------------------------------------------------------------------------

    def _tokens(self, line: str, pos: int) -> None:
        end = len(line)
        while pos < end:
            if self.plain:
                pos = self._skip_plain(line, pos)
                continue
            char = line[pos]
            if char in _BLANK:
                pos += 1
                continue
            pos = self._token(line, pos, char)

    def _token(self, line: str, pos: int, char: str) -> int:
        """Handle the token starting at ``pos``; returns where scanning goes on."""
        after = line[pos + 1 : pos + 2]
        spaced = after in ("", " ", "\t")
        if char == "#":
            return len(line)
        if char in "[{":
            self._open_node(pos, "node")
            self.flow += 1
            self._check(pos)
            return pos + 1
        if char in "]}":
            self.flow = max(0, self.flow - 1)
            return pos + 1
        if char == "," and self.flow:
            return pos + 1
        if char in "'\"":
            self._open_node(pos, "node")
            self.quote = char
            return self._skip_quoted(line, pos + 1)
        if self.flow:
            return self._flow_token(line, pos, char, spaced)
        return self._block_token(line, pos, char, spaced)

    def _flow_token(self, line: str, pos: int, char: str, spaced: bool) -> int:
        if char in ":?":  # "?x" cannot start a plain scalar in flow context
            return pos + 1
        if char in "&!*":
            return _property_end(line, pos)
        self.plain = True
        return pos

    def _block_token(self, line: str, pos: int, char: str, spaced: bool) -> int:
        if char in "-?:" and spaced:
            if char == ":" and not self.fresh:
                self._mark_mapping()
            else:
                self._open_node(pos, "seq" if char == "-" else "map")
                self.fresh = True
            return pos + 1
        if char in "|>":
            self._open_node(pos, "scalar")
            self.scalar = _BlockScalar(self._scalar_indent(line[pos + 1 :]))
            return len(line)
        self._open_node(pos, "node")
        if char in "&!*":
            return _property_end(line, pos)
        self.plain = True
        return pos

    def _scalar_indent(self, header: str) -> int:
        """The least indentation of a block scalar's lines (PyYAML's rule)."""
        least = max(1, self._indent() + 1)
        increment = _HEADER_INCREMENT.match(header)
        return least + int(increment.group(1)) - 1 if increment else least

    def _skip_plain(self, line: str, pos: int) -> int:
        """Past the plain scalar's text on this line (it stays open when the line ends)."""
        found = (_PLAIN_FLOW_END if self.flow else _PLAIN_BLOCK_END).search(line, pos)
        if found is None:
            return len(line)
        self.plain = False
        if found.group().endswith("#"):
            return len(line)
        if found.group() == ":":
            if not self.flow:
                self._mark_mapping()
            return found.end()
        return found.start()  # a flow indicator: handled as the next token

    def _skip_quoted(self, line: str, pos: int) -> int:
        """Past the closing quote on this line, or to the line's end (the quote stays open)."""
        pattern = _SINGLE_QUOTED_END if self.quote == "'" else _DOUBLE_QUOTED_END
        found = pattern.match(line, pos)
        if found is None:
            return len(line)
        self.quote = ""
        return found.end()

    # Levels -----------------------------------------------------------------------------

    def _open_node(self, column: int, kind: str) -> None:
        """A block-style node starts at ``column`` (only the first of a line, or the first
        after ``- ``/``? ``, opens a level; anything else is inline in its parent)."""
        if self.flow or not self.fresh:
            return
        self.fresh = False
        while self.levels and self.levels[-1].column > column:
            self.levels.pop()
        top = self.levels[-1] if self.levels else None
        if top is not None and top.column == column:
            self._same_column(top, kind)
        elif kind != "scalar":
            self.levels.append(_Level(column, kind))
        self._check(column)

    def _same_column(self, top: _Level, kind: str) -> None:
        """A node at the column of the innermost level: a sibling, or the start (``- `` under
        a ``key:``) or end (a key after the ``- `` items) of an indentless sequence."""
        if kind == "seq" and top.kind != "seq":
            self.levels.append(_Level(top.column, "seq"))
        elif kind != "seq" and top.kind == "seq" and len(self.levels) > 1:
            if self.levels[-2].column == top.column:
                self.levels.pop()
        elif kind == "map":
            top.kind = "map"

    def _mark_mapping(self) -> None:
        """A ``key:`` was seen: the innermost level is a mapping."""
        if self.levels and self.levels[-1].kind == "node":
            self.levels[-1].kind = "map"

    def _check(self, column: int) -> None:
        if len(self.levels) + self.flow > self.limit:
            raise YamlProblem(
                f"the document nests deeper than {self.limit} levels",
                hint=_DEPTH_HINT,
                line=self.line,
                column=column + 1,
            )


def check_nesting(text: str, *, limit: int = MAX_DEPTH) -> None:
    """Refuse YAML or JSON ``text`` that nests more than ``limit`` collections deep, before any
    recursive parser sees it. Raises :class:`YamlProblem` (with the line and column where the
    limit was passed); returns ``None`` otherwise, including for text that is not valid YAML
    (the parser says what is wrong with it).

    One linear pass, no recursion, whatever the input. The count is conservative: it may exceed
    the real depth by one (a scalar on a line of its own counts as a level), never fall short
    of it for text PyYAML or :func:`json.loads` would go on parsing, so documents a little
    under the limit may be refused; topologies are about six levels deep."""
    _NestingScan(limit).run(text)


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> YamlProblem:
    """The problem for a character YAML does not allow (a control character, a lone
    surrogate), placed at its line and column."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    return YamlProblem(
        f"the file holds a character YAML does not allow (U+{exc.character:04X})",
        hint="remove it (control characters other than tab and line breaks cannot appear)",
        line=line,
        column=exc.position - (before.rfind("\n") + 1) + 1,
    )


def parse(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Returns ``(data, positions)``; ``data`` is ``None`` for an empty
    document. Raises :class:`YamlProblem` for syntax errors, several documents, duplicate keys,
    documents that would expand past :data:`MAX_EXPANDED_NODES` nodes and documents nested
    deeper than :data:`MAX_DEPTH` (refused by :func:`check_nesting` before PyYAML reads them)."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise YamlProblem(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB",
            hint="a topology file is a few KiB; split the network or check you passed the right "
            "file",
        )
    check_nesting(text)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # PyYAML checks every character up front
        raise _unprintable(text, exc) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None, Positions()
        if _expanded_size(root) > MAX_EXPANDED_NODES:
            raise YamlProblem(
                f"the document expands to more than {MAX_EXPANDED_NODES} values through YAML "
                "aliases (an alias bomb?)",
                hint="remove the repeated aliases (*name); a topology never needs that many values",
                line=root.start_mark.line + 1,
            )
        _refuse_duplicate_keys(root, "", set())
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(exc):
            problem = "the file holds more than one YAML document"
        raise YamlProblem(
            f"YAML syntax error: {problem}",
            hint="fix the YAML syntax at this position (indentation, a missing ':' or quote)",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"YAML error: {exc}") from None
    except RecursionError:  # the composer recurses per nesting level: "[[[[...]]]]"
        raise YamlProblem(
            f"the document nests deeper than {MAX_DEPTH} levels",
            hint=_DEPTH_HINT,
        ) from None
    finally:
        loader.dispose()
    positions = Positions()
    _record_positions(root, "", positions.by_path, set())
    return data, positions
