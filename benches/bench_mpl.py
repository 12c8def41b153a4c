"""Benchmark: fitting the multi-power law (MPL, spec §3) with lawfit against NumPy + L-BFGS-B.

Run:  python benches/bench_mpl.py [--quick] [--repeats 3] [--budget 30] [--fsl-stride 512]
      python benches/bench_mpl.py --long [--long-steps 1e6] [--repeats 3]   (the 10^6-step target only)
      python benches/bench_mpl.py --real [-- --only 'fsl_*' --timeout 120]   (real logs: bench_mpl_real.py)

``--long`` times only issue 4's target: ``lawfit.fit(MultiPowerLaw(), curve)`` (default starts, loss,
tolerances) on a SYNTHETIC per-step log of ``--long-steps`` steps (default 10^6): linear warmup over
2160 steps (the paper's, from peak/2160 so that S1 > 0 at step 1), then one cosine decay 3e-4 -> 3e-5
over all remaining steps; every step logged; loss = MPL with the published 400M parameters times
(1 + 0.002·N(0, 1)) from ``numpy.random.default_rng(0)``. It prints, per run, the wall time, the
process CPU time (all threads), the full-data solve's evaluation count and the objective, and a
per-stage breakdown (every run of the Rust solver, from ``lawfit.fit(..., trace=...)``: problem size,
starts, wall, CPU, evaluations and accepted steps of the best start); then medians.

Everything runs in this one process, sequentially; repeats are interleaved round-robin over the
methods of a dataset so that load changes hit every method alike. A method is repeated up to
``--repeats`` times but stops repeating once its runs have used ``--budget`` seconds (at least one
run); the table says how many runs each median is over. The machine may be shared: the load
average is printed before every section, and the CPU/wall ratio of every run (process CPU time over
wall time; about 2 means both cores were busy for us).

Data
----
* ``400M``: the paper's train set (``constant_24000``, ``cosine_24000``, ``wsdcon_9`` of the 400M
  model; ``lawfit.datasets.multipower_split()[0]``), 451 points logged every 128 steps, per-step LR
  rebuilt as the source repository does (S1 includes the warmup ramp).
* ``fsl``: ``fsl_gpt100m/gpt100m_20b_tokens.csv.gz`` (columns schedule, step, lr,
  train_loss), three schedules (cosine, wsd, 811) of a 100M GPT, fitted JOINTLY (shared parameters).
  The ``step`` column is 0-based: it runs 0..33907 and step 0 carries the untrained model's loss
  (10.40) before any update. The loss at CSV step s is therefore taken after s updates, whose LRs are
  the ``lr`` column at CSV steps 0..s-1: it is lawfit's step s (1-based, S1 = sum of lr[0..s-1])
  with the ``lr`` column, in CSV-step order, as the per-step LR array (``lr[i]`` = LR of lawfit step
  i+1). CSV step 0 (S1 = 0) is dropped. Two rows are missing in the file (wsd step 20815, cosine
  step 22493): their loss is simply not logged and their LR is linearly interpolated from the
  neighbours, so the LR array has one entry per step 0..33907. No warmup (``warmup_steps=0``).
  ``fsl (every step)`` logs every step 1..33907 (101,719 points); ``fsl (every k-th)`` keeps the
  logged points at CSV steps that are multiples of k (``--fsl-stride``, default 512: 66 per
  schedule) -- the LR array stays per-step, so every LR change is still in the law.

Methods (all with Huber delta = 1e-3 on r = log L_hat - log L, objective sum_i Huber(r_i), which is
lawfit's ``fit.metrics["cost"]``)
-------
* ``lawfit compressed, default starts``: ``lawfit.fit(MultiPowerLaw(), curves, loss="huber",
  delta=1e-3)`` -- lawfit's default multi-start (9 starts) and tolerances (ftol = xtol = 1e-12,
  gtol = 1e-10).
* ``lawfit exact, default starts``: the same with ``MultiPowerLaw(exact=True)`` (literal LD sum).
* ``lawfit compressed/exact, 1 start``: the same with ``starts=`` the first default start
  ``law.default_starts(curves)[0]`` (the repository's initialisation, C = 1, beta = gamma = 0.5).
* ``peer L-BFGS-B``: this file's NumPy implementation of the same law and objective, minimised by
  ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with lawfit's bounds, from the same
  first default start. Per curve it precomputes the (n, K) matrix S_k(s) = cumsum(lr)[s] -
  cumsum(lr)[k-1] over the K steps with a nonzero LR change (0 where k > s, which makes G = 0
  there); an evaluation is a few elementwise passes over it plus three matrix-vector products for
  the analytic gradient. ``tight`` uses ftol = 1e-12, gtol = 1e-10 (lawfit's values; it then reaches
  lawfit's objective), ``scipy defaults`` uses ftol = 2.2e-9, gtol = 1e-5 (it stops early: since the
  objective is ~1e-4 << 1, scipy's ftol test max(|f|, 1) is absolute). The timed region includes
  building S. Before timing, the peer's predictions and gradient are compared with lawfit's exact
  path (``MultiPowerLaw(exact=True).predict_with_jacobian``) at two parameter vectors.
* The peer cannot run on ``fsl (every step)``: S would hold 33907 x 33906 x 8 B = 9 GB for the
  cosine run alone. Exact lawfit is not run there either (O(K n) = 1.4e9 terms per evaluation, ~1e3
  evaluations): both are given as extrapolations (per-evaluation time measured on every m-th point,
  times the point ratio; the exact fit estimate multiplies by the compressed fit's evaluation count).

``evals`` is lawfit's ``metrics["n_evals"]``; for multi-start fits that is the best start's count
only (the other starts' are not reported), so ms/eval is given for 1-start fits only.

Single evaluations: value + (n, 7) gradient via ``law.predict_with_jacobian(params, curves)`` of
``MultiPowerLaw()`` (compressed) and ``MultiPowerLaw(exact=True)``, on each dataset and on a
SYNTHETIC per-step cosine schedule of ``--synthetic-steps`` steps (default 1e6; peak 3e-4, linear
warmup over 1% of the steps from peak/W, cosine to 3e-5, every step logged, the 400M paper
parameters). Exact at that size is
extrapolated from every m-th logged point (cost is linear in the number of points).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import lawfit
import numpy as np
from _common import data_path
from scipy.optimize import minimize

DELTA = 1e-3
FSL_PATH = data_path("fsl_gpt100m", "gpt100m_20b_tokens.csv.gz")
FSL_SCHEDULES = ("cosine", "wsd", "811")
# The source repository's fitted 400M parameters (spec §3 check), order L0, A, alpha, B, C, beta, gamma.
PAPER_400M = np.array([2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457])
TIGHT = {"ftol": 1e-12, "gtol": 1e-10}


# ---------------------------------------------------------------------------------------------
# data


def fsl_curves(stride: int = 1) -> list[lawfit.Curve]:
    """The three fsl schedules as lawfit Curves (see the module docstring for the step mapping)."""
    cols: dict[str, tuple[list[int], list[float], list[float]]] = {s: ([], [], []) for s in FSL_SCHEDULES}
    with gzip.open(FSL_PATH, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            st, lr, lo = cols[row["schedule"]]
            st.append(int(row["step"]))
            lr.append(float(row["lr"]))
            lo.append(float(row["train_loss"]))
    curves = []
    for name in FSL_SCHEDULES:
        st, lr, lo = (np.asarray(a) for a in cols[name])
        order = np.argsort(st, kind="stable")
        st, lr, lo = st[order], lr[order], lo[order]
        assert st[0] == 0 and np.all(np.diff(st) > 0), name
        lr_full = np.interp(np.arange(st[-1] + 1), st, lr)  # fills the missing rows' LR
        keep = (st >= 1) & (st % stride == 0)
        curves.append(lawfit.Curve(st[keep], lo[keep], lr_full, warmup_steps=0, name=name))
    return curves


def synthetic_cosine(total: int) -> np.ndarray:
    """SYNTHETIC per-step LR: linear warmup over 1% from peak/W, cosine 3e-4 -> 3e-5."""
    peak, final = 3e-4, 3e-5
    w = max(total // 100, 1)
    i = np.arange(total, dtype=np.float64)
    lr = final + 0.5 * (peak - final) * (1 + np.cos(np.pi * (i - w) / (total - w)))
    lr[:w] = peak * (i[:w] + 1) / w
    return lr


def long_curve(total: int, noise: float = 0.002, seed: int = 0) -> lawfit.Curve:
    """SYNTHETIC per-step log for the 10^6-step target (see the module docstring, ``--long``)."""
    peak, final, w = 3e-4, 3e-5, 2160
    i = np.arange(total, dtype=np.float64)
    lr = final + 0.5 * (peak - final) * (1 + np.cos(np.pi * (i - w) / (total - 1 - w)))
    lr[:w] = peak * (i[:w] + 1) / w
    law = lawfit.MultiPowerLaw()
    clean = law.predict(dict(zip(law.param_names, PAPER_400M, strict=True)), lr, warmup_steps=w)
    rng = np.random.default_rng(seed)
    loss = clean * (1.0 + noise * rng.standard_normal(total))
    return lawfit.Curve(np.arange(1, total + 1), loss, lr, warmup_steps=w, name=f"synthetic_cosine_{total}")


def huber_objective(pred: np.ndarray, loss: np.ndarray, delta: float = DELTA) -> float:
    r = np.abs(np.log(pred) - np.log(loss))
    return float(np.where(r <= delta, 0.5 * r * r, delta * r - 0.5 * delta * delta).sum())


def long_target(total: int, repeats: int) -> None:
    """Issue 4's target: the default fit on a 10^6-step per-step log, wall and CPU time."""
    print(f"== SYNTHETIC long log: {total} steps, every step logged, cosine over all steps ==")
    t0 = time.perf_counter()
    curve = long_curve(total)
    law = lawfit.MultiPowerLaw()
    truth = dict(zip(law.param_names, PAPER_400M, strict=True))
    ref = huber_objective(law.predict(truth, curve.lr), curve.loss)
    print(f"  data built in {time.perf_counter() - t0:.1f} s; objective at the generating parameters "
          f"{ref:.10g}")
    stages: list[dict[str, Any]] = []  # one entry per Rust solver run (fit's public trace)
    runs = []
    for r in range(repeats):
        stages.clear()
        load_line(f"run {r + 1}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = timed(lambda: {"fit": lawfit.fit(law, curve, progress=False, trace=stages.append)})
        fit = res["fit"]
        runs.append({"wall": res["time"], "cpu": res["cpu"], "evals": int(fit.metrics["n_evals"]),
                     "objective": float(fit.metrics["cost"]), "success": fit.success})
        print(f"  run {r + 1}: wall {res['time']:6.2f} s  cpu {res['cpu']:6.2f} s  "
              f"evals (final solve) {int(fit.metrics['n_evals'])}  objective {fit.metrics['cost']:.12g}  "
              f"success {fit.success}  warnings {len(caught)}", flush=True)
        for s in stages:
            print(f"     stage: {s['steps']:>8} steps {s['points']:>8} points {s['starts']:>2} starts  "
                  f"wall {s['wall']:6.2f} s  cpu {s['cpu']:6.2f} s  evals {s['n_evals']:>4} "
                  f"({s['n_iter']:>3} accepted)  cost {s['cost']:.12g}")
        print("     params " + ", ".join(f"{k}={v:.6g}" for k, v in fit.params.items()))
    med = {k: statistics.median(x[k] for x in runs) for k in ("wall", "cpu", "evals")}
    print(f"median over {len(runs)} runs: wall {med['wall']:.2f} s  cpu {med['cpu']:.2f} s  "
          f"evals (final solve) {med['evals']:.0f}  objective {min(x['objective'] for x in runs):.12g} "
          f"(generating parameters: {ref:.10g}); target wall < 10 s: "
          f"{'met' if med['wall'] < 10 else 'MISSED'}")


def n_changes(curves: list[lawfit.Curve]) -> int:
    return int(sum(np.count_nonzero(np.diff(c.lr)) for c in curves))


# ---------------------------------------------------------------------------------------------
# the peer: NumPy + scipy L-BFGS-B


class PeerMPL:
    """The multi-power law (repo convention) and sum-of-Huber objective in NumPy, analytic gradient.

    pred(s) = L0 + A*S1(s)^-alpha + B*LD(s),  S1(s) = cumsum(lr)[s],
    LD(s) = sum_{k=1..s} (lr[k]-lr[k-1]) * (1 - (1 + C*lr[k]^-gamma*S_k(s))^-beta),
    S_k(s) = sum_{tau=k..s} lr[tau]; only k with lr[k] != lr[k-1] are kept (vectorised over them).
    """

    def __init__(self, curves: list[lawfit.Curve], delta: float = DELTA) -> None:
        self.delta = delta
        self.parts = []
        for c in curves:
            lr = np.asarray(c.lr, dtype=np.float64)
            idx = np.asarray(c.steps, dtype=np.int64) - 1  # 0-based LR index of each logged point
            cs = np.cumsum(lr)
            k = np.flatnonzero(np.diff(lr)) + 1
            if np.any(lr[k] <= 0):
                raise ValueError("the peer needs lr > 0 at every LR change (lr[k]^-gamma)")
            d = lr[k] - lr[k - 1]
            s = cs[idx][:, None] - cs[k - 1][None, :]
            s[k[None, :] > idx[:, None]] = 0.0
            self.parts.append({
                "ln_s1": np.log(cs[idx]), "d": d, "d_sum": float(d.sum()), "ln_lr": np.log(lr[k]), "S": s,
            })
        self.log_loss = np.concatenate([np.log(np.asarray(c.loss, dtype=np.float64)) for c in curves])
        self.n_evals = 0
        self.trace: list[tuple[float, float]] = []
        self.t0 = time.perf_counter()

    def predict(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictions (n,) and gradient (n, 7) at theta = (L0, A, alpha, B, C, beta, gamma)."""
        l0, a, alpha, b, c, beta, gamma = (float(v) for v in theta)
        preds, jacs = [], []
        for p in self.parts:
            pw = np.exp(-alpha * p["ln_s1"])
            jac = np.zeros((pw.size, 7))
            jac[:, 0], jac[:, 1], jac[:, 2] = 1.0, pw, -a * p["ln_s1"] * pw
            if p["d"].size:
                s, d = p["S"], p["d"]
                w = np.exp(-gamma * p["ln_lr"])  # lr[k]^-gamma
                y = s * (c * w)
                log_u = np.log1p(y)
                um = np.exp(-beta * log_u)  # (1 + y)^-beta; 1 where S = 0, so those terms vanish
                ld = p["d_sum"] - um @ d
                q = (um / (1.0 + y)) * s
                wd = w * d
                t = q @ np.column_stack([wd, wd * p["ln_lr"]])
                jac[:, 3] = ld
                jac[:, 4] = b * beta * t[:, 0]
                jac[:, 5] = b * ((um * log_u) @ d)
                jac[:, 6] = -b * beta * c * t[:, 1]
            else:
                ld = np.zeros_like(pw)
            preds.append(l0 + a * pw + b * ld)
            jacs.append(jac)
        return np.concatenate(preds), np.vstack(jacs)

    def objective(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """sum Huber_delta(log pred - log loss) and its gradient."""
        self.n_evals += 1
        pred, jac = self.predict(theta)
        if not np.all(pred > 0):
            return math.inf, np.zeros(7)
        r = np.log(pred) - self.log_loss
        ar, dl = np.abs(r), self.delta
        f = float(np.where(ar <= dl, 0.5 * r * r, dl * ar - 0.5 * dl * dl).sum())
        self.trace.append((time.perf_counter() - self.t0, f))
        return f, jac.T @ (np.clip(r, -dl, dl) / pred)


def peer_bounds(law: lawfit.MultiPowerLaw) -> list[tuple[float, float | None]]:
    b = law.bounds()
    return [(b[n][0], None if math.isinf(b[n][1]) else b[n][1]) for n in law.param_names]


# ---------------------------------------------------------------------------------------------
# timing helpers


def timed(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    out["time"] = time.perf_counter() - w0
    out["cpu"] = time.process_time() - c0
    return out


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def load_line(label: str) -> None:
    la = os.getloadavg()
    print(f"[{label}] load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}", flush=True)


def run_round_robin(methods: dict[str, Callable[[], dict[str, Any]]], repeats: int, budget: float):
    """Interleaved repeats; each method stops once its runs used ``budget`` seconds."""
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in methods}
    for r in range(repeats):
        for name, fn in methods.items():
            if r and sum(x["time"] for x in runs[name]) >= budget:
                continue
            res = timed(fn)
            runs[name].append(res)
            print(f"  {name:<40} run {r + 1}: {res['time']:8.2f} s  objective {res['objective']:.10g}"
                  f"  evals {res['evals']}", flush=True)
    return runs


def lawfit_method(curves, exact: bool, starts=None) -> Callable[[], dict[str, Any]]:
    def run() -> dict[str, Any]:
        law = lawfit.MultiPowerLaw(exact=exact)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = lawfit.fit(law, curves, loss="huber", delta=DELTA, starts=starts, progress=False)
        return {"objective": float(fit.metrics["cost"]), "evals": int(fit.metrics["n_evals"]),
                "params": fit.params, "success": fit.success, "warnings": len(caught),
                "starts": int(fit.metrics["n_starts"])}
    return run


def peer_method(curves, start: np.ndarray, options: dict[str, float]) -> Callable[[], dict[str, Any]]:
    bounds = peer_bounds(lawfit.MultiPowerLaw())

    def run() -> dict[str, Any]:
        peer = PeerMPL(curves)
        res = minimize(peer.objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
        return {"objective": float(res.fun), "evals": peer.n_evals, "params": res.x, "success": res.success,
                "message": str(res.message), "trace": peer.trace, "starts": 1}
    return run


def check_peer(curves, thetas: list[np.ndarray], label: str) -> None:
    peer = PeerMPL(curves)
    exact = lawfit.MultiPowerLaw(exact=True)
    for i, th in enumerate(thetas):
        ref, grad = exact.predict_with_jacobian(dict(zip(exact.param_names, th, strict=True)), curves)
        pred, jac = peer.predict(th)
        dp = float(np.max(np.abs(pred / ref - 1)))
        dg = float(np.max(np.abs(jac - grad) / np.maximum(np.abs(grad).max(axis=0), 1e-300)))
        print(f"  check {label} theta#{i}: max |peer/lawfit_exact - 1| = {dp:.2e}; "
              f"max gradient diff / column max = {dg:.2e}")
        if dp > 1e-10:
            raise SystemExit(f"peer disagrees with lawfit's exact MPL on {label}: {dp:.3e}")


# ---------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 repeat, fewer/larger-stride cases")
    ap.add_argument("--repeats", type=int, default=3, help="max runs per method (median reported)")
    ap.add_argument("--budget", type=float, default=30.0, help="stop repeating a method after this many s")
    ap.add_argument("--fsl-stride", type=int, default=None, help="fsl subsample: every k-th step (512)")
    ap.add_argument("--synthetic-steps", type=float, default=None, help="synthetic cosine length (1e6)")
    ap.add_argument("--exact-multistart", choices=("auto", "yes", "no"), default="auto",
                    help="time the 9-start exact fit on 400M (auto: not with --quick)")
    ap.add_argument("--real", action="store_true",
                    help="only the real logs (bench_mpl_real.py; its options after --)")
    ap.add_argument("--long", action="store_true", help="only the 10^6-step fit target (SYNTHETIC log)")
    ap.add_argument("--long-steps", type=float, default=1e6, help="steps of the --long log (1e6)")
    args, rest = ap.parse_known_args()
    if args.real:
        import bench_mpl_real

        sys.argv = [bench_mpl_real.__file__, *[a for a in rest if a != "--"]]
        bench_mpl_real.main()
        return
    if rest:
        ap.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.long:
        print(f"python {platform.python_version()}  lawfit {lawfit.__version__}  cpu_count {os.cpu_count()}  "
              f"RAYON_NUM_THREADS={os.environ.get('RAYON_NUM_THREADS', 'unset')}")
        long_target(int(args.long_steps), max(args.repeats, 1))
        return
    repeats = 1 if args.quick else max(args.repeats, 1)
    stride = args.fsl_stride or (2048 if args.quick else 512)
    syn_total = int(args.synthetic_steps or (1e5 if args.quick else 1e6))
    exact_multi = args.exact_multistart == "yes" or (args.exact_multistart == "auto" and not args.quick)

    print("bench_mpl: multi-power law fit timing, lawfit vs NumPy + scipy L-BFGS-B")
    print(f"python {platform.python_version()}  numpy {np.__version__}  lawfit {lawfit.__version__}  "
          f"{platform.machine()}  cpu_count {os.cpu_count()}  affinity {len(os.sched_getaffinity(0))}")
    env = {k: os.environ.get(k, "unset") for k in
           ("RAYON_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    print("threads: " + "  ".join(f"{k}={v}" for k, v in env.items()) +
          "  (lawfit: rayon pool, all cores unless RAYON_NUM_THREADS; peer: NumPy elementwise is "
          "single-threaded, its mat-vec products use the BLAS pool)")
    print(f"repeats {repeats} (budget {args.budget:g} s per method), fsl stride {stride}, "
          f"synthetic steps {syn_total}, quick {args.quick}")
    load_line("start")
    t_start = time.perf_counter()

    rows: list[dict[str, Any]] = []
    evals_rows: list[tuple[str, int, int, str, float, str]] = []

    def add_rows(dataset: str, runs: dict[str, list[dict[str, Any]]], peer_key: str | None) -> None:
        peer_t = statistics.median(x["time"] for x in runs[peer_key]) if peer_key in runs else None
        for name, rs in runs.items():
            t = statistics.median(x["time"] for x in rs)
            rows.append({
                "dataset": dataset, "method": name, "starts": rs[0]["starts"], "runs": len(rs), "time": t,
                "cpu": statistics.median(x["cpu"] / x["time"] for x in rs), "evals": rs[-1]["evals"],
                "objective": min(x["objective"] for x in rs),
                "ratio": (peer_t / t) if (peer_t and not name.startswith("peer")) else None,
            })

    def single_evals(dataset: str, curves, theta: np.ndarray, ev_repeats: int, exact_stride: int = 1,
                     with_peer: bool = True, peer_stride: int = 1) -> dict[str, float]:
        n, k = sum(c.steps.size for c in curves), n_changes(curves)
        compressed, exact = lawfit.MultiPowerLaw(), lawfit.MultiPowerLaw(exact=True)
        th = dict(zip(compressed.param_names, theta, strict=True))
        out = {}
        out["compressed"] = median_time(lambda: compressed.predict_with_jacobian(th, curves), ev_repeats)
        evals_rows.append((dataset, n, k, "lawfit compressed", out["compressed"], "measured"))
        sub = curves if exact_stride == 1 else [
            lawfit.Curve(c.steps[::exact_stride], c.loss[::exact_stride], c.lr, warmup_steps=c.warmup_steps)
            for c in curves]
        n_sub = sum(c.steps.size for c in sub)
        t_ex = median_time(lambda: exact.predict_with_jacobian(th, sub),
                           ev_repeats if exact_stride == 1 else 1)
        out["exact"] = t_ex * n / n_sub
        evals_rows.append((dataset, n, k, "lawfit exact", out["exact"], "measured" if exact_stride == 1 else
                           f"extrapolated x{n / n_sub:.0f} from every {exact_stride}th point"))
        if with_peer:
            if peer_stride == 1:
                peer = PeerMPL(curves)
                out["peer"] = median_time(lambda: peer.objective(theta), ev_repeats)
                note = "measured (objective + gradient)"
            else:
                sub_curves = [lawfit.Curve(c.steps[::peer_stride], c.loss[::peer_stride], c.lr,
                                           warmup_steps=c.warmup_steps) for c in curves]
                peer = PeerMPL(sub_curves)
                m = sum(c.steps.size for c in sub_curves)
                out["peer"] = median_time(lambda: peer.objective(theta), 1) * n / m
                note = f"extrapolated x{n / m:.0f} from every {peer_stride}th point"
            evals_rows.append((dataset, n, k, "peer NumPy", out["peer"], note))
        return out

    # ---- 1. 400M train set ------------------------------------------------------------------
    print("\n== 400M train set (constant_24000, cosine_24000, wsdcon_9) ==")
    load_line("400M")
    c400 = lawfit.datasets.multipower_split()[0]
    p0 = lawfit.MultiPowerLaw().default_starts(c400)[0]
    print(f"  {sum(c.steps.size for c in c400)} points, {n_changes(c400)} LR changes; first default start "
          + ", ".join(f"{v:.6g}" for v in p0))
    check_peer(c400, [p0, PAPER_400M], "400M")
    m400: dict[str, Callable[[], dict[str, Any]]] = {
        "lawfit compressed, default starts": lawfit_method(c400, False),
    }
    if exact_multi:
        m400["lawfit exact, default starts"] = lawfit_method(c400, True)
    m400["lawfit compressed, 1 start"] = lawfit_method(c400, False, p0[None, :])
    m400["lawfit exact, 1 start"] = lawfit_method(c400, True, p0[None, :])
    if not args.quick:
        m400["peer L-BFGS-B tight, 1 start"] = peer_method(c400, p0, TIGHT)
    m400["peer L-BFGS-B scipy defaults, 1 start"] = peer_method(c400, p0, {})
    r400 = run_round_robin(m400, repeats, args.budget)
    peer_key = "peer L-BFGS-B tight, 1 start" if not args.quick else "peer L-BFGS-B scipy defaults, 1 start"
    add_rows("400M", r400, peer_key)
    single_evals("400M", c400, p0, 5)
    best400 = r400["lawfit compressed, 1 start"][0]
    peer_at_lawfit = PeerMPL(c400).objective(np.array(list(best400["params"].values())))[0]
    notes = [f"400M: peer objective at lawfit's 1-start optimum = {peer_at_lawfit:.10g} "
             f"(lawfit cost {best400['objective']:.10g})"]

    def to_target(runs, target_key: str, peer_name: str, label: str) -> None:
        if peer_name not in runs:
            return
        target = runs[target_key][0]["objective"]
        trace = runs[peer_name][-1]["trace"]
        hit = next(((i, t) for i, (t, f) in enumerate(trace) if f <= target * (1 + 1e-6)), None)
        notes.append(f"{label}: {peer_name} reached lawfit's 1-start objective (+1e-6 rel) " +
                     (f"after {hit[1]:.2f} s, {hit[0] + 1} evals" if hit else "never") +
                     f" (its last run: {runs[peer_name][-1]['time']:.2f} s, {len(trace)} evals; "
                     f"scipy: {runs[peer_name][-1]['message']})")

    to_target(r400, "lawfit compressed, 1 start", "peer L-BFGS-B tight, 1 start", "400M")
    to_target(r400, "lawfit compressed, 1 start", "peer L-BFGS-B scipy defaults, 1 start", "400M")

    # ---- 2. fsl per-step ----------------------------------------------------------------------
    print("\n== fsl_gpt100m: cosine + wsd + 811 jointly, every step ==")
    load_line("fsl")
    cfull = fsl_curves(1)
    pf = lawfit.MultiPowerLaw().default_starts(cfull)[0]
    print(f"  {sum(c.steps.size for c in cfull)} points, {n_changes(cfull)} LR changes, "
          f"T = {cfull[0].lr.size}; first default start " + ", ".join(f"{v:.6g}" for v in pf))
    rfull = run_round_robin({"lawfit compressed, 1 start": lawfit_method(cfull, False, pf[None, :])},
                            repeats, args.budget)
    add_rows("fsl (every step)", rfull, None)
    evfull = single_evals("fsl (every step)", cfull, pf, 3, exact_stride=64 if not args.quick else 256,
                          with_peer=True, peer_stride=stride)
    n_ev = rfull["lawfit compressed, 1 start"][0]["evals"]
    rows.append({"dataset": "fsl (every step)", "method": "lawfit exact, 1 start (est.)", "starts": 1,
                 "runs": 0, "time": evfull["exact"] * n_ev, "cpu": None, "evals": n_ev, "objective": None,
                 "ratio": None})
    notes.append(f"fsl (every step): exact fit time estimated = extrapolated exact evaluation "
                 f"{evfull['exact']:.1f} s x {n_ev} evaluations (the compressed fit's count); not run. "
                 "The default 9-start compressed fit is not run either (9 starts, each ~1e3 evaluations "
                 "here, solved in parallel on the rayon pool: ~9 x the 1-start CPU time over the cores)")
    warn = sum(x.get("warnings", 0) for x in rfull["lawfit compressed, 1 start"])
    fp = rfull["lawfit compressed, 1 start"][0]["params"]
    notes.append(f"fsl (every step) lawfit fit: {warn} warning(s) over its runs; params "
                 + ", ".join(f"{k}={v:.4g}" for k, v in fp.items()))

    print(f"\n== fsl_gpt100m: cosine + wsd + 811 jointly, logged points every {stride}th step "
          "(per-step LR) ==")
    load_line("fsl-sub")
    csub = fsl_curves(stride)
    ps = lawfit.MultiPowerLaw().default_starts(csub)[0]
    print(f"  {sum(c.steps.size for c in csub)} points, {n_changes(csub)} LR changes; first default start "
          + ", ".join(f"{v:.6g}" for v in ps))
    check_peer(csub, [ps, ps * np.array([1.0, 1.1, 0.9, 2.0, 1.5, 0.6, 1.2])], f"fsl every {stride}th")
    dsub = f"fsl (every {stride}th)"
    msub = {
        "lawfit compressed, 1 start": lawfit_method(csub, False, ps[None, :]),
        "lawfit exact, 1 start": lawfit_method(csub, True, ps[None, :]),
        "peer L-BFGS-B tight, 1 start": peer_method(csub, ps, TIGHT),
        "peer L-BFGS-B scipy defaults, 1 start": peer_method(csub, ps, {}),
    }
    rsub = run_round_robin(msub, repeats, args.budget)
    add_rows(dsub, rsub, "peer L-BFGS-B tight, 1 start")
    single_evals(dsub, csub, ps, 5)
    to_target(rsub, "lawfit compressed, 1 start", "peer L-BFGS-B tight, 1 start", dsub)
    to_target(rsub, "lawfit compressed, 1 start", "peer L-BFGS-B scipy defaults, 1 start", dsub)

    # ---- synthetic single evaluation ------------------------------------------------------------
    print(f"\n== SYNTHETIC cosine, {syn_total} steps, every step logged: one evaluation ==")
    load_line("synthetic")
    lr = synthetic_cosine(syn_total)
    csyn = [lawfit.Curve(np.arange(1, syn_total + 1), np.ones(syn_total), lr, warmup_steps=syn_total // 100)]
    single_evals(f"SYNTHETIC cosine {syn_total:.0e}", csyn, PAPER_400M, 3,
                 exact_stride=max(syn_total // 1000, 1), with_peer=False)

    # ---- tables ---------------------------------------------------------------------------------
    load_line("end")
    print("\nFit time (median over runs; objective = sum Huber_1e-3(log pred - log loss), best of runs; "
          "peer/lawfit = peer L-BFGS-B (tight) median time / this row's median time)")
    hdr = (f"{'dataset':<18} {'method':<40} {'starts':>6} {'runs':>4} {'time s':>9} {'cpu/wall':>8} "
           f"{'evals':>6} {'ms/eval':>8} {'objective':>16} {'peer/lawfit':>11}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        ms = f"{1e3 * r['time'] / r['evals']:8.1f}" if r["starts"] == 1 and r["evals"] else f"{'-':>8}"
        obj = f"{r['objective']:16.10g}" if r["objective"] is not None else f"{'not run':>16}"
        cpu = f"{r['cpu']:8.2f}" if r["cpu"] is not None else f"{'-':>8}"
        ratio = f"{r['ratio']:11.1f}" if r["ratio"] is not None else f"{'-':>11}"
        print(f"{r['dataset']:<18} {r['method']:<40} {r['starts']:>6} {r['runs']:>4} {r['time']:9.2f} {cpu} "
              f"{r['evals']:>6} {ms} {obj} {ratio}")
    print("\nSingle evaluation: value + (n, 7) gradient (median)")
    hdr2 = f"{'dataset':<26} {'points':>8} {'LR chg':>8} {'method':<18} {'ms':>11}  note"
    print(hdr2)
    print("-" * len(hdr2))
    for d, n, k, m, t, note in evals_rows:
        print(f"{d:<26} {n:>8} {k:>8} {m:<18} {1e3 * t:11.2f}  {note}")
    print("\nNotes:")
    for n in notes:
        print(f"- {n}")
    print(f"\ntotal wall time {time.perf_counter() - t_start:.0f} s", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
