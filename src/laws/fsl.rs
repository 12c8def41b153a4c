//! The functional scaling law (FSL) of Li et al., NeurIPS 2025 (arXiv 2509.19189, App. B.2,
//! Eq. 30), in its practical seven-parameter form, with analytic gradients of its parameters
//! `L0, c1, c2, c3, c4, s, gamma` (in that order).
//!
//! # The law
//!
//! `lr` is the per-step LR array; index k = 0..T−1 is lawfit's step k+1. The intrinsic time is the
//! forward area T(k) = Σ_{τ≤k} lr[τ] (warmup ramp included). At a logged index k:
//!
//! ```text
//! L̂(k) = L0 + c1·T(k)^(−s) − c2·LD(k)
//! LD(k) = Σ_{i=max(W,1)..k} d_i · (c3 + T(i)^(−s)) · (1 − (1 + c4·(T(k) − T(i)))^(−γ)),
//! d_i   = lr[i−1] − lr[i]
//! ```
//!
//! W is the warmup length in steps: the LR rises of the warmup are not drops of the law (the paper
//! fits after warmup). Only the indices with lr[i] ≠ lr[i−1] contribute ("sources"). Re-warmups
//! after W are negative drops, as the law's derivation has them.
//!
//! # Evaluation in O(J·T): an exponential sum along the schedule
//!
//! With f(x) = (1 + x)^(−γ) the Laplace transform (1 + x)^(−γ) = (1/Γ(γ))∫₀^∞ t^(γ−1) e^(−t(1+x)) dt
//! becomes, in v = ln t, f(x) = ∫ φ(v)·e^(−e^v·x) dv with φ(v) = e^(γv − e^v)/Γ(γ). The
//! trapezoid rule on the lattice v_j = j·h turns it into f(x) ≈ Σ_j ω_j e^(−r_j·x), r_j = e^(v_j),
//! ω_j = h·φ(v_j), and every node is a first-order recurrence along the schedule
//! (u = T(k) − T(i) grows by lr[k] per step):
//!
//! ```text
//! E_j(k) = e^(−c4·r_j·lr[k]) · E_j(k−1) + a_k,        Σ_i a_i f(c4·u_ik) ≈ Σ_j ω_j E_j(k)
//! ```
//!
//! **Block compression.** Between two consecutive sources the LR is constant, so a stretch of
//! steps without a source and without a log point is one multiplication by e^(−c4·r_j·Δ), Δ the
//! stretch's LR sum: the cost is O(T) additions plus O(J) per event (source or log point), i.e.
//! O(J·(K + n)) exponential-sum work for K LR changes and n log points. The J node factors of an
//! event cost m = ln 2/h exponentials: r_{j+m} = 2·r_j, so the factor of node j+m is the square of
//! node j's (computed as μ ← μ(2 − μ) on μ = 1 − factor while μ < 0.01, without cancellation).
//!
//! The gradients are exact derivatives of the same sum: recurrences for the sources d_i
//! (∂/∂c3) and −d_i·ln T(i)·T(i)^(−s) (∂/∂s), an u-weighted one F_j = Σ a_i u_ik e^(−c4 r_j u_ik)
//! (∂/∂c4), and node weights ω_j·(v_j − ψ(γ)) (∂/∂γ).
//!
//! Error budget of f, uniform in x ∈ [0, c4·T_max]:
//!
//! * quadrature: relative error ≤ 2·Σ_{m≥1}|Γ(γ + 2πim/h)|/Γ(γ) (Poisson summation); h is the
//!   largest of ln 2/m, m = 1..16, with a bound ≤ 1e-9.
//! * upper truncation: nodes with r_j > γ and ω_j < 1e-15 are dropped (their total is < 1e-14).
//! * lower truncation: the nodes below the grid (r_j·(1 + x_max) ≤ 1e-3) are summed in closed form
//!   to second order in r·(1 + x) (geometric series over the lattice, moments Σ a_i u^m of the
//!   sources); the remainder is ≤ (1e-3)³/6 of their weight.
//!
//! Hence |LD_fast − LD_exact| ≤ ~2e-9·Σ_i |d_i|·(c3 + T(i)^(−s)) (tested against the exact sum).
//! The exact path ([`FslOptions::exact`]) sums the sources literally: O(K·n), parallel over curves.

use crate::areas::{validate_logged_indices, validate_lr};
use crate::error::{Error, Result};
use crate::lm::LmOptions;
use crate::problem::{fill_points, Model, Observations};
use crate::special::{digamma, ln_gamma, quadrature_bound};
use crate::strategy::{self, Fitted, Stop};
use rayon::prelude::*;

/// Number of parameters of the law.
pub const N_PARAMS: usize = 7;

/// Parameter names, in the order of every parameter vector and gradient row.
pub const PARAM_NAMES: [&str; N_PARAMS] = ["L0", "c1", "c2", "c3", "c4", "s", "gamma"];

/// Target bound of the quadrature's relative error.
const EPS_QUAD: f64 = 1e-9;
/// A node above the integrand's peak with a weight below this is dropped.
const EPS_NODE: f64 = 1e-15;
/// Largest r·(1 + x) of the nodes summed in closed form below the grid.
const TAIL_RX: f64 = 1e-3;
/// μ below which node factors are chained on μ = 1 − factor rather than squared.
const THETA: f64 = 0.01;
/// Beyond this many nodes (absurd parameters) the fast path defers to the exact one.
const MAX_NODES: usize = 4096;
/// Smallest γ the evaluation uses (γ = 0 makes every saturation term vanish; the limit is smooth).
const GAMMA_MIN: f64 = 1e-12;

