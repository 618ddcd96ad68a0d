"""Privacy: PII redaction, pseudonymous user ids in logs, a redacted chat log, and forgetting a shopper.

- `redact(text)`: e-mail addresses -> "[email]", phone numbers (international "+CC ..." / "00CC ...",
  Chinese mobiles, common national formats, any number right after "phone/tel/call/手机/电话 ...")
  -> "[phone]", card numbers (13-19 digits, optionally grouped by spaces or dashes, passing the
  Luhn check) -> "[card]", IBANs (mod-97 check) -> "[iban]". Prices ("$1,299.99"), sizes ("10.5"),
  dates and model numbers ("WH-1000XM4", "SM-G991B") are left alone. Full-width digits count.
- `pseudonymise(user_id, secret)`: a keyed HMAC-SHA256, first 16 hex digits. The key is created once
  per home (`load_secret(home)`, file `<home>/secret.key`, mode 0600) and never logged.
- Logging convention: pass the raw id as `extra={"user_id": uid}` (see `user_extra`). The
  `PseudonymiseFilter` (installed on the handler by `configure_logging`) replaces `record.user_id`
  with the pseudonym, sets `record.user` (use `%(user)s` in formats; "-" when there is none),
  replaces the raw id where it also appears in the message, and redacts PII in the message.
- `ChatLog`: chat messages in SQLite (WAL, synchronous=FULL, secure_delete) - only ever redacted;
  `PgChatLog` the same in PostgreSQL (`open_chat_log(home, database_url)` picks one).
- `forget_user(...)`: erase a shopper's events and chat history (the live profile is dropped by
  `RecommendationService.forget_user`; model bundles hold no per-user rows).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from assistant.redis_sessions import RedisSessionStore
from ranking.stores import open_event_store
from ranking.profile import RedisProfileStore
from ranking.servers import pg_database, safe_url
from ranking.sqlite import DurableSQLite

SECRET_FILE = "secret.key"
CHAT_DB = "chat.sqlite"
PSEUDONYM_HEX = 16  # 64 bits: collisions are negligible for any realistic number of shoppers
MAX_CHAT_CHARS = 20_000  # longer messages are truncated before they are stored
ROLES = ("user", "assistant", "system")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [user=%(user)s] %(message)s"

# ------------------------------------------------------------------------------------------------
# Redaction
# Detection runs on a copy with full-width digits / plus / dashes / parentheses mapped to ASCII
# (a 1:1 character mapping, so spans line up with the original text).
_FULLWIDTH = {0xFF10 + i: ord("0") + i for i in range(10)}
_FULLWIDTH.update({0xFF0B: ord("+"), 0xFF0D: ord("-"), 0xFF08: ord("("), 0xFF09: ord(")"),
                   0x2010: ord("-"), 0x2011: ord("-"), 0x2012: ord("-"), 0x2013: ord("-"),
                   0x3000: ord(" "), 0x00A0: ord(" "), 0xFF0E: ord(".")})

_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w.%+-][\w.%+'-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
# IBAN: country, check digits, 11-30 alphanumerics, optionally in groups of four (upper case).
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
# Cards: 4-4-4-4(-3), 4-6-5 / 4-6-4 (Amex, Diners), or one run of 13-19 digits.
_CARD = re.compile(
    r"(?<![0-9A-Za-z.,+])(?<![0-9][ -])"
    r"(?:[0-9]{4}(?:[ -]?[0-9]{4}){2,3}(?:[ -]?[0-9]{1,3})?|[0-9]{4}[ -]?[0-9]{6}[ -]?[0-9]{4,5}|[0-9]{13,19})"
    r"(?![0-9A-Za-z])(?![ -][0-9])"
)
_NOT_BEFORE = r"(?<![0-9A-Za-z+.,])(?<![0-9][ .-])"  # not the middle of a longer number or a word
_NOT_AFTER = r"(?![0-9A-Za-z])(?![ .-]?[0-9])(?!,[0-9]{3})"
_PHONES = [
    # International: +CC or 00CC, then 1-6 groups (possessive: no catastrophic backtracking).
    re.compile(r"(?<![0-9A-Za-z+])(?:\+|00)[1-9][0-9]{0,2}+(?:[ .-]?\(?[0-9]{1,5}+\)?){1,6}+(?![0-9A-Za-z])"),
    # Chinese mobile: 1[3-9]x xxxx xxxx (11 digits), plain or grouped 3-4-4.
    re.compile(_NOT_BEFORE + r"1[3-9][0-9](?:[ -]?[0-9]{4}){2}" + _NOT_AFTER),
    # National with three groups: (555) 123-4567, 555-123-4567, 020 7946 0958, 010-1234-5678.
    re.compile(_NOT_BEFORE + r"(?:\([0-9]{2,5}\)|[0-9]{2,5})[ .-]?[0-9]{3,4}[ .-][0-9]{3,4}" + _NOT_AFTER),
    # Trunk prefix 0 with two groups or none: 07700 900123, 0755 88889999, 07700900123.
    re.compile(_NOT_BEFORE + r"0[1-9][0-9]{1,4}[ .-]?[0-9]{5,8}" + _NOT_AFTER),
    # French style pairs: 01 23 45 67 89.
    re.compile(_NOT_BEFORE + r"0[1-9](?:[ .-][0-9]{2}){4}" + _NOT_AFTER),
]
# Any digit run right after a phone word ("call me on 5551234567", "手机：5551234").
_PHONE_CONTEXT = re.compile(
    r"(?:\b(?:phone|tel|telephone|mobile|cell|call|text|whats ?app|wechat|contact)|号码|电话|手机|联系|微信)"
    r"[^0-9\n]{0,16}?(?P<num>\+?\(?[0-9][0-9 ().-]{5,22}[0-9])(?![0-9])",
    re.I,
)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum used by payment cards (digits only)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    """ISO 13616 mod-97 check (15-34 alphanumerics after removing spaces)."""
    s = text.replace(" ", "").upper()
    if not 15 <= len(s) <= 34 or not s.isascii() or not s.isalnum():
        return False
    moved = s[4:] + s[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def _card_ok(match: str) -> bool:
    digits = _digits(match)
    return 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1


_THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")  # 123.456.789 is a number, not a phone


def _phone_ok(match: str) -> bool:
    if _THOUSANDS.fullmatch(match):
        return False
    digits = _digits(match)
    if match.startswith("00"):
        digits = digits[2:]
    return 7 <= len(digits) <= 15


def _find_spans(probe: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in spans)

    def add(start: int, end: int, token: str) -> None:
        if free(start, end):
            spans.append((start, end, token))

    if "@" in probe:
        for m in _EMAIL.finditer(probe):
            add(m.start(), m.end(), "[email]")
    if not any(ch.isdigit() for ch in probe):
        return spans
    for m in _IBAN.finditer(probe):
        text = m.group()
        if iban_ok(text):
            add(m.start(), m.end(), "[iban]")
        elif " " in text and iban_ok(text.rsplit(" ", 1)[0]):  # a following word was swallowed
            add(m.start(), m.start() + len(text.rsplit(" ", 1)[0]), "[iban]")
    for m in _CARD.finditer(probe):
        if _card_ok(m.group()):
            add(m.start(), m.end(), "[card]")
    for m in _PHONE_CONTEXT.finditer(probe):
        num = m.group("num").rstrip(" .-(")
        if _phone_ok(num):
            add(m.start("num"), m.start("num") + len(num), "[phone]")
    for pattern in _PHONES:
        for m in pattern.finditer(probe):
            if _phone_ok(m.group()):
                add(m.start(), m.end(), "[phone]")
    return spans


def redact(text: str) -> str:
    """`text` with e-mails, phone numbers, card numbers and IBANs replaced by [email], [phone],
    [card], [iban]. Everything else is kept exactly. Non-strings are converted with str()."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not text:
        return text
    spans = _find_spans(text.translate(_FULLWIDTH))
    if not spans:
        return text
    out, pos = [], 0
    for start, end, token in sorted(spans):
        out.append(text[pos:start])
        out.append(token)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# ------------------------------------------------------------------------------------------------
