"""Benchmark: fitting the momentum law (MTL) with lawfit against scipy.optimize.least_squares.

Run:  python benches/bench_fit.py [--quick] [--sizes 1e5,1e6,1e7] [--repeats 3]

The data are SYNTHETIC. Per size T (number of training steps):

* WSD schedule built in numpy: peak LR 3e-4; linear warmup over W = 1% of the steps from 0
  (``lr[i] = peak·(i+1)/W`` for the 0-based step i < W, so step 1 has a positive LR and S1 > 0);
  constant at the peak; linear decay over the last 20% of the steps to 3e-5 (``np.linspace``).
* S1, S2 from ``lawfit.areas(lr, decay=0.999, warmup_steps=W, warmup="actual")``.
* True loss L(s) = L0 + A·S1^-alpha − C·S2 with L0=2.6, A=0.43, alpha=0.55, C=0.41 (λ = 0.999),
  logged at EVERY step 1..T, times (1 + 0.003·N(0, 1)) noise from ``np.random.default_rng(SEED)``.

Methods (each measured in its own subprocess: the parent generates each size's data once and saves
it as .npy; the child loads exactly the arrays a user would hold -- steps, loss, lr -- then runs only
that method, so its peak RSS belongs to that method alone; lawfit children never import scipy):

* ``lawfit default``:  ``lawfit.fit(MomentumLaw(warmup="actual"), Curve(steps, loss, lr,
  warmup_steps=W), loss="huber", delta=1e-3)`` -- lawfit's default multi-start grid and tolerances.
  The timed region includes building the Curve.
* ``lawfit 1-start``:  the same with ``starts={L0: 2.5, A: 0.5, alpha: 0.5, C: 0.5}``.
* ``scipy 1-start``:   ``scipy.optimize.least_squares(method="trf", loss="huber", f_scale=1e-3,
  bounds=(0, inf))`` on r = log L̂ − log L with the analytic Jacobian (dL̂/dθ)/L̂, from the same
  start, default tolerances ftol = xtol = gtol = 1e-8, x_scale = 1, max_nfev = 100·p. The timed region
  includes computing S1, S2 (with ``lawfit.areas``, the fastest O(T) way available) and log S1,
  log L. ``fun`` and ``jac`` share S1^-alpha through a one-entry cache.

Objectives are on one scale: scipy's ``res.cost`` = Σ Huber_δ(r) (= 0.5·δ²·Σ ρ(r²/δ²)) =
lawfit's ``fit.metrics["cost"]``; each child also re-evaluates that sum with numpy at its own
solution, as an independent check.

Peak memory: the child's VmHWM (``/proc/self/status``; ``ru_maxrss`` would include the parent's
peak, which survives fork + exec). The child also records its RSS after
loading the data (the baseline); it then resets the kernel's high-water mark
(``/proc/self/clear_refs``), so the peak during the fit is measured on its own. The reported peak is
max(peak while loading, peak during the fit), i.e. nothing is subtracted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20240821
TRUE = {"L0": 2.6, "A": 0.43, "alpha": 0.55, "C": 0.41}
DECAY = 0.999
PEAK_LR = 3e-4
FINAL_LR = 3e-5
WARMUP_FRAC = 0.01
DECAY_FRAC = 0.20
NOISE = 0.003
DELTA = 1e-3
START = {"L0": 2.5, "A": 0.5, "alpha": 0.5, "C": 0.5}
NAMES = ("L0", "A", "alpha", "C")
METHODS = ("lawfit_default", "lawfit_1start", "scipy_1start")
LABELS = {
    "lawfit_default": "lawfit default",
    "lawfit_1start": "lawfit 1-start",
    "scipy_1start": "scipy 1-start",
}
CHUNK = 1 << 20

# Targets of issue 3 ("Done when").
TARGET_SPEEDUP_1E7 = 30.0
TARGET_SPEEDUP_1E6 = 20.0
TARGET_MEM_FRAC_1E7 = 0.10
TARGET_THREADS = 1.6


# --------------------------------------------------------------------------------------------- data
def wsd_lr(n: int) -> tuple[np.ndarray, int]:
    """Per-step LR of the WSD schedule and its warmup length W."""
    w = max(1, int(round(WARMUP_FRAC * n)))
    n_decay = int(round(DECAY_FRAC * n))
    lr = np.full(n, PEAK_LR)
    lr[:w] = PEAK_LR * np.arange(1, w + 1) / w
    if n_decay:
        lr[n - n_decay :] = np.linspace(PEAK_LR, FINAL_LR, n_decay)
    return lr, w


def make_data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Synthetic per-step curve: steps (1..n, int64), noisy loss, per-step LR, warmup steps."""
    import lawfit

    lr, w = wsd_lr(n)
    s1, s2 = lawfit.areas(lr, decay=DECAY, warmup_steps=w, warmup="actual")
    loss = np.empty(n)
    rng = np.random.default_rng(SEED)
    for lo in range(0, n, CHUNK):  # chunked: keeps the generator's transient memory small
        sl = slice(lo, min(n, lo + CHUNK))
        clean = TRUE["L0"] + TRUE["A"] * s1[sl] ** -TRUE["alpha"] - TRUE["C"] * s2[sl]
        loss[sl] = clean * (1.0 + NOISE * rng.standard_normal(clean.size))
    del s1, s2
    steps = np.arange(1, n + 1, dtype=np.int64)
    return steps, loss, lr, w


