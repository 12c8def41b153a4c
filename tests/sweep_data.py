"""Synthetic sweeps for the sweep tests: per-step logs of the momentum law with log-normal noise."""

from __future__ import annotations

import lawfit as lf
import numpy as np
from lawfit import schedules

TRUTH = {"L0": 2.4, "A": 0.6, "alpha": 0.45, "C": 0.35}


def synthetic_runs(n: int, steps: int = 4000, *, seed: int = 0, noise: float = 3e-3) -> list[lf.Curve]:
    """``n`` curves logged at every step after warmup, over a grid of peak LR × schedule family."""
    rng = np.random.default_rng(seed)
    law = lf.MomentumLaw()
    out = []
    for i in range(n):
        peak = (1e-3, 3e-3, 6e-3)[i % 3]
        warm = steps // 20
        family = i // 3 % 3
        if family == 0:
            sched = schedules.cosine(total_steps=steps, peak_lr=peak, warmup_steps=warm)
        elif family == 1:
            sched = schedules.wsd(total_steps=steps, peak_lr=peak, warmup_steps=warm)
        else:
            sched = schedules.linear(total_steps=steps, peak_lr=peak, warmup_steps=warm)
        logged = np.arange(warm + 1, steps + 1)  # every step after the warmup
        loss = law.predict(TRUTH, sched, logged) * np.exp(noise * rng.standard_normal(logged.size))
        out.append(lf.Curve(logged, loss, sched, name=f"run{i:04d}"))
    return out


def fit_summary(seed: int, steps: int = 20_000) -> tuple[float, ...]:
    """Fit one synthetic run (the ``seed``-th of a sweep) and return its parameters and cost.

    A module-level function, so that process pools (fork, spawn) can run it. 20,000 logged steps
    exceed the solver's parallel threshold, so the fit runs on lawfit's thread pool.
    """
    (run,) = synthetic_runs(1, steps, seed=seed)
    res = lf.fit(lf.MomentumLaw(), run)
    return (*res.params.values(), res.metrics["cost"])


def bad_fit(delta: float) -> None:
    """A fit that raises LawfitInputError (a non-positive ``delta``), for pools to send back."""
    (run,) = synthetic_runs(1, 500)
    lf.fit(lf.MomentumLaw(), run, delta=delta)


def write_log(curve: lf.Curve, path) -> None:
    """Write ``curve`` as a per-step ``step,lr,loss`` CSV (empty loss where nothing was logged)."""
    total = curve.lr.size
    loss = np.full(total, np.nan)
    loss[curve.steps - 1] = curve.loss
    np.savetxt(path, np.column_stack([np.arange(1, total + 1), curve.lr, loss]), delimiter=",",
               header="step,lr,loss", comments="", fmt=["%d", "%.17g", "%.17g"])
