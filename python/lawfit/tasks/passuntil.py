"""Task pass rates by PassUntil sampling, and the task scaling law (spec §7; Hu et al. 2023,
arXiv 2310.03262).

PassUntil draws samples for one problem until ``r`` of them pass (``r`` = 1 or 2 in the paper) or a
cap ``k_max`` is reached (1e5 in the paper). With ``K`` samples drawn and ``s`` passes among them:

* **Estimate.** The maximum-likelihood estimate is ``PU = s / K`` (``r / K`` for a problem that
  reached ``r`` passes). The likelihood is ``p^s (1 − p)^(K − s)`` whatever the stopping rule, so
  censored problems (fewer than ``r`` passes in ``k_max`` samples) have the same formula; a problem
  with no pass has estimate 0 and is reported through its upper bound.
* **Interval.** Exact (Clopper–Pearson type) intervals for the inverse-binomial design, computed
  from beta quantiles. Outcomes are ordered by the statistic ``T = K`` (stopped) or
  ``T = k_max + r − s`` (censored), stochastically decreasing in ``p``, and
  ``P_p(T ≤ t) = P(Binomial(n_t, p) ≥ m_t)``, which gives

  - stopped at ``K``:  ``[Beta⁻¹(α/2; r, K − r + 1), Beta⁻¹(1 − α/2; r, K − r)]``
    (upper end 1 when ``K = r``) — the exact negative-binomial interval;
  - censored with ``s < r`` passes: the Clopper–Pearson interval of ``s`` passes in ``k_max``
    trials, ``[Beta⁻¹(α/2; s, k_max − s + 1), Beta⁻¹(1 − α/2; s + 1, k_max − s)]`` (lower end 0
    when ``s = 0``).

  Their coverage is at least the nominal level for every ``p``. The one-sided upper bound at level
  ``confidence`` (``Beta⁻¹(confidence; s + 1, k_max − s)`` for censored problems, about
  ``3 / k_max`` for a problem with no pass at 95 %) is in :attr:`PassUntilEstimate.upper`.
* **Bias.** ``r / K`` is the MLE but is biased upward in mean: ``E[r/K] ≈ p·r/(r − 1)`` for
  ``r ≥ 2`` and ``≈ p·ln(1/p)`` for ``r = 1``. Averages over problems should use Haldane's
  unbiased estimator ``(r − 1)/(K − 1)`` (``r ≥ 2``), :attr:`PassUntilEstimate.unbiased`.

Task law: ``PU(N) = exp(−c·N^(−α))``, i.e. ``log(−log PU) = log c − α·log N``.

* :func:`fit_task_law` fits it to pass rates (per problem or the mean over a task's problems) by
  weighted least squares on ``y = log(−log PU)``, with weights from the delta method
  ``σ_y = σ_PU / (PU·|log PU|)``; without standard errors, ordinary least squares with the
  residual variance (Student-t intervals).
* :func:`fit_task_law_counts` fits one problem by maximum likelihood on the raw counts
  (binomial likelihood ``Π p_j^s_j (1 − p_j)^(K_j − s_j)``, ``p_j = PU(N_j)``), which uses
  problems with no pass at some sizes correctly; intervals from the observed information.
* :func:`classify_scaling` tests the curvature of ``log(−log PU)`` against ``log N`` with a
  quadratic term: concave (negative coefficient) is accelerated emergence, convex is sub-scaling,
  no significant curvature is normal scaling.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from lawfit._core import LawfitInputError
from lawfit._optional import require
from lawfit._validate import as_float_array

_stats = require("scipy.stats", extra="tasks", package="scipy", what="lawfit.tasks.passuntil")

__all__ = [
    "PassUntilEstimate",
    "PassUntilSamples",
    "ScalingClass",
    "TaskLawFit",
    "classify_scaling",
    "estimate_pass_rate",
    "fit_task_law",
    "fit_task_law_counts",
    "fit_task_law_per_problem",
    "simulate_passuntil",
    "task_law",
]

RngLike = int | np.random.Generator | None


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_confidence(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise LawfitInputError(f"confidence must be in (0, 1), got {confidence!r}")
    return float(confidence)


# --------------------------------------------------------------------------------------------------
# sampling and the per-problem estimator


@dataclass(frozen=True)
class PassUntilSamples:
    """Outcome of PassUntil sampling for a set of problems.

    Attributes
    ----------
    samples : np.ndarray of int64, shape (n_problems,)
        ``K``: samples drawn per problem (``1 ≤ K ≤ k_max``).
    passes : np.ndarray of int64, shape (n_problems,)
        ``s``: passes among them (``s = r`` when sampling stopped on the r-th pass, ``s < r`` when
        it hit the cap, in which case ``K = k_max``).
    r : int
        Passes to wait for.
    k_max : int
        Sample cap.
    """

    samples: np.ndarray
    passes: np.ndarray
    r: int
    k_max: int


def simulate_passuntil(
    pass_rate: float | np.ndarray,
    *,
    r: int = 1,
    k_max: int = 100_000,
    size: int | None = None,
    rng: RngLike = None,
) -> PassUntilSamples:
    """Simulate PassUntil sampling: draw until ``r`` passes or ``k_max`` samples.

    Exact and vectorised: the positions of the first ``r`` passes are cumulative sums of geometric
    gaps, so no per-sample loop runs even for pass rates of 1e-7.

    Parameters
    ----------
    pass_rate : float or array_like, shape (n_problems,)
        True per-sample pass probability of each problem, in [0, 1].
    r : int
        Passes to wait for (≥ 1).
    k_max : int
        Sample cap (≥ r).
    size : int, optional
        Number of problems when ``pass_rate`` is a scalar.
    rng : int or numpy.random.Generator, optional
        Seed or generator.

    Returns
    -------
    PassUntilSamples
    """
    r, k_max = _check_r_kmax(r, k_max)
    p = np.asarray(pass_rate, dtype=np.float64)
    if p.ndim == 0:
        p = np.full(1 if size is None else int(size), float(p))
    elif size is not None and p.shape != (size,):
        raise LawfitInputError(f"pass_rate has shape {p.shape} but size={size}")
    p = as_float_array("pass_rate", p)
    bad = (p < 0) | (p > 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise LawfitInputError(f"pass_rate[{i}] is {p[i]!r}; pass rates must be in [0, 1]")
    gen = _rng(rng)
    safe = np.where(p > 0, p, 0.5)
    gaps = gen.geometric(safe[:, None], size=(p.size, r)).astype(np.float64)
    gaps[p == 0] = np.inf
    t = np.cumsum(gaps, axis=1)  # sample index of the 1st..r-th pass
    passes = (t <= k_max).sum(axis=1).astype(np.int64)
    samples = np.where(passes == r, np.minimum(t[:, -1], k_max), k_max).astype(np.int64)
    return PassUntilSamples(samples=samples, passes=passes, r=r, k_max=k_max)


def _check_r_kmax(r: int, k_max: int) -> tuple[int, int]:
    if int(r) != r or r < 1:
        raise LawfitInputError(f"r must be a positive integer, got {r!r}")
    if int(k_max) != k_max or k_max < r:
        raise LawfitInputError(f"k_max must be an integer ≥ r = {r}, got {k_max!r}")
    return int(r), int(k_max)


@dataclass(frozen=True)
class PassUntilEstimate:
    """Per-problem PassUntil estimates with exact intervals.

    Attributes
    ----------
    samples, passes : np.ndarray of int64, shape (n_problems,)
        The counts ``K`` and ``s``.
    r, k_max : int
        The sampling rule.
    confidence : float
        Level of the intervals.
    estimate : np.ndarray, shape (n_problems,)
        MLE ``s / K`` (= ``r / K`` when sampling stopped on the r-th pass; 0 with no pass).
    ci_low, ci_high : np.ndarray, shape (n_problems,)
        Exact two-sided interval (see the module docstring).
    upper : np.ndarray, shape (n_problems,)
        Exact one-sided upper bound at level ``confidence`` — the figure to report for a problem
        with no pass.
    """

    samples: np.ndarray
    passes: np.ndarray
    r: int
    k_max: int
    confidence: float
    estimate: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    upper: np.ndarray

    @property
    def censored(self) -> np.ndarray:
        """Boolean, shape (n_problems,): sampling hit the cap before ``r`` passes."""
        return self.passes < self.r

    @property
    def no_pass(self) -> np.ndarray:
        """Boolean, shape (n_problems,): no sample passed (estimate 0; use :attr:`upper`)."""
        return self.passes == 0

    @property
    def unbiased(self) -> np.ndarray:
        """Haldane's unbiased estimator ``(r − 1)/(K − 1)``, shape (n_problems,).

        Exactly unbiased for problems that stopped on the r-th pass when ``r ≥ 2``; censored
        problems get ``s / k_max``. ``nan`` for ``r = 1`` (no useful unbiased estimator exists).
        """
        if self.r < 2:
            return np.full(self.samples.shape, np.nan)
        k = self.samples.astype(np.float64)
        return np.where(self.censored, self.passes / k, (self.r - 1) / np.maximum(k - 1, 1))

    @property
    def std_error(self) -> np.ndarray:
        """Plug-in standard error ``sqrt(p̂(1 − p̂)/K)`` (inverse observed information), shape (n,).

        Problems with no pass use ``p̂ = 0.5/K`` (half a pass) so that they carry some variance.
        """
        k = self.samples.astype(np.float64)
        p = np.where(self.passes > 0, self.estimate, 0.5 / k)
        return np.sqrt(p * (1 - p) / k)

    def mean(self, estimator: Literal["auto", "mle", "unbiased"] = "auto") -> tuple[float, float]:
        """The task's pass rate: mean over problems, and its standard error.

        Parameters
        ----------
        estimator : {"auto", "mle", "unbiased"}
            Per-problem estimate to average. ``"auto"``: ``"unbiased"`` when ``r ≥ 2``, else
            ``"mle"`` (whose mean over problems is biased upward, about ``ln(1/p)``-fold for
            ``r = 1``; sample with ``r ≥ 2`` when the mean is what you fit).

        Returns
        -------
        mean, std_error : float
            The standard error treats the problems as a sample of the task's population:
            ``std(values, ddof=1)/sqrt(n)``, which holds the sampling noise of each estimate and
            the spread between problems (the usual error bar of a benchmark mean). With one
            problem it falls back to :attr:`std_error`.
        """
        if estimator == "auto":
            estimator = "unbiased" if self.r >= 2 else "mle"
        if estimator == "unbiased":
            if self.r < 2:
                raise LawfitInputError("the unbiased estimator needs r ≥ 2; use estimator='mle'")
            vals = self.unbiased
        elif estimator == "mle":
            vals = self.estimate
        else:
            raise LawfitInputError(f"estimator must be 'auto', 'mle' or 'unbiased', got {estimator!r}")
        n = vals.size
        if n == 1:
            return float(vals[0]), float(self.std_error[0])
        return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n))


def estimate_pass_rate(
    samples: np.ndarray | PassUntilSamples,
    passes: np.ndarray | None = None,
    *,
    r: int = 1,
    k_max: int = 100_000,
    confidence: float = 0.95,
) -> PassUntilEstimate:
    """PassUntil estimates, exact intervals and upper bounds from per-problem sample counts.

    Parameters
    ----------
    samples : array_like of int, shape (n_problems,), or PassUntilSamples
        ``K``, samples drawn per problem. A :class:`PassUntilSamples` carries ``passes``, ``r``
        and ``k_max`` itself (the arguments are then ignored).
    passes : array_like of int, shape (n_problems,), optional
        ``s``, passes among them. Default: ``r`` for every problem (every problem stopped on its
        r-th pass). A problem with ``s < r`` must have ``K = k_max``.
    r : int
        Passes sampling waited for.
    k_max : int
        Sample cap.
    confidence : float
        Level of the intervals, in (0, 1).

    Returns
    -------
    PassUntilEstimate

    Examples
    --------
    >>> est = estimate_pass_rate([250, 100_000], [1, 0], r=1, k_max=100_000)
    >>> est.estimate.tolist()
    [0.004, 0.0]
    >>> round(float(est.upper[1]) * 1e5, 3)  # one-sided 95 % bound for the no-pass problem
    2.996
    """
    if isinstance(samples, PassUntilSamples):
        samples, passes, r, k_max = samples.samples, samples.passes, samples.r, samples.k_max
    r, k_max = _check_r_kmax(r, k_max)
    conf = _check_confidence(confidence)
    k = as_float_array("samples", samples, allow_empty=False)
    s = np.full(k.shape, float(r)) if passes is None else as_float_array("passes", passes)
    if s.shape != k.shape:
        raise LawfitInputError(f"passes has shape {s.shape} but samples has shape {k.shape}")
    _check_counts(k, s, r, k_max)
    k_i = k.astype(np.int64)
    s_i = s.astype(np.int64)
    a = 1.0 - conf
    stopped = s_i == r
    beta = _stats.beta
    with np.errstate(invalid="ignore", divide="ignore"):
        # stopped on the r-th pass at sample K: exact negative-binomial interval
        lo_stop = beta.ppf(a / 2, r, k - r + 1)
        hi_stop = np.where(k > r, beta.ppf(1 - a / 2, r, np.maximum(k - r, 1)), 1.0)
        up_stop = np.where(k > r, beta.ppf(conf, r, np.maximum(k - r, 1)), 1.0)
        # censored with s < r passes in k_max samples: Clopper–Pearson
        lo_cens = np.where(s > 0, beta.ppf(a / 2, np.maximum(s, 1), k_max - s + 1), 0.0)
        hi_cens = beta.ppf(1 - a / 2, s + 1, k_max - s)
        up_cens = beta.ppf(conf, s + 1, k_max - s)
    return PassUntilEstimate(
        samples=k_i,
        passes=s_i,
        r=r,
        k_max=k_max,
        confidence=conf,
        estimate=s / k,
        ci_low=np.where(stopped, lo_stop, lo_cens),
        ci_high=np.where(stopped, hi_stop, hi_cens),
        upper=np.where(stopped, up_stop, up_cens),
    )


def _check_counts(k: np.ndarray, s: np.ndarray, r: int, k_max: int) -> None:
    checks = [
        (k != np.round(k), "samples", k, "must be integers"),
        (s != np.round(s), "passes", s, "must be integers"),
        ((k < 1) | (k > k_max), "samples", k, f"must be in [1, k_max={k_max}]"),
        ((s < 0) | (s > r), "passes", s, f"must be in [0, r={r}]"),
        (s > k, "passes", s, "must not exceed samples"),
        ((s < r) & (k != k_max), "passes", s, f"below r={r} need samples == k_max={k_max} (censored)"),
    ]
    for bad, name, arr, what in checks:
        if bad.any():
            i = int(np.argmax(bad))
            raise LawfitInputError(f"{name}[{i}] is {arr[i]:g}; values of {name} {what}")


# --------------------------------------------------------------------------------------------------
# the task law


def task_law(n_params: float | np.ndarray, c: float, alpha: float) -> np.ndarray:
    """``PU(N) = exp(−c·N^(−α))``.

    Parameters
    ----------
    n_params : float or array_like
        Model size ``N`` (parameters; any consistent unit).
    c, alpha : float
        Law parameters (``c > 0``; ``α > 0`` for a pass rate growing with size).

    Returns
    -------
    np.ndarray
        Pass rate, same shape as ``n_params``.
    """
    return np.exp(-c * np.asarray(n_params, dtype=np.float64) ** (-alpha))


@dataclass(frozen=True)
class TaskLawFit:
    """A fit of ``PU(N) = exp(−c·N^(−α))``.

    Attributes
    ----------
    log_c, alpha : float
        Parameters (natural log of ``c``). ``c`` is the property :attr:`c`.
    cov : np.ndarray, shape (2, 2)
        Covariance of ``(log c, α)``.
    dof : int or None
        Degrees of freedom for Student-t intervals; ``None`` when the noise scale is known
        (weighted fits, MLE) and intervals are normal.
    method : str
        ``"wls"``, ``"ols"`` or ``"mle"``.
    n_params : np.ndarray
        Model sizes fitted.
    chi2 : float
        Weighted residual sum of squares (``"wls"``/``"ols"``) or deviance-like ``2·NLL`` (``"mle"``).
    success : bool
        The optimiser converged (always true for the closed-form least-squares fits).
    """

    log_c: float
    alpha: float
    cov: np.ndarray
    dof: int | None
    method: str
    n_params: np.ndarray
    chi2: float
    success: bool = True

    @property
    def c(self) -> float:
        """``c = exp(log_c)``."""
        return float(np.exp(self.log_c))

    @property
    def params(self) -> dict[str, float]:
        """``{"c": c, "alpha": α}``."""
        return {"c": self.c, "alpha": self.alpha}

    @property
    def stderr(self) -> dict[str, float]:
        """Standard errors of ``log_c`` and ``alpha``."""
        sd = np.sqrt(np.diag(self.cov))
        return {"log_c": float(sd[0]), "alpha": float(sd[1])}

    def _q(self, confidence: float) -> float:
        conf = _check_confidence(confidence)
        if self.dof is None:
            return float(_stats.norm.ppf(0.5 + conf / 2))
        return float(_stats.t.ppf(0.5 + conf / 2, self.dof))

    def conf_int(self, confidence: float = 0.95) -> dict[str, tuple[float, float]]:
        """Intervals for ``c`` (from the symmetric interval of ``log c``), ``log_c`` and ``alpha``."""
        q = self._q(confidence)
        se = self.stderr
        lc = (self.log_c - q * se["log_c"], self.log_c + q * se["log_c"])
        return {
            "log_c": lc,
            "c": (float(np.exp(lc[0])), float(np.exp(lc[1]))),
            "alpha": (self.alpha - q * se["alpha"], self.alpha + q * se["alpha"]),
        }

    def predict(
        self, n_params: float | np.ndarray, *, confidence: float | None = None
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predicted pass rate at ``n_params``; with ``confidence``, also an interval.

        The interval is the symmetric interval of ``y = log c − α·log N`` (variance ``gᵀ·cov·g``,
        ``g = (1, −log N)``) mapped through ``PU = exp(−exp(y))``.

        Returns
        -------
        pu : np.ndarray
            Same shape as ``n_params``.
        lo, hi : np.ndarray
            Only when ``confidence`` is given.
        """
        x = np.log(np.asarray(n_params, dtype=np.float64))
        y = self.log_c - self.alpha * x
        pu = np.exp(-np.exp(y))
        if confidence is None:
            return pu
        var = self.cov[0, 0] - 2 * x * self.cov[0, 1] + x**2 * self.cov[1, 1]
        h = self._q(confidence) * np.sqrt(np.maximum(var, 0.0))
        return pu, np.exp(-np.exp(y + h)), np.exp(-np.exp(y - h))


