"""Concurrent writers lose nothing; a training job swapping model bundles in never exposes a
half-written model to readers (they load the old complete version or the new complete one)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

N_ITEMS = 40


def test_threads_recording_events_lose_nothing(tmp_path):
    from ranking.events import EventStore

    store = EventStore(tmp_path / "events.sqlite")
    n_threads, per_thread, shared = 6, 120, 40
    acks: dict[int, list] = {t: [] for t in range(n_threads)}
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                acks[t].append(store.add({"event_id": f"t{t}-{i}", "user_id": f"u{t}", "item_id": f"p{i % N_ITEMS}",
                                          "type": "click"}))
                if i % 3 == 0:  # every thread also sends the same shared ids: exactly one wins each
                    acks[t].append(store.add({"event_id": f"shared-{(i // 3) % shared}", "user_id": f"u{t}",
                                              "item_id": "p1", "type": "view"}))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    all_acks = [a for lst in acks.values() for a in lst]
    firsts = [a for a in all_acks if not a.duplicate]
    assert store.count() == n_threads * per_thread + shared == len(firsts)
    assert len({a.seq for a in firsts}) == len(firsts)  # no two events share a position
    winners: dict[str, int] = {}
    for a in all_acks:  # every ack of a shared id points at the one stored row
        winners.setdefault(a.event_id, a.seq)
        assert winners[a.event_id] == a.seq
    rows = store._conn().execute("SELECT event_id, COUNT(*) FROM events GROUP BY event_id HAVING COUNT(*) > 1")
    assert rows.fetchall() == []
    store.close()


def _bundle(generation: int):
    """A bundle whose every part carries `generation`, so a mixed read is detectable."""
    from ranking.bundle import ModelBundle
    from ranking.popularity import Popularity

    pop = Popularity()
    pop.scores_ = np.full(N_ITEMS, generation, dtype=np.float32)
    pop.n_items = N_ITEMS
    return ModelBundle({"pop": pop}, {"pop": float(generation)}, [f"p{i}" for i in range(N_ITEMS)],
                       {"generation": generation})


def _check(bundle) -> int:
    generation = bundle.manifest["generation"]
    assert bundle.weights == {"pop": float(generation)}
    assert np.all(bundle.models["pop"].scores_ == generation), "model from another version than its manifest"
    assert len(bundle.item_ids) == N_ITEMS
    return generation


@pytest.mark.parametrize("pause_s", [0.02, 0.0], ids=["training-pace", "back-to-back"])
def test_model_swaps_never_expose_half_written_bundles(tmp_path, pause_s):
    """Readers load the live bundle in a loop while a writer swaps in 40 new versions and events
    stream in from other threads. Every load succeeds and is one complete version; versions seen
    by a reader never go backwards."""
    from ranking.bundle import read_bundle, write_bundle
    from ranking.events import EventStore

    root = tmp_path / "models" / "demo"
    write_bundle(root, _bundle(0))
    store = EventStore(tmp_path / "events.sqlite")
    stop = threading.Event()
    failures: list[str] = []  # mixed / stale versions, or any other error: always a failure
    vanished: list[str] = []  # FileNotFoundError: the version was deleted under the reader
    seen: dict[int, list[int]] = {}
    n_events = [0]

    def reader(r: int) -> None:
        seen[r] = []
        while not stop.is_set():
            try:
                bundle = read_bundle(root)
                generation = _check(bundle)
            except FileNotFoundError as exc:
                vanished.append(str(exc))
                continue
            except Exception as exc:  # noqa: BLE001 - every failed load is a finding
                failures.append(f"{type(exc).__name__}: {exc}")
                continue
            if seen[r] and generation < seen[r][-1]:
                failures.append(f"reader {r} went back from v{seen[r][-1]} to v{generation}")
            seen[r].append(generation)

    def events() -> None:
        i = 0
        while not stop.is_set():
            store.add({"event_id": f"e{i}", "user_id": f"u{i % 5}", "item_id": f"p{i % N_ITEMS}", "type": "view"})
            i += 1
        n_events[0] = i

    threads = [threading.Thread(target=reader, args=(r,)) for r in range(3)] + [threading.Thread(target=events)]
    for th in threads:
        th.start()
    try:
        for generation in range(1, 41):
            write_bundle(root, _bundle(generation))
            time.sleep(pause_s)
        time.sleep(0.05)
    finally:
        stop.set()
        for th in threads:
            th.join()
    assert store.count() == n_events[0]
    store.close()
    assert _check(read_bundle(root)) == 40
    assert all(seen[r] for r in seen), "a reader never completed a load"
    assert not failures, f"{len(failures)} bad loads, e.g. {failures[:3]}"
    # pruning keeps the newest versions (names sort in creation order), so a reader never finds
    # the version it just resolved from CURRENT deleted under it
    assert not vanished, f"{len(vanished)} loads found their version deleted mid-read, e.g. {vanished[0]}"
