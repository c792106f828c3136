//! Historical cases brought in from another system's records. An imported case is opened in
//! the state its record reached, with the record's own times, and carries no clocks: its time
//! limits ran (or not) in the system it came from, which the record may say (`on_time`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};

use super::events::CaseEvent;
use super::{CaseError, CaseId};
use crate::actor::Actor;
use crate::programme::{FieldError, Programme, check_fields};
use crate::region::RegionCode;

/// One record, already mapped to the programme's terms.
#[derive(Debug, Clone)]
pub struct ImportedCase {
    pub id: CaseId,
    pub number: String,
    pub kind: String,
    pub state: String,
    pub region: RegionCode,
    pub channel: String,
    pub fields: Map<String, Json>,
    pub opened_at: DateTime<Utc>,
    /// When a record in a terminal state was closed; unknown: the day it was opened.
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<String>,
    pub source: String,
    pub external_id: String,
    /// The record's line in the imported file.
    pub line: u64,
    pub on_time: Option<bool>,
}

fn refused(field: &str, code: &'static str, message: String) -> CaseError {
    CaseError::Field(FieldError { field: field.to_owned(), code, message })
}

/// The events of one imported case: created in its state, marked imported, its outcome, closed.
pub fn decide_import(
    programme: &Programme,
    record: ImportedCase,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let kind = programme.kind(&record.kind).ok_or_else(|| CaseError::KindUnknown(record.kind.clone()))?;
    let state = kind.state(&record.state).ok_or_else(|| {
        refused("state", "state_unknown", format!("state {} is not one of {}'s states", record.state, kind.code))
    })?;
    if !kind.accepts_channel(&record.channel) {
        return Err(refused(
            "channel",
            "channel_unknown",
            format!("channel {} is not one of this kind's: {}", record.channel, kind.channels.join(", ")),
        ));
    }
    if let Some(outcome) = &record.outcome
        && kind.outcome(outcome).is_none()
    {
        return Err(refused("outcome", "outcome_unknown", format!("outcome {outcome} is not one of {}'s outcomes", kind.code)));
    }
    if record.opened_at > now {
        return Err(refused("opened_at", "time_in_future", format!("opened {} is in the future", record.opened_at)));
    }
    if let Some(closed) = record.closed_at
        && closed < record.opened_at
    {
        return Err(refused("closed_at", "time_before_opening", format!("closed {closed} before it was opened")));
    }
    let fields = check_fields(&kind.fields, &record.fields, &|catalog, code| programme.in_catalog(catalog, code))?;
    let closed_at = state.terminal.then(|| record.closed_at.unwrap_or(record.opened_at));
    let mut events = vec![
        CaseEvent::Created {
            id: record.id,
            number: record.number,
            programme: programme.code.clone(),
            programme_version: programme.version,
            kind: kind.code.clone(),
            state: state.code.clone(),
            priority: kind.priorities[0].clone(),
            region: record.region,
            grid: None,
            channel: record.channel,
            intake_org: None,
            requester: actor.journal_name(),
            fields,
            load_weight: 0.0,
            at: record.opened_at,
        },
        CaseEvent::Imported {
            source: record.source,
            external_id: record.external_id,
            line: record.line,
            on_time: record.on_time,
            at: now,
        },
    ];
    if let Some(outcome) = record.outcome {
        // A record's closing time is its outcome's time only when the record says it.
        events.push(CaseEvent::OutcomeRecorded { outcome, at: record.closed_at });
    }
    if let Some(at) = closed_at {
        events.push(CaseEvent::Closed { at });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::Coded;
    use crate::programme::tests::demo;

    fn record(state: &str) -> ImportedCase {
        ImportedCase {
            id: CaseId(uuid::Uuid::nil()),
            number: "MD2013-000001".into(),
            kind: "dispute".into(),
            state: state.into(),
            region: RegionCode::parse("331004").unwrap(),
            channel: "online".into(),
            fields: json!({"title": "旧案", "category": "labour"}).as_object().unwrap().clone(),
            opened_at: Utc.with_ymd_and_hms(2013, 8, 30, 0, 0, 0).unwrap(),
            closed_at: None,
            outcome: None,
            source: "old".into(),
            external_id: "511074".into(),
            line: 2,
            on_time: Some(false),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()
    }

    #[test]
    fn an_imported_record_opens_in_its_state_and_closes_without_a_known_time() {
        let events = decide_import(&demo(), record("closed"), &Actor::System, now()).unwrap();
        let case = super::super::Case::replay(&events).unwrap();
        assert_eq!(case.state, "closed");
        assert_eq!(case.closed_at, Some(case.opened_at), "no closing time in the record: closed on the day received");
        assert!(case.clocks.is_empty(), "an imported case carries no clocks");
        let origin = case.origin.unwrap();
        assert_eq!((origin.source.as_str(), origin.external_id.as_str(), origin.on_time), ("old", "511074", Some(false)));
        let open = decide_import(&demo(), record("handling"), &Actor::System, now()).unwrap();
        assert_eq!(super::super::Case::replay(&open).unwrap().closed_at, None);
    }

    #[test]
    fn what_the_programme_does_not_have_is_refused_by_field() {
        let code = |r: ImportedCase| decide_import(&demo(), r, &Actor::System, now()).unwrap_err();
        assert_eq!(code(record("archived")).code(), "state_unknown");
        assert_eq!(code(ImportedCase { outcome: Some("agreement".into()), ..record("closed") }).code(), "outcome_unknown");
        let future = ImportedCase { opened_at: now() + chrono::Duration::days(1), ..record("closed") };
        assert_eq!(code(future).field().as_deref(), Some("opened_at"));
        let backwards = ImportedCase { closed_at: Some(Utc.with_ymd_and_hms(2013, 8, 1, 0, 0, 0).unwrap()), ..record("closed") };
        assert_eq!(code(backwards).code(), "time_before_opening");
        let mut bad_field = record("closed");
        bad_field.fields.insert("category".into(), json!("gift"));
        assert_eq!(code(bad_field).field().as_deref(), Some("category"));
    }
}
