"""Question in, cited answer out: hybrid retrieval, extractive answers, abstention, chat.

A Python API with no user I/O. Imports corpus and index only, never ui or evals.

    from qa.engine import Isnad
    isnad = Isnad.open()                  # loads (or first builds) the index once
    answer = isnad.ask("متى وقعت معاهدة التحالف بين أذربيجان وأوزبكستان؟")
    answer.to_dict()                      # the Answer JSON: qa/ANSWER_CONTRACT.md

One question, one way (qa.engine wires the steps):

    question.py    clean, bound, language          -> Question
    retriever.py   dense + lexical, fused           -> Retrieved  (coverage.py, clauses.reference_share)
    answerer.py    choose sentences, compose quote  -> Composed   (clauses.py, kinds.py)
    abstention.py  answer or abstain                -> Verdict    (answerability.py)
    pages.py       page numbers                     -> Answer     (types.py)

Around it: chat.py (a conversation over any ChatEngine), generative/ (optional answers
written by a language model, checked), langchain_retriever.py (retrieval as a LangChain
BaseRetriever), transliteration.py (Latin names -> Arabic spellings), settings.py
(every threshold, limit and weight; the environment read once).
"""