/// One training curve of the law.
#[derive(Debug, Clone, Copy)]
pub struct FslCurve<'a> {
    /// LR of every step (`lr[k]` is the LR of step k+1).
    pub lr: &'a [f64],
    /// 0-based logged indices, strictly increasing.
    pub indices: &'a [usize],
    /// Warmup length W: LR changes at indices < W are not drops of the law.
    pub warmup: usize,
}

/// Options of the evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FslOptions {
    /// Sum the drops literally (O(K·n)) instead of the exponential sum.
    pub exact: bool,
}

/// Per-curve data computed once.
#[derive(Debug, Clone)]
struct CurveData {
    lr: Vec<f64>,
    points: Vec<usize>,
    /// T at each logged point.
    t_pt: Vec<f64>,
    /// Sources: index, drop d_i, T(i).
    src_idx: Vec<usize>,
    src_drop: Vec<f64>,
    src_t: Vec<f64>,
}

/// Shortest warmup W such that LR changes at indices < W are not drops: the index after the
/// first maximum of `lr` (0 when `lr[0]` is the maximum), as for the multi-power law's paper form.
pub fn infer_warmup(lr: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in lr.iter().enumerate() {
        if v > lr[best] {
            best = i;
        }
    }
    if best == 0 {
        0
    } else {
        best + 1
    }
}

impl CurveData {
    fn new(c: usize, curve: &FslCurve<'_>) -> Result<Self> {
        validate_lr(curve.lr)?;
        validate_logged_indices(c, curve.indices, curve.lr.len())?;
        let last = curve.indices.last().copied().map_or(0, |k| k + 1);
        let lr = curve.lr[..last].to_vec();
        let mut t = 0.0;
        let mut comp = 0.0; // Kahan compensation of the prefix sum
        let mut src_idx = Vec::new();
        let mut src_drop = Vec::new();
        let mut src_t = Vec::new();
        let mut t_pt = Vec::with_capacity(curve.indices.len());
        let mut next = 0;
        for (k, &v) in lr.iter().enumerate() {
            let y = v - comp;
            let s = t + y;
            comp = (s - t) - y;
            t = s;
            if k >= curve.warmup.max(1) && v != lr[k - 1] {
                src_idx.push(k);
                src_drop.push(lr[k - 1] - v);
                src_t.push(t);
            }
            if next < curve.indices.len() && curve.indices[next] == k {
                if !(t > 0.0) {
                    return Err(Error::InvalidArgument(format!(
                        "curve {c}: the LR area T is 0 at logged index {k}; drop that point"
                    )));
                }
                t_pt.push(t);
                next += 1;
            }
        }
        Ok(Self { lr, points: curve.indices.to_vec(), t_pt, src_idx, src_drop, src_t })
    }
}

/// The law at the logged points of one or more curves sharing parameters.
#[derive(Debug, Clone)]
pub struct FslModel {
    curves: Vec<CurveData>,
    options: FslOptions,
    n_points: usize,
    /// ln T_ref of the solver coordinates (None: the law's coordinates).
    solver_ln_tref: Option<f64>,
}

/// Per-evaluation LD and its derivatives in c3, s, c4, γ at every point.
#[derive(Debug)]
pub struct FslPrepared {
    ld: Vec<[f64; 5]>,
    ln_t: Vec<f64>,
}

/// Chains (h = ln 2 / m) whose quadrature bound for exponent `g` is ≤ [`EPS_QUAD`].
pub(crate) fn chains_for(g: f64) -> usize {
    (1..=16).find(|&m| quadrature_bound(g, std::f64::consts::LN_2 / m as f64) <= EPS_QUAD).unwrap_or(16)
}

/// Geometric node lattice r_j = 2^(j/m), j = j_lo..j_lo+n, and the closed-form sums
/// S_q = Σ_{j<j_lo} r_j^(g+q), q = 0, 1, 2, of the nodes below it (with ∂S_q/∂g).
#[derive(Debug, Clone)]
pub(crate) struct Lattice {
    /// Spacing h.
    pub h: f64,
    /// v_j = ln r_j of the explicit nodes.
    pub v: Vec<f64>,
    /// r_j of the explicit nodes.
    pub r: Vec<f64>,
    /// S_q of the nodes below the grid.
    pub tail: [f64; 3],
    /// ∂S_q/∂g.
    pub dtail: [f64; 3],
}

