"""What is kept in memory (`app.kept`): bounded, the oldest dropped first, and a loaded
config's entry holding the config so that another object never finds it by a reused id."""

from __future__ import annotations

import gc
import threading

from app.kept import Kept, made


def test_at_most_so_many_are_kept_the_oldest_dropped_first() -> None:
    kept: Kept[int, str] = Kept(3)
    for n in range(5):
        kept.put(n, f"v{n}")
    assert len(kept) == 3
    assert [kept.get(n) for n in range(5)] == [None, None, "v2", "v3", "v4"]
    kept.put(3, "again")  # a key kept already takes no one's place
    assert [kept.get(n) for n in range(5)] == [None, None, "v2", "again", "v4"]


def test_a_config_object_is_made_for_once_and_its_id_never_reused_meanwhile() -> None:
    kept: Kept[object, tuple[object, object]] = Kept(8)
    calls: list[int] = []

    class Config:
        pass

    first = Config()
    one = made(kept, ("plan", id(first)), first, lambda: calls.append(1) or "first's")
    assert made(kept, ("plan", id(first)), first, lambda: "made again") == one == "first's"
    address = id(first)
    del first
    gc.collect()
    second = Config()  # the entry holds the first: the second cannot take its address
    assert id(second) != address
    assert made(kept, ("plan", id(second)), second, lambda: "second's") == "second's"
    assert calls == [1]


def test_threads_putting_at_once_keep_it_bounded_and_whole() -> None:
    kept: Kept[tuple[int, int], int] = Kept(64)
    failed: list[BaseException] = []

    def put(thread: int) -> None:
        try:
            for n in range(5_000):
                kept.put((thread, n), n)
                assert kept.get((thread, n)) in (n, None)  # (another may have dropped it)
        except BaseException as error:  # (a thread's failure, seen by the test)
            failed.append(error)

    threads = [threading.Thread(target=put, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert len(kept) <= 64 + 4
    assert all(kept.get((t, n)) in (n, None) for t in range(4) for n in range(5_000))
    assert sum(kept.get((t, n)) is not None for t in range(4) for n in range(5_000)) >= 60