# ------------------------------------------------------------------------------------------ helpers
def huber_cost(r: np.ndarray, delta: float = DELTA) -> float:
    """scipy's least_squares cost for loss="huber", f_scale=delta: 0.5·δ²·Σ ρ(r²/δ²)."""
    z = (r / delta) ** 2
    rho = np.where(z <= 1.0, z, 2.0 * np.sqrt(z) - 1.0)
    return float(0.5 * delta**2 * np.sum(rho))


def numpy_cost(params: dict[str, float], lr: np.ndarray, w: int, loss: np.ndarray) -> float:
    """Σ Huber_δ(log L̂ − log L) at ``params`` over every step, in numpy (areas from lawfit)."""
    import lawfit

    s1, s2 = lawfit.areas(lr, decay=DECAY, warmup_steps=w, warmup="actual")
    total = 0.0
    for lo in range(0, loss.size, CHUNK):
        sl = slice(lo, min(loss.size, lo + CHUNK))
        pred = params["L0"] + params["A"] * s1[sl] ** -params["alpha"] - params["C"] * s2[sl]
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.log(pred) - np.log(loss[sl])
        total += huber_cost(r)
    return total


def rss_now_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def maxrss_kib() -> int:
    """Peak RSS of this process image (VmHWM). Not ``ru_maxrss``: that survives fork + exec, so
    a child would report its parent's peak, and it keeps the peaks of exited threads."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark of this process (Linux ≥ 4.0); False if impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ methods
def run_lawfit(steps: np.ndarray, loss: np.ndarray, lr: np.ndarray, w: int, single: bool) -> dict[str, Any]:
    import lawfit

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        curve = lawfit.Curve(steps, loss, lr, warmup_steps=w)
        kw: dict[str, Any] = {"starts": dict(START)} if single else {}
        f = lawfit.fit(lawfit.MomentumLaw(warmup="actual"), curve, loss="huber", delta=DELTA, **kw)
        elapsed = time.perf_counter() - t0
    return {
        "time": elapsed,
        "cost": float(f.metrics["cost"]),
        "params": {k: float(f.params[k]) for k in NAMES},
        "success": bool(f.success),
        "message": str(f.message),
        "n_evals": float(f.metrics.get("n_evals", float("nan"))),
        "n_starts": float(f.metrics.get("n_starts", float("nan"))),
        "n_converged": float(f.metrics.get("n_converged", float("nan"))),
        "warnings": [str(x.message)[:120] for x in caught],
    }


def run_scipy(steps: np.ndarray, loss: np.ndarray, lr: np.ndarray, w: int) -> dict[str, Any]:
    import lawfit
    from scipy.optimize import least_squares

    t0 = time.perf_counter()
    s1, s2 = lawfit.areas(lr, decay=DECAY, warmup_steps=w, warmup="actual")
    idx = steps - 1
    ln_s1 = np.log(s1[idx])
    s2 = s2[idx]
    del s1
    log_y = np.log(loss)
    cache: dict[str, Any] = {"x": None, "p": None, "pred": None}

    def powers(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if cache["x"] is None or not np.array_equal(cache["x"], x):
            p = np.exp(-x[2] * ln_s1)
            pred = x[0] + x[1] * p - x[3] * s2
            cache.update(x=x.copy(), p=p, pred=pred)
        return cache["p"], cache["pred"]

    def fun(x: np.ndarray) -> np.ndarray:
        _, pred = powers(x)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.log(pred) - log_y

    def jac(x: np.ndarray) -> np.ndarray:
        p, pred = powers(x)
        inv = 1.0 / pred
        jm = np.empty((pred.size, 4))
        jm[:, 0] = inv
        jm[:, 1] = p * inv
        jm[:, 2] = -x[1] * p * ln_s1 * inv
        jm[:, 3] = -s2 * inv
        return jm

    x0 = np.array([START[k] for k in NAMES])
    res = least_squares(
        fun, x0, jac=jac, method="trf", loss="huber", f_scale=DELTA, bounds=(0.0, np.inf),
        ftol=1e-8, xtol=1e-8, gtol=1e-8,
    )
    elapsed = time.perf_counter() - t0
    return {
        "time": elapsed,
        "cost": float(res.cost),
        "params": {k: float(v) for k, v in zip(NAMES, res.x, strict=True)},
        "success": bool(res.success),
        "message": str(res.message),
        "n_evals": float(res.nfev),
        "njev": float(res.njev),
        "status": int(res.status),
    }


def profile_lawfit(steps: np.ndarray, loss: np.ndarray, lr: np.ndarray, w: int) -> dict[str, float]:
    """Wall time of the phases of one default ``lawfit.fit``, through the public API only.

    The Rust solver runs come from ``fit(..., trace=...)`` (one entry per solver run, its wall
    time); the law's default starts are timed by a separate call of the public
    ``law.default_starts`` on the same curve (the fit computes them once, the same way); the rest
    of ``fit`` (validation, bounds, starts clipping, covariance, metrics, result) is the remainder.
    """
    import lawfit

    law = lawfit.MomentumLaw(warmup="actual")
    stages: list[dict[str, Any]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        curve = lawfit.Curve(steps, loss, lr, warmup_steps=w)
        t1 = time.perf_counter()
        lawfit.fit(law, curve, loss="huber", delta=DELTA, trace=stages.append)
        t2 = time.perf_counter()
        law.default_starts([curve])
        t3 = time.perf_counter()
    solver = sum(s["wall"] for s in stages)
    return {
        "Curve construction (validation)": t1 - t0,
        "default_starts (grid + data-driven linear starts)": t3 - t2,
        "Rust multi-start LM (fit's trace: solver runs)": solver,
        "other (fit() validation, covariance, metrics, result)": (t2 - t1) - solver - (t3 - t2),
        "TOTAL": t2 - t0,
    }


# -------------------------------------------------------------------------------------------- child
def data_dir() -> Path:
    """Where the parent saves each size's data once (children load it: no generator in the peak)."""
    return Path(os.environ["LAWFIT_BENCH_FIT_DATA"])


