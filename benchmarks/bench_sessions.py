"""How much state the app keeps for API calls that send no session_hash (benchmarks/README.md, finding 13).

Starts the real app in this process (the demo home of bench_app.py, --llm none), sends N
`POST /gradio_api/call/search` + event-stream reads without a session_hash, and prints the process
RSS and the number of sessions Gradio keeps after every `--step` calls.

    flock /tmp/shopassist-cpu.lock .venv/bin/python benchmarks/bench_sessions.py [--calls 3000] [--step 500]
"""
from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]


def rss_mib() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("VmRSS"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--step", type=int, default=500)
    args = p.parse_args()

    import httpx

    import bench_app
    from assistant.commands.serve import build
    from assistant.ui import launch

    engine, demo = build(bench_app.settings_for("none"), progress=lambda *a, **k: None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)

    def call(data: list) -> None:
        event_id = http.post("/gradio_api/call/search", json={"data": data}).json()["event_id"]
        http.get(f"/gradio_api/call/search/{event_id}").raise_for_status()

    for _ in range(20):
        call(["shampoo", 5, None, None])
    print(f"warm: RSS {rss_mib()} MiB, sessions kept {len(demo.state_holder.session_data)}, "
          f"capacity {demo.state_session_capacity}", flush=True)
    done = 0
    while done < args.calls:
        t = time.perf_counter()
        for _ in range(args.step):
            call(["shampoo", 5, None, None])
        done += args.step
        print(f"{done} calls without session_hash: RSS {rss_mib()} MiB, sessions kept "
              f"{len(demo.state_holder.session_data)}, {(time.perf_counter() - t) / args.step * 1000:.1f} ms/call",
              flush=True)
    demo.close()


if __name__ == "__main__":
    main()
