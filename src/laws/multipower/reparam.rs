//! The law in better-conditioned solver coordinates (C̃ = C·η_ref^(−γ), Ã = A·S_ref^(−α)).

use super::{MultiPowerModel, MultiPowerPrepared, N_PARAMS};
use crate::problem::Model;

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

    fn prepare_values(&self, q: &[f64]) -> MultiPowerPrepared {
        self.model.prepare_values(&self.to_law(q))
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
