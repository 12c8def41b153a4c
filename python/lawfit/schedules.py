"""Learning-rate schedule presets and their spec strings.

Every preset returns a :class:`Schedule`: a float64 array ``lr`` of one learning rate per step
(``lr[i]`` is the LR of step ``i + 1``; equivalently ``lr[k]`` for the 0-based step index ``k``) and a
spec string that :func:`parse` turns back into exactly the same array.

Conventions
-----------
Warmup
    Every preset takes ``warmup_steps`` W and ``warmup_init`` (default 0). The first W values are
    ``np.linspace(warmup_init, peak_lr, W)``: W evenly spaced values, the first ``warmup_init``, the
    last exactly ``peak_lr`` (the convention of the multi-power-law repository, Luo et al. 2025). With
    W = 1 the single warmup step runs at ``warmup_init``.
Progress
    After the warmup the named schedule runs with progress ``p = (k - W) / (T - W)`` for the 0-based
    index ``k >= W`` and T = ``total_steps``. Decays therefore start at ``peak_lr`` (p = 0) and stop one
    step short of ``final_lr`` (the last step has p = (T - W - 1) / (T - W)), which reproduces the
    published per-step LR arrays of the multi-power-law curves.

Spec strings
------------
``family:key=value,key=value,...``; the family and the keys are case-insensitive, whitespace around
items is ignored, keys may come in any order, and the Python keyword names are accepted as aliases of
the short keys (``total_steps`` for ``total``, ``final_lr`` for ``final``...). Integers may be written
as ``24000``, ``24_000`` or ``2.4e4``; lists are written in brackets, ``milestones=[0.8,0.9]``.

=============  ===================================================================================
family         keys (required first; every family also takes ``warmup`` and ``warmup_init``)
=============  ===================================================================================
constant       total, peak
cosine         total, peak, final
linear         total, peak, final
wsd            total, peak, decay, final, shape (linear | cosine | 1-sqrt | exponential)
step           total, peak, step_size, gamma
multistep      total, peak, milestones, gamma
two_stage      total, peak, switch, second
inverse_sqrt   total, peak, timescale
cyclic         total, peak, cycles, final, shape (cosine | triangular), rewarmup
array          values=[...] (inline, at most 256 values) or path=FILE.npy [, sha256=HEX16]
=============  ===================================================================================

``str(schedule)`` is the canonical spec: every key of the family (``warmup_init`` only when it is not
0), numbers in their shortest exact form, so ``parse(str(s)).lr`` equals ``s.lr`` bit for bit and
``str(parse(spec))`` is a fixed point.

Arrays (:func:`from_array`, :func:`load`) are spelled inline, ``array:values=[1e-4,2e-4],warmup=0``,
when they have at most 256 values; a longer array must live in a ``.npy`` file to have a parseable
spec, ``array:path=/abs/opt.npy,sha256=0123456789abcdef,warmup=0`` (the hash, the first 16 hex digits
of the SHA-256 of the little-endian float64 values, lets :func:`parse` detect a changed file). A long
array given to :func:`from_array` without ``name`` still makes a valid Schedule, but its spec is a
fingerprint (``array:n=21840,sha256=...``) that :func:`parse` rejects with an explanation.

Examples
--------
>>> import lawfit as lf
>>> s = lf.schedules.cosine(24000, 3e-4, warmup_steps=2160, final_lr=3e-5)
>>> str(s)
'cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5'
>>> bool((lf.schedules.parse(str(s)).lr == s.lr).all())
True
>>> float(s.lr[2159]), float(s.lr[2160])
(0.0003, 0.0003)
"""

from __future__ import annotations

import difflib
import hashlib
import math
import numbers
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError, as_float_array

__all__ = [
    "INLINE_MAX",
    "Schedule",
    "constant",
    "cosine",
    "cyclic",
    "from_array",
    "inverse_sqrt",
    "linear",
    "load",
    "multistep",
    "parse",
    "step",
    "step_811",
    "two_stage",
    "wsd",
]

#: Largest array that :func:`from_array` spells inline in its spec (``array:values=[...]``).
INLINE_MAX = 256

WsdShape = Literal["linear", "cosine", "1-sqrt", "exponential"]
CyclicShape = Literal["cosine", "triangular"]


