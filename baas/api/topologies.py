"""Topologies as the API receives and keeps them: the request body (YAML or JSON, at most the
server's body limit) parsed and validated exactly as ``baas validate`` does, and a stored
network turned back into the :class:`topology.LoadedTopology` every service takes.

Relative paths in a topology (a chaincode's ``path``) resolve against the server's
``source_dir`` (:class:`~baas.api.settings.ApiSettings`), as the CLI resolves them against the
topology file's folder, but *confined*: an absolute path, or one that leads out of the source
folder (through ``..`` or a link), is a 422 that does not say whether it exists
(:mod:`topology.sources`). The one other folder a path reaches is an uploaded source: exactly
``sha256:<hex>`` names that digest's folder in the content store (:mod:`baas.services.sources`).
The loaded topology's ``path`` is ``<source_dir>/<name>.yaml`` (a name, not a file: nothing is
written there).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import topology
from baas.api.db.models import NetworkRow
from baas.api.errors import ApiError
from baas.home import sources_dir
from baas.services.plan import ValidationResult
from topology import Diagnostic, TopologyError
from topology.yamlsafe import YamlProblem, check_nesting

YAML = "application/yaml"
JSON = "application/json"
_MEDIA = {
    "application/yaml": YAML,
    "application/x-yaml": YAML,
    "text/yaml": YAML,
    "text/x-yaml": YAML,
    "application/json": JSON,
}
BODY = "request body"
"""The ``file`` named in diagnostics of a posted topology."""


def media_type(content_type: str | None) -> str:
    """The topology media type of a ``Content-Type`` header; 415 for anything else."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    if base not in _MEDIA:
        raise ApiError(
            415,
            "unsupported-media-type",
            f"a topology is sent as YAML or JSON, not {base or 'an untyped body'}",
            hint="set Content-Type: application/yaml (or application/json)",
        )
    return _MEDIA[base]


def _fail(message: str, hint: str, line: int | None = None, column: int | None = None) -> None:
    raise TopologyError([Diagnostic("error", BODY, "", message, hint, line, column)])


def parse(body: bytes, *, media: str, source_dir: Path) -> tuple[str, topology.LoadedTopology]:
    """The body's text and its validated topology. Raises :class:`TopologyError` (every
    diagnostic, with line and column) for anything ``baas validate`` would refuse; a JSON body
    nested deeper than :data:`topology.yamlsafe.MAX_DEPTH` is refused before :func:`json.loads`
    (which recurses per level) sees it, a YAML body by the loader, with the same diagnostic."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(f"the body is not UTF-8 text (byte {exc.start})", "send the topology as UTF-8")
    if media == JSON and text.strip():
        _check_json(text)
    return text, load(text, source_dir=source_dir)


def _check_json(text: str) -> None:
    """Refuse ``text`` unless it is JSON nested at most :data:`~topology.yamlsafe.MAX_DEPTH`
    deep (the same limit and pre-scan as the YAML loader's)."""
    try:
        check_nesting(text)
    except YamlProblem as exc:
        _fail(exc.message, exc.hint, exc.line, exc.column)
    try:
        json.loads(text, parse_int=str)  # only the syntax: no int of 5,000 digits is converted
    except json.JSONDecodeError as exc:
        _fail(f"not JSON: {exc.msg}", "send valid JSON or YAML", exc.lineno, exc.colno)


def load(text: str, *, source_dir: Path, source: str = BODY) -> topology.LoadedTopology:
    """Validate topology ``text``; diagnostics name ``source`` as their file (see the module
    docstring for relative paths)."""
    base, store = source_dir.resolve(), sources_dir()
    network, warnings = topology.loads(
        text, source=source, base_dir=base, confined=True, store=store
    )
    path = base / f"{network.metadata.name}.yaml"
    return topology.LoadedTopology(
        path=path, network=network, warnings=warnings, confined=True, store=store
    )


def loaded(row: NetworkRow, *, source_dir: Path) -> topology.LoadedTopology:
    """The stored network's topology, validated again (a chaincode folder may have gone)."""
    return load(row.source, source_dir=source_dir, source=f"network {row.name}")


def summary(found: topology.LoadedTopology) -> dict[str, Any]:
    """What the API keeps beside the text: the counts ``baas validate`` reports, each
    organisation's name and MSP ID, and the warnings."""
    checked = ValidationResult.of(found).to_dict()
    return {
        "organizations": [
            {"name": o.name, "mspId": o.msp_id} for o in found.network.spec.organizations
        ],
        "counts": {
            "organizations": checked["organizations"],
            "nodes": checked["nodes"],
            "channels": checked["channels"],
            "chaincodes": checked["chaincodes"],
        },
        "warnings": checked["diagnostics"],
    }
