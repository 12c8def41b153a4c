//! Special functions (β > 0 only): ln Γ, ψ and the trapezoid rule's error bound.

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
pub(super) fn ln_gamma(x: f64) -> f64 {
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
pub(super) fn digamma(mut x: f64) -> f64 {
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
pub(super) fn quadrature_bound(beta: f64, h: f64) -> f64 {
    let lg = ln_gamma(beta);
    (1..=4)
        .map(|m| 2.0 * (ln_abs_gamma_complex(beta, 2.0 * std::f64::consts::PI * m as f64 / h) - lg).exp())
        .sum()
}
