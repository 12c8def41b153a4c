"""Bootstrap confidence intervals for any fit: resample the data points with replacement, refit,
and summarise the spread of the refitted parameters.

A resample is expressed as integer multiplicities (weights) of the original points, so the
refit minimises exactly the resampled objective Σ countᵢ·wᵢ·ρ(rᵢ) on the original data. Laws with
a Rust batch (:class:`~lawfit.ChinchillaLaw`, :class:`~lawfit.PowerLaw`) refit every replicate
in parallel with rayon; curve laws run their replicates on a thread pool (the Rust solver
releases the GIL). The multiplicities come from ``numpy.random.default_rng(seed)``, and each
replicate is solved by deterministic code, so a given seed reproduces the result bit for bit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit._validate import LawfitInputError

if TYPE_CHECKING:
    from lawfit.fitting import FitResult
    from lawfit.laws import Law


@dataclass(frozen=True, eq=False)
class RefitSpec:
    """Everything needed to refit a :class:`~lawfit.FitResult` on re-weighted data (not saved)."""

    kind: str  # "points" or "curves"
    data: Any  # dict of arrays (points) or list of Curve
    targets: np.ndarray
    weights: np.ndarray | None
    best: np.ndarray  # solver coordinates
    lower: np.ndarray
    upper: np.ndarray
    fixed: list[bool]
    loss: str
    delta: float
    space: str
    ftol: float
    xtol: float
    gtol: float
    max_evals: int
    #: The fit's Gaussian prior as solver (means, weights), kept by every refit; or None.
    prior: tuple[list[float], list[float]] | None = None

    def solver(self, starts: np.ndarray) -> dict[str, Any]:
        """Solver keyword arguments of ``fit_core`` / ``fit_points`` with these ``starts``."""
        out = {"starts": np.ascontiguousarray(starts, dtype=np.float64), "lower": self.lower,
               "upper": self.upper, "fixed": list(self.fixed), "loss": self.loss, "delta": self.delta,
               "space": self.space, "ftol": self.ftol, "xtol": self.xtol, "gtol": self.gtol,
               "max_evals": self.max_evals}
        if self.prior is not None:
            out["prior"] = self.prior
        return out

    @property
    def n_points(self) -> int:
        return int(self.targets.size)


@dataclass
class BootstrapResult:
    """Bootstrap replicates of a fit and their summary.

    Attributes
    ----------
    params : dict[str, ndarray]
        Refitted value of each parameter per replicate, shape (n,); NaN where the refit failed.
    success : ndarray of bool, shape (n,)
        Whether each replicate's refit converged.
    cost : ndarray, shape (n,)
        Objective of each replicate (on its resampled data).
    stderr : dict[str, float]
        Standard deviation (ddof=1) of the converged replicates: the bootstrap standard error.
    interval : dict[str, tuple[float, float]]
        Percentile interval at ``level`` of the converged replicates.
    level : float
        Confidence level of ``interval``.
    n : int
        Replicates requested.
    seed : int or None
        Seed of the resampling.
    """

    params: dict[str, np.ndarray]
    success: np.ndarray
    cost: np.ndarray
    stderr: dict[str, float]
    interval: dict[str, tuple[float, float]]
    level: float
    n: int
    seed: int | None

    @property
    def n_success(self) -> int:
        """Replicates whose refit converged."""
        return int(self.success.sum())

    def report(self) -> str:
        """A short text table: estimate spread and interval per parameter."""
        lo_pct, hi_pct = 50 * (1 - self.level), 50 * (1 + self.level)
        lines = [f"[[Bootstrap: {self.n} replicates, {self.n_success} converged, seed={self.seed}]]",
                 f"    {'param':<8s} {'stderr':>12s} {f'{lo_pct:g}%':>14s} {f'{hi_pct:g}%':>14s}"]
        for k, se in self.stderr.items():
            lo, hi = self.interval[k]
            lines.append(f"    {k:<8s} {se:12.5g} {lo:14.6g} {hi:14.6g}")
        return "\n".join(lines)


def resample_weights(n_points: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Multiplicities of ``n`` resamples of ``n_points`` points drawn with replacement, (n, n_points)."""
    idx = rng.integers(0, n_points, size=(n, n_points))
    flat = (idx + n_points * np.arange(n)[:, None]).ravel()
    return np.bincount(flat, minlength=n * n_points).reshape(n, n_points).astype(np.float64)