impl Lattice {
    /// Nodes from the lowest with r_j·x_max ≥ [`TAIL_RX`] (the ones below go to the tail) up to
    /// `v_hi` (inclusive), for the integrand r^g (times whatever the caller multiplies in).
    pub(crate) fn new(m: usize, g: f64, x_max: f64, v_hi: impl Fn(f64) -> bool) -> Option<Self> {
        let h = std::f64::consts::LN_2 / m as f64;
        let j_lo = ((TAIL_RX / x_max.max(1e-300)).ln() / h).floor() as i64 + 1;
        let mut v = Vec::new();
        let mut j = j_lo;
        loop {
            let vj = j as f64 * h;
            v.push(vj);
            if v.len() > MAX_NODES {
                return None;
            }
            if v_hi(vj) {
                break;
            }
            j += 1;
        }
        let r = v.iter().map(|x| x.exp()).collect();
        let a = (j_lo - 1) as f64 * h; // v of the highest tail node
        let mut tail = [0.0; 3];
        let mut dtail = [0.0; 3];
        for q in 0..3 {
            let e = g + q as f64;
            let ratio = (-h * e).exp();
            let first = (a * e).exp();
            tail[q] = first / (1.0 - ratio);
            dtail[q] = a * tail[q] - h * first * ratio / ((1.0 - ratio) * (1.0 - ratio));
        }
        Some(Self { h, v, r, tail, dtail })
    }
}

/// What a [`scan`] reads out at a logged point: Σ_j w_j·state_j.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Readout<'w> {
    /// The exponential state of a source channel, weighted.
    E(usize, &'w [f64]),
    /// The u-weighted state of channel 0, weighted.
    F(&'w [f64]),
}

/// One recurrence of the exponential sums along a schedule.
pub(crate) struct ScanInput<'a> {
    /// Per-step increment of the kernel's time u (the LR).
    pub dt: &'a [f64],
    /// Multiplies every node rate (c4 for the FSL, 1 for the convex bound).
    pub rate_scale: f64,
    /// Node rates r_j (2^(1/m) apart) and chains m.
    pub r: &'a [f64],
    /// Chains m.
    pub m: usize,
    /// Source indices (strictly increasing) and their values (`n_ch` per source).
    pub src_idx: &'a [usize],
    /// Source values, row-major (sources × channels).
    pub src_val: &'a [f64],
    /// Channels.
    pub n_ch: usize,
    /// Logged indices (strictly increasing).
    pub logged: &'a [usize],
    /// Read a step's point before adding that step's source (u > 0 only) instead of after.
    pub read_before_add: bool,
    /// Keep the u-weighted state of channel 0.
    pub with_f: bool,
}

/// Run the recurrences; for every logged point write the readouts, then the moments
/// Σ a·u^q (q = 0, 1, 2) of every channel: `out` is (points × (readouts + 3·n_ch)), row-major.
pub(crate) fn scan(inp: &ScanInput<'_>, readouts: &[Readout<'_>], out: &mut [f64]) {
    let nj = inp.r.len();
    let n_ch = inp.n_ch;
    let width = readouts.len() + 3 * n_ch;
    let mut e = vec![0.0; nj * n_ch]; // node-major: e[j * n_ch + c]
    let mut f = vec![0.0; if inp.with_f { nj } else { 0 }];
    let mut moments = vec![[0.0f64; 3]; n_ch];
    let mut y = vec![0.0; nj];
    let mut pending = 0.0;
    let mut s = 0; // next source
    let mut p = 0; // next point
    let end = inp.logged.last().map_or(0, |&k| k + 1);
    let rates: Vec<f64> = inp.r.iter().map(|r| r * inp.rate_scale).collect();
    for k in 0..end {
        pending += inp.dt[k];
        let has_src = s < inp.src_idx.len() && inp.src_idx[s] == k;
        let logged = p < inp.logged.len() && inp.logged[p] == k;
        if !(has_src || logged) {
            continue;
        }
        let delta = pending;
        pending = 0.0;
        if delta != 0.0 {
            node_factors(&rates, inp.m, delta, &mut y);
            if inp.with_f {
                for j in 0..nj {
                    f[j] = y[j] * (f[j] + delta * e[j * n_ch]);
                }
            }
            for j in 0..nj {
                let yj = y[j];
                for v in &mut e[j * n_ch..(j + 1) * n_ch] {
                    *v *= yj;
                }
            }
            for mo in &mut moments {
                mo[2] += delta * (2.0 * mo[1] + delta * mo[0]);
                mo[1] += delta * mo[0];
            }
        }
        let add = |e: &mut [f64], moments: &mut [[f64; 3]]| {
            let vals = &inp.src_val[s * n_ch..(s + 1) * n_ch];
            for j in 0..nj {
                for (v, a) in e[j * n_ch..(j + 1) * n_ch].iter_mut().zip(vals) {
                    *v += a;
                }
            }
            for (mo, a) in moments.iter_mut().zip(vals) {
                mo[0] += a;
            }
        };
        if has_src && !inp.read_before_add {
            add(&mut e, &mut moments);
        }
        if logged {
            let row = &mut out[p * width..(p + 1) * width];
            for (o, ro) in row.iter_mut().zip(readouts) {
                *o = match *ro {
                    Readout::E(c, w) => w.iter().enumerate().map(|(j, wj)| wj * e[j * n_ch + c]).sum(),
                    Readout::F(w) => w.iter().zip(&f).map(|(a, b)| a * b).sum(),
                };
            }
            for (c, mo) in moments.iter().enumerate() {
                row[readouts.len() + 3 * c..readouts.len() + 3 * c + 3].copy_from_slice(mo);
            }
            p += 1;
        }
        if has_src {
            if inp.read_before_add {
                add(&mut e, &mut moments);
            }
            s += 1;
        }
    }
}

