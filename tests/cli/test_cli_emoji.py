"""Nothing the user wrote is rewritten: ``:name:`` sequences (rich's emoji codes) and
``[style]`` markup in file names, policies, descriptions and locations print as written, in text
and in JSON (``big.yaml:100:5`` stays that, not ``big.yaml💯5``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Cli = Callable[..., Any]
Doc = dict[str, Any]


def _no_emoji(text: str) -> None:
    assert not [c for c in text if ord(c) >= 0x1F000], text
    assert "\u2705" not in text and "\u2764" not in text


def _padded(doc_text: str, key_line: str, at: int) -> str:
    """``doc_text`` with comment lines added before ``key_line`` so that it is line ``at``."""
    lines = doc_text.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip() == key_line.strip())
    lines[index:index] = ["# padding"] * (at - 1 - index)
    return "\n".join(lines) + "\n"


@pytest.fixture
def org_description(doc: Doc, write: Callable[..., Path]) -> Path:
    """A file named ``:smile: big.yaml`` whose org1 has an (unknown) ``description`` field,
    holding emoji codes, on line 100."""
    import yaml

    doc["spec"]["organizations"][1]["description"] = ":smile: team :100:"
    text = yaml.safe_dump(doc, sort_keys=False)
    return write(_padded(text, "description: ':smile: team :100:'", 100), ":smile: big.yaml")


def test_location_on_line_100_and_description_text(
    cli: Cli, org_description: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(org_description.parent)
    name = org_description.name
    result = cli("validate", name)
    assert result.code == 2
    _no_emoji(result.text)
    assert (
        f"{name}:100:5: error: spec.organizations[1].description: unknown field 'description'"
        in result.err
    )
    for command in (("plan",), ("pki", "generate"), ("up",), ("render", "--out", "out")):
        again = cli(*command, name)
        assert again.code == 2
        _no_emoji(again.text)
        assert f"{name}:100:5: error:" in again.err


def test_location_on_line_100_json(
    cli: Cli, org_description: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(org_description.parent)
    name = org_description.name
    report = json.loads(cli("validate", name, "-o", "json").out)
    (diag,) = report["files"][0]["diagnostics"]
    assert (diag["file"], diag["line"], diag["column"]) == (name, 100, 5)
    error = json.loads(cli("plan", name, "-o", "json").out)
    assert error["diagnostics"][0]["file"] == name
    _no_emoji(json.dumps(report, ensure_ascii=False) + json.dumps(error, ensure_ascii=False))


def test_policy_string(cli: Cli, doc: Doc, write: Callable[..., Path]) -> None:
    doc["spec"]["chaincodes"][0]["endorsement"] = "OR('Org1MSP.peer', ':smile:')"
    path = write(doc, ":100:policy.yaml")
    text = cli("validate", path)
    assert text.code == 2
    _no_emoji(text.text)
    assert f"{path}:" in text.err and "principal ':smile:'" in text.err
    data = json.loads(cli("validate", path, "-o", "json").out)
    (diag,) = data["files"][0]["diagnostics"]
    assert "':smile:'" in diag["message"] and diag["file"] == str(path)
    _no_emoji(json.dumps(data, ensure_ascii=False))


def test_file_names_in_messages_of_valid_files(
    cli: Cli,
    doc: Doc,
    write: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A valid file whose name holds emoji codes and markup: validate's ok line, up's header,
    render's file lines and summary print them as written."""
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    empty = tmp_path / "no-fabric"
    empty.mkdir()
    path = write(doc, "[bold]:smile:[red].yaml")
    validated = cli("validate", path)
    assert validated.code == 0
    assert f"ok {path}: network 'supplychain'" in validated.err
    up = cli("up", path, "--fabric-bin", empty)
    assert up.code == 2 and f"baas up {path} → local" in up.err
    out = tmp_path / ":100:out"
    rendered = cli("render", path, "--out", out)
    assert rendered.code == 0, rendered.text
    assert f"created   {out}/orgs/org1/values.yaml" in rendered.err
    assert f"into {out} in " in rendered.err
    for result in (validated, up, rendered):
        _no_emoji(result.text)


def test_json_keeps_non_ascii_text(cli: Cli, doc: Doc, write: Callable[..., Path]) -> None:
    doc["metadata"]["description"] = "réseau :100:"
    path = write(doc, "résumé.yaml")
    data = json.loads(cli("validate", path, "-o", "json").out)
    assert data["files"][0]["file"] == str(path)
