"""Reading threads as people write them (issue 11): each failure a new user met, as a regression test."""

import pytest

from bot.engine import Engine
from bot.mentions import find_mentions, reads_as_title


def arxiv_ids(engine: Engine, text: str) -> list[str | None]:
    return [e.work.arxiv_id for e in engine.bibliography(text).entries]


@pytest.mark.parametrize(
    "quoted",
    [
        "‘Language Models Don’t Always Say What They Think’",
        "'Language Models Don't Always Say What They Think'",
        "“Language Models Don’t Always Say What They Think”",
        '"Language Models Don\'t Always Say What They Think"',
        "«Language Models Don’t Always Say What They Think»",
        "″Language Models Don't Always Say What They Think″",
        "*Language Models Don't Always Say What They Think*",
        "_Language Models Don’t Always Say What They Think_",
        "<em>Language Models Don't Always Say What They Think</em>",
    ],
)
def test_quoted_titles_keep_their_apostrophes(engine: Engine, quoted: str) -> None:
    text = f"As {quoted} showed, explanations can be unfaithful."
    mentions = [m for m in find_mentions(text, engine.corpus) if m.kind == "quote"]
    assert [m.text.replace("’", "'") for m in mentions] == ["Language Models Don't Always Say What They Think"]
    assert mentions[0].strong
    # The Turpin et al. paper, not "Reasoning Models Don't Always Say What They Think".
    assert arxiv_ids(engine, text) == ["2305.04388"]


@pytest.mark.parametrize(
    "prose",
    [
        "I think faithful CoT is underrated.",
        "LM agents will be everywhere soon.",
        "Did you read the latest paper from Anthropic?",
        "It is just a stochastic parrot, people said.",
        'The prompt was "Chain of Thought: The answer is A. Response: I think so." and it failed.',
        "We ran (LLMs) and (RLHF) baselines; Large Language Models (LLMs) do this.",
        "In March 2023 we met. Since 2019 the field moved.",
        "Diogo Cruz's work in AI safety grew from this, see Nvidia’s annual reports.",
        "Brown and Catherine Olsson, Research Engineers, Google Brain Team.",
        # A work's one-word alias used for the thing itself: a model, a benchmark, a method, an organisation.
        "Encoder models like BERT still win on short classification tasks.",
        "Our pipeline uses Retrieval-Augmented Generation (RAG) over the wiki.",
        "Scores on the Massive Multitask Language Understanding suite (MMLU for short) went up.",
        "They describe an attribution method called TracIn in the appendix.",
        "DeepSeek-R1 shows its whole chain of thought to the user.",
        "Two CAIS researchers joined the project.",
        "We report MMLU benchmark scores for every checkpoint.",
        # A bold heading alone on its line, though a listed work has it as an alias.
        "Compute grew fast.\n\n**Algorithmic efficiency**\n\nResearchers also found better ways to use it.",
        # A title's last word before a year, not someone called Need.
        "See also Not All Attention Is All You Need (2021) for pruning heads.",
        # A paper's part, or a sentence about one, is not a work named by its description.
        "In the framework of the post, this is the weight given to each hypothesis.",
        "I think this is an awesome paper.",
    ],
)
def test_ordinary_phrases_never_become_references(engine: Engine, prose: str) -> None:
    result = engine.bibliography(prose)
    assert result.entries == []
    assert result.unresolved == []


def test_a_link_matches_its_work_or_nothing(empty_engine: Engine) -> None:
    # A stored record whose title is its own URL must not catch a link to another paper.
    empty_engine.ingest_records(
        [
            {"id": "url:x", "title": "https://arxiv.org/abs/2304.03280", "authors": [], "url": "https://example.org/x"},
            {"id": "arxiv:2304.03280", "arxiv_id": "2304.03280", "title": "A Stored Paper", "authors": ["A Person"]},
        ],
        embed=False,
    )
    result = empty_engine.bibliography("See https://arxiv.org/pdf/2304.03279.pdf for details.")
    assert result.entries == []
    [unresolved] = result.unresolved
    assert (unresolved.text, unresolved.kind, unresolved.best_guess) == (
        "https://arxiv.org/pdf/2304.03279.pdf",
        "link",
        None,
    )
    cited = empty_engine.cite("https://arxiv.org/pdf/2304.03279.pdf")
    assert cited.match is None and not cited.confident


