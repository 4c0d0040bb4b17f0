"""Fabric signature-policy expressions (``AND('Org1MSP.peer', OutOf(1, ...))``).

A small recursive-descent parser for the policy DSL accepted by ``peer lifecycle
--signature-policy`` (Fabric ``common/policydsl``): ``AND``, ``OR`` and ``OutOf(n, ...)`` over
principals ``'<MSPID>.<role>'`` with role ``member``, ``admin``, ``client``, ``peer`` or
``orderer``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROLES = ("member", "admin", "client", "peer", "orderer")


class PolicySyntaxError(ValueError):
    """The expression does not parse; the message names the position."""


@dataclass(frozen=True)
class Principal:
    msp_id: str
    role: str


@dataclass(frozen=True)
class Gate:
    """``n`` of ``rules`` must be satisfied (AND = all, OR = 1)."""

    n: int
    rules: tuple[Gate | Principal, ...]

    def principals(self) -> list[Principal]:
        found: list[Principal] = []
        for rule in self.rules:
            found.extend(rule.principals() if isinstance(rule, Gate) else [rule])
        return found


_TOKEN = re.compile(
    r"\s*(?:(?P<word>[A-Za-z]+)|(?P<num>\d+)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<sym>[(),]))"
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    pos, out = 0, []
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise PolicySyntaxError(f"unexpected character {text[pos:].strip()[:1]!r} at {pos + 1}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind), match.start(kind) + 1))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise PolicySyntaxError(f"the expression ends early: expected {value or kind}")
        if token[0] != kind or (value is not None and token[1] != value):
            raise PolicySyntaxError(f"expected {value or kind} at {token[2]}, found {token[1]!r}")
        self.i += 1
        return token

    def rule(self) -> Gate | Principal:
        token = self.peek()
        if token is None:
            if self.i:
                raise PolicySyntaxError("the expression ends early: expected a rule")
            raise PolicySyntaxError("the expression is empty")
        if token[0] == "str":
            self.i += 1
            return _principal(token[1][1:-1], token[2])
        if token[0] != "word":
            raise PolicySyntaxError(f"expected AND, OR, OutOf or a quoted principal at {token[2]}")
        word = token[1].lower()
        if word not in ("and", "or", "outof"):
            raise PolicySyntaxError(
                f"unknown operator {token[1]!r} at {token[2]} (use AND, OR, OutOf)"
            )
        self.i += 1
        self.take("sym", "(")
        n = 0
        if word == "outof":
            n = int(self.take("num")[1])
            self.take("sym", ",")
        rules = [self.rule()]
        while (tok := self.peek()) is not None and tok[1] == ",":
            self.i += 1
            rules.append(self.rule())
        self.take("sym", ")")
        if word == "and":
            n = len(rules)
        elif word == "or":
            n = 1
        elif not 1 <= n <= len(rules):
            raise PolicySyntaxError(f"OutOf({n}, ...) needs between 1 and {len(rules)} signatures")
        return Gate(n=n, rules=tuple(rules))


def _principal(text: str, pos: int) -> Principal:
    msp_id, dot, role = text.rpartition(".")
    if not dot or not msp_id:
        raise PolicySyntaxError(f"principal {text!r} at {pos} must look like 'Org1MSP.peer'")
    if role not in ROLES:
        raise PolicySyntaxError(
            f"principal {text!r} has role {role!r}; use one of {', '.join(ROLES)}"
        )
    return Principal(msp_id=msp_id, role=role)


def parse(text: str) -> Gate:
    """Parse a signature policy. Raises :class:`PolicySyntaxError` with a position on failure.
    A bare principal is returned as ``OutOf(1, principal)``."""
    parser = _Parser(text)
    rule = parser.rule()
    extra = parser.peek()
    if extra is not None:
        raise PolicySyntaxError(f"unexpected {extra[1]!r} at {extra[2]} after the expression")
    return rule if isinstance(rule, Gate) else Gate(n=1, rules=(rule,))
