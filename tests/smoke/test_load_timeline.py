"""The load probe's progress loop (:func:`baas.smoke.load.follow`) with real threads: one
timeline point a second and a last one, however early some workers end. The bug it replaces:
a 20 s run held 7,355 points, because the loop joined the first worker with a timeout and spun
once that worker had ended."""

from __future__ import annotations

import threading
import time

from baas.smoke.load import LoadOptions, LoadResult, follow


def test_a_worker_ending_early_does_not_make_the_timeline_spin() -> None:
    workers = [
        threading.Thread(target=time.sleep, args=(seconds,), daemon=True)
        for seconds in (0.05, 0.1, 2.5)
    ]
    result = LoadResult("net", "mychannel", LoadOptions(duration=2.5, concurrency=len(workers)))
    reported: list[int] = []
    start = time.monotonic()
    for worker in workers:
        worker.start()
    follow(
        workers,
        result=result,
        lock=threading.Lock(),
        start=start,
        on_progress=lambda r: reported.append(len(r.timeline)),
    )
    seconds = time.monotonic() - start
    assert not any(w.is_alive() for w in workers)
    assert int(seconds) <= len(result.timeline) <= int(seconds) + 1, result.timeline
    assert reported == list(range(1, len(result.timeline) + 1))
    times = [t for t, _ in result.timeline]
    assert times == sorted(times)


def test_halt_is_set_once_the_give_up_time_has_passed() -> None:
    halt = threading.Event()
    worker = threading.Thread(target=halt.wait, args=(30,), daemon=True)
    result = LoadResult("net", "mychannel", LoadOptions(duration=1.0, concurrency=1))
    start = time.monotonic()
    worker.start()
    follow([worker], result=result, lock=threading.Lock(), start=start, halt=halt, halt_at=start)
    assert halt.is_set() and not worker.is_alive()
