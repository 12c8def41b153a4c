"""Conformal calibration of forecast bands: how wrong a partial-run forecast is, by horizon.

A forecast fitted on the first ``cut`` steps of a run predicts the loss at step ``t > cut``. Its
relative error has two sources the fit's covariance does not see: the law is not exact, and the
residuals of a per-step log are autocorrelated (so the covariance is far too small). This module
measures that error on real runs and turns it into a band (split-conformal prediction):

- the score of a forecast at step ``t`` is ``e = log(pred / ref)`` with ``ref`` the smoothed
  logged loss (:func:`lawfit.forecast.smooth_loss`, 201-step centred window);
- the horizon is ``h = log(t / cut)`` (how far ahead the forecast reaches, relative to what was
  seen: ``h = log 4`` for the end of a run cut at 25%);
- the scores of a corpus of (run, cut) records are binned by horizon and by *calibration group*
  (``"seen"``: the run's annealing was seen, or none is planned; ``"prior"``: annealing is planned
  but not seen, and the annealing coefficient comes from a prior), and the weighted quantiles of
  every bin (each record weighs 1 whatever its number of points) give the band
  ``[pred·exp(−q_hi), pred·exp(−q_lo)]``;
- the quantile level is raised by the split-conformal correction ``level·(1 + 1/n)`` for a bin of
  ``n`` records, and the bands are made monotone in the horizon (never narrower further ahead).

The shipped table (``lawfit/data/forecast_calibration.json``) is built from every public run of the
data by ``benches/calibrate_forecast.py``; its provenance is stored in the file and documented in
``docs/forecasting.md``. The benchmark ``benches/bench_forecast.py`` reports its coverage
leave-one-run-out and leave-one-dataset-out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError

#: Bin edges of the horizon h = log(t / cut); the last bin is open.
HORIZON_EDGES: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0)
#: Central levels tabulated; other levels in between are interpolated linearly.
LEVELS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: Calibration groups (see the module docstring).
GROUPS: tuple[str, ...] = ("seen", "prior")
#: Floor of a record's misfit scale (relative), for normalised tables.
MIN_SCALE = 1e-4
#: Version of the calibration file format.
FORMAT_VERSION = 1


def _weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile ``q`` of ``x`` under weights ``w`` (inverted weighted CDF, no interpolation)."""
    order = np.argsort(x)
    x, w = x[order], w[order]
    cw = np.cumsum(w)
    k = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(x[min(k, x.size - 1)])


