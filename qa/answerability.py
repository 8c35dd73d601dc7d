"""Answerability: does the chosen quote answer the question, or is it a near-miss?

A near-miss names the right entities but not the fact asked for: its passage shares
the question's topic words, so keyword coverage and passage similarity run high. What
it lacks is evidence that a real answer has:
- the kind of answer asked for (a number for «كم», a date or year for «متى», a name
  for «من») present in the quote and not merely an echo of the question;
- the question's rare terms covered in the same clause, not spread over a passage;
- agreement: the quote clearly ahead of what other passages offer;
- the quoted sentence itself close to the question in the embedding space (its vector
  is stored at build time), not only its passage.

These features are combined by a logistic model whose weights are trained by
`evals/train_answerability.py` on the held-out near-miss suite of ARCD-train and
stored as plain JSON (qa/answerability.json); numpy applies them here.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from corpus.normalize import normalize
from qa.coverage import idf_coverage
from qa.kinds import answer_kind, holds_kind
from qa.settings import OFF_CORPUS_MAX_TERMS, OFF_CORPUS_SHARE, YEAR_ABSENT_VETO
from qa.slots import Slot, filled, nation_mismatch, nisbas_absent, years_absent
from qa.slots import count_unfilled as slots_count_unfilled

MODEL_FILE = Path(__file__).resolve().parent / "answerability.json"

@dataclass(frozen=True)
class Evidence:
    """What the answerer found, as answerability needs it."""

    question: str
    quote: str
    q_stems: list[str]  # the question's keyword stems
    idf: dict[str, float]
    quote_stems: frozenset[str]  # stems of the quote (the chosen clause)
    passage_stems: frozenset[str]  # stems of the cited passage
    dense: float  # cosine of the cited passage to the question
    sentence_score: float  # the chosen sentence's answerer score
    runner_up_score: float  # the best sentence from another passage (0 if none)
    passage_scores: tuple[float, ...]  # fused scores of the top passages
    agree: float  # share of the other top passages whose best sentence supports the same kind
    quote_seq: tuple[str, ...] = ()  # the quote's stems in order (for phrase matches)
    unseen: float = 0.0  # IDF-weighted share of the question's stems that no passage holds
    top_stems: frozenset[str] = frozenset()  # stems of the top passages together
    idf_ceiling: float = 1.0  # the IDF of a stem no passage holds
    slot: Slot | None = None  # what the question asks to fill (qa.slots)
    quote_words: tuple[tuple[str, ...], tuple[str | None, ...]] = ((), ())  # normalized words, stems
    # The same for every quotable sentence of the top passages (is the slot filled anywhere?).
    top_sentences: tuple[tuple[tuple[str, ...], tuple[str | None, ...]], ...] = ()
    # Cosine of the question to the quoted sentence's build-time vector (None: not stored,
    # e.g. a short line; the passage's `dense` stands in). A passage vector blurs a long
    # passage: the sentence that states the fact matches the question more closely than
    # a neighbour about the same entities does.
    sentence_dense: float | None = None
    # The second-best sentence's score (any passage) and the top passages' cosines to the
    # question: an answer stands clearly ahead; a near-miss's neighbours about the same
    # entities run level with it.
    second_score: float = 0.0
    passage_dense: tuple[float, ...] = ()
    passage_text: str = ""  # the cited passage with its title and heading (does it name the question's nation?)
    # The quote names the thing the question qualifies by a nation only as another nation's
    # («وزير الطاقة الأوزبكي» for «وزير الطاقة الأذربيجاني»; qa.slots.nation_swapped).
    nation_swapped: bool = False


FEATURES = ("coverage", "rare_coverage", "missing_idf", "passage_coverage", "dense",
            "kind_wanted", "kind_found", "kind_missing", "who_found", "margin", "passage_gap",
            "q_terms", "agree", "phrase", "unseen", "coverage_x_dense",
            "top_coverage", "missing_abs", "slot_wanted", "slot_quote", "slot_top", "year_absent",
            "nisba_absent", "focus_unseen", "sentence_dense", "sentence_gap", "dense_gap",
            "nation_mismatch", "count_unfilled")


def features(ev: Evidence) -> np.ndarray:
    nq = normalize(ev.question)
    nquote = normalize(ev.quote)
    q = set(ev.q_stems)
    weights = sorted((ev.idf.get(t, 1.0) for t in q), reverse=True)
    # The question's rare terms: the upper half by IDF (at least one).
    cut = weights[(len(weights) - 1) // 2] if weights else 0.0
    rare = {t for t in q if ev.idf.get(t, 1.0) >= cut}
    missing = [ev.idf.get(t, 1.0) for t in q - ev.quote_stems]
    top = max(weights, default=1.0) or 1.0
    kind = answer_kind(nq)
    found = holds_kind(kind, nquote, nq) if kind in ("date", "number") else False
    who = 0.0
    if kind == "who":  # a name: quote words the question does not have, outside the stop list
        new = set(nquote.split()) - set(nq.split())
        who = min(1.0, len(new) / 8.0)
    ps = ev.passage_scores
    cov = idf_coverage(q, ev.quote_stems, ev.idf)
    return np.array([
        cov,
        idf_coverage(rare, ev.quote_stems, ev.idf),
        max(missing, default=0.0) / top,
        idf_coverage(q, ev.passage_stems, ev.idf),
        ev.dense,
        1.0 if kind in ("date", "number") else 0.0,
        1.0 if found else 0.0,
        1.0 if kind in ("date", "number") and not found else 0.0,
        who,
        ev.sentence_score - ev.runner_up_score,
        (ps[0] - ps[1]) if len(ps) > 1 else (ps[0] if ps else 0.0),
        math.log1p(len(q)),
        ev.agree,
        phrase_share(ev.q_stems, ev.quote_seq),
        ev.unseen,
        cov * ev.dense,
        idf_coverage(q, ev.top_stems, ev.idf),
        min(1.0, max(missing, default=0.0) / (ev.idf_ceiling or 1.0)),
        *slot_features(ev),
        ev.dense if ev.sentence_dense is None else ev.sentence_dense,
        ev.sentence_score - ev.second_score,
        _gap(ev.passage_dense),
        1.0 if ev.nation_swapped or nation_mismatch(nq, nquote, normalize(ev.passage_text or ev.quote)) else 0.0,
        count_unfilled(ev, nq),
    ], dtype=np.float64)


def _gap(values: tuple[float, ...]) -> float:
    """The best value's lead over the second (0 with fewer than two)."""
    top = sorted(values, reverse=True)[:2]
    return top[0] - top[1] if len(top) == 2 else 0.0


