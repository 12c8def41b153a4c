"""Sweep benchmark: N synthetic per-step logs fitted serially, on a process pool, and on a
2-worker ``distributed.LocalCluster`` through :func:`lawfit.dask.fit_runs`.

Every fit runs on one thread (``RAYON_NUM_THREADS=1``, set before lawfit is imported, inherited by
the pool's and the cluster's worker processes), so that on an idle machine with ``--workers``
free cores the ideal speed-up is ``--workers`` and

    overhead per run = (wall × workers − serial wall) / runs

is the worker time each run costs beyond its own fit: shipping its data, scheduling, pickling
the result, and idle workers at the end. Results of every mode are checked equal to the serial
fits bit for bit.

Usage: ``python benches/bench_sweep.py [--runs 2000] [--steps 100000] [--workers 2]``
(``--runs 2000`` holds ~4.6 GB of curves in memory).
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import lawfit as lf  # noqa: E402
import numpy as np  # noqa: E402
from lawfit import schedules  # noqa: E402

TRUTH = {"L0": 2.4, "A": 0.6, "alpha": 0.45, "C": 0.35}
LAW = lf.MomentumLaw()


def make_runs(n: int, steps: int, seed: int = 0) -> list[lf.Curve]:
    """``n`` curves logged at every step after warmup: peak LR × schedule family grid, noisy."""
    rng = np.random.default_rng(seed)
    families = (schedules.cosine, schedules.wsd, schedules.linear)
    out = []
    for i in range(n):
        peak = (1e-3, 3e-3, 6e-3)[i % 3]
        warm = steps // 20
        sched = families[i // 3 % 3](total_steps=steps, peak_lr=peak, warmup_steps=warm)
        logged = np.arange(warm + 1, steps + 1)
        loss = LAW.predict(TRUTH, sched, logged) * np.exp(3e-3 * rng.standard_normal(logged.size))
        out.append(lf.Curve(logged, loss, sched, name=f"run{i:05d}"))
    return out


def fit_params(curve: lf.Curve) -> tuple[float, ...]:
    res = lf.fit(LAW, curve)
    return tuple(res.params.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=2000, help="runs in the sweep (default 2000)")
    ap.add_argument("--steps", type=int, default=100_000, help="steps per run (default 1e5)")
    ap.add_argument("--workers", type=int, default=2, help="pool processes and cluster workers (default 2)")
    args = ap.parse_args()

    import concurrent.futures
    import multiprocessing

    from distributed import Client, LocalCluster
    from lawfit.dask import fit_runs

    print(f"lawfit {lf.__version__}; {args.runs} runs × {args.steps:,} steps (per-step logs), "
          f"{args.workers} workers, RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}, "
          f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.2f}")
    t = time.perf_counter()
    runs = make_runs(args.runs, args.steps)
    print(f"generated the runs in {time.perf_counter() - t:.1f} s "
          f"({sum(c.lr.nbytes + c.loss.nbytes + c.steps.nbytes for c in runs) / 1e9:.2f} GB)")

    rows: list[tuple[str, float]] = []
    t = time.perf_counter()
    serial = [fit_params(c) for c in runs]
    t_serial = time.perf_counter() - t
    rows.append(("serial (this process, 1 thread)", t_serial))

    # Fork after the parent used lawfit's threads: the case that used to hang.
    ctx = multiprocessing.get_context("fork")
    chunk = max(1, args.runs // (4 * args.workers))
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as ex:
        list(ex.map(fit_params, runs[:args.workers]))  # start the workers outside the timing
        t = time.perf_counter()
        pooled = list(ex.map(fit_params, runs, chunksize=chunk))
        t_pool = time.perf_counter() - t
    assert pooled == serial, "process pool results differ from serial fits"
    rows.append((f"ProcessPoolExecutor(fork, {args.workers}), chunksize {chunk}", t_pool))

    t = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR,
                           env={"RAYON_NUM_THREADS": os.environ["RAYON_NUM_THREADS"]})
    client = Client(cluster)
    t_start = time.perf_counter() - t
    try:
        t = time.perf_counter()
        table = fit_runs(runs, LAW, client=client, progress=False)
        t_dask = time.perf_counter() - t
    finally:
        client.close()
        cluster.close()
    got = [tuple(row) for row in table[list(LAW.param_names)].itertuples(index=False)]
    assert got == serial, "LocalCluster results differ from serial fits"
    assert table["error"].eq("").all()
    rows.append((f"LocalCluster({args.workers} processes) fit_runs", t_dask))

    print(f"\n{'mode':<48} {'wall s':>8} {'ms/run':>8} {'speed-up':>9} {'overhead ms/run':>16}")
    for name, wall in rows:
        workers = 1 if name.startswith("serial") else args.workers
        overhead = (wall * workers - t_serial) / args.runs * 1e3
        print(f"{name:<48} {wall:>8.2f} {wall / args.runs * 1e3:>8.1f} {t_serial / wall:>8.2f}× "
              f"{overhead:>16.1f}")
    print(f"\nLocalCluster start-up (not in the timings): {t_start:.1f} s; results equal the serial fits "
          f"bit for bit; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
