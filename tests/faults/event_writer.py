"""Helper for test_sigkill.py: record events through EventStore.add in a loop, printing each
event_id on its own line the moment add() has returned (that is, once it is acknowledged).

    python tests/faults/event_writer.py DB PREFIX [MAX_EVENTS]
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    from ranking.events import EventStore

    db, prefix = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 10**9
    store = EventStore(db)
    os.write(1, b"ready\n")
    for i in range(limit):
        ack = store.add({"event_id": f"{prefix}-{i}", "user_id": f"u{i % 7}", "item_id": f"p{i % 50}",
                         "type": ("view", "click", "cart", "purchase")[i % 4]})
        os.write(1, (ack.event_id + "\n").encode())  # one write(2) per ack: never split, never buffered


if __name__ == "__main__":
    main()
