//! A power law with an irreducible term (Hestness et al. 2017, "Deep Learning Scaling is
//! Predictable, Empirically", arXiv 1712.00409):
//!
//! ```text
//! y(x) = a·x^(−b) + c
//! ```
//!
//! Parameters, in order: `a, b, c`. The model is linear in (a, c) for fixed b; [`grid_starts`]
//! uses that (variable projection on a grid of b) to give data-driven start points.

use crate::error::{Error, Result};
use crate::lm::{self, LmOptions, MultiStartReport};
use crate::problem::{DataProblem, Model, Space};

/// Number of parameters of the law.
pub const N_PARAMS: usize = 3;

/// Exponents b of the variable-projection grid of [`grid_starts`].
pub const B_GRID: [f64; 12] = [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0];

/// The power law at data points x (stored as log x).
#[derive(Debug, Clone)]
pub struct PowerLawModel {
    ln_x: Vec<f64>,
}

impl PowerLawModel {
    /// Build from positive, finite `x`.
    pub fn new(x: &[f64]) -> Result<Self> {
        if let Some((i, &v)) = x.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::InvalidValue {
                name: "x",
                index: i,
                value: v,
                reason: "a power law needs positive, finite x",
            });
        }
        Ok(Self { ln_x: x.iter().map(|v| v.ln()).collect() })
    }
}

impl Model for PowerLawModel {
    type Prepared = ();

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_points(&self) -> usize {
        self.ln_x.len()
    }

    fn prepare(&self, _params: &[f64]) {}

    fn eval_chunk(&self, q: &[f64], _: &(), start: usize, values: &mut [f64], gradients: Option<&mut [f64]>) {
        let (a, b, c) = (q[0], q[1], q[2]);
        let ln_x = &self.ln_x[start..start + values.len()];
        match gradients {
            None => {
                for (v, &lx) in values.iter_mut().zip(ln_x) {
                    *v = a * (-b * lx).exp() + c;
                }
            }
            Some(g) => {
                for (i, (v, &lx)) in values.iter_mut().zip(ln_x).enumerate() {
                    let pw = (-b * lx).exp();
                    *v = a * pw + c;
                    g[3 * i] = pw;
                    g[3 * i + 1] = -a * lx * pw;
                    g[3 * i + 2] = 1.0;
                }
            }
        }
    }
}

/// Data-driven starts: for each b of [`B_GRID`], (a, c) by weighted linear least squares on
/// the values (whatever the residual space); the `keep` grid points of lowest squared error, as
/// (a, b, c), clamped into `[lower, upper]`.
pub fn grid_starts(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    keep: usize,
    lower: &[f64],
    upper: &[f64],
) -> Vec<Vec<f64>> {
    let mut scored: Vec<(f64, [f64; 3])> = Vec::with_capacity(B_GRID.len());
    let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    for &b in &B_GRID {
        // Normal equations of y ≈ a·u + c with u = x^(−b).
        let (mut sw, mut su, mut suu, mut sy, mut suy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, (&lx, &yi)) in ln_x.iter().zip(y).enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            let u = (-b * lx).exp();
            sw += w;
            su += w * u;
            suu += w * u * u;
            sy += w * yi;
            suy += w * u * yi;
        }
        let det = sw * suu - su * su;
        if !(det.abs() > 1e-300) || !det.is_finite() {
            continue;
        }
        let a = (sw * suy - su * sy) / det;
        let c = (sy - a * su) / sw;
        let mut sse = 0.0;
        for (i, (&lx, &yi)) in ln_x.iter().zip(y).enumerate() {
            let w = weights.map_or(1.0, |w| w[i]);
            let r = a * (-b * lx).exp() + c - yi;
            sse += w * r * r;
        }
        if sse.is_finite() && a.is_finite() && c.is_finite() {
            let mut q = [a, b, c];
            for j in 0..3 {
                q[j] = q[j].clamp(lower[j], upper[j]);
            }
            scored.push((sse, q));
        }
    }
    scored.sort_by(|l, r| l.0.total_cmp(&r.0));
    scored.into_iter().take(keep.max(1)).map(|(_, q)| q.to_vec()).collect()
}

/// Fit from every start (in parallel); the lowest objective wins.
pub fn fit(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    space: Space,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    let model = PowerLawModel::new(x)?;
    let problem = DataProblem::new(model, y, weights, space)?;
    lm::multistart::<_, DataProblem<'_, PowerLawModel>>(&problem, None, starts, opts, 1, stop)
}

/// y(x) for parameters (a, b, c).
pub fn predict(x: &[f64], params: &[f64]) -> Result<Vec<f64>> {
    if params.len() != N_PARAMS {
        return Err(Error::InvalidArgument(format!("expected 3 parameters (a, b, c), got {}", params.len())));
    }
    let model = PowerLawModel::new(x)?;
    let mut out = vec![0.0; x.len()];
    model.eval_chunk(params, &(), 0, &mut out, None);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..40).map(|i| 10f64.powf(1.0 + i as f64 * 0.1)).collect();
        let y = x
            .iter()
            .enumerate()
            .map(|(i, x)| 5.0 * x.powf(-0.4) + 0.3 + 1e-4 * (((i * 13) % 7) as f64 - 3.0))
            .collect();
        (x, y)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (x, _) = data();
        let m = PowerLawModel::new(&x).unwrap();
        let q = [5.0, 0.4, 0.3];
        let n = x.len();
        let (mut v, mut g) = (vec![0.0; n], vec![0.0; 3 * n]);
        m.eval_chunk(&q, &(), 0, &mut v, Some(&mut g));
        for j in 0..3 {
            let h = 1e-6;
            let (mut hi, mut lo) = (q, q);
            hi[j] += h;
            lo[j] -= h;
            let (mut vh, mut vl) = (vec![0.0; n], vec![0.0; n]);
            m.eval_chunk(&hi, &(), 0, &mut vh, None);
            m.eval_chunk(&lo, &(), 0, &mut vl, None);
            for i in 0..n {
                let fd = (vh[i] - vl[i]) / (2.0 * h);
                assert!((fd - g[3 * i + j]).abs() < 1e-6 * (1.0 + fd.abs()));
            }
        }
    }

    #[test]
    fn fits_from_grid_starts() {
        let (x, y) = data();
        let opts = LmOptions::new(3);
        let starts = grid_starts(&x, &y, None, 2, &opts.lower, &opts.upper);
        assert_eq!(starts.len(), 2);
        for space in [Space::Linear, Space::Log] {
            let rep = fit(&x, &y, None, space, &starts, &opts, &|| false).unwrap();
            let q = &rep.best.params;
            assert!(rep.best.status.success());
            assert!(
                (q[0] - 5.0).abs() < 0.05 && (q[1] - 0.4).abs() < 3e-3 && (q[2] - 0.3).abs() < 3e-3,
                "{q:?}"
            );
        }
    }

    #[test]
    fn rejects_non_positive_x() {
        assert!(PowerLawModel::new(&[1.0, 0.0]).is_err());
        assert!(predict(&[1.0], &[1.0, 1.0]).is_err());
    }
}
