//! The inputs of the curve laws as frozen classes, built once in Python and validated on
//! construction (like [`SolverOptions`]): `Curves` (the schedules and logged steps of a set of
//! curves) and the law options of the momentum laws, the multi-power law and the convex bound.

use super::prelude::*;
use crate::laws::convex_bound::GradientModel;
use crate::laws::fsl::FslCurve;
use crate::laws::multipower::{MultiPowerOptions, S1Form};
use crate::laws::LoggedCurve;
use numpy::{AllowTypeChange, PyArrayLike1, PyUntypedArrayMethods};
use std::borrow::Cow;

/// A set of curves as the curve laws take them: per curve the LR of every step, the logged points
/// and a warmup length. Built by `Curves(lrs, steps, warmups)` (1-based steps, as `lawfit.Curve`)
/// or `Curves.from_indices(lrs, indices, warmups)` (0-based); checked once: one entry of each per
/// curve, every logged point inside its schedule. The LR arrays are borrowed, not copied
/// (contiguous float64 arrays as they are; anything else converted once).
#[pyclass(frozen, module = "lawfit._core")]
pub(crate) struct Curves {
    lrs: Vec<Py<PyArray1<f64>>>,
    /// Length of each LR array at construction (re-checked at every use).
    n_steps: Vec<usize>,
    /// 0-based logged indices of each curve; `None`: every step (`0..n_steps`), nothing stored.
    indices: Vec<Option<Vec<usize>>>,
    warmups: Vec<usize>,
    n_points: usize,
}

