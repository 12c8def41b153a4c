"""Laws of model and data size: Chinchilla (spec §4), power laws (§5), bootstrap, shared data."""

import csv
import math
import warnings
from collections import defaultdict

import lawfit as lf
import numpy as np
import pytest
from datadir import DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import chinchilla_huber_objective, chinchilla_loss, loglog_ols, power_law
from threads import assert_thread_count_independent


def chinchilla_data():
    """Epoch's 245 Chinchilla points minus the 5 highest losses; D = C / (6N)."""
    path = DATA / "chinchilla_epoch" / "svg_extracted_data.csv"
    assert path.is_file(), f"test data missing at {path}"
    with path.open(newline="") as fh:  # the csv module: colour columns start with '#'
        rows = list(csv.DictReader(fh))
    assert len(rows) == 245
    N = np.array([float(r["Model Size"]) for r in rows])
    C = np.array([float(r["Training FLOP"]) for r in rows])
    L = np.array([float(r["loss"]) for r in rows])
    keep = np.sort(np.argsort(L, kind="stable")[:-5])
    return N[keep], C[keep] / (6 * N[keep]), L[keep]


@pytest.fixture(scope="module")
def chinchilla_fit():
    N, D, L = chinchilla_data()
    return lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L)


# ---- Chinchilla ------------------------------------------------------------------------------


def test_chinchilla_reproduces_epoch(chinchilla_fit):
    N, D, L = chinchilla_data()
    assert N.size == 240
    fit = chinchilla_fit
    p = fit.params
    assert fit.success
    assert fit.metrics["cost"] <= 0.0010182745
    assert abs(p["E"] - 1.817) <= 0.002
    assert abs(p["alpha"] - 0.347) <= 0.002
    assert abs(p["beta"] - 0.367) <= 0.002
    assert abs(p["A"] - 477.8) <= 1.0 and abs(p["B"] - 2143) <= 5
    # The reported objective is the paper's Σ Huber(log residual), recomputed independently.
    assert math.isclose(chinchilla_huber_objective(p, N, D, L), fit.metrics["cost"], rel_tol=1e-9)
    assert fit.metrics["n_starts"] == 4500
    assert list(fit.params) == ["E", "A", "B", "alpha", "beta"]


def test_chinchilla_screening_matches_full_multistart(chinchilla_fit):
    N, D, L = chinchilla_data()
    full = lf.fit(lf.ChinchillaLaw(polish=0), N=N, D=D, loss=L)
    assert full.metrics["cost"] <= chinchilla_fit.metrics["cost"] * (1 + 1e-9)
    assert chinchilla_fit.metrics["cost"] <= full.metrics["cost"] * (1 + 1e-9)
    for k in full.params:
        assert math.isclose(full.params[k], chinchilla_fit.params[k], rel_tol=1e-5), k


def test_chinchilla_no_better_point_nearby_scipy(chinchilla_fit):
    """scipy's robust least squares, started at lawfit's optimum and around it, finds no lower cost."""
    from scipy.optimize import least_squares

    N, D, L = chinchilla_data()
    q = np.array(chinchilla_fit.options["solver"]["params"])  # e, a, b, alpha, beta

    def resid(v):
        t = np.stack([np.full_like(N, v[0]), v[1] - v[3] * np.log(N), v[2] - v[4] * np.log(D)])
        m = t.max(0)
        return m + np.log(np.exp(t - m).sum(0)) - np.log(L)

    rng = np.random.default_rng(1)
    for x0 in [q, *(q * (1 + 0.05 * rng.standard_normal(5)) for _ in range(4))]:
        ref = least_squares(resid, x0, loss="huber", f_scale=1e-3, method="trf", ftol=1e-14, xtol=1e-14,
                            gtol=1e-14, max_nfev=20000)
        assert chinchilla_fit.metrics["cost"] <= ref.cost * (1 + 1e-9)


