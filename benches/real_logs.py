"""The real training logs of the data folder as lawfit Curves (shared by ``bench_mpl.py --real`` and
``validate_mpl.py``; not a test module).

Logs and their step conventions
-------------------------------
* ``fsl_<schedule>``: ``fsl_gpt100m/gpt100m_20b_tokens.csv.gz``, one curve per schedule (cosine, wsd,
  811), every step from step 1 (CSV step s is lawfit step s, the LR column in CSV-step order is the
  per-step LR; the two missing rows' LR is interpolated; see ``bench_mpl.fsl_curves``).
* ``llmc_124m``: ``llmc_gpt2_124m/main.log.train.csv``, per-step train loss of the llm.c GPT-2 124M
  run (0-based log, read by ``lawfit.read_log`` with the run's cosine schedule, warmup 700).
* ``multipower_<size>``: the paper's train set (constant_24000 + cosine_24000 + wsdcon_9) of each
  size, fitted jointly (``tests/data/SOURCES.md`` conventions).
* ``sc_<run>``: supercollapse runs (``supercollapse_c5m``), per-step LR rebuilt from the source
  repository's scheduler (SOURCES.md), ~880 log-spaced test-loss points per run.
"""

from __future__ import annotations

import csv
import gzip
import warnings
from functools import cache

import lawfit
import numpy as np
from _common import data_path, mp_curve

FSL_SCHEDULES = ("cosine", "wsd", "811")
MP_TRAIN, MP_TEST = lawfit.datasets.MULTIPOWER_TRAIN, lawfit.datasets.MULTIPOWER_TEST
SC_TOKENS_PER_STEP = 65536
SC_WARMUP = 50_000_000 // SC_TOKENS_PER_STEP


@cache
def fsl_curves() -> dict[str, lawfit.Curve]:
    """The three fsl schedules, every step from step 1."""
    cols: dict[str, tuple[list[int], list[float], list[float]]] = {s: ([], [], []) for s in FSL_SCHEDULES}
    with gzip.open(data_path("fsl_gpt100m", "gpt100m_20b_tokens.csv.gz"), "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            st, lr, lo = cols[row["schedule"]]
            st.append(int(row["step"]))
            lr.append(float(row["lr"]))
            lo.append(float(row["train_loss"]))
    out = {}
    for name in FSL_SCHEDULES:
        st, lr, lo = (np.asarray(a) for a in cols[name])
        order = np.argsort(st, kind="stable")
        st, lr, lo = st[order], lr[order], lo[order]
        lr_full = np.interp(np.arange(st[-1] + 1), st, lr)
        keep = st >= 1
        out[name] = lawfit.Curve(st[keep], lo[keep], lr_full, warmup_steps=0, name=f"fsl_{name}")
    return out


@cache
def llmc_curve() -> lawfit.Curve:
    """The llm.c GPT-2 124M per-step train loss."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lawfit.LogFormatWarning)
        c = lawfit.read_log(data_path("llmc_gpt2_124m", "main.log.train.csv"), loss="train_loss",
                            schedule="cosine:total=19560,peak=6e-4,warmup=700,final=0", name="llmc_124m")
    # The warmup ramp starts at LR 0: points with no LR area yet (S1 = 0) are not in the law's domain.
    keep = np.cumsum(c.lr)[c.steps - 1] > 0
    return c.subset(keep)




def _sc_lr(total_tokens: int, schedule: str, decay_frac: float, peak: float) -> np.ndarray:
    t = total_tokens // SC_TOKENS_PER_STEP
    s = np.arange(1, t + 1, dtype=np.float64)
    u = (s - SC_WARMUP) / (t - SC_WARMUP)
    v = np.maximum(0.0, (u - (1 - decay_frac)) / decay_frac)
    shape = {"const": np.ones_like(v), "linear": 1 - v, "cosine": 0.5 * (1 + np.cos(np.pi * v)),
             "quadratic": 1 - v**2, "multicosine": 0.5 * (1 + np.cos(3 * np.pi * v))}[schedule]
    f = np.where(s < SC_WARMUP, s / SC_WARMUP, np.clip(shape, 0.0, None))
    return peak * f


@cache
def sc_curves() -> dict[str, lawfit.Curve]:
    """Every supercollapse run by run name (d_model, horizon, schedule in the name)."""
    runs: dict[str, dict[str, list]] = {}
    meta: dict[str, tuple[int, int, str, float, float]] = {}
    with gzip.open(data_path("supercollapse_c5m", "c5m_schedules.csv.gz"), "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            r = runs.setdefault(row["run"], {"step": [], "loss": []})
            r["step"].append(int(row["step"]))
            r["loss"].append(float(row["test_loss"]))
            meta[row["run"]] = (int(row["d_model"]), int(row["total_tokens"]), row["schedule"],
                                float(row["decay_frac"]), float(row["peak_lr"]))
    out = {}
    for name, r in runs.items():
        d, tok, sched, frac, peak = meta[name]
        lr = _sc_lr(tok, sched, frac, peak)
        st = np.asarray(r["step"])
        lo = np.asarray(r["loss"])
        order = np.argsort(st, kind="stable")
        st, lo = st[order], lo[order]
        keep = (st >= 1) & (st <= lr.size) & np.isfinite(lo)
        st, lo = st[keep], lo[keep]
        _, first = np.unique(st, return_index=True)
        out[name] = lawfit.Curve(st[first], lo[first], lr, warmup_steps=SC_WARMUP, name=name)
    return out


def real_fit_sets() -> dict[str, list[lawfit.Curve]]:
    """Every real fitting problem of the bench: name -> curves fitted jointly."""
    sets: dict[str, list[lawfit.Curve]] = {}
    for name, c in fsl_curves().items():
        sets[f"fsl_{name}"] = [c]
    sets["llmc_124m"] = [llmc_curve()]
    for size in (25, 100, 400):
        sets[f"multipower_{size}"] = [mp_curve(size, n) for n in MP_TRAIN]
    sc = sc_curves()
    for name in sorted(sc):
        sets[f"sc_{name}"] = [sc[name]]
    return sets
