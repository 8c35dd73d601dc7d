"""Optional generative answers: a LangChain chat model writes the answer, Isnad checks it.

The extractive answerer stays the default and the fallback. With a model configured
(`--llm ollama:qwen2.5`, ISNAD_LLM, or any LangChain chat model passed in), the model
gets the question, the conversation so far and the numbered retrieved passages, and
must answer in the question's language from those passages only, marking each claim
with [n]. Nothing it writes is shown unchecked:

- every [n] must name a passage it was given (others are dropped);
- each cited sentence is aligned to the best-matching quote (one sentence or two) of
  its passage, by IDF-weighted overlap of Arabic stems (or, for a sentence in another
  language than the corpus, by embedding similarity); a citation whose alignment
  scores below `min_support` is dropped, and a sentence left with no citation is
  removed (a sentence without a marker inherits the markers of the next marked one
  in its paragraph, then is checked the same way);
- citations are renumbered 1..m in order of appearance, one entry per distinct quote,
  with exact offsets (document_text[start:end] == quote);
- an answer with nothing supported left, or with less than `min_supported_share` of
  its text supported, and any failure of the model service (refused connection,
  timeout, malformed output), gives the extractive answer instead, with a notice.

    from qa.engine import Isnad
    isnad = Isnad.open(Settings.from_env(llm="ollama:qwen2.5:7b-instruct"))
    isnad.ask("...")                        # checked generative Answer (or the fallback)
    for item in isnad.ask_stream("..."):    # str drafts, then the final Answer
        ...
"""
from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from corpus.sentences import split_sentences
from qa.settings import GenerativeParams
from qa.types import Answer, Citation, Passage

NO_ANSWER = "NO_ANSWER"

SYSTEM_PROMPT = """\
You answer questions about a collection of documents, using ONLY the numbered passages you are given.
Rules:
1. Answer in the language of the question: an Arabic question gets a Modern Standard Arabic answer, an English question an English answer.
2. Use only what the passages state. Never add outside knowledge, and never guess.
3. End every sentence with the number(s) of the passage(s) it comes from in square brackets, e.g. [1] or [2][3]. Every sentence needs one; cite only the numbers of the passages below.
4. Be brief: one to four sentences. Stay close to the passages' own wording.
5. If the passages do not contain the answer, reply with exactly: NO_ANSWER"""

REWRITE_PROMPT = """\
Rewrite the user's last question as one stand-alone question that can be understood without the conversation, in the same language as that question. Replace pronouns and references ("it", "there", "that treaty", «ها», «ذلك») with what they refer to in the conversation. If the question already stands alone, return it unchanged. Reply with the question only: no explanation, no quotes, no answer."""

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_NUM = r"[0-9٠-٩۰-۹]{1,3}"
# [1]  [1, 2]  [1،2]  [1-3]  [١]  【1】  [المقطع 1]  [passage 1]
_MARKER = re.compile(
    r"[\[【]\s*(?:(?:passages?|sources?|refs?|المقطع|مقطع|المصدر|مصدر)\s*)?"
    rf"({_NUM}(?:\s*(?:[,،;؛\-–]|and|و)\s*{_NUM})*)\s*[\]】]",
    re.IGNORECASE,
)
_MARKERS_RUN = rf"(?:{_MARKER.pattern}[ \t]*)+"
_TERMINAL = ".!?؟؛…"
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.!?؟؛…،,:;)»”])")
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)?")
DENSE_FLOOR, DENSE_SPAN = 0.80, 0.10  # cosine -> support in [0, 1] for cross-lingual claims
_REFERENCES = re.compile(
    r"\n\s*[#*_]*\s*(?:sources|references|citations|المصادر|المراجع)\s*[*_]*\s*[:：]?\s*[*_]*\s*(?:\n|$)",
    re.IGNORECASE)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_LABEL = re.compile(r"^\s*(?:stand-?alone question|rewritten question|question|السؤال(?: المستقل| المعاد صياغته)?)\s*[:：]\s*",
                    re.IGNORECASE)


