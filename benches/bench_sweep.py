"""Sweep benchmark: N synthetic per-step logs fitted serially, on a process pool, and on a
2-worker ``distributed.LocalCluster`` through :func:`lawfit.dask.fit_runs`.

Every fit runs on one thread (``RAYON_NUM_THREADS=1``, set before lawfit is imported, inherited by
the pool's and the cluster's worker processes), so that on an idle machine with ``--workers``
free cores the ideal speed-up is ``--workers`` and

    overhead per run = (wall × workers − Σ fit time measured inside the tasks) / runs

is the worker time each run costs beyond its own fit: shipping its data, scheduling, pickling
the result, and idle workers at the end. (On a loaded machine the fits themselves slow down in
the parallel modes; the ``vs serial`` column, (wall × workers − serial wall) / runs, includes
that slow-down.) Results of every mode are checked equal to the serial
fits bit for bit.

Usage: ``python benches/bench_sweep.py [--runs 2000] [--steps 100000] [--workers 2]``
(``--runs 2000`` holds ~4.6 GB of curves in memory).
"""

from __future__ import annotations

import argparse
import importlib
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


def timed_fit(curve: lf.Curve) -> tuple[tuple[float, ...], float]:
    """The parameters and the wall time of the fit, measured where it ran."""
    t = time.perf_counter()
    params = fit_params(curve)
    return params, time.perf_counter() - t


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

    rows: list[tuple[str, float, float]] = []  # mode, wall, Σ fit seconds measured in the tasks
    t = time.perf_counter()
    timed = [timed_fit(c) for c in runs]
    t_serial = time.perf_counter() - t
    serial = [p for p, _ in timed]
    rows.append(("serial (this process, 1 thread)", t_serial, sum(s for _, s in timed)))

    # Fork after the parent used lawfit's threads: the case that used to hang.
    ctx = multiprocessing.get_context("fork")
    chunk = max(1, args.runs // (4 * args.workers))
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as ex:
        list(ex.map(fit_params, runs[:args.workers]))  # start the workers outside the timing
        t = time.perf_counter()
        pooled = list(ex.map(timed_fit, runs, chunksize=chunk))
        t_pool = time.perf_counter() - t
    assert [p for p, _ in pooled] == serial, "process pool results differ from serial fits"
    rows.append((f"ProcessPoolExecutor(fork, {args.workers}), chunksize {chunk}", t_pool,
                 sum(s for _, s in pooled)))

    t = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=logging.ERROR,
                           env={"RAYON_NUM_THREADS": os.environ["RAYON_NUM_THREADS"]})
    client = Client(cluster)
    client.run(importlib.import_module, "lawfit.dask")  # imports in the workers, outside the timing
    t_start = time.perf_counter() - t
    try:
        t = time.perf_counter()
        table = fit_runs(runs, LAW, client=client, progress=False)
        t_dask = time.perf_counter() - t
    finally:
        client.close()
        cluster.close()
    failed = table.loc[table["error"] != "", ["name", "error"]]
    assert failed.empty, f"runs failed on the cluster:\n{failed.head()}"
    got = [tuple(row) for row in table[list(LAW.param_names)].itertuples(index=False)]
    assert got == serial, "LocalCluster results differ from serial fits"
    rows.append((f"LocalCluster({args.workers} processes) fit_runs", t_dask, float(table["seconds"].sum())))

    print(f"\n{'mode':<48} {'wall s':>7} {'ms/run':>7} {'speed-up':>8} {'fit ms/run':>10} "
          f"{'overhead ms/run':>15} {'vs serial':>10}")
    for name, wall, fit_s in rows:
        workers = 1 if name.startswith("serial") else args.workers
        overhead = (wall * workers - fit_s) / args.runs * 1e3  # worker time not spent fitting
        naive = (wall * workers - t_serial) / args.runs * 1e3  # extra worker time over serial
        print(f"{name:<48} {wall:>7.2f} {wall / args.runs * 1e3:>7.1f} {t_serial / wall:>7.2f}× "
              f"{fit_s / args.runs * 1e3:>10.1f} {overhead:>15.1f} {naive:>10.1f}")
    print("fit ms/run: mean fit time measured inside the tasks (grows when the cores are contended); "
          "overhead ms/run: (wall × workers − Σ fit time) / runs; vs serial: (wall × workers − serial "
          "wall) / runs")
    print(f"\nLocalCluster start-up and imports (not in the timings): {t_start:.1f} s; results equal the "
          f"serial fits bit for bit; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
