"""The slot a question asks to fill, and whether a sentence fills it.

A near-miss names the question's entities but not the fact asked for: «كم عدد طائرات
TB2 التي اشترتها قيرغيزستان؟» quoted by «بدأت شراء مسيّرات TB2 التركية» (no count),
«ما قيمة ميزانية الدفاع الأوزبكية لعام 2025؟» by Turkish exports in dollars (another
figure, another year), «من هو وزير الدفاع الكازاخستاني؟» by the Uzbek minister. So:

- `read_slot`: the kind of answer wanted (a count, an amount, a date), the focus (the
  first content words after the question word: «طائرات TB2», «ميزانية الدفاع»), the
  years the question names as modifiers («عام 2023») and its nationality-like
  adjectives («الكازاخستاني»);
- `filled`: does a sentence hold a filler of that kind (a figure that is not an echo of
  the question; for an amount, one with a unit; for a date, a year or month not asked)
  within a few words of the focus?

All matching is on corpus.normalize text (ASCII digits, unified letters); stems come
from the index's analyzer, so the focus matches inflected forms.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from qa.kinds import NUMBER_WORD, answer_kind

# Question words and the words that only say "how many / what value" (not the focus).
_WH = frozenset("""كم كام بكم لكم وكم فكم ما ماذا من مين منو هو هي هم متي امتي في اي الي منذ عدد قيمه تكلفه كلفه حجم
مقدار نسبه اسم يبلغ بلغ بلغت تبلغ كان كانت هل الذي التي ال عام العام سنه السنه تاريخ شهر يوم قرن فتره
وقت""".split())
_AMOUNT_Q = re.compile(r"(^|\s)(قيمه|تكلفه|كلفه|ميزانيه|مبلغ|سعر|ثمن|راس مال|بالدولار|دولار|استثمارات|ايرادات|"
                       r"صادرات|واردات|حجم التبادل|حجم التجاره|how much)(\s|$)")
_UNIT = re.compile(r"^[وب]?(ال)?(مليون|ملايين|مليار|مليارات|بليون|الف|الاف|دولار|دولارا|يورو|ليره|روبل|"
                   r"مناط|سوم|تينغ|تنغ|درهم|ريال|جنيه|%|٪|بالمئه|بالمائه|المئه)")
_MONTH = re.compile(r"(يناير|فبراير|مارس|ابريل|مايو|يونيو|يوليو|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر|كانون|"
                    r"شباط|اذار|نيسان|ايار|حزيران|تموز|ايلول|تشرين|القرن|قرن|محرم|صفر|ربيع|جمادي|رجب|شعبان|"
                    r"رمضان|شوال|القعده|الحجه|الميلاد|ميلادي|الهجره|هجري)")
# A year as a word: «1517م», «عام 2024»; before 1000 with an era mark («753 ق.م»): see _filler.
_ANY_YEAR = re.compile(r"^\D{0,3}(\d{3,4})\D{0,2}$")
_YEAR = re.compile(r"^\D*(1[0-9]\d\d|20\d\d)\D*$")
_DIGITS = re.compile(r"\d+")
# A figure as a word of its own («25», «و10٪», «2,2»), not a model code («Su-30SM», «TB2»).
_FIGURE = re.compile(r"^[وبل]?(ال)?\d+([.,]\d+)*[%٪]?$")
# A nationality adjective («الكازاخستاني», «الاوزبكيه»): a modifier that picks one of
# several entities of the same kind (this country's minister, budget, army). Only
# adjectives of peoples and countries (a table of their stems, normalized): a nisba of
# kind («الحديديه», «الميلادي», «البرلماني») says nothing about whose fact it is.
_NISBA = re.compile(r"^ال(\w{3,}?)(يه|يين|يون|ي)$")
_NATIONS = tuple("""امريك فرنس الماني المان بريطان انجليز انكليز روس صين ياباني يابان هند ترك ايران عراق سور مصر
سعود اردن لبنان فلسطين يمن مغرب جزائر تونس ليب سودان اسبان ايطال برتغال يونان كند برازيل مكسيك ارجنتين
استرال باكستان افغان كازاخ قازاق اوزبك تركمان قيرغيز قرغيز طاجيك اذربيجان اذري ارمن جورج اوكران بولند هولند
بلجيك سويد نرويج دنمارك فنلند كوري فيتنام اندونيس ماليز اثيوب نيجير كيني بيلاروس منغول اسرائيل كويت قطر
امارات بحرين عمان نمساو سويسر تشيك مجر صرب كروات رومان بلغار""".split())
# A nation named as a word: its stem above, then nothing or an ending of country or
# people («تركيا», «الكازاخستانية», «الروس»); aliases are one nation («انكليز» = «انجليز»).
_NATION_WORD = re.compile(r"^[وبلفك]?(?:ال)?(" + "|".join(sorted(_NATIONS, key=len, reverse=True))
                          + r")(?:ستان|ستاني|ستانيه|ستانيين|ستانيون|يا|ا|ي|يه|يين|يون|ان|اني|انيه|ين|ه)?$")
# «بالانجليزية», «بالفرنسية»: a language («in English»), not a nation's fact.
_LANGUAGE = re.compile(r"^بال\w+يه$")
_LANGUAGE_NOUNS = frozenset({"اللغه", "باللغه", "لغه", "اللهجه", "الادب", "المطبخ"})  # «اللغة الفرنسية»: a language
_NATION_ALIAS = {"انكليز": "انجليز", "قازاق": "كازاخ", "قرغيز": "قيرغيز", "المان": "الماني", "اذري": "اذربيجان",
                 "يابان": "ياباني"}
# A question that plainly asks for a figure: «كم ...», «بكم ...», «ما (هو) عدد / قيمة / حجم ...».
# Other questions that only mention «عدد» («من سجل أعلى عدد ...؟») ask for something else.
_ASKS_FIGURE = re.compile(r"(^|\s)[وف]?[بل]?كم(\s|$)|^[وف]?ما( هو| هي)? (عدد|قيمه|حجم|تكلفه|كلفه|مقدار|مبلغ|نسبه|"
                          r"ميزانيه)(\s|$)")
FOCUS_WORDS = 2  # content words after the question word that make the focus
NEAR = 20  # words between the focus and its filler, at most (a clause)


@dataclass(frozen=True)
class Slot:
    kind: str  # "number", "amount", "date" or "" (no filler to look for)
    focus: tuple[str, ...]  # stems of the focus
    years: frozenset[str]  # years the question names (modifiers, never the answer)
    nisbas: tuple[str, ...]  # the question's nationality-like adjectives, bare («كازاخستان»)
    digits: frozenset[str]  # every figure the question holds (echoes, not fillers)
    words: frozenset[str] = frozenset()  # the question's words (a month it names is no answer)


def read_slot(nq: str, stem: Callable[[str], str | None]) -> Slot:
    """The slot of a normalized question."""
    kind = answer_kind(nq)
    if kind == "number" and _AMOUNT_Q.search(nq):
        kind = "amount"
    words = re.findall(r"[\w%٪]+", nq)
    i = 0
    while i < len(words) and words[i] in _WH:
        i += 1
    focus: list[str] = []
    for w in words[i:]:
        if len(focus) == FOCUS_WORDS:
            break
        s = stem(w)
        if s and len(s) >= 2 and not _DIGITS.fullmatch(w) and s not in focus:  # «م عدد»: a typo's stray letter
            focus.append(s)
    years = frozenset(m.group(1) for w in words if (m := _YEAR.match(w)))
    nisbas = tuple(dict.fromkeys(m.group(1) for w in words if (m := _NISBA.match(w)) and m.group(1).startswith(_NATIONS)))
    return Slot(kind if kind in ("number", "amount", "date") else "", tuple(focus), years, nisbas,
                frozenset(_DIGITS.findall(nq)), frozenset(words))


def _filler(slot: Slot, words: list[str], j: int, counts_focus: bool = False) -> bool:
    """Is words[j] a filler of the slot's kind (not an echo of the question)?
    `counts_focus`: the next word is the focus («1000 مركبة»): a count, not a year."""
    w = words[j]
    digits = _DIGITS.findall(w)
    new_figure = bool(_FIGURE.match(w)) and not set(digits) <= slot.digits
    if slot.kind == "date":
        year = _ANY_YEAR.match(w)
        return (year is not None and year.group(1) not in slot.digits) or (
            bool(_MONTH.search(w)) and w not in slot.words)
    is_year = bool(_YEAR.match(w)) and not counts_focus
    figure = (new_figure and not is_year) or (not digits and bool(NUMBER_WORD.match(w)))
    if slot.kind == "number":
        return figure
    if slot.kind == "amount":  # a figure with a unit next to it
        return figure and any(_UNIT.match(x) or x in ("%", "٪") for x in words[max(0, j - 1): j + 4])
    return False


def filled(slot: Slot, words: list[str], stems: list[str | None]) -> bool:
    """Does the sentence (normalized words and their stems) hold a filler of the slot's
    kind within NEAR words of a focus word? Without a focus, anywhere in the sentence."""
    if not slot.kind:
        return False
    at = [i for i, s in enumerate(stems) if s and _is_focus(s, slot.focus)] if slot.focus else list(range(len(words)))
    if not at:
        return False
    if slot.kind == "number" and any(_dual_of_asked(words[i], slot.words) for i in at):
        return True  # «فريقين» for «كم فريقا»: the dual is the count (two)
    return any(_filler(slot, words, j, counts_focus=j + 1 in at) for j in range(len(words))
               if any(abs(j - i) <= NEAR for i in at))


_CLITIC = re.compile(r"^(?:[وفبلك]?ال|[وفبلك])(?=\w{3})")


def _dual_of_asked(word: str, asked: frozenset[str]) -> bool:
    """Is `word` the dual of a noun the question names in the singular («فريقين» /
    «فريقان» of «فريقا», «دولتين» of «دوله»)?"""
    bare = _CLITIC.sub("", word)
    for ending, base_end in (("تين", "ه"), ("تان", "ه"), ("ين", ""), ("ان", "")):
        if bare.endswith(ending) and len(bare) - len(ending) >= 3:
            base = bare[: -len(ending)] + base_end
            return any(_CLITIC.sub("", w).rstrip("ا") == base for w in asked)
    return False


_LONG_VOWELS = str.maketrans("", "", "اويى")


def _is_focus(stem: str, focus: tuple[str, ...]) -> bool:
    """Is a sentence's stem one of the focus's, allowing what the light stemmer leaves
    apart: a plural ending («قارا» for «قارات», focus «قار»: one stem the other's prefix,
    3+ letters) and a broken plural («مناطق» / «منطق», «انهار» / «نهر»: the same letters
    without long vowels, 3+ of them)."""
    if stem in focus:
        return True
    for f in focus:
        short, long_ = sorted((stem, f), key=len)
        if len(short) >= 3 and long_.startswith(short) and len(long_) - len(short) <= 2:
            return True
        skeleton = f.translate(_LONG_VOWELS)
        if len(skeleton) >= 3 and stem.translate(_LONG_VOWELS) == skeleton:
            return True
    return False


def count_unfilled(slot: Slot, norm_question: str, words: list[str], stems: list[str | None]) -> bool:
    """The question plainly asks for a count or an amount («كم عدد الجنود ...؟»), the
    sentence speaks of what is counted (a focus word is there) yet holds no figure at all:
    a neighbouring fact about the same thing, not the figure asked for. A sentence that
    never names the focus may phrase the answer otherwise («2,8٪ من البروتستانت» for «ما
    النسبة المئوية»): left undecided."""
    if slot.kind not in ("number", "amount") or not _ASKS_FIGURE.search(norm_question):
        return False
    if not any(s and _is_focus(s, slot.focus) for s in stems):
        return False
    if filled(slot, words, stems):  # a figure near the focus, or its dual
        return False
    # Any figure elsewhere, a year included, with or without a unit, may be the answer with
    # its subject phrased otherwise («قامت الجامعة بتخفيض مقتنياتها ... بمبلغ 230 مليون
    # دولار», «الصادرات بالطن: 585000»): only a quote without one is plainly no count.
    anything = dataclasses.replace(slot, kind="number")
    return not any(_filler(anything, words, j, counts_focus=True) for j in range(len(words)))


def years_absent(slot: Slot, held: set[str] | frozenset[str]) -> float:
    """Share of the years the question names that are not among `held` (a text's words
    or stems: a year is its own stem) when the text names other years instead: a figure
    for another year. A text that names no year at all may still speak of the one asked
    (a season, a census), so it counts as holding them."""
    if not slot.years or not any(_YEAR.match(t) and t.isdigit() for t in held):
        return 0.0
    return len(slot.years - set(held)) / len(slot.years)


def _nation_of(word: str) -> str | None:
    """The nation a normalized word names, as country or people; None for a language."""
    m = None if _LANGUAGE.match(word) else _NATION_WORD.match(word)
    return _NATION_ALIAS.get(m.group(1), m.group(1)) if m else None


def nations(norm_text: str) -> frozenset[str]:
    """The nations a normalized text names, as country or people («تركيا», «الأوزبكي»)."""
    return frozenset(n for w in re.findall(r"\w+", norm_text) if (n := _nation_of(w)))


def nation_mismatch(norm_question: str, norm_quote: str, norm_passage: str) -> bool:
    """The question names a nation its cited passage never names, and the quote names
    another one instead: «أمين مجلس الأمن الكازاخستاني» quoted by «أمين مجلس الأمن
    الأوزبكي» (another country's fact). A nation the passage names elsewhere may be the
    quote's subject by context, so only the passage's silence counts."""
    asked = nations(norm_question)
    return bool(asked - nations(norm_passage)) and bool(nations(norm_quote) - asked)


def _nation_adjective(word: str) -> str | None:
    """The nation of a nationality adjective with the article («الأوزبكي», «التركمانية»);
    None for a country's name («لبنان») or a people's plural («الرومان»)."""
    return _nation_of(word) if _NISBA.match(word) else None


def nation_swapped(norm_question: str, norm_quote: str, stem: Callable[[str], str | None]) -> bool:
    """The question qualifies a thing by a nation («وزير الطاقة الأذربيجاني») and the quote
    names that same thing qualified by another nation only («وزير الطاقة الأوزبكي»): the
    other country's minister, budget or army, whatever else the quote says of the asked one."""
    q_words = re.findall(r"\w+", norm_question)
    # (nation, the word it qualifies: «الطاقة») for each nationality adjective of the question
    qualified = [(asked, q_words[i - 1]) for i, w in enumerate(q_words)
                 if i > 0 and (asked := _nation_adjective(w)) is not None
                 and not _nation_of(q_words[i - 1]) and q_words[i - 1] not in _LANGUAGE_NOUNS]
    if not qualified:  # most questions: nothing to stem
        return False
    quote = re.findall(r"\w+", norm_quote)
    quote_stems = [stem(w) for w in quote]
    for asked, head_word in qualified:
        head = stem(head_word)
        if not head:
            continue
        after = [[_nation_adjective(x) for x in quote[j + 1: j + 3]] for j, s in enumerate(quote_stems) if s == head]
        if any(asked in found for found in after):
            continue  # the asked nation's own one is there too
        if any(n and n != asked for found in after for n in found[:1]):
            return True
    return False


def nisbas_absent(slot: Slot, words: list[str]) -> float:
    """Share of the question's nationality-like adjectives («الكازاخستاني») that the text
    holds in no form (adjective or country: «كازاخستان», «الكازاخستانيه»)."""
    if not slot.nisbas:
        return 0.0
    text = " ".join(words)
    return sum(1 for n in slot.nisbas if n not in text) / len(slot.nisbas)
