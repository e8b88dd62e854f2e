"""Learned fusion: a linear model over per-candidate features, its weights read from `fusion_weights.json`.

The weights are produced by bench/train_fusion.py on public data only (agenda queries of the Shallow Review
split by agenda, informal link mentions), cross-validated, with a held-out part of the agendas never tuned
on; the file records what it was trained on and how it scored. Training also fits a column this module never
computes, whether a work lacks an abstract, and drops its weight (`nuisance_dropped`): the benchmark's gold is
disproportionately title-only, which the other weights would otherwise learn. Scoring is one matrix product.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
WEIGHTS_PATH = Path(__file__).with_name("fusion_weights.json")

# What is known about each candidate of a question; `candidate_features` in search.py fills the columns.
FEATURES = (
    "cosine",  # dense cosine of question and work
    "cosine_gap",  # cosine minus the best cosine among the question's candidates (≤ 0)
    "bm25_log",  # log(1 + BM25 over the full text): how much text matched, not only relative to the best
    "bm25",  # BM25 over the full text, divided by the question's best
    "bm25_title",  # BM25 over title and aliases, divided by the question's best
    "dense_rank",  # 1 / (1 + rank) among the dense candidates, 0 if not among them
    "lexical_rank",  # 1 / (1 + rank) among the full-text BM25 candidates
    "alias_hit",  # the question names one of the work's aliases
    "recency",  # (year - 2010) / 15, clipped to [0, 1]; 0 without a year
    "no_year",
    "curated",
    "centroid_cosine",  # cosine to the centroid of the fixed fusion's first FEEDBACK_DOCS hits (feedback)
    "centroid_gap",  # centroid_cosine minus the best among the question's candidates (≤ 0)
    "adapted_cosine",  # cosine of the work and the question's vector mapped by the query adapter (adapter.py)
    "adapted_gap",  # adapted_cosine minus the best among the question's candidates (≤ 0)
)


@dataclass(frozen=True)
class LinearFusion:
    features: tuple[str, ...]
    weights: np.ndarray  # one per feature, applied to (x - mean) / scale
    mean: np.ndarray
    scale: np.ndarray
    bias: float = 0.0
    logistic: bool = True  # scores are probabilities of relevance in (0, 1), else the raw linear score

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """A score per row of `matrix` (candidates × FEATURES); higher ranks first."""
        linear = ((matrix - self.mean) / self.scale) @ self.weights + self.bias
        return 1 / (1 + np.exp(-linear)) if self.logistic else linear

    @classmethod
    def fixed(cls, dense_weight: float) -> LinearFusion:
        """The hand-set fusion this model replaced: dense_weight·cosine + (1 − dense_weight)·BM25."""
        weights = np.zeros(len(FEATURES))
        weights[FEATURES.index("cosine")] = dense_weight
        weights[FEATURES.index("bm25")] = 1 - dense_weight
        return cls(FEATURES, weights, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), logistic=False)

    @classmethod
    def load(cls, path: Path | None = None) -> LinearFusion:
        path = path or WEIGHTS_PATH
        data = json.loads(path.read_text(encoding="utf-8"))
        features = tuple(data["features"])
        if features != FEATURES:
            raise ValueError(f"{path}: trained on features {features}, this version computes {FEATURES}")
        return cls(
            features,
            np.asarray(data["weights"], dtype=np.float64),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            float(data["bias"]),
        )

    def to_json(self, **provenance: object) -> str:
        return json.dumps(
            {
                "features": list(self.features),
                "weights": [round(float(w), 6) for w in self.weights],
                "mean": [round(float(m), 6) for m in self.mean],
                "scale": [round(float(s), 6) for s in self.scale],
                "bias": round(self.bias, 6),
                **provenance,
            },
            indent=1,
        )


def default_fusion(dense_weight: float) -> LinearFusion:
    """The shipped learned weights; the fixed fusion if the file is missing or was made for other features."""
    try:
        return LinearFusion.load()
    except (OSError, ValueError, KeyError) as exc:
        log.warning("learned fusion unavailable (%s); using %.2f·cosine + BM25", exc, dense_weight)
        return LinearFusion.fixed(dense_weight)
