"""The vector index beside the engine's words: nearest neighbours, filters that never leak,
writes by key, its file, and what it refuses."""

from __future__ import annotations

import functools
import os
import resource
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.adapters.engine.vectorfile import TRAILER
from app.adapters.engine.vectors import VectorError, VectorFileError, VectorIndex

DIMENSIONS = 32
TOPICS = 40
COUNT = 3000
# Low enough that most searches of these few thousand vectors go through the graph, as a
# large collection's do; the exact scan is tested on its own.
THROUGH_THE_GRAPH = {"exact_up_to": 50, "rows_per_candidate": 0}


def clustered(count: int, seed: int = 1) -> np.ndarray:
    """Unit vectors around a few topics, as documents' embeddings gather (random vectors in
    every direction are nothing like them)."""
    rng = np.random.default_rng(seed)
    topics = rng.normal(size=(TOPICS, DIMENSIONS))
    vectors = topics[rng.integers(0, TOPICS, count)] + rng.normal(0, 0.6, (count, DIMENSIONS))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


VECTORS = clustered(COUNT)
KEYS = np.arange(1000, 1000 + COUNT, dtype=np.uint64)  # (not row numbers: keys are the engine's)


@functools.cache
def built() -> VectorIndex:
    """One index of `VECTORS`, shared by the tests that only read it."""
    index = VectorIndex(DIMENSIONS, **THROUGH_THE_GRAPH)
    index.upsert(KEYS, VECTORS)
    return index


def exact(query: np.ndarray, k: int, keys: np.ndarray = KEYS, vectors: np.ndarray = VECTORS):
    scores = vectors @ (query / np.linalg.norm(query))
    order = np.argsort(-scores)[:k]
    return keys[order], scores[order]


def queries(count: int, seed: int = 2) -> np.ndarray:
    return clustered(count, seed)


def test_the_graph_finds_the_nearest_neighbours_an_exact_scan_finds() -> None:
    index = built()
    found = []
    for query in queries(100):
        keys, scores = index.search(query, 10)
        expected, _ = exact(query, 10)
        assert len(keys) == 10
        assert (np.diff(scores) <= 0).all()  # best first
        found.append(len(set(keys.tolist()) & set(expected.tolist())))
    assert sum(found) / 1000 >= 0.9


def test_a_small_collection_is_scanned_exactly() -> None:
    index = VectorIndex(DIMENSIONS)  # (3,000 vectors: under the size that uses the graph)
    index.upsert(KEYS, VECTORS)
    for query in queries(30):
        keys, scores = index.search(query, 10)
        _, expected_scores = exact(query, 10)
        # The best ten scores, each that key's own, up to the half-precision rounding of the
        # stored vectors (two keys within it of each other may swap places).
        assert np.allclose(scores, expected_scores, atol=2e-3)
        assert np.allclose(scores, VECTORS[np.searchsorted(KEYS, keys)] @ query, atol=2e-3)


def test_scores_are_the_cosine_similarity() -> None:
    index = built()
    query = queries(1)[0]
    keys, scores = index.search(query * 7.5, 5)  # (a query need not be of unit length)
    rows = np.searchsorted(KEYS, keys)
    assert np.allclose(scores, VECTORS[rows] @ query, atol=2e-3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    share=st.floats(0, 1),
    k=st.integers(0, 120),
    seed=st.integers(0, 2**32 - 1),
    as_array=st.booleans(),
    strangers=st.integers(0, 50),
)
def test_a_filter_never_lets_another_key_through(
    share: float, k: int, seed: int, as_array: bool, strangers: int
) -> None:
    index = built()
    rng = np.random.default_rng(seed)
    held = rng.choice(KEYS, int(share * COUNT), replace=False)
    absent = rng.integers(10**6, 2 * 10**6, strangers).astype(np.uint64)  # keys with no vector
    allowed_keys = np.concatenate([held, absent])
    rng.shuffle(allowed_keys)
    allowed = allowed_keys if as_array else {int(key) for key in allowed_keys}
    keys, scores = index.search(queries(1, seed)[0], k, allowed)
    assert set(keys.tolist()) <= set(held.tolist())
    assert len(keys) == min(k, len(held))  # every allowed one, when fewer than k
    assert len(set(keys.tolist())) == len(keys)
    assert (np.diff(scores) <= 0).all()


def test_a_filter_finds_what_an_exact_scan_of_the_allowed_finds() -> None:
    index = built()
    rng = np.random.default_rng(5)
    for share in (0.5, 0.05, 0.005):
        allowed = np.sort(rng.choice(KEYS, int(share * COUNT), replace=False))
        rows = np.searchsorted(KEYS, allowed)
        found = 0
        for query in queries(40):
            keys, _ = index.search(query, 10, allowed)
            expected, _ = exact(query, 10, allowed, VECTORS[rows])
            found += len(set(keys.tolist()) & set(expected.tolist()))
        assert found / (10 * 40) >= 0.9, share


