r"""The shopper's intent: a validated structure, and the pipeline that fills it.

    rules (fast, deterministic) --confident--> done
          \--not confident--> LLM (JSON, schema-constrained where the backend can) -> validate
                              -> one repair attempt -> merge with the rules, checked against the
                              message -> done;  any failure / timeout / no LLM -> the rules' parse

The shopper never sees an exception from here: `parse_intent` always returns a ParseResult.
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any, Sequence

from pydantic import ValidationError

from assistant import lexicon
from assistant.jsontext import object_end
from assistant.prompts import load_prompt
from assistant.rules import STOPWORDS_EN, parse_rules, price_numbers
from assistant.schema import CJK, CUE_CONSTRAINT_ONLY, Intent, ParseResult, RuleParse, intent_json_schema

log = logging.getLogger(__name__)


DEFAULT_MIN_CONFIDENCE = 0.85   # the rules alone answer when at least this confident
FACET_PROMPT_VALUES = 25        # values per facet shown to the LLM
INTENT_MAX_TOKENS = 200


class LLMTimeout(TimeoutError):
    pass


def _call_with_budget(fn, timeout_s: float):
    """Run fn() in a daemon thread; raise LLMTimeout when it takes longer than timeout_s.

    A model call cannot be interrupted safely; the thread finishes in the background and the
    backend's own lock makes the next call wait for it (that wait counts against its budget).
    """
    box: dict = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="shopassist-llm", daemon=True)
    thread.start()
    thread.join(max(timeout_s, 0.0))
    if thread.is_alive():
        raise LLMTimeout(f"LLM took longer than its budget of {timeout_s * 1000:.0f} ms")
    if "error" in box:
        raise box["error"]
    return box["value"]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def extract_json(text: str) -> Any:
    """The first JSON object in an LLM reply (code fences and chatter around it tolerated)."""
    if text is None:
        raise ValueError("Expected a JSON object, got no text")
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    start = text.find("{")
    if start < 0:
        raise ValueError(f"Expected a JSON object, got {text[:80]!r}")
    end = object_end(text)
    if end is not None:
        return json.loads(text[start:end])
    raise ValueError(f"Expected a complete JSON object, got {text[start:start + 80]!r}...")


def _history_text(history: Sequence | None, limit: int = 4) -> str:
    if not history:
        return ""
    lines = []
    for turn in list(history)[-limit:]:
        if isinstance(turn, dict):
            role, content = turn.get("role", "user"), turn.get("content", "")
        elif isinstance(turn, (tuple, list)) and len(turn) == 2:
            role, content = turn
        else:
            role, content = "user", str(turn)
        lines.append(f"{role}: {str(content)[:300]}")
    return "Earlier in this conversation:\n" + "\n".join(lines) + "\n\n"


def _grounding_text(facets: dict | None, rules=None) -> str:
    """Short lists of what this catalog has (brands, product types, colours, audiences) and the
    quick parser's reading, so the LLM maps the message onto the catalog's own values."""
    lines = []
    for key, label in (("brands", "Brands in this shop"), ("types", "Product types in this shop"),
                       ("colours", "Colours"), ("audiences", "Audiences")):
        values = list((facets or {}).get(key) or [])[:FACET_PROMPT_VALUES]
        if values:
            lines.append(f"{label}: {', '.join(values)}")
    if rules is not None:
        reading = {k: v for k, v in rules.intent.model_dump().items() if v not in (None, [], "", False, "relevance", "en")}
        lines.append(f"The quick parser read: {json.dumps(reading, ensure_ascii=False)}"
                     + (f"; it could not place: {', '.join(rules.unknown)}" if rules.unknown else ""))
    return ("\n".join(lines) + "\n\n") if lines else ""


def build_messages(message: str, history: Sequence | None = None, facets: dict | None = None,
                   rules=None) -> list[dict]:
    return [
        {"role": "system", "content": load_prompt("intent_system").render()},
        {"role": "user", "content": load_prompt("intent_user").render(
            context=_history_text(history), grounding=_grounding_text(facets, rules), message=message)},
    ]


def llm_intent(message: str, llm, *, history: Sequence | None = None, timeout_s: float = 20.0,
               language: str = "en", facets: dict | None = None, rules=None) -> Intent:
    """Ask the LLM for an Intent: schema-constrained JSON, validated, one repair attempt.

    Raises (LLMTimeout, ValueError, ValidationError, or the backend's error) when it fails.
    """
    deadline = time.monotonic() + timeout_s
    schema = intent_json_schema()
    messages = build_messages(message, history, facets, rules)
    text = _call_with_budget(
        lambda: llm.complete(messages, json_schema=schema, max_tokens=INTENT_MAX_TOKENS), timeout_s)
    try:
        return Intent.from_llm(extract_json(text), language=language)
    except (ValueError, ValidationError) as first:
        error = _short_error(first)
        log.info("LLM intent invalid (%s); one repair attempt", error)
        repair = messages + [
            {"role": "assistant", "content": str(text)[:1500]},
            {"role": "user", "content": load_prompt("intent_repair").render(error=error)},
        ]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMTimeout("no budget left for the repair attempt") from first
        text = _call_with_budget(
            lambda: llm.complete(repair, json_schema=schema, max_tokens=INTENT_MAX_TOKENS), remaining)
        return Intent.from_llm(extract_json(text), language=language)


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]]
        return "; ".join(parts)
    return str(exc)[:300]


def parse_intent(message: str, llm=None, budget_ms: float = 20000, history: Sequence | None = None, *,
                 min_confidence: float = DEFAULT_MIN_CONFIDENCE, force_llm: bool = False,
                 brands: Sequence[str] | None = None, rules: RuleParse | None = None,
                 facets: dict | None = None) -> ParseResult:
    """Rules first; the LLM only when the rules are not confident (or force_llm). Never raises.

    `llm` is any object with `complete(messages, *, json_schema=None, max_tokens=...)`, or None.
    `budget_ms` bounds the LLM (including the repair attempt); past it the rules' parse is used.
    `rules`: the rules' parse of this same message when the caller has it (safety.check made it),
    so the turn is parsed once; else the rules parse it here (with `brands`).
    `facets`: short lists of the catalog's values ({"brands": [...], "types": [...], "colours": [...],
    "audiences": [...]}) shown to the LLM with the rules' reading.
    """
    started = time.perf_counter()
    if rules is None:
        rules = parse_rules(message, brands=brands)

    def done(intent: Intent, source: str, error: str | None = None, raw: Intent | None = None) -> ParseResult:
        return ParseResult(intent=intent, source=source, ms=(time.perf_counter() - started) * 1000,
                           confidence=rules.confidence, error=error, llm_raw=raw, rules=rules)

    if llm is None or (rules.confidence >= min_confidence and not force_llm):
        return done(rules.intent, "rules")
    try:
        raw = llm_intent(message, llm, history=history, timeout_s=budget_ms / 1000.0,
                         language=rules.intent.language, facets=facets, rules=rules)
        return done(merge(rules, raw, message), "llm", raw=raw)
    except Exception as exc:  # noqa: BLE001 - the shopper never sees an exception from parsing
        log.warning("LLM intent parse failed, using the rules: %s", _short_error(exc))
        return done(rules.intent, "fallback", error=f"{type(exc).__name__}: {_short_error(exc)}")


# ---------------------------------------------------------------------------------------------
# Merging: the rules win where they found explicit evidence; an LLM value is accepted only when
# it is of the right kind (a known occasion, an attribute rather than a product name ...) and the
# message supports it, so a small model cannot invent a price, brand, exclusion or occasion.
_NEG_CUE = re.compile(r"\b(?:not|no|nothing|without|avoid|except|excluding|hate|allergic|never|don'?t|doesn'?t|"
                      r"isn'?t|won'?t|other than|free of)\b|不|无|别|除了|避|没有|排除|去掉")
_SORT_CUES = {
    "price_asc": re.compile(r"cheap|afford|inexpensive|budget|low(?:est)? price|便宜|实惠|平价|性价比|低价", re.I),
    "price_desc": re.compile(r"expensive|priciest|premium|high(?:est)? price|最贵|高价", re.I),
    "rating": re.compile(r"rated|rating|review|\bbest\b|\btop\b|评分|评价|口碑|好评|最好", re.I),
    "popularity": re.compile(r"popular|best.?sell|trending|\bhot|热门|畅销|销量|人气|爆款|网红", re.I),
    "newest": re.compile(r"\bnew|latest|最新|新款|新品", re.I),
}
_OCCASIONS = set(lexicon.OCCASIONS_EN.values())
_RECIPIENTS = set(lexicon.RECIPIENTS_EN.values())
_PRODUCT_WORDS = {w for k in list(lexicon.PRODUCTS_EN) + list(lexicon.PRODUCTS_EN.values()) for w in k.split()}
_NOT_ATTRIBUTE_WORDS = _PRODUCT_WORDS | {"best", "rated", "top", "cheap", "cheapest", "popular", "gift", "gifts",
                                         "present", "birthday", "christmas", "anything", "something", "day"}
_KNOWN_ATTRIBUTES = (set(lexicon.ATTRIBUTES_EN.values()) | set(lexicon.COLORS_EN.values())
                     | set(lexicon.ATTRIBUTES_ZH.values()) | set(lexicon.COLORS_ZH.values()))


def _grounded_words(term: str, message: str) -> bool:
    """Every word of `term` (4-letter prefix) appears in the message (English messages)."""
    low = message.lower()
    words = [w for w in re.findall(r"[a-z0-9]+", term.lower()) if len(w) > 2]
    return bool(words) and all(w[:4] in low for w in words)


def _zh_surface(value: str, message: str, table: dict[str, str]) -> bool:
    """A Chinese message contains a surface form that the lexicon maps to `value`."""
    return any(v == value and k in message for k, v in table.items())


def _after_negation(term: str, message: str, window: int = 40) -> bool:
    low = message.lower()
    idx = low.find(term.lower().split()[0]) if term.strip() else -1
    if idx < 0:
        return False
    return any(m.end() <= idx <= m.end() + window for m in _NEG_CUE.finditer(low))


_PEOPLE_AND_OCCASION_WORDS = {w for k in list(lexicon.RECIPIENTS_EN) + list(lexicon.OCCASIONS_EN) for w in k.split()}


def _is_attribute(term: str, zh: bool, message: str, rules_unknown: bool) -> bool:
    """A required attribute: not negated ("no sulfates"), not a product / person / occasion / filler
    word, and supported by the message."""
    ordered = re.findall(r"[a-z]+", term.lower())
    words = set(ordered)
    if not words or CJK.search(term) or ordered[0] in ("no", "not", "without", "non", "never", "nothing"):
        return False
    if words & (_NOT_ATTRIBUTE_WORDS | _PEOPLE_AND_OCCASION_WORDS) or words <= STOPWORDS_EN:
        return False
    if zh:   # an English term cannot be matched in Chinese text: known attributes only, and only
        # when its Chinese form is there or the rules met characters they could not read
        if term not in _KNOWN_ATTRIBUTES:
            return False
        return rules_unknown or _zh_surface(term, message, {**lexicon.ATTRIBUTES_ZH, **lexicon.COLORS_ZH})
    return _grounded_words(term, message)


def merge(rules: RuleParse, raw: Intent, message: str) -> Intent:
    """Combine the rules' parse (RuleParse) with the LLM's validated Intent."""
    r = rules.intent
    zh = r.language == "zh"
    found = rules.found
    cues = rules.cues
    follow_up = bool(cues & {CUE_CONSTRAINT_ONLY, "cheaper", "pricier", "instead", "more_like", "more", "select"})
    out: dict[str, Any] = r.model_dump()

    # action: explicit cues win; otherwise the LLM's reading, kept sane
    if "action" not in found:
        action = raw.action
        if action in ("chitchat", "recommend_for_me") and (r.category or r.must_have or r.brand
                                                           or r.price_max is not None or r.price_min is not None):
            action = "search"
        if action in ("ask_about_product", "compare") and not r.refers_to and "this" not in cues:
            action = r.action if r.action != "chitchat" else "search"
        out["action"] = action
    searchy = out["action"] in ("search", "refine")

    # prices: only when the rules found none, and only numbers that can be prices (not "50ml", "SPF 50")
    if not found & {"price_min", "price_max"}:
        numbers = price_numbers(message)
        for key in ("price_min", "price_max"):
            value = getattr(raw, key)
            if value is not None and value in numbers:
                out[key] = value

    if "brand" not in found and raw.brand and searchy:
        low = message.lower()
        aliases = [k for k, v in {**lexicon.BRANDS, **lexicon.BRANDS_ZH}.items() if v == raw.brand]
        named = raw.brand in message or any(a in low for a in aliases if a.isascii()) or \
            any(a in message for a in aliases if not a.isascii())
        if named and not _after_negation(raw.brand, message):
            out["brand"] = raw.brand

    def named(brand: str) -> bool:
        low = message.lower()
        aliases = [k for k, v in {**lexicon.BRANDS, **lexicon.BRANDS_ZH}.items() if v == brand] + [brand.lower()]
        return any((a in low) if a.isascii() else (a in message) for a in aliases)

    if "exclude_brand" not in found and raw.exclude_brand and searchy:
        out["exclude_brand"] = [b for b in raw.exclude_brand if named(b) and _after_negation(b, message)]
    if "similar_to" not in found and raw.similar_to and searchy and named(raw.similar_to) \
            and re.search(r"\blike\b|similar|alternative|dupe|instead of|cheaper than|类似|像", message, re.I):
        out["similar_to"] = raw.similar_to
    if out.get("brand") and out["brand"] in out.get("exclude_brand", []) + [out.get("similar_to")]:
        out["brand"] = None
    if "exclude" not in found and raw.exclude and searchy:
        out["exclude"] = [t for t in raw.exclude if
                          (zh and t in _KNOWN_ATTRIBUTES | set(lexicon.INGREDIENTS_ZH.values()) and _NEG_CUE.search(message))
                          or (not zh and _grounded_words(t, message) and _after_negation(t, message))]

    category = out.get("category") or raw.category
    not_here = {category, r.occasion, r.recipient, (out.get("brand") or "").lower()}
    extra_must = [t for t in raw.must_have if searchy and t not in r.must_have and t not in out["exclude"]
                  and t not in not_here and _is_attribute(t, zh, message, bool(rules.unknown))]
    out["must_have"] = list(r.must_have) + extra_must

    if "sort" not in found and raw.sort != "relevance" and not follow_up and _SORT_CUES[raw.sort].search(message):
        out["sort"] = raw.sort

    if "recipient" not in found and raw.recipient in _RECIPIENTS and searchy:
        if (zh and _zh_surface(raw.recipient, message, lexicon.RECIPIENTS_ZH)) or \
                (not zh and _grounded_words(raw.recipient, message)):
            out["recipient"] = raw.recipient
    if "occasion" not in found and raw.occasion in _OCCASIONS and searchy:
        if (zh and _zh_surface(raw.occasion, message, lexicon.OCCASIONS_ZH)) or \
                (not zh and _grounded_words(raw.occasion, message)):
            out["occasion"] = raw.occasion

    # a category must be a product type (one of its words is a known product word: "squalane serum")
    llm_category_ok = bool(raw.category) and not CJK.search(raw.category) and searchy and not follow_up \
        and bool(set(raw.category.split()) & _PRODUCT_WORDS) \
        and not set(raw.category.split()) & ({"gift", "gifts", "present"} | set(_OCCASIONS) | set(_RECIPIENTS))
    # ... and, in an English message, named there: a word of it starts a word of the message
    # ("lip balm" for "dry cracked lips"). A type the shopper never named is a guess that becomes a hard
    # filter: "a blazer" -> "shirt", "ultraboost" -> "boost shoe" showed no blazer / no Ultraboost.
    if llm_category_ok and not zh:
        said = re.findall(r"[a-z0-9]+", message.lower())
        llm_category_ok = any(m.startswith(w[:4]) for w in re.findall(r"[a-z0-9]+", raw.category.lower())
                              if len(w) > 2 for m in said)
    if "category" not in found and llm_category_ok:
        out["category"] = raw.category

    # nothing to search for after all: the rules' "chitchat" stands
    if out["action"] == "search" and r.action == "chitchat" and not (
            out["category"] or out["must_have"] or out["brand"] or out["exclude"] or out["recipient"]
            or out["occasion"] or out["price_min"] is not None or out["price_max"] is not None):
        out["action"] = "chitchat"

    # search text: the rules' words (the shopper's own, in order), plus the LLM's English keywords
    # when the rules met words they did not know (translations, inferred product types)
    words = r.search_text.split()
    if rules.unknown and not follow_up and out["action"] in ("search", "refine") and raw.search_text \
            and not CJK.search(raw.search_text):
        words += [w for w in raw.search_text.split() if w not in words]
    for term in ([out["category"]] if out["category"] else []) + out["must_have"]:
        if term and term not in " ".join(words):
            words.append(term)
    if out["exclude"]:
        dropped = set(" ".join(out["exclude"]).split())
        words = [w for w in words if w not in dropped]
    out["search_text"] = " ".join(words)
    return Intent.model_validate(out)
