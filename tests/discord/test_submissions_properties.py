"""Properties of reading Discord forum posts as submissions, and the links and ids moderators paste.

For any post text: a valid `Submission` (never an exception: the forum watcher must report every post).
Co-authors named on a "Co-authors:" line, and "Linkpost:" / "Canonical:" links, come back as written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from bot.discord.submissions import (
    DiscordRef,
    ForumPost,
    jump_url,
    parse_ref,
    submission_id,
    thread_id_of,
    to_submission,
)
from bot.moderation.schemas import Submission
from tests.properties import PURE, elapsed

snowflakes = st.integers(10**15, 10**19)


@given(st.none() | snowflakes, snowflakes, st.none() | snowflakes, st.sampled_from(["", "see ", "<"]))
@PURE
def test_message_links_read_back(guild: int | None, channel: int, message: int | None, before: str) -> None:
    url = jump_url(guild, channel, message)
    assert parse_ref(f"{before}{url}{'>' if before == '<' else ''}") == DiscordRef(channel, message, guild)


@given(snowflakes)
@PURE
def test_bare_ids_are_threads_and_submission_ids_read_back(thread: int) -> None:
    assert parse_ref(f" {thread}\n") == DiscordRef(thread)
    assert thread_id_of(submission_id(thread)) == thread


_PIECES = [
    "Co-authors: ",
    "**Co-authors:** ",
    "co-author: ",
    "Linkpost: ",
    "Canonical: ",
    "Originally posted at ",
    "https://example.org/post",
    "<https://example.org/x>",
    "@dana",
    "<@123>",
    "<@!456>",
    ", ",
    " and ",
    " & ",
    ";",
    "\n",
    "\t",
    " ",
    "*",
    "_",
    "`",
    "@",
    "<p>",
    "# ",
]
contents = st.text(max_size=200) | st.lists(st.sampled_from(_PIECES) | st.text(max_size=6), max_size=25).map("".join)
attachments = st.lists(
    st.tuples(
        st.sampled_from(["post.md", "post.html", "notes.txt", "image.png", "README", "x.HTM"]), st.text(max_size=50)
    ),
    max_size=2,
)


@given(contents, st.text(max_size=20), attachments)
@example("Co-authors: dana,\t, bob", "A post", [])  # a name of a tab: a handle "" failed validation
@example("Co-authors: ` ; *", "A post", [])
@example("Co-authors: \x00", "\x00", [])  # blank to the model, which strips NUL too
@PURE
def test_any_forum_post_is_a_valid_submission(content: str, title: str, files: list[tuple[str, str]]) -> None:
    post = ForumPost(7, title, "erin", content, files, {123: "dana"}, datetime(2025, 1, 1, tzinfo=UTC))
    submission = to_submission(post, forum="discord")
    assert isinstance(submission, Submission)
    assert submission.authors[0].handle == "erin" and submission.authors[0].confirmed
    assert not any(a.confirmed for a in submission.authors[1:])
    handles = [a.handle.casefold() for a in submission.authors]
    assert len(handles) == len(set(handles)) and all(handles)
    assert submission.title  # the thread's title, or "(untitled)"


# Discord usernames: lower-case letters, digits, "_" and "." (not at the ends here: "_x_" reads as emphasis).
handles = st.from_regex(r"\A[a-z0-9](?:[a-z0-9_.]{0,10}[a-z0-9])?\Z").filter(lambda h: h != "and")
urls = st.builds(
    "https://{}.org/{}".format,
    st.sampled_from(["blog", "example", "lesswrong"]),
    st.from_regex(r"\A[a-z0-9/_-]{0,12}\Z"),
)


@given(
    st.lists(handles, min_size=1, max_size=4, unique=True),
    st.sampled_from([", ", "; ", " and ", " & ", ",", " , "]),
    st.sampled_from(["Co-authors: {}", "**Co-authors:** {}", "co-author: {}", "  Coauthors : {}"]),
    st.sampled_from(["", "@"]),
    st.none() | urls,
    st.none() | urls,
    st.text(st.sampled_from("abc .\n"), max_size=30),
)
@PURE
def test_coauthors_and_links_are_read_as_written(
    names: list[str],
    separator: str,
    line: str,
    at: str,
    linkpost: str | None,
    canonical: str | None,
    prose: str,
) -> None:
    parts = [prose.strip(), line.format(separator.join(f"{at}{n}" for n in names))]
    if linkpost:
        parts.append(f"Linkpost: <{linkpost}>")
    if canonical:
        parts.append(f"Canonical: {canonical}")
    post = ForumPost(7, "Title", "erin", "\n".join(parts))
    submission = to_submission(post, forum="discord")
    expected = ["erin", *(n for n in names if n != "erin")]
    assert submission.handles == expected
    assert submission.url == linkpost and submission.canonical_url == canonical


def test_long_posts_are_read_quickly() -> None:
    for content in ["\n" * 4_000, " \n" * 2_000, "Co-authors: " + "a, " * 1_300, "Linkpost: https://" + "a" * 4_000]:
        _submission, seconds = elapsed(
            lambda content=content: to_submission(ForumPost(1, "t", "erin", content), forum="f")
        )
        assert seconds < 0.5, (content[:20], seconds)
