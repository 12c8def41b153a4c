"""The laws' public Jacobians (``predict_with_jacobian`` / ``jacobian``) and ``fit(trace=...)``."""

from __future__ import annotations

import warnings

import lawfit as lf
import numpy as np
import pytest
from synthetic import synthetic_curves

FSL = {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}
CONVEX = {"C": 2.4, "D": 0.8, "G": 3.0}
MPL = {"L0": 2.37, "A": 0.65, "alpha": 0.43, "B": 523.0, "C": 2.02, "beta": 0.59, "gamma": 0.63}


def _laws():
    return [
        pytest.param(lf.MultiPowerLaw(), MPL, id="multipower"),
        pytest.param(lf.MultiPowerLaw(exact=True), MPL, id="multipower-exact"),
        pytest.param(lf.FunctionalScalingLaw(), FSL, id="fsl"),
        pytest.param(lf.ConvexBoundLaw(), CONVEX, id="convex-bound"),
    ]


@pytest.mark.parametrize(("law", "params"), _laws())
def test_jacobian_matches_central_differences(law, params):
    curves = synthetic_curves(lf.FunctionalScalingLaw(), FSL, ("cosine", "step"))
    pred, jac = law.predict_with_jacobian(params, curves)
    n = sum(c.steps.size for c in curves)
    assert pred.shape == (n,) and jac.shape == (n, len(law.param_names))
    np.testing.assert_array_equal(pred, law.predict_curves(params, curves))
    np.testing.assert_array_equal(jac, law.jacobian(params, curves))
    for j, k in enumerate(law.param_names):
        h = 1e-6 * max(abs(params[k]), 1e-3)
        up = law.predict_curves({**params, k: params[k] + h}, curves)
        down = law.predict_curves({**params, k: params[k] - h}, curves)
        fd = (up - down) / (2 * h)
        scale = max(float(np.abs(fd).max()), 1e-12)
        assert float(np.abs(jac[:, j] - fd).max()) <= 1e-5 * scale, k


def test_jacobian_of_a_law_without_one_says_which_laws_have_it():
    curves = synthetic_curves(lf.FunctionalScalingLaw(), FSL, ("cosine",))
    with pytest.raises(lf.LawfitInputError, match="MultiPowerLaw"):
        lf.MomentumLaw().jacobian({"L0": 2.6, "A": 0.43, "alpha": 0.55, "C": 0.41}, curves)


def test_trace_reports_every_solver_stage_and_changes_nothing():
    curves = synthetic_curves(lf.FunctionalScalingLaw(), FSL, ("cosine", "step"))
    stages: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = lf.fit(lf.FunctionalScalingLaw(), curves)
        traced = lf.fit(lf.FunctionalScalingLaw(), curves, trace=stages.append)
    assert traced.params == plain.params
    assert len(stages) >= 1
    last = stages[-1]
    assert last["solver"] == "fit_fsl"
    assert last["points"] == sum(c.steps.size for c in curves)
    assert last["steps"] == max(c.lr.size for c in curves)
    assert last["cost"] == pytest.approx(traced.metrics["cost"])
    assert sum(s["n_evals"] for s in stages) >= traced.metrics["n_evals"]
    for s in stages:
        assert s["wall"] >= 0 and s["cpu"] >= 0 and s["starts"] >= 1 and isinstance(s["success"], bool)


def test_trace_of_auto_reports_every_candidates_solver():
    curves = synthetic_curves(lf.FunctionalScalingLaw(), FSL, ("cosine", "step"))
    stages: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lf.fit(lf.AutoLaw(candidates=("momentum", "fsl")), curves, trace=stages.append)
    assert {s["solver"] for s in stages} >= {"fit_momentum", "fit_fsl"}


def test_trace_of_a_prior_fit_and_a_point_fit():
    x = np.geomspace(1, 1e4, 40)
    y = 2.0 * x**-0.5 + 0.3
    stages: list[dict] = []
    lf.fit(lf.PowerLaw(), x=x, y=y, trace=stages.append)
    assert [s["solver"] for s in stages] == ["fit_power_law"] and stages[0]["points"] == 40
    stages.clear()
    rng = np.random.default_rng(0)
    lf.fit(lf.PowerLaw(), x=x, y=y + rng.normal(0, 1e-3, x.size), prior={"c": (0.3, 0.01)},
           trace=stages.append)
    assert len(stages) == 2  # the unpenalised fit, then the MAP refit


def test_trace_must_be_callable():
    x = np.geomspace(1, 1e4, 40)
    with pytest.raises(lf.LawfitTypeError, match="trace"):
        lf.fit(lf.PowerLaw(), x=x, y=2.0 * x**-0.5 + 0.3, trace="stages")
