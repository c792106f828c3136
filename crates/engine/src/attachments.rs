//! Attachments: uploads with size and type limits, stored with their BLAKE3 hash, tied to the
//! case whose field names them, and shown only to who may see that case.

use fq_domain::actor::Actor;
use fq_domain::case::{Case, CaseEvent};
use fq_domain::journal::NewEvent;
use fq_domain::programme::FieldValue;
use fq_store::{AttachmentRecord, Change, Op, StoreError};
use serde_json::json;
use uuid::Uuid;

use crate::Engine;
use crate::error::EngineError;

/// The largest file accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 20 * 1024 * 1024;

/// The content type of `bytes`, judged from the bytes themselves (and the name's extension for
/// the formats that share a container), or `None` when it is not an accepted kind of file.
pub fn sniff_content_type(name: &str, bytes: &[u8]) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if starts(b"PK\x03\x04") {
        match ext.as_str() {
            "docx" => Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            "xlsx" => Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            "zip" => Some("application/zip"),
            _ => None,
        }
    } else if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        match ext.as_str() {
            "doc" => Some("application/msword"),
            "xls" => Some("application/vnd.ms-excel"),
            _ => None,
        }
    } else if matches!(ext.as_str(), "txt" | "csv") && std::str::from_utf8(bytes).is_ok() {
        Some(if ext == "csv" { "text/csv" } else { "text/plain" })
    } else {
        None
    }
}

/// A file name without directories or control characters, at most 200 characters.
fn clean_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name).trim();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// The attachment ids a set of events puts into a case's fields.
pub(crate) fn attachments_in(events: &[CaseEvent]) -> Vec<Uuid> {
    fn collect(value: &FieldValue, out: &mut Vec<Uuid>) {
        match value {
            FieldValue::Attachment(id) => out.push(*id),
            FieldValue::List(items) => items.iter().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut ids = Vec::new();
    for event in events {
        match event {
            CaseEvent::Created { fields, .. } | CaseEvent::FieldsUpdated { fields } => {
                fields.values().for_each(|v| collect(v, &mut ids));
            }
            _ => {}
        }
    }
    ids.sort();
    ids.dedup();
    ids
}

impl Engine {
    /// Stores an uploaded file for the actor to put into a case field.
    pub async fn upload_attachment(&self, actor: &Actor, name: &str, bytes: Vec<u8>) -> Result<AttachmentRecord, EngineError> {
        if actor.account().is_none() && !matches!(actor, Actor::Cli { .. }) {
            return Err(EngineError::forbidden("uploading needs a signed-in account"));
        }
        if bytes.is_empty() {
            return Err(EngineError::field("attachment_empty", "file", "the file is empty"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(EngineError::field(
                "attachment_too_large",
                "file",
                format!("the file has {} bytes; at most {} MiB are accepted", bytes.len(), MAX_ATTACHMENT_BYTES / 1024 / 1024),
            ));
        }
        let name = clean_file_name(name)
            .ok_or_else(|| EngineError::field("attachment_name_invalid", "file", "the file needs a name"))?;
        let content_type = sniff_content_type(&name, &bytes).ok_or_else(|| {
            EngineError::field(
                "attachment_type_not_allowed",
                "file",
                format!("{name}: only PDF, images (PNG, JPEG, GIF, WebP), Word, Excel, ZIP, text and CSV files are accepted"),
            )
        })?;
        let record = AttachmentRecord {
            id: Uuid::now_v7(),
            case_id: None,
            name,
            content_type: content_type.to_owned(),
            size: bytes.len() as u64,
            blake3: blake3::hash(&bytes).to_hex().to_string(),
            uploaded_by: actor.journal_name(),
            uploaded_at: self.now(),
        };
        let change = Change::new().op(Op::InsertAttachment { record: record.clone(), bytes }).event(NewEvent::new(
            format!("attachment:{}", record.id),
            "attachment.uploaded",
            actor.journal_name(),
            json!({ "name": record.name, "content_type": record.content_type, "size": record.size, "blake3": record.blake3 }),
        ));
        self.store.commit(change).await?;
        Ok(record)
    }

    /// The op tying the attachments that `events` put into the case's fields to it. Each must
    /// exist and be the actor's own upload not yet attached, or be attached to this case already.
    pub(crate) async fn attachment_op(
        &self,
        actor: &Actor,
        case: &Case,
        events: &[CaseEvent],
    ) -> Result<Option<Op>, EngineError> {
        let mut new = Vec::new();
        for id in attachments_in(events) {
            let unknown = || EngineError::field("attachment_unknown", "attachments", format!("attachment {id} does not exist"));
            let record = self.store.attachment(id).await?.ok_or_else(unknown)?;
            match record.case_id {
                Some(owner) if owner == case.id => {}
                Some(_) => {
                    return Err(EngineError::field(
                        "attachment_in_use",
                        "attachments",
                        format!("attachment {id} belongs to another case"),
                    ));
                }
                None if record.uploaded_by == actor.journal_name() || actor.account().is_none() => new.push(id),
                None => return Err(unknown()),
            }
        }
        if new.is_empty() { Ok(None) } else { Ok(Some(Op::AttachToCase { attachments: new, case: case.id })) }
    }

    /// An attachment and its bytes, if the actor may see the case it belongs to (or uploaded it).
    /// The bytes are checked against the stored hash.
    pub async fn attachment(&self, actor: &Actor, id: Uuid) -> Result<(AttachmentRecord, Vec<u8>), EngineError> {
        let not_found = || EngineError::NotFound { entity: "attachment", key: id.to_string() };
        let record = self.store.attachment(id).await?.ok_or_else(not_found)?;
        match record.case_id {
            Some(case) => {
                self.case_view(actor, case).await.map_err(|_| not_found())?;
            }
            None if record.uploaded_by == actor.journal_name() || actor.account().is_none() => {}
            None => return Err(not_found()),
        }
        let bytes = self.store.attachment_bytes(id).await?.ok_or_else(not_found)?;
        if blake3::hash(&bytes).to_hex().as_str() != record.blake3 {
            return Err(StoreError::corrupt(format!("attachment {id}"), "its bytes no longer match the stored hash").into());
        }
        Ok((record, bytes))
    }

    /// The attachments of a case the actor may see.
    pub async fn case_attachments(
        &self,
        actor: &Actor,
        case: fq_domain::case::CaseId,
    ) -> Result<Vec<AttachmentRecord>, EngineError> {
        self.case_view(actor, case).await?;
        Ok(self.store.case_attachments(case).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_judged_by_their_bytes() {
        assert_eq!(sniff_content_type("a.pdf", b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff_content_type("photo.jpg", b"\xff\xd8\xff\xe0..."), Some("image/jpeg"));
        assert_eq!(sniff_content_type("not-really.pdf", b"MZ\x90\x00"), None, "an executable renamed is refused");
        assert_eq!(
            sniff_content_type("a.docx", b"PK\x03\x04...."),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(sniff_content_type("a.jar", b"PK\x03\x04...."), None);
        assert_eq!(sniff_content_type("notes.txt", "调解笔录".as_bytes()), Some("text/plain"));
        assert_eq!(sniff_content_type("notes.txt", b"\xff\xfe\x00"), None);
        assert_eq!(clean_file_name("C:\\\\Users\\\\x\\\\笔录.pdf").as_deref(), Some("笔录.pdf"));
        assert_eq!(clean_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_file_name(".."), None);
    }
}
