"""Interaction data: sequence files, CSV event logs, the Interactions container, LOO splits.

Files
- sequences: one user a line, `<user> <item> <item> ...` in time order (whitespace separated,
  optionally gzip-compressed). Item ids are arbitrary strings.
- items: `<item_id><TAB><title>` a line (a header line `asin\ttitle` / `item_id\ttitle` is skipped).
- CSV event logs with a header: user column (user_id / user / reviewerID), item column
  (item_id / parent_asin / asin / item), optional rating, timestamp (seconds or ms), type.
"""
from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from .events import TYPE_WEIGHTS, Event, EventValidationError, event_weight

# Synthetic clock for sequence files (which carry no timestamps): 2020-01-01, one second a step.
SEQUENCE_T0 = 1_577_836_800.0


def _open_text(path: Path | str):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_sequences(path: Path | str, skipped: list[int] | None = None) -> list[tuple[str, list[str]]]:
    """[(user_id, [item_id, ...])] in file order; blank lines skipped. A line with a user and no
    items is an error naming the line, or, when a `skipped` list is given, its line number is
    appended there and the line ignored."""
    out: list[tuple[str, list[str]]] = []
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < 2:
                if skipped is not None:
                    skipped.append(lineno)
                    continue
                raise ValueError(
                    f"{path}: line {lineno}: expected '<user> <item> <item> ...', got {line.strip()!r} (no items)"
                )
            out.append((parts[0], parts[1:]))
    if not out:
        raise ValueError(f"{path}: no sequences found (expected lines '<user> <item> <item> ...')")
    return out


_ITEM_HEADERS = {"asin", "item", "item_id", "itemid", "id", "parent_asin", "product_id"}


def read_item_titles(path: Path | str) -> dict[str, str]:
    """{item_id: title} from `id<TAB>title` lines (header line skipped when it looks like one)."""
    titles: dict[str, str] = {}
    with _open_text(path) as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            item, sep, title = line.partition("\t")
            if not sep:
                raise ValueError(f"{path}: line {lineno}: expected '<item_id><TAB><title>', got {line[:80]!r}")
            if lineno == 1 and item.strip().lower() in _ITEM_HEADERS:
                continue
            titles[item.strip()] = title.strip()
    return titles


def sequences_to_events(
    sequences: Sequence[tuple[str, Sequence[str]]],
    *,
    type: str = "purchase",
    source: str = "seq",
    t0: float = SEQUENCE_T0,
) -> Iterator[Event]:
    """Events for a sequence file: synthetic increasing timestamps (one second a step, in file
    order), deterministic event ids `<source>:<user>:<position>` so a re-import is a no-op.
    The fields are checked once here (a bad `type` raises EventValidationError before any event);
    each event is then built without pydantic's per-field validation (a bulk import makes millions)."""
    event_type = Event.parse(user_id="u", item_id="i", type=type, timestamp=t0).type
    make = Event.model_construct
    t = float(t0)
    for user, items in sequences:
        if not (isinstance(user, str) and user and all(isinstance(i, str) and i for i in items)):
            raise EventValidationError(f"Expected a user id and item ids as non-empty strings, got {user!r}: "
                                       f"{list(items)[:5]!r:.200}")
        for pos, item in enumerate(items):
            yield make(event_id=f"{source}:{user}:{pos}", user_id=user, item_id=item, type=event_type,
                       timestamp=t, value=None)
            t += 1.0


_USER_COLS = ("user_id", "user", "userid", "reviewerid", "customer_id")
_ITEM_COLS = ("item_id", "parent_asin", "asin", "item", "itemid", "product_id")
_TS_COLS = ("timestamp", "ts", "time", "unixreviewtime", "date")


