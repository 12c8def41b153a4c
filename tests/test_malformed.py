"""Random malformed input to every public entry point: a lawfit error with a message, or a valid
result — never a crash, a hang, or a Rust panic reaching Python."""

import warnings

import lawfit as lf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ERRORS = (lf.LawfitInputError, lf.LawfitTypeError)

weird_floats = st.sampled_from([np.nan, np.inf, -np.inf, -1.0, 0.0, 1e-300, 1e300, -1e-300, 5e-324, 3e-4])
element = st.one_of(weird_floats, st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6))


@st.composite
def arrays(draw, min_size=0, max_size=40):
    kind = draw(st.sampled_from(["list", "f64", "f32", "int", "strided", "2d", "str", "none", "bool", "obj"]))
    values = draw(st.lists(element, min_size=min_size, max_size=max_size))
    if kind == "list":
        return values
    if kind == "str":
        return [str(v) for v in values] or "abc"
    if kind == "none":
        return None
    if kind == "obj":
        return np.array([*values, "x"], dtype=object)
    arr = np.array(values, dtype=np.float64)
    if kind == "f32":
        with np.errstate(over="ignore"):
            return arr.astype(np.float32)
    if kind == "int":
        return np.nan_to_num(arr, posinf=7, neginf=-7).clip(-10, 10**6).astype(np.int64)
    if kind == "bool":
        return arr > 0
    if kind == "strided":
        return np.repeat(arr, 2)[::2]
    return arr.reshape(1, -1) if kind == "2d" else arr


def _check(call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except ERRORS as exc:
        assert str(exc), "errors must carry a message"
        return None


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    lr=arrays(),
    decay=st.one_of(weird_floats, st.floats(0, 1)),
    w=st.integers(-3, 50),
    mode=st.sampled_from(["as_peak", "actual", "exclude", "bogus"]),
)
def test_areas(lr, decay, w, mode):
    out = _check(lambda: lf.areas(lr, decay=decay, warmup_steps=w, warmup=mode))
    if out is not None:
        s1, s2 = out
        assert np.all(np.isfinite(s1)) and np.all(np.isfinite(s2))


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(steps=arrays(), loss=arrays(), lr=arrays(min_size=1), policy=st.sampled_from(["raise", "omit", "x"]))
def test_curve_and_fit(steps, loss, lr, policy):
    curve = _check(lambda: lf.Curve(steps, loss, lr, nan_policy=policy))
    if curve is None:
        return
    assert np.all(np.isfinite(curve.loss)) and np.all(np.diff(curve.steps) > 0)
    fit = _check(lambda: lf.fit(lf.MomentumLaw(), curve, max_evals=50, progress=False))
    if fit is not None:
        assert np.isfinite(fit.metrics["cost"]) or not fit.success


@settings(max_examples=150)
@given(
    params=st.dictionaries(st.sampled_from(["L0", "A", "alpha", "C", "zz"]), element, max_size=5),
    lr=arrays(min_size=1),
    steps=st.one_of(st.none(), arrays()),
)
def test_predict(params, lr, steps):
    out = _check(lambda: lf.MomentumLaw().predict(params, lr, steps))
    if out is not None:
        assert out.ndim == 1


@settings(max_examples=200)
@given(
    spec=st.one_of(
        st.text(max_size=80),
        st.sampled_from(
            [
                "cosine:total=-5,peak=3e-4",
                "wsd:total=10,peak=nan",
                "constant:total=1e400,peak=1",
                "cyclic:total=10,peak=1,cycles=0",
                "array:values=[1,2,nan]",
                "two_stage:total=5,peak=1,switch=9,second=1",
            ]
        ),
    )
)
def test_schedule_parse(spec):
    out = _check(lambda: lf.schedules.parse(spec))
    if out is not None:
        assert np.all(np.isfinite(out.lr)) and np.all(out.lr >= 0)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=2000), suffix=st.sampled_from([".json", ".csv", ".jsonl", ".tsv"]))
def test_files(tmp_path, blob, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(blob)
    if suffix == ".json":
        _check(lambda: lf.load_fit(path))
    else:
        _check(lambda: lf.read_log(path, schedule="constant:total=100,peak=1e-3"))


def test_absurd_magnitudes_do_not_crash():
    lr = np.full(100, 1e-300)
    c = lf.Curve(np.arange(1, 101), np.full(100, 1e300), np.full(100, 1e300))
    _check(lambda: lf.fit(lf.MomentumLaw(), c, progress=False))
    s1, s2 = lf.areas(lr)
    assert np.all(np.isfinite(s1))


def test_constant_data_warns_unidentifiable():
    lr = np.full(2000, 3e-4)
    c = lf.Curve(np.arange(100, 2001, 100), np.full(20, 3.0), lr)
    with pytest.warns(lf.ConvergenceWarning):
        fit = lf.fit(lf.MomentumLaw(), c, progress=False)
    assert any(np.isinf(v) or np.isnan(v) for v in fit.stderr.values())
