"""The multi-power-law curves of Luo et al. 2025 (tests/data/multipower), with their per-step LR
rebuilt exactly as tests/data/SOURCES.md describes (the source repo's convention)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from datadir import DATA

TRAIN = ("constant_24000", "cosine_24000", "wsdcon_9")
TEST = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3", "wsdcon_18")
PEAK, WARMUP, FINAL = 3e-4, 2160, 3e-5


def data_dir() -> Path:
    """The tests' data folder (tests/data); fails loudly when it is missing."""
    if not DATA.is_dir():
        raise FileNotFoundError(f"test data not found at {DATA}: tests/data ships with the repository")
    return DATA


def lr_array(name: str) -> np.ndarray:
    """Per-step LR (0-based index s as in the repo) of a multipower schedule name."""
    if name.startswith("wsdcon_"):
        total = 16000
    else:
        total = int(name.split("_")[-1])
    s = np.arange(total, dtype=np.float64)
    lr = np.full(total, PEAK)
    lr[:WARMUP] = np.linspace(0.0, PEAK, WARMUP)
    post = s >= WARMUP
    if name.startswith("cosine"):
        lr[post] = FINAL + 0.5 * (PEAK - FINAL) * (1 + np.cos(np.pi * (s[post] - WARMUP) / (total - WARMUP)))
    elif name.startswith("wsdcon_"):
        lr[s >= 8000] = int(name.split("_")[1]) * 1e-5
    elif name.startswith("wsdld"):
        d = s >= 20000
        lr[d] = PEAK * (1 - (s[d] - 20000) / 4000) + FINAL * (s[d] - 20000) / 4000
    elif name.startswith("wsd_"):
        d = s >= 20000
        lr[d] = PEAK ** ((24000 - s[d]) / 4000) * FINAL ** ((s[d] - 20000) / 4000)
    return lr


def load_curve(size: int, name: str):
    """(steps_0based, loss, lr) of one curve; steps ≥ len(lr) are dropped (README)."""
    path = data_dir() / "multipower" / f"csv_{size}" / f"{name}.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    steps = np.array([int(float(r["step"])) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    lr = lr_array(name)
    keep = steps < lr.size
    return steps[keep], loss[keep], lr


def lawfit_curve(size: int, name: str):
    """The curve as a lawfit.Curve: CSV step s is the LR index s, i.e. lawfit's step s + 1."""
    import lawfit as lf

    steps, loss, lr = load_curve(size, name)
    return lf.Curve(steps + 1, loss, lr, warmup_steps=WARMUP, name=name)
