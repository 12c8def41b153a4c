//! The multi-power law (MPL) of Luo et al., "A Multi-Power Law for Loss Curve Prediction Across
//! Learning Rate Schedules", ICLR 2025 (arXiv 2503.12811), evaluated exactly or fast, with analytic
//! gradients of its seven parameters `L0, A, alpha, B, C, beta, gamma` (in that order).
//!
//! # The law (repository convention, the default)
//!
//! `lr` is the per-step LR array; index k = 0..T−1 (lawfit's step k+1). At a logged index s:
//!
//! ```text
//! S1(s)   = Σ_{τ=0..s} lr[τ]                                   (warmup ramp included)
//! LD(s)   = Σ_{k=1..s} (lr[k] − lr[k−1]) · G(x_k(s)),   G(x) = 1 − (1 + x)^(−β)
//! x_k(s)  = C · lr[k]^(−γ) · S_k(s),                     S_k(s) = Σ_{τ=k..s} lr[τ]
//! L̂(s)    = L0 + A · S1(s)^(−α) + B · LD(s)
//! ```
//!
//! This is the formula of the paper's code (`src/models.py`), whose numbers it reproduces. The
//! paper's own form ([`S1Form::Paper`]) starts both sums after a linear warmup of W steps and adds
//! its area in closed form: S1(s) = S_W + Σ_{τ=W..s} lr[τ], S_W = ½·η_peak·W, and LD sums over
//! k = max(W, 1)..s (so the first term is the drop from the warmup's last LR).
//!
//! **Zero learning rates.** A term with lr[k] = 0 has lr[k]^(−γ) = ∞ (γ > 0), x = ∞ and G = 1,
//! whatever S_k(s) is; lawfit uses G = 1 (and zero derivatives of G) for every such term, so a
//! schedule that drops to 0, or a re-warmup from 0, never produces NaN. (In the repository's
//! schedules lr[0] = 0 is the only zero and the sum starts at k = 1.) S1(s) must be positive at
//! every logged index; the constructor rejects a log point where it is not.
//!
//! # Exact evaluation
//!
//! Only the k with lr[k] ≠ lr[k−1] contribute. The exact path sums them literally for every
//! logged point: O(K·n) for K changes and n points (quadratic for a per-step log of a smooth
//! decay), parallel over points, bit-identical for any thread count.
//!
//! # Fast evaluation: an exponential sum along the schedule
//!
//! Write f(x) = (1 + x)^(−β) = 1 − G(x). With z = r·lr[k]^γ the Laplace transform
//! (1 + x)^(−β) = (1/Γ(β))∫₀^∞ t^(β−1) e^(−t(1+x)) dt becomes, in v = ln r,
//!
//! ```text
//! f(x_k(s)) = (1/Γ(β)) ∫ z^β e^(−z) · e^(−r·C·S_k(s)) dv,      z = e^v · lr[k]^γ,
//! ```
//!
//! whose kernel e^(−r·C·S_k(s)) has the same rate r for every k. The trapezoid rule on the fixed
//! grid v_j = j·h turns it into Σ_j W_jk·e^(−r_j·C·S_k(s)), W_jk = (h/Γ(β))·z_jk^β·e^(−z_jk), and
//! each node j is a first-order recurrence along the schedule,
//!
//! ```text
//! E_j(s) = e^(−r_j·C·lr[s]) · (E_j(s−1) + (lr[s] − lr[s−1])·W_js),     Σ_k d_k f_k(s) ≈ Σ_j E_j(s)
//! ```
//!
//! O(J) work per step (J ≈ 40 nodes for the paper's schedules), O(J·T) per evaluation whatever the
//! number of logged points; steps without an LR change and without a log point are skipped in one
//! multiplication. The gradients are exact derivatives of this sum: three more recurrences (an
//! S-weighted one for C; ln lr- and lr^γ·ln lr-weighted ones for γ) and node weights ln z − ψ(β)
//! for β. The node factors e^(−r_j·y) of a step cost Q = 6 exponentials: h = p·ln 2/6 makes
//! r_{j+6} = 2^p·r_j, so e^(−r_{j+6}·y) = (e^(−r_j·y))^(2^p), evaluated as μ ← 1 − (1 − μ)^(2^p) on
//! μ = 1 − e^(−y) while μ < 0.01 (no cancellation on slow nodes), then by squaring.
//!
//! The scan is a two-stage pipeline over blocks of 256 events: events, tail sums, live-node range
//! and decay factors of block k+1 are computed while the node states absorb block k, on two
//! threads (same arithmetic on any number of threads, so results are bit-identical).
//!
//! Error budget of f, for every k and s (documented bound, tested):
//!
//! * quadrature: the trapezoid rule on an infinite uniform grid has relative error
//!   ≤ 2·Σ_{m≥1}|Γ(β + 2πim/h)|/Γ(β), uniform in x and in the grid's offset (Poisson summation).
//!   h is the largest of (4, 3, 2, 1)·ln 2/6 = 0.462, 0.347, 0.231, 0.116 whose bound is ≤ 1e-8
//!   (β ≤ 1 gets h = 0.462: 9.8e-9 at β = 1, 2.3e-9 at β = 0.6).
//! * upper truncation: a source gets no input on nodes with z > Z; Z makes their total weight
//!   ≤ 1e-9.
//! * lower truncation: the nodes below the grid are summed in closed form to third order in
//!   r·C·S (geometric series in z, prefix sums over the sources); the grid starts where the
//!   fourth-order remainder is ≤ 1e-9 for the curve's largest S.
//! * node factors to ~1e-14 relative; a node is dropped once every input it got has decayed by
//!   e^(−45).
//!
//! Hence |LD_fast − LD_exact| ≤ 1.2e-8 · Σ_k |lr[k] − lr[k−1]|, i.e.
//! |L̂_fast − L̂_exact| ≤ 1.2e-8 · B · TV(lr), TV the schedule's total variation (B·TV is the largest
//! loss change the LD term can produce; the paper's fits have B·TV ≈ 0.3 and L̂ ≈ 3, so the
//! relative error is ≤ ~1e-9, inside the 1e-7 target). Gradients: |θ·Δ∂L̂/∂θ| ≤ 1e-6·B·TV for
//! every parameter θ (the β-derivative's quadrature error carries an extra log factor). Measured
//! (tests): |ΔL̂| ≤ 7e-10·B·TV, gradients ≤ 3e-9·B·TV, except 4.4e-7·B·TV on a tenfold LR rise.

use crate::areas::validate_lr;
use crate::error::{Error, Result};
use crate::fastmath::exp_fast;
use crate::problem::Model;
use rayon::prelude::*;

/// Number of parameters of the law.
pub const N_PARAMS: usize = 7;

/// Parameter names, in the order of every parameter vector and gradient row.
pub const PARAM_NAMES: [&str; N_PARAMS] = ["L0", "A", "alpha", "B", "C", "beta", "gamma"];

/// Target bound of the quadrature's relative error in f.
const EPS_QUAD: f64 = 1e-8;
/// Bound of the absolute error in f from nodes dropped above the grid.
const EPS_HI: f64 = 1e-9;
/// Bound of the absolute error in f from the closed-form third-order tail below the grid.
const EPS_LO: f64 = 1e-9;
/// A node whose every input has decayed by e^(−DEAD) is dropped.
const DEAD: f64 = 45.0;
/// Largest z of the tail below the grid (its series in z is cut after z³).
const TAIL_Z: f64 = 1e-3;
/// Beyond this many nodes (absurd parameters) the compressed path defers to the exact one.
const MAX_NODES: usize = 4096;
/// Nodes per link of the chain: node j+Q has rate 2^p times node j's (ρ^Q = 2^p).
const Q: usize = 6;
/// Chain exponents p, coarsest spacing h = p·ln 2/Q first.
const SPACINGS: [u32; 4] = [4, 3, 2, 1];
/// Points per parallel task of the exact path (fixed: results do not depend on the thread count).
const EXACT_CHUNK: usize = 64;

/// How S1 and the first term of LD are defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum S1Form {
    /// The paper's code: S1 sums the whole schedule (warmup ramp included), LD starts at k = 1.
    #[default]
    Repo,
    /// The paper: S1 = ½·η_peak·W + Σ_{τ=W..s} lr[τ], LD starts at k = max(W, 1). W = `None` is
    /// inferred per curve as the index of the first maximum of `lr` plus one (0 if `lr[0]` is the
    /// maximum), i.e. the warmup ends at the first step that reaches the peak LR.
    Paper {
        /// Warmup length W in steps, or `None` to infer it.
        warmup_steps: Option<usize>,
    },
}

impl S1Form {
    /// Parse `"repo" | "paper"`; `warmup_steps` only applies to `"paper"`.
    pub fn parse(name: &str, warmup_steps: Option<usize>) -> Result<Self> {
        match name {
            "repo" => Ok(Self::Repo),
            "paper" => Ok(Self::Paper { warmup_steps }),
            other => Err(Error::InvalidArgument(format!("s1_form must be 'repo' or 'paper', got {other:?}"))),
        }
    }
}

/// Options of the multi-power law evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MultiPowerOptions {
    /// Sum LD literally (O(K·n)) instead of the compressed recurrences (O(J·T)).
    pub exact: bool,
    /// Definition of S1 and of the start of LD.
    pub s1_form: S1Form,
}

/// One training run: its full per-step LR schedule and the logged indices.
#[derive(Debug, Clone, Copy)]
pub struct MultiPowerCurve<'a> {
    /// LR of every step; `lr[k]` is the LR of lawfit's step k+1.
    pub lr: &'a [f64],
    /// Logged indices into `lr` (0-based, non-decreasing).
    pub indices: &'a [usize],
}

/// Schedule data of one curve, independent of the parameters.
#[derive(Debug, Clone)]
struct CurveData {
    /// LR up to the last logged index (later steps never matter).
    lr: Vec<f64>,
    /// ln lr (−∞ where lr = 0).
    ln_lr: Vec<f64>,
    /// prefix[s] = Σ_{τ≤s} lr[τ], compensated summation.
    prefix: Vec<f64>,
    /// First index k of the LD sum.
    start: usize,
    /// Logged indices.
    points: Vec<usize>,
    /// Indices k ≥ start with lr[k] ≠ lr[k−1], up to the last point.
    sources: Vec<usize>,
    /// lr[k] − lr[k−1] of every source.
    src_drop: Vec<f64>,
    /// Smallest and largest ln lr over the sources with lr > 0 (None if there is none).
    ln_range: Option<(f64, f64)>,
    /// Largest S_k(s) over k ≥ start and logged s.
    s_max: f64,
}

