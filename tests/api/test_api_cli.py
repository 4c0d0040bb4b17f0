"""``baas token create/list/revoke`` in-process (the database under a temporary ``BAAS_HOME``):
the secret is shown once and only its hash is stored; bad flags exit 2 naming the flag."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from baas.api import tokens
from baas.api.db import Database
from baas.api.db.models import TokenRow, now
from baas.cli.app import main


@pytest.fixture
def db_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path))
    monkeypatch.delenv("BAAS_DATABASE_URL", raising=False)
    return tmp_path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_create_list_revoke(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "token", "create", "--role", "org-admin", "--org", "org1")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("baas_") and len(secret) == 48
    assert "shown only now" in err and secret not in err
    db = Database()
    with db.session() as session:
        [row] = session.scalars(select(TokenRow)).all()
        assert row.digest == tokens.digest(secret)
        assert secret not in repr(vars(row))
    info = tokens.verify(db, secret)
    assert info is not None and info.org == "org1"

    code, listed, _ = _run(capsys, "token", "list", "-o", "json")
    assert code == 0
    [entry] = json.loads(listed)
    assert entry["id"] == row.id and entry["state"] == "active" and entry["role"] == "org-admin"
    assert secret not in listed and row.digest not in listed
    code, table, _ = _run(capsys, "token", "list")
    assert row.id in table and secret not in table

    code, _, err = _run(capsys, "token", "revoke", row.id)
    assert code == 0 and "revoked" in err
    assert tokens.verify(db, secret) is None
    assert json.loads(_run(capsys, "token", "list", "-o", "json")[1])[0]["state"] == "revoked"
    db.dispose()


def test_json_output_and_expiry(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "token", "create", "--role", "viewer", "--expires", "30", "-o", "json"
    )
    assert code == 0
    made = json.loads(out)
    assert made["token"].startswith("baas_") and made["role"] == "viewer"
    assert (
        29
        <= (
            datetime.fromisoformat(made["expiresAt"]) - datetime.fromisoformat(made["createdAt"])
        ).days
        <= 30
    )


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--role", "root"], "--role"),
        (["--role", "org-admin"], "--org"),
        (["--role", "consortium-admin", "--org", "org1"], "--org"),
        (["--role", "viewer", "--expires", "0"], "--expires"),
        (["--role", "viewer", "--org", "bad org!"], "--org"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(
    db_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    code, out, err = _run(capsys, "token", "create", *argv)
    assert code == 2
    assert names in err and "hint" in err
    assert out == ""


def test_revoking_an_unknown_token(db_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "token", "revoke", "tok_000000000000")
    assert code == 2 and "token list" in err


def test_the_secret_is_not_in_the_repr(db_home: Path) -> None:
    db = Database()
    db.migrate()
    made = tokens.create(db, role=tokens.Role.viewer)
    assert made.secret not in repr(made) and made.secret not in str(made.info.to_dict())
    db.dispose()


def _token_rows(db: Database, *ids: str) -> None:
    """Tokens with chosen ids (``create`` draws them at random), as ``create`` would store."""
    with db.session() as session:
        for token_id in ids:
            session.add(
                TokenRow(
                    id=token_id,
                    name=f"chosen {token_id}",
                    role=tokens.Role.viewer.value,
                    org=None,
                    digest=tokens.digest(token_id),
                    created_at=now(),
                    expires_at=None,
                    revoked_at=None,
                )
            )


def _states(db: Database) -> dict[str, str]:
    return {t.id: t.state for t in tokens.list_all(db)}


@pytest.mark.parametrize("columns", ["200", "80", "40", "20"])
def test_list_shows_whole_ids_that_revoke_takes(
    db_home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    columns: str,
) -> None:
    """Whatever the terminal's width, the table shows every id whole (a narrow terminal used
    to get ``tok_3f9c…``, which revoke refused); the id as shown revokes the token."""
    monkeypatch.setenv("COLUMNS", columns)
    for role in ("chaincode-deployer", "viewer"):
        name = "what this token is for, in a good many words, " * 2
        assert _run(capsys, "token", "create", "--role", role, "--name", name)[0] == 0
    assert _run(capsys, "token", "create", "--role", "org-admin", "--org", "Org1MSP")[0] == 0
    db = Database()
    ids = [t.id for t in tokens.list_all(db)]
    code, table, _ = _run(capsys, "token", "list")
    assert code == 0
    shown = [line.split()[0] for line in table.splitlines()[1:] if line.startswith(" tok_")]
    assert shown == ids
    for role in ("chaincode-deployer", "viewer", "org-admin", "Org1MSP", "active", "never"):
        assert role in table
    listed = json.loads(_run(capsys, "token", "list", "-o", "json")[1])
    assert [e["id"] for e in listed] == ids
    code, _, err = _run(capsys, "token", "revoke", shown[1])
    assert code == 0, err
    assert _states(db)[ids[1]] == "revoked"
    db.dispose()


def test_revoke_takes_the_start_of_one_id(
    db_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database()
    db.migrate()
    _token_rows(db, "tok_ab12cd000001", "tok_ab12cd000002", "tok_ff0099aa0001")
    code, _, err = _run(capsys, "token", "revoke", "tok_ff00")
    assert code == 0 and "revoked tok_ff0099aa0001" in err
    code, _, err = _run(capsys, "token", "revoke", "tok_ab12cd000002…")  # as a table cut it
    assert code == 0 and "revoked tok_ab12cd000002" in err
    assert _states(db) == {
        "tok_ab12cd000001": "active",
        "tok_ab12cd000002": "revoked",
        "tok_ff0099aa0001": "revoked",
    }
    db.dispose()


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("tok_ab12", "tok_ab12cd000001, tok_ab12cd000002"),  # ambiguous: both named
        ("tok_ab12cd00000", "tok_ab12cd000001, tok_ab12cd000002"),
        ("tok_a", "at least its first 6 characters"),  # too short to be a prefix
        ("tok_%", "at least its first 6 characters"),
        ("tok_a%12", "no token 'tok_a%12'"),  # % and _ are no wildcards
        ("tok_ab_2", "no token 'tok_ab_2'"),
        ("tok_99", "no token 'tok_99'"),
    ],
)
def test_revoke_refuses_what_names_no_single_token(
    db_home: Path, capsys: pytest.CaptureFixture[str], given: str, says: str
) -> None:
    db = Database()
    db.migrate()
    _token_rows(db, "tok_ab12cd000001", "tok_ab12cd000002")
    code, out, err = _run(capsys, "token", "revoke", given)
    assert code == 2 and out == ""
    assert says in err and "hint" in err
    assert set(_states(db).values()) == {"active"}  # nothing was revoked
    db.dispose()
