"""Crossover of two fitted scaling curves (Xiao 2024, arXiv 2409.15156; spec §6).

Two methods' (scale, loss) points are each fitted with a law of one variable; the crossover x*
solves f_a(x) = f_b(x). For pure power laws log x* = (log a_a − log a_b)/(b_a − b_b); lawfit
finds every sign change of f_a − f_b on a fine log grid of the search window and refines each by
bisection to machine precision, so any one-variable law (with an irreducible term or not) works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError

if TYPE_CHECKING:
    from lawfit.fitting import FitResult

#: Points of the log grid on which sign changes are searched.
GRID_POINTS = 4001
#: Bisection steps refining each bracket (far beyond double precision of log x).
BISECTIONS = 64


@dataclass
class Crossover:
    """Where two fitted curves cross, how sure that is, and who wins on each side.

    Attributes
    ----------
    x : float
        The crossover x* (the crossing nearest the observed range's log-centre; NaN when the
        curves do not cross in the search window).
    interval : tuple of float
        Bootstrap percentile interval of x* at ``level`` (NaN when not computed or no crossing).
    level : float
        Confidence level of ``interval``.
    in_range : bool
        Whether x* lies inside the observed ``range``.
    range : tuple of float
        The observed x range.
    search : tuple of float
        The x window searched for crossings.
    winner_below, winner_above : str
        Name of the method with the better (lower, unless ``lower_is_better=False``) value just
        below and just above x*; with no crossing both name the method that wins throughout.
    crossings : list of float
        Every crossing found in the search window (ascending).
    boot_x : ndarray
        x* of each bootstrap replicate pair (NaN when that pair does not cross).
    fraction_crossing : float
        Share of converged replicate pairs that cross in the search window.
    names : tuple of str
        Labels of the two fits.
    """

    x: float
    interval: tuple[float, float]
    level: float
    in_range: bool
    range: tuple[float, float]
    search: tuple[float, float]
    winner_below: str
    winner_above: str
    crossings: list[float]
    boot_x: np.ndarray = field(repr=False)
    fraction_crossing: float
    names: tuple[str, str]

    def report(self) -> str:
        """A one-paragraph text summary."""
        a, b = self.names
        if not math.isfinite(self.x):
            return (f"{a} and {b} do not cross in [{self.search[0]:.4g}, {self.search[1]:.4g}]; "
                    f"{self.winner_below} is better throughout.")
        where = "inside" if self.in_range else "outside"
        lo, hi = self.interval
        ci = f", {self.level:.0%} bootstrap interval [{lo:.4g}, {hi:.4g}]" if math.isfinite(lo) else ""
        return (f"{a} and {b} cross at x* = {self.x:.4g}{ci}, {where} the observed range "
                f"[{self.range[0]:.4g}, {self.range[1]:.4g}]; {self.winner_below} is better below, "
                f"{self.winner_above} above ({self.fraction_crossing:.0%} of bootstrap pairs cross).")


def _one_variable(fit: Any, which: str) -> Any:
    from lawfit.fitting import FitResult
    from lawfit.laws import PointLaw

    if not isinstance(fit, FitResult):
        raise LawfitTypeError(f"{which} must be a FitResult, got {type(fit).__name__}")
    law = fit.law
    if not isinstance(law, PointLaw) or tuple(law.data_names) != ("x",):
        raise LawfitInputError(
            f"{which} is a {type(law).__name__} fit; crossover needs a law of one variable x"
        )
    return law


def _x_range(fit: FitResult) -> tuple[float, float] | None:
    rng = fit.options.get("data", {}).get("range", {}).get("x")
    return (float(rng[0]), float(rng[1])) if rng else None


def _diff(law_a: Any, pa: dict[str, np.ndarray], law_b: Any, pb: dict[str, np.ndarray],
          x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return law_a.curve(pa, x) - law_b.curve(pb, x)


def find_crossings(law_a: Any, pa: dict[str, Any], law_b: Any, pb: dict[str, Any], lo: float, hi: float
                   ) -> tuple[list[list[float]], list[list[tuple[float, float]]]]:
    """Crossings of f_a − f_b in [lo, hi] for each of m parameter rows.

    ``pa``/``pb`` map parameter names to arrays of shape (m,). Returns, per row, the crossings
    (ascending) and, per crossing, the difference f_a − f_b just below and just above it.
    """
    pa2 = {k: np.atleast_1d(np.asarray(v, dtype=np.float64))[:, None] for k, v in pa.items()}
    pb2 = {k: np.atleast_1d(np.asarray(v, dtype=np.float64))[:, None] for k, v in pb.items()}
    m = next(iter(pa2.values())).shape[0]
    u = np.linspace(math.log(lo), math.log(hi), GRID_POINTS)
    g = _diff(law_a, pa2, law_b, pb2, np.exp(u)[None, :])
    g = np.broadcast_to(g, (m, GRID_POINTS))
    left, right = g[:, :-1], g[:, 1:]
    opposite = ((left < 0) & (right > 0)) | ((left > 0) & (right < 0))
    bracket = np.isfinite(left) & np.isfinite(right) & opposite
    zero = (left == 0) & np.isfinite(right) & (right != 0)
    rows, cols = np.nonzero(bracket | zero)
    lo_u, hi_u = u[cols].copy(), u[cols + 1].copy()
    g_lo = left[rows, cols].copy()
    sel_a = {k: v[rows] for k, v in pa2.items()}
    sel_b = {k: v[rows] for k, v in pb2.items()}
    exact = g_lo == 0  # a grid point is itself a root
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo_u + hi_u)
        gm = _diff(law_a, sel_a, law_b, sel_b, np.exp(mid)[:, None])[:, 0]
        same = np.sign(gm) == np.sign(g_lo)
        lo_u = np.where(same, mid, lo_u)
        hi_u = np.where(same, hi_u, mid)
        g_lo = np.where(same, gm, g_lo)
    x_star = np.where(exact, np.exp(u[cols]), np.exp(0.5 * (lo_u + hi_u)))
    before = np.where(cols > 0, g[rows, np.maximum(cols - 1, 0)], left[rows, cols])
    below = np.where(exact, before, left[rows, cols])
    above = right[rows, cols]
    out: list[list[float]] = [[] for _ in range(m)]
    sides: list[list[tuple[float, float]]] = [[] for _ in range(m)]
    for r, xs, bl, ab in zip(rows, x_star, below, above, strict=True):
        out[r].append(float(xs))
        sides[r].append((float(bl), float(ab)))
    return out, sides


def crossover(
    fit_a: FitResult,
    fit_b: FitResult,
    *,
    range: tuple[float, float] | None = None,  # noqa: A002 - the documented keyword (spec §6)
    search: tuple[float, float] | None = None,
    n_boot: int = 1000,
    seed: int | None = 0,
    level: float = 0.95,
    lower_is_better: bool = True,
    names: tuple[str, str] = ("a", "b"),
) -> Crossover:
    """Crossover x* of two fitted one-variable laws, with a bootstrap interval.

    Parameters
    ----------
    fit_a, fit_b : FitResult
        Fits of :class:`~lawfit.PowerLaw` or :class:`~lawfit.PurePowerLaw` (any mix) to two
        methods' (scale, loss) points.
    range : (float, float), optional
        The observed scale range (default: the union of both fits' x ranges).
    search : (float, float), optional
        Window searched for crossings (default: 1000× beyond ``range`` on each side).
    n_boot : int, default 1000
        Bootstrap replicates per fit (0 skips the interval). Replicate i of ``fit_a`` is paired
        with replicate i of ``fit_b``; each pair's crossing nearest x* gives one draw of x*.
    seed : int or None, default 0
        Seed of the resampling (``fit_b`` uses ``seed + 1``).
    level : float, default 0.95
        Confidence level of the percentile interval.
    lower_is_better : bool, default True
        Whether the lower curve wins (losses, errors); False for accuracies.
    names : (str, str), default ("a", "b")
        Labels of the two fits in the result.

    Returns
    -------
    Crossover
    """
    law_a = _one_variable(fit_a, "fit_a")
    law_b = _one_variable(fit_b, "fit_b")
    if range is None:
        ra, rb = _x_range(fit_a), _x_range(fit_b)
        if ra is None or rb is None:
            raise LawfitInputError("the fits carry no data range (loaded from files?); pass range=(lo, hi)")
        range = (min(ra[0], rb[0]), max(ra[1], rb[1]))
    lo, hi = (float(v) for v in range)
    if not (0 < lo < hi < math.inf):
        raise LawfitInputError(f"range must satisfy 0 < lo < hi, got {range!r}")
    if search is None:
        search = (lo / 1e3, hi * 1e3)
    s_lo, s_hi = (float(v) for v in search)
    if not (0 < s_lo < s_hi < math.inf):
        raise LawfitInputError(f"search must satisfy 0 < lo < hi, got {search!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0 or n_boot == 1:
        raise LawfitInputError(f"n_boot must be 0 or an integer >= 2, got {n_boot!r}")
    if not (0 < level < 1):
        raise LawfitInputError(f"level must lie in (0, 1), got {level!r}")
    sign = 1.0 if lower_is_better else -1.0
    a_name, b_name = names

    def winner(diff: float) -> str:
        return a_name if sign * diff < 0 else b_name

    pa = {k: np.array([v]) for k, v in fit_a.params.items()}
    pb = {k: np.array([v]) for k, v in fit_b.params.items()}
    crossings, sides = find_crossings(law_a, pa, law_b, pb, s_lo, s_hi)
    xs, sd = crossings[0], sides[0]
    centre = 0.5 * (math.log(lo) + math.log(hi))
    if xs:
        k = int(np.argmin([abs(math.log(v) - centre) for v in xs]))
        x_star = xs[k]
        w_below, w_above = winner(sd[k][0]), winner(sd[k][1])
    else:
        x_star = math.nan
        pa2 = {k: v[:, None] for k, v in pa.items()}
        pb2 = {k: v[:, None] for k, v in pb.items()}
        mid = float(_diff(law_a, pa2, law_b, pb2, np.array([[math.exp(centre)]]))[0, 0])
        w_below = w_above = winner(mid)
    boot_x = np.full(n_boot, np.nan)
    fraction = math.nan
    interval = (math.nan, math.nan)
    if n_boot:
        ba = fit_a.bootstrap(n_boot, seed=seed)
        bb = fit_b.bootstrap(n_boot, seed=None if seed is None else seed + 1)
        ok = ba.success & bb.success
        idx = np.nonzero(ok)[0]
        if idx.size:
            rep_a = {k: v[idx] for k, v in ba.params.items()}
            rep_b = {k: v[idx] for k, v in bb.params.items()}
            rep_x, _ = find_crossings(law_a, rep_a, law_b, rep_b, s_lo, s_hi)
            target = math.log(x_star) if math.isfinite(x_star) else centre
            for i, cands in zip(idx, rep_x, strict=True):
                if cands:
                    boot_x[i] = min(cands, key=lambda v: abs(math.log(v) - target))
            fraction = float(np.isfinite(boot_x[idx]).mean())
            finite = boot_x[np.isfinite(boot_x)]
            if math.isfinite(x_star) and finite.size >= 2:
                interval = (float(np.percentile(finite, 50 * (1 - level))),
                            float(np.percentile(finite, 50 * (1 + level))))
    return Crossover(x=float(x_star), interval=interval, level=float(level),
                     in_range=bool(math.isfinite(x_star) and lo <= x_star <= hi), range=(lo, hi),
                     search=(s_lo, s_hi), winner_below=w_below, winner_above=w_above, crossings=list(xs),
                     boot_x=boot_x, fraction_crossing=fraction, names=(a_name, b_name))
