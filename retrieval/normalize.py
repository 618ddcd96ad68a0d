"""Matching normalisation below the lexical index: units and numbers, and typo repair over a vocabulary.

Units and numbers (`normalize_units`): shoppers and catalogs write the same size many ways ("1/2 in.",
"1/2 inch", "0.5 in", '1/2"', "1-1/2 in." = "1.5 in", "18-Volt" = "18 volt", "60watt" = "60 watt").
The text is rewritten to one form: fractions become decimals, unit words one short name, a number and
its unit are separated and followed by a joined token ("0.5 in 0.5in"), so a size matches as a pair,
which is far rarer (hence worth more to BM25) than the bare number or the bare unit. Hyphenated words
are also written joined ("Rust-Oleum" -> "Rust-Oleum RustOleum"), as shoppers type them.

Typos (`Speller`, the one typo repair: the lexical index and the rules' parser both use it): a query
word the catalog does not contain is replaced by the most frequent catalog word within a small edit
distance (Damerau-Levenshtein 1 for words of 4-7 letters, 2 from 8), or, for a truncated word
("condit"), by the most frequent word it starts. A 4-letter word is one edit from many real words
("golf" ~ "gold", "nice" ~ "nike"), so it is repaired only when that is safe: the vocabulary does not
contain it, it is no known real word, and one word that keeps its first letter and has one more
letter, or two neighbours the other way round, stands out ("whte" -> white, "pnik" -> pink). Candidates come from a delete index built once over the catalog vocabulary (symmetric-delete
lookup), never from a scan of the corpus per query. Two query words that the catalog writes as one ("kitchen aid" -> "kitchenaid") are joined, and
one word that is two catalog words ("ledbulb") is split.
"""
from __future__ import annotations

import html
import re
from collections import defaultdict
from typing import Iterable, Mapping

# Unit spellings -> one short name. Longest alternatives first inside each pattern.
UNITS: dict[str, str] = {
    "in": "in", "inch": "in", "inches": "in", "\"": "in", "''": "in", "”": "in",
    "ft": "ft", "feet": "ft", "foot": "ft", "'": "ft", "’": "ft",
    "yd": "yd", "yard": "yd", "yards": "yd",
    "mm": "mm", "cm": "cm", "m": "m",
    "gal": "gal", "gallon": "gal", "gallons": "gal",
    "qt": "qt", "quart": "qt", "quarts": "qt",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "fl": "fl",
    "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "w": "watt", "watt": "watt", "watts": "watt",
    "v": "volt", "volt": "volt", "volts": "volt",
    "a": "amp", "amp": "amp", "amps": "amp", "ah": "ah",
    "btu": "btu", "cfm": "cfm", "psi": "psi", "gpm": "gpm", "mph": "mph", "rpm": "rpm", "lm": "lumen",
    "lumen": "lumen", "lumens": "lumen", "k": "k", "hp": "hp", "cc": "cc", "mil": "mil",
    "ga": "gauge", "gauge": "gauge", "pk": "pack", "pack": "pack", "pc": "piece", "pcs": "piece",
    "piece": "piece", "pieces": "piece", "tier": "tier", "light": "light", "lights": "light",
    "gang": "gang", "way": "way", "cu": "cu", "sq": "sq", "ton": "ton", "amp-hour": "ah",
    "mah": "mah", "ml": "ml", "l": "l", "kg": "kg", "g": "g", "x": "x",
}
# Units that only count right after a number (a bare "a", "m", "x", "light" or "way" is a word).
_WORD_UNITS = sorted((u for u in UNITS if u[0].isalpha()), key=len, reverse=True)
_SYMBOL_UNITS = ["''", "\"", "”", "'", "’"]