/// The multi-power law at the logged points of one or more curves that share parameters (points
/// concatenated in curve order).
#[derive(Debug, Clone)]
pub struct MultiPowerModel {
    curves: Vec<CurveData>,
    /// ln S1 of every point.
    ln_s1: Vec<f64>,
    options: MultiPowerOptions,
}

/// Per-evaluation work of [`MultiPowerModel`]: LD and its derivatives at every point.
#[derive(Debug, Clone)]
pub struct MultiPowerPrepared {
    /// [LD, ∂LD/∂C, ∂LD/∂β, ∂LD/∂γ] per point (derivatives zero when not computed).
    ld: Vec<[f64; 4]>,
    gradients: bool,
}

#[derive(Debug, Clone, Copy)]
struct Params {
    l0: f64,
    a: f64,
    alpha: f64,
    b: f64,
    c: f64,
    beta: f64,
    gamma: f64,
}

impl Params {
    fn new(p: &[f64]) -> Self {
        assert_eq!(p.len(), N_PARAMS, "the multi-power law has 7 parameters");
        Self { l0: p[0], a: p[1], alpha: p[2], b: p[3], c: p[4], beta: p[5], gamma: p[6] }
    }

    /// The Laplace representation needs C ≥ 0 and β > 0 (and finite values).
    fn compressible(&self) -> bool {
        [self.c, self.beta, self.gamma].iter().all(|v| v.is_finite()) && self.c >= 0.0 && self.beta > 0.0
    }
}

/// Neumaier-compensated running sums.
fn compensated_prefix(lr: &[f64]) -> Vec<f64> {
    let (mut sum, mut comp) = (0.0_f64, 0.0_f64);
    lr.iter()
        .map(|&x| {
            let t = sum + x;
            if sum.abs() >= x.abs() {
                comp += (sum - t) + x;
            } else {
                comp += (x - t) + sum;
            }
            sum = t;
            sum + comp
        })
        .collect()
}

impl CurveData {
    fn new(
        curve_index: usize,
        curve: &MultiPowerCurve<'_>,
        form: S1Form,
        ln_s1: &mut Vec<f64>,
    ) -> Result<Self> {
        let (lr, indices) = (curve.lr, curve.indices);
        validate_lr(lr).map_err(|e| match e {
            Error::InvalidValue { index, value, reason, .. } => {
                Error::InvalidArgument(format!("lrs[{curve_index}][{index}] is {value}; {reason}"))
            }
            other => other,
        })?;
        for (i, &s) in indices.iter().enumerate() {
            if s >= lr.len() {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}][{i}] = {s} is out of range for lrs[{curve_index}] of length {}",
                    lr.len()
                )));
            }
            if i > 0 && s < indices[i - 1] {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}] must be non-decreasing: [{}] = {} > [{i}] = {s}",
                    i - 1,
                    indices[i - 1]
                )));
            }
        }
        let len = indices.last().map_or(0, |&s| s + 1);
        let lr = lr[..len].to_vec();
        let prefix = compensated_prefix(&lr);
        // S1 and the first LD index.
        let (start, s1_offset, s1_base) = match form {
            S1Form::Repo => (1, 0.0, None),
            S1Form::Paper { warmup_steps } => {
                let w = match warmup_steps {
                    Some(w) => {
                        if w > curve.lr.len() {
                            return Err(Error::InvalidArgument(format!(
                                "warmup_steps ({w}) exceeds the length of lrs[{curve_index}] ({})",
                                curve.lr.len()
                            )));
                        }
                        w
                    }
                    None => infer_warmup(curve.lr),
                };
                let peak = curve.lr[..w].iter().copied().fold(0.0, f64::max);
                (w.max(1), 0.5 * peak * w as f64, Some(w))
            }
        };
        for (i, &s) in indices.iter().enumerate() {
            let s1 = match s1_base {
                None => prefix[s],
                Some(w) if s < w => s1_offset,
                Some(0) => prefix[s],
                Some(w) => s1_offset + (prefix[s] - prefix[w - 1]),
            };
            if s1.is_nan() || s1 <= 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}][{i}] = {s}: S1 is {s1} there (no LR area yet); the law needs S1 > 0"
                )));
            }
            ln_s1.push(s1.ln());
        }
        let ln_lr: Vec<f64> = lr.iter().map(|&x| x.ln()).collect();
        let sources: Vec<usize> = (start..len).filter(|&k| lr[k] != lr[k - 1]).collect();
        let src_drop = sources.iter().map(|&k| lr[k] - lr[k - 1]).collect();
        let ln_range = sources.iter().filter(|&&k| lr[k] > 0.0).fold(None, |acc: Option<(f64, f64)>, &k| {
            let l = ln_lr[k];
            Some(acc.map_or((l, l), |(lo, hi)| (lo.min(l), hi.max(l))))
        });
        let s_max = if len > start { prefix[len - 1] - prefix[start - 1] } else { 0.0 };
        Ok(Self { lr, ln_lr, prefix, start, points: indices.to_vec(), sources, src_drop, ln_range, s_max })
    }

    /// LD and its derivatives at this curve's points.
    fn fill(&self, pr: &Params, exact: bool, gradients: bool, out: &mut [[f64; 4]]) {
        // Without a positive-LR change every term has G = 1: the literal sum is already cheap.
        let grid = match self.ln_range {
            Some(range) if !exact && pr.compressible() => Grid::new(pr, range, self.s_max),
            _ => None,
        };
        match grid {
            Some(g) if gradients => scan_compressed::<true>(self, pr, &g, out),
            Some(g) => scan_compressed::<false>(self, pr, &g, out),
            None => self.fill_exact(pr, gradients, out),
        }
    }

    /// The literal sum over the LR changes, for every point.
    fn fill_exact(&self, pr: &Params, gradients: bool, out: &mut [[f64; 4]]) {
        let inv: Vec<f64> = self
            .sources
            .iter()
            .map(|&k| if self.lr[k] > 0.0 { (-pr.gamma * self.ln_lr[k]).exp() } else { 0.0 })
            .collect();
        let one = |s: usize| -> [f64; 4] {
            let n_src = self.sources.partition_point(|&k| k <= s);
            let ps = self.prefix[s];
            let (mut ld, mut dc, mut db, mut dg) = (0.0, 0.0, 0.0, 0.0);
            for ((&k, &d), &e) in self.sources[..n_src].iter().zip(&self.src_drop[..n_src]).zip(&inv[..n_src])
            {
                if self.lr[k] == 0.0 {
                    // Zero LR: x = ∞, G = 1, no parameter dependence.
                    ld += d;
                    continue;
                }
                let u = e * (ps - self.prefix[k - 1]);
                let x = pr.c * u;
                let lp = x.ln_1p();
                let f = (-pr.beta * lp).exp();
                ld += d * (1.0 - f);
                if gradients {
                    let q = pr.beta * f / (1.0 + x);
                    dc += d * q * u;
                    db += d * f * lp;
                    dg -= d * q * x * self.ln_lr[k];
                }
            }
            [ld, dc, db, dg]
        };
        let pts = &self.points;
        out.par_chunks_mut(EXACT_CHUNK).enumerate().for_each(|(c, chunk)| {
            for (i, o) in chunk.iter_mut().enumerate() {
                *o = one(pts[c * EXACT_CHUNK + i]);
            }
        });
    }
}

/// W for [`S1Form::Paper`] when not given: index of the first maximum plus one (0 if at index 0).
fn infer_warmup(lr: &[f64]) -> usize {
    let peak = lr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match lr.iter().position(|&x| x == peak) {
        Some(0) | None => 0,
        Some(i) => i + 1,
    }
}

// ---------------------------------------------------------------------------------------------
// Special functions (β > 0 only).

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let a = G[1..].iter().enumerate().fold(G[0], |acc, (i, g)| acc + g / (x + (i + 1) as f64));
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ψ(x) = d ln Γ(x)/dx for x > 0 (recurrence to x ≥ 10, then the asymptotic series).
fn digamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 10.0 {
        acc -= 1.0 / x;
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + x.ln()
        - 0.5 / x
        - x2 * (1.0 / 12.0
            - x2 * (1.0 / 120.0
                - x2 * (1.0 / 252.0 - x2 * (1.0 / 240.0 - x2 * (1.0 / 132.0 - x2 * 691.0 / 32760.0)))))
}

/// Re ln Γ(β + iy) for |β + iy| ≳ 10 (Stirling; ample for an error bound).
fn ln_abs_gamma_complex(beta: f64, y: f64) -> f64 {
    let r2 = beta * beta + y * y;
    let theta = y.atan2(beta);
    (beta - 0.5) * 0.5 * r2.ln() - y * theta - beta
        + 0.5 * (2.0 * std::f64::consts::PI).ln()
        + beta / (12.0 * r2)
}

/// Relative error bound of the trapezoid rule with spacing h: 2·Σ_m |Γ(β + 2πim/h)|/Γ(β).
fn quadrature_bound(beta: f64, h: f64) -> f64 {
    let lg = ln_gamma(beta);
    (1..=4)
        .map(|m| 2.0 * (ln_abs_gamma_complex(beta, 2.0 * std::f64::consts::PI * m as f64 / h) - lg).exp())
        .sum()
}

// ---------------------------------------------------------------------------------------------
// The compressed path.

/// Nodes of the exponential sum for one curve and one parameter vector.
#[derive(Debug)]
struct Grid {
    /// Chain: node j+Q has rate 2^p times node j's.
    p: u32,
    h: f64,
    /// Absolute index of node 0 (v_0 = j0·h).
    j0: i64,
    /// r_j = e^{v_j}.
    r: Vec<f64>,
    /// v_j = ln r_j.
    v: Vec<f64>,
    /// h/Γ(β)·r_j^β.
    c: Vec<f64>,
    /// ln Z: a node with z = r·lr^γ > Z gets no input.
    ln_zcut: f64,
    /// h/Γ(β).
    k: f64,
    /// ψ(β).
    psi: f64,
    /// r_0 and r_0^β.
    r0: f64,
    r0_beta: f64,
    /// 1/(ρ^{β+e} − 1) and h·ρ^{β+e}/(ρ^{β+e} − 1) for e = 0..TAIL_ORDER+3 (the tail's series).
    inv_den: [f64; TAIL_ORDER + 4],
    dden: [f64; TAIL_ORDER + 4],
}

