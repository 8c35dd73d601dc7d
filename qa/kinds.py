"""What a question asks for, and whether a text holds it: the one table of patterns
for answer kinds (matched on corpus.normalize text).

- `answer_kind`: "date" («متى», "when"), "number" («كم», "how many"), "who" («من هو») or "".
- `holds_kind`: does a text hold a date / number beyond what the question itself says?
- `RELATIVE_DATE`: dates relative to the document («الشهر الماضي»).
- `asks_author`: a question about who wrote a document (bylines become quotable).

Used by sentence choice (qa.answerer), quotability (qa.clauses) and the
answerability features (qa.answerability).
"""
from __future__ import annotations

import re

_DATE_Q = re.compile(
    r"(^|\s)(متي|امتي|امته|ايمته|في اي عام|في اي سنه|في اي العام|ما تاريخ|في اي شهر|في اي يوم|"
    r"في اي قرن|في اي فتره|منذ متي|الي متي|when|what year|which year|what date|in what year|"
    r"what period|which period|what time)(\s|$)")
_NUMBER_Q = re.compile(
    r"(^|\s)(كم|كام|قديش|بكم|لكم|ما عدد|ما هو عدد|ما هي عدد|عدد|ما نسبه|ما هي نسبه|ما حجم|ما قيمه|ما مساحه|ما طول|"
    r"ما ارتفاع|ما عمق|ما مقدار|how many|how much|what percentage|what number|how long|how old|"
    # English asks for a measure by naming it, as Arabic does («ما مساحه»): "what is the area of".
    r"(?:what|which) (?:is|was|are|were) (?:the |its |their )?(?:total |annual |current |estimated )?"
    r"(?:area|population|volume|size|length|height|depth|value|amount|percentage|share|rate|budget|cost|"
    r"price|capacity|number|figure))(\s|$)")
_WHO_Q = re.compile(r"^\W*(من|مين|منو)\s|(^|\s)(من هو|من هي|من هم|من الذي|من التي|who|whom|whose)(\s|$)")
_YEAR = re.compile(r"\b(1[0-9]\d\d|20\d\d)\b")
_MONTHS = re.compile(
    r"(يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|"
    r"كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|ايلول|تشرين|قرن|القرن|ميلادي|هجري|"
    r"january|february|march|april|may|june|july|august|september|october|november|december)"
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# A year said as one («عام 2021», «منذ 1998»): a date, not the count or amount «كم» asks for.
_SAID_YEAR = re.compile(r"(?:عام|العام|سنه|السنه|منذ)\s+(1[0-9]\d\d|20\d\d)\b")
# Number words: counts in ARCD/XQuAD answers are often written out. Whole words, in the
# forms a number takes (units, tens, dual, plural), not any word they begin: «وتسعى»
# (strives) is no «تسع», «الفترة» no «ألف», «أثناء» no «اثنان», «الأربعاء» no «أربع».
_NUMBER_FORMS = (
    r"[وبل]?(ال)?(واحده?|اثن(?:ان|ين|تان|تين|ا|ي)|"
    r"(?:ثلاث|اربع|خمس|ست|سبع|تسع|ثمان)(?:مائه|مئه)|"  # hundreds in one word: «ثلاثمائة»
    r"(?:ثلاث|اربع|خمس|ست|سبع|تسع)(?:ه|ون|ين|ينيات)?|ثمان(?:ي|يه|ون|ين|ينيات)?|عشر(?:ه|ات|ون|ين|ينيات)?|"
    r"مائه|مئه|(?:مائت|مئت)(?:ان|ين|ا|ي)|مئات|الف(?:ا|ان|ين)?|الاف|الوف|"
    r"مليون(?:ا|ان|ين)?|ملايين|مليار(?:ا|ان|ين|ات)?|بليون|بلايين|"
    r"(?:نصف|ربع|ثلث)(?:ا|ان|ين|ي)?|انصاف|ارباع|اثلاث|ضعف(?:ا|ان|ين)?|اضعاف)")
_NUMBER_WORDS = re.compile(r"(^|\s)" + _NUMBER_FORMS + r"(?!\w)")
NUMBER_WORD = re.compile(_NUMBER_FORMS + "$")  # one normalized word (qa.slots)
_AUTHOR_Q = re.compile(r"(كتب|كاتب|اعد|اعداد|مؤلف|مولف|الف|تاليف|بقلم|wrote|author|written|prepared)")

RELATIVE_DATE = re.compile(
    r"(الشهر الماضي|العام الماضي|السنه الماضيه|الاسبوع الماضي|الشهر الجاري|العام الجاري|هذا العام|"
    r"هذا الشهر|امس|البارحه|last (month|year|week)|this (month|year)|yesterday)"
)


def answer_kind(norm_question: str) -> str:
    if _DATE_Q.search(norm_question):
        return "date"
    if _NUMBER_Q.search(norm_question):
        return "number"
    if _WHO_Q.search(norm_question):
        return "who"
    return ""


def holds_kind(kind: str, norm_text: str, norm_question: str = "") -> bool:
    """Does the text hold the kind of answer asked for, beyond what the question says?"""
    if kind == "date":
        asked = set(_YEAR.findall(norm_question))
        years = set(_YEAR.findall(norm_text)) - asked
        months = {m.group(0) for m in _MONTHS.finditer(norm_text)} - {
            m.group(0) for m in _MONTHS.finditer(norm_question)}
        return bool(years or months)
    if kind == "number":
        asked = set(_DIGITS.findall(norm_question)) | set(_SAID_YEAR.findall(norm_text))
        if set(_DIGITS.findall(norm_text)) - asked:
            return True
        asked_words = {m.group(0).strip() for m in _NUMBER_WORDS.finditer(norm_question)}
        return bool({m.group(0).strip() for m in _NUMBER_WORDS.finditer(norm_text)} - asked_words)
    return False


def asks_author(norm_question: str) -> bool:
    return bool(_AUTHOR_Q.search(norm_question))
