"""LR schedule presets: shapes and edge values, spec round-trips, errors, and the published
multi-power-law LR columns."""

from __future__ import annotations

import math
import re
from pathlib import Path

import lawfit as lf
import numpy as np
import pytest
from datadir import DATA
from hypothesis import assume, given
from hypothesis import strategies as st
from lawfit import schedules as S

MULTIPOWER = DATA / "multipower"
W, PEAK, FINAL = 2160, 3e-4, 3e-5


def _shared(path: Path) -> Path:
    """Fail (never skip) when a test data file is missing."""
    if not path.exists():
        pytest.fail(f"test data not found at {path.resolve()}: tests/data ships with the repository")
    return path


def _roundtrip(s: lf.Schedule) -> None:
    t = S.parse(str(s))
    np.testing.assert_array_equal(t.lr, s.lr)
    assert t.lr.dtype == np.float64 and t.lr.shape == s.lr.shape
    assert str(t) == str(s)
    assert str(S.parse(str(t))) == str(t)
    assert t.warmup_steps == s.warmup_steps


# ---------------------------------------------------------------------------------------------
# presets: shapes and edge values


def test_schedule_object():
    s = S.cosine(100, 1e-3, warmup_steps=10)
    assert isinstance(s, lf.Schedule) and len(s) == 100 and s.total_steps == 100
    assert s.peak_lr == 1e-3 and s.warmup_steps == 10 and s.family == "cosine"
    assert str(s) == s.spec == "cosine:total=100,peak=0.001,warmup=10,final=0"
    assert "Schedule(spec=" in repr(s)
    with pytest.raises(ValueError):
        s.lr[0] = 1.0  # read-only: the spec must stay true
    s1, s2 = lf.areas(s, decay=0.9, warmup_steps=s.warmup_steps, warmup="actual")
    assert s1.shape == (100,) and s1[-1] == pytest.approx(s.lr.sum(), rel=1e-12)


def test_schedule_direct_construction_validates_and_copies():
    raw = np.array([1.0, 2.0, 3.0])
    s = lf.Schedule(raw, "custom", 1)
    raw[0] = 9.0
    assert s.lr[0] == 1.0 and not s.lr.flags.writeable
    with pytest.raises(lf.LawfitInputError, match=r"lr\[1\]"):
        lf.Schedule(np.array([1.0, -1.0]), "bad")
    with pytest.raises(lf.LawfitInputError, match="warmup_steps"):
        lf.Schedule(np.ones(3), "bad", 4)


@pytest.mark.parametrize("w", [0, 1, 2, 7])
def test_warmup_convention(w):
    s = S.constant(20, 2e-3, warmup_steps=w)
    np.testing.assert_array_equal(s.lr[:w], np.linspace(0.0, 2e-3, w))
    if w:
        assert s.lr[0] == 0.0
    if w >= 2:
        assert s.lr[w - 1] == 2e-3
    assert np.all(s.lr[w:] == 2e-3)
    init = S.constant(20, 2e-3, warmup_steps=w, warmup_init=5e-4)
    np.testing.assert_array_equal(init.lr[:w], np.linspace(5e-4, 2e-3, w))
    _roundtrip(init)


def test_warmup_equal_total():
    s = S.cosine(10, 1.0, warmup_steps=10, final_lr=0.1)
    np.testing.assert_array_equal(s.lr, np.linspace(0, 1, 10))
    _roundtrip(s)


def test_cosine_values():
    s = S.cosine(1010, 1e-3, warmup_steps=10, final_lr=1e-4)
    lr = s.lr
    assert lr[10] == 1e-3
    assert lr[10 + 500] == pytest.approx(0.5 * (1e-3 + 1e-4), rel=1e-15)
    assert np.all(np.diff(lr[10:]) <= 0)
    assert lr[-1] > 1e-4 and lr[-1] == pytest.approx(1e-4, rel=1e-4)
    k = np.arange(10, 1010)
    np.testing.assert_allclose(lr[10:], 1e-4 + 0.45e-3 * (1 + np.cos(np.pi * (k - 10) / 1000)), rtol=1e-14)


