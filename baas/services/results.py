"""What every service returns: a typed result, the topology's warnings, one JSON shape.

``to_dict()`` is what the CLI's ``-o json`` prints and what the REST API will serialise:
``{"kind": ..., "apiVersion": "baas/v1alpha1", ...the result's own fields..., "warnings": [...]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from topology import Diagnostic

API_VERSION = "baas/v1alpha1"


class Serialisable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


T = TypeVar("T", bound=Serialisable)


@dataclass
class Outcome(Generic[T]):
    """A service's result ``value`` of kind ``kind`` (``UpResult``, ``Status``, …) with the
    validation ``warnings`` of the topology it was computed from."""

    kind: str
    value: T
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "apiVersion": API_VERSION,
            **self.value.to_dict(),
            "warnings": [w.to_dict() for w in self.warnings],
        }