impl Curves {
    fn build(
        lrs: Vec<PyArrayLike1<'_, f64, AllowTypeChange>>,
        points: Vec<PyArrayLike1<'_, i64>>,
        warmups: Option<Vec<usize>>,
        one_based: bool,
    ) -> PyResult<Self> {
        let name = if one_based { "steps" } else { "indices" };
        let warmups = warmups.unwrap_or_else(|| vec![0; lrs.len()]);
        if points.len() != lrs.len() || warmups.len() != lrs.len() {
            return Err(LawfitInputError::new_err(format!(
                "got {} LR arrays, {} {name} arrays and {} warmups; pass one {} array per schedule \
                 (and one warmup each)",
                lrs.len(),
                points.len(),
                warmups.len(),
                if one_based { "step" } else { "index" }
            )));
        }
        let base = i64::from(one_based);
        let mut out = Self {
            lrs: Vec::with_capacity(lrs.len()),
            n_steps: Vec::with_capacity(lrs.len()),
            indices: Vec::with_capacity(lrs.len()),
            warmups,
            n_points: 0,
        };
        for (c, (lr, pts)) in lrs.iter().zip(&points).enumerate() {
            let arr: &Bound<'_, PyArray1<f64>> = lr;
            let n = arr.len();
            let arr = if arr.is_contiguous() {
                arr.clone().unbind()
            } else {
                arr.to_owned_array().into_pyarray(arr.py()).unbind()
            };
            let raw = cow_slice(pts);
            // A per-step log (base, base + 1, …, base + n − 1) is stored as "every step": checked on
            // the raw values, so a 10⁷-step log allocates no index array (80 MB) at all.
            let every_step =
                raw.len() == n && raw.first() == Some(&base) && raw.windows(2).all(|w| w[1] == w[0] + 1);
            if every_step {
                out.n_points += n;
                out.lrs.push(arr);
                out.n_steps.push(n);
                out.indices.push(None);
                continue;
            }
            let idx = raw
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let k = usize::try_from(v - base).map_err(|_| {
                        let what = if one_based {
                            "steps are 1-based positive integers"
                        } else {
                            "indices must be non-negative"
                        };
                        LawfitInputError::new_err(format!("{name}[{c}][{i}] is {v}; {what}"))
                    })?;
                    if k >= n {
                        return Err(LawfitInputError::new_err(format!(
                            "{name}[{c}][{i}] is {v}, out of range for a schedule of {n} steps"
                        )));
                    }
                    Ok(k)
                })
                .collect::<PyResult<Vec<usize>>>()?;
            // Strictly increasing indices from 0 to n - 1 over n entries are exactly 0..n.
            let every = idx.len() == n && idx.first() == Some(&0) && idx.windows(2).all(|w| w[0] < w[1]);
            out.n_points += idx.len();
            out.lrs.push(arr);
            out.n_steps.push(n);
            out.indices.push((!every).then_some(idx));
        }
        Ok(out)
    }

    /// Borrow the LR arrays for one call (read-only; each still of its length at construction).
    pub(crate) fn borrow_lrs<'py>(&self, py: Python<'py>) -> PyResult<Vec<PyReadonlyArray1<'py, f64>>> {
        self.lrs
            .iter()
            .map(|a| a.bind(py).try_readonly().map_err(|e| LawfitInputError::new_err(format!("lrs: {e}"))))
            .collect()
    }

    /// The LR slices of [`Self::borrow_lrs`]'s arrays.
    pub(crate) fn lr_slices<'a>(&self, lrs: &'a [PyReadonlyArray1<'_, f64>]) -> PyResult<Vec<&'a [f64]>> {
        lrs.iter()
            .zip(&self.n_steps)
            .enumerate()
            .map(|(c, (a, &n))| {
                let s = slice("lr", a)?;
                if s.len() == n {
                    Ok(s)
                } else {
                    Err(LawfitInputError::new_err(format!(
                        "lrs[{c}] has {} steps, {n} when the Curves were built; do not resize it",
                        s.len()
                    )))
                }
            })
            .collect()
    }

    /// 0-based logged indices of every curve (materialised for per-step logs).
    pub(crate) fn indices(&self) -> Vec<Cow<'_, [usize]>> {
        self.indices
            .iter()
            .zip(&self.n_steps)
            .map(|(idx, &n)| match idx {
                Some(v) => Cow::Borrowed(v.as_slice()),
                None => Cow::Owned((0..n).collect()),
            })
            .collect()
    }

    /// The curves as the multi-power and convex-bound laws take them.
    pub(crate) fn logged<'a>(lrs: &[&'a [f64]], indices: &'a [Cow<'_, [usize]>]) -> Vec<LoggedCurve<'a>> {
        lrs.iter().zip(indices).map(|(&lr, ix)| LoggedCurve { lr, indices: ix }).collect()
    }

    /// The curves as the functional scaling law takes them (with their warmups).
    pub(crate) fn fsl<'a>(&self, lrs: &[&'a [f64]], indices: &'a [Cow<'_, [usize]>]) -> Vec<FslCurve<'a>> {
        lrs.iter()
            .zip(indices)
            .zip(&self.warmups)
            .map(|((&lr, ix), &warmup)| FslCurve { lr, indices: ix, warmup })
            .collect()
    }

    /// The runs of the momentum laws (1-based steps; per-step logs stream their areas).
    pub(crate) fn runs<'a>(&self, lrs: &[&'a [f64]], law: &MomentumOptions) -> Vec<RunSchedule<'a>> {
        lrs.iter()
            .zip(&self.indices)
            .zip(&self.warmups)
            .map(|((&lr, idx), &w)| RunSchedule {
                lr,
                steps: match idx {
                    None => Steps::Every,
                    Some(v) => Steps::Logged(v.iter().map(|k| k + 1).collect()),
                },
                areas: AreaOptions { decay: law.decay, warmup_steps: w, warmup: law.warmup },
            })
            .collect()
    }
}

#[pymethods]
impl Curves {
    #[new]
    #[pyo3(signature = (lrs, steps, warmups=None))]
    fn new(
        lrs: Vec<PyArrayLike1<'_, f64, AllowTypeChange>>,
        steps: Vec<PyArrayLike1<'_, i64>>,
        warmups: Option<Vec<usize>>,
    ) -> PyResult<Self> {
        Self::build(lrs, steps, warmups, true)
    }

    /// Curves from 0-based logged `indices` into each LR array.
    #[staticmethod]
    #[pyo3(signature = (lrs, indices, warmups=None))]
    fn from_indices(
        lrs: Vec<PyArrayLike1<'_, f64, AllowTypeChange>>,
        indices: Vec<PyArrayLike1<'_, i64>>,
        warmups: Option<Vec<usize>>,
    ) -> PyResult<Self> {
        Self::build(lrs, indices, warmups, false)
    }

    /// Number of curves.
    fn __len__(&self) -> usize {
        self.lrs.len()
    }

