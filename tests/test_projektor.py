"""projektor (spec §10): stage-2 extrapolation, stage-1 regression, simplex projection, mixture
selection, and the POT-based Sinkhorn divergence when POT is installed."""

import itertools
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from lawfit import LawfitInputError
from lawfit.tasks.projektor import (
    Projektor,
    Stage1Model,
    extrapolate,
    fit_stage1,
    project_simplex,
    projected_gradient,
    select_mixture,
)


def test_spec_check_stage2():
    """Spec §10 check: L̂(1000) = 0.60, L̂(1500) = 0.65 → L̂(10000) = 0.88394."""
    assert round(extrapolate(10_000, 1000, 0.60, 1500, 0.65), 5) == 0.88394
    assert extrapolate(1000, 1000, 0.60, 1500, 0.65) == pytest.approx(0.60)
    assert extrapolate(1500, 1000, 0.60, 1500, 0.65) == pytest.approx(0.65)
    got = extrapolate(np.array([1000.0, 10_000.0]), 1000, np.array([0.6, 0.6]), 1500, np.array([0.65, 0.65]))
    np.testing.assert_allclose(got, [0.60, 0.8839436793633796])
    with pytest.raises(LawfitInputError, match="n0"):
        extrapolate(10, 5, 0.1, 5, 0.2)


def _brute_projection(v):
    """Exact projection by enumerating supports: on a support S the projection onto the affine
    hull of the face is v_S − (Σv_S − 1)/|S|; the nearest feasible candidate is the answer."""
    k = v.size
    best, best_d = None, np.inf
    for size in range(1, k + 1):
        for supp in itertools.combinations(range(k), size):
            s = list(supp)
            x = np.zeros(k)
            x[s] = v[s] - (v[s].sum() - 1.0) / size
            if (x >= -1e-12).all():
                d = np.sum((x - v) ** 2)
                if d < best_d:
                    best, best_d = x, d
    return best


@given(hnp.arrays(np.float64, st.integers(1, 6), elements=st.floats(-5, 5)))
def test_simplex_projection_is_the_nearest_simplex_point(v):
    x = project_simplex(v)
    assert np.all(x >= 0) and x.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(x, _brute_projection(v), atol=1e-9)
    np.testing.assert_allclose(project_simplex(x), x, atol=1e-12)  # idempotent


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 5)), elements=st.floats(-3, 3)),
       st.floats(0.1, 10))
def test_simplex_projection_rows_and_radius(v, radius):
    x = project_simplex(v, radius=radius)
    np.testing.assert_allclose(x.sum(axis=1), radius, rtol=1e-12)
    for row, xr in zip(v, x, strict=True):
        np.testing.assert_allclose(xr, radius * _brute_projection(row / radius), atol=1e-9)


def _pilot(k=3, m=40, per_source=False, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k), size=m)
    ot = rng.uniform(0.2, 2.0, m)
    n_coef = 6 * k if per_source else 6
    coef = rng.normal(size=n_coef)
    truth = Stage1Model(coef=coef, names=[], n_sources=k, per_source=per_source)
    return p, ot, truth.predict(p, ot), truth


@pytest.mark.parametrize("per_source", [False, True])
def test_stage1_fit_reproduces_the_model(per_source):
    p, ot, perf, truth = _pilot(per_source=per_source)
    model = fit_stage1(p, ot, perf, per_source=per_source)
    assert model.r2 == pytest.approx(1.0, abs=1e-10)
    assert model.rank < model.coef.size  # some coefficients are not identifiable on the simplex
    q, o = np.array([0.1, 0.3, 0.6]), 0.7
    assert model.predict(q, o) == pytest.approx(truth.predict(q, o), abs=1e-9)
    # analytic gradient against central differences
    gp, go = model.gradient(q, o)
    h = 1e-6
    for j in range(3):
        e = np.eye(3)[j] * h
        assert gp[j] == pytest.approx((model.predict(q + e, o) - model.predict(q - e, o)) / (2 * h), abs=1e-6)
    assert go == pytest.approx((model.predict(q, o + h) - model.predict(q, o - h)) / (2 * h), abs=1e-6)


def test_shared_model_matches_the_spec_formula():
    coef = np.array([0.3, -0.2, 0.1, 0.5, 0.05, -0.02])
    m = Stage1Model(coef=coef, names=[], n_sources=3, per_source=False)
    p, ot = np.array([0.2, 0.3, 0.5]), 1.3
    b2, b1, b0, c2, c1, c0 = coef
    want = sum((b2 * pj**2 + b1 * pj + b0) * ot + (c2 * pj**2 + c1 * pj + c0) for pj in p)
    assert m.predict(p, ot) == pytest.approx(want)


