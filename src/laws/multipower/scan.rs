//! The compressed path: the node recurrences along the schedule, as a two-stage pipeline over
//! blocks of events.

use super::curve::CurveData;
use super::nodes::Grid;
use super::tail::Tail;
use super::Params;
use crate::fastmath::exp_fast;

/// A node whose every input has decayed by e^(−DEAD) is dropped.
const DEAD: f64 = 45.0;

/// Σ x with four accumulators (fixed order: deterministic). Index loops, no iterator adapters:
/// the sums run at every log point and must not depend on the inlining of `zip`/`map`/`sum`.
#[inline(always)]
fn sum4(x: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let n4 = x.len() / 4 * 4;
    let (head, rest) = x.split_at(n4);
    for c in head.chunks_exact(4) {
        acc[0] += c[0];
        acc[1] += c[1];
        acc[2] += c[2];
        acc[3] += c[3];
    }
    let mut tail = 0.0;
    for &v in rest {
        tail += v;
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Σ x·y with four accumulators (over the shorter length).
#[inline(always)]
fn dot4(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    let (x, y) = (&x[..n], &y[..n]);
    let mut acc = [0.0; 4];
    let n4 = n / 4 * 4;
    let mut i = 0;
    while i < n4 {
        let (a, b) = (&x[i..i + 4], &y[i..i + 4]);
        acc[0] += a[0] * b[0];
        acc[1] += a[1] * b[1];
        acc[2] += a[2] * b[2];
        acc[3] += a[3] * b[3];
        i += 4;
    }
    let mut tail = 0.0;
    for j in n4..n {
        tail += x[j] * y[j];
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// One step that needs work: an LR change (a source) and/or a logged point.
#[derive(Debug, Clone, Copy, Default)]
struct Event {
    s: usize,
    /// LR area of skipped steps to decay by before this step's input (sources only).
    pre: f64,
    /// LR area this event decays by (this step's LR, plus skipped steps for a non-source).
    delta: f64,
    src: bool,
    logged: bool,
    /// drop, ln lr, lr^γ, lr^{γβ}.
    d: f64,
    l: f64,
    gv: f64,
    gb: f64,
    /// Nodes that get input.
    n_in: usize,
}

/// Walks a curve's steps and yields the events: steps with an LR change (sources) or a log point.
struct Events<'a> {
    cv: &'a CurveData,
    g: &'a Grid,
    beta: f64,
    gamma: f64,
    s: usize,
    /// LR area of steps skipped since the last event.
    pend: f64,
    /// Next log point not yet reached.
    gnext: usize,
}

impl Iterator for Events<'_> {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let (cv, pts) = (self.cv, &self.cv.points);
        while self.gnext < pts.len() {
            let s = self.s;
            self.s += 1;
            let eta = cv.lr[s];
            let src = s >= cv.start && eta != cv.lr[s - 1] && eta > 0.0;
            let logged = pts[self.gnext] == s;
            while self.gnext < pts.len() && pts[self.gnext] == s {
                self.gnext += 1;
            }
            if !src && !logged {
                self.pend += eta;
                continue;
            }
            let mut ev = Event { s, logged, ..Default::default() };
            if src {
                ev.src = true;
                ev.pre = self.pend;
                ev.delta = eta;
                ev.d = eta - cv.lr[s - 1];
                ev.l = cv.ln_lr[s];
                let lg = self.gamma * ev.l;
                ev.gv = exp_fast(lg);
                ev.gb = exp_fast(self.beta * lg);
                ev.n_in = self.g.input_top(lg).map_or(0, |t| t + 1);
            } else {
                ev.delta = self.pend + eta;
            }
            self.pend = 0.0;
            return Some(ev);
        }
        None
    }
}

/// Node states of one curve: E (value), and with gradients H (S-weighted, for C), G1 and G2
/// (ln lr- and lr^γ·ln lr-weighted inputs, for γ).
struct States<const GRAD: bool> {
    e: Vec<f64>,
    hs: Vec<f64>,
    g1: Vec<f64>,
    g2: Vec<f64>,
}

impl<const GRAD: bool> States<GRAD> {
    fn new(n: usize) -> Self {
        let ng = if GRAD { n } else { 0 };
        Self { e: vec![0.0; n], hs: vec![0.0; ng], g1: vec![0.0; ng], g2: vec![0.0; ng] }
    }

    /// Decay nodes `from..from + m.len()` by the factors `m` over an LR area `delta`, no input.
    // Index loops over slices cut to one length: no bounds checks, vectorised.
    #[allow(clippy::needless_range_loop)]
    #[inline]
    fn decay(&mut self, from: usize, delta: f64, m: &[f64]) {
        let n = m.len();
        let e = &mut self.e[from..from + n];
        if GRAD {
            let (hs, g1, g2) =
                (&mut self.hs[from..from + n], &mut self.g1[from..from + n], &mut self.g2[from..from + n]);
            for j in 0..n {
                let t = e[j];
                hs[j] = m[j] * (hs[j] + delta * t);
                e[j] = m[j] * t;
                g1[j] *= m[j];
                g2[j] *= m[j];
            }
        } else {
            for j in 0..n {
                e[j] *= m[j];
            }
        }
    }

    /// Add `inp` to nodes `0..inp.len()` (ln lr = `l`, lr^γ·ln lr = `gl` for G1, G2), then decay
    /// them by the factors `m` of one step of LR `eta`.
    #[allow(clippy::needless_range_loop)]
    #[inline]
    fn input(&mut self, eta: f64, l: f64, gl: f64, inp: &[f64], m: &[f64]) {
        let n = inp.len();
        let (m, e) = (&m[..n], &mut self.e[..n]);
        if GRAD {
            let (hs, g1, g2) = (&mut self.hs[..n], &mut self.g1[..n], &mut self.g2[..n]);
            for j in 0..n {
                let x = inp[j];
                let t = e[j] + x;
                hs[j] = m[j] * (hs[j] + eta * t);
                e[j] = m[j] * t;
                g1[j] = m[j] * (g1[j] + x * l);
                g2[j] = m[j] * (g2[j] + x * gl);
            }
        } else {
            for j in 0..n {
                e[j] = m[j] * (e[j] + inp[j]);
            }
        }
    }

    fn clear(&mut self, j: usize) {
        self.e[j] = 0.0;
        if GRAD {
            self.hs[j] = 0.0;
            self.g1[j] = 0.0;
            self.g2[j] = 0.0;
        }
    }
}

/// Events per pipeline block.
const BLOCK: usize = 256;
/// Events (sources plus log points) from which the two pipeline stages run on two threads.
const PIPELINE_MIN_EVENTS: usize = 4 * BLOCK;

/// One event as the state stage sees it.
#[derive(Debug, Clone, Copy, Default)]
struct Step {
    s: usize,
    /// Offset and length of this event's pre-decay row in `Block::pre` (a source after skipped
    /// steps), if any.
    pre: Option<(usize, usize)>,
    pre_delta: f64,
    delta: f64,
    /// Nodes that get input, live nodes during the event, live nodes after it.
    n_in: usize,
    hi: usize,
    hi_after: usize,
    /// d·lr^{γβ}, ln lr, lr^γ of a source.
    u: f64,
    l: f64,
    gv: f64,
    logged: bool,
    /// Tail [f, ∂f/∂C, ∂f/∂β, ∂f/∂γ] at a log point.
    tail: [f64; 4],
}

/// A block of events with their decay factors: row b of `m` holds e^{−r_j·C·delta_b}.
struct Block {
    steps: Vec<Step>,
    m: Vec<f64>,
    pre: Vec<f64>,
}

impl Block {
    fn new(n: usize) -> Self {
        Self { steps: Vec::with_capacity(BLOCK), m: vec![0.0; BLOCK * n], pre: Vec::new() }
    }
}

/// u·c_j·e^{−r_j·gv} for j < out.len().
#[allow(clippy::needless_range_loop)]
#[inline]
fn input_row(g: &Grid, u: f64, gv: f64, out: &mut [f64]) {
    g.exp_neg_nodes(gv, out);
    let c = &g.c[..out.len()];
    for j in 0..out.len() {
        out[j] *= u * c[j];
    }
}

/// Stage 1: walks the events, keeps the tail sums and the live-node range (which depends only on
/// the input times), and computes the node factors of a block.
struct Producer<'a> {
    events: Events<'a>,
    cv: &'a CurveData,
    g: &'a Grid,
    pr: Params,
    grad: bool,
    hi: usize,
    last_in: Vec<f64>,
    tail: Tail,
}

