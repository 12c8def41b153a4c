"""Every ``lawfit`` command run as a subprocess (``python -m lawfit``) on real bundled data.

Exit codes: 0 ok, 1 the fit did not converge, 2 bad input. ``--json`` output must parse and the
files a command writes must exist and hold what it says.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import lawfit as lf
import numpy as np
import pytest
from datadir import DATA as TEST_DATA
from subprocs import OPTIMIZE_24K, ok_json, run

DATA = Path(str(resources.files("lawfit").joinpath("data", "multipower_400")))
COSINE = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"
WSD = "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,final=3e-5"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fit_json(tmp_path_factory) -> Path:
    """`lawfit fit` of the bundled 400M cosine_24000 curve (real data), written with -o."""
    out = tmp_path_factory.mktemp("fit") / "fit.json"
    proc = run("fit", str(DATA / "cosine_24000.csv"), "--schedule", COSINE, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"saved: {out}" in proc.stdout
    return out


def test_bundled_data_present():
    assert sorted(p.name for p in DATA.glob("*.csv"))[:2] == ["constant_24000.csv", "constant_72000.csv"]


def test_help_and_usage_errors():
    proc = run("--help")
    assert proc.returncode == 0
    for cmd in ("demo", "fit", "predict", "forecast", "compare", "optimize", "validate", "schedule", "areas"):
        assert cmd in proc.stdout
    assert run().returncode == 2  # no command
    assert run("nonsense").returncode == 2


def test_demo(tmp_path):
    png = tmp_path / "demo.png"
    data = ok_json("demo", "--plot", str(png))
    assert data["figure"] == str(png) and png.read_bytes()[:8] == PNG
    assert data["train"] == ["constant_24000", "cosine_24000", "wsdcon_9"]
    assert {"momentum", "multipower"} <= set(data["summary"])
    assert len(data["rows"]) == 6 * len(data["summary"])
    assert all(row["pred_e"] < 0.01 for row in data["rows"])
    text = run("demo", "--no-plot", "--laws", "momentum")
    assert text.returncode == 0 and "PredE" in text.stdout and "figure:" not in text.stdout


def test_fit_json_plot_and_saved_file(tmp_path, fit_json):
    png = tmp_path / "fit.png"
    out = tmp_path / "again.json"
    data = ok_json(
        "fit", str(DATA / "cosine_24000.csv"), "--schedule", COSINE, "-o", str(out), "--plot", str(png)
    )
    assert set(data["params"]) == {"L0", "A", "alpha", "C"} and data["success"] is True
    assert png.read_bytes()[:8] == PNG
    saved = lf.load_fit(out)
    assert saved.params == pytest.approx(data["params"], rel=1e-12)
    assert lf.load_fit(fit_json).params == pytest.approx(saved.params, rel=1e-9)


def test_fit_not_converged_exits_1(tmp_path):
    proc = run("fit", str(DATA / "cosine_24000.csv"), "--schedule", COSINE, "--max-evals", "1", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["success"] is False
    assert "did not converge" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["fit", "missing.csv", "--schedule", COSINE],
        ["fit", str(DATA / "cosine_24000.csv"), "--schedule", "cosin:total=10,peak=1"],
        ["fit", str(DATA / "cosine_24000.csv"), "--law", "nope"],
        ["fit", str(DATA / "cosine_24000.csv"), "--max-evals", "0"],
    ],
)
def test_fit_bad_input_exits_2(args):
    proc = run(*args)
    assert proc.returncode == 2 and "lawfit: error:" in proc.stderr


def test_predict(tmp_path, fit_json):
    out = tmp_path / "pred.csv"
    data = ok_json("predict", str(fit_json), "--schedule", WSD, "--every", "1000", "-o", str(out))
    assert data["steps"] == [*range(1000, 24001, 1000)]
    expect = lf.load_fit(fit_json).predict(lf.schedules.parse(WSD), data["steps"])
    np.testing.assert_allclose(data["loss"], expect, rtol=1e-12)
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["step"]) for r in rows] == data["steps"]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], expect, rtol=1e-15)
    assert run("predict", str(fit_json.with_name("none.json")), "--schedule", WSD).returncode == 2
    assert run("predict", str(fit_json), "--schedule", "wsd:total=10").returncode == 2


def test_forecast(tmp_path):
    spec72 = "cosine:total=72000,peak=3e-4,warmup=2160,final=3e-5"
    log = str(DATA / "cosine_72000.csv")
    data = ok_json(
        "forecast",
        log,
        "--schedule",
        spec72,
        "--schedule",
        "constant:total=72000,peak=3e-4,warmup=2160",
        "--until",
        "0.5",
    )
    assert data["seen_until"] == 36000 and data["fit_from"] == 2161
    constant = str(lf.schedules.parse("constant:total=72000,peak=3e-4,warmup=2160"))
    assert set(data["predictions"]) == {"cosine_72000", constant}
    run_pred = data["predictions"]["cosine_72000"]
    assert run_pred["steps"][-1] == 72000
    assert all(
        lo <= p <= hi
        for lo, p, hi in zip(run_pred["lower"], run_pred["loss"], run_pred["upper"], strict=True)
    )
    # the logged rest of the run is the held-out check: a real 400M cosine run, forecast from half
    assert data["holdout"]["from_step"] > 0.9 * 72000 and data["holdout"]["mean_rel_error"] < 0.01
    text = run("forecast", log, "--schedule", spec72, "--until", "36000")
    assert (
        text.returncode == 0
        and "held-out check" in text.stdout
        and "fitted on steps 2161..36000" in text.stdout
    )
    slow = run("forecast", log, "--schedule", spec72, "--until", "0.5", "--max-evals", "1")
    assert slow.returncode == 1
    # a log without an LR column needs the planned schedule (a log with one uses it: see
    # test_logs_formats.py::test_forecast_uses_the_logs_lr_column)
    no_lr = run("forecast", str(TEST_DATA / "llmc_gpt2_124m" / "main.log.val.csv"), "--until", "0.5")
    assert no_lr.returncode == 2 and "--schedule SPEC" in no_lr.stderr
    for bad in (
        ["--schedule", spec72, "--fit-from", "0"],
        ["--schedule", spec72, "--until", "-3"],
    ):
        proc = run("forecast", log, *bad)
        assert proc.returncode == 2 and "lawfit: error:" in proc.stderr


def test_forecast_llmc_half_run_within_1_5_percent():
    """Issue 5's acceptance command on the real llm.c GPT-2 124M log (shared data)."""
    log = TEST_DATA / "llmc_gpt2_124m" / "main.log.train.csv"
    if not log.is_file():
        raise FileNotFoundError(f"missing {log}: tests/data ships with the repository")
    data = ok_json(
        "forecast",
        str(log),
        "--loss-col",
        "train_loss",
        "--until",
        "0.5",
        "--schedule",
        "cosine:total=19560,peak=6e-4,warmup=700,final=0",
    )
    h = data["holdout"]
    print(f"llm.c, fitted on 50%: final-10% mean relative error {100 * h['mean_rel_error']:.3f}%")
    assert (h["from_step"], h["to_step"], h["window"]) == (17605, 19560, 201)
    assert h["mean_rel_error"] < 0.015


