"""fit_many (independent fits in parallel), crossovers (spec §6) and bootstraps of curve fits."""

import math
import warnings

import lawfit as lf
import numpy as np
import pytest
from reference import crossing_pure_power, loglog_ols, power_law


def _rows(n_fits=200, n_points=48, seed=0, noise=5e-3):
    rng = np.random.default_rng(seed)
    x = np.logspace(1, 5, n_points)
    a = rng.uniform(0.5, 5.0, n_fits)
    b = rng.uniform(0.1, 1.0, n_fits)
    c = rng.uniform(0.1, 2.0, n_fits)
    clean = a[:, None] * x[None, :] ** (-b[:, None]) + c[:, None]
    y = clean * (1 + noise * rng.standard_normal(clean.shape))
    return x, y, np.column_stack([a, b, c])


# ---- fit_many --------------------------------------------------------------------------------


def test_fit_many_agrees_with_curve_fit_same_run():
    from scipy.optimize import curve_fit

    x, y, true = _rows()
    starts = true * np.array([1.3, 0.8, 0.9])
    # Both solvers at tight tolerances: in flat valleys an ftol-type stop leaves parameter errors
    # of order sqrt(ftol) times their standard error.
    res = lf.fit_many(lf.PowerLaw(), x=x, y=y, starts=starts, ftol=1e-14, xtol=1e-14)
    assert res.success.all() and len(res) == 200
    got = np.column_stack([res.params[k] for k in "abc"])
    n_agree = 0
    for i in range(y.shape[0]):
        popt, pcov = curve_fit(power_law, x, y[i], p0=starts[i], ftol=1e-14, xtol=1e-14, gtol=1e-14,
                               maxfev=100000)
        sse = np.sum((power_law(x, *got[i]) - y[i]) ** 2)
        sse_ref = np.sum((power_law(x, *popt) - y[i]) ** 2)
        assert math.isclose(res.cost[i], 0.5 * sse, rel_tol=1e-9)
        if np.allclose(got[i], popt, rtol=1e-6, atol=0):
            n_agree += 1
        else:
            # Ill-conditioned rows (standard errors of tens of percent): lawfit must then be the
            # more converged of the two, and within 1e-4 standard errors of scipy.
            assert sse <= sse_ref * (1 + 1e-13), f"row {i}"
            assert np.all(np.abs(got[i] - popt) <= 1e-4 * np.sqrt(np.diag(pcov))), f"row {i}"
    assert n_agree >= 0.97 * y.shape[0]


def test_fit_many_default_starts_match_single_fits():
    x, y, true = _rows(30, 40, seed=2)
    res = lf.fit_many(lf.PowerLaw(), x=x, y=y, method="lm")
    auto = lf.fit_many(lf.PowerLaw(), x=x, y=y)  # variable projection
    assert res.success.all() and auto.success.all()
    assert auto.n_evals.sum() < res.n_evals.sum()
    for i in range(30):
        if i % 7 == 0:
            single = lf.fit(lf.PowerLaw(), x=x, y=y[i])
            for k in "abc":
                assert math.isclose(res.params[k][i], single.params[k], rel_tol=1e-9, abs_tol=1e-12)
        assert auto.cost[i] <= res.cost[i] * (1 + 1e-10)
        for k in "abc":
            assert math.isclose(auto.params[k][i], res.params[k][i], rel_tol=1e-5), (i, k)
    assert np.all(np.abs(res.params["b"] - true[:, 1]) < 0.15)


def test_fit_many_ragged_rows_and_skips():
    x, y, _ = _rows(5, 30, seed=4)
    X = np.broadcast_to(x, y.shape).copy()
    y = y.copy()
    y[1, ::3] = np.nan
    X[2, 5] = np.nan
    y[3, 2:] = np.nan  # two points left: skipped
    with pytest.raises(lf.LawfitInputError, match=r"y\[1, 0\] is nan"):
        lf.fit_many(lf.PowerLaw(), x=X, y=y)
    res = lf.fit_many(lf.PowerLaw(), x=X, y=y, nan_policy="omit")
    np.testing.assert_array_equal(res.n_points, [30, 20, 29, 2, 30])
    assert res.status[3] == "Skipped" and not res.success[3] and math.isnan(res.params["a"][3])
    for i in (1, 2):
        ok = np.isfinite(X[i]) & np.isfinite(y[i])
        single = lf.fit(lf.PowerLaw(), x=X[i][ok], y=y[i][ok])
        assert math.isclose(res.params["b"][i], single.params["b"], rel_tol=1e-6)


