//! lawfit: fit and forecast neural scaling laws.
//!
//! The pure-Rust core: learning-rate areas ([`areas`]), a streaming Levenberg–Marquardt solver
//! ([`lm`]) with robust losses ([`robust`]), and the laws ([`laws`]). Python bindings live in
//! `python.rs` alone, behind the `python` feature.
#![forbid(unsafe_code)]

pub mod areas;
pub mod error;
pub mod laws;
pub mod problem;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