class GenerativeError(RuntimeError):
    """The model service failed or wrote nothing usable; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GenerativeConfigError(ValueError):
    """The model cannot be set up as configured (unknown provider, package, key)."""


# ------------------------------------------------------------------ chat models
def make_chat_model(params: GenerativeParams):
    """A LangChain chat model for `params`: ChatOpenAI (any OpenAI-compatible endpoint),
    ChatOllama, or another provider through LangChain's init_chat_model."""
    if not params.enabled:
        raise GenerativeConfigError("no language model configured (give --llm PROVIDER:MODEL)")
    if params.provider == "openai":
        try:
            from langchain_openai import ChatOpenAI
        except ImportError:
            raise GenerativeConfigError(
                "--llm openai:… needs langchain-openai: pip install 'isnad[generative]'") from None
        key = os.environ.get(params.api_key_env) or os.environ.get("OPENAI_API_KEY")
        if not key:
            if not params.base_url:
                raise GenerativeConfigError(
                    f"--llm openai:{params.model} needs an API key in ${params.api_key_env} "
                    "(or give --llm-url for a local OpenAI-compatible server)")
            key = "not-needed"  # local servers (vLLM, llama.cpp, LM Studio) ignore it
        options: dict = dict(
            model=params.model, base_url=params.base_url, api_key=key, temperature=params.temperature,
            max_tokens=params.max_tokens, timeout=params.timeout, max_retries=params.max_retries,
            use_responses_api=False, stream_usage=False,
        )
        if params.base_url:
            # ChatOpenAI sends `max_completion_tokens`; some compatible servers only read max_tokens.
            options["extra_body"] = {"max_tokens": params.max_tokens}
        return ChatOpenAI(**options)
    if params.provider == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError:
            raise GenerativeConfigError(
                "--llm ollama:… needs langchain-ollama: pip install 'isnad[generative]'") from None
        return ChatOllama(
            model=params.model, base_url=params.base_url, temperature=params.temperature,
            num_predict=params.max_tokens, client_kwargs={"timeout": params.timeout},
        )
    init_chat_model = _init_chat_model()
    if init_chat_model is None:
        raise GenerativeConfigError(
            f"unknown model provider {params.provider!r}: use openai:MODEL or ollama:MODEL "
            "(other LangChain providers need the `langchain` package)")
    options = dict(temperature=params.temperature, max_tokens=params.max_tokens, timeout=params.timeout,
                   max_retries=params.max_retries)
    if params.base_url:
        options["base_url"] = params.base_url
    key = os.environ.get(params.api_key_env)
    if key:
        options["api_key"] = key
    try:
        return init_chat_model(params.model, model_provider=params.provider, **options)
    except Exception as exc:  # noqa: BLE001 - a missing partner package, an unknown provider
        raise GenerativeConfigError(f"--llm {params.label}: {_first_line(exc)}") from None


def _init_chat_model():
    for module in ("langchain.chat_models", "langchain_classic.chat_models"):
        try:
            return __import__(module, fromlist=["init_chat_model"]).init_chat_model
        except (ImportError, AttributeError):
            continue
    return None


def describe_failure(exc: BaseException, params: GenerativeParams) -> str:
    """A short reason, for the notice, for an exception raised by a model call."""
    if isinstance(exc, GenerativeError):
        return exc.reason
    names = " ".join(c.__name__ for c in type(exc).__mro__).lower()
    where = params.base_url or params.provider or "the model service"
    if "timeout" in names or isinstance(exc, TimeoutError):
        return f"no reply from {where} within {params.timeout:g} s"
    if "connect" in names or isinstance(exc, ConnectionError):
        return f"could not connect to {where}"
    if "notfound" in names:
        return f"model {params.model!r} not found at {where}"
    if "authentication" in names or "permissiondenied" in names:
        return f"{where} refused the API key"
    if "validation" in names or "decode" in names or isinstance(exc, (ValueError, LookupError, TypeError, AttributeError)):
        return "malformed response from the model service"
    return f"{type(exc).__name__}: {_first_line(exc)}"[:200]


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


