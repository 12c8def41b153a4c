"""lawfit.testing strategies produce valid objects, and the laws behave on them."""

import warnings

import lawfit as lf
import lawfit.testing as lft
import numpy as np
from hypothesis import given, settings


@given(lft.schedules(max_steps=3000))
def test_schedules_are_valid_and_areas_monotone(s):
    assert s.lr.shape == (s.total_steps,)
    assert np.all(np.isfinite(s.lr)) and np.all(s.lr >= 0)
    s1, s2 = lf.areas(s, warmup="actual")
    assert np.all(np.diff(s1) >= 0)
    assert np.all(np.isfinite(s2))


@settings(max_examples=20)
@given(lft.curves(lf.MomentumLaw(), noise=0.0, max_steps=3000))
def test_noise_free_curves_fit_exactly(curve_and_params):
    curve, params = curve_and_params
    if len(curve) < 8:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.ConvergenceWarning)  # C is unidentified without annealing
        fit = lf.fit(lf.MomentumLaw(), curve, loss="linear", progress=False)
    pred = fit.law.predict_curves(fit.params, [curve])
    # A noise-free curve is fitted to (near) machine precision, whether or not C is identifiable.
    assert np.max(np.abs(pred - curve.loss) / curve.loss) < 1e-6


@given(lft.law_params(lf.MomentumLawN()))
def test_law_params_within_bounds(params):
    for k, (lo, hi) in lf.MomentumLawN().bounds().items():
        assert lo <= params[k] <= hi
