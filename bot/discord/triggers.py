"""When a message in a thread asks the bot for sources: "source?", "citation needed", "what's the related
work on this?", or a mention of the bot.

Pure functions over text, so what does and does not trigger is tested without Discord. The rules lean
towards silence: a bot that answers "did you read the paper?" with a reading list is worse than one that
misses a request, and a member can always mention it or use /related.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.chat import SOCIAL_WORDS
from bot.retrieval.query import content_words

_MENTION = re.compile(r"<@[!&]?(\d+)>")
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_URL = re.compile(r"https?://\S+")
# Words that look like requests but are about something else ("open source", "source code").
_NOT_REQUESTS = re.compile(
    r"\b(?:open[- ]?sourced?|source[- ]?(?:code|file|files|tree|map|control|of truth)|sourced|data[- ]?sources?"
    r"|out[- ]?sourc\w*|crowd[- ]?sourc\w*|cite[- ]?seer|work[- ]?(?:around|flow|load|shop)s?)\b"
)
# Opinions and chat about a work someone already has in mind are not requests for one.
_NOT_QUESTIONS = re.compile(
    r"^(?:do|did|does)\s+(?:you|u|anyone)\s+(?:think|agree|like|believe|buy|remember)\b"
    r"|\b(?:have|did)\s+(?:you|u)\s+(?:read|seen|see)\b|\bwhat\s+do\s+(?:you|u|people)\s+think\b|\bthoughts\s+on\b"
)

_STRONG = r"(?:papers?|sources?|citations?|cites?|references?|refs?|literature|lit|studies|preprints?|evidence|sauce)"
_WEAK = r"(?:work|works|research|posts?|articles?|study|writeups?|write-ups?|results?|readings?)"
_ADJ = r"(?:related|prior|previous|existing|relevant|similar|good|published|academic|empirical|recent|further)"
_DET = r"(?:any|some|a|an|the|good)"
_PREP = r"(?:on|about|for|behind|supporting|regarding|re|covering|showing|backing|that\s+shows?|which\s+shows?)"

# The whole message is a bare request: "source?", "citation needed", "got a source for that?", "refs pls".
_BARE = re.compile(
    rf"^(?:(?:any|got|have|need|has\s+anyone\s+got|do\s+you\s+have|is\s+there)\s+)?(?:(?:an?|some|the|a\s+good)\s+)?"
    rf"(?:{_ADJ}\s+)?(?:{_STRONG}|link|links|{_ADJ}\s+{_WEAK})"
    rf"(?:\s+(?:for|on|about)\s+(?:this|that|it|these|those|this\s+claim|that\s+claim|the\s+claim))?"
    r"(?:\s+(?:needed|please|pls|plz|anyone))?\s*[?!]*$"
)
_PLEASE = re.compile(r"\b(?:needed|please|pls|plz)\b")
_CITATION_NEEDED = re.compile(r"\[?\s*(?:citation|source|cite)s?\s+(?:needed|required|please|pls)\s*\]?")

_QUESTION_PATTERNS = [
    # "is there a paper on X?", "any sources on this?", "what's the related work on this?"
    re.compile(rf"\b(?:{_DET}\s+(?:{_ADJ}\s+)?{_STRONG}|(?:any|some|{_ADJ})\s+(?:{_ADJ}\s+)?{_WEAK})\s+{_PREP}\b"),
    # "the related work here?", "prior work on this?"
    re.compile(rf"\b{_ADJ}\s+(?:{_WEAK}|{_STRONG})\s+(?:here|on\s+this|on\s+that)\b"),
    # "anyone know of research on X?", "aware of work showing this?"
    re.compile(rf"\b(?:know|aware)\s+(?:of\s+)?(?:{_DET}\s+)?(?:{_ADJ}\s+)?(?:{_STRONG}|{_WEAK})\s+{_PREP}\b"),
    # "what paper is this from?", "which paper was that?"
    re.compile(rf"\b(?:what|which)\s+(?:{_STRONG}|{_WEAK})\s+(?:is|was|are|were|does|did)\s+(?:this|that|it|these)\b"),
    # "where is this from?", "where's that from?"
    re.compile(r"\bwhere\s+(?:is|was|'s|s|does|did)\s+(?:this|that|it)\s+(?:from|come\s+from|coming\s+from)\b"),
    # "any sources?", "is there a paper?", "are there any related papers?"
    re.compile(
        rf"\b(?:any|some|got\s+an?|have\s+an?|is\s+there\s+(?:an?|any)|are\s+there(?:\s+any)?)\s+(?:{_ADJ}\s+)?"
        rf"(?:{_STRONG}|{_ADJ}\s+{_WEAK})\s*$"
    ),
    # "what should I read on X?", "where can I read more?"
    re.compile(r"\b(?:what|anything)\s+(?:should|could|can|would)\s+(?:i|we|one|people)\s+read\b"),
    re.compile(r"\bwhere\s+(?:can|could|should|do)\s+(?:i|we|one)\s+(?:read|learn)\s+more\b"),
    re.compile(rf"\brecommend\w*\s+(?:me\s+)?(?:a|an|some|any)\s+(?:{_ADJ}\s+)?(?:{_STRONG}|{_WEAK}|reading)\b"),
]
# Words a question asking for sources opens with; "did you read the paper on X?" is not one.
_CUES = re.compile(
    r"^(?:what|whats|what's|which|where|is|are|any|anyone|anybody|someone|somebody|does|do|can|could|got|has|have"
    r"|know|need|was|were|pointers?|recommend\w*|source|sources|citation|citations|reference|references|refs?"
    r"|related|prior|i'?d\s+love|i'?m\s+looking|looking|would|wondering|curious)\b"
)


@dataclass(frozen=True)
class Trigger:
    kind: Literal["mention", "request"]
    question: str  # the message without mentions: the question, or a bare request the thread explains


def clean(text: str) -> str:
    """The message as a request reads: no code, quoted lines, links or mentions; whitespace folded."""
    text = _CODE.sub(" ", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return " ".join(text.split())


def _sentences(text: str) -> list[str]:
    """Sentences with their final punctuation, lower-cased, curly quotes straightened."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    return [s.strip() for s in re.findall(r"[^.!?\n]+[.!?]*", text) if s.strip()]