def test_words_introducing_a_link_are_not_a_second_reference(engine: Engine) -> None:
    text = "Hubinger's post [Sleeper agents](https://example.org/sleeper) is worth reading."
    result = engine.bibliography(text)
    assert result.entries == [] and [(u.kind, u.text) for u in result.unresolved] == [
        ("link", "[Sleeper agents](https://example.org/sleeper)")
    ]


def test_a_quoted_title_extending_a_listed_one_is_reported_not_resolved(engine: Engine) -> None:
    result = engine.bibliography("I re-read “Concrete Problems in AI Safety, Revisited” last week.")
    assert result.entries == []
    [unresolved] = result.unresolved
    assert unresolved.text == "Concrete Problems in AI Safety, Revisited"
    assert unresolved.best_guess is not None and unresolved.best_guess.title == "Concrete Problems in AI Safety"


def test_a_later_authors_name_alone_names_none_of_their_works(engine: Engine) -> None:
    # Long is the sixth author of one listed work ("Looking Inward"); this paper of his is not on the list.
    text = "Butlin and Long’s seminal paper, *Consciousness in Artificial Intelligence*, surveys the theories."
    assert engine.bibliography(text).entries == []
    assert not engine.cite("Long's seminal paper").confident


def test_an_unknown_name_with_a_year_is_still_a_citation(engine: Engine) -> None:
    [unresolved] = engine.bibliography("As Quuxley (2021) argued, scaling helps.").unresolved
    assert unresolved.text == "Quuxley (2021)" and unresolved.kind == "author"


def test_a_quoted_title_not_in_the_knowledge_base_is_reported(engine: Engine) -> None:
    result = engine.bibliography("Have you seen “Scaling Monosemanticity Across Twelve Unrelated Zebra Herds”?")
    assert result.entries == []
    [unresolved] = result.unresolved
    assert unresolved.kind == "quote"
    assert unresolved.text == "Scaling Monosemanticity Across Twelve Unrelated Zebra Herds"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Burns's CCS paper is the classic here.", "Discovering Latent Knowledge in Language Models Without Supervision"),  # noqa: E501
        ("RepE (Zou et al.) steers with reading vectors.", "Representation Engineering: A Top-Down Approach to AI Transparency"),  # noqa: E501
        ("Perez et al., the model-written evals paper, found it.", "Discovering Language Model Behaviors with Model-Written Evaluations"),  # noqa: E501
        ("Apollo's scheming evals paper is the one.", "Frontier Models are Capable of In-context Scheming"),
        ("See the Anthropic paper on many-shot jailbreaking.", "Many-shot Jailbreaking"),
        ("The chess hacking paper got a lot of press.", "Demonstrating specification gaming in reasoning models"),
        ("weak-to-strong generalization (Burns et al.) is newer.", "Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision"),  # noqa: E501
    ],
)  # fmt: skip
def test_mixed_references_resolve_to_the_described_work(engine: Engine, text: str, title: str) -> None:
    assert [e.work.title for e in engine.bibliography(text).entries] == [title]


