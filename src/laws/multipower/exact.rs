//! The exact path: the literal sum over the LR changes, O(K·n) for K changes and n points.

use super::curve::CurveData;
use super::Params;
use rayon::prelude::*;

/// Points per parallel task of the exact path (fixed: results do not depend on the thread count).
const EXACT_CHUNK: usize = 64;

impl CurveData {
    /// The literal sum over the LR changes, for every point.
    pub(super) fn fill_exact(&self, pr: &Params, gradients: bool, out: &mut [[f64; 4]]) {
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
