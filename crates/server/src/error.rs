//! One error envelope for the whole API:
//! `{"error": {"code": "snake_case", "message": "...", "field": "name or null"}}`.
//! Internal failures are logged with their detail and answered without it.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fq_domain::Coded;
use fq_engine::EngineError;
use fq_store::StoreError;
use serde_json::json;

/// An error on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }
}

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> ApiError {
        let code = err.code();
        let field = err.field();
        let status = match &err {
            EngineError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::Unauthenticated => StatusCode::UNAUTHORIZED,
            EngineError::Forbidden(_) | EngineError::Denied { .. } => StatusCode::FORBIDDEN,
            EngineError::Refused { .. } => StatusCode::CONFLICT,
            EngineError::NotFound { .. } | EngineError::Store(StoreError::Missing { .. }) => StatusCode::NOT_FOUND,
            EngineError::Conflict { .. } | EngineError::Store(StoreError::Conflict { .. } | StoreError::StreamMoved { .. }) => {
                StatusCode::CONFLICT
            }
            EngineError::Store(StoreError::Unavailable { .. } | StoreError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status.is_server_error() {
            tracing::error!(error = %err, code, "request failed");
            "the server could not complete the request; the error is in its log".to_owned()
        } else {
            err.to_string()
        };
        ApiError { status, code, message, field }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "field": self.field } });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The error envelope, as documented in the OpenAPI description.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail {
    /// A stable snake_case code, e.g. `field_required`, `forbidden_region`, `action_wrong_state`.
    pub code: String,
    pub message: String,
    /// The offending field, when there is one.
    pub field: Option<String>,
}
