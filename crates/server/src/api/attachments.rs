//! Attachments: upload (raw body, `?name=`), download (only for who may see the case).

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use fq_engine::MAX_ATTACHMENT_BYTES;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::AppState;
use crate::api::cases::AttachmentBody;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/attachments", post(upload).layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 1)))
        .route("/attachments/{id}", get(download))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The file's name, with its extension.
    name: String,
}

/// Uploads a file (the request body is the file). Put its id into a case's attachment field.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<UploadParams>,
    body: Bytes,
) -> Result<(StatusCode, Json<AttachmentBody>), ApiError> {
    let record = state.engine.upload_attachment(&actor, &p.name, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(record.into())))
}

/// Downloads a file.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn download(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<Uuid>,
) -> Result<Response, ApiError> {
    let (record, bytes) = state.engine.attachment(&actor, id).await?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&record.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    // RFC 6266/5987: the UTF-8 name percent-encoded, so Chinese names survive.
    let encoded: String = record
        .name
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
