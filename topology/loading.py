"""Loading a topology file: read → parse YAML safely → model → cross-field rules.

:func:`load` either returns a :class:`LoadedTopology` (with warnings) or raises
:class:`topology.errors.TopologyError` carrying every error found, each naming the file, the
field path, the line and a fix.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from topology import validation
from topology.errors import Diagnostic, TopologyError, by_position
from topology.model import COLLECTION_TAGS, Network
from topology.sources import SourceRoot
from topology.yamlsafe import MAX_FILE_BYTES, Positions, YamlProblem, join_path, parse


@dataclass(frozen=True)
class LoadedTopology:
    """A validated topology. ``base_dir`` is the folder relative paths are resolved against;
    ``confined``: chaincode paths must stay inside it (topologies the REST API runs; see
    :mod:`topology.sources`); ``store``: the folder of uploaded sources ``sha256:`` paths
    name (the API's; None elsewhere)."""

    path: Path
    network: Network
    warnings: list[Diagnostic] = field(default_factory=list)
    confined: bool = False
    store: Path | None = None

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def sources(self) -> SourceRoot:
        """Where the chaincode paths point: the one rule for the CLI and the API."""
        return SourceRoot(self.base_dir, confined=self.confined, store=self.store)

    def resolve(self, relative: str) -> Path:
        """A path from the file (e.g. a chaincode ``path``) made absolute; raises
        :class:`topology.sources.SourceOutside` when confined and it leads out."""
        return self.sources.resolve(relative)


def load(path: str | Path) -> LoadedTopology:
    """Read and validate the topology at ``path``. Raises :class:`TopologyError`."""
    file = Path(path)
    shown = str(path)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            _fail(
                shown,
                "",
                f"the file is {size} bytes; at most {MAX_FILE_BYTES} are accepted",
                "a topology file is a few KiB; check you passed the right file",
            )
        if not file.is_file():
            _fail(shown, "", "this is not a regular file", "pass the path of a topology YAML file")
        raw = file.read_bytes()
    except FileNotFoundError:
        _fail(shown, "", "no such file", _missing_file_hint())
    except PermissionError:
        _fail(shown, "", "permission denied while reading the file", "make the file readable")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(shown, "", f"the file is not UTF-8 text (byte {exc.start})", "save it as UTF-8")
    network, warnings = loads(text, source=shown, base_dir=file.resolve().parent)
    return LoadedTopology(path=file.resolve(), network=network, warnings=warnings)


def loads(
    text: str,
    *,
    source: str = "<topology>",
    base_dir: Path | None = None,
    confined: bool = False,
    store: Path | None = None,
) -> tuple[Network, list[Diagnostic]]:
    """Validate topology text. Returns ``(network, warnings)``; raises :class:`TopologyError`.
    ``base_dir`` enables the chaincode-folder check (``None`` skips it); ``confined`` makes
    it refuse paths that lead out of ``base_dir`` (:class:`topology.sources.SourceRoot`);
    ``store`` is where ``sha256:`` paths point (uploaded sources). With ``base_dir``, a
    chaincode's ``collections: FILE`` is read (by the same rule as chaincode paths) and the
    returned network holds its collections inline; without, it stays a path."""
    try:
        data, positions = parse(text)
    except YamlProblem as exc:
        raise TopologyError(
            [Diagnostic("error", source, exc.path, exc.message, exc.hint, exc.line, exc.column)]
        ) from None
    if data is None:
        _fail(source, "", "the file is empty", _empty_file_hint())
    if not isinstance(data, dict):
        _fail(
            source,
            "",
            f"the document is a {_kind(data)}, not a mapping",
            "a topology file is a mapping with apiVersion, kind, metadata and spec",
            positions,
        )
    try:
        network = Network.model_validate(data)
    except ValidationError as exc:
        raise TopologyError(by_position(_from_pydantic(exc, source, positions))) from None
    findings: list[validation.Finding] = []
    files: dict[int, str] = {}
    if base_dir is not None:
        root = SourceRoot(base_dir, confined=confined, store=store)
        network, files, findings = validation.inline_collections(network, root)
    findings += validation.check(
        network, base_dir=base_dir, confined=confined, store=store, collection_files=files
    )
    diagnostics = by_position(
        _place(Diagnostic(f.severity, source, f.path, f.message, f.hint), positions)
        for f in findings
    )
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise TopologyError(diagnostics)
    return network, diagnostics


def _examples_here() -> bool:
    """True when the current folder holds this repository's examples (``examples/*.yaml``)."""
    return (Path("examples") / "minimal.yaml").is_file()


def _missing_file_hint() -> str:
    """Where to look: the repository's examples/ only when run from the repository."""
    if _examples_here():
        return "check the path; examples live in examples/"
    return f"check the path (a relative path starts from the current folder, {Path.cwd()})"


def _empty_file_hint() -> str:
    start = "start from examples/minimal.yaml" if _examples_here() else "write a mapping with"
    return f"{start} (apiVersion: baas/v1alpha1, kind: Network, metadata, spec; see `baas schema`)"


def _fail(
    source: str, path: str, message: str, hint: str, positions: Positions | None = None
) -> typing.NoReturn:
    diag = Diagnostic("error", source, path, message, hint)
    raise TopologyError([_place(diag, positions) if positions else diag])


def _place(diag: Diagnostic, positions: Positions) -> Diagnostic:
    found = positions.find(diag.path)
    if found is None:
        return diag
    return Diagnostic(diag.severity, diag.file, diag.path, diag.message, diag.hint, *found)


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _loc_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path = join_path(path, part)
    return path


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc`` (``loc`` without its last element)."""
    model: type[BaseModel] | None = Network
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = next(
            (
                f
                for name, f in model.model_fields.items()
                if (f.alias or name) == part or name == part
            ),
            None,
        )
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


Loc = tuple[int | str, ...]


def _from_pydantic(exc: ValidationError, source: str, positions: Positions) -> list[Diagnostic]:
    """One diagnostic per model error, except that a misspelt required key gives one error
    (its "unknown field ... did you mean" at the misspelling), not that plus "required field
    ... is missing" for the key it was meant to be."""
    errors: list[Any] = [
        {**e, "loc": _untagged(tuple(e["loc"]))} for e in exc.errors(include_url=False)
    ]
    missing = {tuple(err["loc"]) for err in errors if err["type"] == "missing"}
    renames = _misspelt_required(errors, missing)
    out: list[Diagnostic] = []
    for err in errors:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc in renames.values():
            continue
        message, hint = _explain(err, loc, rename=loc in renames)
        out.append(_place(Diagnostic("error", source, _loc_path(loc), message, hint), positions))
    return out


def _untagged(loc: Loc) -> Loc:
    """``loc`` without the union tags pydantic inserts after ``collections``
    (:data:`topology.model.COLLECTION_TAGS`): the path as the file spells it."""
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (i and loc[i - 1] == "collections" and part in COLLECTION_TAGS)
    )


