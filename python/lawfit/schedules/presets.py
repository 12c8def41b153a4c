"""The schedule presets (constant, cosine, linear, WSD, step, multistep, 8-1-1, two-stage,
inverse square root, cyclic); each returns a :class:`~lawfit.schedules.Schedule`."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError
from lawfit.schedules.core import (
    CyclicShape,
    Schedule,
    WsdShape,
    _as_choice,
    _as_float,
    _as_int,
    _Common,
    _common,
    _common_values,
    _cosine_decay,
    _final,
    _finish,
    _linear_decay,
    _progress,
    _sqrt_decay,
    _start,
)
from lawfit.schedules.table import CYCLIC_SHAPES as _CYCLIC_SHAPES
from lawfit.schedules.table import WSD_SHAPES as _WSD_SHAPES
from lawfit.schedules.table import _documented

# presets


@_documented(returns="; ``lr[k] = peak_lr`` for k >= W")
def constant(total_steps: int, peak_lr: float, *, warmup_steps: int = 0,
             warmup_init: float = 0.0) -> Schedule:
    """Constant LR after a linear warmup.

    Parameters
    ----------
    peak_lr : float
        LR after the warmup (> 0, in the optimiser's LR units).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T: ``lr[:W] = linspace(warmup_init, peak_lr, W)``.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    return _finish(_start(c), "constant", _common_values(c), c.warmup)


@_documented(raises="; ``final_lr`` outside [0, peak_lr]")
def cosine(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, final_lr: float = 0.0,
           warmup_init: float = 0.0) -> Schedule:
    """Cosine decay from ``peak_lr`` towards ``final_lr`` after a linear warmup.

    ``lr[k] = final + ½·(peak − final)·(1 + cos(π·p))`` with ``p = (k − W)/(T − W)`` for k >= W.

    Parameters
    ----------
    final_lr : float, default 0.0
        LR the cosine tends to at p = 1 (0 <= final_lr <= peak_lr); the last step has
        p = (T − W − 1)/(T − W), so it sits just above ``final_lr``.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    final = _final(final_lr, c.peak)
    lr = _start(c)
    lr[c.warmup :] = _cosine_decay(_progress(c.total - c.warmup), c.peak, final)
    return _finish(lr, "cosine", {**_common_values(c), "final_lr": final}, c.warmup)


@_documented(raises="; ``final_lr`` outside [0, peak_lr]")
def linear(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, final_lr: float = 0.0,
           warmup_init: float = 0.0) -> Schedule:
    """Linear decay from ``peak_lr`` towards ``final_lr`` after a linear warmup.

    ``lr[k] = peak·(1 − p) + final·p`` with ``p = (k − W)/(T − W)`` for k >= W.

    Parameters
    ----------
    final_lr : float, default 0.0
        LR reached at p = 1 (0 <= final_lr <= peak_lr); the last step is one decrement above it.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    final = _final(final_lr, c.peak)
    lr = _start(c)
    lr[c.warmup :] = _linear_decay(_progress(c.total - c.warmup), c.peak, final)
    return _finish(lr, "linear", {**_common_values(c), "final_lr": final}, c.warmup)


@_documented(raises="; ``final_lr`` outside [0, peak_lr]; ``decay`` outside [0, 1]; a decay that would "
                     "start inside the warmup; an unknown ``shape``; ``final_lr = 0`` with "
                     "``shape=\"exponential\"``")
def wsd(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, decay: float = 0.2,
        final_lr: float = 0.0, shape: WsdShape = "linear", warmup_init: float = 0.0) -> Schedule:
    """Warmup–stable–decay: warmup, constant ``peak_lr``, then a decay over the last steps.

    The decay starts at the 0-based step index ``s0 = round(T·(1 − decay))`` (Python's ``round``:
    halves go to the even integer) and lasts ``D = T − s0`` steps; with ``q = (k − s0)/D`` for
    k >= s0:

    - ``linear``: ``peak·(1 − q) + final·q``
    - ``cosine``: ``final + ½·(peak − final)·(1 + cos(π·q))``
    - ``1-sqrt``: ``final + (peak − final)·(1 − √q)``
    - ``exponential``: ``peak^((T − k)/D) · final^((k − s0)/D)`` (geometric; needs final > 0)

    ``wsd(24000, 3e-4, warmup_steps=2160, decay=4000/24000, final_lr=3e-5, shape="exponential")``
    is the multi-power-law curve ``wsd_20000_24000`` and ``shape="linear"`` is ``wsdld_20000_24000``.

    Parameters
    ----------
    peak_lr : float
        LR of the stable phase (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= s0.
    decay : float, default 0.2
        Fraction of all T steps spent decaying, in [0, 1]; 0 gives a constant schedule.
    final_lr : float, default 0.0
        LR the decay tends to at q = 1, 0 <= final_lr <= peak_lr (> 0 for ``exponential``).
    shape : {"linear", "cosine", "1-sqrt", "exponential"}, default "linear"
        Decay shape.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    frac = _as_float("decay", decay, minimum=0.0, maximum=1.0)
    final = _final(final_lr, c.peak)
    kind = _as_choice("shape", shape, _WSD_SHAPES)
    start = round(c.total * (1.0 - frac))
    if start < c.warmup:
        raise LawfitInputError(
            f"the decay (last {frac!r} of {c.total} steps) would start at step index {start}, inside "
            f"the {c.warmup}-step warmup; lower decay or warmup_steps"
        )
    if kind == "exponential" and final == 0.0:
        raise LawfitInputError("shape='exponential' needs final_lr > 0 (it decays geometrically)")
    n = c.total - start
    lr = _start(c)
    if n:
        if kind == "exponential":
            k = np.arange(start, c.total, dtype=np.float64)
            lr[start:] = np.power(c.peak, (c.total - k) / n) * np.power(final, (k - start) / n)
        else:
            fn = {"linear": _linear_decay, "cosine": _cosine_decay, "1-sqrt": _sqrt_decay}[kind]
            lr[start:] = fn(_progress(n), c.peak, final)
    values = {**_common_values(c), "decay": frac, "final_lr": final, "shape": kind}
    return _finish(lr, "wsd", values, c.warmup)


@_documented(raises="; ``step_size < 1``; ``gamma`` outside [0, 1]")
def step(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, step_size: int, gamma: float = 0.1,
         warmup_init: float = 0.0) -> Schedule:
    """Periodic step decay: multiply the LR by ``gamma`` every ``step_size`` steps after the warmup.

    ``lr[k] = peak·gamma^⌊(k − W)/step_size⌋`` for k >= W (PyTorch's ``StepLR`` after a warmup).

    Parameters
    ----------
    step_size : int
        Steps between two decays, >= 1.
    gamma : float, default 0.1
        Factor applied at each decay, in [0, 1].
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    size = _as_int("step_size", step_size, minimum=1)
    g = _as_float("gamma", gamma, minimum=0.0, maximum=1.0)
    lr = _start(c)
    count = np.arange(c.total - c.warmup) // size
    lr[c.warmup :] = c.peak * np.power(g, count.astype(np.float64))
    values = {**_common_values(c), "step_size": size, "gamma": g}
    return _finish(lr, "step", values, c.warmup)


def _milestones(raw: Any, c: _Common) -> tuple[tuple[int, ...] | tuple[float, ...], np.ndarray]:
    """Normalise milestones: (canonical values, 0-based step indices)."""
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raw = (raw,)
    items = list(raw)
    if not items:
        raise LawfitInputError("milestones must not be empty")
    fractions: list[float] = []
    steps: list[int] = []
    for i, m in enumerate(items):
        if isinstance(m, bool) or not isinstance(m, numbers.Real):
            raise LawfitTypeError(f"milestones[{i}] must be a number, got {type(m).__name__} {m!r}")
        v = float(m)
        if math.isfinite(v) and 0.0 < v < 1.0:
            fractions.append(v)
        elif math.isfinite(v) and v >= 1.0 and v == int(v):
            steps.append(int(v))
        else:
            raise LawfitInputError(
                f"milestones[{i}] is {m!r}; a milestone is a fraction of total_steps in (0, 1) or a "
                "0-based step index >= 1"
            )
    if fractions and steps:
        raise LawfitInputError(
            "milestones mix fractions in (0, 1) and step indices; give all of one kind, e.g. "
            "(0.8, 0.9) or (19200, 21600)"
        )
    canonical: tuple[int, ...] | tuple[float, ...]
    if fractions:
        canonical = tuple(fractions)
        index = np.array([round(c.total * f) for f in fractions], dtype=np.int64)
    else:
        canonical = tuple(steps)
        index = np.array(steps, dtype=np.int64)
    for i, m in enumerate(index):
        if not c.warmup <= m <= c.total:
            raise LawfitInputError(
                f"milestones[{i}] ({canonical[i]!r}) falls at step index {int(m)}, outside "
                f"[warmup_steps, total_steps] = [{c.warmup}, {c.total}]"
            )
        if i and m <= index[i - 1]:
            raise LawfitInputError(
                f"milestones must be strictly increasing step indices; milestones[{i}] "
                f"({canonical[i]!r}) is step index {int(m)}, milestones[{i - 1}] is {int(index[i - 1])}"
            )
    return canonical, index


@_documented(raises="; empty, mixed, non-increasing or out-of-range milestones; ``gamma`` outside [0, 1]")
def multistep(total_steps: int, peak_lr: float, *, warmup_steps: int = 0,
              milestones: Sequence[float] | Sequence[int], gamma: float = 0.1,
              warmup_init: float = 0.0) -> Schedule:
    """Step decay at given milestones: the LR is multiplied by ``gamma`` at each one.

    ``lr[k] = peak·gamma^(number of milestones m with m <= k)`` for k >= W.

    Parameters
    ----------
    milestones : sequence of float in (0, 1), or sequence of int >= 1
        Either fractions f of T (the decay happens at step index ``round(T·f)``) or 0-based step
        indices; all of one kind, strictly increasing, each index in [W, T].
    gamma : float, default 0.1
        Factor applied at each milestone, in [0, 1].

    See Also
    --------
    step_811 : the 80 % / 10 % / 10 % schedule of DeepSeek LLM.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    canonical, index = _milestones(milestones, c)
    g = _as_float("gamma", gamma, minimum=0.0, maximum=1.0)
    lr = _start(c)
    count = np.searchsorted(index, np.arange(c.warmup, c.total), side="right")
    lr[c.warmup :] = c.peak * np.power(g, count.astype(np.float64))
    values = {**_common_values(c), "milestones": canonical, "gamma": g}
    return _finish(lr, "multistep", values, c.warmup)


@_documented(raises="; W > round(0.8·T) (the first decay would fall inside the warmup); ``gamma`` "
                     "outside [0, 1]", family="multistep")
def step_811(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, gamma: float = math.sqrt(0.1),
             warmup_init: float = 0.0) -> Schedule:
    """The "8-1-1" step schedule: peak for 80 % of the steps, then ``gamma``·peak, then ``gamma²``·peak.

    A shorthand for ``multistep(..., milestones=(0.8, 0.9), gamma=gamma)``; its spec is that
    multistep spec.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1 (the decays happen at step indices ``round(0.8·T)`` and ``round(0.9·T)``).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= round(0.8·T).
    gamma : float, default √0.1 ≈ 0.316
        Factor of each of the two decays, so the last 10 % run at ``gamma²·peak`` (10 % of the peak
        by default).
    """
    return multistep(
        total_steps,
        peak_lr,
        warmup_steps=warmup_steps,
        milestones=(0.8, 0.9),
        gamma=gamma,
        warmup_init=warmup_init,
    )


@_documented(raises="; ``switch_step`` outside [W, T]; a negative or non-finite ``second_lr``")
def two_stage(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, switch_step: int,
              second_lr: float, warmup_init: float = 0.0) -> Schedule:
    """Two constant stages: ``peak_lr`` until ``switch_step``, then ``second_lr``.

    ``lr[k] = peak`` for W <= k < switch_step and ``second_lr`` for k >= switch_step.
    ``two_stage(16000, 3e-4, warmup_steps=2160, switch_step=8000, second_lr=X*1e-5)`` is the
    multi-power-law curve ``wsdcon_X``.

    Parameters
    ----------
    peak_lr : float
        LR of the first stage (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= switch_step.
    switch_step : int
        0-based index of the first step at ``second_lr``, W <= switch_step <= T.
    second_lr : float
        LR of the second stage, >= 0 (it may exceed ``peak_lr``).
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    switch = _as_int("switch_step", switch_step, minimum=0)
    if not c.warmup <= switch <= c.total:
        raise LawfitInputError(
            f"switch_step ({switch}) must lie in [warmup_steps, total_steps] = [{c.warmup}, {c.total}]"
        )
    second = _as_float("second_lr", second_lr, minimum=0.0)
    lr = _start(c)
    lr[switch:] = second
    values = {**_common_values(c), "switch_step": switch, "second_lr": second}
    return _finish(lr, "two_stage", values, c.warmup)


@_documented(raises="; a non-positive or non-finite ``timescale``")
def inverse_sqrt(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, timescale: float | None = None,
                 warmup_init: float = 0.0) -> Schedule:
    """Inverse-square-root decay after a linear warmup.

    ``lr[k] = peak·√(τ / (k − W + τ))`` for k >= W: ``peak`` right after the warmup, ``peak/2`` after
    another 3τ steps. With τ = W (the default) this is the Transformer / fairseq rule
    ``peak·√(W / k)``.

    Parameters
    ----------
    timescale : float, optional
        τ in steps (> 0). Default ``max(W, 1)``; the spec records the resolved value.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    tau = float(max(c.warmup, 1)) if timescale is None else _as_float("timescale", timescale, positive=True)
    lr = _start(c)
    j = np.arange(c.total - c.warmup, dtype=np.float64)
    lr[c.warmup :] = c.peak * np.sqrt(tau / (j + tau))
    values = {**_common_values(c), "timescale": tau}
    return _finish(lr, "inverse_sqrt", values, c.warmup)


@_documented(raises="; ``final_lr`` outside [0, peak_lr]; ``cycles`` outside [1, T − W]; a re-warmup as "
                     "long as a cycle; an unknown ``shape``")
def cyclic(total_steps: int, peak_lr: float, *, warmup_steps: int = 0, cycles: int, final_lr: float = 0.0,
           shape: CyclicShape = "cosine", rewarmup_steps: int = 0, warmup_init: float = 0.0) -> Schedule:
    """Repeated decays (cosine with restarts, or triangular), each restart with an optional re-warmup.

    The L = T − W steps after the warmup are split into ``cycles`` cycles; cycle i starts at step
    index ``W + ⌊i·L/cycles⌋``. Every cycle but the first begins with ``rewarmup_steps`` values
    ``linspace(final_lr, peak_lr, rewarmup_steps)``; the remaining n steps of the cycle decay from
    ``peak_lr`` towards ``final_lr`` with progress p = j/n (j = 0 … n − 1): a half cosine for
    ``shape="cosine"`` (SGDR), a straight line for ``shape="triangular"`` (with a re-warmup of half a
    cycle this is the triangular cyclical LR).

    ``cyclic(..., cycles=1)`` equals :func:`cosine` (``"cosine"``) or :func:`linear`
    (``"triangular"``) bit for bit.

    Parameters
    ----------
    peak_lr : float
        LR at the top of every cycle (> 0).
    warmup_steps : int, default 0
        Initial linear-warmup steps W, 0 <= W <= T − cycles.
    cycles : int
        Number of cycles, 1 <= cycles <= T − W.
    final_lr : float, default 0.0
        Bottom of the cycles, 0 <= final_lr <= peak_lr.
    shape : {"cosine", "triangular"}, default "cosine"
        Decay within a cycle.
    rewarmup_steps : int, default 0
        Linear re-warmup at the start of cycles 2, 3, …; shorter than every such cycle. 0 gives hard
        restarts.
    warmup_init : float, default 0.0
        First LR of the initial warmup, 0 <= warmup_init <= peak_lr.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    n_cycles = _as_int("cycles", cycles, minimum=1)
    final = _final(final_lr, c.peak)
    kind = _as_choice("shape", shape, _CYCLIC_SHAPES)
    rewarm = _as_int("rewarmup_steps", rewarmup_steps, minimum=0)
    span = c.total - c.warmup
    if n_cycles > span:
        raise LawfitInputError(
            f"cycles ({n_cycles}) must be <= total_steps - warmup_steps ({span}): every cycle needs a step"
        )
    bounds = [c.warmup + (i * span) // n_cycles for i in range(n_cycles + 1)]
    if n_cycles > 1:
        shortest = min(bounds[i + 1] - bounds[i] for i in range(1, n_cycles))
        if rewarm >= shortest:
            raise LawfitInputError(
                f"rewarmup_steps ({rewarm}) must be shorter than every restarted cycle (the shortest "
                f"has {shortest} steps)"
            )
    decay = _cosine_decay if kind == "cosine" else _linear_decay
    lr = _start(c)
    for i in range(n_cycles):
        a, b = bounds[i], bounds[i + 1]
        r = rewarm if i else 0
        if r:
            lr[a : a + r] = np.linspace(final, c.peak, r)
        lr[a + r : b] = decay(_progress(b - a - r), c.peak, final)
    values = {
        **_common_values(c),
        "cycles": n_cycles,
        "final_lr": final,
        "shape": kind,
        "rewarmup_steps": rewarm,
    }
    return _finish(lr, "cyclic", values, c.warmup)


#: Family name -> its preset (the functions of the table's families).
PRESETS: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "cosine": cosine,
    "linear": linear,
    "wsd": wsd,
    "step": step,
    "multistep": multistep,
    "two_stage": two_stage,
    "inverse_sqrt": inverse_sqrt,
    "cyclic": cyclic,
}
