"""Answers built from facts: "why" lines from real score components, a grounding validator for
LLM summaries, and product questions answered from the catalog text only.

Products are duck-typed: anything with .id/.title/.description/.price/.currency/.brand/
.attributes/.rating (a retrieval.catalog.Product, or a dict with those keys).
Scored items are duck-typed too: .item_id, .components {name: value}, .evidence {key: value},
optionally .matched_terms (a retrieval.search.Hit has them).
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from assistant import lexicon
from assistant.rules import parse_rules
from assistant.schema import CJK
from retrieval.catalog import format_price
from retrieval.lexical import stem, stem_set, tokenize

# A component contributes to "why" only at or above these values (components are in [0, 1]
# after fusion's normalisation; a missing component never produces a reason).
DEFAULT_THRESHOLDS = {"dense": 0.5, "lexical": 0.0, "cf": 0.2, "sequential": 0.2, "content": 0.2,
                      "popularity": 0.5, "price_fit": 0.5}
HISTORY_VERBS = {"purchase": "bought", "cart": "put in your cart", "click": "looked at",
                 "view": "looked at", "rating": "rated", "search": "searched for"}
HISTORY_VERBS_ZH = {"purchase": "买过", "cart": "加入过购物车", "click": "看过", "view": "看过",
                    "rating": "评价过", "search": "搜索过"}
_STOP = set("a an the and or for with of to in on at by from my me i is are be it this that some any "
            "gift set new".split())


def _get(obj: Any, name: str, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _lookup(catalog: Any, item_id: str | None):
    """catalog.get(id) (retrieval Catalog), a dict id -> product, or a list of products."""
    if catalog is None or item_id is None:
        return None
    try:
        if isinstance(catalog, dict):
            return catalog.get(item_id)
        if isinstance(catalog, (list, tuple)):
            return next((p for p in catalog if str(_get(p, "id")) == str(item_id)), None)
        return catalog.get(item_id)
    except (KeyError, IndexError, LookupError):
        return None


def _short_title(title: str, n: int = 60) -> str:
    title = re.sub(r"\s+", " ", str(title or "")).strip()
    return title if len(title) <= n else title[: n - 1].rsplit(" ", 1)[0] + "…"


def product_text(product: Any) -> str:
    """All catalog text of a product: title, brand, description, attribute keys and values."""
    parts = [_get(product, "title", ""), _get(product, "brand", "") or "", _get(product, "category", "") or "",
             _get(product, "description", "") or ""]
    attributes = _get(product, "attributes", {}) or {}
    parts += [f"{k}: {v}" for k, v in attributes.items()]
    return "\n".join(str(p) for p in parts if p)


def matched_terms(item: Any, product: Any = None, intent: Any = None) -> list[str]:
    """Query terms that really occur in the product: the searcher's own list when it has one,
    otherwise the intent's search words found in the product's catalog text."""
    terms = _get(item, "matched_terms")
    if not terms:
        evidence = _get(item, "evidence", {}) or {}
        raw = evidence.get("matched_terms")
        terms = [t.strip() for t in raw.split(",")] if isinstance(raw, str) else raw
    if terms:   # one Latin letter ("l" of "L'Oreal") says nothing to a shopper
        return [t for t in dict.fromkeys(str(t) for t in terms) if t and (len(t) > 1 or not t.isascii())]
    if product is None or intent is None:
        return []
    text_stems = stem_set(product_text(product))
    query = _get(intent, "search_text", "") or ""
    out = []
    for w in tokenize(query):
        if w not in _STOP and len(w) > 2 and stem(w) in text_stems and w not in out:
            out.append(w)
    return out


def why(item: Any, catalog: Any = None, intent: Any = None, *, max_reasons: int = 3,
        thresholds: dict | None = None, language: str | None = None) -> str:
    """One line saying why this product is shown, from its score components and evidence only.

    "matches 'matte', 'lipstick'; you bought Maybelline Super Stay; popular with shoppers".
    Returns "" when no component is strong enough to be worth saying.
    """
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    zh = (language or _get(intent, "language", "en")) == "zh"
    components: dict = dict(_get(item, "components", {}) or {})
    evidence: dict = dict(_get(item, "evidence", {}) or {})
    product = _lookup(catalog, _get(item, "item_id") or _get(item, "id"))
    reasons: list[tuple[float, str]] = []   # (strength, text); the query match always first

    terms = matched_terms(item, product, intent)
    if terms and (components.get("lexical", 0) > th["lexical"] or components.get("dense", 0) >= th["dense"]
                  or not components):
        quoted = ", ".join(f"“{t}”" if zh else f"'{t}'" for t in terms[:4])
        reasons.append((9.0, f"匹配 {quoted}" if zh else f"matches {quoted}"))
    elif components.get("dense", 0) >= th["dense"]:
        reasons.append((components["dense"], "与你的描述很接近" if zh else "close to what you described"))

    history_item = evidence.get("history_item")
    if history_item:
        title = _short_title(_get(_lookup(catalog, history_item), "title", "") or "")
        kind = evidence.get("history_type", "purchase")
        if title:
            verb = (HISTORY_VERBS_ZH if zh else HISTORY_VERBS).get(kind, HISTORY_VERBS["view"])
            strength = max(components.get(k, 0) for k in ("content", "sequential", "cf")) if components else 1.0
            reasons.append((strength + 1.0, f"你{verb}{title}" if zh else f"you {verb} {title}"))
    co_bought = evidence.get("co_bought")
    if co_bought:
        title = _short_title(_get(_lookup(catalog, co_bought), "title", "") or "")
        if title:
            reasons.append((components.get("cf", 0.5) + 0.5,
                            f"常与{title}一起购买" if zh else f"often bought with {title}"))

    labels = {
        "cf": ("和你口味相近的顾客买了它", "shoppers with similar taste bought it"),
        "sequential": ("符合你最近的购物节奏", "fits what you've been shopping for lately"),
        "content": ("和你喜欢的商品相似", "similar to things you liked"),
        "popularity": ("很受顾客欢迎", "popular with shoppers"),
    }
    for key, (text_zh, text_en) in labels.items():
        value = components.get(key)
        if value is None or value < th[key] or value <= 0:
            continue
        if key == "content" and history_item:
            continue   # already said more precisely
        reasons.append((value, text_zh if zh else text_en))

    price = _get(product, "price")
    budget = _get(intent, "price_max")
    if components.get("price_fit", 0) >= th["price_fit"] and price is not None:
        currency = _get(product, "currency") or _get(intent, "currency")
        if budget is not None and price <= budget:
            text = (f"{format_price(price, currency)}，在你的预算 {format_price(budget, currency)} 以内" if zh
                    else f"{format_price(price, currency)}, within your {format_price(budget, currency)} budget")
        else:
            text = f"价格合适（{format_price(price, currency)}）" if zh else f"fits your price range ({format_price(price, currency)})"
        reasons.append((components["price_fit"], text))

    rating = _get(product, "rating")
    if isinstance(rating, (int, float)) and rating >= 4.5 and _get(intent, "sort") == "rating":
        reasons.append((0.6, f"评分 {rating:.1f}/5" if zh else f"rated {rating:.1f}/5"))

    reasons.sort(key=lambda r: -r[0])
    seen, lines = set(), []
    for _, text in reasons:
        if text not in seen:
            seen.add(text)
            lines.append(text)
    return ("；" if zh else "; ").join(lines[:max_reasons])


# ---------------------------------------------------------------------------------------------
# Grounding: an LLM summary may only cite the products that were shown.
@dataclass
class GroundingReport:
    text: str                                      # the summary with unsupported sentences removed
    removed: list[str] = field(default_factory=list)   # the sentences dropped
    reasons: list[str] = field(default_factory=list)   # why each was dropped

    @property
    def ok(self) -> bool:
        return not self.removed


_PRICE_RE = re.compile(r"(?:(?P<sym>[$€£¥￥₹])\s?(?P<a>\d[\d,]*(?:\.\d+)?)|(?P<b>\d[\d,]*(?:\.\d+)?)\s?"
                       r"(?P<word>dollars?|bucks|usd|euros?|eur|pounds?|gbp|yuan|rmb|cny|元|块|rupees?|inr|yen))",
                       re.I)
_SENTENCE_RE = re.compile(r"(?:[^.!?。！？\n]|\.(?=\d))+[.!?。！？]*\s*|\n")
_QUOTED_RE = re.compile(r"[\"“”「」『』]([^\"“”「」『』]{3,120})[\"“”「」『』]|\*\*([^*]{3,120})\*\*")
_CAPITALISED_RE = re.compile(r"\b(?:[A-Z][\w'&.-]*|\d+[\w-]*)(?:\s+(?:[A-Z][\w'&.-]*|\d+[\w-]*|&|of|de|the)){1,8}")
_COMMON_CAPS = {"Here", "These", "This", "The", "All", "Both", "If", "For", "You", "Your", "I", "It",
                "They", "We", "Our", "Each", "Some", "Any", "My", "Also", "And", "Or", "But", "Option",
                "First", "Second", "Third", "Last", "Finally", "Note", "Please", "Hope", "Enjoy"}


def _norm_tokens(text: str) -> set[str]:
    return {stem(w) for w in tokenize(text) if len(w) > 1}


def _supported_span(span: str, allowed_tokens: list[set[str]]) -> bool:
    tokens = {t for t in _norm_tokens(span) if t not in _STOP}
    if not tokens:
        return True
    best = max((len(tokens & allowed) / len(tokens) for allowed in allowed_tokens), default=0.0)
    return best >= 0.6


def ground_report(summary: str, products: Sequence, *, catalog_titles: Iterable[str] | None = None,
                  brands: Iterable[str] | None = None) -> GroundingReport:
    """Drop every sentence of `summary` that names a product or a price that is not one of
    `products` (the ones shown this turn).

    Detected as product names: quoted or **bold** spans, runs of Capitalised Words, known
    brands (the built-in list plus `brands`), and any title from `catalog_titles` (the whole
    catalog, when the caller has it). Detected as prices: amounts with a currency sign or word.
    """
    shown_tokens = [_norm_tokens(f"{_get(p, 'title', '')} {_get(p, 'brand', '') or ''}") for p in products]
    shown_prices = [float(_get(p, "price")) for p in products if isinstance(_get(p, "price"), (int, float))]
    shown_brands = {str(_get(p, "brand")).lower() for p in products if _get(p, "brand")}
    shown_titles = {str(_get(p, "title", "")).lower() for p in products}
    brand_names = {b.lower() for b in lexicon.BRANDS} | {b.lower() for b in (brands or ())}
    titles = [t for t in (catalog_titles or ()) if t and len(t) >= 8 and t.lower() not in shown_titles]
    kept, removed, reasons = [], [], []
    for sentence in _SENTENCE_RE.findall(summary or ""):
        problem = None
        for m in _PRICE_RE.finditer(sentence):
            value = float((m.group("a") or m.group("b")).replace(",", ""))
            if not any(abs(value - p) < 0.01 for p in shown_prices):
                problem = f"price {m.group().strip()} is not the price of a shown product"
                break
        if problem is None:
            low = sentence.lower()
            for title in titles:
                if title.lower() in low:
                    problem = f"names {title!r}, which was not shown"
                    break
        if problem is None:
            spans = [g for m in _QUOTED_RE.finditer(sentence) for g in m.groups() if g]
            spans += [m.group() for m in _CAPITALISED_RE.finditer(sentence)
                      if m.group().split()[0] not in _COMMON_CAPS or len(m.group().split()) > 2]
            for span in spans:
                if not _supported_span(span, shown_tokens):
                    problem = f"names {span.strip()!r}, which is not a shown product"
                    break
        if problem is None:
            for brand in brand_names:
                if re.search(rf"(?<![\w]){re.escape(brand)}(?![\w])", sentence.lower()) and \
                        brand not in shown_brands and not any(brand in t for t in shown_titles):
                    problem = f"names the brand {brand!r}, which no shown product has"
                    break
        if problem:
            removed.append(sentence.strip())
            reasons.append(problem)
        else:
            kept.append(sentence)
    text = re.sub(r"[ \t]+\n", "\n", "".join(kept)).strip()
    return GroundingReport(text=text, removed=removed, reasons=reasons)


def summarize(intent: Any, products: Sequence) -> str:
    """A short reply line for the products shown, built from the intent (no free text)."""
    zh = _get(intent, "language", "en") == "zh"
    n = len(products)
    if n == 0:
        return ("没有找到符合条件的商品。可以放宽价格或换个说法试试。" if zh
                else "I couldn't find products matching that. Try a wider price range or other words.")
    what = _get(intent, "search_text", "") or _get(intent, "category", "") or ("products" if not zh else "商品")
    constraints = []
    lo, hi, cur = _get(intent, "price_min"), _get(intent, "price_max"), _get(intent, "currency")
    if hi is not None and lo is not None:
        constraints.append(f"{format_price(lo, cur)}–{format_price(hi, cur)}")
    elif hi is not None:
        constraints.append(("不超过 " if zh else "under ") + format_price(hi, cur))
    elif lo is not None:
        constraints.append(("高于 " if zh else "over ") + format_price(lo, cur))
    excl = _get(intent, "exclude", []) or []
    if excl:
        constraints.append(("不含 " if zh else "without ") + ", ".join(excl))
    recipient = _get(intent, "recipient")
    if recipient:
        constraints.append(("送给 " if zh else "for your ") + recipient)
    detail = f" ({'; '.join(constraints)})" if constraints else ""
    return (f"为你找到 {n} 件{what}{detail}：" if zh else f"Here {'is' if n == 1 else 'are'} {n} "
            f"{'match' if n == 1 else 'matches'} for {what}{detail}:")


# ---------------------------------------------------------------------------------------------
# Product questions, answered from the catalog text only
_QUESTION_FILLER = re.compile(
    r"\b(?:is|are|does|do|did|can|could|will|would|has|have|it|its|it's|this|that|they|them|the|a|an|one|"
    r"first|second|third|fourth|fifth|last|product|item|option|number|\d+(?:st|nd|rd|th)?|tell|me|about|please|"
    r"really|actually|also|still|contain|contains|containing|have|any|made|with|of|come|comes|in|for|good|"
    r"suitable|ok|okay|safe|what|which|how|much|know|you|do|there|i|my|use|be|and|or|so|then|now|no|number)\b|[#?？!！.,，。]|"
    r"第[一二三四五六七八九十\d]+(?:个|款|件|种)?|这个|那个|这款|那款|最后一个|怎么样|如何|呢|吗|吧|的", re.I)
_SYNONYMS = {
    "waterproof": ["waterproof", "water-proof", "water resistant", "water-resistant", "sweatproof", "防水"],
    "vegan": ["vegan", "plant-based", "纯素"],
    "cruelty-free": ["cruelty-free", "cruelty free", "not tested on animals", "leaping bunny"],
    "fragrance": ["fragrance", "perfume", "scent", "parfum", "香"],
    "fragrance-free": ["fragrance-free", "fragrance free", "unscented", "无香"],
    "parabens": ["paraben", "parabens"], "paraben-free": ["paraben-free", "paraben free", "no parabens"],
    "sulfates": ["sulfate", "sulfates", "sulphate", "sls"], "alcohol": ["alcohol", "ethanol", "酒精"],
    "long-lasting": ["long-lasting", "long lasting", "long-wear", "long wear", "all day", "24 hour", "24-hour", "持久"],
    "matte": ["matte", "matt", "哑光"], "organic": ["organic", "有机"],
    "sensitive skin": ["sensitive skin", "sensitive", "敏感"], "spf": ["spf", "sunscreen", "sun protection", "防晒"],
    "gluten": ["gluten"], "hypoallergenic": ["hypoallergenic", "低敏"],
}
_NEGATED = re.compile(r"\b(?:not|no|non|without|isn't|isnt|is not|free of|free from)\b[\w\s-]{0,12}$", re.I)
_FIELD_QUESTIONS = [
    (re.compile(r"how much|price|cost|多少钱|价格|价钱", re.I), "price"),
    (re.compile(r"\bbrand\b|who makes|made by|品牌|牌子", re.I), "brand"),
    (re.compile(r"\brating\b|rated|stars|reviews?|评分|评价", re.I), "rating"),
]


@dataclass
class Answer:
    text: str
    found: bool                 # the catalog says something about it
    evidence: str | None = None  # the catalog sentence the answer rests on
    topic: str | None = None


def _question_topic(question: str, parsed: Any = None) -> str:
    """What the question asks about: its first attribute (from `parsed`, the turn's intent, when the
    caller has it; else the rules parse the question), or its words without the filler."""
    parsed = parsed if parsed is not None else parse_rules(question).intent
    candidates = parsed.must_have + parsed.exclude
    if candidates:
        return candidates[0]
    rest = _QUESTION_FILLER.sub(" ", question.lower())
    rest = re.sub(r"\s+", " ", rest).strip()
    return rest


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?。！？])\s+|\n+|;\s+|•", text) if s.strip()]


def answer_question(question: str, product: Any, *, language: str | None = None,
                    intent: Any = None) -> Answer:
    """Answer a question about one shown product from its catalog text only.

    Finds the asked-about term (and its synonyms) in the title, description and attributes and
    quotes the catalog sentence; says plainly when the catalog does not say. `intent`: the turn's
    parsed intent (its attributes name the topic), so the question is not parsed a second time.
    """
    zh = (language or ("zh" if CJK.search(question or "") else "en")) == "zh"
    title = _short_title(_get(product, "title", "this product"), 80)
    for pattern, field_name in _FIELD_QUESTIONS:
        if pattern.search(question or ""):
            value = _get(product, field_name)
            if value in (None, ""):
                break
            if field_name == "price":
                value = format_price(float(value), _get(product, "currency"))
            if field_name == "rating":
                value = f"{float(value):.1f}/5"
            label = {"price": ("价格", "price"), "brand": ("品牌", "brand"), "rating": ("评分", "rating")}[field_name]
            text = f"{title} 的{label[0]}是 {value}。" if zh else f"The {label[1]} of {title} is {value}."
            return Answer(text, True, f"{field_name}: {value}", field_name)

    topic = _question_topic(question or "", intent)
    catalog = product_text(product)
    if topic:
        needles = _SYNONYMS.get(topic, [topic])
        if topic.endswith("-free"):
            needles = needles + _SYNONYMS.get(topic[:-5], [])
        for sentence in _sentences(catalog):
            low = sentence.lower()
            for needle in needles:
                idx = low.find(needle.lower())
                if idx < 0:
                    continue
                quote = _short_title(sentence, 200)
                negated = bool(_NEGATED.search(low[:idx]))
                if zh:
                    text = f"关于{title}，商品资料里写着：“{quote}”"
                else:
                    lead = f"About {title}, the catalog says" + (" (note the negation)" if negated else "")
                    text = f"{lead}: \"{quote}\""
                return Answer(text, True, quote, topic)
    about = topic or ("这个问题" if zh else "that")
    text = (f"商品资料没有提到{title}是否{about}。" if zh
            else f"The catalog doesn't say whether {title} is {about}." if topic and len(topic.split()) <= 3
            else f"The catalog doesn't say anything about {about} for {title}.")
    return Answer(text, False, None, topic or None)


# ---------------------------------------------------------------------------------------------
# "Tell me more about the second one", "what sizes does it come in", "compare the first two":
# the product's own facts, from its catalog fields and text only.
_GENERAL_QUESTION = re.compile(
    r"\b(?:tell|show)\s+me\s+(?:more|about|everything)|\bmore\s+(?:about|on|info|information|details?)\b|"
    r"\b(?:details?|describe|description|overview|specs?|specifications?|info|information)\b|"
    r"\bwhat\s+(?:is|'s|are)\s+(?:it|this|that|they|the\s+\w+\s+one)\s*\??$|\bwhat\s+do\s+you\s+know\b|"
    r"介绍|详细|详情|更多信息|说说|讲讲|是什么", re.I)
_SIZE_QUESTION = re.compile(r"\bsizes?\b|\bcome\s+in\b|\bbigger\b|\bsmaller\b|\bpack(?:s|\s+of)?\b|"
                            r"\bvolume\b|\bounces?\b|\boz\b|\bml\b|规格|尺寸|容量|大小", re.I)
_DESCRIPTION_CHARS = 320


def is_general_question(question: str) -> bool:
    """'tell me more about it', 'details?', '介绍一下': the shopper wants the product's facts."""
    return bool(_GENERAL_QUESTION.search(question or ""))


