"""App performance (issue 7): per-stage latency, event -> recommendations, a gradio_client load
test and peak memory per LLM option, on the bundled demo catalog ("beauty", 12,101 products, real
MiniLM embeddings, demo shoppers' history, fast models trained).

Steps (each writes benchmarks/results/app_<step>.json, keyed by --label so that a "before" and an
"after" run sit side by side; `report` rewrites the generated part of the "App performance
(issue 7)" section of benchmarks/README.md):

    prepare  Engine(settings).prepare() into the bench home (first run: import + events + training)
    stages   per-stage latency of Engine.chat / Engine.lab over tests/data/intents.jsonl (llm none),
             the deterministic parser alone, the LLM parse per llama.cpp model (--llm-msgs messages,
             forced through the LLM), and end-to-end chat turns with llm none and the default LLM
    events   record_event -> recommend for the same shopper (warm), and warm recommend latency
    load     the real app (assistant.commands.serve.build + assistant.ui.launch) in a subprocess on
             127.0.0.1, N = 1, 4, 16 concurrent gradio_client clients, a fixed request mix
    memory   peak RSS (VmHWM) of the app process per LLM option after a few chat turns
    report   rewrite the README section's tables from the stored results
    all      prepare, stages, events, load, memory, report

The home (catalog, Chroma, events, trained models, embedding cache) is benchmarks/out/home and is
reused between runs; weights are read from ./.shopassist/cache/models when present (linked in).
Run it under the shared CPU lock on this 2-core machine:

    flock /tmp/shopassist-cpu.lock .venv/bin/python benchmarks/bench_app.py all --label after
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

HOME = REPO / "benchmarks" / "out" / "home"
RESULTS = Path(os.environ.get("BENCH_APP_RESULTS", REPO / "benchmarks" / "results"))   # env: smoke runs elsewhere
README = REPO / "benchmarks" / "README.md"
MESSAGES = REPO / "tests" / "data" / "intents.jsonl"
SHARED_MODELS = REPO / ".shopassist" / "cache" / "models"
SCRIPT = "flock /tmp/shopassist-cpu.lock .venv/bin/python benchmarks/bench_app.py"
START, END = "<!-- bench_app:start -->", "<!-- bench_app:end -->"
LLM_MODELS = ("qwen-0.5b", "qwen-1.5b")
DEFAULT_LLM = "qwen-1.5b"
LOAD_NS = (1, 4, 16)
# the load test's request mix, per 10 requests of one client (shuffled with a fixed seed)
LOAD_MIX = {"search": 4, "recommend": 3, "event": 2, "chat": 1}


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ------------------------------------------------------------------------------------------ setup
def settings_for(llm: str = "none", backend: str = "llamacpp", threads: int = 1, home: Path = HOME):
    from assistant.settings import Settings

    return Settings(home=home, embedder="minilm", llm=llm, llm_backend=backend, threads=threads)


def link_models(home: Path = HOME) -> None:
    """Use the already joined weights (./.shopassist/cache/models) instead of joining them again."""
    cache = home / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / "models"
    if SHARED_MODELS.is_dir() and not target.exists():
        target.symlink_to(SHARED_MODELS.resolve(), target_is_directory=True)


def engine_for(llm: str = "none", llm_obj=None, prepare_only: bool = False, **kw):
    if prepare_only:   # prepare the home in a child process (the caller keeps no Chroma client open)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "prepare"], cwd=REPO, check=True)
        return None
    from assistant.engine import Engine

    link_models()
    engine = Engine(settings_for(llm, **kw), llm=llm_obj)
    # warm before measuring (the app does this in the background; here nothing may run beside a timing)
    engine.prepare(progress=say, warm=False)
    engine.warm_up().join()
    return engine


def load_messages() -> list[dict]:
    return [json.loads(line) for line in MESSAGES.read_text(encoding="utf-8").splitlines() if line.strip()]


def llm_subset(rows: list[dict], n: int) -> list[str]:
    """n messages spread evenly over the file (English and Chinese, first turns only)."""
    first = [r["message"] for r in rows if "session" not in r]
    step = max(1, len(first) // n)
    return first[::step][:n]


def pct(values, q) -> float | None:
    import numpy as np

    values = [v for v in values if v is not None]
    return round(float(np.percentile(values, q)), 2) if values else None


def summary(values) -> dict:
    values = [float(v) for v in values if v is not None]
    return {"n": len(values), "p50": pct(values, 50), "p99": pct(values, 99),
            "mean": round(sum(values) / len(values), 2) if values else None,
            "max": round(max(values), 2) if values else None}


def machine() -> dict:
    from common import cpu_model

    return {"cpu": cpu_model(), "cores": os.cpu_count(), "gpu": "none", "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def save(step: str, label: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"app_{step}.json"
    doc = json.loads(path.read_text()) if path.exists() else {"step": step, "runs": {}}
    data["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    data["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    doc["runs"][label] = data
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    say(f"wrote {path} [{label}]")
    return path


# ------------------------------------------------------------------------------------------ stages
def step_stages(args) -> None:
    from assistant.intent import parse_intent

    rows = load_messages()
    out: dict = {"machine": machine(), "command": f"{SCRIPT} stages --label {args.label}",
                 "n_messages": len(rows), "llm_messages": args.llm_msgs}
    t = time.perf_counter()
    engine = engine_for("none")
    cat = engine.catalog()
    brands = engine._brands(cat)
    users = [u["user_id"] for u in engine.demo_users(20)]
    out["engine_ready_s"] = round(time.perf_counter() - t, 2)
    engine.chat("warm up: a moisturizer", user_id=users[0], session_id="warmup")   # loads MiniLM, searcher

    # 1. deterministic parse alone (rules), every message, 5 repeats
    ms = []
    for _ in range(5):
        for r in rows:
            t = time.perf_counter()
            parse_intent(r["message"], None, brands=brands)
            ms.append((time.perf_counter() - t) * 1000)
    out["parse_rules"] = summary(ms)
    say(f"rules parse p50 {out['parse_rules']['p50']} ms")

    # 2. Engine.chat over every message (llm none): sessions replayed in order, other messages
    #    each in a fresh session; shoppers rotate over the 20 demo users (personalised ranking).
    #    Pass 1 = new query texts (query embedding computed), pass 2 = the same texts again.
    def chat_pass(tag: str) -> dict:
        stages = {k: [] for k in ("parse", "retrieval", "ranking", "compose", "total", "other", "wall")}
        actions = {}
        for i, r in enumerate(rows):
            sid = f"bench-{tag}-{r.get('session') or r['id']}"
            t = time.perf_counter()
            res = engine.chat(r["message"], user_id=users[i % len(users)], session_id=sid)
            wall = (time.perf_counter() - t) * 1000
            tm = res.timings_ms
            stages["wall"].append(wall)
            for k in ("parse", "retrieval", "ranking", "compose", "total"):
                if k in tm:
                    stages[k].append(tm[k])
            if {"parse", "retrieval", "ranking", "compose", "total"} <= set(tm):
                stages["other"].append(tm["total"] - tm["parse"] - tm["retrieval"] - tm["ranking"] - tm["compose"])
            actions[res.intent.get("action", "?")] = actions.get(res.intent.get("action", "?"), 0) + 1
        return {**{k: summary(v) for k, v in stages.items()}, "actions": actions}

    out["chat_none_pass1"] = chat_pass(f"p1-{uuid.uuid4().hex[:6]}")
    say(f"chat (llm none) pass 1: total p50 {out['chat_none_pass1']['total']['p50']} ms, "
        f"retrieval {out['chat_none_pass1']['retrieval']['p50']}, ranking {out['chat_none_pass1']['ranking']['p50']}")
    out["chat_none_pass2"] = chat_pass(f"p2-{uuid.uuid4().hex[:6]}")
    say(f"chat (llm none) pass 2: total p50 {out['chat_none_pass2']['total']['p50']} ms")

    # 3. Engine.lab (merchant query tester): parse + retrieval + personalised AND plain ranking
    lab = {k: [] for k in ("parse", "retrieval", "ranking", "compose")}
    for i, r in enumerate(x for x in rows if "session" not in x):
        res = engine.lab(r["message"], user_id=users[i % len(users)], k=10)
        for k in lab:
            lab[k].append(res["timings_ms"][k])
    out["lab_none"] = {k: summary(v) for k, v in lab.items()}

    # 4. LLM parse per llama.cpp model (forced through the LLM), then end-to-end chat turns
    subset = llm_subset(rows, args.llm_msgs)
    out["llm_subset"] = subset
    e2e = {}
    e2e["none"] = e2e_chat(engine, subset, users, "none")
    out["llm"] = {}
    if not args.no_llm:
        from assistant.llm import get_llm

        for model in LLM_MODELS:
            s = settings_for(model, "llamacpp", threads=1)
            llm = get_llm(s, strict=True)
            t = time.perf_counter()
            llm.load()
            load_s = time.perf_counter() - t
            t = time.perf_counter()
            llm.warmup()
            warm_s = time.perf_counter() - t
            ms, sources, errors = [], {}, []
            for msg in subset:
                res = parse_intent(msg, llm, budget_ms=s.llm_budget_ms, force_llm=True, brands=brands)
                ms.append(res.ms)
                sources[res.source] = sources.get(res.source, 0) + 1
                if res.error:
                    errors.append(res.error[:120])
            out["llm"][f"{model}/llamacpp"] = {"load_s": round(load_s, 2), "warmup_s": round(warm_s, 2),
                                              "threads": 1, "parse": summary(ms), "sources": sources,
                                              "errors": errors}
            say(f"{model} llama.cpp parse p50 {out['llm'][f'{model}/llamacpp']['parse']['p50']} ms {sources}")
            if model == DEFAULT_LLM:
                from assistant.engine import Engine

                llm_engine = Engine(settings_for(model, "llamacpp", threads=1), llm=llm)
                llm_engine.prepare(progress=lambda m: None)
                e2e[f"{model}/llamacpp"] = e2e_chat(llm_engine, subset, users, model)
        if args.transformers:
            s = settings_for("qwen-0.5b", "transformers", threads=2)
            llm = get_llm(s, strict=True, progress=True)
            t = time.perf_counter()
            llm.load()
            load_s = time.perf_counter() - t
            ms, sources = [], {}
            for msg in subset[: args.transformers]:
                res = parse_intent(msg, llm, budget_ms=120000, force_llm=True, brands=brands)
                ms.append(res.ms)
                sources[res.source] = sources.get(res.source, 0) + 1
            out["llm"]["qwen-0.5b/transformers-bf16"] = {"load_s": round(load_s, 2), "threads": 2,
                                                        "parse": summary(ms), "sources": sources}
    out["e2e"] = e2e
    save("stages", args.label, out)


def e2e_chat(engine, messages, users, tag) -> dict:
    """One chat turn per message (message -> products), each in a fresh session."""
    wall, parse, sources, n_products = [], [], {}, []
    run = uuid.uuid4().hex[:6]
    engine.chat("warm up: a moisturizer", user_id=users[0], session_id=f"e2e-warmup-{run}")   # not timed
    for u in users:     # warm shoppers: live profile built, ALS folded in (the cold cost is in `events`)
        engine.recommend(u, k=1)
    for i, msg in enumerate(messages):
        t = time.perf_counter()
        res = engine.chat(msg, user_id=users[i % len(users)], session_id=f"e2e-{tag}-{run}-{i}")
        wall.append((time.perf_counter() - t) * 1000)
        parse.append(res.timings_ms.get("parse"))
        src = res.intent.get("_source", "n/a")
        sources[src] = sources.get(src, 0) + 1
        n_products.append(len(res.products))
    say(f"e2e chat [{tag}] p50 {pct(wall, 50)} ms, sources {sources}")
    return {"turn": summary(wall), "parse": summary(parse), "sources": sources,
            "turns_with_products": sum(1 for n in n_products if n)}


# ------------------------------------------------------------------------------------------ events
def step_events(args) -> None:
    engine = engine_for("none")
    out: dict = {"machine": machine(), "command": f"{SCRIPT} events --label {args.label}"}
    cat = engine.catalog()
    demo = [u["user_id"] for u in engine.demo_users(20)]
    rng = random.Random(7)
    run = uuid.uuid4().hex[:6]
    # shoppers with history: clones of 10 demo shoppers' last 20 events (forgotten afterwards)
    clones = []
    t = time.perf_counter()
    for i, src in enumerate(demo[:10]):
        uid = f"bench-ev-{run}-{i}"
        for ev in engine.events.user_events(src)[-20:]:
            engine.record_event(uid, ev.item_id, ev.type if ev.type != "search" else "view",
                                value=ev.value if ev.type == "rating" else None)
        clones.append(uid)
    out["seed_s"] = round(time.perf_counter() - t, 2)
    try:
        # cold shoppers: the first request for a shopper since the process started (live profile
        # built from the event store, ALS fold-in); demo shoppers 21-60 by history size
        cold = [u for u, _ in engine.events.top_users(60)][20:]
        cms = []
        for uid in cold:
            t = time.perf_counter()
            engine.recommend(uid, k=10)
            cms.append((time.perf_counter() - t) * 1000)
        out["recommend_cold_shopper"] = summary(cms)
        for uid in clones + demo:
            engine.recommend(uid, k=10)           # warm: profiles synced, ALS folded in
        engine.recommend(None, k=10)
        types = ["view", "click", "cart", "purchase"]
        rec_ms, ev_ms, both_ms, changed = [], [], [], 0
        for rnd in range(args.event_rounds):
            for j, uid in enumerate(clones):
                before = [p["id"] for p in engine.recommend(uid, k=10)]
                item = cat.ids[rng.randrange(len(cat.ids))]
                t = time.perf_counter()
                engine.record_event(uid, item, types[(rnd + j) % len(types)])
                t1 = time.perf_counter()
                after = [p["id"] for p in engine.recommend(uid, k=10)]
                t2 = time.perf_counter()
                ev_ms.append((t1 - t) * 1000)
                rec_ms.append((t2 - t1) * 1000)
                both_ms.append((t2 - t) * 1000)
                changed += before != after
        out["event_then_recommend"] = {"record_event": summary(ev_ms), "recommend_after": summary(rec_ms),
                                       "total": summary(both_ms), "recs_changed": changed,
                                       "n": len(both_ms)}
        say(f"event -> recs p50 {pct(both_ms, 50)} ms (event {pct(ev_ms, 50)}, recommend {pct(rec_ms, 50)}); "
            f"changed {changed}/{len(both_ms)}")

        def timed(fn, reps):
            ms = []
            for _ in range(reps):
                t = time.perf_counter()
                fn()
                ms.append((time.perf_counter() - t) * 1000)
            return ms

        warm = []
        for uid in demo:
            warm += timed(lambda: engine.recommend(uid, k=10), 3)
        out["recommend_warm_demo_users"] = summary(warm)
        out["recommend_warm_anonymous"] = summary(timed(lambda: engine.recommend(None, k=10), 30))
        queries = [r["message"] for r in load_messages() if "session" not in r][:30]
        qms = []
        for i, q in enumerate(queries):
            uid = demo[i % len(demo)]
            qms += timed(lambda: engine.recommend(uid, query=q, k=10), 1)
        out["recommend_with_query_first"] = summary(qms)
        qms = []
        for i, q in enumerate(queries):
            uid = demo[i % len(demo)]
            qms += timed(lambda: engine.recommend(uid, query=q, k=10), 1)
        out["recommend_with_query_repeat"] = summary(qms)
        out["search_k10"] = summary(sum((timed(lambda: engine.search(q, k=10), 1) for q in queries), []))
        say(f"recommend warm p50 {out['recommend_warm_demo_users']['p50']} ms, anonymous "
            f"{out['recommend_warm_anonymous']['p50']} ms, with query {out['recommend_with_query_first']['p50']} ms")
    finally:
        for uid in clones:
            engine.forget_user(uid)
    save("events", args.label, out)


# ------------------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step_serve(args) -> None:
    """(internal) The app process used by `load` and `memory`: build + launch on 127.0.0.1."""
    from assistant.commands.serve import build
    from assistant.ui import launch

    link_models()
    if args.no_warm_llm:   # the app as it was before Engine.warm_llm (lazy LLM load on first use)
        from assistant.engine import Engine

        Engine.warm_up = lambda self: None
    settings = settings_for(args.llm, args.backend, threads=args.threads)
    engine, demo = build(settings, progress=say)
    for uid, src in zip(args.seed_users or [], args.seed_from or []):
        for ev in engine.events.user_events(src)[-20:]:
            engine.record_event(uid, ev.item_id, ev.type if ev.type != "search" else "view")
    say(f"READY {status_line()}")
    launch(demo, host="127.0.0.1", port=args.port, quiet=True)


def status_line(pid: str = "self") -> str:
    d = proc_status(pid)
    return f"VmRSS {d.get('VmRSS')} VmHWM {d.get('VmHWM')}"


def proc_status(pid="self") -> dict:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS", "VmHWM")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) // 1024   # MiB
    except OSError:
        pass
    return out


class Server:
    def __init__(self, llm="none", backend="llamacpp", threads=1, seed_users=(), seed_from=(), log=None,
                 no_warm_llm=False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        cmd = [sys.executable, str(Path(__file__).resolve()), "serve", "--port", str(self.port), "--llm", llm,
               "--backend", backend, "--threads", str(threads)]
        if seed_users:
            cmd += ["--seed-users", *seed_users, "--seed-from", *seed_from]
        if no_warm_llm:
            cmd += ["--no-warm-llm"]
        self.log_path = log or Path(f"/tmp/bench_app_server_{self.port}.log")
        self.log = open(self.log_path, "w")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, timeout=900) -> float:
        import urllib.request

        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited ({self.proc.returncode}); see {self.log_path}:\n"
                                   + self.log_path.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.url + "config", timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"app not up after {timeout} s; see {self.log_path}")

    def status(self) -> dict:
        return proc_status(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


def client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


# ------------------------------------------------------------------------------------------ load
def step_load(args) -> None:
    rows = load_messages()
    queries = [r["expected"].get("search_text") or r["message"] for r in rows if "session" not in r]
    queries = [q for q in queries if q]
    messages = [r["message"] for r in rows if "session" not in r]
    engine_for("none", prepare_only=True)   # prepared home (in a child: no Chroma client here)
    from ranking.events import EventStore

    with EventStore(HOME / "events.sqlite") as store:   # demo shoppers; no Chroma client in this process
        demo = [u for u, _ in store.top_users(20)]
    run = uuid.uuid4().hex[:6]
    n_max = max(args.clients)
    users = [f"bench-load-{run}-{i}" for i in range(n_max)]
    out: dict = {"machine": machine(), "command": f"{SCRIPT} load --label {args.label}",
                 "requests_per_client": args.requests, "mix": LOAD_MIX, "llm": args.load_llm,
                 "users": "one shopper per client, seeded with the last 20 events of a demo shopper",
                 "runs": {}}
    server = Server(args.load_llm, seed_users=users, seed_from=[demo[i % len(demo)] for i in range(n_max)],
                    threads=args.threads)
    try:
        out["app_start_s"] = round(server.wait(), 1)
        if args.load_llm != "none":   # let the background warm-up load the model and run its prompt once
            say(f"waiting {args.settle:.0f} s for the LLM warm-up")
            time.sleep(args.settle)
        say(f"app up on {server.url} in {out['app_start_s']} s ({server.status()})")
        c = client(server.url)      # warm-up: one of each endpoint; item ids the shoppers "see"
        item_ids = sorted({p["id"] for q in queries[:40] for p in c.predict(q, 10, None, api_name="/search")})
        c.predict(users[0], None, 5, api_name="/recommend")
        c.predict("a gentle cleanser", users[0], "warmup", api_name="/chat")
        for transport in args.transports:
            for n in args.clients:
                key = str(n) if transport == "gradio_client" else f"{n}/{transport}"
                out["runs"][key] = r = load_run(server, n, args.requests, users[:n], queries, messages, item_ids,
                                                f"{run}-{transport}", transport)
                say(f"N={n} {transport}: {r['throughput_rps']} req/s, p50 {r['latency']['p50']} ms, "
                    f"p99 {r['latency']['p99']} ms, errors {r['errors']}")
        out["server_rss_mib"] = server.status()
    finally:
        server.stop()
        from assistant.privacy import forget_user

        for uid in users:
            forget_user(uid, home=HOME)
    save("load", args.label, out)


def load_plan(i: int, n_requests: int, user: str, queries, messages, item_ids, run: str) -> list[tuple]:
    rng = random.Random(1000 + i)
    kinds = [k for k, w in LOAD_MIX.items() for _ in range(w)]
    plan = []
    while len(plan) < n_requests:
        block = kinds[:]
        rng.shuffle(block)
        plan += block
    out = []
    for j, kind in enumerate(plan[:n_requests]):
        if kind == "search":
            out.append((kind, (rng.choice(queries), 10, None), {}))
        elif kind == "recommend":
            q = rng.choice(queries) if rng.random() < 0.3 else None
            out.append((kind, (user, q, 10), {}))
        elif kind == "event":
            out.append((kind, (user, rng.choice(item_ids), rng.choice(["view", "click", "cart"])), {}))
        else:
            out.append((kind, (rng.choice(messages), user, f"load-{run}-{i}-{j}"), {}))
    return out


class HttpCaller:
    """The documented plain-HTTP route (POST /gradio_api/call/NAME, then read its event stream) over
    one keep-alive httpx connection: what a non-Python caller pays, without gradio_client's
    50 ms message polling."""

    ARITY = {"search": 4, "recommend": 4, "event": 6, "chat": 4}

    def __init__(self, url: str):
        import httpx

        self.url = url.rstrip("/")
        self.http = httpx.Client(timeout=120)

    def predict(self, *args, api_name: str):
        name = api_name.strip("/")
        data = list(args) + [None] * (self.ARITY[name] - len(args))
        r = self.http.post(f"{self.url}/gradio_api/call/{name}", json={"data": data})
        r.raise_for_status()
        event_id = r.json()["event_id"]
        kind = None
        with self.http.stream("GET", f"{self.url}/gradio_api/call/{name}/{event_id}") as resp:
            for line in resp.iter_lines():
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    payload = line[5:].strip()
                    if kind == "error":
                        raise RuntimeError(f"error event: {payload[:200]}")
                    return json.loads(payload)
        raise RuntimeError(f"no complete event (last event {kind!r})")

    def close(self):
        self.http.close()


class ProductClient:
    """assistant.client.ShopAssistClient (one POST /run/NAME, /call for chat, a session_hash per
    client) behind the benchmark's `predict(*args, api_name=...)` interface."""

    def __init__(self, url: str):
        from assistant.client import ShopAssistClient

        self.client = ShopAssistClient(url)

    def predict(self, *args, api_name: str):
        return getattr(self.client, api_name.strip("/"))(*args)

    def close(self):
        self.client.close()