def read_event_csv(path: Path | str, *, default_type: str | None = None, source: str | None = None) -> Iterator[dict]:
    """Raw event dicts (for EventStore.add_many / Event.parse) from a CSV log with a header.

    type: the `type` column when present, else `default_type`, else "rating" when a rating
    column exists, else "purchase". Event ids are `<source>:<row number>` unless an event_id
    column exists, so importing the same file twice adds nothing.
    """
    path = Path(path)
    source = source or path.name
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ValueError(f"{path}: empty CSV (expected a header with user and item columns)")
        cols = {c.strip().lower(): c for c in reader.fieldnames}

        def pick(options, what, required=True):
            for o in options:
                if o in cols:
                    return cols[o]
            if required:
                raise ValueError(
                    f"{path}: no {what} column; expected one of {', '.join(options)}, got {', '.join(reader.fieldnames)}"
                )
            return None

        ucol, icol = pick(_USER_COLS, "user"), pick(_ITEM_COLS, "item")
        tcol = pick(_TS_COLS, "timestamp", required=False)
        rcol = cols.get("rating")
        typecol = cols.get("type")
        idcol = cols.get("event_id")
        valcol = cols.get("value")
        etype = default_type or ("rating" if rcol else "purchase")
        for rowno, row in enumerate(reader, 2):
            t = row.get(typecol) if typecol else etype
            value = row.get(valcol) if valcol else None
            if t == "rating" and rcol:
                value = row.get(rcol)
            yield {
                "event_id": row.get(idcol) if idcol else f"{source}:{rowno}",
                "user_id": row.get(ucol),
                "item_id": row.get(icol),
                "type": t,
                "timestamp": row.get(tcol) if tcol else None,
                "value": value or None,
            }


def sniff_format(path: Path | str) -> str:
    """'csv' when the first line has commas and a user/item header, else 'sequences'."""
    with _open_text(path) as fh:
        first = fh.readline()
    head = [c.strip().lower() for c in first.split(",")]
    if len(head) > 1 and any(c in _USER_COLS for c in head) and any(c in _ITEM_COLS for c in head):
        return "csv"
    return "sequences"


