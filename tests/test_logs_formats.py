"""Issue 16: the log formats users have, several runs per file, output that parses.

CLI behaviour runs ``python -m lawfit`` as a subprocess on the real logs in ``tests/data`` (the FSL
multi-run CSV.gz, the llm.c GPT-2 logs, the multi-power CSVs). Files written here are either the
real data re-encoded (compressed, with a byte-order mark, cut short) or, where a format cannot be
made from the real logs without a library run (``trainer_state.json``, TensorBoard events), built
from the real llm.c values in the layout the library writes; both are said where they are made.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
import lzma
import time
import warnings
from pathlib import Path

import lawfit as lf
import numpy as np
import pandas as pd
import polars as pl
import pytest
from datadir import DATA
from subprocs import ok_json, run

FSL = DATA / "fsl_gpt100m" / "gpt100m_20b_tokens.csv.gz"
LLMC = DATA / "llmc_gpt2_124m" / "main.log.train.csv"
LLMC_VAL = DATA / "llmc_gpt2_124m" / "main.log.val.csv"
MP = DATA / "multipower" / "csv_400"
COSINE_LLMC = "cosine:total=19560,peak=6e-4,warmup=700,final=0"
COSINE_24K = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"


def llmc_rows() -> list[dict[str, float]]:
    with LLMC.open(encoding="utf-8") as fh:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(fh)]


@pytest.fixture(params=["pyarrow", "csv"])
def engine(request, monkeypatch) -> str:
    """Run a reader test with pyarrow's CSV parser (installed by the test extra) and without it."""
    if request.param == "csv":
        monkeypatch.setattr(lf.io, "_arrow_csv", lambda: None)
    else:
        assert lf.io._arrow_csv() is not None
    return request.param


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fit16") / "fit.json"
    proc = run("fit", str(MP / "cosine_24000.csv"), "--schedule", COSINE_24K, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


# --- 1. predict -o writes numbers ------------------------------------------------------------


def test_predict_csv_lr_column_is_numeric(tmp_path, fit_file):
    out = tmp_path / "pred.csv"
    proc = run("predict", str(fit_file), "--schedule", COSINE_24K, "--every", "1000", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out)
    assert list(df.columns) == ["step", "lr", "loss"]
    assert df["lr"].dtype == np.float64 and df["loss"].dtype == np.float64
    sched = lf.schedules.parse(COSINE_24K)
    np.testing.assert_array_equal(df["lr"].to_numpy(), sched.lr[df["step"].to_numpy() - 1])
    zero = run("predict", str(fit_file), "--schedule", COSINE_24K, "--every", "0")
    assert zero.returncode == 2 and "--every" in zero.stderr and "Traceback" not in zero.stderr


# --- 2. several runs per file ----------------------------------------------------------------


def test_multi_run_file_is_refused_with_the_runs_listed():
    proc = run("fit", str(FSL), "--loss-col", "train_loss")
    assert proc.returncode == 2
    assert "3 runs in column 'schedule': 811, wsd, cosine" in proc.stderr
    assert "--run NAME" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(lf.LawfitInputError, match="holds 3 runs"):
        lf.read_log(FSL, loss="train_loss")
    with pytest.raises(lf.LawfitInputError, match="no run 'linear'.*811, wsd, cosine"):
        lf.read_log(FSL, loss="train_loss", run="linear")


def test_run_picks_one_run_and_repeated_run_fits_jointly():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        curves = lf.read_logs(FSL, loss="train_loss")
        cosine = lf.read_log(FSL, loss="train_loss", run="cosine")
    assert [c.name for c in curves] == ["811", "wsd", "cosine"]
    assert cosine.name == "cosine" and len(cosine) == len(curves[2])
    # the runs really differ (the 811 schedule drops its LR at 80% of the run)
    assert curves[0].lr[-1] < 0.5 * curves[0].lr.max() and curves[1].lr[0] == curves[0].lr[0]
    one = ok_json("fit", str(FSL), "--loss-col", "train_loss", "--run", "cosine", "--fit-from", "500")
    assert one["options"]["curves"] == ["cosine"] and one["metrics"]["n_points"] == len(cosine) - 499
    assert one["metrics"]["r2"] > 0.95
    both = ok_json(
        "fit", str(FSL), "--loss-col", "train_loss", "--run", "cosine", "--run", "wsd", "--fit-from", "500"
    )
    assert both["options"]["curves"] == ["cosine", "wsd"]
    assert both["metrics"]["n_points"] == len(curves[1]) + len(curves[2]) - 2 * 499
    assert both["metrics"]["r2"] > 0.9


# --- 3. the formats users have ---------------------------------------------------------------


def _trainer_state(path: Path) -> list[dict[str, float]]:
    """A trainer_state.json in the layout of Hugging Face's Trainer, holding the real llm.c train
    losses every 10 steps (train entries: loss, learning_rate) and its real val losses (eval entries:
    eval_loss), plus the end-of-training summary entry the Trainer appends."""
    rows = llmc_rows()
    history: list[dict[str, float]] = [
        {"epoch": 0.0, "step": int(r["step"]) + 1, "loss": r["train_loss"], "learning_rate": r["lr"]}
        for r in rows[9::10]
    ]
    with LLMC_VAL.open(encoding="utf-8") as fh:
        val = [(int(float(r["step"])), float(r["val_loss"])) for r in csv.DictReader(fh)]
    evals = [{"epoch": 0.0, "step": s, "eval_loss": v, "eval_runtime": 1.0} for s, v in val if s > 0]
    history = sorted(history + evals, key=lambda e: e["step"])
    history.append({"epoch": 1.0, "step": 19560, "train_loss": 3.6, "train_runtime": 100.0})
    path.write_text(json.dumps({"global_step": 19560, "log_history": history}), encoding="utf-8")
    return history


def test_hf_trainer_state_train_and_eval_loss(tmp_path):
    ckpt = tmp_path / "checkpoint-19560"
    ckpt.mkdir()
    history = _trainer_state(ckpt / "trainer_state.json")
    train = [e for e in history if "loss" in e]
    with pytest.warns(lf.LogFormatWarning, match="LR is logged at 1956 of 19560 steps"):
        c = lf.read_log(ckpt / "trainer_state.json")
    np.testing.assert_array_equal(c.steps, [e["step"] for e in train])
    np.testing.assert_array_equal(c.loss, [e["loss"] for e in train])
    assert c.lr[9] == train[0]["learning_rate"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        ev = lf.read_log(ckpt, loss="eval_loss")  # the checkpoint folder works too
    assert ev.steps.size == sum("eval_loss" in e for e in history) and ev.steps[0] == 250
    with pytest.raises(lf.LawfitInputError, match="'eval_los'.*eval_loss"):
        lf.read_log(ckpt, loss="eval_los")
    fit = ok_json("fit", str(ckpt / "trainer_state.json"))
    assert (
        fit["metrics"]["n_points"] == sum(1 for e in train if e["step"] > 700) and fit["metrics"]["r2"] > 0.9
    )
    proc = run("fit", str(ckpt), "--loss-col", "eval_loss", "--json")
    assert proc.returncode == 0, proc.stderr


def _write_events(logdir: Path, rows: list[dict[str, float]], suffix: str) -> None:
    """TensorBoard scalars written with tensorboard's own event writer (no torch, no TF)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    w = EventFileWriter(str(logdir), filename_suffix=suffix)
    for r in rows:
        values = [
            summary_pb2.Summary.Value(tag="train/loss", simple_value=r["train_loss"]),
            summary_pb2.Summary.Value(tag="train/learning_rate", simple_value=r["lr"]),
        ]
        w.add_event(
            event_pb2.Event(
                step=int(r["step"]) + 1, wall_time=time.time(), summary=summary_pb2.Summary(value=values)
            )
        )
    w.close()


def test_tensorboard_run_directory(tmp_path):
    rows = llmc_rows()
    logdir = tmp_path / "runs" / "gpt2"
    logdir.mkdir(parents=True)
    # a run resumed once: two event files in one directory, the second re-logging a few steps
    _write_events(logdir, rows[:10000], ".a")
    _write_events(logdir, rows[9990:], ".b")
    assert len(list(logdir.glob("*tfevents*"))) == 2
    c = lf.read_log(tmp_path / "runs")
    assert c.steps.size == len(rows) and c.steps[0] == 1 and c.steps[-1] == len(rows)
    np.testing.assert_allclose(c.loss, np.float32([r["train_loss"] for r in rows]))
    fit = ok_json("fit", str(tmp_path / "runs"))
    assert fit["metrics"]["n_points"] == len(rows) - 700 and fit["metrics"]["r2"] > 0.95
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run("fit", str(empty))
    assert proc.returncode == 2 and "without a trainer_state.json or TensorBoard event files" in proc.stderr


@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_logs(tmp_path, engine, opener, suffix):
    path = tmp_path / f"main.log.train.csv{suffix}"
    with opener(path, "wb") as fh:
        fh.write(LLMC.read_bytes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        c = lf.read_log(path, loss="train_loss")
        ref = lf.read_log(LLMC, loss="train_loss")
    np.testing.assert_array_equal(c.loss, ref.loss)
    np.testing.assert_array_equal(c.lr, ref.lr)
    assert run("fit", str(path), "--loss-col", "train_loss").returncode == 0


def test_excel_csv_with_byte_order_mark(tmp_path, engine):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (MP / "cosine_24000.csv").read_bytes().replace(b"\n", b"\r\n"))
    c = lf.read_log(path, schedule=COSINE_24K)
    ref = lf.read_log(MP / "cosine_24000.csv", schedule=COSINE_24K)
    np.testing.assert_array_equal(c.steps, ref.steps)
    proc = run("fit", str(path), "--schedule", COSINE_24K)
    assert proc.returncode == 0, proc.stderr


# --- 4. fit from after the warmup; forecast from the log's own LR ----------------------------


def test_fit_and_validate_skip_the_warmup_by_default():
    fit = ok_json("fit", str(LLMC), "--loss-col", "train_loss", "--schedule", COSINE_LLMC)
    assert fit["metrics"]["n_points"] == 19560 - 700 and fit["metrics"]["r2"] > 0.95
    # the LR column's ramp is the warmup too
    lr_col = ok_json("fit", str(LLMC), "--loss-col", "train_loss")
    assert lr_col["metrics"]["n_points"] < 19560 - 600 and lr_col["metrics"]["r2"] > 0.95
    everything = ok_json("fit", str(LLMC), "--loss-col", "train_loss", "--fit-from", "1")
    assert (
        everything["metrics"]["n_points"] == 19560 and everything["metrics"]["r2"] < lr_col["metrics"]["r2"]
    )
    later = ok_json("fit", str(LLMC), "--loss-col", "train_loss", "--fit-from", "5000")
    assert later["metrics"]["n_points"] == 19560 - 4999
    bad = run("fit", str(LLMC), "--loss-col", "train_loss", "--fit-from", "0")
    assert bad.returncode == 2 and "--fit-from" in bad.stderr
    val, low = (ok_json("validate", "--train", str(MP / "cosine_24000.csv"), "--test",
                        str(MP / "wsd_20000_24000.csv"), "--fit-from", first) for first in ("3000", "1"))
    assert val["fits"]["momentum"]["metrics"]["n_points"] < low["fits"]["momentum"]["metrics"]["n_points"]
    runs = ok_json(
        "validate",
        "--train",
        str(FSL),
        "--train-run",
        "cosine",
        "--test",
        str(FSL),
        "--test-run",
        "wsd",
        "--loss-col",
        "train_loss",
        "--fit-from",
        "500",
    )
    assert runs["fits"]["momentum"]["options"]["curves"] == ["cosine"]


def test_forecast_uses_the_logs_lr_column():
    data = ok_json("forecast", str(LLMC), "--loss-col", "train_loss", "--until", "0.5")
    pred = data["predictions"]["main.log.train"]
    assert data["seen_until"] == 9780 and pred["steps"][-1] == 19560
    assert data["holdout"] is not None and data["holdout"]["mean_rel_error"] < 0.02
    past = run("forecast", str(LLMC), "--loss-col", "train_loss", "--until", "30000")
    assert past.returncode == 2 and "30000" in past.stderr


# --- 5. sizes and --until ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["schedule", "cosine:total=1e12,peak=1e-3"],
        ["areas", "cosine:total=1e12,peak=1e-3"],
        ["predict", "FIT", "--schedule", "wsd:total=1e12,peak=3e-4,decay=0.2"],
        ["compare", "FIT", "--schedule", "cosine:total=1e12,peak=3e-4"],
        ["optimize", "FIT", "--total", "1000000000000", "--peak", "3e-4"],
    ],
)
def test_huge_schedules_are_a_clear_error(fit_file, args):
    proc = run(*[str(fit_file) if a == "FIT" else a for a in args])
    assert proc.returncode == 2, proc.stderr
    assert "at most 1000000000 steps" in proc.stderr and "Traceback" not in proc.stderr


def test_until_as_documented():
    log = str(MP / "cosine_24000.csv")
    whole = ok_json("forecast", log, "--schedule", COSINE_24K, "--until", "1.0")
    assert whole["seen_until"] == 24000
    assert ok_json("forecast", log, "--schedule", COSINE_24K, "--until", "12000")["seen_until"] == 12000
    for bad in ("1.5", "30000", "0", "-0.5", "half"):
        proc = run("forecast", log, "--schedule", COSINE_24K, "--until", bad)
        assert proc.returncode == 2 and "until" in proc.stderr, (bad, proc.stderr)


# --- 6. no silent data changes ----------------------------------------------------------------


def test_dropped_and_repaired_rows_are_counted(tmp_path, engine):
    text = (MP / "cosine_24000.csv").read_text(encoding="utf-8").splitlines()
    n = len(text) - 1
    header, body = text[0], text[1:]
    body[3] = body[3].rsplit(",", 1)[0] + ",abc"
    body[5] = body[5].rsplit(",", 1)[0] + ",nan"
    body[7] = body[7].rsplit(",", 1)[0] + ","
    body[9] = body[9] + ",0.5"  # a row with a field too many (two writes run together)
    body.insert(11, "   ")  # a whitespace-only line: skipped, like a blank one
    cut = body[-1][: body[-1].index(",") + 3]  # the last row cut in the middle of its LR
    path = tmp_path / "damaged.csv"
    path.write_text("\n".join([header, *body[:-1], cut]), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = lf.read_log(path, schedule=COSINE_24K)
    msgs = [str(w.message) for w in caught]
    assert any("dropped 2 row(s) with fewer or more fields" in m for m in msgs), msgs
    assert any("3 of" in m and "no usable loss" in m and "not a number" in m for m in msgs), msgs
    assert len(c) == n - 5
    with pytest.raises(lf.LawfitInputError, match="no usable loss"), warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        lf.read_log(path, schedule=COSINE_24K, nan_policy="raise")
    proc = run("fit", str(path), "--schedule", COSINE_24K)
    assert proc.returncode == 0 and "3 of" in proc.stderr and "fewer or more fields" in proc.stderr
    # cut inside the last number: every field is there, but the row has no line end
    cut_number = tmp_path / "cut_number.csv"
    full = (MP / "cosine_24000.csv").read_text(encoding="utf-8")
    cut_number.write_text(full.rstrip("\n")[:-2], encoding="utf-8")
    with pytest.warns(lf.LogFormatWarning, match="dropped the last row"):
        c = lf.read_log(cut_number, schedule=COSINE_24K)
    assert len(c) == n - 1
    assert len(lf.read_log(MP / "cosine_24000.csv", schedule=COSINE_24K)) == n  # an ended file loses nothing


def test_fit_file_bounds_and_keys(tmp_path, fit_file):
    data = json.loads(fit_file.read_text(encoding="utf-8"))
    for name, change in (
        ("negative_alpha", lambda d: d["params"].update(alpha=-5.0)),
        ("unknown_top_key", lambda d: d.update(extra=1)),
        ("unknown_param", lambda d: d["params"].update(beta=1.0)),
    ):
        d = json.loads(json.dumps(data))
        change(d)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(d), encoding="utf-8")
        with pytest.raises(lf.LawfitInputError):
            lf.load_fit(path)
        proc = run("predict", str(path), "--schedule", COSINE_24K)
        assert proc.returncode == 2 and "lawfit: error:" in proc.stderr, name
    assert lf.load_fit(fit_file).params == data["params"]


def test_compare_at_prints_in_text_mode(fit_file):
    wsd = "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2"
    proc = run(
        "compare", str(fit_file), "--schedule", COSINE_24K, "--schedule", wsd, "--at", "12000", "20000"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("loss at step 12000:") == 2 and proc.stdout.count("loss at step 20000:") == 2
    rows = ok_json("compare", str(fit_file), "--schedule", COSINE_24K, "--at", "12000")
    assert (
        f"{rows[0]['at']['12000']:.5f}"
        in run("compare", str(fit_file), "--schedule", COSINE_24K, "--at", "12000").stdout
    )
    bad = run("compare", str(fit_file), "--schedule", COSINE_24K, "--at", "0")
    assert bad.returncode == 2 and "--at" in bad.stderr


# --- 7. CLI words ----------------------------------------------------------------------------


def test_messages_and_warnings_speak_cli(tmp_path):
    proc = run("fit", str(LLMC_VAL))
    assert proc.returncode == 2
    assert "--schedule SPEC" in proc.stderr and "schedule=" not in proc.stderr
    warned = run("fit", str(LLMC), "--loss-col", "train_loss")
    lines = warned.stderr.splitlines()
    assert lines and all(line.startswith("lawfit: warning: ") for line in lines), warned.stderr
    assert "LogFormatWarning" not in warned.stderr and ".py:" not in warned.stderr
    bad = np.full(1000, 1e-3)
    bad[699] = np.nan
    np.save(tmp_path / "bad.npy", bad)
    proc = run("schedule", f"array:path={tmp_path / 'bad.npy'}")
    assert proc.returncode == 2 and "step 700" in proc.stderr and "[699]" not in proc.stderr
    zero = tmp_path / "zero.csv"
    zero.write_text(
        "step,lr,loss\n1,1e-3,3.0\n2,1e-3,0.0\n3,1e-3,2.9\n4,1e-3,2.8\n5,1e-3,2.7\n", encoding="utf-8"
    )
    proc = run("fit", str(zero), "--fit-from", "1")
    assert proc.returncode == 2 and "at step 2" in proc.stderr and "space=" not in proc.stderr
    # a schedule starting at LR 0 with --fit-from 1: the step without LR area is skipped, not fatal
    ok = run("fit", str(MP / "cosine_24000.csv"), "--schedule", COSINE_24K, "--fit-from", "1")
    assert ok.returncode == 0 and "RuntimeWarning" not in ok.stderr


# --- 8. DataFrames ---------------------------------------------------------------------------


def test_curve_from_frame_pandas_and_polars():
    ref = lf.read_log(MP / "cosine_24000.csv", schedule=COSINE_24K)
    df = pd.read_csv(MP / "cosine_24000.csv")
    c = lf.Curve.from_frame(df, lr=COSINE_24K)
    np.testing.assert_array_equal(c.steps, ref.steps)
    np.testing.assert_array_equal(c.lr, ref.lr)
    cp = lf.Curve.from_frame(pl.read_csv(MP / "cosine_24000.csv"), lr=lf.schedules.parse(COSINE_24K))
    np.testing.assert_array_equal(cp.loss, ref.loss)
    assert cp.warmup_steps == 2160
    dense = pd.read_csv(LLMC).assign(step=lambda d: d["step"] + 1)
    cd = lf.Curve.from_frame(dense, loss="train_loss")  # the frame's own per-step LR column
    np.testing.assert_array_equal(cd.lr, dense["lr"].to_numpy())
    with pytest.raises(lf.LawfitInputError, match="no learning-rate column"):
        lf.Curve.from_frame(df[["step", "loss"]])


def test_fit_predict_and_forecaster_take_frames_and_specs():
    df = pd.read_csv(MP / "cosine_24000.csv")
    df = df[df["step"] > 2160]
    sched = lf.schedules.parse(COSINE_24K)
    df = df.assign(lr=sched.lr[df["step"].to_numpy() - 1])
    dense = pd.DataFrame({"step": np.arange(1, 24001), "lr": sched.lr})
    frame = dense.merge(df[["step", "loss"]], on="step", how="left")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        result = lf.fit(lf.MomentumLaw(), frame)
    ref = lf.fit(lf.MomentumLaw(), lf.Curve(df["step"], df["loss"], sched))
    assert result.metrics["n_points"] == ref.metrics["n_points"] == len(df)
    np.testing.assert_allclose(list(result.params.values()), list(ref.params.values()), rtol=1e-6)
    wsd = "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2"
    np.testing.assert_array_equal(
        result.predict(wsd, [24000]), result.predict(lf.schedules.parse(wsd), [24000])
    )
    table = result.to_frame(wsd, steps=[3000, 12000, 24000])
    assert list(table.columns) == ["step", "lr", "loss"] and table["step"].tolist() == [3000, 12000, 24000]
    np.testing.assert_array_equal(table["lr"], lf.schedules.parse(wsd).lr[[2999, 11999, 23999]])
    band = result.to_frame(wsd, steps=[12000, 24000], level=0.9)
    assert (band["lower"] <= band["loss"]).all() and (band["loss"] <= band["upper"]).all()
    fc = lf.Forecaster(COSINE_24K)
    for s, y in zip(df["step"], df["loss"], strict=True):
        fc.update(int(s), float(y))
    assert fc.forecast(until=12000).seen_until == 12000


def test_repr_html():
    sched = lf.schedules.parse(COSINE_24K)
    c = lf.read_log(MP / "cosine_24000.csv", schedule=sched)
    result = lf.fit(lf.MomentumLaw(), c)
    for obj, needle in ((result, "alpha"), (c, "points"), (sched, "cosine")):
        html = obj._repr_html_()
        assert html.startswith("<div>") and needle in html and "<table>" in html


# --- 9. plots ---------------------------------------------------------------------------------


def test_fit_plot_draws_the_fit_over_the_fitted_range(monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lawfit import plot

    figs = []
    monkeypatch.setattr(plt, "close", lambda fig=None: figs.append(fig))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)
        logged = lf.read_log(LLMC, loss="train_loss")
    first = 701
    keep = logged.steps >= first
    fitted = lf.Curve(logged.steps[keep], logged.loss[keep], logged.lr, name="llmc")
    result = lf.fit(lf.MomentumLaw(), fitted)
    plot.fit_figure(result, [fitted], tmp_path / "fit.png")
    assert (tmp_path / "fit.png").read_bytes()[:4] == b"\x89PNG"
    ax, axr = figs[0].axes
    data_line = next(li for li in ax.lines if li.get_label() == "llmc (train)")
    fit_line = next(li for li in ax.lines if li.get_linestyle() == "-" and li.get_label().startswith("_"))
    assert fit_line.get_zorder() > data_line.get_zorder()  # the fit is drawn over the dots
    pred = result.predict(logged.lr, fitted.steps)
    lo, hi = ax.get_ylim()
    assert lo <= float(fitted.loss.min()) and hi >= float(pred.max())  # nothing fitted is cropped
    assert hi < float(logged.loss.max())  # the warmup's loss of 11 does not squash the axis
    res = next(li for li in axr.lines if li.get_marker() == ".")
    assert int(np.min(res.get_xdata())) == first  # residuals of the fitted range only
    # with the whole log: the unfitted warmup is drawn (grey) but does not set the axis
    plot.fit_figure(result, [fitted], tmp_path / "fit2.png", logged=[logged])
    ax2 = figs[1].axes[0]
    assert ax2.get_ylim() == (lo, hi) and len(ax2.lines) == len(ax.lines) + 1


def test_wandb_export_of_several_runs_and_json_rows(tmp_path):
    """A W&B-style export (one "<run> - <metric>" column per run) made from two real multi-power
    runs logged at the same steps, and a JSON list of rows made from one of them."""
    a = pd.read_csv(MP / "cosine_24000.csv")
    b = pd.read_csv(MP / "wsd_20000_24000.csv")
    # W&B leaves a run's cell empty at steps only the other run logged
    both = a.merge(b, on="step", how="outer", suffixes=("_a", "_b")).sort_values("step")
    assert len(both) > len(a)
    export = pd.DataFrame(
        {
            "Step": both["step"],
            "cosine - train/loss": both["loss_a"],
            "cosine - train/loss__MIN": both["loss_a"],
            "wsd - train/loss": both["loss_b"],
        }
    )
    path = tmp_path / "wandb_export.csv"
    export.to_csv(path, index=False)
    with pytest.raises(lf.LawfitInputError, match="holds 2 runs.*cosine, wsd"):
        lf.read_log(path, schedule=COSINE_24K)
    assert lf.list_runs(path) == ["cosine", "wsd"]
    with pytest.warns(lf.LogFormatWarning, match=f"{len(both) - len(b)} of {len(both)} rows have no usable"):
        wsd = lf.read_log(path, schedule=COSINE_24K, run="wsd")
    np.testing.assert_array_equal(wsd.loss, b["loss"].to_numpy())
    proc = run("fit", str(path), "--schedule", COSINE_24K)
    assert proc.returncode == 2 and "--run NAME" in proc.stderr
    rows = tmp_path / "rows.json"
    rows.write_text(a.to_json(orient="records"), encoding="utf-8")
    np.testing.assert_array_equal(lf.read_log(rows, schedule=COSINE_24K).loss, a["loss"].to_numpy())
    cols = tmp_path / "cols.json"
    cols.write_text(json.dumps({k: a[k].tolist() for k in a.columns}), encoding="utf-8")
    np.testing.assert_array_equal(lf.read_log(cols, schedule=COSINE_24K).loss, a["loss"].to_numpy())
