"""A parameter that ends on a bound is named in a BoundWarning, in options["on_bound"] and in report(),
for curve laws and point laws alike (issue 14)."""

from __future__ import annotations

import warnings

import lawfit as lf
import numpy as np
import pytest
from lawfit import BoundWarning
from lawfit._stats import bound_hits


def _momentum_curve() -> lf.Curve:
    lr = np.full(2000, 1e-3)
    lr[1000:] = np.linspace(1e-3, 1e-4, 1000)
    steps = np.arange(10, 2001, 10)
    law = lf.MomentumLaw()
    loss = law.predict({"L0": 2.0, "A": 1.0, "alpha": 0.5, "C": 0.5}, lr, steps)
    return lf.Curve(steps, loss, lr, name="synthetic")


def test_bound_hits_finds_lower_and_upper_and_skips_fixed():
    names = ("a", "b", "c", "d")
    vec = np.array([0.0, 1.0, 0.5, 2.0])
    lower = np.array([0.0, 0.0, 0.0, 2.0])
    upper = np.array([np.inf, 1.0, 1.0, 3.0])
    assert bound_hits(names, vec, lower, upper, [False, False, False, True]) == {"a": "lower", "b": "upper"}
    assert bound_hits(names, vec + 1e-3, lower, upper, [False] * 4) == {}


def test_curve_fit_on_a_bound_warns_and_reports():
    curve = _momentum_curve()
    # The true alpha is 0.5: an upper bound of 0.3 must hold it there.
    with pytest.warns(BoundWarning, match=r"alpha = 0\.3 \(upper bound\)"):
        fit = lf.fit(lf.MomentumLaw(), curve, bounds={"alpha": (0.0, 0.3)})
    assert fit.options["on_bound"] == {"alpha": "upper"}
    line = next(s for s in fit.report().splitlines() if s.strip().startswith("alpha"))
    assert "at upper bound" in line


def test_interior_fit_does_not_warn():
    curve = _momentum_curve()
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundWarning)
        fit = lf.fit(lf.MomentumLaw(), curve)
    assert fit.options["on_bound"] == {}
    assert "bound" not in fit.report().split("[[Variables]]")[1]


def test_point_law_on_a_bound_warns():
    x = np.geomspace(1.0, 1e4, 40)
    y = 1.0 + 5.0 * x**-0.6
    with pytest.warns(BoundWarning, match=r"b = 0\.4 \(upper bound\)"):
        fit = lf.fit(lf.PowerLaw(), x=x, y=y, bounds={"b": (0.0, 0.4)})
    assert fit.options["on_bound"] == {"b": "upper"}
    assert "at upper bound" in next(s for s in fit.report().splitlines() if s.strip().startswith("b "))
