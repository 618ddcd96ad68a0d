"""Sessions and live profiles on a real Redis server: state saved by one worker is what another
worker reads, a forget erases it, and an unreachable / restarted server gives a clear error and
then works again without a restart of the worker."""
from __future__ import annotations

import socket

import numpy as np
import pytest

pytestmark = pytest.mark.server


def test_profile_round_trip_is_exact(redis_url):
    from ranking.events import Event
    from ranking.profile import ProfileConfig, RedisProfileStore, UserProfile

    emb = np.random.default_rng(0).normal(size=(6, 8)).astype(np.float32)
    p = UserProfile("u1")
    for i, t in enumerate(["view", "purchase", "search"]):
        ev = Event(event_id=f"e{i}", user_id="u1", item_id=None if t == "search" else f"i{i}", type=t,
                   timestamp=1_700_000_000 + 3600 * i, value="red lipstick" if t == "search" else None)
        p.apply(ev, None if t == "search" else i, emb, None, ProfileConfig())
    p.watermark = (3, 42)
    a, b = RedisProfileStore(redis_url, "beauty"), RedisProfileStore(redis_url, "beauty")   # two workers
    a.save(p)
    q = b.get("u1")
    assert q is not p
    assert (list(q.rows), list(q.types), q.owned, list(q.queries), q.watermark, q.n_events) == \
           ([0, 1], ["view", "purchase"], {1}, ["red lipstick"], (3, 42), 3)
    np.testing.assert_array_equal(q.interest, p.interest)
    assert RedisProfileStore(redis_url, "other").get("u1") is None      # one field per catalog
    assert b.drop("u1") and a.get("u1") is None


def test_session_survives_between_store_objects_and_drop_user(redis_url):
    from assistant.schema import Intent
    from assistant.redis_sessions import RedisSessionStore

    products = {"p1": {"id": "p1", "price": 10.0}, "p2": {"id": "p2", "price": 20.0}}
    a, b = RedisSessionStore(redis_url), RedisSessionStore(redis_url)
    with a.hold("s1", "u1", products.get) as session:
        session.record("lipstick", Intent(action="search", category="lipstick", search_text="lipstick"),
                       [products["p1"], products["p2"]])
    with b.hold("s1", "u1", products.get) as session:   # "another worker"
        assert [p["id"] for p in session.last_products] == ["p1", "p2"]
        assert session.product_at(2)["price"] == 20.0 and session.last_intent.category == "lipstick"
        assert session.history() == [{"role": "user", "content": "lipstick"}]
    with b.hold("s2", "u1", products.get) as session:
        session.record("x", Intent(action="search", search_text="x"), [products["p1"]])
    assert b.drop_user("u1") == 2
    with a.hold("s1", "u1", products.get) as session:
        assert session.last_products == [] and session.turns == []


def test_unreachable_redis_names_url_and_what_to_start():
    from assistant.redis_sessions import RedisSessionStore
    from ranking.servers import ServerUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerUnavailable) as err:
        RedisSessionStore(f"redis://127.0.0.1:{port}/0").load("s")
    assert f"Redis at redis://127.0.0.1:{port}/0 (SHOPASSIST_REDIS_URL)" in str(err.value)
    assert "start Redis" in str(err.value)


def test_redis_restart_clear_error_then_recovers(private_redis):
    from ranking.profile import RedisProfileStore, UserProfile
    from ranking.servers import ServerUnavailable

    store = RedisProfileStore(private_redis.url, "c")
    store.save(UserProfile("u1"))
    private_redis.stop()
    with pytest.raises(ServerUnavailable, match="Could not reach Redis"):
        store.get("u1")
    private_redis.start()        # same port, empty (no persistence): the profile is rebuilt from events
    assert store.get("u1") is None
    store.save(UserProfile("u2"))
    assert store.get("u2").user_id == "u2"


def test_bad_url_scheme_is_refused():
    from ranking.servers import PgDatabase, RedisState

    with pytest.raises(ValueError, match="Expected SHOPASSIST_DATABASE_URL to start with postgresql://"):
        PgDatabase("mysql://x")
    with pytest.raises(ValueError, match="Expected SHOPASSIST_REDIS_URL to start with redis://"):
        RedisState("http://x")
