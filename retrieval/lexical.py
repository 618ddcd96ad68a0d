"""Lexical side of hybrid search: tokenizer, a light English stemmer, BM25 via `bm25s`.

Shoppers type brand names, sizes and model numbers ("OPI E55", "3.4 oz", "ultraboost 22"), so the
tokenizer keeps digits, decimals and alphanumeric runs whole. Stemming only folds plurals
("lipsticks" -> "lipstick", "brushes" -> "brush") and "-y" adjectives ("shimmery" -> "shimmer");
anything cleverer hurts brand names.
bm25s is imported when an index is built, not at module import.
"""
from __future__ import annotations

import functools
import logging
import math
import re
from collections import Counter
from typing import Sequence

import numpy as np

from retrieval.normalize import Speller, normalize_units

# Decimals / thousands ("0.5", "1,299", with a joined unit "0.5in") first, then runs of letters and
# digits ("e55", "3oz", "ölçü").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+[^\W\d_]*|[^\W_]+", re.UNICODE)

# Must-have / exclude masks kept per index (LRU of phrase keys; 12,101 documents = 12 KB a mask).
MASK_CACHE_TERMS = 256

STOPWORDS = frozenset(
    """a an and are as at be by for from has have i in is it its me my of on or our so that the their
    them this to was we what which with you your want need looking some any please can get buy
    """.split()
)


