//! The closed-form contribution of the nodes below the grid.

use super::nodes::{Grid, TAIL_ORDER};

/// Closed-form contribution of the nodes below the grid, to order M = TAIL_ORDER in r·C·S:
/// per source, f_tail = Σ_m (−C·S)^m/m!·τ_m, accumulated as prefix sums of d·τ_m·(−P_{k−1})^i
/// (i ≤ m) so that S^m = (P_s − P_{k−1})^m expands binomially (and likewise the β, γ derivatives).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Tail {
    a: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
    ab: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
    ag: [[f64; TAIL_ORDER + 1]; TAIL_ORDER + 1],
}

impl Tail {
    /// Add the source with drop `d`, ln lr = `l`, lr^γ = `gv`, lr^{γβ} = `gb`, P_{k−1} = `p_prev`.
    #[inline]
    pub(super) fn add<const GRAD: bool>(
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
    pub(super) fn value<const GRAD: bool>(&self, c: f64, ps: f64) -> [f64; 4] {
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