@dataclass(frozen=True, eq=False)
class Schedule:
    """A per-step learning-rate schedule.

    Attributes
    ----------
    lr : ndarray, shape (total_steps,), float64
        ``lr[i]`` is the LR of step ``i + 1`` (0-based step index ``i``). Read-only: build a new
        schedule (e.g. with :func:`from_array`) instead of editing it, so that the spec stays true.
    spec : str
        A spec string that :func:`parse` turns back into the same schedule.
    warmup_steps : int
        Number of leading linear-warmup steps.

    Notes
    -----
    Constructing a Schedule directly validates ``lr`` (1-D, finite, non-negative) and stores a
    read-only float64 copy unless it already is one; the spec is taken on trust, so prefer the
    presets, :func:`from_array` or :func:`parse`.
    """

    lr: np.ndarray = field(repr=False)
    spec: str
    warmup_steps: int = 0

    def __post_init__(self) -> None:
        arr = self.lr
        if not (
            isinstance(arr, np.ndarray)
            and arr.dtype == np.float64
            and arr.ndim == 1
            and arr.flags.c_contiguous
            and not arr.flags.writeable
        ):
            arr = np.array(as_float_array("lr", arr, nonnegative=True), dtype=np.float64, copy=True)
            arr.flags.writeable = False
            object.__setattr__(self, "lr", arr)
        if not isinstance(self.spec, str):
            raise LawfitTypeError(f"spec must be a str, got {type(self.spec).__name__}")
        w = _as_int("warmup_steps", self.warmup_steps, minimum=0)
        if w > arr.shape[0]:
            raise LawfitInputError(f"warmup_steps ({w}) must be <= the number of steps ({arr.shape[0]})")
        object.__setattr__(self, "warmup_steps", w)

    @property
    def total_steps(self) -> int:
        """Number of steps T."""
        return int(self.lr.shape[0])

    @property
    def peak_lr(self) -> float:
        """Largest LR of the schedule."""
        return float(self.lr.max()) if self.lr.size else 0.0

    @property
    def family(self) -> str:
        """Schedule family: the part of the spec before ``:`` (``"cosine"``, ``"array"``...)."""
        return self.spec.partition(":")[0]

    def __len__(self) -> int:
        return self.total_steps

    def __str__(self) -> str:
        return self.spec

    def _repr_html_(self) -> str:
        """A one-table summary for notebooks: spec, steps, warmup, peak and last LR."""
        from html import escape

        last = float(self.lr[-1]) if self.lr.size else 0.0
        return (
            f"<div><b>lawfit Schedule</b> <code>{escape(self.spec)}</code><table>"
            f"<tr><td>steps</td><td>{self.total_steps}</td></tr>"
            f"<tr><td>warmup</td><td>{self.warmup_steps}</td></tr>"
            f"<tr><td>peak lr</td><td>{self.peak_lr:.6g}</td></tr>"
            f"<tr><td>last lr</td><td>{last:.6g}</td></tr></table></div>"
        )


# --------------------------------------------------------------------------------------------
# argument validation


def _as_int(name: str, value: Any, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise LawfitTypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise LawfitInputError(f"{name} must be >= {minimum}, got {v}")
    return v


def _as_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LawfitTypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value) + 0.0  # normalises -0.0 to 0.0 so that specs never spell "-0"
    if not math.isfinite(v):
        raise LawfitInputError(f"{name} is {v!r}; it must be a finite number")
    if positive and v <= 0:
        raise LawfitInputError(f"{name} must be > 0, got {v!r}")
    if minimum is not None and v < minimum:
        raise LawfitInputError(f"{name} must be >= {minimum!r}, got {v!r}")
    if maximum is not None and v > maximum:
        raise LawfitInputError(f"{name} must be <= {maximum!r}, got {v!r}")
    return v


def _as_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise LawfitTypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")
    v = value.strip().lower()
    if v not in choices:
        raise LawfitInputError(f"{name}={value!r} is not one of {', '.join(map(repr, choices))}")
    return v


#: Longest schedule built (steps): its per-step LR array is 8 bytes a step, so 10⁹ steps is 8 GB.
MAX_TOTAL_STEPS = 10**9


@dataclass(frozen=True)
class _Common:
    total: int
    peak: float
    warmup: int
    init: float


def _common(total_steps: Any, peak_lr: Any, warmup_steps: Any, warmup_init: Any) -> _Common:
    total = _as_int("total_steps", total_steps, minimum=1)
    if total > MAX_TOTAL_STEPS:
        raise LawfitInputError(
            f"total_steps is {total}; lawfit builds schedules of at most {MAX_TOTAL_STEPS} steps "
            f"(the per-step LR alone would take {8 * total / 2**30:.3g} GiB)"
        )
    peak = _as_float("peak_lr", peak_lr, positive=True)
    warmup = _as_int("warmup_steps", warmup_steps, minimum=0)
    if warmup > total:
        raise LawfitInputError(f"warmup_steps ({warmup}) must be <= total_steps ({total})")
    init = _as_float("warmup_init", warmup_init, minimum=0.0)
    if init > peak:
        raise LawfitInputError(f"warmup_init ({init!r}) must be <= peak_lr ({peak!r})")
    return _Common(total, peak, warmup, init)