/// y_j = e^(−rate_j·Δ) for rates 2^(1/m) apart: m exponentials, then μ ← μ(2 − μ) on μ = 1 − y
/// while μ < [`THETA`] (no cancellation on slow nodes), then squaring.
fn node_factors(rates: &[f64], m: usize, delta: f64, y: &mut [f64]) {
    let nj = rates.len();
    for c in 0..m.min(nj) {
        let mut mu = -(-rates[c] * delta).exp_m1();
        let mut yy = 1.0 - mu;
        let mut small = mu < THETA;
        let mut j = c;
        while j < nj {
            y[j] = yy;
            if small {
                mu *= 2.0 - mu;
                yy = 1.0 - mu;
                small = mu < THETA;
            } else {
                yy *= yy;
            }
            j += m;
        }
    }
}

/// Parameters of one evaluation.
///
/// In the law's coordinates `c2` is c2 and `c3` is c3. In the solver coordinates of
/// [`FslModel::in_solver_coordinates`] (`ln_tref` is Some), `c2` holds W and `c3` holds θ (see
/// there): the drop weight of a source is W·(θ + (1 − θ)·(T(i)/T_ref)^(−s)) instead of
/// c2·(c3 + T(i)^(−s)), and the channels ∂/∂c3, ∂/∂s of the kernels become ∂/∂θ, ∂/∂s of it.
#[derive(Debug, Clone, Copy)]
struct Params {
    l0: f64,
    c1: f64,
    c2: f64,
    c3: f64,
    c4: f64,
    s: f64,
    gamma: f64,
    ln_tref: Option<f64>,
}

impl Params {
    fn new(p: &[f64], ln_tref: Option<f64>) -> Self {
        Self {
            l0: p[0],
            c1: p[1],
            c2: p[2],
            c3: p[3],
            c4: p[4].max(0.0),
            s: p[5],
            gamma: p[6].max(GAMMA_MIN),
            ln_tref,
        }
    }

    /// A source's weight (times its drop d) and the derivatives of it in c3 (θ) and s, for a
    /// source at intrinsic time `t`; the amplitude c2 (W) multiplies all three.
    fn source(&self, d: f64, t: f64) -> (f64, f64, f64) {
        match self.ln_tref {
            None => {
                let ts = (-self.s * t.ln()).exp();
                (d * (self.c3 + ts), d, -d * t.ln() * ts)
            }
            Some(ln_ref) => {
                let rel = t.ln() - ln_ref;
                let tau = (-self.s * rel).exp();
                let theta = self.c3;
                (d * (theta + (1.0 - theta) * tau), d * (1.0 - tau), -d * (1.0 - theta) * rel * tau)
            }
        }
    }
}

impl CurveData {
    /// LD, ∂LD/∂c3, ∂LD/∂s, ∂LD/∂c4, ∂LD/∂γ at every point, exactly (O(K·n)).
    fn fill_exact(&self, pr: &Params, out: &mut [[f64; 5]]) {
        let w: Vec<(f64, f64, f64, f64)> = self
            .src_drop
            .iter()
            .zip(&self.src_t)
            .map(|(&d, &t)| {
                let (wv, dc3, ds) = pr.source(d, t);
                (wv, dc3, ds, t)
            })
            .collect();
        for (pi, (&k, &tk)) in self.points.iter().zip(&self.t_pt).enumerate() {
            let n_src = self.src_idx.partition_point(|&i| i <= k);
            let mut acc = [0.0; 5];
            for &(wv, d, ws, ti) in &w[..n_src] {
                let u = (tk - ti).max(0.0);
                let x = pr.c4 * u;
                let l1x = x.ln_1p();
                let fx = (-pr.gamma * l1x).exp();
                let g = 1.0 - fx;
                acc[0] += wv * g;
                acc[1] += d * g;
                acc[2] += ws * g;
                acc[3] += wv * pr.gamma * u * fx / (1.0 + x);
                acc[4] += wv * l1x * fx;
            }
            out[pi] = acc;
        }
    }

