//! A branch-free exponential and logarithm for hot loops over many points.
//!
//! [`exp_slice`] fills `out[i] = exp(scale · x[i])` with the FreeBSD/musl `e_exp.c` algorithm
//! (Cody–Waite reduction x = k·ln2 + r, |r| ≤ ½ln2, and the rational approximation
//! exp(r) = 1 + 2r/(R(r²) − r) with a degree-5 Remez polynomial; error below 1 ulp), written
//! without branches or calls so the compiler can vectorise the loop. Arguments outside
//! [−700, 700] fall back to [`f64::exp`] (the result would be subnormal, overflow or need extra
//! scaling there); the fallback is decided once per slice.
//!
//! [`ln_in_place`] replaces `x[i]` by `ln(x[i])` with the FreeBSD/musl `e_log.c` algorithm
//! (x = 2^k·(1 + f) with √2/2 ≤ 1 + f < √2, s = f/(2 + f), a degree-7 Remez polynomial in s²;
//! error below 1 ulp), also branch-free; a slice holding anything but positive normal finite
//! numbers falls back to [`f64::ln`].

// The constants of FreeBSD's e_exp.c, digit for digit.
#![allow(clippy::excessive_precision)]

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
const INV_LN2: f64 = std::f64::consts::LOG2_E;
const P1: f64 = 1.666_666_666_666_660_190_37e-1;
const P2: f64 = -2.777_777_777_701_559_338_42e-3;
const P3: f64 = 6.613_756_321_437_934_361_17e-5;
const P4: f64 = -1.653_390_220_546_525_153_13e-6;
const P5: f64 = 4.138_136_797_057_238_460_39e-8;
/// 1.5·2^52: adding and subtracting it rounds to the nearest integer.
const SHIFT: f64 = 6_755_399_441_055_744.0;
/// Largest |argument| handled by the fast path.
pub const FAST_LIMIT: f64 = 700.0;

/// exp(x) for |x| ≤ [`FAST_LIMIT`] (other inputs give meaningless results; see [`exp_slice`]).
#[inline(always)]
fn exp_core(x: f64) -> f64 {
    let shifted = x * INV_LN2 + SHIFT;
    let k = shifted - SHIFT;
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // 2^k from the integer held in the low bits of `shifted`: (k + 1023) << 52.
    let two_k = f64::from_bits(shifted.to_bits().wrapping_add(1023).wrapping_shl(52));
    y * two_k
}

/// e^x within 1 ulp of [`f64::exp`] for |x| ≤ [`FAST_LIMIT`], without a library call (so loops
/// around it vectorise); arguments are clamped to ±[`FAST_LIMIT`] (e^−700 ≈ 1e-304 stands for 0).
#[inline(always)]
pub fn exp_fast(x: f64) -> f64 {
    exp_core(x.clamp(-FAST_LIMIT, FAST_LIMIT))
}

/// `out[i] = exp(scale · x[i])`, within 1 ulp of [`f64::exp`]. `x` and `out` have equal lengths.
pub fn exp_slice(scale: f64, x: &[f64], out: &mut [f64]) {
    let max_abs = x.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    if (scale * max_abs).abs() <= FAST_LIMIT {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = exp_core(scale * v);
        }
    } else {
        for (o, &v) in out.iter_mut().zip(x) {
            *o = (scale * v).exp();
        }
    }
}

// The constants of FreeBSD's e_log.c, digit for digit.
const LG1: f64 = 6.666_666_666_666_735_130e-01;
const LG2: f64 = 3.999_999_999_940_941_908e-01;
const LG3: f64 = 2.857_142_874_366_239_149e-01;
const LG4: f64 = 2.222_219_843_214_978_396e-01;
const LG5: f64 = 1.818_357_216_161_805_012e-01;
const LG6: f64 = 1.531_383_769_920_937_332e-01;
const LG7: f64 = 1.479_819_860_511_658_591e-01;

