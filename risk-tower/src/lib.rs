//! risk-tower (in progress).
