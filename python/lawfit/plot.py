"""Figures (matplotlib, the ``plot`` extra). matplotlib is imported lazily."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lawfit.curve import Curve


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("lawfit plots need matplotlib: pip install 'lawfit[plot]'") from exc
    return plt


def forecast_figure(
    fits: Mapping[str, Any], train: Sequence[Curve], test: Sequence[Curve], path: str | os.PathLike[str]
) -> str:
    """Data versus each law's predictions (top) and relative residuals (bottom); saved as PNG.

    Parameters
    ----------
    fits : dict[str, FitResult]
        Fits by label.
    train, test : list of Curve
        Curves used for fitting (drawn solid) and held out (drawn with markers).
    path : path-like
        Output PNG path.

    Returns
    -------
    str
        The path written.
    """
    plt = _pyplot()
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True, height_ratios=(3, 1.3))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    for i, c in enumerate([*train, *test]):
        col = colors[i % len(colors)]
        held_out = i >= len(train)
        ax.plot(c.steps, c.loss, "o" if held_out else ".", ms=2.5, color=col, alpha=0.6,
                label=f"{c.name} ({'test' if held_out else 'train'})")
        for j, f in enumerate(fits.values()):
            pred = f.law.predict_curves(f.params, [c])
            ax.plot(c.steps, pred, styles[j % len(styles)], color=col, lw=1)
            axr.plot(c.steps, (pred - c.loss) / c.loss * 100, styles[j % len(styles)], color=col, lw=0.8)
    ax.set_ylabel("loss")
    lo = min(float(np.percentile(c.loss, 1)) for c in [*train, *test])
    hi = max(float(np.percentile(c.loss, 60)) for c in [*train, *test])
    ax.set_ylim(lo - 0.02 * (hi - lo), hi)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("loss curves: data (dots) and fitted laws (" +
                 ", ".join(f"{styles[j % len(styles)]} {k}" for j, k in enumerate(fits)) + ")")
    axr.axhline(0, color="k", lw=0.5)
    axr.set_ylabel("residual (%)")
    axr.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return os.fspath(path)
