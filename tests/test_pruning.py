"""Data pruning (spec §9): prototype difficulty, easy/hard selection, power law vs exponential."""

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from lawfit import LawfitInputError
from lawfit.tasks.pruning import compare_pruning_scaling, prototype_scores, pruning_strategy, select_examples


def _blobs(seed=0, per=60, dim=6, k=3):
    rng = np.random.default_rng(seed)
    centers = 6.0 * np.eye(dim)[:k]
    x = np.concatenate([c + rng.normal(size=(per, dim)) for c in centers])
    return x, centers


def test_prototype_scores_with_given_centroids_is_cosine_distance():
    x, centers = _blobs()
    ps = prototype_scores(x, centroids=centers)
    xu = x / np.linalg.norm(x, axis=1, keepdims=True)
    cu = centers / np.linalg.norm(centers, axis=1, keepdims=True)
    brute = np.array([min(1 - xi @ c for c in cu) for xi in xu])
    np.testing.assert_allclose(ps.difficulty, brute, atol=1e-12)
    assert ps.cluster.tolist() == np.repeat([0, 1, 2], 60).tolist()
    # scaling an embedding does not change its cosine difficulty
    np.testing.assert_allclose(prototype_scores(3.0 * x, centroids=centers).difficulty, ps.difficulty)


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.cluster", None)
    x, _ = _blobs()
    with pytest.raises(ImportError, match=r"lawfit\[pruning\]"):
        prototype_scores(x, 3)


def test_kmeans_prototypes_find_the_clusters_and_outliers():
    x, centers = _blobs(per=80)
    outliers = np.ones((3, 6)) * 3.0
    ps = prototype_scores(np.vstack([x, outliers]), 3, random_state=0)
    assert len(set(ps.cluster[:80])) == 1 and len(set(ps.cluster[:240])) == 3
    assert set(np.argsort(ps.difficulty)[-3:]) == {240, 241, 242}


def test_select_easy_hard_auto():
    d = np.array([0.3, 0.1, 0.9, 0.5, 0.2])
    assert select_examples(d, 0.4, keep="easy").tolist() == [1, 4]
    assert select_examples(d, 0.4, keep="hard").tolist() == [2, 3]
    assert select_examples(d, 0.4, keep="auto", abundance=10.0).tolist() == [2, 3]
    assert select_examples(d, 0.4, keep="auto", abundance=0.1).tolist() == [1, 4]
    assert pruning_strategy(2.0, crossover=5.0) == "easy"
    with pytest.raises(LawfitInputError, match="abundance"):
        select_examples(d, 0.5)
    with pytest.raises(LawfitInputError, match="keep_fraction"):
        select_examples(d, 0.0, keep="easy")


@given(
    hnp.arrays(np.float64, st.integers(1, 50), elements=st.floats(0, 2)),
    st.floats(0.01, 1.0),
    st.sampled_from(["easy", "hard"]),
)
def test_selection_keeps_a_prefix_of_the_ordering(d, frac, keep):
    idx = select_examples(d, frac, keep=keep)
    assert idx.size == max(1, int(round(frac * d.size)))
    assert np.all(np.diff(idx) > 0)
    dropped = np.setdiff1d(np.arange(d.size), idx)
    if dropped.size:
        if keep == "easy":
            assert d[idx].max() <= d[dropped].min()
        else:
            assert d[idx].min() >= d[dropped].max()


def test_power_law_preferred_for_power_law_error():
    rng = np.random.default_rng(1)
    n = np.geomspace(1e3, 1e6, 12)
    err = 2.0 * n**-0.35 * np.exp(rng.normal(0, 0.02, n.size))
    cmp = compare_pruning_scaling(n, err)
    assert cmp.preferred == "power" and cmp.delta_aic < -10 and cmp.weights["power"] > 0.99
    assert cmp.power.params["b"] == pytest.approx(0.35, abs=0.02)
    assert cmp.power.predict(1e4) == pytest.approx(2.0 * 1e4**-0.35, rel=0.05)


def test_exponential_preferred_for_exponential_error():
    rng = np.random.default_rng(2)
    n = np.linspace(1e3, 5e4, 12)
    err = 0.4 * np.exp(-n / 1e4) * np.exp(rng.normal(0, 0.02, n.size))
    cmp = compare_pruning_scaling(n, err)
    assert cmp.preferred == "exponential" and cmp.delta_aic > 10
    assert cmp.exponential.params["b"] == pytest.approx(1e-4, rel=0.05)


def test_floor_models_and_aic_bookkeeping():
    n = np.geomspace(1e2, 1e5, 10)
    err = 0.8 * n**-0.5 + 0.01
    cmp = compare_pruning_scaling(n, err, floor=True)
    assert cmp.preferred == "power"
    assert cmp.power.params["c"] == pytest.approx(0.01, rel=1e-3)
    f = cmp.power
    k = f.n_params + 1
    assert f.aic == pytest.approx(2 * k - 2 * f.log_likelihood)
    assert f.aicc == pytest.approx(f.aic + 2 * k * (k + 1) / (n.size - k - 1))
    with pytest.raises(LawfitInputError, match="error"):
        compare_pruning_scaling(n, -err)
