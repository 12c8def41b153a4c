"""Gaussian priors (spec §14) for every law: MAP estimates, covariances that include the prior,
checked against scipy's least_squares on the augmented residuals (an independent reference)."""

from __future__ import annotations

import math
import warnings

import lawfit as lf
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multipower_data import TRAIN, lawfit_curve
from scipy.optimize import least_squares as scipy_least_squares
from synthetic import momentum_n_runs


def constant_run(total: int = 6000, every: int = 50, seed: int = 0) -> lf.Curve:
    """Synthetic (labelled) constant-LR run: S2 ≡ 0, so C is not identified by the data."""
    lr = np.full(total, 3e-4)
    steps = np.arange(every, total + 1, every)
    s1 = 3e-4 * steps
    rng = np.random.default_rng(seed)
    loss = (2.5 + 0.5 * s1 ** -0.5) * np.exp(rng.normal(0.0, 2e-3, steps.size))
    return lf.Curve(steps, loss, lr, name="constant")


def test_constant_lr_prior_sets_c_and_its_stderr():
    """The issue's acceptance test: C unidentified by a constant LR; the prior gives C and its error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unpenalised stage warns that C is not identifiable
        fit = lf.fit(lf.MomentumLaw(), constant_run(), prior={"C": (0.4, 0.1)})
    assert fit.success
    assert fit.params["C"] == pytest.approx(0.4, abs=1e-3)
    assert fit.stderr["C"] == pytest.approx(0.1, rel=0.02)
    assert np.isfinite([fit.stderr[k] for k in ("L0", "A", "alpha")]).all()
    assert fit.options["prior"] == {"C": [0.4, 0.1]}
    assert "[[Priors]]" in fit.report() and "C        ~ N(0.4, 0.1^2)" in fit.report()


def test_real_constant_run_prior_on_c_as_peak():
    """Real data (multipower 400M constant run); with the paper's as_peak warmup S2 ≡ 0 as well."""
    curve = lawfit_curve(400, "constant_24000")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lf.fit(lf.MomentumLaw(warmup="as_peak"), curve, prior={"C": (0.4, 0.1)})
    assert fit.params["C"] == pytest.approx(0.4, abs=1e-3)
    assert fit.stderr["C"] == pytest.approx(0.1, rel=0.02)


def _augmented_reference(residuals, x0, mean, sd, s2):
    """MAP by scipy: data residuals plus √(s²)/σ·(θ − μ) per parameter with a prior."""

    def fun(theta):
        extra = [math.sqrt(s2) / sd[j] * (theta[j] - mean[j]) for j in sorted(mean)]
        return np.concatenate([residuals(theta), extra])

    return scipy_least_squares(fun, x0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=20000)


def _s2_of(fit_plain: lf.FitResult) -> float:
    m = fit_plain.metrics
    return 2 * m["cost"] / (m["n_points"] - m["n_params"])


def test_momentum_map_matches_scipy_on_augmented_residuals():
    curves = [lawfit_curve(25, n) for n in TRAIN]
    law = lf.MomentumLaw()
    plain = lf.fit(law, curves, loss="linear")
    prior = {"C": (0.2, 0.05), "alpha": (0.5, 0.01)}
    fit = lf.fit(law, curves, loss="linear", prior=prior)
    y = np.concatenate([c.loss for c in curves])
    names = law.param_names

    def residuals(theta):
        params = dict(zip(names, theta, strict=True))
        return np.log(law.predict_curves(params, curves)) - np.log(y)

    mean = {names.index(k): m for k, (m, _) in prior.items()}
    sd = {names.index(k): s for k, (_, s) in prior.items()}
    ref = _augmented_reference(residuals, plain.law.params_vector(plain.params), mean, sd, _s2_of(plain))
    got = law.params_vector(fit.params)
    np.testing.assert_allclose(got, ref.x, rtol=2e-5)
    # The penalised optimum differs from the plain one: the prior did something.
    assert abs(fit.params["alpha"] - plain.params["alpha"]) > 1e-3


