"""Hypothesis strategies for property-testing code that uses lawfit (needs ``hypothesis``).

lawfit's own tests use them; they are public so users can property-test their own law code::

    from hypothesis import given
    import lawfit.testing as lft

    @given(lft.schedules(max_steps=5000))
    def test_my_areas(schedule):
        S1, S2 = lawfit.areas(schedule)
        assert (S1[1:] >= S1[:-1]).all()          # the forward area never decreases

    @given(lft.curves(lawfit.MomentumLaw()))
    def test_fit_recovers(curve_and_params):
        curve, params = curve_and_params
        ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("lawfit.testing needs hypothesis: pip install hypothesis") from exc

from lawfit import schedules as S
from lawfit.curve import Curve
from lawfit.laws import Law, MomentumLaw, MomentumLawN
from lawfit.schedules import Schedule

FAMILIES = (
    "constant",
    "cosine",
    "linear",
    "wsd",
    "multistep",
    "two_stage",
    "inverse_sqrt",
    "cyclic",
    "rewarmup",
)

#: Plausible parameter ranges (not the bounds, which are wider) for drawing realistic curves.
TYPICAL_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "momentum": {
        "L0": (1.5, 3.5),
        "A": (0.2, 1.5),
        "alpha": (0.2, 0.9),
        "C": (0.05, 1.0),
        "decay": (0.9, 0.999),
        "zeta": (0.8, 1.3),
    },
    "momentum_n": {
        "L0": (1.5, 3.0),
        "A": (0.2, 1.0),
        "alpha": (0.3, 0.8),
        "B": (10.0, 100.0),
        "beta": (0.1, 0.4),
        "C": (0.01, 0.1),
        "gamma": (0.0, 0.3),
    },
}


@st.composite
def schedules(
    draw: Any, *, min_steps: int = 100, max_steps: int = 20_000, families: tuple[str, ...] = FAMILIES
) -> Schedule:
    """Learning-rate schedules of every preset family, including random re-warmups.

    ``rewarmup`` draws a schedule whose LR rises again mid-run (a resumed or cyclic run), which
    makes S2 decrease — a case any area or law code must handle.
    """
    family = draw(st.sampled_from(families))
    total = draw(st.integers(min_steps, max_steps))
    peak = draw(st.floats(1e-5, 1e-2))
    warmup = draw(st.integers(0, total // 10))
    final = peak * draw(st.sampled_from([0.0, 0.01, 0.1, 0.3]))
    if family == "constant":
        return S.constant(total, peak, warmup_steps=warmup)
    if family == "cosine":
        return S.cosine(total, peak, warmup_steps=warmup, final_lr=final)
    if family == "linear":
        return S.linear(total, peak, warmup_steps=warmup, final_lr=final)
    if family == "wsd":
        shape = draw(st.sampled_from(["linear", "cosine", "1-sqrt", "exponential"]))
        fl = final if (final > 0 or shape != "exponential") else peak * 0.01
        return S.wsd(
            total, peak, warmup_steps=warmup, decay=draw(st.floats(0.05, 0.5)), final_lr=fl, shape=shape
        )
    if family == "multistep":
        return S.multistep(
            total, peak, warmup_steps=warmup, milestones=(0.5, 0.8), gamma=draw(st.floats(0.1, 0.7))
        )
    if family == "two_stage":
        switch = draw(st.integers(warmup + 1, max(warmup + 1, total - 1)))
        return S.two_stage(
            total, peak, warmup_steps=warmup, switch_step=switch, second_lr=peak * draw(st.floats(0.05, 0.9))
        )
    if family == "inverse_sqrt":
        return S.inverse_sqrt(total, peak, warmup_steps=warmup)
    cycles = draw(st.integers(2, 5))
    warmup = min(warmup, total - cycles)
    if family == "cyclic":
        return S.cyclic(
            total,
            peak,
            warmup_steps=warmup,
            cycles=cycles,
            final_lr=final,
            shape=draw(st.sampled_from(["cosine", "triangular"])),
        )
    # rewarmup: a decayed run resumed at a higher LR
    lr = S.cosine(total, peak, warmup_steps=warmup, final_lr=final).lr.copy()
    cut = draw(st.integers(warmup + 1, total - 1))
    lr[cut:] = np.maximum(lr[cut:], peak * draw(st.floats(0.2, 1.0)))
    return S.from_array(lr, warmup_steps=warmup)


@st.composite
def law_params(draw: Any, law: Law, *, typical: bool = True) -> dict[str, float]:
    """Parameters of ``law``: within its typical ranges (``typical``) or anywhere within its bounds."""
    ranges = TYPICAL_RANGES.get(law.name, {})
    bounds = law.bounds()
    out = {}
    for k in law.param_names:
        lo, hi = ranges.get(k, bounds[k]) if typical else bounds[k]
        lo, hi = max(lo, -1e6), min(hi, 1e6)
        out[k] = draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False))
    return out


@st.composite
def curves(
    draw: Any,
    law: Law | None = None,
    *,
    noise: float | None = None,
    n_points: int = 60,
    max_steps: int = 20_000,
) -> tuple[Curve, dict[str, float]]:
    """A curve drawn from ``law`` (default ``MomentumLaw()``) with multiplicative Gaussian noise.

    Returns ``(curve, true_params)``. Points are logged on an even grid after warmup.
    """
    law = law if law is not None else MomentumLaw()
    sched = draw(schedules(min_steps=max(200, 2 * n_points), max_steps=max_steps))
    params = draw(law_params(law))
    sigma = draw(st.sampled_from([0.0, 1e-4, 1e-3, 3e-3])) if noise is None else noise
    seed = draw(st.integers(0, 2**32 - 1))
    first = min(sched.warmup_steps + 1, sched.total_steps)
    steps = np.unique(np.linspace(first, sched.total_steps, n_points).astype(np.int64))
    kwargs: dict[str, Any] = {}
    n_model = None
    if isinstance(law, MomentumLawN):
        n_model = draw(st.floats(1e7, 1e10))
        kwargs["N"] = n_model
    clean = law.predict(params, sched, steps, **kwargs)
    keep = np.isfinite(clean) & (clean > 0)
    steps, clean = steps[keep], clean[keep]
    loss = clean * np.exp(sigma * np.random.default_rng(seed).standard_normal(clean.size))
    return Curve(steps, loss, sched, N=n_model), params
