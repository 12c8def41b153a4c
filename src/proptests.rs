//! Property-based fuzzing of the core (proptest): areas, the LM solver and the laws' residuals and
//! Jacobians never panic, and satisfy their invariants, on arbitrary inputs. CI runs the default
//! case count; `PROPTEST_CASES=200000 cargo test --release proptests` runs a long local session.

use crate::areas::{self, AreaOptions, WarmupMode};
use crate::laws::momentum::{MomentumConfig, MomentumModel, RunSchedule};
use crate::lm::{self, LmOptions};
use crate::problem::{DataProblem, Model, Problem, Space};
use crate::robust::RobustLoss;
use proptest::prelude::*;

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0),
        Just(1e-300),
        Just(1e300),
        Just(f64::MIN_POSITIVE),
        0.0..1e-2f64,
        proptest::num::f64::ANY,
    ]
}

fn lr_vec() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![proptest::collection::vec(0.0..1e-2f64, 0..400), proptest::collection::vec(any_f64(), 0..50),]
}

fn mode() -> impl Strategy<Value = WarmupMode> {
    prop_oneof![Just(WarmupMode::AsPeak), Just(WarmupMode::Actual), Just(WarmupMode::Exclude)]
}

proptest! {
    #[test]
    fn areas_never_panic_and_keep_invariants(lr in lr_vec(), decay in any_f64(), w in 0usize..60, m in mode()) {
        let opts = AreaOptions { decay, warmup_steps: w, warmup: m };
        if let Ok((s1, s2)) = areas::areas(&lr, &opts) {
            prop_assert_eq!(s1.len(), lr.len());
            prop_assert!(s1.windows(2).all(|p| p[1] >= p[0]), "S1 must not decrease");
            prop_assert!(s2.iter().all(|v| v.is_finite()));
            let d = areas::ds2_ddecay(&lr, &opts).unwrap();
            prop_assert!(d.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn area_stream_agrees_with_areas_on_any_range(
        lr in prop_oneof![
            4 => proptest::collection::vec(0.0..1e-2f64, 1..1200),
            1 => proptest::collection::vec(0.0..1e-2f64, 8000..20000),
            1 => proptest::collection::vec(any_f64(), 1..40),
        ],
        decay in prop_oneof![0.0..=1.0f64, any_f64()],
        w in prop_oneof![0usize..700, 8000usize..9000], m in mode(), lo_frac in 0.0..1.0f64,
        len_frac in 0.0..1.0f64,
    ) {
        let opts = AreaOptions { decay, warmup_steps: w, warmup: m };
        let stream = areas::AreaStream::new(&lr, &opts);
        // The stream accepts exactly what the per-step areas accept.
        prop_assert_eq!(stream.is_ok(), areas::areas(&lr, &opts).is_ok());
        if let (Ok(stream), Ok((s1, s2))) = (stream, areas::areas(&lr, &opts)) {
            let n = lr.len();
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            stream.fill(0, &mut a, &mut b);
            let scale1 = s1.iter().fold(0.0_f64, |x, v| x.max(v.abs()));
            let scale2 = s1.iter().fold(0.0_f64, |x, v| x.max(v.abs())) + s2.iter().fold(0.0_f64, |x, v| x.max(v.abs()));
            // The stream flushes momenta below 1e-200·max η to 0 (subnormal arithmetic is slow):
            // an absolute error of at most T²·1e-200·max η on S2, beside rounding.
            let flushed = (n * n) as f64 * 1e-200 * lr.iter().fold(0.0_f64, |x, &v| x.max(v));
            for i in 0..n {
                prop_assert!((a[i] - s1[i]).abs() <= 1e-12 * scale1, "S1 at {}", i);
                prop_assert!((b[i] - s2[i]).abs() <= 1e-10 * scale2 + flushed, "S2 at {}", i);
            }
            // Any sub-range and any scattered indices give the same bits as the whole.
            let lo = ((lo_frac * n as f64) as usize).min(n - 1);
            let len = 1 + ((len_frac * (n - lo) as f64) as usize).min(n - lo - 1);
            let (mut pa, mut pb) = (vec![0.0; len], vec![0.0; len]);
            stream.fill(lo, &mut pa, &mut pb);
            prop_assert_eq!(&pa[..], &a[lo..lo + len]);
            prop_assert_eq!(&pb[..], &b[lo..lo + len]);
            let idx: Vec<usize> = (lo..lo + len).step_by(1 + len / 7).collect();
            let (mut va, mut vb) = (vec![0.0; idx.len()], vec![0.0; idx.len()]);
            stream.values_at(&idx, &mut va, &mut vb);
            for (k, &i) in idx.iter().enumerate() {
                prop_assert_eq!(va[k].to_bits(), a[i].to_bits());
                prop_assert_eq!(vb[k].to_bits(), b[i].to_bits());
            }
        }
    }

    #[test]
    fn momentum_model_rejects_or_evaluates(
        lr in proptest::collection::vec(0.0..1e-2f64, 1..300),
        steps in proptest::collection::vec(0usize..400, 0..20),
        params in proptest::collection::vec(any_f64(), 4),
    ) {
        let run = RunSchedule { lr: &lr, steps: steps.into(), areas: AreaOptions::default() };
        if let Ok(model) = MomentumModel::new(vec![run], MomentumConfig::default()) {
            let n = model.n_points();
            let (mut v, mut g) = (vec![0.0; n], vec![0.0; n * 4]);
            let prep = model.prepare(&params);
            model.eval_chunk(&params, &prep, 0, &mut v, Some(&mut g));
        }
    }

    #[test]
    fn momentum_jacobian_matches_central_differences(
        l0 in 0.5..4.0f64, a in 0.05..2.0f64, alpha in 0.05..1.5f64, c in 0.0..2.0f64,
        decay in 0.5..0.999f64, zeta in 0.7..1.4f64, cut in 50usize..250,
    ) {
        let lr: Vec<f64> = (0..300).map(|i| if i < cut { 3e-4 } else { 3e-4 * (1.0 - (i - cut) as f64 / 400.0) })
            .collect();
        let run = RunSchedule { lr: &lr, steps: (1..=30).map(|k| k * 10).collect::<Vec<_>>().into(),
            areas: AreaOptions { decay, warmup_steps: 5, warmup: WarmupMode::Actual } };
        let config = MomentumConfig { fit_decay: true, fit_zeta: true, zeta: 1.0 };
        let model = MomentumModel::new(vec![run], config).unwrap();
        let q = [l0, a, alpha, c, decay, zeta];
        let n = model.n_points();
        let (mut v, mut g) = (vec![0.0; n], vec![0.0; n * 6]);
        model.eval_chunk(&q, &model.prepare(&q), 0, &mut v, Some(&mut g));
        for j in 0..6 {
            let h = 1e-6 * q[j].abs().max(1e-3);
            let (mut hi, mut lo) = (q, q);
            hi[j] += h;
            lo[j] -= h;
            let (mut vh, mut vl) = (vec![0.0; n], vec![0.0; n]);
            model.eval_chunk(&hi, &model.prepare(&hi), 0, &mut vh, None);
            model.eval_chunk(&lo, &model.prepare(&lo), 0, &mut vl, None);
            for i in 0..n {
                let fd = (vh[i] - vl[i]) / (2.0 * h);
                // Rounding of the values themselves limits a central difference to ~ε·|v|/h.
                let rounding = 8.0 * f64::EPSILON * v[i].abs() / h;
                prop_assert!((fd - g[i * 6 + j]).abs() <= 1e-5 * (1.0 + fd.abs()) + rounding, "param {} point {}", j, i);
            }
        }
    }

    #[test]
    fn lm_never_increases_cost_and_never_panics(
        targets in proptest::collection::vec(0.5..5.0f64, 8..40),
        start in proptest::collection::vec(any_f64(), 4),
        delta in 1e-4..1.0f64,
        lower_bound in proptest::option::of(0.0..1.0f64),
    ) {
        let n = targets.len();
        let lr: Vec<f64> = (0..(n * 10)).map(|i| 3e-4 * (1.0 - i as f64 / (n * 20) as f64)).collect();
        let run = RunSchedule { lr: &lr, steps: (1..=n).map(|k| k * 10).collect::<Vec<_>>().into(), areas: AreaOptions::default() };
        let model = MomentumModel::new(vec![run], MomentumConfig::default()).unwrap();
        let problem = DataProblem::new(model, &targets, None, Space::Log).unwrap();
        let mut opts = LmOptions::new(4);
        opts.loss = RobustLoss::Huber(delta);
        opts.max_evals = 200;
        if let Some(lb) = lower_bound {
            opts.lower = vec![lb; 4];
        }
        match lm::solve(&problem, &start, &opts, &|| false) {
            Ok(rep) => {
                let mut x0 = start.clone();
                for (j, v) in x0.iter_mut().enumerate() {
                    *v = v.clamp(opts.lower[j], opts.upper[j]);
                }
                let c0 = lm::accumulate(&problem, &x0, opts.loss, false).cost;
                prop_assert!(rep.cost <= c0 || !c0.is_finite());
                prop_assert!(rep.params.iter().zip(&opts.lower).all(|(p, lo)| p >= lo));
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        prop_assert_eq!(problem.n_residuals(), n);
    }
}