@dataclass
class CalibrationTable:
    """Horizon-binned quantiles of the log forecast error (see the module docstring).

    Attributes
    ----------
    edges : ndarray, shape (n_bins,)
        Lower edges of the horizon bins (h = log(t / cut)); the last bin is open.
    levels : ndarray, shape (n_levels,)
        Central levels tabulated.
    lower, upper : dict[str, ndarray of shape (n_levels, n_bins)]
        Per group, the ``(1 − level)/2`` and ``(1 + level)/2`` quantiles of ``log(pred/ref)``
        (made monotone: ``lower`` non-increasing and ``upper`` non-decreasing in the horizon).
    n_records : dict[str, ndarray of shape (n_bins,)]
        Records (run, cut) with points in each bin.
    provenance : dict
        What the table was built from.
    """

    edges: np.ndarray
    levels: np.ndarray
    lower: dict[str, np.ndarray]
    upper: dict[str, np.ndarray]
    n_records: dict[str, np.ndarray]
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Whether the scores were divided by each record's in-sample misfit ``scale`` (see build_table).
    normalized: bool = False

    def bounds(
        self, horizon: np.ndarray, level: float, group: str, scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Log-error quantiles ``(q_lo, q_hi)`` at each horizon for a central ``level``.

        Parameters
        ----------
        horizon : ndarray, shape (n,)
            h = log(t / cut) ≥ 0 (negative values, inside the fitted range, count as 0).
        level : float
            Central level in [levels[0], levels[-1]].
        group : str
            A calibration group of the table.
        scale : float, default 1
            The forecast's in-sample misfit (RMS log residual against the smoothed seen loss);
            multiplies the quantiles of a ``normalized`` table, ignored otherwise.

        Returns
        -------
        q_lo, q_hi : ndarray, shape (n,)
            The reference loss lies in ``[pred·exp(−q_hi), pred·exp(−q_lo)]`` with the given
            probability (as calibrated).
        """
        if group not in self.lower:
            raise LawfitInputError(f"no calibration for group {group!r}; groups are {sorted(self.lower)}")
        lv = self.levels
        if not (lv[0] - 1e-12 <= level <= lv[-1] + 1e-12):
            raise LawfitInputError(
                f"calibrated bands exist for levels {lv[0]:g}..{lv[-1]:g}; got {level!r}"
            )
        h = np.maximum(np.asarray(horizon, dtype=float), 0.0)
        b = np.clip(np.searchsorted(self.edges, h, side="right") - 1, 0, self.edges.size - 1)
        lo = np.array([np.interp(level, lv, self.lower[group][:, j]) for j in range(self.edges.size)])
        hi = np.array([np.interp(level, lv, self.upper[group][:, j]) for j in range(self.edges.size)])
        f = float(scale) if self.normalized else 1.0
        if not (math.isfinite(f) and f > 0):
            raise LawfitInputError(f"scale must be positive and finite, got {scale!r}")
        return f * lo[b], f * hi[b]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (versioned)."""
        return {
            "format": "lawfit-forecast-calibration",
            "format_version": FORMAT_VERSION,
            "edges": self.edges.tolist(),
            "levels": self.levels.tolist(),
            "groups": {
                g: {
                    "lower": self.lower[g].tolist(),
                    "upper": self.upper[g].tolist(),
                    "n_records": self.n_records[g].tolist(),
                }
                for g in self.lower
            },
            "normalized": self.normalized,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CalibrationTable:
        """Inverse of :meth:`to_dict`; raises on another format or version."""
        if (
            data.get("format") != "lawfit-forecast-calibration"
            or data.get("format_version") != FORMAT_VERSION
        ):
            raise LawfitInputError("not a lawfit forecast calibration (format or version differs)")
        groups = data["groups"]
        return cls(
            np.asarray(data["edges"], dtype=float),
            np.asarray(data["levels"], dtype=float),
            {g: np.asarray(v["lower"], dtype=float) for g, v in groups.items()},
            {g: np.asarray(v["upper"], dtype=float) for g, v in groups.items()},
            {g: np.asarray(v["n_records"], dtype=int) for g, v in groups.items()},
            dict(data.get("provenance", {})),
            bool(data.get("normalized", False)),
        )


def build_table(
    records: Sequence[Mapping[str, Any]],
    *,
    edges: Sequence[float] = HORIZON_EDGES,
    levels: Sequence[float] = LEVELS,
    provenance: Mapping[str, Any] | None = None,
    normalize: bool = False,
) -> CalibrationTable:
    """Calibration table from forecast records.

    Parameters
    ----------
    records : list of dict
        One per (run, cut): ``steps`` (logged steps after the cut, shape (n,)), ``score``
        (``log(pred/ref)`` at those steps, shape (n,)), ``seen_until`` (the cut, a step) and
        ``group`` (a calibration group).
    edges, levels
        Horizon bin edges and central levels (defaults :data:`HORIZON_EDGES`, :data:`LEVELS`).
    provenance : dict, optional
        Stored with the table.
    normalize : bool, default False
        Divide each record's scores by its ``scale`` (the fit's in-sample misfit, a positive
        float per record), so one table serves smooth and noisy runs; ``bounds`` multiplies back.

    Returns
    -------
    CalibrationTable
        A group with no record in a bin takes the nearest filled bin at a shorter horizon (then
        at a longer one); a group with no record at all takes the ``"seen"`` group's values.
    """
    e = np.asarray(edges, dtype=float)
    lv = np.asarray(levels, dtype=float)
    if e.ndim != 1 or e.size < 1 or e[0] != 0 or np.any(np.diff(e) <= 0):
        raise LawfitInputError("edges must start at 0 and increase")
    if np.any((lv <= 0) | (lv >= 1)) or np.any(np.diff(lv) <= 0):
        raise LawfitInputError("levels must increase within (0, 1)")
    lower, upper, counts = {}, {}, {}
    groups = sorted({str(r["group"]) for r in records} | set(GROUPS))
    for g in groups:
        xs: list[list[np.ndarray]] = [[] for _ in e]
        ws: list[list[np.ndarray]] = [[] for _ in e]
        for r in records:
            if r["group"] != g or len(r["score"]) == 0:
                continue
            h = np.log(np.asarray(r["steps"], dtype=float) / float(r["seen_until"]))
            s = np.asarray(r["score"], dtype=float)
            if normalize:
                s = s / max(float(r["scale"]), MIN_SCALE)
            b = np.clip(np.searchsorted(e, h, side="right") - 1, 0, e.size - 1)
            for j in np.unique(b):
                m = b == j
                xs[j].append(s[m])
                ws[j].append(np.full(int(m.sum()), 1.0 / m.sum()))
        n = np.array([len(x) for x in xs])
        lo = np.full((lv.size, e.size), np.nan)
        hi = np.full((lv.size, e.size), np.nan)
        for j in range(e.size):
            if n[j] == 0:
                continue
            x, w = np.concatenate(xs[j]), np.concatenate(ws[j])
            for i, level in enumerate(lv):
                adj = min(1.0, level * (1 + 1 / n[j]))  # split-conformal finite-sample correction
                lo[i, j] = _weighted_quantile(x, w, (1 - adj) / 2)
                hi[i, j] = _weighted_quantile(x, w, (1 + adj) / 2)
        if n.sum() == 0:
            if g == "seen":
                raise LawfitInputError("no record of group 'seen': cannot calibrate")
            continue
        filled = np.flatnonzero(n > 0)
        for j in np.flatnonzero(n == 0):
            src = filled[filled < j].max() if (filled < j).any() else filled.min()
            lo[:, j], hi[:, j] = lo[:, src], hi[:, src]
        # never narrower further ahead; never excluding the point forecast itself
        lo = np.minimum(np.minimum.accumulate(lo, axis=1), 0.0)
        hi = np.maximum(np.maximum.accumulate(hi, axis=1), 0.0)
        lower[g], upper[g], counts[g] = lo, hi, n
    for g in groups:
        if g not in lower:
            lower[g], upper[g], counts[g] = lower["seen"], upper["seen"], np.zeros(e.size, dtype=int)
    return CalibrationTable(e, lv, lower, upper, counts, dict(provenance or {}), bool(normalize))


_DEFAULT: CalibrationTable | None = None


def default_table() -> CalibrationTable:
    """The shipped calibration (``lawfit/data/forecast_calibration.json``), read once."""
    global _DEFAULT
    if _DEFAULT is None:
        path = resources.files("lawfit").joinpath("data", "forecast_calibration.json")
        _DEFAULT = CalibrationTable.from_dict(json.loads(path.read_text(encoding="utf-8")))
    return _DEFAULT


def horizon(steps: np.ndarray, cut: int) -> np.ndarray:
    """h = log(t / cut), 0 for steps inside the fitted range (t ≤ cut)."""
    t = np.asarray(steps, dtype=float)
    return np.log(np.maximum(t, float(cut)) / float(cut)) if cut >= 1 else np.full(t.shape, math.inf)