def _loglog(name: str, pu: np.ndarray) -> np.ndarray:
    bad = (pu <= 0) | (pu >= 1)
    if bad.any():
        i = int(np.argmax(bad))
        raise LawfitInputError(
            f"{name}[{i}] is {pu[i]!r}; log(−log PU) needs 0 < PU < 1 "
            "(fit problems with no pass by fit_task_law_counts)"
        )
    return np.log(-np.log(pu))


def _prepare_ls(
    n_params: np.ndarray, pass_rate: np.ndarray, pass_rate_err: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    n = as_float_array("n_params", n_params, positive=True, allow_empty=False)
    pu = as_float_array("pass_rate", pass_rate)
    if pu.shape != n.shape:
        raise LawfitInputError(f"pass_rate has shape {pu.shape} but n_params has shape {n.shape}")
    y = _loglog("pass_rate", pu)
    if pass_rate_err is None:
        return np.log(n), y, None
    err = as_float_array("pass_rate_err", pass_rate_err, positive=True)
    if err.shape != n.shape:
        raise LawfitInputError(f"pass_rate_err has shape {err.shape} but n_params has shape {n.shape}")
    return np.log(n), y, err / (pu * np.abs(np.log(pu)))


def _wls(
    design: np.ndarray, y: np.ndarray, sigma: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, int | None, float]:
    """Least squares with known ``sigma`` (absolute) or unknown scale (OLS, residual variance)."""
    n, k = design.shape
    w = np.ones(n) if sigma is None else 1.0 / sigma
    a = design * w[:, None]
    b = y * w
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    resid = b - a @ coef
    chi2 = float(resid @ resid)
    cov = np.linalg.inv(a.T @ a)
    if sigma is None:
        dof = n - k
        if dof < 1:
            raise LawfitInputError(f"an unweighted fit of {k} coefficients needs ≥ {k + 1} points, got {n}")
        return coef, cov * chi2 / dof, dof, chi2
    return coef, cov, None, chi2


def fit_task_law(
    n_params: np.ndarray,
    pass_rate: np.ndarray,
    pass_rate_err: np.ndarray | None = None,
) -> TaskLawFit:
    """Fit ``PU(N) = exp(−c·N^(−α))`` to pass rates by least squares on ``log(−log PU)``.

    Use it on one problem's estimates or on a task's mean pass rate
    (:meth:`PassUntilEstimate.mean`).

    Parameters
    ----------
    n_params : array_like, shape (n_sizes,)
        Model sizes ``N`` (> 0).
    pass_rate : array_like, shape (n_sizes,)
        Pass rates, strictly between 0 and 1.
    pass_rate_err : array_like, shape (n_sizes,), optional
        Standard errors of the pass rates. Given: weighted least squares with
        ``σ_y = σ_PU/(PU·|log PU|)`` treated as known (normal intervals). Omitted: ordinary least
        squares, covariance scaled by the residual variance, Student-t intervals with
        ``n_sizes − 2`` degrees of freedom (needs ≥ 3 sizes).

    Returns
    -------
    TaskLawFit
    """
    x, y, sig = _prepare_ls(n_params, pass_rate, pass_rate_err)
    xm = x.mean()
    design = np.column_stack([np.ones_like(x), -(x - xm)])
    coef, cov_c, dof, chi2 = _wls(design, y, sig)
    # (u, α) with y = u − α(x − xm)  →  log c = u + α·xm
    jac = np.array([[1.0, xm], [0.0, 1.0]])
    cov = jac @ cov_c @ jac.T
    return TaskLawFit(
        log_c=float(coef[0] + coef[1] * xm),
        alpha=float(coef[1]),
        cov=cov,
        dof=dof,
        method="ols" if sig is None else "wls",
        n_params=np.exp(x),
        chi2=chi2,
    )


def _nll_parts(
    theta: np.ndarray, x: np.ndarray, k: np.ndarray, s: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Negative binomial-likelihood, gradient and Hessian in ``θ = (u, α)``, ``z = exp(u − α·x)``."""
    z = np.exp(np.clip(theta[0] - theta[1] * x, -700, 700))
    em = -np.expm1(-z)  # 1 − e^{−z} = 1 − p
    f = k - s
    nll = float(np.sum(s * z) - np.sum(f * np.log(np.maximum(em, 1e-300))))
    ratio = np.exp(-z) / np.maximum(em, 1e-300)  # p / (1 − p)
    a = s - f * ratio  # d nll / dz
    b = f * ratio / np.maximum(em, 1e-300)  # d² nll / dz²
    d = np.stack([np.ones_like(x), -x])
    grad = d @ (a * z)
    hess = (d * (b * z**2 + a * z)) @ d.T
    return nll, grad, hess


def _newton(
    theta: np.ndarray, x: np.ndarray, k: np.ndarray, s: np.ndarray, max_iter: int = 200
) -> tuple[np.ndarray, bool, str]:
    """Damped Newton on the 2-parameter NLL; stops on the Newton decrement ``gᵀH⁻¹g``."""
    nll, grad, hess = _nll_parts(theta, x, k, s)
    for _ in range(max_iter):
        try:
            step = -np.linalg.solve(hess, grad)
            dec = float(-grad @ step)
        except np.linalg.LinAlgError:
            dec = -1.0
        if not np.isfinite(dec) or dec <= 0:  # not a descent direction: scaled gradient step
            step = -grad / max(1.0, float(np.max(np.abs(np.diag(hess)))))
            dec = float(-grad @ step)
        if dec < 1e-10:  # NLL within ~5e-11 of its minimum
            return theta, True, "Newton decrement below 1e-10"
        t = 1.0
        while True:
            cand = theta + t * step
            c_nll, c_grad, c_hess = _nll_parts(cand, x, k, s)
            if np.isfinite(c_nll) and c_nll <= nll - 1e-4 * t * dec:
                break
            if t == 1.0 and np.isfinite(c_nll) and abs(c_nll - nll) <= 1e-12 * max(1.0, abs(nll)):
                return cand, True, "NLL stationary at rounding level"
            t *= 0.5
            if t < 1e-10:
                return theta, dec < 1e-6, "line search failed"
        theta, nll, grad, hess = cand, c_nll, c_grad, c_hess
    return theta, False, f"no convergence in {max_iter} Newton steps"


def fit_task_law_counts(
    n_params: np.ndarray,
    samples: np.ndarray,
    passes: np.ndarray,
) -> TaskLawFit:
    """Maximum-likelihood fit of ``PU(N) = exp(−c·N^(−α))`` to one problem's PassUntil counts.

    The likelihood of ``s_j`` passes in ``K_j`` samples at size ``N_j`` is
    ``p_j^s_j (1 − p_j)^(K_j − s_j)`` (the stopping rule does not change it), so sizes where the
    problem never passed inform the fit instead of being dropped. Intervals come from the observed
    information (normal).

    Parameters
    ----------
    n_params : array_like, shape (n_sizes,)
        Model sizes ``N`` (> 0).
    samples, passes : array_like of int, shape (n_sizes,)
        ``K_j`` and ``s_j`` at each size.

    Returns
    -------
    TaskLawFit
        ``method="mle"``; ``success`` is false (with a warning) when the optimiser did not
        converge.

    Raises
    ------
    LawfitInputError
        If the problem never passed, or passed on every sample, at every size (no finite MLE).
    """
    n = as_float_array("n_params", n_params, positive=True, allow_empty=False)
    k = as_float_array("samples", samples, positive=True)
    s = as_float_array("passes", passes, nonnegative=True)
    if k.shape != n.shape or s.shape != n.shape:
        raise LawfitInputError(
            f"samples {k.shape} and passes {s.shape} must match n_params {n.shape}"
        )
    bad = s > k
    if bad.any():
        i = int(np.argmax(bad))
        raise LawfitInputError(f"passes[{i}] is {s[i]:g} > samples[{i}] = {k[i]:g}")
    if not s.any():
        raise LawfitInputError("passes are all 0: no finite MLE; report upper bounds instead")
    if np.all(s == k):
        raise LawfitInputError("every sample passed at every size: no finite MLE")
    if n.size < 2:
        raise LawfitInputError(f"the task law has 2 parameters; need ≥ 2 sizes, got {n.size}")
    x_raw = np.log(n)
    xm = x_raw.mean()
    x = x_raw - xm
    # start: least squares on smoothed rates
    pt = np.clip((s + 0.5) / (k + 1.0), 1e-300, 1 - 1e-12)
    y0 = np.log(-np.log(pt))
    slope = -np.polyfit(x, y0, 1)[0] if np.ptp(x) > 0 else 0.0
    theta0 = np.array([float(np.mean(y0 + slope * x)), float(slope)])
    theta, success, message = _newton(theta0, x, k, s)
    nll, _, hess = _nll_parts(theta, x, k, s)
    if not success:
        warnings.warn(f"task-law MLE did not converge: {message}", RuntimeWarning, stacklevel=2)
    try:
        cov_c = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov_c = np.full((2, 2), np.inf)
    jac = np.array([[1.0, xm], [0.0, 1.0]])
    return TaskLawFit(
        log_c=float(theta[0] + theta[1] * xm),
        alpha=float(theta[1]),
        cov=jac @ cov_c @ jac.T,
        dof=None,
        method="mle",
        n_params=n,
        chi2=2.0 * nll,
        success=success,
    )


def fit_task_law_per_problem(
    n_params: np.ndarray, estimates: Sequence[PassUntilEstimate]
) -> list[TaskLawFit | None]:
    """:func:`fit_task_law_counts` for every problem of a task.

    Parameters
    ----------
    n_params : array_like, shape (n_sizes,)
        Model sizes.
    estimates : sequence of PassUntilEstimate, length n_sizes
        One per model size, over the same problems in the same order.

    Returns
    -------
    list of TaskLawFit or None, length n_problems
        ``None`` for a problem with no finite MLE (never passed at any size).
    """
    if len(estimates) != len(np.atleast_1d(n_params)):
        raise LawfitInputError(f"got {len(estimates)} estimates for {len(np.atleast_1d(n_params))} sizes")
    k = np.stack([e.samples for e in estimates])
    s = np.stack([e.passes for e in estimates])
    fits: list[TaskLawFit | None] = []
    for i in range(k.shape[1]):
        if not s[:, i].any() or np.all(s[:, i] == k[:, i]):
            fits.append(None)
        else:
            fits.append(fit_task_law_counts(n_params, k[:, i], s[:, i]))
    return fits


# --------------------------------------------------------------------------------------------------
# curvature: normal scaling, accelerated emergence, sub-scaling


@dataclass(frozen=True)
class ScalingClass:
    """Curvature test of ``log(−log PU)`` against ``log N``.

    Attributes
    ----------
    label : {"normal", "accelerated emergence", "sub-scaling"}
        Concave (significantly negative quadratic coefficient) = accelerated emergence: the pass
        rate improves faster than the task law predicts at large ``N``. Convex = sub-scaling.
    curvature : float
        Quadratic coefficient ``b₂`` of ``y = b₀ + b₁·x + b₂·x²`` (``x`` = centred ``ln N``).
    stderr : float
        Its standard error.
    statistic : float
        ``b₂ / stderr`` (z with known errors, t otherwise).
    p_value : float
        Two-sided p-value of ``b₂ = 0``.
    dof : int or None
        Degrees of freedom of the t-test (``None``: z-test).
    level : float
        Significance level used for the label.
    """

    label: str
    curvature: float
    stderr: float
    statistic: float
    p_value: float
    dof: int | None
    level: float


def classify_scaling(
    n_params: np.ndarray,
    pass_rate: np.ndarray,
    pass_rate_err: np.ndarray | None = None,
    *,
    level: float = 0.05,
) -> ScalingClass:
    """Classify task scaling from the curvature of ``log(−log PU)`` in ``log N``.

    Fits ``y = b₀ + b₁·x + b₂·x²`` (``y = log(−log PU)``, ``x = ln N − mean``) by weighted least
    squares (weights as in :func:`fit_task_law`) and tests ``b₂ = 0``.

    Parameters
    ----------
    n_params : array_like, shape (n_sizes,)
        Model sizes.
    pass_rate : array_like, shape (n_sizes,)
        Pass rates in (0, 1).
    pass_rate_err : array_like, shape (n_sizes,), optional
        Their standard errors (z-test, needs ≥ 3 sizes); omitted, a t-test with ``n_sizes − 3``
        degrees of freedom (needs ≥ 4 sizes).
    level : float
        Significance level.

    Returns
    -------
    ScalingClass
    """
    if not 0 < level < 1:
        raise LawfitInputError(f"level must be in (0, 1), got {level!r}")
    x, y, sig = _prepare_ls(n_params, pass_rate, pass_rate_err)
    if x.size < 3:
        raise LawfitInputError(f"a curvature test needs ≥ 3 sizes, got {x.size}")
    xc = x - x.mean()
    design = np.column_stack([np.ones_like(xc), xc, xc**2])
    coef, cov, dof, _ = _wls(design, y, sig)
    b2 = float(coef[2])
    se = float(np.sqrt(cov[2, 2]))
    stat = b2 / se if se > 0 else np.copysign(np.inf, b2)
    if dof is None:
        p = float(2 * _stats.norm.sf(abs(stat)))
    else:
        p = float(2 * _stats.t.sf(abs(stat), dof))
    label = "normal"
    if p < level:
        label = "accelerated emergence" if b2 < 0 else "sub-scaling"
    return ScalingClass(label=label, curvature=b2, stderr=se, statistic=float(stat), p_value=p, dof=dof,
                        level=level)
