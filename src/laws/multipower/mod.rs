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
//!
//! # Layout
//!
//! * `curve`: the schedule data of one curve (validation, prefix sums, S1, the LR changes) and the
//!   choice between the two paths;
//! * `exact`: the literal O(K·n) sum;
//! * `nodes`: the node grid of the exponential sum (its error bound from [`crate::special`]) and
//!   its fast node factors;
//! * `tail`: the closed-form sum of the nodes below the grid;
//! * `scan`: the compressed O(J·T) scan along the schedule (events, node states, the pipeline);
//! * `reparam`: the better-conditioned solver coordinates (C̃, Ã);
//! * `fit`: the multi-start fit driver.

mod curve;
mod exact;
mod fit;
mod nodes;
mod reparam;
mod scan;
mod tail;
#[cfg(test)]
mod tests;

pub use fit::fit;
pub use reparam::{Reparam, ScalePair};

use crate::error::{Error, Result};
use crate::problem::{fill_points, Model};
use curve::CurveData;
use rayon::prelude::*;

/// Number of parameters of the law.
pub const N_PARAMS: usize = 7;

/// Parameter names, in the order of every parameter vector and gradient row.
pub const PARAM_NAMES: [&str; N_PARAMS] = ["L0", "A", "alpha", "B", "C", "beta", "gamma"];

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

/// One training run: its full per-step LR schedule and the logged indices (0-based,
/// non-decreasing).
pub type MultiPowerCurve<'a> = crate::laws::LoggedCurve<'a>;

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

    fn prepare_values(&self, params: &[f64]) -> MultiPowerPrepared {
        self.prepare_with(params, false)
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
        if gradients.is_some() {
            assert!(prepared.gradients, "gradients asked of a MultiPowerPrepared built without them");
        }
        fill_points::<N_PARAMS>(values, gradients, |i, row| {
            let (d, ls) = (ld[i], ln_s1[i]);
            let pw = (-pr.alpha * ls).exp();
            if let Some(row) = row {
                *row = [1.0, pw, -pr.a * pw * ls, d[0], pr.b * d[1], pr.b * d[2], pr.b * d[3]];
            }
            pr.l0 + pr.a * pw + pr.b * d[0]
        });
    }
}