def test_linear_values():
    s = S.linear(110, 1.0, warmup_steps=10, final_lr=0.2)
    np.testing.assert_allclose(s.lr[10:], 1.0 - 0.8 * np.arange(100) / 100, rtol=1e-15)
    assert s.lr[60] == pytest.approx(0.6, rel=1e-15)


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt", "exponential"])
def test_wsd_shapes(shape):
    t, w, decay = 1000, 50, 0.25
    s = S.wsd(t, 1e-3, warmup_steps=w, decay=decay, final_lr=1e-5, shape=shape)
    start = 750
    assert np.all(s.lr[w:start] == 1e-3)
    assert s.lr[start] == pytest.approx(1e-3, rel=1e-15)
    assert np.all(np.diff(s.lr[start:]) < 0)
    assert 1e-5 < s.lr[-1] < s.lr[start]
    q = np.arange(250) / 250
    expect = {
        "linear": 1e-3 * (1 - q) + 1e-5 * q,
        "cosine": 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + np.cos(np.pi * q)),
        "1-sqrt": 1e-5 + (1e-3 - 1e-5) * (1 - np.sqrt(q)),
        "exponential": 1e-3 * (1e-5 / 1e-3) ** q,
    }[shape]
    np.testing.assert_allclose(s.lr[start:], expect, rtol=1e-13)
    _roundtrip(s)


def test_wsd_start_rounding_and_extremes():
    # decay start = round(T·(1 − decay)), Python round (half to even): 25·0.9 = 22.5 → 22
    s = S.wsd(25, 1.0, decay=0.1)
    assert np.all(s.lr[:23] == 1.0) and s.lr[23] < 1.0
    np.testing.assert_array_equal(
        S.wsd(100, 1.0, warmup_steps=5, decay=0.0).lr, S.constant(100, 1.0, warmup_steps=5).lr
    )
    np.testing.assert_array_equal(S.wsd(100, 1.0, decay=1.0).lr, S.linear(100, 1.0).lr)
    assert S.wsd(100, 1.0, decay=1.0, shape="cosine").lr.tolist() == S.cosine(100, 1.0).lr.tolist()


def test_step_and_multistep():
    s = S.step(100, 1.0, warmup_steps=10, step_size=30, gamma=0.5)
    assert np.all(s.lr[10:40] == 1.0) and np.all(s.lr[40:70] == 0.5) and np.all(s.lr[70:] == 0.25)
    m = S.multistep(100, 1.0, warmup_steps=10, milestones=(40, 70), gamma=0.5)
    np.testing.assert_array_equal(m.lr, s.lr)
    f = S.multistep(100, 1.0, warmup_steps=10, milestones=(0.4, 0.7), gamma=0.5)
    np.testing.assert_array_equal(f.lr, s.lr)
    assert "milestones=[0.4,0.7]" in str(f) and "milestones=[40,70]" in str(m)
    # float step indices are normalised to ints
    as_float = S.multistep(100, 1.0, milestones=[40.0, 70.0])
    assert str(as_float) == str(S.multistep(100, 1.0, milestones=[40, 70]))
    for x in (s, m, f):
        _roundtrip(x)


def test_step_811():
    s = S.step_811(1000, 1e-3, warmup_steps=100)
    g = math.sqrt(0.1)
    assert np.all(s.lr[100:800] == 1e-3)
    assert np.all(s.lr[800:900] == 1e-3 * g) and np.all(s.lr[900:] == 1e-3 * g * g)
    assert s.lr[-1] == pytest.approx(1e-4, rel=1e-15)
    t = S.multistep(1000, 1e-3, warmup_steps=100, milestones=(0.8, 0.9), gamma=0.316)
    assert t.lr[-1] == pytest.approx(1e-3 * 0.316**2, rel=1e-15)
    assert str(s).startswith("multistep:")
    _roundtrip(S.step_811(10, 1.0))


def test_two_stage_wsdcon():
    s = S.two_stage(16000, 3e-4, warmup_steps=2160, switch_step=8000, second_lr=9e-5)
    assert np.all(s.lr[2159:8000] == 3e-4) and np.all(s.lr[8000:] == 9e-5)
    assert str(s) == "two_stage:total=16000,peak=3e-4,warmup=2160,switch=8000,second=9e-5"
    up = S.two_stage(10, 1e-3, switch_step=5, second_lr=2e-3)  # a raise is allowed
    assert up.lr[-1] == 2e-3 and up.peak_lr == 2e-3
    assert np.all(S.two_stage(10, 1.0, switch_step=10, second_lr=0.0).lr == 1.0)