_DIGIT = re.compile(r"\d")
_NUM = r"\d+(?:\.\d+)?|\.\d+"
# "1-1/2", "1 1/2" (mixed numbers), then "3/4".
_MIXED = re.compile(r"(?<![\d./])(\d+)[\s-]+(\d+)/(\d+)(?![\d/])")
_FRACTION = re.compile(r"(?<![\d./])(\d+)/(\d+)(?![\d/])")
_BARE_DECIMAL = re.compile(r"(?<![\d.])\.(\d+)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER_UNIT = re.compile(
    r"(?<![\w.])(" + _NUM + r")\s*-?\s*("
    + "|".join(re.escape(u) for u in _WORD_UNITS) + r")\.?(?![^\W\d_])"
    r"|(?<![\w.])(" + _NUM + r")\s*(" + "|".join(re.escape(u) for u in _SYMBOL_UNITS) + r")",
    re.IGNORECASE,
)
# "Rust-Oleum", "Pre-Lit", "Roll-Up": also written joined, as shoppers type them ("rustoleum").
_HYPHENATED = re.compile(r"\b([^\W\d_]{2,})-([^\W\d_]{2,})\b")
# Denominators that make a size fraction (10/10 remesh or 16/2 wire are names, not halves).
_DENOMINATORS = {2, 3, 4, 8, 16, 32, 64}