def test_projektor_combines_two_sizes_by_stage2():
    p, ot, perf, _ = _pilot(seed=1)
    m0 = fit_stage1(p, ot, perf)
    m1 = fit_stage1(p, ot, perf + 0.05 + 0.01 * ot)
    proj = Projektor(m0, m1, n0=1000, n1=1500)
    q, o = np.array([0.5, 0.25, 0.25]), 0.9
    want = extrapolate(10_000, 1000, m0.predict(q, o), 1500, m1.predict(q, o))
    assert proj.predict(q, o, 10_000) == pytest.approx(want, abs=1e-12)


def _quadratic_ot(target):
    def ot_fn(p):
        d = p - target
        return float(d @ d), 2 * d

    return ot_fn


@pytest.mark.parametrize("target", [[0.2, 0.5, 0.3], [0.9, 0.6, -0.3]])
def test_select_mixture_maximises_predicted_performance(target):
    """perf = −OT (shared b0 = −1/k) with OT = ‖p − q‖²: the best mixture is the projection of q."""
    target = np.array(target)
    model = Stage1Model(coef=np.array([0, 0, -1 / 3, 0, 0, 0.0]), names=[], n_sources=3, per_source=False)
    res = select_mixture(model, _quadratic_ot(target))
    assert res.converged
    np.testing.assert_allclose(res.p, project_simplex(target), atol=1e-6)
    assert res.history == sorted(res.history)  # ascent never goes down
    # a loss-like model minimised: same optimum
    loss = Stage1Model(coef=np.array([0, 0, 1 / 3, 0, 0, 0.0]), names=[], n_sources=3, per_source=False)
    np.testing.assert_allclose(select_mixture(loss, _quadratic_ot(target), maximize=False).p,
                               project_simplex(target), atol=1e-6)


def test_projected_gradient_matches_a_grid_search():
    a = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 3.0]])
    b = np.array([0.4, 1.2, -0.5])

    def f(p):
        return float(b @ p - 0.5 * p @ a @ p), b - a @ p

    res = projected_gradient(f, [1 / 3, 1 / 3, 1 / 3])
    grid = np.linspace(0, 1, 401)
    pts = np.array([(x, y, 1 - x - y) for x in grid for y in grid if x + y <= 1 + 1e-12])
    vals = pts @ b - 0.5 * np.einsum("ij,jk,ik->i", pts, a, pts)
    assert res.value >= vals.max() - 1e-9
    np.testing.assert_allclose(res.p, pts[np.argmax(vals)], atol=5e-3)


def test_missing_pot_names_the_extra(monkeypatch):
    from lawfit.tasks.projektor import SinkhornDivergence

    monkeypatch.setitem(sys.modules, "ot", None)
    with pytest.raises(ImportError, match=r"lawfit\[projektor\]"):
        SinkhornDivergence([np.zeros((2, 2))], np.zeros((2, 2)))


def test_sinkhorn_divergence_value_and_gradient():
    from lawfit.tasks.projektor import SinkhornDivergence

    rng = np.random.default_rng(0)
    sources = [rng.normal(size=(25, 2)) + [2.0 * j, 0.0] for j in range(3)]
    val = rng.normal(size=(30, 2)) + [1.0, 0.0]
    div = SinkhornDivergence(sources, val, reg=0.1)
    p = np.array([0.2, 0.5, 0.3])
    v, g = div(p)
    assert v > 0
    h = 1e-5
    for e in (np.array([1.0, -1.0, 0.0]), np.array([0.0, 1.0, -1.0])):
        fd = (div(p + h * e)[0] - div(p - h * e)[0]) / (2 * h)
        assert g @ e == pytest.approx(fd, rel=1e-4, abs=1e-7)
    # the debiased divergence vanishes when the mixture is the validation set itself
    same = SinkhornDivergence([val, sources[0]], val, reg=0.1)
    assert abs(same(np.array([1.0, 0.0]))[0]) < 1e-8
    # mixture selection: the validation set sits between sources 0 and 1, far from source 2
    model = Stage1Model(coef=np.array([0, 0, -1 / 3, 0, 0, 0.0]), names=[], n_sources=3, per_source=False)
    res = select_mixture(model, div, tol=1e-6)
    assert res.p[2] < 0.02 and 0.3 < res.p[0] < 0.7
    grid = [np.array([i, j, 10 - i - j]) / 10 for i in range(11) for j in range(11 - i)]
    assert res.value >= max(-div(q)[0] for q in grid) - 1e-9