def slot_features(ev: Evidence) -> list[float]:
    """Is the slot the question asks to fill (a count, an amount, a date) filled next to
    its focus in the quote, or in any sentence of the top passages; the share of the
    question's years the cited passage lacks and of its nationality adjectives the quote lacks."""
    slot = ev.slot
    if slot is None:
        return [0.0] * 6
    words, stems = ev.quote_words
    wanted = bool(slot.kind)
    in_quote = wanted and filled(slot, list(words), list(stems))
    anywhere = in_quote or (wanted and any(filled(slot, list(w), list(s)) for w, s in ev.top_sentences))
    return [1.0 if wanted else 0.0, 1.0 if in_quote else 0.0, 1.0 if anywhere else 0.0,
            years_absent(slot, ev.passage_stems), nisbas_absent(slot, list(words)),
            # the focus in no top passage: the documents never speak of it (off-corpus)
            (sum(1 for t in slot.focus if t not in ev.top_stems) / len(slot.focus)) if slot.focus else 0.0]


def count_unfilled(ev: Evidence, norm_question: str) -> float:
    """1 when the question plainly asks for a count or an amount («كم عدد الجنود», «ما قيمة
    الصفقة») and the quote speaks of the thing counted with no figure in it (qa.slots).
    Dates are left to the model: a quote about the same event often names its year in
    another clause."""
    if ev.slot is None:
        return 0.0
    words, stems = ev.quote_words
    return 1.0 if slots_count_unfilled(ev.slot, norm_question, list(words), list(stems)) else 0.0


def phrase_share(q_stems: list[str], seq: tuple[str, ...], gap: int = 3) -> float:
    """Share of the question's adjacent stem pairs found near each other (within `gap`
    words, either order) in the quote: the relation asked about, not just its names."""
    pairs = [(a, b) for a, b in zip(q_stems, q_stems[1:]) if a != b]
    if not pairs:
        return 0.0
    where: dict[str, list[int]] = {}
    for i, t in enumerate(seq):
        where.setdefault(t, []).append(i)
    hits = sum(any(abs(i - j) <= gap for i in where.get(a, ()) for j in where.get(b, ())) for a, b in pairs)
    return hits / len(pairs)


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardize, weigh, squash: P(the quote answers the question)."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float  # abstain below this probability

    def probability(self, x: np.ndarray) -> float:
        z = float(((x - self.mean) / self.scale) @ self.coef + self.intercept)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def from_json(cls, data: dict) -> "AnswerabilityModel":
        names = tuple(data["features"])
        if names != FEATURES:
            raise ValueError(f"answerability model features {names} differ from the code's {FEATURES}")
        return cls(names, np.asarray(data["mean"], float), np.asarray(data["scale"], float),
                   np.asarray(data["coef"], float), float(data["intercept"]), float(data["threshold"]))


def answerability(ev: Evidence, model: "AnswerabilityModel | None" = None) -> float:
    """P(the quote answers the question): 0 for an off-corpus question and for a vetoed
    near-miss (see `vetoed`), else the model's."""
    if ev.unseen >= OFF_CORPUS_SHARE and len(set(ev.q_stems)) <= OFF_CORPUS_MAX_TERMS:
        return 0.0
    x = features(ev)
    if vetoed(x):
        return 0.0
    return (model or load_model()).probability(x)


def vetoed(x: np.ndarray) -> bool:
    """Near-misses shown plainly (qa.slots), whatever the model says: the question names a
    nation the quote does not, the quote another one instead (another country's fact:
    «الكازاخستاني» quoted by «الأوزبكي»), or the quote names the very thing the question
    qualifies by a nation as another nation's only (`Evidence.nation_swapped`); the
    question asks for a count or an amount and the quote names what is counted with no
    figure in it (`count_unfilled`); or it asks for a count, an amount or a date, and either
    - it names a year that the cited passage never names although it names others (a
      figure for another year), or
    - the quote holds no filler near the focus and lacks the nationality the question
      qualifies it by («ميزانية الدفاع الكازاخستانية»: another country's fact)."""
    f = dict(zip(FEATURES, x))
    if f["nation_mismatch"] >= 0.5 or f["count_unfilled"] >= 0.5:
        return True
    if not f["slot_wanted"]:
        return False
    return f["year_absent"] >= YEAR_ABSENT_VETO or (not f["slot_quote"] and f["nisba_absent"] > 0)


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> AnswerabilityModel:
    """The shipped model (read once; the file is part of the package, not user data)."""
    return AnswerabilityModel.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
