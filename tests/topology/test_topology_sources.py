"""SourceRoot's store: the one way a confined topology reaches uploaded sources is a path that
is exactly ``sha256:<64 lowercase hex>``; nothing around it, and no store, no such way."""

from __future__ import annotations

from pathlib import Path

import pytest

from topology.sources import SourceOutside, SourceRoot

HEX = "ab" * 32


def test_a_digest_names_the_stores_folder(tmp_path: Path) -> None:
    base, store = tmp_path / "src", tmp_path / "home" / "sources"
    base.mkdir()
    root = SourceRoot(base, confined=True, store=store)
    assert root.resolve(f"sha256:{HEX}") == store.resolve() / HEX
    assert root.shown(store.resolve() / HEX) == f"sha256:{HEX}"
    assert root.resolve("cc") == base.resolve() / "cc"


@pytest.mark.parametrize(
    "path",
    [
        f"sha256:{HEX}/../../../etc",
        f"../home/sources/{HEX}",
        str(Path("/") / "etc"),
    ],
)
def test_nothing_else_reaches_the_store(tmp_path: Path, path: str) -> None:
    base, store = tmp_path / "src", tmp_path / "home" / "sources"
    base.mkdir()
    with pytest.raises(SourceOutside):
        SourceRoot(base, confined=True, store=store).resolve(path)


@pytest.mark.parametrize(
    "path", [f"sha256:{HEX.upper()}", f"sha256:{HEX}\n", f"sha256:{HEX[:-1]}", f" sha256:{HEX}"]
)
def test_near_digests_are_ordinary_names_inside_the_base(tmp_path: Path, path: str) -> None:
    base, store = tmp_path / "src", tmp_path / "home" / "sources"
    base.mkdir()
    found = SourceRoot(base, confined=True, store=store).resolve(path)
    assert found.parent == base.resolve()


def test_without_a_store_a_digest_is_an_ordinary_name(tmp_path: Path) -> None:
    assert SourceRoot(tmp_path).resolve(f"sha256:{HEX}") == tmp_path.resolve() / f"sha256:{HEX}"