# Pseudonyms
def _key(secret: bytes | str) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, (bytes, bytearray)) or len(secret) < 16:
        raise ValueError("Expected a secret of at least 16 bytes (see load_secret(home))")
    return bytes(secret)


def pseudonymise(user_id, secret: bytes | str) -> str:
    """Keyed HMAC-SHA256 of the user id: 16 hex digits, stable for one secret, not reversible."""
    raw = str(user_id).encode("utf-8", "surrogatepass")
    return hmac.new(_key(secret), raw, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


_SECRETS: dict[Path, bytes] = {}
_SECRETS_LOCK = threading.Lock()


def load_secret(home: Path | str) -> bytes:
    """The pseudonymisation key of this home (`<home>/secret.key`), created once with mode 0600.

    Concurrent first calls (threads or processes) agree on one key: it is written to a temporary
    file and hard-linked into place, so the first writer wins and nobody reads a partial file.
    """
    home = Path(home).expanduser().resolve()
    path = home / SECRET_FILE
    with _SECRETS_LOCK:
        if path in _SECRETS and path.exists():
            return _SECRETS[path]
        home.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            tmp = home / f".{SECRET_FILE}.{os.getpid()}.{threading.get_ident()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, (secrets.token_hex(32) + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        text = path.read_text().strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) < 16:
            raise ValueError(
                f"{path} is not a valid key (expected 64 hex digits). Delete it to create a new one; "
                "pseudonyms in existing logs will then no longer match new ones."
            )
        _SECRETS[path] = key
        return key


# ------------------------------------------------------------------------------------------------
# Logging
def user_extra(user_id) -> dict:
    """`log.info("...", extra=user_extra(uid))`: the convention the filter understands."""
    return {"user_id": user_id}


class PseudonymiseFilter(logging.Filter):
    """Rewrites log records so no raw user id or PII reaches a handler.

    Convention: callers pass the raw id as `extra={"user_id": uid}`. Afterwards `record.user_id`
    and `record.user` hold the pseudonym ("-" when the record has no user), any standalone
    occurrence of the raw id in the message is replaced by the pseudonym, and (redact_messages)
    e-mails / phones / cards in the message are redacted. Attach it to handlers (handler filters
    see records propagated from every logger; logger filters do not).
    """

    def __init__(self, secret: bytes | str, redact_messages: bool = True):
        super().__init__()
        self.secret = _key(secret)
        self.redact_messages = redact_messages

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_shopassist_private", False):
            return True
        raw = getattr(record, "user_id", None)
        raw = None if raw is None or raw == "" else str(raw)
        pseudonym = pseudonymise(raw, self.secret) if raw is not None else "-"
        record.user_id = pseudonym
        record.user = pseudonym
        if raw is not None or self.redact_messages:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a bad format string: let the handler report it
                message = None
            if message is not None:
                new = message
                if raw is not None:
                    new = re.sub(rf"(?<![\w-]){re.escape(raw)}(?![\w-])", pseudonym, new)
                if self.redact_messages:
                    new = redact(new)
                if new != message:
                    record.msg, record.args = new, ()
        record._shopassist_private = True
        return True


_HANDLER_MARK = "_shopassist_handler"


def configure_logging(settings, level: int | str = "INFO", stream=None, log_file: Path | str | None = None,
                      fmt: str = LOG_FORMAT) -> logging.Handler:
    """Install one handler on the root logger (stderr, or `log_file`) with the PseudonymiseFilter.

    `settings` is an `assistant.settings.Settings` (only `.home` is read: the key lives there).
    Calling it again replaces the handler it installed before. Returns the handler.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    if log_file is not None:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream)
    handler.addFilter(PseudonymiseFilter(load_secret(settings.home)))
    handler.setFormatter(logging.Formatter(fmt))
    setattr(handler, _HANDLER_MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    return handler


# ------------------------------------------------------------------------------------------------
# Chat log
@dataclass(frozen=True)
class ChatMessage:
    id: int
    session_id: str
    user_id: str | None
    role: str
    text: str  # already redacted
    ts: float


_CHAT_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    user_id    TEXT,
    role       TEXT NOT NULL,
    text       TEXT NOT NULL,
    ts         REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS chat_by_session ON chat_messages(session_id, id);
CREATE INDEX IF NOT EXISTS chat_by_user ON chat_messages(user_id);
CREATE TABLE IF NOT EXISTS chat_forgets (      -- how many forgets ran (no ids): running apps drop sessions
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
"""


def _clean_text(value) -> str:
    """Text safe for SQLite: str, lone surrogates replaced."""
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "replace").decode("utf-8")



