"""Downstream capability transforms and per-sample correlations with compute (spec §8)."""

import warnings

import numpy as np
import pytest
from datadir import DATA
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from lawfit import LawfitInputError
from lawfit.tasks.downstream import (
    METHODS,
    STAGES,
    correlate_with_compute,
    downstream_scores,
    per_sample_correlation,
    read_model_family,
)
from scipy import stats

MODELS_CSV = DATA / "downstream_models" / "models.csv"


def test_spec_check_three_choices():
    """Spec §8 check: logL (−1, −2, −3), correct = 0 → p_choices[0] = 0.66524, Brier = 0.060020."""
    s = downstream_scores([[-1.0, -2.0, -3.0]], [0])
    assert round(float(s.p_choices[0, 0, 0]), 5) == 0.66524
    assert s.brier[0, 0] == pytest.approx(0.060020, abs=5e-7)
    assert s.p_choice_correct[0, 0] == s.p_choices[0, 0, 0]
    assert s.p_correct[0, 0] == pytest.approx(np.exp(-1.0))
    assert s.log_p_correct[0, 0] == -1.0
    assert s.accuracy[0, 0] == 1.0
    wrong = downstream_scores([[-1.0, -2.0, -3.0]], [2])
    assert wrong.accuracy[0, 0] == 0.0 and wrong.brier[0, 0] > s.brier[0, 0]


def test_nan_padding_equals_fewer_choices():
    padded = downstream_scores([[[-0.5, -1.5, np.nan, np.nan], [-2.0, -1.0, -3.0, -0.5]]], [1, 3])
    alone = downstream_scores([[[-0.5, -1.5]]], [1])
    assert padded.brier[0, 0] == pytest.approx(alone.brier[0, 0])
    assert padded.p_choice_correct[0, 0] == pytest.approx(alone.p_choice_correct[0, 0])
    assert np.isnan(padded.p_choices[0, 0, 2:]).all()


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(2, 5)),
               elements=st.floats(-30, 0)),
    st.data(),
)
def test_pipeline_matches_a_direct_loop(ll, data):
    n_models, n_samples, n_choices = ll.shape
    correct = np.array(data.draw(st.lists(st.integers(0, n_choices - 1), min_size=n_samples,
                                          max_size=n_samples)))
    s = downstream_scores(ll, correct)
    for m in range(n_models):
        for i in range(n_samples):
            z = np.exp(ll[m, i] - ll[m, i].max())
            p = z / z.sum()
            onehot = np.eye(n_choices)[correct[i]]
            assert s.p_choices[m, i] == pytest.approx(p, rel=1e-12, abs=1e-300)
            assert s.brier[m, i] == pytest.approx(np.mean((p - onehot) ** 2), rel=1e-12, abs=1e-15)
            assert s.accuracy[m, i] == float(np.argmax(ll[m, i]) == correct[i])
    assert np.allclose(s.p_choices.sum(axis=2), 1.0)


def _scipy_reference(x, y, method):
    fn = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array([fn(x, y[:, i])[0] for i in range(y.shape[1])], dtype=float)


@pytest.mark.parametrize("method", METHODS)
def test_correlations_match_scipy(method):
    rng = np.random.default_rng(0)
    x = np.sort(rng.normal(size=15))
    x[3] = x[4]  # a tie in compute
    y = rng.normal(size=(15, 60))
    y[:, 0] = 2.0  # constant → nan
    y[:, 1] = (y[:, 1] > 0).astype(float)  # accuracy-like, many ties
    y[:, 2] = x + 0.1 * y[:, 2]
    got = per_sample_correlation(y, x, method=method)
    ref = _scipy_reference(x, y, method)
    assert np.isnan(got[0]) and np.isnan(ref[0])
    np.testing.assert_allclose(got[1:], ref[1:], rtol=1e-12, atol=1e-12)


def _family_scores(n_models=12, n_samples=200, seed=0):
    """Simulated 4-choice log-likelihoods whose correct-choice log-likelihood grows with compute."""
    rng = np.random.default_rng(seed)
    log_c = np.linspace(18, 23, n_models)
    skill = rng.normal(0, 1, n_samples)
    base = -3.0 + 0.5 * (log_c[:, None] - 18) + skill[None, :]
    ll = rng.normal(-4, 1, (n_models, n_samples, 4))
    ll[:, :, 0] = np.minimum(base + rng.normal(0, 0.3, (n_models, n_samples)), -1e-3)
    return downstream_scores(ll, np.zeros(n_samples, dtype=int)), 10**log_c


def test_correlate_with_compute_summary():
    scores, compute = _family_scores()
    res = correlate_with_compute(scores, compute)
    rows = res.summary()
    assert len(rows) == len(STAGES) * len(METHODS)
    by = {(r["stage"], r["method"]): r for r in rows}
    assert by[("log_p_correct", "pearson")]["median"] > 0.8
    assert by[("brier", "spearman")]["median"] < 0  # lower Brier with more compute
    # transforms downstream of log p weaken the per-sample relation
    assert by[("accuracy", "kendall")]["median"] < by[("log_p_correct", "kendall")]["median"]
    assert by[("accuracy", "pearson")]["n_undefined"] > 0
    assert "log_p_correct" in res.table()
    np.testing.assert_allclose(res.log_compute, np.log10(compute))


def test_bad_inputs_are_named():
    with pytest.raises(LawfitInputError, match="correct"):
        downstream_scores([[-1.0, -2.0]], [2])
    with pytest.raises(LawfitInputError, match=r"\+inf"):
        downstream_scores([[np.inf, -2.0]], [0])
    with pytest.raises(LawfitInputError, match="nan"):
        downstream_scores([[np.nan, -2.0]], [0])
    with pytest.raises(LawfitInputError, match="method"):
        per_sample_correlation(np.zeros((3, 2)), [1.0, 2.0, 3.0], method="tau")
    scores, _ = _family_scores(n_models=4, n_samples=3)
    with pytest.raises(LawfitInputError, match="compute"):
        correlate_with_compute(scores, [1e20, 0.0, 1e21, 1e22])



def test_read_models_csv_compute_axis():
    fam = read_model_family(MODELS_CSV, family="Pythia")
    assert len(fam.names) == 72 and set(fam.families) == {"Pythia"}
    np.testing.assert_array_equal(fam.compute, 6 * fam.parameters * fam.tokens)
    trained = fam.select(fam.tokens > 0)
    assert np.isfinite(np.log10(trained.compute)).all()
    every = read_model_family(MODELS_CSV)
    assert len(every.names) == 116
