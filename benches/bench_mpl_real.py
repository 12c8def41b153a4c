"""Benchmark: the multi-power law fitted on every real log of the data folder (issue 14).

Run:  python benches/bench_mpl_real.py [--only PATTERN] [--timeout 120] [--law multipower]
      python benches/bench_mpl.py --real   (the same)

Each fitting problem of ``real_logs.real_fit_sets()`` (fsl cosine/wsd/811 at every step from step 1,
the llm.c 124M per-step train loss, the multipower train sets of 25M/100M/400M fitted jointly, every
supercollapse run) is fitted by ``lawfit.fit(law, curves)`` with the defaults (default starts, Huber
δ = 1e-3 on log loss, default tolerances) in its own subprocess (so that a runaway fit is stopped
after ``--timeout`` seconds and reported as such). Printed per problem: points, schedule steps, wall
time (s), process CPU time (s, all threads), evaluations (``metrics["n_evals"]``: the full-data solve
of the best start; ``total_evals``: every solve of every start and level when the law reports it),
success, parameters at a bound, the objective and R². The machine is shared: the load average is
printed at the start and the end.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_one(name: str, law_name: str) -> dict:
    import lawfit
    from real_logs import real_fit_sets

    curves = real_fit_sets()[name]
    law = lawfit.get_law(law_name) if hasattr(lawfit, "get_law") else {
        "multipower": lawfit.MultiPowerLaw, "momentum": lawfit.MomentumLaw}[law_name]()
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = lawfit.fit(law, curves)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "name": name,
        "points": int(sum(c.steps.size for c in curves)),
        "steps": int(max(c.lr.size for c in curves)),
        "wall": wall,
        "cpu": cpu,
        "evals": int(fit.metrics["n_evals"]),
        "total_evals": int(fit.metrics.get("total_evals", -1)),
        "success": bool(fit.success),
        "message": fit.message,
        "at_bound": fit.options.get("at_bound", []),
        "cost": float(fit.metrics["cost"]),
        "r2": float(fit.metrics["r2"]),
        "params": fit.params,
        "warnings": [str(w.message)[:120] for w in caught],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="*", help="fnmatch pattern of problem names (default: all)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds before a fit is stopped")
    ap.add_argument("--law", default="multipower")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    if args.one:
        print(json.dumps(run_one(args.one, args.law)))
        return
    from real_logs import real_fit_sets

    names = [n for n in real_fit_sets() if fnmatch.fnmatch(n, args.only)]
    print(f"load average at start: {os.getloadavg()}; cores: {os.cpu_count()}; law {args.law}")
    hdr = f"{'problem':<34s} {'points':>7s} {'steps':>7s} {'wall s':>7s} {'cpu s':>7s} {'evals':>6s} " \
          f"{'all ev':>7s} {'ok':>3s} {'cost':>10s} {'R2':>8s}  at bound / message"
    print(hdr)
    print("-" * len(hdr))
    rows = []
    for name in names:
        t0 = time.perf_counter()
        try:
            out = subprocess.run([sys.executable, __file__, "--one", name, "--law", args.law],
                                 capture_output=True, text=True, timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            print(f"{name:<34s} {'':>7s} {'':>7s} {time.perf_counter() - t0:7.1f}  TIMEOUT (stopped)")
            rows.append({"name": name, "timeout": True})
            continue
        if out.returncode != 0:
            print(f"{name:<34s} FAILED: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        note = ",".join(r["at_bound"]) or "-"
        if not r["success"]:
            note += f" | {r['message']}"
        ok = "yes" if r["success"] else "NO"
        print(f"{name:<34s} {r['points']:7d} {r['steps']:7d} {r['wall']:7.2f} {r['cpu']:7.2f} "
              f"{r['evals']:6d} {r['total_evals']:7d} {ok:>3s} {r['cost']:10.4g} {r['r2']:8.5f}  {note}",
              flush=True)
    done = [r for r in rows if "wall" in r]
    if done:
        walls = sorted(r["wall"] for r in done)
        n_ok = sum(r["success"] for r in done)
        n_bound = sum(bool(r["at_bound"]) for r in done)
        print(f"\n{len(done)}/{len(rows)} finished; wall median {walls[len(walls) // 2]:.2f} s, "
              f"max {walls[-1]:.2f} s; success {n_ok}/{len(done)}; any at bound {n_bound}")
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
