"""baas: a Blockchain-as-a-Service deployer for Hyperledger Fabric.

``baas.__version__`` is read from the installed distribution's metadata when first asked
for (importlib.metadata costs tens of milliseconds, which every command would otherwise
pay before its first step).
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'baas' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("baas")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
