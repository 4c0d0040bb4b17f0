"""Benchmark: how fast topology loading refuses hostile files and validates a large network.

Not a test (tests never assert timings). Run ``python bench/topology_bench.py``. Prints, for
each case, the best and median of several runs:

* refusing a YAML "billion laughs" alias bomb (9 levels of 9 aliases: ~10^9 values if expanded);
* refusing a file one byte over the 1 MiB cap (from disk, via :func:`topology.load`), and the
  same text handed to :func:`topology.loads`;
* validating a generated 100-organisation topology (plus 3 orderer orgs, 5 channels,
  10 chaincodes) from disk, chaincode folders included.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import topology  # noqa: E402
from topology.yamlsafe import MAX_FILE_BYTES  # noqa: E402

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def big_topology(orgs: int) -> dict[str, Any]:
    """``orgs`` peer organisations (2 peers, 2 users each), 3 orderer organisations of 3 nodes,
    5 channels of 20 members each and 2 chaincodes per channel."""
    organizations: list[dict[str, Any]] = [
        {
            "name": f"ord{i}",
            "mspId": f"Ord{i}MSP",
            "orderers": [{"name": f"orderer{j}"} for j in range(3)],
        }
        for i in range(3)
    ]
    organizations += [
        {
            "name": f"org{i}",
            "mspId": f"Org{i}MSP",
            "peers": [{"name": "peer0", "anchor": True}, {"name": "peer1"}],
            "users": ["alice", "bob"],
        }
        for i in range(orgs)
    ]
    per_channel = max(1, orgs // 5)
    channels = [
        {
            "name": f"channel{c}",
            "organizations": [f"org{i}" for i in range(c * per_channel, (c + 1) * per_channel)],
            "orderers": ["ord0", "ord1", "ord2"] if c % 2 else None,
        }
        for c in range(5)
    ]
    for channel in channels:
        if channel["orderers"] is None:
            del channel["orderers"]
    chaincodes = []
    for c, channel in enumerate(channels):
        members = channel["organizations"]
        policy = "OutOf({}, {})".format(
            len(members) // 2 + 1, ", ".join(f"'Org{m[3:]}MSP.peer'" for m in members)
        )
        for k in range(2):
            chaincodes.append(
                {
                    "name": f"cc{c}-{k}",
                    "channel": channel["name"],
                    "version": "1.0",
                    "path": f"chaincode/cc{c}-{k}",
                    **({"endorsement": policy} if k == 0 else {}),
                }
            )
    return {
        "apiVersion": "baas/v1alpha1",
        "kind": "Network",
        "metadata": {"name": "bench"},
        "spec": {
            "fabric": {"version": "2.5"},
            "consensus": "etcdraft",
            "domain": "example.com",
            "organizations": organizations,
            "channels": channels,
            "chaincodes": chaincodes,
        },
    }


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """(best, median) wall time of ``action`` in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def refused(action: Callable[[], object], expect: str) -> Callable[[], None]:
    """``action`` wrapped to insist that it raises a TopologyError mentioning ``expect``."""

    def run() -> None:
        try:
            action()
        except topology.TopologyError as exc:
            if expect not in str(exc):
                raise AssertionError(f"refused for another reason: {exc}") from None
            return
        raise AssertionError("the input was accepted")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="repetitions per case (default 7)")
    parser.add_argument("--orgs", type=int, default=100, help="peer organisations (default 100)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bomb = folder / "bomb.yaml"
        bomb.write_text(BILLION_LAUGHS)
        huge_text = "#" * (MAX_FILE_BYTES + 1)
        huge = folder / "huge.yaml"
        huge.write_text(huge_text)
        document = big_topology(args.orgs)
        for cc in document["spec"]["chaincodes"]:
            (folder / cc["path"]).mkdir(parents=True)
        big = folder / "big.yaml"
        big.write_text(yaml.safe_dump(document, sort_keys=False))

        loaded = topology.load(big)
        spec = loaded.network.spec
        nodes = sum(len(o.peers) + len(o.orderers) for o in spec.organizations)
        print(
            f"generated topology: {len(spec.organizations)} organisations, {nodes} nodes, "
            f"{len(spec.channels)} channels, {len(spec.chaincodes)} chaincodes, "
            f"{big.stat().st_size} bytes, {len(loaded.warnings)} warnings"
        )
        cases: list[tuple[str, Callable[[], object]]] = [
            ("refuse billion laughs (load)", refused(lambda: topology.load(bomb), "alias bomb")),
            ("refuse 1 MiB + 1 file (load)", refused(lambda: topology.load(huge), "at most")),
            ("refuse 1 MiB + 1 text (loads)", refused(lambda: topology.loads(huge_text), "KiB")),
            (f"validate {args.orgs}-organisation topology", lambda: topology.load(big)),
        ]
        width = max(len(name) for name, _ in cases)
        for name, action in cases:
            best, median = timed(action, args.runs)
            print(f"{name:<{width}}  best {best * 1000:8.2f} ms  median {median * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