# ------------------------------------------------------------------ parsing the output
def strip_reasoning(text: str) -> str:
    """Drop <think>…</think> blocks (reasoning models), closed or still open."""
    return _THINK.sub("", text or "")


def message_text(message) -> str:
    """The text of a chat message or chunk (content may be a list of parts)."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in (None, "text"):
                parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise GenerativeError("malformed response from the model service")


def marker_numbers(group: str) -> list[int]:
    """"1, 2" -> [1, 2]; "1-3" -> [1, 2, 3]; Arabic-Indic digits too."""
    out: list[int] = []
    for part in re.split(r"\s*(?:[,،;؛]|and|و)\s*", group.translate(_DIGITS)):
        lo, dash, hi = part.replace("–", "-").partition("-")
        lo, hi = lo.strip(), hi.strip()
        if dash and lo.isdigit() and hi.isdigit() and 0 <= int(hi) - int(lo) <= 5:
            out.extend(range(int(lo), int(hi) + 1))
        elif not dash and lo.isdigit():
            out.append(int(lo))
    return out


@dataclass
class Claim:
    """One sentence of the model's answer."""

    body: str  # the sentence without its markers
    markers: list[int]  # passage numbers, as the model wrote them
    sep: str  # what followed the sentence ("\n", " ", "")
    inherited: bool = False  # markers taken from the next marked sentence of its paragraph


def parse_claims(text: str) -> list[Claim]:
    """The model's answer as sentences with their [n] markers."""
    text = strip_reasoning(text).strip()
    refs = _REFERENCES.search(text)  # a "Sources:" list after the answer is not part of it
    if refs and refs.start() > 0:
        text = text[: refs.start()].rstrip()
    if not text:
        return []
    leading = _MARKER.match(text) is not None  # "[1] Sentence. [2] Sentence." style
    if not leading:
        # "Sentence. [1]" -> "Sentence [1]." so that a marker stays with its sentence.
        text = re.sub(rf"([{re.escape(_TERMINAL)}]+)([ \t]*)({_MARKERS_RUN})",
                      lambda m: f" {m.group(3).strip()}{m.group(1)}{m.group(2) or ' '}", text)
    pieces: list[tuple[str, str]] = []
    pos = 0
    for m in re.finditer(rf"[{re.escape(_TERMINAL)}]+(?=\s|$)|\n", text):
        if m.start() < pos:  # inside the separator of the previous sentence
            continue
        end = m.start() if m.group() == "\n" else m.end()
        sep_end = end
        while sep_end < len(text) and text[sep_end].isspace():
            sep_end += 1
        pieces.append((text[pos:end], text[end:sep_end]))
        pos = sep_end
    if pos < len(text):
        pieces.append((text[pos:], ""))
    # "X [1]، Y [2]." holds two claims, each with its own citation.
    pieces = [sub for body, sep in pieces for sub in _split_at_markers(body, sep, leading)]
    claims: list[Claim] = []
    for body, sep in pieces:
        markers = [n for g in _MARKER.findall(body) for n in marker_numbers(g)]
        clean = _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(_MARKER.sub(" ", body).split()))
        sep = "\n" * min(2, sep.count("\n")) if "\n" in sep else (" " if sep else "")
        if not _has_words(clean):
            if claims and markers:  # a line of markers alone: they belong to the sentence before
                claims[-1].markers.extend(markers)
                claims[-1].sep = sep or claims[-1].sep
            elif claims and sep:
                claims[-1].sep = claims[-1].sep if "\n" in claims[-1].sep else sep
            continue
        claims.append(Claim(clean, list(dict.fromkeys(markers)), sep))
    # A sentence with no marker takes the markers of the next marked one in its paragraph.
    for i in range(len(claims) - 2, -1, -1):
        c, nxt = claims[i], claims[i + 1]
        if not c.markers and nxt.markers and "\n" not in c.sep:
            c.markers, c.inherited = list(nxt.markers), True
    for c in claims:
        c.markers = list(dict.fromkeys(c.markers))
    return claims


