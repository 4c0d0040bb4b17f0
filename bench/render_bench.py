"""Benchmark ``baas render`` on a generated 100-organisation topology.

100 organisations with 3 peers each; the first 5 also run one orderer each (5 orderers, BFT
off: etcdraft); 10 channels of 10 member organisations; one chaincode per channel. Prints the
wall time of a cold render (every file created), a warm one (nothing changes) and the rendering
alone per worker count. Target: a render under 5 s on 2 cores.

    .venv/bin/python bench/render_bench.py [--orgs 100] [--repeat 1] [--secrets-mode vault]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def topology_text(orgs: int, *, peers: int = 3, orderers: int = 5, channels: int = 10) -> str:
    """A valid baas/v1alpha1 topology: ``orgs`` organisations, ``orderers`` of them running one
    orderer each, ``channels`` channels splitting the organisations into equal groups."""
    lines = [
        "apiVersion: baas/v1alpha1",
        "kind: Network",
        "metadata:",
        "  name: bench",
        "spec:",
        '  fabric: {version: "2.5"}',
        "  consensus: etcdraft",
        "  domain: bench.example.com",
        "  organizations:",
    ]
    names = [f"org{i:03d}" for i in range(orgs)]
    for index, name in enumerate(names):
        lines += [f"    - name: {name}", f"      mspId: Org{index:03d}MSP", "      peers:"]
        lines += ["        - {name: peer0, anchor: true}"]
        lines += [f"        - name: peer{p}" for p in range(1, peers)]
        if index < orderers:
            lines += ["      orderers:", "        - name: orderer0"]
        lines.append("      users: [client]")
    group = max(1, orgs // channels)
    lines.append("  channels:")
    for c in range(channels):
        members = names[c * group : (c + 1) * group] or names[:1]
        lines += [f"    - name: channel{c}", f"      organizations: [{', '.join(members)}]"]
    lines.append("  chaincodes:")
    for c in range(channels):
        lines += [
            f"    - name: asset{c}",
            f"      channel: channel{c}",
            '      version: "1.0"',
            "      path: chaincode/asset-transfer",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=100)
    parser.add_argument("--secrets-mode", choices=["kubernetes", "vault"], default="kubernetes")
    parser.add_argument("--workers", type=int, default=0, help="0 = one per CPU")
    args = parser.parse_args()

    from baas.cli import app as cli
    from baas.cli import kube_cmds
    from baas.runtimes.kubernetes import helm

    if "render" not in {c.name for c in cli.app.registered_commands}:
        kube_cmds.register(cli.app)
    helm.helm_binary()  # install outside the timing

    with tempfile.TemporaryDirectory(prefix="baas-render-bench-") as tmp:
        work = Path(tmp)
        (work / "chaincode" / "asset-transfer").mkdir(parents=True)
        topo = work / "bench.yaml"
        topo.write_text(topology_text(args.orgs))
        out = work / "out"
        argv = ["render", str(topo), "--out", str(out), "--secrets-mode", args.secrets_mode]
        if args.workers:
            argv += ["--workers", str(args.workers)]
        timings = []
        for label in ("cold", "warm"):
            started = time.perf_counter()
            status = cli.main([*argv, "-o", "json"]) if label == "warm" else cli.main(argv)
            elapsed = time.perf_counter() - started
            if status != 0:
                print(f"baas render failed with exit status {status}", file=sys.stderr)
                return status
            timings.append((label, elapsed))
        files = sum(1 for p in out.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peers = 3 * args.orgs
    print(
        f"\nbaas render: {args.orgs} organisations, {peers} peers, 5 orderers, 10 channels, "
        f"secrets {args.secrets_mode}, {os.cpu_count()} CPUs -> {files} files, "
        f"{size / 1e6:.1f} MB"
    )
    for label, elapsed in timings:
        print(f"  {label:<5} {elapsed:6.2f} s  (target < 5 s: {'ok' if elapsed < 5 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
