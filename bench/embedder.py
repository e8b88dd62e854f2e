"""Encode rate and agreement of the default embedder (MiniLM on ONNX Runtime) against sentence-transformers
(today's `minilm-torch`), on the same texts in the same run. Ingest runs at the model's speed (README, Speed),
so the encode rate ratio is the ingest rate ratio. Needs the `torch` extra for the baseline.

Usage: python bench/embedder.py [--texts N]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bot.embedding import load_embedder
from bot.settings import Settings

CORE = Path(__file__).resolve().parents[2] / "shared" / "data" / "kb" / "alignment_core.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=1000)
    args = parser.parse_args()
    texts = []
    with CORE.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            texts.append(f"{record['title']}. {record.get('abstract') or ''}".strip())
            if len(texts) == args.texts:
                break
    settings = Settings()
    vectors, rates = {}, {}
    for model in ("minilm-torch", "minilm"):  # same settings: 128 tokens, the pipeline's 256-text batches
        embedder = load_embedder(model, settings.embedding_max_tokens, settings.embedding_batch_size)
        start = time.perf_counter()
        embedder.encode(texts[:32])  # the model loads on first use: count it apart
        load = time.perf_counter() - start
        start = time.perf_counter()
        vectors[model] = [embedder.encode(texts[i : i + 256]) for i in range(0, len(texts), 256)]
        rates[model] = len(texts) / (time.perf_counter() - start)
        print(f"{model:13} load+first batch {load:5.1f} s   {rates[model]:6.1f} docs/s")
    import numpy as np

    cosines = (np.concatenate(vectors["minilm"]) * np.concatenate(vectors["minilm-torch"])).sum(axis=1)
    print(f"speed-up {rates['minilm'] / rates['minilm-torch']:.2f}x (target >= 1.5x); cosine to sentence-transformers:")
    print(f"min {cosines.min():.5f}, mean {cosines.mean():.5f} over {len(texts)} texts")


if __name__ == "__main__":
    main()
