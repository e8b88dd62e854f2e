"""What to search for: a question as asked, or, for a bare request ("source?"), the thread it refers to."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.domain import Message

# For bare requests: a thread message's weight falls by THREAD_DECAY per message of age, and is ASKER_WEIGHT
# times higher when the asker wrote it (their own earlier message is most often what they want sources for).
THREAD_DECAY = 0.7
ASKER_WEIGHT = 3.0
# A reference is read in the light of this many of the thread's latest messages (see `context_text`).
REFERENCE_CONTEXT_MESSAGES = 5
# Words that make a message a request for sources rather than a topic ("source?", "related work here?").
_REQUEST_WORDS = frozenset(
    (
        "what whats what's is are there any the a an on for of about to this that these those here it related "
        "work works paper papers source sources citation citations cite reference references please pls need "
        "needed know anyone someone some literature research prior existing lit relevant link links read "
        "reading recommend recommendations good best do does you i we me us can could would should have has "
        "find show give"
    ).split()
)


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9][a-z0-9\-]*", text.lower()) if w not in _REQUEST_WORDS]


def contextual_query(question: str, context: Sequence[Message | str] = ()) -> str:
    """The text to search for: the question, or, when it is a bare request, the thread it refers to.

    A bare "source?" refers to what was just said, and most to what its asker said (the asker is the author
    of the thread's last message when that message is the question itself); the two substantive messages
    weighing most by recency and authorship lead the query."""
    if len(content_words(question)) >= 2 or not context:
        return question
    messages = [(m.author, m.text) if isinstance(m, Message) else (None, m) for m in context]
    asker = None
    if messages[-1][1].strip() == question.strip():
        asker, messages = messages[-1][0], messages[:-1]
    weighted = [
        (THREAD_DECAY**age * (ASKER_WEIGHT if asker and author == asker else 1.0), text)
        for age, (author, text) in enumerate(reversed(messages))
        if len(content_words(text)) >= 3
    ]
    heaviest = [text for _, text in sorted(weighted, key=lambda item: -item[0])[:2]]
    return " ".join([*heaviest, question]).strip()


def context_text(context: Sequence[Message | str], messages: int = REFERENCE_CONTEXT_MESSAGES) -> str:
    """The thread's latest `messages` as one text: what a reference written there is read against."""
    return " ".join(m.text if isinstance(m, Message) else m for m in context[-messages:])
