"""Fuzzing the topology loader with a long budget: ``make fuzz``.

Runs every ``test_fuzz_*`` test of ``tests/topology/test_topology_fuzz.py`` (the same
strategies ``make test`` runs with a short budget) with ``BAAS_FUZZ_EXAMPLES`` examples each
(default :data:`DEFAULT_BUDGET`, or ``--examples``), then prints the figures: inputs tried,
crashes found (a test counts each distinct failure Hypothesis reports) and the slowest input's
time. Not a test: it asserts no timing; it exits 1 when a crash was found.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BUDGET = 3000


def _fuzz_module(examples: int) -> ModuleType:
    """The fuzz test module, imported with ``examples`` examples per test."""
    os.environ["BAAS_FUZZ_EXAMPLES"] = str(examples)
    sys.path.insert(0, str(ROOT))
    from tests.topology import test_topology_fuzz

    return test_topology_fuzz


def _run(name: str, test: object) -> int:
    """Run one Hypothesis test; the number of distinct failures it found (0 when it passed)."""
    assert callable(test)
    try:
        test()
    except BaseExceptionGroup as group:
        print(f"  {name}: {len(group.exceptions)} distinct failures")
        traceback.print_exception(group, limit=3)
        return len(group.exceptions)
    except Exception as exc:
        print(f"  {name}: crashed")
        traceback.print_exception(exc, limit=3)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    budget = int(os.environ.get("BAAS_FUZZ_EXAMPLES", DEFAULT_BUDGET))
    parser.add_argument("--examples", type=int, default=budget, help="examples per test")
    args = parser.parse_args()
    fuzz = _fuzz_module(args.examples)
    tests = {n: getattr(fuzz, n) for n in sorted(dir(fuzz)) if n.startswith("test_fuzz_")}
    started = time.perf_counter()
    crashes = 0
    for name, test in tests.items():
        before = fuzz.STATS.inputs
        began = time.perf_counter()
        found = _run(name, test)
        crashes += found
        tried = fuzz.STATS.inputs - before
        print(f"{name:45} {tried:7} inputs  {time.perf_counter() - began:6.1f}s  {found} crash(es)")
    stats = fuzz.STATS
    shown = stats.slowest_input[:60].encode("unicode_escape").decode("ascii")
    print(f"tests: {len(tests)}, {args.examples} examples each")
    print(f"inputs tried: {stats.inputs} in {time.perf_counter() - started:.1f}s")
    print(f"crashes found: {crashes}")
    size = len(stats.slowest_input)
    print(f"slowest input: {stats.slowest * 1000:.1f} ms ({size} chars, starting {shown!r})")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
