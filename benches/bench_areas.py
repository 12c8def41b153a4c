"""Benchmark: lawfit.areas (S1 + S2) against the NumPy/SciPy route, with one np.cumsum as the floor.

    python benches/bench_areas.py                # the full table, 1e5 / 1e6 / 1e7 steps
    python benches/bench_areas.py --repeats 2.0  # twice as many repetitions (noisy machines)

The NumPy/SciPy route computes the same areas:

    S1 = np.cumsum(lr)
    m  = scipy.signal.lfilter([1], [1, -λ], d),  d_1 = 0, d_i = η_{i−1} − η_i
         (the momentum recurrence m_i = λ·m_{i−1} + (η_{i−1} − η_i))
    S2 = np.cumsum(m)

Every timing is the median of repeated runs; the methods are interleaved round-robin so that
machine noise hits all of them alike. A second part re-runs lawfit in one subprocess per
RAYON_NUM_THREADS setting (1 and 2) and reports the speedup and whether the bytes are identical.
This is a script, not a test: it prints numbers and exits 0 unless the correctness check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

import lawfit as lf
import numpy as np
import scipy
from scipy.signal import lfilter

DECAY = 0.999
SIZES = (100_000, 1_000_000, 10_000_000)
# Base repetitions per size (multiplied by --repeats); medians are taken over these.
BASE_REPEATS = {100_000: 201, 1_000_000: 41, 10_000_000: 15}


def schedule(n: int) -> np.ndarray:
    """A realistic LR: 2% linear warmup, cosine decay to 10% of the peak, one re-warmup at 60%."""
    peak = 3e-4
    k = np.arange(n, dtype=np.float64)
    w = max(n // 50, 1)
    lr = peak * (0.1 + 0.45 * (1.0 + np.cos(np.pi * (k - w) / max(n - w, 1))))
    lr[:w] = peak * (k[:w] + 1.0) / w
    r = int(0.6 * n)
    lr[r : r + w] = np.minimum(lr[r : r + w], peak * 0.2 * (k[: len(lr[r : r + w])] + 1.0) / w)
    return lr


def lawfit_route(lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s1, s2 = lf.areas(lr, decay=DECAY, warmup="actual")
    return s1, s2


def numpy_route(lr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s1 = np.cumsum(lr)
    d = np.empty_like(lr)
    d[0] = 0.0
    np.subtract(lr[:-1], lr[1:], out=d[1:])
    m = lfilter([1.0], [1.0, -DECAY], d)
    return s1, np.cumsum(m)


def cumsum_floor(lr: np.ndarray) -> np.ndarray:
    return np.cumsum(lr)


def median_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median wall time (s) of each function, run round-robin `repeats` times after one warm-up."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out = fn()
            times[name].append(time.perf_counter() - t0)
            del out  # free outside the timed region, like every caller that drops its result
    return {name: statistics.median(ts) for name, ts in times.items()}


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max |a − b| / max |b| (normwise; elementwise ratios blow up where S2 crosses zero)."""
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-300))


def repeats_for(n: int, scale: float) -> int:
    return max(3, int(BASE_REPEATS.get(n, 11) * scale) | 1)


def ms(t: float) -> str:
    return f"{t * 1e3:10.3f}"


def load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every timing."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def environment() -> None:
    from threadpoolctl import threadpool_info

    print(f"python {platform.python_version()}  numpy {np.__version__}  scipy {scipy.__version__}  "
          f"lawfit {lf.__version__}")
    print(f"machine: {platform.machine()} {platform.processor() or ''}  os.cpu_count()={os.cpu_count()}  "
          f"usable cores={len(os.sched_getaffinity(0))}  load average {load()}")
    print(f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', '<unset: rayon uses every usable core>')}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '<unset>')}  "
          "(irrelevant here: cumsum and lfilter do not call BLAS)")
    pools = threadpool_info()
    if not pools:
        print("threadpoolctl: no BLAS/OpenMP pools loaded")
    for p in pools:
        print(f"threadpoolctl: {p.get('user_api')} {p.get('internal_api')} {p.get('version')} "
              f"num_threads={p.get('num_threads')} arch={p.get('architecture')} "
              f"lib={os.path.basename(p.get('filepath', ''))}")


