//! The Python binding: the only code that knows Python exists (this folder). It converts
//! arguments, releases the GIL around every O(n) call, and maps [`Error`] to Python exceptions.
//! One file per concern: `convert`, `options` (the one `SolverOptions`), `inputs` (the curve
//! laws' `Curves` and law options), `runner` (pool,
//! Ctrl-C, progress), `curves` and `points` (one per law family), `solver` (Python callables).

mod convert;
mod curves;
mod inputs;
mod options;
mod points;
mod runner;
mod solver;

/// What every file of the binding uses: the core's types, pyo3/numpy, and the binding's helpers.
mod prelude {
    pub(crate) use super::convert::*;
    pub(crate) use super::options::SolverOptions;
    pub(crate) use super::runner::*;
    pub(crate) use super::{to_py, LawfitInputError};
    pub(crate) use crate::areas::{self as core_areas, AreaOptions, WarmupMode};
    pub(crate) use crate::batch::{self, Abscissae, PowerMethod, Rows, Starts};
    pub(crate) use crate::error::Error;
    pub(crate) use crate::laws::momentum::{self, MomentumConfig, RunSchedule, Steps};
    pub(crate) use crate::laws::momentum_n;
    pub(crate) use crate::laws::{chinchilla, power};
    pub(crate) use crate::lm::{LmOptions, Prior, Status};
    pub(crate) use crate::problem::{Observations, Space};
    pub(crate) use crate::robust::RobustLoss;
    pub(crate) use crate::strategy::{MultiStartReport, Screening, Stop, TaskResult};
    pub(crate) use numpy::PyReadonlyArray3;
    pub(crate) use numpy::{
        IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    };
    pub(crate) use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
    pub(crate) use pyo3::prelude::*;
    pub(crate) use pyo3::types::PyDict;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::time::Duration;
}

use prelude::*;

// `lawfit._core` (not `_core`) so that `__module__` names an importable module and the class
// pickles (spawn pools, Dask): pickle finds exception classes by their qualified name.
pyo3::create_exception!(
    lawfit._core,
    LawfitInputError,
    PyValueError,
    "Bad input to lawfit: the message names the argument, index and value."
);

pub(crate) fn to_py(err: Error) -> PyErr {
    match err {
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        Error::InvalidValue { .. } | Error::LengthMismatch { .. } | Error::InvalidArgument(_) => {
            LawfitInputError::new_err(err.to_string())
        }
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LawfitInputError", m.py().get_type::<LawfitInputError>())?;
    m.add_class::<options::SolverOptions>()?;
    m.add_class::<inputs::Curves>()?;
    m.add_class::<inputs::MomentumOptions>()?;
    m.add_class::<inputs::PyMultiPowerOptions>()?;
    m.add_class::<inputs::ConvexBoundOptions>()?;
    m.add_function(wrap_pyfunction!(runner::pool_threads, m)?)?;
    m.add_function(wrap_pyfunction!(curves::areas, m)?)?;
    m.add_function(wrap_pyfunction!(curves::areas_at, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(curves::predict_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit_momentum_n, m)?)?;
    m.add_function(wrap_pyfunction!(curves::predict_momentum_n, m)?)?;
    m.add_function(wrap_pyfunction!(solver::least_squares, m)?)?;
    m.add_function(wrap_pyfunction!(curves::multipower_predict, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit_multipower, m)?)?;
    m.add_function(wrap_pyfunction!(points::chinchilla_default_starts, m)?)?;
    m.add_function(wrap_pyfunction!(points::fit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(points::predict_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(points::refit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(points::fit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(points::predict_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(points::power_law_grid_starts, m)?)?;
    m.add_function(wrap_pyfunction!(points::refit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(points::fit_many_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fsl_predict, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit_fsl, m)?)?;
    m.add_function(wrap_pyfunction!(curves::convex_bound_predict, m)?)?;
    m.add_function(wrap_pyfunction!(curves::fit_convex_bound, m)?)?;
    Ok(())
}