def load_run(server, n, n_requests, users, queries, messages, item_ids, run, transport="gradio_client") -> dict:
    clients = [None] * n

    def connect(i):
        clients[i] = client(server.url) if transport == "gradio_client" else \
            ProductClient(server.url) if transport == "http-run" else HttpCaller(server.url)

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    plans = [load_plan(i, n_requests, users[i], queries, messages, item_ids, f"{run}-{n}") for i in range(n)]
    lat: dict[str, list[float]] = {k: [] for k in LOAD_MIX}
    errors: list[str] = []
    sources: dict[str, int] = {}   # chat turns by who parsed them (rules / llm / fallback)
    lock = threading.Lock()
    barrier = threading.Barrier(n + 1)

    def worker(i):
        barrier.wait()
        for kind, a, kw in plans[i]:
            t = time.perf_counter()
            try:
                res = clients[i].predict(*a, api_name=f"/{kind}", **kw)
                ok = True
                if kind == "chat":
                    src = ((res or {}).get("intent") or {}).get("_source", "n/a") if isinstance(res, dict) else "n/a"
                    with lock:
                        sources[src] = sources.get(src, 0) + 1
            except Exception as exc:  # noqa: BLE001 - counted and reported
                ok = False
                with lock:
                    errors.append(f"{kind}: {type(exc).__name__}: {str(exc)[:200]}")
            ms = (time.perf_counter() - t) * 1000
            if ok:
                with lock:
                    lat[kind].append(ms)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - t0
    for c in clients:
        try:
            c.close()
        except Exception:  # noqa: BLE001
            pass
    total = sum(len(v) for v in lat.values()) + len(errors)
    every = [x for v in lat.values() for x in v]
    return {"clients": n, "transport": transport, "requests": total, "wall_s": round(wall, 2), "throughput_rps": round(total / wall, 2),
            "latency": summary(every), "per_endpoint": {k: summary(v) for k, v in lat.items()},
            "errors": len(errors), "error_samples": errors[:5], "chat_sources": sources}


