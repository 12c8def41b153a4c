"""Loaders for the small real datasets bundled with lawfit (see ``lawfit/data/README.md``)."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from lawfit import schedules
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve

#: Schedule specs of the multi-power-law curves (Luo et al. 2025): linear warmup 2160 steps to 3e-4.
MULTIPOWER_SPECS: dict[str, str] = {
    "constant_24000": "constant:total=24000,peak=3e-4,warmup=2160",
    "constant_72000": "constant:total=72000,peak=3e-4,warmup=2160",
    "cosine_24000": "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5",
    "cosine_72000": "cosine:total=72000,peak=3e-4,warmup=2160,final=3e-5",
    "wsd_20000_24000": f"wsd:total=24000,peak=3e-4,warmup=2160,decay={4000 / 24000!r},final=3e-5,"
    "shape=exponential",
    "wsdld_20000_24000": f"wsd:total=24000,peak=3e-4,warmup=2160,decay={4000 / 24000!r},final=3e-5,"
    "shape=linear",
    "wsdcon_3": "two_stage:total=16000,peak=3e-4,warmup=2160,switch=8000,second=3e-5",
    "wsdcon_9": "two_stage:total=16000,peak=3e-4,warmup=2160,switch=8000,second=9e-5",
    "wsdcon_18": "two_stage:total=16000,peak=3e-4,warmup=2160,switch=8000,second=1.8e-4",
}
#: The paper's split (Luo et al. 2025, Table 1).
MULTIPOWER_TRAIN = ("constant_24000", "cosine_24000", "wsdcon_9")
MULTIPOWER_TEST = ("constant_72000", "cosine_72000", "wsd_20000_24000", "wsdld_20000_24000", "wsdcon_3",
                   "wsdcon_18")


def _rows(*parts: str) -> list[dict[str, str]]:
    path = resources.files("lawfit").joinpath("data", *parts)
    with path.open("r", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def multipower_curve(name: str) -> Curve:
    """One bundled 400M curve of Luo et al. 2025 as a :class:`Curve`.

    The CSV's ``step`` is the 0-based index into the per-step LR array, so it becomes lawfit step
    ``step + 1``; logged points beyond the schedule (step 24000 of 24000-step runs) are dropped.
    """
    if name not in MULTIPOWER_SPECS:
        raise LawfitInputError(f"unknown multipower curve {name!r}; known: {sorted(MULTIPOWER_SPECS)}")
    sched = schedules.parse(MULTIPOWER_SPECS[name])
    rows = _rows("multipower_400", f"{name}.csv")
    steps = np.array([int(float(r["step"])) for r in rows]) + 1
    loss = np.array([float(r["loss"]) for r in rows])
    keep = steps <= sched.total_steps
    return Curve(steps[keep], loss[keep], sched, name=name)


def multipower_split() -> tuple[list[Curve], list[Curve]]:
    """(train, test) curves of the paper's split, 400M model."""
    return ([multipower_curve(n) for n in MULTIPOWER_TRAIN], [multipower_curve(n) for n in MULTIPOWER_TEST])


def tissue_fig2() -> list[Curve]:
    """The constant and cosine curves of Tissue et al. 2024, Fig. 2 (warmup 500, η_max 2e-4)."""
    rows = _rows("tissue2024_fig2", "fig2_cosine_constant_20k.csv")
    sched = {
        "constant": schedules.parse("constant:total=20000,peak=2e-4,warmup=500"),
        "cosine": schedules.parse("cosine:total=20000,peak=2e-4,warmup=500,final=0"),
    }
    out = []
    for name, s in sched.items():
        r = [x for x in rows if x["schedule"] == name]
        out.append(Curve([int(x["step"]) for x in r], [float(x["val_loss"]) for x in r], s, name=name))
    return out
