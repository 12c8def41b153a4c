"""Benchmark: evaluating the multi-power law (values, and values + gradients) with lawfit.

Run:  python benches/bench_mpl_eval.py [--steps 1000000] [--repeats 5] [--exact-points 1000]

The data are SYNTHETIC: a cosine schedule with the paper's linear warmup (0 -> 3e-4 over 2160 steps,
then 3e-4 -> 3e-5 over the remaining steps), the published 400M parameters (spec §3).

* compressed, every step logged: ``MultiPowerLaw().predict_curves`` (values) and
  ``.predict_with_jacobian`` (values + (n, 7) gradients) at steps 2..T of one curve.
* exact vs compressed on a sparser log (``--exact-points`` evenly spaced indices): the exact path
  costs O(K·n) for K LR changes (K ≈ T here) and n points, so it cannot run on a per-step log of
  10^6 steps (~5e11 terms); the script prints the largest relative difference.

Times are the best of ``--repeats`` runs (wall clock, this process, RAYON_NUM_THREADS as set).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from lawfit import Curve, MultiPowerLaw

PARAMS_400M = dict(zip(MultiPowerLaw().param_names,
                       [2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457],
                       strict=True))
WARMUP = 2160


def at_steps(lr: np.ndarray, steps: np.ndarray) -> list[Curve]:
    """One curve logged at ``steps`` (1-based) of ``lr``; its losses (ones) are never read."""
    return [Curve(steps, np.ones(steps.size), lr, warmup_steps=WARMUP)]


def cosine_with_warmup(total: int, warmup: int = WARMUP, peak: float = 3e-4, final: float = 3e-5):
    s = np.arange(total, dtype=float)
    lr = final + 0.5 * (peak - final) * (1 + np.cos(np.pi * (s - warmup) / (total - warmup)))
    lr[:warmup] = np.linspace(0.0, peak, warmup)
    return lr


def best_of(repeats: int, fn) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=float, default=1e6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--exact-points", type=int, default=1000)
    args = ap.parse_args()
    steps = int(args.steps)
    lr = cosine_with_warmup(steps)
    every = at_steps(lr, np.arange(2, steps + 1, dtype=np.int64))
    compressed, exact = MultiPowerLaw(), MultiPowerLaw(exact=True)
    print(
        f"T = {steps} steps, RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'all')}, "
        f"{os.cpu_count()} CPUs"
    )

    t_val, _ = best_of(args.repeats, lambda: compressed.predict_curves(PARAMS_400M, every))
    t_grad, _ = best_of(args.repeats, lambda: compressed.predict_with_jacobian(PARAMS_400M, every))
    print(f"compressed, {every[0].steps.size} points: values {t_val:.3f} s, "
          f"values + gradients {t_grad:.3f} s")

    sparse = at_steps(lr, np.linspace(1, steps - 1, args.exact_points).astype(np.int64) + 1)
    t_cs, fast = best_of(args.repeats, lambda: compressed.predict_with_jacobian(PARAMS_400M, sparse))
    t_ex, (exact_v, exact_g) = best_of(1, lambda: exact.predict_with_jacobian(PARAMS_400M, sparse))
    rel = float(np.max(np.abs(fast[0] - exact_v) / exact_v))
    print(
        f"{sparse[0].steps.size} points, values + gradients: exact {t_ex:.3f} s, compressed {t_cs:.3f} s "
        f"(ratio {t_ex / t_cs:.0f}x); max relative difference of L̂ {rel:.1e}"
    )


if __name__ == "__main__":
    main()
