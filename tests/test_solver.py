"""lawfit.least_squares on Python callables: agrees with scipy, passes exceptions through."""

import lawfit as lf
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lawfit.solver import least_squares
from scipy.optimize import least_squares as scipy_ls

X = np.linspace(0, 4, 80)


def exp_resid(q, y):
    return q[0] * np.exp(-q[1] * X) + q[2] - y


def exp_jac(q, y):
    e = np.exp(-q[1] * X)
    return np.column_stack([e, -q[0] * X * e, np.ones_like(X)])


@example(a=2.375, b=0.21875, c=1.0, seed=0, loss="linear", with_jac=False)  # once led LM into a flat valley
@example(a=0.5, b=0.25, c=-0.75, seed=1, loss="cauchy", with_jac=False)  # flat valley before the trust radius
@settings(max_examples=25, deadline=None, derandomize=True)  # reproducible CI; known miss below
@given(
    a=st.floats(0.5, 3),
    b=st.floats(0.2, 2),
    c=st.floats(-1, 1),
    seed=st.integers(0, 1000),
    loss=st.sampled_from(["linear", "huber", "soft_l1", "cauchy"]),
    with_jac=st.booleans(),
)
def test_matches_scipy_objective(a, b, c, seed, loss, with_jac):
    rng = np.random.default_rng(seed)
    y = a * np.exp(-b * X) + c + 0.02 * rng.standard_normal(X.size)
    y[::17] += 0.5  # outliers
    x0 = [1.0, 1.0, 0.0]
    ref = scipy_ls(
        exp_resid,
        x0,
        jac=exp_jac,
        loss=loss,
        f_scale=0.05,
        args=(y,),
        ftol=1e-12,
        xtol=1e-12,
        gtol=1e-12,
        method="trf",
    )
    got = least_squares(exp_resid, x0, jac=exp_jac if with_jac else None, loss=loss, f_scale=0.05, args=(y,))
    assert got.cost <= ref.cost * (1 + 1e-7) + 1e-15


def test_exceptions_pass_through_unchanged():
    class Boom(Exception):
        pass

    def bad(q):
        raise Boom("from user code")

    with pytest.raises(Boom, match="from user code"):
        least_squares(bad, [1.0])

    calls = {"n": 0}

    def later(q):
        calls["n"] += 1
        if calls["n"] > 3:
            raise Boom("later")
        return np.array([q[0] - 1.0, q[0] + 1.0])

    with pytest.raises(Boom, match="later"):
        least_squares(later, [5.0])


def test_bounds_fixed_and_shape_errors():
    y = 2.0 * np.exp(-1.3 * X) + 0.5
    res = least_squares(
        exp_resid, [1, 1, 0], args=(y,), bounds=([0, 0, -1], [10, 10, 0.3]), fixed=[True, False, False]
    )
    assert res.x[0] == 1.0 and res.x[2] <= 0.3
    with pytest.raises(lf.LawfitInputError, match="expected 240"):
        least_squares(exp_resid, [1, 1, 0], jac=lambda q, y: np.ones(5), args=(y,))


@pytest.mark.xfail(strict=True, reason="known: Cauchy loss without a Jacobian walks into the b -> 0 valley "
                   "(a*exp(-b*x) + c ~ linear) and stops at cost 0.0605 where scipy's trf reaches 0.0375; "
                   "found by hypothesis in session 5, also in the session-4 build")
def test_known_miss_cauchy_flat_valley_without_jacobian():
    rng = np.random.default_rng(1)
    y = 0.5 * np.exp(-0.5 * X) - 1.0 + 0.02 * rng.standard_normal(X.size)
    y[::17] += 0.5
    ref = scipy_ls(exp_resid, [1.0, 1.0, 0.0], jac=exp_jac, loss="cauchy", f_scale=0.05, args=(y,),
                   ftol=1e-12, xtol=1e-12, gtol=1e-12, method="trf")
    got = least_squares(exp_resid, [1.0, 1.0, 0.0], loss="cauchy", f_scale=0.05, args=(y,))
    assert got.cost <= ref.cost * (1 + 1e-7) + 1e-15
