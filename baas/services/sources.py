"""Uploaded chaincode sources: a content-addressed store of ``.tar.gz`` archives under
``$BAAS_HOME/sources`` (the REST API's ``POST …/chaincode-sources``).

Layout (the folder 0700, every file 0600, or 0700 when the archive marked it executable)::

    $BAAS_HOME/sources/<sha256>.tar.gz   the archive exactly as uploaded
    $BAAS_HOME/sources/<sha256>/         its members, unpacked once: the chaincode folder

``<sha256>`` is the SHA-256 of the uploaded bytes; a topology names the folder as the
chaincode ``path`` ``sha256:<sha256>`` (:data:`topology.sources.DIGEST`, resolved by the API's
:class:`~topology.sources.SourceRoot`). The archive's top level is the chaincode folder
(``tar -czf cc.tar.gz -C DIR .``).

An archive is checked completely before anything of it is unpacked (:func:`check_archive`),
each refusal a :class:`SourceRefused` naming the member and the fix:

* the body must be gzip (one or more members) holding a tar archive;
* its unpacked size (the tar stream, headers included) at most :attr:`Limits.max_bytes`,
  counted while decompressing, so a gzip bomb stops at the limit, not in memory;
* at most :attr:`Limits.max_members` members;
* member names relative, without ``..``, NUL, backslashes or a Windows drive, each at most
  once, and no file where another member needs a folder;
* regular files and folders only: no symbolic or hard links (wherever they point), no
  devices, fifos or sparse files.

Unpacking writes each member itself (``O_EXCL``, ``O_NOFOLLOW``; never through
:meth:`tarfile.TarFile.extract`) into a staging folder that is renamed into place, so a folder
that exists is complete; the same bytes again find it and do nothing, and concurrent uploads
of the same bytes both end with the one folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from baas.errors import UsageError
from baas.home import ensure_home, sources_dir

DIR_MODE = 0o700
FILE_MODE = 0o600
EXEC_MODE = 0o700
CHUNK = 1024 * 1024
DIGEST_RE = re.compile(r"sha256:([0-9a-f]{64})")
"""A digest as the API gives and takes it (the same form as a chaincode ``path`` names)."""
_REPACK = "pack the chaincode folder itself: tar -czf chaincode.tar.gz -C DIR ."


@dataclass(frozen=True)
class Limits:
    """What an uploaded archive may hold: ``max_bytes`` unpacked (the tar stream) and
    ``max_members`` entries."""

    max_bytes: int = 256 * 1024 * 1024
    max_members: int = 20_000


@dataclass(frozen=True)
class StoredSource:
    """An archive in the store: its ``digest`` (``sha256:<hex>``), whether this call stored
    it (``created``; False: it was there), its members' count and unpacked bytes, and the
    archive's size."""

    digest: str
    created: bool
    files: int
    bytes: int
    archive_bytes: int

    def to_dict(self) -> dict[str, object]:
        return {
            "digest": self.digest,
            "created": self.created,
            "files": self.files,
            "bytes": self.bytes,
            "archiveBytes": self.archive_bytes,
        }