# ------------------------------------------------------------------------------------------ memory
MEMORY_OPTIONS = {
    "none": ("none", "llamacpp", 1),
    "qwen-0.5b/llamacpp": ("qwen-0.5b", "llamacpp", 1),
    "qwen-1.5b/llamacpp": ("qwen-1.5b", "llamacpp", 1),
    "qwen-0.5b/transformers-bf16": ("qwen-0.5b", "transformers", 2),
    "qwen-1.5b/transformers-bf16": ("qwen-1.5b", "transformers", 2),
}


def step_memory(args) -> None:
    from assistant.rules import parse_rules

    rows = load_messages()
    # messages the rules are not sure about: these go to the LLM in the real pipeline
    unsure = [r["message"] for r in rows if "session" not in r and parse_rules(r["message"]).confidence < 0.85]
    turns = unsure[: args.turns]
    out: dict = {"machine": machine(), "command": f"{SCRIPT} memory --label {args.label}", "turns": turns,
                 "options": {}}
    options = args.options or [o for o in MEMORY_OPTIONS if "transformers" not in o or args.transformers]
    previous = RESULTS / "app_memory.json"    # options measured earlier under this label are kept
    if previous.exists():
        out["options"] = json.loads(previous.read_text())["runs"].get(args.label, {}).get("options", {})
    for name in options:
        llm, backend, threads = MEMORY_OPTIONS[name]
        server = Server(llm, backend, threads, no_warm_llm=args.no_warm_llm)
        try:
            start_s = server.wait()
            idle = server.status()
            time.sleep(args.settle)     # a first shopper arriving a little after the start
            settled = server.status()
            c = client(server.url)
            sources, ms, first = {}, [], None
            for i, msg in enumerate(turns):
                t = time.perf_counter()
                res = c.predict(msg, "bench-mem", f"mem-{i}", api_name="/chat")
                ms.append((time.perf_counter() - t) * 1000)
                src = res.get("intent", {}).get("_source", "n/a")
                sources[src] = sources.get(src, 0) + 1
                first = first or {"ms": round(ms[-1], 1), "source": src}
            after = server.status()
            out["options"][name] = {"start_s": round(start_s, 1), "rss_idle_mib": idle.get("VmRSS"),
                                    "settle_s": args.settle, "rss_settled_mib": settled.get("VmRSS"),
                                    "first_turn": first,
                                    "hwm_idle_mib": idle.get("VmHWM"), "rss_after_mib": after.get("VmRSS"),
                                    "peak_rss_mib": after.get("VmHWM"), "sources": sources,
                                    "turn_ms": summary(ms), "threads": threads}
            out["options"][name]["command"] = (f"{SCRIPT} memory --label {args.label} --options {name} --turns "
                                               f"{args.turns} --settle {args.settle:g}"
                                               + (" --no-warm-llm" if args.no_warm_llm else ""))
            say(f"memory [{name}]: idle {idle}, after {after}, sources {sources}")
        except Exception as exc:  # noqa: BLE001 - recorded; the other options still run
            out["options"][name] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
            say(f"memory [{name}] failed: {exc}")
        finally:
            server.stop()
    from assistant.privacy import forget_user

    forget_user("bench-mem", home=HOME)
    save("memory", args.label, out)


