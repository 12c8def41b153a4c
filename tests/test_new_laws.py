"""The functional scaling law and the convex-bound law against slow NumPy references; ``auto``."""

from __future__ import annotations

import warnings

import lawfit as lf
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lawfit import _core
from reference import convex_bound_reference, fsl_reference
from synthetic import synthetic_curves


def fsl_predict(lrs, indices, warmups, params, *, exact=False, gradients=False):
    """``_core.fsl_predict`` on schedules with 0-based logged indices and their warmups."""
    return _core.fsl_predict(_core.Curves.from_indices(lrs, indices, warmups), params, exact=exact,
                             gradients=gradients)


def convex_bound_predict(lrs, indices, params, *, g_model="constant", exact=False, gradients=False):
    """``_core.convex_bound_predict`` on schedules with 0-based logged indices."""
    return _core.convex_bound_predict(_core.Curves.from_indices(lrs, indices), params,
                                      law=_core.ConvexBoundOptions(g_model=g_model, exact=exact),
                                      gradients=gradients)


@st.composite
def schedules(draw, max_len: int = 200):
    """Piecewise schedules: constant pieces, linear/cosine decays, drops, re-warmups, zero steps."""
    n = draw(st.integers(20, max_len))
    peak = draw(st.floats(1e-4, 1e-1))
    lr = np.full(n, peak)
    pos = 0
    while pos < n:
        length = draw(st.integers(1, n))
        kind = draw(st.sampled_from(["flat", "linear", "cosine", "jump"]))
        seg = np.arange(min(length, n - pos))
        level = lr[pos - 1] if pos else peak
        frac = draw(st.floats(0.0, 1.2))
        target = peak * frac if frac >= 1e-3 else 0.0  # no subnormal learning rates
        if kind == "flat":
            lr[pos:pos + seg.size] = level
        elif kind == "linear":
            lr[pos:pos + seg.size] = level + (target - level) * (seg + 1) / seg.size
        elif kind == "cosine":
            wave = 1 + np.cos(np.pi * (seg + 1) / seg.size)
            lr[pos:pos + seg.size] = target + 0.5 * (level - target) * wave
        else:
            lr[pos:pos + seg.size] = target
        pos += seg.size
    lr = np.maximum(lr, 0.0)  # interpolation to 0 can round to -1e-18
    lr[0] = max(lr[0], peak * 1e-3)  # the first step trains
    return lr


def indices_of(data, n: int) -> np.ndarray:
    k = data.draw(st.integers(1, min(n, 25)))
    idx = np.unique(np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k))))
    return idx.astype(np.int64)


fsl_params = st.tuples(
    st.floats(0.5, 4.0), st.floats(0.0, 2.0), st.floats(0.0, 500.0), st.floats(0.0, 3.0),
    st.floats(0.0, 300.0), st.floats(0.0, 1.5), st.floats(0.01, 4.0),
)


@given(data=st.data(), params=fsl_params, exact=st.booleans())
def test_fsl_matches_reference(data, params, exact):
    lr = data.draw(schedules())
    idx = indices_of(data, lr.size)
    warmup = data.draw(st.integers(0, 5))
    got = np.asarray(fsl_predict([lr], [idx], [warmup], list(params), exact=exact))
    want = fsl_reference(lr, idx, warmup, params)
    # Fast path: |ΔLD| ≤ ~2e-9·Σ|d_i|(c3 + T_i^−s); the scale below bounds c2 times that sum.
    t = np.cumsum(lr)
    drops = np.abs(np.diff(lr))
    scale = params[2] * float(np.sum(drops * (params[3] + t[1:] ** (-params[5])))) + np.abs(want)
    np.testing.assert_array_less(np.abs(got - want), 1e-8 * scale + 1e-12)


