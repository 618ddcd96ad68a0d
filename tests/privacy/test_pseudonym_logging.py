"""Pseudonymous user ids: keyed HMAC, one 0600 key per home, and log records that never carry raw ids."""
from __future__ import annotations

import io
import logging
import os
import stat
import threading

import pytest

from assistant.privacy import (PseudonymiseFilter, configure_logging, load_secret, pseudonymise,
                               user_extra)
from assistant.settings import Settings

SECRET = b"k" * 32


def test_pseudonym_is_keyed_stable_short_hex():
    a = pseudonymise("alice", SECRET)
    assert a == pseudonymise("alice", SECRET)
    assert len(a) == 16 and int(a, 16) >= 0
    assert a != pseudonymise("alice", b"j" * 32)
    assert a != pseudonymise("alice ", SECRET)
    assert pseudonymise(42, SECRET) == pseudonymise("42", SECRET)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        pseudonymise("alice", b"short")


def test_secret_created_once_with_0600(tmp_path):
    home = tmp_path / "home"
    key = load_secret(home)
    path = home / "secret.key"
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_secret(home) == key
    assert key.hex() not in pseudonymise("alice", key)


def test_secret_loose_permissions_are_tightened(tmp_path):
    path = tmp_path / "secret.key"
    path.write_text("ab" * 32 + "\n")
    os.chmod(path, 0o644)
    assert load_secret(tmp_path) == bytes.fromhex("ab" * 32)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_corrupt_secret_is_a_clear_error(tmp_path):
    (tmp_path / "secret.key").write_text("not hex")
    with pytest.raises(ValueError, match="secret.key is not a valid key"):
        load_secret(tmp_path)


def test_concurrent_first_use_agrees_on_one_key(tmp_path):
    import assistant.privacy as privacy

    home = tmp_path / "h"
    keys: list[bytes] = []
    barrier = threading.Barrier(6)

    def first():
        barrier.wait()
        keys.append(privacy.load_secret(home))

    threads = [threading.Thread(target=first) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1
    assert [p.name for p in home.iterdir()] == ["secret.key"]  # no temporary files left


@pytest.fixture
def log_stream(tmp_path):
    stream = io.StringIO()
    handler = configure_logging(Settings(home=tmp_path, embedder="hashing", llm="none"), level="DEBUG",
                                stream=stream)
    yield stream, load_secret(tmp_path)
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_logs_carry_pseudonyms_not_ids(log_stream):
    stream, key = log_stream
    log = logging.getLogger("shopassist.test")
    log.info("recommended %d items to %s", 5, "shopper-981", extra=user_extra("shopper-981"))
    log.info("no user here")
    log.warning("shopper wrote mail@example.com and 4111 1111 1111 1111", extra={"user_id": "u-77"})
    out = stream.getvalue()
    assert "shopper-981" not in out and "u-77" not in out
    p = pseudonymise("shopper-981", key)
    assert f"[user={p}] recommended 5 items to {p}" in out
    assert "[user=-] no user here" in out
    assert "mail@example.com" not in out and "4111" not in out
    assert "[email]" in out and "[card]" in out


def test_reconfigure_replaces_handler(tmp_path, log_stream):
    stream, _ = log_stream
    second = io.StringIO()
    handler = configure_logging(Settings(home=tmp_path, embedder="hashing", llm="none"), stream=second)
    try:
        logging.getLogger("shopassist.test").warning("once")
        assert second.getvalue().count("once") == 1
        assert "once" not in stream.getvalue()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_filter_on_a_plain_handler_and_bad_format():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s bought %s", ("bob", "x"), None)
    record.user_id = "bob"
    assert PseudonymiseFilter(SECRET).filter(record)
    assert "bob" not in record.getMessage() and record.user == pseudonymise("bob", SECRET)
    # filtering twice (two handlers) changes nothing more
    before = record.getMessage()
    PseudonymiseFilter(SECRET).filter(record)
    assert record.getMessage() == before
    broken = logging.LogRecord("x", logging.INFO, __file__, 1, "%d items", ("many",), None)
    assert PseudonymiseFilter(SECRET).filter(broken)  # the handler reports the format error, not the filter
