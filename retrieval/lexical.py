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
import re
from typing import Sequence

import numpy as np

# Decimals / thousands ("0.5", "1,299") first, then runs of letters and digits ("e55", "3oz", "ölçü").
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+", re.UNICODE)

# Must-have / exclude masks kept per index (LRU of phrase keys; 12,101 documents = 12 KB a mask).
MASK_CACHE_TERMS = 256

STOPWORDS = frozenset(
    """a an and are as at be by for from has have i in is it its me my of on or our so that the their
    them this to was we what which with you your want need looking some any please can get buy
    """.split()
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
    """Index/query terms: tokenized, stopwords removed, stemmed."""
    return [stem(t) for t in tokenize(text) if t not in STOPWORDS]


def phrase_key(text: str) -> str:
    """' t1 t2 ' of stemmed tokens (stopwords kept): the form used for must-have / exclude checks."""
    return " " + " ".join(stem(t) for t in tokenize(text)) + " "


class LexicalIndex:
    """BM25 (Lucene variant, k1=1.5, b=0.75 by default) over a fixed list of documents."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75):
        try:
            import bm25s
        except ImportError as exc:
            raise ImportError('Lexical search needs bm25s: pip install "bm25s==0.3.16"') from exc
        # bm25s sets its own logger to DEBUG at import ("Building index from tokens" on every load);
        # put it back to following the application's log level.
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self.n_docs = len(texts)
        # Per document: the phrase form (for filters and matched terms).
        self.doc_keys: list[str] = [phrase_key(t) for t in texts]
        corpus = [[w for w in key.split() if w not in STOPWORDS] or [""] for key in self.doc_keys]
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        self._bm25.index(corpus, show_progress=False)
        self._vocab: dict[str, int] = self._bm25.vocab_dict
        # The documents never change after construction (a new catalog version gets a new index),
        # so a phrase's mask is computed once: filtered queries repeat their terms turn after turn.
        self._masks = functools.lru_cache(maxsize=MASK_CACHE_TERMS)(self._compute_mask)

    def query_terms(self, query: str) -> list[tuple[str, str]]:
        """[(surface form, stem)] of the query, stopwords removed, first occurrence of each stem."""
        seen: set[str] = set()
        out = []
        for token in tokenize(query):
            if token in STOPWORDS:
                continue
            s = stem(token)
            if s not in seen:
                seen.add(s)
                out.append((token, s))
        return out

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
