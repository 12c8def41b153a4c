"""SYNTHETIC data the tests share (labelled as such; never presented as real runs)."""

from __future__ import annotations

import lawfit as lf
import numpy as np

#: Parameters of the synthetic N-extended momentum-law runs.
MOMENTUM_N_TRUE = {"L0": 1.8, "A": 0.55, "alpha": 0.53, "B": 50.0, "beta": 0.22, "C": 0.03, "gamma": 0.15}


def momentum_n_runs(noise: float, seed: int = 5) -> list[lf.Curve]:
    """Constant and decaying 8000-step runs of three model sizes from ``MOMENTUM_N_TRUE``, with
    multiplicative log-normal noise of scale ``noise``."""
    law = lf.MomentumLawN()
    rng = np.random.default_rng(seed)
    curves = []
    for n_params in (25e6, 100e6, 400e6):
        for kind in ("constant", "decay"):
            lr = np.full(8000, 3e-4)
            lr[:200] = np.linspace(0, 3e-4, 200)
            if kind == "decay":
                lr[5000:] = np.linspace(3e-4, 3e-5, 3000)
            steps = np.arange(250, 8001, 50)
            clean = law.predict(MOMENTUM_N_TRUE, lr, steps, N=n_params, warmup_steps=200)
            loss = clean * np.exp(noise * rng.standard_normal(steps.size))
            curves.append(lf.Curve(steps, loss, lr, warmup_steps=200, N=n_params))
    return curves


def synthetic_curves(law, params, names=("cosine", "wsd", "step")):
    """Noise-free curves of ``law`` at ``params`` on 3000-step cosine / WSD / step schedules, logged
    every 25 steps from step 100."""
    n = 3000
    s = np.arange(n)
    lrs = {
        "cosine": 1e-3 * (0.1 + 0.45 * (1 + np.cos(np.pi * s / n))),
        "wsd": np.where(s < 0.8 * n, 1e-3, 1e-3 * 0.01 ** ((s - 0.8 * n) / (0.2 * n))),
        "step": np.where(s < 0.8 * n, 1e-3, np.where(s < 0.9 * n, 3e-4, 1e-4)),
    }
    steps = np.arange(100, n + 1, 25)
    return [lf.Curve(steps, law.predict(params, lrs[k], steps), lrs[k], name=k) for k in names]
