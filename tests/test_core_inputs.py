"""The curve laws' inputs at the binding: ``_core.Curves`` and the law options, validated once."""

from __future__ import annotations

import numpy as np
import pytest
from lawfit import LawfitInputError, _core

LR = np.full(50, 1e-3)
MOMENTUM = [3.0, 2.0, 0.5, 0.1]


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: _core.Curves([LR, LR], [np.arange(1, 51)]), "one step array per schedule"),
        (lambda: _core.Curves([LR], [np.arange(1, 51)], [0, 0]), "one warmup each"),
        (lambda: _core.Curves([LR], [np.array([0, 5])]), r"steps\[0\]\[0\] is 0; steps are 1-based"),
        (lambda: _core.Curves([LR], [np.array([5, 51])]), r"steps\[0\]\[1\] is 51, out of range"),
        (lambda: _core.Curves.from_indices([LR], [np.array([-1])]), "indices must be non-negative"),
        (lambda: _core.Curves.from_indices([LR], [np.array([50])]), "out of range"),
        (lambda: _core.MomentumOptions(warmup="nope"), "warmup"),
        (lambda: _core.MomentumOptions(decay=1.5), "decay must lie in"),
        (lambda: _core.MomentumOptions(decay=float("nan")), "decay must lie in"),
        (lambda: _core.MomentumOptions(zeta=float("inf")), "zeta must be finite"),
        (lambda: _core.MultiPowerOptions(s1_form="nope"), "s1_form"),
        (lambda: _core.ConvexBoundOptions(g_model="nope"), "g_model"),
    ],
)
def test_bad_inputs_are_rejected_on_construction(build, match):
    with pytest.raises(LawfitInputError, match=match):
        build()


def test_curves_count_points_and_accept_sequences():
    curves = _core.Curves([LR, LR.tolist()], [np.arange(1, 51), [10, 20, 30]], [5, 0])
    assert len(curves) == 2
    assert curves.n_points == 53
    assert curves.n_points == _core.Curves.from_indices([LR, LR], [np.arange(50), [9, 19, 29]]).n_points


def test_every_step_and_logged_steps_predict_alike():
    """A per-step log (streamed, nothing stored) and a subset of its steps give the same values."""
    lr = np.concatenate([np.linspace(1e-4, 1e-3, 10), np.full(60, 1e-3), np.linspace(1e-3, 1e-5, 30)])
    law = _core.MomentumOptions(decay=0.99)
    every = _core.predict_momentum(_core.Curves([lr], [np.arange(1, lr.size + 1)], [10]), MOMENTUM, law=law)
    steps = np.array([1, 7, 40, 99, 100])
    some = _core.predict_momentum(_core.Curves([lr], [steps], [10]), MOMENTUM, law=law)
    np.testing.assert_allclose(some, every[steps - 1], rtol=1e-12)
    # The 1-based and 0-based constructors describe the same curves.
    by_index = _core.predict_momentum(_core.Curves.from_indices([lr], [steps - 1], [10]), MOMENTUM, law=law)
    np.testing.assert_array_equal(by_index, some)


def test_the_n_extended_law_rejects_fitted_decay_or_zeta():
    curves = _core.Curves([LR], [np.arange(1, 51)])
    params = [3.0, 2.0, 0.5, 1.0, 0.3, 0.1, 0.0]
    ok = _core.predict_momentum_n(curves, [1e8], params, law=_core.MomentumOptions())
    assert ok.shape == (50,) and np.all(np.isfinite(ok))
    for law in (_core.MomentumOptions(fit_decay=True), _core.MomentumOptions(zeta=0.5)):
        with pytest.raises(LawfitInputError, match="fits neither decay nor zeta"):
            _core.predict_momentum_n(curves, [1e8], params, law=law)


def test_curves_see_the_lr_values_of_the_borrowed_array():
    """The LR array is borrowed, not copied: new values in it are what the next call uses."""
    lr = np.full(20, 1e-3)
    curves = _core.Curves([lr], [np.arange(1, 21)])
    law = _core.MomentumOptions()
    before = _core.predict_momentum(curves, MOMENTUM, law=law)
    lr[10:] = 1e-4
    after = _core.predict_momentum(curves, MOMENTUM, law=law)
    assert np.array_equal(before[:10], after[:10]) and not np.allclose(before[10:], after[10:])


def test_warm_start_is_a_solver_option():
    kw = dict(loss="linear", delta=1.0, lower=[0.0], upper=[1.0], fixed=[False], ftol=1e-8, xtol=1e-8,
              gtol=1e-8, max_evals=100)
    assert "warm_start=true" in repr(_core.SolverOptions(**kw, warm_start=True))
    assert "warm_start=false" in repr(_core.SolverOptions(**kw))
