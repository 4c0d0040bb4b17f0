"""Private data collections given as a file: ``spec.chaincodes[].collections: FILE``, the
path of a Fabric ``collections_config.json`` (a JSON list of collection definitions).

:func:`read` finds the file the way chaincode paths are found (:class:`SourceRoot`: relative
to the topology file for the CLI; relative to and confined inside the source folder for the
REST API, so a caller never names an arbitrary server file), and checks each entry against
:class:`topology.model.Collection`. Problems are :class:`CollectionsFileProblem`, naming the
file as the caller may see it, the entry's field path inside the file, and a fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError

from topology.model import Collection
from topology.sources import SourceOutside, SourceRoot
from topology.yamlsafe import YamlProblem, check_nesting, join_path

MAX_BYTES = 1024 * 1024
"""Largest collections file read (a real one is a few hundred bytes per collection)."""

_COLLECTIONS: TypeAdapter[list[Collection]] = TypeAdapter(list[Collection])


@dataclass(frozen=True)
class CollectionsFileProblem(Exception):
    """The file cannot be used: ``message`` (naming the file and, for an entry, the field
    path inside it, e.g. ``[1].requiredPeerCount``) and ``hint``."""

    message: str
    hint: str = ""

    def __str__(self) -> str:
        return self.message


def read(root: SourceRoot, path: str) -> list[Collection]:
    """The collections in the file ``path`` names under ``root``. Raises
    :class:`CollectionsFileProblem`; under a confined root a path that leads out is refused
    with the same words whether or not the file exists."""
    try:
        file = root.resolve(path)
    except SourceOutside:
        raise CollectionsFileProblem(
            f"collections file {path!r} must be a relative path inside the server's source folder",
            "give the collections_config.json relative to the source folder `baas serve "
            "--source-dir` was started with, without '..' or links that lead out of it",
        ) from None
    shown = root.shown(file)
    relative_to = "the source folder" if root.confined else "the topology file"
    try:
        if not file.is_file():
            raise CollectionsFileProblem(
                f"collections file {path!r} does not exist (looked in {shown})",
                f"the path is relative to {relative_to}; fix it or create the file",
            )
        with file.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CollectionsFileProblem(
            f"collections file {path!r} cannot be read: {exc.strerror or exc}",
            "make it a readable file",
        ) from None
    if len(raw) > MAX_BYTES:
        raise CollectionsFileProblem(
            f"collections file {path!r} is larger than {MAX_BYTES} bytes",
            "a collections_config.json holds a few definitions; check the path",
        )
    return parse(raw, shown=path)


def parse(raw: bytes, *, shown: str) -> list[Collection]:
    """The collections in ``raw`` (a collections_config.json's bytes; ``shown`` names it in
    messages). Raises :class:`CollectionsFileProblem` naming the entry and field."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CollectionsFileProblem(
            f"collections file {shown!r} is not UTF-8 text (byte {exc.start})", "save it as UTF-8"
        ) from None
    try:
        check_nesting(text)
        data = json.loads(text)
    except YamlProblem as exc:
        problem = f"collections file {shown!r}: {exc.message}"
        raise CollectionsFileProblem(problem, exc.hint) from None
    except json.JSONDecodeError as exc:
        raise CollectionsFileProblem(
            f"collections file {shown!r} is not JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}",
            'write a JSON list: [{"name": "...", "policy": "OR(\'Org1MSP.member\')", ...}]',
        ) from None
    try:
        return _COLLECTIONS.validate_python(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ""
        for part in first["loc"]:
            where = join_path(where, part)
        at = f" at {where}" if where else ""
        raise CollectionsFileProblem(
            f"collections file {shown!r}{at}: {_reason(first)}",
            "each entry has name and policy, and optionally requiredPeerCount, maxPeerCount, "
            "blockToLive, memberOnlyRead, memberOnlyWrite and endorsementPolicy "
            "(Fabric's collections_config.json)",
        ) from None


def _reason(error: object) -> str:
    err = dict(error)  # type: ignore[call-overload]
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required field is missing"
    if kind == "list_type":
        return "expected a JSON list of collections"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"]))
    return str(err["msg"])
