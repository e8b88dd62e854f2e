"""Ways people disguise a copied text, as functions: plain text in, (body, body_format) out.

Shared by the evasion tests (on the fixture texts) and bench/bench_evasion.py (on real abstracts and
forum posts). Every technique keeps the text looking like the original to a reader, or changes it the
way a paraphrasing evader would (words swapped, sentences moved or added); none is told how detection works.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Callable

Evaded = tuple[str, str]  # (body, body_format)
Technique = Callable[[str, random.Random], Evaded]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")

# Look-alike letters an evader picks by eye (the Latin letter each one passes for).
CYRILLIC = dict(zip("aceopxyisjABCEHKMOPTX", "асеорхуіѕјАВСЕНКМОРТХ", strict=True))
GREEK = dict(zip("oviaABEHIKMNOPTXYZ", "ονιαΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", strict=True))
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
_COMBINING = [chr(c) for c in range(0x0300, 0x0370)]
_HIDING = [
    '<span style="display:none">{}</span>',
    '<span style="visibility: hidden">{}</span>',
    "<span hidden>{}</span>",
    '<span aria-hidden="true">{}</span>',
    '<span style="font-size:0">{}</span>',
    "<template>{}</template>",
    '<span class="x">{}</span>',  # hidden by the <style> rule at the top of the body
]
_JUNK = "banana orbit velvet kettle spruce quartz lantern mosaic pebble tundra walnut harbor".split()
_SYNONYMS = {
    "use": "employ",
    "uses": "employs",
    "using": "employing",
    "show": "demonstrate",
    "shows": "demonstrates",
    "method": "approach",
    "methods": "approaches",
    "large": "big",
    "important": "crucial",
    "however": "nevertheless",
    "also": "additionally",
    "propose": "put forward",
    "results": "findings",
    "models": "systems",
    "model": "system",
    "can": "is able to",
    "many": "numerous",
    "often": "frequently",
    "new": "novel",
    "help": "assist",
    "improve": "enhance",
    "because": "since",
    "think": "believe",
    "work": "research",
    "problem": "issue",
    "problems": "issues",
    "approach": "strategy",
    "small": "little",
    "significant": "substantial",
    "different": "distinct",
    "several": "a number of",
    "various": "diverse",
    "example": "instance",
    "find": "discover",
    "task": "job",
    "tasks": "jobs",
    "data": "information",
    "performance": "effectiveness",
    "study": "investigate",
    "make": "create",
    "people": "individuals",
    "good": "strong",
    "very": "highly",
    "like": "such as",
}
_FILLER = [
    "This is something I have been thinking about for a while.",
    "I would love to hear what others think about this.",
    "Let me explain why I believe this matters.",
    "That point deserves a closer look.",
    "Bear with me, this part is a little technical.",
    "I will come back to this later in the post.",
    "In my experience this is often overlooked.",
    "Feedback on this framing is very welcome.",
    "Here is the key idea in plain words.",
    "It took me some time to appreciate this.",
]


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text) if p.strip()]


def _per_word(text: str, change: Callable[[str], str]) -> str:
    return "\n\n".join(" ".join(change(w) for w in p.split()) for p in _paragraphs(text))


def _md(text: str) -> Evaded:
    return text, "markdown"


def zero_width(text: str, rng: random.Random) -> Evaded:
    def split(word: str) -> str:
        at = len(word) // 2
        return word[:at] + rng.choice(_INVISIBLE) + word[at:] if len(word) > 1 else word

    return _md(_per_word(text, split))


def soft_hyphens(text: str, rng: random.Random) -> Evaded:
    return _md(_per_word(text, lambda w: "\u00ad".join(w[i : i + 3] for i in range(0, len(w), 3))))


def _swap_letters(table: dict[str, str]) -> Technique:
    def technique(text: str, rng: random.Random) -> Evaded:
        return _md("".join(table.get(ch, ch) for ch in text))

    return technique


cyrillic_homoglyphs = _swap_letters(CYRILLIC)
greek_homoglyphs = _swap_letters(GREEK)


def fullwidth(text: str, rng: random.Random) -> Evaded:
    return _md("".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text))


def math_letters(text: str, rng: random.Random) -> Evaded:
    """Mathematical sans-serif bold letters (𝗹𝗶𝗸𝗲 𝘁𝗵𝗶𝘀)."""

    def bold(ch: str) -> str:
        if "a" <= ch <= "z":
            return chr(0x1D5EE + ord(ch) - ord("a"))
        if "A" <= ch <= "Z":
            return chr(0x1D5D4 + ord(ch) - ord("A"))
        return ch

    return _md("".join(bold(ch) for ch in text))


def _replace_every(nth: int) -> Technique:
    def technique(text: str, rng: random.Random) -> Evaded:
        vocab = sorted({w for w in text.split() if w.isalpha()}) or _JUNK
        count = 0

        def change(word: str) -> str:
            nonlocal count
            count += 1
            return rng.choice(vocab) if count % nth == 0 else word

        return _md(_per_word(text, change))

    return technique


every_5th_word = _replace_every(5)
every_8th_word = _replace_every(8)


def hidden_html(text: str, rng: random.Random) -> Evaded:
    """Junk words between every two visible words, hidden in rotating ways."""
    paragraphs = []
    for p in _paragraphs(text):
        words = [html.escape(w) for w in p.split()]
        out = []
        for i, word in enumerate(words):
            out.append(word)
            if i % 2 == 1:
                junk = " ".join(rng.choice(_JUNK) for _ in range(3))
                out.append(rng.choice(_HIDING).format(f" {junk} "))
        paragraphs.append(f"<p>{' '.join(out)}</p>")
    return "<style>.x { display : none }</style>\n" + "\n".join(paragraphs), "html"


def sentence_reordering(text: str, rng: random.Random) -> Evaded:
    sentences = [s for p in _paragraphs(text) for s in _SENTENCE.split(p.strip()) if s]
    rng.shuffle(sentences)
    return _md(" ".join(sentences))


def synonyms(text: str, rng: random.Random) -> Evaded:
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        new = _SYNONYMS[word.lower()]
        return new.capitalize() if word[0].isupper() else new

    pattern = re.compile(r"\b(" + "|".join(_SYNONYMS) + r")\b", re.IGNORECASE)
    return _md(pattern.sub(swap, text))


def filler_sentences(text: str, rng: random.Random) -> Evaded:
    out = []
    for p in _paragraphs(text):
        sentences = _SENTENCE.split(p.strip())
        padded = []
        for i, sentence in enumerate(sentences):
            padded.append(sentence)
            if i % 3 == 2:
                padded.append(rng.choice(_FILLER))
        out.append(" ".join(padded))
    return _md("\n\n".join(out))


def punctuation_noise(text: str, rng: random.Random) -> Evaded:
    def noisy(word: str) -> str:
        roll = rng.random()
        if roll < 0.15:
            return f"{word}{rng.choice([',', ';', ' -', ' …', ':', ' /'])}"
        if roll < 0.25:
            return f"({word})"
        if roll < 0.35:
            return f"{word}{rng.choice(['  ', chr(10), chr(9), ' ' * 4])}"
        return word

    return _md(_per_word(text, noisy))


def case_changes(text: str, rng: random.Random) -> Evaded:
    return _md("".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in text))


def markdown_wrapping(text: str, rng: random.Random) -> Evaded:
    """Sentences as list items, words in bold, italics, code and links."""
    wraps = ["**{}**", "_{}_", "`{}`", "[{}](https://example.org/ref)", "{}", "{}"]
    items = []
    for p in _paragraphs(text):
        for sentence in _SENTENCE.split(p.strip()):
            words = [rng.choice(wraps).format(w) if w.isalnum() else w for w in sentence.split()]
            items.append("- " + " ".join(words))
    return _md("\n".join(items))


def combining_marks(text: str, rng: random.Random) -> Evaded:
    return _md("".join(ch + rng.choice(_COMBINING) if ch.isalpha() and rng.random() < 0.4 else ch for ch in text))


def combined(text: str, rng: random.Random) -> Evaded:
    """Every 8th word changed, then Cyrillic look-alikes, then zero-width characters inside words."""
    body, _ = every_8th_word(text, rng)
    body, _ = cyrillic_homoglyphs(body, rng)
    return zero_width(body, rng)


TECHNIQUES: dict[str, Technique] = {
    "zero-width inside words": zero_width,
    "soft hyphens": soft_hyphens,
    "Cyrillic homoglyphs": cyrillic_homoglyphs,
    "Greek homoglyphs": greek_homoglyphs,
    "fullwidth": fullwidth,
    "math alphanumerics": math_letters,
    "combining marks": combining_marks,
    "case changes": case_changes,
    "punctuation/whitespace noise": punctuation_noise,
    "markdown wrapping": markdown_wrapping,
    "hidden HTML spans": hidden_html,
    "every 5th word changed": every_5th_word,
    "every 8th word changed": every_8th_word,
    "synonym substitution": synonyms,
    "sentence reordering": sentence_reordering,
    "filler sentences added": filler_sentences,
    "combined (8th word + Cyrillic + zero-width)": combined,
}


def quoted_excerpt(own: str, source: str, title: str, authors: list[str], style: str) -> Evaded:
    """An original text that quotes part of a source properly: a blockquote with its attribution."""
    words = source.split()
    excerpt = " ".join(words[: min(len(words), 120)])
    names = ", ".join(authors[:2]) + (" et al." if len(authors) > 2 else "")
    if style == "html":
        attribution = f"<footer>— {html.escape(names)}, <cite>{html.escape(title)}</cite></footer>"
        quote = f"<blockquote><p>{html.escape(excerpt)}</p>{attribution}</blockquote>"
        paras = "".join(f"<p>{html.escape(p)}</p>" for p in _paragraphs(own))
        return f"<p>As {html.escape(names)} put it in <em>{html.escape(title)}</em>:</p>{quote}{paras}", "html"
    return f"As {names} put it in *{title}*:\n\n> {excerpt}\n>\n> — {names}\n\n{own}", "markdown"
