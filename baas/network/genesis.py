"""Channel genesis blocks, made once by Fabric's own ``configtxgen`` from the release in use
and kept: a channel is created from exactly one genesis block, so a re-run reuses the stored
block instead of making a new one (whose hash would differ)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from baas.errors import OperationError


def genesis_path(state_dir: Path, channel: str) -> Path:
    return state_dir / "channels" / f"{channel}.block"


def make_block(*, configtxgen: Path, configtx_yaml: str, channel: str, profile: str) -> bytes:
    """A genesis block for ``channel`` from ``configtx_yaml``'s ``profile``, made now by
    ``configtxgen`` in a private temporary folder. Raises :class:`OperationError` with
    configtxgen's own message when it fails."""
    with tempfile.TemporaryDirectory(prefix="configtx-") as work:
        (Path(work) / "configtx.yaml").write_text(configtx_yaml, encoding="utf-8")
        out = Path(work) / "genesis.block"
        cmd = [
            str(configtxgen),
            "-configPath",
            work,
            "-profile",
            profile,
            "-channelID",
            channel,
            "-outputBlock",
            str(out),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        if proc.returncode != 0 or not out.is_file():
            lines = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
            raise OperationError(
                f"configtxgen could not make the genesis block of channel {channel}:\n  "
                + "\n  ".join(lines),
                hint="the topology produced a configtx.yaml Fabric refuses; please report it",
            )
        return out.read_bytes()


def ensure_genesis(
    *, configtxgen: Path, configtx_yaml: str, channel: str, profile: str, state_dir: Path
) -> tuple[bytes, bool]:
    """The channel's genesis block and whether it was made now (``False``: read back).

    Made by :func:`make_block` and kept (written atomically, with the configtx.yaml it came
    from beside it) under ``state_dir/channels/``."""
    target = genesis_path(state_dir, channel)
    if target.is_file() and target.stat().st_size > 0:
        return target.read_bytes(), False
    target.parent.mkdir(parents=True, exist_ok=True)
    block = make_block(
        configtxgen=configtxgen, configtx_yaml=configtx_yaml, channel=channel, profile=profile
    )
    target.with_suffix(".configtx.yaml").write_text(configtx_yaml, encoding="utf-8")
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(block)
    os.replace(tmp, target)
    return block, True
