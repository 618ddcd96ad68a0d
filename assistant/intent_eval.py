"""Field-level scoring of parsed intents against an annotated set (tests/data/intents.jsonl).

Each line: {"id", "message", "expected": {field: value}, "session"?: id, "shown"?: [products]}.
Fields not listed in "expected" are expected to have their default (None, [], "relevance",
"search", "en"), so a parser that invents an exclusion or a price is marked wrong. search_text
is scored only where annotated: every annotated keyword must appear in the parsed search_text.
Rows sharing a "session" are resolved in file order through `dialogue.resolve`, with the
"shown" products recorded after each turn (so "cheaper" and "the second one" have context).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from assistant.dialogue import Session, resolve
from assistant.jsontext import read_jsonl
from assistant.schema import Intent
from retrieval.facets import colour
from retrieval.lexical import stem_set

FIELDS = ("action", "search_text", "category", "brand", "price_min", "price_max", "currency", "must_have",
          "exclude", "exclude_brand", "recipient", "occasion", "sort", "refers_to", "language")
_DEFAULTS = Intent().model_dump()


def load_rows(path: Path) -> list[dict]:
    return [rec for _, rec in read_jsonl(path, 'an annotated message {"id": ..., "message": ..., "expected": {...}}')]


def _words(text: str) -> set[str]:
    return stem_set(str(text))


def term_match(a: str, b: str) -> bool:
    """Same term up to case, hyphens, plurals, one side adding words ("small" ~ "small size") and
    colour spellings ("gray" ~ "grey", retrieval.facets.colour)."""
    if colour(a) is not None and colour(a) == colour(b):
        return True
    wa, wb = _words(a), _words(b)
    return bool(wa) and bool(wb) and (wa <= wb or wb <= wa)


def field_correct(name: str, expected, predicted) -> bool:
    if name in ("price_min", "price_max"):
        if expected is None or predicted is None:
            return expected is None and predicted is None
        return abs(float(expected) - float(predicted)) <= 0.011
    if name in ("must_have", "exclude"):
        expected, predicted = list(expected or []), list(predicted or [])
        return all(any(term_match(e, p) for p in predicted) for e in expected) and \
            all(any(term_match(e, p) for e in expected) for p in predicted)
    if name == "refers_to":
        return sorted(expected or []) == sorted(predicted or [])
    if name == "search_text":
        return _words(expected) <= _words(predicted or "")
    if name in ("category", "brand", "recipient", "occasion"):
        if not expected or not predicted:
            return not expected and not predicted
        return str(expected).lower() == str(predicted).lower() or term_match(expected, predicted)
    return expected == predicted


@dataclass
class RowResult:
    id: str
    message: str
    intent: dict
    ms: float
    source: str
    checks: dict[str, bool] = field(default_factory=dict)   # field -> correct

    @property
    def exact(self) -> bool:
        return all(self.checks.values())


def check_row(row: dict, intent: dict) -> dict[str, bool]:
    expected = row.get("expected", {})
    checks = {}
    for name in FIELDS:
        if name == "search_text" and "search_text" not in expected:
            continue
        want = expected.get(name, _DEFAULTS[name])
        checks[name] = field_correct(name, want, intent.get(name))
    return checks


def run(rows: Sequence[dict], parser: Callable, progress: Callable[[int, int], None] | None = None) -> list[RowResult]:
    """Parse every row (sessions in order) with `parser(message, history)` -> Intent | ParseResult."""
    sessions: dict[str, Session] = {}
    results = []
    for n, row in enumerate(rows, 1):
        sid = row.get("session")
        session = sessions.setdefault(sid, Session(session_id=sid)) if sid else Session()
        started = time.perf_counter()
        intent = resolve(row["message"], session, parser)
        ms = (time.perf_counter() - started) * 1000
        parse = session.last_parse
        source = parse.source if parse is not None else "?"
        ms_parse = parse.ms if parse is not None else ms
        shown = row.get("shown")
        session.record(row["message"], intent, shown)
        data = intent.model_dump()
        results.append(RowResult(id=row["id"], message=row["message"], intent=data, ms=ms_parse, source=source,
                                 checks=check_row(row, data)))
        if progress:
            progress(n, len(rows))
    return results


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(results: Sequence[RowResult], rows: Sequence[dict] | None = None) -> dict:
    """Field accuracy (all fields; only fields whose expected value is not the default), per field,
    per language, exact-match rate, latency p50/p95, and where the intents came from."""
    expected_by_id = {r["id"]: r.get("expected", {}) for r in rows or []}
    total = correct = nd_total = nd_correct = 0
    per_field: dict[str, list[int]] = {}
    per_lang: dict[str, list[int]] = {}
    sources: dict[str, int] = {}
    for res in results:
        exp = expected_by_id.get(res.id, {})
        lang = exp.get("language", "en")
        for name, ok in res.checks.items():
            total += 1
            correct += ok
            per_field.setdefault(name, [0, 0])
            per_field[name][0] += ok
            per_field[name][1] += 1
            per_lang.setdefault(lang, [0, 0])
            per_lang[lang][0] += ok
            per_lang[lang][1] += 1
            if name in exp and exp[name] != _DEFAULTS.get(name) and name != "language":
                nd_total += 1
                nd_correct += ok
        sources[res.source] = sources.get(res.source, 0) + 1
    ms = [r.ms for r in results]
    return {
        "n_messages": len(results),
        "field_accuracy": round(correct / total, 4) if total else None,
        "n_fields": total,
        "non_default_field_accuracy": round(nd_correct / nd_total, 4) if nd_total else None,
        "n_non_default_fields": nd_total,
        "exact_match": round(sum(r.exact for r in results) / len(results), 4) if results else None,
        "per_field": {k: round(v[0] / v[1], 4) for k, v in per_field.items()},
        "per_language": {k: round(v[0] / v[1], 4) for k, v in per_lang.items()},
        "latency_ms": {"p50": round(_percentile(ms, 0.5), 1), "p95": round(_percentile(ms, 0.95), 1),
                       "mean": round(sum(ms) / len(ms), 1) if ms else None},
        "sources": sources,
    }