# ------------------------------------------------------------------------------------------ idle LLM
def step_interference(args) -> None:
    """Does a loaded (idle) llama.cpp model slow the rest of the process down? Chat turns with
    rules-only parsing before and after loading the model in the same process, and the CPU the
    process burns while idle."""
    from assistant.llm import get_llm

    engine = engine_for("none")
    rows = [r for r in load_messages() if "session" not in r][:40]
    users = [u["user_id"] for u in engine.demo_users(20)]
    engine.chat("warm up: a moisturizer", user_id=users[0], session_id="warmup")

    def turns(tag):
        ms = []
        for i, r in enumerate(rows):
            t = time.perf_counter()
            engine.chat(r["message"], user_id=users[i % len(users)], session_id=f"if-{tag}-{uuid.uuid4().hex[:6]}")
            ms.append((time.perf_counter() - t) * 1000)
        return summary(ms)

    def idle_cpu(seconds=5.0):
        t0, c0 = time.perf_counter(), sum(os.times()[:2])
        time.sleep(seconds)
        return round((sum(os.times()[:2]) - c0) / (time.perf_counter() - t0), 3)

    out: dict = {"machine": machine(), "command": f"{SCRIPT} interference --label {args.label}"}
    out["no_llm"] = {"idle_cpu_cores": idle_cpu(), "chat_ms": turns("a"), "chat_ms_repeat": turns("b")}
    say(f"no LLM: {out['no_llm']}")
    for model in args.models or ["qwen-0.5b"]:
        llm = get_llm(settings_for(model, "llamacpp", threads=1), strict=True)
        llm.warmup()
        time.sleep(1)
        out[model] = {"idle_cpu_cores": idle_cpu(), "chat_ms": turns(f"c-{model}")}
        say(f"{model} loaded (idle): {out[model]}")
    save("interference", args.label, out)


