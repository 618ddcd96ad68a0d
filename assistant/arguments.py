"""One validator per argument of the public surface (k, text fields, user id, filters).

The Engine, the HTTP handlers (assistant/handlers.py) and the CLI commands all call these, so one
bad value is refused with one message wherever it comes in ("Expected k to be an integer between
1 and 100, got 5.9"). Each check returns the clean value or raises UserError (a ValueError: the
CLI prints it as `error: ...` with exit status 2, the app shows it as a plain-text API error).

The filter fields have their home in retrieval.search.SearchFilters; the CLI commands import this
module inside their handlers, so `shopassist --help` stays instant.
"""
from __future__ import annotations

import json
import numbers
from typing import Any

from pydantic import ValidationError

from assistant.errors import UserError
from retrieval.search import SearchFilters

MAX_K = 100             # results per request: /search, /recommend, the lab, `search` / `recommend --k`
MAX_ID_CHARS = 200      # user ids, session ids, catalog names, event ids
MAX_TEXT_CHARS = 2000   # chat messages and search queries (longer ones are refused, not truncated)


def check_k(k: Any, name: str = "k") -> int:
    """An integer in 1..MAX_K. Accepted: an int, an integral float (5.0 from a JSON client), a
    numeric string ("7" from a form or the command line). Refused: True/False, 5.9, NaN, "ten"."""
    value = k
    if isinstance(value, str):
        text = value.strip()
        for parse in (int, float):
            try:
                value = parse(text)
                break
            except ValueError:
                continue
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
    else:
        raise UserError(f"Expected {name} to be an integer between 1 and {MAX_K}, got {value!r}")
    if not 1 <= value <= MAX_K:
        raise UserError(f"Expected {name} to be an integer between 1 and {MAX_K}, got {value}")
    return value


def check_text(value: Any, name: str, *, required: bool = True, max_chars: int = MAX_ID_CHARS) -> str | None:
    """A stripped string of at most max_chars; None / blank is an error when required, else None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise UserError(f"Expected a non-empty {name}, got {value!r}")
        return None
    if not isinstance(value, str):
        raise UserError(f"Expected {name} to be a string, got {type(value).__name__}")
    value = value.strip()
    if len(value) > max_chars:
        raise UserError(f"Expected {name} of at most {max_chars} characters, got {len(value)}")
    return value


def check_user(user_id: Any, required: bool = False) -> str | None:
    """A shopper id (None / "" = anonymous unless required)."""
    return check_text(user_id, "user_id", required=required, max_chars=MAX_ID_CHARS)


FILTER_KEYS = tuple(SearchFilters.model_fields)   # the accepted filter names (SearchFilters is their home)


def check_filters(filters: Any):
    """Hard filters -> SearchFilters, or None for none ({} / "" / None).

    Accepted: a SearchFilters, a dict, or a JSON object string ('{"max_price": 20}', from HTTP)."""
    if isinstance(filters, SearchFilters):
        return None if filters.is_empty() else filters
    if filters is None or (isinstance(filters, str) and not filters.strip()):
        return None
    keys = ", ".join(FILTER_KEYS)
    if isinstance(filters, str):
        try:
            filters = json.loads(filters)
        except json.JSONDecodeError as exc:
            raise UserError(f"Expected filters to be a JSON object such as {{\"max_price\": 20}}, got malformed "
                            f"JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(filters, dict):
        raise UserError(f"Expected filters to be a JSON object with keys among {keys}, got {type(filters).__name__}")
    unknown = sorted(str(k) for k in set(filters) - set(FILTER_KEYS))
    if unknown:
        raise UserError(f"Unknown filter {', '.join(map(repr, unknown))}; accepted: {keys}")
    try:
        parsed = SearchFilters(**filters)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = str(err["loc"][0]) if err["loc"] else ""   # the field, not the union member it tried
        if not where and "error" in err.get("ctx", {}):   # a check over several fields: its own sentence
            raise UserError(str(err["ctx"]["error"])) from None
        raise UserError(f"Bad filter {where or 'value'}: {err['msg']}, got {err.get('input')!r}") from None
    return None if parsed.is_empty() else parsed
