"""Data pruning: prototype difficulty, easy/hard selection, and power-law versus exponential
scaling of error with pruned dataset size (spec §9; Sorscher et al. 2022, "Beyond neural scaling
laws: beating power law scaling via data pruning", arXiv 2206.14486).

* **Self-supervised prototype metric.** Cluster L2-normalised example embeddings with k-means
  (``k`` within an order of magnitude of the number of classes); an example's difficulty is its
  cosine distance to the nearest centroid (``1 − max_j cos(x, c_j)``). k-means runs on
  scikit-learn (extra ``pruning``); pass ``centroids`` to score without it.
* **Selection.** Keep the easiest examples when data is scarce and the hardest when it is
  abundant. In the paper's perceptron theory the switch is governed by ``α_tot = P/N``, examples
  per parameter (or feature dimension); :func:`pruning_strategy` applies a user-set crossover.
* **Scaling.** Fit ``error = a·n^(−b)`` (power law) and ``error = a·exp(−b·n)`` (exponential) to
  error versus pruned dataset size ``n``, optionally with an irreducible floor ``c``, by least
  squares on ``log error``; compare by AIC (Gaussian likelihood of the log residuals).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from lawfit._core import LawfitInputError
from lawfit._optional import require
from lawfit._validate import as_float_array

__all__ = [
    "PrototypeScores",
    "ScalingComparison",
    "ScalingModelFit",
    "compare_pruning_scaling",
    "prototype_scores",
    "pruning_strategy",
    "select_examples",
]


@dataclass(frozen=True)
class PrototypeScores:
    """Prototype difficulty of each example.

    Attributes
    ----------
    difficulty : np.ndarray, shape (n_examples,)
        Cosine distance to the nearest centroid, in [0, 2]; larger = harder (less prototypical).
    cluster : np.ndarray of int64, shape (n_examples,)
        Index of the nearest centroid (by cosine).
    centroids : np.ndarray, shape (n_clusters, n_features)
        Centroids used (k-means centroids of the normalised embeddings, or the ones given).
    """

    difficulty: np.ndarray
    cluster: np.ndarray
    centroids: np.ndarray


def _unit_rows(x: np.ndarray, name: str) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1)
    if (norm == 0).any():
        i = int(np.argmax(norm == 0))
        raise LawfitInputError(f"{name}[{i}] is the zero vector; cosine distance is undefined")
    return x / norm[:, None]


def prototype_scores(
    embeddings: Any,
    n_clusters: int | None = None,
    *,
    centroids: Any = None,
    random_state: int | None = 0,
    n_init: int = 10,
) -> PrototypeScores:
    """Self-supervised prototype difficulty: cosine distance to the nearest k-means centroid.

    Parameters
    ----------
    embeddings : array_like, shape (n_examples, n_features)
        Example embeddings (e.g. from a self-supervised encoder). Rows are L2-normalised first.
    n_clusters : int, optional
        ``k`` for k-means (required unless ``centroids`` is given).
    centroids : array_like, shape (n_clusters, n_features), optional
        Precomputed centroids; k-means is skipped and scikit-learn is not needed.
    random_state : int, optional
        Seed of k-means.
    n_init : int
        k-means restarts.

    Returns
    -------
    PrototypeScores

    Raises
    ------
    ImportError
        When k-means is needed and scikit-learn is missing (``pip install 'lawfit[pruning]'``).
    """
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise LawfitInputError(f"embeddings must be (n_examples, n_features), got shape {x.shape}")
    if not np.isfinite(x).all():
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise LawfitInputError(f"embeddings[{i}, {j}] is {x[i, j]!r}; embeddings must be finite")
    xu = _unit_rows(x, "embeddings")
    if centroids is None:
        if n_clusters is None or int(n_clusters) != n_clusters or not 1 <= n_clusters <= x.shape[0]:
            raise LawfitInputError(
                f"n_clusters must be an integer in [1, n_examples={x.shape[0]}], got {n_clusters!r}"
            )
        cluster_mod = require("sklearn.cluster", extra="pruning", package="scikit-learn",
                              what="prototype_scores (k-means)")
        km = cluster_mod.KMeans(n_clusters=int(n_clusters), n_init=n_init, random_state=random_state)
        cent = np.asarray(km.fit(xu).cluster_centers_, dtype=np.float64)
    else:
        cent = np.asarray(centroids, dtype=np.float64)
        if cent.ndim != 2 or cent.shape[1] != x.shape[1] or cent.shape[0] == 0:
            raise LawfitInputError(f"centroids must be (n_clusters, {x.shape[1]}), got shape {cent.shape}")
    cu = _unit_rows(cent, "centroids")
    sim = xu @ cu.T
    nearest = np.argmax(sim, axis=1)
    difficulty = 1.0 - sim[np.arange(x.shape[0]), nearest]
    return PrototypeScores(difficulty=np.clip(difficulty, 0.0, 2.0), cluster=nearest.astype(np.int64),
                           centroids=cent)


def pruning_strategy(abundance: float, *, crossover: float = 1.0) -> Literal["easy", "hard"]:
    """Which examples to keep: ``"easy"`` when data is scarce, ``"hard"`` when it is abundant.

    Parameters
    ----------
    abundance : float
        Data abundance, e.g. ``α_tot = P/N`` (examples per parameter or feature dimension, the
        control variable of Sorscher et al.'s perceptron theory).
    crossover : float
        Abundance above which hard examples are kept. The theory puts the switch at an
        abundance of order one; calibrate it on your setting (e.g. from a small pruning sweep).

    Returns
    -------
    {"easy", "hard"}
    """
    if not np.isfinite(abundance) or abundance < 0:
        raise LawfitInputError(f"abundance must be a finite non-negative number, got {abundance!r}")
    return "hard" if abundance > crossover else "easy"


def select_examples(
    difficulty: Any,
    keep_fraction: float,
    *,
    keep: Literal["easy", "hard", "auto"] = "auto",
    abundance: float | None = None,
    crossover: float = 1.0,
) -> np.ndarray:
    """Indices of the examples kept after pruning.

    Parameters
    ----------
    difficulty : array_like, shape (n_examples,)
        Difficulty scores (e.g. :attr:`PrototypeScores.difficulty`).
    keep_fraction : float
        Fraction of examples kept, in (0, 1]; ``round(keep_fraction·n)`` examples (at least one).
    keep : {"easy", "hard", "auto"}
        Keep the lowest (``"easy"``) or highest (``"hard"``) difficulties; ``"auto"`` decides by
        :func:`pruning_strategy` on ``abundance``.
    abundance : float, optional
        Data abundance (required with ``keep="auto"``).
    crossover : float
        Passed to :func:`pruning_strategy`.

    Returns
    -------
    np.ndarray of int64
        Sorted indices of the kept examples. Ties are broken by index (stable sort).
    """
    d = as_float_array("difficulty", difficulty, allow_empty=False)
    if not 0 < keep_fraction <= 1:
        raise LawfitInputError(f"keep_fraction must be in (0, 1], got {keep_fraction!r}")
    if keep == "auto":
        if abundance is None:
            raise LawfitInputError("keep='auto' needs abundance (e.g. examples per parameter)")
        keep = pruning_strategy(abundance, crossover=crossover)
    if keep not in ("easy", "hard"):
        raise LawfitInputError(f"keep must be 'easy', 'hard' or 'auto', got {keep!r}")
    n_keep = max(1, int(round(keep_fraction * d.size)))
    order = np.argsort(d if keep == "easy" else -d, kind="stable")
    return np.sort(order[:n_keep]).astype(np.int64)


# --------------------------------------------------------------------------------------------------
# power law versus exponential


@dataclass(frozen=True)
class ScalingModelFit:
    """One model of error versus dataset size, fitted on log error.

    Attributes
    ----------
    model : {"power", "exponential"}
        ``a·n^(−b) (+ c)`` or ``a·exp(−b·n) (+ c)``.
    params : dict[str, float]
        ``a``, ``b`` and, with a floor, ``c`` (``b`` is per example for the exponential).
    n_params : int
        Number of fitted law parameters.
    rss : float
        Residual sum of squares of ``log error``.
    log_likelihood : float
        Gaussian log-likelihood of the log residuals at the ML variance ``rss/n``.
    aic, aicc : float
        ``2k − 2·log_likelihood`` with ``k = n_params + 1`` (the variance counts), and its
        small-sample correction ``aic + 2k(k + 1)/(n − k − 1)`` (``inf`` when ``n ≤ k + 1``).
    """

    model: str
    params: dict[str, float]
    n_params: int
    rss: float
    log_likelihood: float
    aic: float
    aicc: float

    def predict(self, size: Any) -> np.ndarray:
        """Predicted error at dataset sizes ``size`` (array_like)."""
        n = np.asarray(size, dtype=np.float64)
        a, b, c = self.params["a"], self.params["b"], self.params.get("c", 0.0)
        return (a * n ** (-b) if self.model == "power" else a * np.exp(-b * n)) + c


@dataclass(frozen=True)
class ScalingComparison:
    """Power law versus exponential, compared by AIC.

    Attributes
    ----------
    power, exponential : ScalingModelFit
        The two fits.
    preferred : {"power", "exponential"}
        The model with the lower AIC.
    delta_aic : float
        ``AIC(power) − AIC(exponential)`` (positive favours the exponential).
    weights : dict[str, float]
        Akaike weights of the two models.
    """

    power: ScalingModelFit
    exponential: ScalingModelFit
    preferred: str
    delta_aic: float
    weights: dict[str, float]


def _finish(model: str, params: dict[str, float], k: int, resid: np.ndarray) -> ScalingModelFit:
    n = resid.size
    rss = float(resid @ resid)
    sigma2 = max(rss / n, np.finfo(float).tiny)
    ll = -0.5 * n * (np.log(2 * np.pi * sigma2) + 1.0)
    kk = k + 1
    aic = 2 * kk - 2 * ll
    aicc = aic + 2 * kk * (kk + 1) / (n - kk - 1) if n > kk + 1 else float("inf")
    return ScalingModelFit(model=model, params=params, n_params=k, rss=rss, log_likelihood=float(ll),
                           aic=float(aic), aicc=float(aicc))


def _fit_one(model: str, n: np.ndarray, e: np.ndarray, floor: bool) -> ScalingModelFit:
    loge = np.log(e)
    feat = np.log(n) if model == "power" else n
    # closed form without a floor: log e = log a − b·feat
    slope, icpt = np.polyfit(feat, loge, 1)
    a0, b0 = float(np.exp(icpt)), float(-slope)
    if not floor:
        resid = loge - (icpt + slope * feat)
        return _finish(model, {"a": a0, "b": b0}, 2, resid)
    optimize = require("scipy.optimize", extra="tasks", package="scipy", what="compare_pruning_scaling")
    scale = float(np.median(n)) if model == "exponential" else 1.0

    def f(nn: np.ndarray, la: float, b: float, c: float) -> np.ndarray:
        base = -b * np.log(nn) if model == "power" else -b * nn / scale
        return np.log(np.exp(la + base) + c)

    emin = float(e.min())
    best: tuple[float, np.ndarray] | None = None
    for c0 in (0.0, 0.5 * emin, 0.9 * emin):
        p0 = [np.log(max(a0, 1e-300)), max(b0 * (scale if model == "exponential" else 1.0), 1e-6), c0]
        try:
            popt, _ = optimize.curve_fit(
                f, n, loge, p0=p0,
                bounds=([-np.inf, 0.0, 0.0], [np.inf, np.inf, emin]), maxfev=20000,
            )
        except (RuntimeError, ValueError):
            continue
        rss = float(np.sum((loge - f(n, *popt)) ** 2))
        if best is None or rss < best[0]:
            best = (rss, popt)
    if best is None:
        raise LawfitInputError(f"the {model} fit with a floor did not converge")
    la, b, c = best[1]
    params = {"a": float(np.exp(la)), "b": float(b / scale if model == "exponential" else b), "c": float(c)}
    return _finish(model, params, 3, loge - f(n, *best[1]))


def compare_pruning_scaling(size: Any, error: Any, *, floor: bool = False) -> ScalingComparison:
    """Fit power-law and exponential decay of error with (pruned) dataset size; compare by AIC.

    Parameters
    ----------
    size : array_like, shape (n_points,)
        Dataset size after pruning (examples), > 0.
    error : array_like, shape (n_points,)
        Test error at each size, > 0.
    floor : bool
        Add an irreducible error ``c`` (``0 ≤ c < min(error)``) to both models (fitted with
        ``scipy.optimize.curve_fit``); otherwise both are linear regressions of ``log error``
        on ``log n`` or ``n``.

    Returns
    -------
    ScalingComparison

    Notes
    -----
    Both models are fitted to the same response (``log error``), so their AICs are comparable.
    """
    n = as_float_array("size", size, positive=True, allow_empty=False)
    e = as_float_array("error", error, positive=True)
    if e.shape != n.shape:
        raise LawfitInputError(f"error has shape {e.shape} but size has shape {n.shape}")
    need = 4 if floor else 3
    if n.size < need:
        raise LawfitInputError(f"need ≥ {need} points to compare the models, got {n.size}")
    if np.ptp(n) == 0:
        raise LawfitInputError("size must take at least two distinct values")
    pw = _fit_one("power", n, e, floor)
    ex = _fit_one("exponential", n, e, floor)
    aics = np.array([pw.aic, ex.aic])
    w = np.exp(-0.5 * (aics - aics.min()))
    w /= w.sum()
    return ScalingComparison(
        power=pw,
        exponential=ex,
        preferred="power" if pw.aic <= ex.aic else "exponential",
        delta_aic=float(pw.aic - ex.aic),
        weights={"power": float(w[0]), "exponential": float(w[1])},
    )
