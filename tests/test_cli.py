"""The ``lawfit`` command: ``schedule`` and ``areas`` through ``lawfit.cli.main``."""

from __future__ import annotations

import json

import lawfit as lf
import numpy as np
import pytest
from lawfit.cli import build_parser, main

COSINE = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"


def test_schedule_prints_summary_and_rows(capsys):
    assert main(["schedule", COSINE, "--points", "5"]) == 0
    out = capsys.readouterr().out
    assert f"schedule: {COSINE}" in out
    assert "steps: 24000 (warmup 2160)" in out
    lines = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert [int(r[0]) for r in lines] == [1, 6001, 12001, 18000, 24000]
    lr = lf.schedules.parse(COSINE).lr
    for step, value in ((int(r[0]), float(r[1])) for r in lines):
        assert value == pytest.approx(lr[step - 1], rel=1e-6)


def test_schedule_json(capsys):
    spec = "WSD:total=1000,peak=1e-3,warmup=100,decay=0.2,shape=1-sqrt"
    assert main(["schedule", spec, "--json", "--points", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    s = lf.schedules.parse(spec)
    assert data["schedule"] == str(s) == "wsd:total=1000,peak=0.001,warmup=100,decay=0.2,final=0,shape=1-sqrt"
    assert data["family"] == "wsd" and data["total_steps"] == 1000 and data["warmup_steps"] == 100
    assert data["peak_lr"] == 1e-3 and data["final_lr"] == s.lr[-1] and data["out"] is None
    assert data["lr_sum"] == pytest.approx(s.lr.sum(), rel=1e-12)
    assert data["rows"] == [{"step": k, "lr": s.lr[k - 1]} for k in (1, 501, 1000)]


def test_schedule_points_zero_prints_no_table(capsys):
    assert main(["schedule", "constant:total=10,peak=1", "--points", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == []


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_schedule_out(tmp_path, capsys, suffix):
    spec = "cyclic:total=500,peak=1e-3,warmup=20,cycles=3,final=1e-5,rewarmup=10"
    out = tmp_path / f"lr{suffix}"
    assert main(["schedule", spec, "--out", str(out)]) == 0
    assert f"wrote 500 steps to {out}" in capsys.readouterr().out
    expect = lf.schedules.parse(spec).lr
    if suffix == ".npy":
        got = np.load(out)
        assert got.dtype == np.float64
    else:
        assert out.read_text().splitlines()[0] == "step,lr"
        table = np.loadtxt(out, delimiter=",", skiprows=1)
        np.testing.assert_array_equal(table[:, 0], np.arange(1, 501))
        got = table[:, 1]
    np.testing.assert_array_equal(got, expect)  # exact: the CSV holds the shortest repr


def test_schedule_out_json_reports_path(tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert main(["schedule", "linear:total=10,peak=1", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["out"] == str(out)
    assert out.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schedule", "cosin:total=10,peak=1"], "unknown schedule family 'cosin'"),
        (["schedule", "cosine:total=10,peak=1,warmup=20"], "warmup (20) must be <= total (10)"),
        (["schedule", "cosine:total=10,peak=nan"], "not a finite number"),
        (["schedule", "cosine:peak=1"], "missing required key(s) total"),
        (["schedule", "constant:total=10,peak=1", "--out", "x.txt"], "--out must name a .csv or .npy"),
        (["schedule", "constant:total=10,peak=1", "--points", "-1"], "--points must be >= 0"),
        (["schedule", "array:path=/nonexistent/lawfit-test.npy"], "No such file"),
    ],
)
def test_schedule_bad_input_exits_2(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("lawfit: error: ") and message in captured.err


def test_schedule_out_into_missing_directory_exits_2(tmp_path, capsys):
    assert main(["schedule", "constant:total=10,peak=1", "--out", str(tmp_path / "no" / "x.csv")]) == 2
    assert "lawfit: error:" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["schedule"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["schedule", COSINE, "--points", "many"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_schedule_help_has_example(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["schedule", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert 'lawfit schedule "cosine:total=24000' in out
    for family in [*lf.schedules._FAMILIES, "array"]:
        assert f"  {family}" in out
    assert "schedule" in build_parser().format_help()


def test_areas_command_accepts_schedule_spec(capsys):
    assert main(["areas", COSINE, "--json", "--points", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schedule"] == COSINE and len(data["rows"]) == 3
    s1, _ = lf.areas(lf.schedules.parse(COSINE), decay=0.999, warmup_steps=2160)
    assert data["rows"][-1]["S1"] == pytest.approx(s1[-1], rel=1e-12)


def test_fit_predict_roundtrip(tmp_path, capsys):
    import numpy as np
    from lawfit import cli, datasets

    c = datasets.multipower_curve("cosine_24000")
    log = tmp_path / "run.csv"
    rows = (f"{s},{float(v)!r}" for s, v in zip(c.steps, c.loss, strict=True))
    log.write_text("step,loss\n" + "\n".join(rows))
    spec = "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"
    out = tmp_path / "fit.json"
    assert cli.main(["fit", str(log), "--schedule", spec, "-o", str(out)]) == 0
    assert "Variables" in capsys.readouterr().out
    pred_csv = tmp_path / "pred.csv"
    assert cli.main(["predict", str(out), "--schedule", spec, "--every", "1000", "-o", str(pred_csv),
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["steps"][-1] == 24000
    assert abs(data["loss"][-1] - c.loss[-1]) / c.loss[-1] < 0.01
    rows = pred_csv.read_text().splitlines()
    assert rows[0] == "step,lr,loss" and len(rows) == 25
    assert np.isfinite(float(rows[-1].split(",")[2]))


def test_fit_bad_input_exit_2(tmp_path, capsys):
    from lawfit import cli

    log = tmp_path / "run.csv"
    log.write_text("step,loss\n1,3.0\n")
    assert cli.main(["fit", str(log)]) == 2
    assert "schedule" in capsys.readouterr().err