def is_size_question(question: str) -> bool:
    return bool(_SIZE_QUESTION.search(question or ""))


def _facts(product: Any, zh: bool) -> list[tuple[str, str]]:
    """(label, value) for the fields this product has: price, brand, type, rating, attributes."""
    out = []
    price = _get(product, "price")
    if isinstance(price, (int, float)):
        out.append(("价格" if zh else "price", format_price(float(price), _get(product, "currency"))))
    if _get(product, "brand"):
        out.append(("品牌" if zh else "brand", str(_get(product, "brand"))))
    if _get(product, "category"):
        out.append(("类型" if zh else "type", str(_get(product, "category"))))
    rating = _get(product, "rating")
    if isinstance(rating, (int, float)):
        out.append(("评分" if zh else "rating", f"{float(rating):.1f}/5"))
    for key, value in list((_get(product, "attributes", {}) or {}).items())[:5]:
        if value not in (None, "", [], {}):
            out.append((str(key), str(value)))
    return out


def _variant_line(variants: Sequence, zh: bool) -> str:
    items = []
    for v in variants[:6]:
        price = _get(v, "price")
        cost = f" ({format_price(float(price), _get(v, 'currency'))})" if isinstance(price, (int, float)) else ""
        items.append(f"{_short_title(_get(v, 'title', ''), 70)}{cost}")
    more = len(variants) - len(items)
    tail = (f"，另有 {more} 种" if zh else f", and {more} more") if more > 0 else ""
    return ("其他规格：" if zh else "Also available as: ") + "; ".join(items) + tail


