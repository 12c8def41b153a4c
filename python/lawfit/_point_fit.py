"""The data-point side of :func:`lawfit.fit`: ``fit(law, N=..., D=..., loss=...)`` and
``fit(law, x=..., y=...)`` for :class:`~lawfit.laws.PointLaw` laws. It checks the data and hands
a :class:`~lawfit._stats.FitData` to the pipeline every fit shares (``lawfit.fitting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lawfit._stats import FitData, check_weights
from lawfit._validate import LawfitInputError, as_float_array
from lawfit.laws import PointLaw


def _drop_nan(data: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray | None, nan_policy: str
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]:
    if nan_policy not in ("raise", "omit"):
        raise LawfitInputError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    arrays = {**data, "y": y}
    bad = np.zeros(y.size, dtype=bool)
    for v in arrays.values():
        bad |= ~np.isfinite(v)
    if not bad.any():
        return data, y, w
    if nan_policy == "raise":
        for k, v in arrays.items():
            nonfinite = ~np.isfinite(v)
            if nonfinite.any():
                i = int(np.argmax(nonfinite))
                name = "loss" if k == "y" else k
                raise LawfitInputError(f"{name}[{i}] is {float(v[i])!r}; pass nan_policy=\"omit\" to drop it")
    keep = ~bad
    return ({k: np.ascontiguousarray(v[keep]) for k, v in data.items()}, np.ascontiguousarray(y[keep]),
            None if w is None else np.ascontiguousarray(w[keep]))


def point_data(law: PointLaw, data: Mapping[str, Any], targets: Any, *, weights: Any,
               nan_policy: str) -> FitData:
    """The data points of a fit (see :func:`lawfit.fit`): the law's data keywords and the observed
    values, checked, with non-finite points refused or dropped (``nan_policy``)."""
    arrays = law.check_data(data)
    y = as_float_array("loss", targets, finite=False, allow_empty=False)
    n_all = next(iter(arrays.values())).size
    if y.size != n_all:
        raise LawfitInputError(f"loss has length {y.size}, expected {n_all} (one per data point)")
    w = check_weights(weights, n_all)
    arrays, y, w = _drop_nan(arrays, y, w, nan_policy)
    return FitData(
        kind="points", data=arrays, targets=y, weights=w, bounds=law.bounds(),
        default_starts=lambda lower, upper: law.default_starts_points(arrays, y, w, lower=lower, upper=upper),
        solve=lambda **kw: law.fit_points(arrays, y, w, **kw),
        predict=lambda params: law.predict(params, **arrays),
        positive_always=law.positive_targets,
        solver_names=tuple(law.solver_names),
        info={"data": {"names": list(law.data_names), "n_points": int(y.size),
                       "range": {k: [float(v.min()), float(v.max())] for k, v in arrays.items()}}},
    )