# A title's product type is the last content word before its first qualifier: " - ", ",", "(",
# " with ", " for ", " in " (not after a number: "96 in. W") -- "Elongated Toilet in White" -> toilet.
_HEAD_CUT = re.compile(r"\s-\s|,|\(|\s(?:with|for|w/|featuring)\s|(?<![\d.])\sin\s", re.IGNORECASE)
# Words that end a type phrase without naming the type ("... Drill Kit", "... Faucet in Chrome").
NOT_A_TYPE = frozenset(
    """kit set only discontinued pack piece bundle combo assortment series collection reconditioned
    white black grey gray brown silver gold bronze chrome nickel brass steel stainless satin finish
    matte gloss new large small medium mini inch foot feet""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, stopwords kept (phrase checks need them)."""
    return _TOKEN.findall(text.casefold())


def stem(token: str) -> str:
    """Fold English plurals, then a "-y" adjective onto its noun (shimmery -> shimmer, powdery ->
    powder: 7+ letters, a consonant before the y); leave numbers and short tokens alone. The one
    stemmer for matching: search, the "why" line and the intent evaluation all use it."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("ies") and len(token) > 4:
        token = token[:-3] + "y"
    elif token.endswith(("ches", "shes", "sses", "xes", "zes")):
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    if token.endswith("y") and len(token) > 6 and token[-2] not in "aeiouy":
        token = token[:-1]
    return token


def stem_set(text: str) -> set[str]:
    """The stems of every token of `text` (stopwords kept): the one form that "does this word occur
    in that text" checks compare -- search, the "why" line, grounding and the intent evaluation."""
    return {stem(t) for t in tokenize(text)}


def analyse(text: str) -> list[str]:
    """Index/query terms: units and numbers normalised, tokenized, stopwords removed, stemmed."""
    return [stem(t) for t in tokenize(normalize_units(text)) if t not in STOPWORDS]


def phrase_key(text: str) -> str:
    """' t1 t2 ' of stemmed tokens (stopwords kept): the form used for must-have / exclude checks."""
    return " " + " ".join(stem(t) for t in tokenize(text)) + " "


def head_term(text: str) -> str:
    """The product-type word of a title or a query (stemmed), "" when none: the last content word
    before the first qualifier ("Glacier Bay ... Elongated Toilet in White" -> "toilet",
    "stone for walls" -> "stone")."""
    segment = _HEAD_CUT.split(text, maxsplit=1)[0]
    for token in reversed(tokenize(segment)):
        if len(token) >= 3 and token.isalpha() and token not in STOPWORDS and token not in NOT_A_TYPE:
            return stem(token)
    return ""


INDEX_FORMAT = 3   # bump when analyse / phrase_key / the saved files change: saved indexes are then rebuilt


def _bm25s():
    try:
        import bm25s
    except ImportError as exc:
        raise ImportError('Lexical search needs bm25s: pip install "bm25s==0.3.16"') from exc
    # bm25s sets its own logger to DEBUG at import ("Building index from tokens" on every load);
    # put it back to following the application's log level.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


class LexicalIndex:
    """BM25 (Lucene variant; k1=1.2, b=0.5 by default, fitted on the Home Depot development split:
    titles are short, so length normalisation matters less) over a fixed list of documents, with
    unit normalisation, typo repair and each document's product-type word; per candidate, the share
    of the query it holds (`coverage`) and of the query's adjacent word pairs (`adjacency`)."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.5, spell: bool = True,
                 titles: Sequence[str] | None = None, *, _state=None):
        bm25s = _bm25s()
        if _state is not None:   # LexicalIndex.load: the analysed documents and the index from disk
            self.doc_keys, terms, self._bm25 = _state
        else:
            # Per document: the phrase form (for filters) and the index terms in text order.
            self.doc_keys = [phrase_key(t) for t in texts]
            terms = [analyse(t) for t in texts]
            self._bm25 = bm25s.BM25(k1=k1, b=b)
            self._bm25.index([t or [""] for t in terms], show_progress=False)
        self.doc_terms: list[frozenset[str]] = [frozenset(t) for t in terms]
        # " t1 t2 t3 ": the index terms in text order, for adjacent-pair checks (adjacency()).
        self.doc_seq: list[str] = [" " + " ".join(t) + " " for t in terms]
        self.n_docs = len(self.doc_keys)
        # Document frequency of each index term, and the BM25 idf that weighs a term in coverage().
        self.df: Counter = Counter(w for t in self.doc_terms for w in t)
        self._vocab: dict[str, int] = self._bm25.vocab_dict
        # Each document's product-type word (from its title when given) and how many documents share it.
        self.heads: np.ndarray = np.array([head_term(t) for t in (titles if titles is not None else texts)],
                                          dtype=object)
        self._head_counts = Counter(self.heads.tolist())
        self._head_counts.pop("", None)
        # Typo repair over this index's own vocabulary (document frequencies), built once.
        self.speller = Speller(self.df) if spell else None
        # The documents never change after construction (a new catalog version gets a new index),
        # so a phrase's mask is computed once: filtered queries repeat their terms turn after turn.
        self._masks = functools.lru_cache(maxsize=MASK_CACHE_TERMS)(self._compute_mask)

    # Persistence: a catalog version never changes, so its index is built once (at the first start
    # after an import) and loaded by every later start / worker instead of re-analysing every text.
    @staticmethod
    def fingerprint(texts: Sequence[str], k1: float = 1.2, b: float = 0.5) -> str:
        """What the index depends on: the texts, k1, b, the analyser and bm25s's version."""
        import hashlib

        h = hashlib.sha256(f"{INDEX_FORMAT}|{_bm25s().__version__}|{k1}|{b}|{len(texts)}".encode())
        for t in texts:
            h.update(t.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    @classmethod
    def load_or_build(cls, texts: Sequence[str], directory, k1: float = 1.2, b: float = 0.5,
                      titles: Sequence[str] | None = None) -> "LexicalIndex":
        """The index saved in `directory` when its fingerprint matches `texts`, else a new one,
        saved there (written to a temporary directory, then renamed: readers never see half)."""
        import json
        import os
        import shutil
        import tempfile
        from pathlib import Path

        directory = Path(directory)
        want = cls.fingerprint(texts, k1, b)
        try:
            meta = json.loads((directory / "meta.json").read_text())
            if meta.get("fingerprint") == want:
                keys = (directory / "doc_keys.txt").read_text(encoding="utf-8").split("\n")[:-1]
                terms = [line.split() for line in
                         (directory / "doc_terms.txt").read_text(encoding="utf-8").split("\n")[:-1]]
                bm25 = _bm25s().BM25.load(str(directory / "bm25"), load_corpus=False)
                if len(keys) == len(texts) == len(terms):
                    return cls(texts, k1, b, titles=titles, _state=(keys, terms, bm25))
        except (FileNotFoundError, ValueError, KeyError, OSError):
            pass
        index = cls(texts, k1, b, titles=titles)
        try:
            directory.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".bm25-", dir=directory.parent))
            index._bm25.save(str(tmp / "bm25"))
            (tmp / "doc_keys.txt").write_text("".join(k + "\n" for k in index.doc_keys), encoding="utf-8")
            (tmp / "doc_terms.txt").write_text("".join(seq[1:-1] + "\n" for seq in index.doc_seq),
                                               encoding="utf-8")
            (tmp / "meta.json").write_text(json.dumps({"fingerprint": want, "n_docs": index.n_docs}))
            if directory.exists():
                shutil.rmtree(directory, ignore_errors=True)
            os.replace(tmp, directory)
        except OSError as exc:   # read-only catalog directory (a shared, read-only home): keep it in memory
            logging.getLogger(__name__).warning("BM25 index not saved to %s: %s", directory, exc)
        return index

    def query_terms(self, query: str) -> list[tuple[str, str]]:
        """[(surface form, stem)] of the query: units normalised, stopwords removed, unknown words
        repaired against the catalog vocabulary (the surface is then the catalog's word), first
        occurrence of each stem."""
        words = [t for t in tokenize(normalize_units(query)) if t not in STOPWORDS]
        surface = {stem(t): t for t in reversed(words)}
        stems = [stem(t) for t in words]
        if self.speller is not None:
            stems = self.speller.repair(stems)
        seen: set[str] = set()
        out = []
        for s in stems:
            if s not in seen:
                seen.add(s)
                out.append((surface.get(s, s), s))
        return out

    def query_type(self, query: str, terms: list[tuple[str, str]] | None = None) -> str:
        """The product type a query names, "" when none: its head word (repaired like the query
        terms) when at least two documents have that word as their type. `terms`: query_terms(query)
        when the caller has them already."""
        segment = _HEAD_CUT.split(query, maxsplit=1)[0]
        if terms is None or segment != query:
            terms = self.query_terms(segment)
        stems = [s for _, s in terms]
        for term in reversed(stems):
            if len(term) >= 3 and term.isalpha() and term not in NOT_A_TYPE:
                return term if self._head_counts.get(term, 0) >= 2 else ""
        return ""

    def type_matches(self, query_type: str) -> np.ndarray:
        """float32 (n_docs,): 1 where the document's type is `query_type`."""
        if not query_type:
            return np.zeros(self.n_docs, dtype=np.float32)
        return (self.heads == query_type).astype(np.float32)

    def idf(self, term: str) -> float:
        """BM25 idf of an index term, ln(1 + (N - df + 0.5) / (df + 0.5)); a term no document has gets the largest."""
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def coverage(self, rows: Sequence[int], stems: Sequence[str]) -> np.ndarray:
        """float64 (len(rows),): the idf-weighted share of the query stems each document holds, 0..1
        (1 = every query word is in it; a word no document has counts against all of them alike).
        BM25 alone lets one rare word outweigh two common ones; shoppers mean all their words."""
        stems = [t for t in dict.fromkeys(stems) if t]
        if not stems:
            return np.zeros(len(rows))
        weights = np.array([self.idf(t) for t in stems])
        held = np.array([[t in self.doc_terms[r] for t in stems] for r in rows], dtype=np.float64).reshape(len(rows), len(stems))
        return held @ weights / weights.sum()

    def adjacency(self, rows: Sequence[int], stems: Sequence[str]) -> np.ndarray:
        """float64 (len(rows),): the share of the query's adjacent stem pairs ("garden hose") that the
        document has side by side, in that order; 0 for a one-word query."""
        pairs = [f" {a} {b} " for a, b in zip(stems, stems[1:]) if a and b]
        if not pairs:
            return np.zeros(len(rows))
        return np.array([sum(p in self.doc_seq[r] for p in pairs) for r in rows], dtype=np.float64) / len(pairs)

    def has_term(self, row: int, term: str) -> bool:
        """Does document `row` have the index term (a stem from query_terms())?"""
        return term in self.doc_terms[row]

    def scores(self, stems: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the given query stems, float32 (n_docs,)."""
        ids = [self._vocab[s] for s in stems if s in self._vocab and s]
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def contains(self, row: int, key: str) -> bool:
        """Does document `row` contain the phrase whose phrase_key() is `key`?"""
        return key in self.doc_keys[row]

    def mask_contains(self, key: str) -> np.ndarray:
        """Boolean mask over all documents: contains the phrase `key` (from phrase_key()).
        Cached per key (the last MASK_CACHE_TERMS keys); the caller gets its own copy."""
        return self._masks(key).copy()

    def _compute_mask(self, key: str) -> np.ndarray:
        mask = np.fromiter((key in d for d in self.doc_keys), dtype=bool, count=self.n_docs)
        mask.flags.writeable = False
        return mask