def test_a_possessive_names_the_owner_not_the_title_words(engine: Engine) -> None:
    # Capitalised title words after "Hadfield-Menell's" are not authors; a double-barrelled surname is found.
    for text, title in [
        ("Hadfield-Menell's Cooperative Inverse Reinforcement Learning paper", "Cooperative Inverse Reinforcement"),
        ("Brown-Cohen's doubly-efficient debate paper", "Scalable AI Safety via Doubly-Efficient Debate"),
        ("the SHIFT (sparse feature circuits) paper", "Sparse Feature Circuits: Discovering and Editing"),
    ]:  # fmt: skip
        [entry] = engine.bibliography(f"Read {text} first.").entries
        assert entry.work.title.startswith(title)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Hubinger's Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training paper", "Sleeper"),
        ("Discovering Latent Knowledge in Language Models Without Supervision (Burns et al.) is old.", "Discovering"),
        ("Turpin et al.'s Language Models Don't Always Say What They Think is key.", "Language Models Don"),
        ("As van der Weij et al. (2024) showed, models sandbag.", "AI Sandbagging"),
        ("Causal confusion is old news (de Haan et al., 2019).", "Causal Confusion in Imitation Learning"),
    ],
)  # fmt: skip
def test_long_titles_and_name_particles_are_read_whole(engine: Engine, text: str, title: str) -> None:
    [entry] = engine.bibliography(text).entries
    assert entry.work.title.startswith(title)


def test_an_in_text_citation_with_a_year_does_not_take_the_claim_before_it(engine: Engine) -> None:
    text = "Explanations can be unfaithful (Turpin et al., 2023) in practice."
    assert [m.text for m in find_mentions(text, engine.corpus)] == ["Turpin et al., 2023"]
    assert arxiv_ids(engine, text) == ["2305.04388"]
    # Without a year, the words before say which work: "weak-to-strong generalization (Burns et al.)".


def test_a_name_inside_a_longer_title_is_not_that_work(engine: Engine) -> None:
    # "Best-of-N Jailbreaking" here is part of another paper's title, not a mention of that paper.
    result = engine.bibliography("I liked Mitigating Best-of-N Jailbreaking with Prompt Evaluation a lot.")
    assert result.entries == []


def test_author_citations_that_disagree_with_a_work_are_not_confident(empty_engine: Engine) -> None:
    empty_engine.ingest_records(
        [
            {"id": "w1", "title": "Kallini et al. (2024) Do Not Compare", "authors": ["Ann Hunter"], "year": 2024},
            {"id": "w2", "title": "Scaling Under a Token Crisis", "year": 2023,
             "authors": ["Fuzhao Xue", "Yao Fu", "Wangchunshu Zhou", "Zangwei Zheng", "Yang You"]},
            {"id": "w3", "title": "A Family of Multimodal Models", "authors": ["Gemini Team"], "year": 2023},
            {"id": "w4", "title": "A Paper on Something Else", "authors": ["Jiho An", "Mia Park"], "year": 2022},
        ],
        embed=False,
    )  # fmt: skip
    # "An" is a surname, not an article; "A & B" names all the authors, not two of five; a team is no one.
    result = empty_engine.bibliography("As An et al. 2024 argued, and (Team, 2023), see Xue & You 2023.")
    assert result.entries == []
    assert {(u.text, u.kind) for u in result.unresolved} == {
        ("An et al. 2024", "author"),
        ("Team, 2023", "author"),
        ("Xue & You 2023", "author"),
    }
    assert empty_engine.cite("Xue, Fu, Zhou, Zheng and You 2023").confident


def test_an_organisation_is_not_a_title_word(engine: Engine) -> None:
    result = engine.cite("the OpenAI paper on obfuscated reward hacking")
    assert result.match is not None and "Gym" not in result.match.title
    assert "organisation" in result.signals


def test_near_ties_are_unconfident_with_alternatives(engine: Engine) -> None:
    result = engine.cite("Nanda et al. on mechanistic interpretability")
    assert not result.confident and result.alternatives


def test_cite_says_which_signals_decided(engine: Engine) -> None:
    assert engine.cite("arXiv:2401.05566").signals == {"exact": 1.0}
    signals = engine.cite("Turpin et al. 2023").signals
    assert signals["authors"] == 1.0 and signals["year"] == 1.0


@pytest.mark.parametrize(
    ("span", "titled"),
    [
        ("Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training", True),
        ("Personalize to generalize: Towards a universal medical model", True),
        ("Toward Understanding In-context vs. In-weight Learning", True),
        ("Chain of Thought: The answer is A. Response: yes", False),
        ("it works fine", False),
        ("the of and", False),
    ],
)
def test_what_reads_as_a_title(span: str, titled: bool) -> None:
    assert reads_as_title(span) is titled