def _split_at_markers(body: str, sep: str, leading: bool) -> list[tuple[str, str]]:
    """A sentence cut between its cited parts: after each run of markers but the last
    (or, when markers lead, before each run but the first) that has words on both sides."""
    runs = list(re.finditer(_MARKERS_RUN, body))
    if len(runs) < 2:
        return [(body, sep)]
    cuts = []
    for a, b in zip(runs, runs[1:]):
        if _has_words(body[a.end():b.start()]):
            cuts.append(b.start() if leading else a.end())
    out, pos = [], 0
    for cut in cuts:
        piece = body[pos:cut]
        stripped = piece.rstrip()
        out.append((stripped, piece[len(stripped):]))
        pos = cut
    out.append((body[pos:], sep))
    return out


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def is_no_answer(text: str) -> bool:
    t = strip_reasoning(text).strip().strip("*_`\"'. ")
    return t.upper().startswith(NO_ANSWER) or t.upper() == "NO ANSWER"


# ------------------------------------------------------------------ checking
@dataclass(frozen=True)
class Evidence:
    """What the checker reads from the index (built by the engine per question)."""

    doc_text: Callable[[str], str]
    stems: Callable[[str], list[str]]  # text -> its Arabic/English stems (index.lexical)
    idf: Callable[[list[str]], dict[str, float]]
    sentences: dict  # chunk_id -> [StoredSentence] (Retrieved.sentences)
    embed: Callable[[list[str]], np.ndarray] | None = None  # for claims not in the corpus language
    corpus_arabic: bool = True
    max_quote_chars: int = 400


@dataclass(frozen=True)
class Aligned:
    passage: Passage
    start: int
    end: int
    score: float
    covered: frozenset = frozenset()  # the claim's stems the quote holds (lexical alignment)


def align(claim: str, passage: Passage, ev: Evidence, cross_lingual: bool = False) -> Aligned | None:
    """The quote (one sentence, or two adjacent ones) of `passage` that best supports
    `claim`, with its score in [0, 1]: the IDF-weighted share of the claim's stems the
    quote holds, or (cross_lingual) the embedding similarity rescaled to [0, 1]."""
    windows = _windows(passage, ev)
    if not windows:
        return None
    if cross_lingual and ev.embed is not None:
        scores = _dense_scores(claim, windows, passage, ev)
    else:
        q = set(ev.stems(claim))
        if not q:
            return None
        idf = ev.idf(sorted(q))
        top = max(idf.values(), default=1.0) or 1.0
        weight = {t: idf.get(t, top) for t in q}
        total = sum(weight.values())
        scores = [sum(weight[t] for t in q & stems) / total for _, _, stems in windows]
    best = None
    for (start, end, stems), score in zip(windows, scores):
        single = end - start
        # A pair must add something real to beat the single sentence it contains.
        bonus = 0.0 if _is_single(start, end, windows) else -0.1
        key = score + bonus
        if best is None or key > best[0] + 1e-9 or (abs(key - best[0]) < 1e-9 and single < best[2] - best[1]):
            best = (key, start, end, score, stems)
    _, start, end, score, stems = best
    covered = frozenset() if cross_lingual and ev.embed is not None else frozenset(q & stems)
    return Aligned(passage, start, end, round(float(score), 4), covered)