def is_request(text: str) -> bool:
    """Does the message ask for sources or related work (without mentioning the bot)?"""
    cleaned = _NOT_REQUESTS.sub(" ", clean(text).lower().replace("’", "'"))
    if not cleaned.strip():
        return False
    if _CITATION_NEEDED.search(cleaned):
        return True
    whole = cleaned.strip(" .")
    if len(whole.split()) <= 8 and _BARE.match(whole) and ("?" in whole or _PLEASE.search(whole)):
        return True
    for sentence in _sentences(cleaned):
        if not sentence.endswith("?") or _NOT_QUESTIONS.search(sentence):
            continue
        body = sentence.rstrip("?!. ")
        if len(body.split()) <= 8 and _BARE.match(body):  # "Interesting claim. Source?"
            return True
        if not _CUES.match(body):
            continue
        if any(p.search(body) for p in _QUESTION_PATTERNS):
            return True
    return False


def mentions_user(text: str, user_id: int) -> bool:
    return any(int(m) == user_id for m in _MENTION.findall(text))


def detect(text: str, *, addressed: bool = False) -> Trigger | None:
    """The trigger in a message, if any.

    `addressed` is true when the message mentions the bot or replies to it. An addressed message
    triggers when it asks for sources, names a topic, or is bare (then the thread is the topic);
    "thanks @bot" does not. Otherwise only a request for sources triggers.
    """
    question = clean(text)
    if addressed:
        words = content_words(question)
        if is_request(text) or not question.strip(" ?!.") or any(w not in SOCIAL_WORDS for w in words):
            return Trigger("mention", question)
        return None
    if is_request(text):
        return Trigger("request", question)
    return None
