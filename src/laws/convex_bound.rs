//! The refined last-iterate bound of convex SGD (Defazio et al. 2023, Thm. 10) used as a loss-curve
//! law, as in Schaipp et al., ICML 2025 (arXiv 2501.18965): loss(T) ≈ C + M·Ω_T, the bound of the
//! schedule truncated at each logged step T.
//!
//! # The bound in O(T) for every T
//!
//! With P(T) = Σ_{t≤T} η_t and Q_t = η_t²·G_t², the bound
//!
//! ```text
//! Ω_T = D²/(2P_T) + Σ_{t≤T} Q_t/(2P_T) + ½ Σ_{k<T} [η_k / Σ_{t=k+1..T} η_t]·[Σ_{t=k..T} Q_t / Σ_{t=k..T} η_t]
//! ```
//!
//! telescopes (η_k/((P_T − P_k)(P_T − P_{k−1})) = 1/(P_T − P_k) − 1/(P_T − P_{k−1}), then summation
//! by parts) into
//!
//! ```text
//! Ω_T = D²/(2P_T) + ½·η_T·G_T² + ½ Σ_{k<T} Q_k / (P_T − P_k)
//! ```
//!
//! (tested against the literal formula). The last sum has the kernel 1/u, u = P_T − P_k, which is
//! the Laplace transform 1/u = ∫ e^v e^(−e^v·u) dv: on the lattice v_j = j·ln 2/m it becomes an
//! exponential sum whose nodes are first-order recurrences along the schedule (the machinery of
//! [`crate::laws::fsl`]), so every logged T costs O(J) and a whole curve O(J·T), J ≈ 3·ln(4e4·P/η_min)
//! nodes. The quadrature's relative error is ≤ 2Σ|Γ(1 + 2πim/h)| ≤ 1e-9, the nodes below the grid are
//! summed in closed form to second order, the ones above (r·η_min > 40) are dropped (< 1e-15).
//!
//! **Zero learning rates.** Steps with η_t = 0 do not move the iterate, so the bound at such a step is
//! the bound at the last step with η > 0 (the literal formula would divide by zero at a schedule's
//! final LR of 0). A logged step with no positive LR at or before it is rejected.
//!
//! # Parameters
//!
//! M multiplies D² and every G_t² alike, so (M, D, G) are not identifiable together: lawfit fixes
//! M = 1 and fits
//!
//! * constant G_t = G: `C, D, G` — the law is linear in (C, D², G²) and the bound's two
//!   schedule terms are computed once (the fit then costs O(n) per evaluation);
//! * parametric G_t = G1·e^(A1·t) + G2·t^(A2) + B (t the 1-based step): `C, D, G1, A1, G2, A2, B`;
//!   every evaluation runs six recurrences (the value and the five G parameters' gradients).

use crate::areas::{validate_logged_indices, validate_lr};
use crate::error::{Error, Result};
use crate::laws::fsl::{chains_for, scan, Lattice, Readout, ScanInput};
use crate::lm::LmOptions;
use crate::problem::{fill_points, Model, Observations};
use crate::strategy::{self, Fitted, Stop};
use rayon::prelude::*;

/// Parameter names with a constant G.
pub const PARAM_NAMES_CONSTANT: [&str; 3] = ["C", "D", "G"];
/// Parameter names with the parametric G_t.
pub const PARAM_NAMES_PARAMETRIC: [&str; 7] = ["C", "D", "G1", "A1", "G2", "A2", "B"];

/// Nodes with r·η_min above this are dropped (e^(−40) of their weight remains).
const R_HI: f64 = 40.0;

/// How G_t is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GradientModel {
    /// G_t = G.
    #[default]
    Constant,
    /// G_t = G1·e^(A1·t) + G2·t^(A2) + B.
    Parametric,
}

