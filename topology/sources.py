"""Where a chaincode's ``path`` points: the one rule the CLI and the REST API both apply.

A topology names each chaincode's source folder relative to a base folder: the topology file's
folder for the CLI, the server's ``--source-dir`` for the API. The CLI runs as its user, who may
point anywhere they can read (:attr:`SourceRoot.confined` false: absolute paths and ``..`` are
fine). The API runs callers' topologies as the server's user, so there a path is *confined*: it
must be relative, and the folder it names — after ``..`` and every symbolic link are resolved —
must lie inside the base folder. A confined refusal says the same thing whether or not the
named folder exists, so that a caller cannot probe the server's file system.

A root may also have a *store* (the API's uploaded chaincode sources, content-addressed,
:mod:`baas.services.sources`): there a ``path`` that is exactly ``sha256:<64 hex digits>``
names the store's folder of that digest. Nothing else reaches the store, and the store adds
no other way out of the base folder: the digest is the whole path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
"""A ``path`` that names an uploaded source in a root's store (lowercase hex only)."""


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
    """The folder chaincode paths are relative to, and whether they must stay inside it;
    ``store``: where ``sha256:<hex>`` paths point (None: such a path is an ordinary name)."""

    base: Path
    confined: bool = False
    store: Path | None = None

    def resolve(self, path: str) -> Path:
        """The absolute, link-free folder ``path`` names. Raises :class:`SourceOutside` when
        the root is confined and ``path`` is absolute (POSIX or Windows form), has a NUL byte,
        or resolves outside :attr:`base`. With a :attr:`store`, exactly ``sha256:<hex>``
        (nothing before or after it) is the store's folder of that digest. The folder need
        not exist."""
        if "\0" in path:
            raise SourceOutside(path.replace("\0", "\\0"))
        if self.store is not None and (stored := DIGEST.fullmatch(path)):
            return self.store.resolve() / stored.group(1)
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
        if self.store is not None and folder.parent == self.store.resolve():
            return f"sha256:{folder.name}"
        if not self.confined:
            return str(folder)
        base = self.base.resolve()
        return str(folder.relative_to(base)) if folder.is_relative_to(base) else "?"