/// Order of the closed-form tail below the grid in r·C·S.
const TAIL_ORDER: usize = 3;

impl Grid {
    /// `ln_range`: smallest and largest ln lr over the sources; `s_max`: largest S_k(s).
    fn new(pr: &Params, ln_range: (f64, f64), s_max: f64) -> Option<Self> {
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
    fn input_top(&self, lg: f64) -> Option<usize> {
        let j = ((self.ln_zcut - lg) / self.h).floor() as i64 - self.j0;
        (j >= 0).then(|| (j as usize).min(self.r.len() - 1))
    }

    /// out[j] = e^{−r_j·x} for j < out.len(), from Q exponentials and the exact recurrence
    /// e^{−2^p·y} = (e^{−y})^{2^p}: in Q lanes, first on μ = 1 − e^{−y} as μ ← 1 − (1 − μ)^{2^p}
    /// = μ(2 − μ)… (no cancellation for tiny rates), then, once every lane has μ ≥ THETA, on
    /// e^{−y} itself by squaring (absolute error ≲ 1e-16/THETA).
    #[inline]
    fn exp_neg_nodes(&self, x: f64, out: &mut [f64]) {
        if out.is_empty() {
            return;
        }
        let mut mu = [0.0; Q];
        let r: &[f64; Q] = self.r[..Q].try_into().expect("a grid has at least Q nodes");
        if r[Q - 1] * x < SMALL_X {
            for (m, r) in mu.iter_mut().zip(r) {
                *m = one_minus_exp_small(r * x);
            }
        } else {
            for (m, r) in mu.iter_mut().zip(r) {
                *m = one_minus_exp(r * x);
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
#[inline(always)]
fn exp_chain<const P: u32>(mut mu: [f64; Q], out: &mut [f64]) {
    let mut chunks = out.chunks_exact_mut(Q);
    // μ form while the smallest μ of the link (lane 0: lanes hold increasing rates) is < THETA.
    let mut switched = None;
    for chunk in &mut chunks {
        let chunk: &mut [f64; Q] = chunk.try_into().expect("Q values");
        for (c, m) in chunk.iter_mut().zip(&mu) {
            *c = 1.0 - m;
        }
        if mu[0] >= THETA {
            switched = Some(*chunk);
            break;
        }
        for m in &mut mu {
            for _ in 0..P {
                *m *= 2.0 - *m;
            }
        }
    }
    let square = |e: &mut [f64; Q]| {
        for y in e.iter_mut() {
            for _ in 0..P {
                *y *= *y;
            }
        }
    };
    // Then e^{−y} by squaring; `e` ends as the link after the last full chunk.
    let e = match switched {
        Some(mut e) => {
            for chunk in &mut chunks {
                square(&mut e);
                *<&mut [f64; Q]>::try_from(chunk).expect("Q values") = e;
            }
            square(&mut e);
            e
        }
        None => mu.map(|m| 1.0 - m),
    };
    for (o, y) in chunks.into_remainder().iter_mut().zip(&e) {
        *o = *y;
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
fn one_minus_exp(x: f64) -> f64 {
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
fn exp_neg(x: f64) -> f64 {
    exp_fast(-x)
}

/// Σ x with four accumulators (fixed order: deterministic).
#[inline(always)]
fn sum4(x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = x.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..4 {
            acc[i] += c[i];
        }
    }
    let tail: f64 = rest.iter().sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Σ x·y with four accumulators.
#[inline(always)]
fn dot4(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0; 4];
    let (cx, cy) = (x.chunks_exact(4), y.chunks_exact(4));
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for i in 0..4 {
            acc[i] += a[i] * b[i];
        }
    }
    let tail: f64 = rx.iter().zip(ry).map(|(a, b)| a * b).sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Closed-form contribution of the nodes below the grid, to order M = TAIL_ORDER in r·C·S:
/// per source, f_tail = Σ_m (−C·S)^m/m!·τ_m, accumulated as prefix sums of d·τ_m·(−P_{k−1})^i
/// (i ≤ m) so that S^m = (P_s − P_{k−1})^m expands binomially (and likewise the β, γ derivatives).
#[derive(Debug, Default, Clone, Copy)]
struct Tail {
    a: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
    ab: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
    ag: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
}

impl Tail {
    /// Add the source with drop `d`, ln lr = `l`, lr^γ = `gv`, lr^{γβ} = `gb`, P_{k−1} = `p_prev`.
    #[inline]
    fn add<const GRAD: bool>(
        &mut self,
        g: &Grid,
        (beta, gamma): (f64, f64),
        src: (f64, f64, f64, f64),
        p_prev: f64,
    ) {
        let (d, l, gv, gb) = src;
        let z0 = g.r0 * gv;
        let lz0 = g.j0 as f64 * g.h + gamma * l;
        let mut zp = [0.0; 4];
        let mut coef = g.r0_beta * gb;
        for (n, z) in zp.iter_mut().enumerate() {
            *z = coef;
            coef *= -z0 / (n + 1) as f64;
        }
        let mut r0m = d;
        let neg_p = -p_prev;
        for m in 0..=TAIL_ORDER {
            let (mut t, mut tb, mut tl) = (0.0, 0.0, 0.0);
            for (n, &z) in zp.iter().enumerate() {
                let term = z * g.inv_den[n + m];
                t += term;
                if GRAD {
                    tb += term * (lz0 - g.dden[n + m]);
                    tl += term * (beta + n as f64);
                }
            }
            // d·τ_m, d·∂τ_m/∂β, d·∂τ_m/∂γ.
            let tau = g.k * r0m * t;
            let (taub, taug) =
                if GRAD { (g.k * r0m * (tb - g.psi * t), g.k * r0m * tl * l) } else { (0.0, 0.0) };
            let mut pw = 1.0;
            for i in 0..=m {
                self.a[m][i] += tau * pw;
                if GRAD {
                    self.ab[m][i] += taub * pw;
                    self.ag[m][i] += taug * pw;
                }
                pw *= neg_p;
            }
            r0m *= g.r0;
        }
    }

    /// Σ_k d·τ_m·S_k(s)^m for m = 0..M from the accumulators `acc`, given P_s^i in `pw`.
    #[inline]
    fn moments(
        acc: &[[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
        pw: &[f64; TAIL_ORDER + 1],
    ) -> [f64; TAIL_ORDER + 1] {
        let mut out = [0.0; TAIL_ORDER + 1];
        for (m, o) in out.iter_mut().enumerate() {
            // Σ_i binom(m, i)·P_s^{m−i}·acc[m][i].
            let mut binom = 1.0;
            for (i, &x) in acc[m][..=m].iter().enumerate() {
                *o += binom * pw[m - i] * x;
                binom = binom * (m - i) as f64 / (i + 1) as f64;
            }
        }
        out
    }

    /// (f_tail, ∂f_tail/∂C, ∂f_tail/∂β, ∂f_tail/∂γ) summed over the sources so far, at P_s = `ps`.
    #[inline]
    fn value<const GRAD: bool>(&self, c: f64, ps: f64) -> [f64; 4] {
        let mut pw = [1.0; TAIL_ORDER + 1];
        for i in 1..=TAIL_ORDER {
            pw[i] = pw[i - 1] * ps;
        }
        let t = Self::moments(&self.a, &pw);
        let mut coef = 1.0; // (−C)^m/m!
        let mut dcoef = 0.0; // d/dC of it
        let (mut f, mut fc, mut fb, mut fg) = (0.0, 0.0, 0.0, 0.0);
        let (tb, tg) =
            if GRAD { (Self::moments(&self.ab, &pw), Self::moments(&self.ag, &pw)) } else { (t, t) };
        for m in 0..=TAIL_ORDER {
            f += coef * t[m];
            if GRAD {
                fc += dcoef * t[m];
                fb += coef * tb[m];
                fg += coef * tg[m];
            }
            dcoef = -(coef + c * dcoef) / (m + 1) as f64;
            coef *= -c / (m + 1) as f64;
        }
        [f, fc, fb, fg]
    }
}

/// One step that needs work: an LR change (a source) and/or a logged point.
#[derive(Debug, Clone, Copy, Default)]
struct Event {
    s: usize,
    /// LR area of skipped steps to decay by before this step's input (sources only).
    pre: f64,
    /// LR area this event decays by (this step's LR, plus skipped steps for a non-source).
    delta: f64,
    src: bool,
    logged: bool,
    /// drop, ln lr, lr^γ, lr^{γβ}.
    d: f64,
    l: f64,
    gv: f64,
    gb: f64,
    /// Nodes that get input.
    n_in: usize,
}

/// Walks a curve's steps and yields the events: steps with an LR change (sources) or a log point.
struct Events<'a> {
    cv: &'a CurveData,
    g: &'a Grid,
    beta: f64,
    gamma: f64,
    s: usize,
    /// LR area of steps skipped since the last event.
    pend: f64,
    /// Next log point not yet reached.
    gnext: usize,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let (cv, pts) = (self.cv, &self.cv.points);
        while self.gnext < pts.len() {
            let s = self.s;
            self.s += 1;
            let eta = cv.lr[s];
            let src = s >= cv.start && eta != cv.lr[s - 1] && eta > 0.0;
            let logged = pts[self.gnext] == s;
            while self.gnext < pts.len() && pts[self.gnext] == s {
                self.gnext += 1;
            }
            if !src && !logged {
                self.pend += eta;
                continue;
            }
            let mut ev = Event { s, logged, ..Default::default() };
            if src {
                ev.src = true;
                ev.pre = self.pend;
                ev.delta = eta;
                ev.d = eta - cv.lr[s - 1];
                ev.l = cv.ln_lr[s];
                let lg = self.gamma * ev.l;
                ev.gv = exp_fast(lg);
                ev.gb = exp_fast(self.beta * lg);
                ev.n_in = self.g.input_top(lg).map_or(0, |t| t + 1);
            } else {
                ev.delta = self.pend + eta;
            }
            self.pend = 0.0;
            return Some(ev);
        }
        None
    }
}

/// Node states of one curve: E (value), and with gradients H (S-weighted, for C), G1 and G2
/// (ln lr- and lr^γ·ln lr-weighted inputs, for γ).
struct States<const GRAD: bool> {
    e: Vec<f64>,
    hs: Vec<f64>,
    g1: Vec<f64>,
    g2: Vec<f64>,
}

impl<const GRAD: bool> States<GRAD> {
    fn new(n: usize) -> Self {
        let ng = if GRAD { n } else { 0 };
        Self { e: vec![0.0; n], hs: vec![0.0; ng], g1: vec![0.0; ng], g2: vec![0.0; ng] }
    }

    /// Decay nodes `from..from + m.len()` by the factors `m` over an LR area `delta`, no input.
    // Index loops over slices cut to one length: no bounds checks, vectorised.
    #[allow(clippy::needless_range_loop)]
    #[inline]
    fn decay(&mut self, from: usize, delta: f64, m: &[f64]) {
        let n = m.len();
        let e = &mut self.e[from..from + n];
        if GRAD {
            let (hs, g1, g2) =
                (&mut self.hs[from..from + n], &mut self.g1[from..from + n], &mut self.g2[from..from + n]);
            for j in 0..n {
                let t = e[j];
                hs[j] = m[j] * (hs[j] + delta * t);
                e[j] = m[j] * t;
                g1[j] *= m[j];
                g2[j] *= m[j];
            }
        } else {
            for j in 0..n {
                e[j] *= m[j];
            }
        }
    }

    /// Add `inp` to nodes `0..inp.len()` (ln lr = `l`, lr^γ·ln lr = `gl` for G1, G2), then decay
    /// them by the factors `m` of one step of LR `eta`.
    #[allow(clippy::needless_range_loop)]
    #[inline]
    fn input(&mut self, eta: f64, l: f64, gl: f64, inp: &[f64], m: &[f64]) {
        let n = inp.len();
        let (m, e) = (&m[..n], &mut self.e[..n]);
        if GRAD {
            let (hs, g1, g2) = (&mut self.hs[..n], &mut self.g1[..n], &mut self.g2[..n]);
            for j in 0..n {
                let x = inp[j];
                let t = e[j] + x;
                hs[j] = m[j] * (hs[j] + eta * t);
                e[j] = m[j] * t;
                g1[j] = m[j] * (g1[j] + x * l);
                g2[j] = m[j] * (g2[j] + x * gl);
            }
        } else {
            for j in 0..n {
                e[j] = m[j] * (e[j] + inp[j]);
            }
        }
    }

    fn clear(&mut self, j: usize) {
        self.e[j] = 0.0;
        if GRAD {
            self.hs[j] = 0.0;
            self.g1[j] = 0.0;
            self.g2[j] = 0.0;
        }
    }
}

/// Events per pipeline block.
const BLOCK: usize = 256;
/// Events (sources plus log points) from which the two pipeline stages run on two threads.
const PIPELINE_MIN_EVENTS: usize = 4 * BLOCK;

/// One event as the state stage sees it.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    s: usize,
    /// Offset and length of this event's pre-decay row in `Block::pre` (a source after skipped
    /// steps), if any.
    pre: Option<(usize, usize)>,
    pre_delta: f64,
    delta: f64,
    /// Nodes that get input, live nodes during the event, live nodes after it.
    n_in: usize,
    hi: usize,
    hi_after: usize,
    /// d·lr^{γβ}, ln lr, lr^γ of a source.
    u: f64,
    l: f64,
    gv: f64,
    logged: bool,
    /// Tail [f, ∂f/∂C, ∂f/∂β, ∂f/∂γ] at a log point.
    tail: [f64; 4],
}

/// A block of events with their decay factors: row b of `m` holds e^{−r_j·C·delta_b}.
struct Block {
    steps: Vec<Step>,
    m: Vec<f64>,
    pre: Vec<f64>,
}

impl Block {
    fn new(n: usize) -> Self {
        Self { steps: Vec::with_capacity(BLOCK), m: vec![0.0; BLOCK * n], pre: Vec::new() }
    }
}

/// u·c_j·e^{−r_j·gv} for j < out.len().
#[inline]
fn input_row(g: &Grid, u: f64, gv: f64, out: &mut [f64]) {
    g.exp_neg_nodes(gv, out);
    for (o, c) in out.iter_mut().zip(&g.c) {
        *o *= u * c;
    }
}

/// Stage 1: walks the events, keeps the tail sums and the live-node range (which depends only on
/// the input times), and computes the node factors of a block.
struct Producer<'a> {
    events: Events<'a>,
    cv: &'a CurveData,
    g: &'a Grid,
    pr: Params,
    grad: bool,
    hi: usize,
    last_in: Vec<f64>,
    tail: Tail,
}

impl Producer<'_> {
    /// Fill `blk` with the next events; returns false when there are none.
    fn fill(&mut self, blk: &mut Block) -> bool {
        let (g, cv, n) = (self.g, self.cv, self.g.r.len());
        let c = self.pr.c;
        let bg = (self.pr.beta, self.pr.gamma);
        blk.steps.clear();
        blk.pre.clear();
        while blk.steps.len() < BLOCK {
            let Some(ev) = self.events.next() else { break };
            let b = blk.steps.len();
            let mut st = Step { s: ev.s, delta: ev.delta, logged: ev.logged, ..Default::default() };
            if ev.src {
                if ev.pre > 0.0 && self.hi > 0 {
                    let off = blk.pre.len();
                    blk.pre.resize(off + self.hi, 0.0);
                    g.exp_neg_nodes(c * ev.pre, &mut blk.pre[off..]);
                    st.pre = Some((off, self.hi));
                    st.pre_delta = ev.pre;
                }
                let src = (ev.d, ev.l, ev.gv, ev.gb);
                if self.grad {
                    self.tail.add::<true>(g, bg, src, cv.prefix[ev.s - 1]);
                } else {
                    self.tail.add::<false>(g, bg, src, cv.prefix[ev.s - 1]);
                }
                st.n_in = ev.n_in;
                st.u = ev.d * ev.gb;
                st.l = ev.l;
                st.gv = ev.gv;
                self.last_in[..ev.n_in].fill(cv.prefix[ev.s]);
                self.hi = self.hi.max(ev.n_in);
            }
            st.hi = self.hi;
            g.exp_neg_nodes(c * ev.delta, &mut blk.m[b * n..b * n + self.hi]);
            let ps = cv.prefix[ev.s];
            if ev.logged && ev.s >= cv.start {
                st.tail =
                    if self.grad { self.tail.value::<true>(c, ps) } else { self.tail.value::<false>(c, ps) };
            }
            // Drop nodes whose every input has decayed by e^{−DEAD} (highest rates die first).
            while self.hi > 0 && g.r[self.hi - 1] * c * (ps - self.last_in[self.hi - 1]) > DEAD {
                self.hi -= 1;
            }
            st.hi_after = self.hi;
            blk.steps.push(st);
        }
        !blk.steps.is_empty()
    }
}

/// Stage 2: the node recurrences and the sums at the log points.
struct Consumer<'a, const GRAD: bool> {
    cv: &'a CurveData,
    g: &'a Grid,
    pr: Params,
    st: States<GRAD>,
    inp: Vec<f64>,
    next: usize,
    lr_before: f64,
}

impl<const GRAD: bool> Consumer<'_, GRAD> {
    fn consume(&mut self, blk: &Block, out: &mut [[f64; 4]]) {
        let (g, cv, n) = (self.g, self.cv, self.g.r.len());
        let (beta, gamma) = (self.pr.beta, self.pr.gamma);
        for (b, st) in blk.steps.iter().enumerate() {
            let m = &blk.m[b * n..b * n + st.hi];
            if let Some((off, len)) = st.pre {
                self.st.decay(0, st.pre_delta, &blk.pre[off..off + len]);
            }
            if st.n_in > 0 {
                let inp = &mut self.inp[..st.n_in];
                input_row(g, st.u, st.gv, inp);
                self.st.input(st.delta, st.l, st.gv * st.l, inp, m);
            }
            self.st.decay(st.n_in, st.delta, &m[st.n_in..]);
            if st.logged {
                let hi = st.hi;
                let o = if st.s < cv.start {
                    [0.0; 4]
                } else {
                    let t = st.tail;
                    let se = sum4(&self.st.e[..hi]);
                    let ld = (cv.lr[st.s] - self.lr_before) - (se + t[0]);
                    if GRAD {
                        let sv = dot4(&self.st.e[..hi], &g.v);
                        let sh = dot4(&self.st.hs[..hi], &g.r);
                        let s1 = sum4(&self.st.g1[..hi]);
                        let s2 = dot4(&self.st.g2[..hi], &g.r);
                        // [LD, −∂f/∂C, −∂f/∂β, −∂f/∂γ]
                        [ld, sh - t[1], -(sv - g.psi * se + gamma * s1 + t[2]), -(beta * s1 - s2 + t[3])]
                    } else {
                        [ld, 0.0, 0.0, 0.0]
                    }
                };
                while self.next < cv.points.len() && cv.points[self.next] == st.s {
                    out[self.next] = o;
                    self.next += 1;
                }
            }
            for j in st.hi_after..st.hi {
                self.st.clear(j);
            }
        }
    }
}

/// LD and derivatives at every point of `cv` by the node recurrences, as a two-stage pipeline:
/// the events, tail sums and decay factors of block k+1 are computed while the node states absorb
/// block k (input factors, recurrences, sums). Two threads for long curves; identical arithmetic
/// on any number of threads.
fn scan_compressed<const GRAD: bool>(cv: &CurveData, pr: &Params, g: &Grid, out: &mut [[f64; 4]]) {
    let n = g.r.len();
    let events = Events { cv, g, beta: pr.beta, gamma: pr.gamma, s: 0, pend: 0.0, gnext: 0 };
    let mut prod =
        Producer { events, cv, g, pr: *pr, grad: GRAD, hi: 0, last_in: vec![0.0; n], tail: Tail::default() };
    let mut cons = Consumer::<GRAD> {
        cv,
        g,
        pr: *pr,
        st: States::new(n),
        inp: vec![0.0; n],
        next: 0,
        lr_before: cv.lr.get(cv.start.wrapping_sub(1)).copied().unwrap_or(0.0),
    };
    let (mut cur, mut nxt) = (Block::new(n), Block::new(n));
    let parallel = cv.sources.len() + cv.points.len() >= PIPELINE_MIN_EVENTS;
    let mut more = prod.fill(&mut cur);
    while more {
        let consume = |cons: &mut Consumer<'_, GRAD>, out: &mut [[f64; 4]]| cons.consume(&cur, out);
        more = if parallel {
            rayon::join(|| prod.fill(&mut nxt), || consume(&mut cons, out)).0
        } else {
            consume(&mut cons, out);
            prod.fill(&mut nxt)
        };
        std::mem::swap(&mut cur, &mut nxt);
    }
}

impl MultiPowerModel {
    /// Build the law at the logged points of `curves` (sharing parameters). Validates every LR
    /// (finite, ≥ 0), every index (in range, non-decreasing per curve) and S1 > 0 at every point.
    pub fn new(curves: &[MultiPowerCurve<'_>], options: MultiPowerOptions) -> Result<Self> {
        let mut ln_s1 = Vec::new();
        let curves = curves
            .iter()
            .enumerate()
            .map(|(i, c)| CurveData::new(i, c, options.s1_form, &mut ln_s1))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { curves, ln_s1, options })
    }

    /// η_ref of [`Reparam`]: the geometric mean of the LRs at the drops (lr[k] < lr[k−1], lr[k] > 0)
    /// weighted by the drop; at the rises if there is no drop; `None` without a positive-LR change.
    pub fn reference_lr(&self) -> Option<f64> {
        let mut acc = [(0.0, 0.0); 2]; // (Σ w·ln lr, Σ w) over drops, over rises
        for cv in &self.curves {
            for (&k, &d) in cv.sources.iter().zip(&cv.src_drop) {
                if cv.lr[k] > 0.0 {
                    let a = &mut acc[usize::from(d > 0.0)];
                    a.0 += d.abs() * cv.ln_lr[k];
                    a.1 += d.abs();
                }
            }
        }
        acc.iter().find(|a| a.1 > 0.0).map(|a| (a.0 / a.1).exp())
    }

    /// The options the model was built with.
    pub fn options(&self) -> MultiPowerOptions {
        self.options
    }

    /// LD (without B) and, when `gradients`, its derivatives in C, β, γ at every point.
    pub fn prepare_with(&self, params: &[f64], gradients: bool) -> MultiPowerPrepared {
        let pr = Params::new(params);
        let mut ld = vec![[0.0; 4]; self.ln_s1.len()];
        let mut parts = Vec::with_capacity(self.curves.len());
        let mut rest = &mut ld[..];
        for cv in &self.curves {
            let (head, tail) = rest.split_at_mut(cv.points.len());
            parts.push(head);
            rest = tail;
        }
        let exact = self.options.exact;
        self.curves.par_iter().zip(parts).for_each(|(cv, out)| cv.fill(&pr, exact, gradients, out));
        MultiPowerPrepared { ld, gradients }
    }

    /// Predictions at every point and, when `gradients`, the row-major n×7 gradient matrix.
    pub fn evaluate(&self, params: &[f64], gradients: bool) -> (Vec<f64>, Option<Vec<f64>>) {
        let prepared = self.prepare_with(params, gradients);
        let n = self.ln_s1.len();
        let mut values = vec![0.0; n];
        let mut grads = gradients.then(|| vec![0.0; n * N_PARAMS]);
        self.eval_chunk(params, &prepared, 0, &mut values, grads.as_deref_mut());
        (values, grads)
    }
}

impl Model for MultiPowerModel {
    type Prepared = MultiPowerPrepared;

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_points(&self) -> usize {
        self.ln_s1.len()
    }

    fn prepare(&self, params: &[f64]) -> MultiPowerPrepared {
        self.prepare_with(params, true)
    }

    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &MultiPowerPrepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let pr = Params::new(params);
        let len = values.len();
        let ld = &prepared.ld[start..start + len];
        let ln_s1 = &self.ln_s1[start..start + len];
        match gradients {
            None => {
                for ((v, d), &ls) in values.iter_mut().zip(ld).zip(ln_s1) {
                    *v = pr.l0 + pr.a * (-pr.alpha * ls).exp() + pr.b * d[0];
                }
            }
            Some(grad) => {
                assert!(prepared.gradients, "gradients asked of a MultiPowerPrepared built without them");
                for (((v, d), &ls), row) in
                    values.iter_mut().zip(ld).zip(ln_s1).zip(grad.chunks_exact_mut(N_PARAMS))
                {
                    let pw = (-pr.alpha * ls).exp();
                    *v = pr.l0 + pr.a * pw + pr.b * d[0];
                    row.copy_from_slice(&[
                        1.0,
                        pw,
                        -pr.a * pw * ls,
                        d[0],
                        pr.b * d[1],
                        pr.b * d[2],
                        pr.b * d[3],
                    ]);
                }
            }
        }
    }
}

/// One scale–exponent pair of [`Reparam`]: law scale p[scale] = q[scale]·e^(q[exponent]·ln_ref).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalePair {
    /// Index of the scale parameter (C: 4, A: 1).
    pub scale: usize,
    /// Index of its exponent (γ: 6, α: 2).
    pub exponent: usize,
    /// ln of the reference value (ln η_ref for C, ln S1_ref for A).
    pub ln_ref: f64,
}

