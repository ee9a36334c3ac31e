"""Metric functions: pure, deterministic, no I/O. Each one scores a single question or a list.

Ranking metrics take a ranked list of ids (or of graded relevances) and the relevant set;
answer metrics take the answer text and the gold strings.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

# --- ranking ---------------------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Share of the relevant ids found in the first ``k`` ranked ids."""
    wanted = set(relevant)
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[str], relevant: Iterable[str]) -> float:
    """1 / rank of the first relevant id; 0 when none is ranked."""
    wanted = set(relevant)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at_k(gains: Sequence[float], ideal_gains: Iterable[float], k: int) -> float:
    """nDCG@k from the graded gains of the ranked list and every gain that could be earned."""
    ideal = dcg(sorted((g for g in ideal_gains if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(list(gains[:k])) / ideal


def binary_ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    wanted = set(relevant)
    gains = [1.0 if item in wanted else 0.0 for item in ranked]
    return ndcg_at_k(gains, [1.0] * len(wanted), k)


def graded_hit_at_k(gains: Sequence[float], k: int, threshold: float) -> float:
    """1 when one of the first ``k`` items has a gain of at least ``threshold``."""
    return 1.0 if any(g >= threshold for g in gains[:k]) else 0.0


def graded_reciprocal_rank(gains: Sequence[float], threshold: float) -> float:
    for rank, gain in enumerate(gains, start=1):
        if gain >= threshold:
            return 1.0 / rank
    return 0.0


# --- text normalisation ----------------------------------------------------------------------

_CITATION = re.compile(r"\[([^\[\]\n]{1,200})\]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_ARTICLES = {"a", "an", "the"}
STOPWORDS = frozenset(
    """a an the and or but if of to in on at for by with from as is are was were be been being
    it its this that these those i you he she we they them his her our your their my me do does
    did has have had not no yes can could will would should may might must there here what which
    who whom whose when where why how about into over under than then so such very just also
    any all some each per up out""".split()  # noqa: SIM905
)


def parse_citations(text: str) -> list[str]:
    """Product ids cited as ``[id]`` (or ``[id1, id2]``) markers, in order, without repeats."""
    cited: list[str] = []
    for inner in _CITATION.findall(text):
        for part in re.split(r"[,;]", inner):
            token = part.strip()
            if token and " " not in token and token not in cited:
                cited.append(token)
    return cited


def strip_citations(text: str) -> str:
    return " ".join(_CITATION.sub(" ", text).split())


def normalize_text(text: str) -> str:
    """Lower case, punctuation to spaces, whitespace collapsed (for containment tests)."""
    text = text.lower().replace("$", " ")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,299 -> 1299
    return " ".join(re.sub(r"[^a-z0-9.]+", " ", text).replace(". ", " ").strip(". ").split())


def parse_numbers(text: str) -> list[float]:
    """Every number written in ``text`` ("$1,299.00" -> 1299.0; "1-2 days" -> 1, 2)."""
    values: list[float] = []
    for raw in _NUMBER.findall(text):
        cleaned = raw.replace("$", "").replace(",", "").lstrip("+")
        try:
            values.append(float(cleaned))
        except ValueError:
            continue
    return values


def _decimals(raw: str) -> int:
    return len(raw.split(".", 1)[1]) if "." in raw else 0


def numbers_match(written: str, gold: float) -> bool:
    """``written`` states ``gold``: equal, or equal after rounding gold to the written precision
    (a rating of 4.56 said as "4.6"); a whole number never stands for a fractional price."""
    cleaned = written.replace("$", "").replace(",", "").lstrip("+")
    try:
        value = float(cleaned)
    except ValueError:
        return False
    if math.isclose(value, gold, abs_tol=1e-9):
        return True
    places = _decimals(cleaned)
    return places > 0 and math.isclose(round(gold, places), value, abs_tol=1e-9)


def _is_number(text: str) -> bool:
    try:
        float(text.replace("$", "").replace(",", ""))
    except ValueError:
        return False
    return True


# --- answer correctness ----------------------------------------------------------------------


def exact_match(answer: str, gold_values: Sequence[str]) -> float:
    """1 when the answer states one of the gold values.

    Numeric gold values match any number written in the answer ($ and thousands separators
    ignored, trailing zeros irrelevant); text values match as a normalised phrase.
    """
    body = strip_citations(answer)
    written = [raw for raw in _NUMBER.findall(body)]
    normal = f" {normalize_text(body)} "
    for gold in gold_values:
        if _is_number(gold):
            value = float(gold.replace("$", "").replace(",", ""))
            if any(numbers_match(raw, value) for raw in written):
                return 1.0
        elif f" {normalize_text(gold)} " in normal:
            return 1.0
    return 0.0


def _squad_tokens(text: str) -> list[str]:
    text = strip_citations(text).lower()
    text = "".join(" " if ch in string.punctuation else ch for ch in text)
    return [tok for tok in text.split() if tok not in _ARTICLES]


def token_f1(answer: str, gold: str) -> float:
    """SQuAD-style token F1 (lower case, punctuation and articles removed)."""
    pred, ref = _squad_tokens(answer), _squad_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(pred), overlap / len(ref)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence length, O(len(a) * len(b)) time, O(len(b)) memory."""
    if not a or not b:
        return 0
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if item == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(answer: str, gold: str) -> float:
    """ROUGE-L F1 on the same tokens as :func:`token_f1`."""
    pred, ref = _squad_tokens(answer), _squad_tokens(gold)
    lcs = lcs_length(pred, ref)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_over(gold_answers: Sequence[str], answer: str, metric: str) -> float:
    """The best score of ``answer`` against any of the gold answers."""
    scorer = token_f1 if metric == "f1" else rouge_l
    return max((scorer(answer, gold) for gold in gold_answers), default=0.0)


# --- citations -------------------------------------------------------------------------------


def citation_validity(
    cited: Sequence[str], retrieved: Iterable[str], existing: Iterable[str]
) -> float:
    """Share of cited ids that exist in the catalog and were among the retrieved sources."""
    if not cited:
        return 0.0
    ok = set(retrieved) & set(existing)
    return sum(1 for item in cited if item in ok) / len(cited)


def citation_correct(cited: Sequence[str], gold_ids: Iterable[str]) -> float:
    """1 when one of the gold products is cited."""
    return 1.0 if set(cited) & set(gold_ids) else 0.0


# --- grounding -------------------------------------------------------------------------------


def content_tokens(text: str) -> list[str]:
    words = _WORD.findall(normalize_text(text))
    return [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def split_sentences(text: str) -> list[str]:
    body = strip_citations(text)
    parts = re.split(r"(?<=[.!?])\s+|\n+", body)
    return [part.strip() for part in parts if part.strip() and content_tokens(part)]


def sentence_supported(sentence: str, context_tokens: set[str], threshold: float = 0.6) -> bool:
    """Most of the sentence's content words (and every number in it) occur in the context."""
    tokens = content_tokens(sentence)
    if not tokens:
        return True
    covered = sum(1 for tok in tokens if tok in context_tokens)
    return covered / len(tokens) >= threshold


def grounding(answer: str, context: str) -> dict[str, float | None]:
    """Share of answer sentences and of answer numbers supported by ``context``.

    A sentence counts as supported when at least 60% of its content words occur in the context;
    a number when the context writes the same value (any format). ``None`` when there is nothing
    to score (no sentence, no number).
    """
    context_tokens = set(content_tokens(context))
    sentences = split_sentences(answer)
    context_numbers = parse_numbers(context)
    written = _NUMBER.findall(strip_citations(answer))
    sentence_share = (
        sum(sentence_supported(s, context_tokens) for s in sentences) / len(sentences)
        if sentences
        else None
    )
    number_share = (
        sum(any(numbers_match(raw, value) for value in context_numbers) for raw in written)
        / len(written)
        if written
        else None
    )
    return {"sentences": sentence_share, "numbers": number_share}