def _decimal(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def _fraction(num: str, den: str) -> float | None:
    n, d = int(num), int(den)
    if d not in _DENOMINATORS or n <= 0 or n >= d:
        return None
    return n / d


def normalize_units(text: str) -> str:
    """One written form for numbers, fractions and units (see the module docstring)."""
    if "&" in text:
        text = html.unescape(text)
    if "-" in text:
        text = _HYPHENATED.sub(lambda m: f"{m.group(0)} {m.group(1)}{m.group(2)}", text)
    if _DIGIT.search(text) is None:
        return text
    text = _THOUSANDS.sub("", text)

    def mixed(m: re.Match) -> str:
        frac = _fraction(m.group(2), m.group(3))
        return m.group(0) if frac is None else _decimal(int(m.group(1)) + frac)

    def fraction(m: re.Match) -> str:
        frac = _fraction(m.group(1), m.group(2))
        return m.group(0) if frac is None else _decimal(frac)

    text = _MIXED.sub(mixed, text)
    text = _FRACTION.sub(fraction, text)
    text = _BARE_DECIMAL.sub(lambda m: "0." + m.group(1), text)

    def unit(m: re.Match) -> str:
        number = m.group(1) or m.group(3)
        name = UNITS[(m.group(2) or m.group(4)).lower()]
        number = _decimal(float(number)) if "." in number else str(int(number))
        if name == "x":  # "2x4": a dimension separator, not a unit
            return f"{number} x "
        return f" {number} {name} {number}{name} "

    return _NUMBER_UNIT.sub(unit, text)


# ------------------------------------------------------------------------------------------------
def damerau_levenshtein(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance, stopping early above `limit` (returns limit + 1)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
            best = min(best, cur[j])
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _missing_or_swapped(typed: str, word: str) -> bool:
    """`typed` is `word` with one letter left out, or with two neighbouring letters swapped."""
    if len(word) == len(typed) + 1:
        return any(word[:i] + word[i + 1:] == typed for i in range(len(word)))
    if len(word) == len(typed):
        diff = [i for i in range(len(word)) if word[i] != typed[i]]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == typed[diff[1]] \
            and word[diff[1]] == typed[diff[0]]
    return False


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


class Speller:
    """Typo repair against a fixed vocabulary with document frequencies (built once per index).

    Only alphabetic words of MIN_LEN letters or more are repaired; numbers and model codes never are.
    `known`: real words that are never "corrected" and never offered as a repair (the rules' own
    vocabulary: "weather" is a word, not a typo of "leather").
    """

    MIN_LEN = 4
    SHORT_LEN = 4           # words this short are repaired only when safe (see correct)
    DOMINANCE = 10          # a short word's repair must be this many times as frequent as the runner-up
    PREFIX_MIN = 4          # a truncated word needs this many letters to be completed
    MIN_DF = 2              # candidates must occur in at least this many documents (rare typos in titles)

    def __init__(self, df: Mapping[str, int], known: Iterable[str] = ()):
        self.df = {w: n for w, n in df.items() if w}
        self.known_words = frozenset(known)
        self._deletes: dict[str, list[str]] = defaultdict(list)
        self._prefix: dict[str, str] = {}
        # no word longer than this can be 2 edits from a vocabulary word (and _deletes of a word of n
        # letters holds ~n^2/2 strings of ~n letters: a 20,000-letter "word" took 23 GB)
        self._max_len = max((len(w) for w in self.df), default=0) + 2
        for word, n in self.df.items():
            if not word.isalpha() or n < self.MIN_DF or word in self.known_words:
                continue
            for d in _deletes(word, 1 if len(word) < 8 else 2):
                self._deletes[d].append(word)
            for end in range(self.PREFIX_MIN, len(word)):
                best = self._prefix.get(word[:end])
                if best is None or self.df[best] < n:
                    self._prefix[word[:end]] = word

    def known(self, word: str) -> bool:
        return word in self.df or word in self.known_words

    def correct(self, word: str, complete: bool = True) -> list[str]:
        """Catalog words meant by `word`: [] when it is a common catalog word, a known word, not a
        word, or nothing is close. An unknown word gets its nearest frequent word and, when it is the
        start of a longer word, that word's most frequent completion too ("condit" -> conduit,
        conditioner; `complete=False`: no completion). A rare catalog word (a typo in a few titles,
        "flourescent") gets a far more frequent neighbour ("fluorescent"); the caller keeps the word
        itself as well. A short word (SHORT_LEN letters) is repaired only when the vocabulary does not
        hold it, to a word that keeps its first letter and differs by a missing letter or two swapped
        neighbours ("whte" -> white, "pnik" -> pink: one changed or extra letter of a short word is
        mostly another real word, "golf" / "gold", "team" / "teal", "tank" / "tan"), and only when
        one such word stands out (the only one, or DOMINANCE times as frequent as the next)."""
        if not word.isalpha() or len(word) < self.MIN_LEN or word in self.known_words:
            return []
        if len(word) > self._max_len:   # nothing in the vocabulary is within reach, nor starts with it
            return []
        own = self.df.get(word, 0)
        short = len(word) <= self.SHORT_LEN
        if own >= self.MIN_DF * 2 or (short and own):
            return []
        max_d = 1 if len(word) < 8 else 2
        candidates: set[str] = set()
        for d in _deletes(word, max_d):
            candidates.update(self._deletes.get(d, ()))
        candidates.discard(word)
        ranked = []
        for cand in candidates:
            if own and self.df[cand] < 10 * own:
                continue
            if short and (cand[0] != word[0] or not _missing_or_swapped(word, cand)):
                continue
            dist = damerau_levenshtein(word, cand, max_d)
            if dist <= max_d:
                ranked.append((dist, -self.df[cand], cand))
        ranked.sort()
        if short and len(ranked) > 1 and -ranked[0][1] < self.DOMINANCE * -ranked[1][1]:
            ranked = []   # ambiguous: a short word is left as typed
        out = [ranked[0][2]] if ranked else []
        if complete and not own:
            completion = self._prefix.get(word)
            if completion is not None and completion not in out:
                out.append(completion)
        return out

    def split(self, word: str) -> tuple[str, str] | None:
        """An unknown word that is two known words run together ("ledbulb" -> ("led", "bulb"))."""
        if word in self.df or not word.isalpha() or len(word) < 6 or len(word) > 2 * self._max_len:
            return None
        best, best_df = None, 0
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            score = min(self.df.get(left, 0), self.df.get(right, 0))
            if score >= self.MIN_DF and score > best_df:
                best, best_df = (left, right), score
        return best

    def repair(self, words: Iterable[str]) -> list[str]:
        """Query words with unknown ones repaired (alternatives follow the word they repair), adjacent
        pairs joined where the catalog joins them."""
        words = list(words)
        out: list[str] = []
        i = 0
        while i < len(words):
            word = words[i]
            if i + 1 < len(words) and word.isalpha() and words[i + 1].isalpha():
                joined = word + words[i + 1]
                both_known = word in self.df and words[i + 1] in self.df
                if self.df.get(joined, 0) >= self.MIN_DF and (
                        not both_known or self.df[joined] >= min(self.df[word], self.df[words[i + 1]])):
                    out.append(joined)
                    i += 2
                    continue
            fixed = self.correct(word)
            if word in self.df or not fixed:
                parts = None if word in self.df else self.split(word)
                out.extend(parts if parts else [word])
            out.extend(fixed)
            i += 1
        return out