@given(data=st.data(), params=fsl_params)
def test_fsl_gradients_match_central_differences(data, params):
    lr = data.draw(schedules(max_len=120))
    idx = indices_of(data, lr.size)
    x = np.array(params, dtype=float)
    x[4] = max(x[4], 1e-3)
    _, grad = fsl_predict([lr], [idx], [0], list(x), gradients=True)
    for j in range(7):
        h = 1e-6 * max(abs(x[j]), 1e-2)
        hi, lo = x.copy(), x.copy()
        hi[j] += h
        lo[j] -= max(min(h, lo[j] - 1e-9), 0) if j in (4, 6) and lo[j] - h <= 0 else h
        dlo = x[j] - lo[j]
        if dlo == 0:
            continue
        fd = (fsl_reference(lr, idx, 0, hi) - fsl_reference(lr, idx, 0, lo)) / (h + dlo)
        noise = 1e-13 * float(np.abs(fsl_reference(lr, idx, 0, x)).max()) / min(h, dlo)
        np.testing.assert_allclose(grad[:, j], fd, rtol=2e-4, atol=1e-6 * (1 + np.abs(fd).max()) + noise)


@given(data=st.data(), d=st.floats(0.0, 5.0), g=st.floats(0.0, 10.0), exact=st.booleans())
def test_convex_bound_constant_matches_reference(data, d, g, exact):
    lr = data.draw(schedules())
    idx = indices_of(data, lr.size)
    got = np.asarray(convex_bound_predict([lr], [idx], [0.3, d, g], exact=exact))
    want = 0.3 + convex_bound_reference(lr, idx, d, np.full(lr.size, g))
    np.testing.assert_allclose(got, want, rtol=1e-8)


@given(data=st.data(), p=st.tuples(st.floats(0, 3), st.floats(0, 3), st.floats(-0.05, 0.0), st.floats(0, 3),
                                   st.floats(-1.0, 1.0), st.floats(0, 3)))
def test_convex_bound_parametric_matches_reference_and_differences(data, p):
    lr = data.draw(schedules(max_len=120))
    idx = indices_of(data, lr.size)
    params = [0.1, *p]
    got, grad = convex_bound_predict([lr], [idx], params, g_model="parametric", gradients=True)

    def ref(q):
        t = np.arange(1, lr.size + 1, dtype=float)
        gt = q[2] * np.exp(q[3] * t) + q[4] * t ** q[5] + q[6]
        return q[0] + convex_bound_reference(lr, idx, q[1], gt)

    want = ref(params)
    np.testing.assert_allclose(got, want, rtol=1e-8)
    for j in range(7):
        h = 1e-6 * max(abs(params[j]), 1e-2)
        hi, lo = list(params), list(params)
        hi[j] += h
        lo[j] -= h
        fd = (ref(hi) - ref(lo)) / (2 * h)
        # Central differences are exact to second order; their rounding is ~1e-16·|value|/h.
        noise = 1e-13 * float(np.abs(want).max()) / h
        np.testing.assert_allclose(grad[:, j], fd, rtol=1e-4, atol=1e-7 * (1 + np.abs(fd).max()) + noise)


def test_long_schedule_is_linear_time():
    """A per-step log of 2e5 steps evaluates in one pass (the O(T²) reference would not finish)."""
    n = 200_000
    lr = 1e-3 * (0.1 + 0.45 * (1 + np.cos(np.pi * np.arange(n) / n)))
    idx = np.arange(n, dtype=np.int64)
    params = [2.5, 1.0, 300.0, 0.5, 5.0, 0.5, 0.6]
    fsl = np.asarray(fsl_predict([lr], [idx], [0], params))
    cb = np.asarray(convex_bound_predict([lr], [idx], [2.0, 1.0, 1.0]))
    sub = np.array([0, 999, 4999], dtype=np.int64)  # a few points the O(T²) references can afford
    np.testing.assert_allclose(fsl[sub], fsl_reference(lr, sub, 0, params), rtol=1e-9)
    np.testing.assert_allclose(cb[sub], 2.0 + convex_bound_reference(lr, sub, 1.0, np.ones(n)), rtol=1e-8)
    assert np.all(np.isfinite(fsl)) and np.all(np.isfinite(cb))