def supported_set(claim: str, aligned: list[Aligned], ev: Evidence, min_support: float) -> list[Aligned]:
    """The citations of one claim that support it: the best one if it reaches
    `min_support` alone; the others join when they add coverage of their own (0.1+),
    so that a claim drawing on two passages ("X and Y [1][2]") passes on their union."""
    ranked = sorted(aligned, key=lambda a: a.score, reverse=True)
    if not ranked:
        return []
    q = set(ev.stems(claim))
    idf = ev.idf(sorted(q)) if q else {}
    top = max(idf.values(), default=1.0) or 1.0
    weight = {t: idf.get(t, top) for t in q}
    total = sum(weight.values()) or 1.0

    def joint(items: list[Aligned]) -> float:
        return sum(weight[t] for t in frozenset().union(*(a.covered for a in items)) if t in weight) / total

    chosen = [ranked[0]]
    for a in ranked[1:]:
        if a.score >= min_support or (a.covered and joint(chosen + [a]) - joint(chosen) >= 0.1
                                      and a.score >= min_support / 2):
            chosen.append(a)
    if chosen[0].score >= min_support:
        return chosen
    if len(chosen) >= 2 and all(a.covered for a in chosen) and joint(chosen) >= min_support:
        return chosen
    return []


def _windows(passage: Passage, ev: Evidence) -> list[tuple[int, int, frozenset]]:
    """Single sentences of the passage and adjacent pairs (within max_quote_chars)."""
    lo, hi = passage.start, passage.end
    stored = [s for s in ev.sentences.get(passage.chunk_id, []) if s.start >= lo and s.end <= hi]
    if stored:
        singles = [(s.start, s.end, frozenset(s.stems)) for s in stored]
    else:  # not in the evidence: analyze the passage here
        text = ev.doc_text(passage.doc_id)
        singles = [(sp.start, sp.end, frozenset(ev.stems(text[sp.start:sp.end])))
                   for sp in split_sentences(text, lo, hi)]
    singles = [w for w in singles if w[1] > w[0]]
    pairs = [(a[0], b[1], a[2] | b[2]) for a, b in zip(singles, singles[1:])
             if b[1] - a[0] <= ev.max_quote_chars]
    return singles + pairs


def _is_single(start: int, end: int, windows) -> bool:
    inner = [w for w in windows if start <= w[0] and w[1] <= end]
    return len(inner) <= 1


def _dense_scores(claim: str, windows, passage: Passage, ev: Evidence) -> list[float]:
    """Cross-lingual support: embedding similarity, rescaled, times the share of the
    claim's numbers (years, counts) the quote holds. Weaker than the lexical check."""
    text = ev.doc_text(passage.doc_id)
    quotes = [text[s:e] for s, e, _ in windows]
    vecs = np.asarray(ev.embed([claim] + quotes), dtype=np.float32)
    vecs = vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    sims = vecs[1:] @ vecs[0]
    numbers = set(_NUMBER_TOKEN.findall(claim.translate(_DIGITS)))
    out = []
    for sim, quote in zip(sims, quotes):
        # Multilingual E5 puts unrelated text near 0.8 and a translation near 0.9.
        score = min(1.0, max(0.0, (float(sim) - DENSE_FLOOR) / DENSE_SPAN))
        if numbers:
            score *= len(numbers & set(_NUMBER_TOKEN.findall(quote.translate(_DIGITS)))) / len(numbers)
        out.append(score)
    return out


@dataclass
class Checked:
    """The outcome of checking one model answer."""

    text: str = ""
    citations: list[Citation] = field(default_factory=list)
    kept: int = 0  # sentences kept
    dropped: int = 0  # substantive sentences removed (unsupported or uncited)
    dropped_markers: int = 0  # [n] naming no given passage, or not supported
    support: float = 0.0  # the lowest alignment score among the kept citations
    problem: str = ""  # why the answer cannot be shown ("" when it can)


