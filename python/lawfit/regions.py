"""Hestness regions of a learning curve: small-data, power-law and irreducible (spec §5).

An analysis built on fits (it fits the power law on every candidate split), so it sits above the
fitting layer: ``lf.regions(x, y)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array
from lawfit.batch import fit_many
from lawfit.fitting import FitResult, fit
from lawfit.laws import PowerLaw


@dataclass
class Regions:
    """Hestness regions of a learning curve (see :func:`regions`).

    Attributes
    ----------
    labels : ndarray of str, shape (n,)
        ``"small_data"``, ``"power_law"`` or ``"irreducible"`` per input point (input order).
    small_data_max : float
        Largest x of the small-data region (nan when empty).
    irreducible_min : float
        x beyond which the reducible term is below ``irreducible_ratio·c`` (inf when c ≤ 0).
    fit : FitResult
        The power-law fit on the points outside the small-data region.
    """

    labels: np.ndarray
    small_data_max: float
    irreducible_min: float
    fit: FitResult

    def mask(self, region: str) -> np.ndarray:
        """Boolean mask of one region's points."""
        if region not in ("small_data", "power_law", "irreducible"):
            raise LawfitInputError(f"unknown region {region!r}")
        return self.labels == region


def regions(x: Any, y: Any, *, irreducible_ratio: float = 0.1, max_small_frac: float = 0.75) -> Regions:
    """Label Hestness et al.'s three regions of a learning curve.

    The rule (documented, deterministic), on log errors:

    1. Sort by x. For every split k = 0, 1, …, (at most ``max_small_frac`` of the points, and
       leaving at least 4), model the first k points as a **flat** level (their mean log y)
       and fit the power law (least squares on log y) to the rest, in one :func:`fit_many`
       call. A split k > 0 is admissible only if its flat points lie, on average, *below* the
       power law extrapolated to them (the error has stalled at its best-guess level).
    2. Choose the split of lowest BIC = n·ln(SSE/n) + p·ln(n), with SSE the total squared log
       error of both segments and p = 3 parameters for k = 0, 5 for k > 0 (a, b, c, the flat
       level and the breakpoint). The first k points form the **small-data region**.
    3. **Irreducible-error region**: of the remaining points, those where the reducible term
       has fallen below ``irreducible_ratio`` times the floor, ``a·x^(−b) ≤ ratio·c`` (the
       error is within ``ratio`` of its limit c; the local log-log slope is below
       ``ratio/(1+ratio)`` of b). Requires c > 0; with c ≤ 0 no point is irreducible.
    4. Every other point is in the **power-law region**.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Training-set sizes (positive) and errors/losses (positive), n ≥ 4.
    irreducible_ratio : float, default 0.1
        Threshold of step 3.
    max_small_frac : float, default 0.75
        Largest share of the points the small-data region may take.

    Returns
    -------
    Regions
        Labels per point (input order), boundaries and the power-law fit (least squares on
        log y) of the points outside the small-data region.
    """
    law = PowerLaw()
    xa = as_float_array("x", x, positive=True, allow_empty=False)
    ya = as_float_array("y", y, positive=True)
    if ya.size != xa.size:
        raise LawfitInputError(f"y has length {ya.size}, expected {xa.size}")
    if not (irreducible_ratio > 0):
        raise LawfitInputError(f"irreducible_ratio must be positive, got {irreducible_ratio!r}")
    if not (0 <= max_small_frac < 1):
        raise LawfitInputError(f"max_small_frac must lie in [0, 1), got {max_small_frac!r}")
    n = xa.size
    if n < 4:
        raise LawfitInputError(f"regions need at least 4 points, got {n}")
    order = np.argsort(xa, kind="stable")
    xs, ys = xa[order], ya[order]
    log_y = np.log(ys)
    k_max = min(n - 4, int(max_small_frac * n))
    splits = np.arange(k_max + 1)
    mask = np.arange(n)[None, :] < splits[:, None]
    batch = fit_many(law, x=np.where(mask, np.nan, xs[None, :]), y=np.where(mask, np.nan, ys[None, :]),
                     space="log", robust="linear", nan_policy="omit")
    a_k, b_k, c_k = (batch.params[name] for name in law.param_names)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        pred = a_k[:, None] * xs[None, :] ** (-b_k[:, None]) + c_k[:, None]
        gap = np.log(pred) - log_y[None, :]  # > 0 where the point lies below the power law
    best_k, best_bic = 0, math.inf
    for k in splits:
        if not batch.success[k] or not np.all(np.isfinite(gap[k])):
            continue
        sse = float(np.sum(gap[k, k:] ** 2))
        if k > 0:
            if gap[k, :k].mean() <= 0:
                continue
            flat = log_y[:k] - log_y[:k].mean()
            sse += float(np.sum(flat**2))
        p = 3 if k == 0 else 5
        bic = n * math.log(max(sse, 1e-300) / n) + p * math.log(n)
        if bic < best_bic:
            best_k, best_bic = int(k), bic
    n_small = best_k
    f = fit(law, x=xs[n_small:], y=ys[n_small:], space="log", robust="linear")
    a, b, c = (f.params[k_] for k_ in law.param_names)
    reducible = a * xs ** (-b)
    irreducible = (c > 0) & (reducible <= irreducible_ratio * c)
    irreducible[:n_small] = False
    labels_sorted = np.where(irreducible, "irreducible", "power_law").astype(object)
    labels_sorted[:n_small] = "small_data"
    labels = np.empty(xs.size, dtype=object)
    labels[order] = labels_sorted
    x_irr = (a / (irreducible_ratio * c)) ** (1.0 / b) if (c > 0 and a > 0 and b > 0) else math.inf
    small_max = float(xs[n_small - 1]) if n_small else math.nan
    return Regions(labels=labels.astype(str), small_data_max=small_max, irreducible_min=float(x_irr),
                   fit=f)
