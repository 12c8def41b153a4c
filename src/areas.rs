//! Learning-rate areas of Tissue et al. 2024 ("Scaling Law with Learning Rate Annealing",
//! arXiv 2408.11029, Eq. 1 and 5):
//!
//! ```text
//! S1(s) = Σ_{i≤s} η_i                       forward area
//! m_i   = λ·m_{i−1} + (η_{i−1} − η_i)       annealing momentum, m_1 = 0, η_0 := η_1
//! S2(s) = Σ_{i≤s} m_i                       annealing area
//! ```
//!
//! and dS2/dλ through q_i = m_{i−1} + λ·q_{i−1}, q_1 = 0, dS2/dλ(s) = Σ_{i≤s} q_i.
//!
//! The scan runs over fixed-size chunks: a first pass summarises each chunk from a zero state, the
//! summaries are combined in chunk order, and a second pass writes every chunk from its exact start
//! state. Chunk boundaries never depend on the thread count, so results are bit-identical whether
//! rayon runs one thread or many.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Steps per chunk of the parallel scan. Fixed: results must not depend on the thread count.
const CHUNK: usize = 1 << 15;
/// Below this many steps the chunks are processed on the calling thread (same arithmetic).
const PARALLEL_MIN: usize = 1 << 20;

/// How the warmup steps enter the areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarmupMode {
    /// The paper's convention: the first `warmup_steps` steps count as if run at the peak LR
    /// (the largest LR among the warmup steps and the first step after them).
    AsPeak,
    /// Sum the real warmup ramp (the multi-power-law repository's convention).
    Actual,
    /// Start both sums after the warmup: S1 = S2 = 0 during warmup, η_0 := η_{W+1}.
    Exclude,
}

impl WarmupMode {
    /// Parse `"as_peak" | "actual" | "exclude"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "as_peak" => Ok(Self::AsPeak),
            "actual" => Ok(Self::Actual),
            "exclude" => Ok(Self::Exclude),
            other => Err(Error::InvalidArgument(format!(
                "warmup must be 'as_peak', 'actual' or 'exclude', got {other:?}"
            ))),
        }
    }
}

/// Options of the area computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AreaOptions {
    /// Momentum decay λ in [0, 1].
    pub decay: f64,
    /// Number of leading warmup steps W.
    pub warmup_steps: usize,
    /// How the warmup steps are counted.
    pub warmup: WarmupMode,
}

impl Default for AreaOptions {
    fn default() -> Self {
        Self { decay: 0.999, warmup_steps: 0, warmup: WarmupMode::AsPeak }
    }
}

/// Check that every LR is finite and non-negative.
pub fn validate_lr(lr: &[f64]) -> Result<()> {
    // Fast path: one branch-free reduction, then locate the culprit only if there is one.
    let all_ok = lr.iter().fold(true, |ok, &x| ok & (x.is_finite() & (x >= 0.0)));
    if all_ok {
        return Ok(());
    }
    let (index, &value) =
        lr.iter().enumerate().find(|(_, x)| !(x.is_finite() && **x >= 0.0)).expect("a bad value exists");
    let reason = if value.is_nan() {
        "learning rates must be finite numbers"
    } else if value.is_infinite() {
        "learning rates must be finite"
    } else {
        "learning rates must be non-negative"
    };
    Err(Error::InvalidValue { name: "lr", index, value, reason })
}

fn validate_options(n: usize, opts: &AreaOptions) -> Result<()> {
    if !(opts.decay >= 0.0 && opts.decay <= 1.0) {
        return Err(Error::InvalidArgument(format!("decay must lie in [0, 1], got {}", opts.decay)));
    }
    if opts.warmup_steps > n {
        return Err(Error::InvalidArgument(format!(
            "warmup_steps ({}) exceeds the schedule length ({n})",
            opts.warmup_steps
        )));
    }
    Ok(())
}

/// State of the recurrence after some step.
#[derive(Debug, Clone, Copy, Default)]
struct ScanState {
    s1: f64,
    m: f64,
    s2: f64,
    prev: f64,
}

