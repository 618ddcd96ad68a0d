"""What the Engine's per-turn forget check costs (issue 11): `shopassist user forget` runs in another
process, so every chat turn reads the chat log's forget count (ChatLog.forgets) and, only when it
moved, asks which sessions lost their messages (ChatLog.missing_sessions) to drop them.

    flock /tmp/shopassist-cpu.lock .venv/bin/python benchmarks/bench_forget_check.py [--messages 100000] [--sessions 5000]
"""
from __future__ import annotations

import argparse
import tempfile
import timeit
from pathlib import Path

from assistant.privacy import ChatLog


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000, help="messages in the chat log")
    ap.add_argument("--sessions", type=int, default=5_000, help="sessions (and shoppers) they belong to")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = ChatLog.for_home(Path(tmp))
        rows = [(f"s{i % args.sessions}", ("user", "assistant")[i % 2], f"message number {i}",
                 f"u{i % args.sessions}") for i in range(args.messages)]
        for start in range(0, len(rows), 10_000):
            log.add_many(rows[start:start + 10_000])
        log.forget_user("u7")
        n = 20_000
        per_turn = min(timeit.repeat(log.forgets, number=n, repeat=3)) / n * 1e6
        ids = [f"s{i}" for i in range(args.sessions)]
        sweep = min(timeit.repeat(lambda: log.missing_sessions(ids), number=5, repeat=3)) / 5 * 1e3
        assert log.missing_sessions(ids) == {"s7"}
        print(f"chat log: {log.count():,} messages in {args.sessions:,} sessions")
        print(f"per chat turn, ChatLog.forgets(): {per_turn:.1f} us (best of 3 x {n:,} calls)")
        print(f"after a forget, ChatLog.missing_sessions({args.sessions:,} ids): {sweep:.1f} ms (best of 3 x 5)")
        log.close()


if __name__ == "__main__":
    main()