/// The law in better-conditioned solver coordinates: scales measured at a reference point.
///
/// * C̃ = C·η_ref^(−γ), so x_k = C̃·(lr[k]/η_ref)^(−γ)·S_k. On one schedule C and γ are nearly
///   interchangeable along the curved valley C ∝ η_ref^γ (x depends on them through C·lr^(−γ) and
///   lr varies little); in (C̃, γ) that valley is nearly straight, which Gauss–Newton steps follow
///   in a few iterations instead of crawling along the curve. η_ref is the drop-weighted geometric
///   mean of the LRs at the drops (see [`MultiPowerModel::reference_lr`]).
/// * Ã = A·S_ref^(−α), so the power term is Ã·(S1/S_ref)^(−α): Ã is the term's value at the
///   reference area S_ref (the geometric mean of S1 over the logged points). A and α trade off
///   along A ∝ S_ref^α (with L0: the valley L0 ↓, A ↑, α ↓ of a flat power law), straight in (Ã, α).
///
/// A pure change of coordinates: the law, its optimum and its objective are unchanged;
/// [`Reparam::to_law`] maps parameters, gradients and Gauss–Newton matrices back. The pairs touch
/// disjoint parameters, so their maps commute.
#[derive(Debug, Clone)]
pub struct Reparam<'m> {
    model: &'m MultiPowerModel,
    pairs: Vec<ScalePair>,
}

