"""Reference resolution over the bundled reading list, as a new user gets it."""

import pytest

from bot.engine import Engine


@pytest.mark.parametrize(
    ("reference", "arxiv_id"),
    [
        ("Jacovi & Goldberg", "2004.03685"),
        ("Jacovi and Goldberg (2020)", "2004.03685"),
        ("Turpin et al. 2023", "2305.04388"),
        ("(Turpin et al., 2023)", "2305.04388"),
        ("the sleeper agents paper", "2401.05566"),
        ("Sleeper agent", "2401.05566"),
        ("RepE", "2310.01405"),
        ("ActAdd", "2308.10248"),
        ("CCS", "2212.03827"),
        ("Looking Inward", "2410.13787"),
        ("measuring faithfulness in chain of thought", "2307.13702"),
        ("Language models dont always say what they think", "2305.04388"),
        ("weak to strong generalisation", "2312.09390"),
        ("the alignment faking paper", "2412.14093"),
        # A known name in other word forms (alias "the mesa-optimization paper"), also after its author's name.
        ("the mesa-optimizer paper", "1906.01820"),
        ("Hubinger's mesa-optimisation paper", "1906.01820"),
        # Qualifiers and dates around a nickname describe it, they are not part of it.
        ("the sleeper agents paper from last January", "2401.05566"),
        ("the famous attention is all you need paper", "1706.03762"),
        ("arXiv:2401.05566v2", "2401.05566"),
        ("https://arxiv.org/pdf/2412.14093v2", "2412.14093"),
        ("2305.04388", "2305.04388"),
    ],
)
def test_references_as_people_write_them(engine: Engine, reference: str, arxiv_id: str) -> None:
    result = engine.cite(reference)
    assert result.match is not None
    assert result.match.arxiv_id == arxiv_id
    assert result.confident
    assert result.formatted and (result.match.url or "") in result.formatted


def test_nonsense_and_unknown_references_are_not_confident(engine: Engine) -> None:
    assert not engine.cite("best pizza dough hydration").confident
    assert engine.cite("zxqv wibble").match is None


def test_an_owner_name_before_a_long_description_is_read_as_the_author(engine: Engine) -> None:
    # Four descriptive words after "Hubinger's": Hubinger still counts, and the AF post is found, not a paper
    # whose title shares the words ("Model Organisms for Emergent Misalignment", by others).
    result = engine.cite("Hubinger's model organism of misalignment paper")
    assert result.confident and result.match is not None
    assert result.match.title.startswith("Model Organisms of Misalignment:")
    assert result.signals["authors"] == 1.0


def test_a_named_work_and_an_author_who_did_not_write_it(engine: Engine) -> None:
    # "reward tampering" is an alias of Denison et al.'s paper, and Everitt wrote another reward-tampering paper:
    # his comes first, the named one beside it, and neither is certain.
    result = engine.cite("Everitt's reward tampering paper")
    assert result.match is not None and result.match.arxiv_id == "1908.04734"
    assert not result.confident
    assert any(a.title.startswith("Sycophancy to Subterfuge") for a in result.alternatives)
    # Everitt wrote nothing like "sleeper agents": the name outweighs a misremembered author.
    sleeper = engine.cite("Everitt's sleeper agents paper").match
    assert sleeper is not None and sleeper.arxiv_id == "2401.05566"


def test_an_author_named_beside_a_coauthors_nickname_is_a_doubt(engine: Engine) -> None:
    # "adversarial examples paper" is an alias of Szegedy et al.'s paper, which Goodfellow co-wrote; his own
    # "Explaining and Harnessing Adversarial Examples" fits as well: no confident answer either way.
    result = engine.cite("Goodfellow's adversarial examples paper")
    assert not result.confident and result.match is not None
    found = [result.match.title, *(a.title for a in result.alternatives)]
    assert found[:2] == ["Intriguing properties of neural networks", "Explaining and Harnessing Adversarial Examples"]


