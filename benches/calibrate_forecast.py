"""Regenerate the shipped forecast calibration: ``python/lawfit/data/forecast_calibration.json``.

From every public real run of the data (multipower 27, fsl 3, llm.c 1, supercollapse 45):

1. the default prior of the momentum law's C (:class:`lawfit.forecast.AutoPrior`): the law fitted
   on each whole run that anneals, r = C·η_peak/(1 − λ) / (A·S1(T)^−α), geometric mean and spread;
2. the forecast records of every run cut at 25/50/75% with that prior, and the split-conformal
   table of their log errors by horizon and calibration group (:func:`lawfit.calibration.build_table`).

The benchmark ``bench_forecast.py`` reports the honest (leave-one-run-out / leave-one-dataset-out)
coverage of this method; this script only builds the table a user's forecast uses.

Usage: ``python benches/calibrate_forecast.py [--out PATH]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import lawfit as lf
from _common import ROOT
from _forecast_records import CUTS, pooled_prior, prior_ratio, records_for
from _forecast_runs import all_runs
from lawfit.calibration import build_table

OUT = ROOT / "python" / "lawfit" / "data" / "forecast_calibration.json"

SOURCES = {
    "multipower": "github.com/thu-yao-01-luo/MultiPowerLaw loss_curve_repo (Luo et al. 2025), 3 sizes x 9",
    "fsl": "github.com/zyyyyyy123/tdlt (Li et al. 2025), GPT 100M, 3 schedules, per-step train loss",
    "llmc": "github.com/KellerJordan/modded-nanogpt records/track_1_short/2024-10-13_llmc, GPT-2 124M",
    "supercollapse": "github.com/shikaiqiu/supercollapse logs/c5m_schedules.pkl (Qiu et al. 2025), 45 runs",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    runs = all_runs()
    ratios = [prior_ratio(r) for r in runs]
    prior = pooled_prior(ratios, "whole-run momentum-law fits of the public runs that anneal")
    print(f"prior: r = {prior.ratio:.4f}, sd(log r) = {prior.log_sd:.4f}, from {prior.n_runs} runs")
    records = [x for r in runs for x in records_for(r, prior)]
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.dataset] = counts.get(r.dataset, 0) + 1
    provenance = {
        "built_by": "benches/calibrate_forecast.py",
        "date": datetime.date.today().isoformat(),
        "lawfit_version": lf.__version__,
        "n_runs": len(runs),
        "runs_per_dataset": counts,
        "cuts": list(CUTS),
        "n_records": len(records),
        "sources": SOURCES,
        "score": "log(pred/ref), ref = 201-step centred moving average of the logged loss",
        "forecast": "lawfit.forecast defaults: MomentumLaw(), fit_from='warmup', prior=AutoPrior below",
        "prior": {
            "ratio": prior.ratio,
            "log_sd": prior.log_sd,
            "n_runs": prior.n_runs,
            "source": prior.source,
            "per_run": {r.curve.name: x for r, x in zip(runs, ratios, strict=True) if x is not None},
        },
    }
    table = build_table(records, provenance=provenance, normalize=True)
    args.out.write_text(json.dumps(table.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {len(records)} records")
    for g in table.lower:
        i = list(table.levels).index(0.9)
        print(
            f"  {g:<8s} 90% band, log error by horizon bin: "
            + " ".join(
                f"[{lo:+.4f},{hi:+.4f}]" for lo, hi in zip(table.lower[g][i], table.upper[g][i], strict=True)
            )
        )


if __name__ == "__main__":
    main()
