"""All of Isnad's tunable settings, in one place, with the measured defaults.

Two kinds live here:
- the frozen `Settings` (with RetrievalParams, AnswerParams, GenerativeParams and
  index.builder.IndexParams inside), built ONCE per process by `Settings.from_env`
  at the entry point (the CLI, the app, the evals) and passed down to the engine;
- the module constants below: the fixed limits and the weights of the answer
  heuristics (qa.answerer, qa.clauses, qa.answerability, qa.chat, qa.generative),
  named and measured here rather than buried in the code that uses them.

`Settings.from_env` reads the environment once (a snapshot); nothing else in qa
reads it, except that the API key of a generative model is read from the variable
`GenerativeParams.api_key_env` names when the model is created (so the key never
sits in a Settings). The index limits (IndexParams) are defined in index.builder,
the lowest layer that uses them, because index may not import qa.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus.errors import UsageError
from index import DEFAULT_EMBEDDER, IndexParams

# -- limits ----------------------------------------------------------------------------
MAX_QUESTION_CHARS = 2000
# Raw input longer than this is refused unread (spaces and invisible marks that the
# cleaner would drop cannot make up the difference in any real question).
RAW_QUESTION_LIMIT = 8 * MAX_QUESTION_CHARS
MAX_K = 50  # passages one answer may return: the engine, the CLI's --k and the app's slider
DEFAULT_K = 5

# -- answer heuristics (qa.answerer, qa.clauses) ----------------------------------------
SAME_EVENT_COVERAGE = 0.4  # share of a relative-date sentence's coverage a dated one needs
RELATIVE_DATE_KIND = 0.3  # kind bonus of a relative date («الشهر الماضي») for a "when" question
WINDOW_KIND_WEIGHT = 0.5  # kind bonus inside the window chosen from a long sentence
CROSS_LINGUAL_SIMILARITY_WEIGHT = 0.7  # cross-lingual sentence score: similarity ...
CROSS_LINGUAL_PASSAGE_WEIGHT = 0.3  # ... and its passage's rank score (relative to the best)
MIN_QUOTE_WORDS = 4  # shorter sentences are never quoted
HEADING_MAX_WORDS = 10
TITLE_MAX_WORDS = 8
BIBLIOGRAPHY_LOOKBACK_CHARS = 8000  # how far back to look for the heading of a reference list

# -- confidence and abstention (qa.abstention, qa.answerability) ------------------------
# Cross-lingual confidence: the cited sentence's cosine to the question (its stored
# vector), scaled from SENTENCE_FLOOR (unrelated text, multilingual E5) over SENTENCE_SPAN.
# On our own English questions (evals/questions/train_en_para.jsonl: 52 answerable, 24
# off-corpus and near-misses) the sentence's cosine separates a quote that answers from
# an unanswerable question better (AUC 0.91) than the earlier mean of it and the
# passage's cosine (0.83), which mostly measured the passage.
CROSS_LINGUAL_SENTENCE_FLOOR = 0.75
CROSS_LINGUAL_SENTENCE_SPAN = 0.10
# A short question whose keywords are, by IDF weight, mostly in no passage of the index
# asks about something the documents never name («عدد سكان البرازيل» over Central Asia).
# (Longer questions: benchmark questions often word things their paragraph words otherwise.)
OFF_CORPUS_SHARE = 0.5
OFF_CORPUS_MAX_TERMS = 4
# A question naming a year («... عام 2023») whose cited passage names none of its years asks
# for a figure of another year than the documents give: abstain (qa.answerability). On
# arcd-train-heldout this refuses 0.2 % of the answerable questions.
YEAR_ABSENT_VETO = 1.0

# -- chat (qa.chat) ---------------------------------------------------------------------
# A question this short may be a follow-up without saying so («متى؟»): it is asked
# on its own first, and with the earlier turn only if alone it finds no answer.
SHORT_QUESTION_WORDS = 3

# -- names in Latin script (qa.transliteration) ------------------------------------------
MIN_SKELETON = 3  # shorter skeletons match too many unrelated words
MAX_SPELLINGS = 4  # Arabic spellings kept per Latin name
FUZZY_FROM = 5  # skeletons this long match within one edit

# -- checking a model's answer (qa.generative) -------------------------------------------
# Multilingual E5 puts unrelated text near 0.8 and a translation near 0.9.
CLAIM_DENSE_FLOOR, CLAIM_DENSE_SPAN = 0.80, 0.10  # cosine -> support in [0, 1], cross-lingual claims
CLAIM_JOIN_GAIN = 0.1  # a further citation of a claim must add this much coverage of its own
STREAM_TIMEOUT_FACTOR = 5  # a streamed answer is cut after this x GenerativeParams.timeout
HISTORY_ANSWER_CHARS = 600  # an earlier answer shown to the model is cut to this
REWRITE_MAX_CHARS = 400  # a rewritten follow-up longer than this (and 4x the question) is malformed


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """$ISNAD_HOME, else $XDG_DATA_HOME/isnad, else ~/.local/share/isnad (never in the repo)."""
    env = os.environ if environ is None else environ
    if env.get("ISNAD_HOME"):
        return Path(env["ISNAD_HOME"]).expanduser()
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "isnad"


@dataclass(frozen=True)
class RetrievalParams:
    candidates: int = 60  # taken from each of the dense and lexical lists before fusion
    fusion: str = "convex"  # "convex" (weighted normalized scores) or "rrf"
    dense_weight: float = 0.5  # convex: weight of the dense score, lexical gets the rest
    rrf_k: int = 60
    word_weight: float = 1.0  # BM25 weight of exact (surface) words next to stems (1.0)
    rerank_depth: int = 30  # head of the fused list re-ranked by sentence coverage
    coverage_weight: float = 0.2  # weight of the best sentence's IDF coverage of the question
    cross_lingual_dense_weight: float = 0.9  # a passage in another language than the question
    # Paraphrases: the dense weight rises by up to this much as the keyword side finds
    # less of the question (IDF coverage of its stems by the best of the top lexical hits).
    # Below `adaptive_knee` coverage only: benchmark questions, mostly worded like their
    # paragraph, keep the balanced weight (a boost over the whole range, 0.5, cost ARCD-train
    # R@1 0.9 pt and XQuAD-ar 0.8 pt). With the knee at 0.6: our own paraphrases
    # (evals/questions/train_en_para.jsonl) hit@5 0.82 -> 0.88, ARCD-train flat, XQuAD-ar R@1 +0.2 pt.
    adaptive_dense_boost: float = 0.5
    adaptive_knee: float = 0.6  # keyword coverage from which the dense weight stays at dense_weight
    lexical_coverage_depth: int = 3
    # The head re-ranked by its best sentence's similarity to the question (build-time
    # sentence vectors), scaled by the dense side's weight for that passage. Chosen on
    # ARCD-train (R@1 0.724 -> 0.732), XQuAD-ar (0.929 -> 0.935) and our own English and
    # paraphrase questions (evals/questions/train_en_para.jsonl: hit@1 0.49 -> 0.63).
    sentence_dense_weight: float = 0.7
    minority_share: float = 0.15  # question's language below this share of the candidates ...
    minority_factor: float = 0.7  # ... its passages' scores x this
    name_weight: float = 0.3  # Latin names of a question found in Arabic spelling (passages in another language)
    # An English question's common words searched in Arabic too (qa.concepts: "founded" ->
    # تأسس), next to its names. On evals/questions/train_en_para.jsonl (52 English): hit@1
    # 0.712 -> 0.846, hit@5 0.904 -> 0.962 (with the vowel check of qa.transliteration).
    concept_terms: bool = True
    reference_penalty: float = 0.8  # score x (1 - this x share of a passage's lines that are references)


@dataclass(frozen=True)
class AnswerParams:
    max_quote_chars: int = 400
    max_quote_sentences: int = 2
    passages_considered: int = 3  # sentences are picked from the top passages only
    # A sentence's score: its IDF coverage of the question, its passage's rank score
    # (relative to the best), and whether it holds what the question asks for.
    sentence_coverage_weight: float = 0.6
    sentence_passage_weight: float = 0.8
    sentence_kind_weight: float = 0.2
    # Share of a sentence's coverage credited for question stems that only its context
    # (the document's title, the section's heading) holds: the subject named above it.
    # ARCD-train quote ⊇ gold 0.737 / 0.745 / 0.748 / 0.753 at 0 / 0.5 / 0.75 / 1, XQuAD-ar
    # 0.813 at each; 0.5, not 1: at 1 a chat follow-up whose earlier turn repeats the
    # title's words loses the sentence that answers it (2 of the fixed set's 7 follow-ups).
    sentence_context_share: float = 0.5
    # The sentence's build-time vector's similarity to the question (scaled within the
    # candidates; order only): quote ⊇ gold XQuAD-ar 0.802 -> 0.818, ARCD-train 0.735 -> 0.739,
    # own paraphrases 0.24 -> 0.35 (0.2-0.4 helped paraphrases more but cost ARCD-train).
    sentence_similarity_weight: float = 0.1
    # ... rising by up to `sentence_similarity_boost` as the best top passage holds less of
    # the question's keywords (IDF-weighted, title and heading counted) than
    # `sentence_similarity_knee`: a paraphrase shares few words with any passage, and its
    # sentences' coverage tells little apart. A boost by each sentence's own coverage cost
    # ARCD-train quote; by the passages' (the question's wording), our own paraphrases
    # (train_en_para.jsonl) quote ⊇ gold 8 -> 9 of 24 at 0.2-0.8, ARCD-train 0.743 at 0.2,
    # 0.3, 0.8 (0.742 at 0.4; knee 0.8: 0.740), arcd-train-heldout 0.797 at 0.2 (0.794 at
    # 0.3-0.5), its near-misses abstained 50 -> 49 of 231 at any boost.
    sentence_similarity_boost: float = 0.2
    sentence_similarity_knee: float = 0.6
    passages_considered_cross_lingual: int = 3  # sentence vectors are stored at build time
    cross_lingual_kind_weight: float = 0.05  # the kind of answer asked for, next to similarity (~0.8)
    cross_lingual_coverage_weight: float = 0.2  # keyword coverage (names spelled in Arabic, Latin terms)
    # Answerability (qa.answerability: the probability that the quote answers) under
    # which Isnad abstains; None: the threshold calibrated with the model on the
    # held-out near-miss suite of ARCD-train (evals/train_answerability.py).
    abstain_below: float | None = None
    # For a question in another language than the corpus the confidence rests on the
    # cited sentence's similarity (CROSS_LINGUAL_SENTENCE_*): its own threshold, a cosine
    # of 0.79. On evals/questions/train_en_para.jsonl: quotes that hold the answer 24 -> 29
    # of 52, off-corpus answered 1 of 15 as before, near-misses answered 6 -> 5 of 9
    # (0.785 answered two more near-misses, 0.80 three fewer right quotes).
    abstain_below_cross_lingual: float = 0.40


class SettingsError(UsageError):
    """A setting given on the command line or in the environment is not valid."""


_LLM_OFF = ("", "none", "off", "extractive")


@dataclass(frozen=True)
class GenerativeParams:
    """Optional generative answers (qa.generative). Off unless `provider` and `model`
    are set, e.g. from `--llm ollama:qwen2.5:7b-instruct` or ISNAD_LLM."""

    provider: str = ""  # "openai" (any OpenAI-compatible endpoint), "ollama", or another LangChain provider
    model: str = ""
    base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 or http://localhost:11434
    api_key_env: str = "ISNAD_LLM_API_KEY"  # the variable holding the key (openai: else OPENAI_API_KEY)
    timeout: float = 90.0  # seconds to wait for the service (each read); a stream is cut at 5x this
    max_retries: int = 1
    max_tokens: int = 600
    temperature: float = 0.0
    min_support: float = 0.5  # a cited sentence's alignment score with its quote, below which it is dropped
    min_supported_share: float = 0.5  # of the answer's substantive text; below it -> extractive answer
    history_turns: int = 4  # earlier turns of a chat shown to the model
    rewrite_followups: bool = True  # chat: the model rewrites a follow-up into a stand-alone question
    answer_when_abstained: bool = True  # ask the model even when the extractive answer abstains

    @property
    def enabled(self) -> bool:
        return bool(self.provider and self.model)

    @property
    def label(self) -> str:
        return f"{self.provider}:{self.model}" if self.enabled else ""

    @classmethod
    def from_spec(cls, spec: str | None, base_url: str | None = None, **changes) -> "GenerativeParams":
        """"openai:MODEL", "ollama:MODEL" (the model name may hold colons: qwen2.5:7b), or
        "none" -> the params; SettingsError for anything else."""
        spec = (spec or "").strip()
        if spec.lower() in _LLM_OFF:
            return cls(**changes)
        provider, sep, model = spec.partition(":")
        provider, model = provider.strip().lower(), model.strip()
        if not sep or not provider or not model:
            raise SettingsError(
                f"--llm {spec!r}: expected PROVIDER:MODEL, e.g. ollama:qwen2.5:7b-instruct or openai:gpt-4o-mini"
            )
        if provider in ("openai-compatible", "oai", "vllm", "llamacpp", "llama.cpp", "lmstudio"):
            provider = "openai"
        if not provider.replace("_", "").replace("-", "").isalnum():
            raise SettingsError(f"--llm {spec!r}: {provider!r} is not a provider name")
        if base_url is not None and not base_url.strip():
            base_url = None
        if base_url and not base_url.strip().lower().startswith(("http://", "https://")):
            raise SettingsError(f"--llm-url {base_url!r}: expected an http:// or https:// URL")
        return cls(provider=provider, model=model, base_url=base_url.strip() if base_url else None,
                   **changes)


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=default_home)
    embedder: str = DEFAULT_EMBEDDER
    index: IndexParams = field(default_factory=IndexParams)
    retrieval: RetrievalParams = field(default_factory=RetrievalParams)
    answer: AnswerParams = field(default_factory=AnswerParams)
    k: int = DEFAULT_K  # passages returned with an answer (at most MAX_K)
    generative: GenerativeParams = field(default_factory=GenerativeParams)  # off by default
    # A long-lived engine (the app) looks at most this often for a newer index to switch to.
    refresh_seconds: float = 1.0
    # True when the embedder was chosen (a flag or ISNAD_EMBEDDER), not defaulted: an
    # existing index is then loaded with the embedder it was built with.
    embedder_chosen: bool = False
    # Where the index is read from: faiss | qdrant-edge | qdrant:local | qdrant:http(s)://HOST:PORT
    # (index.stores); ISNAD_STORE.
    store: str = "faiss"

    @classmethod
    def from_env(cls, home: str | Path | None = None, embedder: str | None = None,
                 llm: str | None = None, llm_url: str | None = None,
                 llm_timeout: float | None = None, store: str | None = None,
                 environ: Mapping[str, str] | None = None) -> "Settings":
        """Arguments win over the environment (`environ`, default a snapshot of
        os.environ, read here only): ISNAD_HOME, ISNAD_EMBEDDER, ISNAD_STORE, ISNAD_MAX_DOCUMENT_CHARS,
        ISNAD_MAX_ARCHIVE_MB, and for generative answers ISNAD_LLM (PROVIDER:MODEL),
        ISNAD_LLM_URL, ISNAD_LLM_TIMEOUT."""
        env = dict(os.environ if environ is None else environ)
        timeout = llm_timeout if llm_timeout is not None else env.get("ISNAD_LLM_TIMEOUT") or None
        extra = {}
        if timeout is not None:
            try:
                extra["timeout"] = float(timeout)
            except ValueError:
                raise SettingsError(f"ISNAD_LLM_TIMEOUT={timeout!r}: expected seconds") from None
            if not extra["timeout"] > 0:
                raise SettingsError("the model timeout must be more than 0 seconds")
        spec = llm if llm is not None else env.get("ISNAD_LLM")
        url = llm_url if llm_url is not None else env.get("ISNAD_LLM_URL")
        chosen = embedder or env.get("ISNAD_EMBEDDER")
        return cls(
            home=Path(home).expanduser() if home else default_home(env),
            embedder=chosen or DEFAULT_EMBEDDER,
            embedder_chosen=bool(chosen),
            index=_index_params_from_env(env),
            generative=GenerativeParams.from_spec(spec, url, **extra),
            store=_store_spec(store or env.get("ISNAD_STORE")),
        )

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


def _store_spec(spec: str | None) -> str:
    from index import StoreSpecError, parse_store

    try:
        return parse_store(spec)
    except StoreSpecError as exc:
        raise SettingsError(str(exc)) from None


def _index_params_from_env(env: Mapping[str, str]) -> IndexParams:
    """One document's limits from ISNAD_MAX_DOCUMENT_CHARS (characters of extracted text)
    and ISNAD_MAX_ARCHIVE_MB (what a .docx may unzip to); the defaults otherwise."""
    changes = {}
    for var, name, scale in (("ISNAD_MAX_DOCUMENT_CHARS", "max_document_chars", 1),
                             ("ISNAD_MAX_ARCHIVE_MB", "max_archive_bytes", 2**20)):
        raw = env.get(var, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{var}={raw!r}: expected a whole number") from None
        if value <= 0:
            raise SettingsError(f"{var}={raw!r}: must be more than 0")
        changes[name] = value * scale
    return replace(IndexParams(), **changes)
