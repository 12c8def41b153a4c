//! lawfit: fit and forecast neural scaling laws.
//!
//! The pure-Rust core: learning-rate areas ([`areas`]), a streaming Levenberg–Marquardt solver
//! ([`lm`]) with robust losses ([`robust`]), multi-start strategies over it ([`strategy`]), the
//! laws ([`laws`]) and a parallel runner of many small fits ([`batch`]). Python bindings live in
//! `src/python/` alone, behind the `python` feature.
#![forbid(unsafe_code)]
// `!(x > 0.0)` is deliberate: it also rejects NaN. Index loops mirror the math of small p×p matrices.
#![allow(clippy::neg_cmp_op_on_partial_ord, clippy::needless_range_loop)]

pub mod areas;
pub mod batch;
pub mod error;
pub mod fastmath;
pub mod laws;
pub mod lm;
pub mod problem;
#[cfg(test)]
mod proptests;
pub mod robust;
pub mod special;
pub mod strategy;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
