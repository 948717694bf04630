//! risk-core (being assembled).
#![warn(missing_docs)]

pub mod error;
pub mod models;
mod recommender;

pub use error::{ConfigError, Error};
pub use models::*;
pub use recommender::{Recommender, ResultSink};