def test_chinchilla_squared_loss_differs(chinchilla_fit):
    """Spec §4: squared loss gives a visibly different answer (A ≈ 593, B ≈ 4876)."""
    N, D, L = chinchilla_data()
    sq = lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L, robust="linear")
    assert abs(sq.params["A"] - 593) <= 3 and abs(sq.params["B"] - 4876) <= 25
    assert abs(sq.params["A"] - chinchilla_fit.params["A"]) > 50
    assert sq.options["loss"] == "linear"


def test_chinchilla_stderr_delta_method(chinchilla_fit):
    fit = chinchilla_fit
    se_s = dict(zip(fit.options["solver"]["names"], fit.options["solver"]["stderr"], strict=True))
    assert math.isclose(fit.stderr["A"], fit.params["A"] * se_s["a"], rel_tol=1e-12)
    assert math.isclose(fit.stderr["E"], fit.params["E"] * se_s["e"], rel_tol=1e-12)
    assert math.isclose(fit.stderr["alpha"], se_s["alpha"], rel_tol=1e-12)
    assert np.allclose(fit.cov, fit.cov.T)


def test_chinchilla_compute_optimal_is_the_constrained_minimum(chinchilla_fit):
    from scipy.optimize import minimize_scalar

    p = chinchilla_fit.params
    for budget in (1e20, 5.76e23, 1e26):
        opt = chinchilla_fit.compute_optimal(budget)
        assert math.isclose(6 * opt.N_opt * opt.D_opt, budget, rel_tol=1e-12)
        res = minimize_scalar(lambda u, c=budget: chinchilla_loss(p, np.exp(u), c / (6 * np.exp(u))),
                              bounds=(np.log(1e6), np.log(1e15)), method="bounded",
                              options={"xatol": 1e-10})
        assert math.isclose(opt.N_opt, np.exp(res.x), rel_tol=1e-5)
        assert math.isclose(opt.loss, float(res.fun), rel_tol=1e-10)
        assert math.isclose(opt.loss, float(chinchilla_fit.predict(opt.N_opt, opt.D_opt)), rel_tol=1e-12)
    arr = lf.ChinchillaLaw().compute_optimal(p, np.array([1e21, 1e22]))
    assert arr.N_opt.shape == (2,) and arr.N_opt[1] > arr.N_opt[0]
    with pytest.raises(lf.LawfitInputError, match="budget"):
        chinchilla_fit.compute_optimal(-1.0)


def test_chinchilla_predict_matches_reference(chinchilla_fit):
    N = np.array([[1e8], [1e9]])
    D = np.array([1e10, 2e10, 4e10])
    pred = chinchilla_fit.predict(N=N, D=D)
    assert pred.shape == (2, 3)
    np.testing.assert_allclose(pred, chinchilla_loss(chinchilla_fit.params, N, D), rtol=1e-13)


def test_chinchilla_bootstrap_matches_epoch_and_is_reproducible(chinchilla_fit):
    boot = chinchilla_fit.bootstrap(1000, seed=7)
    assert boot.n_success >= 990
    epoch = {"E": 0.026, "alpha": 0.015, "beta": 0.021, "A": 124.5, "B": 1293}
    for k, se in epoch.items():
        assert se / 2 <= boot.stderr[k] <= se * 2, (k, boot.stderr[k])
    for k in ("E", "alpha", "beta"):
        lo, hi = boot.interval[k]
        assert lo < chinchilla_fit.params[k] < hi
    again = chinchilla_fit.bootstrap(1000, seed=7)
    for k in boot.params:
        np.testing.assert_array_equal(boot.params[k], again.params[k])
    other = chinchilla_fit.bootstrap(50, seed=8)
    assert not np.array_equal(other.params["E"], boot.params["E"][:50])
    assert "Bootstrap" in boot.report()


def test_bootstrap_is_thread_count_independent():
    code = (
        "import lawfit as lf; from test_size_laws import chinchilla_data;"
        "N, D, L = chinchilla_data();"
        "f = lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L);"
        "b = f.bootstrap(64, seed=3);"
        "print([v.hex() for v in f.params.values()], [x.hex() for x in b.params['E']])"
    )
    assert_thread_count_independent(code)


