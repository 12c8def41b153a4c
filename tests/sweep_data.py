"""Synthetic sweeps for the sweep tests: per-step logs of the momentum law with log-normal noise."""

from __future__ import annotations

import numpy as np

import lawfit as lf
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