def main_table(sizes: tuple[int, ...], scale: float) -> int:
    print()
    print(f"S1+S2, decay={DECAY}, warmup='actual'; median of repeated runs (ms); ratio = numpy/lawfit")
    header = (f"{'n':>10} {'reps':>5} {'lawfit':>10} {'numpy/scipy':>11} {'ratio':>7} "
              f"{'np.cumsum':>10} {'lawfit/cumsum':>13} {'relerr S1':>10} {'relerr S2':>10}")
    print(header)
    print("-" * len(header))
    status = 0
    results = {}
    for n in sizes:
        lr = schedule(n)
        reps = repeats_for(n, scale)
        t = median_times(
            {"lawfit": partial(lawfit_route, lr), "numpy": partial(numpy_route, lr),
             "cumsum": partial(cumsum_floor, lr)},
            reps,
        )
        a1, a2 = lawfit_route(lr)
        b1, b2 = numpy_route(lr)
        e1, e2 = rel_diff(a1, b1), rel_diff(a2, b2)
        if not (e1 < 1e-10 and e2 < 1e-8):
            status = 1
        del a1, a2, b1, b2
        results[n] = t
        print(f"{n:>10} {reps:>5} {ms(t['lawfit'])} {ms(t['numpy']):>11} {t['numpy'] / t['lawfit']:>6.2f}x "
              f"{ms(t['cumsum'])} {t['lawfit'] / t['cumsum']:>12.2f}x {e1:>10.2e} {e2:>10.2e}")
    n = max(sizes)
    if n == 10_000_000:
        t = results[n]
        speed, floor = t["numpy"] / t["lawfit"], t["lawfit"] / t["cumsum"]
        print()
        print(f"target at n=1e7: >= 3x faster than NumPy/SciPy: {speed:.3f}x -> "
              f"{'MET' if speed >= 3 else 'MISSED'}")
        print(f"target at n=1e7: within 2x of one np.cumsum: {floor:.3f}x -> "
              f"{'MET' if floor <= 2 else 'MISSED'}")
    if status:
        print("CORRECTNESS CHECK FAILED (relerr S1 >= 1e-10 or S2 >= 1e-8)")
    return status


def worker(sizes: tuple[int, ...], scale: float) -> None:
    """Run in a subprocess: lawfit and np.cumsum medians plus a hash of the S1, S2 bytes."""
    out = {}
    for n in sizes:
        lr = schedule(n)
        t = median_times({"lawfit": partial(lawfit_route, lr), "cumsum": partial(cumsum_floor, lr)},
                         repeats_for(n, scale))
        s1, s2 = lawfit_route(lr)
        h = hashlib.sha256(s1.tobytes() + s2.tobytes()).hexdigest()
        out[n] = {**t, "sha256": h}
    print(json.dumps(out))


def thread_table(sizes: tuple[int, ...], scale: float) -> int:
    runs = {}
    for k in (1, 2):
        env = {**os.environ, "RAYON_NUM_THREADS": str(k)}
        cmd = [sys.executable, __file__, "--worker", "--repeats", str(scale), "--sizes", *map(str, sizes)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        runs[k] = {int(n): v for n, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    print()
    print("lawfit S1+S2 by RAYON_NUM_THREADS (one subprocess per setting); median ms")
    header = (f"{'n':>10} {'1 thread':>10} {'2 threads':>10} {'speedup':>8} {'cumsum(1)':>10} "
              f"{'cumsum(2)':>10} {'bytes identical':>16}")
    print(header)
    print("-" * len(header))
    status = 0
    for n in sizes:
        r1, r2 = runs[1][n], runs[2][n]
        same = r1["sha256"] == r2["sha256"]
        status |= not same
        print(f"{n:>10} {ms(r1['lawfit'])} {ms(r2['lawfit'])} {r1['lawfit'] / r2['lawfit']:>7.2f}x "
              f"{ms(r1['cumsum'])} {ms(r2['cumsum'])} {'yes' if same else 'NO':>16}")
    return status


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--repeats", type=float, default=1.0, help="scale the number of repetitions")
    ap.add_argument("--no-threads", action="store_true", help="skip the RAYON_NUM_THREADS=1 vs 2 part")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sizes = tuple(args.sizes)
    if args.worker:
        worker(sizes, args.repeats)
        return 0
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    environment()
    status = main_table(sizes, args.repeats)
    if not args.no_threads:
        status |= thread_table(sizes, args.repeats)
    print(f"\nload average at the end: {load()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
