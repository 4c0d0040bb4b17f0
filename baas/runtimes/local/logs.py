"""Program logs of a local network: ``<state_dir>/logs/<program>.log`` (stdout and stderr of
each supervised program; supervisord rotates them to ``<program>.log.1`` ...)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOG_DIR = "logs"
_BLOCK = 8192


def log_path(state_dir: Path, name: str) -> Path:
    """Where program ``name`` logs: ``<state_dir>/logs/<name>.log``."""
    return state_dir / LOG_DIR / f"{name}.log"


def tail(path: Path, lines: int = 20) -> list[str]:
    """The last ``lines`` lines of ``path`` without their line ends (fewer when the file is
    shorter; empty when it does not exist or ``lines`` <= 0). Reads backwards from the end,
    so a large log costs only the blocks needed; undecodable bytes are replaced."""
    if lines <= 0:
        return []
    try:
        handle = path.open("rb")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return []
    with handle:
        end = handle.seek(0, os.SEEK_END)
        data = b""
        pos = end
        while pos > 0 and data.count(b"\n") <= lines:
            step = min(_BLOCK, pos)
            pos -= step
            handle.seek(pos)
            data = handle.read(step) + data
    text = data.decode("utf-8", errors="replace")
    found = text.splitlines()
    return found[-lines:]


def follow(
    path: Path,
    *,
    from_end: bool = False,
    poll_interval: float = 0.2,
    stop: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Yield lines of ``path`` (without line ends) as they are written, forever — or until
    ``stop()`` returns True (checked whenever no new line is available).

    Starts at the beginning (``from_end``: at the current end). Waits for a file that does
    not exist yet; when the file is rotated (a new file at ``path``) or truncated, continues
    with the new content from its start. A partial last line is held back until its newline
    arrives.
    """
    handle = None
    inode: int | None = None
    pending = b""
    try:
        while True:
            if handle is None:
                try:
                    handle = path.open("rb")
                except FileNotFoundError:
                    if stop is not None and stop():
                        return
                    time.sleep(poll_interval)
                    continue
                inode = os.fstat(handle.fileno()).st_ino
                if from_end:
                    handle.seek(0, os.SEEK_END)
                    from_end = False
            chunk = handle.read(_BLOCK)
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for line in complete:
                    yield line.rstrip(b"\r").decode("utf-8", errors="replace")
                continue
            if _replaced(path, inode, handle.tell()):
                handle.close()
                handle, pending = None, b""
                continue
            if stop is not None and stop():
                return
            time.sleep(poll_interval)
    finally:
        if handle is not None:
            handle.close()


def _replaced(path: Path, inode: int | None, position: int) -> bool:
    """True when ``path`` is now another file (rotation) or shorter than ``position``."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False  # rotated away, the new file is not there yet: keep the old one
    return stat.st_ino != inode or stat.st_size < position
