//! Inspection records arriving from stations, by API push one at a time or in a batch file (one
//! JSON object per line): each is checked, run through the review standard in force on its
//! inspection day, stored as a case of the `inspection` programme with the rules that fired, and
//! submitted, which draws its reviewer in another county of the city.

use std::collections::{HashMap, HashSet};

use fq_domain::Coded as _;
use fq_domain::actor::Actor;
use fq_domain::calendar::local_date;
use fq_domain::case::{Case, CaseId};
use fq_domain::inspection::{InspectionRecord, Review, RuleSet, Verdict};
use fq_store::{CaseFilter, StoreError};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use super::{PROGRAMME, rule_sets};
use crate::Engine;
use crate::cases::CaseView;
use crate::error::EngineError;

/// A record stored and drawn.
#[derive(Debug, Clone, Serialize)]
pub struct Received {
    pub number: String,
    pub record_id: String,
    /// The reviewer drawn (an account id), when one was eligible.
    pub assigned: Option<String>,
    pub state: String,
    pub review: Review,
    /// Why no reviewer was drawn (nobody eligible now): the record waits, stored, for the
    /// station to submit it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
}

/// A batch file's outcome. A file with any bad line stores nothing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InspectionImport {
    pub lines: usize,
    pub received: Vec<Received>,
    /// Records received before (by record id), skipped: a station's files may overlap.
    pub already_received: Vec<String>,
    /// `(line, field, code, message)` of every bad line.
    pub bad: Vec<(usize, String, String, String)>,
    pub dry_run: bool,
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Human => "human",
        Verdict::Reject => "reject",
    }
}

fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "通过",
        Verdict::Human => "需人工",
        Verdict::Reject => "不通过",
    }
}

/// The review standard's verdict on `record`, with the rule set in force on its day.
pub(crate) fn machine_review(sets: &[RuleSet], record: &InspectionRecord) -> Result<Review, EngineError> {
    let day = local_date(record.inspection_started);
    let set = RuleSet::in_force(sets, day).ok_or_else(|| {
        EngineError::field("rules_not_in_force", "record.inspection_started", format!("no review standard is in force on {day}"))
    })?;
    set.review(record).map_err(|e| EngineError::field("rule_failed", "record", format!("the review standard failed: {e}")))
}

