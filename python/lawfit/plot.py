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
    fits: Mapping[str, Any],
    train: Sequence[Curve],
    test: Sequence[Curve],
    path: str | os.PathLike[str],
    *,
    logged: Sequence[Curve] | None = None,
) -> str:
    """Data versus each law's predictions (top) and relative residuals (bottom); saved as PNG.

    The data are drawn as faint dots under the fitted lines; the y-axis covers the fitted (and
    held-out) points and their predictions; residuals are drawn over those points only.

    Parameters
    ----------
    fits : dict[str, FitResult]
        Fits by label.
    train, test : list of Curve
        Curves used for fitting (dots) and held out (circles).
    path : path-like
        Output PNG path.
    logged : list of Curve, optional
        The whole logs the train curves were cut from (e.g. with the warmup): their points
        outside the fitted range are drawn in grey, outside the axis limits when far off.

    Returns
    -------
    str
        The path written.
    """
    plt = _pyplot()
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(10, 7.5), sharex=True, height_ratios=(3, 1.3))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    styles = ["-", "--", ":", "-."]
    y_lo, y_hi = np.inf, -np.inf
    x_lo, x_hi = np.inf, -np.inf
    for c in logged or []:
        ax.plot(c.steps, c.loss, ".", ms=1.5, color="0.75", alpha=0.5, zorder=1)
    for i, c in enumerate([*train, *test]):
        col = colors[i % len(colors)]
        held_out = i >= len(train)
        ax.plot(
            c.steps,
            c.loss,
            "o" if held_out else ".",
            ms=2.5,
            color=col,
            alpha=0.35,
            zorder=2,
            label=f"{c.name} ({'test' if held_out else 'train'})",
        )
        y_lo, y_hi = min(y_lo, float(c.loss.min())), max(y_hi, float(np.percentile(c.loss, 99.5)))
        x_lo, x_hi = min(x_lo, float(c.steps[0])), max(x_hi, float(c.steps[-1]))
        for j, f in enumerate(fits.values()):
            pred = f.law.predict_curves(f.params, [c])
            ax.plot(c.steps, pred, styles[j % len(styles)], color="k" if len(train) + len(test) == 1 else col,
                    lw=1.8, zorder=4)
            finite = np.isfinite(pred)
            if finite.any():
                y_lo = min(y_lo, float(pred[finite].min()))
                y_hi = max(y_hi, float(pred[finite].max()))
            axr.plot(c.steps, (pred - c.loss) / c.loss * 100, ".", color=col, ms=1.5, alpha=0.5)
    ax.set_ylabel("loss")
    if np.isfinite(y_lo) and np.isfinite(y_hi) and y_hi > y_lo:
        pad = 0.04 * (y_hi - y_lo)
        ax.set_ylim(y_lo - pad, y_hi + pad)
    if np.isfinite(x_lo) and x_hi > x_lo:
        ax.set_xlim(x_lo - 0.01 * (x_hi - x_lo), x_hi + 0.01 * (x_hi - x_lo))
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(
        "loss curves: data (dots) and fitted laws ("
        + ", ".join(f"{styles[j % len(styles)]} {k}" for j, k in enumerate(fits))
        + ")"
    )
    axr.axhline(0, color="k", lw=0.5)
    axr.set_ylabel("residual (%)")
    axr.set_xlabel("step")
    return _save(plt, fig, path)


def fit_figure(
    result: Any,
    curves: Sequence[Curve],
    path: str | os.PathLike[str],
    *,
    logged: Sequence[Curve] | None = None,
) -> str:
    """A fit against its data, with a residual panel; saved as PNG. Returns the path.

    ``curves`` are the fitted points; ``logged`` (optional) the whole logs they were cut from,
    drawn in grey where they were not fitted.
    """
    return forecast_figure({result.law.name: result}, curves, [], path, logged=logged)


def schedules_figure(
    result: Any,
    schedules: Sequence[Any],
    path: str | os.PathLike[str],
    *,
    band: bool = True,
    level: float = 0.9,
) -> str:
    """Predicted loss curves of several schedules (with parameter-uncertainty bands) and their LRs."""
    from lawfit.forecast import predict_band

    plt = _pyplot()
    fig, (ax, axl) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, height_ratios=(3, 1.2))
    for s in schedules:
        # Predictions start after warmup: at a step with zero LR area the law is infinite.
        first = min(s.warmup_steps + 1, s.total_steps)
        grid = np.arange(first, s.total_steps + 1, max(1, s.total_steps // 400))
        steps = np.unique(np.append(grid, s.total_steps))
        if band:
            pred, lo, hi = predict_band(result, s, steps, level=level)
            ax.fill_between(steps, lo, hi, alpha=0.2)
        else:
            pred = result.predict(s, steps)
        ax.plot(steps, pred, lw=1.2, label=f"{s}  (final {pred[-1]:.4f})")
        axl.plot(np.arange(1, s.total_steps + 1), s.lr, lw=1)
    ax.set_ylabel("predicted loss")
    ax.legend(fontsize=7)
    ax.set_title(
        f"{result.law.name} law forecasts" + (f" ({int(level * 100)}% parameter band)" if band else "")
    )
    axl.set_ylabel("learning rate")
    axl.set_xlabel("step")
    return _save(plt, fig, path)


def areas_figure(
    schedule: Any, path: str | os.PathLike[str], *, decay: float = 0.999, warmup: str = "actual"
) -> str:
    """A schedule's LR with its areas S1 (forward) and S2 (annealing momentum); saved as PNG."""
    from lawfit.lr_areas import areas

    plt = _pyplot()
    s1, s2 = areas(schedule, decay=decay, warmup_steps=schedule.warmup_steps, warmup=warmup)
    steps = np.arange(1, schedule.total_steps + 1)
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), sharex=True)
    for ax, y, label in zip(
        axes, (schedule.lr, s1, s2), ("learning rate", "S1", f"S2 (λ={decay})"), strict=True
    ):
        ax.plot(steps, y, lw=1)
        ax.set_ylabel(label)
    axes[0].set_title(str(schedule), fontsize=8)
    axes[-1].set_xlabel("step")
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: str | os.PathLike[str]) -> str:
    """Lay out ``fig``, write it to ``path`` as a 110-dpi PNG, close it; returns the path."""
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return os.fspath(path)