impl Producer<'_> {
    /// Fill `blk` with the next events; returns false when there are none.
    fn fill(&mut self, blk: &mut Block) -> bool {
        let (g, cv, n) = (self.g, self.cv, self.g.r.len());
        let c = self.pr.c;
        let bg = (self.pr.beta, self.pr.gamma);
        blk.steps.clear();
        blk.pre.clear();
        while blk.steps.len() < BLOCK {
            let Some(ev) = self.events.next() else { break };
            let b = blk.steps.len();
            let mut st = Step { s: ev.s, delta: ev.delta, logged: ev.logged, ..Default::default() };
            if ev.src {
                if ev.pre > 0.0 && self.hi > 0 {
                    let off = blk.pre.len();
                    blk.pre.resize(off + self.hi, 0.0);
                    g.exp_neg_nodes(c * ev.pre, &mut blk.pre[off..]);
                    st.pre = Some((off, self.hi));
                    st.pre_delta = ev.pre;
                }
                let src = (ev.d, ev.l, ev.gv, ev.gb);
                if self.grad {
                    self.tail.add::<true>(g, bg, src, cv.prefix[ev.s - 1]);
                } else {
                    self.tail.add::<false>(g, bg, src, cv.prefix[ev.s - 1]);
                }
                st.n_in = ev.n_in;
                st.u = ev.d * ev.gb;
                st.l = ev.l;
                st.gv = ev.gv;
                let ps = cv.prefix[ev.s];
                for x in &mut self.last_in[..ev.n_in] {
                    *x = ps;
                }
                self.hi = self.hi.max(ev.n_in);
            }
            st.hi = self.hi;
            g.exp_neg_nodes(c * ev.delta, &mut blk.m[b * n..b * n + self.hi]);
            let ps = cv.prefix[ev.s];
            if ev.logged && ev.s >= cv.start {
                st.tail =
                    if self.grad { self.tail.value::<true>(c, ps) } else { self.tail.value::<false>(c, ps) };
            }
            // Drop nodes whose every input has decayed by e^{−DEAD} (highest rates die first).
            while self.hi > 0 && g.r[self.hi - 1] * c * (ps - self.last_in[self.hi - 1]) > DEAD {
                self.hi -= 1;
            }
            st.hi_after = self.hi;
            blk.steps.push(st);
        }
        !blk.steps.is_empty()
    }
}