def test_inverse_sqrt():
    s = S.inverse_sqrt(1000, 1e-3, warmup_steps=100)
    assert s.lr[100] == 1e-3 and s.lr[99] == 1e-3
    assert s.lr[100 + 300] == pytest.approx(0.5e-3, rel=1e-15)  # τ = W = 100: half after 3τ more steps
    assert "timescale=100" in str(s)
    t = S.inverse_sqrt(50, 2.0, timescale=2.5)
    assert t.lr[0] == 2.0 and t.lr[int(3 * 2.5) + 0] < 2.0
    assert S.inverse_sqrt(10, 1.0).lr[3] == pytest.approx(0.5)  # τ defaults to max(W, 1) = 1
    for x in (s, t):
        _roundtrip(x)


def test_cyclic_cosine_restarts():
    s = S.cyclic(1000, 1e-3, warmup_steps=100, cycles=3, final_lr=1e-5, rewarmup_steps=20)
    starts = [100, 400, 700]
    assert s.lr[100] == 1e-3
    for a in starts[1:]:
        np.testing.assert_array_equal(s.lr[a : a + 20], np.linspace(1e-5, 1e-3, 20))
        assert s.lr[a - 1] < 2e-5 and s.lr[a + 20] == 1e-3
        np.testing.assert_allclose(
            s.lr[a + 20 : a + 300],
            1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + np.cos(np.pi * np.arange(280) / 280)),
            rtol=1e-14,
        )
    _roundtrip(s)


def test_cyclic_triangular_and_single_cycle():
    tri = S.cyclic(400, 1.0, cycles=4, shape="triangular", rewarmup_steps=50)
    a = 100
    np.testing.assert_array_equal(tri.lr[a : a + 50], np.linspace(0, 1, 50))
    np.testing.assert_allclose(tri.lr[a + 50 : a + 100], 1 - np.arange(50) / 50, rtol=1e-15)
    np.testing.assert_array_equal(
        S.cyclic(500, 1e-3, warmup_steps=37, cycles=1, final_lr=1e-4).lr,
        S.cosine(500, 1e-3, warmup_steps=37, final_lr=1e-4).lr,
    )
    np.testing.assert_array_equal(
        S.cyclic(500, 1e-3, warmup_steps=37, cycles=1, final_lr=1e-4, shape="triangular").lr,
        S.linear(500, 1e-3, warmup_steps=37, final_lr=1e-4).lr,
    )
    _roundtrip(tri)


def test_from_array_inline_and_fingerprint():
    s = S.from_array([0.0, 1e-4, 2.5e-4, 3e-4], warmup_steps=2)
    assert str(s) == "array:values=[0,1e-4,2.5e-4,3e-4],warmup=2"
    _roundtrip(s)
    big = S.from_array(np.linspace(0, 1, S.INLINE_MAX + 1))
    assert str(big).startswith(f"array:n={S.INLINE_MAX + 1},sha256=")
    with pytest.raises(lf.LawfitInputError, match="never saved"):
        S.parse(str(big))
    _roundtrip(S.from_array(np.linspace(0, 1, S.INLINE_MAX)))


def test_from_array_named_file(tmp_path):
    lr = np.linspace(1e-3, 1e-5, 1000)
    path = tmp_path / "sched.npy"
    s = S.from_array(lr, warmup_steps=3, name=path)
    assert path.exists() and str(s).startswith(f"array:path={path.resolve()},sha256=")
    _roundtrip(s)
    again = S.from_array(lr, name=str(path))  # same content: accepted, file untouched
    np.testing.assert_array_equal(again.lr, lr)
    with pytest.raises(lf.LawfitInputError, match="different array"):
        S.from_array(lr * 2, name=path)
    np.save(path, lr * 2)  # the file changes behind the spec's back
    with pytest.raises(lf.LawfitInputError, match="changed since"):
        S.parse(str(s))
    with pytest.raises(lf.LawfitInputError, match=".npy"):
        S.from_array(lr, name=tmp_path / "x.csv")
    with pytest.raises(FileNotFoundError):
        S.parse(f"array:path={tmp_path / 'missing.npy'}")
    assert np.array_equal(S.load(path).lr, lr * 2)


