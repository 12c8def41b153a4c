"""`fit()` and `FitResult`: the engine's front door, statistics, and versioned JSON files."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lawfit._options import tracing
from lawfit._point_fit import point_data
from lawfit._progress import auto_bar
from lawfit._stats import (
    ConvergenceWarning,
    FitData,
    _bounds_and_fixed,
    _json_float,
    check_delta,
    check_loss_space,
    check_max_evals,
    check_positive,
    check_weights,
    fit_metrics,
    prepare_starts,
    solution,
)
from lawfit._validate import LawfitInputError, LawfitTypeError
from lawfit._version import __version__
from lawfit.auto import auto_report_lines, fit_auto
from lawfit.bands import predict_band
from lawfit.bootstrap import RefitSpec, bootstrap_fit
from lawfit.curve import Curve
from lawfit.laws import Law, PointLaw, law_from_dict
from lawfit.laws.auto import AutoLaw, resolve_law
from lawfit.priors import normalize_prior, prior_to_json, refit_with_prior, solver_prior

__all__ = ["ConvergenceWarning", "FitResult", "fit", "load_fit"]

#: Version of the saved-fit JSON format; files of other versions are rejected.
FORMAT_VERSION = 1
#: Largest saved-fit file ``load_fit`` reads, in bytes.
MAX_FIT_FILE_BYTES = 16 * 1024 * 1024

@dataclass
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    law : Law
        The fitted law.
    params : dict[str, float]
        Best parameters by name.
    stderr : dict[str, float]
        Standard errors (scipy ``curve_fit`` conventions); ``inf`` when not identifiable, ``nan``
        for fixed parameters.
    cov : ndarray, shape (p, p)
        Covariance of the parameters in ``law.param_names`` order.
    metrics : dict[str, float]
        ``cost`` (Σ w·ρ(r)), ``r2``, ``rmse``, ``mae`` (loss units), ``aic``, ``bic``,
        ``n_points``, ``n_params``, ``n_starts``, ``n_converged``, ``n_evals``.
    success : bool
        Whether the best start met a tolerance.
    message : str
        Why the solver stopped.
    options : dict
        Fit options (robust loss, delta, space, fixed parameters, ...).
    """

    law: Law
    params: dict[str, float]
    stderr: dict[str, float]
    cov: np.ndarray
    metrics: dict[str, float]
    success: bool
    message: str
    options: dict[str, Any] = field(default_factory=dict)
    #: The data and solver settings, for refits (bootstrap); not saved with the fit.
    _refit: Any = field(default=None, repr=False, compare=False)

    def predict(self, schedule_or_lr: Any = None, steps: Any = None, **kwargs: Any) -> np.ndarray:
        """Predicted loss under a schedule (or per-step LR array) at ``steps`` (default: all).

        For laws of data points the arguments are the law's data: ``fit.predict(x)`` for
        :class:`~lawfit.PowerLaw`, ``fit.predict(N, D)`` or ``fit.predict(N=..., D=...)`` for
        :class:`~lawfit.ChinchillaLaw`.
        """
        if isinstance(schedule_or_lr, str) and not _is_point_law(self.law):
            from lawfit.schedules import parse

            schedule_or_lr = parse(schedule_or_lr)
        args = [a for a in (schedule_or_lr, steps) if a is not None]
        if steps is not None and schedule_or_lr is None:
            raise LawfitInputError("predict needs the schedule (or data) before steps")
        kwargs = self._warmup_default(schedule_or_lr, kwargs)
        return self.law.predict(self.params, *args, **kwargs)

    def _warmup_default(self, schedule_or_lr: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The fit's warmup length for a raw LR array predicted without ``warmup_steps``.

        A fit remembers the warmup of its curves (``options["warmup_steps"]``, when they share
        one) and its convention (the law's ``warmup`` option); a Schedule brings its own warmup,
        and an explicit ``warmup_steps=`` wins. An array shorter than the remembered warmup takes
        its own LR ramp (:func:`lawfit.curve.infer_warmup`).
        """
        import inspect

        from lawfit.curve import infer_warmup
        from lawfit.schedules import Schedule

        if "warmup_steps" in kwargs or schedule_or_lr is None or isinstance(schedule_or_lr, (Schedule, str)):
            return kwargs
        try:
            takes_warmup = "warmup_steps" in inspect.signature(self.law.predict).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            takes_warmup = False
        if not takes_warmup:
            return kwargs
        arr = np.asarray(schedule_or_lr)
        if arr.ndim != 1 or arr.dtype.kind not in "fiu":
            return kwargs
        w = self.options.get("warmup_steps")
        if not isinstance(w, int) or w > arr.size:
            w = infer_warmup(arr.astype(float))
        return {**kwargs, "warmup_steps": int(w)}

    def to_frame(self, schedule: Any, steps: Any = None, *, level: float | None = None) -> Any:
        """The predicted loss curve of a schedule as a pandas DataFrame.

        Parameters
        ----------
        schedule : Schedule, spec string or array_like, shape (T,)
            The per-step LR (a spec such as ``"cosine:total=24000,peak=3e-4"`` is parsed).
        steps : array_like of int, optional
            1-based steps to predict at (default: every step).
        level : float, optional
            Also return a parameter-uncertainty band of this level (columns ``lower``,
            ``upper``; see :func:`lawfit.predict_band`).

        Returns
        -------
        pandas.DataFrame
            Columns ``step`` (int64), ``lr`` (float64, the LR of that step), ``loss`` (float64, the
            predicted loss), and ``lower``/``upper`` with ``level``.
        """
        from lawfit.schedules import Schedule, parse

        pd = _pandas()
        if isinstance(schedule, str):
            schedule = parse(schedule)
        lr = schedule.lr if isinstance(schedule, Schedule) else np.asarray(schedule, dtype=float)
        st = np.arange(1, lr.size + 1) if steps is None else np.asarray(steps, dtype=np.int64)
        cols: dict[str, Any] = {"step": st.astype(np.int64)}
        if level is not None:
            pred, lo, hi = predict_band(self, schedule, st, level=level)
            cols.update(lr=lr[st - 1], loss=pred, lower=lo, upper=hi)
        else:
            cols.update(lr=lr[st - 1], loss=self.predict(schedule, st))
        return pd.DataFrame(cols)

    def _repr_html_(self) -> str:
        """An HTML table of the fit for notebooks: parameters with errors, then the metrics."""
        from html import escape

        rows = "".join(
            f"<tr><td>{escape(k)}</td><td>{v:.6g}</td><td>{self.stderr.get(k, float('nan')):.3g}</td></tr>"
            for k, v in self.params.items()
        )
        m = self.metrics
        keys = [k for k in ("r2", "rmse", "mae", "n_points", "n_starts", "n_converged") if k in m]
        mets = "".join(f"<tr><td>{k}</td><td colspan=2>{m[k]:.6g}</td></tr>" for k in keys)
        status = "converged" if self.success else "NOT converged"
        return (
            f"<div><b>lawfit fit: {escape(repr(self.law))}</b> &mdash; {status} ({escape(self.message)})"
            "<table><tr><th>parameter</th><th>value</th><th>stderr</th></tr>"
            f"{rows}{mets}</table></div>"
        )

    def bootstrap(self, n: int = 1000, *, seed: int | None = 0, level: float = 0.95, starts: Any = "best",
                  workers: int | None = None) -> Any:
        """Bootstrap confidence intervals: resample the points with replacement and refit, in parallel.

        Parameters
        ----------
        n : int, default 1000
            Number of bootstrap replicates.
        seed : int or None, default 0
            Seed of ``numpy.random.default_rng`` drawing the resamples; the same seed gives
            bit-identical results.
        level : float, default 0.95
            Confidence level of the percentile intervals.
        starts : "best", "default" or array_like (k, p)
            Start points of each refit: the fitted optimum (default), the optimum plus the law's
            default starts (much slower for large grids), or explicit public-parameter starts.
        workers : int, optional
            Threads for curve laws (default: 4 × CPU count, at most 32); point laws use rayon.

        Returns
        -------
        BootstrapResult
            Per-parameter replicate values, standard errors (std of the converged replicates)
            and percentile intervals.
        """
        return bootstrap_fit(self, n, seed=seed, level=level, starts=starts, workers=workers)

    def compute_optimal(self, budget: Any) -> Any:
        """Compute-optimal (N, D, loss) for a FLOP budget, for laws that define it (``ChinchillaLaw``)."""
        fn = getattr(self.law, "compute_optimal", None)
        if fn is None:
            raise LawfitInputError(f"{type(self.law).__name__} has no compute-optimal allocation")
        return fn(self.params, budget)

    def report(self) -> str:
        """An lmfit-style text report of the fit."""
        m = self.metrics
        lines = [
            f"[[Fit: {self.law!r}]]",
            f"    success            = {self.success}  ({self.message})",
            f"    objective          = {self.options.get('loss')} (delta={self.options.get('delta')}),"
            f" {self.options.get('space')} residuals",
            f"    # data points      = {int(m['n_points'])}",
            f"    # variables        = {int(m['n_params'])}",
            f"    # starts           = {int(m['n_starts'])} ({int(m['n_converged'])} converged)",
            f"    # evaluations      = {int(m['n_evals'])}",
            f"    cost               = {m['cost']:.10g}",
            f"    R-squared          = {m['r2']:.6f}",
            f"    RMSE / MAE         = {m['rmse']:.6g} / {m['mae']:.6g}",
            f"    AIC / BIC          = {m['aic']:.4f} / {m['bic']:.4f}",
            "[[Variables]]",
        ]
        fixed = set(self.options.get("fixed", {}))
        at_bound = set(self.options.get("at_bound", []))
        on_bound = dict(self.options.get("on_bound", {}))
        for k, v in self.params.items():
            se = self.stderr[k]
            side = on_bound.get(k)
            if k in fixed:
                lines.append(f"    {k:<8s} = {v:.8g} (fixed)")
            elif side is not None and not math.isfinite(se):
                lines.append(f"    {k:<8s} = {v:.8g} (at {side} bound)")
            elif side is not None:
                lines.append(f"    {k:<8s} = {v:.8g} +/- {se:.4g} (at {side} bound)")
            elif k in at_bound:
                lines.append(f"    {k:<8s} = {v:.8g} (at bound)")
            elif math.isfinite(se) and v != 0:
                lines.append(f"    {k:<8s} = {v:.8g} +/- {se:.4g} ({abs(se / v) * 100:.2f}%)")
            else:
                lines.append(f"    {k:<8s} = {v:.8g} +/- {se:.4g}")
        prior = self.options.get("prior") or {}
        if prior:
            lines.append("[[Priors]] (Gaussian; the fit is the MAP estimate)")
            lines.extend(f"    {k:<8s} ~ N({m:.6g}, {sd:.4g}^2)" for k, (m, sd) in prior.items())
        if "auto" in self.options:
            lines.extend(auto_report_lines(self.options["auto"]))
        names = [k for k in self.params if k not in fixed]
        idx = {k: i for i, k in enumerate(self.law.param_names)}
        corr = []
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                i, j = idx[names[a]], idx[names[b]]
                d = math.sqrt(self.cov[i, i] * self.cov[j, j])
                if d > 0 and math.isfinite(d):
                    c = self.cov[i, j] / d
                    if abs(c) > 0.1:
                        corr.append((abs(c), f"    C({names[a]}, {names[b]}) = {c:+.4f}"))
        if corr:
            lines.append("[[Correlations]] (|C| > 0.1)")
            lines.extend(s for _, s in sorted(corr, reverse=True))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (versioned)."""
        return {
            "format": "lawfit-fit",
            "format_version": FORMAT_VERSION,
            "lawfit_version": __version__,
            "law": self.law.to_dict(),
            "params": self.params,
            "stderr": {k: _json_float(v) for k, v in self.stderr.items()},
            "cov": [[_json_float(x) for x in row] for row in np.asarray(self.cov)],
            "metrics": {k: _json_float(v) for k, v in self.metrics.items()},
            "success": self.success,
            "message": self.message,
            "options": self.options,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fit as versioned JSON, atomically (temp file + rename)."""
        write_json_atomic(path, self.to_dict())


def _from_json_float(v: Any) -> float:
    if isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise LawfitInputError(f"expected a number in the fit file, got {v!r}")
    return float(v)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file in the same folder and a rename."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, allow_nan=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_fit(path: str | os.PathLike[str]) -> FitResult:
    """Read a fit saved by :meth:`FitResult.save`.

    Raises
    ------
    LawfitInputError
        The file is truncated, malformed, larger than 16 MiB, or of another format version.
    """
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_FIT_FILE_BYTES:
        raise LawfitInputError(f"{p} is {size} bytes; a saved fit is at most {MAX_FIT_FILE_BYTES}")
    try:
        data = json.loads(p.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LawfitInputError(f"{p} is not a lawfit fit file (invalid JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != "lawfit-fit":
        raise LawfitInputError(f"{p} is not a lawfit fit file")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise LawfitInputError(
            f"{p} has format_version {version!r}; this lawfit reads version {FORMAT_VERSION}"
        )
    try:
        law = law_from_dict(data["law"])
        params = {k: _from_json_float(data["params"][k]) for k in law.param_names}
        stderr = {k: _from_json_float(data["stderr"][k]) for k in law.param_names}
        cov = np.array([[_from_json_float(x) for x in row] for row in data["cov"]], dtype=float)
        metrics = {str(k): _from_json_float(v) for k, v in data["metrics"].items()}
        success, message, options = data["success"], data["message"], data["options"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise LawfitInputError(f"{p} is missing or has a malformed field: {exc!r}") from exc
    p_ = len(law.param_names)
    if cov.shape != (p_, p_):
        raise LawfitInputError(f"{p}: cov has shape {cov.shape}, expected {(p_, p_)}")
    if not isinstance(success, bool) or not isinstance(message, str) or not isinstance(options, dict):
        raise LawfitInputError(f"{p}: success/message/options have the wrong types")
    result = FitResult(law, params, stderr, cov, metrics, success, message, options)
    _check_fit_file(p, data, result)
    return result


def _check_fit_file(p: Path, data: Mapping[str, Any], result: FitResult) -> None:
    """Refuse what a saved fit never holds: unknown keys, parameters outside the law's bounds."""
    known = set(result.to_dict())
    unknown = sorted(set(data) - known)
    if unknown:
        raise LawfitInputError(f"{p} has unknown keys {unknown}; a lawfit fit file holds {sorted(known)}")
    names = list(result.law.param_names)
    for field_name in ("params", "stderr"):
        extra = sorted(set(data[field_name]) - set(names))
        if extra:
            raise LawfitInputError(
                f"{p}: {field_name} has unknown parameters {extra}; {result.law.name} has {names}"
            )
    if _is_point_law(result.law):
        return  # point laws save public parameters; their bounds are in solver coordinates
    bounds = dict(result.law.bounds())
    saved = result.options.get("bounds")
    if isinstance(saved, Mapping):
        for k, b in saved.items():
            if k in bounds and isinstance(b, (list, tuple)) and len(b) == 2:
                bounds[k] = (_from_json_float(b[0]), _from_json_float(b[1]))
    for k, v in result.params.items():
        lo, hi = bounds.get(k, (-math.inf, math.inf))
        if not math.isfinite(v) or not lo <= v <= hi:
            raise LawfitInputError(
                f"{p}: parameter {k} = {v!r} is outside the {result.law.name} law's bounds [{lo}, {hi}]"
            )


def _is_point_law(law: Law) -> bool:
    return isinstance(law, PointLaw)


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("DataFrame output needs pandas: pip install pandas") from exc
    return pd


def _as_curves(data: Any) -> list[Curve]:
    if isinstance(data, Curve):
        return [data]
    if _is_frame(data):
        return [Curve.from_frame(data)]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) and data:
        if all(isinstance(c, Curve) for c in data):
            return list(data)
    raise LawfitTypeError("curves must be a Curve or a non-empty list of Curve objects")


def _is_frame(data: Any) -> bool:
    """A pandas or polars DataFrame (checked by module name: neither library is imported)."""
    mod = type(data).__module__.split(".")[0]
    return mod in ("pandas", "polars") and hasattr(data, "columns")


def fit(
    law: Law | str,
    curves: Curve | Sequence[Curve] | None = None,
    *,
    loss: Any = None,
    robust: str | None = None,
    delta: float = 1e-3,
    space: str | None = None,
    weights: Any = None,
    fix: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    starts: Any = None,
    absolute_sigma: bool = False,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-10,
    max_evals: int = 2000,
    progress: bool | Callable[[int, int], None] | None = None,
    N: Any = None,
    D: Any = None,
    x: Any = None,
    y: Any = None,
    nan_policy: str = "raise",
    prior: Any = None,
    trace: Callable[[dict[str, Any]], object] | None = None,
) -> FitResult:
    """Fit a law to training curves, or to data points, by multi-start Levenberg–Marquardt in Rust.

    The objective is Σ wᵢ·ρ(rᵢ) over every logged point of every curve (shared parameters), with
    rᵢ = log L̂ − log L (``space="log"``, the default of loss laws) or L̂ − L, and ρ the robust
    loss of ``scipy.optimize.least_squares(loss=..., f_scale=delta)``.

    Laws of data points take their data as keywords instead of curves:
    ``fit(ChinchillaLaw(), N=N, D=D, loss=L)`` (``loss`` is then the array of observed losses
    and the robust loss comes from ``robust``), ``fit(PowerLaw(), x=x, y=y)``.

    Parameters
    ----------
    law : Law or str
        The law, e.g. ``MomentumLaw()``, or its name (``"momentum"``, ``"multipower"``, ``"fsl"``,
        ``"convex-bound"``), or ``"auto"``: fit every loss-curve law, score each on held-out curves
        and held-out horizons, and keep the momentum law unless another law predicts better on
        both; see :class:`lawfit.auto.AutoLaw`.
    curves : Curve or list of Curve
        The data; every point counts once. Not used with data keywords.
    loss : str or array_like, optional
        With curves: the robust loss ρ, one of {"huber", "linear", "soft_l1", "cauchy"}, default
        "huber". With data keywords: the observed values, shape (n,) (same as ``y``), or, when
        ``y`` is given, the robust loss name.
    robust : {"huber", "linear", "soft_l1", "cauchy"}, optional
        Robust loss of a data-point fit (default: the law's ``default_loss``, "huber" for
        ``ChinchillaLaw``, "linear" for ``PowerLaw`` and ``PurePowerLaw``).
    delta : float, default 1e-3
        Scale of the robust loss (scipy's ``f_scale``), in residual units.
    space : {"log", "linear"}, optional
        Residual space (default: the law's, ``"log"`` for loss laws).
    weights : array_like, shape (n_points,), optional
        Non-negative per-point weights, curves concatenated.
    fix : dict, optional
        Parameters held at the given values.
    bounds : dict, optional
        (lower, upper) per parameter, overriding the law's defaults.
    starts : array_like, shape (k, p) or dict, optional
        Start points (default: the law's grid plus data-driven starts). Fixed parameters are set
        to their fixed value in every start.
    absolute_sigma : bool, default False
        As in ``curve_fit``: if true, the covariance is not scaled by the residual variance.
    ftol, xtol, gtol : float
        Solver tolerances (see :mod:`lawfit`'s LM documentation).
    max_evals : int, default 2000
        Evaluation budget per start.
    progress : bool or callable, optional
        Show a progress bar of the multi-start (default: only when stderr is a terminal and rich is
        installed), or a callable ``progress(done, total)`` called as starts finish.
    N, D : array_like, shape (n,), optional
        Model sizes (parameters) and training tokens of each point (``ChinchillaLaw``).
    x, y : array_like, shape (n,), optional
        Abscissa and observed values (``PowerLaw``, ``PurePowerLaw``).
    nan_policy : {"raise", "omit"}, default "raise"
        Data-point fits: raise on a non-finite value (naming it), or drop those points.
    prior : dict or FitResult, optional
        Gaussian priors ``{name: (mean, sd)}`` (public parameters, their units), or an earlier
        fit whose values and finite standard errors become priors of the parameters both laws
        share. The fit then returns the MAP estimate, and its covariance includes the prior
        (``(H/s² + Σ⁻¹)⁻¹``, with s² the residual variance of the unpenalised fit; see
        :mod:`lawfit.priors`). ``metrics["cost"]`` then includes the prior term.
    trace : callable, optional
        Called once per run of the Rust solver (a fit is one run, or several: the stages of a
        coarse-to-fine fit of a long log, the nested fit of an extended momentum law, the MAP
        refit of a prior, every law of ``"auto"``) with a dict: ``solver`` (the Rust function),
        ``steps`` (longest schedule; curve laws) and ``points`` of that stage's problem,
        ``starts``, ``wall`` and ``cpu`` (seconds, this process), ``n_evals``, ``n_iter``
        (accepted steps), ``cost`` and ``success`` of its best start. For profiling; the fit is
        the same with or without it.

    Returns
    -------
    FitResult
        Non-convergence is reported by ``success=False`` and a :class:`ConvergenceWarning`.
        Point laws report their public parameters (e.g. ``E, A, B, alpha, beta``) and keep the
        solver-coordinate estimates in ``options["solver"]``.
    """
    if isinstance(law, str):
        law = resolve_law(law)
    if not isinstance(law, Law):
        raise LawfitTypeError(f"law must be a lawfit Law instance or a law name, got {type(law).__name__}")
    if isinstance(law, AutoLaw):
        with tracing(trace):
            return fit_auto(law, _as_curves(curves), fit, loss=loss, robust=robust, delta=delta, space=space,
                            weights=weights, absolute_sigma=absolute_sigma, ftol=ftol, xtol=xtol, gtol=gtol,
                            max_evals=max_evals, progress=progress)
    data_kw = {k: v for k, v in (("N", N), ("D", D), ("x", x)) if v is not None}
    loss_is_data = loss is not None and not isinstance(loss, str)
    if data_kw or y is not None or loss_is_data:
        if curves is not None:
            raise LawfitInputError("pass either curves or data keywords (N=, D=, x=, y=), not both")
        if not isinstance(law, PointLaw):
            raise LawfitInputError(f"{type(law).__name__} is fitted to curves, not to data keywords")
        if y is not None and loss_is_data:
            raise LawfitInputError("pass the observed values once: as y= or as loss=")
        if y is None and not loss_is_data:
            raise LawfitInputError("pass the observed values as loss= (an array) or y=")
        if isinstance(loss, str):
            if robust is not None and robust != loss:
                raise LawfitInputError(f"loss={loss!r} and robust={robust!r} disagree; pass robust= only")
            robust = loss
        fd = point_data(law, data_kw, y if y is not None else loss, weights=weights, nan_policy=nan_policy)
        robust = law.default_loss if robust is None else robust
        return _fit_data(law, fd, robust, delta=delta, space=space, fix=fix, bounds=bounds, starts=starts,
                         absolute_sigma=absolute_sigma, ftol=ftol, xtol=xtol, gtol=gtol, max_evals=max_evals,
                         progress=progress, prior=prior, trace=trace)
    if robust is not None:
        if loss is not None and loss != robust:
            raise LawfitInputError(f"loss={loss!r} and robust={robust!r} disagree; pass one of them")
        loss = robust
    if loss is None:
        loss = "huber"
    if isinstance(law, PointLaw):
        names = ", ".join(f"{k}=" for k in law.data_names)
        raise LawfitInputError(
            f"{type(law).__name__} is fitted to data points: pass {names} and loss= (or y=)"
        )
    fd = curve_data(law, _as_curves(curves), weights)
    return _fit_data(law, fd, loss, delta=delta, space=space, fix=fix, bounds=bounds, starts=starts,
                     absolute_sigma=absolute_sigma, ftol=ftol, xtol=xtol, gtol=gtol, max_evals=max_evals,
                     progress=progress, prior=prior, trace=trace)


def curve_data(law: Law, curves: list[Curve], weights: Any) -> FitData:
    """The curve path's :class:`~lawfit._stats.FitData`: every logged point of every curve."""
    targets = curves[0].loss if len(curves) == 1 else np.concatenate([c.loss for c in curves])
    w = check_weights(weights, targets.size)
    warmups = {c.warmup_steps for c in curves}
    return FitData(
        kind="curves", data=curves, targets=targets, weights=w, bounds=law.data_bounds(curves),
        default_starts=lambda lower, upper: law.default_starts(curves),
        solve=lambda **kw: law.fit_core(curves, targets, w, **kw),
        predict=lambda params: law.predict_curves(params, curves),
        positive_hint="positive losses (space='linear')",
        # the curves' warmup (None when they differ): FitResult.predict applies it to raw arrays
        info={"curves": [c.name for c in curves],
              "warmup_steps": curves[0].warmup_steps if len(warmups) == 1 else None},
        progress_bar=True,
    )


def _fit_data(
    law: Law,
    fd: FitData,
    loss: Any,
    *,
    delta: float,
    space: str | None,
    fix: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
    starts: Any,
    absolute_sigma: bool,
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    progress: bool | Callable[[int, int], None] | None,
    prior: Any,
    trace: Callable[[dict[str, Any]], object] | None = None,
) -> FitResult:
    """The one pipeline of :func:`fit` after the data: options, starts, solve (MAP with a prior),
    and the FitResult (covariance, metrics, bound hits, warnings, options, refit spec)."""
    loss_name = "robust" if fd.kind == "points" else "loss"
    loss, space = check_loss_space(loss, space, law, loss_name=loss_name)
    delta = check_delta(delta, loss)
    check_positive(fd.targets, space == "log" or fd.positive_always, fd.positive_hint)
    max_evals = check_max_evals(max_evals)
    names = law.param_names
    n = fd.targets.size
    lower_pub, upper_pub, fixed = _bounds_and_fixed(law, bounds, fix, fd.bounds)
    n_free = len(names) - len(fixed)
    if n < n_free:
        raise LawfitInputError(f"{n} data points cannot determine {n_free} free parameters")
    start_arr, lower, upper, fixed_mask = prepare_starts(law, starts, fd.default_starts, lower_pub, upper_pub,
                                                         fixed)
    bar = auto_bar(f"fitting {law.name}", progress) if fd.progress_bar and not callable(progress) else None
    callback = progress if callable(progress) else bar
    extra: dict[str, Any] = {"progress": callback} if callback is not None and law.reports_progress else {}
    solver_kw: dict[str, Any] = dict(lower=lower, upper=upper, fixed=fixed_mask, loss=loss, delta=delta,
                                     space=space, ftol=float(ftol), xtol=float(xtol), gtol=float(gtol),
                                     max_evals=max_evals)
    prior_map = normalize_prior(prior, names, fixed)
    s2 = None
    vectors = None
    with tracing(trace), bar if bar is not None else contextlib.nullcontext():
        rep = fd.solve(starts=start_arr, **solver_kw, **extra)
        if prior_map is not None:
            def run(starts_: np.ndarray, prior_vectors: tuple[list[float], list[float]]) -> dict[str, Any]:
                return fd.solve(starts=starts_, prior=prior_vectors, **solver_kw)

            def to_solver(v: np.ndarray) -> np.ndarray:
                return law.to_solver(v, name="prior")

            rep, s2 = refit_with_prior(run, rep, names, prior_map, n=n, n_free=n_free,
                                       absolute_sigma=absolute_sigma, lower=lower, upper=upper,
                                       to_solver=to_solver, derivative=law.solver_derivative)
            vectors = solver_prior(names, prior_map, s2, to_solver=to_solver,
                                   derivative=law.solver_derivative)
    sol = solution(law, rep, lower, upper, fixed, n=n, absolute_sigma=absolute_sigma, s2=s2, stacklevel=3)
    metrics = fit_metrics(rep, lambda: fd.predict(sol.params), fd.targets, n_free)
    options = {
        "loss": loss,
        "delta": delta,
        "space": space,
        "fixed": fixed,
        # the public bounds, widened to take in the fixed values (as the solver's are)
        "bounds": {k: [_json_float(min(lo, fixed.get(k, lo))), _json_float(max(hi, fixed.get(k, hi)))]
                   for k, lo, hi in zip(names, lower_pub, upper_pub, strict=True)},
        "status": rep["status"],
        "at_bound": sol.at_bound,
        "on_bound": sol.on_bound,
        **(fd.info or {}),
        **({"solver": {"names": list(fd.solver_names), "params": [float(v) for v in sol.vec_solver],
                       "stderr": [_json_float(v) for v in sol.stderr_solver]}} if fd.solver_names else {}),
        "prior": prior_to_json(prior_map),
    }
    spec = RefitSpec(kind=fd.kind, data=fd.data, targets=fd.targets, weights=fd.weights, best=sol.vec_solver,
                     lower=lower, upper=upper, fixed=fixed_mask, loss=loss, delta=delta, space=space,
                     ftol=float(ftol), xtol=float(xtol), gtol=float(gtol), max_evals=max_evals, prior=vectors)
    return FitResult(law, sol.params, sol.stderr, sol.cov, metrics, bool(rep["success"]), str(rep["message"]),
                     options, _refit=spec)