    /// Logged points of all curves.
    #[getter]
    fn n_points(&self) -> usize {
        self.n_points
    }

    fn __repr__(&self) -> String {
        format!("Curves(n_curves={}, n_points={})", self.lrs.len(), self.n_points)
    }
}

/// Options of the momentum laws: how the areas treat warmup, the momentum decay λ, and which of
/// λ and the S2 exponent ζ are fitted (ζ's value when it is not).
#[pyclass(frozen, module = "lawfit._core")]
pub(crate) struct MomentumOptions {
    warmup: WarmupMode,
    decay: f64,
    pub(crate) config: MomentumConfig,
}

#[pymethods]
impl MomentumOptions {
    #[new]
    #[pyo3(signature = (*, warmup="as_peak", decay=0.999, fit_decay=false, fit_zeta=false, zeta=1.0))]
    fn new(warmup: &str, decay: f64, fit_decay: bool, fit_zeta: bool, zeta: f64) -> PyResult<Self> {
        if !(0.0..=1.0).contains(&decay) {
            return Err(LawfitInputError::new_err(format!("decay must lie in [0, 1], got {decay}")));
        }
        if !zeta.is_finite() {
            return Err(LawfitInputError::new_err(format!("zeta must be finite, got {zeta}")));
        }
        Ok(Self {
            warmup: WarmupMode::parse(warmup).map_err(to_py)?,
            decay,
            config: MomentumConfig { fit_decay, fit_zeta, zeta },
        })
    }

    fn __repr__(&self) -> String {
        let MomentumConfig { fit_decay, fit_zeta, zeta } = self.config;
        format!(
            "MomentumOptions(warmup={:?}, decay={}, fit_decay={fit_decay}, fit_zeta={fit_zeta}, zeta={zeta})",
            self.warmup, self.decay
        )
    }
}

impl MomentumOptions {
    /// Number of parameters of the momentum law with these options.
    pub(crate) fn n_params(&self) -> usize {
        4 + usize::from(self.config.fit_decay) + usize::from(self.config.fit_zeta)
    }

    /// The options of the N-extended law, which fits neither λ nor ζ (an error otherwise).
    pub(crate) fn areas_only(&self) -> PyResult<&Self> {
        if self.config != MomentumConfig::default() {
            return Err(LawfitInputError::new_err(
                "the N-extended momentum law fits neither decay nor zeta (zeta = 1); pass \
                 MomentumOptions(warmup=..., decay=...) only",
            ));
        }
        Ok(self)
    }
}

/// Options of the multi-power law: exact or compressed sums, the S1 form and its warmup.
#[pyclass(frozen, name = "MultiPowerOptions", module = "lawfit._core")]
pub(crate) struct PyMultiPowerOptions {
    pub(crate) inner: MultiPowerOptions,
}

#[pymethods]
impl PyMultiPowerOptions {
    #[new]
    #[pyo3(signature = (*, exact=false, s1_form="repo", warmup_steps=None))]
    fn new(exact: bool, s1_form: &str, warmup_steps: Option<usize>) -> PyResult<Self> {
        let s1_form = S1Form::parse(s1_form, warmup_steps).map_err(to_py)?;
        Ok(Self { inner: MultiPowerOptions { exact, s1_form } })
    }

    fn __repr__(&self) -> String {
        format!("MultiPowerOptions(exact={}, s1_form={:?})", self.inner.exact, self.inner.s1_form)
    }
}

/// Options of the convex last-iterate bound: the gradient-norm model and exact or fast sums.
#[pyclass(frozen, module = "lawfit._core")]
pub(crate) struct ConvexBoundOptions {
    pub(crate) g_model: GradientModel,
    pub(crate) exact: bool,
}

#[pymethods]
impl ConvexBoundOptions {
    #[new]
    #[pyo3(signature = (*, g_model="constant", exact=false))]
    fn new(g_model: &str, exact: bool) -> PyResult<Self> {
        Ok(Self { g_model: GradientModel::parse(g_model).map_err(to_py)?, exact })
    }

    /// Number of parameters of the law with this gradient model.
    #[getter]
    fn n_params(&self) -> usize {
        self.g_model.n_params()
    }

    fn __repr__(&self) -> String {
        format!("ConvexBoundOptions(g_model={:?}, exact={})", self.g_model, self.exact)
    }
}