# ------------------------------------------------------------------------------------------ profile
def step_profile(args) -> None:
    """cProfile of the warm hot paths (chat llm none, event -> recommend, search); top functions by
    cumulative and own time in benchmarks/out/profile_<label>.txt."""
    import cProfile
    import io
    import pstats

    engine = engine_for("none")
    rows = load_messages()
    users = [u["user_id"] for u in engine.demo_users(20)]
    cat = engine.catalog()
    engine.chat("warm up: a moisturizer", user_id=users[0], session_id="warmup")
    run = uuid.uuid4().hex[:6]
    uid = f"bench-prof-{run}"
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for i, r in enumerate(rows):
        engine.chat(r["message"], user_id=users[i % len(users)], session_id=f"prof-{run}-{r.get('session') or r['id']}")
    for i in range(30):
        engine.record_event(uid, cat.ids[(i * 37) % len(cat.ids)], "click")
        engine.recommend(uid, k=10)
    for r in rows[:40]:
        engine.search(r["message"], k=10)
    prof.disable()
    wall = time.perf_counter() - t
    engine.forget_user(uid)
    buf = io.StringIO()
    buf.write(f"{len(rows)} chat turns + 30 event->recommend + 40 searches, {wall:.1f} s wall under cProfile\n")
    for key in ("cumulative", "tottime"):
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(45)
    path = REPO / "benchmarks" / "out" / f"profile_{args.label}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(path.with_suffix(".prof"))   # for pstats / snakeviz
    path.write_text(buf.getvalue())
    say(f"wrote {path} ({wall:.1f} s)")


