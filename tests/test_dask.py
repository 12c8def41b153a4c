"""lawfit.dask on a real 2-worker LocalCluster (processes): results equal serial fits bit for bit,
failures become rows, dask arrays map onto the Rust batch fit; and the `lawfit sweep` command."""

from __future__ import annotations

import logging
import math

import lawfit as lf
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster
from lawfit.cli import main
from lawfit.dask import fit_many, fit_runs
from sweep_data import synthetic_runs, write_log

STEPS = 3000
LAW = lf.MomentumLaw()


@pytest.fixture(scope="module")
def client():
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def runs():
    return synthetic_runs(9, STEPS, seed=11)


def _serial_row(curves, name):
    res = lf.fit(LAW, curves)
    return {"name": name, **res.params, **{f"stderr_{k}": v for k, v in res.stderr.items()},
            **res.metrics, "success": res.success, "message": res.message}


def _assert_rows_equal(table: pd.DataFrame, expected: list[dict]):
    assert len(table) == len(expected)
    for (_, row), exp in zip(table.iterrows(), expected, strict=True):
        for key, value in exp.items():
            got = row[key]
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(got), key
            else:
                assert got == value, (exp["name"], key, got, value)  # bit for bit


def test_cluster_has_two_worker_processes(client):
    info = client.scheduler_info()["workers"]
    assert len(info) == 2
    pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2


def test_fit_runs_on_the_cluster_equals_serial_fits(client, runs, tmp_path):
    path = tmp_path / "run_from_disk.csv"
    write_log(runs[0], path)
    sweep = [*runs, [runs[0], runs[1]], str(path)]
    table = fit_runs(sweep, LAW, client=client, batch_size=2)
    expected = [_serial_row(c, c.name) for c in runs]
    expected.append(_serial_row([runs[0], runs[1]], "run0000+run0001"))
    expected.append(_serial_row(lf.read_log(path), str(path)))
    _assert_rows_equal(table, expected)
    assert (table["error"] == "").all() and table["success"].all()
    # The path was read on a worker: same data, same fit as the curve itself.
    assert table.iloc[-1]["L0"] == table.iloc[0]["L0"]


def test_same_table_locally_and_on_the_cluster_for_any_batch_size(client, runs):
    local = fit_runs(runs, LAW, max_evals=500)
    assert (local["seconds"] > 0).all()
    for batch_size in (None, 1, 4, 100):
        remote = fit_runs(runs, LAW, client=client, batch_size=batch_size, max_evals=500)
        assert (remote["seconds"] > 0).all()
        pd.testing.assert_frame_equal(remote.drop(columns="seconds"), local.drop(columns="seconds"),
                                      check_exact=True)


def test_failures_become_rows(client, runs, tmp_path):
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("step,lr,loss\n1,abc,def\n")
    short = lf.Curve([1, 2], [3.0, 2.9], np.full(2, 1e-3), name="too_short")
    sweep = {"good": runs[0], "missing": str(tmp_path / "nope.csv"), "garbage": str(garbage), "short": short}
    table = fit_runs(sweep, LAW, client=client)
    assert list(table["name"]) == ["good", "missing", "garbage", "short"]
    assert table.loc[0, "success"] and table.loc[0, "error"] == ""
    for i in (1, 2, 3):
        assert not table.loc[i, "success"]
        assert table.loc[i, "error"], table.loc[i].to_dict()
        assert all(math.isnan(table.loc[i, p]) for p in LAW.param_names)
    assert table.loc[1, "error"].startswith("FileNotFoundError")
    local = fit_runs(sweep, LAW)
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), local.drop(columns="seconds"),
                                  check_exact=True)


def test_fit_options_reach_every_fit(client, runs):
    table = fit_runs(runs[:3], LAW, client=client, fix={"alpha": 0.45}, loss="linear")
    assert (table["alpha"] == 0.45).all()
    for (_, row), c in zip(table.iterrows(), runs[:3], strict=True):
        assert row["L0"] == lf.fit(LAW, c, fix={"alpha": 0.45}, loss="linear").params["L0"]


def test_progress_callback_counts_every_run(client, runs):
    seen = []
    fit_runs(runs[:5], LAW, client=client, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5) and all(t == 5 for _, t in seen) and len(seen) == 3


