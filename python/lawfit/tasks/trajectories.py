"""Checkpoint trajectories: benchmark scores across training (spec §11; Yang et al. 2024, "The Fine
Line", arXiv 2404.01204).

* :func:`fit_trajectory` fits a task's score against training tokens with a logistic in
  ``log10(tokens)``:

      score(D) = lower + (upper − lower) · σ(rate · (log10 D − midpoint)),   σ(z) = 1/(1 + e^(−z)),

  a saturating curve that rises (``upper > lower``) or falls (``upper < lower``, e.g. a loss)
  from ``lower`` to ``upper``; ``midpoint`` is the log10 token count where half of the change is
  done. ``lower`` can be fixed (e.g. at chance accuracy). Least squares with
  ``scipy.optimize.least_squares`` from a grid of starts; covariance ``s²·(JᵀJ)⁻¹``.
* :func:`compare_sizes` fits every model size and tabulates the fitted curves (final level, speed,
  tokens to reach a score, scores at common token counts).
* :func:`predict_task` predicts a held-out task's trajectory from the correlated tasks of the same
  domain: ridge regression of the held-out task's score on the other tasks' scores, trained on
  checkpoints where the held-out task was measured (e.g. other models), applied to the checkpoints
  where it was not. The ridge penalty is chosen by exact leave-one-out error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawfit._core import LawfitInputError
from lawfit._optional import require
from lawfit._validate import as_float_array

_optimize = require("scipy.optimize", extra="tasks", package="scipy", what="lawfit.tasks.trajectories")
_stats = require("scipy.stats", extra="tasks", package="scipy", what="lawfit.tasks.trajectories")

__all__ = [
    "TaskPrediction",
    "TrajectoryComparison",
    "TrajectoryFit",
    "compare_sizes",
    "fit_trajectory",
    "logistic_log_tokens",
    "predict_task",
    "rank_correlated_tasks",
]

PARAMS = ("lower", "upper", "rate", "midpoint")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_log_tokens(tokens: Any, lower: float, upper: float, rate: float, midpoint: float) -> np.ndarray:
    """``lower + (upper − lower)·σ(rate·(log10 tokens − midpoint))``.

    Parameters
    ----------
    tokens : array_like
        Training tokens (> 0).
    lower, upper : float
        Score as tokens → 0 and → ∞.
    rate : float
        Steepness per decade of tokens (> 0).
    midpoint : float
        ``log10`` of the token count at half of the change.

    Returns
    -------
    np.ndarray
        Same shape as ``tokens``.
    """
    x = np.log10(np.asarray(tokens, dtype=np.float64))
    return lower + (upper - lower) * _sigmoid(rate * (x - midpoint))


@dataclass(frozen=True)
class TrajectoryFit:
    """A logistic-in-log-tokens fit of one task's checkpoint trajectory.

    Attributes
    ----------
    params : dict[str, float]
        ``lower``, ``upper``, ``rate`` (per decade), ``midpoint`` (log10 tokens).
    stderr : dict[str, float]
        Standard errors (0 for a fixed parameter; ``inf`` when not identifiable).
    cov : np.ndarray, shape (4, 4)
        Covariance in the order of ``params`` (zero rows/columns for fixed parameters).
    fixed : tuple of str
        Parameters held fixed.
    rmse, r2 : float
        Goodness of fit.
    success : bool
        ``scipy.optimize.least_squares`` converged.
    n_points : int
        Checkpoints fitted.
    """

    params: dict[str, float]
    stderr: dict[str, float]
    cov: np.ndarray
    fixed: tuple[str, ...]
    rmse: float
    r2: float
    success: bool
    n_points: int

    def predict(self, tokens: Any) -> np.ndarray:
        """Fitted score at ``tokens`` (array_like, > 0)."""
        return logistic_log_tokens(tokens, **self.params)

    def tokens_to_reach(self, score: float) -> float:
        """Tokens at which the fitted curve reaches ``score`` (``nan`` if it never does)."""
        lo, hi, k, m = (self.params[p] for p in PARAMS)
        frac = (score - lo) / (hi - lo) if hi != lo else np.nan
        if not 0 < frac < 1:
            return float("nan")
        return float(10 ** (m + np.log(frac / (1 - frac)) / k))


def fit_trajectory(
    tokens: Any,
    scores: Any,
    *,
    lower: float | None = None,
    upper: float | None = None,
    max_rate: float = 50.0,
) -> TrajectoryFit:
    """Fit ``score(D) = lower + (upper − lower)·σ(rate·(log10 D − midpoint))`` to checkpoints.

    Parameters
    ----------
    tokens : array_like, shape (n_checkpoints,)
        Training tokens at each checkpoint (> 0; drop the step-0 checkpoint).
    scores : array_like, shape (n_checkpoints,)
        Task score at each checkpoint.
    lower, upper : float, optional
        Fix the corresponding asymptote (e.g. ``lower`` = chance accuracy).
    max_rate : float
        Upper bound on ``rate`` (per decade), keeping step-like fits finite.

    Returns
    -------
    TrajectoryFit
    """
    t = as_float_array("tokens", tokens, positive=True, allow_empty=False)
    y = as_float_array("scores", scores)
    if y.shape != t.shape:
        raise LawfitInputError(f"scores has shape {y.shape} but tokens has shape {t.shape}")
    fixed = {k: v for k, v in (("lower", lower), ("upper", upper)) if v is not None}
    free = [p for p in PARAMS if p not in fixed]
    if t.size < len(free):
        raise LawfitInputError(f"need ≥ {len(free)} checkpoints for the free parameters, got {t.size}")
    x = np.log10(t)
    order = np.argsort(x)
    xs, ys = x[order], y[order]
    n_edge = max(1, t.size // 5)
    y_first, y_last = float(ys[:n_edge].mean()), float(ys[-n_edge:].mean())
    span = float(np.ptp(y)) or 1.0
    xlo, xhi = float(xs[0]), float(xs[-1])
    width = max(xhi - xlo, 1e-3)

    def unpack(theta: np.ndarray) -> dict[str, float]:
        vals = dict(fixed)
        vals.update(zip(free, (float(v) for v in theta), strict=True))
        return vals

    def resid(theta: np.ndarray) -> np.ndarray:
        return logistic_log_tokens(t, **unpack(theta)) - y

    lo_b = {"lower": -np.inf, "upper": -np.inf, "rate": 1e-6, "midpoint": xlo - 3 * width}
    hi_b = {"lower": np.inf, "upper": np.inf, "rate": max_rate, "midpoint": xhi + 3 * width}
    bounds = ([lo_b[p] for p in free], [hi_b[p] for p in free])
    x_scale = [span if p in ("lower", "upper") else 1.0 for p in free]
    best = None
    for mid in np.linspace(xlo, xhi, 5):
        for rate in (0.5, 2.0, 8.0):
            # asymptotes a bit beyond the observed ends, in the direction of travel
            d = y_last - y_first
            start = {"lower": y_first - 0.1 * d, "upper": y_last + 0.1 * d, "rate": rate, "midpoint": mid}
            theta0 = np.array([start[p] for p in free])
            theta0 = np.clip(theta0, *bounds)
            try:
                res = _optimize.least_squares(resid, theta0, bounds=bounds, x_scale=x_scale)
            except ValueError:
                continue
            if best is None or res.cost < best.cost:
                best = res
    if best is None:  # pragma: no cover - every start failed
        raise LawfitInputError("trajectory fit failed from every start")
    r = best.fun
    dof = t.size - len(free)
    s2 = float(r @ r) / dof if dof > 0 else float("nan")
    jac = best.jac
    cov_free = np.full((len(free), len(free)), np.inf)
    try:
        if dof > 0:
            cov_free = np.linalg.pinv(jac.T @ jac) * s2
    except np.linalg.LinAlgError:  # pragma: no cover
        pass
    cov = np.zeros((4, 4))
    idx = [PARAMS.index(p) for p in free]
    cov[np.ix_(idx, idx)] = cov_free
    params = unpack(best.x)
    sd = np.sqrt(np.abs(np.diag(cov)))
    ss = float(np.sum((y - y.mean()) ** 2))
    return TrajectoryFit(
        params={p: params[p] for p in PARAMS},
        stderr={p: float(sd[i]) for i, p in enumerate(PARAMS)},
        cov=cov,
        fixed=tuple(fixed),
        rmse=float(np.sqrt(np.mean(r**2))),
        r2=1.0 - float(r @ r) / ss if ss > 0 else float("nan"),
        success=bool(best.success),
        n_points=int(t.size),
    )


# --------------------------------------------------------------------------------------------------
# across model sizes


@dataclass(frozen=True)
class TrajectoryComparison:
    """Fitted trajectories of one task for several models (sizes).

    Attributes
    ----------
    labels : list
        Model labels (e.g. parameter counts), in the order given.
    fits : dict
        ``label -> TrajectoryFit``.
    rows : list of dict
        Per model: ``label``, the four parameters, ``final`` (fitted score at the model's last
        checkpoint), ``last_tokens``, ``rmse``, ``r2``.
    """

    labels: list[Any]
    fits: dict[Any, TrajectoryFit]
    rows: list[dict[str, Any]]

    def scores_at(self, tokens: Any) -> np.ndarray:
        """Fitted scores of every model at common token counts, shape (n_models, n_tokens)."""
        return np.stack([self.fits[k].predict(np.atleast_1d(tokens)) for k in self.labels])

    def tokens_to_reach(self, score: float) -> dict[Any, float]:
        """Tokens each model needs to reach ``score`` on its fitted curve (``nan`` if never)."""
        return {k: self.fits[k].tokens_to_reach(score) for k in self.labels}

    def size_trend(self, sizes: Any, param: str = "upper") -> tuple[float, float]:
        """Spearman correlation (rho, p-value) between model size and a fitted parameter."""
        s = as_float_array("sizes", sizes)
        if s.size != len(self.labels):
            raise LawfitInputError(f"got {s.size} sizes for {len(self.labels)} models")
        v = [self.fits[k].params[param] for k in self.labels]
        res = _stats.spearmanr(s, v)
        return float(res[0]), float(res[1])

    def table(self) -> str:
        """Plain-text table of :attr:`rows`."""
        head = (f"{'model':>12} {'lower':>8} {'upper':>8} {'rate':>7} {'mid(log10 D)':>13} "
                f"{'final':>8} {'R2':>7}")
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r['label']!s:>12} {r['lower']:>8.4f} {r['upper']:>8.4f} {r['rate']:>7.3f} "
                         f"{r['midpoint']:>13.3f} {r['final']:>8.4f} {r['r2']:>7.3f}")
        return "\n".join(lines)


def compare_sizes(
    runs: Mapping[Any, tuple[Any, Any]],
    *,
    lower: float | None = None,
    upper: float | None = None,
) -> TrajectoryComparison:
    """Fit one task's trajectory for each model and tabulate them.

    Parameters
    ----------
    runs : mapping
        ``label -> (tokens, scores)`` per model (label e.g. its parameter count).
    lower, upper : float, optional
        Asymptotes fixed for every model (e.g. chance accuracy).

    Returns
    -------
    TrajectoryComparison
    """
    if not runs:
        raise LawfitInputError("runs is empty")
    labels = list(runs)
    fits: dict[Any, TrajectoryFit] = {}
    rows = []
    for k in labels:
        tok, sc = runs[k]
        f = fit_trajectory(tok, sc, lower=lower, upper=upper)
        fits[k] = f
        last = float(np.max(np.asarray(tok, dtype=np.float64)))
        rows.append({"label": k, **f.params, "final": float(f.predict(last)), "last_tokens": last,
                     "rmse": f.rmse, "r2": f.r2})
    return TrajectoryComparison(labels=labels, fits=fits, rows=rows)


# --------------------------------------------------------------------------------------------------
# held-out task from correlated tasks


def rank_correlated_tasks(other_scores: Any, target: Any) -> np.ndarray:
    """Order tasks by |Pearson r| of their scores with the target's, highest first.

    Parameters
    ----------
    other_scores : array_like, shape (n_checkpoints, n_tasks)
        Scores of candidate tasks at checkpoints where the target was measured.
    target : array_like, shape (n_checkpoints,)
        Target task's scores there.

    Returns
    -------
    np.ndarray of int64
        Task (column) indices; constant tasks come last.
    """
    x = np.asarray(other_scores, dtype=np.float64)
    y = as_float_array("target", target)
    if x.ndim != 2 or x.shape[0] != y.size:
        raise LawfitInputError(f"other_scores must be ({y.size}, n_tasks), got shape {x.shape}")
    xc = x - x.mean(0)
    yc = y - y.mean()
    den = np.sqrt((xc**2).sum(0) * (yc @ yc))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den > 0, (yc @ xc) / den, 0.0)
    return np.argsort(-np.abs(r), kind="stable").astype(np.int64)


@dataclass(frozen=True)
class TaskPrediction:
    """Ridge prediction of a held-out task from other tasks.

    Attributes
    ----------
    prediction : np.ndarray, shape (n_new,)
        Predicted scores at the new checkpoints.
    tasks : np.ndarray of int64
        Columns of the other tasks used.
    alpha : float
        Ridge penalty chosen (on standardised features).
    coef : np.ndarray, shape (n_used,)
        Coefficients on the original (unstandardised) scores.
    intercept : float
        Intercept.
    loo_rmse : float
        Leave-one-out RMSE on the training checkpoints at ``alpha``.
    """

    prediction: np.ndarray
    tasks: np.ndarray
    alpha: float
    coef: np.ndarray
    intercept: float
    loo_rmse: float

    def predict(self, other_scores: Any) -> np.ndarray:
        """Predict from other tasks' scores, shape (n, n_tasks) with the original columns."""
        x = np.asarray(other_scores, dtype=np.float64)
        return x[:, self.tasks] @ self.coef + self.intercept


