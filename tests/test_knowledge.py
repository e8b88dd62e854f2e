"""The curated reading list we ship: well-formed, consistent and broad enough to be useful."""

import json
import re
from collections import Counter

from bot.domain import WORK_KINDS
from bot.ingest.parsers import record_from_kb
from bot.settings import Settings

READING_LIST = Settings().knowledge_dir / "reading_list.jsonl"
REQUIRED_TOPICS = {
    "cot-faithfulness",
    "introspection",
    "deception",
    "scheming",
    "alignment-faking",
    "interpretability",
    "sae",
    "steering",
    "scalable-oversight",
    "debate",
    "control",
    "reward-hacking",
    "evals",
    "agents",
    "foundations",
    "forum-post",
}


def load() -> list[dict]:
    return [json.loads(line) for line in READING_LIST.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_reading_list_is_well_formed_and_large_enough() -> None:
    works = load()
    assert len(works) >= 500
    ids = [w["id"] for w in works]
    assert len(ids) == len(set(ids))
    for work in works:
        record_from_kb(work)  # the ingest parser accepts every line
        assert work["summary"] and len(work["summary"]) > 40, work["id"]
        assert work["aliases"], work["id"]
        if work["arxiv_id"]:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", work["arxiv_id"]), work["id"]
            assert work["id"] == f"arxiv:{work['arxiv_id']}"
            assert work["url"] == f"https://arxiv.org/abs/{work['arxiv_id']}"
        if work["id"].startswith("lw:"):
            assert re.fullmatch(r"lw:[A-Za-z0-9]{17}", work["id"])
            assert work["id"][3:] in work["url"]


def test_aliases_name_one_work_each_and_topics_cover_the_community() -> None:
    works = load()
    aliases = Counter(a.lower() for w in works for a in w["aliases"])
    assert [a for a, n in aliases.items() if n > 1] == []
    topics = {t for w in works for t in w["topics"]}
    assert topics >= REQUIRED_TOPICS


# Works whose author list really has exactly ten names (checked against the public records by
# bench/curated_check.py, MACHIAVELLI against the paper). Any other ten-name list is the old truncation back.
TEN_AUTHORS_CHECKED = {
    "arxiv:2408.05147",  # Gemma Scope
    "arxiv:2406.04313",  # Circuit Breakers
    "arxiv:2402.06782",  # Debating with More Persuasive LLMs
    "arxiv:2412.03556",  # Best-of-N Jailbreaking
    "arxiv:2001.08361",  # Scaling Laws for Neural Language Models
    "arxiv:2305.20050",  # Let's Verify Step by Step
    "arxiv:2501.19393",  # s1
    "arxiv:2304.03279",  # MACHIAVELLI
}
TRUNCATION_MARK = re.compile(r"(^|\s)(et al\.?|others|and others|\.\.\.|…)$", re.IGNORECASE)
VENUE_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def test_no_author_list_is_cut_short() -> None:
    works = load()
    assert [w["id"] for w in works if any(TRUNCATION_MARK.search(a) for a in w["authors"])] == []
    assert [w["id"] for w in works if len(w["authors"]) == 10 and w["id"] not in TEN_AUTHORS_CHECKED] == []
    assert [w["id"] for w in works if not w["authors"]] == []


def test_year_and_venue_agree() -> None:
    clashes = [
        (w["id"], w["year"], w["venue"])
        for w in load()
        if (years := {int(y) for y in VENUE_YEAR.findall(w["venue"] or "")}) and w["year"] not in years
    ]
    assert clashes == []


def test_entry_types() -> None:
    works = {w["id"]: w for w in load()}
    assert {w["kind"] for w in works.values()} <= WORK_KINDS - {"paper"}  # every curated work says what it is
    elk = works["lw:qHCDysDnvhteW7kRd"]
    assert elk["kind"] == "report" and "ARC's first technical report: Eliciting Latent Knowledge" in elk["aliases"]
    assert works["lw:HBxe6wdjxK239zajf"]["kind"] == "post"  # What failure looks like
    assert works["arxiv:2305.04388"]["kind"] == "inproceedings"  # Turpin et al., NeurIPS 2023
    assert works["arxiv:2102.12452"]["kind"] == "article"  # Belinkov, Computational Linguistics
    for work in works.values():
        if work["id"].startswith("lw:"):
            assert work["kind"] in {"post", "report"}, work["id"]
        if work["kind"] == "inproceedings":
            assert work["venue"], work["id"]
        if work["kind"] == "preprint":
            assert work["arxiv_id"] and not work["venue"], work["id"]


def test_renamed_papers_are_found_under_both_titles() -> None:
    rome = next(w for w in load() if w["id"] == "arxiv:2202.05262")
    assert rome["title"] == "Locating and Editing Factual Associations in GPT"
    assert "Locating and Editing Factual Knowledge in GPT" in rome["aliases"]


def test_the_works_the_issue_found_missing_are_there() -> None:
    works = {w["id"]: w for w in load()}
    assert works["arxiv:2411.02306"]["authors"][0] == "Marcus Williams"  # targeted manipulation, Williams et al.
    assert works["arxiv:2304.03279"]["authors"][0] == "Alexander Pan"  # MACHIAVELLI
    assert "MACHIAVELLI" in works["arxiv:2304.03279"]["aliases"]
    parrots = works["url:https://doi.org/10.1145/3442188.3445922"]
    assert parrots["authors"][0] == "Emily M. Bender" and parrots["year"] == 2021 and parrots["kind"] == "inproceedings"
    assert "Christiano's What failure looks like" in works["lw:HBxe6wdjxK239zajf"]["aliases"]
    assert sum(w["kind"] == "post" for w in works.values()) >= 100


def test_no_two_works_merge_on_ingest() -> None:
    """Ingest merges records that share an arXiv id, DOI, forum post, link or a title of three or more words:
    two curated works doing so would silently become one."""
    keys: dict[str, str] = {}
    for work in load():
        post = re.search(r"/posts/([A-Za-z0-9]{17})", work["url"] or "")
        title = " ".join(re.findall(r"[a-z0-9]+", work["title"].lower()))
        candidates = [
            work["arxiv_id"] and f"arxiv:{work['arxiv_id']}",
            work["doi"] and f"doi:{work['doi'].lower()}",
            post and f"post:{post.group(1)}",
            work["url"] and f"url:{work['url'].rstrip('/').lower()}",
            len(title.split()) >= 3 and f"title:{title}",
        ]
        for key in filter(None, candidates):
            assert keys.setdefault(key, work["id"]) == work["id"], (key, keys[key], work["id"])
