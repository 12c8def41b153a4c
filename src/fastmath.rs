//! A branch-free exponential for hot loops over many points.
//!
//! [`exp_slice`] fills `out[i] = exp(scale · x[i])` with the FreeBSD/musl `e_exp.c` algorithm
//! (Cody–Waite reduction x = k·ln2 + r, |r| ≤ ½ln2, and the rational approximation
//! exp(r) = 1 + 2r/(R(r²) − r) with a degree-5 Remez polynomial; error below 1 ulp), written
//! without branches or calls so the compiler can vectorise the loop. Arguments outside
//! [−700, 700] fall back to [`f64::exp`] (the result would be subnormal, overflow or need extra
//! scaling there); the fallback is decided once per slice.

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
}
