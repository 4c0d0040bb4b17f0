"""Every runtime dependency pyproject.toml declares is used by the installed code (baas,
topology, pki): imported by one of its modules, or on the short list below of those used
another way, each with how. A dependency nothing uses only slows every install."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

USED_WITHOUT_IMPORT = {
    "supervisor": "its supervisord and supervisorctl programs run the local nodes",
    "psycopg": "SQLAlchemy loads it for postgresql+psycopg:// URLs (baas/api/db/engine.py)",
    "fastapi-swagger": "its swagger-ui files are read with importlib.resources (baas/api/app.py)",
}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        _normal(re.split(r"[<>=!~\[;\s]", dep, maxsplit=1)[0]) for dep in project["dependencies"]
    ]


def _modules() -> dict[str, set[str]]:
    """Distribution name → the top-level modules it installs."""
    found: dict[str, set[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        for dist in dists:
            found.setdefault(_normal(dist), set()).add(module)
    return found


def _imports() -> set[str]:
    text = "\n".join(
        path.read_text()
        for folder in ("baas", "topology", "pki")
        for path in (ROOT / folder).rglob("*.py")
    )
    return set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", text, re.M))


def test_every_declared_dependency_is_used() -> None:
    modules, imported = _modules(), _imports()
    unused = [
        dist
        for dist in _declared()
        if dist not in USED_WITHOUT_IMPORT and not modules.get(dist, set()) & imported
    ]
    assert unused == [], f"declared in pyproject.toml but imported nowhere: {unused}"


def test_the_exceptions_are_still_declared() -> None:
    assert set(USED_WITHOUT_IMPORT) <= set(_declared())
