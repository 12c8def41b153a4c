"""Every real run of the data as a :class:`lawfit.Curve` with its whole planned per-step LR.

Used by ``bench_forecast.py`` (leave-one-run-out calibration benchmark) and
``calibrate_forecast.py`` (the shipped calibration table). The LR reconstructions follow
``tests/data/SOURCES.md``:

- ``multipower`` (27 runs: 25M/100M/400M × 9 schedules, Luo et al. 2025): linear warmup 2160 steps
  to 3e-4, then the named schedule (``lawfit.datasets.MULTIPOWER_SPECS``); CSV step s is lawfit step
  s + 1; validation loss every 128 steps.
- ``fsl`` (3 runs, Li et al. 2025): per-step LR and train loss, 33,907 steps, no warmup.
- ``llmc`` (1 run, llm.c GPT-2 124M): per-step LR and train loss, cosine with a 700-step warmup.
- ``supercollapse`` (45 runs, Qiu et al. 2025): the LR formula of the source repository, warmup 762
  steps, ~880 log-spaced test-loss evaluations per run.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from collections import defaultdict
from dataclasses import dataclass

import lawfit as lf
import numpy as np
from _common import data_path, mp_curve
from lawfit.datasets import MULTIPOWER_SPECS


@dataclass
class Run:
    """One real run: its data set, the Curve (whole planned LR) and whether its loss is per-step noisy."""

    dataset: str
    curve: lf.Curve


def multipower_runs() -> list[Run]:
    out = []
    for size in (25, 100, 400):
        for name in MULTIPOWER_SPECS:
            out.append(Run("multipower", mp_curve(size, name, label=f"{size}M/{name}")))
    return out


def fsl_runs() -> list[Run]:
    cols: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    with gzip.open(data_path("fsl_gpt100m", "gpt100m_20b_tokens.csv.gz"), "rt") as fh:
        for r in csv.DictReader(fh):
            cols[r["schedule"]].append((int(r["step"]), float(r["lr"]), float(r["train_loss"])))
    out = []
    for name, rows in sorted(cols.items()):
        a = np.array(rows)
        order = np.argsort(a[:, 0])
        a = a[order]
        steps = a[:, 0].astype(np.int64) + 1
        lr = np.zeros(int(steps[-1]))
        lr[steps - 1] = a[:, 1]
        out.append(Run("fsl", lf.Curve(steps, a[:, 2], lr, warmup_steps=0, name=f"fsl/{name}")))
    return out


def llmc_runs() -> list[Run]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lf.LogFormatWarning)  # the log is 0-based
        c = lf.read_log(
            data_path("llmc_gpt2_124m", "main.log.train.csv"),
            loss="train_loss",
            schedule="cosine:total=19560,peak=6e-4,warmup=700,final=0",
        )
    c.name = "llmc/gpt2-124m"
    return [Run("llmc", c)]


def _supercollapse_lr(total: int, peak: float, schedule: str, decay_frac: float) -> np.ndarray:
    warm = 50_000_000 // 65536
    s = np.arange(1, total + 1, dtype=float)
    u = (s - warm) / (total - warm)
    v = np.clip((u - (1 - decay_frac)) / decay_frac, 0.0, None)
    shape = {
        "const": lambda v: np.ones_like(v),
        "linear": lambda v: 1 - v,
        "cosine": lambda v: 0.5 * (1 + np.cos(np.pi * v)),
        "quadratic": lambda v: 1 - v**2,
        "multicosine": lambda v: 0.5 * (1 + np.cos(3 * np.pi * v)),
    }[schedule]
    f = np.where(s < warm, s / warm, np.clip(shape(v), 0.0, None))
    return peak * f


def supercollapse_runs() -> list[Run]:
    runs: dict[str, dict] = {}
    with gzip.open(data_path("supercollapse_c5m", "c5m_schedules.csv.gz"), "rt") as fh:
        for r in csv.DictReader(fh):
            d = runs.setdefault(
                r["run"],
                {
                    "total": int(r["total_tokens"]) // 65536,
                    "peak": float(r["peak_lr"]),
                    "schedule": r["schedule"],
                    "decay_frac": float(r["decay_frac"]),
                    "steps": [],
                    "loss": [],
                },
            )
            d["steps"].append(int(r["step"]))
            d["loss"].append(float(r["test_loss"]))
    out = []
    for name, d in sorted(runs.items()):
        lr = _supercollapse_lr(d["total"], d["peak"], d["schedule"], d["decay_frac"])
        steps = np.array(d["steps"])
        loss = np.array(d["loss"])
        order = np.argsort(steps)
        steps, loss = steps[order], loss[order]
        keep = (steps <= lr.size) & np.isfinite(loss)
        out.append(
            Run(
                "supercollapse",
                lf.Curve(steps[keep], loss[keep], lr, warmup_steps=50_000_000 // 65536, name=f"c5m/{name}"),
            )
        )
    return out


def all_runs() -> list[Run]:
    """The 76 real runs: multipower 27, fsl 3, llmc 1, supercollapse 45."""
    return [*multipower_runs(), *fsl_runs(), *llmc_runs(), *supercollapse_runs()]
