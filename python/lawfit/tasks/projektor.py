"""projektor: performance of data mixtures from partially revealed sources (spec §10; Kang et al.
2023, "Performance Scaling via Optimal Transport: Enabling Data Selection from Partially Revealed
Sources", NeurIPS 2023).

* **Stage 1** (:func:`fit_stage1`): at a fixed training-set size, performance of a mixture with
  proportions ``p`` (on the simplex, one entry per source) is modelled as

      perf ≈ Σ_j (b2·p_j² + b1·p_j + b0)·OT + Σ_j (c2·p_j² + c1·p_j + c0),

  where ``OT`` is the entropic, debiased optimal-transport (Sinkhorn) divergence between the
  mixture's and the validation set's features (:class:`SinkhornDivergence`, POT library, extra
  ``projektor``). The coefficients are fitted by linear least squares on pilot mixtures.
  ``per_source=True`` gives every source its own ``b``/``c`` coefficients. On the simplex
  ``Σ p_j = 1``, so some coefficients are not separately identifiable (e.g. ``b1`` and ``b0``
  enter only through ``b1 + k·b0``); the minimum-norm solution is returned, and predictions and
  gradients — which is what is used — are unaffected.
* **Stage 2** (:func:`extrapolate`): from performance at sizes ``N0 < N1`` to any ``N``,
  parameter-free and linear in ``ln N``:

      L̂(N) = [ln(N/N0)·L̂(N1) − ln(N/N1)·L̂(N0)] / ln(N1/N0).

  :class:`Projektor` combines two stage-1 models; since the extrapolation is linear, the model at
  any ``N`` is again a stage-1 model (:meth:`Projektor.at`).
* **Mixture selection** (:func:`select_mixture`): projected gradient ascent on the simplex, the
  gradient of ``OT`` with respect to ``p`` coming from the Sinkhorn dual potentials. The
  projection (:func:`project_simplex`) is the sort-based algorithm (Held, Wolfe and Crowder 1974;
  Duchi et al. 2008).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lawfit._core import LawfitInputError
from lawfit._optional import require
from lawfit._validate import as_float_array

__all__ = [
    "MixtureSelection",
    "Projektor",
    "SinkhornDivergence",
    "Stage1Model",
    "extrapolate",
    "fit_stage1",
    "project_simplex",
    "projected_gradient",
    "select_mixture",
]

OTFunction = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""``p -> (OT value, dOT/dp of shape (k,))``."""


# --------------------------------------------------------------------------------------------------
# stage 2


def extrapolate(n: Any, n0: float, perf0: Any, n1: float, perf1: Any) -> np.ndarray | float:
    """Stage-2 extrapolation of performance from sizes ``n0 < n1`` to ``n``.

    ``L̂(N) = [ln(N/N0)·L̂(N1) − ln(N/N1)·L̂(N0)] / ln(N1/N0)``, i.e. the straight line in ``ln N``
    through the two measurements.

    Parameters
    ----------
    n : float or array_like
        Target dataset size(s) (examples or tokens; same unit as ``n0``, ``n1``), > 0.
    n0, n1 : float
        Sizes of the two measurements, ``0 < n0 ≠ n1``.
    perf0, perf1 : float or array_like
        Performance at ``n0`` and ``n1`` (broadcast together with ``n``).

    Returns
    -------
    float or np.ndarray
        Broadcast shape of the inputs.

    Examples
    --------
    >>> round(extrapolate(10_000, 1000, 0.60, 1500, 0.65), 5)
    0.88394
    """
    if not (n0 > 0 and n1 > 0) or n0 == n1:
        raise LawfitInputError(f"need 0 < n0 != n1, got n0={n0!r}, n1={n1!r}")
    nn = np.asarray(n, dtype=np.float64)
    if (nn <= 0).any():
        raise LawfitInputError("n must be positive")
    out = (np.log(nn / n0) * np.asarray(perf1, dtype=np.float64)
           - np.log(nn / n1) * np.asarray(perf0, dtype=np.float64)) / np.log(n1 / n0)
    return float(out) if np.ndim(out) == 0 else out