# ------------------------------------------------------------------------------------------ report
def _get(doc, *keys):
    for k in keys:
        if not isinstance(doc, dict) or k not in doc:
            return None
        doc = doc[k]
    return doc


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.2f}" if abs(x) < 10 else f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def step_report(args) -> None:
    docs = {s: json.loads((RESULTS / f"app_{s}.json").read_text())
            for s in ("stages", "events", "load", "memory") if (RESULTS / f"app_{s}.json").exists()}
    lines = [START, "", "_Generated by `.venv/bin/python benchmarks/bench_app.py report` from "
             "`benchmarks/results/app_*.json`; do not edit by hand._", ""]
    for step, doc in docs.items():
        labels = list(doc["runs"])
        lines.append(f"#### {step} (runs: {', '.join(labels)})")
        lines.append("")
        for label in labels:
            run = doc["runs"][label]
            lines.append(f"- `{label}`: `{run.get('command')}`, finished {run.get('finished')}, load average "
                         f"{_get(run, 'machine', 'loadavg_start')} -> {run.get('loadavg_end')}")
        lines.append("")
        lines += globals()[f"_report_{step}"](doc["runs"], labels)
        lines.append("")
    lines.append(END)
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    block = "\n".join(lines)
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    README.write_text(text)
    say(f"updated {README}")