@pytest.mark.parametrize("size", ["25", "100", "400"])
def test_optimized_schedules_roundtrip(size, tmp_path):
    path = _shared(MULTIPOWER / "optimized_schedules" / f"{size}.npy")
    raw = np.load(path)
    s = S.from_array(raw, name=path)  # existing file with equal content: nothing is written
    assert s.total_steps == raw.size == 21840  # the 24000-step runs without their 2160 warmup steps
    _roundtrip(s)
    np.testing.assert_array_equal(S.load(path).lr, raw)
    full = np.concatenate([np.linspace(0.0, PEAK, W), raw])
    t = S.from_array(full, warmup_steps=W, name=tmp_path / f"opt{size}.npy")
    _roundtrip(t)
    assert t.total_steps == 24000 and t.lr[W - 1] == PEAK


# ---------------------------------------------------------------------------------------------
# the published multi-power-law curves (Luo et al. 2025): the CSV's lr column, step = 0-based index

MULTIPOWER_SCHEDULES = {
    "constant_24000": lambda: S.constant(24000, PEAK, warmup_steps=W),
    "constant_72000": lambda: S.constant(72000, PEAK, warmup_steps=W),
    "cosine_24000": lambda: S.cosine(24000, PEAK, warmup_steps=W, final_lr=FINAL),
    "cosine_72000": lambda: S.cosine(72000, PEAK, warmup_steps=W, final_lr=FINAL),
    "wsd_20000_24000": lambda: S.wsd(
        24000, PEAK, warmup_steps=W, decay=4000 / 24000, final_lr=FINAL, shape="exponential"
    ),
    "wsdld_20000_24000": lambda: S.wsd(24000, PEAK, warmup_steps=W, decay=4000 / 24000, final_lr=FINAL),
    "wsdcon_3": lambda: S.two_stage(16000, PEAK, warmup_steps=W, switch_step=8000, second_lr=3 * 1e-5),
    "wsdcon_9": lambda: S.two_stage(16000, PEAK, warmup_steps=W, switch_step=8000, second_lr=9 * 1e-5),
    "wsdcon_18": lambda: S.two_stage(16000, PEAK, warmup_steps=W, switch_step=8000, second_lr=18 * 1e-5),
}
# The CSVs store the repository's float64 LRs at full precision; lawfit's formulas differ from the
# repository's only in evaluation order, so they agree to a few ulps (measured ≤ 1.9e-15 relative).
MULTIPOWER_RTOL = 1e-14