def check_answer(raw: str, passages: list[Passage], ev: Evidence, params: GenerativeParams) -> Checked:
    """Check and renumber the model's answer against the passages it was given."""
    if is_no_answer(raw):
        return Checked(problem="no-answer")
    claims = parse_claims(raw)
    if not claims:
        return Checked(problem="empty")
    if not any(1 <= n <= len(passages) for c in claims for n in c.markers):
        return Checked(problem="no-citation")
    out = Checked()
    numbering: dict[tuple[str, int, int], int] = {}
    aligned_by_key: dict[tuple[str, int, int], Aligned] = {}
    parts: list[str] = []
    kept_chars = dropped_chars = 0
    kept_last = False
    supports: list[float] = []
    for claim in claims:
        cross = _is_arabic(claim.body) != ev.corpus_arabic
        numbers: list[int] = []
        found = [align(claim.body, passages[n - 1], ev, cross_lingual=cross)
                 for n in claim.markers if 1 <= n <= len(passages)]
        good = supported_set(claim.body, [a for a in found if a is not None], ev, params.min_support)
        out.dropped_markers += len(claim.markers) - len(good)
        for a in sorted(good, key=found.index):  # in the order the model cited them
            key = (a.passage.chunk_id, a.start, a.end)
            if key not in numbering:
                numbering[key] = len(numbering) + 1
                aligned_by_key[key] = a
            elif a.score > aligned_by_key[key].score:
                aligned_by_key[key] = a
            supports.append(a.score)
            if numbering[key] not in numbers:
                numbers.append(numbering[key])
        if numbers:
            body = claim.body
            if not kept_last:  # what this part continued was removed: no dangling "، ..."
                body = body.lstrip("،,;؛ ") or body
            parts.append(_with_markers(body, numbers) + claim.sep)
            kept_last = True
            kept_chars += len(claim.body)
            out.kept += 1
        elif claim.markers or (len(ev.stems(claim.body)) >= 2 and not claim.body.rstrip("*_ ").endswith(":")):
            out.dropped += 1
            dropped_chars += len(claim.body)
            kept_last = False
        elif parts and "\n" in claim.sep and not parts[-1].endswith("\n"):
            parts[-1] = parts[-1].rstrip() + claim.sep
    if not out.kept:
        out.problem = "unsupported"
        return out
    if kept_chars < params.min_supported_share * (kept_chars + dropped_chars):
        out.problem = "mostly-unsupported"
        return out
    out.text = "".join(parts).strip()
    out.support = round(min(supports), 4)
    for (chunk_id, start, end), n in sorted(numbering.items(), key=lambda kv: kv[1]):
        a = aligned_by_key[(chunk_id, start, end)]
        p = a.passage
        quote = ev.doc_text(p.doc_id)[start:end]
        out.citations.append(Citation(n, p.doc_id, p.title, p.chunk_id, quote, p.text, start, end,
                                      a.score, p.section))
    return out


def _with_markers(body: str, numbers: list[int]) -> str:
    marks = "".join(f"[{n}]" for n in numbers)
    body = body.rstrip()
    end = len(body)
    while end > 0 and body[end - 1] in _TERMINAL:
        end -= 1
    if end == 0:
        return f"{body} {marks}"
    return f"{body[:end].rstrip()} {marks}{body[end:]}"