def _table(header, rows) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_fmt(c) for c in row) + " |" for row in rows]
    return out


def _spec_rows(specs, runs, labels) -> list[list]:
    """One row per (name, key path): p50 and p99 of each labelled run, then n of the last."""
    rows = []
    for name, keys in specs:
        row = [name]
        for label in labels:
            s = _get(runs[label], *keys) or {}
            row += [s.get("p50"), s.get("p99")]
        row.append(_get(runs[labels[-1]], *keys, "n"))
        rows.append(row)
    return rows


def _report_stages(runs, labels) -> list[str]:
    specs = [("deterministic parse (rules), 121 msgs x 5", ("parse_rules",)),
             ("chat: parse (rules + dialogue)", ("chat_none_pass1", "parse")),
             ("chat: retrieval (embed + ANN + BM25 + filters)", ("chat_none_pass1", "retrieval")),
             ("chat: ranking / fusion", ("chat_none_pass1", "ranking")),
             ("chat: answer composition", ("chat_none_pass1", "compose")),
             ("chat: rest (explanations, chat log, session)", ("chat_none_pass1", "other")),
             ("chat: total (Engine.chat, llm none)", ("chat_none_pass1", "total")),
             ("chat: total, same messages again", ("chat_none_pass2", "total")),
             ("lab: retrieval", ("lab_none", "retrieval")),
             ("lab: ranking (personalised + plain)", ("lab_none", "ranking")),
             ("lab: compose", ("lab_none", "compose"))]
    rows = _spec_rows(specs, runs, labels)
    for part, title in (("llm", "LLM parse {key}, forced through the LLM (load s, first call s: {extra})"),
                        ("e2e", "end-to-end chat turn (message -> products), llm {key}; parse sources: {extra}")):
        keys = list(dict.fromkeys(k for label in labels for k in (_get(runs[label], part) or {})))
        for key in keys:
            row, extra = [], []
            for label in labels:
                v = _get(runs[label], part, key) or {}
                s = v.get("parse" if part == "llm" else "turn") or {}
                row += [s.get("p50"), s.get("p99")]
                if v:
                    extra.append(f"{label} {v.get('load_s')}, {v.get('warmup_s', '-')}" if part == "llm"
                                 else f"{label} {v.get('sources')}")
            last = _get(runs[labels[-1]], part, key) or {}
            n = (last.get("parse" if part == "llm" else "turn") or {}).get("n")
            rows.append([title.format(key=key, extra="; ".join(extra))] + row + [n])
    header = ["stage (ms)"] + [f"{label} {q}" for label in labels for q in ("p50", "p99")] + ["n"]
    return _table(header, rows)


