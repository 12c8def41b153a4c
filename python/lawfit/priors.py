"""Gaussian priors on a law's parameters (spec §14): validation and the solver's weights.

A prior ``{"C": (0.4, 0.1)}`` adds ½·((C − 0.4)/0.1)² to the fit's objective, in the units of the
data's log-likelihood, so the fit returns the MAP estimate and its covariance includes the prior.
The Rust solver minimises Σ wᵢ·ρ(rᵢ) + ½·Σⱼ wⱼ·(θⱼ − μⱼ)²; with residual variance s² (estimated from
the unpenalised fit, or 1 with ``absolute_sigma``) the weights are wⱼ = s²/σⱼ², and the covariance
s²·H⁻¹ of the penalised Gauss–Newton matrix H = H_data + diag(w) equals (H_data/s² + Σ⁻¹)⁻¹.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError

#: Normalised prior: parameter name -> (mean, standard deviation), both finite, sd > 0.
PriorMap = dict[str, tuple[float, float]]


def _is_fit_result(obj: Any) -> bool:
    return hasattr(obj, "params") and hasattr(obj, "stderr") and hasattr(obj, "law")


def normalize_prior(prior: Any, names: Sequence[str], fixed: Mapping[str, float]) -> PriorMap | None:
    """Validate ``prior`` into {name: (mean, sd)}, or None for no prior.

    Parameters
    ----------
    prior : mapping, FitResult or None
        ``{name: (mean, sd)}``; or an earlier fit, whose values and finite standard errors
        become the prior of every parameter the two laws share (others are skipped).
    names : sequence of str
        The law's parameter names.
    fixed : mapping
        Parameters the fit holds fixed: a prior on one of them is an error.
    """
    if prior is None:
        return None
    if _is_fit_result(prior):
        out: PriorMap = {}
        for k in names:
            if k in fixed or k not in prior.params:
                continue
            mean, sd = float(prior.params[k]), float(prior.stderr.get(k, math.nan))
            if math.isfinite(mean) and math.isfinite(sd) and sd > 0:
                out[k] = (mean, sd)
        if not out:
            raise LawfitInputError(
                f"the prior fit ({type(prior.law).__name__}) has no parameter with a finite standard "
                f"error among {list(names)}; pass a mapping {{name: (mean, sd)}} instead"
            )
        return out
    if not isinstance(prior, Mapping):
        raise LawfitInputError(
            f"prior must be a mapping {{name: (mean, sd)}}, a FitResult or None, got {type(prior).__name__}"
        )
    out = {}
    for k, v in prior.items():
        if k not in names:
            raise LawfitInputError(f"prior names unknown parameter {k!r}; parameters are {list(names)}")
        if k in fixed:
            raise LawfitInputError(f"parameter {k} is fixed; a prior on it has no effect (drop one of them)")
        try:
            mean, sd = (float(x) for x in v)
        except (TypeError, ValueError):
            raise LawfitInputError(f"prior[{k!r}] must be a pair (mean, sd) of numbers, got {v!r}") from None
        if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
            raise LawfitInputError(f"prior[{k!r}] = ({mean!r}, {sd!r}): the mean must be finite and sd > 0")
        out[k] = (mean, sd)
    return out or None


def residual_scale(cost: float, n: int, n_free: int, *, absolute_sigma: bool) -> float:
    """s² of the unpenalised fit (``curve_fit`` conventions): 2·cost/(n − p), or 1."""
    if absolute_sigma:
        return 1.0
    dof = n - n_free
    if dof <= 0 or not math.isfinite(cost):
        raise LawfitInputError(
            f"a prior needs more data points ({n}) than free parameters ({n_free}) to scale it against "
            "the residuals; pass weights of known noise with absolute_sigma=True"
        )
    return max(2.0 * cost / dof, np.finfo(float).tiny)


def solver_prior(
    names: Sequence[str],
    prior: PriorMap,
    s2: float,
    *,
    to_solver: Callable[[np.ndarray], np.ndarray] | None = None,
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[list[float], list[float]]:
    """(means, weights) in the solver's coordinates, weights wⱼ = s²/σⱼ² (0 without a prior).

    Laws fitted in transformed coordinates (e.g. log A) pass ``to_solver`` and the derivative of
    the public parameters with respect to the solver's (elementwise): the prior becomes Gaussian
    in the solver's coordinates with the delta-method width σ / |∂θ/∂q| at the mean.
    """
    p = len(names)
    mean = np.zeros(p)
    sd = np.full(p, math.inf)
    for j, k in enumerate(names):
        if k in prior:
            mean[j], sd[j] = prior[k]
    has = np.isfinite(sd)
    if to_solver is not None:
        pub = mean.copy()
        # Parameters without a prior get a harmless placeholder before the transform.
        pub[~has] = 1.0
        mean = np.asarray(to_solver(pub), dtype=float)
        if derivative is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                sd = sd / np.abs(np.asarray(derivative(mean), dtype=float))
        if not np.all(np.isfinite(mean[has])) or not np.all(np.isfinite(sd[has]) & (sd[has] > 0)):
            bad = [k for j, k in enumerate(names)
                   if has[j] and not (np.isfinite(mean[j]) and np.isfinite(sd[j]))]
            raise LawfitInputError(f"prior of {bad} is outside the law's parameter domain")
    weight = np.where(has, s2 / np.where(has, sd, 1.0) ** 2, 0.0)
    mean = np.where(has, mean, 0.0)
    return mean.tolist(), weight.tolist()


def prior_starts(
    best: np.ndarray,
    names: Sequence[str],
    prior: PriorMap,
    lower: np.ndarray,
    upper: np.ndarray,
    to_solver: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Starts of the penalised fit: the unpenalised optimum, and it with the prior means put in."""
    moved = np.array(best, dtype=float)
    pub = np.array([prior[k][0] if k in prior else 1.0 for k in names])
    target = np.asarray(to_solver(pub), dtype=float) if to_solver is not None else pub
    for j, k in enumerate(names):
        if k in prior:
            moved[j] = target[j]
    moved = np.clip(moved, lower, upper)
    return np.ascontiguousarray(np.vstack([best, moved]))