def test_an_empty_filter_finds_nothing() -> None:
    keys, scores = built().search(VECTORS[0], 10, set())
    assert len(keys) == len(scores) == 0


def test_replacing_a_key_keeps_one_vector_for_it() -> None:
    index = VectorIndex(DIMENSIONS, **THROUGH_THE_GRAPH)
    index.upsert(KEYS[:500], VECTORS[:500])
    index.upsert(KEYS[:100], VECTORS[1000:1100])  # new vectors for the first hundred keys
    assert len(index) == 500
    keys, scores = index.search(VECTORS[1000], 500)
    assert keys[0] == KEYS[0]
    assert scores[0] > 0.99
    assert len(set(keys.tolist())) == len(keys) == 500
    keys, scores = index.search(VECTORS[0], 500)  # the first key's old vector: no longer its
    assert scores[keys == KEYS[0]][0] == pytest.approx(VECTORS[1000] @ VECTORS[0], abs=2e-3)
    assert np.allclose(index.vector(int(KEYS[0])), VECTORS[1000], atol=2e-3)


def test_a_key_twice_in_one_batch_keeps_its_last_vector() -> None:
    index = VectorIndex(DIMENSIONS)
    index.upsert([7, 8, 7], VECTORS[:3])
    assert len(index) == 2
    assert np.allclose(index.vector(7), VECTORS[2], atol=2e-3)


def test_removed_keys_are_never_found_again() -> None:
    index = VectorIndex(DIMENSIONS, **THROUGH_THE_GRAPH)
    index.upsert(KEYS, VECTORS)
    gone = KEYS[::3]
    assert index.remove([*gone.tolist(), 5]) == len(gone)  # (5 has no vector: ignored)
    assert len(index) == COUNT - len(gone)
    assert index.vector(int(gone[0])) is None
    for query in VECTORS[::3][:50]:  # each the vector of a removed key
        keys, _ = index.search(query, 20)
        assert not set(keys.tolist()) & set(gone.tolist())
    everything, _ = index.search(VECTORS[0], COUNT)
    assert set(everything.tolist()) == set(KEYS.tolist()) - set(gone.tolist())
    index.upsert(gone[:10], VECTORS[:30:3])  # and back again
    assert len(index) == COUNT - len(gone) + 10


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(st.integers(0, 60), min_size=1, max_size=30)),
        max_size=12,
    )
)
def test_writes_by_key_leave_what_a_dict_would(writes: list[tuple[bool, list[int]]]) -> None:
    index = VectorIndex(4)
    model: dict[int, np.ndarray] = {}
    rng = np.random.default_rng(len(writes))
    for is_upsert, keys in writes:
        if is_upsert:
            vectors = rng.normal(size=(len(keys), 4)).astype(np.float32) + 0.1
            index.upsert(keys, vectors)
            for key, vector in zip(keys, vectors, strict=True):
                model[key] = vector / np.linalg.norm(vector)
        else:
            assert index.remove(keys) == len(set(keys) & set(model))
            for key in keys:
                model.pop(key, None)
    assert len(index) == len(model)
    for key, vector in model.items():
        assert np.allclose(index.vector(key), vector, atol=2e-3)
    keys, _ = index.search([1, 1, 1, 1], 100)
    assert sorted(keys.tolist()) == sorted(model)


def test_saved_and_loaded_it_answers_the_same(tmp_path: Path) -> None:
    index = built()
    path = tmp_path / "vectors"
    index.save(path, version=42)
    loaded = VectorIndex.load(path, DIMENSIONS, **THROUGH_THE_GRAPH)
    assert len(loaded) == COUNT
    assert loaded.version == 42
    assert loaded.agrees(COUNT)
    allowed = set(KEYS[::7].tolist())
    for query in queries(20):
        for subset in (None, allowed):
            before, before_scores = index.search(query, 10, subset)
            after, after_scores = loaded.search(query, 10, subset)
            assert before.tolist() == after.tolist()
            assert np.allclose(before_scores, after_scores)
    loaded.upsert([1], VECTORS[:1])  # and it takes writes after loading
    assert len(loaded) == COUNT + 1


def test_a_count_that_differs_says_it_is_out_of_step() -> None:
    assert built().agrees(COUNT)
    assert not built().agrees(COUNT + 1)


def saved(tmp_path: Path) -> Path:
    index = VectorIndex(DIMENSIONS)
    index.upsert(KEYS[:300], VECTORS[:300])
    path = tmp_path / "vectors"
    index.save(path)
    return path