class ChatLog(DurableSQLite):
    """Chat history in SQLite (WAL, synchronous=FULL). Text is redacted before it is stored.

    One connection per thread; safe to share between threads and processes. `user_id` may be None
    (anonymous sessions); `forget_user` deletes every message of the user, overwriting the pages
    (secure_delete) and truncating the WAL, so the text is gone from the files too. Every commit is
    an fsync: `add_many` stores several messages (a chat turn's question and reply) with one.
    """

    def __init__(self, path: Path | str, max_chars: int = MAX_CHAT_CHARS):
        self.max_chars = int(max_chars)
        self._open_sqlite(path, _CHAT_SCHEMA)

    @classmethod
    def for_home(cls, home: Path | str) -> "ChatLog":
        return cls(Path(home) / CHAT_DB)


    def __enter__(self) -> "ChatLog":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _row(self, session_id: str, role: str, text: str, user_id: str | None = None,
             ts: float | None = None) -> tuple:
        """The validated, redacted row of one message (raises ValueError)."""
        if not isinstance(session_id, str) or not session_id.strip():
            raise ValueError(f"Expected session_id to be a non-empty string, got {session_id!r}")
        if role not in ROLES:
            raise ValueError(f"Expected role to be one of {', '.join(ROLES)}, got {role!r}")
        if user_id is not None and (not isinstance(user_id, str) or not user_id.strip()):
            raise ValueError(f"Expected user_id to be a non-empty string or None, got {user_id!r}")
        if text is None:
            raise ValueError("Expected text to be a string, got None")
        clean = redact(_clean_text(text))[: self.max_chars]   # redact first: a cut must not expose half a number
        return (_clean_text(session_id), None if user_id is None else _clean_text(user_id), role, clean,
                float(time.time() if ts is None else ts))

    def add(self, session_id: str, role: str, text: str, user_id: str | None = None,
            ts: float | None = None) -> int:
        """Store one message (redacted, at most `max_chars`); returns its id."""
        row = self._row(session_id, role, text, user_id, ts)
        cur = self._conn().execute(
            "INSERT INTO chat_messages(session_id,user_id,role,text,ts) VALUES (?,?,?,?,?)", row)
        return int(cur.lastrowid)

    def add_many(self, messages: Iterable[tuple]) -> list[int]:
        """Store several messages in one transaction (one commit, one fsync); returns their ids.

        Each message is `(session_id, role, text[, user_id[, ts]])`, with the meaning of `add`'s
        arguments; they are redacted and truncated like `add`. All are validated before anything is
        written, and either all are stored or none (a chat turn stores its user and assistant
        message together this way).
        """
        rows = [self._row(*m) for m in messages]
        if not rows:
            return []
        with self._transaction() as conn:
            return [int(conn.execute(
                "INSERT INTO chat_messages(session_id,user_id,role,text,ts) VALUES (?,?,?,?,?)", row).lastrowid)
                for row in rows]

    def history(self, session_id: str, limit: int = 50) -> list[ChatMessage]:
        """The last `limit` messages of the session, oldest first."""
        rows = self._conn().execute(
            "SELECT id,session_id,user_id,role,text,ts FROM chat_messages WHERE session_id=? "
            "ORDER BY id DESC LIMIT ?", (session_id, int(limit))).fetchall()
        return [ChatMessage(*r) for r in reversed(rows)]

    def user_messages(self, user_id: str) -> list[ChatMessage]:
        rows = self._conn().execute(
            "SELECT id,session_id,user_id,role,text,ts FROM chat_messages WHERE user_id=? ORDER BY id",
            (user_id,)).fetchall()
        return [ChatMessage(*r) for r in rows]

    def count(self) -> int:
        return int(self._conn().execute("SELECT COUNT(*) FROM chat_messages").fetchone()[0])

    def recent(self, limit: int = 2000) -> list[ChatMessage]:
        """The last `limit` stored messages of all sessions, oldest first (redacted text)."""
        rows = self._conn().execute(
            "SELECT id,session_id,user_id,role,text,ts FROM chat_messages ORDER BY id DESC LIMIT ?",
            (int(limit),)).fetchall()
        return [ChatMessage(*r) for r in reversed(rows)]

    def forget_user(self, user_id: str) -> int:
        """Delete every message of the user, and of every session the user took part in."""
        with self._transaction() as conn:
            sessions = [r[0] for r in conn.execute(
                "SELECT DISTINCT session_id FROM chat_messages WHERE user_id=?", (user_id,))]
            n = conn.execute("DELETE FROM chat_messages WHERE user_id=?", (user_id,)).rowcount
            for session_id in sessions:
                n += conn.execute("DELETE FROM chat_messages WHERE session_id=?", (session_id,)).rowcount
            conn.execute("INSERT INTO chat_forgets(id, n) VALUES (1, 1) ON CONFLICT(id) DO UPDATE SET n = n + 1")
        self._checkpoint()
        return int(n)

    def forgets(self) -> int:
        """How many `forget_user` calls ran on this log, from any process (0 = none). A running
        Engine compares it on every chat turn to drop the sessions of a shopper forgotten elsewhere."""
        row = self._conn().execute("SELECT n FROM chat_forgets WHERE id=1").fetchone()
        return int(row[0]) if row else 0

    def missing_sessions(self, session_ids: Iterable[str]) -> set[str]:
        """The ids among `session_ids` with no stored message (forgotten, or never logged)."""
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return set()
        # one index probe per id (EXISTS stops at the first message), all in one statement
        rows = self._conn().execute(
            "SELECT j.value FROM json_each(?) j WHERE NOT EXISTS "
            "(SELECT 1 FROM chat_messages m WHERE m.session_id = j.value)", (json.dumps(ids),))
        return {r[0] for r in rows}

    def forget_session(self, session_id: str) -> int:
        n = self._conn().execute("DELETE FROM chat_messages WHERE session_id=?", (session_id,)).rowcount
        self._checkpoint()
        return int(n)


