"""Benchmark: 10,000 independent power-law fits, lawfit ``fit_many`` against a Python loop over
``scipy.optimize.curve_fit``, same data, same starts, same run.

Run:  python benches/bench_batch.py [--n-fits 10000] [--n-points 64] [--repeats 5] [--quick]

The data are SYNTHETIC (``numpy.random.default_rng(SEED)``). Per fit i:

* x: 64 log-spaced points from 10 to 10^5 (the same abscissae for every fit);
* true parameters a ~ U(0.5, 5), b ~ U(0.1, 1.0), c ~ U(0.1, 2);
* y = (a·x^(−b) + c)·(1 + 0.005·N(0, 1)).

Starts: one per fit, shared by both methods, from a variable-projection grid computed once in
NumPy (b on 12 values from 0.02 to 3, (a, c) by linear least squares; the best grid point).

Methods (both: ordinary least squares on y, no bounds so both solve the same unconstrained problem):

* ``lawfit``: ``lawfit.fit_many(PowerLaw(), x=X, y=Y, starts=P0, bounds=<none>)``, default
  tolerances (ftol = xtol = 1e-12, gtol = 1e-10), rayon over fits. Its default ``method="auto"``
  solves these least-squares rows by variable projection ((a, c) exact for each b, damped Newton
  over b from the start's b); ``method="lm"`` (LM on a, b, c from the full start) is timed once
  more.
* ``scipy``: ``for i: curve_fit(f, x, Y[i], p0=P0[i], jac=analytic)`` with method "lm" (MINPACK),
  default tolerances (ftol = xtol = 1.49e-8), ``maxfev`` its default. This is the strong baseline
  and the one the ratio uses; ``scipy (no jac)`` — curve_fit's default finite-difference Jacobian,
  the usual call — is timed once more for reference.

Timing: one untimed warm-up call of each first (imports, thread pools, first-touch pages); then
``--repeats`` rounds, each timing ``fit_many`` ``--lawfit-runs`` times (it is short, so one sample
is at the mercy of the scheduler) and the scipy loop once, interleaved so that both see the same
machine. Reported: the median wall time and the median process CPU time (all threads) per fit of
each, the ratios of the medians (wall, the target, and CPU, which is less sensitive to other
load), and the agreement of the parameters: the fraction of the fits where
both converged whose parameters agree to 1e-6 relative (max over a, b, c of |Δ|/max(|p|, 1e-12)),
plus the objective comparison (the fraction where lawfit's sum of squares is not above scipy's by
more than 1e-12 relative). Agreement is reported twice: at the timed (default) tolerances, and with
both solvers at tight tolerances (lawfit ftol = xtol = 1e-14; scipy ftol = xtol = gtol = 1e-14),
which separates solver differences from stopping early in flat valleys (ill-conditioned fits whose
standard errors are tens of percent). The load average is printed: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np

SEED = 20240601
B_GRID = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0])


def make_data(n_fits: int, n_points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    x = np.logspace(1, 5, n_points)
    a = rng.uniform(0.5, 5.0, n_fits)
    b = rng.uniform(0.1, 1.0, n_fits)
    c = rng.uniform(0.1, 2.0, n_fits)
    clean = a[:, None] * x[None, :] ** (-b[:, None]) + c[:, None]
    y = clean * (1 + 0.005 * rng.standard_normal((n_fits, n_points)))
    return x, y, np.column_stack([a, b, c])


def grid_starts(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Best (a, b, c) of a b-grid with (a, c) by linear least squares, per row (vectorised)."""
    best = np.full((y.shape[0], 3), np.nan)
    best_sse = np.full(y.shape[0], np.inf)
    n = x.size
    for b in B_GRID:
        u = x ** (-b)
        su, suu = u.sum(), (u * u).sum()
        sy, suy = y.sum(1), (y * u[None, :]).sum(1)
        det = n * suu - su * su
        a = (n * suy - su * sy) / det
        c = (sy - a * su) / n
        sse = ((a[:, None] * u[None, :] + c[:, None] - y) ** 2).sum(1)
        better = sse < best_sse
        best_sse[better] = sse[better]
        best[better] = np.column_stack([a, np.full_like(a, b), c])[better]
    return best


def run_lawfit(x: np.ndarray, y: np.ndarray, p0: np.ndarray, tol: float | None = None, method: str = "auto"
               ) -> tuple[np.ndarray, np.ndarray, float, float]:
    import lawfit as lf

    unbounded = {k: (-np.inf, np.inf) for k in ("a", "b", "c")}
    kw: dict[str, object] = {"method": method}
    if tol is not None:
        kw.update(ftol=tol, xtol=tol)
    c = time.process_time()
    t = time.perf_counter()
    res = lf.fit_many(lf.PowerLaw(), x=x, y=y, starts=p0, bounds=unbounded, **kw)
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - c
    q = np.column_stack([res.params[k] for k in ("a", "b", "c")])
    return q, res.success, elapsed, cpu