/// Run the recurrence over `lr` from `state`, optionally writing S1 and S2 per step.
#[inline]
fn scan(lr: &[f64], decay: f64, mut st: ScanState, out: Option<(&mut [f64], &mut [f64])>) -> ScanState {
    match out {
        Some((s1_out, s2_out)) => {
            for ((&eta, s1), s2) in lr.iter().zip(s1_out.iter_mut()).zip(s2_out.iter_mut()) {
                st.m = decay.mul_add(st.m, st.prev - eta);
                st.s2 += st.m;
                st.s1 += eta;
                st.prev = eta;
                *s1 = st.s1;
                *s2 = st.s2;
            }
        }
        None => {
            for &eta in lr {
                st.m = decay.mul_add(st.m, st.prev - eta);
                st.s2 += st.m;
                st.s1 += eta;
                st.prev = eta;
            }
        }
    }
    st
}

/// Σ_{j=1..len} λ^j, the weight of a start momentum on the S2 of a chunk of `len` steps.
fn geometric_tail(decay: f64, len: usize) -> f64 {
    if decay == 1.0 {
        len as f64
    } else {
        decay * (1.0 - decay.powi(len as i32)) / (1.0 - decay)
    }
}

/// The effective warmup prefix: its length, the state after it, and the value written there.
fn prefix(lr: &[f64], opts: &AreaOptions) -> (usize, ScanState) {
    let w = opts.warmup_steps;
    match opts.warmup {
        WarmupMode::Actual => {
            (0, ScanState { prev: lr.first().copied().unwrap_or(0.0), ..Default::default() })
        }
        WarmupMode::AsPeak => {
            if w == 0 {
                return (0, ScanState { prev: lr.first().copied().unwrap_or(0.0), ..Default::default() });
            }
            let end = (w + 1).min(lr.len());
            let peak = lr[..end].iter().copied().fold(0.0, f64::max);
            (w, ScanState { s1: peak * w as f64, m: 0.0, s2: 0.0, prev: peak })
        }
        WarmupMode::Exclude => {
            let prev = lr.get(w).copied().unwrap_or(0.0);
            (w, ScanState { prev, ..Default::default() })
        }
    }
}

/// Fill `s1_out`, `s2_out` (each of the length of `lr`) with S1(s), S2(s) for every step s.
///
/// `lr[i]` is the LR of step i+1. O(n) time, no allocation beyond O(n / CHUNK) summaries; uses
/// rayon for n ≥ 2^20 with bit-identical results for any thread count.
pub fn areas_into(lr: &[f64], opts: &AreaOptions, s1_out: &mut [f64], s2_out: &mut [f64]) -> Result<()> {
    let n = lr.len();
    for (name, out) in [("s1_out", &*s1_out), ("s2_out", &*s2_out)] {
        if out.len() != n {
            return Err(Error::LengthMismatch {
                name,
                got: out.len(),
                expected: n,
                why: "one value per step",
            });
        }
    }
    validate_lr(lr)?;
    validate_options(n, opts)?;
    let (w, init) = prefix(lr, opts);
    // The warmup prefix has a closed form.
    match opts.warmup {
        WarmupMode::AsPeak => {
            let peak = init.prev;
            for (i, (a, b)) in s1_out[..w].iter_mut().zip(s2_out[..w].iter_mut()).enumerate() {
                *a = peak * (i + 1) as f64;
                *b = 0.0;
            }
        }
        WarmupMode::Exclude => {
            s1_out[..w].fill(0.0);
            s2_out[..w].fill(0.0);
        }
        WarmupMode::Actual => {}
    }
    scan_chunked(&lr[w..], opts.decay, init, &mut s1_out[w..], &mut s2_out[w..]);
    Ok(())
}

