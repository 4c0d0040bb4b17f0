"""Where a chaincode's ``path`` points: the one rule the CLI and the REST API both apply.

A topology names each chaincode's source folder relative to a base folder: the topology file's
folder for the CLI, the server's ``--source-dir`` for the API. The CLI runs as its user, who may
point anywhere they can read (:attr:`SourceRoot.confined` false: absolute paths and ``..`` are
fine). The API runs callers' topologies as the server's user, so there a path is *confined*: it
must be relative, and the folder it names — after ``..`` and every symbolic link are resolved —
must lie inside the base folder. A confined refusal says the same thing whether or not the
named folder exists, so that a caller cannot probe the server's file system.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath


class SourceOutside(ValueError):
    """A confined ``path`` that is absolute or leaves the base folder (``message``, ``hint``)."""

    def __init__(self, path: str) -> None:
        self.message = (
            f"chaincode path {path!r} must be a relative path inside the server's source folder"
        )
        self.hint = (
            "give the chaincode folder relative to the source folder `baas serve --source-dir` "
            "was started with, without '..' or links that lead out of it"
        )
        super().__init__(self.message)


@dataclass(frozen=True)
class SourceRoot:
    """The folder chaincode paths are relative to, and whether they must stay inside it."""

    base: Path
    confined: bool = False

    def resolve(self, path: str) -> Path:
        """The absolute, link-free folder ``path`` names. Raises :class:`SourceOutside` when
        the root is confined and ``path`` is absolute (POSIX or Windows form), has a NUL byte,
        or resolves outside :attr:`base`. The folder need not exist."""
        if "\0" in path:
            raise SourceOutside(path.replace("\0", "\\0"))
        if self.confined and (
            PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute()
        ):
            raise SourceOutside(path)
        base = self.base.resolve()
        found = (base / path).resolve()
        if self.confined and not found.is_relative_to(base):
            raise SourceOutside(path)
        return found

    def shown(self, folder: Path) -> str:
        """``folder`` as a message may show it: relative to the base when confined (never
        an absolute server path), else as it is."""
        if not self.confined:
            return str(folder)
        base = self.base.resolve()
        return str(folder.relative_to(base)) if folder.is_relative_to(base) else "?"
