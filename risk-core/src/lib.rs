//! risk-core (crate docs: see the client module owner's section below).
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod config;
pub mod error;
pub mod flow;
pub mod models;
mod recommender;

pub use client::*;
pub use config::*;
pub use error::{ConfigError, Error};
pub use flow::*;
pub use models::*;
pub use recommender::{Recommender, ResultSink};
