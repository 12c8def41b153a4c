"""Checkpoint trajectories (spec §11): per-task fits, comparison across sizes, held-out tasks."""

import numpy as np
import pytest
from lawfit import LawfitInputError
from lawfit.tasks.trajectories import (
    compare_sizes,
    fit_trajectory,
    logistic_log_tokens,
    predict_task,
    rank_correlated_tasks,
)

TOKENS = np.geomspace(2e9, 2e12, 30)
TRUE = {"lower": 0.25, "upper": 0.72, "rate": 1.8, "midpoint": 11.0}


def test_fit_recovers_parameters_within_their_errors():
    rng = np.random.default_rng(0)
    y = logistic_log_tokens(TOKENS, **TRUE) + rng.normal(0, 0.01, TOKENS.size)
    fit = fit_trajectory(TOKENS, y)
    assert fit.success and fit.r2 > 0.99
    for k, v in TRUE.items():
        assert abs(fit.params[k] - v) < 4 * fit.stderr[k], k
    assert fit.rmse == pytest.approx(0.01, rel=0.35)


def test_fixed_lower_and_inverse():
    y = logistic_log_tokens(TOKENS, **TRUE)
    fit = fit_trajectory(TOKENS, y, lower=0.25)
    assert fit.fixed == ("lower",) and fit.stderr["lower"] == 0.0
    for k, v in TRUE.items():
        assert fit.params[k] == pytest.approx(v, abs=1e-6)
    d = fit.tokens_to_reach(0.5)
    assert fit.predict(d) == pytest.approx(0.5, abs=1e-9)
    assert np.isnan(fit.tokens_to_reach(0.9))


def test_decreasing_trajectory():
    truth = {"lower": 3.2, "upper": 2.1, "rate": 1.2, "midpoint": 10.5}
    y = logistic_log_tokens(TOKENS, **truth)
    fit = fit_trajectory(TOKENS, y)
    for k, v in truth.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-4)


def test_compare_sizes_orders_models():
    rng = np.random.default_rng(1)
    sizes = [1e8, 4e8, 1.6e9, 6.4e9]
    runs = {}
    for i, n in enumerate(sizes):
        tr = dict(TRUE, upper=0.45 + 0.08 * i, midpoint=11.2 - 0.2 * i)
        runs[n] = (TOKENS, logistic_log_tokens(TOKENS, **tr) + rng.normal(0, 0.005, TOKENS.size))
    cmp = compare_sizes(runs, lower=0.25)
    assert cmp.size_trend(sizes, "upper")[0] == pytest.approx(1.0)
    assert cmp.size_trend(sizes, "midpoint")[0] == pytest.approx(-1.0)
    at = cmp.scores_at([1e11, 1e12])
    assert at.shape == (4, 2) and np.all(np.diff(at[:, 1]) > 0)
    reach = cmp.tokens_to_reach(0.4)
    assert reach[6.4e9] < reach[1e8]
    assert "upper" in cmp.table() and len(cmp.rows) == 4


def _domain(seed=0, n_tasks=6):
    """Tasks of one domain driven by a shared latent skill s(D) with task-specific gains."""
    rng = np.random.default_rng(seed)
    gains = rng.uniform(0.3, 1.0, n_tasks)
    offsets = rng.uniform(0.2, 0.4, n_tasks)

    def model(midpoint):
        skill = logistic_log_tokens(TOKENS, 0.0, 1.0, 1.5, midpoint)
        return offsets + np.outer(skill, gains) + rng.normal(0, 0.005, (TOKENS.size, n_tasks))

    return model


def test_predict_held_out_task_from_correlated_tasks():
    model = _domain()
    train = np.vstack([model(10.5), model(11.0), model(11.5)])  # three reference models
    new = model(10.8)  # a new model: task 0 never measured
    pred = predict_task(train[:, 1:], train[:, 0], new[:, 1:])
    truth = new[:, 0]
    r2 = 1 - np.sum((pred.prediction - truth) ** 2) / np.sum((truth - truth.mean()) ** 2)
    assert r2 > 0.97
    assert pred.loo_rmse < 0.02
    np.testing.assert_allclose(pred.predict(new[:, 1:]), pred.prediction)
    top = predict_task(train[:, 1:], train[:, 0], new[:, 1:], top_k=2)
    assert top.tasks.size == 2


def test_ridge_leave_one_out_shortcut_matches_refits():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(25, 4))
    y = x @ [0.5, -1.0, 0.0, 2.0] + rng.normal(0, 0.3, 25)
    alpha = 0.7
    pred = predict_task(x, y, x[:2], alphas=[alpha])
    errs = []
    for i in range(25):
        keep = np.arange(25) != i
        one = predict_task(x[keep], y[keep], x[i : i + 1], alphas=[alpha])
        errs.append(one.prediction[0] - y[i])
    # refits re-standardise without the left-out row, so agreement is close but not exact
    assert pred.loo_rmse == pytest.approx(np.sqrt(np.mean(np.square(errs))), rel=0.05)


def test_rank_correlated_tasks_and_errors():
    t = np.linspace(0, 1, 10)
    other = np.column_stack([np.ones(10), -t, t**2])
    assert rank_correlated_tasks(other, t).tolist() == [1, 2, 0]
    with pytest.raises(LawfitInputError, match="tokens"):
        fit_trajectory([0.0, 1.0, 2.0, 3.0, 4.0], [1, 2, 3, 4, 5])
    with pytest.raises(LawfitInputError, match="shapes"):
        predict_task(np.zeros((5, 2)), np.zeros(5), np.zeros((3, 3)))
