"""Benchmark backup and restore on the local runtime (issue 21, item 7).

``examples/two-orgs.yaml`` (3 etcdraft orderers, 2 organisations of 2 peers, one channel) in a
fresh ``BAAS_HOME``: up, N asset transactions (16 concurrent submitters, each endorsed by both
organisations), then

* **backup** — ``baas backup`` (snapshots of one peer per organisation at one agreed block,
  three orderer ledgers copied one at a time, keys encrypted, manifest signed);
* **restore** — the network's folder purged, ``baas restore`` (verify + write);
* **up to green** — ``baas up`` on the restored tree (orderers on their ledgers, peers joining
  and catching up) until smoke passes, every asset then read from every peer.

Needs the pinned Fabric binaries (``baas fabric list``).

    .venv/bin/python bench/backup_bench.py [--transactions 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import topology  # noqa: E402
from baas import plan as planning  # noqa: E402
from baas import services  # noqa: E402
from baas.fabric import transactions  # noqa: E402
from baas.home import network_dir  # noqa: E402
from baas.network.access import NetworkAccess  # noqa: E402
from baas.network.crypto import CryptoTree  # noqa: E402
from baas.runtimes.local import ports  # noqa: E402
from baas.services import backup as backups  # noqa: E402

PASSPHRASE = "bench passphrase, not a secret"


def _write(loaded: topology.LoadedTopology, count: int) -> None:
    plan = planning.build(loaded.network)
    state = network_dir(plan.network)
    cc = plan.chaincodes[0]
    channel = next(c for c in plan.channels if c.name == cc.channel)
    orgs = [plan.org(n) for n in channel.members]
    with NetworkAccess(plan, CryptoTree(state / "crypto"), ports.load_addresses(state)) as access:
        endorsers = [access.peer(o.anchor_peers[0]) for o in orgs]
        client = access.admin(orgs[0])

        def one(i: int) -> None:
            transactions.submit(
                endorsers,
                client,
                channel=cc.channel,
                chaincode=cc.name,
                function="CreateAsset",
                args=[f"bench-{i}", "blue", "5", "Tomoko", "300"],
            )

        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(one, range(count)))


def _timed(label: str, figures: dict[str, float], call: object) -> object:
    start = time.monotonic()
    result = call()  # type: ignore[operator]
    figures[label] = round(time.monotonic() - start, 2)
    print(f"{label}: {figures[label]} s", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1000)
    parser.add_argument(
        "--name",
        default="backupbench",
        help="the network's name (own ports: no clash with a 'supplychain' run elsewhere)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["BAAS_HOME"] = str(Path(tmp) / "home")
        source = (ROOT / "examples" / "two-orgs.yaml").read_text()
        renamed = Path(tmp) / "two-orgs.yaml"
        chaincode = ROOT / "examples" / "chaincode" / "asset-transfer"
        source = source.replace("path: chaincode/asset-transfer", f"path: {chaincode}")
        renamed.write_text(source.replace("name: supplychain", f"name: {args.name}", 1))
        loaded = topology.load(renamed)
        dest = Path(tmp) / "backup"
        figures: dict[str, float] = {}
        try:
            _timed("up", figures, lambda: services.up(loaded, target="local"))
            _timed("transactions", figures, lambda: _write(loaded, args.transactions))
            made = _timed(
                "backup",
                figures,
                lambda: backups.backup(loaded, to=dest, passphrase=PASSPHRASE).value,
            )
            services.down(loaded, target="local", purge=True)
            _timed("restore", figures, lambda: backups.restore(dest, passphrase=PASSPHRASE))

            def green() -> None:
                services.up(loaded, target="local")
                report = services.smoke(loaded, target="local").value
                assert report.passed, report.summary()

            _timed("up to green smoke", figures, green)
            print(
                json.dumps(
                    {
                        "transactions": args.transactions,
                        "heights": made.heights,  # type: ignore[attr-defined]
                        "backupFiles": made.files,  # type: ignore[attr-defined]
                        "backupBytes": made.bytes,  # type: ignore[attr-defined]
                        "seconds": figures,
                    },
                    indent=1,
                )
            )
        finally:
            services.down(loaded, target="local", purge=True)


if __name__ == "__main__":
    main()