@settings(max_examples=25, deadline=None)
@given(
    mean_b=st.floats(0.2, 1.5),
    sd_b=st.floats(1e-3, 1.0),
    seed=st.integers(0, 2**16),
)
def test_power_law_map_matches_scipy(mean_b, sd_b, seed):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1, 1e3, 30)
    y = 3.0 * x ** -0.7 + 0.5 + rng.normal(0, 0.01, x.size)
    plain = lf.fit(lf.PowerLaw(), x=x, y=y)
    fit = lf.fit(lf.PowerLaw(), x=x, y=y, prior={"b": (mean_b, sd_b)})

    def residuals(theta):
        a, b, c = theta
        return a * x ** -b + c - y

    x0 = np.array([plain.params[k] for k in ("a", "b", "c")])
    ref = _augmented_reference(residuals, x0, {1: mean_b}, {1: sd_b}, _s2_of(plain))
    cost_ref = 0.5 * float(np.sum(ref.fun ** 2))
    # Same objective: lawfit's penalised cost is the reference's (or lower: a better optimum).
    assert fit.metrics["cost"] <= cost_ref * (1 + 1e-7) + 1e-15
    if fit.metrics["cost"] >= cost_ref * (1 - 1e-7):
        np.testing.assert_allclose([fit.params[k] for k in ("a", "b", "c")], ref.x, rtol=1e-4, atol=1e-6)


def _pin_check(fit_plain, fit_prior, name, mean, sd):
    """A prior much tighter than the data's standard error pulls the estimate (nearly) to its mean,
    and the posterior sd is at most the prior's."""
    assert sd <= fit_plain.stderr[name] / 5, "test set-up: the prior must dominate the data"
    shift = abs(fit_plain.params[name] - mean)
    assert abs(fit_prior.params[name] - mean) <= 0.2 * shift
    assert fit_prior.stderr[name] <= sd * 1.0001
    assert fit_prior.options["prior"][name] == [mean, sd]


def test_prior_momentum_n():
    """Synthetic (labelled) runs of three model sizes (tests/synthetic.py)."""
    law = lf.MomentumLawN()
    curves = momentum_n_runs(noise=1e-3)
    plain = lf.fit(law, curves)
    mean, sd = plain.params["beta"] + 10 * plain.stderr["beta"], plain.stderr["beta"] / 10
    fit = lf.fit(law, curves, prior={"beta": (mean, sd)})
    _pin_check(plain, fit, "beta", mean, sd)


def test_prior_multipower():
    curves = [lawfit_curve(400, n) for n in TRAIN]
    law = lf.MultiPowerLaw()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = lf.fit(law, curves)
        mean, sd = plain.params["L0"] + 10 * plain.stderr["L0"], plain.stderr["L0"] / 10
        fit = lf.fit(law, curves, prior={"gamma": (0.5, 1e-3), "L0": (mean, sd)})
    _pin_check(plain, fit, "L0", mean, sd)
    assert abs(fit.params["gamma"] - 0.5) < 3e-3


def test_prior_chinchilla():
    rng = np.random.default_rng(3)
    n = np.geomspace(1e7, 1e10, 12)
    d = np.geomspace(1e9, 1e12, 12)[::-1]
    loss = 1.8 + 400 / n ** 0.34 + 2000 / d ** 0.37
    loss = loss * np.exp(rng.normal(0, 0.005, loss.size))
    law = lf.ChinchillaLaw()
    plain = lf.fit(law, N=n, D=d, loss=loss)
    mean, sd = plain.params["E"] + 10 * plain.stderr["E"], plain.stderr["E"] / 10
    fit = lf.fit(law, N=n, D=d, loss=loss, prior={"E": (mean, sd)})
    _pin_check(plain, fit, "E", mean, sd)
    # A log-coordinate parameter takes a prior in its own units too.
    fit_a = lf.fit(law, N=n, D=d, loss=loss, prior={"A": (100.0, 5.0)})
    assert abs(fit_a.params["A"] - 100.0) < abs(plain.params["A"] - 100.0)


@pytest.mark.parametrize("law", [lf.PowerLaw(), lf.PurePowerLaw()])
def test_prior_power_laws(law):
    x = np.geomspace(10, 1e4, 20)
    rng = np.random.default_rng(1)
    if isinstance(law, lf.PurePowerLaw):
        y = (1e3 / x) ** 0.3 * np.exp(rng.normal(0, 0.01, x.size))
        name = "alpha"
    else:
        y = 2.0 * x ** -0.5 + 0.3 + rng.normal(0, 0.002, x.size)
        name = "c"
    plain = lf.fit(law, x=x, y=y)
    mean, sd = plain.params[name] + 10 * plain.stderr[name], plain.stderr[name] / 10
    fit = lf.fit(law, x=x, y=y, prior={name: (mean, sd)})
    _pin_check(plain, fit, name, mean, sd)


