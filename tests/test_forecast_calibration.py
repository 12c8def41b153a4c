"""Issue 15: calibrated forecast bands, priors before the decay, and the silent traps it found."""

import json
import warnings

import lawfit as lf
import numpy as np
import pytest
from lawfit import cli, datasets
from lawfit.calibration import LEVELS, build_table, default_table, horizon
from lawfit.curve import WarmupInferredWarning, infer_warmup
from lawfit.forecast import AutoPrior, IdentifiabilityWarning, forecast, predict_band

WSD = "wsd_20000_24000"


def quiet(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*a, **k)


# -- trap 1: a fit remembers its warmup convention and length ------------------------------------
def test_predict_applies_the_fits_warmup_to_a_raw_array(tmp_path):
    c = datasets.multipower_curve("cosine_24000")  # Schedule with a 2160-step warmup
    law = lf.MomentumLaw(warmup="as_peak")
    r = quiet(lf.fit, law, c)
    assert r.options["warmup_steps"] == 2160
    want = law.predict(r.params, c.lr, c.steps, warmup_steps=2160)
    wrong = law.predict(r.params, c.lr, c.steps, warmup_steps=0)
    assert np.max(np.abs(want / wrong - 1)) > 1e-3  # the trap was real: W matters for as_peak
    np.testing.assert_allclose(r.predict(c.lr, c.steps), want, rtol=1e-13)
    r.save(tmp_path / "f.json")
    back = lf.load_fit(tmp_path / "f.json")
    np.testing.assert_allclose(back.predict(c.lr, c.steps), want, rtol=1e-13)
    # an explicit warmup still wins
    np.testing.assert_allclose(r.predict(c.lr, c.steps, warmup_steps=0), wrong, rtol=1e-13)


# -- trap 2: an unidentified fit never gets a zero-width band ------------------------------------
def test_unidentified_fit_has_no_band_not_a_zero_width_one():
    c = datasets.multipower_curve("constant_24000")  # no annealing and S2 = 0: C is not identified
    r = quiet(lf.fit, lf.MomentumLaw(warmup="exclude"), c)
    assert np.isinf(r.cov).any()
    s = lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5")
    with pytest.warns(IdentifiabilityWarning, match="not identified"):
        pred, lo, hi = predict_band(r, s, [12000, 24000])
    assert np.all(np.isfinite(pred)) and np.all(np.isnan(lo)) and np.all(np.isnan(hi))


def test_forecast_without_prior_before_the_decay_gives_no_band_after_the_cut():
    c = datasets.multipower_curve(WSD)
    with pytest.warns(IdentifiabilityWarning, match="annealing"):
        fc = forecast(c, until=0.5, prior=None)
    assert fc.calibration_group == "unidentified"
    with pytest.warns(IdentifiabilityWarning, match="no calibrated band"):
        pred, lo, hi = fc.predict([6000, 18000, 24000])
    assert np.isfinite(lo[0]) and lo[0] < pred[0] < hi[0]  # inside the fitted range
    assert np.all(np.isnan(lo[1:])) and np.all(np.isnan(hi[1:]))


# -- trap 3: Curve infers the warmup of a raw LR array, and the annealing check skips it ---------
def test_curve_infers_warmup_from_the_lr_ramp():
    s = lf.schedules.parse("cosine:total=19560,peak=6e-4,warmup=700,final=0")
    assert infer_warmup(s.lr) == 700
    with pytest.warns(WarmupInferredWarning, match="700"):
        c = lf.Curve([800, 900], [3.0, 2.9], s.lr)
    assert c.warmup_steps == 700 and c.warmup_inferred
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lf.Curve([800], [3.0], s).warmup_steps == 700  # a Schedule says it: no warning
        assert lf.Curve([800], [3.0], s.lr, warmup_steps=0).warmup_steps == 0  # explicit wins
        flat = lf.schedules.parse("cosine:total=1000,peak=1e-3")
        assert lf.Curve([10], [3.0], flat.lr).warmup_steps == 0
    assert infer_warmup(np.array([1.0, 2.0, 1.5, 3.0])) == 0  # not a monotone ramp to the peak
    assert infer_warmup(np.array([5.0])) == 0


def test_annealing_check_does_not_mistake_the_warmup_ramp_for_annealing():
    ref = datasets.multipower_curve(WSD)
    with pytest.warns(WarmupInferredWarning):
        raw = lf.Curve(ref.steps, ref.loss, ref.lr)  # raw LR array: warmup inferred (2160)
    assert raw.warmup_steps == 2160
    with pytest.warns(IdentifiabilityWarning, match="no LR annealing seen"):
        forecast(raw, until=15000, prior=None)