    /// The same by the exponential sums; `None` when the lattice would be absurdly large.
    fn fill_fast(&self, pr: &Params, gradients: bool, out: &mut [[f64; 5]]) -> Option<()> {
        if self.points.is_empty() {
            return Some(());
        }
        let g = pr.gamma;
        let x_max = 1.0 + pr.c4 * self.t_pt.last().copied().unwrap_or(0.0);
        let m = chains_for(g);
        let lg = ln_gamma(g);
        let h = std::f64::consts::LN_2 / m as f64;
        let lat = Lattice::new(m, g, x_max, |v| {
            let r = v.exp();
            r > g && (h.ln() + g * v - r - lg) < EPS_NODE.ln()
        })?;
        let norm = h * (-lg).exp(); // h / Γ(γ)
        let w: Vec<f64> = lat.v.iter().zip(&lat.r).map(|(&v, &r)| (h.ln() + g * v - r - lg).exp()).collect();
        let psi = digamma(g);
        let wg: Vec<f64> = w.iter().zip(&lat.v).map(|(a, v)| a * (v - psi)).collect();
        let wr: Vec<f64> = w.iter().zip(&lat.r).map(|(a, r)| a * r).collect();
        let n_ch = if gradients { 3 } else { 1 };
        let mut src_val = Vec::with_capacity(self.src_idx.len() * n_ch);
        for (&d, &t) in self.src_drop.iter().zip(&self.src_t) {
            let (wv, dc3, ds) = pr.source(d, t);
            src_val.push(wv);
            if gradients {
                src_val.push(dc3);
                src_val.push(ds);
            }
        }
        let readouts: Vec<Readout<'_>> = if gradients {
            vec![Readout::E(0, &w), Readout::E(1, &w), Readout::E(2, &w), Readout::F(&wr), Readout::E(0, &wg)]
        } else {
            vec![Readout::E(0, &w)]
        };
        let width = readouts.len() + 3 * n_ch;
        let mut raw = vec![0.0; self.points.len() * width];
        let inp = ScanInput {
            dt: &self.lr,
            rate_scale: pr.c4,
            r: &lat.r,
            m,
            src_idx: &self.src_idx,
            src_val: &src_val,
            n_ch,
            logged: &self.points,
            read_before_add: false,
            with_f: gradients,
        };
        scan(&inp, &readouts, &mut raw);
        let [s0, s1, s2] = lat.tail;
        let [d0, d1, d2] = lat.dtail;
        let c4 = pr.c4;
        // Σ a·tail(c4·u) from the moments (U0, U1, U2) of a channel.
        let tail = |u: &[f64]| {
            norm * (s0 * u[0] - s1 * (u[0] + c4 * u[1])
                + 0.5 * s2 * (u[0] + 2.0 * c4 * u[1] + c4 * c4 * u[2]))
        };
        for (row, o) in raw.chunks_exact(width).zip(out.iter_mut()) {
            let nr = readouts.len();
            let u0 = &row[nr..nr + 3];
            o[0] = u0[0] - (row[0] + tail(u0));
            if gradients {
                let u1 = &row[nr + 3..nr + 6];
                let u2 = &row[nr + 6..nr + 9];
                o[1] = u1[0] - (row[1] + tail(u1));
                o[2] = u2[0] - (row[2] + tail(u2));
                let tail_c4 = norm * (-s1 * u0[1] + s2 * (u0[1] + c4 * u0[2]));
                o[3] = row[3] - tail_c4;
                let tail_g = norm
                    * ((d0 - psi * s0) * u0[0] - (d1 - psi * s1) * (u0[0] + c4 * u0[1])
                        + 0.5 * (d2 - psi * s2) * (u0[0] + 2.0 * c4 * u0[1] + c4 * c4 * u0[2]));
                o[4] = -(row[4] + tail_g);
            }
        }
        Some(())
    }
}

impl FslModel {
    /// Build the law at the logged points of `curves`. Validates every LR (finite, ≥ 0), every
    /// index (in range, strictly increasing per curve) and T > 0 at every point.
    pub fn new(curves: &[FslCurve<'_>], options: FslOptions) -> Result<Self> {
        let curves =
            curves.iter().enumerate().map(|(i, c)| CurveData::new(i, c)).collect::<Result<Vec<_>>>()?;
        let n_points = curves.iter().map(|c| c.points.len()).sum();
        Ok(Self { curves, options, n_points, solver_ln_tref: None })
    }

    /// LD and its derivatives at every point.
    pub fn prepare_with(&self, params: &[f64], gradients: bool) -> FslPrepared {
        let pr = Params::new(params, self.solver_ln_tref);
        let mut ld = vec![[0.0; 5]; self.n_points];
        let mut parts = Vec::with_capacity(self.curves.len());
        let mut rest = &mut ld[..];
        for cv in &self.curves {
            let (head, tail) = rest.split_at_mut(cv.points.len());
            parts.push(head);
            rest = tail;
        }
        let exact = self.options.exact;
        self.curves.par_iter().zip(parts).for_each(|(cv, out)| {
            if exact || cv.fill_fast(&pr, gradients, out).is_none() {
                cv.fill_exact(&pr, out);
            }
        });
        let ln_t = self.curves.iter().flat_map(|c| c.t_pt.iter().map(|t| t.ln())).collect();
        FslPrepared { ld, ln_t }
    }

    /// Predictions at every point and, when `gradients`, the row-major n×7 gradient matrix.
    pub fn evaluate(&self, params: &[f64], gradients: bool) -> (Vec<f64>, Option<Vec<f64>>) {
        let prepared = self.prepare_with(params, gradients);
        let mut values = vec![0.0; self.n_points];
        let mut grads = gradients.then(|| vec![0.0; self.n_points * N_PARAMS]);
        self.eval_chunk(params, &prepared, 0, &mut values, grads.as_deref_mut());
        (values, grads)
    }
}

impl Model for FslModel {
    type Prepared = FslPrepared;

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_points(&self) -> usize {
        self.n_points
    }

    fn prepare(&self, params: &[f64]) -> FslPrepared {
        self.prepare_with(params, true)
    }

