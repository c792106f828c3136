//! Position reports kept for the 72-hour trace (P6, 72小时轨迹): AIS, Beidou terminals and
//! checkpoint logs are stored once per subject and time; a trace reads the hours before a time
//! from the store (the subject's track, and who came within a distance meanwhile). Tracing a
//! person or vessel is sensitive: operators only, and every trace is journaled with who asked.

use chrono::{DateTime, Duration, Utc};
use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_risk::trace::{Contact, MAX_GAP_MINUTES, Position};
use fq_store::{Change, Op, PositionRecord};
use serde::Serialize;
use serde_json::json;

use crate::Engine;
use crate::access::require_operator;
use crate::error::EngineError;

/// What storing a file of position reports did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PositionsReport {
    pub source: String,
    pub rows: usize,
    pub stored: usize,
    /// Reports of the same subject and time sent before (or twice in the file).
    pub duplicates: usize,
    pub subjects: usize,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// A trace from the stored reports.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub id: String,
    pub at: DateTime<Utc>,
    pub hours: i64,
    pub within_metres: f64,
    pub track: Vec<Position>,
    pub contacts: Vec<Contact>,
}

/// A source code: lower-case letters, digits and underscores, 1 to 32 of them.
fn valid_source(source: &str) -> bool {
    (1..=32).contains(&source.len()) && source.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Engine {
    /// Stores a CSV of position reports (columns of `fq_risk::trace::read_positions`) from
    /// `source`: all or nothing (the first bad row refuses the file, naming it); a subject's
    /// report at a time stored before is skipped.
    pub async fn ingest_positions(&self, actor: &Actor, source: &str, bytes: &[u8]) -> Result<PositionsReport, EngineError> {
        require_operator(actor, "storing position reports")?;
        if !valid_source(source) {
            return Err(EngineError::field("source_invalid", "source", "a source is 1 to 32 lower-case letters, digits or _"));
        }
        let mut reports =
            fq_risk::trace::read_positions(bytes).map_err(|e| EngineError::field("positions_invalid", "file", e.to_string()))?;
        let rows = reports.len();
        reports.sort_by(|a, b| a.id.cmp(&b.id).then(a.at.cmp(&b.at)));
        reports.dedup_by(|a, b| a.id == b.id && a.at == b.at);
        let keys: Vec<(String, DateTime<Utc>)> = reports.iter().map(|p| (p.id.clone(), p.at)).collect();
        let known = self.store.positions_known(&keys).await?;
        let mut subjects: Vec<&str> = reports.iter().map(|p| p.id.as_str()).collect();
        subjects.sort_unstable();
        subjects.dedup();
        let report = PositionsReport {
            source: source.to_owned(),
            rows,
            stored: reports.len() - known,
            duplicates: rows - (reports.len() - known),
            subjects: subjects.len(),
            first: reports.iter().map(|p| p.at).min(),
            last: reports.iter().map(|p| p.at).max(),
        };
        if report.stored > 0 {
            let records: Vec<PositionRecord> = reports
                .into_iter()
                .map(|p| PositionRecord { subject: p.id, at: p.at, lon: p.lon, lat: p.lat, source: source.to_owned() })
                .collect();
            let summary = json!({ "source": source, "rows": rows, "stored": report.stored, "subjects": report.subjects, "first": report.first, "last": report.last });
            let change = Change::new().op(Op::InsertPositions(records)).event(NewEvent::new(
                format!("positions:{source}"),
                "risk.positions_ingested",
                actor.journal_name(),
                summary,
            ));
            self.store.commit(change).await?;
        }
        Ok(report)
    }

    /// The trace of `id` over the `hours` before `at` from the stored reports, and everyone
    /// within `within` metres of it at the same time. Journaled: who traced whom, when.
    pub async fn trace(&self, actor: &Actor, id: &str, at: DateTime<Utc>, hours: i64, within: f64) -> Result<Trace, EngineError> {
        require_operator(actor, "tracing a person or vessel")?;
        if !(1..=24 * 30).contains(&hours) {
            return Err(EngineError::field("hours_invalid", "hours", "a trace covers 1 to 720 hours"));
        }
        if !(within > 0.0 && within <= 100_000.0) {
            return Err(EngineError::field("within_invalid", "within", "contacts are within 0 to 100,000 metres"));
        }
        // A report a little before the window or after `at` places the subject at its edges.
        let gap = Duration::minutes(MAX_GAP_MINUTES);
        let stored = self.store.positions_between(at - Duration::hours(hours) - gap, at + gap).await?;
        let positions: Vec<Position> =
            stored.into_iter().map(|r| Position { id: r.subject, at: r.at, lon: r.lon, lat: r.lat }).collect();
        let track: Vec<Position> = fq_risk::trace::track(&positions, id, at, hours).into_iter().cloned().collect();
        let contacts = fq_risk::trace::contacts(&positions, id, at, hours, within);
        let change = Change::new().event(NewEvent::new(
            "access:trace",
            "risk.trace_viewed",
            actor.journal_name(),
            json!({ "id": id, "at": at, "hours": hours, "within_metres": within, "reports": track.len(), "contacts": contacts.len() }),
        ));
        self.store.commit(change).await?;
        Ok(Trace { id: id.to_owned(), at, hours, within_metres: within, track, contacts })
    }
}
