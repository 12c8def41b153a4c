"""PassUntil (spec §7): exact intervals, unbiasedness, the task law and the curvature test."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lawfit import LawfitInputError
from lawfit.tasks.passuntil import (
    classify_scaling,
    estimate_pass_rate,
    fit_task_law,
    fit_task_law_counts,
    fit_task_law_per_problem,
    simulate_passuntil,
    task_law,
)
from scipy import stats

C_TRUE, ALPHA_TRUE = 9e4, 0.5
SIZES = np.geomspace(1e8, 1e10, 7)


def _binom_tol(p, n, k=3.0):
    return k * np.sqrt(p * (1 - p) / n)


def test_simulator_geometric_mean_and_cap():
    s = simulate_passuntil(0.01, r=1, k_max=10**9, size=20_000, rng=0)
    assert np.all(s.passes == 1)
    assert s.samples.mean() == pytest.approx(100, rel=0.03)  # E[K] = 1/p
    c = simulate_passuntil([0.0, 1.0], r=2, k_max=50, rng=1)
    assert c.samples.tolist() == [50, 2] and c.passes.tolist() == [0, 2]


@pytest.mark.parametrize("r", [1, 2])
def test_exact_interval_coverage_on_simulated_problems(r):
    """≥ 1,000 problems, pass rates log-uniform from 1e-5 to 0.5, cap 1e5: the exact interval
    covers the true rate at least at the nominal level (within binomial noise), in every decade."""
    rng = np.random.default_rng(2024 + r)
    p = 10 ** rng.uniform(-5, np.log10(0.5), 3000)
    est = estimate_pass_rate(simulate_passuntil(p, r=r, k_max=100_000, rng=rng), confidence=0.95)
    covered = (est.ci_low <= p) & (p <= est.ci_high)
    assert covered.mean() >= 0.95 - _binom_tol(0.95, p.size)
    assert covered.mean() <= 0.995  # exact but not absurdly conservative
    for lo in range(-5, 0):
        m = (p >= 10.0**lo) & (p < 10.0 ** (lo + 1))
        assert covered[m].mean() >= 0.95 - _binom_tol(0.95, m.sum(), 4.0), lo
    # one-sided upper bounds, including the problems with no pass at all
    assert (est.upper >= p).mean() >= 0.95 - _binom_tol(0.95, p.size)
    assert est.no_pass.sum() > 20
    np_ = est.no_pass
    assert (est.upper[np_] >= p[np_]).mean() >= 0.95 - _binom_tol(0.95, np_.sum())
    assert np.all(est.estimate[np_] == 0)


@pytest.mark.parametrize("pass_rate", [1e-2, 1e-3, 1e-5])
def test_unbiased_estimator_and_mle_bias(pass_rate):
    """(r − 1)/(K − 1) is unbiased; the MLE r/K has mean ≈ p·r/(r − 1) (documented bias)."""
    for r in (2, 3):
        s = simulate_passuntil(pass_rate, r=r, k_max=10**12, size=4000, rng=int(1e6 * pass_rate) + r)
        est = estimate_pass_rate(s, r=r, k_max=10**12)
        u = est.unbiased / pass_rate
        assert abs(u.mean() - 1) < 4 * u.std(ddof=1) / np.sqrt(u.size)
        if r == 3:
            m = est.estimate / pass_rate
            assert abs(m.mean() - 1.5) < 4 * m.std(ddof=1) / np.sqrt(m.size) + 0.01


def test_task_mean_is_unbiased_within_its_interval():
    rng = np.random.default_rng(7)
    p = 10 ** rng.uniform(-5, -1, 1500)
    est = estimate_pass_rate(simulate_passuntil(p, r=2, k_max=10**7, rng=rng), r=2, k_max=10**7)
    mean, se = est.mean()
    assert abs(mean - p.mean()) < 3 * se
    with pytest.raises(LawfitInputError, match="r ≥ 2"):
        estimate_pass_rate([10, 20], r=1).mean("unbiased")


def test_interval_endpoints_solve_the_tail_equations():
    alpha = 0.05
    est = estimate_pass_rate([7, 40, 1000], [2, 2, 1], r=2, k_max=1000, confidence=1 - alpha)
    # stopped on the 2nd pass at K: P(K' ≤ K | p_lo) = α/2 and P(K' ≥ K | p_hi) = α/2
    for i, k in enumerate([7, 40]):
        assert stats.nbinom.cdf(k - 2, 2, est.ci_low[i]) == pytest.approx(alpha / 2, rel=1e-8)
        assert stats.nbinom.sf(k - 2 - 1, 2, est.ci_high[i]) == pytest.approx(alpha / 2, rel=1e-8)
    # censored with 1 pass in 1000: Clopper–Pearson
    assert stats.binom.sf(0, 1000, est.ci_low[2]) == pytest.approx(alpha / 2, rel=1e-8)
    assert stats.binom.cdf(1, 1000, est.ci_high[2]) == pytest.approx(alpha / 2, rel=1e-8)


def test_no_pass_upper_bound_is_the_rule_of_three():
    est = estimate_pass_rate([100_000], [0], r=1, k_max=100_000)
    assert est.estimate[0] == 0 and est.ci_low[0] == 0
    assert est.upper[0] == pytest.approx(1 - 0.05 ** (1 / 100_000), rel=1e-9)
    assert est.upper[0] == pytest.approx(3e-5, rel=0.002)


@given(
    r=st.integers(1, 3),
    k_max=st.integers(3, 10**6),
    data=st.data(),
)
def test_estimate_inside_interval(r, k_max, data):
    k_max = max(k_max, r)
    stopped = data.draw(st.booleans())
    if stopped:
        k = data.draw(st.integers(r, k_max))
        s = r
    else:
        k, s = k_max, data.draw(st.integers(0, r - 1))
    est = estimate_pass_rate([k], [s], r=r, k_max=k_max)
    assert 0 <= est.ci_low[0] <= est.estimate[0] <= est.ci_high[0] <= 1
    assert est.estimate[0] <= est.upper[0] <= est.ci_high[0] + 1e-15


@pytest.mark.parametrize(
    ("samples", "passes", "match"),
    [
        ([0], [1], r"samples\[0\]"),
        ([5], [0], "censored"),
        ([5.5], [1], "integers"),
        ([5], [3], r"passes\[0\]"),
    ],
)
def test_bad_counts_are_named(samples, passes, match):
    with pytest.raises(LawfitInputError, match=match):
        estimate_pass_rate(samples, passes, r=2, k_max=100)


def test_task_law_exact_data():
    pu = task_law(SIZES, C_TRUE, ALPHA_TRUE)
    fit = fit_task_law(SIZES, pu)
    assert fit.c == pytest.approx(C_TRUE, rel=1e-9)
    assert fit.alpha == pytest.approx(ALPHA_TRUE, rel=1e-9)
    assert fit.predict(1e11) == pytest.approx(task_law(1e11, C_TRUE, ALPHA_TRUE), rel=1e-9)


def _simulate_sizes(n_problems, r, seed):
    rng = np.random.default_rng(seed)
    pu = task_law(SIZES, C_TRUE, ALPHA_TRUE)
    return [estimate_pass_rate(simulate_passuntil(p, r=r, k_max=100_000, size=n_problems, rng=rng))
            for p in pu]


def test_task_law_mle_per_problem_recovers_c_and_alpha():
    """Per-problem MLE on simulated models: the 95 % intervals of log c and α cover the truth at
    close to the nominal rate over 400 problems (Wald intervals on 7 sizes, r = 2)."""
    fits = fit_task_law_per_problem(SIZES, _simulate_sizes(400, 2, 11))
    assert all(f is not None and f.success for f in fits)
    cover_c = np.mean([f.conf_int()["c"][0] <= C_TRUE <= f.conf_int()["c"][1] for f in fits])
    cover_a = np.mean([f.conf_int()["alpha"][0] <= ALPHA_TRUE <= f.conf_int()["alpha"][1] for f in fits])
    assert cover_c >= 0.90 and cover_a >= 0.90
    assert np.median([f.alpha for f in fits]) == pytest.approx(ALPHA_TRUE, rel=0.05)


def test_task_law_on_the_mean_recovers_c_alpha_and_predicts():
    ests = _simulate_sizes(400, 2, 12)
    means = np.array([e.mean() for e in ests])
    fit = fit_task_law(SIZES, means[:, 0], means[:, 1])
    ci = fit.conf_int(0.95)
    assert ci["c"][0] <= C_TRUE <= ci["c"][1]
    assert ci["alpha"][0] <= ALPHA_TRUE <= ci["alpha"][1]
    pu, lo, hi = fit.predict(3e10, confidence=0.95)
    assert lo <= task_law(3e10, C_TRUE, ALPHA_TRUE) <= hi
    assert lo < pu < hi


def test_mle_uses_sizes_without_a_pass():
    fit = fit_task_law_counts(SIZES[:4], [100_000, 100_000, 2000, 300], [0, 1, 1, 1])
    assert fit.success and np.isfinite(fit.stderr["alpha"])
    with pytest.raises(LawfitInputError, match="all 0"):
        fit_task_law_counts(SIZES[:3], [10, 10, 10], [0, 0, 0])


def _curved(kappa, seed):
    x = np.log(SIZES)
    y = np.log(C_TRUE) - ALPHA_TRUE * x + kappa * (x - x.mean()) ** 2
    rng = np.random.default_rng(seed)
    means = np.array([
        estimate_pass_rate(simulate_passuntil(p, r=2, k_max=100_000, size=300, rng=rng)).mean()
        for p in np.exp(-np.exp(y))
    ])
    return classify_scaling(SIZES, means[:, 0], means[:, 1])


def test_classify_scaling():
    assert _curved(0.0, 3).label == "normal"
    acc = _curved(-0.06, 4)
    assert acc.label == "accelerated emergence" and acc.curvature < 0 and acc.p_value < 0.01
    sub = _curved(0.06, 5)
    assert sub.label == "sub-scaling" and sub.curvature > 0 and sub.p_value < 0.01


def test_classify_scaling_exact_quadratic_without_errors():
    x = np.log(SIZES)
    y = 11 - 0.5 * x - 0.05 * (x - x.mean()) ** 2 + 1e-3 * np.sin(7 * x)
    res = classify_scaling(SIZES, np.exp(-np.exp(y)))
    assert res.label == "accelerated emergence" and res.dof == 4
    assert res.curvature == pytest.approx(-0.05, abs=2e-3)
