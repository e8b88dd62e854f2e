"""Query expansion from the knowledge base's own vocabulary: acronyms the literature defines ("CoT", "SAE").

An abstract that writes "sparse autoencoders (SAEs)" defines an acronym. Every definition in the titles and
abstracts is found with the Schwartz–Hearst rule (the acronym's letters appear in order in the words before
the parenthesis, the first one starting a word); the long form most works use wins. A question using the
acronym is then searched with the long form beside it, so "SAE features" also matches abstracts that only
say "sparse autoencoder", and the embedder, which knows few acronyms, sees the words it does know.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

# "long form (ACR)" or "(ACRs)": 2–10 characters, starting with a letter, at least two capitals.
_DEFINITION = re.compile(r"\(([A-Za-z][A-Za-z0-9\-]{1,9})\)")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")
_SMALL_WORDS = frozenset("a an and by for from in of on the to with".split())
# A long form must be seen this often: one abstract's odd acronym is not the field's vocabulary.
MIN_DEFINITIONS = 2


def _singular(acronym: str) -> str:
    return acronym[:-1] if len(acronym) > 2 and acronym.endswith("s") and acronym[-2].isupper() else acronym


def _is_acronym(token: str) -> bool:
    return sum(c.isupper() for c in token) >= 2 and not token.isdigit()


def initials_form(letters: list[str], words: list[str]) -> str | None:
    """The words just before the parenthesis whose initials spell the acronym, skipping small words
    ("reinforcement learning from human feedback"); hyphenated words count per part ("chain-of-thought")."""
    parts = [(n, part) for n, word in enumerate(words) for part in word.split("-") if part]
    remaining = list(letters)
    for n, part in reversed(parts):
        if remaining and part[0].lower() == remaining[-1]:
            remaining.pop()
            if not remaining:
                return " ".join(words[n:])
        elif part.lower() not in _SMALL_WORDS:
            return None
    return None


def long_form(acronym: str, before: str) -> str | None:
    """The long form of `acronym` in the text `before` it, or None if its letters do not fit: word initials
    first, else the Schwartz–Hearst rule (letters in order, the first one starting a word)."""
    letters = [c.lower() for c in acronym if c.isalnum()]
    by_initials = initials_form(letters, before.split()[-len(letters) * 2 :])
    if by_initials:
        return by_initials.strip(" ,;:-")
    words = before.split()[-min(len(letters) + 5, len(letters) * 2) :]
    text = " ".join(words)
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        char = letters[index]
        # The first letter must start a word; the others may fall anywhere, in order.
        while position >= 0 and (
            text[position].lower() != char or (index == 0 and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return None
        position -= 1
    start = text.rfind(" ", 0, position + 1) + 1
    found = text[start:].strip(" ,;:-")
    if len(found) <= len(acronym) or len(found.split()) > len(letters) + 1 or not found[:1].isalpha():
        return None
    return found


def _normal(phrase: str) -> str:
    phrase = phrase.lower().replace("-", " ")
    return re.sub(r"(?<![siu])s$", "", " ".join(phrase.split()))  # "autoencoders" and "autoencoder" are one long form


class AcronymExpander:
    def __init__(self, expansions: dict[str, str]) -> None:
        self.expansions = expansions  # acronym as the literature writes it -> its long form

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> AcronymExpander:
        seen: dict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            if "(" not in text:
                continue
            for match in _DEFINITION.finditer(text):
                acronym = _singular(match.group(1))
                if not _is_acronym(acronym):
                    continue
                found = long_form(acronym, text[max(0, match.start() - 200) : match.start()])
                if found:
                    seen[acronym][_normal(found)] += 1
        expansions = {}
        for acronym, forms in seen.items():
            form, count = forms.most_common(1)[0]
            if count >= MIN_DEFINITIONS:
                expansions[acronym] = form
        return cls(expansions)

    def expand(self, query: str) -> str:
        """The query with the long form of each acronym it uses added, once; unchanged if it uses none."""
        lowered = query.lower()
        added = []
        for token in dict.fromkeys(_TOKEN.findall(query)):
            form = self.expansions.get(_singular(token))
            if form and form not in lowered and form not in added:
                added.append(form)
        return f"{query} ({'; '.join(added)})" if added else query
