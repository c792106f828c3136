//! Stable error codes.

/// An error that carries a stable, machine-readable snake_case code.
///
/// The code is part of the public contract (API responses, CLI output, logs): once shipped it
/// does not change, even when the human-readable message does.
pub trait Coded {
    /// The stable snake_case code, for example `region_code_invalid`.
    fn code(&self) -> &'static str;

    /// The input field, file line or key the error is about, when there is one.
    fn field(&self) -> Option<String> {
        None
    }
}
