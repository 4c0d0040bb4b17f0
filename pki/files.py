"""File writes that are ensures: content is written only when it differs, atomically.

Private files are created with mode 0600 from the start (never world-readable, even briefly)
and their folders get 0700. Folders are created only when a write finds them missing, so an
existing tree costs no mkdir calls.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PUBLIC_FILE = 0o644
PRIVATE_DIR = 0o700
PUBLIC_DIR = 0o755


def read(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist (or is not a regular file)."""
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def ensure_dir(path: Path, *, private: bool = False) -> None:
    """Create ``path`` (and parents); private folders are (re)set to 0700."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        path.mkdir(mode=PRIVATE_DIR if private else PUBLIC_DIR, parents=True, exist_ok=True)
        return
    if private and mode != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)


def _create(path: Path, data: bytes, mode: int) -> None:
    """Write a file that does not exist yet (``O_EXCL``), creating missing folders.

    Not atomic, and need not be: a torn new file is unreadable or differs, so the next run
    rewrites it (a torn key is replaced by a new key and its certificate re-issued).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, mode)
    except FileNotFoundError:
        path.parent.mkdir(mode=PUBLIC_DIR, parents=True, exist_ok=True)
        fd = os.open(path, flags, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Atomically replace an existing file: readers see the old or the new bytes, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)  # a stale temporary file may have had another mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_file(path: Path, data: bytes, *, private: bool = False) -> bool:
    """Make ``path`` hold exactly ``data``; returns True when it wrote.

    An identical file is left alone (its mtime is kept) except that a private file or folder
    with a looser mode is tightened (0600 / 0700). Missing folders are created. Replacing an
    existing file is atomic.
    """
    current = read(path)
    if private:
        ensure_dir(path.parent, private=True)
    mode = PRIVATE_FILE if private else PUBLIC_FILE
    if current == data:
        if private and (path.stat().st_mode & 0o777) != PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)
        return False
    if current is None:
        try:
            _create(path, data, mode)
            return True
        except FileExistsError:
            pass  # appeared meanwhile (or is not a regular file): replace it
    _replace(path, data, mode)
    return True


def remove(path: Path) -> bool:
    """Delete the file at ``path``; returns True when there was one."""
    try:
        path.unlink()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return False
    return True