def test_cite_and_bibliography_never_need_the_embedding_model(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dense(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("cite and bibliography decide on lexical signals alone")

    monkeypatch.setattr(engine.embedder, "encode", no_dense)
    assert engine.cite("Burns's CCS paper").confident
    assert engine.bibliography("RepE (Zou et al.) and “Sleeper Agents”").entries


def test_the_kind_of_work_named_decides_between_works_of_one_name(empty_engine: Engine) -> None:
    # A post stored with the default kind is known as a post by its forum link.
    empty_engine.ingest_records(
        [
            {"id": "paper", "title": "Grokking: Generalization Beyond Overfitting", "authors": ["Alethea Power"],
             "year": 2022, "aliases": ["grokking"]},
            {"id": "post", "title": "A Mechanistic Interpretability Analysis of Grokking", "authors": ["Neel Nanda"],
             "year": 2022, "aliases": ["grokking"], "url": "https://www.lesswrong.com/posts/N6WM6hs7RQMKDhYjB/x"},
        ],
        embed=False,
    )  # fmt: skip
    post = empty_engine.cite("the grokking post")
    assert post.confident and post.match is not None and post.match.id == "post"
    paper = empty_engine.cite("the grokking paper")
    assert paper.match is not None and paper.match.id == "paper"
    # "Paper" is said of posts too: the post is second, not ruled out.
    assert not paper.confident and [w.id for w in paper.alternatives][:1] == ["post"]
    assert not empty_engine.cite("grokking").confident  # nothing says which


def test_author_names_as_bibtex_sources_write_them(empty_engine: Engine) -> None:
    empty_engine.ingest_records(
        [
            {"id": "magi", "title": "MAGI-1: Autoregressive Video Generation at Scale", "year": 2025,
             "authors": ["Sand. ai", "Hansi Teng"]},
            {"id": "bt", "title": "A Better Transformer for Fast Transformer Inference", "year": 2022,
             "authors": ["Eric Han, Scott Wolchok, Rui Zhu, Christian Puhrsch Michael Gschwind"]},
        ],
        embed=False,
    )  # fmt: skip
    # A lower-case name in a parenthesised citation; an author field that lists "First Last" names with commas.
    text = "(ai et al. 2025) is relevant, as argued in (Gschwind 2022)."
    assert [e.work.id for e in empty_engine.bibliography(text).entries] == ["magi", "bt"]
    first = empty_engine.cite("Han et al. 2022")
    assert first.confident and first.match is not None and first.match.id == "bt"
    # Lower-case words before a year in parentheses are no one's names.
    empty_engine.ingest_records(
        [{"id": "see", "title": "Get To The Point", "authors": ["Abigail See"], "year": 2017}], embed=False
    )
    result = empty_engine.bibliography("We ran it (since 2019) and again (in 2020), see (circa 2021) (see 2017).")
    assert result.entries == [] and result.unresolved == []


def test_titles_named_as_papers_or_cited_in_sentence_case_are_reported(engine: Engine) -> None:
    result = engine.bibliography(
        "As argued in the The Basic Drives Of Stapler Agents paper, it sums to one (see «Score-based pullback "
        "Riemannian geometry of zebras»), unlike “a quoted sentence case phrase” or the Big Idea paper."
    )
    assert result.entries == []
    assert [(u.kind, u.text) for u in result.unresolved] == [
        ("name", "the The Basic Drives Of Stapler Agents paper"),
        ("quote", "Score-based pullback Riemannian geometry of zebras"),
    ]


def test_a_stored_alias_with_its_makers_name_is_a_name(engine: Engine) -> None:
    text = "As argued in the Apollo scheming evals, models scheme in context."
    assert [e.work.title for e in engine.bibliography(text).entries] == [
        "Frontier Models are Capable of In-context Scheming"
    ]
    # Without a name in it, a lower-case phrase is the idea, not a work.
    assert engine.bibliography("Models take the sharp left turn late.").entries == []


def test_ordinary_words_that_head_a_title_are_not_that_work(empty_engine: Engine) -> None:
    # Real summaries resolved each of these confidently to a work whose title starts with the word (51k works).
    empty_engine.ingest_records(
        [
            {"id": "m1", "title": "Magic: Investigation of Large Language Model Powered Multi-Agent Games"},
            {"id": "m2", "title": "SCOPE: A Self-supervised Framework for Improving Faithfulness"},
            {"id": "m3", "title": "IDEA: An Interpretable and Editable Decision-Making Framework"},
            {"id": "m4", "title": "Discussion: Objective Robustness and Inner Alignment Terminology"},
            {"id": "m5", "title": "REST: Stress Testing Large Reasoning Models by Asking Multiple Problems"},
        ],
        embed=False,
    )
    prose = (
        'The model assumes preferences change "by magic". Each correction is only "in scope" for one episode. '
        "Gains may come from tuning instead of the new idea in a paper. Applying the discussion from the paper "
        "to this case, we conclude little. The rest of this post is about timelines."
    )
    assert empty_engine.bibliography(prose).entries == []
    # Written as the title writes it, the head still names its work.
    for name, work in (("the SCOPE paper", "m2"), ("the Magic paper", "m1")):
        result = empty_engine.bibliography(f"See {name} for details.")
        assert [e.work.id for e in result.entries] == [work]


def test_a_phrase_of_several_titles_names_their_topic_not_one_work(empty_engine: Engine) -> None:
    empty_engine.ingest_records(
        [
            {"id": "n1", "title": "Label Noise in Context"},
            {"id": "n2", "title": "Gradient Descent with Early Stopping is Provably Robust to Label Noise"},
            {"id": "n3", "title": "Inner Alignment: Explain like I'm 12 Edition"},
            {"id": "n4", "title": "Clarifying inner alignment terminology"},
            {"id": "n5", "title": "Sleeper Agents: Training Deceptive LLMs that Persist Through Safety Training"},
        ],
        embed=False,
    )
    prose = "These results only occur with _label noise_ present. That is **inner alignment**, the harder part."
    assert empty_engine.bibliography(prose).entries == []
    assert empty_engine.cite("label noise").signals.get("shared") == 1.0
    # A whole title, and a title's head no other title shares, still name their works.
    assert empty_engine.cite("Label Noise in Context").confident
    result = empty_engine.bibliography('As "Sleeper Agents" showed, backdoors persist.')
    assert [e.work.id for e in result.entries] == ["n5"]


def test_bold_text_that_starts_a_paragraph_and_ends_in_a_full_stop_is_a_heading(empty_engine: Engine) -> None:
    empty_engine.ingest_records([{"id": "t1", "title": "Takeoff speeds", "authors": ["Paul Christiano"]}], embed=False)
    heading = "Survey results.\n\n**Takeoff speeds.** A common disagreement is whether progress will be fast."
    assert empty_engine.bibliography(heading).entries == []
    assert [e.work.id for e in empty_engine.bibliography("As **Takeoff speeds** argued, it may be slow.").entries] == [
        "t1"
    ]


def test_a_first_name_with_words_that_fit_none_of_their_works_is_not_confident(empty_engine: Engine) -> None:
    empty_engine.ingest_records(
        [
            {"id": "p1", "title": "Where I agree and disagree with Eliezer", "authors": ["Paul Christiano"],
             "abstract": "A reply to a list of lethalities, point by point."},
            {"id": "p2", "title": "Factorial LDA: Sparse Multi-Dimensional Text Models", "authors": ["Michael Paul"]},
        ],
        embed=False,
    )  # fmt: skip
    # Many people are called Paul: "comment reply" describes none of Christiano's works.
    result = empty_engine.cite("Paul's comment reply to the post")
    assert not result.confident and result.signals.get("first_name") == 1.0
    assert empty_engine.cite("Paul's list of lethalities reply").confident
