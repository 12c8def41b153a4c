"""Slow, obviously-correct NumPy references that the Rust kernels are tested against.

Each follows the paper's formula literally (loops or closed forms), trading speed for clarity.
"""

from __future__ import annotations

import numpy as np


def effective_lr(lr: np.ndarray, warmup_steps: int, warmup: str) -> tuple[np.ndarray, int]:
    """The LR the areas see, and the first step index that counts (spec §1 warmup modes)."""
    lr = np.asarray(lr, dtype=np.float64).copy()
    w = warmup_steps
    if warmup == "as_peak" and w > 0:
        lr[:w] = lr[: w + 1].max()
        return lr, 0
    if warmup == "exclude":
        return lr, w
    return lr, 0


def areas_loop(lr, decay: float, warmup_steps: int = 0, warmup: str = "as_peak"):
    """S1, S2 by the literal recurrence m_i = λ m_{i−1} + (η_{i−1} − η_i), one step at a time."""
    eff, start = effective_lr(lr, warmup_steps, warmup)
    n = len(eff)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    if start >= n:
        return s1, s2
    m = 0.0
    acc1 = acc2 = 0.0
    prev = eff[start]
    for i in range(start, n):
        m = decay * m + (prev - eff[i])
        acc1 += eff[i]
        acc2 += m
        prev = eff[i]
        s1[i] = acc1
        s2[i] = acc2
    return s1, s2


def s2_closed_form(lr, decay: float) -> np.ndarray:
    """S2(s) = Σ_{k≤s} (η_{k−1} − η_k)·(1 − λ^{s−k+1})/(1 − λ), η_0 := η_1, O(n²)."""
    lr = np.asarray(lr, dtype=np.float64)
    drops = np.concatenate([[0.0], lr[:-1] - lr[1:]])
    n = len(lr)
    out = np.zeros(n)
    for s in range(n):
        k = np.arange(s + 1)
        weight = np.array([np.sum(decay ** np.arange(s - kk + 1)) for kk in k])
        out[s] = np.sum(drops[: s + 1] * weight)
    return out


def ds2_ddecay_loop(lr, decay: float, warmup_steps: int = 0, warmup: str = "as_peak"):
    """dS2/dλ by q_i = m_{i−1} + λ q_{i−1}, Σ q."""
    eff, start = effective_lr(lr, warmup_steps, warmup)
    n = len(eff)
    out = np.zeros(n)
    if start >= n:
        return out
    m = q = acc = 0.0
    prev = eff[start]
    for i in range(start, n):
        q = m + decay * q
        m = decay * m + (prev - eff[i])
        prev = eff[i]
        acc += q
        out[i] = acc
    return out


MPL_PARAM_NAMES = ("L0", "A", "alpha", "B", "C", "beta", "gamma")


def mpl_reference(lrs, indices, params) -> np.ndarray:
    """The multi-power law (Luo et al. 2025, arXiv 2503.12811) in the repository's convention,
    vectorised over k: O(T) per logged index.

    ``lrs[k]`` is the LR of index k; for each logged index s,
    S1 = Σ_{τ=0..s} lrs[τ], S_k = Σ_{τ=k..s} lrs[τ],
    LD = Σ_{k=1..s} (lrs[k] − lrs[k−1])·(1 − (1 + C·lrs[k]^(−γ)·S_k)^(−β)) with G = 1 where lrs[k] = 0,
    L̂ = L0 + A·S1^(−α) + B·LD.
    """
    if isinstance(params, dict):
        params = [params[k] for k in MPL_PARAM_NAMES]
    l0, a, alpha, b, c, beta, gamma = (float(x) for x in params)
    lrs = np.asarray(lrs, dtype=np.float64)
    out = np.empty(len(indices))
    for i, s in enumerate(indices):
        s = int(s)
        s1 = lrs[: s + 1].sum()
        eta = lrs[1 : s + 1]  # lrs[k], k = 1..s
        drop = lrs[1 : s + 1] - lrs[:s]  # lrs[k] − lrs[k−1]
        sk = np.cumsum(lrs[s:0:-1])[::-1]  # S_k = Σ_{τ=k..s} lrs[τ]
        positive = eta > 0
        g = np.ones_like(eta)  # lrs[k] = 0: x = ∞, G = 1
        g[positive] = 1.0 - (1.0 + c * eta[positive] ** (-gamma) * sk[positive]) ** (-beta)
        ld = np.sum(drop * g)
        out[i] = l0 + a * s1 ** (-alpha) + b * ld
    return out
