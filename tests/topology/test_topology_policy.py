"""The signature-policy parser (topology/policy.py)."""

from __future__ import annotations

import pytest

from topology.policy import Gate, PolicySyntaxError, Principal, parse


def test_and_needs_every_rule() -> None:
    gate = parse("AND('Org1MSP.peer', 'Org2MSP.peer')")
    assert gate == Gate(n=2, rules=(Principal("Org1MSP", "peer"), Principal("Org2MSP", "peer")))


def test_or_needs_one() -> None:
    assert parse("OR('A.member','B.admin','C.client')").n == 1


def test_outof_nested() -> None:
    gate = parse("OutOf(2, 'A.peer', AND('B.peer', 'C.orderer'), 'D.peer')")
    assert gate.n == 2
    assert [p.msp_id for p in gate.principals()] == ["A", "B", "C", "D"]
    assert isinstance(gate.rules[1], Gate) and gate.rules[1].n == 2


def test_bare_principal_is_one_out_of_one() -> None:
    assert parse("'Org1MSP.peer'") == Gate(n=1, rules=(Principal("Org1MSP", "peer"),))


def test_msp_ids_with_dots_keep_everything_before_the_last_dot() -> None:
    assert parse("'org1.example.com.peer'").principals() == [Principal("org1.example.com", "peer")]


def test_operators_are_case_insensitive_and_whitespace_is_free() -> None:
    assert parse("  and ( 'A.peer' ,\n 'B.peer' )  ").n == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("AND(", "ends early"),
        ("AND('A.peer'", "ends early"),
        ("AND('A.peer',)", "expected AND, OR, OutOf or a quoted principal"),
        ("NOT('A.peer')", "unknown operator 'NOT'"),
        ("'A'", "must look like 'Org1MSP.peer'"),
        ("'.peer'", "must look like"),
        ("'A.root'", "role 'root'"),
        ("OutOf(3, 'A.peer', 'B.peer')", "between 1 and 2"),
        ("OutOf(0, 'A.peer')", "between 1 and 1"),
        ("OutOf('A.peer')", "expected num"),
        ("AND('A.peer') OR('B.peer')", "unexpected 'OR'"),
        ("AND('A.peer' 'B.peer')", "expected )"),
        ("AND('A.peer'; 'B.peer')", "unexpected character ';'"),
        ("AND('A.peer)", "unexpected character"),
    ],
)
def test_syntax_errors_say_what_and_where(text: str, fragment: str) -> None:
    with pytest.raises(PolicySyntaxError) as info:
        parse(text)
    assert fragment in str(info.value)
