"""Forecast records of the real runs, shared by ``bench_forecast.py`` and ``calibrate_forecast.py``.

- :func:`prior_ratios`: the momentum law fitted on each whole run that anneals (post-warmup points),
  and the scale-free ratio r = C·η_peak/(1 − λ) / (A·S1(T)^−α) of :class:`lawfit.forecast.AutoPrior`.
- :func:`records_for`: the default :func:`lawfit.forecast` of a run cut at 25/50/75% (with a given
  prior), scored at every logged step after the cut: ``score = log(pred / ref)`` with ``ref`` the
  201-step centred moving average of the logged loss (:func:`lawfit.forecast.smooth_loss`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lawfit as lf
import numpy as np
from _forecast_runs import Run
from lawfit.calibration import CalibrationTable
from lawfit.forecast import AutoPrior, annealing_seen, smooth_loss

CUTS = (0.25, 0.5, 0.75)
TAIL = 0.1


def prior_ratio(run: Run) -> float | None:
    """r of one whole run (None when the run never anneals: C is then unidentified)."""
    c = run.curve
    if not annealing_seen(c.lr, c.warmup_steps, c.lr.size):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = lf.forecast(c, prior=None, level=None)
    p = fc.fit.params
    law = fc.fit.law
    s1_end = lf.areas(c.lr, decay=law.decay, warmup_steps=c.warmup_steps, warmup=law.warmup)[0][-1]
    return float(p["C"] * c.lr.max() / (1 - law.decay) / (p["A"] * s1_end ** (-p["alpha"])))


def pooled_prior(ratios: Sequence[float | None], source: str) -> AutoPrior:
    """Geometric mean and log-spread of the ratios that exist."""
    logs = np.log([r for r in ratios if r is not None and r > 0])
    return AutoPrior(float(np.exp(logs.mean())), float(logs.std(ddof=1)), int(logs.size), source)


def records_for(run: Run, prior: Any, cuts: Sequence[float] = CUTS) -> list[dict[str, Any]]:
    """Forecast ``run`` from each cut with ``prior`` and score it at the logged steps after the cut."""
    c = run.curve
    ref_all = smooth_loss(c.steps, c.loss, 201)
    total = c.lr.size
    out = []
    for cut in cuts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fc = lf.forecast(c, until=cut, prior=prior, level=None)
        after = c.steps > fc.seen_until
        steps, ref = c.steps[after], ref_all[after]
        pred = fc.fit.predict(c.lr, steps)
        out.append(
            {
                "dataset": run.dataset,
                "run": c.name,
                "cut": cut,
                "seen_until": fc.seen_until,
                "total": total,
                "group": fc.calibration_group,
                "scale": fc.scale,
                "steps": steps,
                "score": np.log(pred / ref),
                "tail": steps > total - round(TAIL * total),
            }
        )
    return out


def tail_stats(rec: dict[str, Any], table: CalibrationTable, level: float = 0.9) -> dict[str, float]:
    """Mean relative error of the final 10% and the band's coverage of those points."""
    from lawfit.calibration import horizon

    t = rec["tail"]
    if not t.any():
        return {"err": np.nan, "cov": np.nan}
    e = rec["score"][t]  # log(pred/ref)
    group = rec["group"] if rec["group"] in table.lower else "seen"
    from lawfit.calibration import MIN_SCALE

    scale = max(float(rec["scale"]), MIN_SCALE)
    q_lo, q_hi = table.bounds(horizon(rec["steps"][t], rec["seen_until"]), level, group, scale)
    inside = (e >= q_lo) & (e <= q_hi)  # ref in [pred·exp(−q_hi), pred·exp(−q_lo)]
    return {"err": float(np.mean(np.abs(np.exp(-e) - 1))), "cov": float(inside.mean())}


def progress(total: int) -> Callable[[str], None]:
    """A printer of 'k/total name' lines."""
    state = {"k": 0}

    def tick(name: str) -> None:
        state["k"] += 1
        print(f"  [{state['k']}/{total}] {name}", flush=True)

    return tick
