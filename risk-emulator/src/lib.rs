//! risk-emulator (in progress).
