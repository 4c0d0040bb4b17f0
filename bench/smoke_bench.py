"""Benchmark ``baas smoke``: its duration, a load probe, and the fault drills' figures.

On ``examples/two-orgs.yaml`` (Fabric 2.5.16) and ``examples/bft.yaml`` (3.1.5), each in a
fresh ``BAAS_HOME``: ``baas up``; smoke twice (the first deploys the probe chaincode, the
second reuses it); a load probe (default 30 s, 16 workers); then a drill — a load probe during
which one orderer is SIGKILLed a third of the way in — reporting committed transactions lost
(compared with every member peer's ledger; must be 0), the throughput dip (TPS in the five
seconds after the kill against the five before) and the seconds until smoke is green again.
Needs the pinned binaries (``baas fabric list``).

    .venv/bin/python bench/smoke_bench.py [--duration 30] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import topology  # noqa: E402
from baas import plan as planning  # noqa: E402
from baas import services  # noqa: E402
from baas.fabric import deliver  # noqa: E402
from baas.home import network_dir  # noqa: E402
from baas.network.access import NetworkAccess  # noqa: E402
from baas.network.crypto import CryptoTree  # noqa: E402
from baas.plan import Plan  # noqa: E402
from baas.runtimes.local import nodes, ports  # noqa: E402
from baas.smoke.load import LoadOptions, LoadResult, run_load  # noqa: E402


def _access(plan: Plan) -> NetworkAccess:
    state = network_dir(plan.network)
    return NetworkAccess(plan, CryptoTree(state / "crypto"), ports.load_addresses(state))


def _rate(timeline: list[tuple[float, int]], start: float, end: float) -> float:
    inside = [(t, n) for t, n in timeline if start <= t <= end]
    if len(inside) < 2:
        return 0.0
    (t0, n0), (t1, n1) = inside[0], inside[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def _lost(plan: Plan, result: LoadResult) -> int:
    channel = plan.channels[0]
    lost: set[str] = set()
    with _access(plan) as access:
        for org in (plan.org(n) for n in channel.members):
            for peer in org.peers:
                seen: set[str] = set()
                for block in deliver.blocks(
                    access.connections,
                    access.peer(peer).target,
                    access.admin(org),
                    channel=channel.name,
                    source="peer",
                ):
                    seen.update(tx for tx, ok in deliver.transactions_of(block) if ok)
                lost |= set(result.committed_tx_ids) - seen
    return len(lost)


def _green(loaded: topology.LoadedTopology, limit: float = 120.0) -> float:
    start = time.monotonic()
    while not services.smoke(loaded, target="local").value.passed:
        if time.monotonic() - start > limit:
            return float("inf")
        time.sleep(0.5)
    return time.monotonic() - start


def run(example: Path, *, victim: str, duration: float, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="baas-smoke-bench-") as home:
        os.environ["BAAS_HOME"] = home
        loaded = topology.load(example)
        plan = planning.build(loaded.network)
        services.up(loaded, target="local")
        try:
            started = time.monotonic()
            first = services.smoke(loaded, target="local").value
            first_s = time.monotonic() - started
            started = time.monotonic()
            second = services.smoke(loaded, target="local").value
            second_s = time.monotonic() - started
            assert first.passed and second.passed
            options = LoadOptions(duration=duration, concurrency=concurrency)
            with _access(plan) as access:
                load = run_load(access, plan.channels[0], options)
            drill_options = LoadOptions(duration=duration, concurrency=8, commit_timeout=4.0)
            kill_at = duration / 3
            box: dict[str, LoadResult] = {}
            with _access(plan) as access:
                worker = threading.Thread(
                    target=lambda: box.setdefault(
                        "r", run_load(access, plan.channels[0], drill_options)
                    )
                )
                worker.start()
                time.sleep(kill_at)
                state = {
                    n.name: n for n in nodes.node_status(plan, state_dir=network_dir(plan.network))
                }
                os.kill(state[victim].pid or 0, 9)
                worker.join()
            drill = box["r"]
            recovery = _green(loaded)
            d = load.to_dict()["latencyMs"]
            return {
                "smoke (probe deployed)": first_s,
                "smoke (probe reused)": second_s,
                "load TPS": load.tps,
                "load p50 ms": d["p50"],
                "load p99 ms": d["p99"],
                "drill committed": drill.committed,
                "drill lost": _lost(plan, drill),
                "TPS before kill": _rate(drill.timeline, kill_at - 5, kill_at),
                "TPS 5 s after kill": _rate(drill.timeline, kill_at, kill_at + 5),
                "TPS at the end": _rate(drill.timeline, duration - 5, duration),
                "smoke green again s": recovery,
            }
        finally:
            services.down(loaded, target="local", purge=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    examples = ROOT / "examples"
    rows = {
        "two-orgs (Raft, 2.5.16)": run(
            examples / "two-orgs.yaml",
            victim="orderer1.ordererorg.example.com",
            duration=args.duration,
            concurrency=args.concurrency,
        ),
        "bft (3.1.5)": run(
            examples / "bft.yaml",
            victim="orderer2.ordererorg.example.com",
            duration=args.duration,
            concurrency=args.concurrency,
        ),
    }
    names = list(next(iter(rows.values())))
    print(f"{'':<24}" + "".join(f"{n:>26}" for n in rows))
    for name in names:
        print(f"{name:<24}" + "".join(f"{rows[r][name]:>26.2f}" for r in rows))


if __name__ == "__main__":
    main()
