"""The learned fusion's weight file and its scoring."""

import json
from pathlib import Path

import numpy as np
import pytest

from bot.retrieval import fusion
from bot.retrieval.fusion import FEATURES, WEIGHTS_PATH, LinearFusion, default_fusion


def test_the_shipped_weights_load_and_record_how_they_were_trained() -> None:
    model = LinearFusion.load()
    assert model.features == FEATURES and model.logistic
    data = json.loads(WEIGHTS_PATH.read_text(encoding="utf-8"))
    assert data["trained_by"].startswith("bench/train_fusion.py")
    assert 0 < data["cv_mrr"] <= 1
    # More dense similarity, all else equal, never ranks a work lower. A work nearer the question is nearer the
    # adapted question too (their cosines correlate), so both rise: alone, the raw cosine's weight is negative
    # (the model reads how much the adapter raised a work).
    rows = np.tile(model.mean, (2, 1))
    for name in ("cosine", "cosine_gap", "adapted_cosine", "adapted_gap"):
        rows[1, FEATURES.index(name)] += 0.2
    low, high = model.score(rows)
    assert 0 < low < high < 1


def test_fixed_fusion_is_the_old_convex_combination() -> None:
    rows = np.zeros((2, len(FEATURES)))
    rows[:, FEATURES.index("cosine")] = [0.5, 0.4]
    rows[:, FEATURES.index("bm25")] = [0.0, 1.0]
    assert LinearFusion.fixed(0.88).score(rows) == pytest.approx([0.44, 0.472])


def test_round_trip_and_a_file_for_other_features_is_refused(tmp_path: Path) -> None:
    model = LinearFusion(
        FEATURES, np.arange(len(FEATURES), dtype=float), np.ones(len(FEATURES)), np.full(len(FEATURES), 2.0), -1.5
    )
    path = tmp_path / "weights.json"
    path.write_text(model.to_json(trained_by="test"), encoding="utf-8")
    loaded = LinearFusion.load(path)
    rows = np.random.default_rng(0).random((5, len(FEATURES)))
    assert loaded.score(rows) == pytest.approx(model.score(rows))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"] = ["cosine", "bm25"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="trained on features"):
        LinearFusion.load(path)


def test_a_missing_or_broken_weight_file_falls_back_to_the_fixed_fusion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for content in (None, "{not json", json.dumps({"features": list(FEATURES)})):
        path = tmp_path / "weights.json"
        path.unlink(missing_ok=True)
        if content is not None:
            path.write_text(content, encoding="utf-8")
        monkeypatch.setattr(fusion, "WEIGHTS_PATH", path)
        fallback = default_fusion(0.7)
        assert not fallback.logistic and fallback.weights[FEATURES.index("cosine")] == pytest.approx(0.7)


def test_the_benchmark_scores_an_earlier_weight_file_with_later_features_at_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bench/quality.py --weights: the weights shipped before a feature was added rank as they did.
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "bench"))
    from quality import weights_from

    earlier = FEATURES[:-2]
    rng = np.random.default_rng(1)
    model = LinearFusion(
        earlier, rng.normal(size=len(earlier)), rng.random(len(earlier)), 1 + rng.random(len(earlier)), 0.3
    )
    path = tmp_path / "earlier.json"
    path.write_text(model.to_json(trained_by="test"), encoding="utf-8")
    padded = weights_from(path)
    rows = rng.random((6, len(FEATURES)))
    assert padded.features == FEATURES
    assert padded.score(rows) == pytest.approx(model.score(rows[:, : len(earlier)]), abs=1e-5)