def test_prior_from_a_fit_result_and_save_load(tmp_path):
    curves = [lawfit_curve(400, n) for n in TRAIN]
    earlier = lf.fit(lf.MomentumLaw(), curves)
    later = lf.fit(lf.MomentumLaw(), curves[:1], prior=earlier)
    assert set(later.options["prior"]) == set(earlier.params)
    for k, (m, sd) in later.options["prior"].items():
        assert m == earlier.params[k] and sd == earlier.stderr[k]
    path = tmp_path / "fit.json"
    later.save(path)
    again = lf.load_fit(path)
    assert again.options["prior"] == later.options["prior"]
    assert "[[Priors]]" in again.report()


def test_bootstrap_refits_keep_the_prior():
    x = np.geomspace(1, 1e3, 25)
    y = 3.0 * x ** -0.7 + 0.5 + np.random.default_rng(0).normal(0, 0.01, x.size)
    fit = lf.fit(lf.PowerLaw(), x=x, y=y, prior={"c": (0.9, 1e-4)})
    boot = fit.bootstrap(200, seed=1)
    c = np.asarray(boot.params["c"])[boot.success]
    assert c.size > 150
    # Every replicate stays at the tight prior's mean (without it c would scatter around 0.5).
    assert np.max(np.abs(c - 0.9)) < 0.01


@pytest.mark.parametrize(
    ("prior", "match"),
    [
        ({"D": (1.0, 0.1)}, "unknown parameter 'D'"),
        ({"C": (0.4, 0.0)}, "sd > 0"),
        ({"C": (0.4, -1.0)}, "sd > 0"),
        ({"C": (float("nan"), 0.1)}, "finite"),
        ({"C": 0.4}, "pair"),
        ([("C", 0.4, 0.1)], "mapping"),
    ],
)
def test_bad_priors_are_clear_errors(prior, match):
    with pytest.raises(lf.LawfitInputError, match=match):
        lf.fit(lf.MomentumLaw(), constant_run(), prior=prior)


def test_prior_on_a_fixed_parameter_is_an_error():
    with pytest.raises(lf.LawfitInputError, match="fixed"):
        lf.fit(lf.MomentumLaw(), constant_run(), fix={"C": 0.3}, prior={"C": (0.4, 0.1)})


def test_cli_fit_takes_priors(tmp_path):
    import json
    import subprocess
    import sys
    from importlib import resources

    log = str(resources.files("lawfit").joinpath("data", "multipower_400", "constant_24000.csv"))
    out = tmp_path / "fit.json"
    cmd = [sys.executable, "-m", "lawfit", "fit", log, "--prior", "C=0.4,0.1", "--json", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["options"]["prior"] == {"C": [0.4, 0.1]}
    # The saved fit is itself a prior for the next fit.
    proc = subprocess.run([sys.executable, "-m", "lawfit", "fit", log, "--prior", str(out), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert set(json.loads(proc.stdout)["options"]["prior"]) == {"L0", "A", "alpha", "C"}
    bad = subprocess.run([sys.executable, "-m", "lawfit", "fit", log, "--prior", "C=0.4"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "NAME=MEAN,SD" in bad.stderr


@pytest.mark.parametrize(
    ("law", "params", "name"),
    [
        (lf.FunctionalScalingLaw(),
         {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}, "L0"),
        (lf.ConvexBoundLaw(), {"C": 2.4, "D": 0.8, "G": 3.0}, "C"),
    ],
)
def test_prior_new_loss_curve_laws(law, params, name):
    """Synthetic (labelled) curves of the law itself with 0.2% noise; a prior far tighter than the
    data pins its parameter (the laws of issue 18 take priors through the same solver)."""
    n = 3000
    s = np.arange(n)
    cosine = 1e-3 * (0.1 + 0.45 * (1 + np.cos(np.pi * s / n)))
    step = np.where(s < 0.8 * n, 1e-3, np.where(s < 0.9 * n, 3e-4, 1e-4))
    lrs = [cosine, step]
    steps = np.arange(100, n + 1, 25)
    rng = np.random.default_rng(4)
    curves = [lf.Curve(steps, law.predict(params, lr, steps) * np.exp(rng.normal(0, 2e-3, steps.size)), lr,
                       warmup_steps=0) for lr in lrs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = lf.fit(law, curves)
        mean, sd = plain.params[name] + 10 * plain.stderr[name], plain.stderr[name] / 10
        fit = lf.fit(law, curves, prior={name: (mean, sd)})
    _pin_check(plain, fit, name, mean, sd)