class PgChatLog(ChatLog):
    """The chat log in PostgreSQL (`SHOPASSIST_DATABASE_URL`), shared by several workers.

    Same validation and redaction as ChatLog (only redacted text is ever sent to the server);
    each add / add_many is one committed transaction. forget_* delete and VACUUM the table.
    """

    MIGRATIONS = [
        """
        CREATE TABLE IF NOT EXISTS chat_messages (
            id         BIGSERIAL PRIMARY KEY,
            session_id TEXT NOT NULL,
            user_id    TEXT,
            role       TEXT NOT NULL,
            text       TEXT NOT NULL,
            ts         DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX IF NOT EXISTS chat_by_session ON chat_messages(session_id, id);
        CREATE INDEX IF NOT EXISTS chat_by_user ON chat_messages(user_id);
        """,
    ]
    _INSERT = "INSERT INTO chat_messages(session_id,user_id,role,text,ts) VALUES (%s,%s,%s,%s,%s) RETURNING id"

    def __init__(self, url: str, max_chars: int = MAX_CHAT_CHARS):
        self.max_chars = int(max_chars)
        self.db = pg_database(url)
        self.path = safe_url(url)
        self.db.migrate("chat", self.MIGRATIONS)

    def add(self, session_id: str, role: str, text: str, user_id: str | None = None,
            ts: float | None = None) -> int:
        return self.add_many([(session_id, role, text, user_id, ts)])[0]

    def add_many(self, messages: Iterable[tuple]) -> list[int]:
        rows = [self._row(*m) for m in messages]
        if not rows:
            return []
        # not retried: a message has no idempotency key, and a retry after an unseen commit would
        # store it twice; the caller gets the clear ServerUnavailable instead
        return self.db.run(lambda c: [int(c.execute(self._INSERT, row).fetchone()[0]) for row in rows], retry=False)

    def _select(self, where: str, args: tuple, tail: str = "ORDER BY id") -> list[ChatMessage]:
        rows = self.db.run(lambda c: c.execute(
            f"SELECT id,session_id,user_id,role,text,ts FROM chat_messages WHERE {where} {tail}", args).fetchall())
        return [ChatMessage(*r) for r in rows]

    def history(self, session_id: str, limit: int = 50) -> list[ChatMessage]:
        return list(reversed(self._select("session_id=%s", (session_id, int(limit)), "ORDER BY id DESC LIMIT %s")))

    def user_messages(self, user_id: str) -> list[ChatMessage]:
        return self._select("user_id=%s", (user_id,))

    def count(self) -> int:
        return int(self.db.run(lambda c: c.execute("SELECT COUNT(*) FROM chat_messages").fetchone()[0]))

    def forget_user(self, user_id: str) -> int:
        def erase(conn) -> int:
            n = conn.execute("DELETE FROM chat_messages WHERE session_id IN (SELECT DISTINCT session_id FROM "
                             "chat_messages WHERE user_id=%s) OR user_id=%s", (user_id, user_id)).rowcount
            return int(n)

        n = self.db.run(erase)
        if n:
            self.db.vacuum("chat_messages")
        return n

    def forget_session(self, session_id: str) -> int:
        n = int(self.db.run(lambda c: c.execute("DELETE FROM chat_messages WHERE session_id=%s",
                                                (session_id,)).rowcount))
        if n:
            self.db.vacuum("chat_messages")
        return n

    def close(self) -> None:
        """The pool is shared per URL within the process (ranking.servers.pg_database)."""


