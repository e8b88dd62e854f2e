"""Reference resolution: turn what people write in threads into one work, with a calibrated confidence.

"Jacovi & Goldberg", "Turpin et al. 2023", "the sleeper agents paper", "RepE (Zou et al.)", "Burns's CCS
paper", "Apollo's scheming evals paper", a half-remembered title, an arXiv id or link. Signals, cheapest first:
exact keys (an id or link names one work: that work or nothing), aliases, author surnames (any position, the
first weighted) with the year, title similarity over BM25 title candidates, and the descriptive words matched
against title, aliases, summary and abstract. Organisations ("Anthropic", "Apollo") are a signal from aliases
and curated notes, never title words. Where two works fit the reference nearly equally ("Dung", "Open
Problems"), the thread it was written in orders them: the one sharing its rarer words comes first, and the
answer stays unconfident. No embeddings: this path answers in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.identifiers import exact_keys_in, normalize_text
from bot.retrieval.corpus import CorpusIndex
from bot.retrieval.lexical import shared_idf, stems
from bot.retrieval.reference import FILLER, ParsedReference, parse_reference, strip_wrappers
from bot.retrieval.similarity import NearNames, description_match, short_title_names, stem, title_similarity

# An alias that is itself an author citation ("chen et al 2024", "drexler 2019") names a work only when our
# curated list says so: imported records carry such aliases for one of several works that fit them.
_CITATION_ALIAS = re.compile(r"\bet al\b|^[a-z][a-z' -]* (?:19|20)\d\d$")
CITATION_ALIAS_WEIGHT = 0.9
CONFIDENCE_THRESHOLD = 0.72  # calibrated on the dev part of bench/mentions_labelled.jsonl (README)
KIND_PENALTY = 0.06  # a work of another kind than the one named: more than the near-tie margin
CONFIDENCE_MARGIN = 0.05  # a smaller lead over a different work is a near tie: unconfident, alternatives shown
MISATTRIBUTED = 0.1  # a work's name with an author who did not write it: a doubt, not a veto (less: a co-author)
NAMED = 0.85  # an alias signal at least this high came from a known name (an alias or a title's head)
STEMMED_NAME_WEIGHT = 0.93  # other word forms of a known name ("mesa-optimizer"): still names it (× 0.97 ≥ 0.9)


@dataclass
class Candidate:
    doc: int
    score: float
    signals: dict[str, float] = field(default_factory=dict)


class ReferenceResolver:
    def __init__(
        self,
        corpus: CorpusIndex,
        title_pool: int = 40,
        threshold: float = CONFIDENCE_THRESHOLD,
        margin: float = CONFIDENCE_MARGIN,
    ) -> None:
        self.corpus = corpus
        self.title_pool = title_pool
        self.threshold = threshold
        self.margin = margin
        self.short_titles = short_title_names(corpus.titles)
        # Aliases also under their bare form: "the chess hacking paper" is found as "chess hacking".
        self.aliases: dict[str, list[int]] = {}
        for alias, docs in corpus.aliases.items():
            for key in {alias, normalize_text(strip_wrappers(alias))} - {""}:
                self.aliases.setdefault(key, []).extend(d for d in docs if d not in self.aliases.get(key, []))
        known = {*self.aliases, *self.short_titles}  # the works each known name (alias or short title) names
        self.named = {name: self.aliases.get(name, []) + self.short_titles.get(name, []) for name in known}
        self.names = NearNames(self.named, FILLER)
        # Works by first author: a common name ("Chen") has thousands of works at 51k, too many to filter per call.
        self.by_first_author: dict[str, list[int]] = {}
        for doc, names in enumerate(corpus.surnames):
            if names:
                self.by_first_author.setdefault(names[0], []).append(doc)
        self._doc_stems: dict[int, set[str]] = {}
        self._titled: dict[str, set[int]] = {}  # phrase → works whose title holds it (`_in_other_titles`)
        self._doc_terms: dict[int, set[str]] = {}

    def resolve(self, reference: str, n: int = 5, kind: str | None = None, context: str = "") -> list[Candidate]:
        """Candidates best first, each scored in [0, 1]; `kind` is the mention's shape when a thread was read,
        `context` the thread's text around the reference (it orders near ties, see `_by_context`)."""
        corpus = self.corpus
        keys = exact_keys_in(reference)
        if keys or kind == "link":
            # An id or link names exactly one work: that work, or nothing (never a look-alike title).
            exact = [corpus.doc_for_key(key) for key in keys]
            exact_docs = list(dict.fromkeys(d for d in exact if d is not None))
            return [Candidate(d, 1.0, {"exact": 1.0}) for d in exact_docs[:n]]

        parsed = parse_reference(reference, corpus, kind)
        if not parsed.title_text:
            return []
        candidates: dict[int, Candidate] = {}

        def add(doc: int) -> Candidate:
            if doc not in candidates:
                candidates[doc] = Candidate(doc, 0.0)
            return candidates[doc]

        names = {parsed.title_text, parsed.text, parsed.description} - {""}
        # In running text, a title's head written in lower case is the idea: "by magic" is not "Magic: …".
        lower_case = kind in {"quote", "name"} and reference == reference.lower()
        for name in names:
            for doc in self.aliases.get(name, []):
                trusted = not _CITATION_ALIAS.search(name)
                add(doc).signals["alias"] = 1.0 if trusted else CITATION_ALIAS_WEIGHT
            for doc in self._named_by_head(name, self.short_titles.get(name, []), lower_case):
                add(doc).signals["alias"] = max(add(doc).signals.get("alias", 0.0), 0.92)
            # Other word forms of a known name; with names or a year cited, of the descriptive words only ("Schmidt
            # 2015" and an alias "Schmidhuber 2015" share stems, hence never a citation alias either).
            descriptive = name == parsed.description or not (parsed.surnames or parsed.year)
            alike = self.names.same_stems(name) if descriptive else []
            for doc in (d for k in alike if not _CITATION_ALIAS.search(k) for d in self._named(k, lower_case)):
                add(doc).signals["alias"] = max(add(doc).signals.get("alias", 0.0), STEMMED_NAME_WEIGHT)
            if parsed.surnames or parsed.year or len(name) < 4:
                continue  # "Turpin et al. 2023" is one letter-edit from "Turner et al. 2023": no fuzzy names
            # Near-misses of a known name: "generalisation", a dropped hyphen or letter.
            for near, ratio in self.names.near(name):
                for doc in self._named(near, lower_case):
                    add(doc).signals["alias"] = max(add(doc).signals.get("alias", 0.0), 0.92 * ratio / 100)
        for doc in self._authored(parsed):
            add(doc)
        title_query = parsed.description if parsed.surnames or parsed.organisations else parsed.title_text
        for doc, _score in corpus.title_index.search(title_query or parsed.title_text, self.title_pool):
            add(doc)
        if parsed.description and (parsed.surnames or parsed.organisations or kind == "name"):
            # A description ("the Anthropic paper on many-shot jailbreaking") may match the abstract only.
            for doc, _score in corpus.full.search(parsed.description, 20):
                add(doc)

        for candidate in candidates.values():
            candidate.score = self._score(candidate, parsed, kind)
        ranked = self._by_context(
            sorted(candidates.values(), key=lambda c: (-c.score, not corpus.curated[c.doc])), context
        )
        title_like = not (parsed.surnames or parsed.given_name)
        if ranked and title_like and (unexplained := self._unexplained(parsed.own_words, ranked[0].doc)):
            ranked[0].signals["unexplained"] = unexplained
        if ranked and title_like and self._shared_term(parsed.own_words, ranked[0]):
            ranked[0].signals["shared"] = 1.0
        return ranked[:n]

    def _named(self, name: str, lower_case: bool) -> list[int]:
        """The works a known name (an alias or a title's head) names, see `_named_by_head`."""
        heads = self.short_titles.get(name, [])
        return self.aliases.get(name, []) + self._named_by_head(name, heads, lower_case)

    def _named_by_head(self, name: str, docs: list[int], lower_case: bool) -> list[int]:
        """The works whose title's head ("Inner Alignment: Explain like I'm 12") is the name, where it names them:
        not written in lower case in running text when the title capitalises it ("by magic", "the new idea in a
        paper"), not a single letter ("Q: How To…" is not "Q(s,a)"), and not a phrase of another work's title too
        ("inner alignment", "AI alignment" are topics)."""
        if len(name) < 2:
            return []
        if lower_case:
            heads = ((d, self.corpus.titles[d].partition(":")[0]) for d in docs)
            docs = [d for d, head in heads if head == head.lower()]
        return docs if docs and not self._in_other_titles(name, set(docs)) else []

    def _in_other_titles(self, phrase: str, docs: set[int]) -> bool:
        """Whether a work outside `docs` has the phrase, as whole words, in its title (among its title matches)."""
        found = self._titled.get(phrase)
        if found is None:
            if len(self._titled) >= 4096:
                self._titled.clear()  # phrases come from what people write: keep the cache bounded
            padded = f" {phrase} "
            hits = self.corpus.title_index.search(phrase, self.title_pool)
            found = self._titled[phrase] = {d for d, _ in hits if padded in f" {self.corpus.norm_titles[d]} "}
        return bool(found - docs)

    def _shared_term(self, words: str, best: Candidate) -> bool:
        """A title-like reference that is a phrase of other works' titles too, and neither a known name of the best
        work nor its whole title: "label noise" is a topic of several works, not "Label Noise in Context"."""
        named = best.signals.get("alias", 0.0) >= NAMED or best.signals.get("title", 0.0) >= 1.0
        whole = words == self.corpus.norm_titles[best.doc]  # "Inverse Reward Design, NeurIPS 2017"
        return bool(words) and not (named or whole) and self._in_other_titles(words, {best.doc})

    def _unexplained(self, description: str, doc: int) -> float:
        """Share of a title-like reference's words found nowhere in the work (title, names, notes, abstract), in
        either stem ("steered" is "steering", and the misspelt "ches" is "chess"): "Concrete problems in AI
        safety, revisited" or "… in vision models" is another work than the one whose title it extends."""
        words = description.split()
        # Crude stems without a final "s" either side: "proces" is "process", "ETHICSs" "ETHICS".
        crude, snowball = {s.rstrip("s") for s in self._stems_of(doc)}, self._terms_of(doc)
        missing = [w for w in words if stem(w).rstrip("s") not in crude and not stems(w) <= snowball]
        return round(len(missing) / len(words), 4) if words else 0.0

    def _by_context(self, ranked: list[Candidate], context: str) -> list[Candidate]:
        """Near ties with the best (within the confidence margin) ordered by how much of the context's rarer
        vocabulary each work's title and abstract share: in a thread on interpretability "Open Problems" is
        "Open Problems in Mechanistic Interpretability". Only when the reference nearly names them (among weak
        look-alikes the context would pick by topic alone); scores are kept, so the answer stays unconfident.
        Not used when reading a message for mentions: a sentence around a citation is often about something
        else ("As argued in (Guo et al., 2023), …") and moved ambiguous answers the wrong way (README)."""
        if not ranked or ranked[0].score < self.threshold - self.margin:
            return ranked
        tied = [c for c in ranked if ranked[0].score - c.score < self.margin]
        context_stems = stems(context) if len(tied) > 1 else set()
        if not context_stems:
            return ranked
        corpus = self.corpus
        idf = corpus.full.idf(context_stems)
        total = sum(idf.values())
        for candidate in tied:
            text = f"{corpus.titles[candidate.doc]} {corpus.descriptions[candidate.doc][:2000]}"
            candidate.signals["context"] = round(shared_idf(idf, text) / total, 4)
        if not any(c.signals["context"] for c in tied):
            return ranked
        return sorted(tied, key=lambda c: -c.signals["context"]) + ranked[len(tied) :]

    def _authored(self, parsed: ParsedReference, limit: int = 60) -> list[int]:
        """Works by the cited surnames; for a common name ("Chen", "Li"), the likeliest `limit` of them:
        first author, the year (±1), and the descriptive words, so scoring stays within milliseconds."""
        corpus = self.corpus
        lists = [corpus.by_surname.get(s, []) for s in parsed.surnames]
        docs = lists[0] if len(lists) == 1 else list(dict.fromkeys(d for works in lists for d in works))
        if len(docs) <= limit:
            return list(docs)
        # Those first-authored by the first name cited, in document order as `by_surname` keeps them (shared
        # lists: never sorted in place).
        docs = self.by_first_author.get(parsed.surnames[0]) or docs
        if parsed.year is not None:
            fits = {d: fit for d in docs if (fit := self._year_score(parsed.year, d))}
            # The cited year first: a common name has more than `limit` works within a year of it.
            docs = sorted(fits, key=lambda d: fits[d] < 1) or docs
        if len(docs) > limit and parsed.description:
            docs = sorted(docs, key=lambda d: -description_match(parsed.description, self._stems_of(d)))
        return docs[:limit]

    def _text_of(self, doc: int) -> str:
        """A work's title, notes (aliases, topics, summary) and the start of its abstract, normalised."""
        corpus = self.corpus
        notes = corpus.notes[doc] if corpus.notes else ""
        return f"{corpus.norm_titles[doc]} {notes} {normalize_text(corpus.descriptions[doc][:2000])}"

    def _stems_of(self, doc: int) -> set[str]:
        """The crude stems of `_text_of`, computed once and kept."""
        found = self._doc_stems.get(doc)
        if found is None:
            found = self._doc_stems[doc] = {stem(w) for w in self._text_of(doc).split()}
        return found

    def _terms_of(self, doc: int) -> set[str]:
        """The Snowball stems of `_text_of` ("steered" and "steering" are one), computed once and kept."""
        found = self._doc_terms.get(doc)
        if found is None:
            found = self._doc_terms[doc] = stems(self._text_of(doc))
        return found

    def _year_score(self, cited: int, doc: int) -> float:
        """1 for the work's year or its arXiv preprint's, 0.5 for a year next to one of them."""
        year, preprint = self.corpus.years[doc], self.corpus.preprint_years[doc]
        if cited in (year, preprint):
            return 1.0
        return 0.5 if any(y is not None and abs(y - cited) == 1 for y in (year, preprint)) else 0.0

    def _score(self, candidate: Candidate, parsed: ParsedReference, kind: str | None) -> float:
        corpus = self.corpus
        doc = candidate.doc
        signals = candidate.signals
        title = corpus.norm_titles[doc]
        year_score = None
        if parsed.year is not None:
            year_score = signals["year"] = self._year_score(parsed.year, doc)
        # As a title (or a known name): the year, if any, may be part of the title or a citation year.
        as_written = title_similarity(parsed.title_text, title)
        signals["title"] = max(as_written, title_similarity(parsed.text, title))
        title_score = max(signals["title"], signals.get("alias", 0.0) * 0.97)
        if year_score is not None and as_written < signals["title"]:
            title_score -= 0.1 * (1 - year_score)  # the year was a citation year, and it disagrees
        score = title_score
        if kind == "quote":
            return min(1.0, score + (0.02 if corpus.curated[doc] else 0.0))
        notes = corpus.notes[doc] if corpus.notes else ""
        described = 0.0
        if parsed.description:
            described = max(
                title_similarity(parsed.description, title),
                signals.get("alias", 0.0),
                0.8 * description_match(parsed.description, self._stems_of(doc)),
            )
            signals["description"] = round(described, 4)
        parts: list[tuple[float, float]] = []
        if parsed.surnames or parsed.given_name:
            # As an author citation: "Turpin et al. 2023", "Jacovi & Goldberg", "Smith and Chughtai", "Paul's …".
            cited = parsed.surnames or [parsed.given_name]
            authors, given = corpus.surnames[doc], corpus.given_names[doc]
            # An owner's one name may be a surname or a first name ("Ryan's alignment faking paper").
            # "Paul's research agenda FAQ": an owner named in the title is part of it, not its author.
            owners = {w[:-1] for w in title.split() if w.endswith("s")}
            found = [s for s in cited if s in authors or s in owners or (s == parsed.given_name and s in given)]
            if found and parsed.given_name and parsed.given_name not in authors:
                signals["first_name"] = 1.0  # by first name alone: many people share it
            author_score = len(found) / len(cited)
            if cited[0] in authors[:1] or (cited[0] == parsed.given_name and cited[0] in given[:1]):
                author_score = min(1.0, author_score + 0.15)
            elif author_score:
                # The authors people name are normally the first ones; "X et al." names the first one outright.
                author_score *= 0.5 if parsed.et_al else 0.8
            if parsed.every_author:
                # "A & B" names all the authors: a work of five, or one without B, is another work (or not ours).
                every = len(found) == len(authors) == len(parsed.surnames)
                author_score = min(1.0, author_score + 0.1) if every else author_score * 0.5
            signals["authors"] = author_score
            parts.append((0.55, author_score))
        if parsed.organisations:
            made_by = float(any(org in notes.split() or f" {org} " in f" {notes} " for org in parsed.organisations))
            signals["organisation"] = made_by
            parts.append((0.15, made_by))
        if parts:
            if parsed.description:
                parts.append((0.45, described))
            if year_score is not None:
                parts.append((0.25, year_score))
            combined = sum(w * v for w, v in parts) / sum(w for w, _ in parts)
            if not parsed.surnames and not parsed.description:
                combined = min(combined, 0.6)  # "DeepMind (2024)" names a maker and a year, not a work
            # Mostly a title stays a title ("Sleeper Agents (Hubinger et al.)"), less so when an author named did not
            # write it, or not as first author ("Goodfellow's adversarial examples paper" is not Szegedy et al.'s).
            doubt = MISATTRIBUTED * (1 - signals["authors"]) if "authors" in signals and corpus.surnames[doc] else 0
            score = max(combined, title_score - doubt if title_score >= 0.9 else 0.0)
            if signals.get("alias", 0.0) < 1.0:
                # Only a stored alias ("Hendrycks et al. 2023") names one of an author's works outright.
                score = min(score, 0.95)
        if corpus.curated[doc]:
            score += 0.02  # works on our reading list are the ones people mean when a name is ambiguous
        return min(1.0, score) - self._kind_penalty(parsed, doc)

    def _kind_penalty(self, parsed: ParsedReference, doc: int) -> float:
        """ "The grokking post" is the post when a paper shares its name; "the … paper" puts a post of the same
        name second (people call posts papers too, so only by a little: the order changes, not confidence)."""
        post = bool(self.corpus.kinds) and self.corpus.kinds[doc] == "post"
        if parsed.work_kind == "post":
            return 0.0 if post else KIND_PENALTY
        return KIND_PENALTY / 2 if post and parsed.work_kind in {"paper", "preprint"} else 0.0

    def _whole_title(self, candidates: list[Candidate]) -> bool:
        """The best work's whole title, of four words or more, was written, and the next work's was not: "Attention
        is not Explanation" is not "Attention is not not Explanation" (a short title may be another's nickname)."""
        best, second = candidates[0].signals, candidates[1].signals
        long_title = len(self.corpus.norm_titles[candidates[0].doc].split()) >= 4
        return long_title and best.get("title") == 1.0 > second.get("title", 0.0)

    def is_confident(self, candidates: list[Candidate], kind: str | None = None) -> bool:
        """The best candidate is the answer: high enough, clearly ahead, and (for weak cues) named, not guessed."""
        if not candidates:
            return False
        best = candidates[0]
        if "exact" in best.signals:
            return True
        if best.score < self.threshold:
            return False
        if len(candidates) > 1 and best.score - candidates[1].score < self.margin and not self._whole_title(candidates):
            return False  # a near tie between two different works: we cannot tell which one was meant
        if best.signals.get("unexplained"):
            return False  # the reference says more than the work does: likely another work, not in the base
        if best.signals.get("shared"):
            return False  # a phrase of several works' titles names their topic, not one of them
        if best.signals.get("authors", 1.0) < 0.9 and not best.signals.keys() & {"description", "year", "alias"}:
            return False  # "Long's seminal paper": one of a work's later authors, and nothing else, names no work
        named = best.signals.get("alias", 0.0) >= NAMED or best.signals.get("year") == 1.0
        if best.signals.get("first_name") and best.signals.get("description", 1.0) < 0.6 and not named:
            return False  # "Paul's comment reply to the post": one of many Pauls, and the words fit none of his works
        if kind == "author" and best.signals.get("authors") == 0.0:
            return False  # "Towards … corrigibility (Hubinger et al.)" is not "Corrigibility" by other authors
        if kind in {"name", "names"}:
            # A weak cue ("the … paper", "Sarah and Tom", a bare name) must name the work, not just share words.
            named = max(best.signals.get("alias", 0.0), best.signals.get("title", 0.0))
            authored = best.signals.get("authors", 0.0) >= 0.9 and best.signals.get("description", 0.0) >= 0.6
            return named >= 0.9 or authored
        if kind == "quote":
            return max(best.signals.get("alias", 0.0), best.signals.get("title", 0.0)) >= 0.85
        return True
