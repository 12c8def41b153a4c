"""Forecasts from partial runs, bands, schedule comparison and optimisation, Forecaster, CLI."""

import json
import warnings

import lawfit as lf
import numpy as np
import pytest
from lawfit import cli, datasets
from lawfit.forecast import (
    Forecaster,
    IdentifiabilityWarning,
    compare,
    forecast,
    optimize_schedule,
    predict_band,
)


@pytest.fixture(scope="module")
def train_fit():
    train, _ = datasets.multipower_split()
    return lf.fit(lf.MomentumLaw(), train)


def test_forecast_partial_run_is_close():
    c = datasets.multipower_curve("cosine_72000")
    fc = forecast(c, until=0.5)
    steps, pred, lo, hi = fc.predictions["cosine_72000"]
    assert steps[-1] == 72000
    assert np.all(lo <= pred + 1e-12) and np.all(pred <= hi + 1e-12)
    assert abs(pred[-1] - c.loss[-1]) / c.loss[-1] < 0.02


def test_forecast_warns_when_annealing_unseen_and_uses_prior(train_fit):
    c = datasets.multipower_curve("wsd_20000_24000")
    with pytest.warns(IdentifiabilityWarning, match="annealing"):
        fc = forecast(c, until=15000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc2 = forecast(c, until=15000, prior=train_fit)
    assert fc2.fit.params["C"] == train_fit.params["C"]
    assert any("prior" in w for w in fc2.warnings)
    assert fc.fit.params.keys() == fc2.fit.params.keys()


def test_band_widens_with_level(train_fit):
    s = lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5")
    _, lo50, hi50 = predict_band(train_fit, s, [24000], level=0.5)
    _, lo95, hi95 = predict_band(train_fit, s, [24000], level=0.95)
    assert lo95[0] <= lo50[0] < hi50[0] <= hi95[0]


def test_compare_ranks_by_final_loss(train_fit):
    scheds = [
        lf.schedules.parse("constant:total=24000,peak=3e-4,warmup=2160"),
        lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"),
    ]
    rows = compare(train_fit, scheds)
    assert rows[0]["schedule"].startswith("cosine")  # annealing lowers the final loss
    assert rows[0]["final_loss"] <= rows[1]["final_loss"]


@pytest.mark.parametrize("family", ["wsd", "cosine", "free"])
def test_optimize_not_worse_than_cosine(train_fit, family):
    best = optimize_schedule(
        train_fit, total_steps=24000, peak_lr=3e-4, warmup_steps=2160, family=family, final_lr=3e-5
    )
    assert best["final_loss"] <= best["cosine_final_loss"] + 1e-12
    lr = best["schedule"].lr
    if family == "free":
        assert np.all(np.diff(lr[2160:]) <= 1e-18) and lr[2160:].min() >= 3e-5 - 1e-18


def test_forecaster_in_a_loop():
    c = datasets.multipower_curve("cosine_24000")
    sched = lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5")
    fc = Forecaster(sched)
    with pytest.raises(lf.LawfitInputError, match="updates"):
        fc.forecast()
    for s, v in zip(c.steps[: len(c) // 2], c.loss[: len(c) // 2], strict=True):
        fc.update(int(s), float(v), lr=float(sched.lr[s - 1]))
    with pytest.raises(lf.LawfitInputError, match="not after"):
        fc.update(int(c.steps[0]), 3.0)
    out = fc.forecast()
    assert out.predictions["run"][0][-1] == 24000


def test_cli_forecast_compare_optimize(tmp_path, capsys, train_fit):
    path = tmp_path / "fit.json"
    train_fit.save(path)
    a = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"
    b = "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,final=3e-5"
    assert cli.main(["compare", str(path), "--schedule", a, "--schedule", b, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2
    assert (
        cli.main(
            [
                "optimize",
                str(path),
                "--total",
                "24000",
                "--peak",
                "3e-4",
                "--warmup",
                "2160",
                "--final",
                "3e-5",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["gain_over_cosine"] >= 0
    c = datasets.multipower_curve("cosine_24000")
    log = tmp_path / "run.csv"
    log.write_text(
        "step,loss\n" + "\n".join(f"{s},{float(v)!r}" for s, v in zip(c.steps, c.loss, strict=True))
    )
    assert cli.main(["forecast", str(log), "--schedule", a, "--until", "0.6", "--schedule", b, "--json"]) in (
        0,
        1,
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out["predictions"]) == {"run", str(lf.schedules.parse(b))}
