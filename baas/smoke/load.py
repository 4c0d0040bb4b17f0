"""The load probe: probe transactions through the Gateway client for a bounded time, with the
figures a Caliper report gives — submitted, committed, failed by reason, committed TPS and
end-to-end latency percentiles (endorsement start to commit status).

``concurrency`` workers each loop endorse → submit → wait for the commit status, spread over
every member organisation's peers (each worker signs as a client of its peer's organisation);
``rate`` caps the submissions per second for all workers together. The probe stops by itself
after ``duration`` seconds (a call in flight then may take up to its own timeout) or when
``stop`` is set; it only ever dials the network's own nodes.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baas.errors import BaasError, UsageError
from baas.fabric.client import Contract
from baas.network.access import NetworkAccess
from baas.plan import ChannelPlan, NodePlan, OrgPlan
from topology.names import PROBE_CHAINCODE

CALL_TIMEOUT = 30.0


@dataclass(frozen=True)
class LoadOptions:
    """``duration`` seconds of load from ``concurrency`` workers, at most ``rate`` submissions
    per second in all (``None``: as fast as the network answers), each transaction waited
    for at most ``commit_timeout`` seconds."""

    duration: float = 10.0
    concurrency: int = 8
    rate: float | None = None
    commit_timeout: float = 10.0
    """How long a worker waits for a commit status before counting DEADLINE_EXCEEDED and
    moving on (a transaction handed to an orderer that died is never committed)."""

    def __post_init__(self) -> None:
        if (
            self.duration <= 0
            or self.concurrency < 1
            or self.commit_timeout <= 0
            or (self.rate is not None and self.rate <= 0)
        ):
            raise UsageError(
                "the load probe needs a positive duration, at least one worker and a positive rate",
                hint="e.g. --duration 30 --concurrency 16 --rate 100",
            )


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) of ``values`` by nearest rank (0.0 when empty). Pure."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    """What one load probe saw. ``committed_tx_ids`` are the VALID transactions, in commit
    order as observed (for checks that every one reached every ledger)."""

    network: str
    channel: str
    options: LoadOptions
    seconds: float = 0.0
    submitted: int = 0
    committed: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list, repr=False)
    committed_tx_ids: list[str] = field(default_factory=list, repr=False)
    started_at: float = field(default_factory=time.time)
    timeline: list[tuple[float, int]] = field(default_factory=list, repr=False)
    """``(seconds since start, committed so far)`` once per second: the throughput curve."""

    @property
    def tps(self) -> float:
        return self.committed / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        ms = [x * 1000 for x in self.latencies]
        return {
            "network": self.network,
            "channel": self.channel,
            "chaincode": PROBE_CHAINCODE,
            "startedAt": self.started_at,
            "durationSeconds": self.options.duration,
            "concurrency": self.options.concurrency,
            "rate": self.options.rate,
            "seconds": round(self.seconds, 3),
            "submitted": self.submitted,
            "committed": self.committed,
            "failed": dict(self.failed),
            "tps": round(self.tps, 1),
            "latencyMs": {
                "p50": round(percentile(ms, 50), 1),
                "p95": round(percentile(ms, 95), 1),
                "p99": round(percentile(ms, 99), 1),
                "max": round(max(ms, default=0.0), 1),
            },
            "timeline": [[round(t, 1), n] for t, n in self.timeline],
        }

    def summary(self) -> str:
        d = self.to_dict()
        failed = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items())) or "none"
        lat = d["latencyMs"]
        return (
            f"load {self.channel}: {self.committed} committed of {self.submitted} in "
            f"{self.seconds:.1f}s = {d['tps']} TPS; latency p50 {lat['p50']} ms, p95 "
            f"{lat['p95']} ms, p99 {lat['p99']} ms; failed: {failed}"
        )


def _reason(exc: BaasError) -> str:
    """A short failure class for counting: the gRPC code or Fabric status named in the
    message, else the first words."""
    for word in ("UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "FAILED_PRECONDITION"):
        if word in exc.message:
            return word
    return exc.message.split(":")[0][:60]


class _Pacer:
    """Hands out submission slots at most ``rate`` per second (no limit when None)."""

    def __init__(self, rate: float | None, start: float) -> None:
        self._rate = rate
        self._next = start
        self._lock = threading.Lock()

    def wait(self, deadline: float) -> bool:
        if self._rate is None:
            return time.monotonic() < deadline
        with self._lock:
            slot = self._next
            self._next += 1.0 / self._rate
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return time.monotonic() < deadline


def run_load(
    access: NetworkAccess,
    channel: ChannelPlan,
    options: LoadOptions,
    *,
    stop: threading.Event | None = None,
    on_progress: Callable[[LoadResult], None] | None = None,
) -> LoadResult:
    """Drive probe ``Put`` transactions on ``channel`` (the probe must be deployed there)."""
    plan = access.plan
    orgs = [plan.org(n) for n in channel.members]
    peers: list[tuple[OrgPlan, NodePlan]] = [(o, p) for o in orgs for p in o.peers]
    result = LoadResult(plan.network, channel.name, options)
    lock = threading.Lock()
    halt = stop or threading.Event()
    start = time.monotonic()
    deadline = start + options.duration
    pacer = _Pacer(options.rate, start)
    prefix = f"load-{secrets.token_hex(4)}"

    def worker(index: int) -> None:
        org, node = peers[index % len(peers)]
        identity = access.user(org, org.users[0]) if org.users else access.admin(org)
        contract = Contract(
            access.peer(node), identity, channel=channel.name, chaincode=PROBE_CHAINCODE
        )
        count = 0
        while not halt.is_set() and pacer.wait(deadline):
            count += 1
            key = f"{prefix}-{index}-{count}"
            with lock:
                result.submitted += 1
            try:
                outcome = contract.submit("Put", key, "v", timeout=options.commit_timeout)
            except BaasError as exc:
                with lock:
                    result.failed[_reason(exc)] += 1
                time.sleep(0.05)  # a node is down: do not spin
                continue
            with lock:
                if outcome.valid:
                    result.committed += 1
                    result.latencies.append(outcome.seconds)
                    result.committed_tx_ids.append(outcome.tx_id)
                else:
                    result.failed[outcome.code] += 1

    threads = [
        threading.Thread(target=worker, args=(i,), daemon=True, name=f"load-{i}")
        for i in range(options.concurrency)
    ]
    for thread in threads:
        thread.start()
    follow(
        threads,
        result=result,
        lock=lock,
        start=start,
        on_progress=on_progress,
        halt=halt,
        halt_at=deadline + CALL_TIMEOUT + 5,
    )
    result.seconds = time.monotonic() - start
    return result


def follow(
    threads: list[threading.Thread],
    *,
    result: LoadResult,
    lock: threading.Lock,
    start: float,
    on_progress: Callable[[LoadResult], None] | None = None,
    halt: threading.Event | None = None,
    halt_at: float = math.inf,
) -> None:
    """Until every worker of ``threads`` has ended: once a second (counted from ``start``) add
    the committed count to ``result``'s timeline and report it to ``on_progress``; then a last
    point. A worker that ends early does not make the loop tick faster: it then waits on
    another one until the second is up. Past ``halt_at`` (monotonic) ``halt`` is set, which
    the workers check between calls."""
    tick = start + 1.0
    while (alive := next((t for t in threads if t.is_alive()), None)) is not None:
        alive.join(timeout=max(0.0, tick - time.monotonic()))
        if time.monotonic() < tick:
            continue
        tick += 1.0
        _point(result, lock, start, on_progress)
        if halt is not None and time.monotonic() > halt_at:
            halt.set()
    _point(result, lock, start, on_progress)


def _point(
    result: LoadResult,
    lock: threading.Lock,
    start: float,
    on_progress: Callable[[LoadResult], None] | None,
) -> None:
    with lock:
        result.timeline.append((time.monotonic() - start, result.committed))
    if on_progress is not None:
        on_progress(result)


def save(result: LoadResult, state_dir: Path) -> Path:
    """Keep ``result`` as ``<state_dir>/smoke/load-latest.json`` (for ``baas status``)."""
    target = state_dir / "smoke" / "load-latest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target


def latest(state_dir: Path) -> dict[str, Any] | None:
    """The last load probe's figures, if any."""
    path = state_dir / "smoke" / "load-latest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
