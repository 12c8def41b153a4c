"""Benchmark: evaluating the multi-power law (values, and values + gradients) with lawfit.

Run:  python benches/bench_mpl_eval.py [--steps 1000000] [--repeats 5] [--exact-points 1000]

The data are SYNTHETIC: a cosine schedule with the paper's linear warmup (0 -> 3e-4 over 2160 steps,
then 3e-4 -> 3e-5 over the remaining steps), the published 400M parameters (spec §3).

* compressed, every step logged: ``multipower_predict(..., exact=False)`` at all T indices.
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
from lawfit._core import multipower_predict

PARAMS_400M = [2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457]


def cosine_with_warmup(total: int, warmup: int = 2160, peak: float = 3e-4, final: float = 3e-5):
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
    every = np.arange(1, steps, dtype=np.int64)
    print(
        f"T = {steps} steps, RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'all')}, "
        f"{os.cpu_count()} CPUs"
    )

    t_val, _ = best_of(args.repeats, lambda: multipower_predict([lr], [every], PARAMS_400M))
    t_grad, _ = best_of(args.repeats, lambda: multipower_predict([lr], [every], PARAMS_400M, gradients=True))
    print(f"compressed, {len(every)} points: values {t_val:.3f} s, values + gradients {t_grad:.3f} s")

    sparse = np.linspace(1, steps - 1, args.exact_points).astype(np.int64)
    t_cs, fast = best_of(
        args.repeats, lambda: multipower_predict([lr], [sparse], PARAMS_400M, gradients=True)
    )
    t_ex, (exact_v, exact_g) = best_of(
        1, lambda: multipower_predict([lr], [sparse], PARAMS_400M, exact=True, gradients=True)
    )
    rel = float(np.max(np.abs(fast[0] - exact_v) / exact_v))
    print(
        f"{len(sparse)} points, values + gradients: exact {t_ex:.3f} s, compressed {t_cs:.3f} s "
        f"(ratio {t_ex / t_cs:.0f}x); max relative difference of L̂ {rel:.1e}"
    )


if __name__ == "__main__":
    main()