/// ln(x) for a positive normal finite x (other inputs give meaningless results).
///
/// Only 64-bit integer masks, shifts and adds and f64 arithmetic and comparisons (the exponent
/// becomes a double by the 2^52 trick), so two lanes run per SSE2 instruction.
#[inline(always)]
fn ln_core(x: f64) -> f64 {
    const HIGH: u64 = 0x000f_ffff_0000_0000;
    let bits = x.to_bits();
    let frac = bits & HIGH;
    // Normalise the mantissa into [√2/2, √2): take x or x/2 (e_log.c's `i`, 0 or 1 << 52).
    let half = frac.wrapping_add(0x0009_5f64_0000_0000) & 0x0010_0000_0000_0000;
    let m = f64::from_bits((bits & !0xfff0_0000_0000_0000) | (half ^ 0x3ff0_0000_0000_0000));
    // k = biased exponent + (half ? 1 : 0) − 1023, as a double: 2^52 + k_biased − 2^52.
    let k_biased = (bits >> 52) + (half >> 52);
    let dk = f64::from_bits(0x4330_0000_0000_0000 | k_biased) - (TWO52 + 1023.0);
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    // e_log.c uses the ½f² form when the high fraction word lies in [0x6147a, 0x6b851]: that is
    // m ∈ [A1, B1) before the halving point or m ∈ [A2, B2) after it.
    let mid = (MID_A1..MID_B1).contains(&m) | (MID_A2..MID_B2).contains(&m);
    let with_hfsq = dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f);
    let without = dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f);
    if mid {
        with_hfsq
    } else {
        without
    }
}

const TWO52: f64 = 4_503_599_627_370_496.0;
const MID_A1: f64 = f64::from_bits(0x3ff6_147a_0000_0000);
const MID_B1: f64 = f64::from_bits(0x3ff6_a09c_0000_0000);
const MID_A2: f64 = f64::from_bits(0x3fe6_a09c_0000_0000);
const MID_B2: f64 = f64::from_bits(0x3fe6_b852_0000_0000);

/// `x[i] = ln(x[i])`, within 1 ulp of [`f64::ln`] (NaN, ±∞, 0, negative and subnormal values
/// give exactly what [`f64::ln`] gives).
pub fn ln_in_place(x: &mut [f64]) {
    let all_normal = x.iter().fold(true, |ok, &v| ok & (f64::MIN_POSITIVE..=f64::MAX).contains(&v));
    if all_normal {
        for v in x.iter_mut() {
            *v = ln_core(*v);
        }
    } else {
        for v in x.iter_mut() {
            *v = v.ln();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    fn within_one_ulp_of_std() {
        let mut worst = 0;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut xs = Vec::new();
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            xs.push((state >> 11) as f64 / (1u64 << 53) as f64 * 1400.0 - 700.0);
        }
        xs.extend([0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 700.0, -700.0, 1.0, f64::EPSILON]);
        xs.extend((0..2000).map(|i| (i as f64 - 1000.0) * 1e-3));
        let mut out = vec![0.0; xs.len()];
        exp_slice(1.0, &xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let e = ulps(y, x.exp());
            assert!(e <= 1, "exp({x}) = {y}, std {} ({e} ulp)", x.exp());
            worst = worst.max(e);
        }
        assert!(worst <= 1);
        assert_eq!(exp_core(0.0), 1.0);
    }

    #[test]
    fn large_arguments_fall_back() {
        let xs = [1.0, 800.0, -800.0, -745.5, 709.9];
        let mut out = [0.0; 5];
        exp_slice(1.0, &xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            assert_eq!(y.to_bits(), x.exp().to_bits(), "{x}");
        }
        exp_slice(-2.0, &[400.0], &mut out[..1]);
        assert_eq!(out[0], (-800.0_f64).exp());
        let mut nan = [0.0];
        exp_slice(1.0, &[f64::NAN], &mut nan);
        assert!(nan[0].is_nan());
    }

    #[test]
    fn ln_within_one_ulp_of_std() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut xs = Vec::new();
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Log-uniform over the normal range, plus a dense band around 1.
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            xs.push((u * 1400.0 - 700.0).exp());
            xs.push(1.0 + (u - 0.5) * 1e-3);
        }
        xs.extend([1.0, 2.0, 0.5, std::f64::consts::SQRT_2, f64::MIN_POSITIVE, f64::MAX, 1.0 + f64::EPSILON]);
        xs.extend([1.0 - f64::EPSILON / 2.0, 0.707_106_781_186_547_5, 1e-300, 1e300]);
        let mut out = xs.clone();
        ln_in_place(&mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let e = ulps(y, x.ln());
            assert!(e <= 1, "ln({x}) = {y}, std {} ({e} ulp)", x.ln());
        }
        assert_eq!(out[xs.len() - 11], 0.0, "ln(1) is exactly 0");
    }

    #[test]
    fn ln_special_values_fall_back() {
        let xs = [2.0, 0.0, -1.0, f64::INFINITY, f64::NAN, 1e-310];
        let mut out = xs;
        ln_in_place(&mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = x.ln();
            assert!(y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()), "ln({x}) = {y}");
        }
    }
}
