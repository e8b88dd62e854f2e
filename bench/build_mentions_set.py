"""Build bench/mentions_labelled.jsonl: sentences with labelled references, and sentences with none.

Everything comes from real text in ../shared/data; only the surface form of a citation is chosen here.

- `link`: sentences of the EA Forum sample posts that carry Markdown links or bare URLs (every link is a
  reference; its target is the key the link names), and the Shallow Review's informal link mentions as they
  were written there (`critiques: [anchor](url)`).
- `author`: BibTeX entries turned into the author-year forms people write ("Hubinger et al. (2024)",
  "(Jacovi & Goldberg, 2020)", "Burns et al. 2022"), placed in real sentences from the posts.
- `quote`: titles of the core KB (in the KB) and of ICLR 2025 submissions that are not in it (must be reported
  unresolved), quoted the ways people quote (curly, straight, guillemets, Markdown and HTML emphasis).
- `name`: reading-list aliases used as names ("the sleeper agents paper"), alone or with an author.
- no reference: post sentences and KB abstract sentences without links, quotes, citations or known names.

Each record: {"id", "split", "source", "text", "mentions": [{"start", "end", "kind", "target"}]}, where
`target` is an exact key ("arxiv:…", "post:…", "url:…", "id:…") or null when the work is in no KB.
The split (70 % dev, 30 % held-out) hashes the source item, so one post or entry never lands in both.
Usage: python bench/build_mentions_set.py  (deterministic; rewrites the file).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path

from bot.identifiers import URL_RE, exact_keys_in, normalize_text

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
OUT = Path(__file__).parent / "mentions_labelled.jsonl"

MD_LINK = re.compile(r"\[([^\[\]\n]{1,200})\]\((https?://[^()\s]+(?:\([^()\s]*\)[^()\s]*)*)\)")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\[(“\"‘'*_])")
QUOTE_CHARS = re.compile(r"[\"“”«»„]|(?<!\w)['‘’]|['‘’](?!\w)")
CITATION_LIKE = re.compile(r"\bet\s*al\b|\(\s*[^()]*\b(?:19|20)\d\d[a-z]?\s*\)|\b(?:arxiv|doi)\b", re.IGNORECASE)
WORK_LINK = re.compile(r"arxiv\.org|lesswrong\.com/posts|alignmentforum\.org/posts|/posts/|doi\.org|openreview")


def split_of(source: str) -> str:
    return "dev" if int(hashlib.sha1(source.encode()).hexdigest(), 16) % 10 < 7 else "heldout"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def sentences(text: str) -> list[str]:
    """Sentences of running text: paragraphs that are not tables, headings, images or list stubs."""
    found = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[-*#>|\d])", text or ""):
        paragraph = " ".join(paragraph.split())
        if not paragraph or paragraph[0] in "|#!>" or paragraph.startswith(("- |", "* |")):
            continue
        paragraph = re.sub(r"^(?:[-*]|\d+\.)\s+", "", paragraph)
        for sentence in SENTENCE_END.split(paragraph):
            if 40 <= len(sentence) <= 400 and sentence[0].isupper():
                found.append(sentence)
    return found


def target_of(url: str) -> str | None:
    keys = exact_keys_in(url)
    return keys[0] if keys else None


def link_spans(sentence: str) -> list[dict]:
    spans = [
        {"start": m.start(), "end": m.end(), "kind": "link", "target": target_of(m.group(2))}
        for m in MD_LINK.finditer(sentence)
    ]
    covered = [(s["start"], s["end"]) for s in spans]
    for m in URL_RE.finditer(sentence):
        if not any(s <= m.start() < e for s, e in covered):
            spans.append({"start": m.start(), "end": m.end(), "kind": "link", "target": target_of(m.group(0))})
    return sorted(spans, key=lambda s: s["start"])


def key_of(record: dict) -> str:
    """The key a KB names a work by: its arXiv id when it has one (records merge under it), else its id."""
    return f"arxiv:{record['arxiv_id']}" if record.get("arxiv_id") else f"id:{record['id']}"


def surname_of(author: str) -> str:
    parts = re.sub(r"\bet\.?\s*al\b\.?", " ", author).replace(",", " ").split()  # "Deepak Narayanan et al."
    if not parts:
        return ""
    name = [parts[-1]]
    for particle in reversed(parts[:-1]):  # "van der Weij", "de Witt"
        if particle.lower() in {"van", "der", "de", "von", "den", "la", "le", "di", "da", "du"}:
            name.insert(0, particle)
        else:
            break
    return " ".join(name)


def author_citation(authors: list[str], year: int, rng: random.Random) -> str:
    names = [surname_of(a) for a in authors]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} {rng.choice(['&', 'and'])} {names[1]}"
    else:
        who = f"{names[0]} et al."
    return rng.choice([f"{who} ({year})", f"({who}, {year})", f"{who} {year}", f"({who} {year})"])


QUOTES = [("“", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("«", "»"), ("*", "*"), ("_", "_"), ("<em>", "</em>")]


def embed(carrier: str, mention: str, rng: random.Random, paren_ok: bool = True) -> tuple[str, int]:
    """`mention` placed in a real sentence, the ways people attach a reference; returns text and offset."""
    body = carrier.rstrip(".!? ")
    choice = rng.randrange(4)
    if choice == 0 and paren_ok:
        head = f"{body} (see "
        return f"{head}{mention}).", len(head)
    if choice == 1:
        head = "As argued in "
        return f"{head}{mention}, {carrier[0].lower()}{carrier[1:]}", len(head)
    if choice == 2:
        head = f"{body}; "
        return f"{head}{mention} makes the same point.", len(head)
    return f"{mention} is relevant here. {carrier}", 0


def main() -> None:
    rng = random.Random(11)
    records: list[dict] = []
    kb = load(SHARED / "kb" / "alignment_core.jsonl")
    reading = load(REPO / "knowledge" / "reading_list.jsonl")
    posts = load(SHARED / "ea_forum_posts_sample_2025" / "posts.jsonl")
    aliases = {normalize_text(a) for w in reading for a in w.get("aliases", [])}
    alias_re = re.compile(
        r"\b(?:" + "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True) if len(a) > 3) + r")\b"
    )

    def add(source: str, text: str, mentions: list[dict]) -> None:
        records.append(
            {
                "id": f"{source}#{len(records)}",
                "split": split_of(source),
                "source": source.split(":")[0],
                "text": text,
                "mentions": mentions,
            }
        )

    def clean(sentence: str) -> bool:
        """No reference of any shape: usable as a negative or as a carrier for one labelled mention."""
        return not (
            URL_RE.search(sentence)
            or "](" in sentence
            or QUOTE_CHARS.search(sentence)
            or CITATION_LIKE.search(sentence)
            or alias_re.search(normalize_text(sentence))
            or re.search(r"[*_`<>\[\]]", sentence)
        )

    # Links in forum posts, with the sentence they were written in.
    clean_sentences: list[tuple[str, str]] = []
    for post in posts:
        for sentence in sentences(post.get("body") or ""):
            if clean(sentence):
                clean_sentences.append((f"eaf:{post['id']}", sentence))
                continue
            spans = link_spans(sentence)
            if not spans or not any(WORK_LINK.search(sentence[s["start"] : s["end"]]) for s in spans):
                continue
            stripped = MD_LINK.sub("", URL_RE.sub("", sentence))
            if QUOTE_CHARS.search(stripped) or CITATION_LIKE.search(stripped):
                continue  # other reference shapes in the same sentence would be unlabelled
            add(f"eaf:{post['id']}", sentence, spans)
    rng.shuffle(clean_sentences)
    # Half carry a labelled mention, half stay without one.
    carriers = [sentence for _source, sentence in clean_sentences[::2]]
    negatives = clean_sentences[1::2]

    # Informal link mentions as written in the Shallow Review's agenda fields.
    for mention in load(SHARED / "shallow_review_2025_ai_safety" / "informal_link_mentions.jsonl"):
        if "', '" in mention["anchor_text"] or mention["anchor_text"].startswith("'"):
            continue  # a see-also list the source's parser swallowed into the anchor, not text anyone wrote
        head = f"{mention['field'].replace('_', ' ').capitalize()}: "
        link = f"[{mention['anchor_text']}]({mention['url']})"
        add(
            f"sr:{mention['item_id']}:{mention['anchor_text']}",
            head + link,
            [{"start": len(head), "end": len(head + link), "kind": "link", "target": target_of(mention["url"])}],
        )

    # Author-year citations from BibTeX entries, in real sentences.
    entries = [e for e in load(SHARED / "bib_citation_entries" / "entries.jsonl") if e.get("authors") and e.get("year")]
    rng.shuffle(entries)
    # "Chen et al. (2023)" names several works of the KB: the right answer is then an unconfident guess.
    first_year: dict[tuple[str, int], set[str]] = {}
    for r in kb:
        if r.get("authors") and r.get("year"):
            first_year.setdefault((surname_of(r["authors"][0]), r["year"]), set()).add(normalize_text(r["title"]))
    for entry in entries[:260]:
        citation = author_citation(entry["authors"], entry["year"], rng)
        text, start = embed(rng.choice(carriers), citation, rng, paren_ok=not citation.startswith("("))
        ambiguous = len(first_year.get((surname_of(entry["authors"][0]), entry["year"]), ())) > 1
        add(
            f"bib:{entry['id']}",
            text,
            [
                {
                    "start": start,
                    "end": start + len(citation),
                    "kind": "author",
                    "target": key_of(entry),
                    "ambiguous": ambiguous,
                }
            ],
        )

    # Quoted titles: in the KB, and real titles that are in no KB (must be listed as unresolved).
    kb_ids = {r["id"] for r in kb} | {f"arxiv:{r['arxiv_id']}" for r in kb if r.get("arxiv_id")}
    kb_titles = {normalize_text(r["title"]) for r in kb}
    quotable = [r for r in kb if 4 <= len(r["title"].split()) <= 16 and not QUOTE_CHARS.search(r["title"])]
    rng.shuffle(quotable)
    iclr = [
        r
        for r in load(SHARED / "conference_title_lists" / "iclr2025_submissions.jsonl")
        if normalize_text(r["title"]) not in kb_titles
        and f"arxiv:{r.get('arxiv_id')}" not in kb_ids
        and 4 <= len(r["title"].split()) <= 16
        and not QUOTE_CHARS.search(r["title"])
    ]
    rng.shuffle(iclr)
    for record, target in [(r, key_of(r)) for r in quotable[:160]] + [(r, None) for r in iclr[:60]]:
        opening, closing = rng.choice(QUOTES)
        quoted = f"{opening}{record['title']}{closing}"
        text, start = embed(rng.choice(carriers), quoted, rng)
        add(
            f"title:{record['id']}",
            text,
            [{"start": start, "end": start + len(quoted), "kind": "quote", "target": target}],
        )

    # Names: reading-list aliases as people use them, alone or with an author.
    for work in reading:
        names = [a for a in work.get("aliases", []) if not re.search(r"\d{4}|et al|&| and ", a)]
        if not names or not work.get("authors"):
            continue
        alias = rng.choice(names)
        bare = re.sub(r"^the\s+", "", alias)
        titled = bare if re.search(r"\b(?:paper|post|report|evals|paper \(\w+\))$", bare) else f"{bare} paper"
        who = surname_of(work["authors"][0])
        form = rng.choice([f"the {titled}", f"{who}'s {titled}", f"{alias} ({who} et al.)", f"the {titled}"])
        text, start = embed(rng.choice(carriers), form, rng)
        add(
            f"name:{work['id']}",
            text,
            [{"start": start, "end": start + len(form), "kind": "name", "target": key_of(work)}],
        )

    # Sentences with no reference: from posts, and from abstracts (dense with technical phrases).
    rng.shuffle(negatives)
    for source, sentence in negatives[:300]:
        add(source, sentence, [])
    abstract_sentences = [
        (f"abs:{r['id']}", s) for r in rng.sample(kb, 400) for s in sentences(r.get("abstract") or "")[:1] if clean(s)
    ]
    for source, sentence in abstract_sentences[:220]:
        add(source, sentence, [])

    with OUT.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    positives = sum(len(r["mentions"]) for r in records)
    print(f"{len(records)} sentences, {positives} mentions, {sum(not r['mentions'] for r in records)} without one")


if __name__ == "__main__":
    main()