fn scan_chunked(lr: &[f64], decay: f64, init: ScanState, s1_out: &mut [f64], s2_out: &mut [f64]) {
    let n = lr.len();
    if n <= CHUNK {
        scan(lr, decay, init, Some((s1_out, s2_out)));
        return;
    }
    let parallel = n >= PARALLEL_MIN;
    // Pass 1: each chunk (but the last) summarised from a zero state; `prev` is the LR before it.
    let n_chunks = n.div_ceil(CHUNK);
    let summarise = |c: usize| {
        let start = c * CHUNK;
        let prev = if c == 0 { init.prev } else { lr[start - 1] };
        let chunk = &lr[start..(start + CHUNK).min(n)];
        (chunk.len(), scan(chunk, decay, ScanState { prev, ..Default::default() }, None))
    };
    let summaries: Vec<(usize, ScanState)> = if parallel {
        (0..n_chunks - 1).into_par_iter().map(summarise).collect()
    } else {
        (0..n_chunks - 1).map(summarise).collect()
    };
    // Combine in chunk order: exact start state of every chunk.
    let mut starts = Vec::with_capacity(n_chunks);
    let mut st = init;
    starts.push(st);
    for (len, local) in &summaries {
        let carried_m = st.m;
        st.s1 += local.s1;
        st.s2 += local.s2 + carried_m * geometric_tail(decay, *len);
        st.m = decay.powi(*len as i32).mul_add(carried_m, local.m);
        st.prev = local.prev;
        starts.push(st);
    }
    // Pass 2: every chunk written from its start state.
    let jobs: Vec<_> =
        lr.chunks(CHUNK).zip(s1_out.chunks_mut(CHUNK)).zip(s2_out.chunks_mut(CHUNK)).zip(starts).collect();
    type Job<'a> = (((&'a [f64], &'a mut [f64]), &'a mut [f64]), ScanState);
    let write = |(((chunk, s1c), s2c), start): Job<'_>| {
        scan(chunk, decay, start, Some((s1c, s2c)));
    };
    if parallel {
        jobs.into_par_iter().for_each(write);
    } else {
        jobs.into_iter().for_each(write);
    }
}

/// Allocate and return (S1, S2), one value per step.
pub fn areas(lr: &[f64], opts: &AreaOptions) -> Result<(Vec<f64>, Vec<f64>)> {
    let mut s1 = vec![0.0; lr.len()];
    let mut s2 = vec![0.0; lr.len()];
    areas_into(lr, opts, &mut s1, &mut s2)?;
    Ok((s1, s2))
}

