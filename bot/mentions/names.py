"""Known names of works in running text, and when a name is not a reference.

"RepE", "Sleeper Agents": aliases from the knowledge base used as names. Not a reference when the name is the
thing itself ("models like BERT", "Retrieval-Augmented Generation (RAG)"), an organisation ("CAIS
researchers") or part of a longer title ("Mitigating Best-of-N Jailbreaking with …").
"""

from __future__ import annotations

import functools
import re

from bot.identifiers import normalize_text
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.reference import ORGANISATIONS

# Capitals of the Latin, Greek and Cyrillic alphabets, not only A-Z: "Özdemir et al.", "Šimon & Ørsted".
UPPER = "A-Z" + "".join(re.escape(c) for c in map(chr, range(0xC0, 0x530)) if c.isupper())
# A name has a lower-case second letter: "Zou", "McDonald", not the acronyms "LLMs", "RLHF".
LOWER = "a-z" + "".join(re.escape(c) for c in map(chr, range(0xDF, 0x530)) if c.islower())
WORD = re.compile(r"[\w\-'’]+")
# Words next to a one-word name that make it the thing itself (a model, a benchmark, a method): "models like
# BERT", "a method called TracIn", "the MMLU benchmark". A model release ends in its version: "DeepSeek-R1".
_ARTIFACTS = r"(?:models?|LLMs?|benchmarks?|datasets?|architectures?|methods?|algorithms?|techniques?|systems?)"
_THING_BEFORE = re.compile(
    rf"(?:\b(?:called|named|dubbed|termed|coined)|\b{_ARTIFACTS}\s+(?:like|such\s+as|including|e\.g\.,?))\s+$",
    re.IGNORECASE,
)
_THING_AFTER = re.compile(rf"[\s-]+{_ARTIFACTS}\b", re.IGNORECASE)
_VERSION = re.compile(r"\d$")
_CAPITALISED_WORD = re.compile(rf"[{UPPER}][\w\-’']*")
_CAPITALISED_RUN = re.compile(rf"\b[{UPPER}][^\W\d_]*(?:[\s-]+[{UPPER}][^\W\d_]*)+")
# Acronyms for ideas, not for any one paper: a thread that says "RLHF" is not citing a work.
_CONCEPT_ACRONYMS = {"AI", "AGI", "ASI", "ML", "RL", "LLM", "LLMs", "NLP", "RLHF", "CoT", "SAE", "SAEs", "GPT"}
# Words that say nothing about which work is meant.
STOP = frozenset(
    "a an the and or of to in on for with by at from as is are was were be been it its this that these those "
    "we you he she they i me my our your their his her not no so but if then than too very can will just about "
    "into over under what which who whom how why when where all any some more most other such only own same".split()
)
# Words that may stay lower-case in a Title Case title.
TITLE_MINOR = STOP | {"via", "vs", "versus", "per", "up", "out", "off", "down", "do", "does", "don't", "dont"}


def known_names(text: str, corpus: CorpusIndex) -> list[tuple[str, int, int]]:
    """Aliases from the knowledge base used as names in the text, with their start and end.

    Written as a name, that is: one-word aliases only as an acronym or coined name (two or more capitals,
    like "RepE", "CCS", "ActAdd"); longer ones with their words capitalised as a name is ("Sleeper Agents"),
    since in lower case they are usually the idea ("sleeper agents"), not the paper.
    """
    words = list(WORD.finditer(text))
    found = []
    for size in range(5, 0, -1):
        for start in range(len(words) - size + 1):
            phrase = [m.group(0) for m in words[start : start + size]]
            if size == 1 and (
                sum(c.isupper() for c in phrase[0]) < 2
                or phrase[0] in _CONCEPT_ACRONYMS
                or _names_the_thing(text, words[start])
            ):
                continue
            if size > 1 and not (
                all(w[:1].isupper() or w.lower() in TITLE_MINOR for w in phrase) or _definite_name(phrase)
            ):
                continue
            if normalize_text(" ".join(phrase)) in corpus.aliases and not _inside_longer_title(
                text, words, start, size
            ):
                found.append((" ".join(phrase), words[start].start(), words[start + size - 1].end()))
    return found


def _definite_name(phrase: list[str]) -> bool:
    """ "the Apollo scheming evals": "the", a maker's or author's name, and what they made, as a stored alias
    says it (lower-case words alone are the idea: "the sharp left turn" is also the concept)."""
    return len(phrase) >= 3 and phrase[0].lower() == "the" and any(w[:1].isupper() for w in phrase[1:])


def _inside_longer_title(text: str, words: list[re.Match[str]], start: int, size: int) -> bool:
    """The name is part of a longer capitalised title: "Mitigating Best-of-N Jailbreaking with Prompt…",
    "Improved Video VAE for…". A word that starts a sentence, a short word ("In", "I") or an owner
    ("Anthropic's Sleeper Agents") before it does not make it one."""
    end = start + size
    after = words[end] if end < len(words) else None
    if after and _CAPITALISED_WORD.fullmatch(after.group(0)) and not text[words[end - 1].end() : after.start()].strip():
        return True
    before = words[start - 1] if start > 0 else None
    return bool(
        before
        and _CAPITALISED_WORD.fullmatch(before.group(0))
        and len(before.group(0)) > 2
        and not re.search(r"['’]s?$", before.group(0))
        and not text[before.end() : words[start].start()].strip()
        and not re.search(r"(?:^|[.!?;]|\n)\s*$", text[: before.start()])  # "Since Sleeper Agents, …"
    )


def _names_the_thing(text: str, word: re.Match[str]) -> bool:
    """A one-word name used for the thing it names, not to cite the work that introduced it: a model, a
    benchmark or a method ("models like BERT", "a method called TracIn", "the MMLU benchmark", the model
    release "DeepSeek-R1"), an acronym being defined ("Retrieval-Augmented Generation (RAG)"), or an
    organisation that shares a work's alias ("CAIS researchers")."""
    name = word.group(0)
    return bool(
        normalize_text(name) in ORGANISATIONS
        or _VERSION.search(name)
        or _THING_BEFORE.search(text, max(0, word.start() - 40), word.start())
        or _THING_AFTER.match(text, word.end())
        or _spelled_out(name, text)
    )


def _spelled_out(acronym: str, text: str) -> bool:
    """The text spells the acronym out in capitalised words: "Massive Multitask Language Understanding" (three
    letters or more: two, like "RE", are found by chance in names such as "Rich Evans")."""
    letters = "".join(c for c in acronym if c.isupper()).lower()
    return len(letters) >= 3 and any(letters in initials for initials in _capitalised_initials(text))


@functools.lru_cache(maxsize=4)
def _capitalised_initials(text: str) -> list[str]:
    """The initials of each run of capitalised words ("Retrieval-Augmented Generation": "rag"), once per text."""
    runs = (re.split(r"[\s-]+", run) for run in _CAPITALISED_RUN.findall(text))
    return ["".join(word[0] for word in run if word).lower() for run in runs]