@pytest.mark.parametrize(
    ("reference", "title"),
    [
        ("Paul's ELK report", "Eliciting Latent Knowledge: How to Tell if Your Eyes Deceive You"),
        ("Eliezer's list of lethalities", "AGI Ruin: A List of Lethalities"),
        ("Ryan's alignment faking paper", "Alignment faking in large language models"),  # Ryan: a surname too
    ],
)
def test_an_owner_called_by_first_name(engine: Engine, reference: str, title: str) -> None:
    # Forums call people by their first names; no author on the list has "Paul" or "Eliezer" as a surname, and the
    # Ryan who has it wrote nothing on alignment faking.
    result = engine.cite(reference)
    assert result.confident and result.match is not None and result.match.title == title
    assert result.signals["authors"] == 1.0


def test_a_first_name_no_author_has_stays_a_word_of_the_title(engine: Engine) -> None:
    result = engine.cite("Zebediah's ELK report")  # not a given name on the list: read as before
    assert result.match is not None and "authors" not in result.signals


def test_a_paper_is_cited_by_its_preprints_year_too(engine: Engine) -> None:
    # Discovering Latent Knowledge is kept with its venue's year (ICLR 2023); its arXiv id (2212.03827) says 2022.
    result = engine.cite("Burns et al. 2022")
    assert result.confident and result.match is not None and result.match.arxiv_id == "2212.03827"
    assert result.match.year == 2023 and result.signals["year"] == 1.0
    # Weak-to-Strong Generalization's preprint (2312.09390) is of 2023 as well: Burns wrote two works of 2023.
    ambiguous = engine.cite("Burns et al. 2023")
    assert not ambiguous.confident and ambiguous.match is not None
    both = {ambiguous.match.arxiv_id, ambiguous.alternatives[0].arxiv_id}
    assert both == {"2212.03827", "2312.09390"}


@pytest.mark.parametrize(
    "reference",
    [
        "Concrete problems in AI safety, revisited",  # Raji & Dobbe (2020), not on the list
        "Deep reinforcement learning that matters",  # Henderson et al. (2018), not on the list
        "Discovering latent knowledge in vision models",
    ],
)
def test_a_title_with_words_the_work_lacks_is_another_work(engine: Engine, reference: str) -> None:
    # Each reads close to a listed title (the last two above the confidence threshold), but says more than the
    # listed work does anywhere: shown as a guess, never as the answer.
    result = engine.cite(reference)
    assert result.match is not None and not result.confident
    assert result.signals["unexplained"] > 0


@pytest.mark.parametrize(
    ("reference", "title"),
    [
        ("Attention Is All You Need, NeurIPS 2017", "Attention Is All You Need"),
        ("Harms from Increasingly Agentic Algorithmic Systems, FAccT 2023", "Harms from Increasingly Agentic"),
        (
            "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets, 1st Mathematical Reasoning in "
            "General Artificial Intelligence Workshop, ICLR 2021",
            "Grokking: Generalization Beyond Overfitting",
        ),
        # "Paul's" is part of this title (by another author), not its owner.
        ("Paul's research agenda FAQ, LessWrong 2018", "Paul's research agenda FAQ"),
    ],
)
def test_a_title_cited_with_its_venue_names_the_work(engine: Engine, reference: str, title: str) -> None:
    result = engine.cite(reference)
    assert result.confident and result.match is not None and result.match.title.startswith(title)
    assert "unexplained" not in result.signals


def test_a_title_extended_by_words_and_a_year_is_still_another_work(engine: Engine) -> None:
    result = engine.cite("Concrete problems in AI safety, revisited (2020)")
    assert result.match is not None and not result.confident and result.signals["unexplained"] > 0


@pytest.mark.parametrize(
    ("reference", "arxiv_id"),
    [
        ("the ches hacking paper", "2502.13295"),  # misspelt: "chess"
        ("Steered GPT-2-XL by adding an activation vector", None),  # another word form: "Steering"
        ("Reward is not the optimisation target", None),
    ],
)
def test_misspelt_or_inflected_words_still_name_the_work(engine: Engine, reference: str, arxiv_id: str | None) -> None:
    result = engine.cite(reference)
    assert result.confident and result.match is not None and "unexplained" not in result.signals
    assert arxiv_id is None or result.match.arxiv_id == arxiv_id


