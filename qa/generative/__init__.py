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

from qa.generative.answerer import GenerativeAnswerer, make_generative
from qa.generative.checking import Aligned, Checked, Evidence, align, check_answer
from qa.generative.errors import GenerativeConfigError, GenerativeError
from qa.generative.models import describe_failure, make_chat_model
from qa.generative.output import Claim, parse_claims, strip_reasoning

__all__ = [
    "Aligned", "Checked", "Claim", "Evidence", "GenerativeAnswerer", "GenerativeConfigError",
    "GenerativeError", "align", "check_answer", "describe_failure", "make_chat_model", "make_generative",
    "parse_claims", "strip_reasoning",
]
