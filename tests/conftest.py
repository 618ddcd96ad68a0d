"""Shared fixtures for the whole suite (kept small and generic).

- `tmp_home`: an empty SHOPASSIST_HOME in a temporary directory, with the hashing embedder selected,
  so nothing a test does touches ./.shopassist or loads model weights.
- `hashing_embedder`: one session-wide deterministic HashingEmbedder (no model, no network).
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SHOPASSIST_HOME", str(home))
    monkeypatch.setenv("SHOPASSIST_EMBEDDER", "hashing")
    monkeypatch.delenv("SHOPASSIST_CHROMA_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def hashing_embedder():
    from retrieval.embedder import HashingEmbedder

    return HashingEmbedder(dim=64)


def pytest_report_header(config):
    url = os.environ.get("SHOPASSIST_TEST_CHROMA_URL")
    where = f"the server at {url} (SHOPASSIST_TEST_CHROMA_URL, e.g. started by .ci/run)" if url \
        else "a `chroma run` started by the tests/server fixture"
    return f"shopassist: Chroma server tests use {where}"


def write_transactions(statements: list[str]) -> int:
    """Committed write transactions in a SQLite trace: BEGIN ... COMMIT, or one autocommit write."""
    n, explicit = 0, False
    for sql in (s.strip().upper() for s in statements):
        if sql.startswith("BEGIN"):
            explicit = True
        elif sql.startswith(("COMMIT", "END")):
            n, explicit = n + 1, False
        elif sql.startswith("ROLLBACK"):
            explicit = False
        elif sql.startswith(("INSERT", "UPDATE", "DELETE")) and not explicit:
            n += 1
    return n