def _final(final_lr: Any, peak: float) -> float:
    final = _as_float("final_lr", final_lr, minimum=0.0)
    if final > peak:
        raise LawfitInputError(f"final_lr ({final!r}) must be <= peak_lr ({peak!r})")
    return final


# --------------------------------------------------------------------------------------------
# building blocks (shared so that equal schedules of different families agree bit for bit)


def _start(c: _Common) -> np.ndarray:
    """Array of length T with the warmup filled in and the rest set to the peak."""
    lr = np.full(c.total, c.peak, dtype=np.float64)
    if c.warmup:
        lr[: c.warmup] = np.linspace(c.init, c.peak, c.warmup)
    return lr


def _progress(n: int) -> np.ndarray:
    """``j / n`` for j = 0 … n − 1 (empty when n = 0)."""
    return np.arange(n, dtype=np.float64) / n if n else np.empty(0)


def _cosine_decay(p: np.ndarray, peak: float, final: float) -> np.ndarray:
    return final + 0.5 * (peak - final) * (1.0 + np.cos(np.pi * p))


def _linear_decay(p: np.ndarray, peak: float, final: float) -> np.ndarray:
    return peak * (1.0 - p) + final * p


def _sqrt_decay(p: np.ndarray, peak: float, final: float) -> np.ndarray:
    return final + (peak - final) * (1.0 - np.sqrt(p))


def _finish(lr: np.ndarray, family: str, values: dict[str, Any], warmup: int) -> Schedule:
    """Freeze ``lr``, check it, and attach the canonical spec built from ``values``."""
    bad = ~np.isfinite(lr) | (lr < 0)
    if bad.any():  # pragma: no cover - every preset validates its arguments first
        i = int(np.argmax(bad))
        raise LawfitInputError(f"{family} schedule produced lr[{i}] = {lr[i]!r}")
    lr.flags.writeable = False
    return Schedule(lr, _format_spec(family, values), warmup)


def _common_values(c: _Common) -> dict[str, Any]:
    return {"total_steps": c.total, "peak_lr": c.peak, "warmup_steps": c.warmup, "warmup_init": c.init}


# --------------------------------------------------------------------------------------------
# presets


def constant(
    total_steps: int, peak_lr: float, *, warmup_steps: int = 0, warmup_init: float = 0.0
) -> Schedule:
    """Constant LR after a linear warmup.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR after the warmup (> 0, in the optimiser's LR units).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T: ``lr[:W] = linspace(warmup_init, peak_lr, W)``.
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64; ``lr[k] = peak_lr`` for k >= W.

    Raises
    ------
    LawfitTypeError
        A non-integer step count or a non-numeric LR.
    LawfitInputError
        T < 1, a non-positive or non-finite ``peak_lr``, W > T, or ``warmup_init`` outside [0, peak].
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    return _finish(_start(c), "constant", _common_values(c), c.warmup)


def cosine(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    final_lr: float = 0.0,
    warmup_init: float = 0.0,
) -> Schedule:
    """Cosine decay from ``peak_lr`` towards ``final_lr`` after a linear warmup.

    ``lr[k] = final + ½·(peak − final)·(1 + cos(π·p))`` with ``p = (k − W)/(T − W)`` for k >= W.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T.
    final_lr : float, default 0.0
        LR the cosine tends to at p = 1 (0 <= final_lr <= peak_lr); the last step has
        p = (T − W − 1)/(T − W), so it sits just above ``final_lr``.
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`constant`, and ``final_lr`` outside [0, peak_lr].
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    final = _final(final_lr, c.peak)
    lr = _start(c)
    lr[c.warmup :] = _cosine_decay(_progress(c.total - c.warmup), c.peak, final)
    return _finish(lr, "cosine", {**_common_values(c), "final_lr": final}, c.warmup)


