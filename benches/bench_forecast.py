"""Calibration benchmark of lawfit.forecast on every real run of the data (issue 15).

Leave-one-run-out (LORO) and leave-one-dataset-out (LODO) over the 76 real runs (multipower 27,
fsl 3, llm.c 1, supercollapse 45), each cut at 25 / 50 / 75% of its planned schedule:

- the default forecast (momentum law, fit after the warmup, prior='auto') of the held-out run
  uses an :class:`~lawfit.forecast.AutoPrior` learned from the *other* runs (LORO) or the other
  data sets (LODO) only;
- its 90% band comes from a conformal table (:func:`lawfit.calibration.build_table`) built from the
  forecast records of the other runs (LORO) or data sets (LODO) only;
- scored on the logged points of the final 10% of the run against the 201-step centred moving
  average of the logged loss: mean relative error, and the fraction of those points inside the band
  (coverage), averaged per (run, cut) and then over runs — per data set and pooled.

Usage: ``python benches/bench_forecast.py [--lodo] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict

import numpy as np
from _forecast_records import CUTS, pooled_prior, prior_ratio, records_for, tail_stats
from _forecast_runs import all_runs
from lawfit.calibration import build_table

DATASETS = ("multipower", "fsl", "llmc", "supercollapse")


def held_out_records(runs, ratios, key) -> dict[str, list]:
    """Records of each held-out group (``key(run)``: run or data set), its prior from the others."""
    recs_by_group: dict[str, list] = {}
    for g in sorted({key(r) for r in runs}):
        others = [ratios[i] for i, r in enumerate(runs) if key(r) != g]
        prior = pooled_prior(others, f"all but {g}")
        recs_by_group[g] = [x for i, r in enumerate(runs) if key(r) == g for x in records_for(r, prior)]
    return recs_by_group


def evaluate(recs_by_group: dict[str, list], *, normalize: bool) -> list[dict]:
    """Tail error and coverage of each held-out record under a table built from the other groups."""
    stats = []
    for g, recs in recs_by_group.items():
        table = build_table([x for h, xs in recs_by_group.items() if h != g for x in xs], normalize=normalize)
        for rec in recs:
            meta = {k: rec[k] for k in ("dataset", "run", "cut", "group")}
            stats.append({**meta, **tail_stats(rec, table)})
    return stats


def table_of(stats: list[dict]) -> list[dict]:
    rows = []
    for ds in (*DATASETS, "pooled"):
        sel = [s for s in stats if (ds == "pooled" or s["dataset"] == ds) and np.isfinite(s["err"])]
        row: dict = {"dataset": ds, "runs": len({s["run"] for s in sel})}
        for cut in CUTS:
            sc = [s for s in sel if s["cut"] == cut]
            row[f"err{int(100 * cut)}"] = float(np.mean([s["err"] for s in sc]))
            row[f"cov{int(100 * cut)}"] = float(np.mean([s["cov"] for s in sc]))
        row["cov"] = float(np.mean([s["cov"] for s in sel]))
        rows.append(row)
    return rows


def print_table(title: str, rows: list[dict]) -> None:
    print(f"\n{title}")
    head = "   mean final-10% error at cut 25/50/75%   90%-band coverage 25/50/75% (all)"
    print(f"{'dataset':<14s}{'runs':>5s}{head}")
    for r in rows:
        print(
            f"{r['dataset']:<14s}{r['runs']:>5d}   "
            + "  ".join(f"{100 * r[f'err{c}']:6.2f}%" for c in (25, 50, 75))
            + "            "
            + "  ".join(f"{100 * r[f'cov{c}']:5.1f}%" for c in (25, 50, 75))
            + f"  ({100 * r['cov']:.1f}%)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lodo", action="store_true", help="also leave one data set out")
    ap.add_argument("--json", help="write the tables and per-record stats here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    runs = all_runs()
    print(f"{len(runs)} runs: " + ", ".join(f"{d} {sum(r.dataset == d for r in runs)}" for d in DATASETS))
    ratios = [prior_ratio(r) for r in runs]
    t1 = time.perf_counter()
    print(f"whole-run fits for the prior: {t1 - t0:.1f} s")
    out: dict = {}
    loro_recs = held_out_records(runs, ratios, key=lambda r: r.curve.name)
    t2 = time.perf_counter()
    print(f"leave-one-run-out forecasts: {t2 - t1:.1f} s")
    loro = {}
    for norm in (True, False):
        name = "normalised by the in-sample misfit (shipped)" if norm else "raw log errors"
        loro[norm] = evaluate(loro_recs, normalize=norm)
        out[f"loro_{'norm' if norm else 'raw'}"] = table_of(loro[norm])
        print_table(f"leave-one-run-out, {name}", out[f"loro_{'norm' if norm else 'raw'}"])
    if args.lodo:
        lodo_recs = held_out_records(runs, ratios, key=lambda r: r.dataset)
        print(f"\nleave-one-dataset-out forecasts: {time.perf_counter() - t2:.1f} s")
        for norm in (True, False):
            name = "normalised by the in-sample misfit (shipped)" if norm else "raw log errors"
            out[f"lodo_{'norm' if norm else 'raw'}"] = table_of(evaluate(lodo_recs, normalize=norm))
            print_table(f"leave-one-dataset-out, {name}", out[f"lodo_{'norm' if norm else 'raw'}"])
    loro = loro[True]
    by_group = defaultdict(list)
    for s in loro:
        by_group[s["group"]].append(s["cov"])
    print("\nLORO coverage by calibration group: " + ", ".join(
        f"{g} {100 * np.nanmean(v):.1f}% ({len(v)} records)" for g, v in sorted(by_group.items())))
    print(f"total {time.perf_counter() - t0:.1f} s, load average {os.getloadavg()[0]:.2f} (machine shared)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({**out, "records": loro}, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