class SourceRefused(UsageError):
    """An uploaded archive refused before anything was unpacked; ``member`` is the member's
    name (None: the archive as a whole)."""

    def __init__(self, message: str, *, hint: str, member: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.member = member


def parse_digest(value: str) -> str:
    """The hex of ``sha256:<64 lowercase hex>``; :class:`~baas.errors.UsageError` for
    anything else (the value shown cut to 80 characters)."""
    found = DIGEST_RE.fullmatch(value)
    if found is None:
        raise UsageError(
            f"{value[:80]!r} is not a source digest",
            hint="give the digest the upload returned: sha256: and 64 lowercase hex digits",
        )
    return found.group(1)


def folder_of(digest: str) -> Path:
    """The unpacked folder of ``digest`` (``sha256:<hex>``); it need not exist."""
    return sources_dir() / parse_digest(digest)


def require(digest: str, *, upload_hint: str) -> Path:
    """The unpacked folder of ``digest``; :class:`~baas.errors.UsageError` (with
    ``upload_hint``) when nothing with that digest was uploaded."""
    folder = folder_of(digest)
    if not folder.is_dir():
        raise UsageError(f"no uploaded chaincode source {digest}", hint=upload_hint)
    return folder


# --------------------------------------------------------------------------- storing


def store(data: bytes, *, limits: Limits = Limits()) -> StoredSource:
    """Store the ``.tar.gz`` ``data`` (see the module docstring): checked, kept, unpacked.
    Raises :class:`SourceRefused` (nothing written) for an archive the rules refuse.
    Idempotent: the same bytes again return the same digest (``created`` False) without
    reading the archive."""
    hexdigest = hashlib.sha256(data).hexdigest()
    digest = f"sha256:{hexdigest}"
    root = _root()
    final = root / hexdigest
    if final.is_dir():
        files, size = _counted(final)
        return StoredSource(digest, False, files, size, len(data))
    with _staging(root) as staging:
        tar_path = staging / "archive.tar"
        _gunzip(data, tar_path, limit=limits.max_bytes)
        with _open_tar(tar_path) as archive:
            members = check_archive(archive, limits=limits, size=tar_path.stat().st_size)
            tree = staging / "tree"
            tree.mkdir(mode=DIR_MODE)
            _unpack(archive, members, tree)
        tar_path.unlink()
        kept = root / f"{hexdigest}.tar.gz"
        partial = staging / "archive.tar.gz"
        _write(partial, data, FILE_MODE)
        partial.replace(kept)
        created = _publish(tree, final)
    files = sum(1 for m in members if m.isfile())
    return StoredSource(digest, created, files, sum(m.size for m in members), len(data))


def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, mode="r:")
    except tarfile.TarError:
        raise SourceRefused(
            "the gzip stream holds no tar archive", hint=f"send a .tar.gz ({_REPACK})"
        ) from None


def _root() -> Path:
    ensure_home()
    root = sources_dir()
    root.mkdir(mode=DIR_MODE, exist_ok=True)
    os.chmod(root, DIR_MODE)
    return root