def test_fit_many_fix_bounds_log_space_and_pandas():
    x, y, true = _rows(20, 32, seed=5)
    res = lf.fit_many(lf.PowerLaw(), x=x, y=y, fix={"c": 0.5}, space="log", robust="huber", delta=1e-2)
    assert np.all(res.params["c"] == 0.5)
    one = lf.fit(lf.PowerLaw(), x=x, y=y[3], fix={"c": 0.5}, space="log", robust="huber", delta=1e-2)
    assert math.isclose(res.params["a"][3], one.params["a"], rel_tol=1e-6)
    bounded = lf.fit_many(lf.PowerLaw(), x=x, y=y, bounds={"b": (0.0, 0.3)})
    assert np.all(bounded.params["b"] <= 0.3)
    import pandas as pd
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns[:3]) == ["a", "b", "c"] and len(df) == 20


def test_fit_many_pure_power_law_matches_polyfit():
    rng = np.random.default_rng(6)
    x = np.logspace(3, 9, 12)
    y = (1e20 / x[None, :]) ** rng.uniform(0.02, 0.1, (15, 1)) * np.exp(0.01 * rng.standard_normal((15, 12)))
    res = lf.fit_many(lf.PurePowerLaw(), x=x, y=y)
    for i in range(15):
        xc, alpha = loglog_ols(x, y[i])
        assert math.isclose(res.params["alpha"][i], alpha, rel_tol=1e-10)
        assert math.isclose(math.log(res.params["X_c"][i]), math.log(xc), rel_tol=1e-9)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"x": np.logspace(1, 2, 5), "y": np.ones(5)}, "2-D"),
        ({"x": np.ones((2, 4)), "y": np.ones((2, 5))}, "shape"),
        ({"x": -np.ones(5), "y": np.ones((2, 5))}, r"x\[0\] is -1.0"),
        ({"x": -np.ones((2, 5)), "y": np.ones((2, 5))}, r"x\[0, 0\] is -1.0"),
        ({"x": np.ones(5), "y": np.ones((2, 5)), "starts": np.ones((3, 2))}, "starts must have shape"),
        ({"x": np.ones(5), "y": np.ones((2, 5)), "robust": "l2"}, "robust must be"),
    ],
)
def test_fit_many_validation(kwargs, match):
    with pytest.raises(lf.LawfitInputError, match=match):
        lf.fit_many(lf.PowerLaw(), **kwargs)


def test_fit_many_rejects_other_laws():
    with pytest.raises(TypeError):
        lf.fit_many(lf.ChinchillaLaw(), x=np.ones(3), y=np.ones((2, 3)))


# ---- crossover -------------------------------------------------------------------------------


def _pure_fit(xc, alpha, x, noise, seed):
    rng = np.random.default_rng(seed)
    y = (xc / x) ** alpha * np.exp(noise * rng.standard_normal(x.size))
    return lf.fit(lf.PurePowerLaw(), x=x, y=y)


def test_crossover_of_pure_power_laws_closed_form():
    x = np.logspace(6, 10, 15)
    # a: steeper exponent; truth crosses at 1e8, inside the observed range.
    xc_b, alpha_b, alpha_a = 1e30, 0.05, 0.08
    xc_a = math.exp((alpha_b * math.log(xc_b) - (alpha_b - alpha_a) * math.log(1e8)) / alpha_a)
    assert math.isclose(crossing_pure_power(xc_a, alpha_a, xc_b, alpha_b), 1e8, rel_tol=1e-9)
    fa, fb = _pure_fit(xc_a, alpha_a, x, 2e-3, 1), _pure_fit(xc_b, alpha_b, x, 2e-3, 2)
    cx = lf.crossover(fa, fb, n_boot=300, seed=0, names=("steep", "flat"))
    expected = crossing_pure_power(fa.params["X_c"], fa.params["alpha"], fb.params["X_c"], fb.params["alpha"])
    assert math.isclose(cx.x, expected, rel_tol=1e-10)
    assert cx.in_range and cx.range == (1e6, 1e10)
    assert cx.interval[0] < 1e8 < cx.interval[1]
    assert cx.interval[0] < cx.x < cx.interval[1]
    # Below x* the flatter law is lower; above it the steeper one wins.
    assert (cx.winner_below, cx.winner_above) == ("flat", "steep")
    assert cx.fraction_crossing > 0.95 and "cross at" in cx.report()
    again = lf.crossover(fa, fb, n_boot=300, seed=0)
    np.testing.assert_array_equal(again.boot_x, cx.boot_x)