def _report_events(runs, labels) -> list[str]:
    specs = [("record_event (durable write + live profile)", ("event_then_recommend", "record_event")),
             ("recommend right after the event", ("event_then_recommend", "recommend_after")),
             ("event -> updated recommendations", ("event_then_recommend", "total")),
             ("recommend, warm, demo shoppers (k=10)", ("recommend_warm_demo_users",)),
             ("recommend, warm, anonymous", ("recommend_warm_anonymous",)),
             ("recommend, first request for a shopper (cold profile)", ("recommend_cold_shopper",)),
             ("recommend with a query (new query)", ("recommend_with_query_first",)),
             ("recommend with a query (repeated query)", ("recommend_with_query_repeat",)),
             ("search k=10", ("search_k10",))]
    rows = _spec_rows(specs, runs, labels)
    header = ["operation (ms)"] + [f"{label} {q}" for label in labels for q in ("p50", "p99")] + ["n"]
    return _table(header, rows)


def _report_load(runs, labels) -> list[str]:
    rows = []
    for label in labels:
        run = runs[label]
        for n, r in run["runs"].items():
            pe = r["per_endpoint"]
            llm = run.get("llm", "none")
            tag = label if llm == "none" else f"{label} (llm {llm}, chat parsed by {r.get('chat_sources')})"
            rows.append([tag, f"{r['clients']} ({r.get('transport', 'gradio_client')})", r["requests"], r["throughput_rps"], r["latency"]["p50"], r["latency"]["p99"],
                         r["errors"]] + [f"{_fmt(pe[k]['p50'])} / {_fmt(pe[k]['p99'])}" for k in LOAD_MIX])
    header = ["run", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors"] + \
             [f"/{k} p50/p99" for k in LOAD_MIX]
    return _table(header, rows)


def _report_memory(runs, labels) -> list[str]:
    rows = []
    for label in labels:
        for name, v in runs[label]["options"].items():
            if "error" in v:
                rows.append([label, name, "-", "-", "-", "-", "-", v["error"][:80]])
                continue
            first = v.get("first_turn") or {}
            first_ms = f"{_fmt(first.get('ms'))} ({first.get('source')})" if first else f"max {_fmt(v['turn_ms']['max'])}"
            rows.append([label, name, v["rss_idle_mib"], v["peak_rss_mib"], v["rss_after_mib"],
                         v["turn_ms"]["p50"], first_ms, str(v["sources"])])
    return _table(["run", "LLM option", "RSS at start MiB", "peak RSS (VmHWM) MiB", "RSS after MiB",
                   "chat turn p50 ms", "first chat turn ms", "parse sources"], rows)


# ------------------------------------------------------------------------------------------ main
def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["prepare", "stages", "events", "load", "memory", "profile", "interference",
                                   "report", "all",
                                   "serve"])
    p.add_argument("--label", default="run", help="name of this run in the results (e.g. before, after)")
    p.add_argument("--llm-msgs", type=int, default=20, help="messages sent through each LLM (default 20)")
    p.add_argument("--no-llm", action="store_true", help="stages: skip the LLM parts")
    p.add_argument("--transformers", type=int, default=0,
                   help="stages: also N messages through transformers bf16 (0.5B); memory: include it")
    p.add_argument("--event-rounds", type=int, default=5, help="events: rounds over the 10 shoppers")
    p.add_argument("--clients", type=int, nargs="+", default=list(LOAD_NS))
    p.add_argument("--requests", type=int, default=20, help="load: requests per client")
    p.add_argument("--load-llm", default="none", choices=["none", *LLM_MODELS],
                   help="load: the app's LLM (chat turns the rules are unsure of go to it); waits --settle first")
    p.add_argument("--transports", nargs="+", default=["gradio_client", "http", "http-run"],
                   choices=["gradio_client", "http", "http-run"],
                   help="load: gradio_client; http = POST /call/NAME + event stream for every endpoint; "
                        "http-run = assistant.client.ShopAssistClient: one POST /run/NAME for the endpoints "
                        "without a queue, /call for chat, a session_hash per client")
    p.add_argument("--turns", type=int, default=4, help="memory: chat turns per LLM option")
    p.add_argument("--settle", type=float, default=30.0, help="memory: seconds between app start and first chat")
    p.add_argument("--models", nargs="+", choices=list(LLM_MODELS), help="interference: llama.cpp models")
    p.add_argument("--options", nargs="+", choices=list(MEMORY_OPTIONS), help="memory: LLM options to measure")
    # internal (serve)
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--llm", default="none")
    p.add_argument("--backend", default="llamacpp")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-warm-llm", action="store_true",
                   help="memory/serve: no background warm-up at start (the app before Engine.warm_up)")
    p.add_argument("--seed-users", nargs="*")
    p.add_argument("--seed-from", nargs="*")
    args = p.parse_args(argv)
    steps = {"prepare": lambda a: engine_for("none"), "stages": step_stages, "events": step_events,
             "load": step_load, "memory": step_memory, "profile": step_profile,
             "interference": step_interference, "report": step_report,
             "serve": step_serve}
    if args.step == "all":
        for name in ("prepare", "stages", "events", "load", "memory", "report"):
            say(f"== {name}")
            steps[name](args)
    else:
        steps[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