def run_scipy(x: np.ndarray, y: np.ndarray, p0: np.ndarray, tol: float | None = None, analytic: bool = True
              ) -> tuple[np.ndarray, np.ndarray, float, float]:
    from scipy.optimize import OptimizeWarning, curve_fit

    ln_x = np.log(x)

    def f(xx: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a * np.exp(-b * ln_x) + c

    def jac(xx: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        pw = np.exp(-b * ln_x)
        return np.column_stack([pw, -a * ln_x * pw, np.ones_like(pw)])

    kw = {} if tol is None else {"ftol": tol, "xtol": tol, "gtol": tol, "maxfev": 100_000}
    out = np.full((y.shape[0], 3), np.nan)
    ok = np.zeros(y.shape[0], dtype=bool)
    c = time.process_time()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        for i in range(y.shape[0]):
            try:
                popt, _ = curve_fit(f, x, y[i], p0=p0[i], jac=jac if analytic else None, **kw)
            except RuntimeError:  # maxfev reached: not converged
                continue
            out[i] = popt
            ok[i] = True
    elapsed = time.perf_counter() - t
    return out, ok, elapsed, time.process_time() - c


def run_default_paths(x: np.ndarray, y: np.ndarray, repeats: int, lawfit_runs: int) -> None:
    """As a user calls them: ``fit_many(PowerLaw(), x=X, y=Y)`` (lawfit's own starts, default
    bounds) against ``for i: curve_fit(f, x, Y[i])`` (default method and p0 = 1, no Jacobian)."""
    import lawfit as lf
    from scipy.optimize import OptimizeWarning, curve_fit

    def f(xx: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a * xx ** (-b) + c

    def lawfit_once() -> tuple[float, float, np.ndarray]:
        c0, t0 = time.process_time(), time.perf_counter()
        res = lf.fit_many(lf.PowerLaw(), x=x, y=y)
        return time.perf_counter() - t0, time.process_time() - c0, res.success

    def scipy_once() -> tuple[float, float, int]:
        ok = 0
        c0, t0 = time.process_time(), time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(y.shape[0]):
                try:
                    curve_fit(f, x, y[i])
                    ok += 1
                except (RuntimeError, OptimizeWarning):
                    pass
        return time.perf_counter() - t0, time.process_time() - c0, ok

    lawfit_once()
    t_law, c_law, t_sci, c_sci = [], [], [], []
    for _ in range(repeats):
        for _ in range(lawfit_runs):
            t, c, success = lawfit_once()
            t_law.append(t)
            c_law.append(c)
        t, c, ok_sci = scipy_once()
        t_sci.append(t)
        c_sci.append(c)
    med = statistics.median
    us = 1e6 / y.shape[0]
    ratio_wall, ratio_cpu = med(t_sci) / med(t_law), med(c_sci) / med(c_law)
    print(f"== default paths (starts chosen by each library), {y.shape[0]} fits, medians per fit ==")
    print(f"{'lawfit fit_many':17}{med(t_law) * us:9.3f} us wall{med(c_law) * us:11.3f} us CPU  "
          f"converged {int(success.sum())}/{y.shape[0]}")
    print(f"{'scipy curve_fit':17}{med(t_sci) * us:9.3f} us wall{med(c_sci) * us:11.3f} us CPU  "
          f"converged {ok_sci}/{y.shape[0]} (p0 = 1, finite-difference Jacobian)")
    print(f"{'speed-up':17}{ratio_wall:10.1f}x wall{ratio_cpu:13.1f}x CPU")
    print(f"target: default fit_many >= 100x the default curve_fit loop in wall time: "
          f"{'met' if ratio_wall >= 100 else 'NOT met'} ({ratio_wall:.1f}x wall, {ratio_cpu:.1f}x CPU)")
    print()


def agreement(label: str, x: np.ndarray, y: np.ndarray, q_law: np.ndarray, ok_law: np.ndarray,
              q_sci: np.ndarray, ok_sci: np.ndarray) -> None:
    both = ok_law & ok_sci
    rel = np.abs(q_law - q_sci) / np.maximum(np.abs(q_sci), 1e-12)
    worst = rel.max(axis=1)
    agree = both & (worst <= 1e-6)
    ln_x = np.log(x)

    def sse(q: np.ndarray) -> np.ndarray:
        return ((q[:, 0:1] * np.exp(-q[:, 1:2] * ln_x[None, :]) + q[:, 2:3] - y) ** 2).sum(1)

    with np.errstate(invalid="ignore", over="ignore"):
        s_law, s_sci = sse(q_law), sse(q_sci)
    not_worse = both & (s_law <= s_sci * (1 + 1e-12))
    print(f"[{label}] converged: lawfit {ok_law.sum()}/{y.shape[0]}, scipy {ok_sci.sum()}/{y.shape[0]}")
    print(f"[{label}] parameters agree to 1e-6 relative where both converged: {agree.sum()}/{both.sum()} "
          f"({agree.sum() / max(both.sum(), 1):.4%}); median max-relative difference "
          f"{np.median(worst[both]):.2e}")
    print(f"[{label}] lawfit sum of squares <= scipy's (1e-12 rel) where both converged: "
          f"{not_worse.sum()}/{both.sum()}; of the disagreeing fits: {(not_worse & ~agree).sum()}"
          f"/{(both & ~agree).sum()}")
    if (both & ~agree).any():
        i = int(np.argmax(np.where(both & ~agree, worst, -1)))
        print(f"[{label}]   worst disagreement: fit {i}, rel {worst[i]:.2e}, lawfit {q_law[i]}, "
              f"scipy {q_sci[i]}, "
              f"SSE lawfit {s_law[i]:.12e} scipy {s_sci[i]:.12e}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-fits", type=int, default=10_000)
    ap.add_argument("--n-points", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5, help="rounds (scipy loop timed once per round)")
    ap.add_argument("--lawfit-runs", type=int, default=5, help="fit_many timings per round")
    ap.add_argument("--quick", action="store_true", help="1,000 fits, 1 round")
    args = ap.parse_args()
    if args.quick:
        args.n_fits, args.repeats = 1000, 1
    import lawfit
    import scipy

    x, y, _ = make_data(args.n_fits, args.n_points)
    p0 = grid_starts(x, y)
    n = args.n_fits
    print(f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"lawfit {lawfit.__version__}, {os.cpu_count()} CPUs, "
          f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}")
    print(f"{n} fits of y = a*x^-b + c on {args.n_points} points; {args.repeats} rounds of "
          f"{args.lawfit_runs} fit_many runs + 1 scipy loop")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    warm = slice(0, min(n, 100))
    run_lawfit(x, y[warm], p0[warm])
    run_scipy(x, y[warm][:5], p0[warm][:5])
    t_law, t_sci, c_law, c_sci = [], [], [], []
    for _ in range(args.repeats):
        for _ in range(args.lawfit_runs):
            q_law, ok_law, t, c = run_lawfit(x, y, p0)
            t_law.append(t)
            c_law.append(c)
        q_sci, ok_sci, t, c = run_scipy(x, y, p0)
        t_sci.append(t)
        c_sci.append(c)
    load_after = os.getloadavg()[0]
    med = statistics.median
    w_law, w_sci, cpu_law, cpu_sci = med(t_law), med(t_sci), med(c_law), med(c_sci)
    us = 1e6 / n
    print(f"lawfit fit_many runs (ms wall): {[round(v * 1e3, 1) for v in t_law]}")
    print(f"scipy loop runs (ms wall):      {[round(v * 1e3, 1) for v in t_sci]}")
    print(f"load average after: {load_after:.2f}")
    print()
    print(f"== timing: {n} fits, medians per fit ==")
    print(f"{'':17}{'wall':>12}{'CPU (all threads)':>20}")
    print(f"{'lawfit fit_many':17}{w_law * us:9.3f} us{cpu_law * us:17.3f} us")
    print(f"{'scipy curve_fit':17}{w_sci * us:9.3f} us{cpu_sci * us:17.3f} us")
    ratio_wall, ratio_cpu = w_sci / w_law, cpu_sci / cpu_law
    print(f"{'speed-up':17}{ratio_wall:10.1f}x{ratio_cpu:18.1f}x")
    print(f"target: fit_many >= 50x faster than the scipy loop in wall time: "
          f"{'met' if ratio_wall >= 50 else 'NOT met'} ({ratio_wall:.1f}x wall, {ratio_cpu:.1f}x CPU)")
    print()
    run_default_paths(x, y, args.repeats, args.lawfit_runs)
    q_lm, ok_lm, t_lm, _ = run_lawfit(x, y, p0, method="lm")
    print(f"lawfit (method='lm'): {t_lm * 1e3:9.1f} ms wall ({t_lm * us:7.2f} us/fit), one run; "
          f"speed-up {w_sci / t_lm:.1f}x")
    _, _, t_nojac, _ = run_scipy(x, y, p0, analytic=False)
    print(f"scipy (no jac)  : {t_nojac * 1e3:9.1f} ms wall ({t_nojac * us:7.2f} us/fit), one run; "
          f"speed-up {t_nojac / w_law:.1f}x")
    agreement("default tolerances", x, y, q_law, ok_law, q_sci, ok_sci)
    agreement("default tolerances, lawfit method='lm'", x, y, q_lm, ok_lm, q_sci, ok_sci)
    q_law_t, ok_law_t, *_ = run_lawfit(x, y, p0, tol=1e-14)
    q_sci_t, ok_sci_t, *_ = run_scipy(x, y, p0, tol=1e-14)
    agreement("tight tolerances", x, y, q_law_t, ok_law_t, q_sci_t, ok_sci_t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
