//! Uploaded files: metadata and bytes (stored in the database, so that one backup holds all).

use chrono::{DateTime, Utc};
use fq_domain::case::CaseId;
use serde::Serialize;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentRecord {
    pub id: Uuid,
    /// The case it belongs to, once attached.
    pub case_id: Option<CaseId>,
    /// The file name as uploaded (cleaned).
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Hex BLAKE3 of the bytes, checked again on every download.
    pub blake3: String,
    /// Journal name of the uploader.
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}
