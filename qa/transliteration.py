"""Latin-script names in a question matched to their Arabic spelling in the corpus
(Samarkand -> سمرقند, Birlik -> بيرليك), so that the keyword side can find them.

The table is built from the corpus itself: every word of the lexical index is
romanized with `anyascii` (a maintained Unicode-to-ASCII transliteration library)
and reduced to a consonant skeleton; a Latin word of the question is reduced the
same way and matched against those skeletons (exactly, or within one edit for
longer names, since spellings differ: Tashkent / طشقند, Azerbaijan / أذربيجان).
A name no word spells as written is looked for among words written with the article
(Kremlin -> الكرملين, Kazakh -> الكازاخي; not for every name: «التركية», «البنك» would then
answer Turkey, Bank), and a people's adjective finds its country too (Kazakh -> كازاخستان,
Uzbek -> أوزبكستان, Azerbaijani -> أذربيجان).
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable

from anyascii import anyascii

from corpus.language import has_arabic
from qa.settings import FUZZY_FROM, MAX_SPELLINGS, MIN_SKELETON

# Sounds that scripts write differently are one class: q/k/c/g (Samarkand, سمرقند),
# and the digraphs the romanizations use.
_DIGRAPHS = [("kh", "x"), ("sh", "S"), ("ch", "S"), ("gh", "k"), ("th", "t"), ("dh", "d"), ("zh", "j"), ("ph", "f")]
_CLASSES = str.maketrans({"q": "k", "c": "k", "g": "k", "v": "f", "p": "b", "x": "x"})
_DROP = re.compile(r"[aeiouyw'`h\W\d_]+")
# The article and the clitics written before it (وال، بال، لل ...).
_ARTICLE = re.compile(r"^(?:[وفبكل]?ال|لل)(?=\w{3})")
# English adjectives of peoples and languages: Turkish, Turkic, Azerbaijani.
_ADJECTIVE = re.compile(r"(?:ish|ic|ese|ian|i)$")
_Table = dict[str, list[tuple[int, str]]]  # skeleton -> [(document count, word)]
_LATIN_WORD = re.compile(r"\b[A-Za-z][A-Za-z'-]{3,}\b")
# Capitalized words that are not names (question words, sentence starts).
_NOT_NAMES = {
    "what", "when", "where", "which", "who", "whom", "whose", "why", "how", "does", "did",
    "the", "this", "that", "these", "those", "there", "with", "from", "into", "about", "were",
    "was", "have", "has", "had", "will", "would", "could", "should", "according", "name",
    "list", "tell", "give", "describe", "explain", "between", "after", "before", "during",
}


def _romanized(word: str) -> str:
    """A word of any script in Latin letters, its consonants in their sound classes."""
    s = anyascii(word).lower()
    for digraph, single in _DIGRAPHS:
        s = s.replace(digraph, single)
    return s.translate(_CLASSES)


def skeleton(word: str) -> str:
    """The consonant skeleton of a word of any script, e.g. Samarkand -> smrknd."""
    s = _DROP.sub("", _romanized(word))
    return re.sub(r"(.)\1+", r"\1", s)  # doubled letters (shadda, "ss") count once


_VOWELS = frozenset("aeiouyw")


def _vowel_gaps(word: str) -> frozenset[int]:
    """Where a word writes a vowel between two consonants of its skeleton: {i} for a
    vowel between the i-th and the (i+1)-th (romanized Arabic shows only the long vowels
    ي and و; a Latin spelling shows every vowel)."""
    consonants: list[str] = []
    gaps: set[int] = set()
    vowel = False
    for ch in _romanized(word):
        if ch in _VOWELS:
            vowel = True
        elif _DROP.fullmatch(ch) is None and (not consonants or ch != consonants[-1]):
            if vowel and consonants:
                gaps.add(len(consonants) - 1)
            consonants.append(ch)
            vowel = False
    return frozenset(gaps)


def vowels_agree(name: str, word: str) -> bool:
    """An Arabic word of the same skeleton as a Latin name may spell it only if every long
    vowel it writes between two consonants has a vowel in the name there too: «تركيا» spells
    Turkey, «طريق» (road; same skeleton t-r-k) does not: its ي stands between r and q,
    where Turkey has no vowel."""
    return _vowel_gaps(word) <= _vowel_gaps(name)


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    if len(a) > len(b):
        a, b = b, a
    return any(a == b[:i] + b[i + 1 :] for i in range(len(b)))


def _deletions(s: str) -> set[str]:
    return {s[:i] + s[i + 1 :] for i in range(len(s))}


def latin_names(question: str) -> list[str]:
    """Latin-script words of the question that may be names (not question words)."""
    return list(dict.fromkeys(w for w in _LATIN_WORD.findall(question)
                              if w[0].isupper() and w.lower() not in _NOT_NAMES))


class NameMatcher:
    """Arabic spellings of Latin names, from the vocabulary of one index (built on first use)."""

    def __init__(self, vocabulary: Callable[[], Iterable[tuple[str, int]]]) -> None:
        """`vocabulary`: called once, on first use: (word, document count) pairs."""
        self._vocabulary = vocabulary
        self._by_skeleton: _Table | None = None
        self._articled: _Table = {}  # skeleton without the article -> words written with it
        self._deletions: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _tables(self) -> tuple[_Table, dict[str, set[str]], _Table]:
        """(skeleton -> [(count, word)], one-deletion variant -> skeletons, the same as the
        first for words written with the article, keyed without it) of the vocabulary."""
        with self._lock:
            if self._by_skeleton is None:
                table: _Table = {}
                articled: _Table = {}
                for word, count in self._vocabulary():
                    if has_arabic(word):
                        sk = skeleton(word)
                        if len(sk) >= MIN_SKELETON:
                            table.setdefault(sk, []).append((count, word))
                        bare = _ARTICLE.sub("", word)
                        if bare != word and len(skeleton(bare)) >= MIN_SKELETON:
                            articled.setdefault(skeleton(bare), []).append((count, word))
                deletions: dict[str, set[str]] = {}
                for sk in table:
                    if len(sk) >= FUZZY_FROM - 1:
                        for variant in _deletions(sk) | {sk}:
                            deletions.setdefault(variant, set()).add(sk)
                self._by_skeleton, self._deletions, self._articled = table, deletions, articled
            return self._by_skeleton, self._deletions, self._articled

    def arabic_spellings(self, name: str) -> list[str]:
        """Corpus words that spell `name` in Arabic script, most frequent first; for a
        people's adjective (Kazakh, Azerbaijani) also its country's name as the corpus
        writes it (كازاخستان, أذربيجان)."""
        found = self._spellings(skeleton(name), name=name)
        base = _ADJECTIVE.sub("", name) if len(name) > 5 else name
        if base != name:
            found += self._spellings(skeleton(base), name=base)
        if not found:  # only with the article in the text: Kazakh -> الكازاخي
            found = self._spellings(skeleton(name), fuzzy=False, table=self._tables()[2])
        root = skeleton(base)  # a people's name as its country's: Uzbek -> Uzbekistan
        country = self._spellings(root + "stn", fuzzy=False) if len(root) >= MIN_SKELETON else []
        return list(dict.fromkeys(found[:MAX_SPELLINGS] + country[:MAX_SPELLINGS]))

    def _spellings(self, sk: str, fuzzy: bool = True, table: _Table | None = None, name: str = "") -> list[str]:
        """Words of `table` (default: the plain one) whose skeleton is `sk` (or, when
        `fuzzy`, one edit from it); with `name`, a word of exactly that skeleton must write
        its long vowels where the name has vowels (`vowels_agree`)."""
        if len(sk) < MIN_SKELETON:
            return []
        plain, deletions, _ = self._tables()
        table = plain if table is None else table
        keys = {sk}
        if fuzzy and len(sk) >= FUZZY_FROM:  # longer names: one edit apart still matches (Tashkent / طشقند)
            near = set().union(*(deletions.get(v, set()) for v in _deletions(sk) | {sk}))
            keys |= {k for k in near if _within_one_edit(sk, k)}
        found = sorted((cw for k in keys for cw in table.get(k, [])
                        if not name or k != sk or vowels_agree(name, cw[1])), reverse=True)
        return list(dict.fromkeys(w for _, w in found))[:MAX_SPELLINGS]

    def expand(self, question: str) -> str:
        """The Arabic spellings of the question's Latin names, space-separated ("" if none)."""
        return " ".join(w for name in latin_names(question) for w in self.arabic_spellings(name))