def _read_multipower(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.genfromtxt(path, delimiter=",", names=True)
    return data["step"].astype(np.int64), np.asarray(data["lr"], dtype=np.float64)


@pytest.mark.parametrize("size", ["25", "100", "400"])
@pytest.mark.parametrize("name", sorted(MULTIPOWER_SCHEDULES))
def test_multipower_lr_columns(size, name):
    path = _shared(MULTIPOWER / f"csv_{size}" / f"{name}.csv")
    steps, lr_csv = _read_multipower(path)
    s = MULTIPOWER_SCHEDULES[name]()
    assert steps.min() >= 0 and steps.max() < s.total_steps and len(steps) > 50
    got = s.lr[steps]
    rel = np.abs(got - lr_csv) / lr_csv
    assert rel.max() <= MULTIPOWER_RTOL, f"{path.name}: max relative error {rel.max():.3g}"
    assert np.max(np.abs(got - lr_csv)) <= MULTIPOWER_RTOL * PEAK
    _roundtrip(s)


def test_multipower_specs_as_strings():
    wsd = S.parse(
        "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.16666666666666666,final=3e-5,shape=exponential"
    )
    np.testing.assert_array_equal(wsd.lr, MULTIPOWER_SCHEDULES["wsd_20000_24000"]().lr)
    con = S.parse("two_stage:total=16000,peak=3e-4,warmup=2160,switch=8000,second=9e-5")
    np.testing.assert_array_equal(con.lr, MULTIPOWER_SCHEDULES["wsdcon_9"]().lr)


# ---------------------------------------------------------------------------------------------
# spec strings


def test_parse_examples_and_normalisation():
    a = S.parse("wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,shape=linear")
    assert str(a) == "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,final=0,shape=linear"
    b = S.parse("  WSD : shape = LINEAR , peak_lr=0.0003, total_steps=2.4e4, warmup_steps=2_160, decay=.2, ")
    assert str(b) == str(a)
    np.testing.assert_array_equal(a.lr, b.lr)
    np.testing.assert_array_equal(a.lr, S.wsd(24000, 3e-4, warmup_steps=2160, decay=0.2).lr)
    c = S.parse("cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5")
    np.testing.assert_array_equal(c.lr, S.cosine(24000, 3e-4, warmup_steps=2160, final_lr=3e-5).lr)
    assert S.parse("two-stage:total=10,peak=1,switch=5,second=0.5").family == "two_stage"
    one = S.parse("multistep:total=100,peak=1,milestones=50")
    assert str(one) == "multistep:total=100,peak=1,warmup=0,milestones=[50],gamma=0.1"
    assert str(S.parse("constant:total=5,peak=1e-3")) == "constant:total=5,peak=0.001,warmup=0"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty schedule spec"),
        ("cosin:total=10,peak=1", r"unknown schedule family 'cosin'.*did you mean 'cosine'"),
        ("cosine:total=10,peak=1,fianl=0.1", r"unknown key 'fianl'.*did you mean 'final'"),
        ("cosine:peak=1", "missing required key.*total"),
        ("two_stage:total=10,peak=1,switch=5", "missing required key.*second"),
        ("cosine:total=10,peak=1,total=11", "appears twice"),
        ("cosine:total=ten,peak=1", "total='ten'.*not an integer"),
        ("cosine:total=10.5,peak=1", "not an integer"),
        ("cosine:total=10,peak=abc", "peak='abc'.*not a number"),
        ("cosine:total=10,peak=nan", "not a finite number"),
        ("cosine:total=10,peak=inf", "not a finite number"),
        ("cosine:total=10,peak=-1e-3", "peak_lr must be > 0"),
        ("cosine:total=10,peak=0", "peak_lr must be > 0"),
        ("cosine:total=10,peak=1,final=-0.1", "final_lr must be >= 0"),
        ("cosine:total=10,peak=1,final=2", r"final_lr \(2.0\) must be <= peak_lr"),
        ("cosine:total=10,peak=1,warmup=11", r"warmup_steps \(11\) must be <= total_steps \(10\)"),
        ("cosine:total=0,peak=1", "total_steps must be >= 1"),
        ("cosine:total=10,peak=1,warmup=-1", "warmup_steps must be >= 0"),
        ("constant:total=10,peak=1,warmup_init=2", "warmup_init"),
        ("cosine:total=10,peak", "not of the form key=value"),
        ("cosine:total=10,peak=", "empty value"),
        ("wsd:total=100,peak=1,shape=square", "shape='square' is not one of"),
        ("wsd:total=100,peak=1,decay=1.5", "decay must be <= 1"),
        ("wsd:total=100,peak=1,warmup=90,decay=0.2", "inside the 90-step warmup"),
        ("wsd:total=100,peak=1,shape=exponential", "needs final_lr > 0"),
        ("step:total=100,peak=1,step_size=0", "step_size must be >= 1"),
        ("multistep:total=100,peak=1,milestones=[0.5,40]", "mix fractions"),
        ("multistep:total=100,peak=1,milestones=[60,40]", "strictly increasing"),
        ("multistep:total=100,peak=1,milestones=[0.5,0.501]", "strictly increasing"),
        ("multistep:total=100,peak=1,milestones=[200]", "outside"),
        ("multistep:total=100,peak=1,milestones=[1.5]", "fraction of total_steps"),
        ("multistep:total=100,peak=1,milestones=[0.5],gamma=2", "gamma must be <= 1"),
        ("multistep:total=100,peak=1,milestones=[0.5,", r"unclosed '\['"),
        ("multistep:total=100,peak=1,milestones=[[1]]", "nested brackets"),
        ("multistep:total=100,peak=1,milestones=]", r"unbalanced '\]'"),
        ("multistep:total=100,peak=1,milestones=[]", "empty list element"),
        ("two_stage:total=100,peak=1,switch=101,second=0.1", "switch_step"),
        ("two_stage:total=100,peak=1,switch=50,second=-0.1", "second_lr must be >= 0"),
        ("inverse_sqrt:total=100,peak=1,timescale=0", "timescale must be > 0"),
        ("cyclic:total=100,peak=1,warmup=98,cycles=3", r"cycles \(3\) must be <="),
        ("cyclic:total=100,peak=1,cycles=4,rewarmup=25", "rewarmup_steps"),
        ("array:values=[1,-1]", r"lr\[1\]"),
        ("array:values=[1,nan]", "not a finite number"),
        ("array:values=[1,2],warmup=3", "warmup_steps"),
        ("array:values=[1],colour=red", "unknown key 'colour'"),
        ("array:warmup=0", "needs values="),
        ("array:values=[1],path=/x.npy", "both values= and path="),
        ("array:values=[1],sha256=abc", "takes only warmup="),
    ],
)
def test_parse_errors(spec, message):
    with pytest.raises(lf.LawfitInputError, match=message):
        S.parse(spec)