def prior_to_json(prior: PriorMap | None) -> dict[str, list[float]] | None:
    """The prior as saved in fit files: {name: [mean, sd]}."""
    return None if prior is None else {k: [m, s] for k, (m, s) in prior.items()}


def refit_with_prior(
    run: Callable[[np.ndarray, tuple[list[float], list[float]]], dict[str, Any]],
    rep: dict[str, Any],
    names: Sequence[str],
    prior: PriorMap,
    *,
    n: int,
    n_free: int,
    absolute_sigma: bool,
    lower: np.ndarray,
    upper: np.ndarray,
    to_solver: Callable[[np.ndarray], np.ndarray] | None = None,
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[dict[str, Any], float]:
    """The MAP fit: scale the prior by the unpenalised fit ``rep``'s s², then refit with it.

    ``run(starts, (means, weights))`` runs the law's solver; returns (report, s²). The penalised
    solve starts from the unpenalised optimum and from it with the prior means put in, so it
    ends at the better of the two basins.
    """
    s2 = residual_scale(float(rep["cost"]), n, n_free, absolute_sigma=absolute_sigma)
    vectors = solver_prior(names, prior, s2, to_solver=to_solver, derivative=derivative)
    best = np.asarray(rep["params"], dtype=float)
    starts = prior_starts(best, names, prior, lower, upper, to_solver=to_solver)
    out = run(starts, vectors)
    # Starts of the first fit that converged count too.
    out["n_starts"] = rep["n_starts"]
    out["n_converged"] = rep["n_converged"]
    out["n_evals"] = rep["n_evals"] + out["n_evals"]
    return out, s2


def prior_from_cli(values: Sequence[str] | None) -> Any:
    """The ``--prior`` arguments of the CLI: ``NAME=MEAN,SD`` (repeatable) or one saved fit.

    Returns a mapping {name: (mean, sd)}, a :class:`~lawfit.FitResult`, or None.
    """
    if not values:
        return None
    pairs = [v for v in values if "=" in v]
    files = [v for v in values if "=" not in v]
    if files and (pairs or len(files) > 1):
        raise LawfitInputError("--prior takes either one fit JSON file or NAME=MEAN,SD entries, not both")
    if files:
        from lawfit.fitting import load_fit

        return load_fit(files[0])
    out: dict[str, tuple[float, float]] = {}
    for v in pairs:
        name, _, rest = v.partition("=")
        parts = rest.split(",")
        try:
            mean, sd = (float(x) for x in parts)
        except ValueError:
            raise LawfitInputError(f"--prior {v!r}: expected NAME=MEAN,SD, e.g. --prior C=0.4,0.1") from None
        if name.strip() in out:
            raise LawfitInputError(f"--prior names {name.strip()!r} twice")
        out[name.strip()] = (mean, sd)
    return out
