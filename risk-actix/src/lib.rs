//! risk-actix (in progress).