impl<'m> Reparam<'m> {
    /// The law of `model` in (…, C̃, β, γ) with reference LR e^`ln_ref`.
    pub fn new(model: &'m MultiPowerModel, ln_ref: f64) -> Self {
        Self::with_pairs(model, vec![ScalePair { scale: 4, exponent: 6, ln_ref }])
    }

    /// The law of `model` with every pair of `pairs` reparametrised.
    pub fn with_pairs(model: &'m MultiPowerModel, pairs: Vec<ScalePair>) -> Self {
        Self { model, pairs }
    }

    /// Law parameters of solver parameters.
    pub fn to_law(&self, q: &[f64]) -> Vec<f64> {
        let mut p = q.to_vec();
        for pr in &self.pairs {
            p[pr.scale] = q[pr.scale] * (q[pr.exponent] * pr.ln_ref).exp();
        }
        p
    }

    /// Solver parameters of law parameters.
    pub fn from_law(&self, p: &[f64]) -> Vec<f64> {
        let mut q = p.to_vec();
        for pr in &self.pairs {
            q[pr.scale] = p[pr.scale] * (-p[pr.exponent] * pr.ln_ref).exp();
        }
        q
    }

    /// ∂p/∂q of a pair at law parameters `p`: ∂scale/∂scalẽ = e^(exponent·ln_ref),
    /// ∂scale/∂exponent = scale·ln_ref.
    fn chain(pr: &ScalePair, p: &[f64]) -> (f64, f64) {
        ((p[pr.exponent] * pr.ln_ref).exp(), p[pr.scale] * pr.ln_ref)
    }

    /// A gradient in q (row of ∂/∂q) from one in p: g_q = Mᵀ·g_p, M = ∂p/∂q.
    fn grad_to_solver(&self, p: &[f64], g: &mut [f64]) {
        for pr in &self.pairs {
            let (dc, dg) = Self::chain(pr, p);
            let gc = g[pr.scale];
            g[pr.scale] = gc * dc;
            g[pr.exponent] += gc * dg;
        }
    }

    /// A gradient in p from one in q at solver parameters `q` (inverse of `grad_to_solver`).
    pub fn gradient_to_law(&self, q: &[f64], g: &mut [f64]) {
        let p = self.to_law(q);
        for pr in &self.pairs {
            let (dc, dg) = Self::chain(pr, &p);
            g[pr.scale] /= dc;
            g[pr.exponent] -= g[pr.scale] * dg;
        }
    }

    /// A row-major 7×7 Gauss–Newton matrix in p from one in q: H_p = M⁻ᵀ·H_q·M⁻¹.
    pub fn hessian_to_law(&self, q: &[f64], h: &mut [f64]) {
        let p = self.to_law(q);
        for pr in &self.pairs {
            let (dc, dg) = Self::chain(pr, &p);
            let (s, e) = (pr.scale, pr.exponent);
            // M⁻¹ = ∂q/∂p: identity except ∂s̃/∂s = 1/dc, ∂s̃/∂e = −dg/dc. Apply to rows, then columns.
            let (a, b) = (1.0 / dc, -dg / dc);
            for col in 0..N_PARAMS {
                let (hs, he) = (h[s * N_PARAMS + col], h[e * N_PARAMS + col]);
                h[s * N_PARAMS + col] = a * hs;
                h[e * N_PARAMS + col] = he + b * hs;
            }
            for row in 0..N_PARAMS {
                let (hs, he) = (h[row * N_PARAMS + s], h[row * N_PARAMS + e]);
                h[row * N_PARAMS + s] = a * hs;
                h[row * N_PARAMS + e] = he + b * hs;
            }
        }
    }
}

