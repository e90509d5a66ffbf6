"""The vector index's lock: readers together, a writer alone, and a waiting writer first."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.adapters.engine.rwlock import ReadWriteLock

WAIT = 5.0  # seconds: how long a step that should happen may take before the test fails
HELD_OFF = 0.2  # seconds a step that must not happen is given to happen anyway


def started(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_readers_hold_it_together() -> None:
    lock = ReadWriteLock()
    both_inside = threading.Barrier(2, timeout=WAIT)
    broken: list[BaseException] = []

    def read() -> None:
        with lock.reading():
            try:
                both_inside.wait()
            except threading.BrokenBarrierError as error:
                broken.append(error)

    for thread in [started(read), started(read)]:
        thread.join(WAIT)
    assert not broken


def test_a_writer_waits_for_the_readers_to_leave() -> None:
    lock = ReadWriteLock()
    reading, leave, wrote = threading.Event(), threading.Event(), threading.Event()

    def read() -> None:
        with lock.reading():
            reading.set()
            leave.wait(WAIT)

    def write() -> None:
        with lock.writing():
            wrote.set()

    started(read)
    assert reading.wait(WAIT)
    started(write)
    assert not wrote.wait(HELD_OFF)
    leave.set()
    assert wrote.wait(WAIT)


def test_a_waiting_writer_goes_before_readers_that_come_after_it() -> None:
    lock = ReadWriteLock()
    first_in, first_out = threading.Event(), threading.Event()
    order: list[str] = []

    def first_reader() -> None:
        with lock.reading():
            first_in.set()
            first_out.wait(WAIT)

    def write() -> None:
        with lock.writing():
            order.append("writer")

    def late_reader() -> None:
        with lock.reading():
            order.append("late reader")

    started(first_reader)
    assert first_in.wait(WAIT)
    writer = started(write)
    deadline = time.monotonic() + WAIT
    while not lock._writers_waiting and time.monotonic() < deadline:
        time.sleep(0.001)
    late = started(late_reader)
    late.join(HELD_OFF)
    assert order == []  # the late reader waits behind the writer
    first_out.set()
    writer.join(WAIT)
    late.join(WAIT)
    assert order == ["writer", "late reader"]
