"""The shared vocabulary of a parsed turn: `Intent`, `RuleParse`, `ParseResult` and the dialogue cues.

Both the deterministic rules (assistant/rules.py) and the rules -> LLM pipeline (assistant/intent.py)
produce and read these, so they live here, below both: neither imports the other to get them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from assistant import lexicon

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")   # Chinese characters (a message, a term)

# Dialogue cues the rules report in RuleParse.cues
CUE_CHEAPER, CUE_PRICIER, CUE_INSTEAD, CUE_MORE_LIKE, CUE_MORE = "cheaper", "pricier", "instead", "more_like", "more"
CUE_THIS, CUE_SELECT, CUE_CONSTRAINT_ONLY, CUE_GIFT = "this", "select", "constraint_only", "gift"
CUE_OFF_TOPIC = "off_topic"

ACTIONS = ("search", "refine", "compare", "ask_about_product", "recommend_for_me", "chitchat")
SORTS = ("relevance", "price_asc", "price_desc", "rating", "popularity", "newest")
Action = Literal["search", "refine", "compare", "ask_about_product", "recommend_for_me", "chitchat"]
Sort = Literal["relevance", "price_asc", "price_desc", "rating", "popularity", "newest"]

_ACTION_ALIASES = {
    "find": "search", "shop": "search", "buy": "search", "query": "search", "browse": "search",
    "refinement": "refine", "filter": "refine", "narrow": "refine", "modify": "refine",
    "comparison": "compare", "ask": "ask_about_product", "question": "ask_about_product",
    "product_question": "ask_about_product", "ask_product": "ask_about_product",
    "details": "ask_about_product", "recommend": "recommend_for_me", "recommendation": "recommend_for_me",
    "personalized": "recommend_for_me", "chat": "chitchat", "greeting": "chitchat", "smalltalk": "chitchat",
    "small_talk": "chitchat", "other": "chitchat", "none": "chitchat",
}
_SORT_ALIASES = {
    "": "relevance", "none": "relevance", "null": "relevance", "default": "relevance", "best_match": "relevance",
    "price": "price_asc", "cheapest": "price_asc", "price_low_to_high": "price_asc", "lowest_price": "price_asc",
    "price_ascending": "price_asc", "low_price": "price_asc", "most_expensive": "price_desc",
    "price_high_to_low": "price_desc", "highest_price": "price_desc", "price_descending": "price_desc",
    "best_rated": "rating", "top_rated": "rating", "highest_rated": "rating", "ratings": "rating",
    "reviews": "rating", "popular": "popularity", "most_popular": "popularity", "best_selling": "popularity",
    "bestseller": "popularity", "trending": "popularity", "new": "newest", "latest": "newest",
}
_ISO = {"USD", "EUR", "GBP", "CNY", "INR", "JPY", "CAD", "AUD"}


def _clean_str(value: Any) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    if text.lower() in ("", "none", "null", "n/a", "unknown", "any", "-"):
        return None
    return text


def _canon(value: str | None, *tables: dict[str, str]) -> str | None:
    if value is None:
        return None
    key = value.lower().strip()
    key = re.sub(r"^(?:my|our|a|an|the|for)\s+", "", key)
    key = re.sub(r"^(?:my|our|a|an|the)\s+", "", key)
    for table in tables:
        if key in table:
            return table[key]
        if value in table:
            return table[value]
    return key


class Intent(BaseModel):
    """What the shopper wants from this turn. All text is normalised (English, lowercase)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    action: Action = "search"
    # English keywords for retrieval (Chinese product words translated), without price/negations.
    search_text: str = ""
    # Product type, English, singular ("lipstick", "face cream"); a soft hint, not a catalog column.
    category: str | None = None
    brand: str | None = None
    price_min: float | None = Field(default=None, ge=0)
    price_max: float | None = Field(default=None, ge=0)
    # ISO 4217 code when the shopper named a currency ("USD", "CNY", "EUR", ...); None otherwise.
    currency: str | None = None
    # Attributes the shopper requires ("matte", "red", "paraben-free").
    must_have: list[str] = Field(default_factory=list)
    # Terms the shopper rejects ("black", "fragrance", "parabens").
    exclude: list[str] = Field(default_factory=list)
    # Brands the shopper rejects ("not from Maybelline" -> ["Maybelline"]): a hard filter.
    exclude_brand: list[str] = Field(default_factory=list)
    # "like OPI but cheaper": the brand (or product) the shopper wants alternatives to; it is not
    # required, and "cheaper" is measured against its prices.
    similar_to: str | None = None
    # Only discounted products ("on sale", "打折").
    on_sale: bool = False
    # Vague qualities the shopper does not want ("not too sweet" -> ["sweet"]): soft, re-rank only.
    avoid: list[str] = Field(default_factory=list)
    recipient: str | None = None   # "wife", "mother", "men" ...; None = the shopper
    occasion: str | None = None    # "birthday", "christmas", "travel" ...
    sort: Sort = "relevance"
    # 1-based positions of products shown in the previous turn; -1 = the last one shown.
    refers_to: list[int] = Field(default_factory=list)
    language: Literal["en", "zh"] = "en"

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: Any) -> Any:
        if value is None:
            return "search"
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        return _ACTION_ALIASES.get(key, key)

    @field_validator("sort", mode="before")
    @classmethod
    def _sort(cls, value: Any) -> Any:
        if value is None:
            return "relevance"
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        return _SORT_ALIASES.get(key, key)

    @field_validator("search_text", mode="before")
    @classmethod
    def _search_text(cls, value: Any) -> str:
        return (_clean_str(value) or "").lower()

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, value: Any) -> str | None:
        return _canon(_clean_str(value), lexicon.PRODUCTS_EN, lexicon.PRODUCTS_ZH)

    @field_validator("brand", mode="before")
    @classmethod
    def _brand(cls, value: Any) -> str | None:
        text = _clean_str(value)
        if text is None:
            return None
        return lexicon.BRANDS.get(text.lower()) or lexicon.BRANDS_ZH.get(text) or text

    @field_validator("recipient", mode="before")
    @classmethod
    def _recipient(cls, value: Any) -> str | None:
        text = _clean_str(value)
        if text is None or text.lower() in ("me", "myself", "self", "i", "user", "shopper"):
            return None
        return _canon(text, lexicon.RECIPIENTS_EN, lexicon.RECIPIENTS_ZH)

    @field_validator("occasion", mode="before")
    @classmethod
    def _occasion(cls, value: Any) -> str | None:
        return _canon(_clean_str(value), lexicon.OCCASIONS_EN, lexicon.OCCASIONS_ZH)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> str | None:
        text = _clean_str(value)
        if text is None:
            return None
        code = lexicon.CURRENCIES.get(text.lower(), lexicon.CURRENCIES.get(text, text.upper()))
        return code if code in _ISO else None

    @field_validator("price_min", "price_max", mode="before")
    @classmethod
    def _price(cls, value: Any) -> Any:
        if value in (None, "", "null", "none"):
            return None
        if isinstance(value, str):
            match = re.search(r"\d+(?:\.\d+)?", value.replace(",", ""))
            if not match:
                return None
            value = float(match.group())
        if isinstance(value, (int, float)) and value < 0:
            return None
        return value

    @field_validator("exclude_brand", mode="before")
    @classmethod
    def _brands(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [v for v in re.split(r"[,;/]", value)]
        out: list[str] = []
        for item in value:
            text = _clean_str(item)
            if text is not None:
                text = lexicon.BRANDS.get(text.lower()) or lexicon.BRANDS_ZH.get(text) or text
                if text not in out:
                    out.append(text)
        return out

    @field_validator("similar_to", mode="before")
    @classmethod
    def _similar(cls, value: Any) -> str | None:
        text = _clean_str(value)
        if text is None:
            return None
        return lexicon.BRANDS.get(text.lower()) or lexicon.BRANDS_ZH.get(text) or text

    @field_validator("avoid", mode="before")
    @classmethod
    def _avoid(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        return [t.lower() for t in (_clean_str(v) for v in value) if t]

    @field_validator("must_have", "exclude", mode="before")
    @classmethod
    def _terms(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            value = [v for v in re.split(r"[,;/]|\band\b", value)]
        out: list[str] = []
        for item in value:
            text = _clean_str(item)
            if text is None:
                continue
            text = text.lower()
            text = (lexicon.COLORS_ZH.get(text) or lexicon.ATTRIBUTES_ZH.get(text)
                    or lexicon.INGREDIENTS_ZH.get(text) or text)
            if text not in out:
                out.append(text)
        return out

    @field_validator("refers_to", mode="before")
    @classmethod
    def _refers(cls, value: Any) -> list[int]:
        if value is None:
            return []
        if isinstance(value, (int, float, str)):
            value = [value]
        out: list[int] = []
        for item in value:
            try:
                pos = int(item)
            except (TypeError, ValueError):
                continue
            if (pos >= 1 or pos == -1) and pos not in out:
                out.append(pos)
        return out

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str:
        key = str(value or "en").strip().lower()
        return "zh" if key in ("zh", "cn", "zh-cn", "chinese", "中文", "zh_cn") else "en"

    @model_validator(mode="after")
    def _consistent(self) -> "Intent":
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            lo, hi = self.price_max, self.price_min
            object.__setattr__(self, "price_min", lo)
            object.__setattr__(self, "price_max", hi)
        clash = [t for t in self.must_have if t in self.exclude]
        if clash:  # an explicit "not X" wins over "X"
            object.__setattr__(self, "must_have", [t for t in self.must_have if t not in clash])
        if self.brand and self.brand.lower() in {b.lower() for b in self.exclude_brand + [self.similar_to or ""]}:
            object.__setattr__(self, "brand", None)   # "not Maybelline" / "like OPI" is no brand constraint
        return self

    # ---------------------------------------------------------------------------------------
    @classmethod
    def from_llm(cls, data: Any, language: str = "en") -> "Intent":
        """Validate an LLM's JSON object leniently: unknown keys dropped, aliases accepted."""
        if not isinstance(data, dict):
            raise ValueError(f"Expected a JSON object, got {type(data).__name__}")
        aliases = {"max_price": "price_max", "min_price": "price_min", "query": "search_text",
                   "keywords": "search_text", "attributes": "must_have", "excludes": "exclude",
                   "exclusions": "exclude", "positions": "refers_to", "product_type": "category"}
        clean = {}
        for key, value in data.items():
            key = aliases.get(key, key)
            if key in cls.model_fields and key not in clean:
                clean[key] = value
        clean["language"] = language
        return cls.model_validate(clean)

    def filters(self) -> dict:
        """The hard constraints as a plain dict (price range, brand, must_have, exclude)."""
        return {"min_price": self.price_min, "max_price": self.price_max, "brand": self.brand,
                "must_have": list(self.must_have), "exclude": list(self.exclude),
                "exclude_brand": list(self.exclude_brand)}


def intent_json_schema() -> dict:
    """A flat JSON schema for constrained decoding (simple types). Only `action` and `search_text`
    are required: the model leaves out what is null / empty / "relevance", so a reply is ~30 tokens
    instead of ~75 with every key spelt out, which on the 2-core CPU (qwen-0.5b, ~14 tokens/s) took
    the refined answer from ~7 s to under 5 s. Missing keys take the Intent defaults."""
    nullable_str = {"type": ["string", "null"]}
    nullable_num = {"type": ["number", "null"]}
    return {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "search_text": {"type": "string"},
            "category": nullable_str,
            "brand": nullable_str,
            "price_min": nullable_num,
            "price_max": nullable_num,
            "currency": nullable_str,
            "must_have": {"type": "array", "items": {"type": "string"}},
            "exclude": {"type": "array", "items": {"type": "string"}},
            "exclude_brand": {"type": "array", "items": {"type": "string"}},
            "similar_to": nullable_str,
            "recipient": nullable_str,
            "occasion": nullable_str,
            "sort": {"type": "string", "enum": list(SORTS)},
            "refers_to": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["action", "search_text"],
        "additionalProperties": False,
    }


@dataclass
class RuleParse:
    """What the rules (assistant.rules.parse_rules) made of one message."""

    intent: Intent
    confidence: float                               # 0..1
    found: set[str] = field(default_factory=set)    # Intent fields set from explicit evidence
    cues: set[str] = field(default_factory=set)     # dialogue cues (the CUE_* above)
    unknown: list[str] = field(default_factory=list)  # words nothing explained


@dataclass
class ParseResult:
    intent: Intent
    source: Literal["rules", "llm", "fallback"]   # fallback = the LLM was tried and failed / timed out
    ms: float                                     # wall time of the whole parse
    confidence: float = 1.0                       # the rules' own confidence
    error: str | None = None                      # why the LLM path fell back (for logs / benchmarks)
    llm_raw: Intent | None = field(default=None, repr=False)  # the LLM's validated intent before merging
    # the rules' parse of the same message (cues, found fields): the one parse of a turn, which
    # safety, the intent pipeline and the dialogue all read instead of parsing again
    rules: RuleParse | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {"intent": self.intent.model_dump(), "source": self.source, "ms": round(self.ms, 1),
                "confidence": round(self.confidence, 3), "error": self.error}

