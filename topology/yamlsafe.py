"""Reading YAML defensively: size cap, alias-bomb guard, duplicate keys, positions of every field.

The loader composes the node graph first (cheap: aliases are references), measures how large the
document would be once aliases are expanded, and refuses it before constructing any Python object
when it exceeds :data:`MAX_EXPANDED_NODES`. Duplicate mapping keys are errors (PyYAML silently keeps
the last one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_FILE_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64


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
    """SafeLoader that rejects duplicate keys."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        assert isinstance(node, MappingNode)
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


def _expanded_size(root: Node) -> int:
    """Nodes in the document once aliases are expanded; stops counting past the limit."""
    memo: dict[int, int] = {}

    def size(node: Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise YamlProblem(
                f"the document nests deeper than {MAX_DEPTH} levels",
                hint="a topology file is a few levels deep; check for a runaway structure",
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


def parse(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document. Returns ``(data, positions)``; ``data`` is ``None`` for an empty
    document. Raises :class:`YamlProblem` for syntax errors, several documents, duplicate keys and
    documents that would expand past :data:`MAX_EXPANDED_NODES` nodes."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise YamlProblem(
            f"the file is larger than {MAX_FILE_BYTES // 1024} KiB",
            hint="a topology file is a few KiB; split the network or check you passed the right "
            "file",
        )
    loader = _Loader(text)
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
            hint="a topology file is a few levels deep; check for a runaway structure",
        ) from None
    finally:
        loader.dispose()
    positions = Positions()
    _record_positions(root, "", positions.by_path, set())
    return data, positions