impl Model for Reparam<'_> {
    type Prepared = MultiPowerPrepared;

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_points(&self) -> usize {
        self.model.n_points()
    }

    fn prepare(&self, q: &[f64]) -> MultiPowerPrepared {
        self.model.prepare(&self.to_law(q))
    }

    fn eval_chunk(
        &self,
        q: &[f64],
        prepared: &MultiPowerPrepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let p = self.to_law(q);
        match gradients {
            None => self.model.eval_chunk(&p, prepared, start, values, None),
            Some(grad) => {
                self.model.eval_chunk(&p, prepared, start, values, Some(&mut *grad));
                for row in grad.chunks_exact_mut(N_PARAMS) {
                    self.grad_to_solver(&p, row);
                }
            }
        }
    }
}

/// Fit the multi-power law jointly over curves from every start (in parallel); the lowest objective
/// wins. Returns the solve and the linear-space residual sums at the optimum.
///
/// When C and γ (A and α) are both free, without a prior, and C's (A's) bounds are [0, ∞) or (−∞, ∞)
/// (so that they stay a box), the solver works in the coordinates of [`Reparam`]; the report is mapped back (parameters, gradient and
/// Gauss–Newton matrix of the law's own parameters; the objective is the same function).
pub fn fit(
    curves: &[MultiPowerCurve<'_>],
    options: MultiPowerOptions,
    observed: crate::problem::Observations<'_>,
    starts: &[Vec<f64>],
    opts: &crate::lm::LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(crate::strategy::MultiStartReport, crate::problem::LinearStats)> {
    use crate::problem::DataProblem;
    let crate::problem::Observations { targets, weights, space } = observed;
    let model = MultiPowerModel::new(curves, options)?;
    // A scale reparametrised with its exponent must be free, bounded by [0, ∞) or (−∞, ∞) (so the
    // bounds stay a box) and without a prior (a prior is Gaussian in the law's coordinates).
    let pair_ok = |scale: usize, exponent: usize| {
        let lower_ok = opts.lower[scale] == 0.0 || opts.lower[scale] == f64::NEG_INFINITY;
        let prior_ok = opts.prior.as_ref().is_none_or(|p| !p.constrains(scale) && !p.constrains(exponent));
        !opts.fixed[scale]
            && !opts.fixed[exponent]
            && lower_ok
            && opts.upper[scale] == f64::INFINITY
            && prior_ok
    };
    let mut pairs = Vec::new();
    if let Some(eta) = model.reference_lr().filter(|_| pair_ok(4, 6)) {
        pairs.push(ScalePair { scale: 4, exponent: 6, ln_ref: eta.ln() });
    }
    if !model.ln_s1.is_empty() && pair_ok(1, 2) {
        let ln_sref = model.ln_s1.iter().sum::<f64>() / model.ln_s1.len() as f64;
        if ln_sref.is_finite() {
            pairs.push(ScalePair { scale: 1, exponent: 2, ln_ref: ln_sref });
        }
    }
    if pairs.is_empty() {
        let full = DataProblem::new(model, targets, weights, space)?;
        let rep = crate::strategy::multistart::<_, DataProblem<'_, MultiPowerModel>>(
            &full, None, starts, opts, 1, stop,
        )?;
        let stats = linear_stats(&full.model, &rep.best.params, targets);
        return Ok((rep, stats));
    }
    let rp = Reparam::with_pairs(&model, pairs);
    let problem = DataProblem::new(rp.clone(), targets, weights, space)?;
    // C ∈ [0, ∞) ⇔ C̃ ∈ [0, ∞), A ∈ [0, ∞) ⇔ Ã ∈ [0, ∞) (and (−∞, ∞) alike): the bounds carry over.
    let q_starts: Vec<Vec<f64>> = starts.iter().map(|s| rp.from_law(s)).collect();
    let mut rep = crate::strategy::multistart::<_, DataProblem<'_, Reparam<'_>>>(
        &problem, None, &q_starts, opts, 1, stop,
    )?;
    let q = rep.best.params.clone();
    rp.gradient_to_law(&q, &mut rep.best.gradient);
    rp.hessian_to_law(&q, &mut rep.best.hessian);
    rep.best.params = rp.to_law(&q);
    let stats = linear_stats(&model, &rep.best.params, targets);
    Ok((rep, stats))
}

/// [`crate::problem::DataProblem::linear_stats`] from a values-only evaluation (no gradient
/// recurrences): one chunked pass, combined in chunk order (independent of the thread count).
fn linear_stats(model: &MultiPowerModel, params: &[f64], targets: &[f64]) -> crate::problem::LinearStats {
    let prepared = model.prepare_with(params, false);
    crate::problem::linear_stats_of(targets, |start, pred| {
        model.eval_chunk(params, &prepared, start, pred, None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS_400M: [f64; 7] =
        [2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457];

    /// The paper's warmup (0 → 3e-4 over 2160 steps) then `after(s)` for s ≥ 2160.
    fn with_warmup(total: usize, after: impl Fn(usize) -> f64) -> Vec<f64> {
        (0..total).map(|s| if s < 2160 { 3e-4 * s as f64 / 2159.0 } else { after(s) }).collect()
    }

    fn cosine(total: usize) -> Vec<f64> {
        with_warmup(total, |s| {
            let p = (s - 2160) as f64 / (total - 2160) as f64;
            3e-5 + 0.5 * (3e-4 - 3e-5) * (1.0 + (std::f64::consts::PI * p).cos())
        })
    }

    fn wsd(total: usize, decay_start: usize) -> Vec<f64> {
        with_warmup(total, |s| {
            if s < decay_start {
                3e-4
            } else {
                let t = (s - decay_start) as f64 / (total - decay_start) as f64;
                3e-4f64.powf(1.0 - t) * 3e-5f64.powf(t)
            }
        })
    }

    /// Steps, re-warmups and zero LRs.
    fn rough(total: usize) -> Vec<f64> {
        (0..total)
            .map(|s| match s % 700 {
                0..=99 => 1e-3 * s as f64 / 7000.0 % 1e-3,
                100..=299 => 8e-4,
                300..=399 => 0.0,
                400..=499 => 2e-5,
                _ => 5e-4 + 1e-4 * ((s as f64) * 0.05).sin(),
            })
            .collect()
    }

    /// The formula, term by term, with S_k(s) summed directly (no prefix sums).
    fn literal(lr: &[f64], indices: &[usize], p: &[f64]) -> Vec<f64> {
        indices
            .iter()
            .map(|&s| {
                let s1: f64 = lr[..=s].iter().sum();
                let mut ld = 0.0;
                for k in 1..=s {
                    let d = lr[k] - lr[k - 1];
                    if d == 0.0 {
                        continue;
                    }
                    let g = if lr[k] == 0.0 {
                        1.0
                    } else {
                        let sk: f64 = lr[k..=s].iter().sum();
                        1.0 - (1.0 + p[4] * lr[k].powf(-p[6]) * sk).powf(-p[5])
                    };
                    ld += d * g;
                }
                p[0] + p[1] * s1.powf(-p[2]) + p[3] * ld
            })
            .collect()
    }

    fn model(lr: &[f64], idx: &[usize], exact: bool) -> MultiPowerModel {
        let opts = MultiPowerOptions { exact, ..Default::default() };
        MultiPowerModel::new(&[MultiPowerCurve { lr, indices: idx }], opts).unwrap()
    }

    fn every(total: usize, stride: usize, first: usize) -> Vec<usize> {
        (first..total).step_by(stride).collect()
    }

    /// Largest |a − b| / |b| and, over the gradient columns, |a − b| / (max |b| of the column).
    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs()).fold(0.0, f64::max)
    }

    /// Total variation Σ|lr[k] − lr[k−1]| of a schedule.
    fn tv(lr: &[f64]) -> f64 {
        lr.windows(2).map(|w| (w[1] - w[0]).abs()).sum()
    }

    /// Per parameter θ_j: max over points of |θ_j|·|Δ ∂L̂/∂θ_j| / (B·TV), the scale-free gradient
    /// error whose documented bound is 1e-7 (B·TV is the largest loss drop the law can produce).
    fn grad_err(a: &[f64], b: &[f64], p: &[f64; 7], tv: f64) -> [f64; 7] {
        let mut out = [0.0; 7];
        for (col, o) in out.iter_mut().enumerate() {
            let worst = a.iter().zip(b).skip(col).step_by(7).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            *o = worst * p[col].abs().max(1e-300) / (p[3] * tv);
        }
        out
    }

    /// Benchmark, not a test: best-of-N wall time of one compressed evaluation (values, then
    /// values + gradients, at every step) of a cosine schedule with the paper's warmup. Env:
    /// MPL_STEPS (default 1e5), MPL_REPS (default 30), MPL_TIMING=values|grads, RAYON_NUM_THREADS.
    /// `cargo test --release --lib timing_best_of -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing_best_of() {
        let steps: usize = std::env::var("MPL_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        let reps: usize = std::env::var("MPL_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
        let lr = cosine(steps);
        let idx = every(lr.len(), 1, 1);
        let m = model(&lr, &idx, false);
        let modes: Vec<bool> = match std::env::var("MPL_TIMING").as_deref() {
            Ok("values") => vec![false],
            Ok("grads") => vec![true],
            _ => vec![false, true],
        };
        let best = |f: &dyn Fn()| {
            (0..reps)
                .map(|_| {
                    let t = std::time::Instant::now();
                    f();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min)
        };
        for grads in modes {
            let all = best(&|| {
                std::hint::black_box(m.evaluate(&PARAMS_400M, grads));
            });
            let ld = best(&|| {
                std::hint::black_box(m.prepare_with(&PARAMS_400M, grads));
            });
            println!("steps {steps} grads={grads}: best {all:.4} s (LD part {ld:.4} s)");
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Long enough for the two-stage pipeline and the parallel exact path.
        let lr = cosine(30_000);
        let idx = every(lr.len(), 1, 2000);
        for exact in [false, true] {
            let idx = if exact { every(lr.len(), 97, 2000) } else { idx.clone() };
            let m = model(&lr, &idx, exact);
            let many = m.evaluate(&PARAMS_400M, true);
            let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let one = pool.install(|| m.evaluate(&PARAMS_400M, true));
            assert_eq!(many, one);
        }
    }

    #[test]
    fn fast_exp_is_accurate() {
        let mut worst: f64 = 0.0;
        for i in -69000..=69000 {
            let x = i as f64 * 0.01 + 0.003_7;
            let (a, b) = (exp_fast(x), x.exp());
            worst = worst.max((a - b).abs() / b);
        }
        assert!(worst < 1e-15, "{worst:e}");
        assert_eq!(exp_neg(0.0), 1.0);
        assert!(exp_neg(1e4) < 1e-300);
        for x in [1e-20_f64, 1e-9, 1e-4, 0.009_999, 0.01, 0.5, 3.0, 40.0] {
            let want = -(-x).exp_m1();
            assert!((one_minus_exp(x) - want).abs() <= 2e-14 * want, "{x}");
        }
    }

    #[test]
    fn special_functions() {
        let sqrt_pi = std::f64::consts::PI.sqrt();
        assert!((ln_gamma(0.5) - sqrt_pi.ln()).abs() < 1e-14);
        assert!(ln_gamma(1.0).abs() < 1e-14 && ln_gamma(2.0).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362880f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.1) - 2.252_712_651_734_206).abs() < 1e-13);
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-14);
        assert!((digamma(0.5) + 1.963_510_026_021_423_5).abs() < 1e-13);
        assert!((digamma(0.1) + 10.423_754_940_411_076).abs() < 1e-12);
        // The documented quadrature bound for β ≤ 1 at h = (2/3) ln 2.
        let h = 2.0 * std::f64::consts::LN_2 / 3.0;
        assert!(quadrature_bound(1.0, h) < 1e-8 && quadrature_bound(1.0, h) > 9e-9);
        assert!(quadrature_bound(0.6, h) < 2.5e-9);
    }

    #[test]
    fn exact_matches_literal_formula() {
        for lr in [cosine(3000), wsd(3000, 2500), rough(3000)] {
            let idx = every(3000, 37, 5);
            let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
            let (v, _) = model(&lr, &idx, true).evaluate(&p, false);
            let want = literal(&lr, &idx, &p);
            assert!(rel_err(&v, &want) < 1e-12, "{}", rel_err(&v, &want));
        }
    }

    #[test]
    fn compressed_matches_exact() {
        let cases: Vec<(Vec<f64>, [f64; 7])> = vec![
            (cosine(24000), PARAMS_400M),
            (wsd(24000, 20000), PARAMS_400M),
            (rough(20000), [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6]),
            (cosine(24000), [3.0, 0.5, 0.5, 2000.0, 50.0, 0.95, 0.05]),
            (cosine(24000), [3.0, 0.5, 0.5, 300.0, 0.01, 0.05, 0.95]),
            (rough(20000), [3.0, 0.5, 0.5, 400.0, 1e3, 1.0, 1.0]),
            (wsd(24000, 12000), [3.0, 0.5, 0.5, 400.0, 2.0, 1.5, 0.6]),
        ];
        for (lr, p) in cases {
            let idx = every(lr.len(), 13, 2200);
            let (ve, ge) = model(&lr, &idx, true).evaluate(&p, true);
            let (vc, gc) = model(&lr, &idx, false).evaluate(&p, true);
            let err = rel_err(&vc, &ve);
            assert!(err < 1e-8, "value {err:e} for {p:?}");
            // Documented bound: |ΔL̂| ≤ 1.2e-8·B·TV.
            let tv = tv(&lr);
            let abs = vc.iter().zip(&ve).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(abs <= 1.2e-8 * p[3] * tv, "abs {abs:e} > bound {:e}", 1.2e-8 * p[3] * tv);
            let gerr = grad_err(gc.as_ref().unwrap(), ge.as_ref().unwrap(), &p, tv);
            println!("value {err:.2e} abs/(B·TV) {:.2e} gradients {gerr:?}", abs / (p[3] * tv));
            assert!(gerr.iter().all(|&x| x < 1e-7), "gradients {gerr:?} for {p:?}");
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let lr = rough(4000);
        let idx = every(4000, 11, 3);
        let p = [3.0, 0.5, 0.45, 400.0, 2.0, 0.6, 0.65];
        for exact in [true, false] {
            let m = model(&lr, &idx, exact);
            let (_, g) = m.evaluate(&p, true);
            let g = g.unwrap();
            for j in 0..7 {
                let step = 1e-6 * p[j].abs();
                let (mut hi, mut lo) = (p, p);
                hi[j] += step;
                lo[j] -= step;
                // Finite differences of the exact law (the compressed gradients are tested against it).
                let me = model(&lr, &idx, true);
                let (vh, _) = me.evaluate(&hi, false);
                let (vl, _) = me.evaluate(&lo, false);
                let fd: Vec<f64> = vh.iter().zip(&vl).map(|(a, b)| (a - b) / (2.0 * step)).collect();
                let col: Vec<f64> = g.iter().skip(j).step_by(7).copied().collect();
                let scale = fd.iter().map(|x| x.abs()).fold(1e-300, f64::max);
                let err = col.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
                assert!(err < 1e-6, "exact={exact} param {}: {err:e}", PARAM_NAMES[j]);
            }
        }
    }

    #[test]
    fn constant_schedule_has_no_loss_drop() {
        let lr = vec![3e-4; 5000];
        let idx = every(5000, 7, 0);
        let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
        for exact in [true, false] {
            let m = model(&lr, &idx, exact);
            let (v, g) = m.evaluate(&p, true);
            let g = g.unwrap();
            for (i, &s) in idx.iter().enumerate() {
                let s1 = 3e-4 * (s + 1) as f64;
                assert!((v[i] - (3.0 + 0.5 * s1.powf(-0.5))).abs() < 1e-12);
                assert_eq!(&g[i * 7 + 3..i * 7 + 7], &[0.0; 4]);
            }
        }
    }

    #[test]
    fn zero_learning_rates_give_g_one_without_nan() {
        let mut lr = vec![1e-3; 300];
        lr[100..150].fill(0.0);
        lr[200..].fill(0.0);
        let idx = every(300, 1, 0);
        let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
        let (ve, ge) = model(&lr, &idx, true).evaluate(&p, true);
        let (vc, gc) = model(&lr, &idx, false).evaluate(&p, true);
        assert!(ve
            .iter()
            .chain(&vc)
            .chain(ge.as_ref().unwrap())
            .chain(gc.as_ref().unwrap())
            .all(|x| x.is_finite()));
        let abs = vc.iter().zip(&ve).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(abs <= 1.2e-8 * 400.0 * tv(&lr), "{abs:e}");
        // Right after the drop to 0 at k = 100: d·G = −1e-3·1.
        assert!((ve[100] - (3.0 + 0.5 * (0.1f64).powf(-0.5) - 400.0 * 1e-3)).abs() < 1e-12);
        assert!(rel_err(&ve, &literal(&lr, &idx, &p)) < 1e-13);
    }

    #[test]
    fn several_curves_concatenate_points() {
        let (a, b) = (cosine(6000), wsd(5000, 4000));
        let (ia, ib) = (every(6000, 50, 2500), every(5000, 30, 2200));
        let p = PARAMS_400M;
        for exact in [true, false] {
            let opts = MultiPowerOptions { exact, ..Default::default() };
            let joint = MultiPowerModel::new(
                &[MultiPowerCurve { lr: &a, indices: &ia }, MultiPowerCurve { lr: &b, indices: &ib }],
                opts,
            )
            .unwrap();
            let (v, _) = joint.evaluate(&p, false);
            let (va, _) = model(&a, &ia, exact).evaluate(&p, false);
            let (vb, _) = model(&b, &ib, exact).evaluate(&p, false);
            assert_eq!(v, [va, vb].concat());
        }
    }

    #[test]
    fn paper_form_equals_repo_form_shifted() {
        // With the paper's linear warmup ramp its area ½·η·W equals the ramp's sum; LD differs by
        // the warmup's own (rising) terms only.
        let lr = cosine(8000);
        let idx = every(8000, 25, 2200);
        let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
        let paper = MultiPowerOptions { exact: true, s1_form: S1Form::Paper { warmup_steps: None } };
        let m = MultiPowerModel::new(&[MultiPowerCurve { lr: &lr, indices: &idx }], paper).unwrap();
        let (v, _) = m.evaluate(&p, false);
        let ramp: f64 = lr[..2160].iter().sum();
        assert!((ramp - 0.5 * 3e-4 * 2160.0).abs() < 1e-12);
        for (i, &s) in idx.iter().enumerate() {
            let s1: f64 = 0.5 * 3e-4 * 2160.0 + lr[2160..=s].iter().sum::<f64>();
            let mut ld = 0.0;
            for k in 2160..=s {
                let sk: f64 = lr[k..=s].iter().sum();
                ld += (lr[k] - lr[k - 1]) * (1.0 - (1.0 + 2.0 * lr[k].powf(-0.6) * sk).powf(-0.6));
            }
            let want = 3.0 + 0.5 * s1.powf(-0.5) + 400.0 * ld;
            assert!((v[i] - want).abs() < 1e-12 * want);
        }
        assert_eq!(infer_warmup(&lr), 2160);
        let c = MultiPowerModel::new(
            &[MultiPowerCurve { lr: &lr, indices: &idx }],
            MultiPowerOptions { exact: false, s1_form: S1Form::Paper { warmup_steps: Some(2160) } },
        )
        .unwrap();
        assert!(rel_err(&c.evaluate(&p, false).0, &v) < 1e-9);
    }

    #[test]
    fn rejects_bad_input() {
        let lr = [0.0, 1e-3, 1e-3];
        let bad = |lr: &[f64], idx: &[usize]| {
            MultiPowerModel::new(&[MultiPowerCurve { lr, indices: idx }], MultiPowerOptions::default())
                .unwrap_err()
        };
        assert!(bad(&lr, &[3]).to_string().contains("out of range"));
        assert!(bad(&lr, &[2, 1]).to_string().contains("non-decreasing"));
        assert!(bad(&lr, &[0]).to_string().contains("S1"));
        assert!(bad(&[1e-3, f64::NAN], &[0]).to_string().contains("lrs[0][1]"));
        assert!(S1Form::parse("nope", None).is_err());
    }

    #[test]
    fn reference_lr_is_the_drop_weighted_geometric_mean() {
        // Rise 1e-4 → 1e-3 (ignored: there are drops), drops to 5e-4 and to 1e-4.
        let mut lr = vec![1e-4; 10];
        lr.extend([1e-3; 10]);
        lr.extend([5e-4; 10]);
        lr.extend([1e-4; 10]);
        let m = model(&lr, &[39], true);
        let want = ((5e-4 * 5e-4f64.ln() + 4e-4 * 1e-4f64.ln()) / 9e-4).exp();
        assert!((m.reference_lr().unwrap() / want - 1.0).abs() < 1e-12);
        // Rises only: rise-weighted; no change: None.
        let ramp: Vec<f64> = (1..=100).map(|i| 1e-5 * i as f64).collect();
        let want = (ramp[1..].iter().map(|x| x.ln()).sum::<f64>() / 99.0).exp();
        assert!((model(&ramp, &[99], true).reference_lr().unwrap() / want - 1.0).abs() < 1e-12);
        assert_eq!(model(&[3e-4; 50], &[49], true).reference_lr(), None);
    }

    /// Reparam's gradients in (…, C̃, β, γ) against central differences of its values.
    #[test]
    fn reparam_gradients_match_finite_differences() {
        let lr = wsd(6000, 4000);
        let idx = every(6000, 7, 2200);
        let m = model(&lr, &idx, true);
        let rp = Reparam::new(&m, m.reference_lr().unwrap().ln());
        let q = rp.from_law(&PARAMS_400M);
        let eval = |q: &[f64], grads: bool| {
            let prep = rp.prepare(q);
            let mut v = vec![0.0; idx.len()];
            let mut g = vec![0.0; idx.len() * 7];
            rp.eval_chunk(q, &prep, 0, &mut v, grads.then_some(&mut g[..]));
            (v, g)
        };
        let (v0, g) = eval(&q, true);
        let (vp, _) = m.evaluate(&PARAMS_400M, false);
        assert!(rel_err(&v0, &vp) < 1e-14, "same law: {}", rel_err(&v0, &vp));
        for j in 0..7 {
            let step = 1e-6 * q[j].abs();
            let (mut hi, mut lo) = (q.clone(), q.clone());
            hi[j] += step;
            lo[j] -= step;
            let fd: Vec<f64> = eval(&hi, false)
                .0
                .iter()
                .zip(&eval(&lo, false).0)
                .map(|(a, b)| (a - b) / (2.0 * step))
                .collect();
            let col: Vec<f64> = g.iter().skip(j).step_by(7).copied().collect();
            let scale = fd.iter().map(|x| x.abs()).fold(1e-300, f64::max);
            let err = col.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
            assert!(err < 1e-6, "param {j}: {err:e}");
        }
        // Round trip of the coordinates.
        let back = rp.to_law(&q);
        assert!(back.iter().zip(&PARAMS_400M).all(|(a, b)| (a - b).abs() <= 1e-15 * b.abs()));
    }

    /// Gradient and Gauss–Newton matrix mapped back from (…, C̃, β, γ) equal JᵀJ and Jᵀr built from
    /// the law's own Jacobian.
    #[test]
    fn reparam_maps_gradient_and_gauss_newton_matrix_back() {
        let lr = cosine(8000);
        let idx = every(8000, 11, 2200);
        let m = model(&lr, &idx, false);
        let ln_sref = m.ln_s1.iter().sum::<f64>() / m.ln_s1.len() as f64;
        let both = vec![
            ScalePair { scale: 4, exponent: 6, ln_ref: m.reference_lr().unwrap().ln() },
            ScalePair { scale: 1, exponent: 2, ln_ref: ln_sref },
        ];
        for rp in [Reparam::new(&m, m.reference_lr().unwrap().ln()), Reparam::with_pairs(&m, both)] {
            check_reparam_maps_back(&m, &rp, &idx);
        }
    }

    fn check_reparam_maps_back(m: &MultiPowerModel, rp: &Reparam<'_>, idx: &[usize]) {
        let p = [2.4, 0.6, 0.45, 500.0, 0.3, 0.65, 0.85];
        let q = rp.from_law(&p);
        let back = rp.to_law(&q);
        for (a, b) in back.iter().zip(&p) {
            assert!((a - b).abs() <= 1e-12 * b.abs());
        }
        let (_, jp) = m.evaluate(&p, true);
        let jp = jp.unwrap();
        let prep = rp.prepare(&q);
        let (mut v, mut jq) = (vec![0.0; idx.len()], vec![0.0; idx.len() * 7]);
        rp.eval_chunk(&q, &prep, 0, &mut v, Some(&mut jq));
        let r: Vec<f64> = (0..idx.len()).map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) * 1e-3).collect();
        let normal = |j: &[f64]| {
            let (mut g, mut h) = (vec![0.0; 7], vec![0.0; 49]);
            for (row, ri) in j.chunks_exact(7).zip(&r) {
                for a in 0..7 {
                    g[a] += row[a] * ri;
                    for b in 0..7 {
                        h[a * 7 + b] += row[a] * row[b];
                    }
                }
            }
            (g, h)
        };
        let (gp, hp) = normal(&jp);
        let (mut gq, mut hq) = normal(&jq);
        rp.gradient_to_law(&q, &mut gq);
        rp.hessian_to_law(&q, &mut hq);
        for a in 0..7 {
            assert!((gq[a] - gp[a]).abs() <= 1e-9 * gp[a].abs().max(1e-300), "g[{a}] {} vs {}", gq[a], gp[a]);
            for b in 0..7 {
                let scale = (hp[a * 7 + a] * hp[b * 7 + b]).sqrt();
                let err = (hq[a * 7 + b] - hp[a * 7 + b]).abs() / scale;
                assert!(err <= 1e-9, "H[{a}][{b}]: {err:e}");
            }
        }
    }

    /// `fit` in the reparametrised coordinates and in the law's own (C bounded above, so the
    /// reparametrisation is off) reach the same objective; the reported gradient and Gauss–Newton
    /// matrix are those of the law's parameters at the reported optimum.
    #[test]
    fn fit_in_reparametrised_coordinates_matches_the_plain_fit() {
        use crate::lm::{accumulate_with_floor, LmOptions};
        use crate::problem::{DataProblem, Space};
        use crate::robust::RobustLoss;
        let (a, b) = (cosine(9000), wsd(9000, 7000));
        let (ia, ib) = (every(9000, 9, 2200), every(9000, 9, 2200));
        let curves = [MultiPowerCurve { lr: &a, indices: &ia }, MultiPowerCurve { lr: &b, indices: &ib }];
        let truth = MultiPowerModel::new(&curves, MultiPowerOptions::default()).unwrap();
        let (clean, _) = truth.evaluate(&PARAMS_400M, false);
        let y: Vec<f64> = clean
            .iter()
            .enumerate()
            .map(|(i, v)| v * (1.0 + 2e-3 * ((i * 7919 % 101) as f64 / 50.0 - 1.0)))
            .collect();
        let mut opts = LmOptions::new(7);
        opts.loss = RobustLoss::Huber(1e-3);
        opts.lower = vec![0.0; 7];
        opts.upper = vec![f64::INFINITY, f64::INFINITY, 5.0, f64::INFINITY, f64::INFINITY, 1.0, 1.0];
        let starts = vec![vec![2.5, 0.5, 0.45, 600.0, 1.0, 0.5, 0.5]];
        let run = |opts: &LmOptions| {
            fit(
                &curves,
                MultiPowerOptions::default(),
                crate::problem::Observations { targets: &y, weights: None, space: Space::Log },
                &starts,
                opts,
                &|| false,
            )
            .unwrap()
        };
        let (rq, sq) = run(&opts);
        let mut plain_opts = opts.clone();
        plain_opts.upper[4] = 1e300;
        let (rp, _) = run(&plain_opts);
        assert!(rq.best.status.success() && rp.best.status.success());
        let rel = (rq.best.cost - rp.best.cost).abs() / rp.best.cost;
        assert!(rel < 1e-8, "objectives {} vs {}", rq.best.cost, rp.best.cost);
        // The report's gradient and matrix, recomputed in the law's coordinates at its parameters.
        let model = MultiPowerModel::new(&curves, MultiPowerOptions::default()).unwrap();
        let direct = DataProblem::new(model, &y, None, Space::Log).unwrap();
        let acc = accumulate_with_floor(&direct, &rq.best.params, opts.loss, opts.curvature_floor, true);
        assert!((acc.cost - rq.best.cost).abs() <= 1e-12 * acc.cost);
        let gscale: Vec<f64> = (0..7).map(|j| acc.hessian[j * 8].sqrt()).collect();
        for j in 0..7 {
            // Gradients vanish at the optimum: compare in units of √H_jj · √(2·cost).
            let unit = gscale[j] * (2.0 * acc.cost).sqrt();
            assert!((rq.best.gradient[j] - acc.gradient[j]).abs() <= 1e-6 * unit, "gradient {j}");
            for k in 0..7 {
                let err =
                    (rq.best.hessian[j * 7 + k] - acc.hessian[j * 7 + k]).abs() / (gscale[j] * gscale[k]);
                assert!(err < 1e-8, "H[{j}][{k}] {err:e}");
            }
        }
        // The values-only statistics equal DataProblem's (which prepares with gradients).
        let direct_stats = direct.linear_stats(&rq.best.params);
        assert_eq!(sq.n, direct_stats.n);
        for (a, b) in [
            (sq.sum_sq, direct_stats.sum_sq),
            (sq.sum_abs, direct_stats.sum_abs),
            (sq.total_sq, direct_stats.total_sq),
        ] {
            assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
        }
    }

    #[test]
    fn model_trait_chunks_agree() {
        let lr = wsd(6000, 4000);
        let idx = every(6000, 3, 2160);
        let m = model(&lr, &idx, false);
        let p = PARAMS_400M;
        let prep = m.prepare(&p);
        let (v, g) = m.evaluate(&p, true);
        let g = g.unwrap();
        let (start, len) = (100, 57);
        let mut vc = vec![0.0; len];
        let mut gc = vec![0.0; len * 7];
        m.eval_chunk(&p, &prep, start, &mut vc, Some(&mut gc));
        assert_eq!(vc, v[start..start + len]);
        assert_eq!(gc, g[start * 7..(start + len) * 7]);
    }
}
