"""LR areas S1, S2 of the momentum law (Tissue et al. 2024, arXiv 2408.11029), computed in Rust."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from lawfit import _core
from lawfit._validate import LawfitInputError, as_float_array

if TYPE_CHECKING:
    from lawfit.schedules import Schedule

WarmupMode = Literal["as_peak", "actual", "exclude"]


def areas(
    lr: np.ndarray | Schedule,
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: WarmupMode = "actual",
    derivative: bool = False,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Forward area S1 and annealing area S2 of a learning-rate schedule.

    ``S1(s) = Σ_{i≤s} η_i``; ``m_i = λ·m_{i−1} + (η_{i−1} − η_i)``, ``m_1 = 0``;
    ``S2(s) = Σ_{i≤s} m_i``.

    Parameters
    ----------
    lr : array_like, shape (T,), or Schedule
        Learning rate of every step: ``lr[i]`` is the LR of step ``i + 1``. Finite, non-negative.
    decay : float, default 0.999
        Momentum decay λ in [0, 1]; λ = 0 gives ``S2(s) = η_1 − η_s``.
    warmup_steps : int, default 0
        Number of leading warmup steps W (0 ≤ W ≤ T).
    warmup : {"actual", "as_peak", "exclude"}, default "actual"
        ``actual`` sums the real ramp (the multi-power-law repository, and the default of every
        law and of the CLI); ``as_peak`` counts warmup steps at the peak LR (Tissue et al.'s
        paper); ``exclude`` starts both sums after the warmup.
    derivative : bool, default False
        Also return dS2/dλ (needed to fit λ).

    Returns
    -------
    S1, S2 : ndarray, shape (T,), float64
        Areas after every step, in LR·steps.
    dS2_ddecay : ndarray, shape (T,), float64
        Only when ``derivative`` is true.

    The returned arrays are the rows of one C-contiguous ``(2, T)`` (or ``(3, T)``) block, so
    they share one allocation (cheaper to create than separate arrays).

    Raises
    ------
    LawfitInputError
        NaN, infinite or negative LR (the message names the index), λ outside [0, 1],
        ``warmup_steps`` larger than the schedule, or an unknown ``warmup`` mode.
    """
    from lawfit.schedules import Schedule

    if isinstance(lr, Schedule):
        lr = lr.lr
    # Finiteness and sign are checked by the Rust core in the same pass that computes the areas
    # (with the same message naming the index), so no separate NumPy pass here.
    arr = as_float_array("lr", lr, finite=False)
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)):
        raise LawfitInputError(f"warmup_steps must be an integer, got {warmup_steps!r}")
    if warmup_steps < 0:
        raise LawfitInputError(f"warmup_steps must be >= 0, got {warmup_steps}")
    rows = _core.areas(
        arr, decay=float(decay), warmup_steps=int(warmup_steps), warmup=warmup, derivative=derivative
    )
    return (rows[0], rows[1], rows[2]) if derivative else (rows[0], rows[1])
