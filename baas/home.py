"""Where baas keeps a network's state on this machine: ``$BAAS_HOME`` (default ``~/.baas``)."""

from __future__ import annotations

import os
from pathlib import Path


def baas_home() -> Path:
    """``$BAAS_HOME``, or ``~/.baas`` when unset or empty."""
    return Path(os.environ.get("BAAS_HOME") or "~/.baas").expanduser()


def network_dir(network: str) -> Path:
    """``$BAAS_HOME/networks/<network>``."""
    return baas_home() / "networks" / network


def crypto_dir(network: str) -> Path:
    """``$BAAS_HOME/networks/<network>/crypto``: the PKI tree (source of truth for key material)."""
    return network_dir(network) / "crypto"
