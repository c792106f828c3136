//! Storage errors.

use fq_domain::Coded;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (an organisation code, a login, a grid code...).
    #[error("{entity} {key} already exists")]
    Conflict { entity: &'static str, key: String },
    /// A referenced row does not exist (an unknown region, organisation or account).
    #[error("{entity} {key} does not exist")]
    Missing { entity: &'static str, key: String },
    /// An optimistic-concurrency expectation failed.
    #[error("stream {stream} has {actual} events, expected {expected}: someone else changed it first")]
    StreamMoved { stream: String, expected: u64, actual: u64 },
    /// The database cannot be reached or opened.
    #[error("cannot open the database at {location}: {reason}")]
    Unavailable { location: String, reason: String },
    /// The schema is older or newer than this build.
    #[error("{0}")]
    Schema(String),
    /// The operation does not exist on this backend (for example an online file backup on PostgreSQL).
    #[error("{0}")]
    Unsupported(String),
    /// The store is shutting down and takes no more writes.
    #[error("the store is shutting down")]
    Closed,
    /// Stored data cannot be decoded (a corrupted row).
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt { what: String, reason: String },
    /// A journal row cannot be decoded (a hash or time that is not one): `audit verify` reports
    /// it as an edited row.
    #[error("journal row {seq} is corrupt: {reason}")]
    CorruptEvent { seq: u64, reason: String },
    /// Anything else from the database driver or the file system.
    #[error("database error: {0}")]
    Backend(String),
}

impl Coded for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Conflict { .. } => "conflict",
            StoreError::Missing { .. } => "not_found",
            StoreError::StreamMoved { .. } => "concurrent_change",
            StoreError::Unavailable { .. } => "database_unavailable",
            StoreError::Schema(_) => "database_schema_mismatch",
            StoreError::Unsupported(_) => "unsupported",
            StoreError::Closed => "shutting_down",
            StoreError::Corrupt { .. } | StoreError::CorruptEvent { .. } => "data_corrupt",
            StoreError::Backend(_) => "database_error",
        }
    }
}

impl StoreError {
    /// The error each change of a group gets when the group's transaction failed as a whole:
    /// corrupt data keeps its kind (it names what to repair), anything else reads "commit failed".
    pub fn for_each_change(&self) -> StoreError {
        match self {
            StoreError::Corrupt { what, reason } => StoreError::Corrupt { what: what.clone(), reason: reason.clone() },
            other => StoreError::Backend(format!("commit failed: {other}")),
        }
    }

    /// Wraps a driver error.
    pub fn backend(err: impl std::fmt::Display) -> StoreError {
        StoreError::Backend(err.to_string())
    }

    /// A corrupt-row error.
    pub fn corrupt(what: impl Into<String>, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt { what: what.into(), reason: reason.to_string() }
    }
}
