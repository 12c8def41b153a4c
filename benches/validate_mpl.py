"""Prediction accuracy of the multi-power law against the momentum law on real runs (issue 14).

Run:  python benches/validate_mpl.py [--only multipower,supercollapse,fsl]

Each section fits both laws (``lawfit.MultiPowerLaw()`` and ``lawfit.MomentumLaw()``, defaults:
Huber δ = 1e-3 on log loss, default starts) on training curves and prints ``lawfit.validate``'s
table of the held-out curves (PredE = mean |pred − true| / true, WorstE = its max):

* ``multipower``: Luo et al. 2025 Table 1 split, per size (25M/100M/400M): fit constant_24000 +
  cosine_24000 + wsdcon_9, predict the other six.
* ``supercollapse``: d_model 1024 (the only width with cosine runs): fit the 10B-token ``const``
  and ``cosine`` (decay over the whole run) runs, predict every other d1024 run (other schedules,
  decay fractions and horizons 2.5B–20B tokens).
* ``fsl``: the three fsl runs at every step from step 1 (train loss): fit 8-1-1, predict cosine and
  WSD.

On supercollapse and fsl both laws are fitted and scored on the points after the first ``SKIP`` =
5% of each run's steps (and after its warmup; the multipower curves are used as published):
at step 1 no law is meant to describe the loss (the fsl train loss starts
at 10.4, the supercollapse test loss at 5.5), and those points would dominate both the fit and the
error (WorstE > 100%). Fit wall times are printed too (the machine may be shared: load average
shown).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lawfit  # noqa: E402
from real_logs import MP_TEST, MP_TRAIN, fsl_curves, mp_curve, sc_curves  # noqa: E402

SKIP = 0.05


def trimmed(c: lawfit.Curve) -> lawfit.Curve:
    """The curve from step max(warmup, SKIP·T) + 1 on (T = its schedule length)."""
    first = max(c.warmup_steps, int(SKIP * c.lr.size))
    keep = c.steps > first
    return c.subset(keep)


def section(title: str, train: list[lawfit.Curve], test: list[lawfit.Curve], *,
            trim: bool = True) -> dict[str, dict[str, float]]:
    if trim:
        train, test = [trimmed(c) for c in train], [trimmed(c) for c in test]
    print(f"\n## {title}\n")
    print(f"train: {', '.join(c.name for c in train)}; load average {os.getloadavg()[0]:.1f}")
    laws = [lawfit.MultiPowerLaw(), lawfit.MomentumLaw()]
    out = {}
    rows = []
    for law in laws:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            v = lawfit.validate([law], train, test)
        wall = time.perf_counter() - t0
        fit = v.fits[law.name]
        bound = fit.options.get("on_bound", {})
        print(f"{law.name}: fit {wall:.1f} s (incl. predictions), success={fit.success}, "
              f"on bound: {bound or '-'}, warnings: {len(caught)}")
        rows.extend(v.rows)
        out[law.name] = v.summary[law.name]
    print("\n```")
    head = f"{'law':<12} {'curve':<34} {'R2':>8} {'PredE':>8} {'WorstE':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['law']:<12} {r['curve']:<34} {r['r2']:>8.4f} {r['pred_e']:>8.5f} {r['worst_e']:>8.5f}")
    print("-" * len(head))
    for name, m in out.items():
        print(f"{name:<12} {'mean':<34} {m['r2']:>8.4f} {m['pred_e']:>8.5f} {m['worst_e']:>8.5f}")
    print("```")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="multipower,supercollapse,fsl")
    args = ap.parse_args()
    which = set(args.only.split(","))
    if "multipower" in which:
        for size in (25, 100, 400):
            section(f"multipower {size}M (Luo et al. Table 1 split)", [mp_curve(size, n) for n in MP_TRAIN],
                    [mp_curve(size, n) for n in MP_TEST], trim=False)
    if "supercollapse" in which:
        sc = {k: v for k, v in sc_curves().items() if k.startswith("d1024_")}
        train_names = ["d1024_T10B_const_decay1", "d1024_T10B_cosine_decay1"]
        section("supercollapse d1024: fit 10B const + cosine, predict the rest", [sc[n] for n in train_names],
                [c for n, c in sorted(sc.items()) if n not in train_names])
    if "fsl" in which:
        f = fsl_curves()
        section("fsl GPT-100M (per step): fit 8-1-1, predict cosine and WSD", [f["811"]],
                [f["cosine"], f["wsd"]])


if __name__ == "__main__":
    main()