def test_bad_arguments_raise():
    with pytest.raises(lf.LawfitTypeError, match=r"runs\[0\]"):
        fit_runs([42], LAW)
    with pytest.raises(lf.LawfitInputError, match="batch_size"):
        fit_runs([], LAW, batch_size=0)
    with pytest.raises(lf.LawfitInputError, match="unknown fit options"):
        fit_runs([], LAW, tolerance=1)
    assert len(fit_runs([], LAW)) == 0


def _power_rows(n_fits: int, n_points: int = 40):
    rng = np.random.default_rng(5)
    x = np.logspace(6, 9, n_points)
    b = rng.uniform(0.2, 0.5, n_fits)[:, None]
    y = 3.0 * (x / 1e6) ** -b + 0.8 + 1e-3 * rng.standard_normal((n_fits, n_points))
    return x, y


@pytest.mark.parametrize("on_cluster", [False, True])
def test_fit_many_on_a_dask_array_equals_the_numpy_batch(client, on_cluster):
    da = pytest.importorskip("dask.array")
    x, y = _power_rows(50)
    ref = lf.fit_many(lf.PowerLaw(), x, y)
    got = fit_many(lf.PowerLaw(), x, da.from_array(y, chunks=(17, 20)), client=client if on_cluster else None)
    assert len(got) == 50
    for name in ref.params:
        np.testing.assert_array_equal(got.params[name], ref.params[name])
    for field in ("success", "cost", "status", "n_points", "n_evals"):
        np.testing.assert_array_equal(getattr(got, field), getattr(ref, field))
    # Per-row x as a dask array, and per-fit starts, split by the same row chunks.
    X = np.tile(x, (50, 1))
    starts = np.column_stack([np.full(50, 3.0), np.full(50, 0.3), np.full(50, 0.8)])
    ref2 = lf.fit_many(lf.PowerLaw(), X, y, starts=starts)
    got2 = fit_many(lf.PowerLaw(), da.from_array(X, chunks=(10, 40)), da.from_array(y, chunks=(25, 40)),
                    starts=starts, client=client if on_cluster else None)
    for name in ref2.params:
        np.testing.assert_array_equal(got2.params[name], ref2.params[name])


def test_fit_many_rejects_mismatched_shapes():
    da = pytest.importorskip("dask.array")
    x, y = _power_rows(6)
    with pytest.raises(lf.LawfitInputError, match="must match"):
        fit_many(lf.PowerLaw(), da.from_array(np.tile(x, (5, 1))), da.from_array(y))
    with pytest.raises(lf.LawfitInputError, match="2-D"):
        fit_many(lf.PowerLaw(), x, da.from_array(y[0]))


def test_cli_sweep_serial_and_on_workers(runs, tmp_path, capsys):
    paths = []
    for c in runs[:4]:
        p = tmp_path / f"{c.name}.csv"
        write_log(c, p)
        paths.append(str(p))
    out_serial = tmp_path / "serial.csv"
    assert main(["sweep", *paths, "--law", "momentum", "-o", str(out_serial)]) == 0
    assert "4/4" in capsys.readouterr().out
    out_workers = tmp_path / "workers.csv"
    assert main(["sweep", *paths, "-o", str(out_workers), "--workers", "2"]) == 0
    serial = pd.read_csv(out_serial, keep_default_na=False)
    workers = pd.read_csv(out_workers, keep_default_na=False)
    pd.testing.assert_frame_equal(serial.drop(columns="seconds"), workers.drop(columns="seconds"),
                                  check_exact=True)
    assert list(serial["name"]) == paths
    for (_, row), c in zip(serial.iterrows(), runs[:4], strict=True):
        # CSV keeps 17 significant digits: the floats survive exactly.
        assert row["L0"] == lf.fit(LAW, c).params["L0"]


def test_cli_sweep_on_a_scheduler_address(client, runs, tmp_path):
    p = tmp_path / "one.csv"
    write_log(runs[2], p)
    bad = tmp_path / "bad.csv"
    bad.write_text("not a log\n")
    out = tmp_path / "r.csv"
    code = main(["sweep", str(p), str(bad), "-o", str(out), "--scheduler", client.scheduler.address])
    assert code == 1  # one run failed: its row says why
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table["success"]) == [True, False] and table.loc[1, "error"]
