"""Benchmark: the Chinchilla fit of Besiroglu et al. 2024 (Epoch's 4,500-start grid) and its bootstrap.

Run:  python benches/bench_chinchilla.py [--repeats 3] [--boot 4000]

Data: ``chinchilla_epoch/svg_extracted_data.csv`` (245 runs; the 5 highest losses
dropped, 240 remain; D = C/(6N)). Timed: ``lawfit.fit(ChinchillaLaw(), N=N, D=D, loss=L)`` (the
default screened multi-start: every start solved to 1e-2 (at most 15 evaluations), the 32 best
polished to 1e-12) and, once,
the same with ``polish=0`` (every start to full tolerance); then ``fit.bootstrap(n, seed=0)``.
Prints median wall and CPU (all threads) times, the objective and parameters, and the bootstrap
standard errors next to Epoch's published ones.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import time

import numpy as np
from _common import data_path

DATA = data_path("chinchilla_epoch")
EPOCH_SE = {"E": 0.026, "A": 124.5, "B": 1293.0, "alpha": 0.015, "beta": 0.021}


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    path = DATA / "svg_extracted_data.csv"
    if not path.is_file():
        raise SystemExit(f"data missing at {path}")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    N = np.array([float(r["Model Size"]) for r in rows])
    C = np.array([float(r["Training FLOP"]) for r in rows])
    L = np.array([float(r["loss"]) for r in rows])
    keep = np.sort(np.argsort(L, kind="stable")[:-5])
    return N[keep], C[keep] / (6 * N[keep]), L[keep]


def timed(fn):  # type: ignore[no-untyped-def]
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--boot", type=int, default=4000)
    args = ap.parse_args()
    import lawfit as lf

    N, D, L = load()
    print(f"{N.size} points, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    walls, cpus = [], []
    for _ in range(args.repeats):
        fit, w, c = timed(lambda: lf.fit(lf.ChinchillaLaw(), N=N, D=D, loss=L))
        walls.append(w)
        cpus.append(c)
    print(f"fit (4,500 starts, screened): median {statistics.median(walls):.3f} s wall, "
          f"{statistics.median(cpus):.3f} s CPU; runs {[round(v, 3) for v in walls]}")
    full, w, c = timed(lambda: lf.fit(lf.ChinchillaLaw(polish=0), N=N, D=D, loss=L))
    print(f"fit (4,500 starts, each to full tolerance): {w:.3f} s wall, {c:.3f} s CPU; "
          f"cost {full.metrics['cost']:.10f}")
    values = ", ".join(f"{k} = {v:.6g}" for k, v in fit.params.items())
    print(f"Huber sum {fit.metrics['cost']:.10f}; {values}")
    boot, w, c = timed(lambda: fit.bootstrap(args.boot, seed=0))
    print(f"bootstrap {args.boot} refits: {w:.3f} s wall, {c:.3f} s CPU, {boot.n_success} converged")
    for k, se in boot.stderr.items():
        lo, hi = boot.interval[k]
        print(f"  {k:<6s} SE {se:10.4g}  (Epoch {EPOCH_SE[k]:g})  95% [{lo:.4g}, {hi:.4g}]")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