def _replicate_starts(result: FitResult, spec: RefitSpec, starts: Any) -> np.ndarray:
    law = result.law
    if isinstance(starts, str):
        if starts == "best":
            return spec.best[None, :]
        if starts == "default":
            from lawfit.laws import PointLaw

            if isinstance(law, PointLaw):
                s = law.default_starts_points(spec.data, spec.targets, spec.weights)
            else:
                s = law.default_starts(spec.data)
            s = np.vstack([spec.best[None, :], s])
        else:
            raise LawfitInputError(f"starts must be 'best', 'default' or an array, got {starts!r}")
    else:
        s = np.atleast_2d(np.asarray(starts, dtype=np.float64))
        if s.shape[1] != len(law.param_names):
            raise LawfitInputError(f"starts must have shape (k, {len(law.param_names)})")
        s = _to_solver(law, s)
    s = np.clip(s, spec.lower, spec.upper)
    for j, f in enumerate(spec.fixed):
        if f:
            s[:, j] = spec.best[j]
    return np.ascontiguousarray(s)


def _to_solver(law: Law, vec: np.ndarray) -> np.ndarray:
    from lawfit.laws import PointLaw

    return law.to_solver(vec, name="starts") if isinstance(law, PointLaw) else vec


def _from_solver(law: Law, vec: np.ndarray) -> np.ndarray:
    from lawfit.laws import PointLaw

    return law.from_solver(vec) if isinstance(law, PointLaw) else vec


def _refit_curves(law: Any, spec: RefitSpec, weights: np.ndarray, starts: np.ndarray,
                  workers: int | None) -> dict[str, np.ndarray]:
    solver = spec.solver(starts)

    def one(w: np.ndarray) -> tuple[np.ndarray, float, bool]:
        rep = law.fit_core(spec.data, spec.targets, np.ascontiguousarray(w), **solver)
        return np.asarray(rep["params"], dtype=float), float(rep["cost"]), bool(rep["success"])

    n_workers = workers or min(32, 4 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        reps = list(pool.map(one, weights))
    return {"params": np.array([r[0] for r in reps]), "cost": np.array([r[1] for r in reps]),
            "success": np.array([r[2] for r in reps])}


def bootstrap_fit(result: FitResult, n: int = 1000, *, seed: int | None = 0, level: float = 0.95,
                  starts: Any = "best", workers: int | None = None) -> BootstrapResult:
    """Case-resampling bootstrap of a fit; see :meth:`lawfit.FitResult.bootstrap`."""
    spec: RefitSpec | None = getattr(result, "_refit", None)
    if spec is None:
        raise LawfitInputError(
            "this fit does not carry its data (it was loaded from a file); fit again to bootstrap it"
        )
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise LawfitInputError(f"n must be an integer >= 2, got {n!r}")
    if not (0 < float(level) < 1):
        raise LawfitInputError(f"level must lie in (0, 1), got {level!r}")
    rng = np.random.default_rng(seed)
    counts = resample_weights(spec.n_points, int(n), rng)
    weights = counts if spec.weights is None else counts * spec.weights[None, :]
    law = result.law
    start_arr = _replicate_starts(result, spec, starts)
    if spec.kind == "points":
        out = law.refit_points(spec.data, spec.targets, weights, **spec.solver(start_arr))  # type: ignore[attr-defined]
    else:
        out = _refit_curves(law, spec, weights, start_arr, workers)
    q = _from_solver(law, np.asarray(out["params"], dtype=float))
    success = np.asarray(out["success"], dtype=bool) & np.isfinite(q).all(axis=1)
    q[~success] = np.nan
    names = law.param_names
    params = {k: q[:, j] for j, k in enumerate(names)}
    lo_q, hi_q = 50 * (1 - level), 50 * (1 + level)
    stderr: dict[str, float] = {}
    interval: dict[str, tuple[float, float]] = {}
    for j, k in enumerate(names):
        v = q[success, j]
        if v.size >= 2:
            stderr[k] = float(np.std(v, ddof=1))
            interval[k] = (float(np.percentile(v, lo_q)), float(np.percentile(v, hi_q)))
        else:
            stderr[k] = math.nan
            interval[k] = (math.nan, math.nan)
    return BootstrapResult(params=params, success=success, cost=np.asarray(out["cost"], dtype=float),
                           stderr=stderr, interval=interval, level=float(level), n=int(n),
                           seed=seed)


def params_table(boot: BootstrapResult) -> Mapping[str, np.ndarray]:
    """The converged replicates only, by parameter name."""
    return {k: v[boot.success] for k, v in boot.params.items()}
