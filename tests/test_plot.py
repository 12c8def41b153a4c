"""Figures render to PNG (Agg)."""

import lawfit as lf
import pytest
from lawfit import datasets, plot

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fitted():
    train, test = datasets.multipower_split()
    return lf.fit(lf.MomentumLaw(), train), train, test


def test_fit_and_forecast_figures(tmp_path, fitted):
    result, train, test = fitted
    assert open(plot.fit_figure(result, train, tmp_path / "a.png"), "rb").read(8) == PNG
    assert (
        open(plot.forecast_figure({"momentum": result}, train, test, tmp_path / "b.png"), "rb").read(8) == PNG
    )


def test_schedules_and_areas_figures(tmp_path, fitted):
    result, _, _ = fitted
    scheds = [
        lf.schedules.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"),
        lf.schedules.parse("wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2"),
    ]
    out = plot.schedules_figure(result, scheds, tmp_path / "c.png")
    assert open(out, "rb").read(8) == PNG
    assert open(plot.areas_figure(scheds[1], tmp_path / "d.png"), "rb").read(8) == PNG
