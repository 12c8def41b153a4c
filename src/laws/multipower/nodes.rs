//! The node grid of the exponential sum (spacing, truncations) and the node factors e^(−r_j·y)
//! of a step from Q exponentials.

use super::Params;
use crate::fastmath::exp_fast;
use crate::special::{digamma, ln_gamma, quadrature_bound};

/// Target bound of the quadrature's relative error in f.
const EPS_QUAD: f64 = 1e-8;
/// Bound of the absolute error in f from nodes dropped above the grid.
const EPS_HI: f64 = 1e-9;
/// Bound of the absolute error in f from the closed-form third-order tail below the grid.
const EPS_LO: f64 = 1e-9;
/// Largest z of the tail below the grid (its series in z is cut after z³).
const TAIL_Z: f64 = 1e-3;
/// Beyond this many nodes (absurd parameters) the compressed path defers to the exact one.
const MAX_NODES: usize = 4096;
/// Nodes per link of the chain: node j+Q has rate 2^p times node j's (ρ^Q = 2^p).
const Q: usize = 6;
/// Chain exponents p, coarsest spacing h = p·ln 2/Q first.
const SPACINGS: [u32; 4] = [4, 3, 2, 1];

/// Nodes of the exponential sum for one curve and one parameter vector.
#[derive(Debug)]
pub(super) struct Grid {
    /// Chain: node j+Q has rate 2^p times node j's.
    p: u32,
    pub(super) h: f64,
    /// Absolute index of node 0 (v_0 = j0·h).
    pub(super) j0: i64,
    /// r_j = e^{v_j}.
    pub(super) r: Vec<f64>,
    /// v_j = ln r_j.
    pub(super) v: Vec<f64>,
    /// h/Γ(β)·r_j^β.
    pub(super) c: Vec<f64>,
    /// ln Z: a node with z = r·lr^γ > Z gets no input.
    ln_zcut: f64,
    /// h/Γ(β).
    pub(super) k: f64,
    /// ψ(β).
    pub(super) psi: f64,
    /// r_0 and r_0^β.
    pub(super) r0: f64,
    pub(super) r0_beta: f64,
    /// 1/(ρ^{β+e} − 1) and h·ρ^{β+e}/(ρ^{β+e} − 1) for e = 0..TAIL_ORDER+3 (the tail's series).
    pub(super) inv_den: [f64; TAIL_ORDER + 4],
    pub(super) dden: [f64; TAIL_ORDER + 4],
}

/// Order of the closed-form tail below the grid in r·C·S.
pub(super) const TAIL_ORDER: usize = 3;

impl Grid {
    /// `ln_range`: smallest and largest ln lr over the sources; `s_max`: largest S_k(s).
    pub(super) fn new(pr: &Params, ln_range: (f64, f64), s_max: f64) -> Option<Self> {
        let beta = pr.beta;
        let spacing = |p: u32| p as f64 * std::f64::consts::LN_2 / Q as f64;
        let p = SPACINGS
            .iter()
            .copied()
            .find(|&p| quadrature_bound(beta, spacing(p)) <= EPS_QUAD)
            .unwrap_or(SPACINGS[SPACINGS.len() - 1]);
        let h = spacing(p);
        let rho = h.exp();
        let k = (-ln_gamma(beta)).exp() * h;
        // Upper cut: Σ_{j≥J} K z_j^β e^{−z_j} ≤ K Z^β e^{−Z} / (1 − ρ^β e^{−(ρ−1)Z}) ≤ EPS_HI.
        let mut z = beta.max(1.0);
        loop {
            let ratio = (beta * h - (rho - 1.0) * z).exp();
            if ratio < 1.0 && k * (beta * z.ln() - z).exp() / (1.0 - ratio) <= EPS_HI {
                break;
            }
            z += 0.5;
            if z > 1e4 {
                return None;
            }
        }
        let ln_zcut = z.ln();
        let (lg_lo, lg_hi) = {
            let (a, b) = (pr.gamma * ln_range.0, pr.gamma * ln_range.1);
            (a.min(b), a.max(b))
        };
        // Lower cut: the tail's Taylor remainder in r·C·S,
        // K·g^β·(C·S)^{M+1}·r_0^{M+1+β} / ((M+1)!·(ρ^{M+1+β} − 1)) ≤ EPS_LO,
        // and z_0 = r_0·g ≤ TAIL_Z for the tail's series in z.
        let cs = pr.c * s_max;
        let mut v_lo = TAIL_Z.ln() - lg_hi;
        if cs > 0.0 {
            let m1 = (TAIL_ORDER + 1) as f64;
            let fact: f64 = (1..=TAIL_ORDER + 1).map(|i| i as f64).product();
            let num = EPS_LO * fact * ((m1 + beta) * h).exp_m1() / k;
            v_lo = v_lo.min((num.ln() - beta * lg_hi - m1 * cs.ln()) / (m1 + beta));
        }
        let v_hi = ln_zcut - lg_lo;
        if !(v_lo.is_finite() && v_hi.is_finite()) {
            return None;
        }
        let j0 = (v_lo / h).floor() as i64;
        let j_top = (v_hi / h).floor() as i64;
        let n = (j_top - j0 + 1).max(Q as i64) as usize;
        if n > MAX_NODES {
            return None;
        }
        let v: Vec<f64> = (0..n).map(|j| (j0 + j as i64) as f64 * h).collect();
        let r: Vec<f64> = v.iter().map(|v| v.exp()).collect();
        let c = v.iter().map(|v| k * (beta * v).exp()).collect();
        let mut inv_den = [0.0; TAIL_ORDER + 4];
        let mut dden = [0.0; TAIL_ORDER + 4];
        for (e, (d, dd)) in inv_den.iter_mut().zip(dden.iter_mut()).enumerate() {
            let den = ((beta + e as f64) * h).exp_m1();
            *d = 1.0 / den;
            *dd = h * (den + 1.0) / den;
        }
        let v0 = j0 as f64 * h;
        Some(Self {
            p,
            h,
            j0,
            r,
            v,
            c,
            ln_zcut,
            k,
            psi: digamma(beta),
            r0: v0.exp(),
            r0_beta: (beta * v0).exp(),
            inv_den,
            dden,
        })
    }

