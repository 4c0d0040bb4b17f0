"""baas's own images for the cluster tests, assembled locally with :mod:`tests.support.oci`.

* :func:`node_chaincode_spec` — a Node chaincode-as-a-service server: this machine's ``node``
  (with its ldd closure), the chaincode folder with its ``node_modules`` (prepared by the local
  runtime's cached ``npm ci``), busybox for ``/bin/sh``, and the entrypoint of
  ``baas/smoke/probe/Dockerfile``: ``fabric-shim`` serving on ``$CHAINCODE_SERVER_ADDRESS`` as
  ``$CHAINCODE_ID`` (what ``charts/fabric`` passes).
* :func:`probe_image` — the smoke probe (:data:`baas.smoke.probe.DEFAULT_IMAGE`) built that way.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from baas.runtimes.local import chaincode as chaincode_servers
from baas.smoke.probe import DEFAULT_IMAGE, PROBE_DIR
from tests.support import oci

APP_DIR = "/app"
ENTRYPOINT = (
    "/bin/sh",
    "-c",
    "exec node /app/node_modules/fabric-shim/cli.js server "
    '--chaincode-address="$CHAINCODE_SERVER_ADDRESS" --chaincode-id="$CHAINCODE_ID" '
    "--module-path=/app",
)


def node_chaincode_spec(source_dir: Path, *, ref: str, busybox: Path) -> oci.ImageSpec:
    """The image of the Node chaincode in ``source_dir`` as a CCaaS server, tagged ``ref``."""
    node = shutil.which("node")
    if node is None:
        raise oci.ImageError("node is not on PATH: it is what the chaincode image runs")
    prepared = chaincode_servers.prepare(chaincode_servers.detect(source_dir))
    binary = Path(node).resolve()
    entries: list[oci.Entry] = [*oci.base_entries(), *oci.busybox_entries(busybox)]
    entries += [oci.file_from(binary, "/usr/local/bin/node", mode=0o755)]
    entries += oci.ldd_closure([binary])
    root = [
        e
        for e in oci.tree_from(prepared.root, APP_DIR)
        if not e.path.startswith(f"{APP_DIR}/node_modules")
    ]
    app = root + oci.tree_from(prepared.modules, f"{APP_DIR}/node_modules")
    # the server runs as a non-root user: every folder traversable, every file readable
    # (the local cache keeps its copies private, 0700)
    entries += [_world_readable(e) for e in app]
    config = oci.ImageConfig(
        entrypoint=ENTRYPOINT,
        env=("PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"),
        working_dir=APP_DIR,
        exposed_ports=("9999/tcp",),
    )
    return oci.ImageSpec(ref=ref, entries=tuple(entries), config=config)


def _world_readable(entry: oci.Entry) -> oci.Entry:
    if entry.kind == "symlink":
        return entry
    extra = 0o555 if entry.kind == "dir" else 0o444
    return dataclasses.replace(entry, mode=entry.mode | extra)


def probe_image(*, busybox: Path, ref: str = DEFAULT_IMAGE) -> oci.BuiltImage:
    """Build (or reuse) the smoke probe's server image."""
    return oci.build_image(node_chaincode_spec(PROBE_DIR, ref=ref, busybox=busybox))