impl GradientModel {
    /// Parse `"constant" | "parametric"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "constant" => Ok(Self::Constant),
            "parametric" => Ok(Self::Parametric),
            other => Err(Error::InvalidArgument(format!(
                "g_model must be 'constant' or 'parametric', got {other:?}"
            ))),
        }
    }

    /// Number of parameters.
    pub fn n_params(self) -> usize {
        match self {
            Self::Constant => 3,
            Self::Parametric => 7,
        }
    }
}

/// One training curve: per-step LR and 0-based logged indices (strictly increasing).
pub type BoundCurve<'a> = crate::laws::LoggedCurve<'a>;

#[derive(Debug, Clone)]
struct CurveData {
    lr: Vec<f64>,
    /// Distinct effective indices (last step with η > 0 at or before each logged index).
    eff: Vec<usize>,
    /// For every logged point, its position in `eff`.
    map: Vec<usize>,
    /// P at each effective index.
    p_eff: Vec<f64>,
    /// Constant G: 1/(2P) and ½η_T + ½Σ_{k<T} η_k²/(P_T − P_k) at each effective index.
    phi: Vec<f64>,
    kappa: Vec<f64>,
}

/// Σ_{k<T} q_k/(P_T − P_k) at each effective index T (strictly increasing), literally: O(T·n),
/// gaps accumulated backwards from T (no cancellation).
fn kernel_exact(lr: &[f64], q: &[f64], eff: &[usize]) -> Vec<f64> {
    eff.par_iter()
        .map(|&t| {
            let mut gap = 0.0;
            let mut acc = 0.0;
            for k in (0..t).rev() {
                gap += lr[k + 1];
                if q[k] != 0.0 {
                    acc += q[k] / gap;
                }
            }
            acc
        })
        .collect()
}

/// The same by exponential sums, for `q.len() / n_ch`… channels: `qs[c]` is channel c's sources.
/// Returns (points × channels). `None` when the lattice would be absurdly large.
fn kernel_fast(lr: &[f64], qs: &[Vec<f64>], eff: &[usize], p_max: f64) -> Option<Vec<f64>> {
    let n_ch = qs.len();
    if eff.is_empty() {
        return Some(Vec::new());
    }
    let eta_min = eff.iter().map(|&t| lr[t]).fold(f64::INFINITY, f64::min);
    let m = chains_for(1.0);
    let lat = Lattice::new(m, 1.0, p_max, |v| v.exp() * eta_min > R_HI)?;
    let w: Vec<f64> = lat.r.iter().map(|r| lat.h * r).collect();
    let src_idx: Vec<usize> = (0..lr.len()).filter(|&k| lr[k] > 0.0).collect();
    let mut src_val = Vec::with_capacity(src_idx.len() * n_ch);
    for &k in &src_idx {
        for q in qs {
            src_val.push(q[k]);
        }
    }
    let readouts: Vec<Readout<'_>> = (0..n_ch).map(|c| Readout::E(c, &w)).collect();
    let width = n_ch + 3 * n_ch;
    let mut raw = vec![0.0; eff.len() * width];
    let inp = ScanInput {
        dt: lr,
        rate_scale: 1.0,
        r: &lat.r,
        m,
        src_idx: &src_idx,
        src_val: &src_val,
        n_ch,
        logged: eff,
        read_before_add: true,
        with_f: false,
    };
    scan(&inp, &readouts, &mut raw);
    let [s0, s1, s2] = lat.tail;
    let h = lat.h;
    let mut out = vec![0.0; eff.len() * n_ch];
    for (row, o) in raw.chunks_exact(width).zip(out.chunks_exact_mut(n_ch)) {
        for c in 0..n_ch {
            let u = &row[n_ch + 3 * c..n_ch + 3 * c + 3];
            o[c] = row[c] + h * (s0 * u[0] - s1 * u[1] + 0.5 * s2 * u[2]);
        }
    }
    Some(out)
}

