"""Downstream capability transforms and their per-sample correlation with compute (spec §8;
Schaeffer et al. 2024, "Why has predicting downstream capabilities of frontier AI models with scale
remained elusive?", arXiv 2406.04391).

A multiple-choice benchmark is scored through a pipeline of transforms, each of which can weaken
the relation between a model's score and its training compute:

* ``log_p_correct`` — ``logL_c``, log-likelihood of the correct choice (nats);
* ``p_correct`` — ``exp(logL_c)``, probability mass on the correct choice;
* ``p_choice_correct`` — ``softmax(logL)_c``, probability of the correct choice among the choices;
* ``accuracy`` — ``1[argmax_j logL_j = c]`` (ties go to the first maximal choice);
* ``brier`` — ``mean_j (softmax(logL)_j − 1[j = c])²`` (lower is better).

For each sample, :func:`correlate_with_compute` correlates each stage's score with
``log10(compute)``, ``compute = 6·N·D``, across a model family (Pearson, Spearman and Kendall's
tau-b, matching ``scipy.stats``), and :class:`ComputeCorrelations` summarises the distribution of the
per-sample correlations per stage. Samples whose score does not vary across models (common for
accuracy) have an undefined correlation (``nan``) and are counted separately.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawfit._core import LawfitInputError
from lawfit._optional import require
from lawfit._validate import as_float_array

_stats = require("scipy.stats", extra="tasks", package="scipy", what="lawfit.tasks.downstream")

__all__ = [
    "METHODS",
    "STAGES",
    "ComputeCorrelations",
    "DownstreamScores",
    "ModelFamily",
    "correlate_with_compute",
    "downstream_scores",
    "per_sample_correlation",
    "read_model_family",
]

STAGES: tuple[str, ...] = ("log_p_correct", "p_correct", "p_choice_correct", "accuracy", "brier")
"""Pipeline stages, in order."""

METHODS: tuple[str, ...] = ("pearson", "spearman", "kendall")
"""Correlation coefficients computed per sample."""


@dataclass(frozen=True)
class DownstreamScores:
    """Every stage of the scoring pipeline for ``n_models`` models on ``n_samples`` samples.

    Attributes
    ----------
    log_p_correct : np.ndarray, shape (n_models, n_samples)
        Log-likelihood of the correct choice (nats).
    p_correct : np.ndarray, shape (n_models, n_samples)
        ``exp(log_p_correct)``.
    p_choices : np.ndarray, shape (n_models, n_samples, n_choices)
        Softmax over each sample's choices (``nan`` where a sample has fewer choices).
    p_choice_correct : np.ndarray, shape (n_models, n_samples)
        ``p_choices`` at the correct choice.
    accuracy : np.ndarray, shape (n_models, n_samples)
        1.0 when the correct choice has the highest log-likelihood, else 0.0.
    brier : np.ndarray, shape (n_models, n_samples)
        Mean over the sample's choices of ``(p_j − 1[j = correct])²``.
    """

    log_p_correct: np.ndarray
    p_correct: np.ndarray
    p_choices: np.ndarray
    p_choice_correct: np.ndarray
    accuracy: np.ndarray
    brier: np.ndarray

    def stage(self, name: str) -> np.ndarray:
        """The (n_models, n_samples) scores of one stage of :data:`STAGES`."""
        if name not in STAGES:
            raise LawfitInputError(f"unknown stage {name!r}; stages are {', '.join(STAGES)}")
        return getattr(self, name)

    def mean(self) -> dict[str, np.ndarray]:
        """Benchmark-level score per stage: mean over samples, each of shape (n_models,)."""
        return {s: self.stage(s).mean(axis=1) for s in STAGES}


def downstream_scores(log_likelihoods: Any, correct: Any) -> DownstreamScores:
    """Transform per-choice log-likelihoods into every stage of the scoring pipeline.

    Parameters
    ----------
    log_likelihoods : array_like, shape (n_models, n_samples, n_choices) or (n_samples, n_choices)
        Log-likelihood (nats) each model assigns to each choice of each sample. Samples with fewer
        choices pad with ``nan``. A 2-D array is one model.
    correct : array_like of int, shape (n_samples,)
        Index of the correct choice of each sample.

    Returns
    -------
    DownstreamScores

    Examples
    --------
    >>> s = downstream_scores([[-1.0, -2.0, -3.0]], [0])
    >>> round(float(s.p_choices[0, 0, 0]), 5), round(float(s.brier[0, 0]), 6)
    (0.66524, 0.06002)
    """
    ll = np.asarray(log_likelihoods, dtype=np.float64)
    if ll.ndim == 2:
        ll = ll[None]
    if ll.ndim != 3:
        raise LawfitInputError(
            f"log_likelihoods must be (n_models, n_samples, n_choices), got shape {ll.shape}"
        )
    n_models, n_samples, n_choices = ll.shape
    if n_samples == 0 or n_choices == 0 or n_models == 0:
        raise LawfitInputError(f"log_likelihoods is empty (shape {ll.shape})")
    present = ~np.isnan(ll)
    bad = np.isinf(ll) & (ll > 0)
    if bad.any():
        m, i, j = np.argwhere(bad)[0]
        raise LawfitInputError(f"log_likelihoods[{m}, {i}, {j}] is +inf; log-likelihoods must be ≤ 0")
    if not present.any(axis=2).all():
        m, i = np.argwhere(~present.any(axis=2))[0]
        raise LawfitInputError(f"log_likelihoods[{m}, {i}, :] has no choice (all nan)")
    c = np.asarray(correct)
    if c.shape != (n_samples,) or not np.issubdtype(c.dtype, np.integer):
        raise LawfitInputError(f"correct must be integers of shape ({n_samples},), got {c.dtype} {c.shape}")
    out = (c < 0) | (c >= n_choices)
    if out.any():
        i = int(np.argmax(out))
        raise LawfitInputError(f"correct[{i}] is {int(c[i])}; choices are 0..{n_choices - 1}")
    rows = np.arange(n_samples)
    if not present[:, rows, c].all():
        m, i = np.argwhere(~present[:, rows, c])[0]
        raise LawfitInputError(f"log_likelihoods[{m}, {i}, correct[{i}]={int(c[i])}] is nan")

    filled = np.where(present, ll, -np.inf)
    top = filled.max(axis=2, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    ex = np.exp(filled - top)
    p_choices = np.where(present, ex / ex.sum(axis=2, keepdims=True), np.nan)
    log_p_correct = ll[:, rows, c]
    p_choice_correct = p_choices[:, rows, c]
    onehot = np.zeros((n_samples, n_choices))
    onehot[rows, c] = 1.0
    sq = np.where(present, (np.nan_to_num(p_choices) - onehot) ** 2, 0.0)
    brier = sq.sum(axis=2) / present.sum(axis=2)
    accuracy = (np.argmax(filled, axis=2) == c[None, :]).astype(np.float64)
    return DownstreamScores(
        log_p_correct=log_p_correct,
        p_correct=np.exp(log_p_correct),
        p_choices=p_choices,
        p_choice_correct=p_choice_correct,
        accuracy=accuracy,
        brier=brier,
    )


# --------------------------------------------------------------------------------------------------
# per-sample correlations


def _pearson_columns(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r of ``x`` (n,) with each column of ``y`` (n, m); ``nan`` for a constant column."""
    xc = x - x.mean()
    yc = y - y.mean(axis=0)
    sx = np.sqrt(xc @ xc)
    sy = np.sqrt(np.einsum("ij,ij->j", yc, yc))
    # a column is constant when its spread is at rounding level relative to its magnitude
    scale = np.maximum(np.abs(y).max(axis=0), np.finfo(float).tiny)
    const = sy <= 1e-12 * scale * np.sqrt(y.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc @ yc) / (sx * sy)
    r = np.clip(r, -1.0, 1.0)
    return np.where(const | (sx == 0), np.nan, r)


