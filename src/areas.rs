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
//! The scan runs over fixed-size chunks. Every chunk but the last is summarised from a zero state
//! in closed form (dot products with precomputed powers of λ, which vectorise; the LR check rides
//! along), the summaries are combined in chunk order into the exact start state of every chunk,
//! and every chunk is written by the recurrence from its start state. On one thread each chunk is
//! summarised and written back to back while it is in cache (one read of the input); on several,
//! the summaries and then the writes run in parallel. Chunk boundaries and arithmetic never depend
//! on the thread count or the path taken, so results are bit-identical whether rayon runs one
//! thread or many.

use crate::error::{Error, Result};
use rayon::prelude::*;

/// Steps per chunk of the parallel scan. Fixed: results must not depend on the thread count.
const CHUNK: usize = 1 << 13;
/// Below this many steps the chunks are processed on the calling thread (same arithmetic).
const PARALLEL_MIN: usize = 1 << 19;
/// Independent accumulators of the vectorised loops (a fixed order, so deterministic).
const LANES: usize = 8;

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

/// Check the logged indices of curve `curve` against its schedule of `n_steps` steps: each
/// `< n_steps`, strictly increasing.
pub fn validate_logged_indices(curve: usize, indices: &[usize], n_steps: usize) -> Result<()> {
    for (i, &k) in indices.iter().enumerate() {
        if k >= n_steps {
            return Err(Error::InvalidArgument(format!(
                "curve {curve}: logged index {k} (at position {i}) is outside the schedule of {n_steps} steps"
            )));
        }
        if i > 0 && k <= indices[i - 1] {
            return Err(Error::InvalidArgument(format!(
                "curve {curve}: logged indices must be strictly increasing (position {i}: {k})"
            )));
        }
    }
    Ok(())
}