def describe_product(product: Any, variants: Sequence = (), *, language: str = "en") -> str:
    """The product's facts: title, price, brand, type, rating, attributes, the catalog text and
    its other sizes. Only what the catalog has; a missing field is left out, not guessed."""
    zh = language == "zh"
    lines = [_short_title(_get(product, "title", ""), 120)]
    facts = _facts(product, zh)
    if facts:
        lines.append(("；" if zh else "; ").join(f"{k}: {v}" for k, v in facts))
    text = re.sub(r"\s+", " ", str(_get(product, "description", "") or "")).strip()
    if text:
        quote = text if len(text) <= _DESCRIPTION_CHARS else text[:_DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
        lines.append(f"商品资料：“{quote}”" if zh else f"The catalog says: \"{quote}\"")
    else:
        lines.append("商品资料除标题外没有更多描述。" if zh else "The catalog has no description beyond the title.")
    if variants:
        lines.append(_variant_line(variants, zh))
    return "\n".join(lines)


def answer_sizes(product: Any, variants: Sequence = (), *, language: str = "en") -> str:
    zh = language == "zh"
    title = _short_title(_get(product, "title", ""), 80)
    if not variants:
        return (f"目录里{title}只有这一种规格。" if zh else f"The catalog lists {title} in this one size only.")
    return f"{title}\n{_variant_line(variants, zh)}"


def answer_about(question: str, product: Any, variants: Sequence = (), *, language: str = "en",
                 intent: Any = None) -> str:
    """A question about one shown product: its facts ('tell me more'), its sizes, or one
    attribute answered from the fields and text (`answer_question`: says so when the catalog
    does not say)."""
    if is_general_question(question) and not _question_topic_is_attribute(question, intent):
        return describe_product(product, variants, language=language)
    if not _question_topic(question or "", intent) and not is_size_question(question):
        # a bare reference ("the second one", "#2?", "第二个怎么样"): what the product is
        return describe_product(product, variants, language=language)
    if is_size_question(question):
        return answer_sizes(product, variants, language=language)
    return answer_question(question, product, language=language, intent=intent).text


def _question_topic_is_attribute(question: str, intent: Any = None) -> bool:
    """'tell me whether it is waterproof': a general phrasing around a real attribute (read from
    the turn's intent when there is one: the message is not parsed again)."""
    parsed = intent if intent is not None else parse_rules(question).intent
    return bool(parsed.must_have or parsed.exclude)


def compare_products(question: str, products: Sequence, variants: Sequence[Sequence] = (), *,
                     positions: Sequence[int] = (), language: str = "en") -> str:
    """A side-by-side of two or three shown products: one line per field, ' | ' between them,
    plus the asked-about attribute when the question names one, and which is cheaper."""
    zh = language == "zh"
    positions = list(positions) or list(range(1, len(products) + 1))
    variants = list(variants) or [()] * len(products)
    head = [f"{pos}. {_short_title(_get(p, 'title', ''), 50)}" for pos, p in zip(positions, products)]
    lines = [(" 对比 " if zh else " vs ").join(head)]
    none = "—"
    rows = []
    labels = {}
    per_product = [dict(_facts(p, zh)) for p in products]
    for facts in per_product:
        for key in facts:
            labels.setdefault(key, None)
    for key in labels:
        rows.append((key, [facts.get(key, none) for facts in per_product]))
    rows.append(("规格" if zh else "sizes", [str(1 + len(v)) for v in variants]))
    topic = _question_topic(question) if (question and not is_general_question(question)) else ""
    if topic and topic not in ("compare", "difference", "between", "two", "both", "them"):
        answers = [answer_question(question, p, language=language) for p in products]
        rows.append((topic, [(_short_title(a.evidence or "", 60) if a.found else
                              ("资料未说明" if zh else "not stated")) for a in answers]))
    for key, values in rows:
        lines.append(f"{key}: " + " | ".join(values))
    prices = [_get(p, "price") for p in products]
    if all(isinstance(x, (int, float)) for x in prices) and len(set(prices)) > 1:
        cheapest = positions[min(range(len(prices)), key=lambda i: prices[i])]
        word = "cheaper" if len(prices) == 2 else "cheapest"
        lines.append(f"第 {cheapest} 个更便宜。" if zh else f"Number {cheapest} is the {word} one.")
    return "\n".join(lines)
