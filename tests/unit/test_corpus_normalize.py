"""Arabic normalization for matching, and exact offsets back into the source."""
from __future__ import annotations

import pytest

from corpus.normalize import (
    contains_normalized,
    find_normalized,
    normalize,
    normalize_with_offsets,
    source_span,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "source, expected",
    [
        # fatha, damma, kasra, sukun, shadda, tanween
        ("مُحَمَّدٌ", "محمد"),
        ("كِتَابًا", "كتابا"),
        ("عِلْمٍ", "علم"),
        ("شُكْرٌ", "شكر"),
        ("مَدْرَسَةٌ", "مدرسه"),
        # superscript (dagger) alef
        ("هٰذا", "هذا"),
        # tatweel (kashida)
        ("كتـــاب", "كتاب"),
        ("العـربـيـة", "العربيه"),
    ],
)
def test_tashkeel_and_tatweel_are_removed(source, expected):
    assert normalize(source) == expected


@pytest.mark.parametrize("alef", ["أ", "إ", "آ", "ٱ"])
def test_alef_forms_unify(alef):
    assert normalize(alef + "حمد") == "احمد"
    assert normalize(f"ال{alef}مر") == "الامر"


def test_alef_maqsura_and_ta_marbuta():
    assert normalize("مستشفى") == "مستشفي"
    assert normalize("على") == normalize("علي")
    assert normalize("مدرسة") == "مدرسه"
    assert normalize("الإستراتيجية") == normalize("الاستراتيجيه")


def test_arabic_indic_and_persian_digits():
    assert normalize("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert normalize("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert normalize("عام ٢٠٢٤") == "عام 2024"
    assert normalize("سنة ۱۴۰۳") == "سنه 1403"


def test_arabic_decimal_and_thousands_marks():
    assert normalize("٣٫٥") == "3.5"
    assert normalize("١٬٠٠٠٬٠٠٠") == "1,000,000"
    assert normalize("٣٫٥") == normalize("3.5")


@pytest.mark.parametrize(
    "presentation, expected",
    [
        ("ﻻ", "لا"),  # lam-alef ligature
        ("ﻷ", "لا"),  # lam-alef with hamza above -> hamza dropped with the alef form
        ("ﺍﻟﺴﻼﻡ", "السلام"),  # isolated/initial/medial/final forms
        ("ﺓ", "ه"),  # ta marbuta presentation form, then ة -> ه
    ],
)
def test_presentation_forms(presentation, expected):
    assert normalize(presentation) == expected
    norm, offsets = normalize_with_offsets(presentation)
    assert norm == expected
    assert len(offsets) == len(norm) + 1


def test_latin_is_case_folded_and_plain_text_untouched():
    assert normalize("The Diplomat") == "the diplomat"
    plain = "وزراء دفاع آسيا الوسطى"
    assert normalize(plain) == "وزراء دفاع اسيا الوسطي"


def test_invisible_format_characters_dropped():
    assert normalize("طش\u200cقند") == "طشقند"
    assert normalize("\u200fطشقند\u200e") == "طشقند"


@pytest.mark.parametrize(
    "text",
    [
        "مُحَمَّدٌ رَسُولُ اللَّهِ",
        "كتـــاب الإستراتيجية ٢٠٢٤",
        "ﻻ إله ﺍﻟﺴﻼﻡ ٣٫٥",
        "The Diplomat قال: «أهلاً»",
        "",
    ],
)
def test_offsets_have_one_entry_per_output_char_plus_end(text):
    norm, offsets = normalize_with_offsets(text)
    assert norm == normalize(text)
    assert len(offsets) == len(norm) + 1
    assert offsets[-1] == len(text)
    assert offsets == sorted(offsets)
    for i, off in enumerate(offsets[:-1]):
        # every output character comes from the source character it points at
        assert normalize(text[off]) != "" and norm[i] in normalize(text[off])


def test_offsets_skip_dropped_characters():
    text = "مُحَمَّد"
    norm, offsets = normalize_with_offsets(text)
    assert norm == "محمد"
    assert [text[o] for o in offsets[:-1]] == ["م", "ح", "م", "د"]


@pytest.mark.parametrize(
    "haystack, needle",
    [
        ("وقّعت الدولتان المعاهدة في عام ٢٠٢٤ في طشقند.", "2024"),
        ("signed in 2024 in Tashkent", "٢٠٢٤"),
        ("تعززان شراكتهما الإستراتيجية بعد التوقيع", "الاستراتيجيه"),
        ("قال مُحَمَّدٌ إنّ الأمرَ مهمّ", "محمد ان الامر"),
        ("بلغت النسبة ٣٫٥ بالمئة", "3.5"),
        ("كتـــاب  جديد\nتماماً", "كتاب جديد تماما"),  # tatweel, runs of white space
        ("مرحبا ﺍﻟﺴﻼﻡ عليكم", "السلام"),
        ("وفي مدينة سمرقند الأوزبكية", "سَمَرْقَنْد"),  # diacritics in the needle
    ],
)
def test_find_normalized_maps_back_to_exact_source_span(haystack, needle):
    span = find_normalized(haystack, needle)
    assert span is not None
    start, end = span
    assert 0 <= start < end <= len(haystack)
    found = haystack[start:end]
    # The source span, normalized and with white space folded, is the needle.
    assert " ".join(normalize(found).split()) == " ".join(normalize(needle).split())
    # It is tight: it begins and ends with characters that survive normalization.
    assert normalize(found[0]) and normalize(found[-1])
    assert contains_normalized(haystack, needle)


def test_digit_forms_find_each_other():
    assert find_normalized("في عام ٢٠٢٤ وقعت", "2024") == (7, 11)
    assert find_normalized("في عام 2024 وقعت", "٢٠٢٤") == (7, 11)
    assert find_normalized("في عام ۲۰۲۴ وقعت", "٢٠٢٤") == (7, 11)


def test_find_normalized_not_found_and_empty():
    assert find_normalized("طشقند وباكو", "سمرقند") is None
    assert find_normalized("طشقند وباكو", "") is None
    assert find_normalized("طشقند وباكو", "َ ً") is None  # only diacritics
    assert not contains_normalized("طشقند", "   ")
    assert not contains_normalized("2024", "2025")


def test_find_normalized_ends_before_trailing_diacritics_are_lost():
    # The match ends at the last letter of the needle; a shadda after it is not part
    # of what was asked for, but the span must still re-normalize to the needle.
    text = "إنّ"
    start, end = find_normalized(text, "ان")
    assert normalize(text[start:end]) == "ان"


def test_source_span_of_empty_and_ligature_spans():
    norm, offsets = normalize_with_offsets("xﻻy")
    assert norm == "xلاy"
    # the two output letters of the ligature both map back to the one source char
    assert source_span(offsets, 1, 3) == (1, 2)
    assert source_span(offsets, 1, 1) == (1, 1)


@pytest.mark.parametrize("word", ["ΟΔΟΣ", "Straße", "İstanbul", "ΣΟΦΙΑ"])
def test_needle_is_found_in_its_own_text(word):
    # normalize (whole string) and normalize_with_offsets (per character) must agree,
    # even where lower-casing depends on context (Greek final sigma)
    assert normalize(word) == normalize_with_offsets(word)[0]
    text = f"قال {word} ثم"
    start, end = find_normalized(text, word)
    assert text[start:end] == word


def test_needle_ending_inside_a_ligature_gets_the_whole_character():
    text = "قال ﻻ شيء"
    start, end = find_normalized(text, "قال ل")
    assert text[start:end] == "قال ﻻ"