/// Check that every LR is finite and non-negative.
pub fn validate_lr(lr: &[f64]) -> Result<()> {
    // Fast path: a branch-free reduction over independent lanes (so it vectorises), then locate
    // the culprit only if there is one.
    let mut ok = [true; LANES];
    let blocks = lr.chunks_exact(LANES);
    let tail_ok = blocks.remainder().iter().all(|&x| (0.0..=f64::MAX).contains(&x));
    for block in blocks {
        let block: &[f64; LANES] = block.try_into().expect("exact chunk");
        for j in 0..LANES {
            ok[j] &= (block[j] >= 0.0) & (block[j] <= f64::MAX);
        }
    }
    if tail_ok && ok.iter().all(|&o| o) {
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

/// Run the recurrence over `lr` from `st`, writing S1 and S2 per step; returns the final state.
///
/// Two steps per iteration: the momentum two steps on is λ²·m + (λ·d₁ + d₂), so the momentum
/// chain costs one multiply and one add per two steps, no more than the S1 and S2 chains (one add
/// per step each), which keep their plain left-to-right order. Plain `a * b + c` rather than
/// `mul_add`: without a target FMA unit (the x86-64 baseline) `mul_add` is a slow library call.
#[inline]
fn scan(lr: &[f64], decay: f64, mut st: ScanState, s1_out: &mut [f64], s2_out: &mut [f64]) -> ScanState {
    let decay2 = decay * decay;
    let pairs = lr.chunks_exact(2);
    let rest = pairs.remainder();
    let mut s1_pairs = s1_out.chunks_exact_mut(2);
    let mut s2_pairs = s2_out.chunks_exact_mut(2);
    for ((eta, s1), s2) in pairs.zip(s1_pairs.by_ref()).zip(s2_pairs.by_ref()) {
        let (d0, d1) = (st.prev - eta[0], eta[0] - eta[1]);
        let m0 = decay * st.m + d0;
        st.m = decay2 * st.m + (decay * d0 + d1);
        st.s1 += eta[0];
        s1[0] = st.s1;
        st.s1 += eta[1];
        s1[1] = st.s1;
        st.s2 += m0;
        s2[0] = st.s2;
        st.s2 += st.m;
        s2[1] = st.s2;
        st.prev = eta[1];
    }
    let s1_rest = s1_pairs.into_remainder();
    let s2_rest = s2_pairs.into_remainder();
    for ((&eta, s1), s2) in rest.iter().zip(s1_rest.iter_mut()).zip(s2_rest.iter_mut()) {
        st.m = decay * st.m + (st.prev - eta);
        st.s2 += st.m;
        st.s1 += eta;
        st.prev = eta;
        *s1 = st.s1;
        *s2 = st.s2;
    }
    st
}

/// Weights that summarise a full chunk of `CHUNK` steps from a zero state in closed form.
///
/// With d_k = η_{k−1} − η_k (k = 0..L−1 within the chunk, η_{−1} the LR before it), the local
/// momentum after the chunk is Σ_k λ^{L−1−k} d_k and the local S2 is Σ_k H_{L−1−k} d_k with
/// H_j = Σ_{t=0..j} λ^t. Written as dot products these vectorise, unlike the recurrence.
struct Weights {
    /// λ^{L−1−k}, k = 0..L.
    pow_rev: Vec<f64>,
    /// H_{L−1−k}, k = 0..L.
    geo_rev: Vec<f64>,
    /// λ^L: how a start momentum decays over a chunk.
    pow_chunk: f64,
    /// Σ_{j=1..L} λ^j: the weight of a start momentum on the S2 of a chunk.
    tail_chunk: f64,
}

impl Weights {
    fn new(decay: f64) -> Self {
        // Forward tables λ^j and H_j, j = 0..L. After the first LANES entries, LANES independent
        // chains: λ^{j+LANES} = λ^LANES·λ^j and H_{j+LANES} = H_{LANES−1} + λ^LANES·H_j.
        let mut pow = vec![0.0; CHUNK];
        let mut geo = vec![0.0; CHUNK];
        let (mut p, mut h) = (1.0_f64, 1.0_f64);
        for j in 0..LANES {
            pow[j] = p;
            geo[j] = h;
            p *= decay;
            h = 1.0 + decay * h;
        }
        let (p_lanes, h_head) = (p, geo[LANES - 1]);
        for j in LANES..CHUNK {
            pow[j] = p_lanes * pow[j - LANES];
            geo[j] = h_head + p_lanes * geo[j - LANES];
        }
        // λ^L = λ·λ^{L−1}; Σ_{j=1..L} λ^j = λ·H_{L−1}.
        let (pow_chunk, tail_chunk) = (decay * pow[CHUNK - 1], decay * geo[CHUNK - 1]);
        pow.reverse();
        geo.reverse();
        Self { pow_rev: pow, geo_rev: geo, pow_chunk, tail_chunk }
    }
}

/// Summary of one full chunk from a zero state with `prev` the LR before it, in closed form,
/// and whether every LR of the chunk is certainly finite and non-negative (`false` only means
/// "check it": a sum that overflows also gives `false`).
fn summarise(chunk: &[f64], prev: f64, w: &Weights) -> (ScanState, bool) {
    debug_assert_eq!(chunk.len(), CHUNK);
    let mut s1 = [0.0_f64; LANES];
    let mut m = [0.0_f64; LANES];
    let mut s2 = [0.0_f64; LANES];
    // The smallest LR seen; a NaN or an infinity shows in the sum S1 instead.
    let mut lo = [0.0_f64; LANES];
    // d_k = η_{k−1} − η_k: pair every LR with its predecessor. The lane blocks start at k = 1;
    // k = 0 (whose predecessor is `prev`) and the tail are added after them.
    let body = CHUNK - 1;
    let full = body - body % LANES;
    let cur = chunk[1..1 + full].chunks_exact(LANES);
    let before = chunk[..full].chunks_exact(LANES);
    let pw = w.pow_rev[1..1 + full].chunks_exact(LANES);
    let gw = w.geo_rev[1..1 + full].chunks_exact(LANES);
    for (((c, b), p), g) in cur.zip(before).zip(pw).zip(gw) {
        let c: &[f64; LANES] = c.try_into().expect("exact chunk");
        let b: &[f64; LANES] = b.try_into().expect("exact chunk");
        let p: &[f64; LANES] = p.try_into().expect("exact chunk");
        let g: &[f64; LANES] = g.try_into().expect("exact chunk");
        for j in 0..LANES {
            let d = b[j] - c[j];
            s1[j] += c[j];
            m[j] += p[j] * d;
            s2[j] += g[j] * d;
            lo[j] = if c[j] < lo[j] { c[j] } else { lo[j] };
        }
    }
    let mut st = ScanState { prev: chunk[CHUNK - 1], ..Default::default() };
    let mut low = 0.0_f64;
    for j in 0..LANES {
        st.s1 += s1[j];
        st.m += m[j];
        st.s2 += s2[j];
        low = low.min(lo[j]);
    }
    for k in (0..1).chain(1 + full..CHUNK) {
        let before = if k == 0 { prev } else { chunk[k - 1] };
        let d = before - chunk[k];
        st.s1 += chunk[k];
        st.m += w.pow_rev[k] * d;
        st.s2 += w.geo_rev[k] * d;
        low = low.min(chunk[k]);
    }
    (st, st.s1.is_finite() && low >= 0.0)
}

/// The start state of the next chunk from this chunk's start state and its summary.
#[inline]
fn combine(start: &ScanState, local: &ScanState, w: &Weights) -> ScanState {
    ScanState {
        s1: start.s1 + local.s1,
        s2: start.s2 + (local.s2 + start.m * w.tail_chunk),
        m: w.pow_chunk * start.m + local.m,
        prev: local.prev,
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
/// `lr[i]` is the LR of step i+1. O(n) time, no allocation beyond O(CHUNK + n / CHUNK) weights and
/// summaries; uses rayon for n ≥ `PARALLEL_MIN` when it has more than one thread. The result is
/// bit-identical for any thread count. On error the contents of the outputs are unspecified.
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
    validate_options(n, opts)?;
    // The warmup prefix is validated here; the rest of `lr` as it is scanned.
    validate_lr(&lr[..opts.warmup_steps])?;
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
    if scan_chunked(&lr[w..], opts.decay, init, &mut s1_out[w..], &mut s2_out[w..]) {
        Ok(())
    } else {
        // Some LR is bad: find the first one for the message.
        validate_lr(lr)
    }
}

/// The chunked scan; returns false (outputs unspecified) if some LR is negative or not finite.
///
/// Every chunk but the last is summarised from a zero state in closed form, the summaries are
/// combined in chunk order into the exact start state of every chunk, and every chunk is written
/// by the recurrence from its start state. The arithmetic depends only on the fixed `CHUNK`, never
/// on the thread count or on which path runs, so every path gives the same bits.
fn scan_chunked(lr: &[f64], decay: f64, init: ScanState, s1_out: &mut [f64], s2_out: &mut [f64]) -> bool {
    let n = lr.len();
    if n <= CHUNK {
        if validate_lr(lr).is_err() {
            return false;
        }
        scan(lr, decay, init, s1_out, s2_out);
        return true;
    }
    let w = Weights::new(decay);
    let n_chunks = n.div_ceil(CHUNK);
    let last = (n_chunks - 1) * CHUNK;
    if validate_lr(&lr[last..]).is_err() {
        return false;
    }
    let prev_of = |c: usize| if c == 0 { init.prev } else { lr[c * CHUNK - 1] };
    if n < PARALLEL_MIN || rayon::current_num_threads() == 1 {
        // One pass: summarise a chunk, then write it while it is still in cache.
        let mut start = init;
        let chunks = lr.chunks(CHUNK).zip(s1_out.chunks_mut(CHUNK)).zip(s2_out.chunks_mut(CHUNK));
        for (c, ((chunk, s1c), s2c)) in chunks.enumerate() {
            let next = if c + 1 < n_chunks {
                let (local, ok) = summarise(chunk, prev_of(c), &w);
                if !ok && validate_lr(chunk).is_err() {
                    return false;
                }
                Some(combine(&start, &local, &w))
            } else {
                None
            };
            scan(chunk, decay, start, s1c, s2c);
            if let Some(next) = next {
                start = next;
            }
        }
        return true;
    }
    // Pass 1 (parallel): summaries of the full chunks (all but the last, which may be short).
    let summaries: Vec<(ScanState, bool)> = (0..n_chunks - 1)
        .into_par_iter()
        .map(|c| summarise(&lr[c * CHUNK..(c + 1) * CHUNK], prev_of(c), &w))
        .collect();
    let chunk_ok = |(c, (_, ok)): (usize, &(ScanState, bool))| {
        *ok || validate_lr(&lr[c * CHUNK..(c + 1) * CHUNK]).is_ok()
    };
    if !summaries.iter().enumerate().all(chunk_ok) {
        return false;
    }
    // Combine in chunk order: the exact start state of every chunk.
    let mut starts = Vec::with_capacity(n_chunks);
    starts.push(init);
    for (local, _) in &summaries {
        let next = combine(starts.last().expect("non-empty"), local, &w);
        starts.push(next);
    }
    // Pass 2 (parallel): every chunk written from its start state.
    lr.par_chunks(CHUNK)
        .zip(s1_out.par_chunks_mut(CHUNK))
        .zip(s2_out.par_chunks_mut(CHUNK))
        .zip(starts)
        .for_each(|(((chunk, s1c), s2c), start)| {
            scan(chunk, decay, start, s1c, s2c);
        });
    true
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
    let mut out = vec![0.0; lr.len()];
    ds2_ddecay_into(lr, opts, &mut out)?;
    Ok(out)
}

/// Fill `out` (of the length of `lr`) with dS2/dλ for every step.
pub fn ds2_ddecay_into(lr: &[f64], opts: &AreaOptions, out: &mut [f64]) -> Result<()> {
    if out.len() != lr.len() {
        return Err(Error::LengthMismatch {
            name: "out",
            got: out.len(),
            expected: lr.len(),
            why: "one value per step",
        });
    }
    validate_lr(lr)?;
    validate_options(lr.len(), opts)?;
    let (w, init) = prefix(lr, opts);
    out[..w].fill(0.0);
    let (mut m, mut q, mut dsum, mut prev) = (0.0_f64, 0.0_f64, 0.0_f64, init.prev);
    let lambda = opts.decay;
    for (&eta, o) in lr[w..].iter().zip(out[w..].iter_mut()) {
        // q uses the momentum of the previous step, so update it first. Plain `a * b + c`, not
        // `mul_add`: without a target FMA unit `mul_add` is a slow library call.
        q = lambda * q + m;
        m = lambda * m + (prev - eta);
        prev = eta;
        dsum += q;
        *o = dsum;
    }
    Ok(())
}

/// A momentum below `floor` in magnitude is set to 0. Over long constant-LR stretches λ^k·m
/// decays into subnormal numbers, whose arithmetic costs ~100 cycles per operation; with `floor`
/// 1e-200 times the largest LR its effect on S2 (≤ floor/(1 − λ)) is far below rounding.
#[inline(always)]
fn flush_tiny(m: f64, floor: f64) -> f64 {
    if m.abs() < floor {
        0.0
    } else {
        m
    }
}

/// Steps between the saved states of an [`AreaStream`] (even, so states sit on pair boundaries).
pub const STREAM_EVERY: usize = 256;

/// S1 and S2 of one schedule at any range of steps, recomputed on demand instead of stored.
///
/// Holds the state of the recurrence before every [`STREAM_EVERY`]-th step (32 bytes per 256
/// steps) and replays at most `STREAM_EVERY` steps to reach any start, so a fit on a per-step log
/// of T steps needs O(T / 256) memory for its areas instead of O(T). The recurrence advances in
/// pairs of steps aligned to even step indices (see `scan`), so the value at a step is the same
/// bits whatever range it is requested in. Values agree with [`areas`] to rounding (≈1e-13
/// relative).
#[derive(Debug, Clone)]
pub struct AreaStream<'a> {
    lr: &'a [f64],
    decay: f64,
    /// Length of the warmup prefix with a closed form (0 for `Actual`).
    prefix_len: usize,
    /// Value of S1 per prefix step (`AsPeak`: the peak LR; `Exclude`: 0).
    prefix_rate: f64,
    /// State after the prefix.
    init: ScanState,
    /// `saved[k]`: state before step index k·STREAM_EVERY (for indices past the prefix).
    saved: Vec<ScanState>,
    /// Momenta below this magnitude are flushed to 0 (see `flush_tiny`).
    flush_below: f64,
}

impl<'a> AreaStream<'a> {
    /// Validate `lr` and `opts` and save the states: the states at every `CHUNK`-th step come
    /// from the closed-form chunk summaries (in parallel), those in between from the recurrence
    /// (in parallel over chunks). Chunking is fixed, so the states never depend on the threads.
    pub fn new(lr: &'a [f64], opts: &AreaOptions) -> Result<Self> {
        const PER_CHUNK: usize = CHUNK / STREAM_EVERY;
        validate_options(lr.len(), opts)?;
        validate_lr(lr)?;
        let n = lr.len();
        let (prefix_len, init) = prefix(lr, opts);
        let prefix_rate = if opts.warmup == WarmupMode::AsPeak { init.prev } else { 0.0 };
        let lr_max = lr.iter().fold(0.0_f64, |m, &v| m.max(v));
        let flush_below = lr_max * 1e-200;
        let mut stream =
            Self { lr, decay: opts.decay, prefix_len, prefix_rate, init, saved: Vec::new(), flush_below };
        let mut saved = vec![init; n / STREAM_EVERY + 1];
        // Head: from the prefix end to the first chunk boundary at or after it, sequentially.
        let first_chunk = prefix_len.div_ceil(CHUNK);
        let head_end = (first_chunk * CHUNK).min(n);
        let (mut st, mut at) = (init, prefix_len);
        for (k, state) in saved.iter_mut().enumerate().take(head_end / STREAM_EVERY + 1) {
            if k * STREAM_EVERY >= prefix_len {
                st = stream.advance(st, at, k * STREAM_EVERY);
                at = k * STREAM_EVERY;
                *state = st;
            }
        }
        // Start states of the later chunks: closed-form summaries of full chunks, combined in order.
        let n_chunks = n / CHUNK + 1;
        if first_chunk + 1 < n_chunks {
            let w = Weights::new(opts.decay);
            let mut start = saved[first_chunk * PER_CHUNK];
            // The LR before a chunk: the state's (η_0 conventions of the prefix) for the first.
            let prev_of = |c: usize| if c == first_chunk { start.prev } else { lr[c * CHUNK - 1] };
            let summaries: Vec<ScanState> = (first_chunk..n_chunks - 1)
                .into_par_iter()
                .map(|c| summarise(&lr[c * CHUNK..(c + 1) * CHUNK], prev_of(c), &w).0)
                .collect();
            for (c, local) in (first_chunk + 1..).zip(&summaries) {
                start = combine(&start, local, &w);
                if c * PER_CHUNK < saved.len() {
                    saved[c * PER_CHUNK] = start;
                }
            }
        }
        // The states inside every chunk, from its start state.
        let inner = &stream;
        saved.par_chunks_mut(PER_CHUNK).enumerate().skip(first_chunk).for_each(|(c, states)| {
            let mut st = states[0];
            for j in 1..states.len() {
                let from = c * CHUNK + (j - 1) * STREAM_EVERY;
                st = inner.advance(st, from, from + STREAM_EVERY);
                states[j] = st;
            }
        });
        stream.saved = saved;
        Ok(stream)
    }

    /// The first index of segment `k` that the recurrence covers, and the state before it.
    #[inline]
    fn segment_start(&self, k: usize) -> (usize, ScanState) {
        if k * STREAM_EVERY < self.prefix_len {
            (self.prefix_len, self.init)
        } else {
            (k * STREAM_EVERY, self.saved[k])
        }
    }

    /// Number of steps T.
    pub fn len(&self) -> usize {
        self.lr.len()
    }

    /// Whether the schedule is empty.
    pub fn is_empty(&self) -> bool {
        self.lr.is_empty()
    }

    /// One step of the recurrence (used only right after an odd-length prefix).
    #[inline(always)]
    fn single(&self, st: &mut ScanState, eta: f64) {
        st.m = flush_tiny(self.decay * st.m + (st.prev - eta), self.flush_below);
        st.s2 += st.m;
        st.s1 += eta;
        st.prev = eta;
    }

    /// A pair of steps from an even index: returns (S1, S2) after the first; `st` after both.
    #[inline(always)]
    fn pair(&self, st: &mut ScanState, eta0: f64, eta1: f64) -> (f64, f64) {
        let (d0, d1) = (st.prev - eta0, eta0 - eta1);
        let m0 = self.decay * st.m + d0;
        st.m = flush_tiny(self.decay * self.decay * st.m + (self.decay * d0 + d1), self.flush_below);
        st.s1 += eta0;
        let first_s1 = st.s1;
        st.s1 += eta1;
        st.s2 += m0;
        let first_s2 = st.s2;
        st.s2 += st.m;
        st.prev = eta1;
        (first_s1, first_s2)
    }

    /// Advance `st`, the state before index `from` (≥ the prefix; even or the prefix end), to
    /// the state before index `to` (even, or the end of the schedule).
    fn advance(&self, mut st: ScanState, mut from: usize, to: usize) -> ScanState {
        if from < to && from % 2 == 1 {
            self.single(&mut st, self.lr[from]);
            from += 1;
        }
        let mut i = from;
        while i + 1 < to {
            self.pair(&mut st, self.lr[i], self.lr[i + 1]);
            i += 2;
        }
        if i < to {
            // An odd end: the first half of a pair is one plain step (same arithmetic).
            self.single(&mut st, self.lr[i]);
        }
        st
    }

    /// The state before step index `at` (0-based, ≥ the prefix, even or the prefix end), advanced
    /// from the start of its segment.
    fn state_before(&self, at: usize) -> ScanState {
        let (from, st) = self.segment_start(at / STREAM_EVERY);
        self.advance(st, from, at)
    }

    /// S1 and S2 at the 0-based step indices `indices` (ascending, within the schedule): the
    /// same bits as [`AreaStream::fill`], at a cost of at most `STREAM_EVERY` steps per index and
    /// never more than one pass over the schedule.
    pub fn values_at(&self, indices: &[usize], s1_out: &mut [f64], s2_out: &mut [f64]) {
        assert!(s1_out.len() == indices.len() && s2_out.len() == indices.len(), "one output per index");
        let w = self.prefix_len;
        // The state before pair boundary `pos`, carried from one index to the next.
        let mut carried: Option<(ScanState, usize)> = None;
        for (j, &i) in indices.iter().enumerate() {
            assert!(i < self.lr.len(), "index within the schedule");
            if i < w {
                s1_out[j] = self.prefix_rate * (i + 1) as f64;
                s2_out[j] = 0.0;
                continue;
            }
            let entry = if i == w { w } else { i & !1 };
            let k = entry / STREAM_EVERY;
            // Within one segment a carried state gives the same bits as its saved start.
            let (from_state, from) = match carried {
                Some((st, pos)) if pos <= entry && pos >= k * STREAM_EVERY => (st, pos),
                _ => {
                    let (from, st) = self.segment_start(k);
                    (st, from)
                }
            };
            let mut st = self.advance(from_state, from, entry);
            carried = Some((st, entry));
            if entry % 2 == 1 {
                self.single(&mut st, self.lr[entry]);
                (s1_out[j], s2_out[j]) = (st.s1, st.s2);
            } else {
                let eta1 = self.lr.get(entry + 1).copied().unwrap_or(0.0);
                let first = self.pair(&mut st, self.lr[entry], eta1);
                (s1_out[j], s2_out[j]) = if i == entry { first } else { (st.s1, st.s2) };
            }
        }
    }

    /// Fill `s1_out` and `s2_out` (equal lengths) with S1 and S2 of steps `start + 1 ..` (the
    /// 0-based step indices `start .. start + len`), which must lie within the schedule.
    ///
    /// Every segment of `STREAM_EVERY` steps is computed from its own saved state, so a step gets
    /// the same bits whatever range it is requested in.
    pub fn fill(&self, start: usize, s1_out: &mut [f64], s2_out: &mut [f64]) {
        let len = s1_out.len();
        assert!(s2_out.len() == len && start + len <= self.lr.len(), "range within the schedule");
        let end = start + len;
        let w = self.prefix_len;
        for i in start..end.min(w) {
            s1_out[i - start] = self.prefix_rate * (i + 1) as f64;
            s2_out[i - start] = 0.0;
        }
        let mut first = start.max(w);
        while first < end {
            let seg_end = ((first / STREAM_EVERY + 1) * STREAM_EVERY).min(end);
            // Enter at a pair boundary of the segment.
            let entry = if first == w { w } else { first & !1 };
            let mut st = self.state_before(entry);
            let mut i = entry;
            if i % 2 == 1 {
                self.single(&mut st, self.lr[i]);
                s1_out[i - start] = st.s1;
                s2_out[i - start] = st.s2;
                i += 1;
            }
            while i < seg_end {
                let eta1 = self.lr.get(i + 1).copied().unwrap_or(0.0);
                let (s1a, s2a) = self.pair(&mut st, self.lr[i], eta1);
                if i >= first {
                    s1_out[i - start] = s1a;
                    s2_out[i - start] = s2a;
                }
                if i + 1 < seg_end {
                    s1_out[i + 1 - start] = st.s1;
                    s2_out[i + 1 - start] = st.s2;
                }
                i += 2;
            }
            first = seg_end;
        }
    }
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

    /// The literal recurrence, one step at a time, from the state after the warmup prefix.
    fn plain(lr: &[f64], opts: &AreaOptions) -> (Vec<f64>, Vec<f64>) {
        let (w, init) = prefix(lr, opts);
        let (mut s1, mut s2) = (vec![0.0; lr.len()], vec![0.0; lr.len()]);
        if opts.warmup == WarmupMode::AsPeak {
            for (i, v) in s1[..w].iter_mut().enumerate() {
                *v = init.prev * (i + 1) as f64;
            }
        }
        let (mut a, mut m, mut b, mut prev) = (init.s1, 0.0, 0.0, init.prev);
        for ((&eta, v1), v2) in lr[w..].iter().zip(&mut s1[w..]).zip(&mut s2[w..]) {
            m = opts.decay * m + (prev - eta);
            a += eta;
            b += m;
            prev = eta;
            *v1 = a;
            *v2 = b;
        }
        (s1, s2)
    }

    fn assert_close(got: &[f64], want: &[f64], rtol: f64) {
        let scale = want.iter().fold(0.0_f64, |acc, x| acc.max(x.abs()));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!((g - w).abs() <= rtol * scale, "{i}: {g} vs {w}");
        }
    }

    const MODES: [WarmupMode; 3] = [WarmupMode::Actual, WarmupMode::AsPeak, WarmupMode::Exclude];

    #[test]
    fn chunked_equals_sequential() {
        for n in [CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 3 * CHUNK + 123, PARALLEL_MIN + 5 * CHUNK + 7] {
            let lr = wavy(n);
            for decay in [0.0, 0.5, 0.999, 1.0] {
                for warmup in MODES {
                    let opts = AreaOptions { decay, warmup_steps: 100, warmup };
                    let (s1, s2) = areas(&lr, &opts).unwrap();
                    let (a, b) = plain(&lr, &opts);
                    assert_close(&s1, &a, 1e-13);
                    assert_close(&s2, &b, 1e-11);
                }
            }
        }
    }

    #[test]
    fn summary_matches_recurrence() {
        let lr = wavy(CHUNK + 1);
        let chunk = &lr[1..];
        for decay in [0.0, 0.3, 0.999, 1.0] {
            let w = Weights::new(decay);
            let (closed, ok) = summarise(chunk, lr[0], &w);
            assert!(ok);
            let mut st = ScanState { prev: lr[0], ..Default::default() };
            for &eta in chunk {
                st.m = decay * st.m + (st.prev - eta);
                st.s2 += st.m;
                st.s1 += eta;
                st.prev = eta;
            }
            assert!((closed.s1 - st.s1).abs() <= 1e-14 * st.s1.abs());
            assert!((closed.m - st.m).abs() <= 1e-15, "{decay}: {} vs {}", closed.m, st.m);
            // The closed form is the more accurate of the two (checked at 60 digits for λ = 0.999).
            assert!(
                (closed.s2 - st.s2).abs() <= 1e-13 * st.s2.abs().max(1e-3),
                "{decay}: {} vs {}",
                closed.s2,
                st.s2
            );
            assert_eq!(closed.prev, st.prev);
        }
    }

    /// Run `f` inside a dedicated rayon pool of `threads` threads.
    fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(f)
    }

    #[test]
    fn bit_identical_for_any_thread_count() {
        // Above the parallel threshold, with a short last chunk and a re-warmup.
        let n = PARALLEL_MIN + 7 * CHUNK + 321;
        let mut lr = wavy(n);
        for x in &mut lr[n / 2..n / 2 + 5000] {
            *x *= 0.1;
        }
        for decay in [0.0, 0.9, 0.999, 1.0] {
            for warmup in MODES {
                let opts = AreaOptions { decay, warmup_steps: 2000, warmup };
                let one = in_pool(1, || areas(&lr, &opts).unwrap());
                assert_eq!(in_pool(1, rayon::current_num_threads), 1);
                for threads in [2, 3] {
                    let many = in_pool(threads, || areas(&lr, &opts).unwrap());
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert!(bits(&one.0) == bits(&many.0), "S1 differs: {decay} {warmup:?} {threads}");
                    assert!(bits(&one.1) == bits(&many.1), "S2 differs: {decay} {warmup:?} {threads}");
                }
            }
        }
    }

    #[test]
    fn first_bad_lr_reported_for_any_thread_count() {
        let n = PARALLEL_MIN + 3 * CHUNK + 11;
        for (index, value) in [(5 * CHUNK + 17, f64::NAN), (n - 1, -1e-9), (CHUNK, f64::INFINITY), (3, -0.5)]
        {
            let mut lr = wavy(n);
            lr[index] = value;
            lr[n - 2] = f64::NAN; // a later bad value must not be the one reported
            for threads in [1, 2] {
                let err = in_pool(threads, || areas(&lr, &AreaOptions::default()).unwrap_err());
                let want = index.min(n - 2);
                assert!(matches!(err, Error::InvalidValue { index: i, .. } if i == want), "{err:?}");
            }
        }
    }

    #[test]
    fn huge_but_valid_lr_is_accepted() {
        // Chunk sums overflow to infinity; the values themselves are valid.
        let lr = vec![1e305; PARALLEL_MIN + CHUNK];
        for threads in [1, 2] {
            let (s1, _) = in_pool(threads, || areas(&lr, &AreaOptions::default()).unwrap());
            assert_eq!(s1[0], 1e305);
            assert!(s1[lr.len() - 1].is_infinite());
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

    #[test]
    fn stream_matches_plain_recurrence_for_any_range() {
        for n in [1, 2, 3, 257, STREAM_EVERY * 3 + 1, 5000, 3 * CHUNK + 301] {
            let lr = wavy(n);
            for warmup in MODES {
                for w in [0, 1, 2, 101, 256, 257, CHUNK + 7] {
                    if w > n {
                        continue;
                    }
                    let opts = AreaOptions { decay: 0.995, warmup_steps: w, warmup };
                    let (a, b) = plain(&lr, &opts);
                    let stream = AreaStream::new(&lr, &opts).unwrap();
                    let mut s1 = vec![0.0; n];
                    let mut s2 = vec![0.0; n];
                    stream.fill(0, &mut s1, &mut s2);
                    assert_close(&s1, &a, 1e-13);
                    assert_close(&s2, &b, 1e-12);
                    // Any sub-range gives the same bits as the whole.
                    for (lo, hi) in [(0, 1), (1, 2), (w.min(n - 1), n), (n / 3, n / 2 + 1), (n - 1, n)] {
                        if lo >= hi || hi > n {
                            continue;
                        }
                        let mut p1 = vec![0.0; hi - lo];
                        let mut p2 = vec![0.0; hi - lo];
                        stream.fill(lo, &mut p1, &mut p2);
                        assert_eq!(&p1[..], &s1[lo..hi], "S1 n={n} w={w} {warmup:?} {lo}..{hi}");
                        assert_eq!(&p2[..], &s2[lo..hi], "S2 n={n} w={w} {warmup:?} {lo}..{hi}");
                    }
                    // Scattered indices too (including repeats and neighbours).
                    let idx: Vec<usize> =
                        [0, 0, 1, w, w + 1, w + 2, n / 2, n / 2 + 1, n / 2 + 700, n - 2, n - 1]
                            .into_iter()
                            .filter(|&i| i < n)
                            .collect::<std::collections::BTreeSet<_>>()
                            .into_iter()
                            .collect();
                    let (mut v1, mut v2) = (vec![0.0; idx.len()], vec![0.0; idx.len()]);
                    stream.values_at(&idx, &mut v1, &mut v2);
                    for (k, &i) in idx.iter().enumerate() {
                        assert_eq!(v1[k], s1[i], "S1 at {i}, n={n} w={w} {warmup:?}");
                        assert_eq!(v2[k], s2[i], "S2 at {i}, n={n} w={w} {warmup:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn stream_bit_identical_for_any_thread_count() {
        let lr = wavy(PARALLEL_MIN + 3 * CHUNK + 77);
        let opts = AreaOptions { decay: 0.999, warmup_steps: 1001, warmup: WarmupMode::AsPeak };
        let run = || {
            let stream = AreaStream::new(&lr, &opts).unwrap();
            let (mut a, mut b) = (vec![0.0; lr.len()], vec![0.0; lr.len()]);
            stream.fill(0, &mut a, &mut b);
            (a, b)
        };
        let one = in_pool(1, run);
        let two = in_pool(2, run);
        assert_eq!(one, two);
    }

    #[test]
    fn stream_rejects_bad_input() {
        assert!(AreaStream::new(&[1e-3, f64::NAN], &AreaOptions::default()).is_err());
        let opts = AreaOptions { warmup_steps: 5, ..Default::default() };
        assert!(AreaStream::new(&[1e-3; 3], &opts).is_err());
    }
}
