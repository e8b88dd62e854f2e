"""The curated reading list we ship: well-formed, consistent and broad enough to be useful."""

import json
import re
from collections import Counter

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
    assert len(works) >= 150
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