def test_crossover_with_irreducible_terms():
    x = np.logspace(1, 5, 30)
    rng = np.random.default_rng(3)
    ya = power_law(x, 8.0, 0.5, 0.30) * (1 + 1e-3 * rng.standard_normal(x.size))
    yb = power_law(x, 2.0, 0.3, 0.35) * (1 + 1e-3 * rng.standard_normal(x.size))
    fa, fb = lf.fit(lf.PowerLaw(), x=x, y=ya), lf.fit(lf.PowerLaw(), x=x, y=yb)
    truth = [t for t in np.logspace(1, 5, 200001)]
    diff = power_law(np.array(truth), 8.0, 0.5, 0.30) - power_law(np.array(truth), 2.0, 0.3, 0.35)
    x_true = truth[int(np.argmax(diff < 0))]
    cx = lf.crossover(fa, fb, n_boot=200, seed=1)
    assert cx.in_range and cx.interval[0] < x_true < cx.interval[1]
    pa, pb = fa.params, fb.params
    fa_x, fb_x = power_law(cx.x, pa["a"], pa["b"], pa["c"]), power_law(cx.x, pb["a"], pb["b"], pb["c"])
    assert math.isclose(fa_x, fb_x, rel_tol=1e-12)
    assert (cx.winner_below, cx.winner_above) == ("b", "a")


def test_crossover_outside_range_and_none():
    x = np.logspace(6, 9, 12)
    # Cross at 1e12, beyond the observed 1e6..1e9.
    xc_b, alpha_b, alpha_a = 1e30, 0.05, 0.07
    xc_a = math.exp((alpha_b * math.log(xc_b) - (alpha_b - alpha_a) * math.log(1e12)) / alpha_a)
    fa, fb = _pure_fit(xc_a, alpha_a, x, 1e-3, 4), _pure_fit(xc_b, alpha_b, x, 1e-3, 5)
    cx = lf.crossover(fa, fb, n_boot=100, seed=2)
    assert not cx.in_range and 1e11 < cx.x < 1e13
    assert cx.winner_below == "b" and cx.winner_above == "a"
    # Equal exponents: parallel in log-log, never cross; b is lower everywhere.
    fc = _pure_fit(1e30, 0.05, x, 1e-3, 6)
    fd = lf.fit(lf.PurePowerLaw(), x=x, y=0.9 * fc.predict(x), fix={"alpha": fc.params["alpha"]})
    none = lf.crossover(fc, fd, n_boot=0)
    assert math.isnan(none.x) and not none.in_range and none.crossings == []
    assert none.winner_below == none.winner_above == "b"
    assert "do not cross" in none.report()
    # Accuracies: higher is better flips the winners.
    flipped = lf.crossover(fa, fb, n_boot=0, lower_is_better=False)
    assert flipped.winner_below == "a"


def test_crossover_input_errors():
    x = np.logspace(6, 9, 12)
    fa = _pure_fit(1e30, 0.05, x, 1e-3, 4)
    with pytest.raises(lf.LawfitInputError, match="range"):
        lf.crossover(fa, fa, range=(10.0, 1.0), n_boot=0)
    with pytest.raises(TypeError):
        lf.crossover(fa, "b")


# ---- bootstrap of curve fits -----------------------------------------------------------------


def test_bootstrap_of_momentum_fit_reproducible():
    rng = np.random.default_rng(0)
    lr = np.full(3000, 3e-4)
    lr[2000:] = np.linspace(3e-4, 3e-5, 1000)
    steps = np.arange(100, 3001, 50)
    law = lf.MomentumLaw()
    params = {"L0": 2.6, "A": 0.43, "alpha": 0.55, "C": 0.41}
    loss = law.predict(params, lr, steps) * np.exp(2e-3 * rng.standard_normal(steps.size))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        fit = lf.fit(law, lf.Curve(steps, loss, lr), loss="linear", space="linear")
        boot = fit.bootstrap(40, seed=11)
        again = fit.bootstrap(40, seed=11)
    assert boot.n_success >= 35
    for k in params:
        np.testing.assert_array_equal(boot.params[k], again.params[k])
    # Bootstrap and Gauss-Newton standard errors agree in order of magnitude.
    for k in ("L0", "A"):
        assert fit.stderr[k] / 4 < boot.stderr[k] < fit.stderr[k] * 4, k
    with pytest.raises(lf.LawfitInputError, match="n must be"):
        fit.bootstrap(1)
