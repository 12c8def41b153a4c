//! Checks shared by the laws' unit tests.

use crate::problem::Model;

/// Central differences ∂v_i/∂p_j of `values` (n values) at `params`, step `step(params[j])` in
/// parameter j: the row-major n × p matrix to compare with an analytic gradient.
pub(crate) fn central_differences(
    values: impl Fn(&[f64]) -> Vec<f64>,
    params: &[f64],
    step: impl Fn(f64) -> f64,
) -> Vec<f64> {
    let p = params.len();
    let mut out = Vec::new();
    for j in 0..p {
        let h = step(params[j]);
        let (mut hi, mut lo) = (params.to_vec(), params.to_vec());
        hi[j] += h;
        lo[j] -= h;
        let (vh, vl) = (values(&hi), values(&lo));
        if out.is_empty() {
            out = vec![0.0; vh.len() * p];
        }
        for i in 0..vh.len() {
            out[i * p + j] = (vh[i] - vl[i]) / (2.0 * h);
        }
    }
    out
}

/// The values of `model` at every point for `params` (no gradients).
pub(crate) fn model_values<M: Model>(model: &M, params: &[f64]) -> Vec<f64> {
    let mut v = vec![0.0; model.n_points()];
    model.eval_chunk(params, &model.prepare(params), 0, &mut v, None);
    v
}

/// Assert that the analytic gradient rows `grads` (row-major, n × p) of a law match central
/// differences of its values `values(params)` (n): step h_j = 1e-6·max(|params[j]|, `floor`),
/// |fd − g| ≤ 1e-5·(1 + |fd|) at every point and parameter.
pub(crate) fn assert_central_differences(
    values: impl Fn(&[f64]) -> Vec<f64>,
    params: &[f64],
    grads: &[f64],
    floor: f64,
) {
    let p = params.len();
    let fd = central_differences(values, params, |x| 1e-6 * x.abs().max(floor));
    for (k, (&fd, &g)) in fd.iter().zip(grads).enumerate() {
        let (i, j) = (k / p, k % p);
        assert!((fd - g).abs() <= 1e-5 * (1.0 + fd.abs()), "param {j} point {i}: {fd} vs {g}");
    }
}
