use super::curve::infer_warmup;
use super::nodes::{exp_neg, one_minus_exp};
use super::*;
use crate::fastmath::exp_fast;

const PARAMS_400M: [f64; 7] =
    [2.37474466, 0.65421216, 0.42878731, 523.42464371, 2.02462735, 0.59350493, 0.63472457];

/// The paper's warmup (0 → 3e-4 over 2160 steps) then `after(s)` for s ≥ 2160.
fn with_warmup(total: usize, after: impl Fn(usize) -> f64) -> Vec<f64> {
    (0..total).map(|s| if s < 2160 { 3e-4 * s as f64 / 2159.0 } else { after(s) }).collect()
}

fn cosine(total: usize) -> Vec<f64> {
    with_warmup(total, |s| {
        let p = (s - 2160) as f64 / (total - 2160) as f64;
        3e-5 + 0.5 * (3e-4 - 3e-5) * (1.0 + (std::f64::consts::PI * p).cos())
    })
}

fn wsd(total: usize, decay_start: usize) -> Vec<f64> {
    with_warmup(total, |s| {
        if s < decay_start {
            3e-4
        } else {
            let t = (s - decay_start) as f64 / (total - decay_start) as f64;
            3e-4f64.powf(1.0 - t) * 3e-5f64.powf(t)
        }
    })
}

/// Steps, re-warmups and zero LRs.
fn rough(total: usize) -> Vec<f64> {
    (0..total)
        .map(|s| match s % 700 {
            0..=99 => 1e-3 * s as f64 / 7000.0 % 1e-3,
            100..=299 => 8e-4,
            300..=399 => 0.0,
            400..=499 => 2e-5,
            _ => 5e-4 + 1e-4 * ((s as f64) * 0.05).sin(),
        })
        .collect()
}

/// The formula, term by term, with S_k(s) summed directly (no prefix sums).
fn literal(lr: &[f64], indices: &[usize], p: &[f64]) -> Vec<f64> {
    indices
        .iter()
        .map(|&s| {
            let s1: f64 = lr[..=s].iter().sum();
            let mut ld = 0.0;
            for k in 1..=s {
                let d = lr[k] - lr[k - 1];
                if d == 0.0 {
                    continue;
                }
                let g = if lr[k] == 0.0 {
                    1.0
                } else {
                    let sk: f64 = lr[k..=s].iter().sum();
                    1.0 - (1.0 + p[4] * lr[k].powf(-p[6]) * sk).powf(-p[5])
                };
                ld += d * g;
            }
            p[0] + p[1] * s1.powf(-p[2]) + p[3] * ld
        })
        .collect()
}

fn model(lr: &[f64], idx: &[usize], exact: bool) -> MultiPowerModel {
    let opts = MultiPowerOptions { exact, ..Default::default() };
    MultiPowerModel::new(&[MultiPowerCurve { lr, indices: idx }], opts).unwrap()
}

fn every(total: usize, stride: usize, first: usize) -> Vec<usize> {
    (first..total).step_by(stride).collect()
}

/// Largest |a − b| / |b| and, over the gradient columns, |a − b| / (max |b| of the column).
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs()).fold(0.0, f64::max)
}

/// Total variation Σ|lr[k] − lr[k−1]| of a schedule.
fn tv(lr: &[f64]) -> f64 {
    lr.windows(2).map(|w| (w[1] - w[0]).abs()).sum()
}

/// Per parameter θ_j: max over points of |θ_j|·|Δ ∂L̂/∂θ_j| / (B·TV), the scale-free gradient
/// error whose documented bound is 1e-7 (B·TV is the largest loss drop the law can produce).
fn grad_err(a: &[f64], b: &[f64], p: &[f64; 7], tv: f64) -> [f64; 7] {
    let mut out = [0.0; 7];
    for (col, o) in out.iter_mut().enumerate() {
        let worst = a.iter().zip(b).skip(col).step_by(7).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        *o = worst * p[col].abs().max(1e-300) / (p[3] * tv);
    }
    out
}

