//! The laws: one file per law, each a [`crate::problem::Model`] with an analytic Jacobian.

pub mod momentum;
pub mod momentum_n;
pub mod multipower;