/// dS2/dλ for every step (sequential O(n) recurrence q_i = m_{i−1} + λ·q_{i−1}).
pub fn ds2_ddecay(lr: &[f64], opts: &AreaOptions) -> Result<Vec<f64>> {
    validate_lr(lr)?;
    validate_options(lr.len(), opts)?;
    let (w, init) = prefix(lr, opts);
    let mut out = vec![0.0; lr.len()];
    let (mut m, mut q, mut dsum, mut prev) = (0.0_f64, 0.0_f64, 0.0_f64, init.prev);
    let lambda = opts.decay;
    for (&eta, o) in lr[w..].iter().zip(out[w..].iter_mut()) {
        // q uses the momentum of the previous step, so update it first.
        q = lambda.mul_add(q, m);
        m = lambda.mul_add(m, prev - eta);
        prev = eta;
        dsum += q;
        *o = dsum;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closed form S2(s) = Σ_{k≤s} (η_{k−1} − η_k)(1 − λ^{s−k+1})/(1 − λ), O(n²).
    fn s2_closed(lr: &[f64], decay: f64) -> Vec<f64> {
        (0..lr.len())
            .map(|s| {
                (0..=s)
                    .map(|k| {
                        let prev = if k == 0 { lr[0] } else { lr[k - 1] };
                        let w: f64 = (0..=(s - k)).map(|j| decay.powi(j as i32)).sum();
                        (prev - lr[k]) * w
                    })
                    .sum()
            })
            .collect()
    }

    fn wavy(n: usize) -> Vec<f64> {
        (0..n).map(|i| 1e-3 * (1.5 + (i as f64 * 0.013).sin() + 0.3 * (i as f64 * 0.17).cos())).collect()
    }

    #[test]
    fn recurrence_matches_closed_form() {
        let lr = wavy(300);
        let opts = AreaOptions { decay: 0.97, warmup_steps: 0, warmup: WarmupMode::Actual };
        let (_, s2) = areas(&lr, &opts).unwrap();
        let closed = s2_closed(&lr, 0.97);
        for (a, b) in s2.iter().zip(&closed) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-6), "{a} vs {b}");
        }
    }

    #[test]
    fn chunked_equals_sequential() {
        let lr = wavy(3 * CHUNK + 123);
        let opts = AreaOptions { decay: 0.999, warmup_steps: 0, warmup: WarmupMode::Actual };
        let (s1, s2) = areas(&lr, &opts).unwrap();
        let mut a = vec![0.0; lr.len()];
        let mut b = vec![0.0; lr.len()];
        scan(&lr, 0.999, ScanState { prev: lr[0], ..Default::default() }, Some((&mut a, &mut b)));
        for i in 0..lr.len() {
            assert!((s1[i] - a[i]).abs() <= 1e-12 * a[i].abs());
            assert!((s2[i] - b[i]).abs() <= 1e-11 * b[i].abs().max(1e-3));
        }
    }

    #[test]
    fn zero_decay_is_lr_drop() {
        let lr = wavy(1000);
        let opts = AreaOptions { decay: 0.0, warmup_steps: 0, warmup: WarmupMode::Actual };
        let (_, s2) = areas(&lr, &opts).unwrap();
        for (s, v) in s2.iter().enumerate() {
            assert!((v - (lr[0] - lr[s])).abs() < 1e-15);
        }
    }

    #[test]
    fn derivative_matches_finite_difference() {
        let lr = wavy(500);
        let lam = 0.95;
        let h = 1e-6;
        let opts = |d| AreaOptions { decay: d, warmup_steps: 20, warmup: WarmupMode::AsPeak };
        let d = ds2_ddecay(&lr, &opts(lam)).unwrap();
        let (_, hi) = areas(&lr, &opts(lam + h)).unwrap();
        let (_, lo) = areas(&lr, &opts(lam - h)).unwrap();
        for i in 0..lr.len() {
            let fd = (hi[i] - lo[i]) / (2.0 * h);
            assert!((fd - d[i]).abs() <= 1e-5 * d[i].abs().max(1e-6), "{i}: {fd} vs {}", d[i]);
        }
    }

    #[test]
    fn rejects_bad_lr() {
        let err = areas(&[1e-3, f64::NAN], &AreaOptions::default()).unwrap_err();
        assert!(matches!(err, Error::InvalidValue { index: 1, .. }));
        assert!(areas(&[-1.0], &AreaOptions::default()).is_err());
        let opts = AreaOptions { decay: 1.5, ..Default::default() };
        assert!(areas(&[1.0], &opts).is_err());
    }

    #[test]
    fn spec_check_cosine_20k() {
        let (w, t, peak) = (500usize, 20000usize, 2e-4);
        let lr: Vec<f64> = (0..t)
            .map(|k| {
                if k < w {
                    peak * (k + 1) as f64 / w as f64
                } else {
                    let p = (k - w) as f64 / (t - w) as f64;
                    0.5 * peak * (1.0 + (std::f64::consts::PI * p).cos())
                }
            })
            .collect();
        for (decay, want) in [(0.999, 0.1975), (0.99, 0.0200)] {
            let opts = AreaOptions { decay, warmup_steps: w, warmup: WarmupMode::AsPeak };
            let (s1, s2) = areas(&lr, &opts).unwrap();
            assert!((s1[t - 1] - 2.050).abs() < 5e-4, "{}", s1[t - 1]);
            assert!((s2[t - 1] - want).abs() < 5e-5, "{}", s2[t - 1]);
        }
    }
}
