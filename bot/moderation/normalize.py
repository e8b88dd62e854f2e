"""Words as copy detection compares them: what a reader sees, not the code points an evader typed.

One token → its comparison words, in this order:
1. Default-ignorable and format characters (Unicode general category Cf: zero-width spaces and joiners,
   soft hyphens, bidi controls, tag characters, variation selectors …) are removed, not turned into
   spaces: "wo\u200brd" is the word "word", not "wo rd".
2. NFKC folds compatibility forms: fullwidth "ｗｏｒｄ", ligatures "ﬁ", circled and styled letters.
3. Lower case, and the confusables skeleton of Unicode TR39 (ICU's SpoofChecker, so the mapping is
   Unicode's confusables.txt, kept up to date with ICU): Cyrillic "раѕѕ" and Greek "ραѕѕ" become the
   Latin letters they look like ("pass"), not their sounds ("rass"). The skeleton is a comparison key,
   not readable text ("m" becomes "rn", "0" becomes "O"), and both sides get the same one.
4. Combining marks are dropped after a canonical decomposition (accents, stacked "Zalgo" marks), before
   and after the other steps, and whatever is not a letter or digit separates words; in scripts written
   without spaces (Han, kana, Thai …) each character is a word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from icu import SpoofChecker, UnicodeSet

# Part of every stored sketch's tag: a change to the steps above makes stored sketches stale.
NORMALIZATION = "tr39"

# Everything a renderer shows as nothing. The set comes from ICU's Unicode properties, not a hand list.
_REMOVE_INVISIBLE = {ord(ch): None for ch in UnicodeSet("[[:Default_Ignorable_Code_Point:][:Cf:]]")}
# Scripts written without spaces between words: each character counts as a word.
_UNSPACED = UnicodeSet("[[:Han:][:Hiragana:][:Katakana:][:Thai:][:Lao:][:Khmer:][:Myanmar:]]")
_SEPARATORS = re.compile(r"[\W_]+")
_SPOOF = SpoofChecker()
_MARKS = {"Mn", "Me"}
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def strip_invisible(text: str) -> str:
    """The text without default-ignorable and format characters (they are removed, never spaces)."""
    return text.translate(_REMOVE_INVISIBLE)


def skeleton(text: str) -> str:
    """The TR39 confusables skeleton of a string (ICU SpoofChecker.getSkeleton)."""
    return _SPOOF.getSkeleton(0, text)


def _without_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) not in _MARKS)


@lru_cache(maxsize=200_000)
def comparison_words(token: str) -> tuple[str, ...]:
    """The words one whitespace-separated token counts as when texts are compared for copying."""
    # Marks go before NFKC too: it turns some of them into letters (U+0345 into "ι").
    text = unicodedata.normalize("NFKC", _without_marks(strip_invisible(token)))
    # Latin capitals are lowered before the skeleton ("I" would become "l"), other scripts' capitals after
    # it, since their look-alikes are Latin capitals (Cyrillic "Т" is "T", its "т" is not "t"); the second
    # skeleton maps what lowering made of them ("M" from Greek "Μ" is "m", and the skeleton of "m" is "rn").
    text = skeleton(skeleton(text.translate(_ASCII_LOWER)).lower())
    text = _without_marks(text).lower()
    if any(ch in _UNSPACED for ch in text):
        text = "".join(f" {ch} " if ch in _UNSPACED else ch for ch in text)
    return tuple(_SEPARATORS.sub(" ", strip_invisible(text)).split())


def comparison_text(text: str) -> str:
    """A whole text as its comparison words, space-separated."""
    return " ".join(word for token in text.split() for word in comparison_words(token))
