"""Two `shopassist serve` workers on one PostgreSQL, one Redis and one Chroma server (issue 15).

No sticky routing: each request goes to whichever worker the test picks. The workers share
SHOPASSIST_HOME (catalog files + model bundles: the published directory), the event store and
chat log (PostgreSQL), sessions and live profiles (Redis) and the vectors (Chroma server).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = [pytest.mark.server, pytest.mark.timeout(600)]

CATALOG = "mini"
_TYPES = {"Lipstick": ["matte lipstick", "satin lipstick", "liquid lipstick"], "Serum": ["vitamin c serum", "night serum"],
          "Shampoo": ["repair shampoo", "volume shampoo"]}
BRANDS = ["Acme", "Lumina", "Verde", "Nordic"]


def products() -> list[dict]:
    out = []
    for cat, nouns in _TYPES.items():
        for i in range(10):
            noun = nouns[i % len(nouns)]
            out.append({"id": f"{cat[:2].lower()}-{i}", "title": f"{BRANDS[i % 4]} {noun} {i}",
                        "brand": BRANDS[i % 4], "category": cat, "price": round(4.0 + 3.5 * i, 2),
                        "description": f"A {noun} by {BRANDS[i % 4]}."})
    return out


SEED_EVENTS = [(f"seed-{u}", f"{c}-{i}", t) for u, (c, t) in enumerate([("li", "purchase"), ("se", "cart"),
                                                                          ("sh", "view"), ("li", "view")])
               for i in range(0, 8, 2 + u % 2)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, chroma_url):
    """(settings, worker A, worker B, pg server, redis server): private PostgreSQL / Redis servers
    (the tests restart them), the session's Chroma server, the catalog imported once."""
    from dbservers import MISSING_PG, MISSING_REDIS, PgServer, RedisServer, Worker, pg_bin, redis_bin

    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install 'shopassist[servers]')")
    pytest.importorskip("redis", reason="redis-py is not installed (pip install 'shopassist[servers]')")
    if pg_bin() is None:
        pytest.skip(MISSING_PG)
    if redis_bin() is None:
        pytest.skip(MISSING_REDIS)
    from assistant.engine import Engine
    from assistant.settings import Settings

    pg, rd = PgServer().start(), RedisServer().start()
    home = tmp_path_factory.mktemp("shared-home")
    settings = Settings(home=home, chroma_url=chroma_url, database_url=pg.url, redis_url=rd.url, embedder="hashing",
                        llm="none", default_catalog=CATALOG, demo=False, threads=1)
    path = home / "mini.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in products()), encoding="utf-8")
    engine = Engine(settings)
    assert engine.import_catalog(path, CATALOG)["n_imported"] == 30
    for i, (user, item, etype) in enumerate(SEED_EVENTS):
        engine.record_event(user, item, etype, event_id=f"seed-{i}", catalog=CATALOG)
    env = {**os.environ, "SHOPASSIST_HOME": str(home), "SHOPASSIST_CHROMA_URL": chroma_url,
           "SHOPASSIST_DATABASE_URL": pg.url, "SHOPASSIST_REDIS_URL": rd.url, "SHOPASSIST_EMBEDDER": "hashing",
           "SHOPASSIST_LLM": "none", "SHOPASSIST_DEMO": "0", "SHOPASSIST_DEFAULT_CATALOG": CATALOG,
           "SHOPASSIST_THREADS": "1", "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    a, b = Worker("a", env, home), Worker("b", env, home)
    try:
        a.start()
        b.start()
        yield settings, a, b, pg, rd
    finally:
        for w in (a, b):
            w.kill(signal.SIGTERM)
        from ranking.servers import close_database

        close_database(pg.url)
        pg.destroy()
        rd.destroy()


def client(worker):
    from assistant.client import ShopAssistClient

    return ShopAssistClient(worker.url, timeout=60)


def test_alternating_conversation_keeps_its_state(cluster):
    _, a, b, _, _ = cluster
    ca, cb = client(a), client(b)
    first = ca.chat("lipstick", user_id="conv-user", session_id="conv-1")
    shown = first["products"]
    assert len(shown) >= 3 and all(p["id"].startswith("li-") for p in shown), first
    cheaper = cb.chat("cheaper", user_id="conv-user", session_id="conv-1")    # other worker
    intent = cheaper["intent"]      # B refined A's search: the session came through Redis
    assert intent["action"] == "refine" and "lipstick" in intent["search_text"], intent
    top = max(p["price"] for p in shown)
    assert intent["price_max"] is not None and intent["price_max"] < top, intent
    assert cheaper["products"] and all(p["price"] <= intent["price_max"] for p in cheaper["products"])
    second = ca.chat("tell me about the second one", user_id="conv-user", session_id="conv-1")
    assert second["intent"]["refers_to"] == [2], second["intent"]
    title = cheaper["products"][1]["title"]
    assert title.split()[0] in second["reply"] or str(cheaper["products"][1]["price"]) in second["reply"], second


def test_event_on_a_changes_recommend_on_b(cluster):
    _, a, b, _, _ = cluster
    ca, cb = client(a), client(b)
    before = [p["id"] for p in cb.recommend("fresh-shopper", k=5)]
    target = before[0]
    t0 = time.perf_counter()
    ack = ca.event("fresh-shopper", target, "purchase", event_id="fresh-1")
    acked = time.perf_counter()
    after = [p["id"] for p in cb.recommend("fresh-shopper", k=5)]
    seen = time.perf_counter()
    assert ack["ok"] and not ack["duplicate"]
    assert target not in after and after != before      # B excludes what A just recorded as bought
    print(f"\nevent on A -> changed /recommend on B: ack {1000 * (acked - t0):.1f} ms, "
          f"next B request {1000 * (seen - acked):.1f} ms")


def test_forget_erases_postgres_redis_and_every_worker(cluster):
    import redis

    from ranking.pg_events import PgEventStore

    settings, a, b, _, _ = cluster
    ca, cb = client(a), client(b)
    for i, item in enumerate(["se-1", "se-3", "se-5"]):
        (ca if i % 2 else cb).event("leaving", item, "purchase", event_id=f"leave-{i}")
    ca.chat("serum", user_id="leaving", session_id="leave-s")
    anon = [p["id"] for p in cb.recommend("never-seen", k=5)]
    assert [p["id"] for p in cb.recommend("leaving", k=5)] != anon
    r = redis.Redis.from_url(settings.redis_url)
    assert r.exists("shopassist:profile:leaving") and r.exists("shopassist:session:leave-s")
    env = {**a.env}
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "user", "forget", "leaving"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "3 events" in out.stdout and "Redis: 1 live profile record and 1 dialogue sessions erased" in out.stdout
    assert PgEventStore(settings.database_url).user_events("leaving") == []
    assert not r.exists("shopassist:profile:leaving") and not r.exists("shopassist:session:leave-s")
    for c in (ca, cb):    # neither worker still knows the shopper
        assert [p["id"] for p in c.recommend("leaving", k=5)] == anon
    follow = cb.chat("cheaper", user_id="leaving", session_id="leave-s")
    assert follow["intent"]["action"] != "refine"      # no remembered search to refine


def test_bundle_published_to_the_shared_directory_reaches_both_workers(cluster):
    from assistant.engine import Engine
    from ranking.train import TrainConfig, train_all

    settings, a, b, _, _ = cluster
    engine = Engine(settings)
    report = train_all(engine.catalog(CATALOG), engine.events, settings.models_dir,
                       TrainConfig(models=("pop", "itemknn")), progress=None)
    assert report is not None
    for c in (client(a), client(b)):
        recs = c.recommend("seed-0", k=5)
        assert any("itemknn" in p.get("components", {}) for p in recs), recs


def test_restart_postgres_and_redis_clear_errors_then_recover(cluster):
    from assistant.client import ShopAssistError

    _, a, b, pg, rd = cluster
    ca, cb = client(a), client(b)
    pg.stop()
    with pytest.raises(ShopAssistError, match="Could not reach PostgreSQL at postgresql://.*SHOPASSIST_DATABASE_URL"):
        ca.event("restart-user", "li-1", "view", event_id="r-1")
    pg.start()
    assert ca.event("restart-user", "li-1", "view", event_id="r-1")["duplicate"] is False
    assert cb.recommend("restart-user", k=3)
    rd.stop()
    with pytest.raises(ShopAssistError, match="Could not reach Redis at redis://.*SHOPASSIST_REDIS_URL"):
        cb.chat("lipstick", user_id="restart-user", session_id="r-s")
    rd.start()
    out = cb.chat("lipstick", user_id="restart-user", session_id="r-s")
    assert out["products"] and ca.chat("cheaper", user_id="restart-user", session_id="r-s")["intent"]["action"] == "refine"


def test_sigkill_during_an_event_stream_loses_no_acknowledged_event(cluster):
    from assistant.client import ShopAssistError
    from ranking.pg_events import PgEventStore

    settings, a, b, _, _ = cluster
    acked: list[str] = []
    failed: list[str] = []
    stop = threading.Event()

    def stream(worker, tag):
        c = client(worker)
        i = 0
        while not stop.is_set() and i < 2000:
            eid = f"kill-{tag}-{i}"
            try:
                if c.event(f"stream-{tag}", f"sh-{i % 10}", "view", event_id=eid)["ok"]:
                    acked.append(eid)
            except ShopAssistError:
                failed.append(eid)
                if worker is a:
                    return
            i += 1

    threads = [threading.Thread(target=stream, args=(a, "a")), threading.Thread(target=stream, args=(b, "b"))]
    for t in threads:
        t.start()
    while sum(e.startswith("kill-a") for e in acked) < 30:
        time.sleep(0.01)
    a.kill(signal.SIGKILL)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    store = PgEventStore(settings.database_url)
    stored = {e.event_id for u in ("stream-a", "stream-b") for e in store.user_events(u)}
    assert set(acked) <= stored, sorted(set(acked) - stored)[:5]
    assert failed and failed[0].startswith("kill-a")          # A stopped answering, B went on
    a.start()                                                   # and a restarted worker serves again
    assert client(a).recommend("stream-a", k=3)