def _kendall_columns(x: np.ndarray, y: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Kendall's tau-b of ``x`` (n,) with each column of ``y`` (n, m), as ``scipy.stats.kendalltau``."""
    n = x.size
    i, j = np.triu_indices(n, k=1)
    sx = np.sign(x[i] - x[j])
    nx = np.abs(sx).sum()
    out = np.empty(y.shape[1])
    for a in range(0, y.shape[1], chunk):
        sy = np.sign(y[i, a : a + chunk] - y[j, a : a + chunk])
        num = sx @ sy
        ny = np.abs(sy).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[a : a + chunk] = np.where((ny == 0) | (nx == 0), np.nan, num / np.sqrt(nx * ny))
    return np.clip(out, -1.0, 1.0)


def per_sample_correlation(scores: Any, log_compute: Any, *, method: str = "pearson") -> np.ndarray:
    """Correlation of each sample's score with log compute across models.

    Parameters
    ----------
    scores : array_like, shape (n_models, n_samples)
        One stage's scores.
    log_compute : array_like, shape (n_models,)
        ``log10`` of training compute (FLOP) of each model (must be finite).
    method : {"pearson", "spearman", "kendall"}
        Pearson's r; Spearman's rho (Pearson on average ranks, ``scipy.stats.rankdata``);
        Kendall's tau-b. Each equals the ``scipy.stats`` function of the same name per sample.

    Returns
    -------
    np.ndarray, shape (n_samples,)
        ``nan`` where a sample's score is constant across models.
    """
    y = np.asarray(scores, dtype=np.float64)
    x = as_float_array("log_compute", log_compute)
    if y.ndim != 2 or y.shape[0] != x.size:
        raise LawfitInputError(f"scores must be (n_models={x.size}, n_samples), got shape {y.shape}")
    if x.size < 3:
        raise LawfitInputError(f"per-sample correlations need ≥ 3 models, got {x.size}")
    if not np.isfinite(y).all():
        m, i = np.argwhere(~np.isfinite(y))[0]
        raise LawfitInputError(f"scores[{m}, {i}] is {y[m, i]!r}; scores must be finite")
    if method == "pearson":
        return _pearson_columns(x, y)
    if method == "spearman":
        return _pearson_columns(_stats.rankdata(x), _stats.rankdata(y, axis=0))
    if method == "kendall":
        return _kendall_columns(x, y)
    raise LawfitInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


@dataclass
class ComputeCorrelations:
    """Per-sample correlations of every pipeline stage with log compute.

    Attributes
    ----------
    correlations : dict[str, dict[str, np.ndarray]]
        ``correlations[stage][method]``: shape (n_samples,), ``nan`` where undefined.
    log_compute : np.ndarray, shape (n_models,)
        ``log10(compute)`` used.
    """

    correlations: dict[str, dict[str, np.ndarray]]
    log_compute: np.ndarray

    def summary(self) -> list[dict[str, Any]]:
        """One row per (stage, method): the distribution of the per-sample correlations.

        Keys: ``stage``, ``method``, ``n`` (samples with a defined correlation), ``n_undefined``,
        ``mean``, ``median``, ``std``, ``q25``, ``q75`` and ``frac_positive``.
        """
        rows = []
        for stage, by_method in self.correlations.items():
            for method, r in by_method.items():
                ok = r[np.isfinite(r)]
                if ok.size:
                    q25, med, q75 = np.percentile(ok, [25, 50, 75])
                    stats = {"mean": float(ok.mean()), "median": float(med),
                             "std": float(ok.std(ddof=1)) if ok.size > 1 else float("nan"),
                             "q25": float(q25), "q75": float(q75), "frac_positive": float(np.mean(ok > 0))}
                else:
                    keys = ("mean", "median", "std", "q25", "q75", "frac_positive")
                    stats = dict.fromkeys(keys, float("nan"))
                rows.append({"stage": stage, "method": method, "n": int(ok.size),
                             "n_undefined": int(r.size - ok.size), **stats})
        return rows

    def table(self) -> str:
        """The summary as a plain-text table."""
        head = (f"{'stage':<17} {'method':<9} {'n':>6} {'undef':>6} {'mean':>7} {'median':>7} "
                f"{'q25':>7} {'q75':>7}")
        lines = [head, "-" * len(head)]
        for r in self.summary():
            lines.append(f"{r['stage']:<17} {r['method']:<9} {r['n']:>6} {r['n_undefined']:>6} "
                         f"{r['mean']:>7.3f} {r['median']:>7.3f} {r['q25']:>7.3f} {r['q75']:>7.3f}")
        return "\n".join(lines)


def correlate_with_compute(
    scores: DownstreamScores,
    compute: Any,
    *,
    methods: tuple[str, ...] = METHODS,
    stages: tuple[str, ...] = STAGES,
) -> ComputeCorrelations:
    """Per-sample correlation of each pipeline stage with ``log10(compute)`` across a model family.

    Parameters
    ----------
    scores : DownstreamScores
        From :func:`downstream_scores`, ``n_models`` models.
    compute : array_like, shape (n_models,)
        Training compute in FLOP (``6·N·D``; see :attr:`ModelFamily.compute`), > 0.
    methods : tuple of str
        Subset of :data:`METHODS`.
    stages : tuple of str
        Subset of :data:`STAGES`.

    Returns
    -------
    ComputeCorrelations
    """
    c = as_float_array("compute", compute, positive=True)
    if c.size != scores.accuracy.shape[0]:
        raise LawfitInputError(f"compute has {c.size} models but scores have {scores.accuracy.shape[0]}")
    logc = np.log10(c)
    corr = {s: {m: per_sample_correlation(scores.stage(s), logc, method=m) for m in methods} for s in stages}
    return ComputeCorrelations(correlations=corr, log_compute=logc)


# --------------------------------------------------------------------------------------------------
# the compute axis


@dataclass(frozen=True)
class ModelFamily:
    """Models with their parameter and token counts.

    Attributes
    ----------
    names : list of str
        Model (checkpoint) names.
    families : list of str
        Family of each model.
    parameters : np.ndarray, shape (n_models,)
        ``N``, parameters.
    tokens : np.ndarray, shape (n_models,)
        ``D``, training tokens seen.
    """

    names: list[str]
    families: list[str]
    parameters: np.ndarray
    tokens: np.ndarray

    @property
    def compute(self) -> np.ndarray:
        """Training compute ``6·N·D`` in FLOP, shape (n_models,)."""
        return 6.0 * self.parameters * self.tokens

    def select(self, mask: Any) -> ModelFamily:
        """The models where ``mask`` (boolean, shape (n_models,)) is true."""
        m = np.asarray(mask, dtype=bool)
        return ModelFamily(
            names=[n for n, k in zip(self.names, m, strict=True) if k],
            families=[f for f, k in zip(self.families, m, strict=True) if k],
            parameters=self.parameters[m],
            tokens=self.tokens[m],
        )


def read_model_family(
    path: str | os.PathLike[str],
    *,
    family: str | None = None,
    name_column: str = "Model Nickname",
    family_column: str = "Model Family",
    parameters_column: str = "Parameters",
    tokens_column: str = "Tokens",
) -> ModelFamily:
    """Read a CSV of models with parameter and token counts.

    The defaults match ``configs/models.csv`` of Schaeffer et al.'s repository
    (KoyejoLab-Why-Has-Predicting-Downstream-Capabilities-Remained-Elusive), columns
    ``Model Family, Model Nickname, …, Tokens, Parameters``.

    Parameters
    ----------
    path : path-like
        The CSV file.
    family : str, optional
        Keep only this family (e.g. ``"Pythia"``).
    name_column, family_column, parameters_column, tokens_column : str
        Column names.

    Returns
    -------
    ModelFamily
        In file order. Checkpoints with 0 tokens have compute 0; drop them before taking logs.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        wanted = {name_column, family_column, parameters_column, tokens_column}
        missing = wanted - set(reader.fieldnames or [])
        if missing:
            raise LawfitInputError(f"{os.fspath(path)} lacks column(s) {sorted(missing)}")
        rows = [r for r in reader if family is None or r[family_column] == family]
    if not rows:
        raise LawfitInputError(f"no models{'' if family is None else f' of family {family!r}'} in {path}")
    return ModelFamily(
        names=[r[name_column] for r in rows],
        families=[r[family_column] for r in rows],
        parameters=np.array([float(r[parameters_column]) for r in rows]),
        tokens=np.array([float(r[tokens_column]) for r in rows]),
    )
