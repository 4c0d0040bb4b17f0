"""File writes that are ensures: content is written only when it differs, atomically.

Private files are created with mode 0600 from the start (never world-readable, even briefly)
and their folders get 0700.
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
    mode = PRIVATE_DIR if private else PUBLIC_DIR
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    if private and (path.stat().st_mode & 0o777) != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)


def ensure_file(path: Path, data: bytes, *, private: bool = False) -> bool:
    """Make ``path`` hold exactly ``data``; returns True when it wrote.

    An identical file is left alone (its mtime is kept) except that a private file with a
    looser mode is tightened to 0600. The parent folder is created (0700 when private).
    """
    ensure_dir(path.parent, private=private)
    if read(path) == data:
        if private and (path.stat().st_mode & 0o777) != PRIVATE_FILE:
            path.chmod(PRIVATE_FILE)
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = PRIVATE_FILE if private else PUBLIC_FILE
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if private:
            os.chmod(tmp, PRIVATE_FILE)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True