def test_compare(fit_json):
    const = "constant:total=24000,peak=3e-4,warmup=2160"
    rows = ok_json(
        "compare", str(fit_json), "--schedule", const, "--schedule", COSINE, "--at", "12000", "24000"
    )
    assert [r["schedule"] for r in rows] == [str(lf.schedules.parse(COSINE)), str(lf.schedules.parse(const))]
    assert rows[0]["final_loss"] < rows[1]["final_loss"] and set(rows[0]["at"]) == {"12000", "24000"}
    text = run("compare", str(fit_json), "--schedule", const, "--schedule", COSINE)
    assert text.returncode == 0 and text.stdout.splitlines()[0].startswith("1. ")
    assert run("compare", str(fit_json), "--schedule", "constant:peak=1").returncode == 2


@pytest.mark.parametrize("family", ["wsd", "cosine", "free"])
def test_optimize(tmp_path, fit_json, family):
    out = tmp_path / "best.npy"
    data = ok_json(
        "optimize",
        str(fit_json),
        *OPTIMIZE_24K,
        "--family",
        family,
        "--iterations",
        "50",
        "--out",
        str(out),
    )
    assert data["final_loss"] <= data["cosine_final_loss"] and data["gain_over_cosine"] >= 0
    lr = np.load(out)
    assert lr.shape == (24000,) and lr.max() <= 3e-4 * (1 + 1e-12) and lr[2160:].min() >= 3e-5 * (1 - 1e-12)
    again = lf.load_fit(fit_json).predict(lf.schedules.from_array(lr, warmup_steps=2160), [24000])[0]
    assert again == pytest.approx(data["final_loss"], rel=1e-12)


def test_optimize_bad_input_exits_2(fit_json):
    base = ["optimize", str(fit_json), "--total", "24000", "--peak", "3e-4"]
    assert run(*base, "--family", "best").returncode == 2
    assert run(*base, "--iterations", "0").returncode == 2
    assert run("optimize", str(fit_json), "--peak", "3e-4").returncode == 2


def test_validate():
    train = [str(DATA / f"{n}.csv") for n in ("constant_24000", "cosine_24000", "wsdcon_9")]
    test = [str(DATA / f"{n}.csv") for n in ("cosine_72000", "wsd_20000_24000")]
    data = ok_json("validate", "--train", *train, "--test", *test, "--laws", "momentum")
    assert [r["curve"] for r in data["rows"]] == ["cosine_72000", "wsd_20000_24000"]
    assert data["summary"]["momentum"]["pred_e"] < 0.01
    assert run("validate", "--train", *train, "--test", "missing.csv").returncode == 2
    assert run("validate", "--train", *train, "--test", *test, "--laws", "nope").returncode == 2


def test_schedule(tmp_path):
    out = tmp_path / "s.npy"
    data = ok_json("schedule", COSINE, "--out", str(out), "--points", "3")
    assert data["total_steps"] == 24000 and data["warmup_steps"] == 2160 and data["out"] == str(out)
    np.testing.assert_array_equal(np.load(out), lf.schedules.parse(COSINE).lr)
    assert [r["step"] for r in data["rows"]] == [1, 12001, 24000]
    proc = run("schedule", "cosine:total=10,peak=1,warmup=20")
    assert proc.returncode == 2 and "warmup (20) must be <= total (10)" in proc.stderr


def test_areas():
    data = ok_json("areas", COSINE, "--points", "5", "--warmup", "actual")
    s1, s2 = lf.areas(lf.schedules.parse(COSINE), warmup_steps=2160, warmup="actual")
    assert [r["step"] for r in data["rows"]][-1] == 24000
    assert data["rows"][-1]["S1"] == pytest.approx(s1[-1], rel=1e-12)
    assert data["rows"][-1]["S2"] == pytest.approx(s2[-1], rel=1e-12)
    assert run("areas", "cosine:total=10").returncode == 2
