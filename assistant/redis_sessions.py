"""Dialogue sessions in Redis (`SHOPASSIST_REDIS_URL`), so any worker serves any turn of a chat.

The same interface as dialogue.SessionStore: `hold(session_id, user_id, lookup)` is one turn:
a Redis lock on the session (a second worker's turn of the same chat waits for it), the session
loaded from `shopassist:session:<id>` (JSON, dialogue.Session.to_state: shown products as ids,
resolved back through `lookup`), and saved again when the turn ends, expiring after `ttl_s`.
The sessions of a shopper are indexed in `shopassist:user-sessions:<user_id>` so `drop_user`
(user forget) erases them from every worker at once.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Callable

from assistant.dialogue import Session
from ranking.servers import ServerUnavailable, redis_state

PREFIX = "shopassist:session:"
USER_PREFIX = "shopassist:user-sessions:"
LOCK_PREFIX = "shopassist:session-lock:"


class RedisSessionStore:
    def __init__(self, url: str, ttl_s: float = 6 * 3600, lock_timeout_s: float = 60.0, wait_s: float = 30.0):
        self.url = url
        self.ttl_s = int(ttl_s)
        self.lock_timeout_s, self.wait_s = lock_timeout_s, wait_s
        self._state = None

    @property
    def state(self):
        """The shared client (connected on first use, so building an Engine needs no server)."""
        if self._state is None:
            self._state = redis_state(self.url)
        return self._state

    def load(self, session_id: str, user_id: str | None = None,
             lookup: Callable[[str], Any] | None = None) -> Session:
        raw = self.state.call(lambda r: r.get(PREFIX + session_id))
        if raw is None:
            return Session(session_id=session_id, user_id=user_id)
        session = Session.from_state(json.loads(raw), lookup or (lambda i: None))
        if user_id and session.user_id is None:
            session.user_id = user_id
        return session

    get = load

    def save(self, session: Session) -> None:
        blob = json.dumps(session.to_state(), ensure_ascii=False, separators=(",", ":"))

        def write(r):
            with r.pipeline(transaction=True) as pipe:
                pipe.set(PREFIX + session.session_id, blob, ex=self.ttl_s)
                if session.user_id:
                    pipe.sadd(USER_PREFIX + session.user_id, session.session_id)
                    pipe.expire(USER_PREFIX + session.user_id, self.ttl_s)
                pipe.execute()

        self.state.call(write)

    @contextlib.contextmanager
    def hold(self, session_id: str, user_id: str | None = None, lookup: Callable[[str], Any] | None = None):
        lock = self.state.client.lock(LOCK_PREFIX + session_id, timeout=self.lock_timeout_s,
                                      blocking_timeout=self.wait_s)
        if not self.state.call(lambda r: lock.acquire()):
            raise ServerUnavailable(f"Session {session_id!r} is busy with another turn for over {self.wait_s:.0f} s; "
                                    "retry the message.")
        try:
            session = self.load(session_id, user_id, lookup)
            with session.lock:
                try:
                    yield session
                finally:
                    self.save(session)
        finally:
            with contextlib.suppress(Exception):   # expired or server gone: the timeout frees it
                lock.release()

    def drop(self, session_id: str) -> None:
        self.state.call(lambda r: r.delete(PREFIX + session_id))

    def drop_user(self, user_id: str) -> int:
        """Erase every session of the shopper; returns how many there were."""
        def erase(r) -> int:
            ids = [x.decode() if isinstance(x, bytes) else x for x in r.smembers(USER_PREFIX + user_id)]
            keys = [PREFIX + i for i in ids]
            r.delete(USER_PREFIX + user_id, *keys)
            return len(ids)

        return self.state.call(erase)

    def __len__(self) -> int:
        return sum(1 for _ in self.state.client.scan_iter(match=PREFIX + "*", count=1000))