    fn prepare_values(&self, params: &[f64]) -> FslPrepared {
        self.prepare_with(params, false)
    }

    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &FslPrepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let pr = Params::new(params, self.solver_ln_tref);
        let len = values.len();
        let ld = &prepared.ld[start..start + len];
        let ln_t = &prepared.ln_t[start..start + len];
        // The drop term's amplitude: c2, or V/γ in the solver coordinates (∂/∂V = 1/γ·∂/∂amp, and
        // ∂/∂γ gains −amp/γ·LD).
        let (amp, d_amp, solver) = match pr.ln_tref {
            None => (pr.c2, 1.0, false),
            Some(_) => (pr.c2 / pr.gamma, 1.0 / pr.gamma, true),
        };
        fill_points::<N_PARAMS>(values, gradients, |i, row| {
            let (d, lt) = (ld[i], ln_t[i]);
            let pw = (-pr.s * lt).exp();
            if let Some(row) = row {
                let dg = if solver { -amp * (d[4] - d[0] / pr.gamma) } else { -amp * d[4] };
                *row = [1.0, pw, -d_amp * d[0], -amp * d[1], -amp * d[3], -pr.c1 * lt * pw - amp * d[2], dg];
            }
            pr.l0 + pr.c1 * pw - amp * d[0]
        });
    }
}

/// Largest θ of the solver coordinates ([`SolverCoords`]): θ = 1 is c3 = ∞ (a drop weight that no
/// longer depends on T(i)); at this θ, c3 = (1/θ_MAX − 1)⁻¹·T_ref^(−s) ≈ 1e9·T_ref^(−s) and the T(i)
/// part of every drop weight is below 1e-9 of the constant part.
pub const THETA_MAX: f64 = 1.0 - 1e-9;

/// The solver's coordinates of the drop term c2·Σ d_i·(c3 + T(i)^(−s))·G_γ(c4·u):
///
/// c2·(c3 + T(i)^(−s)) = (V/γ)·(θ + (1 − θ)·(T(i)/T_ref)^(−s)), with
///
/// * θ = c3 / (c3 + T_ref^(−s)) ∈ [0, 1): the constant part's share of the drop weight at the
///   reference time T_ref (the intrinsic time of the first drop of any curve, so that
///   (T(i)/T_ref)^(−s) ≤ 1 for s ≥ 0);
/// * V = γ·c2·(c3 + T_ref^(−s)): that weight times γ, the amplitude of the small-γ limit
///   G_γ(x)/γ → ln(1 + x).
///
/// Real logs drive the fit into two valleys whose ends are limits of the law: c3 → ∞, c2 → 0 with
/// c2·c3 fixed (drop weights independent of T(i)), and γ → 0, c2 → ∞ with c2·γ fixed (logarithmic
/// saturation). In (c2, c3, γ) the solver crawls along them until its evaluation budget is spent
/// (hundreds of evaluations, the objective changing in its fourth digit and the prediction not at
/// all); in (V, θ, γ) they end at the bounds θ = [`THETA_MAX`] and γ = its lower bound, reached in
/// a few steps. A pure change of coordinates otherwise: the law and its objective are the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverCoords {
    /// ln T_ref.
    pub ln_tref: f64,
}

impl SolverCoords {
    /// Law parameters of solver parameters `q` (γ > 0).
    pub fn to_law(&self, q: &[f64]) -> Vec<f64> {
        let mut p = q.to_vec();
        let (v, theta, s, g) = (q[2], q[3], q[5], q[6]);
        let ln_r = -s * self.ln_tref; // ln T_ref^(−s)
        p[2] = v / g * (1.0 - theta) * (-ln_r).exp();
        p[3] = theta / (1.0 - theta) * ln_r.exp();
        p
    }

    /// Solver parameters of law parameters `p` (θ clipped to [0, THETA_MAX]).
    pub fn from_law(&self, p: &[f64]) -> Vec<f64> {
        let mut q = p.to_vec();
        let r = (-p[5] * self.ln_tref).exp();
        q[2] = p[2] * (p[3] + r) * p[6];
        q[3] = (p[3] / (p[3] + r)).clamp(0.0, THETA_MAX);
        q
    }

    /// ∂q/∂p at law parameters `p`, row-major 7×7.
    fn jacobian(&self, p: &[f64]) -> Vec<f64> {
        let n = N_PARAMS;
        let mut jac = vec![0.0; n * n];
        for j in 0..n {
            jac[j * n + j] = 1.0;
        }
        let (c2, c3, g) = (p[2], p[3], p[6]);
        let r = (-p[5] * self.ln_tref).exp();
        let dr_ds = -self.ln_tref * r;
        let sum = c3 + r;
        // V = γ·c2·(c3 + r)
        jac[2 * n + 2] = g * sum;
        jac[2 * n + 3] = g * c2;
        jac[2 * n + 5] = g * c2 * dr_ds;
        jac[2 * n + 6] = c2 * sum;
        // θ = c3 / (c3 + r)
        jac[3 * n + 3] = r / (sum * sum);
        jac[3 * n + 5] = -c3 * dr_ds / (sum * sum);
        jac
    }

    /// A gradient in the law's parameters from one in q: g_p = (∂q/∂p)ᵀ·g_q.
    pub fn gradient_to_law(&self, q: &[f64], g: &mut [f64]) {
        let jac = self.jacobian(&self.to_law(q));
        let n = N_PARAMS;
        let out: Vec<f64> = (0..n).map(|j| (0..n).map(|i| jac[i * n + j] * g[i]).sum()).collect();
        g.copy_from_slice(&out);
    }

