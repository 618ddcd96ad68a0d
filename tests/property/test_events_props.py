"""Property: EventStore.add takes anything. It either acknowledges a durable event or raises
EventValidationError (a ValueError) naming what was wrong; a rejection writes nothing; repeating
an event_id is idempotent."""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from ranking.events import EVENT_TYPES, EventStore, EventValidationError

FIELDS = ["event_id", "user_id", "item_id", "type", "timestamp", "value"]
ITEMS = {"p1", "p2", "p3"}

odd_text = st.text(alphabet=st.one_of(st.characters(codec="utf-8"),
                                      st.sampled_from(["\x00", "\r", "\u202e", "\u0301", "🧴", " "])),
                   max_size=30)
anything = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.just(10**400),
              st.floats(allow_nan=True, allow_infinity=True), odd_text, st.binary(max_size=8),
              st.sampled_from(list(EVENT_TYPES) + sorted(ITEMS) + ["2024-05-01T12:00:00Z", "1714560000", "4.5"]),
              st.datetimes()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)
# Mostly-plausible events (so acceptance is explored too) and arbitrary dicts with wrong keys.
plausible = st.fixed_dictionaries(
    {"user_id": st.one_of(st.sampled_from(["u1", "u2"]), odd_text, anything),
     "type": st.one_of(st.sampled_from(EVENT_TYPES), anything)},
    optional={"item_id": st.one_of(st.sampled_from(sorted(ITEMS)), anything),
              "event_id": st.one_of(st.text(min_size=1, max_size=12), anything),
              "timestamp": st.one_of(st.floats(0, 4e9), st.integers(0, 4 * 10**12), anything),
              "value": anything},
)
arbitrary_dict = st.dictionaries(st.one_of(st.sampled_from(FIELDS), odd_text, st.integers(), st.none()),
                                 anything, max_size=7)

@st.composite
def mutated(draw):
    """A valid event with at most one field replaced by anything, dropped, or an extra key added."""
    etype = draw(st.sampled_from(EVENT_TYPES))
    ev = {"user_id": draw(st.one_of(st.sampled_from(["u1", "u2"]), st.text(min_size=1, max_size=20))),
          "type": etype, "item_id": draw(st.sampled_from(sorted(ITEMS)))}
    if etype == "search":
        ev["value"] = draw(odd_text.filter(str.strip))
    elif etype == "rating":
        ev["value"] = draw(st.floats(0, 5))
    if draw(st.booleans()):
        ev["event_id"] = draw(st.text(min_size=1, max_size=16))
    if draw(st.booleans()):
        ev["timestamp"] = draw(st.one_of(st.floats(0, 4e9), st.integers(0, 4 * 10**12),
                                         st.sampled_from(["2024-05-01T12:00:00Z", "1714560000"])))
    how = draw(st.sampled_from(["none", "replace", "drop", "extra"]))
    field = draw(st.sampled_from(FIELDS))
    if how == "replace":
        ev[field] = draw(anything)
    elif how == "drop":
        ev.pop(field, None)
    elif how == "extra":
        ev[draw(st.one_of(odd_text, st.integers()))] = draw(anything)
    return ev


payload = st.one_of(mutated(), mutated(), plausible, arbitrary_dict, anything)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = EventStore(tmp_path_factory.mktemp("ev") / "events.sqlite", known_items=ITEMS)
    yield s
    s.close()


