//! Robust losses, with the conventions of `scipy.optimize.least_squares(loss=..., f_scale=δ)`:
//! the cost of a residual r is ½·δ²·ρ(r²/δ²), with
//!
//! ```text
//! linear   ρ(z) = z
//! huber    ρ(z) = z                 (z ≤ 1),   2√z − 1   (z > 1)
//! soft_l1  ρ(z) = 2(√(1 + z) − 1)
//! cauchy   ρ(z) = ln(1 + z)
//! ```
//!
//! so `huber` costs ½r² for |r| ≤ δ and δ(|r| − δ/2) beyond: exactly Huber_δ of the papers.

use crate::error::{Error, Result};

/// A robust loss ρ with its scale δ (`f_scale` in scipy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RobustLoss {
    /// Ordinary least squares: cost ½r².
    Linear,
    /// Huber with threshold δ.
    Huber(f64),
    /// Smooth L1 with scale δ.
    SoftL1(f64),
    /// Cauchy (Lorentzian) with scale δ.
    Cauchy(f64),
}

impl RobustLoss {
    /// Parse scipy's loss names with scale `delta`.
    pub fn parse(name: &str, delta: f64) -> Result<Self> {
        let loss = match name {
            "linear" => Self::Linear,
            "huber" => Self::Huber(delta),
            "soft_l1" => Self::SoftL1(delta),
            "cauchy" => Self::Cauchy(delta),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "loss must be 'linear', 'huber', 'soft_l1' or 'cauchy', got {other:?}"
                )))
            }
        };
        if loss != Self::Linear && !(delta.is_finite() && delta > 0.0) {
            return Err(Error::InvalidArgument(format!("delta must be positive and finite, got {delta}")));
        }
        Ok(loss)
    }

    /// Cost of residual `r` and the IRLS weight ρ'(r²/δ²) (the factor on r in d cost / dr).
    #[inline]
    pub fn cost_and_weight(self, r: f64) -> (f64, f64) {
        let r2 = r * r;
        match self {
            Self::Linear => (0.5 * r2, 1.0),
            Self::Huber(d) => {
                let a = r.abs();
                if a <= d {
                    (0.5 * r2, 1.0)
                } else {
                    (d * (a - 0.5 * d), d / a)
                }
            }
            Self::SoftL1(d) => {
                let z = r2 / (d * d);
                let s = (1.0 + z).sqrt();
                (d * d * (s - 1.0), 1.0 / s)
            }
            Self::Cauchy(d) => {
                let z = r2 / (d * d);
                (0.5 * d * d * z.ln_1p(), 1.0 / (1.0 + z))
            }
        }
    }

    /// Cost, gradient weight ρ' and curvature weight of residual `r`.
    ///
    /// The curvature weight is the exact second derivative of the cost, d²c/dr² = ρ' + 2zρ''
    /// (scipy's correction for robust losses), floored at `floor·ρ'` so that a point beyond the
    /// threshold still contributes a little curvature (pure IRLS is `floor = 1`).
    #[inline]
    pub fn cost_gradient_curvature(self, r: f64, floor: f64) -> (f64, f64, f64) {
        let (c, rho1) = self.cost_and_weight(r);
        let exact = match self {
            Self::Linear => 1.0,
            Self::Huber(d) => {
                if r.abs() <= d {
                    1.0
                } else {
                    0.0
                }
            }
            Self::SoftL1(d) => {
                let z = r * r / (d * d);
                (1.0 + z).powf(-1.5)
            }
            Self::Cauchy(d) => {
                let z = r * r / (d * d);
                (1.0 - z) / ((1.0 + z) * (1.0 + z))
            }
        };
        (c, rho1, exact.max(floor * rho1))
    }

    /// Cost of residual `r`.
    #[inline]
    pub fn cost(self, r: f64) -> f64 {
        self.cost_and_weight(r).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_is_derivative_over_r() {
        for loss in
            [RobustLoss::Linear, RobustLoss::Huber(0.3), RobustLoss::SoftL1(0.3), RobustLoss::Cauchy(0.3)]
        {
            for &r in &[-2.0, -0.31, -0.1, 0.05, 0.29, 0.31, 1.7] {
                let h = 1e-6;
                let fd = (loss.cost(r + h) - loss.cost(r - h)) / (2.0 * h);
                let (_, w) = loss.cost_and_weight(r);
                assert!((fd - w * r).abs() < 1e-7, "{loss:?} at {r}: {fd} vs {}", w * r);
            }
        }
    }

    #[test]
    fn huber_matches_paper_definition() {
        let d = 1e-3;
        let loss = RobustLoss::Huber(d);
        assert_eq!(loss.cost(5e-4), 0.5 * 25e-8);
        assert!((loss.cost(-3e-3) - d * (3e-3 - d / 2.0)).abs() < 1e-18);
    }

    #[test]
    fn parse_rejects_bad_input() {
        assert!(RobustLoss::parse("l2", 1.0).is_err());
        assert!(RobustLoss::parse("huber", 0.0).is_err());
        assert!(RobustLoss::parse("huber", f64::NAN).is_err());
        assert_eq!(RobustLoss::parse("linear", f64::NAN).unwrap(), RobustLoss::Linear);
    }
}