def test_parse_error_quotes_the_spec():
    with pytest.raises(lf.LawfitInputError, match=r"in schedule spec 'cosine:total=10,peak=1,final=2'"):
        S.parse("cosine:total=10,peak=1,final=2")
    with pytest.raises(lf.LawfitTypeError):
        S.parse(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: S.constant(10.0, 1.0), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.constant(True, 1.0), lf.LawfitTypeError),
        (lambda: S.constant(10, "1e-3"), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.constant(10, 1.0, warmup_steps=2.0), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.constant(10, float("nan")), lf.LawfitInputError),
        (lambda: S.constant(10, -1.0), lf.LawfitInputError),
        (lambda: S.constant(10, 1.0, warmup_steps=11), lf.LawfitInputError),
        (lambda: S.cosine(10, 1.0, final_lr=float("inf")), lf.LawfitInputError),
        (lambda: S.step(10, 1.0, step_size=2.5), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.multistep(10, 1.0, milestones=("a",)), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.multistep(10, 1.0, milestones=()), lf.LawfitInputError),
        (lambda: S.cyclic(10, 1.0, cycles=0), lf.LawfitInputError),
        (lambda: S.wsd(10, 1.0, shape=3), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.from_array([[1.0]]), lf.LawfitInputError),
        (lambda: S.from_array([]), lf.LawfitInputError),
        (lambda: S.from_array(["a"]), lf.LawfitTypeError),
        (lambda: S.from_array([1.0], name=3), lf.LawfitTypeError),  # type: ignore[arg-type]
        (lambda: S.from_array([1.0], name="a,b.npy"), lf.LawfitInputError),
    ],
)
def test_python_argument_errors(call, error):
    with pytest.raises(error):
        call()


def test_errors_are_value_and_type_errors():
    assert issubclass(lf.LawfitInputError, ValueError) and issubclass(lf.LawfitTypeError, TypeError)


# ---------------------------------------------------------------------------------------------
# hypothesis: any valid preset round-trips through its spec

lrs = st.floats(min_value=1e-8, max_value=10.0, allow_nan=False, allow_infinity=False)
fracs = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def common(draw, max_total=2000):
    total = draw(st.integers(1, max_total))
    peak = draw(lrs)
    warmup = draw(st.integers(0, total))
    init = draw(st.sampled_from([0.0, peak * draw(fracs)]))
    return total, peak, {"warmup_steps": warmup, "warmup_init": init}


