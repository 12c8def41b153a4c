"""Every loss-curve law on every real split: prediction accuracy (PredE / WorstE) and fit time.

Run from the repository root (writes ``docs/law_comparison.md`` and prints the table)::

    python benches/bench_laws.py [--splits llmc,fsl,supercollapse,mp400,mp100,mp25]
                                 [--out docs/law_comparison.md]

Splits (the data conventions are those of ``tests/data/SOURCES.md``):

* ``mp25`` / ``mp100`` / ``mp400`` — multi-power-law runs (Luo et al. 2025, Table 1 split): fit
  constant_24000 + cosine_24000 + wsdcon_9, predict the other 6 schedules of the same size.
* ``fsl`` — the FSL paper's 100M GPT runs (Li et al. 2025): fit the 8-1-1 run, predict cosine and WSD
  (per-step train loss; every ``--fsl-stride``-th step from step 1000, the end of the fast initial drop).
* ``supercollapse`` — CIFAR-5M µP transformers (Qiu et al. 2025), width 1024 and 2.5B tokens: fit
  const + linear (decay over the whole run), predict linear (last 20 %) and multicosine (both);
  points after the 762-step warmup.
* ``llmc`` — llm.c GPT-2 124M (modded-nanogpt record): fit the validation loss of the first 50 % of
  the run, predict the rest.

PredE is the mean of |pred − true|/true over a held-out curve, WorstE its maximum, both averaged
over the held-out curves (Luo et al.). ``auto`` is ``lawfit.fit("auto", train)``: it fits every law,
scores each on held-out train curves (≥ 2) and on every train curve's held-out last third, and keeps
the momentum law unless another law is better on both (``lawfit.auto``); its fit time includes all
of that. The numbers depend on the laws' fitting code (e.g.
the multi-power law's, which other work improves): rerun the script to regenerate the table.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import time
import warnings
from pathlib import Path

import lawfit as lf
import numpy as np
from _common import ROOT, data_path, mp_curve
from lawfit.validation import accuracy

LAW_NAMES = ("momentum", "multipower", "fsl", "convex-bound", "auto")
MP_TRAIN, MP_TEST = lf.datasets.MULTIPOWER_TRAIN, lf.datasets.MULTIPOWER_TEST




def mp_split(size: int) -> tuple[list[lf.Curve], list[lf.Curve]]:
    return [mp_curve(size, n) for n in MP_TRAIN], [mp_curve(size, n) for n in MP_TEST]


def fsl_split(stride: int) -> tuple[list[lf.Curve], list[lf.Curve]]:
    cols: dict[str, tuple[list[int], list[float], list[float]]] = {}
    with gzip.open(data_path("fsl_gpt100m", "gpt100m_20b_tokens.csv.gz"), "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            st, lr, lo = cols.setdefault(row["schedule"], ([], [], []))
            st.append(int(row["step"]))
            lr.append(float(row["lr"]))
            lo.append(float(row["train_loss"]))
    curves = {}
    for name, (st_, lr_, lo_) in cols.items():
        st, lr, lo = np.asarray(st_), np.asarray(lr_), np.asarray(lo_)
        order = np.argsort(st, kind="stable")
        st, lr, lo = st[order], lr[order], lo[order]
        lr_full = np.interp(np.arange(st[-1] + 1), st, lr)  # fills the missing rows' LR
        keep = (st >= 1000) & (st % stride == 0)
        curves[name] = lf.Curve(st[keep], lo[keep], lr_full, warmup_steps=0, name=name)
    return [curves["811"]], [curves["cosine"], curves["wsd"]]


def supercollapse_split() -> tuple[list[lf.Curve], list[lf.Curve]]:
    runs: dict[str, dict[str, list[float]]] = {}
    with gzip.open(data_path("supercollapse_c5m", "c5m_schedules.csv.gz"), "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["run"].startswith("d1024_T2B_"):
                r = runs.setdefault(row["run"], {"step": [], "loss": [], "meta": []})
                r["step"].append(float(row["step"]))
                r["loss"].append(float(row["test_loss"]))
                if not r["meta"]:
                    r["meta"] = [float(row["total_tokens"]), float(row["peak_lr"]), float(row["decay_frac"])]
                    r["schedule"] = [row["schedule"]]  # type: ignore[list-item]
    curves = {}
    for name, r in runs.items():
        total_tokens, peak, frac = r["meta"]
        shape = str(r["schedule"][0])
        t = int(total_tokens) // 65536
        w = 50_000_000 // 65536
        s = np.arange(1, t + 1, dtype=np.float64)
        u = (s - w) / (t - w)
        v = np.clip((u - (1 - frac)) / frac, 0.0, None)
        g = {"const": np.ones_like(v), "linear": 1 - v, "cosine": 0.5 * (1 + np.cos(np.pi * v)),
             "quadratic": 1 - v**2, "multicosine": 0.5 * (1 + np.cos(3 * np.pi * v))}[shape]
        lr = peak * np.where(s < w, s / w, np.clip(g, 0.0, None))
        steps = np.asarray(r["step"], dtype=np.int64)
        loss = np.asarray(r["loss"])
        order = np.argsort(steps)
        steps, loss = steps[order], loss[order]
        keep = (steps > w) & (steps <= t)
        steps, idx = np.unique(steps[keep], return_index=True)
        short = name.removeprefix("d1024_T2B_")
        curves[name] = lf.Curve(steps, loss[keep][idx], lr, warmup_steps=w, name=short)
    train = ["d1024_T2B_const_decay1", "d1024_T2B_linear_decay1"]
    return [curves[k] for k in train], [v for k, v in sorted(curves.items()) if k not in train]


def llmc_split(frac: float = 0.5) -> tuple[list[lf.Curve], list[lf.Curve]]:
    with data_path("llmc_gpt2_124m", "main.log.train.csv").open() as fh:
        lr = np.array([float(r["lr"]) for r in csv.DictReader(fh)])
    with data_path("llmc_gpt2_124m", "main.log.val.csv").open() as fh:
        rows = [(int(r["step"]), float(r["val_loss"])) for r in csv.DictReader(fh)]
    steps = np.array([s for s, _ in rows if 1 <= s <= lr.size])
    loss = np.array([v for s, v in rows if 1 <= s <= lr.size])
    cut = frac * lr.size
    # The first points (loss 11 -> 6 during warmup) are outside every law's regime: fit after warmup.
    seen = (steps <= cut) & (steps > 700)
    return ([lf.Curve(steps[seen], loss[seen], lr, warmup_steps=700, name="first 50%")],
            [lf.Curve(steps[steps > cut], loss[steps > cut], lr, warmup_steps=700, name="last 50%")])


SPLITS = {
    "mp25": ("multipower 25M", lambda a: mp_split(25)),
    "mp100": ("multipower 100M", lambda a: mp_split(100)),
    "mp400": ("multipower 400M", lambda a: mp_split(400)),
    "fsl": ("FSL GPT-100M", lambda a: fsl_split(a.fsl_stride)),
    "supercollapse": ("supercollapse d1024 2.5B", lambda a: supercollapse_split()),
    "llmc": ("llm.c GPT-2 124M", lambda a: llmc_split()),
}


def run_split(key: str, args: argparse.Namespace) -> list[dict]:
    title, make = SPLITS[key]
    train, test = make(args)
    rows = []
    for name in args.laws.split(","):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = lf.fit(name, train, max_evals=args.max_evals)
        seconds = time.perf_counter() - t0
        accs = [accuracy(fit.law.predict_curves(fit.params, [c]), c.loss) for c in test]
        row = {"split": title, "law": name, "pred_e": float(np.mean([a["pred_e"] for a in accs])),
               "worst_e": float(np.mean([a["worst_e"] for a in accs])), "seconds": seconds,
               "chosen": fit.options.get("auto", {}).get("chosen", "")}
        rows.append(row)
        print(f"{title:<26} {name:<13} PredE {row['pred_e']:.5f}  WorstE {row['worst_e']:.5f}  "
              f"{seconds:8.2f} s {row['chosen']}", flush=True)
    return rows


def markdown(rows: list[dict], args: argparse.Namespace, elapsed: float) -> str:
    laws = args.laws.split(",")
    splits = list(dict.fromkeys(r["split"] for r in rows))
    cell = {(r["split"], r["law"]): r for r in rows}
    lines = [
        "# Loss-curve laws compared on the real data",
        "",
        "Generated by `python benches/bench_laws.py` (do not edit by hand; rerun it after changing a law's",
        "fitting). Each cell: mean PredE / mean WorstE over the held-out curves (relative error of the",
        "predicted loss, Luo et al. 2025), then the fit time in seconds.",
        "`auto` = `lawfit.fit(\"auto\", train)`",
        "(held-out train curves and every train curve's held-out last third; the momentum law is kept",
        "unless another law predicts better on both: `lawfit.auto`), in brackets the",
        "law it chose; its time includes fitting every candidate. Splits and data conventions: see the",
        "script's docstring and `tests/data/SOURCES.md`.",
        "",
        "| split | " + " | ".join(laws) + " |",
        "|---|" + "---|" * len(laws),
    ]
    for s in splits:
        cells = []
        for law in laws:
            r = cell.get((s, law))
            if r is None:
                cells.append("—")
                continue
            extra = f" [{r['chosen']}]" if r["chosen"] else ""
            best = min(cell[(s, x)]["pred_e"] for x in laws if (s, x) in cell and x != "auto")
            mark = "**" if law != "auto" and r["pred_e"] == best else ""
            cells.append(f"{mark}{r['pred_e']:.5f}{mark} / {r['worst_e']:.5f}, {r['seconds']:.1f} s{extra}")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    load = os.getloadavg()
    lines += [
        "",
        "Bold: the best PredE among the individual laws. Laws: `momentum` (Tissue et al. 2024),",
        "`multipower` (Luo et al. 2025), `fsl` (Li et al. 2025, the practical 7-parameter form of spec §12),",
        "`convex-bound` (Schaipp et al. 2025, constant G_t; spec §13).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs shared with other jobs (load average at"
        f" the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}); lawfit {lf.__version__};"
        f" this invocation of the script {elapsed:.0f} s;"
        f" max_evals={args.max_evals}. Times are wall-clock on a loaded machine: compare them within a row.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--splits", default="llmc,fsl,supercollapse,mp400,mp100,mp25")
    p.add_argument("--laws", default=",".join(LAW_NAMES))
    p.add_argument("--fsl-stride", type=int, default=10, help="keep every n-th step of the FSL per-step logs")
    p.add_argument("--max-evals", type=int, default=400, help="evaluation budget per start")
    p.add_argument("--out", default=str(ROOT / "docs" / "law_comparison.md"))
    p.add_argument("--fresh", action="store_true",
                   help="drop the rows of splits not rerun (default: keep them)")
    args = p.parse_args()
    t0 = time.perf_counter()
    cache = Path(args.out).with_suffix(".json")
    # Rows of splits not rerun now are kept from the last run (see --fresh).
    rows = [] if args.fresh or not cache.exists() else json.loads(cache.read_text(encoding="utf-8"))
    for key in [k for k in args.splits.split(",") if k]:
        new = run_split(key, args)
        rows = [r for r in rows if r["split"] != SPLITS[key][0]] + new
        # Written after every split, so an interrupted run still leaves the rows it finished.
        cache.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        Path(args.out).write_text(markdown(rows, args, time.perf_counter() - t0), encoding="utf-8")
    # `--splits ""` only re-renders the table from the cached rows.
    text = markdown(rows, args, time.perf_counter() - t0)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
