"""Benchmark: crypto material for a 50-organisation network, baas PKI vs Fabric's cryptogen.

Not a test. Run ``python bench/pki_bench.py`` (or ``make bench``). Prints the time of a fresh
``pki.generate`` and of an idempotent re-run; when a ``cryptogen`` binary is found
(``$FABRIC_BIN/cryptogen`` or on ``PATH``) it runs it on the equivalent crypto-config.yaml and
prints both times and the ratio, otherwise it says why it could not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pki import generate  # noqa: E402
from pki.cryptoconfig import crypto_config  # noqa: E402
from pki.spec import NodeSpec, OrgSpec, PKIOptions  # noqa: E402

UNAVAILABLE = (
    "cryptogen unavailable: no executable at $FABRIC_BIN/cryptogen nor on PATH. Fabric binaries "
    "cannot be installed on this machine: the Go module proxy refuses "
    'github.com/hyperledger/fabric at the pinned versions (403 "This module version is not '
    'available") and GitHub release downloads are not reachable.'
)


def topology(orgs: int, peers: int, users: int) -> list[OrgSpec]:
    """``orgs`` peer organisations with ``peers`` peers and ``users`` users each (+ admin)."""
    specs = []
    for i in range(1, orgs + 1):
        domain = f"org{i}.example.com"
        nodes = tuple(
            NodeSpec(f"peer{p}.{domain}", f"peer{p}", "peer", ("localhost", "127.0.0.1"))
            for p in range(peers)
        )
        names = tuple(f"user{u}" for u in range(1, users + 1))
        specs.append(OrgSpec(f"org{i}", f"Org{i}MSP", domain, nodes, names))
    return specs


def find_cryptogen() -> Path | None:
    fabric_bin = os.environ.get("FABRIC_BIN")
    if fabric_bin:
        for candidate in (Path(fabric_bin), Path(fabric_bin) / "cryptogen"):
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    found = shutil.which("cryptogen")
    return Path(found) if found else None


def timed(label: str, fn: Callable[[], object]) -> float:
    """Run ``fn`` once; print wall time and the CPU split (user = Python + crypto, sys = the
    kernel creating files and folders). Returns the wall time."""
    start, cpu = time.perf_counter(), os.times()
    fn()
    elapsed, after = time.perf_counter() - start, os.times()
    user = (after.user - cpu.user) + (after.children_user - cpu.children_user)
    system = (after.system - cpu.system) + (after.children_system - cpu.children_system)
    print(f"{label:<42} {elapsed:7.3f} s  (cpu user {user:.2f} s, sys {system:.2f} s)")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--peers", type=int, default=2)
    parser.add_argument("--users", type=int, default=2)
    parser.add_argument("--key-algorithm", default="P-256", choices=["P-256", "P-384", "Ed25519"])
    parser.add_argument("--repeat", type=int, default=3, help="fresh runs (best is compared)")
    parser.add_argument("--keep", type=Path, help="write output here instead of a temp folder")
    args = parser.parse_args()

    orgs = topology(args.orgs, args.peers, args.users)
    options = PKIOptions(key_algorithm=args.key_algorithm)
    identities = sum(len(o.nodes) + 1 + len(o.users) for o in orgs)
    certs = 2 * len(orgs) + 2 * identities
    print(
        f"{len(orgs)} orgs x ({args.peers} peers, 1 admin, {args.users} users), "
        f"{args.key_algorithm}: {certs} certificates and keys, {os.cpu_count()} CPUs"
    )
    work = args.keep or Path(tempfile.mkdtemp(prefix="pki-bench-"))
    try:
        runs = []
        for i in range(args.repeat):
            out = work / f"baas-{i}"
            shutil.rmtree(out, ignore_errors=True)
            runs.append(
                timed(
                    f"baas pki generate (fresh, run {i + 1})", partial(generate, out, orgs, options)
                )
            )
        ours = min(runs)
        timed("baas pki generate (re-run, all kept)", partial(generate, out, orgs, options))
        files = sum(1 for p in out.rglob("*") if p.is_file())
        print(
            f"best fresh run: {ours:.3f} s for {files} files, "
            f"{ours / certs * 1000:.2f} ms per certificate"
        )

        config = work / "crypto-config.yaml"
        config.write_text(crypto_config(orgs, options))
        cryptogen = find_cryptogen()
        if cryptogen is None:
            print(UNAVAILABLE)
            if args.keep:
                print(f"equivalent crypto-config.yaml for a manual comparison: {config}")
            return 0
        theirs_out = work / "cryptogen"
        shutil.rmtree(theirs_out, ignore_errors=True)
        cmd = [str(cryptogen), "generate", f"--config={config}", f"--output={theirs_out}"]

        def run_cryptogen() -> None:
            shutil.rmtree(theirs_out, ignore_errors=True)
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

        theirs = min(
            timed(f"cryptogen generate (run {i + 1})", run_cryptogen) for i in range(args.repeat)
        )
        print(f"cryptogen: {cryptogen}")
        print(
            f"best times: baas {ours:.3f} s, cryptogen {theirs:.3f} s; ratio baas/cryptogen "
            f"{ours / theirs:.2f}x"
        )
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
