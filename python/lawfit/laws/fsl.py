"""The functional scaling law (Li et al. 2025); its math runs in src/laws/fsl.rs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from lawfit import _core
from lawfit._options import core_curves, run_solver
from lawfit.curve import Curve
from lawfit.laws.base import Law, block_weights, curve_size, power_drop_grid, schedule_query


def infer_warmup(lr: np.ndarray) -> int:
    """Warmup length of a schedule: the step after its first maximum (0 when it starts at its peak).

    LR changes before it are the warmup ramp, not drops of the law.
    """
    if lr.size == 0:
        return 0
    best = int(np.argmax(lr))
    return 0 if best == 0 else best + 1


def warmup_of(curve: Curve) -> int:
    """A curve's warmup: its ``warmup_steps`` when set, else :func:`infer_warmup` of its LR."""
    return int(curve.warmup_steps) if curve.warmup_steps > 0 else infer_warmup(curve.lr)


def block_curve(c: Curve, k: int) -> Curve:
    """The curve on a schedule of k-step blocks (LR = block sum), at each block's last logged point.

    The forward area is exact at block ends and the LR drops add up to k times the mean drop. Two
    block edges would add LR changes the schedule does not have: a last partial block is padded
    with the last LR (rather than summing fewer steps, a drop at the end), and the warmup ends one
    block after the block that holds its last step (which mixes the ramp and the peak, a rise).
    """
    n_blocks = -(-c.lr.size // k)
    padded = np.pad(c.lr, (0, n_blocks * k - c.lr.size), mode="edge")
    block_lr = padded.reshape(n_blocks, k).sum(axis=1)
    block = (c.steps - 1) // k
    last = np.ones(block.size, dtype=bool)
    last[:-1] = block[1:] != block[:-1]
    w = warmup_of(c)
    w_blocks = min(-(-w // k) + 1, n_blocks) if w else 0
    return Curve(block[last] + 1, c.loss[last], block_lr, name=c.name, warmup_steps=w_blocks)


def _strided_index(n: int, stride: int) -> np.ndarray:
    """Every ``stride``-th of n point positions, and the last."""
    idx = np.arange(0, n, stride)
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


class FunctionalScalingLaw(Law):
    r"""The functional scaling law of Li et al., NeurIPS 2025 (arXiv 2509.19189, App. B.2 Eq. 30).

    .. math::
        L(k) = L_0 + c_1 T(k)^{-s} - c_2 \sum_{i=W+1}^{k} (\eta_{i-1} - \eta_i)\,(c_3 + T(i)^{-s})
        \left(1 - (1 + c_4 (T(k) - T(i)))^{-\gamma}\right)

    with the intrinsic time :math:`T(k) = \sum_{i \le k} \eta_i` (the forward LR area, warmup ramp
    included) and W the warmup length (a curve's ``warmup_steps``, else the step after the
    schedule's first maximum): warmup rises are not drops. This is the paper's practical
    seven-parameter form (spec §12), not its general kernel form. Parameters ``L0, c1, c2, c3,
    c4, s, gamma``, all ≥ 0.

    Every logged step of a curve is evaluated in O(J·T) by an exponential-sum recurrence along the
    schedule (J ≈ 50 nodes; relative error ≤ ~1e-9, see the Rust module documentation).

    Parameters
    ----------
    exact : bool, default False
        Sum the drops literally (O(K·n) for K LR changes and n logged points).
    """

    name = "fsl"
    #: Schedules longer than this (steps) run the multi-start on a block-summed schedule first.
    COARSE_ABOVE_STEPS: ClassVar[int] = 10_000
    #: Blocks of the coarse schedule (about).
    COARSE_STEPS: ClassVar[int] = 3_000

    def __init__(self, *, exact: bool = False) -> None:
        self.exact = bool(exact)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("L0", "c1", "c2", "c3", "c4", "s", "gamma")

    #: Lower bound of γ. As γ → 0 the saturation 1 − (1 + x)^(−γ) ≈ γ·ln(1 + x) vanishes (c2 grows
    #: as 1/γ: the logarithmic limit of the law), and its evaluation, 1 minus a quadrature of
    #: (1 + x)^(−γ) accurate to ~1e-9, loses relative accuracy as 1e-9/γ: fits that want γ → 0 end
    #: on this bound (and say so) instead of wandering where the gradient is noise.
    GAMMA_MIN: ClassVar[float] = 1e-3

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {
            "L0": (0.0, np.inf),
            "c1": (0.0, np.inf),
            "c2": (0.0, np.inf),
            "c3": (0.0, np.inf),
            "c4": (0.0, np.inf),
            "s": (0.0, 5.0),
            "gamma": (self.GAMMA_MIN, 10.0),
        }

    def options(self) -> dict[str, Any]:
        return {"exact": self.exact}

    def default_starts(self, curves: Sequence[Curve]) -> np.ndarray:
        """Starts from a grid fit of the linear form L0 + c1·T^(−s) − B·(η_max − η_k).

        For each s of a grid, (L0, c1, B) by linear least squares; the best gives L0, c1, s and the
        saturated drop coefficient B ≈ c2·(c3 + T^(−s)). Around it: c3 ∈ {0.1, 1}·T_mid^(−s),
        c4 ∈ {3, 30}/T_end (saturation after ~3–30 % of the run's intrinsic time), γ = 0.5; and
        c3 = T_mid^(−s), c4 = 10/T_end, γ = 2.
        """
        ln_t, drop, y = [], [], []
        t_end, t_mid = 0.0, []
        for c in curves:
            take = np.unique(np.linspace(0, c.steps.size - 1, min(4096, c.steps.size)).astype(np.int64))
            idx = c.steps[take] - 1
            t = np.cumsum(c.lr)[idx]
            keep = t > 0
            ln_t.append(np.log(t[keep]))
            drop.append((c.lr.max() - c.lr[idx])[keep])
            y.append(c.loss[take][keep])
            t_end = max(t_end, float(t[-1]))
            t_mid.append(float(np.median(t[keep])) if keep.any() else 1.0)
        ln_t_a, drop_a, y_a = np.concatenate(ln_t), np.concatenate(drop), np.concatenate(y)
        best = power_drop_grid(ln_t_a, drop_a, y_a, np.linspace(0.05, 2.0, 40))
        l0, c1, s, b = (2.0, 1.0, 0.5, 100.0) if best is None else best
        l0, c1 = max(l0, 1e-3), max(c1, 1e-3)
        b = max(b, 1e-3 / max(float(np.max(drop_a)) if drop_a.size else 1.0, 1e-12))
        tm = max(float(np.median(t_mid)), 1e-12) ** (-s)
        t_end = max(t_end, 1e-12)
        starts = []
        for c3f in (0.1, 1.0):
            c3 = c3f * tm
            c2 = b / (c3 + tm)
            for c4f in (3.0, 30.0):
                starts.append([l0, c1, c2, c3, c4f / t_end, s, 0.5])
        starts.append([l0, c1, b / (2 * tm), tm, 10.0 / t_end, s, 2.0])
        return np.array(starts, dtype=np.float64)

    def _fit_rust(self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None,
                  **kwargs: Any) -> dict[str, Any]:
        core = core_curves(curves, [warmup_of(c) for c in curves])
        return run_solver(_core.fit_fsl, core, targets, weights, exact=self.exact, size=curve_size(curves),
                          **kwargs)

    #: Logged points above which the multi-start runs on an evenly strided subsample.
    SUBSAMPLE_ABOVE: ClassVar[int] = 8192
    #: Points of that subsample (about).
    SUBSAMPLE_POINTS: ClassVar[int] = 2048
    #: Evaluation budget of each start on the coarse problem (the polish gets the caller's).
    COARSE_MAX_EVALS: ClassVar[int] = 300
    #: Evaluations each start gets in the screening (on the coarse problem).
    SCREEN_EVALS: ClassVar[int] = 30
    #: Starts that survive the screening and run to convergence.
    SCREEN_KEEP: ClassVar[int] = 2

    def _coarse_problem(
        self, curves: Sequence[Curve], weights: np.ndarray | None
    ) -> tuple[int, list[Curve], np.ndarray | None, bool]:
        """(block length k, coarse curves, their weights, whether they differ from ``curves``) of
        the multi-start; k = 1 and ``curves`` unchanged when the problem is small."""
        t_max = max(c.lr.size for c in curves)
        k = max(t_max // self.COARSE_STEPS, 2) if t_max > self.COARSE_ABOVE_STEPS else 1
        if k > 1:
            coarse = [block_curve(c, k) for c in curves]
            w: np.ndarray | None = np.concatenate(block_weights([c.steps for c in curves], k, weights))
        else:
            coarse, w = list(curves), weights
        n_coarse = sum(c.steps.size for c in coarse)
        strided = n_coarse > self.SUBSAMPLE_ABOVE
        if strided:
            stride = -(-n_coarse // self.SUBSAMPLE_POINTS)
            w_all = np.ones(n_coarse) if w is None else w
            picked, at = [], 0
            for i, c in enumerate(coarse):
                idx = _strided_index(c.steps.size, stride)
                picked.append(w_all[at + idx])
                at += c.steps.size
                coarse[i] = c.subset(idx)
            # Each kept point stands for `stride` points: the data keep their total weight (against a prior).
            w = np.concatenate(picked) * stride
        return k, coarse, w, k > 1 or strided

    def fit_core(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict.

        The starts run on a cheaper version of the problem, then the best is polished on the full
        data with the caller's tolerances (the reported optimum is always the full objective's;
        ``n_evals`` counts the full-data solve, ``total_evals`` every solve):

        * schedules longer than ``COARSE_ABOVE_STEPS`` are merged into about ``COARSE_STEPS``
          blocks of k steps (LR = the block's sum, at each block's last logged point, weighted by
          the points it merges: T is exact at block ends and drops add up k-fold, so the law keeps
          its form with c2' = c2/k); logs of more than ``SUBSAMPLE_ABOVE`` points keep every m-th
          point (and each curve's last);
        * with more than ``SCREEN_KEEP`` starts, each start first gets ``SCREEN_EVALS``
          evaluations and only the ``SCREEN_KEEP`` lowest objectives run to convergence (each at
          most ``COARSE_MAX_EVALS`` evaluations when the problem was made coarser).
        """
        k, coarse, coarse_w, reduced = self._coarse_problem(curves, weights)
        starts = np.array(kwargs.pop("starts"), dtype=float, copy=True)
        starts[:, 2] /= k
        coarse_kw = dict(kwargs)
        for key in ("lower", "upper"):
            coarse_kw[key] = np.array(kwargs[key], dtype=float)
            coarse_kw[key][2] /= k
        if k > 1 and kwargs.get("prior") is not None:  # c2' = c2/k: its prior acts on the full data only
            mean, weight = kwargs["prior"]
            coarse_kw["prior"] = (list(mean), [0.0 if j == 2 else float(v) for j, v in enumerate(weight)])
        if reduced:
            coarse_kw["max_evals"] = min(kwargs["max_evals"], self.COARSE_MAX_EVALS)
            coarse_targets = np.concatenate([c.loss for c in coarse])
        else:
            coarse_targets, coarse_w = targets, weights
        total_evals = 0
        n_starts = starts.shape[0]
        if n_starts > self.SCREEN_KEEP:
            screen_kw = {**coarse_kw, "max_evals": min(coarse_kw["max_evals"], self.SCREEN_EVALS)}
            costs = []
            for row in starts:
                r = self._fit_rust(coarse, coarse_targets, coarse_w,
                                   starts=np.ascontiguousarray(row[None, :]), **screen_kw)
                total_evals += int(r["n_evals"])
                costs.append(float(r["cost"]) if np.isfinite(r["cost"]) else np.inf)
            keep = np.argsort(np.asarray(costs), kind="stable")[: self.SCREEN_KEEP]
            starts = starts[np.sort(keep)]
        rough = self._fit_rust(coarse, coarse_targets, coarse_w, starts=np.ascontiguousarray(starts),
                               **coarse_kw)
        total_evals += int(rough["n_evals"])
        if not reduced:
            rep = rough
        else:
            x = np.array(rough["params"], dtype=float)
            x[2] *= k
            best = np.clip(x, kwargs["lower"], kwargs["upper"])[None, :]
            rep = self._fit_rust(curves, targets, weights, starts=np.ascontiguousarray(best), **kwargs)
            total_evals += int(rep["n_evals"])
        rep["n_starts"] = n_starts
        rep["n_converged"] = rough["n_converged"]
        rep["total_evals"] = total_evals
        return rep

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return np.asarray(self._at_curves(params, curves, gradients=False))

    def _at_curves(self, params: Mapping[str, float], curves: Sequence[Curve], *, gradients: bool) -> Any:
        """Values at the logged steps of ``curves`` (and, with ``gradients``, the (n, 7) Jacobian)."""
        return _core.fsl_predict(
            core_curves(curves, [warmup_of(c) for c in curves]), self.params_vector(params).tolist(),
            exact=self.exact, gradients=gradients,
        )

    def predict(
        self, params: Mapping[str, float], lr: Any, steps: Any = None, *, warmup_steps: int | None = None
    ) -> np.ndarray:
        """Predicted loss under schedule ``lr`` (array, shape (T,), or Schedule) at 1-based ``steps``.

        ``warmup_steps`` defaults to the Schedule's, else the step after the first LR maximum.
        Steps where T = 0 (nothing trained yet) predict +inf.
        """
        lr_arr, w, query, inverse = schedule_query(lr, steps, warmup_steps)
        if w == 0 and warmup_steps is None:
            w = infer_warmup(lr_arr)
        t = np.cumsum(lr_arr)[query - 1]
        ok = t > 0
        pred = np.full(query.size, np.inf)
        if ok.any():
            pred[ok] = _core.fsl_predict(
                _core.Curves([lr_arr], [query[ok]], [w]), self.params_vector(params).tolist(),
                exact=self.exact,
            )
        return pred if inverse is None else pred[inverse]

