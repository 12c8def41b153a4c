"""The demo, bundled datasets and validate(): real data end to end."""

import json

import lawfit as lf
import numpy as np
import pytest
from lawfit import cli, datasets
from multipower_data import lawfit_curve


@pytest.mark.parametrize("name", sorted(datasets.MULTIPOWER_SPECS))
def test_bundled_curves_match_shared_data(name):
    bundled = datasets.multipower_curve(name)
    shared = lawfit_curve(400, name)
    np.testing.assert_array_equal(bundled.steps, shared.steps)
    np.testing.assert_array_equal(bundled.loss, shared.loss)
    np.testing.assert_allclose(bundled.lr, shared.lr, rtol=1e-14, atol=0)


def test_validate_reports_paper_metrics():
    train, test = datasets.multipower_split()
    val = lf.validate(lf.MomentumLaw(), train, test)
    assert len(val.rows) == 6
    c = test[0]
    pred = val.fits["momentum"].predict(c.lr, c.steps, warmup_steps=c.warmup_steps)
    rel = np.abs(pred - c.loss) / c.loss
    assert val.rows[0]["pred_e"] == pytest.approx(rel.mean(), rel=1e-12)
    assert val.rows[0]["worst_e"] == pytest.approx(rel.max(), rel=1e-12)
    assert val.summary["momentum"]["pred_e"] <= 0.0025


def test_demo_runs_and_writes_figure(tmp_path, capsys):
    png = tmp_path / "demo.png"
    assert cli.main(["demo", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "PredE" in out and "mean" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_json(capsys):
    assert cli.main(["demo", "--no-plot", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["momentum"]["pred_e"] < 0.01
    assert data["train"] == list(datasets.MULTIPOWER_TRAIN)


def test_tissue_bundled_reproduces_paper():
    fit = lf.fit(lf.MomentumLaw(warmup="as_peak"), datasets.tissue_fig2())
    assert abs(fit.params["alpha"] - 0.550) < 1e-3 and fit.metrics["r2"] >= 0.9996
