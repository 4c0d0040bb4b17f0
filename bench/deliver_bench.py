"""Benchmark ``baas chaincode deliver`` on the local runtime: a v1 → v2 delivery of the sample
Node chaincode on ``examples/two-orgs.yaml``, split by step, and a repeat of the same delivery
(nothing to do).

A fresh ``BAAS_HOME`` with the network up (not timed), then ``--repeat`` rounds, each: deliver
the next version through the service the CLI calls (file edit and validation, the ``build``
phase — ports, the cached npm install, the sources' digest — and the ``chaincode`` phase,
split by step from the progress lines' times: install, approve, the new servers answering,
the commit on every peer, the old servers stopped, every peer able to plan an endorsement),
then the first transaction on the
new version (CreateAsset endorsed by both organisations) and a read on the other organisation's
peer; then the same delivery again, and the whole ``baas chaincode deliver`` command as a user
runs it (process start included) for that no-op. Prints each figure's median. Needs the pinned
Fabric binaries; the chaincode's npm install is warmed once before timing.

    .venv/bin/python bench/deliver_bench.py [--repeat 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import topology  # noqa: E402
from baas import services  # noqa: E402
from baas.services import chaincode as calls  # noqa: E402
from baas.services.delivery import deliver_file  # noqa: E402
from topology.editing import ChaincodeChange  # noqa: E402

EXAMPLES = ROOT / "examples"
BAAS = Path(sys.executable).parent / "baas"


STEPS = (  # (step, the report line's ending that starts it), in the order they happen
    ("install", "peer(s)"),
    ("approve", "approving for Org1MSP, Org2MSP"),
    ("new servers answer", "every peer sees the approvals"),
    ("commit on every peer", "committing"),
    ("switch servers", "switching servers"),
    ("endorsement planned", "can plan an endorsement"),
)


def _steps(lines: list[tuple[float, str]], end: float) -> dict[str, float]:
    """Each step's seconds, from its report line to the next step's (the last to ``end``)."""
    starts = []
    for name, ending in STEPS:
        at = next((t for t, line in lines if line.endswith(ending)), None)
        if at is not None:
            starts.append((name, at))
    bounds = [*(t for _, t in starts[1:]), end]
    return {name: stop - at for (name, at), stop in zip(starts, bounds, strict=True)}


def _round(file: Path, version: str) -> dict[str, float]:
    lines: list[tuple[float, str]] = []
    start = time.monotonic()
    done = deliver_file(
        file,
        ChaincodeChange(name="basic", version=version),
        report=lambda line: lines.append((time.monotonic(), line)),
    ).value
    delivered = time.monotonic() - start
    loaded = topology.load(file)
    first = time.monotonic()
    asset = f"bench-{version}"
    calls.invoke(
        loaded,
        chaincode="basic",
        function="CreateAsset",
        args=[asset, "blue", "5", "Tomoko", "300"],
    )
    calls.query(
        loaded,
        chaincode="basic",
        function="ReadAsset",
        args=[asset],
        peer="peer1.org2.example.com",
    )
    figures = {p["name"]: p["seconds"] for p in done.phases}
    figures.update({f"  {k}": v for k, v in _steps(lines, start + delivered).items()})
    figures["deliver"] = delivered
    figures["first transaction"] = time.monotonic() - first
    again = time.monotonic()
    deliver_file(file, ChaincodeChange(name="basic", version=version))
    figures["same again"] = time.monotonic() - again
    command = time.monotonic()
    subprocess.run(
        [str(BAAS), "chaincode", "deliver", str(file), "--name", "basic", "--version", version],
        check=True,
        capture_output=True,
    )
    figures["same again, the command"] = time.monotonic() - command
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="baas-deliver-bench-") as tmp:
        os.environ["BAAS_HOME"] = str(Path(tmp) / "home")
        file = Path(tmp) / "two-orgs.yaml"
        text = (EXAMPLES / "two-orgs.yaml").read_text()
        file.write_text(text.replace("path: chaincode/", f"path: {EXAMPLES}/chaincode/"))
        loaded = topology.load(file)
        services.up(loaded)
        rounds = []
        try:
            for n in range(args.repeat):
                rounds.append(_round(file, f"2.{n}"))
        finally:
            services.down(topology.load(file), purge=True)
    medians = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    if args.json:
        print(json.dumps({"rounds": rounds, "median": medians}, indent=2))
    else:
        print(f"v1 -> v2 delivery on two-orgs, median of {len(rounds)}:")
        for name, seconds in medians.items():
            print(f"  {name:<26} {seconds:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