def linear(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    final_lr: float = 0.0,
    warmup_init: float = 0.0,
) -> Schedule:
    """Linear decay from ``peak_lr`` towards ``final_lr`` after a linear warmup.

    ``lr[k] = peak·(1 − p) + final·p`` with ``p = (k − W)/(T − W)`` for k >= W.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T.
    final_lr : float, default 0.0
        LR reached at p = 1 (0 <= final_lr <= peak_lr); the last step is one decrement above it.
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`cosine`.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    final = _final(final_lr, c.peak)
    lr = _start(c)
    lr[c.warmup :] = _linear_decay(_progress(c.total - c.warmup), c.peak, final)
    return _finish(lr, "linear", {**_common_values(c), "final_lr": final}, c.warmup)


_WSD_SHAPES = ("linear", "cosine", "1-sqrt", "exponential")


def wsd(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    decay: float = 0.2,
    final_lr: float = 0.0,
    shape: WsdShape = "linear",
    warmup_init: float = 0.0,
) -> Schedule:
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
    total_steps : int
        Number of steps T >= 1.
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
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`cosine`; ``decay`` outside [0, 1]; a decay that would start inside the warmup;
        an unknown ``shape``; ``final_lr = 0`` with ``shape="exponential"``.
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


def step(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    step_size: int,
    gamma: float = 0.1,
    warmup_init: float = 0.0,
) -> Schedule:
    """Periodic step decay: multiply the LR by ``gamma`` every ``step_size`` steps after the warmup.

    ``lr[k] = peak·gamma^⌊(k − W)/step_size⌋`` for k >= W (PyTorch's ``StepLR`` after a warmup).

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T.
    step_size : int
        Steps between two decays, >= 1.
    gamma : float, default 0.1
        Factor applied at each decay, in [0, 1].
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`constant`; ``step_size < 1``; ``gamma`` outside [0, 1].
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


def multistep(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    milestones: Sequence[float] | Sequence[int],
    gamma: float = 0.1,
    warmup_init: float = 0.0,
) -> Schedule:
    """Step decay at given milestones: the LR is multiplied by ``gamma`` at each one.

    ``lr[k] = peak·gamma^(number of milestones m with m <= k)`` for k >= W.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T.
    milestones : sequence of float in (0, 1), or sequence of int >= 1
        Either fractions f of T (the decay happens at step index ``round(T·f)``) or 0-based step
        indices; all of one kind, strictly increasing, each index in [W, T].
    gamma : float, default 0.1
        Factor applied at each milestone, in [0, 1].
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`constant`; empty, mixed, non-increasing or out-of-range milestones; ``gamma``
        outside [0, 1].

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


def step_811(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    gamma: float = math.sqrt(0.1),
    warmup_init: float = 0.0,
) -> Schedule:
    """The "8-1-1" step schedule: peak for 80 % of the steps, then ``gamma``·peak, then ``gamma²``·peak.

    A shorthand for ``multistep(..., milestones=(0.8, 0.9), gamma=gamma)``; its spec is that
    multistep spec.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1 (the decays happen at step indices ``round(0.8·T)`` and ``round(0.9·T)``).
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= round(0.8·T).
    gamma : float, default √0.1 ≈ 0.316
        Factor of each of the two decays, so the last 10 % run at ``gamma²·peak`` (10 % of the peak
        by default).
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.
    """
    return multistep(
        total_steps,
        peak_lr,
        warmup_steps=warmup_steps,
        milestones=(0.8, 0.9),
        gamma=gamma,
        warmup_init=warmup_init,
    )


def two_stage(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    switch_step: int,
    second_lr: float,
    warmup_init: float = 0.0,
) -> Schedule:
    """Two constant stages: ``peak_lr`` until ``switch_step``, then ``second_lr``.

    ``lr[k] = peak`` for W <= k < switch_step and ``second_lr`` for k >= switch_step.
    ``two_stage(16000, 3e-4, warmup_steps=2160, switch_step=8000, second_lr=X*1e-5)`` is the
    multi-power-law curve ``wsdcon_X``.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR of the first stage (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= switch_step.
    switch_step : int
        0-based index of the first step at ``second_lr``, W <= switch_step <= T.
    second_lr : float
        LR of the second stage, >= 0 (it may exceed ``peak_lr``).
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`constant`; ``switch_step`` outside [W, T]; a negative or non-finite ``second_lr``.
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


def inverse_sqrt(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    timescale: float | None = None,
    warmup_init: float = 0.0,
) -> Schedule:
    """Inverse-square-root decay after a linear warmup.

    ``lr[k] = peak·√(τ / (k − W + τ))`` for k >= W: ``peak`` right after the warmup, ``peak/2`` after
    another 3τ steps. With τ = W (the default) this is the Transformer / fairseq rule
    ``peak·√(W / k)``.

    Parameters
    ----------
    total_steps : int
        Number of steps T >= 1.
    peak_lr : float
        LR at the end of the warmup (> 0).
    warmup_steps : int, default 0
        Linear-warmup steps W, 0 <= W <= T.
    timescale : float, optional
        τ in steps (> 0). Default ``max(W, 1)``; the spec records the resolved value.
    warmup_init : float, default 0.0
        First warmup LR, 0 <= warmup_init <= peak_lr.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`constant`; a non-positive or non-finite ``timescale``.
    """
    c = _common(total_steps, peak_lr, warmup_steps, warmup_init)
    tau = float(max(c.warmup, 1)) if timescale is None else _as_float("timescale", timescale, positive=True)
    lr = _start(c)
    j = np.arange(c.total - c.warmup, dtype=np.float64)
    lr[c.warmup :] = c.peak * np.sqrt(tau / (j + tau))
    values = {**_common_values(c), "timescale": tau}
    return _finish(lr, "inverse_sqrt", values, c.warmup)


_CYCLIC_SHAPES = ("cosine", "triangular")


def cyclic(
    total_steps: int,
    peak_lr: float,
    *,
    warmup_steps: int = 0,
    cycles: int,
    final_lr: float = 0.0,
    shape: CyclicShape = "cosine",
    rewarmup_steps: int = 0,
    warmup_init: float = 0.0,
) -> Schedule:
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
    total_steps : int
        Number of steps T >= 1.
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

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64.

    Raises
    ------
    LawfitTypeError, LawfitInputError
        As :func:`cosine`; ``cycles`` outside [1, T − W]; a re-warmup as long as a cycle; an unknown
        ``shape``.
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


# --------------------------------------------------------------------------------------------
# arrays


def _fingerprint(lr: np.ndarray) -> str:
    """First 16 hex digits of the SHA-256 of the little-endian float64 values."""
    return hashlib.sha256(np.ascontiguousarray(lr, dtype="<f8").tobytes()).hexdigest()[:16]


def _check_path_text(path: str) -> None:
    bad = [ch for ch in ",[]" if ch in path]
    if bad or path != path.strip() or not path:
        raise LawfitInputError(
            f"path {path!r} cannot appear in a schedule spec (no commas, brackets, or leading/trailing "
            "spaces); rename the file"
        )


def _array_schedule(arr: np.ndarray, warmup: int, path: str | None) -> Schedule:
    if warmup > arr.shape[0]:
        raise LawfitInputError(f"warmup_steps ({warmup}) must be <= the number of steps ({arr.shape[0]})")
    arr.flags.writeable = False
    if path is not None:
        spec = f"array:path={path},sha256={_fingerprint(arr)},warmup={warmup}"
    elif arr.shape[0] <= INLINE_MAX:
        spec = "array:values=[" + ",".join(_fmt_float(float(v)) for v in arr) + f"],warmup={warmup}"
    else:
        spec = f"array:n={arr.shape[0]},sha256={_fingerprint(arr)},warmup={warmup}"
    return Schedule(arr, spec, warmup)


def _read_npy(path: Path) -> np.ndarray:
    try:
        raw = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise LawfitInputError(f"could not read {str(path)!r} as a .npy array: {exc}") from exc
    return raw


def from_array(
    lr: Any,
    *,
    warmup_steps: int = 0,
    name: str | os.PathLike[str] | None = None,
) -> Schedule:
    """A schedule from an explicit per-step LR array.

    Parameters
    ----------
    lr : array_like, shape (T,)
        LR of every step (``lr[i]`` is the LR of step ``i + 1``); finite, non-negative, T >= 1.
        The values are copied.
    warmup_steps : int, default 0
        How many leading steps are warmup (recorded, e.g. for :func:`lawfit.areas`; the values are
        taken as given), 0 <= W <= T.
    name : str or path-like, optional
        Path of a ``.npy`` file holding the array. If the file exists it must hold exactly ``lr``;
        if it does not, ``lr`` is saved there (``np.save``). The spec then refers to the absolute
        path: ``array:path=/abs/name.npy,sha256=HEX16,warmup=W``. Without ``name``, arrays of at most
        :data:`INLINE_MAX` (256) values are spelled inline (``array:values=[...],warmup=W``);
        longer ones get a fingerprint spec ``array:n=T,sha256=HEX16,warmup=W`` that :func:`parse`
        cannot rebuild — pass ``name`` when the spec must round-trip.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64 (a read-only copy).

    Raises
    ------
    LawfitTypeError
        Non-numeric ``lr`` or a non-integer ``warmup_steps``.
    LawfitInputError
        ``lr`` not 1-D, empty, NaN, infinite or negative (the message names the index); W > T; a
        ``name`` that is not a ``.npy`` path, contains ``,``/``[``/``]``, or holds a different array.
    """
    arr = np.array(as_float_array("lr", lr, nonnegative=True, allow_empty=False), copy=True)
    warmup = _as_int("warmup_steps", warmup_steps, minimum=0)
    if name is None:
        return _array_schedule(arr, warmup, None)
    if not isinstance(name, (str, os.PathLike)):
        raise LawfitTypeError(f"name must be a path (str or os.PathLike), got {type(name).__name__}")
    path = Path(name).expanduser().resolve()
    if path.suffix != ".npy":
        raise LawfitInputError(f"name must be a .npy path, got {str(name)!r}")
    _check_path_text(str(path))
    if path.exists():
        stored = _read_npy(path)
        if stored.shape != arr.shape or not np.array_equal(np.asarray(stored, dtype=np.float64), arr):
            raise LawfitInputError(
                f"{str(path)!r} already exists and holds a different array; choose another name"
            )
    else:
        np.save(path, arr)
    return _array_schedule(arr, warmup, str(path))


def load(path: str | os.PathLike[str], *, warmup_steps: int = 0) -> Schedule:
    """Read a per-step LR array from a ``.npy`` file.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file holding a 1-D array of T finite, non-negative LRs (``lr[i]`` is the LR of
        step ``i + 1``).
    warmup_steps : int, default 0
        How many leading steps are warmup, 0 <= W <= T.

    Returns
    -------
    Schedule
        Spec ``array:path=/abs/path.npy,sha256=HEX16,warmup=W``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    LawfitInputError
        Not a readable ``.npy`` file, or invalid values (see :func:`from_array`).
    """
    p = Path(path).expanduser().resolve()
    if p.suffix != ".npy":
        raise LawfitInputError(f"path must be a .npy file, got {str(path)!r}")
    arr = np.array(as_float_array(f"lr in {p.name}", _read_npy(p), nonnegative=True, allow_empty=False))
    warmup = _as_int("warmup_steps", warmup_steps, minimum=0)
    _check_path_text(str(p))
    return _array_schedule(arr, warmup, str(p))


# --------------------------------------------------------------------------------------------
# spec strings


@dataclass(frozen=True)
class _Key:
    key: str  # short spec key
    arg: str  # keyword of the preset
    kind: str  # "int" | "float" | "choice" | "milestones"
    required: bool = False
    choices: tuple[str, ...] = ()
    only_if_nonzero: bool = False


_COMMON_KEYS = (
    _Key("total", "total_steps", "int", required=True),
    _Key("peak", "peak_lr", "float", required=True),
    _Key("warmup", "warmup_steps", "int"),
    _Key("warmup_init", "warmup_init", "float", only_if_nonzero=True),
)
_FINAL = _Key("final", "final_lr", "float")

_FAMILIES: dict[str, tuple[Callable[..., Schedule], tuple[_Key, ...]]] = {
    "constant": (constant, _COMMON_KEYS),
    "cosine": (cosine, (*_COMMON_KEYS, _FINAL)),
    "linear": (linear, (*_COMMON_KEYS, _FINAL)),
    "wsd": (
        wsd,
        (
            *_COMMON_KEYS,
            _Key("decay", "decay", "float"),
            _FINAL,
            _Key("shape", "shape", "choice", choices=_WSD_SHAPES),
        ),
    ),
    "step": (
        step,
        (
            *_COMMON_KEYS,
            _Key("step_size", "step_size", "int", required=True),
            _Key("gamma", "gamma", "float"),
        ),
    ),
    "multistep": (
        multistep,
        (
            *_COMMON_KEYS,
            _Key("milestones", "milestones", "milestones", required=True),
            _Key("gamma", "gamma", "float"),
        ),
    ),
    "two_stage": (
        two_stage,
        (
            *_COMMON_KEYS,
            _Key("switch", "switch_step", "int", required=True),
            _Key("second", "second_lr", "float", required=True),
        ),
    ),
    "inverse_sqrt": (inverse_sqrt, (*_COMMON_KEYS, _Key("timescale", "timescale", "float"))),
    "cyclic": (
        cyclic,
        (
            *_COMMON_KEYS,
            _Key("cycles", "cycles", "int", required=True),
            _FINAL,
            _Key("shape", "shape", "choice", choices=_CYCLIC_SHAPES),
            _Key("rewarmup", "rewarmup_steps", "int"),
        ),
    ),
}
_ARRAY_KEYS = ("values", "path", "sha256", "n", "warmup")
_FAMILY_NAMES = (*_FAMILIES, "array")


def _fmt_float(x: float) -> str:
    """Shortest exact decimal spelling: ``3e-4``, ``0.2``, ``2160``, ``1.5e20``."""
    x = float(x) + 0.0
    if x == 0.0:
        return "0"
    text = repr(x)
    if "e" not in text and abs(x) < 1e-3:
        text = np.format_float_scientific(x, unique=True, trim="-")
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    elif text.endswith(".0"):
        text = text[:-2]
    assert float(text) == x, (text, x)
    return text


def _fmt_value(key: _Key, value: Any) -> str:
    if key.kind == "int":
        return str(int(value))
    if key.kind == "float":
        return _fmt_float(value)
    if key.kind == "milestones":
        return "[" + ",".join(str(v) if isinstance(v, int) else _fmt_float(v) for v in value) + "]"
    return str(value)


def _format_spec(family: str, values: dict[str, Any]) -> str:
    keys = _FAMILIES[family][1]
    items = []
    for key in keys:
        value = values[key.arg]
        if key.only_if_nonzero and value == 0:
            continue
        items.append(f"{key.key}={_fmt_value(key, value)}")
    return f"{family}:{','.join(items)}"


def _split_items(body: str, spec: str) -> list[tuple[str, str]]:
    """Split ``k=v,k=[a,b],...`` on the commas outside brackets."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in body:
        if ch == "[":
            depth += 1
            if depth > 1:
                raise LawfitInputError(f"nested brackets in schedule spec {spec!r}")
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise LawfitInputError(f"unbalanced ']' in schedule spec {spec!r}")
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise LawfitInputError(f"unclosed '[' in schedule spec {spec!r}")
    items.append("".join(current))
    pairs: list[tuple[str, str]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue  # tolerate a trailing or doubled comma
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not key:
            raise LawfitInputError(f"item {item!r} of schedule spec {spec!r} is not of the form key=value")
        if not value:
            raise LawfitInputError(f"key {key!r} of schedule spec {spec!r} has an empty value")
        pairs.append((key, value))
    return pairs


def _parse_int(key: str, text: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if math.isfinite(v) and v == int(v):
        return int(v)
    raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not an integer")


def _parse_float(key: str, text: str, spec: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not a number") from None
    if not math.isfinite(v):
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not a finite number")
    return v


def _parse_list(key: str, text: str, spec: str) -> list[str]:
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif "[" in text or "]" in text:
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r}: write lists as [a,b,...]")
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} has an empty list element")
    return parts


def _parse_milestone(key: str, text: str, spec: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return _parse_float(key, text, spec)


def _unknown_key(family: str, key: str, allowed: Sequence[str], spec: str) -> LawfitInputError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return LawfitInputError(
        f"unknown key {key!r} for a {family} schedule in spec {spec!r}{hint} (allowed: {', '.join(allowed)})"
    )


def _parse_array(pairs: list[tuple[str, str]], spec: str) -> Schedule:
    given: dict[str, str] = {}
    for key, value in pairs:
        key = {"warmup_steps": "warmup"}.get(key, key)
        if key not in _ARRAY_KEYS:
            raise _unknown_key("array", key, _ARRAY_KEYS, spec)
        if key in given:
            raise LawfitInputError(f"key {key!r} appears twice in schedule spec {spec!r}")
        given[key] = value
    warmup = _parse_int("warmup", given["warmup"], spec) if "warmup" in given else 0
    if "values" in given and "path" in given:
        raise LawfitInputError(f"array spec {spec!r} has both values= and path=; give one")
    if "values" in given:
        if set(given) - {"values", "warmup"}:
            extra = ", ".join(sorted(set(given) - {"values", "warmup"}))
            raise LawfitInputError(f"array spec {spec!r} with values= takes only warmup=, not {extra}")
        vals = [_parse_float("values", v, spec) for v in _parse_list("values", given["values"], spec)]
        return from_array(np.array(vals), warmup_steps=warmup)
    if "path" in given:
        if "n" in given:
            raise LawfitInputError(f"array spec {spec!r} with path= does not take n=")
        sched = load(given["path"], warmup_steps=warmup)
        if "sha256" in given and given["sha256"].lower() != _fingerprint(sched.lr):
            raise LawfitInputError(
                f"{given['path']!r} changed since the spec was written: its sha256 starts with "
                f"{_fingerprint(sched.lr)}, the spec says {given['sha256']}"
            )
        return sched
    if "sha256" in given or "n" in given:
        raise LawfitInputError(
            f"array spec {spec!r} only fingerprints an in-memory array that was never saved, so it "
            "cannot be rebuilt; create the schedule with from_array(lr, name='file.npy') or "
            "schedules.load('file.npy') to get a spec with path="
        )
    raise LawfitInputError(f"array spec {spec!r} needs values=[...] or path=FILE.npy")


def parse(spec: str) -> Schedule:
    """Build a schedule from a spec string such as ``"cosine:total=24000,peak=3e-4,warmup=2160"``.

    See the module documentation for the grammar and the keys of every family.

    Parameters
    ----------
    spec : str
        ``family:key=value,...``. Families: constant, cosine, linear, wsd, step, multistep,
        two_stage, inverse_sqrt, cyclic, array.

    Returns
    -------
    Schedule
        Whose ``str()`` is the canonical form of ``spec``, and which equals, bit for bit, the schedule
        the matching preset returns for the same arguments.

    Raises
    ------
    LawfitTypeError
        ``spec`` is not a str.
    LawfitInputError
        Unknown family, unknown, duplicate or missing key, a value that is not a number (or not an
        integer where one is required), NaN/infinite/negative LR, warmup longer than the schedule,
        or any other invalid argument of the preset; the message quotes the spec.
    FileNotFoundError
        ``array:path=`` names a missing file.

    Examples
    --------
    >>> s = parse("wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,shape=linear")
    >>> str(s)
    'wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,final=0,shape=linear'
    """
    if not isinstance(spec, str):
        raise LawfitTypeError(f"a schedule spec must be a str, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise LawfitInputError("empty schedule spec; expected e.g. 'cosine:total=24000,peak=3e-4'")
    head, _, body = text.partition(":")
    family = head.strip().lower().replace("-", "_")
    pairs = _split_items(body, spec)
    if family == "array":
        try:
            return _parse_array(pairs, spec)
        except (LawfitInputError, LawfitTypeError) as exc:
            if spec in str(exc):
                raise
            raise LawfitInputError(f"{exc} (in schedule spec {spec!r})") from exc
    if family not in _FAMILIES:
        close = difflib.get_close_matches(family, _FAMILY_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LawfitInputError(
            f"unknown schedule family {head.strip()!r} in spec {spec!r}{hint} "
            f"(known: {', '.join(_FAMILY_NAMES)})"
        )
    fn, keys = _FAMILIES[family]
    by_name = {k.key: k for k in keys} | {k.arg: k for k in keys}
    kwargs: dict[str, Any] = {}
    for name, value in pairs:
        key = by_name.get(name)
        if key is None:
            raise _unknown_key(family, name, [k.key for k in keys], spec)
        if key.arg in kwargs:
            raise LawfitInputError(f"key {key.key!r} appears twice in schedule spec {spec!r}")
        if key.kind == "int":
            kwargs[key.arg] = _parse_int(key.key, value, spec)
        elif key.kind == "float":
            kwargs[key.arg] = _parse_float(key.key, value, spec)
        elif key.kind == "milestones":
            kwargs[key.arg] = [_parse_milestone(key.key, v, spec) for v in _parse_list(key.key, value, spec)]
        else:
            kwargs[key.arg] = value.lower()
    missing = [k.key for k in keys if k.required and k.arg not in kwargs]
    if missing:
        raise LawfitInputError(
            f"{family} schedule spec {spec!r} is missing required key(s) {', '.join(missing)} "
            f"(keys: {', '.join(k.key for k in keys)})"
        )
    total, peak = kwargs.pop("total_steps"), kwargs.pop("peak_lr")
    try:
        return fn(total, peak, **kwargs)
    except (LawfitInputError, LawfitTypeError) as exc:
        raise LawfitInputError(f"{exc} (in schedule spec {spec!r})") from exc


def _spec_help() -> str:
    """One line per family listing its spec keys (required keys first), for the CLI's help."""
    lines = []
    for family, (_, keys) in _FAMILIES.items():
        req = [k.key for k in keys if k.required]
        opt = [k.key + (f"={'|'.join(k.choices)}" if k.choices else "") for k in keys if not k.required]
        lines.append(f"  {family:<13} {', '.join(req)} [{', '.join(opt)}]")
    lines.append(f"  {'array':<13} values=[a,b,...] | path=FILE.npy [sha256, warmup]")
    return "\n".join(lines)