/// Benchmark, not a test: best-of-N wall time of one compressed evaluation (values, then
/// values + gradients, at every step) of a cosine schedule with the paper's warmup. Env:
/// MPL_STEPS (default 1e5), MPL_REPS (default 30), MPL_TIMING=values|grads, RAYON_NUM_THREADS.
/// `cargo test --release --lib timing_best_of -- --ignored --nocapture`
#[test]
#[ignore]
fn timing_best_of() {
    let steps: usize = std::env::var("MPL_STEPS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let reps: usize = std::env::var("MPL_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(30);
    let lr = cosine(steps);
    let idx = every(lr.len(), 1, 1);
    let m = model(&lr, &idx, false);
    let modes: Vec<bool> = match std::env::var("MPL_TIMING").as_deref() {
        Ok("values") => vec![false],
        Ok("grads") => vec![true],
        _ => vec![false, true],
    };
    let best = |f: &dyn Fn()| {
        (0..reps)
            .map(|_| {
                let t = std::time::Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    for grads in modes {
        let all = best(&|| {
            std::hint::black_box(m.evaluate(&PARAMS_400M, grads));
        });
        let ld = best(&|| {
            std::hint::black_box(m.prepare_with(&PARAMS_400M, grads));
        });
        println!("steps {steps} grads={grads}: best {all:.4} s (LD part {ld:.4} s)");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // Long enough for the two-stage pipeline and the parallel exact path.
    let lr = cosine(30_000);
    let idx = every(lr.len(), 1, 2000);
    for exact in [false, true] {
        let idx = if exact { every(lr.len(), 97, 2000) } else { idx.clone() };
        let m = model(&lr, &idx, exact);
        let many = m.evaluate(&PARAMS_400M, true);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let one = pool.install(|| m.evaluate(&PARAMS_400M, true));
        assert_eq!(many, one);
    }
}

#[test]
fn fast_exp_is_accurate() {
    let mut worst: f64 = 0.0;
    for i in -69000..=69000 {
        let x = i as f64 * 0.01 + 0.003_7;
        let (a, b) = (exp_fast(x), x.exp());
        worst = worst.max((a - b).abs() / b);
    }
    assert!(worst < 1e-15, "{worst:e}");
    assert_eq!(exp_neg(0.0), 1.0);
    assert!(exp_neg(1e4) < 1e-300);
    for x in [1e-20_f64, 1e-9, 1e-4, 0.009_999, 0.01, 0.5, 3.0, 40.0] {
        let want = -(-x).exp_m1();
        assert!((one_minus_exp(x) - want).abs() <= 2e-14 * want, "{x}");
    }
}

#[test]
fn exact_matches_literal_formula() {
    for lr in [cosine(3000), wsd(3000, 2500), rough(3000)] {
        let idx = every(3000, 37, 5);
        let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
        let (v, _) = model(&lr, &idx, true).evaluate(&p, false);
        let want = literal(&lr, &idx, &p);
        assert!(rel_err(&v, &want) < 1e-12, "{}", rel_err(&v, &want));
    }
}

#[test]
fn compressed_matches_exact() {
    let cases: Vec<(Vec<f64>, [f64; 7])> = vec![
        (cosine(24000), PARAMS_400M),
        (wsd(24000, 20000), PARAMS_400M),
        (rough(20000), [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6]),
        (cosine(24000), [3.0, 0.5, 0.5, 2000.0, 50.0, 0.95, 0.05]),
        (cosine(24000), [3.0, 0.5, 0.5, 300.0, 0.01, 0.05, 0.95]),
        (rough(20000), [3.0, 0.5, 0.5, 400.0, 1e3, 1.0, 1.0]),
        (wsd(24000, 12000), [3.0, 0.5, 0.5, 400.0, 2.0, 1.5, 0.6]),
    ];
    for (lr, p) in cases {
        let idx = every(lr.len(), 13, 2200);
        let (ve, ge) = model(&lr, &idx, true).evaluate(&p, true);
        let (vc, gc) = model(&lr, &idx, false).evaluate(&p, true);
        let err = rel_err(&vc, &ve);
        assert!(err < 1e-8, "value {err:e} for {p:?}");
        // Documented bound: |ΔL̂| ≤ 1.2e-8·B·TV.
        let tv = tv(&lr);
        let abs = vc.iter().zip(&ve).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(abs <= 1.2e-8 * p[3] * tv, "abs {abs:e} > bound {:e}", 1.2e-8 * p[3] * tv);
        let gerr = grad_err(gc.as_ref().unwrap(), ge.as_ref().unwrap(), &p, tv);
        println!("value {err:.2e} abs/(B·TV) {:.2e} gradients {gerr:?}", abs / (p[3] * tv));
        assert!(gerr.iter().all(|&x| x < 1e-7), "gradients {gerr:?} for {p:?}");
    }
}

#[test]
fn gradients_match_finite_differences() {
    let lr = rough(4000);
    let idx = every(4000, 11, 3);
    let p = [3.0, 0.5, 0.45, 400.0, 2.0, 0.6, 0.65];
    for exact in [true, false] {
        let m = model(&lr, &idx, exact);
        let (_, g) = m.evaluate(&p, true);
        let g = g.unwrap();
        for j in 0..7 {
            let step = 1e-6 * p[j].abs();
            let (mut hi, mut lo) = (p, p);
            hi[j] += step;
            lo[j] -= step;
            // Finite differences of the exact law (the compressed gradients are tested against it).
            let me = model(&lr, &idx, true);
            let (vh, _) = me.evaluate(&hi, false);
            let (vl, _) = me.evaluate(&lo, false);
            let fd: Vec<f64> = vh.iter().zip(&vl).map(|(a, b)| (a - b) / (2.0 * step)).collect();
            let col: Vec<f64> = g.iter().skip(j).step_by(7).copied().collect();
            let scale = fd.iter().map(|x| x.abs()).fold(1e-300, f64::max);
            let err = col.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
            assert!(err < 1e-6, "exact={exact} param {}: {err:e}", PARAM_NAMES[j]);
        }
    }
}

#[test]
fn constant_schedule_has_no_loss_drop() {
    let lr = vec![3e-4; 5000];
    let idx = every(5000, 7, 0);
    let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
    for exact in [true, false] {
        let m = model(&lr, &idx, exact);
        let (v, g) = m.evaluate(&p, true);
        let g = g.unwrap();
        for (i, &s) in idx.iter().enumerate() {
            let s1 = 3e-4 * (s + 1) as f64;
            assert!((v[i] - (3.0 + 0.5 * s1.powf(-0.5))).abs() < 1e-12);
            assert_eq!(&g[i * 7 + 3..i * 7 + 7], &[0.0; 4]);
        }
    }
}

#[test]
fn zero_learning_rates_give_g_one_without_nan() {
    let mut lr = vec![1e-3; 300];
    lr[100..150].fill(0.0);
    lr[200..].fill(0.0);
    let idx = every(300, 1, 0);
    let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
    let (ve, ge) = model(&lr, &idx, true).evaluate(&p, true);
    let (vc, gc) = model(&lr, &idx, false).evaluate(&p, true);
    assert!(ve
        .iter()
        .chain(&vc)
        .chain(ge.as_ref().unwrap())
        .chain(gc.as_ref().unwrap())
        .all(|x| x.is_finite()));
    let abs = vc.iter().zip(&ve).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(abs <= 1.2e-8 * 400.0 * tv(&lr), "{abs:e}");
    // Right after the drop to 0 at k = 100: d·G = −1e-3·1.
    assert!((ve[100] - (3.0 + 0.5 * (0.1f64).powf(-0.5) - 400.0 * 1e-3)).abs() < 1e-12);
    assert!(rel_err(&ve, &literal(&lr, &idx, &p)) < 1e-13);
}

#[test]
fn several_curves_concatenate_points() {
    let (a, b) = (cosine(6000), wsd(5000, 4000));
    let (ia, ib) = (every(6000, 50, 2500), every(5000, 30, 2200));
    let p = PARAMS_400M;
    for exact in [true, false] {
        let opts = MultiPowerOptions { exact, ..Default::default() };
        let joint = MultiPowerModel::new(
            &[MultiPowerCurve { lr: &a, indices: &ia }, MultiPowerCurve { lr: &b, indices: &ib }],
            opts,
        )
        .unwrap();
        let (v, _) = joint.evaluate(&p, false);
        let (va, _) = model(&a, &ia, exact).evaluate(&p, false);
        let (vb, _) = model(&b, &ib, exact).evaluate(&p, false);
        assert_eq!(v, [va, vb].concat());
    }
}

#[test]
fn paper_form_equals_repo_form_shifted() {
    // With the paper's linear warmup ramp its area ½·η·W equals the ramp's sum; LD differs by
    // the warmup's own (rising) terms only.
    let lr = cosine(8000);
    let idx = every(8000, 25, 2200);
    let p = [3.0, 0.5, 0.5, 400.0, 2.0, 0.6, 0.6];
    let paper = MultiPowerOptions { exact: true, s1_form: S1Form::Paper { warmup_steps: None } };
    let m = MultiPowerModel::new(&[MultiPowerCurve { lr: &lr, indices: &idx }], paper).unwrap();
    let (v, _) = m.evaluate(&p, false);
    let ramp: f64 = lr[..2160].iter().sum();
    assert!((ramp - 0.5 * 3e-4 * 2160.0).abs() < 1e-12);
    for (i, &s) in idx.iter().enumerate() {
        let s1: f64 = 0.5 * 3e-4 * 2160.0 + lr[2160..=s].iter().sum::<f64>();
        let mut ld = 0.0;
        for k in 2160..=s {
            let sk: f64 = lr[k..=s].iter().sum();
            ld += (lr[k] - lr[k - 1]) * (1.0 - (1.0 + 2.0 * lr[k].powf(-0.6) * sk).powf(-0.6));
        }
        let want = 3.0 + 0.5 * s1.powf(-0.5) + 400.0 * ld;
        assert!((v[i] - want).abs() < 1e-12 * want);
    }
    assert_eq!(infer_warmup(&lr), 2160);
    let c = MultiPowerModel::new(
        &[MultiPowerCurve { lr: &lr, indices: &idx }],
        MultiPowerOptions { exact: false, s1_form: S1Form::Paper { warmup_steps: Some(2160) } },
    )
    .unwrap();
    assert!(rel_err(&c.evaluate(&p, false).0, &v) < 1e-9);
}

#[test]
fn rejects_bad_input() {
    let lr = [0.0, 1e-3, 1e-3];
    let bad = |lr: &[f64], idx: &[usize]| {
        MultiPowerModel::new(&[MultiPowerCurve { lr, indices: idx }], MultiPowerOptions::default())
            .unwrap_err()
    };
    assert!(bad(&lr, &[3]).to_string().contains("out of range"));
    assert!(bad(&lr, &[2, 1]).to_string().contains("non-decreasing"));
    assert!(bad(&lr, &[0]).to_string().contains("S1"));
    assert!(bad(&[1e-3, f64::NAN], &[0]).to_string().contains("lrs[0][1]"));
    assert!(S1Form::parse("nope", None).is_err());
}

#[test]
fn reference_lr_is_the_drop_weighted_geometric_mean() {
    // Rise 1e-4 → 1e-3 (ignored: there are drops), drops to 5e-4 and to 1e-4.
    let mut lr = vec![1e-4; 10];
    lr.extend([1e-3; 10]);
    lr.extend([5e-4; 10]);
    lr.extend([1e-4; 10]);
    let m = model(&lr, &[39], true);
    let want = ((5e-4 * 5e-4f64.ln() + 4e-4 * 1e-4f64.ln()) / 9e-4).exp();
    assert!((m.reference_lr().unwrap() / want - 1.0).abs() < 1e-12);
    // Rises only: rise-weighted; no change: None.
    let ramp: Vec<f64> = (1..=100).map(|i| 1e-5 * i as f64).collect();
    let want = (ramp[1..].iter().map(|x| x.ln()).sum::<f64>() / 99.0).exp();
    assert!((model(&ramp, &[99], true).reference_lr().unwrap() / want - 1.0).abs() < 1e-12);
    assert_eq!(model(&[3e-4; 50], &[49], true).reference_lr(), None);
}

/// Reparam's gradients in (…, C̃, β, γ) against central differences of its values.
#[test]
fn reparam_gradients_match_finite_differences() {
    let lr = wsd(6000, 4000);
    let idx = every(6000, 7, 2200);
    let m = model(&lr, &idx, true);
    let rp = Reparam::new(&m, m.reference_lr().unwrap().ln());
    let q = rp.from_law(&PARAMS_400M);
    let eval = |q: &[f64], grads: bool| {
        let prep = rp.prepare(q);
        let mut v = vec![0.0; idx.len()];
        let mut g = vec![0.0; idx.len() * 7];
        rp.eval_chunk(q, &prep, 0, &mut v, grads.then_some(&mut g[..]));
        (v, g)
    };
    let (v0, g) = eval(&q, true);
    let (vp, _) = m.evaluate(&PARAMS_400M, false);
    assert!(rel_err(&v0, &vp) < 1e-14, "same law: {}", rel_err(&v0, &vp));
    for j in 0..7 {
        let step = 1e-6 * q[j].abs();
        let (mut hi, mut lo) = (q.clone(), q.clone());
        hi[j] += step;
        lo[j] -= step;
        let fd: Vec<f64> =
            eval(&hi, false).0.iter().zip(&eval(&lo, false).0).map(|(a, b)| (a - b) / (2.0 * step)).collect();
        let col: Vec<f64> = g.iter().skip(j).step_by(7).copied().collect();
        let scale = fd.iter().map(|x| x.abs()).fold(1e-300, f64::max);
        let err = col.iter().zip(&fd).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / scale;
        assert!(err < 1e-6, "param {j}: {err:e}");
    }
    // Round trip of the coordinates.
    let back = rp.to_law(&q);
    assert!(back.iter().zip(&PARAMS_400M).all(|(a, b)| (a - b).abs() <= 1e-15 * b.abs()));
}

/// Gradient and Gauss–Newton matrix mapped back from (…, C̃, β, γ) equal JᵀJ and Jᵀr built from
/// the law's own Jacobian.
#[test]
fn reparam_maps_gradient_and_gauss_newton_matrix_back() {
    let lr = cosine(8000);
    let idx = every(8000, 11, 2200);
    let m = model(&lr, &idx, false);
    let ln_sref = m.ln_s1.iter().sum::<f64>() / m.ln_s1.len() as f64;
    let both = vec![
        ScalePair { scale: 4, exponent: 6, ln_ref: m.reference_lr().unwrap().ln() },
        ScalePair { scale: 1, exponent: 2, ln_ref: ln_sref },
    ];
    for rp in [Reparam::new(&m, m.reference_lr().unwrap().ln()), Reparam::with_pairs(&m, both)] {
        check_reparam_maps_back(&m, &rp, &idx);
    }
}

fn check_reparam_maps_back(m: &MultiPowerModel, rp: &Reparam<'_>, idx: &[usize]) {
    let p = [2.4, 0.6, 0.45, 500.0, 0.3, 0.65, 0.85];
    let q = rp.from_law(&p);
    let back = rp.to_law(&q);
    for (a, b) in back.iter().zip(&p) {
        assert!((a - b).abs() <= 1e-12 * b.abs());
    }
    let (_, jp) = m.evaluate(&p, true);
    let jp = jp.unwrap();
    let prep = rp.prepare(&q);
    let (mut v, mut jq) = (vec![0.0; idx.len()], vec![0.0; idx.len() * 7]);
    rp.eval_chunk(&q, &prep, 0, &mut v, Some(&mut jq));
    let r: Vec<f64> = (0..idx.len()).map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) * 1e-3).collect();
    let normal = |j: &[f64]| {
        let (mut g, mut h) = (vec![0.0; 7], vec![0.0; 49]);
        for (row, ri) in j.chunks_exact(7).zip(&r) {
            for a in 0..7 {
                g[a] += row[a] * ri;
                for b in 0..7 {
                    h[a * 7 + b] += row[a] * row[b];
                }
            }
        }
        (g, h)
    };
    let (gp, hp) = normal(&jp);
    let (mut gq, mut hq) = normal(&jq);
    rp.gradient_to_law(&q, &mut gq);
    rp.hessian_to_law(&q, &mut hq);
    for a in 0..7 {
        assert!((gq[a] - gp[a]).abs() <= 1e-9 * gp[a].abs().max(1e-300), "g[{a}] {} vs {}", gq[a], gp[a]);
        for b in 0..7 {
            let scale = (hp[a * 7 + a] * hp[b * 7 + b]).sqrt();
            let err = (hq[a * 7 + b] - hp[a * 7 + b]).abs() / scale;
            assert!(err <= 1e-9, "H[{a}][{b}]: {err:e}");
        }
    }
}

/// `fit` in the reparametrised coordinates and in the law's own (C bounded above, so the
/// reparametrisation is off) reach the same objective; the reported gradient and Gauss–Newton
/// matrix are those of the law's parameters at the reported optimum.
#[test]
fn fit_in_reparametrised_coordinates_matches_the_plain_fit() {
    use crate::lm::{accumulate_with_floor, LmOptions};
    use crate::problem::{DataProblem, Space};
    use crate::robust::RobustLoss;
    let (a, b) = (cosine(9000), wsd(9000, 7000));
    let (ia, ib) = (every(9000, 9, 2200), every(9000, 9, 2200));
    let curves = [MultiPowerCurve { lr: &a, indices: &ia }, MultiPowerCurve { lr: &b, indices: &ib }];
    let truth = MultiPowerModel::new(&curves, MultiPowerOptions::default()).unwrap();
    let (clean, _) = truth.evaluate(&PARAMS_400M, false);
    let y: Vec<f64> = clean
        .iter()
        .enumerate()
        .map(|(i, v)| v * (1.0 + 2e-3 * ((i * 7919 % 101) as f64 / 50.0 - 1.0)))
        .collect();
    let mut opts = LmOptions::new(7);
    opts.loss = RobustLoss::Huber(1e-3);
    opts.lower = vec![0.0; 7];
    opts.upper = vec![f64::INFINITY, f64::INFINITY, 5.0, f64::INFINITY, f64::INFINITY, 1.0, 1.0];
    let starts = vec![vec![2.5, 0.5, 0.45, 600.0, 1.0, 0.5, 0.5]];
    let run = |opts: &LmOptions| {
        fit(
            &curves,
            MultiPowerOptions::default(),
            crate::problem::Observations { targets: &y, weights: None, space: Space::Log },
            &starts,
            opts,
            &|| false,
        )
        .unwrap()
    };
    let (rq, sq) = run(&opts);
    let mut plain_opts = opts.clone();
    plain_opts.upper[4] = 1e300;
    let (rp, _) = run(&plain_opts);
    assert!(rq.best.status.success() && rp.best.status.success());
    let rel = (rq.best.cost - rp.best.cost).abs() / rp.best.cost;
    assert!(rel < 1e-8, "objectives {} vs {}", rq.best.cost, rp.best.cost);
    // The report's gradient and matrix, recomputed in the law's coordinates at its parameters.
    let model = MultiPowerModel::new(&curves, MultiPowerOptions::default()).unwrap();
    let direct = DataProblem::new(model, &y, None, Space::Log).unwrap();
    let acc = accumulate_with_floor(&direct, &rq.best.params, opts.loss, opts.curvature_floor, true);
    assert!((acc.cost - rq.best.cost).abs() <= 1e-12 * acc.cost);
    let gscale: Vec<f64> = (0..7).map(|j| acc.hessian[j * 8].sqrt()).collect();
    for j in 0..7 {
        // Gradients vanish at the optimum: compare in units of √H_jj · √(2·cost).
        let unit = gscale[j] * (2.0 * acc.cost).sqrt();
        assert!((rq.best.gradient[j] - acc.gradient[j]).abs() <= 1e-6 * unit, "gradient {j}");
        for k in 0..7 {
            let err = (rq.best.hessian[j * 7 + k] - acc.hessian[j * 7 + k]).abs() / (gscale[j] * gscale[k]);
            assert!(err < 1e-8, "H[{j}][{k}] {err:e}");
        }
    }
    // The values-only statistics equal DataProblem's (which prepares with gradients).
    let direct_stats = direct.linear_stats(&rq.best.params);
    assert_eq!(sq.n, direct_stats.n);
    for (a, b) in [
        (sq.sum_sq, direct_stats.sum_sq),
        (sq.sum_abs, direct_stats.sum_abs),
        (sq.total_sq, direct_stats.total_sq),
    ] {
        assert!((a - b).abs() <= 1e-12 * b, "{a} vs {b}");
    }
}

#[test]
fn model_trait_chunks_agree() {
    let lr = wsd(6000, 4000);
    let idx = every(6000, 3, 2160);
    let m = model(&lr, &idx, false);
    let p = PARAMS_400M;
    let prep = m.prepare(&p);
    let (v, g) = m.evaluate(&p, true);
    let g = g.unwrap();
    let (start, len) = (100, 57);
    let mut vc = vec![0.0; len];
    let mut gc = vec![0.0; len * 7];
    m.eval_chunk(&p, &prep, start, &mut vc, Some(&mut gc));
    assert_eq!(vc, v[start..start + len]);
    assert_eq!(gc, g[start * 7..(start + len) * 7]);
}
