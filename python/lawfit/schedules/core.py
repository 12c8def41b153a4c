"""The :class:`Schedule` type, argument validation and the building blocks the presets share."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError, as_float_array
from lawfit.schedules.table import _format_spec

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
