"""Comparison words: what a reader sees decides, not the code points typed."""

from __future__ import annotations

import pytest

from bot.moderation.normalize import comparison_text, comparison_words, skeleton, strip_invisible


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\ufe0f"])
def test_invisible_characters_do_not_split_words(invisible: str) -> None:
    assert comparison_words(f"wo{invisible}rd") == ("word",)
    assert strip_invisible(f"a{invisible}b") == "ab"


def test_cyrillic_and_greek_look_alikes_are_the_latin_letters_they_look_like() -> None:
    latin = comparison_text("proxy scope expressive pass")
    assert comparison_text("рrоху ѕсоре ехрrеѕѕіvе раѕѕ") == latin  # Cyrillic р, о, х, у, ѕ, с, е, і
    assert comparison_text("ΡΑSS") == comparison_text("PASS")  # Greek capitals
    assert comparison_text("ραss") == comparison_text("pass")  # Greek ρ and α
    # Not transliterated by sound: Cyrillic "р" is Latin "p" to the eye, never "r"; "х" is "x", not "kh".
    assert comparison_text("рах") == comparison_text("pax") != comparison_text("rakh")


def test_compatibility_forms_case_and_marks_fold() -> None:
    plain = comparison_text("Fine models")
    assert comparison_text("ＦＩＮＥ ｍｏｄｅｌｓ") == plain  # fullwidth
    assert comparison_text("ﬁne 𝗺𝗼𝗱𝗲𝗹𝘀") == plain  # ligature, mathematical sans-serif bold
    assert comparison_text("fi\u0301ne\u0308 mo\u0336dels") == plain  # combining marks
    assert comparison_text("fINe MoDeLs") == plain
    assert comparison_words("step-by-step") == ("step", "by", "step")


def test_skeleton_is_tr39s() -> None:
    # Unicode's confusables data, not a table of ours: "m" and "rn" are one skeleton, so are "0" and "O".
    assert skeleton("rn") == skeleton("m")
    assert skeleton("0") == skeleton("O")
    assert skeleton("\u0430") == "a"  # Cyrillic a


def test_scripts_without_spaces_are_compared_by_character() -> None:
    # Without this a Chinese paragraph would be one "word", and a copy of it shares no 3-word shingle.
    assert comparison_words("大型语言模型") == ("大", "型", "语", "言", "模", "型")