def test_chinchilla_save_load(tmp_path, chinchilla_fit):
    path = tmp_path / "chin.json"
    chinchilla_fit.save(path)
    back = lf.load_fit(path)
    assert back.params == chinchilla_fit.params
    assert isinstance(back.law, lf.ChinchillaLaw)
    assert back.law.options() == chinchilla_fit.law.options()
    np.testing.assert_array_equal(back.predict(1e9, 2e10), chinchilla_fit.predict(1e9, 2e10))
    with pytest.raises(lf.LawfitInputError, match="does not carry its data"):
        back.bootstrap(10)


def test_chinchilla_recovers_synthetic_and_fix():
    rng = np.random.default_rng(0)
    true = {"E": 1.7, "A": 400.0, "B": 1800.0, "alpha": 0.33, "beta": 0.36}
    N = 10 ** rng.uniform(7, 10, 150)
    D = 10 ** rng.uniform(9, 12, 150)
    L = chinchilla_loss(true, N, D) * np.exp(1e-3 * rng.standard_normal(150))
    fit = lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L)
    for k, v in true.items():
        assert abs(fit.params[k] - v) <= max(5 * fit.stderr[k], 1e-3 * v), (k, fit.params[k])
    fixed = lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L, fix={"E": 1.7}, bounds={"alpha": (0.0, 0.5)})
    assert fixed.params["E"] == 1.7 and math.isnan(fixed.stderr["E"])
    assert fixed.params["alpha"] <= 0.5


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"N": [1e8, 2e8], "loss": [3.0, 2.9]}, r"data \['N', 'D'\]"),
        ({"N": [1e8, -2e8], "D": [1e9, 1e9], "loss": [3.0, 2.9]}, r"N\[1\] is -200000000.0"),
        ({"N": [1e8, 2e8], "D": [1e9, 1e9], "loss": [3.0]}, "loss has length 1"),
        ({"N": [1e8, 2e8], "D": [1e9, 1e9], "loss": [3.0, np.nan]}, r"loss\[1\] is nan; pass nan_policy"),
        ({"N": [1e8] * 6, "D": [1e9] * 6, "y": [3.0] * 6, "loss": [3.0] * 6}, "once"),
        ({"N": [1e8] * 6, "D": [1e9] * 6, "loss": [3.0] * 6, "robust": "l2"}, "robust must be"),
        ({"N": [1e8] * 3, "D": [1e9] * 3, "loss": [3.0] * 3}, "cannot determine"),
    ],
)
def test_fit_data_validation(kwargs, match):
    with pytest.raises(lf.LawfitInputError, match=match):
        lf.fit(lf.ChinchillaLaw(), **kwargs)


def test_fit_data_dispatch_errors():
    c = lf.Curve([1, 2, 3], [3.0, 2.9, 2.8], np.full(10, 1e-3))
    with pytest.raises(lf.LawfitInputError, match="not both"):
        lf.fit(lf.ChinchillaLaw(), c, N=[1.0], D=[1.0], loss=[1.0])
    with pytest.raises(lf.LawfitInputError, match="fitted to curves"):
        lf.fit(lf.MomentumLaw(), N=[1.0], D=[1.0], loss=[1.0])
    with pytest.raises(lf.LawfitInputError, match="disagree"):
        lf.fit(lf.MomentumLaw(), c, loss="huber", robust="linear")
    with pytest.raises(lf.LawfitInputError, match="pass N=, D= and loss="):
        lf.fit(lf.ChinchillaLaw(), c)


def test_nan_policy_omit_drops_points():
    N, D, L = chinchilla_data()
    L2 = L.copy()
    L2[[3, 50]] = np.nan
    keep = np.isfinite(L2)
    a = lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L2, nan_policy="omit")
    b = lf.fit(lf.ChinchillaLaw(), N=N[keep], D=D[keep], loss=L[keep])
    assert a.params == b.params and a.metrics["n_points"] == 238


# ---- power laws ------------------------------------------------------------------------------