    /// A row-major 7×7 Gauss–Newton matrix in the law's parameters from one in q:
    /// H_p = (∂q/∂p)ᵀ·H_q·(∂q/∂p).
    pub fn hessian_to_law(&self, q: &[f64], h: &mut [f64]) {
        let jac = self.jacobian(&self.to_law(q));
        let n = N_PARAMS;
        let mut hj = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                hj[i * n + j] = (0..n).map(|k| h[i * n + k] * jac[k * n + j]).sum();
            }
        }
        for i in 0..n {
            for j in 0..n {
                h[i * n + j] = (0..n).map(|k| jac[k * n + i] * hj[k * n + j]).sum();
            }
        }
    }
}

impl FslModel {
    /// The solver coordinates of this data ([`SolverCoords`]): T_ref is the intrinsic time of the
    /// first drop of any curve; None when no curve has a drop (c2 and c3 are then not identifiable).
    pub fn solver_coords(&self) -> Option<SolverCoords> {
        let t = self.curves.iter().filter_map(|c| c.src_t.first().copied()).fold(f64::INFINITY, f64::min);
        (t.is_finite() && t > 0.0).then(|| SolverCoords { ln_tref: t.ln() })
    }

    /// The same law evaluated in the solver coordinates `coords`: parameter vectors are
    /// (L0, c1, W, θ, c4, s, γ) and gradients are taken in them.
    pub fn in_solver_coordinates(mut self, coords: SolverCoords) -> Self {
        self.solver_ln_tref = Some(coords.ln_tref);
        self
    }

    /// Σ |drops| of each curve's sources; the largest over the curves.
    fn max_total_drop(&self) -> f64 {
        self.curves.iter().map(|c| c.src_drop.iter().map(|d| d.abs()).sum::<f64>()).fold(0.0, f64::max)
    }
}