impl CurveData {
    fn new(c: usize, curve: &BoundCurve<'_>, g_model: GradientModel, exact: bool) -> Result<Self> {
        validate_lr(curve.lr)?;
        validate_logged_indices(c, curve.indices, curve.lr.len())?;
        let last = curve.indices.last().copied().map_or(0, |k| k + 1);
        let lr = curve.lr[..last].to_vec();
        let mut eff: Vec<usize> = Vec::new();
        let mut map = Vec::with_capacity(curve.indices.len());
        let mut last_pos: Option<usize> = None;
        let mut next = 0;
        let mut p = 0.0;
        let mut p_eff = Vec::new();
        let mut p_at_last_pos = 0.0;
        for (k, &v) in lr.iter().enumerate() {
            p += v;
            if v > 0.0 {
                last_pos = Some(k);
                p_at_last_pos = p;
            }
            if next < curve.indices.len() && curve.indices[next] == k {
                let Some(t) = last_pos else {
                    return Err(Error::InvalidArgument(format!(
                        "curve {c}: no positive LR at or before logged index {k}; the bound is undefined there"
                    )));
                };
                if eff.last() != Some(&t) {
                    eff.push(t);
                    p_eff.push(p_at_last_pos);
                }
                map.push(eff.len() - 1);
                next += 1;
            }
        }
        let (phi, kappa) = if g_model == GradientModel::Constant {
            let q: Vec<f64> = lr.iter().map(|v| v * v).collect();
            let k = if exact {
                kernel_exact(&lr, &q, &eff)
            } else {
                kernel_fast(&lr, std::slice::from_ref(&q), &eff, p_eff.last().copied().unwrap_or(1.0))
                    .unwrap_or_else(|| kernel_exact(&lr, &q, &eff))
            };
            let phi = p_eff.iter().map(|p| 0.5 / p).collect();
            let kappa = eff.iter().zip(&k).map(|(&t, kt)| 0.5 * lr[t] + 0.5 * kt).collect();
            (phi, kappa)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(Self { lr, eff, map, p_eff, phi, kappa })
    }

    /// Parametric G: per effective point the bound's G-part ½η_T G_T² + ½Σ_{k<T} Q_k/(P_T − P_k)
    /// and its derivatives in G1, A1, G2, A2, B (row of 6).
    fn parametric(&self, g: &[f64; 5], exact: bool) -> Vec<[f64; 6]> {
        let [g1, a1, g2, a2, b] = *g;
        let n = self.lr.len();
        // g_t and its five derivatives at every step (t = k + 1).
        let mut qs = vec![vec![0.0; n]; 6];
        let mut gt = vec![[0.0; 6]; n];
        for k in 0..n {
            let t = (k + 1) as f64;
            let ea = (a1 * t).exp();
            let ta = (a2 * t.ln()).exp();
            let gv = g1 * ea + g2 * ta + b;
            let d = [ea, g1 * t * ea, ta, g2 * t.ln() * ta, 1.0];
            let e2 = self.lr[k] * self.lr[k];
            qs[0][k] = e2 * gv * gv;
            gt[k][0] = gv * gv;
            for j in 0..5 {
                qs[j + 1][k] = 2.0 * e2 * gv * d[j];
                gt[k][j + 1] = 2.0 * gv * d[j];
            }
        }
        let ks: Vec<f64> = if exact {
            let cols: Vec<Vec<f64>> = qs.iter().map(|q| kernel_exact(&self.lr, q, &self.eff)).collect();
            (0..self.eff.len()).flat_map(|i| cols.iter().map(move |c| c[i])).collect()
        } else {
            kernel_fast(&self.lr, &qs, &self.eff, self.p_eff.last().copied().unwrap_or(1.0)).unwrap_or_else(
                || {
                    let cols: Vec<Vec<f64>> =
                        qs.iter().map(|q| kernel_exact(&self.lr, q, &self.eff)).collect();
                    (0..self.eff.len()).flat_map(|i| cols.iter().map(move |c| c[i])).collect()
                },
            )
        };
        self.eff
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let mut row = [0.0; 6];
                for c in 0..6 {
                    row[c] = 0.5 * self.lr[t] * gt[t][c] + 0.5 * ks[i * 6 + c];
                }
                row
            })
            .collect()
    }
}