def _power_data(seed=0, n=40, a=3.0, b=0.45, c=0.4, noise=2e-3):
    rng = np.random.default_rng(seed)
    x = np.logspace(1, 5, n)
    return x, power_law(x, a, b, c) * (1 + noise * rng.standard_normal(n))


def test_power_law_matches_curve_fit():
    from scipy.optimize import curve_fit

    x, y = _power_data()
    fit = lf.fit(lf.PowerLaw(), x=x, y=y)
    assert fit.success and fit.options["loss"] == "linear" and fit.options["space"] == "linear"
    popt, pcov = curve_fit(power_law, x, y, p0=[1.0, 0.3, 0.1], maxfev=20000, ftol=1e-14, xtol=1e-14)
    np.testing.assert_allclose(list(fit.params.values()), popt, rtol=1e-6)
    np.testing.assert_allclose(fit.cov, pcov, rtol=1e-4)
    np.testing.assert_allclose(fit.predict(x), power_law(x, *popt), rtol=1e-7)


def test_power_law_bootstrap_is_reproducible_and_thread_count_independent():
    x, y = _power_data(3, 40, noise=5e-3)
    fit = lf.fit(lf.PowerLaw(), x=x, y=y)
    boot = fit.bootstrap(200, seed=5)
    assert boot.n_success >= 195
    again = fit.bootstrap(200, seed=5)
    for k in "abc":
        np.testing.assert_array_equal(boot.params[k], again.params[k])
    other = fit.bootstrap(200, seed=6)
    assert not np.array_equal(other.params["b"], boot.params["b"])
    # The bootstrap's spread is the sampling spread of b: compare with curve_fit's standard error.
    assert 0.5 < boot.stderr["b"] / math.sqrt(fit.cov[1, 1]) < 2.0
    # Bit-identical whatever the number of threads (bootstrap replicates and fit_many rows alike).
    code = (
        "import numpy as np, lawfit as lf; from test_size_laws import _power_data;"
        "x, y = _power_data(3, 40, noise=5e-3);"
        "b = lf.fit(lf.PowerLaw(), x=x, y=y).bootstrap(64, seed=5);"
        "Y = y * (1 + 2e-3 * np.random.default_rng(0).standard_normal((300, 40)));"
        "m = lf.fit_many(lf.PowerLaw(), x=x, y=Y);"
        "print([v.hex() for v in b.params['b']], [v.hex() for k in 'abc' for v in m.params[k]])"
    )
    assert_thread_count_independent(code)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), a=st.floats(0.5, 10), b=st.floats(0.1, 1.2), c=st.floats(0.0, 2.0),
       noise=st.sampled_from([1e-4, 3e-3, 2e-2]))
