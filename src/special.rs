//! Special functions of the Laplace-sum laws (the multi-power law and the functional scaling law,
//! whose f(x) = (1 + x)^(−β) is a Laplace transform with a Gamma-function weight): ln Γ, ψ and the
//! trapezoid rule's error bound on a uniform grid in ln r. Real arguments > 0 only.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
pub fn ln_gamma(x: f64) -> f64 {
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
pub fn digamma(mut x: f64) -> f64 {
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
pub fn quadrature_bound(beta: f64, h: f64) -> f64 {
    let lg = ln_gamma(beta);
    (1..=4)
        .map(|m| 2.0 * (ln_abs_gamma_complex(beta, 2.0 * std::f64::consts::PI * m as f64 / h) - lg).exp())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn special_functions_at_the_fsl_points() {
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((digamma(1.0) + 0.577_215_664_901_532_9).abs() < 1e-12);
        assert!(quadrature_bound(0.6, std::f64::consts::LN_2 / 2.0) < 1e-9);
    }
}