/// The law at the logged points of one or more curves sharing parameters.
#[derive(Debug, Clone)]
pub struct BoundModel {
    curves: Vec<CurveData>,
    g_model: GradientModel,
    exact: bool,
    n_points: usize,
}

/// Per-evaluation values of the parametric G-part (empty with constant G).
#[derive(Debug, Default)]
pub struct BoundPrepared {
    /// Per point: 1/(2P_T), then the G-part and its 5 derivatives.
    rows: Vec<[f64; 7]>,
}

impl BoundModel {
    /// Build the law at the logged points of `curves`; with constant G, the bound's schedule terms
    /// are computed here once. `exact` sums the kernel literally (O(T·n)).
    pub fn new(curves: &[BoundCurve<'_>], g_model: GradientModel, exact: bool) -> Result<Self> {
        let curves = curves
            .iter()
            .enumerate()
            .map(|(i, c)| CurveData::new(i, c, g_model, exact))
            .collect::<Result<Vec<_>>>()?;
        let n_points = curves.iter().map(|c| c.map.len()).sum();
        Ok(Self { curves, g_model, exact, n_points })
    }

    /// Parameter names in order.
    pub fn param_names(&self) -> &'static [&'static str] {
        match self.g_model {
            GradientModel::Constant => &PARAM_NAMES_CONSTANT,
            GradientModel::Parametric => &PARAM_NAMES_PARAMETRIC,
        }
    }

    /// Predictions at every point and, when `gradients`, the row-major gradient matrix.
    pub fn evaluate(&self, params: &[f64], gradients: bool) -> (Vec<f64>, Option<Vec<f64>>) {
        let prepared = self.prepare(params);
        let p = self.n_params();
        let mut values = vec![0.0; self.n_points];
        let mut grads = gradients.then(|| vec![0.0; self.n_points * p]);
        self.eval_chunk(params, &prepared, 0, &mut values, grads.as_deref_mut());
        (values, grads)
    }
}

impl Model for BoundModel {
    type Prepared = BoundPrepared;

    fn n_params(&self) -> usize {
        self.g_model.n_params()
    }

    fn n_points(&self) -> usize {
        self.n_points
    }

    fn prepare(&self, params: &[f64]) -> BoundPrepared {
        let mut rows = Vec::with_capacity(self.n_points);
        match self.g_model {
            GradientModel::Constant => {
                for cv in &self.curves {
                    for &i in &cv.map {
                        rows.push([cv.phi[i], cv.kappa[i], 0.0, 0.0, 0.0, 0.0, 0.0]);
                    }
                }
            }
            GradientModel::Parametric => {
                let g = [params[2], params[3], params[4], params[5], params[6]];
                let parts: Vec<Vec<[f64; 6]>> =
                    self.curves.par_iter().map(|cv| cv.parametric(&g, self.exact)).collect();
                for (cv, part) in self.curves.iter().zip(parts) {
                    for &i in &cv.map {
                        let r = part[i];
                        rows.push([0.5 / cv.p_eff[i], r[0], r[1], r[2], r[3], r[4], r[5]]);
                    }
                }
            }
        }
        BoundPrepared { rows }
    }

    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &BoundPrepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let rows = &prepared.rows[start..start + values.len()];
        let (c, d) = (params[0], params[1]);
        match self.g_model {
            GradientModel::Constant => {
                let g = params[2];
                fill_points::<3>(values, gradients, |i, row| {
                    let r = &rows[i];
                    if let Some(row) = row {
                        *row = [1.0, 2.0 * d * r[0], 2.0 * g * r[1]];
                    }
                    c + d * d * r[0] + g * g * r[1]
                });
            }
            GradientModel::Parametric => {
                fill_points::<7>(values, gradients, |i, row| {
                    let r = &rows[i];
                    if let Some(row) = row {
                        *row = [1.0, 2.0 * d * r[0], r[2], r[3], r[4], r[5], r[6]];
                    }
                    c + d * d * r[0] + r[1]
                });
            }
        }
    }
}

