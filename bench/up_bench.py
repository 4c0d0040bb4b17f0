"""Benchmark ``baas up`` on the local runtime: time to first transaction, split by phase.

For ``examples/two-orgs.yaml`` (3 etcdraft orderers, 2 organisations with 2 peers each, one channel,
the sample Node chaincode), from nothing (a fresh ``BAAS_HOME``) to the chaincode committed
and one asset written (endorsed by both organisations) and read back from the other
organisation's peer; then a second, no-op ``up``. Runs side by side with baas's local
tunables and with Fabric's defaults (the Kubernetes preset: BatchTimeout 2 s, Raft tick
500 ms, gossip at Fabric's intervals), so the effect of the tunables shows in one run.
Needs the pinned Fabric binaries (``baas fabric list``); the chaincode's npm install is cached
and warmed once before timing.

    .venv/bin/python bench/up_bench.py [--repeat 1] [--example examples/two-orgs.yaml]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
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
from baas.nodeconfig import KUBERNETES, LOCAL, Tunables  # noqa: E402
from baas.runtimes.local import chaincode as chaincode_servers  # noqa: E402
from baas.runtimes.local import ports  # noqa: E402
from baas.runtimes.local.runtime import LocalRuntime  # noqa: E402


def _first_transaction(loaded: topology.LoadedTopology) -> float:
    plan = planning.build(loaded.network)
    state = network_dir(plan.network)
    cc = plan.chaincodes[0]
    channel = next(c for c in plan.channels if c.name == cc.channel)
    orgs = [plan.org(n) for n in channel.members]
    start = time.monotonic()
    with NetworkAccess(plan, CryptoTree(state / "crypto"), ports.load_addresses(state)) as access:
        endorsers = [access.peer(o.anchor_peers[0]) for o in orgs]
        transactions.submit(
            endorsers,
            access.admin(orgs[0]),
            channel=cc.channel,
            chaincode=cc.name,
            function="CreateAsset",
            args=["bench-1", "blue", "5", "Tomoko", "300"],
        )
        reader = orgs[-1].peers[-1]
        while True:
            try:
                transactions.evaluate(
                    access.peer(reader),
                    access.admin(orgs[-1]),
                    channel=cc.channel,
                    chaincode=cc.name,
                    function="ReadAsset",
                    args=["bench-1"],
                )
                break
            except Exception:
                time.sleep(0.02)
    return time.monotonic() - start


def one_run(example: Path, tunables: Tunables) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="baas-bench-") as home:
        os.environ["BAAS_HOME"] = home
        loaded = topology.load(example)
        plan = planning.build(loaded.network)
        runtime = services.runtime_for("local", loaded)
        assert isinstance(runtime, LocalRuntime)
        runtime = dataclasses.replace(runtime, tunables=tunables)
        start = time.monotonic()
        runtime.preflight(plan)
        crypto = services.ensure_pki(loaded).root
        pki_s = time.monotonic() - start
        result = runtime.up(plan, crypto=crypto, report=lambda _: None)
        row = {"pki": pki_s, **{p.name: p.seconds for p in result.phases}}
        row["first tx"] = _first_transaction(loaded)
        row["total"] = time.monotonic() - start
        again = time.monotonic()
        second = runtime.up(plan, crypto=crypto, report=lambda _: None)
        row["no-op up"] = time.monotonic() - again
        assert not second.changed, second.to_dict()
        runtime.down(plan, purge=True, report=lambda _: None)
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--example", type=Path, default=ROOT / "examples" / "two-orgs.yaml")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args()
    loaded = topology.load(args.example)
    for cc in planning.build(loaded.network).chaincodes:  # warm the npm cache once
        chaincode_servers.prepare(chaincode_servers.detect(loaded.resolve(cc.path)))
    configs = {"baas local tunables": LOCAL, "Fabric defaults": KUBERNETES}
    medians: dict[str, dict[str, float]] = {}
    for name, tunables in configs.items():
        rows = [one_run(args.example, tunables) for _ in range(args.repeat)]
        medians[name] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    if args.json:
        print(json.dumps(medians, indent=2))
        return
    phases = list(next(iter(medians.values())))
    print(f"baas up {args.example.name}, median of {args.repeat} run(s), seconds")
    print(f"{'phase':<12}" + "".join(f"{name:>22}" for name in medians))
    for phase in phases:
        print(f"{phase:<12}" + "".join(f"{medians[n][phase]:>22.2f}" for n in medians))


if __name__ == "__main__":
    main()
