"""A small HTTP client for a running ShopAssist app: the four public endpoints, without gradio_client.

gradio_client works (docs/APP.md) but polls its message queue every 50 ms, which adds 50-90 ms to
every call (benchmarks/README.md, finding 9). This client speaks Gradio's plain routes directly over
one keep-alive connection: `/search`, `/recommend` and `/event` are a single
`POST /gradio_api/run/NAME`; `/chat` goes through the queue (`/gradio_api/call/chat` and its event
stream), as the server requires.

Session hashes: without one, Gradio builds (~9 ms) and keeps (~150 KB, up to the app's session
capacity) a new session state for every call. The direct calls all share the client's hash (they
carry no state). A queued call's result is delivered on its session's event stream, and Gradio
hands a session's messages to whichever stream reads first, so two chats running at once must not
share a hash: each chat borrows one from a small pool (as many as ever ran at once) and returns it.
A client is safe to share between threads.

    from assistant.client import ShopAssistClient

    with ShopAssistClient("http://127.0.0.1:7860") as shop:
        hits = shop.search("vitamin c serum", k=5, filters={"max_price": 25})
        shop.event("shopper-42", hits[0]["id"], "cart", event_id="order-7781-line-1")
        recs = shop.recommend("shopper-42", k=5)
        out = shop.chat("something cheaper", user_id="shopper-42", session_id="conv-1")

A refused argument raises `ShopAssistError` with the server's readable message; a server that
cannot be reached raises `ShopAssistError` naming the URL.
"""
from __future__ import annotations

import json
import queue
import uuid
from typing import Any


class ShopAssistError(Exception):
    """The server refused a call (the message says what was wrong) or could not be reached."""


class ShopAssistClient:
    def __init__(self, url: str = "http://127.0.0.1:7860", timeout: float = 120.0,
                 session_hash: str | None = None):
        import httpx  # lazy: a dependency of gradio, present wherever the app is installed

        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"Expected url to start with http:// or https://, got {url!r}")
        self.url = url.rstrip("/")
        self.session_hash = session_hash or uuid.uuid4().hex[:12]
        self._queued_hashes: queue.SimpleQueue[str] = queue.SimpleQueue()   # free hashes for queued calls
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    # ------------------------------------------------------------------ the four endpoints
    def search(self, query: str, k: int = 10, filters: dict | str | None = None,
               catalog: str | None = None) -> list[dict]:
        """Hybrid catalog search (not personalised) -> [product]."""
        return self._run("search", [query, k, filters, catalog])

    def recommend(self, user_id: str | None = None, query: str | None = None, k: int = 10,
                  catalog: str | None = None) -> list[dict]:
        """Personalised recommendations (user_id None = cold start), optionally for a query."""
        return self._run("recommend", [user_id, query, k, catalog])

    def event(self, user_id: str, item_id: str, type: str, event_id: str | None = None,
              value: float | str | None = None, catalog: str | None = None) -> dict:
        """Record view / click / cart / purchase / rating / search; idempotent on event_id."""
        return self._run("event", [user_id, item_id, type, event_id, value, catalog])

    def chat(self, message: str, user_id: str | None = None, session_id: str | None = None,
             catalog: str | None = None) -> dict:
        """One assistant turn -> {reply, products, intent, timings_ms}."""
        return self._call_queued("chat", [message, user_id, session_id, catalog])

    # ------------------------------------------------------------------ transport
    def _post(self, path: str, data: list, session_hash: str):
        import httpx

        try:
            return self._http.post(path, json={"data": data, "session_hash": session_hash})
        except httpx.HTTPError as exc:
            raise ShopAssistError(f"cannot reach ShopAssist at {self.url}: {exc}") from None

    def _run(self, name: str, data: list) -> Any:
        r = self._post(f"/gradio_api/run/{name}", data, self.session_hash)
        if r.status_code == 200:
            return r.json()["data"][0]
        raise ShopAssistError(_error_message(r.text, f"/{name} failed with HTTP {r.status_code}"))

    def _call_queued(self, name: str, data: list) -> Any:
        try:
            session_hash = self._queued_hashes.get_nowait()
        except queue.Empty:
            session_hash = f"{self.session_hash}-q{uuid.uuid4().hex[:6]}"
        result = self._stream_result(name, data, session_hash)
        # only a stream read to its result is surely drained; after a failure the hash is dropped
        self._queued_hashes.put(session_hash)
        return result

    def _stream_result(self, name: str, data: list, session_hash: str) -> Any:
        import httpx

        r = self._post(f"/gradio_api/call/{name}", data, session_hash)
        if r.status_code != 200:
            raise ShopAssistError(_error_message(r.text, f"/{name} failed with HTTP {r.status_code}"))
        event_id = r.json()["event_id"]
        kind = None
        try:
            with self._http.stream("GET", f"/gradio_api/call/{name}/{event_id}") as resp:
                for line in resp.iter_lines():
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:") and kind == "complete":
                        return json.loads(line[5:].strip())[0]
                    elif line.startswith("data:") and kind == "error":
                        raise ShopAssistError(_error_message(line[5:].strip(), f"/{name} failed"))
        except httpx.HTTPError as exc:
            raise ShopAssistError(f"lost the connection to {self.url} during /{name}: {exc}") from None
        raise ShopAssistError(f"/{name}: the server closed the stream without a result (last event {kind!r})")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ShopAssistClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _error_message(payload: str, fallback: str) -> str:
    """The readable message from a Gradio error payload ({"error": "..."} or a bare JSON string)."""
    try:
        value = json.loads(payload)
    except (ValueError, TypeError):
        return f"{fallback}: {payload[:300]}" if payload else fallback
    if isinstance(value, dict) and value.get("error"):
        return str(value["error"])
    if isinstance(value, str) and value:
        return value
    return fallback