/// Stage 2: the node recurrences and the sums at the log points.
struct Consumer<'a, const GRAD: bool> {
    cv: &'a CurveData,
    g: &'a Grid,
    pr: Params,
    st: States<GRAD>,
    inp: Vec<f64>,
    next: usize,
    lr_before: f64,
}

impl<const GRAD: bool> Consumer<'_, GRAD> {
    fn consume(&mut self, blk: &Block, out: &mut [[f64; 4]]) {
        let (g, cv, n) = (self.g, self.cv, self.g.r.len());
        let (beta, gamma) = (self.pr.beta, self.pr.gamma);
        for (b, st) in blk.steps.iter().enumerate() {
            let m = &blk.m[b * n..b * n + st.hi];
            if let Some((off, len)) = st.pre {
                self.st.decay(0, st.pre_delta, &blk.pre[off..off + len]);
            }
            if st.n_in > 0 {
                let inp = &mut self.inp[..st.n_in];
                input_row(g, st.u, st.gv, inp);
                self.st.input(st.delta, st.l, st.gv * st.l, inp, m);
            }
            self.st.decay(st.n_in, st.delta, &m[st.n_in..]);
            if st.logged {
                let hi = st.hi;
                let o = if st.s < cv.start {
                    [0.0; 4]
                } else {
                    let t = st.tail;
                    let se = sum4(&self.st.e[..hi]);
                    let ld = (cv.lr[st.s] - self.lr_before) - (se + t[0]);
                    if GRAD {
                        let sv = dot4(&self.st.e[..hi], &g.v);
                        let sh = dot4(&self.st.hs[..hi], &g.r);
                        let s1 = sum4(&self.st.g1[..hi]);
                        let s2 = dot4(&self.st.g2[..hi], &g.r);
                        // [LD, −∂f/∂C, −∂f/∂β, −∂f/∂γ]
                        [ld, sh - t[1], -(sv - g.psi * se + gamma * s1 + t[2]), -(beta * s1 - s2 + t[3])]
                    } else {
                        [ld, 0.0, 0.0, 0.0]
                    }
                };
                while self.next < cv.points.len() && cv.points[self.next] == st.s {
                    out[self.next] = o;
                    self.next += 1;
                }
            }
            for j in st.hi_after..st.hi {
                self.st.clear(j);
            }
        }
    }
}

/// LD and derivatives at every point of `cv` by the node recurrences, as a two-stage pipeline:
/// the events, tail sums and decay factors of block k+1 are computed while the node states absorb
/// block k (input factors, recurrences, sums). Two threads for long curves; identical arithmetic
/// on any number of threads.
pub(super) fn scan_compressed<const GRAD: bool>(cv: &CurveData, pr: &Params, g: &Grid, out: &mut [[f64; 4]]) {
    let n = g.r.len();
    let events = Events { cv, g, beta: pr.beta, gamma: pr.gamma, s: 0, pend: 0.0, gnext: 0 };
    let mut prod =
        Producer { events, cv, g, pr: *pr, grad: GRAD, hi: 0, last_in: vec![0.0; n], tail: Tail::default() };
    let mut cons = Consumer::<GRAD> {
        cv,
        g,
        pr: *pr,
        st: States::new(n),
        inp: vec![0.0; n],
        next: 0,
        lr_before: cv.lr.get(cv.start.wrapping_sub(1)).copied().unwrap_or(0.0),
    };
    let (mut cur, mut nxt) = (Block::new(n), Block::new(n));
    let parallel = cv.sources.len() + cv.points.len() >= PIPELINE_MIN_EVENTS;
    let mut more = prod.fill(&mut cur);
    while more {
        let consume = |cons: &mut Consumer<'_, GRAD>, out: &mut [[f64; 4]]| cons.consume(&cur, out);
        more = if parallel {
            rayon::join(|| prod.fill(&mut nxt), || consume(&mut cons, out)).0
        } else {
            consume(&mut cons, out);
            prod.fill(&mut nxt)
        };
        std::mem::swap(&mut cur, &mut nxt);
    }
}
