"""Benchmark the REST API under read-heavy load on loopback: a real ``baas serve`` (uvicorn,
SQLite under a fresh ``BAAS_HOME``) holding ``--networks`` networks, and ``--clients``
concurrent clients, each on its own keep-alive connection, alternating
``GET /api/v1/networks`` and one network's ``GET /api/v1/networks/{name}``, for
``--duration`` seconds per phase after a warm-up. Two phases:

* **paced** — every client sends ``--rate`` requests a second (50 x 5 = 250 requests a
  second by default: a room of dashboards polling). Latency is counted from when a request
  was due, so a server that falls behind is charged for the wait (no coordinated omission).
  The issue's target applies here: p99 under 20 ms on SQLite.
* **saturation** — every client sends its next request as soon as the answer arrives: the
  throughput the server sustains; latency is then mostly queueing (50 in flight / throughput).

The clients are a minimal asyncio HTTP/1.1 client in one process (so the load generator costs
little CPU next to the server on a 2-core machine); every answer must be 200.

    .venv/bin/python bench/api_bench.py [--clients 50] [--rate 5] [--duration 10] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from baas.api import tokens  # noqa: E402
from baas.api.db import Database  # noqa: E402

BAAS = Path(sys.executable).parent / "baas"
TOPOLOGY = (ROOT / "examples" / "two-orgs.yaml").read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0

    def add(self, label: str, seconds: float) -> None:
        self.latencies.setdefault(label, []).append(seconds)


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, auth: bytes
) -> int:
    writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth + b"\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


@dataclass(frozen=True)
class Phase:
    rate: float  # requests a second per client; 0: as fast as answers come
    begin: float
    measure_from: float
    until: float


async def _client(
    port: int,
    auth: bytes,
    paths: list[tuple[str, str]],
    phase: Phase,
    offset: float,
    samples: Samples,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    interval = 1.0 / phase.rate if phase.rate else 0.0
    due = phase.begin + offset * interval
    i = 0
    try:
        while True:
            label, path = paths[i % len(paths)]
            i += 1
            now = time.perf_counter()
            if interval:
                if due > now:
                    await asyncio.sleep(due - now)
                start = due  # charged from when it was due
                due += interval
            else:
                start = now
            if start >= phase.until:
                return
            status = await _get(reader, writer, path, auth)
            end = time.perf_counter()
            if status != 200:
                samples.errors += 1
            elif start >= phase.measure_from:
                samples.add(label, end - start)
    finally:
        writer.close()


async def _load(
    port: int,
    secret: str,
    names: list[str],
    clients: int,
    *,
    rate: float,
    warmup: float,
    duration: float,
) -> Samples:
    auth = b"Authorization: Bearer " + secret.encode()
    samples = Samples()
    begin = time.perf_counter()
    phase = Phase(rate, begin, begin + warmup, begin + warmup + duration)
    tasks = []
    for n in range(clients):
        detail = f"/api/v1/networks/{names[n % len(names)]}"
        paths = [("list", "/api/v1/networks"), ("detail", detail)]
        if n % 2:
            paths.reverse()
        tasks.append(_client(port, auth, paths, phase, n / clients, samples))
    await asyncio.gather(*tasks)
    return samples


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _figures(values: list[float], seconds: float) -> dict[str, float]:
    return {
        "requests": len(values),
        "throughput_rps": round(len(values) / seconds, 1),
        "p50_ms": round(_quantile(values, 0.50) * 1000, 2),
        "p90_ms": round(_quantile(values, 0.90) * 1000, 2),
        "p99_ms": round(_quantile(values, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def _start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAAS_")}
    env["BAAS_HOME"] = str(home)
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [str(BAAS), "serve", "--port", str(port), "--source-dir", str(ROOT / "examples")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"baas serve did not start: {(home / 'server.log').read_text()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument(
        "--rate", type=float, default=5.0, help="requests a second per client (paced phase)"
    )
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--networks", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="baas-api-bench-") as tmp:
        home = Path(tmp)
        port = _free_port()
        os.environ["BAAS_HOME"] = str(home)
        os.environ.pop("BAAS_DATABASE_URL", None)
        print(f"starting baas serve on 127.0.0.1:{port} (SQLite in {home})", file=sys.stderr)
        server = _start_server(home, port)
        try:
            db = Database()
            secret = tokens.create(db, role=tokens.Role.viewer, name="bench").secret
            admin = tokens.create(db, role=tokens.Role.consortium_admin, name="bench").secret
            db.dispose()
            names = [f"bench-{i:03d}" for i in range(args.networks)]
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/yaml"},
            ) as http:
                for name in names:
                    body = TOPOLOGY.replace("name: supplychain", f"name: {name}", 1)
                    http.post("/api/v1/networks", content=body).raise_for_status()
            phases = {}
            for label, rate in (("paced", args.rate), ("saturation", 0.0)):
                what = f"{rate:g} req/s each" if rate else "closed loop"
                print(
                    f"{label}: {args.clients} clients ({what}) for {args.duration:g} s "
                    f"(+{args.warmup:g} s warm-up) on GET /api/v1/networks ({args.networks} "
                    "networks) and one network's detail",
                    file=sys.stderr,
                )
                phases[label] = asyncio.run(
                    _load(
                        port,
                        secret,
                        names,
                        args.clients,
                        rate=rate,
                        warmup=args.warmup,
                        duration=args.duration,
                    )
                )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    report: dict[str, object] = {
        "clients": args.clients,
        "rate_per_client": args.rate,
        "seconds_per_phase": args.duration,
        "networks": args.networks,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    for label, samples in phases.items():
        every = [v for values in samples.latencies.values() for v in values]
        report[label] = {
            "errors": samples.errors,
            "all": _figures(every, args.duration),
            **{k: _figures(v, args.duration) for k, v in samples.latencies.items()},
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for label in phases:
        data = report[label]
        assert isinstance(data, dict)
        print(f"{label}: errors {data['errors']}")
        for part in ("all", "list", "detail"):
            f = data[part]
            print(
                f"  {part:<7} {f['throughput_rps']:>8.1f} req/s  p50 {f['p50_ms']:6.2f} ms  "
                f"p90 {f['p90_ms']:6.2f} ms  p99 {f['p99_ms']:6.2f} ms  ({f['requests']} requests)"
            )
    print(f"load average during the run: {report['load_average_1m']}")


if __name__ == "__main__":
    main()