def save_data(n: int) -> None:
    """Generate the synthetic curve of ``n`` steps once and save it as .npy files."""
    path = data_dir() / str(n)
    if (path / "w.json").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    steps, loss, lr, w = make_data(n)
    for name, arr in (("steps", steps), ("loss", loss), ("lr", lr)):
        np.save(path / f"{name}.npy", arr)
    (path / "w.json").write_text(json.dumps({"w": w}))


def load_data(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The saved curve: exactly the three arrays a user holds (steps, loss, lr) and W."""
    path = data_dir() / str(n)
    w = json.loads((path / "w.json").read_text())["w"]
    return (np.load(path / "steps.npy"), np.load(path / "loss.npy"), np.load(path / "lr.npy"), int(w))


def child_main(method: str, n: int, repeats: int) -> None:
    steps, loss, lr, w = load_data(n)
    gen_peak = maxrss_kib()
    baseline = rss_now_kib()
    reset_ok = reset_peak_rss()
    out: dict[str, Any] = {"method": method, "n": n, "gen_peak_kib": gen_peak, "baseline_kib": baseline,
                           "hwm_reset": reset_ok, "loadavg": os.getloadavg()[0],
                           "rayon_threads": os.environ.get("RAYON_NUM_THREADS", "(default)")}
    if method == "profile":
        phases = [profile_lawfit(steps, loss, lr, w) for _ in range(repeats)]
        out["phases"] = {k: statistics.median(p[k] for p in phases) for k in phases[0]}
        print("RESULT " + json.dumps(out), flush=True)
        return
    runs = []
    for i in range(repeats):
        if method == "scipy_1start":
            r = run_scipy(steps, loss, lr, w)
        else:
            r = run_lawfit(steps, loss, lr, w, single=(method == "lawfit_1start"))
        if i == 0:
            out["fit_peak_kib_first"] = maxrss_kib()
        runs.append(r)
    out["fit_peak_kib"] = maxrss_kib()
    out["times"] = [r["time"] for r in runs]
    last = runs[-1]
    out.update({k: v for k, v in last.items() if k != "time"})
    # Independent check (outside the timed and memory-measured region): the same objective in numpy.
    out["numpy_cost"] = numpy_cost(last["params"], lr, w, loss)
    print("RESULT " + json.dumps(out), flush=True)


def run_child(method: str, n: int, repeats: int, threads: int | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", method, "--n", str(n),
           "--repeats", str(repeats)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise RuntimeError(f"child {method} n={n} failed with exit code {proc.returncode}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"child {method} n={n} printed no result")
    res = json.loads(lines[-1][len("RESULT "):])
    res["child_wall"] = wall
    return res


# ------------------------------------------------------------------------------------------- parent
def fmt_floor(x: float, nd: int = 2) -> str:
    """x rounded DOWN to nd decimals (a ratio is never shown larger than measured)."""
    if not math.isfinite(x):
        return str(x)
    q = 10**nd
    return f"{math.floor(x * q) / q:.{nd}f}"


def fmt_ceil(x: float, nd: int = 3) -> str:
    """x rounded UP to nd decimals (for quantities that must stay below a bound)."""
    if not math.isfinite(x):
        return str(x)
    q = 10**nd
    return f"{math.ceil(x * q) / q:.{nd}f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def describe_env() -> list[str]:
    import lawfit
    import scipy

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        head = "?"
    so = sorted(Path(lawfit.__file__).parent.glob("_core*.so"))
    so_time = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(so[0].stat().st_mtime)) if so else "?"
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"machine: {os.cpu_count()} logical CPUs ({cpu}), {platform.system()} {platform.release()}",
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"lawfit {lawfit.__version__} (tree {head}, _core built {so_time})",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e5,1e6,1e7",
                    help="comma-separated step counts (default 1e5,1e6,1e7)")
    ap.add_argument("--quick", action="store_true", help="only 1e5 steps")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of each lawfit fit (median reported)")
    ap.add_argument("--scipy-repeats", type=int, default=3,
                    help="repeats of scipy below 1e7 steps (1 repeat at >= 1e7)")
    ap.add_argument("--no-threads", action="store_true", help="skip the 1-vs-2-thread comparison")
    ap.add_argument("--no-profile", action="store_true", help="skip the phase profile of lawfit.fit")
    ap.add_argument("--json", help="also write all raw results to this JSON file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child_main(args.child, args.n, args.repeats)
        return

    sizes = [100_000] if args.quick else sorted({int(float(s)) for s in args.sizes.split(",") if s.strip()})
    reps = max(1, args.repeats)
    print("=" * 100)
    print("lawfit benchmark: momentum law (MTL) fit, lawfit vs scipy.optimize.least_squares")
    print("DATA ARE SYNTHETIC: L = L0 + A*S1^-alpha - C*S2 with " +
          ", ".join(f"{k}={v}" for k, v in TRUE.items()) + f", decay={DECAY};")
    print(f"  WSD LR: peak {PEAK_LR:g}, linear warmup {WARMUP_FRAC:.0%} of steps from 0 "
          f"(lr[i]=peak*(i+1)/W), constant, linear decay over the last {DECAY_FRAC:.0%} to {FINAL_LR:g};")
    print(f"  loss at EVERY step, x(1 + {NOISE:g}*N(0,1)) noise, numpy default_rng seed {SEED}; "
          "areas warmup='actual'.")
    print("  lawfit: fit(MomentumLaw(warmup='actual'), Curve(...), loss='huber', delta=1e-3) "
          "[default multi-start, default tolerances]; timed incl. Curve().")
    print(f"  lawfit 1-start / scipy start: {START}")
    print("  scipy: least_squares(method='trf', loss='huber', f_scale=1e-3, bounds=(0, inf) x4, "
          "analytic jac,")
    print("         ftol=xtol=gtol=1e-8 (defaults), x_scale=1, max_nfev=100*p); timed incl. S1/S2 via "
          "lawfit.areas (Rust) + logs.")
    print("  (note: lawfit's own bounds are L0, A, C in [0, inf), alpha in [0, 10])")
    print(f"  times: median of {reps} repeats for lawfit; scipy {args.scipy_repeats} repeats below 1e7 "
          "steps, 1 at 1e7. Each method in its own subprocess.")
    for line in describe_env():
        print("  " + line)
    print(f"  1-min load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs "
          "(other processes' load inflates every time below; load1 is printed per child)")
    print("=" * 100, flush=True)

    import tempfile

    tmp = tempfile.TemporaryDirectory(prefix="lawfit-bench-fit-")
    os.environ["LAWFIT_BENCH_FIT_DATA"] = tmp.name  # children inherit it
    for n in sizes:
        save_data(n)
    results: dict[int, dict[str, dict[str, Any]]] = {}
    for n in sizes:
        results[n] = {}
        for m in METHODS:
            r = reps if m != "scipy_1start" else (1 if n >= 10_000_000 else max(1, args.scipy_repeats))
            res = run_child(m, n, r)
            results[n][m] = res
            times = ", ".join(f"{t:.3f}" for t in res["times"])
            print(f"[n={n:>9,d}] {LABELS[m]:<15s} times [{times}] s  cost {res['cost']:.10g} "
                  f"(numpy re-eval {res['numpy_cost']:.10g})  success={res['success']}  "
                  f"evals={res['n_evals']:.0f} load1={res['loadavg']:.2f}" +
                  (f" starts={res['n_starts']:.0f} converged={res['n_converged']:.0f}"
                   if "n_starts" in res else f" njev={res['njev']:.0f}"), flush=True)
            print(f"{'':13s}params " + ", ".join(f"{k}={v:.6g}" for k, v in res["params"].items()) +
                  f"  | {res['message'][:90]}", flush=True)
            print(f"{'':13s}RSS MiB: after data {mib(res['baseline_kib'])} (peak while loading "
                  f"{mib(res['gen_peak_kib'])}), peak during 1st fit {mib(res['fit_peak_kib_first'])}, "
                  f"peak during all fits {mib(res['fit_peak_kib'])}" +
                  ("" if res["hwm_reset"] else "  [HWM reset unavailable: peaks include loading]"),
                  flush=True)
            for wmsg in sorted(set(res.get("warnings", []))):
                print(f"{'':13s}warning: {wmsg}")

    largest = max(sizes)
    thread_res: dict[int, dict[str, Any]] = {}
    if not args.no_threads:
        for t in (1, 2):
            thread_res[t] = run_child("lawfit_default", largest, reps, threads=t)
            times = ", ".join(f"{x:.3f}" for x in thread_res[t]["times"])
            print(f"[n={largest:>9,d}] lawfit default RAYON_NUM_THREADS={t}: times [{times}] s  "
                  f"load1={thread_res[t]['loadavg']:.2f}", flush=True)

    profile = None
    if not args.no_profile:
        profile = run_child("profile", largest, reps)

    # ---------------------------------------------------------------------------------- the table
    def med(n: int, m: str) -> float:
        return statistics.median(results[n][m]["times"])

    def peak(n: int, m: str) -> int:
        r = results[n][m]
        return max(r["gen_peak_kib"], r["fit_peak_kib_first"])

    print()
    print(f"1-min load average at the end: {os.getloadavg()[0]:.2f}")
    print("RESULTS (synthetic MTL data; times = median wall seconds; ratios rounded down; RSS = peak "
          "of the child, MiB)")
    hdr = (f"{'steps':>10s} | {'lawfit dflt':>11s} {'lawfit 1st':>10s} {'scipy 1st':>10s} | "
           f"{'sc/lf-dflt':>10s} {'sc/lf-1st':>9s} | {'cost lf-dflt':>13s} {'cost lf-1st':>13s} "
           f"{'cost scipy':>13s} {'rel(dflt-sc)':>12s} | {'RSS dflt':>8s} {'RSS 1st':>8s} {'RSS sc':>8s} "
           f"{'dflt/sc':>7s} {'1st/sc':>7s}")
    print(hdr)
    print("-" * len(hdr))
    for n in sizes:
        ld, l1, sc = med(n, "lawfit_default"), med(n, "lawfit_1start"), med(n, "scipy_1start")
        cd, c1, cs = (results[n][m]["cost"] for m in METHODS)
        md, m1, ms = (peak(n, m) for m in METHODS)
        rel = (cd - cs) / abs(cs) if cs else float("nan")
        print(f"{n:>10,d} | {ld:>11.3f} {l1:>10.3f} {sc:>10.3f} | {fmt_floor(sc / ld):>10s} "
              f"{fmt_floor(sc / l1):>9s} | {cd:>13.7g} {c1:>13.7g} {cs:>13.7g} {rel:>12.2e} | "
              f"{mib(md):>8s} {mib(m1):>8s} {mib(ms):>8s} {fmt_ceil(md / ms):>7s} {fmt_ceil(m1 / ms):>7s}")
    print("  rel(dflt-sc) = (lawfit default cost - scipy cost)/scipy cost; negative = lawfit lower.")
    print("  RSS baselines after loading the data (MiB): " + "; ".join(
        f"{n:,d}: " + "/".join(mib(results[n][m]["baseline_kib"]) for m in METHODS) for n in sizes)
        + "  (lawfit dflt / lawfit 1st / scipy)")
    print("  fit's own increment over that baseline (MiB): " + "; ".join(
        f"{n:,d}: " + "/".join(
            mib(results[n][m]["fit_peak_kib_first"] - results[n][m]["baseline_kib"]) for m in METHODS)
        for n in sizes))

    # ---------------------------------------------------------------------------------- targets
    print()
    print("TARGETS (issue 3, 'Done when')")
    if 10_000_000 in results:
        r = med(10_000_000, "scipy_1start") / med(10_000_000, "lawfit_default")
        print(f"  1e7: lawfit default >= {TARGET_SPEEDUP_1E7:g}x faster than one scipy start: "
              f"{fmt_floor(r)}x  {verdict(r >= TARGET_SPEEDUP_1E7)}")
        frac = peak(10_000_000, "lawfit_default") / peak(10_000_000, "scipy_1start")
        print(f"  1e7: lawfit default peak RSS <= {TARGET_MEM_FRAC_1E7:.0%} of scipy's: "
              f"{mib(peak(10_000_000, 'lawfit_default'))} / {mib(peak(10_000_000, 'scipy_1start'))} MiB = "
              f"{fmt_ceil(frac * 100, 1)}%  {verdict(frac <= TARGET_MEM_FRAC_1E7)}")
    else:
        print("  1e7 targets: n/a (1e7 steps not run)")
    if 1_000_000 in results:
        r = med(1_000_000, "scipy_1start") / med(1_000_000, "lawfit_default")
        print(f"  1e6: lawfit default >= {TARGET_SPEEDUP_1E6:g}x faster than one scipy start: "
              f"{fmt_floor(r)}x  {verdict(r >= TARGET_SPEEDUP_1E6)}")
    else:
        print("  1e6 target: n/a (1e6 steps not run)")
    if thread_res:
        t1 = statistics.median(thread_res[1]["times"])
        t2 = statistics.median(thread_res[2]["times"])
        sp = t1 / t2
        note = "" if largest >= 10_000_000 else f" (target is stated at 1e7; measured at {largest:,d})"
        print(f"  threads: 2 vs 1 >= {TARGET_THREADS:g}x at the largest size: {t1:.3f} s / {t2:.3f} s = "
              f"{fmt_floor(sp)}x  {verdict(sp >= TARGET_THREADS)}{note}")
    for n in sizes:
        cd, cs = results[n]["lawfit_default"]["cost"], results[n]["scipy_1start"]["cost"]
        ok = cd <= cs * (1 + 1e-9)
        print(f"  {n:,d}: lawfit default objective <= scipy's (+1e-9 rel): {cd:.10g} vs {cs:.10g}  "
              f"{verdict(ok)}")

    if profile is not None:
        print()
        print(f"WHERE lawfit.fit SPENDS ITS TIME (default multi-start, n={largest:,d}, "
              f"median of {reps}, default threads)")
        total = profile["phases"]["TOTAL"]
        for k, v in profile["phases"].items():
            print(f"  {k:<55s} {v:8.3f} s  {100 * v / total:5.1f}%")

    if args.json:
        Path(args.json).write_text(json.dumps({"results": {str(k): v for k, v in results.items()},
                                               "threads": thread_res, "profile": profile}, indent=1))


if __name__ == "__main__":
    main()