@pytest.mark.parametrize("law", [lf.MomentumLaw(), lf.MultiPowerLaw()], ids=["momentum", "multipower"])
def test_identifiability_check_works_for_every_law(law):
    c = datasets.multipower_curve(WSD)
    with pytest.warns(IdentifiabilityWarning, match="cannot identify (C|B, C)"):
        fc = forecast(c, until=12000, law=law, prior=None, max_evals=300)
    assert fc.calibration_group == "unidentified"


# -- trap 4: one default warmup convention --------------------------------------------------------
def test_one_default_warmup_convention(capsys):
    import inspect

    default = inspect.signature(lf.areas).parameters["warmup"].default
    assert default == lf.MomentumLaw().warmup == lf.MomentumLawN().warmup == "actual"
    s = lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5")
    assert cli.main(["areas", str(s), "--json", "--points", "2"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    s1, _ = lf.areas(s, warmup_steps=2160, warmup="actual")
    assert rows[-1]["S1"] == pytest.approx(s1[-1], rel=1e-12)


# -- the forecast API and its calibrated bands ----------------------------------------------------
def test_forecast_predict_band_widens_with_horizon_and_level():
    c = datasets.multipower_curve("cosine_72000")
    fc = forecast(c, until=0.25)
    steps = np.array([20000, 36000, 54000, 72000])
    pred, lo, hi = fc.predict(steps, level=0.9)
    _, lo5, hi5 = fc.predict(steps, level=0.5)
    assert np.all(lo < pred) and np.all(pred < hi)  # never zero width
    assert np.all(lo <= lo5) and np.all(hi5 <= hi)
    width = (hi - lo) / pred
    assert np.all(np.diff(width) >= -1e-12) and width[-1] > width[0]
    np.testing.assert_allclose(pred, fc.fit.predict(c.lr, steps), rtol=1e-13)
    # an alternative schedule, with the same fit
    alt = lf.schedules.parse("constant:total=72000,peak=3e-4,warmup=2160")
    p2, lo2, hi2 = fc.predict([72000], schedule=alt)
    assert p2[0] > pred[-1] and lo2[0] < p2[0] < hi2[0]  # no annealing: a higher final loss
    with pytest.raises(lf.LawfitInputError, match="levels"):
        fc.predict(steps, level=0.99)
    # the predictions of the summary are the same calibrated bands
    st, p, lo_, hi_ = fc.predictions["cosine_72000"]
    np.testing.assert_allclose(fc.predict(st, level=fc.level)[1], lo_, rtol=1e-13)


def test_forecast_prior_options():
    c = datasets.multipower_curve(WSD)
    with pytest.warns(IdentifiabilityWarning, match="default prior"):
        auto = forecast(c, until=0.5)
    assert auto.calibration_group == "prior" and set(auto.prior_values) >= {"C"}
    # a Gaussian prior of relative sd sd(log r): the MAP fit stays within 2 sd of its mean
    p = AutoPrior.default()
    assert abs(auto.fit.params["C"] / auto.prior_values["C"] - 1) < 2 * p.log_sd
    assert auto.fit.options["prior"]
    # the prior mean is the fixed point C = value(fit of the seen part with C held at C)
    m = (c.steps >= auto.fit_from) & (c.steps <= auto.seen_until)
    seen = lf.Curve(c.steps[m], c.loss[m], c.lr, warmup_steps=c.warmup_steps)
    held_at_mean = quiet(lf.fit, auto.fit.law, seen, fix={"C": auto.prior_values["C"]})
    again = p.value(auto.fit.law, held_at_mean.params, c.lr, c.warmup_steps)
    assert again == pytest.approx(auto.prior_values["C"], rel=3e-3)
    given = quiet(forecast, c, until=0.5, prior={"C": (0.5, 0.1)})  # Gaussian: a MAP fit
    assert abs(given.fit.params["C"] - 0.5) < 2 * 0.1
    assert given.fit.options["prior"]  # the fit records its prior
    held = quiet(forecast, c, until=0.5, prior={"C": 0.5})  # a value: held fixed
    assert held.fit.params["C"] == 0.5
    with pytest.raises(lf.LawfitInputError, match="unknown parameter"):
        quiet(forecast, c, until=0.5, prior={"K": 1.0})
    with pytest.raises(lf.LawfitInputError, match="prior"):
        forecast(c, until=0.5, prior="none")
    # the prior moves the forecast of the unseen decay closer to the logged end of the run
    free = quiet(forecast, c, until=0.5, prior=None)
    assert auto.holdout["mean_rel_error"] < free.holdout["mean_rel_error"]


def test_shipped_calibration_and_prior_have_provenance():
    t = default_table()
    assert t.provenance["n_runs"] == 76 and t.provenance["built_by"] == "benches/calibrate_forecast.py"
    assert set(t.provenance["runs_per_dataset"]) == {"multipower", "fsl", "llmc", "supercollapse"}
    assert 0 < AutoPrior.default().ratio < 10
    for g in ("seen", "prior"):
        assert np.all(np.diff(t.upper[g], axis=1) >= 0) and np.all(np.diff(t.lower[g], axis=1) <= 0)
        assert np.all(np.diff(t.upper[g], axis=0) >= 0)  # a higher level is never narrower


def test_build_table_is_conformal_on_exchangeable_records():
    rng = np.random.default_rng(0)

    def rec(i):
        steps = np.arange(1001, 4001, 50)
        h = np.log(steps / 1000)
        score = 0.01 * h * rng.standard_normal()
        return {"steps": steps, "seen_until": 1000, "group": "seen", "score": score}

    train = [rec(i) for i in range(400)]
    test = [rec(i) for i in range(400)]
    t = build_table(train)
    for level in (0.5, 0.9):
        cov = []
        for r in test:
            lo, hi = t.bounds(horizon(r["steps"], 1000), level, "seen")
            cov.append(np.mean((r["score"] >= lo) & (r["score"] <= hi)))
        assert abs(np.mean(cov) - level) < 0.06
    assert list(t.levels) == list(LEVELS)


def test_cli_forecast_prints_the_band_and_what_it_covers(tmp_path, capsys):
    c = datasets.multipower_curve("cosine_24000")
    log = tmp_path / "run.csv"
    rows = "\n".join(f"{s},{float(v)!r}" for s, v in zip(c.steps, c.loss, strict=True))
    log.write_text("step,loss\n" + rows)
    spec = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"
    assert cli.main(["forecast", str(log), "--schedule", spec, "--until", "0.5"]) in (0, 1)
    out = capsys.readouterr().out
    assert "90% band of the smoothed loss" in out and "calibrated" in out


def test_block_bootstrap_band_respects_autocorrelation():
    from datadir import DATA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)  # the log is 0-based
        c = lf.read_log(DATA / "llmc_gpt2_124m" / "main.log.train.csv", loss="train_loss",
                        schedule="cosine:total=19560,peak=6e-4,warmup=700,final=0")
    fc = quiet(forecast, c, until=0.5)  # per-step train loss: strongly autocorrelated residuals
    steps = [10000, 19560]
    pred, lo, hi = fc.block_bootstrap(steps, n=16, seed=1)
    np.testing.assert_allclose(pred, fc.predict(steps)[0], rtol=1e-13)
    assert np.all(lo <= pred) and np.all(pred <= hi) and np.all(hi > lo)
    again = fc.block_bootstrap(steps, n=16, seed=1)
    np.testing.assert_array_equal(again[1], lo)  # reproducible
    # blocks keep the residuals' autocorrelation: wider than resampling single points
    _, lo1, hi1 = fc.block_bootstrap(steps, n=16, seed=1, block=1)
    assert (hi - lo)[-1] > 1.2 * (hi1 - lo1)[-1]
    with pytest.raises(lf.LawfitInputError, match="n must"):
        fc.block_bootstrap(steps, n=1)


def test_cli_forecast_json_uses_the_default_prior(tmp_path, capsys):
    c = datasets.multipower_curve(WSD)
    log = tmp_path / "run.csv"
    rows = "\n".join(f"{s},{float(v)!r}" for s, v in zip(c.steps, c.loss, strict=True))
    log.write_text("step,loss\n" + rows)
    spec = lf.datasets.MULTIPOWER_SPECS[WSD]
    assert cli.main(["forecast", str(log), "--schedule", spec, "--until", "12000", "--json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert "C" in out["prior"] and out["band"]["calibration_group"] == "prior"
    assert "smoothed loss" in out["band"]["covers"]
    args = ["forecast", str(log), "--schedule", spec, "--until", "12000", "--json", "--prior", "none"]
    assert cli.main(args) in (0, 1)
    assert json.loads(capsys.readouterr().out)["band"]["calibration_group"] == "unidentified"