impl Engine {
    /// The record ids received so far, read from the store on first use.
    async fn received_ids(&self) -> Result<tokio::sync::MutexGuard<'_, Option<HashSet<String>>>, EngineError> {
        let mut guard = self.inspection_ids.lock().await;
        if guard.is_none() {
            let filter = CaseFilter {
                programme: Some(PROGRAMME.into()),
                kind: Some("record".into()),
                all_regions: true,
                ..CaseFilter::default()
            };
            let mut ids = HashSet::new();
            for snapshot in self.store.case_snapshots(&filter).await? {
                let case: Case = serde_json::from_str(&snapshot).map_err(|e| StoreError::corrupt("case snapshot", e))?;
                if let Some(fq_domain::programme::FieldValue::Text(id)) = case.fields.get("record_id") {
                    ids.insert(id.clone());
                }
            }
            *guard = Some(ids);
        }
        Ok(guard)
    }

    /// Receives one record from a station (`channel`: `station_push` or `batch_file`): checks
    /// it, reviews it against the standard, stores it and submits it for review. A record id
    /// received before is refused (`record_duplicate`).
    pub async fn receive_inspection(
        &self,
        actor: &Actor,
        record: InspectionRecord,
        channel: &str,
    ) -> Result<Received, EngineError> {
        record.check().map_err(|e| EngineError::invalid(&e))?;
        let review = machine_review(&rule_sets()?, &record)?;
        let mut ids = self.received_ids().await?;
        if ids.as_ref().is_some_and(|ids| ids.contains(&record.id)) {
            return Err(EngineError::Refused {
                code: "record_duplicate",
                field: Some("record.id".into()),
                message: format!("record {} was received before", record.id),
            });
        }
        let received = self.store_record(actor, record, review, channel).await?;
        if let Some(ids) = ids.as_mut() {
            ids.insert(received.record_id.clone());
        }
        Ok(received)
    }

    async fn store_record(
        &self,
        actor: &Actor,
        record: InspectionRecord,
        review: Review,
        channel: &str,
    ) -> Result<Received, EngineError> {
        let fired: Vec<Json> =
            review.fired.iter().map(|f| Json::from(format!("{} {}（{}）", f.code, f.text, verdict_text(f.verdict)))).collect();
        let mut fields = Map::new();
        fields.insert("title".into(), Json::from(record.plate.clone()));
        fields.insert("vin".into(), Json::from(record.vin.clone()));
        fields.insert("vehicle_class".into(), Json::from(record.class_code().to_lowercase()));
        fields.insert("station_code".into(), Json::from(record.station.clone()));
        fields.insert(
            "inspected_at".into(),
            Json::from(record.inspection_started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        );
        fields.insert("record_id".into(), Json::from(record.id.clone()));
        fields.insert("synthetic".into(), Json::from(record.synthetic));
        fields.insert("machine_verdict".into(), Json::from(verdict_name(review.verdict)));
        fields.insert("rule_set".into(), json!(review.rule_set));
        fields.insert("rules_fired".into(), Json::Array(fired));
        fields.insert("record".into(), serde_json::to_value(&record).unwrap_or(Json::Null));
        let opened = self.open_inspection_case(actor, "record", &record.county, channel, fields).await?;
        match self.act_on_case(actor, opened.case.id, "submit", Map::new(), None).await {
            Ok(submitted) => Ok(received(&submitted, record.id, review, None)),
            // Stored either way: a record nobody can review yet waits rather than being lost.
            Err(err) if err.code() == "dispatch_no_candidate" => Ok(received(&opened, record.id, review, Some(err.to_string()))),
            Err(err) => Err(err),
        }
    }

    /// Receives a batch file: every line is read and checked first; a file with a bad line
    /// (or a record id twice) stores nothing and names each bad line. Records received before
    /// are skipped and listed. `dry_run` checks and reviews without storing.
    pub async fn import_inspections(&self, actor: &Actor, text: &str, dry_run: bool) -> Result<InspectionImport, EngineError> {
        let sets = rule_sets()?;
        let mut report = InspectionImport { dry_run, ..InspectionImport::default() };
        let mut good: Vec<(InspectionRecord, Review)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            report.lines += 1;
            let mut bad = |field: &str, code: &str, message: String| report.bad.push((n, field.into(), code.into(), message));
            let record: InspectionRecord = match serde_json::from_str(line) {
                Ok(record) => record,
                Err(e) => {
                    bad("record", "record_unreadable", format!("not an inspection record: {e}"));
                    continue;
                }
            };
            if let Err(e) = record.check() {
                bad(&e.field, e.code, e.message);
                continue;
            }
            if let Some(first) = seen.insert(record.id.clone(), n) {
                bad("record.id", "record_duplicate", format!("{} is also on line {first}", record.id));
                continue;
            }
            match machine_review(&sets, &record) {
                Ok(review) => good.push((record, review)),
                Err(e) => bad("record", e.code(), e.to_string()),
            }
        }
        if !report.bad.is_empty() || dry_run {
            return Ok(report);
        }
        let mut ids = self.received_ids().await?;
        for (record, review) in good {
            if ids.as_ref().is_some_and(|ids| ids.contains(&record.id)) {
                report.already_received.push(record.id);
                continue;
            }
            let received = self.store_record(actor, record, review, "batch_file").await?;
            if let Some(ids) = ids.as_mut() {
                ids.insert(received.record_id.clone());
            }
            report.received.push(received);
        }
        Ok(report)
    }

    /// The inspection record of a case, as the station sent it (for the reviewer's screen);
    /// `None` when the case is not an inspection record. Only for those who may see the case.
    pub async fn inspection_record(&self, actor: &Actor, id: CaseId) -> Result<Option<InspectionRecord>, EngineError> {
        let view = self.case_view(actor, id).await?;
        Ok(match view.case.fields.get("record") {
            Some(fq_domain::programme::FieldValue::Json(value)) => serde_json::from_value(value.clone()).ok(),
            _ => None,
        })
    }
}

fn received(view: &CaseView, record_id: String, review: Review, waiting: Option<String>) -> Received {
    Received {
        number: view.case.number.clone(),
        record_id,
        assigned: view.case.person.map(|p| p.to_string()),
        state: view.case.state.clone(),
        review,
        waiting,
    }
}
