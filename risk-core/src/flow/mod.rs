//! The decision flow.