@contextmanager
def _staging(root: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=".upload-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _publish(tree: Path, final: Path) -> bool:
    """Rename ``tree`` to ``final``; False when a concurrent upload of the same bytes won."""
    try:
        tree.rename(final)
    except OSError:
        if final.is_dir():
            return False
        raise
    return True


def _counted(folder: Path) -> tuple[int, int]:
    files = size = 0
    for path in folder.rglob("*"):
        if path.is_file():
            files += 1
            size += path.stat().st_size
    return files, size


def _gunzip(data: bytes, into: Path, *, limit: int) -> None:
    """Decompress gzip ``data`` (every gzip member) to file ``into``, refusing as soon as
    more than ``limit`` bytes come out."""
    written = 0
    rest = data
    with into.open("wb") as out:
        while rest:
            inflate = zlib.decompressobj(wbits=31)
            pending = rest
            try:
                while True:
                    piece = inflate.decompress(pending, CHUNK)
                    written += len(piece)
                    if written > limit:
                        raise SourceRefused(
                            f"the archive unpacks to more than {limit} bytes",
                            hint="leave build output and dependencies out (node_modules, "
                            "target/, build/): the server installs and builds them",
                        )
                    out.write(piece)
                    pending = inflate.unconsumed_tail
                    if inflate.eof or not (pending or piece):
                        break
            except zlib.error:
                raise SourceRefused(
                    "the body is not a gzip-compressed archive",
                    hint=f"send a .tar.gz ({_REPACK})",
                ) from None
            if not inflate.eof:
                raise SourceRefused(
                    "the gzip stream ends too early (the upload was cut short?)",
                    hint="send the whole .tar.gz again",
                )
            rest = inflate.unused_data.lstrip(b"\0")  # gzip ignores trailing zeros too
    if written == 0:
        raise SourceRefused("the archive is empty", hint=_REPACK)


# --------------------------------------------------------------------------- checking


def check_archive(
    archive: tarfile.TarFile, *, limits: Limits = Limits(), size: int | None = None
) -> list[tarfile.TarInfo]:
    """Every member of ``archive`` (read to its end), checked against the module's rules;
    raises :class:`SourceRefused` for the first that breaks one. ``size``: the tar stream's
    length, when known (a member whose data would run past it is refused: a cut archive).
    Returns the members in archive order (the root folder itself, ``.``, left out)."""
    members: list[tarfile.TarInfo] = []
    kinds: dict[PurePosixPath, str] = {}
    try:
        for count, member in enumerate(_members(archive), start=1):
            if count > limits.max_members:
                raise SourceRefused(
                    f"the archive has more than {limits.max_members} members",
                    hint="leave build output and dependencies out (node_modules, target/, "
                    "build/): the server installs and builds them",
                )
            name = _checked_name(member.name)
            if name is None:
                continue
            _check_kind(member)
            _check_place(name, member, kinds)
            if size is not None and member.offset_data + member.size > size:
                raise SourceRefused(
                    f"member {member.name[:200]!r} is cut short (the archive ends inside it)",
                    hint="send the whole archive again",
                    member=member.name[:200],
                )
            members.append(member)
    except tarfile.TarError as exc:
        raise SourceRefused(
            f"the archive is not a valid tar file ({exc})", hint=f"send a .tar.gz ({_REPACK})"
        ) from None
    if not any(m.isfile() for m in members):
        raise SourceRefused("the archive holds no file", hint=_REPACK)
    return members


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while (member := archive.next()) is not None:
        yield member


def _checked_name(raw: str) -> PurePosixPath | None:
    """The member's path, or None for the root itself (``.``, ``./``); refuses names that
    are absolute or could lead out of the folder."""
    shown = raw.replace("\0", "\\0")[:200]
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise SourceRefused(
            f"member {shown!r} has an absolute name",
            hint=f"members must be relative to the chaincode folder: {_REPACK}",
            member=shown,
        )
    if "\0" in raw or "\\" in raw:
        raise SourceRefused(
            f"member {shown!r} has a NUL byte or a backslash in its name",
            hint="rename the file (names are POSIX paths with / between folders)",
            member=shown,
        )
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SourceRefused(
            f"member {shown!r} has '..' in its name",
            hint=f"members must stay inside the chaincode folder: {_REPACK}",
            member=shown,
        )
    return PurePosixPath(*parts) if parts else None


def _check_kind(member: tarfile.TarInfo) -> None:
    shown = member.name[:200]
    if member.issym() or member.islnk():
        raise SourceRefused(
            f"member {shown!r} is a {'symbolic' if member.issym() else 'hard'} link "
            f"(to {member.linkname[:200]!r})",
            hint="archives hold regular files and folders only: replace the link by the "
            "file it names (tar -h / --dereference)",
            member=shown,
        )
    if member.isdev() or member.isfifo():
        raise SourceRefused(
            f"member {shown!r} is a device or a fifo",
            hint="archives hold regular files and folders only: leave it out",
            member=shown,
        )
    if member.issparse() or not (member.isfile() or member.isdir()):
        raise SourceRefused(
            f"member {shown!r} is not a regular file or folder",
            hint="archives hold regular files and folders only: leave it out",
            member=shown,
        )


def _check_place(
    name: PurePosixPath, member: tarfile.TarInfo, kinds: dict[PurePosixPath, str]
) -> None:
    """Each name once; a file never where a folder is needed (as a parent, or twice)."""
    shown = member.name[:200]
    kind = "dir" if member.isdir() else "file"
    for parent in name.parents:
        if kinds.get(parent) == "file":
            raise SourceRefused(
                f"member {shown!r} is inside {str(parent)!r}, which the archive has as a file",
                hint="pack the folder again from the file system: tar -czf … -C DIR .",
                member=shown,
            )
        kinds.setdefault(parent, "dir")
    if name in kinds and (kind == "file" or kinds[name] == "file"):
        raise SourceRefused(
            f"member {shown!r} appears more than once",
            hint="pack each file once: tar -czf chaincode.tar.gz -C DIR .",
            member=shown,
        )
    kinds[name] = kind


# --------------------------------------------------------------------------- unpacking


def _unpack(archive: tarfile.TarFile, members: list[tarfile.TarInfo], tree: Path) -> None:
    """Write the checked ``members`` under ``tree`` (folders 0700, files 0600 or 0700)."""
    for member in members:
        relative = _checked_name(member.name)
        assert relative is not None  # check_archive left the root out
        target = tree.joinpath(*relative.parts)
        for parent in reversed(target.relative_to(tree).parents):
            (tree / parent).mkdir(mode=DIR_MODE, exist_ok=True)
        if member.isdir():
            target.mkdir(mode=DIR_MODE, exist_ok=True)
            continue
        source = archive.extractfile(member)
        assert source is not None  # a regular file
        mode = EXEC_MODE if member.mode & stat.S_IXUSR else FILE_MODE
        with source:
            _copy(source, target, mode)


def _copy(source: IO[bytes], target: Path, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(target, flags, mode)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
        os.fchmod(out.fileno(), mode)


def _write(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        os.fchmod(out.fileno(), mode)
