"""The multi-power law's fitting strategy on real and long logs (issue 14): bounds derived from the
law, screening of the starts, block weights, the time budget, and Table 1 accuracy."""

from __future__ import annotations

import warnings

import lawfit as lf
import numpy as np
import pytest
from multipower_data import TEST, TRAIN, lawfit_curve

PUB_400M = {"L0": 2.37474466, "A": 0.65421216, "alpha": 0.42878731, "B": 523.42464371, "C": 2.02462735,
            "beta": 0.59350493, "gamma": 0.63472457}


def _synthetic(total: int = 30_000, every: int = 50, noise: float = 1e-3, seed: int = 0) -> lf.Curve:
    """A SYNTHETIC per-step cosine log (warmup 300 steps) following the 400M published law."""
    s = np.arange(total, dtype=float)
    lr = 3e-5 + 0.5 * (3e-4 - 3e-5) * (1 + np.cos(np.pi * s / total))
    lr[:300] = np.linspace(3e-4 / 300, 3e-4, 300)
    steps = np.arange(every, total + 1, every)
    law = lf.MultiPowerLaw()
    loss = law.predict(PUB_400M, lr, steps)
    loss = loss * (1 + noise * np.random.default_rng(seed).standard_normal(loss.size))
    return lf.Curve(steps, loss, lr, warmup_steps=300, name="synthetic")


def test_data_bounds_cap_b_by_the_largest_possible_drop():
    c = _synthetic()
    law = lf.MultiPowerLaw()
    b = law.data_bounds([c])
    tv = np.abs(np.diff(c.lr)).sum()
    assert b["B"][1] == pytest.approx(c.loss.max() / tv, rel=1e-12)
    assert b["beta"] == (law.BETA_MIN, 1.0) and law.BETA_MIN > 0
    assert law.bounds()["B"] == (0.0, np.inf)  # the data-free bounds stay open


def test_block_weights_count_the_merged_points():
    c = _synthetic(every=7)
    law = lf.MultiPowerLaw()
    (w,) = law._block_weights([c], 50, None)
    blocked = law._block_curve(c, 50)
    assert w.size == blocked.steps.size and w.sum() == c.steps.size
    given = np.linspace(0.5, 2.0, c.steps.size)
    (wg,) = law._block_weights([c], 50, given)
    assert wg.sum() == pytest.approx(given.sum())


def test_long_log_converges_near_the_truth_with_screened_starts():
    c = _synthetic()
    fit = lf.fit(lf.MultiPowerLaw(), c)
    assert fit.success
    assert fit.metrics["total_evals"] >= fit.metrics["n_evals"]
    pred = fit.predict(c.lr, c.steps)
    truth = lf.MultiPowerLaw().predict(PUB_400M, c.lr, c.steps)
    assert np.mean(np.abs(pred - truth) / truth) < 1e-3


def test_time_budget_warns_and_still_returns_a_finite_fit():
    c = _synthetic()
    with pytest.warns(lf.ConvergenceWarning, match="time budget"):
        fit = lf.fit(lf.MultiPowerLaw(max_time=1e-6), c)
    assert all(np.isfinite(v) for v in fit.params.values())
    assert fit.law.options()["max_time"] == 1e-6
    with pytest.raises(lf.LawfitInputError):
        lf.MultiPowerLaw(max_time=0)


@pytest.mark.parametrize(("size", "bound"), [(25, 0.0015), (100, 0.0016), (400, 0.0023)])
def test_table1_split_fits_converge_and_predict(size, bound, record_property):
    """Fitted on the paper's train set, the six test curves' mean PredE. Measured 0.00137 / 0.00148
    / 0.00216 (25M / 100M / 400M); the paper's MPL row is 0.0012 / 0.0013 / 0.0019, which lawfit's
    converged fit does NOT reach (docs/multipower.md: the optimum of the training objective
    extrapolates cosine_72000 worse than the published, far less converged, parameters)."""
    train = [lawfit_curve(size, n) for n in TRAIN]
    test = [lawfit_curve(size, n) for n in TEST]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        fit = lf.fit(lf.MultiPowerLaw(), train)
    assert fit.success
    err = [np.mean(np.abs(fit.predict(c.lr, c.steps) - c.loss) / c.loss) for c in test]
    record_property(f"mpl_prede_{size}", float(np.mean(err)))
    assert np.mean(err) < bound


def test_auto_keeps_the_momentum_law_when_only_held_out_curves_favour_multipower():
    """Table-1 split, 400M: leave-one-curve-out alone prefers the multi-power law, which predicts
    the longer test runs worse; auto also holds out every curve's last third, where the momentum
    law is better, so it keeps the momentum law, whose test PredE is the lower one."""
    train = [lawfit_curve(400, n) for n in TRAIN]
    test = [lawfit_curve(400, n) for n in TEST]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        auto = lf.fit(lf.AutoLaw(candidates=("momentum", "multipower")), train)
        mpl = lf.fit(lf.MultiPowerLaw(), train)
    info = auto.options["auto"]
    assert info["tests"] == ["loco", "horizon"]
    assert info["errors"]["multipower"]["loco"] < info["errors"]["momentum"]["loco"]
    assert info["chosen"] == "momentum" == auto.law.name
    pred_e = {f.law.name: np.mean([np.mean(np.abs(f.predict(c.lr, c.steps) - c.loss) / c.loss) for c in test])
              for f in (auto, mpl)}
    assert pred_e["momentum"] < pred_e["multipower"]


def test_single_run_valley_is_walked_on_the_coarse_level():
    """The llm.c 124M per-step log (one run: the L0/A/α and β/γ valleys): the capped first level
    stops inside the valley and finishes the walk there, so the full-data polish starts next to its
    optimum (it took 752–833 full-data evaluations when the walk was left to it)."""
    from datadir import data_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        c = lf.read_log(data_file("llmc_gpt2_124m", "main.log.train.csv"), loss="train_loss",
                        schedule="cosine:total=19560,peak=6e-4,warmup=700,final=0")
    keep = np.cumsum(c.lr)[c.steps - 1] > 0
    c = lf.Curve(c.steps[keep], c.loss[keep], c.lr, warmup_steps=c.warmup_steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        fit = lf.fit(lf.MultiPowerLaw(), c)
    assert fit.success
    assert fit.metrics["n_evals"] < 200
    assert fit.metrics["total_evals"] > fit.metrics["n_evals"]
    assert fit.metrics["cost"] < 0.21914  # main's optimum: 0.2191385