def _is_arabic(text: str) -> bool:
    arabic = sum(1 for c in text if "\u0600" <= c <= "\u06ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    return arabic >= latin


# ------------------------------------------------------------------ notices
def _notice(kind: str, arabic: bool, label: str, detail: str = "", n: int = 0,
            abstained: bool = False) -> str:
    """What the user is told, in the question's language. `abstained`: what is shown
    instead is the abstention, not an extractive answer."""
    if kind == "dropped":
        return (f"حُذفت من إجابة النموذج اللغوي {n} جملة لم تسندها المقاطع المسترجعة." if arabic else
                f"{n} sentence(s) of the model's answer were removed: the passages did not support them.")
    if arabic:
        head = {
            "failure": f"تعذّر الحصول على إجابة من النموذج اللغوي {label} ({detail})",
            "no-answer": f"لم يجد النموذج اللغوي {label} الإجابة في المقاطع المسترجعة",
        }.get(kind, f"لم تستند إجابة النموذج اللغوي {label} إلى المقاطع المسترجعة ({detail})")
        tail = "" if abstained else "؛ هذه الإجابة مستخرجة من الوثائق مباشرة"
        return head + tail + "."
    head = {
        "failure": f"The language model {label} failed ({detail})",
        "no-answer": f"The language model {label} found no answer in the passages",
    }.get(kind, f"The answer of the language model {label} was not supported by the passages ({detail})")
    return head + ("." if abstained else "; this is the extractive answer.")


_PROBLEM_DETAIL = {
    "empty": "empty answer", "no-citation": "no valid citation",
    "unsupported": "citations do not support it", "mostly-unsupported": "most of it unsupported",
    "wrong-language": "not in the language of the question",
}


# ------------------------------------------------------------------ the answerer
class GenerativeAnswerer:
    """A chat model behind Isnad's checks. Thread-safe when the chat model is (the
    LangChain OpenAI and Ollama clients are)."""

    def __init__(self, model, params: GenerativeParams, label: str | None = None) -> None:
        self.model = model
        self.params = params
        self.label = label or params.label or _model_label(model)

    # -- prompts -------------------------------------------------------------------
    def messages(self, question: str, passages: list[Passage], history: list[tuple[str, str]] = ()) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        parts = []
        convo = _history_text(history, self.params.history_turns)
        if convo:
            parts.append("Conversation so far:\n" + convo)
        blocks = []
        for i, p in enumerate(passages, 1):
            head = p.title + (f" — {p.section}" if p.section and p.section != p.title else "")
            blocks.append(f"[{i}] ({head})\n{' '.join(p.text.split())}")
        parts.append("Passages:\n\n" + "\n\n".join(blocks))
        parts.append(f"Question: {question}")
        return [SystemMessage(SYSTEM_PROMPT), HumanMessage("\n\n".join(parts))]

    def rewrite_messages(self, question: str, history: list[tuple[str, str]]) -> list:
        from langchain_core.messages import HumanMessage, SystemMessage

        convo = _history_text(history, self.params.history_turns)
        return [SystemMessage(REWRITE_PROMPT),
                HumanMessage(f"Conversation:\n{convo}\n\nLast question: {question}\n\nStand-alone question:")]

    # -- calls -------------------------------------------------------------------------
    def rewrite(self, question: str, history: list[tuple[str, str]]) -> str:
        """The follow-up `question` as a stand-alone question (GenerativeError on failure)."""
        try:
            reply = message_text(self.model.invoke(self.rewrite_messages(question, history)))
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of the service
            raise GenerativeError(describe_failure(exc, self.params)) from exc
        line = next((ln for ln in strip_reasoning(reply).splitlines() if ln.strip()), "")
        line = _LABEL.sub("", line).strip().strip("\"'«»“”`*").strip()
        if not line or not _has_words(line) or len(line) > max(400, 4 * len(question)):
            raise GenerativeError("malformed rewrite from the model")
        return line

    def generate(self, question: str, passages: list[Passage], history=()) -> str:
        try:
            return message_text(self.model.invoke(self.messages(question, passages, history)))
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GenerativeError(describe_failure(exc, self.params)) from exc

    def generate_stream(self, question: str, passages: list[Passage], history=()) -> Iterator[str]:
        """Cumulative raw text as the model writes it. A stream that goes on longer than
        5x the timeout is cut (the client's own timeout covers a silent service)."""
        deadline = time.monotonic() + 5 * self.params.timeout
        text = ""
        try:
            for chunk in self.model.stream(self.messages(question, passages, history)):
                text += message_text(chunk)
                yield text
                if time.monotonic() > deadline:
                    raise GenerativeError(f"the model was still writing after {5 * self.params.timeout:g} s")
        except GenerativeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise GenerativeError(describe_failure(exc, self.params)) from exc

    # -- answers -----------------------------------------------------------------------
    def answer(self, base: Answer, passages: list[Passage], ev: Evidence, history=()) -> Answer:
        """The checked generative answer, or `base` (the extractive one) with a notice."""
        t0 = time.perf_counter()
        try:
            raw = self.generate(base.question, passages, history)
        except GenerativeError as exc:
            return self._fallback(base, "failure", exc.reason, t0)
        return self.finish(base, raw, passages, ev, t0)

    def stream(self, base: Answer, passages: list[Passage], ev: Evidence, history=()) -> Iterator[str | Answer]:
        """Drafts (str, the answer so far as the model writes it, unchecked, reasoning
        hidden), then the final checked Answer."""
        t0 = time.perf_counter()
        raw = ""
        try:
            shown = ""
            for raw in self.generate_stream(base.question, passages, history):
                draft = strip_reasoning(raw).strip()
                if draft and draft != shown and not NO_ANSWER.startswith(draft.upper()[: len(NO_ANSWER)]):
                    shown = draft
                    yield draft
        except GenerativeError as exc:
            yield self._fallback(base, "failure", exc.reason, t0)
            return
        yield self.finish(base, raw, passages, ev, t0)

    def finish(self, base: Answer, raw: str, passages: list[Passage], ev: Evidence, t0: float) -> Answer:
        if not isinstance(raw, str):
            return self._fallback(base, "failure", "malformed response from the model service", t0)
        checked = check_answer(raw, passages, ev, self.params)
        if checked.problem == "no-answer":
            return self._fallback(base, "no-answer", "", t0)
        if not checked.problem and _is_arabic(checked.text) != _is_arabic(base.question):
            checked.problem = "wrong-language"
        if checked.problem:
            return self._fallback(base, "unsupported", _PROBLEM_DETAIL.get(checked.problem, checked.problem), t0)
        arabic = _is_arabic(base.question)
        notice = _notice("dropped", arabic, self.label, n=checked.dropped) if checked.dropped else ""
        return replace(
            base, answer=checked.text, citations=checked.citations, abstained=False, notice=notice,
            confidence=checked.support, model=self.label, timing_ms=_timing(base.timing_ms, t0),
        )

    def _fallback(self, base: Answer, kind: str, detail: str, t0: float) -> Answer:
        notice = _notice(kind, _is_arabic(base.question), self.label, detail, abstained=base.abstained)
        if base.notice:
            notice = f"{notice} {base.notice}"
        return replace(base, notice=notice, model="", timing_ms=_timing(base.timing_ms, t0))


def _timing(timing: dict, t0: float) -> dict:
    gen = (time.perf_counter() - t0) * 1000
    out = dict(timing)
    out["generate"] = gen
    out["answer"] = out.get("answer", 0.0) + gen
    out["total"] = out.get("total", 0.0) + gen
    return out


def _history_text(history, turns: int) -> str:
    lines = []
    for q, a in list(history)[-max(0, turns):] if turns else []:
        a = " ".join(_MARKER.sub("", a or "").split())
        if len(a) > 600:
            a = a[:600].rsplit(" ", 1)[0] + " …"
        lines.append(f"User: {' '.join(q.split())}\nAssistant: {a}")
    return "\n".join(lines)


def _model_label(model) -> str:
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    kind = type(model).__name__
    return f"{kind}:{name}" if isinstance(name, str) and name else kind


def make_generative(params: GenerativeParams, chat_model=None) -> GenerativeAnswerer | None:
    """The answerer for `params` (or around `chat_model`, any LangChain chat model);
    None when generative answers are off."""
    if chat_model is not None:
        return GenerativeAnswerer(chat_model, params)
    if not params.enabled:
        return None
    return GenerativeAnswerer(make_chat_model(params), params)


__all__ = [
    "Aligned", "Checked", "Claim", "Evidence", "GenerativeAnswerer", "GenerativeConfigError",
    "GenerativeError", "align", "check_answer", "describe_failure", "make_chat_model", "make_generative",
    "parse_claims", "strip_reasoning",
]
