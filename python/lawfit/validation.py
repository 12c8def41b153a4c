"""`validate()`: fit laws on some curves and measure prediction accuracy on others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lawfit._stats import accuracy as accuracy  # re-exported: lawfit.validation.accuracy
from lawfit._validate import LawfitTypeError
from lawfit.curve import Curve
from lawfit.fitting import FitResult, fit
from lawfit.laws import Law
from lawfit.laws.auto import resolve_law


@dataclass
class Validation:
    """Accuracy of each law's forecasts on held-out curves.

    Attributes
    ----------
    fits : dict[str, FitResult]
        The fit of each law on the train curves, by law name.
    rows : list[dict]
        One row per (law, test curve): ``law``, ``curve``, ``r2``, ``mae``, ``rmse``, ``pred_e``
        (mean |pred − true| / true), ``worst_e`` (max of it) — the metrics of Luo et al. 2025.
    summary : dict[str, dict[str, float]]
        Per law, the mean of each metric over the test curves.
    """

    fits: dict[str, FitResult]
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, dict[str, float]] = field(default_factory=dict)

    def table(self) -> str:
        """A plain-text table of the rows and the per-law means."""
        head = f"{'law':<12} {'curve':<20} {'R2':>8} {'MAE':>8} {'RMSE':>8} {'PredE':>8} {'WorstE':>8}"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r['law']:<12} {r['curve']:<20} {r['r2']:>8.4f} {r['mae']:>8.5f} "
                         f"{r['rmse']:>8.5f} {r['pred_e']:>8.5f} {r['worst_e']:>8.5f}")
        lines.append("-" * len(head))
        for law, m in self.summary.items():
            lines.append(f"{law:<12} {'mean':<20} {m['r2']:>8.4f} {m['mae']:>8.5f} {m['rmse']:>8.5f} "
                         f"{m['pred_e']:>8.5f} {m['worst_e']:>8.5f}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"rows": self.rows, "summary": self.summary,
                "fits": {k: f.to_dict() for k, f in self.fits.items()}}


def validate(laws: Law | str | Sequence[Law | str], train: Sequence[Curve], test: Sequence[Curve],
             **fit_kwargs: Any) -> Validation:
    """Fit each law on ``train`` and score its predictions on every curve of ``test``.

    Parameters
    ----------
    laws : Law or list of Law
        Laws to compare (e.g. ``[MomentumLaw(), MultiPowerLaw()]``).
    train, test : list of Curve
        Curves to fit on and to predict.
    **fit_kwargs
        Passed to :func:`lawfit.fit` (robust loss, delta, ...).

    Returns
    -------
    Validation
    """
    law_list = [resolve_law(law) for law in ([laws] if isinstance(laws, (Law, str)) else list(laws))]
    if not law_list or not all(isinstance(law, Law) for law in law_list):
        raise LawfitTypeError("laws must be a Law or a list of Law instances")
    out = Validation(fits={})
    for law in law_list:
        result = fit(law, list(train), **fit_kwargs)
        out.fits[law.name] = result
        metrics = []
        for i, c in enumerate(test):
            pred = result.law.predict_curves(result.params, [c])
            m = accuracy(pred, c.loss)
            metrics.append(m)
            out.rows.append({"law": law.name, "curve": c.name or f"test[{i}]", **m})
        out.summary[law.name] = {k: float(np.mean([m[k] for m in metrics])) for k in metrics[0]}
    return out