# ---- size laws (spec §4–§6) ----------------------------------------------------------------


def huber(r, delta: float) -> np.ndarray:
    """Huber_δ(r) = ½r² for |r| ≤ δ, δ(|r| − δ/2) beyond (spec notation)."""
    a = np.abs(np.asarray(r, dtype=np.float64))
    return np.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))


def chinchilla_loss(params: dict, N, D) -> np.ndarray:
    """L(N, D) = E + A/N^α + B/D^β, literally."""
    N = np.asarray(N, dtype=np.float64)
    D = np.asarray(D, dtype=np.float64)
    return params["E"] + params["A"] / N ** params["alpha"] + params["B"] / D ** params["beta"]


def chinchilla_huber_objective(params: dict, N, D, L, delta: float = 1e-3) -> float:
    """Σ Huber_δ(log L̂ − log L), the objective of Besiroglu et al. 2024."""
    return float(np.sum(huber(np.log(chinchilla_loss(params, N, D)) - np.log(L), delta)))


def power_law(x, a: float, b: float, c: float) -> np.ndarray:
    """y = a·x^(−b) + c."""
    return a * np.asarray(x, dtype=np.float64) ** (-b) + c


def loglog_ols(x, y) -> tuple[float, float]:
    """(X_c, α) of L = (X_c/X)^α by ``np.polyfit`` of log10 L on log10 X (TSFM notebooks)."""
    slope, intercept = np.polyfit(np.log10(x), np.log10(y), 1)
    alpha = -slope
    return float(10 ** (intercept / alpha)), float(alpha)


def crossing_pure_power(xc_a: float, alpha_a: float, xc_b: float, alpha_b: float) -> float:
    """x* of (X_a/x)^α_a = (X_b/x)^α_b: ln x* = (α_a ln X_a − α_b ln X_b)/(α_a − α_b)."""
    return float(np.exp((alpha_a * np.log(xc_a) - alpha_b * np.log(xc_b)) / (alpha_a - alpha_b)))


def fsl_reference(lr, indices, warmup: int, params) -> np.ndarray:
    """The functional scaling law (spec §12) at 0-based logged indices, summing every drop literally.

    T(k) = Σ_{τ≤k} lr[τ]; drops d_i = lr[i−1] − lr[i] for i ≥ max(warmup, 1).
    """
    l0, c1, c2, c3, c4, s, gamma = (float(v) for v in params)
    lr = np.asarray(lr, dtype=np.float64)
    t = np.cumsum(lr)
    out = []
    for k in indices:
        ld = 0.0
        for i in range(max(warmup, 1), k + 1):
            d = lr[i - 1] - lr[i]
            if d != 0.0:
                ld += d * (c3 + t[i] ** (-s)) * (1.0 - (1.0 + c4 * (t[k] - t[i])) ** (-gamma))
        out.append(l0 + c1 * t[k] ** (-s) - c2 * ld)
    return np.array(out)


def convex_bound_reference(lr, indices, d: float, g) -> np.ndarray:
    """Ω_T of the convex last-iterate bound (spec §13), literally, for T = index + 1 of each index.

    ``g`` is the per-step G_t (array like ``lr``). A step with η = 0 takes the bound of the last
    step with η > 0 (the iterate does not move).
    """
    lr = np.asarray(lr, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    out = []
    for k in indices:
        t = int(np.nonzero(lr[: k + 1] > 0)[0][-1]) + 1
        e = lr[:t]
        q = e**2 * g[:t] ** 2
        total = e.sum()
        om = d * d / (2 * total) + q.sum() / (2 * total)
        for kk in range(1, t):  # the spec's k = 1..T−1 (1-based)
            om += 0.5 * e[kk - 1] / e[kk:].sum() * q[kk - 1:].sum() / e[kk - 1:].sum()
        out.append(om)
    return np.array(out)