def _weights_at(n: float, n0: float, n1: float) -> tuple[float, float]:
    """``(w0, w1)`` with ``L̂(n) = w0·L̂(n0) + w1·L̂(n1)``."""
    den = np.log(n1 / n0)
    return float(-np.log(n / n1) / den), float(np.log(n / n0) / den)


# --------------------------------------------------------------------------------------------------
# stage 1


def _check_mixtures(p: Any, name: str = "mixtures") -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise LawfitInputError(f"{name} must be (n_mixtures, n_sources), got shape {np.shape(p)}")
    if not np.isfinite(arr).all():
        i, j = np.argwhere(~np.isfinite(arr))[0]
        raise LawfitInputError(f"{name}[{i}, {j}] is {arr[i, j]!r}; proportions must be finite")
    return arr


@dataclass(frozen=True)
class Stage1Model:
    """Fitted stage-1 model: performance as a function of mixture ``p`` and OT distance.

    Attributes
    ----------
    coef : np.ndarray, shape (n_features,)
        Coefficients, named in :attr:`names`.
    names : list of str
        ``b2, b1, b0, c2, c1, c0`` (shared) or ``b2[j], b1[j], b0[j], c2[j], c1[j], c0[j]`` per
        source ``j``.
    n_sources : int
        ``k``.
    per_source : bool
        Whether each source has its own coefficients.
    rank : int
        Rank of the design matrix (fewer than the features when some are not identifiable).
    r2, rmse : float
        Goodness of fit on the pilot mixtures (nan before/without data).
    """

    coef: np.ndarray
    names: list[str]
    n_sources: int
    per_source: bool
    rank: int = 0
    r2: float = float("nan")
    rmse: float = float("nan")

    def _features(self, p: np.ndarray, ot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features (m, F), d features / d p (m, F, k) and d features / d OT (m, F)."""
        m, k = p.shape
        one = np.ones((m, 1))
        o = ot[:, None]
        if self.per_source:
            blocks = [o * p**2, o * p, o * np.ones((m, k)), p**2, p, np.ones((m, k))]
            feat = np.concatenate(blocks, axis=1)
            eye = np.eye(k)[None]
            zero = np.zeros((m, k, k))
            dp = np.concatenate([o[:, :, None] * 2 * p[:, :, None] * eye, o[:, :, None] * eye, zero,
                                 2 * p[:, :, None] * eye, np.broadcast_to(eye, (m, k, k)), zero], axis=1)
            dot = np.concatenate([p**2, p, np.ones((m, k)), np.zeros((m, 3 * k))], axis=1)
        else:
            s2, s1 = (p**2).sum(1, keepdims=True), p.sum(1, keepdims=True)
            feat = np.concatenate([o * s2, o * s1, o * k, s2, s1, k * one], axis=1)
            dp = np.stack([o * 2 * p, o * np.ones((m, k)), np.zeros((m, k)), 2 * p, np.ones((m, k)),
                           np.zeros((m, k))], axis=1)
            dot = np.concatenate([s2, s1, k * one, np.zeros((m, 3))], axis=1)
        return feat, dp, dot

    def _prep(self, p: Any, ot: Any) -> tuple[np.ndarray, np.ndarray, bool]:
        scalar = np.ndim(p) == 1
        pp = _check_mixtures(p, "p")
        if pp.shape[1] != self.n_sources:
            raise LawfitInputError(f"p has {pp.shape[1]} sources, the model {self.n_sources}")
        oo = np.atleast_1d(np.asarray(ot, dtype=np.float64))
        if oo.shape != (pp.shape[0],):
            raise LawfitInputError(f"ot must have shape ({pp.shape[0]},), got {oo.shape}")
        return pp, oo, scalar

    def predict(self, p: Any, ot: Any) -> np.ndarray | float:
        """Performance of mixture(s) ``p`` ((k,) or (m, k)) at OT distance(s) ``ot`` (scalar or (m,))."""
        pp, oo, scalar = self._prep(p, ot)
        out = self._features(pp, oo)[0] @ self.coef
        return float(out[0]) if scalar else out

    def gradient(self, p: Any, ot: Any) -> tuple[np.ndarray, np.ndarray | float]:
        """Partial derivatives ``(∂perf/∂p, ∂perf/∂OT)``: shapes ((k,), scalar) or ((m, k), (m,))."""
        pp, oo, scalar = self._prep(p, ot)
        _, dp, dot = self._features(pp, oo)
        gp = np.einsum("mfk,f->mk", dp, self.coef)
        go = dot @ self.coef
        return (gp[0], float(go[0])) if scalar else (gp, go)


def _names(k: int, per_source: bool) -> list[str]:
    base = ["b2", "b1", "b0", "c2", "c1", "c0"]
    return [f"{b}[{j}]" for b in base for j in range(k)] if per_source else base


def fit_stage1(mixtures: Any, ot: Any, performance: Any, *, per_source: bool = False) -> Stage1Model:
    """Fit the stage-1 model on pilot mixtures by linear least squares (minimum-norm).

    Parameters
    ----------
    mixtures : array_like, shape (n_mixtures, n_sources)
        Proportions of each pilot mixture (rows on the simplex).
    ot : array_like, shape (n_mixtures,)
        OT distance of each pilot mixture to the validation set (e.g. from
        :class:`SinkhornDivergence`).
    performance : array_like, shape (n_mixtures,)
        Measured performance (accuracy, or loss) of a model trained on each mixture.
    per_source : bool
        Per-source coefficients (``6·k`` features) instead of the shared ones (6 features).

    Returns
    -------
    Stage1Model
    """
    p = _check_mixtures(mixtures)
    o = as_float_array("ot", ot)
    y = as_float_array("performance", performance)
    if o.shape != (p.shape[0],) or y.shape != (p.shape[0],):
        raise LawfitInputError(
            f"ot {o.shape} and performance {y.shape} must have one entry per mixture ({p.shape[0]})"
        )
    k = p.shape[1]
    proto = Stage1Model(coef=np.zeros(6 * k if per_source else 6), names=_names(k, per_source),
                        n_sources=k, per_source=per_source)
    design = proto._features(p, o)[0]
    coef, _, rank, _ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss if ss > 0 else float("nan")
    return Stage1Model(coef=coef, names=proto.names, n_sources=k, per_source=per_source, rank=int(rank),
                       r2=r2, rmse=float(np.sqrt(np.mean(resid**2))))


@dataclass(frozen=True)
class Projektor:
    """Two stage-1 models fitted at dataset sizes ``n0`` and ``n1``, extrapolated to any size.

    Attributes
    ----------
    model0, model1 : Stage1Model
        Stage-1 models at ``n0`` and ``n1`` (same ``n_sources`` and ``per_source``).
    n0, n1 : float
        Their dataset sizes.
    """

    model0: Stage1Model
    model1: Stage1Model
    n0: float
    n1: float

    def __post_init__(self) -> None:
        if (self.model0.n_sources, self.model0.per_source) != (self.model1.n_sources, self.model1.per_source):
            raise LawfitInputError("model0 and model1 must have the same sources and parameterisation")
        if not (self.n0 > 0 and self.n1 > 0) or self.n0 == self.n1:
            raise LawfitInputError(f"need 0 < n0 != n1, got {self.n0!r}, {self.n1!r}")

    def at(self, n: float) -> Stage1Model:
        """The stage-1 model predicting performance at size ``n`` (stage-2 combination)."""
        w0, w1 = _weights_at(float(n), self.n0, self.n1)
        m = self.model1
        return Stage1Model(coef=w0 * self.model0.coef + w1 * m.coef, names=m.names, n_sources=m.n_sources,
                           per_source=m.per_source)

    def predict(self, p: Any, ot: Any, n: float) -> np.ndarray | float:
        """Performance of mixture(s) ``p`` with OT distance(s) ``ot`` at size ``n``."""
        return self.at(n).predict(p, ot)


# --------------------------------------------------------------------------------------------------
# OT distance (POT)


class SinkhornDivergence:
    """Debiased entropic OT divergence between a mixture of sources and a validation set.

    The mixture with proportions ``p`` is the weighted empirical measure putting mass
    ``p_j / n_j`` on each of the ``n_j`` feature vectors of source ``j``; the validation set is
    uniform. With ``OT_ε(a, b) = min_P ⟨P, C⟩ + ε·KL(P ‖ a⊗b)`` (squared Euclidean cost ``C``),

        S(a, b) = OT_ε(a, b) − ½·OT_ε(a, a) − ½·OT_ε(b, b)

    (Feydy et al. 2019), which is 0 for ``a = b``. Its gradient with respect to the masses is the
    difference of dual potentials ``f_ab − f_aa`` (each extended to every source point by its
    soft c-transform), chained to ``p``. ``OT_ε(a, b)`` is solved by POT's ``ot.sinkhorn`` (log
    domain when ``max C/ε > 500``); the symmetric terms by the averaged fixed point of Feydy et al.

    Parameters
    ----------
    sources : sequence of array_like, each (n_j, n_features)
        Features of each source's (revealed) examples.
    validation : array_like, shape (n_val, n_features)
        Features of the validation set.
    reg : float
        Entropic regularisation ``ε``, in units of the (scaled) cost.
    scale_cost : bool
        Divide the cost by the mean squared distance between source and validation points, so
        ``reg`` is relative (the scale is fixed at construction, so values stay comparable across
        mixtures).
    max_iter, tol : int, float
        Sinkhorn iterations and stopping threshold (marginal error for ``OT_ε(a, b)``, change of
        the potential for the symmetric terms).

    Raises
    ------
    ImportError
        Without POT (``pip install 'lawfit[projektor]'``).
    """

    def __init__(
        self,
        sources: Sequence[Any],
        validation: Any,
        *,
        reg: float = 0.05,
        scale_cost: bool = True,
        max_iter: int = 10_000,
        tol: float = 1e-9,
    ) -> None:
        self._ot = require("ot", extra="projektor", package="POT", what="SinkhornDivergence")
        special = require("scipy.special", extra="projektor", package="scipy", what="SinkhornDivergence")
        self._lse = special.logsumexp
        if len(sources) == 0:
            raise LawfitInputError("need at least one source")
        feats = [np.asarray(s, dtype=np.float64) for s in sources]
        y = np.asarray(validation, dtype=np.float64)
        d = y.shape[1] if y.ndim == 2 else -1
        for j, f in enumerate(feats):
            if f.ndim != 2 or f.shape[0] == 0 or f.shape[1] != d:
                raise LawfitInputError(f"sources[{j}] must be (n_j, {d}), got shape {f.shape}")
        if not reg > 0:
            raise LawfitInputError(f"reg must be positive, got {reg!r}")
        self.sizes = np.array([f.shape[0] for f in feats])
        self.owner = np.repeat(np.arange(len(feats)), self.sizes)
        x = np.concatenate(feats)
        cxy = self._ot.dist(x, y)
        self.scale = float(cxy.mean()) if scale_cost else 1.0
        self.cxy = cxy / self.scale
        self.cxx = self._ot.dist(x, x) / self.scale
        self.reg, self.max_iter, self.tol = float(reg), int(max_iter), float(tol)
        self.b = np.full(y.shape[0], 1.0 / y.shape[0])
        cyy = self._ot.dist(y, y) / self.scale
        self.ot_bb = 2.0 * float(self.b @ self._sym_potential(self.b, cyy))

    @property
    def n_sources(self) -> int:
        """Number of sources ``k``."""
        return int(self.sizes.size)

    def _solve(self, a: np.ndarray, b: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """KL-normalised dual potentials ``(f, g)`` of ``OT_ε(a, b)`` (POT's Sinkhorn; a, b > 0)."""
        # the plain (scaling) iterations are ~10x faster; switch to the log domain before exp(−C/ε)
        # could underflow
        log_domain = float(cost.max()) / self.reg > 500.0
        _, log = self._ot.sinkhorn(a, b, cost, self.reg, method="sinkhorn_log" if log_domain else "sinkhorn",
                                   numItermax=self.max_iter, stopThr=self.tol, log=True, warn=False)
        log_u = log["log_u"] if log_domain else np.log(log["u"])
        log_v = log["log_v"] if log_domain else np.log(log["v"])
        return self.reg * (log_u - np.log(a)), self.reg * (log_v - np.log(b))

    def _c_transform(self, weights: np.ndarray, potential: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """``f_i = −ε·log Σ_j w_j exp((g_j − C_ij)/ε)`` for every row ``i`` of ``cost``."""
        z = np.log(weights)[None, :] + (potential[None, :] - cost) / self.reg
        return -self.reg * self._lse(z, axis=1)

    def _sym_potential(self, a: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """Potential of the symmetric problem ``OT_ε(a, a)`` by the averaged fixed point
        ``f ← ½(f + T(f))`` of Feydy et al. (2019), which converges in tens of iterations where
        plain Sinkhorn oscillates."""
        f = self._c_transform(a, np.zeros_like(a), cost)
        for _ in range(self.max_iter):
            new = 0.5 * (f + self._c_transform(a, f, cost))
            done = float(np.max(np.abs(new - f))) < self.tol
            f = new
            if done:
                break
        return f

    def masses(self, p: Any) -> np.ndarray:
        """Mass on every source point for proportions ``p`` (shape (k,)), shape (Σ n_j,)."""
        pp = as_float_array("p", p)
        if pp.shape != (self.n_sources,):
            raise LawfitInputError(f"p must have shape ({self.n_sources},), got {pp.shape}")
        if (pp < 0).any() or not np.isclose(pp.sum(), 1.0, rtol=0, atol=1e-9):
            raise LawfitInputError(f"p must lie on the simplex (non-negative, sum 1), got {pp.tolist()}")
        return (pp / self.sizes)[self.owner]

    def __call__(self, p: Any) -> tuple[float, np.ndarray]:
        """``(S(p), dS/dp)``: the divergence (scaled-cost units) and its gradient, shape (k,)."""
        a = self.masses(p)
        on = a > 0
        a_on = a[on]
        _, g = self._solve(a_on, self.b, self.cxy[on])
        f_ab = self._c_transform(self.b, g, self.cxy)  # every source point
        sym = self._sym_potential(a_on, self.cxx[np.ix_(on, on)])
        f_aa = self._c_transform(a_on, sym, self.cxx[:, on])
        ot_ab = float(a_on @ f_ab[on] + self.b @ g)
        ot_aa = 2.0 * float(a_on @ sym)
        value = ot_ab - 0.5 * ot_aa - 0.5 * self.ot_bb
        grad_mass = f_ab - f_aa
        grad_p = np.bincount(self.owner, weights=grad_mass, minlength=self.n_sources) / self.sizes
        return value, grad_p


# --------------------------------------------------------------------------------------------------
# simplex projection and projected gradient


def project_simplex(v: Any, *, radius: float = 1.0) -> np.ndarray:
    """Euclidean projection onto the simplex ``{x ≥ 0, Σx = radius}`` (sort-based, O(k log k)).

    Sort ``v`` descending as ``u``; ``ρ = max{j : u_j − (Σ_{i≤j} u_i − radius)/j > 0}``;
    ``τ = (Σ_{i≤ρ} u_i − radius)/ρ``; ``x = max(v − τ, 0)``.

    Parameters
    ----------
    v : array_like, shape (k,) or (m, k)
        Point(s) to project (rows independently).
    radius : float
        Sum of the simplex, > 0.

    Returns
    -------
    np.ndarray
        Same shape as ``v``.
    """
    if not radius > 0:
        raise LawfitInputError(f"radius must be positive, got {radius!r}")
    x = np.asarray(v, dtype=np.float64)
    one = x.ndim == 1
    x2 = np.atleast_2d(x)
    if x2.ndim != 2 or x2.shape[1] == 0 or not np.isfinite(x2).all():
        raise LawfitInputError(f"v must be a finite (k,) or (m, k) array, got shape {x.shape}")
    u = -np.sort(-x2, axis=1)
    css = np.cumsum(u, axis=1) - radius
    j = np.arange(1, x2.shape[1] + 1)
    cond = u - css / j > 0
    rho = x2.shape[1] - np.argmax(cond[:, ::-1], axis=1)  # last index where cond holds (1-based)
    tau = css[np.arange(x2.shape[0]), rho - 1] / rho
    out = np.maximum(x2 - tau[:, None], 0.0)
    return out[0] if one else out


@dataclass
class MixtureSelection:
    """Result of projected-gradient mixture selection.

    Attributes
    ----------
    p : np.ndarray, shape (k,)
        Selected proportions (on the simplex).
    value : float
        Objective (predicted performance) at ``p``.
    n_iter : int
        Iterations run.
    converged : bool
        The step fell below ``tol``.
    history : list of float
        Objective after each iteration.
    """

    p: np.ndarray
    value: float
    n_iter: int
    converged: bool
    history: list[float] = field(default_factory=list)


def projected_gradient(
    fun: Callable[[np.ndarray], tuple[float, np.ndarray]],
    p0: Any,
    *,
    maximize: bool = True,
    step: float = 1.0,
    max_iter: int = 500,
    tol: float = 1e-9,
) -> MixtureSelection:
    """Projected gradient ascent (or descent) on the probability simplex with backtracking.

    Each iteration tries ``p⁺ = Π(p ± η·∇f)`` and halves ``η`` until the Armijo condition
    ``±(f(p⁺) − f(p)) ≥ 1e-4·|∇f·(p⁺ − p)|`` holds; a successful step doubles ``η`` for the next
    iteration. Stops when ``‖p⁺ − p‖_∞ < tol``.

    Parameters
    ----------
    fun : callable
        ``p -> (value, gradient of shape (k,))``.
    p0 : array_like, shape (k,)
        Start (projected onto the simplex first).
    maximize : bool
        Ascent (default) or descent.
    step : float
        Initial step ``η``.
    max_iter : int
        Iteration cap.
    tol : float
        Stopping threshold on the change of ``p``.

    Returns
    -------
    MixtureSelection
    """
    sign = 1.0 if maximize else -1.0
    p = project_simplex(as_float_array("p0", p0, allow_empty=False))
    val, grad = fun(p)
    eta = float(step)
    history: list[float] = []
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        g = np.asarray(grad, dtype=np.float64)
        while True:
            cand = project_simplex(p + sign * eta * g)
            move = cand - p
            if np.max(np.abs(move)) < tol:
                converged = True
                break
            cval, cgrad = fun(cand)
            if sign * (cval - val) >= 1e-4 * abs(float(g @ move)):
                break
            eta *= 0.5
            if eta < 1e-16:
                converged = True
                break
        if converged:
            break
        p, val, grad = cand, cval, cgrad
        history.append(float(val))
        eta *= 2.0
    return MixtureSelection(p=p, value=float(val), n_iter=it, converged=converged, history=history)


def select_mixture(
    model: Stage1Model | Projektor,
    ot_fn: OTFunction,
    p0: Any = None,
    *,
    n: float | None = None,
    maximize: bool = True,
    step: float = 1.0,
    max_iter: int = 500,
    tol: float = 1e-9,
) -> MixtureSelection:
    """Choose the mixture that optimises predicted performance, by projected gradient on the simplex.

    The objective is ``F(p) = model.predict(p, OT(p))`` with gradient
    ``∂F/∂p + ∂F/∂OT · ∇OT(p)``.

    Parameters
    ----------
    model : Stage1Model or Projektor
        Performance model (a :class:`Projektor` needs the target size ``n``).
    ot_fn : callable
        ``p -> (OT(p), ∇OT(p))``, e.g. a :class:`SinkhornDivergence`.
    p0 : array_like, shape (k,), optional
        Start; default uniform.
    n : float, optional
        Target dataset size for a :class:`Projektor`.
    maximize : bool
        Maximise (accuracy-like performance, default) or minimise (loss).
    step, max_iter, tol
        See :func:`projected_gradient`.

    Returns
    -------
    MixtureSelection
    """
    if isinstance(model, Projektor):
        if n is None:
            raise LawfitInputError("a Projektor model needs the target size n")
        model = model.at(n)
    k = model.n_sources
    start = np.full(k, 1.0 / k) if p0 is None else p0

    def fun(p: np.ndarray) -> tuple[float, np.ndarray]:
        o, go = ot_fn(p)
        gp, gf = model.gradient(p, o)
        return float(model.predict(p, o)), np.asarray(gp) + float(gf) * np.asarray(go, dtype=np.float64)

    return projected_gradient(fun, start, maximize=maximize, step=step, max_iter=max_iter, tol=tol)