@pytest.mark.parametrize("cut", [0, 7, TRAILER.size - 1, 1000, -1, -TRAILER.size, -9000])
def test_a_truncated_file_is_refused(tmp_path: Path, cut: int) -> None:
    path = saved(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(VectorFileError):
        VectorIndex.load(path, DIMENSIONS)


@pytest.mark.parametrize("where", [100, 5000, -TRAILER.size // 2, -2])
def test_a_damaged_file_is_refused(tmp_path: Path, where: int) -> None:
    path = saved(tmp_path)
    data = bytearray(path.read_bytes())
    data[where] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(VectorFileError):
        VectorIndex.load(path, DIMENSIONS)


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VectorFileError, match="no vector file"):
        VectorIndex.load(tmp_path / "none", DIMENSIONS)
    (tmp_path / "other").write_bytes(os.urandom(10_000))
    with pytest.raises(VectorFileError):
        VectorIndex.load(tmp_path / "other", DIMENSIONS)
    with pytest.raises(VectorFileError, match="32-dimension vectors, not 64"):
        VectorIndex.load(saved(tmp_path), 64)


def test_a_save_that_fails_midway_leaves_the_old_file(tmp_path: Path) -> None:
    path = saved(tmp_path)
    before = path.read_bytes()
    bigger = VectorIndex(DIMENSIONS)
    bigger.upsert(KEYS, VECTORS)
    # The process may write files of half the old one's size only: the save fails midway,
    # as on a full disk (the signal off, so that the write fails instead of the process).
    previous_signal = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    previous_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) // 2, previous_limit[1]))
    try:
        with pytest.raises((OSError, RuntimeError)):
            bigger.save(path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, previous_limit)
        signal.signal(signal.SIGXFSZ, previous_signal)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]  # (no half file left)
    assert len(VectorIndex.load(path, DIMENSIONS)) == 300


def test_a_save_clears_what_a_crash_mid_save_left(tmp_path: Path) -> None:
    path = saved(tmp_path)
    (tmp_path / ".vectors.0123abcd.tmp").write_bytes(b"half a file")
    VectorIndex.load(path, DIMENSIONS).save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors"]


def test_an_empty_index(tmp_path: Path) -> None:
    index = VectorIndex(DIMENSIONS)
    assert len(index) == 0
    assert index.agrees(0)
    keys, scores = index.search(VECTORS[0], 10)
    assert len(keys) == len(scores) == 0
    assert index.remove([1, 2]) == 0
    assert index.vector(1) is None
    index.save(tmp_path / "vectors")
    assert len(VectorIndex.load(tmp_path / "vectors", DIMENSIONS)) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i: i.upsert([1], np.ones((1, DIMENSIONS - 1))), "32 dimensions.*1x31"),
        (lambda i: i.search(np.ones(DIMENSIONS + 1), 3), "32 dimensions.*1x33"),
        (lambda i: i.upsert([1], [[float("nan")] * DIMENSIONS]), "finite"),
        (lambda i: i.upsert([1], np.zeros((1, DIMENSIONS))), "zeros"),
        (lambda i: i.upsert([-1], np.ones((1, DIMENSIONS))), "integers from 0"),
        (lambda i: i.upsert([1, 2], np.ones((1, DIMENSIONS))), "2 keys .* 1 vectors"),
        (lambda i: i.search(np.ones(DIMENSIONS), -1), "k must be"),
        (lambda i: i.search(np.ones((2, DIMENSIONS)), 3), "one vector"),
        (lambda i: i.upsert([1], [["a"] * DIMENSIONS]), "list of numbers"),
    ],
)
def test_a_vector_it_cannot_take_is_refused_clearly(call, message: str) -> None:
    index = VectorIndex(DIMENSIONS)
    index.upsert([5], VECTORS[:1])
    with pytest.raises(VectorError, match=message):
        call(index)
    assert len(index) == 1  # nothing written


def test_searches_run_while_a_writer_writes() -> None:
    index = VectorIndex(DIMENSIONS, **THROUGH_THE_GRAPH)
    index.upsert(KEYS[:1000], VECTORS[:1000])
    stable = set(KEYS[:500].tolist())  # never touched by the writer
    failures: list[BaseException] = []
    done = threading.Event()

    def write() -> None:
        rng = np.random.default_rng(3)
        try:
            for _ in range(60):
                batch = rng.choice(KEYS[500:], 50, replace=False)
                index.upsert(batch, VECTORS[np.searchsorted(KEYS, batch)])
                index.remove(rng.choice(KEYS[500:], 40, replace=False))
        except BaseException as error:
            failures.append(error)
        finally:
            done.set()

    def read(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not done.is_set():
                query = VECTORS[rng.integers(0, COUNT)]
                keys, _ = index.search(query, 10, stable)
                assert len(keys) == 10
                assert set(keys.tolist()) <= stable
                keys, _ = index.search(query, 10)
                assert set(keys.tolist()) <= set(KEYS.tolist())
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=write)] + [
        threading.Thread(target=read, args=(seed,)) for seed in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    assert len(index) == len(index.search(VECTORS[0], COUNT).keys)