def open_chat_log(home: Path | str, database_url: str | None = None) -> ChatLog:
    """The chat log of a deployment: PostgreSQL when `database_url` is set, else `<home>/chat.sqlite`."""
    return PgChatLog(database_url) if database_url else ChatLog.for_home(home)


# ------------------------------------------------------------------------------------------------
def forget_user(user_id: str, *, events=None, chat: ChatLog | None = None, services: Iterable = (),
                home: Path | str | None = None, database_url: str | None = None,
                redis_url: str | None = None) -> dict[str, int]:
    """Erase everything stored about one shopper; returns counts per store.

    events: an open event store (else the one of `database_url`, else `<home>/events.sqlite` when
    it exists); chat: an open ChatLog (else that of `database_url` / `<home>/chat.sqlite`);
    services: live `RecommendationService`s, whose profiles are dropped (they also delete the events);
    redis_url: the shared state of every worker (live profiles of all catalogs, dialogue sessions).
    """
    if not isinstance(user_id, str) or not user_id.strip():
        raise ValueError(f"Expected user_id to be a non-empty string, got {user_id!r}")
    counts = {"events": 0, "chat_messages": 0, "services": 0}
    if redis_url:
        counts["profiles"] = int(RedisProfileStore(redis_url, "").drop(user_id))
        counts["sessions"] = RedisSessionStore(redis_url).drop_user(user_id)
    close: list = []
    try:
        if events is None and (database_url or (home is not None and (Path(home) / "events.sqlite").exists())):
            events = open_event_store(Path(home or ".") / "events.sqlite", database_url=database_url)
            close.append(events)
        if chat is None and (database_url or (home is not None and (Path(home) / CHAT_DB).exists())):
            chat = open_chat_log(home or ".", database_url)
            close.append(chat)
        for service in services:
            counts["events"] += service.forget_user(user_id)
            counts["services"] += 1
        if events is not None:
            counts["events"] += events.forget_user(user_id)
        if chat is not None:
            counts["chat_messages"] += chat.forget_user(user_id)
    finally:
        for store in close:
            store.close()
    return counts
