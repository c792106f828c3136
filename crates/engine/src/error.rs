//! The engine's error: one type for every use case, each variant with a stable code. The server
//! maps it to HTTP in one place; the CLI prints it.

use fq_domain::Coded;
use fq_store::StoreError;

/// Why a use case did not happen. Nothing was changed when one of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The input is wrong; `field` names where.
    #[error("{message}")]
    Invalid { code: &'static str, field: Option<String>, message: String },
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// The actor may not do this here.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The actor may not take this action on this case (wrong role, region or unit).
    #[error("not allowed: {message}")]
    Denied { code: &'static str, message: String },
    /// The request is well-formed but the case's situation refuses it (wrong state, condition
    /// not met, already rated, nobody to dispatch to).
    #[error("{message}")]
    Refused { code: &'static str, field: Option<String>, message: String },
    #[error("{entity} {key} does not exist")]
    NotFound { entity: &'static str, key: String },
    #[error("{entity} {key} already exists")]
    Conflict { entity: &'static str, key: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    /// Wraps a domain validation error.
    pub fn invalid(err: &(impl Coded + std::fmt::Display)) -> EngineError {
        EngineError::Invalid { code: err.code(), field: err.field(), message: err.to_string() }
    }

    /// An invalid value in `field`.
    pub fn field(code: &'static str, field: &str, message: impl Into<String>) -> EngineError {
        EngineError::Invalid { code, field: Some(field.to_owned()), message: message.into() }
    }

    pub fn forbidden(what: impl Into<String>) -> EngineError {
        EngineError::Forbidden(what.into())
    }
}

impl From<fq_domain::case::CaseError> for EngineError {
    fn from(err: fq_domain::case::CaseError) -> EngineError {
        let (code, field, message) = (err.code(), err.field(), err.to_string());
        match code {
            _ if code.starts_with("forbidden_") || code == "action_system_only" => EngineError::Denied { code, message },
            "action_wrong_state"
            | "escalation_top_tier"
            | "already_rated"
            | "guard_false"
            | "case_unassigned"
            | "dispatch_no_candidate"
            | "dispatch_manual" => EngineError::Refused { code, field, message },
            _ => EngineError::Invalid { code, field, message },
        }
    }
}

impl Coded for EngineError {
    fn code(&self) -> &'static str {
        match self {
            EngineError::Invalid { code, .. } => code,
            EngineError::Unauthenticated => "unauthenticated",
            EngineError::Forbidden(_) => "forbidden",
            EngineError::Denied { code, .. } | EngineError::Refused { code, .. } => code,
            EngineError::NotFound { .. } => "not_found",
            EngineError::Conflict { .. } => "conflict",
            EngineError::Store(StoreError::Conflict { .. }) => "conflict",
            EngineError::Store(StoreError::Missing { .. }) => "not_found",
            EngineError::Store(err) => err.code(),
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            EngineError::Invalid { field, .. } | EngineError::Refused { field, .. } => field.clone(),
            _ => None,
        }
    }
}
