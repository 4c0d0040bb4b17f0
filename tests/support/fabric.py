"""Fabric's real binaries for tests that need them, or a skip that says how to provide them.

Binaries are found the way baas finds them (:func:`baas.fabric.binaries.find`): ``FABRIC_BIN``,
the cache ``${XDG_CACHE_HOME:-~/.cache}/baas/fabric/<release>``, then PATH. Nothing here builds
or downloads Fabric.

Usage from a test module or conftest::

    from tests.support.fabric import fabric25, fabric_install_or_skip

    @pytest.mark.fabric
    def test_something(fabric25: FabricInstall) -> None:
        ...
"""

from __future__ import annotations

import pytest

from baas.errors import BaasError
from baas.fabric.binaries import FabricInstall, find, line_of, resolve_release

__all__ = ["fabric25", "fabric31", "fabric_install_or_skip"]


def fabric_install_or_skip(release: str) -> FabricInstall:
    """The install of ``release`` ("2.5.16" or its line "2.5"); skips the calling test, with a
    reason saying how to provide the binaries, when there is none (or ``FABRIC_BIN`` points at
    a wrong one)."""
    try:
        return find(release)
    except BaasError as exc:
        pinned = resolve_release(release)
        pytest.skip(
            f"Fabric {pinned} binaries not available ({exc.message}); provide them with "
            f"`baas fabric install --version {line_of(pinned)}` or set FABRIC_BIN to an "
            f"extracted official release archive (hyperledger-fabric-linux-<arch>-{pinned}.tar.gz)"
        )


@pytest.fixture(scope="session")
def fabric25() -> FabricInstall:
    """Fabric 2.5.16's binaries (skips when absent)."""
    return fabric_install_or_skip("2.5.16")


@pytest.fixture(scope="session")
def fabric31() -> FabricInstall:
    """Fabric 3.1.5's binaries (skips when absent)."""
    return fabric_install_or_skip("3.1.5")