@st.composite
def presets(draw):
    family = draw(st.sampled_from([*S._FAMILIES, "array"]))
    total, peak, kw = draw(common())
    w = kw["warmup_steps"]
    if family == "constant":
        return S.constant(total, peak, **kw)
    if family in ("cosine", "linear"):
        return getattr(S, family)(total, peak, final_lr=peak * draw(fracs), **kw)
    if family == "wsd":
        decay = draw(fracs)
        start = round(total * (1 - decay))
        assume(start >= w)
        shape = draw(st.sampled_from(["linear", "cosine", "1-sqrt", "exponential"]))
        final = peak * draw(st.floats(1e-6, 1.0) if shape == "exponential" else fracs)
        return S.wsd(total, peak, decay=decay, final_lr=final, shape=shape, **kw)
    if family == "step":
        return S.step(total, peak, step_size=draw(st.integers(1, total)), gamma=draw(fracs), **kw)
    if family == "multistep":
        assume(w < total)
        if draw(st.booleans()):
            ms = sorted(draw(st.sets(st.integers(max(w, 1), total), min_size=1, max_size=5)))
        else:
            ms = sorted(draw(st.sets(st.floats(1e-3, 0.999), min_size=1, max_size=5)))
            idx = [round(total * f) for f in ms]
            assume(idx[0] >= w and all(b > a for a, b in zip(idx, idx[1:], strict=False)))
        return S.multistep(total, peak, milestones=ms, gamma=draw(fracs), **kw)
    if family == "two_stage":
        return S.two_stage(total, peak, switch_step=draw(st.integers(w, total)), second_lr=draw(lrs), **kw)
    if family == "inverse_sqrt":
        tau = draw(st.none() | st.floats(0.01, 1e4))
        return S.inverse_sqrt(total, peak, timescale=tau, **kw)
    if family == "cyclic":
        span = total - w
        assume(span >= 1)
        cycles = draw(st.integers(1, min(span, 8)))
        shortest = min((span * (i + 1)) // cycles - (span * i) // cycles for i in range(cycles))
        rewarm = draw(st.integers(0, max(shortest - 1, 0)))
        shape = draw(st.sampled_from(["cosine", "triangular"]))
        final = peak * draw(fracs)
        return S.cyclic(total, peak, cycles=cycles, final_lr=final, shape=shape, rewarmup_steps=rewarm, **kw)
    values = draw(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=S.INLINE_MAX))
    return S.from_array(values, warmup_steps=min(w, len(values)))


@given(presets())
def test_spec_roundtrip(s):
    assert np.all(np.isfinite(s.lr)) and np.all(s.lr >= 0) and s.lr.dtype == np.float64
    _roundtrip(s)


@given(presets(), st.randoms())
def test_spec_key_order_and_case_do_not_matter(s, rnd):
    family, _, body = str(s).partition(":")
    items = []
    depth, cur = 0, ""
    for ch in body:  # split on commas outside brackets
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    rnd.shuffle(items)
    shuffled = f"  {family.upper()} :" + " , ".join(items)
    t = S.parse(shuffled)
    assert str(t) == str(s)
    np.testing.assert_array_equal(t.lr, s.lr)


_SAMPLE_ARGS = {"step": {"step_size": 100}, "multistep": {"milestones": (0.5,)},
                "two_stage": {"switch_step": 500, "second_lr": 1e-5}, "cyclic": {"cycles": 2}}


@pytest.mark.parametrize("name", [*S.PRESETS, "step_811"])
def test_preset_docstrings_are_complete(name):
    """Every preset's rendered help documents each parameter once, and has the shared sections
    (filled in from the schedule table), whose spec pattern names the keys its spec uses."""
    import inspect
    import pydoc

    fn = getattr(S, name)
    doc = inspect.getdoc(fn)
    rendered = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    for section in ("Parameters", "Returns", "Raises", "Notes"):
        assert f"\n{section}\n{'-' * len(section)}\n" in doc, (name, section)
        assert section in rendered
    assert doc.index("Parameters") < doc.index("Returns") < doc.index("Raises") < doc.index("Notes")
    params = doc[doc.index("Parameters") : doc.index("Returns")]
    entries = [line.split(" : ")[0] for line in params.splitlines()[2:] if line and not line[0].isspace()]
    assert entries == list(inspect.signature(fn).parameters), name
    assert "@" not in doc, "an unfilled docstring marker"
    assert "LawfitTypeError" in doc and "LawfitInputError" in doc and "Schedule\n    ``lr``" in doc
    notes = doc[doc.index("Notes") :]
    pattern = re.search(r"``(\w+:[^`]+)``", notes).group(1)
    family, keys = pattern.split(":")
    spec = fn(1000, 3e-4, warmup_steps=10, **_SAMPLE_ARGS.get(name, {})).spec
    assert spec.split(":")[0] == family
    used = re.findall(r"(\w+)=", spec.split(":", 1)[1])
    listed = re.findall(r"(\w+)=", keys)
    assert [k for k in listed if k in used] == used, (spec, pattern)