def test_power_law_huber_log_not_worse_than_scipy(seed, a, b, c, noise):
    from scipy.optimize import least_squares

    x, y = _power_data(seed, 30, a, b, c + 0.05, noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        fit = lf.fit(lf.PowerLaw(), x=x, y=y, robust="huber", space="log")

    def resid(q):
        return np.log(np.maximum(power_law(x, *q), 1e-300)) - np.log(y)

    ref = least_squares(resid, [a * 1.2, b * 0.9, c], loss="huber", f_scale=1e-3, method="trf",
                        bounds=([0, 0, -np.inf], [np.inf, 10, np.inf]), ftol=1e-12, xtol=1e-12, gtol=1e-12)
    assert fit.metrics["cost"] <= ref.cost * (1 + 1e-7) + 1e-15


def test_power_law_regions():
    """A flat small-data region, a power-law region, and an irreducible floor are told apart."""
    rng = np.random.default_rng(3)
    x = np.logspace(1, 10, 40)
    curve = power_law(x, 50.0, 0.5, 0.02)
    y = np.minimum(curve, 1.0) * (1 + 1e-3 * rng.standard_normal(x.size))  # best-guess error 1.0
    order = rng.permutation(x.size)  # input order must not matter
    reg = lf.regions(x[order], y[order])
    labels = np.empty(x.size, dtype=object)
    labels[order] = reg.labels
    expected_small = curve > 1.3  # well inside the flat part
    assert (labels[expected_small] == "small_data").all()
    assert not (labels[curve < 0.9] == "small_data").any()
    a, b, c = (reg.fit.params[k] for k in "abc")
    assert abs(b - 0.5) < 0.02 and abs(c - 0.02) < 2e-3
    irreducible = a * x ** (-b) <= 0.1 * c
    np.testing.assert_array_equal(labels == "irreducible", irreducible & (labels != "small_data"))
    assert irreducible.sum() >= 3 and (labels == "power_law").sum() >= 10
    assert reg.irreducible_min == pytest.approx((a / (0.1 * c)) ** (1 / b))
    assert reg.small_data_max == x[labels == "small_data"].max()
    np.testing.assert_array_equal(reg.mask("power_law"), reg.labels == "power_law")


def test_regions_without_small_data():
    x, y = _power_data(noise=1e-3)
    reg = lf.regions(x, y)
    assert not reg.mask("small_data").any() and math.isnan(reg.small_data_max)


# ---- TSFM (X_c/X)^alpha, OLS in log10-log10 --------------------------------------------------


def tsfm_series():
    data = DATA / "tsfm" / "derived_digitized_loss_vs_N_D.csv"
    legend = DATA / "tsfm" / "derived_fitted_laws_from_notebook_legends.csv"
    assert data.is_file() and legend.is_file(), f"test data missing at {data.parent}"
    series = defaultdict(list)
    with data.open(newline="") as fh:
        for r in csv.DictReader(fh):
            split = "ID" if r["eval_split"].startswith("ID") else r["eval_split"]
            series[(r["architecture"], r["axis"], split)].append(r)
    with legend.open(newline="") as fh:
        laws = {(r["architecture"], r["axis"], r["eval_split"]): r for r in csv.DictReader(fh)}
    return series, laws


def test_tsfm_exponents_reproduce_legends():
    series, laws = tsfm_series()
    clean = {k: v for k, v in series.items() if all(r["digitize_confidence"] == "ok" for r in v)}
    assert len(clean) == 8  # the N and D series without occluded (low/missing) points
    for key, rows in clean.items():
        x = np.array([float(r["x"]) for r in rows])
        y = np.array([float(r["packed_nll_min"]) for r in rows])
        fit = lf.fit(lf.PurePowerLaw(), x=x, y=y)
        assert abs(fit.params["alpha"] - float(laws[key]["alpha"])) <= 0.002, (key, fit.params["alpha"])
        xc_ref, alpha_ref = loglog_ols(x, y)
        assert math.isclose(fit.params["alpha"], alpha_ref, rel_tol=1e-10)
        assert math.isclose(math.log(fit.params["X_c"]), math.log(xc_ref), rel_tol=1e-9)
        np.testing.assert_allclose(fit.predict(x), (xc_ref / x) ** alpha_ref, rtol=1e-9)


def test_pure_power_law_stderr_matches_ols():
    series, _ = tsfm_series()
    rows = series[("encoder", "N", "OOD-Monash")]
    x = np.array([float(r["x"]) for r in rows])
    y = np.array([float(r["packed_nll_min"]) for r in rows])
    fit = lf.fit(lf.PurePowerLaw(), x=x, y=y)
    X = np.column_stack([np.ones_like(x), np.log10(x)])
    beta, res, *_ = np.linalg.lstsq(X, np.log10(y), rcond=None)
    s2 = res[0] / (x.size - 2)
    cov = s2 * np.linalg.inv(X.T @ X)
    assert math.isclose(fit.stderr["alpha"], math.sqrt(cov[1, 1]), rel_tol=1e-8)
    assert lf.SaturatingPowerLaw is lf.PurePowerLaw
    with pytest.raises(lf.LawfitInputError, match="least squares"):
        lf.fit(lf.PurePowerLaw(), x=x, y=y, robust="huber")
    fixed = lf.fit(lf.PurePowerLaw(), x=x, y=y, fix={"alpha": 0.02})
    assert fixed.params["alpha"] == 0.02
    assert fixed.metrics["cost"] >= fit.metrics["cost"]