    /// Last node (relative index) that gets input from an LR with γ·ln lr = `lg`, if any.
    #[inline]
    pub(super) fn input_top(&self, lg: f64) -> Option<usize> {
        let j = ((self.ln_zcut - lg) / self.h).floor() as i64 - self.j0;
        (j >= 0).then(|| (j as usize).min(self.r.len() - 1))
    }

    /// out[j] = e^{−r_j·x} for j < out.len(), from Q exponentials and the exact recurrence
    /// e^{−2^p·y} = (e^{−y})^{2^p}: in Q lanes, first on μ = 1 − e^{−y} as μ ← 1 − (1 − μ)^{2^p}
    /// = μ(2 − μ)… (no cancellation for tiny rates), then, once every lane has μ ≥ THETA, on
    /// e^{−y} itself by squaring (absolute error ≲ 1e-16/THETA).
    // Index loops (see `exp_chain`).
    #[allow(clippy::needless_range_loop)]
    #[inline]
    pub(super) fn exp_neg_nodes(&self, x: f64, out: &mut [f64]) {
        if out.is_empty() {
            return;
        }
        let mut mu = [0.0; Q];
        let r = &self.r[..Q];
        if r[Q - 1] * x < SMALL_X {
            for j in 0..Q {
                mu[j] = one_minus_exp_small(r[j] * x);
            }
        } else {
            for j in 0..Q {
                mu[j] = one_minus_exp(r[j] * x);
            }
        }
        match self.p {
            4 => exp_chain::<4>(mu, out),
            3 => exp_chain::<3>(mu, out),
            2 => exp_chain::<2>(mu, out),
            _ => exp_chain::<1>(mu, out),
        }
    }
}

/// From this 1 − e^{−y} on (in every lane), the chain squares e^{−y} directly.
const THETA: f64 = 0.01;

/// out[j] = e^{−y_j} given μ = 1 − e^{−y} of the first Q lanes and y_{j+Q} = 2^P·y_j.
// Index loops over Q-arrays, no iterator adapters: this is the hottest loop of an evaluation and
// must not depend on the inlining of `zip`/`map` (which builds without LTO do not always do).
#[allow(clippy::needless_range_loop)]
#[inline(always)]
fn exp_chain<const P: u32>(mut mu: [f64; Q], out: &mut [f64]) {
    let full = out.len() / Q;
    let mut link = 0;
    // μ form while the smallest μ of the link (lane 0: lanes hold increasing rates) is < THETA.
    let mut switched = false;
    let mut e = [0.0; Q];
    while link < full {
        let chunk = &mut out[link * Q..(link + 1) * Q];
        for j in 0..Q {
            chunk[j] = 1.0 - mu[j];
        }
        link += 1;
        if mu[0] >= THETA {
            e.copy_from_slice(chunk);
            switched = true;
            break;
        }
        for m in &mut mu {
            for _ in 0..P {
                *m *= 2.0 - *m;
            }
        }
    }
    // Then e^{−y} by squaring; `e` ends as the link after the last full chunk.
    if switched {
        while link < full {
            square::<P>(&mut e);
            out[link * Q..(link + 1) * Q].copy_from_slice(&e);
            link += 1;
        }
        square::<P>(&mut e);
    } else {
        for j in 0..Q {
            e[j] = 1.0 - mu[j];
        }
    }
    let rest = &mut out[full * Q..];
    let len = rest.len();
    rest.copy_from_slice(&e[..len]);
}

/// e ← e^(2^P) in every lane.
#[inline(always)]
fn square<const P: u32>(e: &mut [f64; Q]) {
    for y in e.iter_mut() {
        for _ in 0..P {
            *y *= *y;
        }
    }
}

/// Below this, 1 − e^{−x} is its Taylor polynomial of degree 6 (relative error ≤ x⁶/5040 < 2e-16).
const SMALL_X: f64 = 0.01;

/// 1 − e^{−x} for 0 ≤ x < SMALL_X (Horner form of the Taylor polynomial).
#[inline(always)]
fn one_minus_exp_small(x: f64) -> f64 {
    const C: [f64; 6] = [1.0, -1.0 / 2.0, 1.0 / 6.0, -1.0 / 24.0, 1.0 / 120.0, -1.0 / 720.0];
    x * (C[0] + x * (C[1] + x * (C[2] + x * (C[3] + x * (C[4] + x * C[5])))))
}

/// 1 − e^{−x} for x ≥ 0 (branch-free: both forms, then a select; relative error < 1e-14).
#[inline(always)]
pub(super) fn one_minus_exp(x: f64) -> f64 {
    let small = one_minus_exp_small(x);
    let large = 1.0 - exp_neg(x);
    if x < SMALL_X {
        small
    } else {
        large
    }
}

/// e^{−x} for x ≥ 0 (see [`exp_fast`]; flushes to 0 beyond x = 700).
#[inline(always)]
pub(super) fn exp_neg(x: f64) -> f64 {
    exp_fast(-x)
}