@pytest.mark.parametrize(
    ("law", "params"),
    [
        (lf.FunctionalScalingLaw(),
         {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}),
        (lf.ConvexBoundLaw(), {"C": 2.4, "D": 0.8, "G": 3.0}),
    ],
)
def test_fit_recovers_noise_free_curves_and_predicts(law, params):
    train = synthetic_curves(law, params, ("cosine", "step"))
    (test,) = synthetic_curves(law, params, ("wsd",))
    fit = lf.fit(law, train)
    pred = fit.predict(test.lr, test.steps)
    np.testing.assert_allclose(pred, test.loss, rtol=1e-4)


def test_fsl_fit_converges_in_the_constant_drop_weight_limit():
    """Curves of the c3 → ∞ limit (drop weights independent of T(i)): in (c2, c3) the solver crawled
    along c2·c3 = const until its budget ran out; in the solver coordinates it reaches θ's bound."""
    law = lf.FunctionalScalingLaw()
    params = {"L0": 2.5, "c1": 0.8, "c2": 6e-5, "c3": 1e6, "c4": 2.0, "s": 0.5, "gamma": 0.7}
    train = synthetic_curves(law, params, ("cosine", "step"))
    (test,) = synthetic_curves(law, params, ("wsd",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lf.fit(law, train)
    assert fit.success, fit.message
    assert fit.metrics["n_evals"] < 200
    assert fit.params["c3"] > 1e5  # the limit, not a compromise
    np.testing.assert_allclose(fit.predict(test.lr, test.steps), test.loss, rtol=1e-5)


def test_fsl_blocks_add_no_lr_change():
    """The coarse schedule of a warmup + constant run has no LR change after its warmup (a partial
    last block and the block holding the warmup's end would add one each), so the drop term is 0."""
    from lawfit.laws.fsl import block_curve

    lr = np.concatenate([np.linspace(1e-4, 1e-3, 7), np.full(996, 1e-3)])
    curve = lf.Curve(np.arange(20, 1004, 9), np.full(110, 3.0), lr, warmup_steps=7)
    blocked = block_curve(curve, 10)
    after = blocked.lr[blocked.warmup_steps - 1:]
    np.testing.assert_array_equal(after, np.full(after.size, after[0]))
    law = lf.FunctionalScalingLaw()
    p = {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}
    no_drop = law.predict_curves({**p, "c2": 0.0}, [blocked])
    np.testing.assert_allclose(law.predict_curves(p, [blocked]), no_drop, rtol=1e-12)


def test_names_and_auto_choose_the_generating_law(tmp_path):
    params = {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}
    curves = synthetic_curves(lf.FunctionalScalingLaw(), params)
    assert lf.fit("fsl", curves).law.name == "fsl"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        auto = lf.fit("auto", curves)
    info = auto.options["auto"]
    assert info["tests"] == ["loco", "horizon"]
    assert set(info["scores"]) == {"momentum", "multipower", "fsl", "convex-bound"}
    # The generating law beats the default on both held-out tests and predicts best.
    assert info["chosen"] == "fsl" == min(info["scores"], key=info["scores"].get)
    assert info["errors"]["fsl"]["loco"] < 1e-4 and info["errors"]["fsl"]["horizon"] < 1e-4
    path = tmp_path / "fit.json"
    auto.save(path)
    assert lf.load_fit(path).law.name == info["chosen"]
    single = lf.fit("auto", curves[:1])
    assert single.options["auto"]["tests"] == ["horizon"]
    assert single.options["auto"]["chosen"] == "fsl"
    short = lf.Curve(curves[0].steps[:10], curves[0].loss[:10], curves[0].lr)
    assert lf.fit("auto", short).options["auto"]["tests"] == ["train_cost"]
    with pytest.raises(lf.LawfitInputError, match="unknown law"):
        lf.fit("nope", curves)


def test_bad_input_is_rejected():
    lr = np.full(10, 1e-3)
    with pytest.raises(lf.LawfitInputError):
        fsl_predict([lr], [np.array([3, 3])], [0], [1.0] * 7)
    with pytest.raises(lf.LawfitInputError):
        fsl_predict([lr], [np.array([1])], [0], [1.0] * 6)
    with pytest.raises(lf.LawfitInputError):
        convex_bound_predict([np.zeros(5)], [np.array([2])], [1.0, 1.0, 1.0])
    with pytest.raises(lf.LawfitInputError):
        convex_bound_predict([lr], [np.array([2])], [1.0, 1.0, 1.0], g_model="nope")
    with pytest.raises(lf.LawfitInputError):
        lf.ConvexBoundLaw(g_model="linear")


def test_auto_choice_rule_keeps_the_default_unless_beaten_on_every_test():
    from lawfit.auto import choose

    order = ("momentum", "multipower", "fsl")
    one_test = {"momentum": {"loco": 2.0, "horizon": 1.0}, "multipower": {"loco": 1.0, "horizon": 1.1},
                "fsl": {"loco": 3.0, "horizon": 0.5}}
    assert choose(one_test, order)[0] == "momentum"
    both = {"momentum": {"loco": 2.0, "horizon": 1.0}, "multipower": {"loco": 1.0, "horizon": 0.9},
            "fsl": {"loco": 1.5, "horizon": 0.2}}
    best, scores = choose(both, order)
    assert best == "fsl" and scores == {"momentum": 1.5, "multipower": 0.95, "fsl": 0.85}
    # a candidate missing a test the default has cannot beat it
    assert choose({"momentum": {"loco": 2.0, "horizon": 1.0}, "fsl": {"loco": 0.1}}, order)[0] == "momentum"


def test_auto_accepts_weights_and_splits_them_per_curve():
    params = {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}
    curves = synthetic_curves(lf.FunctionalScalingLaw(), params)
    n = sum(c.steps.size for c in curves)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = lf.AutoLaw(candidates=("momentum", "fsl"))
        a = lf.fit(plain, curves)
        b = lf.fit(plain, curves, weights=np.full(n, 2.0))
    assert a.options["auto"]["chosen"] == b.options["auto"]["chosen"] == "fsl"
    for name in ("momentum", "fsl"):
        for test, err in a.options["auto"]["errors"][name].items():
            assert b.options["auto"]["errors"][name][test] == pytest.approx(err, rel=1e-3, abs=1e-7)
    with pytest.raises(lf.LawfitInputError, match="one per point"):
        lf.fit(plain, curves, weights=np.ones(n + 1))


def test_auto_survives_a_candidate_whose_held_out_predictions_are_not_finite(tmp_path):
    """A held-out fit that predicts NaN scores inf, is never chosen, and the fit file stays strict JSON."""
    from lawfit.auto import fit_auto

    params = {"L0": 2.5, "c1": 0.8, "c2": 200.0, "c3": 0.3, "c4": 2.0, "s": 0.5, "gamma": 0.7}
    curves = synthetic_curves(lf.FunctionalScalingLaw(), params)

    def broken_fsl_refits(law, data, **kw):
        out = lf.fit(law, data, **kw)
        if law.name == "fsl" and "starts" in kw:  # the held-out refits start from the full fit
            out.params = {k: float("nan") for k in out.params}
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_auto(lf.AutoLaw(candidates=("momentum", "fsl")), curves, broken_fsl_refits)
    info = res.options["auto"]
    assert info["chosen"] == "momentum"
    assert info["errors"]["fsl"] == {"loco": None, "horizon": None} and info["scores"]["fsl"] is None
    assert "inf" in res.report()
    res.save(tmp_path / "fit.json")
    assert lf.load_fit(tmp_path / "fit.json").options["auto"]["errors"]["fsl"]["loco"] is None