def _misspelt_required(errors: list[Any], missing: set[Loc]) -> dict[Loc, Loc]:
    """``{unknown key's loc: missing key's loc}`` for every unknown key whose closest allowed
    name is a required key missing from the same mapping."""
    renames: dict[Loc, Loc] = {}
    for err in errors:
        loc: Loc = tuple(err["loc"])
        if err["type"] != "extra_forbidden" or not loc:
            continue
        meant = _closest(str(loc[-1]), _allowed_at(loc[:-1]))
        if meant is not None and (*loc[:-1], meant) in missing:
            renames[loc] = (*loc[:-1], meant)
    return renames


def _allowed_at(parent: Loc) -> list[str]:
    model = _model_at(parent)
    return _allowed_keys(model) if model else []


def _closest(name: str, allowed: list[str]) -> str | None:
    """The allowed key ``name`` most likely misspells (as :func:`validation.did_you_mean`)."""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    return close[0] if close else None


def _explain(err: Any, loc: Loc, *, rename: bool = False) -> tuple[str, str]:
    """The message and hint of one model error at ``loc``; ``rename`` says the unknown key at
    ``loc`` stands for a required key that is missing (the hint then says to rename it)."""
    kind = err["type"]
    field_name = str(loc[-1]) if loc else "document"
    if kind == "extra_forbidden":
        allowed = _allowed_at(loc[:-1])
        suggestion = validation.did_you_mean(field_name, allowed)
        meant = _closest(field_name, allowed)
        fix = (
            f"rename it to {meant!r}, a required field"
            if rename and meant
            else "remove it or fix its spelling"
        )
        return (
            f"unknown field {field_name!r}{suggestion}",
            f"{fix}; allowed here: {', '.join(allowed)}",
        )
    if kind == "missing":
        return (f"required field {field_name!r} is missing", f"add '{field_name}: ...' here")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return (f"{err['input']!r} is not allowed", f"use {expected}")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return (
            f"expected a mapping, found a {_kind(err['input'])}",
            "write it as 'key: value' lines",
        )
    if kind == "collections_type":
        return (
            f"expected a list of collections or a file path, found a {_kind(err['input'])}",
            "write '- name: ...' entries (Fabric's collections_config.json shape), or the path "
            "of a collections_config.json relative to the topology file",
        )
    if kind == "list_type":
        return (f"expected a list, found a {_kind(err['input'])}", "write it as '- item' lines")
    if kind == "too_short":
        return ("the list is empty", "add at least one entry")
    if kind == "value_error":
        text = str(err.get("ctx", {}).get("error", err["msg"]))
        return (text, "")
    if kind in ("string_type", "bool_type", "bool_parsing", "int_type", "int_parsing"):
        wanted = {
            "string_type": "a string",
            "bool_type": "true or false",
            "bool_parsing": "true or false",
            "int_type": "a whole number",
            "int_parsing": "a whole number",
        }[kind]
        return (f"expected {wanted}, found {err['input']!r}", f"write {wanted} here")
    return (err["msg"], "")