def try_add(store, payload):
    """(ack, None) or (None, exc); fails the test on anything but a ValueError."""
    try:
        return store.add(payload), None
    except EventValidationError as exc:
        assert str(exc), "empty error message"
        return None, exc
    except ValueError as exc:  # noqa: BLE001 - allowed by the contract, but note it
        event(f"ValueError but not EventValidationError: {type(exc).__name__}")
        return None, exc


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=payload)
@example(payload={1: "x"})                                      # non-string key
@example(payload={None: "x", "user_id": "u"})
@example(payload={"user_id": "u\ud800", "type": "view", "item_id": "p1"})  # lone surrogate (JSON "\ud800")
@example(payload={"user_id": "u", "type": "rating", "item_id": "p1", "value": float("nan")})
@example(payload={"user_id": "u", "type": "view", "item_id": "p1", "timestamp": 10**400})
@example(payload={"user_id": "u", "type": "search", "value": ["a", "b"]})
@example(payload={"user_id": "u", "type": "view", "item_id": "p1", "value": b"\x00"})
@example(payload={"user_id": "u", "type": "view", "item_id": "p1", "event_id": "x" * 100_000})
def test_add_accepts_or_rejects_cleanly(store, payload):
    before = store.count()
    ack, exc = try_add(store, payload)
    if exc is not None:
        event("rejected")
        assert store.count() == before, f"rejected event was written: {exc}"
        return
    event("duplicate" if ack.duplicate else "accepted")
    assert store.count() == before + (0 if ack.duplicate else 1)
    # idempotent: the same event again is a duplicate with the same seq, nothing written
    if isinstance(payload, dict) and payload.get("event_id") is not None:
        again = store.add(payload)
        assert again.duplicate and again.seq == ack.seq and again.event_id == ack.event_id
        assert store.count() == before + (0 if ack.duplicate else 1)
    rows = store._conn().execute("SELECT seq, type, item_id, ts FROM events WHERE event_id=?",
                                 (ack.event_id,)).fetchall()
    assert len(rows) == 1  # an event_id is stored once (a duplicate keeps the first writer's event)
    seq, etype, item, ts = rows[0]
    assert seq == ack.seq and etype in EVENT_TYPES and (item is None or item in ITEMS)
    assert 0 <= ts <= 4_102_444_800 and math.isfinite(ts)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(payload, min_size=1, max_size=8))
def test_add_many_is_all_or_nothing(store, batch):
    before = store.count()
    try:
        result = store.add_many(batch)
    except EventValidationError as exc:
        assert str(exc).startswith("event #")
        assert store.count() == before
        return
    except ValueError:
        assert store.count() == before
        return
    assert store.count() == before + result.inserted
    assert result.inserted + result.duplicates == len(batch)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(event_id=st.text(min_size=1, max_size=40).filter(lambda s: s.strip()),
       user=st.text(min_size=1, max_size=20).filter(lambda s: s.strip()), n=st.integers(2, 4))
def test_same_event_id_is_stored_once(store, event_id, user, n):
    payload = {"event_id": event_id, "user_id": user, "type": "click", "item_id": "p2"}
    before = store.count()
    acks = []
    for _ in range(n):
        ack, exc = try_add(store, payload)
        if exc is not None:  # e.g. a lone surrogate: rejected every time, nothing written
            assert store.count() == before
            return
        acks.append(ack)
    assert len({a.seq for a in acks}) == 1 and all(a.duplicate for a in acks[1:])
    assert store.count() - before <= 1


@pytest.mark.parametrize("payload", [
    {"item_id": "p1", "type": "view"},
    {"user_id": "u", "item_id": "p1"},
    {1: "x", "user_id": "u", "type": "view", "item_id": "p1"},
    {"user_id": "u", "type": "view", "item_id": "p1", "timestamp": 10**400},
    {"user_id": "u", "type": "view", "item_id": "p1", "value": 10**400},
], ids=["missing-user", "missing-type", "int-key", "huge-timestamp", "huge-value"])
def test_crashes_found_by_the_properties_are_clean_rejections(store, payload):
    """Regression: these once escaped as TypeError / OverflowError."""
    before = store.count()
    with pytest.raises(EventValidationError):
        store.add(payload)
    assert store.count() == before


def test_lone_surrogates_are_rejected_without_writing(store):
    """JSON can carry "\\ud800"; SQLite cannot store it: an EventValidationError naming the field,
    and nothing is written."""
    before = store.count()
    for field in ("user_id", "event_id", "item_id", "value"):
        payload = {"user_id": "u", "type": "view", "item_id": "p1", field: "x\ud800"}
        with pytest.raises(EventValidationError, match=f"Expected {field} to be valid UTF-8 text") as info:
            store.add(payload)
        assert info.value.field == field
    assert store.count() == before