/// Fit the law from every start (in parallel); returns the best solve and its linear statistics.
pub fn fit(
    curves: &[BoundCurve<'_>],
    g_model: GradientModel,
    exact: bool,
    observed: Observations<'_>,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Fitted> {
    strategy::fit_model(BoundModel::new(curves, g_model, exact)?, observed, starts, opts, stop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::testing::assert_central_differences;

    /// Ω_T by the literal formula of the spec (O(T²)).
    fn literal(lr: &[f64], g: &[f64], d: f64, t: usize) -> f64 {
        let e = &lr[..t];
        let q: Vec<f64> = e.iter().zip(g).map(|(a, b)| a * a * b * b).collect();
        let s: f64 = e.iter().sum();
        let mut om = d * d / (2.0 * s) + q.iter().sum::<f64>() / (2.0 * s);
        for k in 1..t {
            let tail_e: f64 = e[k..].iter().sum();
            let tail_e1: f64 = e[k - 1..].iter().sum();
            let tail_q: f64 = q[k - 1..].iter().sum();
            om += 0.5 * e[k - 1] / tail_e * tail_q / tail_e1;
        }
        om
    }

    fn schedule(n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| 1e-2 * (0.02 + 0.5 * (1.0 + (std::f64::consts::PI * i as f64 / n as f64).cos())))
            .collect()
    }

    #[test]
    fn constant_and_parametric_match_the_literal_bound() {
        let lr = schedule(400);
        let idx: Vec<usize> = (0..400).step_by(13).collect();
        let curve = BoundCurve { lr: &lr, indices: &idx };
        for exact in [false, true] {
            let m = BoundModel::new(&[curve], GradientModel::Constant, exact).unwrap();
            let params = [1.5, 0.7, 2.0];
            let (v, _) = m.evaluate(&params, false);
            let g = vec![2.0; 400];
            for (i, &k) in idx.iter().enumerate() {
                let want = 1.5 + literal(&lr, &g, 0.7, k + 1);
                assert!((v[i] - want).abs() <= 1e-9 * want, "exact={exact} point {i}: {} vs {want}", v[i]);
            }
            let mp = BoundModel::new(&[curve], GradientModel::Parametric, exact).unwrap();
            let q = [1.5, 0.7, 1.0, -0.01, 0.5, 0.3, 0.2];
            let (v, gr) = mp.evaluate(&q, true);
            let gr = gr.unwrap();
            let gt: Vec<f64> = (1..=400)
                .map(|t| {
                    let t = t as f64;
                    q[2] * (q[3] * t).exp() + q[4] * t.powf(q[5]) + q[6]
                })
                .collect();
            for (i, &k) in idx.iter().enumerate() {
                let want = 1.5 + literal(&lr, &gt, 0.7, k + 1);
                assert!((v[i] - want).abs() <= 1e-9 * want, "parametric point {i}: {} vs {want}", v[i]);
            }
            assert_central_differences(|x| mp.evaluate(x, false).0, &q, &gr, 1e-2);
        }
    }

    #[test]
    fn zero_lr_steps_take_the_last_positive_step() {
        let mut lr = schedule(100);
        for v in &mut lr[90..] {
            *v = 0.0;
        }
        let m = BoundModel::new(
            &[BoundCurve { lr: &lr, indices: &[89, 95, 99] }],
            GradientModel::Constant,
            false,
        )
        .unwrap();
        let (v, _) = m.evaluate(&[1.0, 1.0, 1.0], false);
        assert_eq!(v[0], v[1]);
        assert_eq!(v[1], v[2]);
        let zero = vec![0.0, 0.0, 1.0];
        assert!(BoundModel::new(&[BoundCurve { lr: &zero, indices: &[1] }], GradientModel::Constant, false)
            .is_err());
    }
}
