"""Fast deterministic intent parser (English and Chinese), with a confidence score.

It recognises prices ("under $50", "50-100元", "between 20 and 30", "不超过200元"), negations
("not black", "without parabens", "不要粉色"), "X-free", sort words ("cheapest", "评分最高"),
recipients ("for my wife", "给妈妈"), occasions, positions ("the second one", "第二个"),
dialogue cues ("cheaper", "in blue instead", "more like that") and product words from a small
built-in lexicon, translating Chinese product words to English search text.

confidence = share of the message's content words that something here explained; the intent
pipeline calls the LLM only when it is low (an unknown brand, an unusual phrasing ...).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType
from typing import Iterable, Mapping

from assistant import lexicon
from assistant.schema import (CJK, CUE_CHEAPER, CUE_CONSTRAINT_ONLY, CUE_GIFT, CUE_INSTEAD, CUE_MORE,
                              CUE_MORE_LIKE, CUE_OFF_TOPIC, CUE_PRICIER, CUE_SELECT, CUE_THIS, Intent, RuleParse)
from retrieval.normalize import Speller

HOLE = "\x00"  # consumed characters are replaced by this, so later stages skip them


# ---------------------------------------------------------------------------------------------
# Numbers
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUM_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_EN_NUMS = {"ten": 10, "fifteen": 15, "twenty": 20, "twenty-five": 25, "thirty": 30, "forty": 40,
            "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a hundred": 100,
            "one hundred": 100, "hundred": 100, "two hundred": 200, "a thousand": 1000}
_EN_NUM_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _EN_NUMS), key=len, reverse=True)) +
                        r")(?=\s*(?:dollars?|bucks?|euros?|pounds?|quid|yuan|rupees?)\b)")


def cn_to_int(text: str) -> int | None:
    """一百 -> 100, 三百五 -> 350, 两千 -> 2000, 十五 -> 15, 一千五百 -> 1500."""
    total, section, number, last_unit = 0, 0, 0, 1
    for ch in text:
        if ch in _CN_DIGITS:
            number = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + number) * unit
                section, number = 0, 0
            else:
                section += (number or 1) * unit
                number = 0
            last_unit = unit
        else:
            return None
    if number and last_unit >= 100 and text[-1] in _CN_DIGITS and len(text) >= 2 and text[-2] in _CN_UNITS:
        number *= last_unit // 10          # 三百五 = 350, 一千五 = 1500
    return total + section + number


def normalise_numbers(text: str) -> str:
    """NFKC (full-width digits) + Chinese / English number words before prices -> digits."""
    text = unicodedata.normalize("NFKC", text)

    def cn(match: re.Match) -> str:
        run = match.group()
        after = text[match.end():match.end() + 2]
        if any(u in run for u in "十百千万") or after[:1] in ("元", "块") or after.startswith(("以", "左右", "到", "至")):
            before = text[max(0, match.start() - 1):match.start()]
            if before == "第":   # 第十个 stays an ordinal
                return run
            value = cn_to_int(run)
            return str(value) if value is not None else run
        return run

    text = _CN_NUM_RUN.sub(cn, text)
    return _EN_NUM_RE.sub(lambda m: str(_EN_NUMS[m.group(1).lower()]), text)


# ---------------------------------------------------------------------------------------------
# Prices
_NUM = re.compile(r"(?<![a-z0-9.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(k\b)?", re.I)
_CUR_PRE = re.compile(r"(?:([$€£¥￥₹])|\b(usd|eur|gbp|rmb|cny|inr|rs\.?|jpy))\s*$", re.I)
_CUR_POST = re.compile(r"^\s*(dollars?|bucks?|usd|euros?|eur|pounds?|gbp|quid|yuan|rmb|cny|inr|rupees?|rs\b|"
                       r"yen|jpy|美元|美金|欧元|英镑|卢比|块钱|元|块|人民币|円|€|\$)", re.I)
_UNIT_AFTER = re.compile(r"^\s*(?:ml|l\b|oz|fl|g\b|gram|kg|lb|mg|%|pack|pk|pcs|pieces?|count|ct\b|x\b|inch|in\b|"
                         r"cm|mm|years?|yrs?|months?|days?|weeks?|hours?|hrs?|minutes?|mins?|shades?|colou?rs?|"
                         r"spf|st\b|nd\b|rd\b|th\b|毫升|克|岁|个月|天|小时|支|瓶|件|双|片|色)", re.I)
_NOT_PRICE_BEFORE = re.compile(r"(?:spf|size|#|no\.|number|option|item|第|top|pack of|set of|"
                               r"in|at|than the|step)\s*$", re.I)


@dataclass
class _Amount:
    value: float
    currency: str | None
    start: int
    end: int


def _find_amounts(text: str) -> list[_Amount]:
    amounts = []
    for m in _NUM.finditer(text):
        start, end = m.start(), m.end()
        offset = max(0, start - 24)          # only the neighbourhood matters (keeps this linear)
        before, after = text[offset:start], text[end:end + 24]
        pre = _CUR_PRE.search(before)
        post = _CUR_POST.match(after)
        currency = None
        if pre:
            currency = lexicon.CURRENCIES.get((pre.group(1) or pre.group(2)).lower())
            start = offset + pre.start()
        if post:
            currency = currency or lexicon.CURRENCIES.get(post.group(1).lower())
            end += post.end()
        if not pre and not post:
            if _UNIT_AFTER.match(after) or _NOT_PRICE_BEFORE.search(before):
                continue
            if re.match(r"^(?:st|nd|rd|th)\b", after):
                continue
        digits = m.group(1).replace(",", "")
        if len(digits) > 12:
            continue          # not a price anybody means; left as plain text
        value = float(digits + ("." + m.group(2) if m.group(2) else ""))
        if m.group(3):
            value *= 1000
        amounts.append(_Amount(value, currency, start, end))
    return amounts


def price_numbers(message: str) -> set[float]:
    """Numbers in the message that can be prices (not "50ml", "SPF 50", "the 2nd")."""
    return {a.value for a in _find_amounts(normalise_numbers(message).lower())}


A = "\x01(\\d+)\x02"   # placeholder for the i-th amount
_PRICE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("range", re.compile(rf"\bbetween\s*{A}\s*(?:and|&|-|to)\s*{A}", re.I)),
    ("range", re.compile(rf"(?:\bfrom\s*)?{A}\s*(?:-|–|—|~|to|到|至|and)\s*{A}(?:\s*之间)?", re.I)),
    ("range", re.compile(rf"在?\s*{A}\s*(?:和|与|跟)\s*{A}\s*之间", re.I)),
    ("around", re.compile(rf"(?:\baround|\babout|\bapproximately|\bapprox\.?|\broughly|\bcirca|~|大概|大约|差不多)"
                          rf"\s*(?:the\s+)?{A}", re.I)),
    ("around", re.compile(rf"{A}\s*(?:-?ish\b|or so\b|give or take|左右|上下)", re.I)),
    ("max", re.compile(rf"(?:\bunder|\bbelow|\bless than|\bcheaper than|\blower than|\bno more than|\bnot more than|"
                       rf"\bno higher than|\bnot over|\bnot above|\bnot exceeding|\bat most|\bmax(?:imum)?(?:\s*of)?|"
                       rf"\bup\s*to|\bupto|\bwithin|<=?|≤|\btops|\bbudget(?:\s+is|\s+of)?|\bspend(?:\s+up\s+to)?|"
                       rf"\bonly have|\bi have|\bafford|不超过|不高于|不到|低于|少于|最多|最高|小于|以内|预算(?:是|为|在|有)?|"
                       rf"控制在|只有|顶多|便宜于)\s*(?:a\s+|of\s+|only\s+|about\s+|around\s+)?{A}", re.I)),
    ("max", re.compile(rf"{A}\s*(?:or less|or under|or below|or cheaper|max\b|maximum|tops\b|and under|and below|"
                       rf"at most|at the most|limit|budget|以内|以下|之内|内|封顶|为限)", re.I)),
    ("min", re.compile(rf"(?:\bover|\babove|\bmore than|\bat least|\bstarting (?:at|from)|\bfrom|\bmin(?:imum)?(?:\s*of)?|"
                       rf"\bno less than|\bnot less than|\bhigher than|>=?|≥|超过|高于|至少|不低于|不少于|大于)\s*{A}", re.I)),
    ("min", re.compile(rf"{A}\s*(?:\+|or more|and up\b|and above|plus\b|or above|at least|以上|起)", re.I)),
]


def _parse_prices(text: str, out: dict, found: set) -> str:
    amounts = _find_amounts(text)
    if not amounts:
        return text
    # replace each amount by a placeholder
    pieces, pos = [], 0
    for i, a in enumerate(amounts):
        pieces.append(text[pos:a.start])
        pieces.append(f"\x01{i}\x02")
        pos = a.end
    pieces.append(text[pos:])
    marked = "".join(pieces)
    used: set[int] = set()
    currencies = [a.currency for a in amounts if a.currency]
    for kind, pattern in _PRICE_PATTERNS:
        for m in list(pattern.finditer(marked)):
            idx = [int(g) for g in m.groups() if g is not None]
            if any(i in used for i in idx):
                continue
            values = [amounts[i].value for i in idx]
            if kind == "range":
                lo, hi = sorted(values)
                if hi > 50 * max(lo, 1) and not any(amounts[i].currency for i in idx):
                    continue  # "2-300" is more likely a size than a price range
                out["price_min"], out["price_max"] = lo, hi
            elif kind == "around":
                out["price_min"], out["price_max"] = round(values[0] * 0.8, 2), round(values[0] * 1.2, 2)
            elif kind == "max":
                out["price_max"] = values[0]
            else:
                out["price_min"] = values[0]
            used.update(idx)
            found.update(k for k in ("price_min", "price_max") if out.get(k) is not None)
            marked = marked[:m.start()] + HOLE * (m.end() - m.start()) + marked[m.end():]
    # a bare amount with a currency ("a $30 perfume", "30块的口红") is a budget
    for i, a in enumerate(amounts):
        if i not in used and a.currency and "price_max" not in found:
            out["price_max"] = a.value
            found.add("price_max")
            used.add(i)
    for i in used:
        marked = marked.replace(f"\x01{i}\x02", HOLE)
    if used:
        chosen = [amounts[i].currency for i in sorted(used) if amounts[i].currency]
        if chosen or currencies:
            out["currency"] = (chosen or currencies)[0]
            found.add("currency")
    # unused amounts go back as plain numbers
    return re.sub("\x01(\\d+)\x02", lambda m: str(int(amounts[int(m.group(1))].value)), marked)


# ---------------------------------------------------------------------------------------------
# Helpers over the working text
def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + HOLE * (end - start) + text[end:]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_EN_INGREDIENTS = {
    "parabens": "parabens", "paraben": "parabens", "sulfates": "sulfates", "sulfate": "sulfates",
    "sulphates": "sulfates", "silicone": "silicone", "silicones": "silicone", "alcohol": "alcohol",
    "fragrance": "fragrance", "fragrances": "fragrance", "perfume": "fragrance", "scent": "fragrance",
    "dyes": "dyes", "dye": "dyes", "talc": "talc", "mineral oil": "mineral oil", "phthalates": "phthalates",
    "gluten": "gluten", "nuts": "nuts", "latex": "latex", "retinol": "retinol", "acids": "acids",
    "oil": "oil", "glitter": "glitter", "shimmer": "shimmer", "animal testing": "animal testing",
    "palm oil": "palm oil", "petroleum": "petroleum", "formaldehyde": "formaldehyde", "lanolin": "lanolin",
    "soy": "soy", "lead": "lead", "preservatives": "preservatives", "aluminum": "aluminum",
    "aluminium": "aluminum", "sunscreen": "sunscreen", "spf": "spf", "plastic": "plastic",
}
_NEG_EN = re.compile(
    r"\b(?:not|no|without|avoid(?:ing)?|except|excluding|exclude|minus|free of|nothing(?:\s+(?:with|containing|that has))?|"
    r"anything but|but not|"
    r"other than|rather not|never|hate|dislike|allergic to|sensitive to|not a fan of|"
    r"(?:do|does|did|should|can|would)(?:n't|n’t| not) (?:want|like|contain|have|include|use|need)|"
    r"don't|don’t|doesn't|doesn’t|won't|isn't|aren't|is not|are not)\s+(?:any\s+|anything\s+|a\s+|an\s+|the\s+)?", re.I)
_NEG_SKIP = re.compile(r"^(?:too|very|so|really|that|sure|more|less|much|matter|problem|fan|bad|cheap|expensive|"
                       r"pricey|big|bigger|higher|lower|for|a lot|mine|me|i|only|just|even|one|ones|way|longer|"
                       r"anymore|need|what|yet|in|on|at|to|of|with|this|these|it|is|are|be)\b", re.I)
_NEG_BOUNDARY = {"and", "or", "nor", "but", "under", "below", "over", "above", "for", "with", "in", "please",
                 "that", "which", "because", "since", "so", "as", "to", "i", "my", "ones", "one", "stuff",
                 "product", "products", "items", "item", "at", "on", "than", "it", "is", "are", "if",
                 "thanks", "thank", "though", "either", "pls", "plz", "just", "only", "at all", "any",
                 "either", "scented", "colored", "coloured", "color", "colour", "shade", "shades", "tones",
                 "options", "brands", "brand", "kind", "kinds", "type"}


def _parse_negations_en(text: str, out: dict, found: set) -> str:
    excludes: list[str] = []
    # "not tested on animals" -> cruelty-free
    for m in list(re.finditer(r"\b(?:not|never)\s+tested\s+on\s+animals\b", text)):
        out.setdefault("_must", []).append("cruelty-free")
        text = _blank(text, m.start(), m.end())
    for m in list(_NEG_EN.finditer(text)):
        rest = text[m.end():]
        too = re.match(r"(?:too|overly|very|that|so)\s+([a-z][a-z-]*)", rest)
        if too:   # "not too sweet": a soft preference (re-ranks), neither required nor excluded
            out.setdefault("_avoid", []).append(too.group(1))
            text = _blank(text, m.start(), m.end() + too.end())
            continue
        if _NEG_SKIP.match(rest) or not re.match(r"[a-z]", rest):
            continue
        words = re.match(r"[a-z][a-z'’-]*(?:\s+[a-z][a-z'’-]*){0,5}", rest)
        if not words:
            continue
        tokens = words.group().split()
        items: list[list[str]] = [[]]
        ends: list[int] = [0]      # characters consumed up to the end of each item
        consumed = 0
        for tok in tokens:
            if tok in ("or", "nor") or (tok == "and" and items[-1]):
                items.append([])
                ends.append(consumed)
                consumed += len(tok) + 1
                continue
            if tok in _NEG_BOUNDARY or len(items[-1]) >= 2:
                break
            items[-1].append(tok)
            consumed += len(tok) + 1
            ends[-1] = consumed
        items, ends = [it for it in items if it], [e for it, e in zip(items, ends) if it]
        # after "or"/"and" only accept terms that are clearly excludable (colours, ingredients)
        kept = []
        for n, it in enumerate(items):
            term = " ".join(it)
            if n > 0 and term not in lexicon.COLORS_EN and term not in _EN_INGREDIENTS:
                break
            kept.append(term)
        for term in kept:
            term = re.sub(r"^(?:from|by|made by|of)\s+", "", term)
            canon = lexicon.COLORS_EN.get(term) or _EN_INGREDIENTS.get(term) or \
                lexicon.ATTRIBUTES_EN.get(term) or lexicon.PRODUCTS_EN.get(term) or term
            if canon == term and canon not in _KNOWN_EXCLUDABLE:
                out.setdefault("_unplaced", []).append(term)   # excluded, but not understood
            if canon not in excludes:
                excludes.append(canon)
        # words after a dropped "or ..." item stay in the text (unknown content, not silently lost)
        span_end = m.end() + min(ends[len(kept) - 1] if kept else consumed, len(rest))
        text = _blank(text, m.start(), span_end)
    if excludes:
        out["exclude"] = excludes
        found.add("exclude")
    return text


_KNOWN_EXCLUDABLE = (set(lexicon.COLORS_EN.values()) | set(_EN_INGREDIENTS.values())
                     | set(lexicon.ATTRIBUTES_EN.values()) | set(lexicon.PRODUCTS_EN.values())
                     | {"animal", "animals", "plastic", "leather", "wool", "kids", "men", "women", "synthetic"})

_FREE_STOP = {"for", "a", "the", "is", "it's", "its", "totally", "completely", "100%", "and", "are", "be",
              "feel", "get", "comes", "come", "shipping", "of"}


def _parse_free(text: str, out: dict) -> str:
    for m in list(re.finditer(r"\b([a-z]+)[-\s]free\b", text)):
        word = m.group(1)
        if word in _FREE_STOP:
            continue
        canon = {"paraben": "paraben", "parabens": "paraben", "sulfate": "sulfate", "sulfates": "sulfate",
                 "sulphate": "sulfate", "scent": "fragrance", "perfume": "fragrance",
                 "silicones": "silicone", "toxin": "toxin", "chemical": "chemical"}.get(word, word)
        out.setdefault("_must", []).append(f"{canon}-free")
        text = _blank(text, m.start(), m.end())
    return text


_WONT = {"smudge": "smudge-proof", "budge": "long-lasting", "transfer": "transfer-proof", "fade": "long-lasting",
         "crack": "long-lasting", "flake": "long-lasting", "crease": "crease-proof", "irritate": "gentle",
         "sting": "gentle", "clog pores": "non-comedogenic", "clog my pores": "non-comedogenic",
         "break me out": "non-comedogenic", "dry out": "moisturizing", "dry my": "moisturizing",
         "run": "waterproof", "streak": "streak-free", "rub off": "transfer-proof", "melt": "long-lasting"}
_WONT_RE = re.compile(r"\b(?:that|which)?\s*(?:doesn't|does not|won't|will not|don't|do not|wouldn't|that won't|never)\s+"
                      rf"({_alternation(_WONT)})\b", re.I)


def _parse_spf_and_wont(text: str, out: dict) -> str:
    for m in list(re.finditer(r"\bspf\s*(\d{1,3})\s*\+?", text)):
        out.setdefault("_must", []).append(f"spf {m.group(1)}")
        text = _blank(text, m.start(), m.end())
    for m in list(_WONT_RE.finditer(text)):
        out.setdefault("_must", []).append(_WONT[m.group(1).lower()])
        text = _blank(text, m.start(), m.end())
    return text


_NEG_ZH = re.compile(r"(?:不要|不想要|不含|不带|不加|别要|别买|别给我|不用|避开|避免|除了|排除|去掉|不喜欢|讨厌|拒绝|"
                     r"不能有|不能含|没有|非|别)(?:任何|那种|太)?(?:含有|含|带有|带|加|有)?")
_ZH_TERMS = {**lexicon.COLORS_ZH, **lexicon.INGREDIENTS_ZH, **lexicon.ATTRIBUTES_ZH}
_ZH_TERM_RE = re.compile(_alternation(_ZH_TERMS))
_ZH_SHORT_COLOR_RE = re.compile(f"({_alternation(lexicon.COLORS_ZH_SHORT)})(?:色|的|系)")
_ZH_FREE_RE = re.compile(f"(?:无|零|0)({_alternation(lexicon.INGREDIENTS_ZH)})(?:添加)?")


_ZH_QUALITIES = {"甜": "sweet", "浓": "strong", "腻": "greasy", "油": "greasy", "重": "heavy", "艳": "bright",
                 "刺激": "harsh", "干": "drying"}


def _parse_negations_zh(text: str, out: dict, found: set, unknown: list) -> str:
    excludes: list[str] = []
    # 无X / 零X where X is an ingredient -> "x-free"
    for m in list(_ZH_FREE_RE.finditer(text)):
        if text[max(0, m.start() - 2):m.start()] == "不要" or text[max(0, m.start() - 1):m.start()] in ("别", "不"):
            continue  # 不要无X is unusual; leave to the LLM ("要无硅油" = wants silicone-free)
        out.setdefault("_must", []).append(f"{lexicon.INGREDIENTS_ZH[m.group(1)]}-free".replace("s-free", "-free"))
        text = _blank(text, m.start(), m.end())
    for m in list(re.finditer(r"无添加", text)):
        out.setdefault("_must", []).append("additive-free")
        text = _blank(text, m.start(), m.end())
    for m in list(_NEG_ZH.finditer(text)):
        after = text[m.end():m.end() + 2]
        quality = _ZH_QUALITIES.get(after[1:2] if after[:1] == "太" else (after[:1] if m.group().endswith("太") else ""))
        if quality:   # 不要太甜: a soft preference
            out.setdefault("_avoid", []).append(quality)
            text = _blank(text, m.start(), m.end() + (2 if after[:1] == "太" else 1))
            continue
        if m.group().endswith("太") or text[m.end():m.end() + 1] in ("太", "贵", "便", "超", "要"):
            continue  # 不要太贵: price sensitivity, not an exclusion
        pos = m.end()
        terms = []
        while True:
            term = _ZH_TERM_RE.match(text, pos)
            short = _ZH_SHORT_COLOR_RE.match(text, pos)
            if term:
                terms.append(_ZH_TERMS[term.group()])
                pos = term.end()
            elif short:
                terms.append(lexicon.COLORS_ZH_SHORT[short.group(1)])
                pos = short.end()
            elif text[pos:pos + 1] in lexicon.COLORS_ZH_SHORT and text[pos + 1:pos + 2] in ("", "，", ",", "。", " ", "和", "或", "也", "的"):
                terms.append(lexicon.COLORS_ZH_SHORT[text[pos]])
                pos += 1
            else:
                break
            sep = re.match(r"(?:的|色|系|成分)?(?:和|或|或者|、|跟|与|也不要|也不|,|，)?", text[pos:])
            if sep and sep.group():
                pos += len(sep.group())
            if not _ZH_TERM_RE.match(text, pos) and not _ZH_SHORT_COLOR_RE.match(text, pos) \
                    and text[pos:pos + 1] not in lexicon.COLORS_ZH_SHORT:
                break
        if not terms:
            rest = re.match(r"[\u4e00-\u9fff]{1,4}", text[pos:])
            if m.group().startswith(("不要", "不含", "不想要", "避开", "排除", "去掉", "不喜欢")) and rest:
                unknown.append(rest.group())
            continue
        for t in terms:
            if t not in excludes:
                excludes.append(t)
        text = _blank(text, m.start(), pos)
    if excludes:
        out["exclude"] = out.get("exclude", []) + [e for e in excludes if e not in out.get("exclude", [])]
        found.add("exclude")
    return text


# ---------------------------------------------------------------------------------------------
# Sort, recipients, occasions, positions, cues
_SORTS: list[tuple[str, str]] = [
    (r"\b(?:cheapest|lowest[- ]priced?|least expensive|most affordable|lowest cost|price (?:from )?low to high|"
     r"low to high|sort(?:ed)? by price|cheap(?:er)? first|budget[- ]friendly|inexpensive|affordable|cheap)\b"
     r"|最便宜|价格最低|便宜的|性价比(?:高|最高)?|平价|实惠|低价", "price_asc"),
    (r"\b(?:most expensive|priciest|highest[- ]priced?|price (?:from )?high to low|high to low)\b|最贵|价格最高",
     "price_desc"),
    (r"\b(?:best[- ]rated|top[- ]rated|highest[- ]rated|best[- ]reviewed|top[- ]reviewed|highly[- ]rated|"
     r"well[- ]reviewed|best reviews|highest rating|good reviews|great reviews|5[- ]stars?|five[- ]stars?)\b"
     r"|评分最高|评价最好|好评(?:最多|多|如潮)?|口碑(?:最好|好|不错)|评分高|分数最高", "rating"),
    (r"\b(?:most popular|best[- ]?sell(?:ing|er|ers)|top[- ]?sell(?:ing|er|ers)|trending|popular|hottest|"
     r"most bought|people love)\b|最受欢迎|最畅销|畅销|热门|爆款|卖得最好|销量最高|人气|网红|热卖", "popularity"),
    (r"\b(?:newest|latest|new arrivals?|just released|recently released|most recent)\b|最新|新款|新品|新出", "newest"),
    (r"\b(?:best|the best|top)\b|最好的|最好用", "rating"),
]
_SORT_RES = [(re.compile(p, re.I), s) for p, s in _SORTS]

_REC_EN = re.compile(
    r"\b(?:(?:gift|present|presents|gifts|something|anything|shopping|buying|shop)\s+)?for\s+(?:my\s+|our\s+|a\s+|an\s+|the\s+|"
    r"his\s+|her\s+)?(?:lovely\s+|dear\s+|little\s+|older\s+|younger\s+|new\s+|best\s+|teenage\s+)?"
    rf"({_alternation(lexicon.RECIPIENTS_EN)})\b", re.I)
_REC_POSSESSIVE = re.compile(rf"\bmy\s+({_alternation(lexicon.RECIPIENTS_EN)})(?:'s|’s|s')", re.I)
_REC_BUY = re.compile(rf"\b(?:buy|get|gift|surprise|spoil|treat)\s+(?:my\s+|our\s+)({_alternation(lexicon.RECIPIENTS_EN)})\b",
                      re.I)
_REC_MENS = re.compile(r"\b(men|women|ladies|man|woman)(?:'s|’s|s')\s", re.I)
_REC_ZH = re.compile(rf"(?:给|送给|送|帮|为|替)(?:我|咱)?(?:的|家)?({_alternation(lexicon.RECIPIENTS_ZH)})"
                     rf"|({_alternation(lexicon.RECIPIENTS_ZH)})(?:用的|的生日|的礼物|专用|适合|过生日|生日)"
                     rf"|^({_alternation([k for k in lexicon.RECIPIENTS_ZH if len(k) >= 2])})")
_OCC_EN = re.compile(rf"\b({_alternation(lexicon.OCCASIONS_EN)})\b(?!\s*(?:size|sized|kit|bag|set))", re.I)
_OCC_ZH = re.compile(_alternation(lexicon.OCCASIONS_ZH))

_ORD_EN = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
           "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "final": -1, "1st": 1, "2nd": 2, "3rd": 3,
           "4th": 4, "5th": 5, "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10, "middle": 0}
_ORD_ALT = _alternation(_ORD_EN)
_ORD_NOUNS = (r"one|ones|item|items|product|products|option|options|choice|result|pick|suggestion|"
              r"recommendation|thing|" + _alternation(lexicon.PRODUCTS_EN))
_ORD_RE = re.compile(rf"\b(?:the\s+)?({_ORD_ALT})(?:\s+one)?\s+(?:and|&|or|vs\.?|versus|with)\s+(?:the\s+)?({_ORD_ALT})\b"
                     rf"(?:\s+(?:ones?|items?|products?|options?))?"
                     rf"|\b(?:the\s+)?({_ORD_ALT})\s+(?:{_ORD_NOUNS})\b"
                     rf"|\bthe\s+({_ORD_ALT})\b(?!\s+(?:time|place|thing i|step|impression|date|aid|name))"
                     rf"|(?:\bnumber|\bno\.|\boption|\bitem|\bproduct|#)\s*(\d{{1,2}})\b", re.I)
_ORD_FIRST_N = re.compile(r"\b(?:the\s+)?(?:first|top)\s+(two|three|four|2|3|4)\b|\ball\s+(two|three|four|2|3|4)\b"
                          r"|\bboth(?:\s+of\s+them)?\b|\bthe\s+two\b|\bthese\s+two\b", re.I)
_ORD_ZH = re.compile(r"第\s*([一二两三四五六七八九十\d]{1,3})\s*(?:个|款|件|支|瓶|条|种|双|只|套|项|盒|位)?"
                     r"|(最后|末尾)(?:一|1)?(?:个|款|件|支|瓶|条|种)?"
                     r"|(?:前|头)\s*([两二三四2-4])\s*(?:个|款|件|支|瓶|种)"
                     r"|(这两个|这两款|两个都|两款都|它们俩|这俩)")
_NUM_WORD = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4, "两": 2, "二": 2, "三": 3, "四": 4}
_THIS_RE = re.compile(r"\b(?:it|this one|that one|the one|this product|that product|this item|that item)\b(?!\s*'s\s+all)"
                      r"|\b(?:this|that)\b(?=\s*(?:[?.!,]|$))|\b(?:is|does|will|can)\s+(?:this|that)\b"
                      r"|这个|这款|那个|那款|它|这支|这瓶|这件", re.I)

_CUES: list[tuple[str, re.Pattern]] = [
    (CUE_CHEAPER, re.compile(r"\b(?:cheaper|less expensive|lower[- ]priced?|lower price|more affordable|"
                             r"less pricey|too expensive|too pricey|cheaper ones?|something cheaper|on a tighter budget)\b"
                             r"|便宜一?点|便宜些|更便宜|再便宜|太贵|有点贵|价格低一?点|低一点的价格|便宜的吗", re.I)),
    (CUE_PRICIER, re.compile(r"\b(?:more expensive|pricier|higher[- ]end|fancier|more premium|more luxurious|"
                             r"better quality|upscale|splurge)\b|贵一?点|高端一?点|更高档|档次高一?点|好一点的", re.I)),
    (CUE_INSTEAD, re.compile(r"\b(?:instead|rather|switch to|change (?:it )?to|how about|what about|"
                             r"swap (?:it |that )?(?:for|to))\b|换成|换个|改成|换一个|换一种|改为|那.{1,6}呢", re.I)),
    (CUE_MORE_LIKE, re.compile(r"\b(?:more like (?:that|this|it|these|those|the)|similar(?: ones| items| products| to)?|"
                               r"something like (?:that|this|it|the)|like (?:that|this) one|alternatives? to|"
                               r"same style|along those lines)\b|类似|相似|差不多的|同款|一样的", re.I)),
    (CUE_MORE, re.compile(r"\b(?:show me more|more options|other options|any others?|anything else|what else|"
                          r"more results|show more|other ones|some more|next page|see more|different ones)\b"
                          r"|还有吗|还有别的|还有其他|别的吗|其他的|更多|再来几个|换一批|再推荐", re.I)),
]
_COMPARE = re.compile(r"\b(?:compare|comparison|vs\.?|versus|difference between|differences|which (?:one )?is better|"
                      r"which (?:one )?(?:should i|would you|do you)|which of (?:them|these|those)|better than|"
                      r"how do they differ)\b|对比|比较|哪个(?:更)?好|哪一个(?:更)?好|哪款(?:更)?好|区别|有什么不同|哪个更", re.I)
_QUESTION = re.compile(r"\?|？|吗|么|呢|^\s*(?:is|are|does|do|can|will|would|how|what|which|who|where|tell me|"
                       r"what's|whats|any info|is it|does it)\b|^\s*(?:有没有|是不是|是否|能不能|可不可以)|多少钱|怎么样|"
                       r"好不好|适合|含不含|防不防水|成分|什么颜色|多大", re.I)
_ASK_WORDS = re.compile(r"\b(?:tell me (?:more )?about|more (?:info|information|details) (?:on|about)|details (?:of|on|about)|"
                        r"how much (?:is|does)|what(?:'s| is) (?:the )?(?:price|brand|size|color|colour|rating)|"
                        r"describe)\b|详情|介绍一下|详细", re.I)
_SEARCHY = re.compile(r"\b(?:show me|find|looking for|search|i want|i need|get me|do you have|is there|are there|any)\b"
                      r"|有没有|找|想买|想要|推荐", re.I)
_RECOMMEND_ME = re.compile(r"\b(?:recommend (?:something|anything|me|some)|recommendations? for me|suggest something|"
                           r"what should i (?:buy|get|try)|surprise me|based on my (?:history|purchases|taste|orders)|"
                           r"what (?:would|do) you (?:recommend|suggest)|anything for me|pick something for me|"
                           r"something (?:i'd|i would|i might) like|for me\b|my style|my taste|you think i'?d like)"
                           r"|给我推荐|推荐(?:一下|点|些)?(?:什么|东西|好物)?|猜我喜欢|我可能喜欢|适合我的|有什么推荐|你推荐", re.I)
_GREETING = re.compile(r"^\s*(?:(?:hi+|hello|hey+|yo|hiya|good (?:morning|afternoon|evening|night)|thanks?(?: you)?"
                       r"(?: so much| a lot)?|thank you(?: so much| very much)?|thx|ty|cheers|bye|goodbye|see you|"
                       r"ok(?:ay)?|cool|great|awesome|perfect|nice|got it|sounds good|how are you(?: doing)?|"
                       r"who are you|what can you do|what do you do|help|你好|您好|嗨|哈喽|哈啰|谢谢(?:你|啦)?|多谢|"
                       r"再见|拜拜|好的|好吧|明白了|你是谁|你能做什么|在吗|that's all|that's it|that is all|no thanks|nothing else|"
                       r"all good|there|again|for now|for your help|谢谢你的帮助|没有了|就这样)[\s!.,~。！？?]*)+$", re.I)
OFF_TOPIC = re.compile(r"\b(?:poems?|poetry|stories|story|essay|jokes?|weather|news|politics?|political|election|"
                       r"president|capital of|translate|translation|homework|math|equation|solve|write (?:me )?(?:a |some )?code|"
                       r"coding|programming|python|javascript|recipes?|movies?|songs?|lyrics|stock market|bitcoin|crypto|"
                       r"sports? scores?|football|who won|history of|meaning of life|your (?:system )?prompt|"
                       r"your instructions)\b|写(?:一首)?诗|讲个?笑话|天气|新闻|翻译|作业|写代码|编程|股票|政治|菜谱|电影", re.I)
_GIFT = re.compile(r"\b(?:gifts?(?!\s+(?:sets?|box|boxes|baskets?|cards?|bags?|wrap))|presents?|stocking stuffers?|"
                   r"gift ideas?)\b|礼物|送礼|礼品", re.I)

_STOP_EN = set("""
i i'm im i'd i'll me my mine myself we our us you your a an the some any anything something someone
thing things stuff please pls plz can could would will shall should may might must show find get got
buy buying purchase order need needs want wants wanna looking look searching search for to of in on at
by from with and or but is are am be been being it its it's that this these those there here what which
who whom whose do does did have has had like love really very just also too so good great nice best
recommend recommended recommendation recommendations suggest suggestion suggestions help hi hello hey
thanks thank one ones kind type types sort maybe perhaps around about price priced prices cost costs
money spend hmm ok okay well um let let's see give option options item items product products pretty
cute lovely amazing decent quality high now today tonight soon asap if as than then when where how
why yes yeah sure all more most much many few little bit lot lots other another else new nice
ideal perfect that'd there's what's whats i've gonna trying try tried go going use using used
uses wear wearing wore each every both either same different similar way ways kinds work works
shopping shop store catalog catalogue buy them they their he she his him her hers scented
loves loved likes liked wants wanted enjoys prefers she's he's that's size sizes ml oz pack packs
shade shades tone tones color colors colour colours note notes after beginner beginners something
""".split())
_GIFT_WORDS = {"gift", "gifts", "present", "presents"}
STOPWORDS_EN = frozenset(_STOP_EN)
_ZH_FUNCTION = set("我你他她它们的了吗呢吧啊呀哦嘛想要买给帮找有没什么请问能可以是在和或还也就都很比较最这那个款支瓶件些点儿双条套"
                   "一下用于适合看需求送礼物合适哪种推荐好用一能否到里要求款式类型东西产品商品来几选挑下把被让对于有些人"
                   "适用需会该得着过再又更太多少钱价格预算左右之间以内以下上元块用来平时比")


def _canon_en(term: str) -> str:
    return term.lower().strip()


@functools.lru_cache(maxsize=64)
def _table_pattern(keys: tuple[str, ...], plurals: bool) -> re.Pattern:
    """The word-bounded alternation over `keys`, compiled once per key tuple (the lexicon's tables
    and each catalog's brand table: escaping and joining hundreds of words took ~0.2 ms a table)."""
    suffix = "(?:s|es)?" if plurals else ""
    return re.compile(r"(?<![a-z0-9'])(" + _alternation(keys) + r")" + suffix + r"(?![a-z0-9'])", re.I)


def _longest_matches(text: str, table: Mapping[str, str], plurals: bool = False,
                     pattern: re.Pattern | None = None) -> list[tuple[int, int, str]]:
    """Non-overlapping longest matches of table keys in text (word-bounded; optional plural s/es).
    `pattern`: `_table_pattern(tuple(table), plurals)` when the caller has it already."""
    if not table:
        return []
    if pattern is None:
        pattern = _table_pattern(tuple(table), plurals)
    out = []
    for m in pattern.finditer(text):
        canon = _lookup(table, m.group(1))
        if canon is not None:
            out.append((m.start(), m.end(), canon))
    return out


def _lookup(table: Mapping[str, str], found: str) -> str | None:
    """The table value for a case-insensitive regex match. re.I folds some characters that
    str.lower() keeps apart (micro sign vs Greek mu, long s vs s): fall back to casefold, and give
    None (no match) rather than a KeyError when even that finds nothing."""
    for key in (found.lower(), found):
        if key in table:
            return table[key]
    folded = found.casefold()
    for key, value in table.items():
        if key.casefold() == folded:
            return value
    return None


# Chinese product / attribute / colour words (first table wins), and Chinese brand names
def _zh_words() -> tuple[dict[str, str], dict[str, str]]:
    words: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for table, kind in ((lexicon.PRODUCTS_ZH, "product"), (lexicon.ATTRIBUTES_ZH, "attr"), (lexicon.COLORS_ZH, "color")):
        for k, v in table.items():
            words.setdefault(k, v)
            kinds.setdefault(k, kind)
    return words, kinds


_ZH_WORDS, _ZH_KINDS = _zh_words()
_ZH_WORD_RE = re.compile(_alternation(_ZH_WORDS))
_BRANDS_ZH_RE = re.compile(_alternation(lexicon.BRANDS_ZH))


@functools.lru_cache(maxsize=16)
def _brand_matcher(brands: tuple) -> tuple[Mapping[str, str], re.Pattern]:
    """(lower-case name -> brand, compiled pattern) for the built-in brands plus `brands` (a
    catalog's brand list; the first spelling of a name wins). Built once per brand tuple; the
    engine passes the same sorted list on every turn (3 parses a turn)."""
    table = dict(lexicon.BRANDS)
    for b in brands:
        # a catalog brand spelt like a product type or colour ("Skin Care", "Clear", "Makeup") is not
        # read as a brand: "a skin care" asks for the type (1,514 demo products), not for the 2 products
        # of a brand of that name
        if b and len(b) >= 2 and b.lower() not in _NOT_BRAND_WORDS:
            table.setdefault(b.lower(), b)
    return MappingProxyType(table), _table_pattern(tuple(table), False)


_NOT_BRAND_WORDS = frozenset(lexicon.PRODUCTS_EN) | frozenset(lexicon.COLORS_EN)


# Brands in relation to a cue: "not from Maybelline" (excluded), "like OPI" (alternatives wanted)
_BRAND_NEG_BEFORE = re.compile(
    r"(?:\b(?:not|no|except|excluding|exclude|without|avoid|avoiding|anything but|but not|other than|rather than|"
    r"nothing|never|hate|dislike|don't want|do not want|don't like|no more|skip|instead of)"
    r"(?:\s+(?:any|anything|products?|stuff|brands?))?(?:\s+(?:from|by|made by|of))?(?:\s+the)?"
    r"|不要|不想要|不买|别买|除了|别|不用|不喜欢|排除)\s*$", re.I)
_BRAND_OR_BEFORE = re.compile(r"^\s*(?:,|or|nor|and|/|或|和|、)\s*$", re.I)
_BRAND_LIKE_BEFORE = re.compile(
    r"(?:\b(?:like|similar to|alternatives? (?:to|for)|dupes? (?:of|for)|same as|comparable to|cheaper than|"
    r"just like|something like)(?:\s+the)?|类似|像|跟|和)\s*$", re.I)
_BRAND_LIKE_AFTER_ZH = re.compile(r"^\s*(?:一样|差不多|类似|那样|那种)")
_ON_SALE = re.compile(r"\b(?:on sale|for sale|on discount|discounted|on offer|sale items?|clearance|marked down|"
                      r"reduced price|deals?)\b|打折|特价|促销|折扣|优惠", re.I)
_AUDIENCE_EN = re.compile(r"\b(mens|womens|men|women|boys|girls|boy|girl|kids|ladies|unisex)\b(?!\s*(?:'s|’s))",
                          re.I)


def _parse_brand_relations(text: str, out: dict, found: set, table: Mapping[str, str],
                           pattern: re.Pattern, zh: bool) -> str:
    matches = _longest_matches(text, table, pattern=pattern)
    if zh:
        matches += [(m.start(), m.end(), lexicon.BRANDS_ZH[m.group()]) for m in _BRANDS_ZH_RE.finditer(text)]
        matches.sort()
    excluded: list[str] = []
    last_excluded_end = -10
    for start, end, canon in matches:
        before = text[max(0, start - 40):start]
        cue = None
        neg = _BRAND_NEG_BEFORE.search(before)
        if neg:
            cue = ("exclude", start - (len(before) - neg.start()))
        elif last_excluded_end >= 0 and _BRAND_OR_BEFORE.match(text[last_excluded_end:start]):
            cue = ("exclude", last_excluded_end)
        else:
            like = _BRAND_LIKE_BEFORE.search(before)
            if like and (not zh or like.group().strip() not in ("跟", "和") or _BRAND_LIKE_AFTER_ZH.match(text[end:])):
                cue = ("like", start - (len(before) - like.start()))
        if cue is None:
            continue
        kind, cue_start = cue
        if kind == "exclude":
            if canon not in excluded:
                excluded.append(canon)
            last_excluded_end = end
        else:
            out["similar_to"] = canon
            found.add("similar_to")
            after = _BRAND_LIKE_AFTER_ZH.match(text[end:]) if zh else None
            end += after.end() if after else 0
        text = _blank(text, cue_start, end)
    if excluded:
        out["exclude_brand"] = excluded
        found.add("exclude_brand")
    return text


# ---------------------------------------------------------------------------------------------
def parse_rules(message: str, brands: Iterable[str] | None = None, _fix_typos: bool = True) -> RuleParse:
    """Parse one message deterministically. `brands`: extra brand names (e.g. the catalog's).
    Words nothing explained are retried once with typos corrected (`correct_typos`)."""
    raw = message or ""
    zh = bool(CJK.search(raw))
    text = normalise_numbers(raw).lower()
    text = re.sub(r"[’`]", "'", text)
    out: dict = {"language": "zh" if zh else "en"}
    found: set[str] = {"language"}
    cues: set[str] = set()
    unknown: list[str] = []

    # "for my 8 year old son": the age says who, it is no price and no search word
    text = re.sub(r"\b\d{1,2}[- ]?(?:years?|yrs?|yo)(?:[- ]old)?\b\s*|\d{1,2}岁(?:的)?", "", text)
    if _GREETING.match(raw):
        intent = Intent(action="chitchat", language=out["language"])
        return RuleParse(intent, 1.0, {"action", "language"}, set(), [])

    # dialogue cues first ("more like the second one"); "cheaper than $20" keeps its price (cue dropped below)
    for name, pattern in _CUES:
        for m in list(pattern.finditer(text)):
            cues.add(name)
            text = _blank(text, m.start(), m.end())
    # positions before prices (so "the 2nd" is not read as a price)
    refers: list[int] = []
    for m in list(_ORD_RE.finditer(text)):
        if m.group(1) and m.group(2):
            refers += [_ORD_EN[m.group(1)], _ORD_EN[m.group(2)]]
        elif m.group(3) or m.group(4):
            refers.append(_ORD_EN[m.group(3) or m.group(4)])
        elif m.group(5):
            refers.append(int(m.group(5)))
        text = _blank(text, m.start(), m.end())
    for m in list(_ORD_FIRST_N.finditer(text)):
        n = _NUM_WORD.get((m.group(1) or m.group(2) or "").lower(), 2)
        refers += list(range(1, n + 1))
        text = _blank(text, m.start(), m.end())
    for m in list(_ORD_ZH.finditer(text)):
        if m.group(1):
            value = m.group(1)
            num = int(value) if value.isdigit() else cn_to_int(value)
            if num:
                refers.append(num)
        elif m.group(2):
            refers.append(-1)
        elif m.group(3):
            refers += list(range(1, _NUM_WORD.get(m.group(3), int(m.group(3)) if m.group(3).isdigit() else 2) + 1))
        elif m.group(4):
            refers += [1, 2]
        text = _blank(text, m.start(), m.end())
    refers = [r for i, r in enumerate(refers) if r != 0 and r not in refers[:i]]
    if refers:
        out["refers_to"] = refers
        found.add("refers_to")

    compare = bool(_COMPARE.search(text))
    text = _COMPARE.sub(lambda m: HOLE * len(m.group()), text)

    text = _parse_prices(text, out, found)
    if "price_max" in found or "price_min" in found:
        cues.discard(CUE_CHEAPER)
        cues.discard(CUE_PRICIER)
    brand_table, brand_pattern = _brand_matcher(tuple(brands or ()))
    text = _parse_brand_relations(text, out, found, brand_table, brand_pattern, zh)
    m = _ON_SALE.search(text)
    if m:
        out["on_sale"] = True
        found.add("on_sale")
        text = _blank(text, m.start(), m.end())
    text = _parse_free(text, out)
    text = _parse_spf_and_wont(text, out)
    if zh:
        text = _parse_negations_zh(text, out, found, unknown)
    text = _parse_negations_en(text, out, found) if re.search(r"[a-z]", text) else text

    for pattern, sort in _SORT_RES:
        m = pattern.search(text)
        if m:
            out["sort"] = sort
            found.add("sort")
            text = _blank(text, m.start(), m.end())
            break

    # occasions
    occasion = None
    m = _OCC_EN.search(text)
    if m and not (m.group(1).lower() in ("date", "work", "party", "travel", "trip", "office", "summer", "winter", "beach")
                  and re.search(rf"\b(?:does|will|would|did)\s+(?:it|this|that)\s+{m.group(1)}", text)):
        occasion = lexicon.OCCASIONS_EN[m.group(1).lower()]
        text = _blank(text, m.start(), m.end())
    if occasion is None and zh:
        m = _OCC_ZH.search(text)
        if m:
            occasion = lexicon.OCCASIONS_ZH[m.group()]
            text = _blank(text, m.start(), m.end())
    if occasion:
        out["occasion"] = occasion
        found.add("occasion")

    # recipients
    recipient = None
    for pattern in (_REC_POSSESSIVE, _REC_BUY, _REC_EN, _REC_MENS):
        m = pattern.search(text)
        if m:
            recipient = lexicon.RECIPIENTS_EN.get(m.group(1).lower())
            text = _blank(text, m.start(), m.end() - (1 if pattern is _REC_MENS else 0))
            break
    if recipient is None and zh:
        m = _REC_ZH.search(text)
        if m:
            word = next(g for g in m.groups() if g)
            recipient = lexicon.RECIPIENTS_ZH[word]
            text = _blank(text, m.start(), m.end())
    if recipient:
        out["recipient"] = recipient
        found.add("recipient")

    gift = bool(_GIFT.search(text)) or bool(re.search(r"(?:^|[^发])送(?!货|到)", raw) and zh)
    if gift:
        cues.add(CUE_GIFT)
        text = _GIFT.sub(lambda m: HOLE * len(m.group()), text)

    if recipient is None:   # audience words: "mens wallet", "boys t-shirt", "women kurta"
        m = _AUDIENCE_EN.search(text)
        if m:
            recipient = lexicon.RECIPIENTS_EN.get(m.group(1).lower())
            out["recipient"] = recipient
            found.add("recipient")
            text = _blank(text, m.start(), m.end())

    # brands
    for start, end, canon in _longest_matches(text, brand_table, pattern=brand_pattern)[:1]:
        out["brand"] = canon
        found.add("brand")
        text = _blank(text, start, end)
    if zh and "brand" not in out:
        m = _BRANDS_ZH_RE.search(text)
        if m:
            out["brand"] = lexicon.BRANDS_ZH[m.group()]
            found.add("brand")
            text = _blank(text, m.start(), m.end())

    this_ref = bool(_THIS_RE.search(text))
    if this_ref:
        cues.add(CUE_THIS)
    recommend_me = bool(_RECOMMEND_ME.search(raw))
    question = bool(_QUESTION.search(raw)) or bool(_ASK_WORDS.search(raw))
    searchy = bool(_SEARCHY.search(raw))

    # products / attributes / colours
    must: list[str] = list(out.pop("_must", []))
    products: list[tuple[int, int, str]] = []
    search_words: list[tuple[int, str]] = []
    if zh:
        for m in list(_ZH_WORD_RE.finditer(text)):
            word, canon = m.group(), _ZH_WORDS[m.group()]
            if _ZH_KINDS[word] == "product":
                products.append((m.start(), m.end(), canon))
            elif canon not in must:
                must.append(canon)
            search_words.append((m.start(), canon))
            text = _blank(text, m.start(), m.end())
        # one-character colours before 色/的 ("红色的" is covered above; "要红的")
        for m in list(_ZH_SHORT_COLOR_RE.finditer(text)):
            canon = lexicon.COLORS_ZH_SHORT[m.group(1)]
            if canon not in must:
                must.append(canon)
            search_words.append((m.start(), canon))
            text = _blank(text, m.start(), m.end())
    # English words (also inside Chinese messages: "想买 matte lipstick")
    for table, kind in ((lexicon.PRODUCTS_EN, "product"), (lexicon.ATTRIBUTES_EN, "attr"), (lexicon.COLORS_EN, "color")):
        for start, end, canon in _longest_matches(text, table, plurals=kind == "product"):
            if kind == "product":
                products.append((start, end, canon))
            elif canon not in must:
                must.append(canon)
            search_words.append((start, text[start:end] if kind == "product" else canon))
            text = _blank(text, start, end)
    products.sort()
    category = None
    if products:
        # adjacent product words ("cream blush"): the last is the head noun; otherwise the first
        category = products[0][2]
        for (s1, e1, c1), (s2, e2, c2) in zip(products, products[1:]):
            if not text[e1:s2].strip(HOLE + " -"):
                category = c2
            break
        out["category"] = category
        found.add("category")

    # leftover words: unknown content (English) / uncovered characters (Chinese)
    for m in re.finditer(r"[a-z][a-z0-9'&.-]*", text):
        word = m.group().strip(".'-")
        if len(word) <= 1 or word in _STOP_EN or word in _GIFT_WORDS:
            continue
        unknown.append(word)
        search_words.append((m.start(), word))
    if zh:
        leftover = "".join(ch for ch in text if CJK.match(ch) and ch not in _ZH_FUNCTION)
        if leftover:
            unknown.append(leftover)
    leftover = list(unknown)          # words nothing consumed (typo candidates)
    unknown += [u for u in out.pop("_unplaced", []) if u not in unknown]
    if out.get("_avoid"):
        out["avoid"] = list(dict.fromkeys(out.pop("_avoid")))
        found.add("avoid")
    must = [t for t in must if t not in out.get("exclude", [])]
    if must:
        out["must_have"] = must
        found.add("must_have")

    # search text, in message order; the excluded terms never appear in it
    search_words.sort()
    words: list[str] = []
    for _, w in search_words:
        if w not in words:
            words.append(w)
    for term in must:
        if term not in words and term not in out.get("exclude", []):
            words.append(term)
    if not category and (gift or recipient) and not words:
        words.append("gift")
        if recipient and recipient not in ("him", "her"):
            words.append(f"for {recipient}")
        if occasion:
            words.append(occasion)
    out["search_text"] = " ".join(words)

    # action
    has_constraint = bool(found & {"price_min", "price_max", "exclude", "sort", "brand", "recipient", "occasion",
                                   "exclude_brand", "similar_to", "on_sale"}) \
        or bool(must)
    action = "search"
    action_certain = False
    if compare:
        action, action_certain = "compare", True
    elif refers and (CUE_MORE_LIKE in cues or CUE_INSTEAD in cues or CUE_CHEAPER in cues):
        action, action_certain = "refine", True
    elif (refers or this_ref) and (question or not (category or has_constraint) or _ASK_WORDS.search(raw)) \
            and not (searchy and not refers and category):
        if refers or question:
            action, action_certain = "ask_about_product", True
        if refers and not question and not _ASK_WORDS.search(raw) and not category:
            cues.add(CUE_SELECT)
    elif cues & {CUE_CHEAPER, CUE_PRICIER, CUE_INSTEAD, CUE_MORE_LIKE, CUE_MORE}:
        action, action_certain = "refine", True
    elif recommend_me and not category and not recipient and not must:
        action, action_certain = "recommend_for_me", True
    elif not category and not must and "brand" not in found and OFF_TOPIC.search(raw):
        action, action_certain = "chitchat", True
        cues.add(CUE_OFF_TOPIC)
        out["search_text"] = ""
    elif not category and not words and not has_constraint and not unknown:
        action = "chitchat"
    if not category and has_constraint and action == "search" and not gift and not recipient \
            and not searchy and not unknown:
        cues.add(CUE_CONSTRAINT_ONLY)
    out["action"] = action
    if action_certain:
        found.add("action")

    # confidence: explained share of content words
    n_known = len(set(w for _, w in search_words)) - len(set(unknown) & set(w for _, w in search_words)) \
        + len(found - {"language", "action", "category", "must_have"}) + (1 if action_certain else 0)
    n_unknown = sum(max(1, len(u) // 2) if CJK.search(u) else 1 for u in unknown)
    confidence = (n_known / (n_known + n_unknown)) if (n_known + n_unknown) else 0.5
    if action == "search" and not category and not must and "brand" not in found and not gift and not recipient \
            and not has_constraint:
        confidence = min(confidence, 0.5)   # nothing recognisable to search for
    if action == "chitchat" and not _GREETING.match(raw):
        confidence = min(confidence, 0.5)

    if "similar_to" in found and CUE_CHEAPER in cues:
        # "like OPI but cheaper": a search for alternatives, cheapest first (the Engine caps the
        # price below the named brand's own prices)
        out["sort"] = "price_asc"
        found.add("sort")
        if out["action"] == "refine" and not refers:
            out["action"] = "search"
    intent = Intent.model_validate({k: v for k, v in out.items() if not k.startswith("_")})
    result = RuleParse(intent=intent, confidence=round(confidence, 3), found=found, cues=cues, unknown=unknown)
    if leftover and _fix_typos:
        fixed = correct_typos(raw, brand_table, only={w for u in leftover for w in u.split()})
        if fixed != raw:   # "red lipstik" -> "red lipstick": parse the corrected message instead
            again = parse_rules(fixed, brands, _fix_typos=False)
            if len(again.unknown) < len(unknown) and again.intent.action == intent.action:
                again.confidence = round(min(again.confidence, 0.9), 3)
                return again
    return result


def _typo_vocabulary(brand_table: Mapping[str, str]) -> tuple[str, ...]:
    words: set[str] = set()
    # product words, colours and brands only: common words ("weather") sit one edit from attributes ("leather")
    for table in (lexicon.PRODUCTS_EN, lexicon.COLORS_EN, brand_table):
        for key in table:
            words.update(w for w in key.split() if len(w) >= Speller.MIN_LEN and w.isalpha())
    return tuple(sorted(words))


@functools.lru_cache(maxsize=16)
def _typo_speller(brand_keys: tuple) -> tuple[frozenset, Speller]:
    """(words the rules know, the Speller over the words a typo may be repaired to) per brand list."""
    vocab = _typo_vocabulary(dict.fromkeys(brand_keys, ""))
    known = {w for table in (lexicon.ATTRIBUTES_EN, lexicon.RECIPIENTS_EN, lexicon.OCCASIONS_EN, _EN_INGREDIENTS)
             for k in table for w in k.split()} | _STOP_EN
    # every repair target counts the same (MIN_DF): the Speller picks the nearest, and leaves a short
    # word alone when two targets are as near ("nice": "nike" or "nine"?)
    speller = Speller(dict.fromkeys(vocab, Speller.MIN_DF), known=known - set(vocab))
    return frozenset(vocab) | frozenset(known), speller


def correct_typos(message: str, brand_table: Mapping[str, str] | None = None,
                  only: set[str] | None = None) -> str:
    """English words one edit (or one swap of neighbours) from a known product / colour / brand word
    are replaced by it ("lipstik" -> "lipstick", "hoddie" -> "hoodie", "maybeline" -> "maybelline",
    "whte" -> "white"); words the rules know ("weather") are left alone. The repair is
    retrieval.normalize.Speller's (the one typo repair), so 4-letter words are repaired only when one
    target is unambiguously meant. `only`: correct just these (lower-case) words."""
    known, speller = _typo_speller(tuple(brand_table or lexicon.BRANDS))

    def fix(m: re.Match) -> str:
        word = m.group()
        low = word.lower()
        if low in known or low.rstrip("s") in known or (only is not None and low not in only):
            return word
        close = speller.correct(low, complete=False)
        return close[0] if close else word

    return re.sub(r"[A-Za-z]+", fix, message)