@pytest.mark.parametrize("title", ["Attention is not Explanation", "Attention is not not Explanation"])
def test_a_whole_title_names_its_work_beside_a_look_alike(engine: Engine, title: str) -> None:
    # Both are on the list, and each reads within the near-tie margin of the other.
    result = engine.cite(title)
    assert result.confident and result.match is not None and result.match.title == title
    assert not engine.cite("Corrigibility").confident  # two listed works have that whole title


def test_ambiguous_surname_is_not_confident_and_offers_alternatives(engine: Engine) -> None:
    # Lanham is first author of more than one work on the reading list.
    result = engine.cite("Lanham et al.")
    assert not result.confident
    assert result.match is not None and result.alternatives
    assert {result.match.authors[0].split()[-1], result.alternatives[0].authors[0].split()[-1]} == {"Lanham"}


OVERSIGHT_THREAD = ["We could watch the model's externalized reasoning, as a kind of oversight."]
FAITHFULNESS_THREAD = ["Does truncating the chain of thought or adding mistakes to it change the answer?"]


@pytest.mark.parametrize(
    ("thread", "title"),
    [
        (OVERSIGHT_THREAD, "Externalized reasoning oversight"),
        (FAITHFULNESS_THREAD, "Measuring Faithfulness in Chain-of-Thought Reasoning"),
    ],
)
def test_the_thread_orders_a_near_tie_but_never_makes_it_confident(
    engine: Engine, thread: list[str], title: str
) -> None:
    result = engine.cite("Lanham et al.", context=thread)
    assert result.match is not None and result.match.title.startswith(title)
    assert result.signals["context"] > 0
    assert not result.confident  # two of Lanham's works fit: the thread makes one likelier, not certain
    assert {result.match.id, result.alternatives[0].id} == {
        engine.cite("Lanham et al.").match.id,  # type: ignore[union-attr]
        engine.cite("Lanham et al.").alternatives[0].id,
    }


def test_the_thread_does_not_move_a_confident_answer(engine: Engine) -> None:
    alone = engine.cite("Turpin et al. 2023")
    in_thread = engine.cite(
        "Turpin et al. 2023", context=["Sleeper agents: deceptive training persists.", *OVERSIGHT_THREAD]
    )
    assert in_thread.confident and in_thread.match == alone.match
    assert "context" not in in_thread.signals


def test_the_thread_does_not_pick_among_weak_look_alikes(engine: Engine) -> None:
    # A reference that names nothing well stays ordered by how it reads, not by the thread's topic.
    alone = engine.cite("a new agenda")
    assert engine.cite("a new agenda", context=FAITHFULNESS_THREAD).match == alone.match


def test_year_disambiguates(engine: Engine) -> None:
    hubinger_2019 = engine.cite("Hubinger et al. 2019")
    hubinger_2024 = engine.cite("Hubinger et al. 2024")
    assert hubinger_2019.match and hubinger_2019.match.year == 2019
    assert hubinger_2024.match and hubinger_2024.match.year == 2024


def test_cite_styles(engine: Engine) -> None:
    apa = engine.cite("Jacovi & Goldberg", style="apa").formatted
    acl = engine.cite("Jacovi & Goldberg", style="acl").formatted
    bib = engine.cite("Jacovi & Goldberg", style="bibtex").formatted
    assert apa and apa.startswith("Jacovi, A., & Goldberg, Y. (2020). Towards Faithfully Interpretable NLP")
    assert acl and acl.startswith("Alon Jacovi and Yoav Goldberg. 2020. Towards Faithfully")
    assert bib and bib.startswith("@") and "eprint = {2004.03685}" in bib


def test_empty_reference_is_an_error(engine: Engine) -> None:
    with pytest.raises(ValueError, match="empty"):
        engine.cite("   ")