/// Fit the law from every start (in parallel); returns the best solve and its linear statistics.
///
/// When c2 and c3 are free, bounded by [0, ∞) and without a prior, the solver works in the
/// coordinates of [`SolverCoords`] (θ ≤ [`THETA_MAX`]); the report is mapped back (parameters,
/// gradient and Gauss–Newton matrix of the law's own parameters).
pub fn fit(
    curves: &[FslCurve<'_>],
    options: FslOptions,
    observed: Observations<'_>,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Fitted> {
    use crate::problem::DataProblem;
    let model = FslModel::new(curves, options)?;
    let free = |j: usize| {
        !opts.fixed[j]
            && opts.lower[j] == 0.0
            && opts.upper[j] == f64::INFINITY
            && opts.prior.as_ref().is_none_or(|p| !p.constrains(j))
    };
    // V/γ needs γ > 0 (its lower bound; γ may be fixed).
    let gamma_ok = opts.lower[6] > 0.0;
    let coords =
        model.solver_coords().filter(|_| free(2) && free(3) && gamma_ok && model.max_total_drop() > 0.0);
    let Some(coords) = coords else {
        return strategy::fit_model(model, observed, starts, opts, stop);
    };
    let Observations { targets, weights, space } = observed;
    let problem = DataProblem::new(model.clone().in_solver_coordinates(coords), targets, weights, space)?;
    let mut q_opts = opts.clone();
    q_opts.upper[3] = THETA_MAX;
    let q_starts: Vec<Vec<f64>> = starts.iter().map(|s| coords.from_law(s)).collect();
    let mut rep =
        strategy::multistart::<_, DataProblem<'_, FslModel>>(&problem, None, &q_starts, &q_opts, 1, stop)?;
    let q = rep.best.params.clone();
    coords.gradient_to_law(&q, &mut rep.best.gradient);
    coords.hessian_to_law(&q, &mut rep.best.hessian);
    rep.best.params = coords.to_law(&q);
    let stats = DataProblem::new(model, targets, weights, space)?.linear_stats(&rep.best.params);
    Ok((rep, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::testing::assert_central_differences;

    fn schedule(kind: usize, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| {
                let u = i as f64 / n as f64;
                match kind {
                    0 => 1e-3 * (0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * u).cos())),
                    1 => {
                        if u < 0.8 {
                            1e-3
                        } else {
                            1e-3 * (0.01f64).powf((u - 0.8) / 0.2)
                        }
                    }
                    2 => {
                        if u < 0.8 {
                            1e-3
                        } else if u < 0.9 {
                            3e-4
                        } else {
                            1e-4
                        }
                    }
                    _ => 1e-3 * (1.0 + (6.0 * std::f64::consts::PI * u).cos()).max(0.05), // re-warmups
                }
            })
            .collect()
    }

    #[test]
    fn fast_matches_exact_and_gradients_match_finite_differences() {
        let lrs: Vec<Vec<f64>> = (0..4).map(|k| schedule(k, 3000)).collect();
        let idx: Vec<Vec<usize>> = (0..4).map(|_| (0..3000).step_by(37).collect()).collect();
        let curves: Vec<FslCurve<'_>> =
            lrs.iter().zip(&idx).map(|(lr, ix)| FslCurve { lr, indices: ix, warmup: 0 }).collect();
        let fast = FslModel::new(&curves, FslOptions { exact: false }).unwrap();
        let exact = FslModel::new(&curves, FslOptions { exact: true }).unwrap();
        for params in [
            [3.0, 0.5, 400.0, 0.3, 2.0, 0.4, 0.6],
            [2.0, 1.0, 50.0, 0.0, 200.0, 0.1, 0.05],
            [2.5, 0.2, 900.0, 2.0, 0.01, 1.2, 3.5],
        ] {
            let (vf, gf) = fast.evaluate(&params, true);
            let (ve, ge) = exact.evaluate(&params, true);
            let (gf, ge) = (gf.unwrap(), ge.unwrap());
            for i in 0..vf.len() {
                assert!(
                    (vf[i] - ve[i]).abs() <= 1e-9 * ve[i].abs().max(1.0),
                    "{params:?} point {i}: {} vs {}",
                    vf[i],
                    ve[i]
                );
                for j in 0..N_PARAMS {
                    let (a, b) = (gf[i * 7 + j], ge[i * 7 + j]);
                    assert!(
                        (a - b).abs() <= 1e-6 * (1.0 + b.abs()) / params[j].abs().max(1e-3),
                        "grad {j} point {i}: {a} vs {b}"
                    );
                }
            }
            // Central differences of the exact law.
            assert_central_differences(|x| exact.evaluate(x, false).0, &params, &ge, 1e-3);
        }
    }

    /// The solver coordinates: the same law (values), gradients that match central differences
    /// in (V, θ), maps that round-trip, and gradients / Gauss–Newton matrices that map back to the
    /// law's.
    #[test]
    fn solver_coordinates_are_the_same_law() {
        let lrs: Vec<Vec<f64>> = (0..4).map(|k| schedule(k, 2000)).collect();
        let idx: Vec<Vec<usize>> = (0..4).map(|_| (5..2000).step_by(41).collect()).collect();
        let curves: Vec<FslCurve<'_>> =
            lrs.iter().zip(&idx).map(|(lr, ix)| FslCurve { lr, indices: ix, warmup: 0 }).collect();
        for exact in [false, true] {
            let law = FslModel::new(&curves, FslOptions { exact }).unwrap();
            let coords = law.solver_coords().unwrap();
            let solver = law.clone().in_solver_coordinates(coords);
            for p in [[3.0, 0.5, 400.0, 0.3, 2.0, 0.4, 0.6], [2.0, 1.0, 50.0, 0.0, 200.0, 0.1, 0.05]] {
                let q = coords.from_law(&p);
                let back = coords.to_law(&q);
                for j in 0..N_PARAMS {
                    assert!((back[j] - p[j]).abs() <= 1e-12 * p[j].abs().max(1e-300), "{j}: {back:?} {p:?}");
                }
                let (vp, gp) = law.evaluate(&p, true);
                let (vq, gq) = solver.evaluate(&q, true);
                let (gp, gq) = (gp.unwrap(), gq.unwrap());
                for i in 0..vp.len() {
                    assert!((vp[i] - vq[i]).abs() <= 1e-12 * vp[i].abs(), "value {i}: {} {}", vp[i], vq[i]);
                }
                for j in 0..N_PARAMS {
                    let hstep = 1e-6 * q[j].abs().max(1e-3);
                    let (mut hi, mut lo) = (q.clone(), q.clone());
                    hi[j] += hstep;
                    lo[j] -= hstep;
                    let (vh, _) = solver.evaluate(&hi, false);
                    let (vl, _) = solver.evaluate(&lo, false);
                    for i in 0..vh.len() {
                        let fd = (vh[i] - vl[i]) / (2.0 * hstep);
                        let g = gq[i * N_PARAMS + j];
                        assert!((fd - g).abs() <= 1e-5 * (1.0 + fd.abs()), "q {j} point {i}: {fd} vs {g}");
                    }
                }
                // Gradient rows and a Gauss–Newton matrix map back to the law's.
                for i in (0..vp.len()).step_by(7) {
                    let mut row = gq[i * N_PARAMS..(i + 1) * N_PARAMS].to_vec();
                    coords.gradient_to_law(&q, &mut row);
                    for j in 0..N_PARAMS {
                        let want = gp[i * N_PARAMS + j];
                        assert!(
                            (row[j] - want).abs() <= 1e-8 * (1.0 + want.abs()),
                            "row {i} {j}: {} {want}",
                            row[j]
                        );
                    }
                }
                let outer = |g: &[f64]| {
                    let mut h = vec![0.0; N_PARAMS * N_PARAMS];
                    for row in g.chunks_exact(N_PARAMS) {
                        for a in 0..N_PARAMS {
                            for b in 0..N_PARAMS {
                                h[a * N_PARAMS + b] += row[a] * row[b];
                            }
                        }
                    }
                    h
                };
                let (hp, mut hq) = (outer(&gp), outer(&gq));
                coords.hessian_to_law(&q, &mut hq);
                for (a, b) in hq.iter().zip(&hp) {
                    assert!((a - b).abs() <= 1e-7 * (1.0 + b.abs()), "{a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn rejects_bad_input() {
        let lr = vec![1e-3; 10];
        let bad = [vec![3, 3], vec![11], vec![5, 2]];
        for ix in &bad {
            assert!(FslModel::new(&[FslCurve { lr: &lr, indices: ix, warmup: 0 }], FslOptions::default())
                .is_err());
        }
        let zero = vec![0.0, 0.0, 1e-3];
        assert!(FslModel::new(&[FslCurve { lr: &zero, indices: &[0, 2], warmup: 0 }], FslOptions::default())
            .is_err());
    }
}
