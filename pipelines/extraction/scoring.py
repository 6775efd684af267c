"""How extracted bodies are scored against gold text (shared by tests and benchmarks).

The Zyte article-extraction-benchmark metric: split text into ``\\w+`` Unicode
tokens, count 4-token shingles as multisets; per page tp = shared shingles,
fp / fn = the surplus on each side, the three normalised to sum 1; precision
and recall are means over pages, F1 their harmonic mean.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_TOKEN = re.compile(r"\w+")
N = 4


def shingles(text: str, n: int = N) -> Counter:
    tokens = _TOKEN.findall(unicodedata.normalize("NFC", text or ""))
    if len(tokens) < n:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(zip(*(tokens[i:] for i in range(n))))  # the n-token windows, made in C


def page_counts(predicted: str, gold: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of one page."""
    p, g = shingles(predicted), shingles(gold)
    tp = sum((p & g).values())
    fp = sum((p - g).values())
    fn = sum((g - p).values())
    total = tp + fp + fn
    if total == 0:
        return 1.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def page_prf(predicted: str, gold: str) -> tuple[float, float, float]:
    """Precision, recall, F1 of one page."""
    return prf(*page_counts(predicted, gold))


def corpus_prf(pairs) -> tuple[float, float, float]:
    """Mean precision and recall over ``(predicted, gold)`` pairs and their harmonic mean."""
    ps, rs = [], []
    for predicted, gold in pairs:
        p, r, _ = page_prf(predicted, gold)
        ps.append(p)
        rs.append(r)
    if not ps:
        return 0.0, 0.0, 0.0
    precision, recall = sum(ps) / len(ps), sum(rs) / len(rs)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