def predict_task(
    train_other: Any,
    train_target: Any,
    new_other: Any,
    *,
    top_k: int | None = None,
    alphas: Any = None,
) -> TaskPrediction:
    """Predict a held-out task's scores from correlated tasks by ridge regression.

    Parameters
    ----------
    train_other : array_like, shape (n_train, n_tasks)
        Scores of the other tasks (same domain) at checkpoints where the target was measured.
    train_target : array_like, shape (n_train,)
        The target task's scores there.
    new_other : array_like, shape (n_new, n_tasks)
        The other tasks' scores at the checkpoints to predict (e.g. a new model's trajectory).
    top_k : int, optional
        Use only the ``top_k`` tasks most correlated with the target on the training checkpoints.
    alphas : array_like, optional
        Candidate ridge penalties (on standardised features); default ``logspace(−4, 3, 29)``.
        The one with the lowest exact leave-one-out error ``e_i/(1 − H_ii)`` wins.

    Returns
    -------
    TaskPrediction
    """
    x = np.asarray(train_other, dtype=np.float64)
    y = as_float_array("train_target", train_target, allow_empty=False)
    xn = np.asarray(new_other, dtype=np.float64)
    for name, arr in (("train_other", x), ("new_other", xn)):
        if arr.ndim != 2 or not np.isfinite(arr).all():
            raise LawfitInputError(f"{name} must be a finite 2-D array, got shape {arr.shape}")
    if x.shape[0] != y.size or xn.shape[1] != x.shape[1]:
        raise LawfitInputError(
            f"shapes do not match: train_other {x.shape}, train_target {y.shape}, new_other {xn.shape}"
        )
    if y.size < 3:
        raise LawfitInputError(f"need ≥ 3 training checkpoints, got {y.size}")
    tasks = rank_correlated_tasks(x, y)
    if top_k is not None:
        if not 1 <= top_k <= x.shape[1]:
            raise LawfitInputError(f"top_k must be in [1, {x.shape[1]}], got {top_k!r}")
        tasks = tasks[:top_k]
    tasks = np.sort(tasks)
    xs = x[:, tasks]
    mu, sd = xs.mean(0), xs.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    z = (xs - mu) / sd
    ym = y.mean()
    yc = y - ym
    grid = np.logspace(-4, 3, 29) if alphas is None else as_float_array("alphas", alphas, positive=True)
    # SVD once: H(α) = U diag(s²/(s² + α)) Uᵀ (+ 1/n for the intercept)
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    uty = u.T @ yc
    best = (np.inf, float(grid[0]))
    n = y.size
    for a in grid:
        shrink = s**2 / (s**2 + a)
        fitted = u @ (shrink * uty)
        h = (u**2) @ shrink + 1.0 / n
        loo = (yc - fitted) / np.maximum(1.0 - h, 1e-12)
        mse = float(np.mean(loo**2))
        if mse < best[0]:
            best = (mse, float(a))
    alpha = best[1]
    beta_z = vt.T @ ((s / (s**2 + alpha)) * uty)
    coef = beta_z / sd
    intercept = float(ym - mu @ coef)
    pred = xn[:, tasks] @ coef + intercept
    return TaskPrediction(prediction=pred, tasks=tasks.astype(np.int64), alpha=alpha, coef=coef,
                          intercept=intercept, loo_rmse=float(np.sqrt(best[0])))