# Interactions ------------------------------------------------------------------------------
@dataclass
class Interactions:
    """Per-user item sequences over item rows 0..n_items-1, each in time order.

    weights[u][j] is the implicit confidence of event j (purchase 1, cart 0.8, click 0.5, view 0.3);
    timestamps[u][j] its time (unix seconds). Both optional (None = all 1 / unknown).
    """

    n_items: int
    sequences: list[np.ndarray]
    weights: list[np.ndarray] | None = None
    timestamps: list[np.ndarray] | None = None
    user_ids: list[str] | None = None

    def __post_init__(self) -> None:
        self.sequences = [np.asarray(s, dtype=np.int64) for s in self.sequences]
        for u, s in enumerate(self.sequences):
            if s.size and (s.min() < 0 or s.max() >= self.n_items):
                raise ValueError(f"Expected item rows in 0..{self.n_items - 1}, got {s.min()}..{s.max()} (user {u})")
        for name in ("weights", "timestamps"):
            arrs = getattr(self, name)
            if arrs is not None:
                arrs = [np.asarray(a, dtype=np.float64) for a in arrs]
                if len(arrs) != len(self.sequences) or any(len(a) != len(s) for a, s in zip(arrs, self.sequences)):
                    raise ValueError(f"Expected {name} aligned with sequences (one value per event)")
                setattr(self, name, arrs)

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_events(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    def user_items(self, binary: bool = False) -> sparse.csr_matrix:
        """users x items CSR of summed confidences (or 1/0 when binary)."""
        lengths = np.array([len(s) for s in self.sequences], dtype=np.int64)
        rows = np.repeat(np.arange(self.n_users), lengths)
        cols = np.concatenate(self.sequences) if self.n_events else np.zeros(0, np.int64)
        if binary or self.weights is None:
            data = np.ones(len(cols), dtype=np.float32)
        else:
            data = np.concatenate(self.weights).astype(np.float32)
        m = sparse.csr_matrix((data, (rows, cols)), shape=(self.n_users, self.n_items), dtype=np.float32)
        m.sum_duplicates()
        if binary:
            m.data[:] = 1.0
        return m

    def item_counts(self) -> np.ndarray:
        """Number of events per item."""
        if not self.n_events:
            return np.zeros(self.n_items, dtype=np.float64)
        return np.bincount(np.concatenate(self.sequences), minlength=self.n_items).astype(np.float64)

    def subset(self, users: Sequence[int]) -> "Interactions":
        pick = lambda arrs: None if arrs is None else [arrs[u] for u in users]  # noqa: E731
        return Interactions(
            self.n_items,
            pick(self.sequences),
            pick(self.weights),
            pick(self.timestamps),
            pick(self.user_ids),
        )


def interactions_from_sequences(
    sequences: Sequence[tuple[str, Sequence[str]]], item_index: dict[str, int]
) -> Interactions:
    """Map item ids to rows (unknown ids raise, naming the first few)."""
    seqs, users, missing = [], [], []
    for user, items in sequences:
        row = []
        for it in items:
            r = item_index.get(it)
            if r is None:
                missing.append(it)
            else:
                row.append(r)
        seqs.append(np.array(row, dtype=np.int64))
        users.append(user)
    if missing:
        raise ValueError(f"{len(missing)} item ids are not in the item index, e.g. {missing[:5]}")
    return Interactions(len(item_index), seqs, user_ids=users)


def interactions_from_rows(rows, item_index: dict[str, int], *, skip_types=("search",)) -> tuple[Interactions, int]:
    """Interactions from EventStore.iter_rows() (sorted by user, time). Events on items missing
    from `item_index` (catalog changed since) are skipped and counted; returns (data, skipped)."""
    seqs, weights, stamps, users = [], [], [], []
    cur_user, s, w, t = None, [], [], []
    skipped = 0

    def flush():
        if cur_user is not None and s:
            seqs.append(np.array(s, np.int64))
            weights.append(np.array(w, np.float64))
            stamps.append(np.array(t, np.float64))
            users.append(cur_user)

    for user_id, item_id, etype, ts, vnum, vtxt in rows:
        if user_id != cur_user:
            flush()
            cur_user, s, w, t = user_id, [], [], []
        if etype in skip_types or item_id is None:
            continue
        r = item_index.get(item_id)
        if r is None:
            skipped += 1
            continue
        s.append(r)
        w.append(event_weight(etype, vnum))
        t.append(ts)
    flush()
    return Interactions(len(item_index), seqs, weights, stamps, users), skipped


# Leave-one-out -----------------------------------------------------------------------------
@dataclass
class LOOSplit:
    """Leave-one-out: the last item of each user is the test target, the one before it the
    validation target; users with fewer than 3 items are in training only."""

    train: Interactions  # every user's sequence minus the last two (or the whole, if < 3)
    eval_users: np.ndarray  # users (indices into train) with validation / test targets
    valid_targets: np.ndarray
    test_targets: np.ndarray

    def valid_histories(self) -> list[np.ndarray]:
        return [self.train.sequences[u] for u in self.eval_users]

    def test_histories(self) -> list[np.ndarray]:
        return [np.append(self.train.sequences[u], t) for u, t in zip(self.eval_users, self.valid_targets)]


def leave_one_out(data: Interactions) -> LOOSplit:
    train_seqs, eval_users, valid, test = [], [], [], []
    for u, s in enumerate(data.sequences):
        if len(s) >= 3:
            train_seqs.append(s[:-2])
            eval_users.append(u)
            valid.append(s[-2])
            test.append(s[-1])
        else:
            train_seqs.append(s)
    cut = lambda arrs: None if arrs is None else [  # noqa: E731
        a[:-2] if len(a) >= 3 else a for a in arrs
    ]
    train = Interactions(data.n_items, train_seqs, cut(data.weights), cut(data.timestamps), data.user_ids)
    return LOOSplit(train, np.array(eval_users, np.int64), np.array(valid, np.int64), np.array(test, np.int64))


__all__ = [
    "Interactions", "LOOSplit", "leave_one_out", "read_sequences", "read_item_titles", "read_event_csv",
    "sequences_to_events", "sniff_format", "interactions_from_sequences", "interactions_from_rows",
    "TYPE_WEIGHTS", "EventValidationError",
]
