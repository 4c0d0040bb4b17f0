"""baas.releases: the copies of chaincode versions a rollback returns to."""

from __future__ import annotations

from pathlib import Path

import pytest

from baas import releases


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAAS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _source(folder: Path, body: str) -> Path:
    (folder / "lib").mkdir(parents=True, exist_ok=True)
    (folder / "lib" / "contract.js").write_text(body)
    (folder / "package.json").write_text("{}")
    (folder / "node_modules" / "x").mkdir(parents=True, exist_ok=True)
    (folder / "node_modules" / "x" / "index.js").write_text("dependency")
    return folder


def test_keep_copies_sources_without_dependencies(tmp_path: Path) -> None:
    source = _source(tmp_path / "cc", "v1")
    kept = releases.keep("net", chaincode="basic", version="1.0", source=source)
    assert (kept.folder / "lib" / "contract.js").read_text() == "v1"
    assert (kept.folder / "package.json").is_file()
    assert not (kept.folder / "node_modules").exists()
    assert kept.digest == releases.digest(source) == releases.digest(kept.folder)


def test_same_files_again_is_a_no_op_and_new_files_replace(tmp_path: Path) -> None:
    source = _source(tmp_path / "cc", "v1")
    releases.keep("net", chaincode="basic", version="1.0", source=source)
    releases.keep("net", chaincode="basic", version="1.0", source=source)
    log = releases.releases_dir("net", "basic").parent.parent / "releases.jsonl"
    assert len(log.read_text().splitlines()) == 1
    _source(source, "v1 fixed")
    again = releases.keep("net", chaincode="basic", version="1.0", source=source)
    assert (again.folder / "lib" / "contract.js").read_text() == "v1 fixed"
    assert len(log.read_text().splitlines()) == 2


def test_kept_lists_most_recently_defined_first_once_per_version(tmp_path: Path) -> None:
    """1.0, 1.1, a rollback to 1.0 (same files), then 1.2: 1.2, 1.0, 1.1 — so the next
    rollback from 1.2 returns to 1.0, the one defined before it."""
    source = _source(tmp_path / "cc", "v1")
    releases.keep("net", chaincode="basic", version="1.0", source=source)
    v1 = releases.digest(source)
    releases.keep("net", chaincode="basic", version="1.1", source=_source(source, "v2"))
    releases.keep("net", chaincode="other", version="9", source=source)
    kept_copy = releases.releases_dir("net", "basic") / "1.0"
    assert releases.keep("net", chaincode="basic", version="1.0", source=kept_copy).digest == v1
    releases.keep("net", chaincode="basic", version="1.2", source=_source(source, "v3"))
    assert [r.version for r in releases.kept("net", "basic")] == ["1.2", "1.0", "1.1"]
    assert releases.kept("net", "missing") == []
    assert releases.kept("nonet", "basic") == []


def test_a_copy_removed_by_hand_is_not_listed(tmp_path: Path) -> None:
    source = _source(tmp_path / "cc", "v1")
    gone = releases.keep("net", chaincode="basic", version="1.0", source=source)
    releases.keep("net", chaincode="basic", version="1.1", source=_source(source, "v2"))
    (gone.folder / releases.DIGEST_FILE).unlink()
    assert [r.version for r in releases.kept("net", "basic")] == ["1.1"]
