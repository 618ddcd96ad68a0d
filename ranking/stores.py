"""Which event store a deployment uses: PostgreSQL when a URL is set, else the embedded SQLite file.
(Its own module: it sits above both backends, which share ranking/events.py's EventStoreBase.)"""
from __future__ import annotations

from pathlib import Path

from .events import EventStore, EventStoreBase
from .pg_events import PgEventStore


def open_event_store(path: Path | str, known_items=None, database_url: str | None = None) -> EventStoreBase:
    """The event store of a deployment: PostgreSQL when `database_url` is set, else SQLite at `path`."""
    if database_url:
        return PgEventStore(database_url, known_items=known_items)
    return EventStore(path, known_items=known_items)
