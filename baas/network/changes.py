"""What an ensure did, in a form both people and machines read."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from baas.fabric.errors import FabricError

T = TypeVar("T")
Report = Callable[[str], None]


@dataclass(frozen=True)
class Change:
    """``action`` (``joined``, ``installed``, ``approved``, ``committed``, …) on ``target``
    (a node or channel), with ``detail``."""

    action: str
    target: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.action} {self.target}" + (f": {self.detail}" if self.detail else "")

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "target": self.target, "detail": self.detail}


def retrying(
    call: Callable[[], T],
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
    max_interval: float = 2.0,
) -> T:
    """``call()``, repeated while it raises a *retryable* :class:`FabricError` (a node still
    starting, no leader yet) and ``timeout`` seconds have not passed; any other error, and the
    last one after the timeout, propagates at once."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except FabricError as exc:
            if not exc.retryable or time.monotonic() + interval > deadline:
                raise
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)
