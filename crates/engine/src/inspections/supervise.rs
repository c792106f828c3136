//! Supervision of the review: the anomaly checks over a period's records and reviews, each
//! anomaly opening a supervision case (once: a case carries the anomaly's key), and the re-check
//! sample, each drawn record opening a re-check case given to a senior reviewer of another
//! county. Both read the stored cases of one city.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::inspection::{Anomaly, AnomalyKind, InspectionRecord, ReviewDone, anomalies, recheck_sample};
use fq_domain::programme::FieldValue;
use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::city_code;
use crate::Engine;
use crate::error::EngineError;

/// What a supervision or re-check run found and opened.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SupervisionRun {
    pub records: usize,
    pub reviews: usize,
    pub anomalies: Vec<Anomaly>,
    /// Case numbers opened by this run.
    pub opened: Vec<String>,
    /// Found before: their cases are open already.
    pub known: usize,
}

/// A decided review of a record case: the reviewer, the outcome, and the time the last review
/// took (the review clock, from the draw to the decision).
pub(crate) fn review_of(case: &Case) -> Option<ReviewDone> {
    let passed = match case.state.as_str() {
        "passed" => true,
        "rejected" => false,
        _ => return None,
    };
    let clock = case.clocks.get("review")?;
    let seconds = (clock.stopped_at? - clock.started_at).num_seconds().max(0);
    Some(ReviewDone {
        record: case.number.clone(),
        reviewer: case.person?.to_string(),
        passed,
        seconds: u32::try_from(seconds).unwrap_or(u32::MAX),
    })
}

/// The record a case carries, renamed to the case number so that anomalies name cases.
fn record_of(case: &Case) -> Option<InspectionRecord> {
    let Some(FieldValue::Json(value)) = case.fields.get("record") else { return None };
    let mut record: InspectionRecord = serde_json::from_value(value.clone()).ok()?;
    record.id.clone_from(&case.number);
    Some(record)
}

fn anomaly_code(kind: AnomalyKind) -> &'static str {
    match kind {
        AnomalyKind::PassRateHigh => "pass_rate_high",
        AnomalyKind::SameInstrumentValues => "same_instrument_values",
        AnomalyKind::WatermarkOrder => "watermark_order",
        AnomalyKind::ReviewTooFast => "review_too_fast",
    }
}

/// A key that names an anomaly whatever run finds it: its kind, subject and records.
fn anomaly_key(anomaly: &Anomaly) -> String {
    let mut records = anomaly.records.clone();
    records.sort();
    let digest = blake3::hash(records.join(",").as_bytes()).to_hex();
    format!("{}:{}:{}", anomaly_code(anomaly.kind), anomaly.subject, &digest[..16])
}

impl Engine {
    /// Runs the anomaly checks over the records of `city` received in `[from, to)` and opens a
    /// supervision case for each anomaly not found before. `dry_run` opens nothing.
    pub async fn run_inspection_supervision(
        &self,
        actor: &Actor,
        city: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<SupervisionRun, EngineError> {
        let city = city_code(city)?;
        self.check_inspection_oversight(actor, &city)?;
        let cases = self.inspection_cases("record", &city, Some(from), Some(to)).await?;
        let records: Vec<InspectionRecord> = cases.iter().filter_map(record_of).collect();
        let reviews: Vec<ReviewDone> = cases.iter().filter_map(review_of).collect();
        let found = anomalies(&records, &reviews);
        let known: BTreeSet<String> = self
            .inspection_cases("supervision", &city, None, None)
            .await?
            .iter()
            .filter_map(|c| c.text("anomaly_key").map(str::to_owned))
            .collect();
        let mut run = SupervisionRun { records: records.len(), reviews: reviews.len(), ..SupervisionRun::default() };
        for anomaly in &found {
            let key = anomaly_key(anomaly);
            if known.contains(&key) {
                run.known += 1;
                continue;
            }
            if dry_run {
                continue;
            }
            let mut fields = Map::new();
            let title = format!("{}：{}", anomaly_title(anomaly.kind), anomaly.subject);
            fields.insert("title".into(), Json::from(title.chars().take(200).collect::<String>()));
            fields.insert("anomaly".into(), Json::from(anomaly_code(anomaly.kind)));
            fields.insert("subject".into(), Json::from(anomaly.subject.chars().take(80).collect::<String>()));
            fields.insert("detail".into(), Json::from(anomaly.detail.chars().take(1000).collect::<String>()));
            fields.insert("records".into(), Json::from(anomaly.records.iter().take(200).cloned().collect::<Vec<_>>()));
            fields.insert("anomaly_key".into(), Json::from(key));
            let opened = self.open_inspection_case(actor, "supervision", &city.to_string(), "anomaly_check", fields).await?;
            run.opened.push(opened.case.number);
        }
        run.anomalies = found;
        Ok(run)
    }

    /// Draws the re-check sample among the records of `city` received in `[from, to)` and
    /// passed: each with probability `share` by a keyed hash of its number (`key`, published
    /// after the period, fixes the sample). Each drawn record not re-checked before opens a
    /// re-check case, drawn to a senior reviewer of another county.
    pub async fn draw_inspection_rechecks(
        &self,
        actor: &Actor,
        city: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        share: f64,
        key: &str,
    ) -> Result<SupervisionRun, EngineError> {
        let city = city_code(city)?;
        self.check_inspection_oversight(actor, &city)?;
        if !(share > 0.0 && share <= 1.0) {
            return Err(EngineError::field("share_invalid", "share", "the re-check share must be above 0 and at most 1"));
        }
        if key.trim().len() < 8 {
            return Err(EngineError::field("key_too_short", "key", "the sample key needs at least 8 characters"));
        }
        let cases = self.inspection_cases("record", &city, Some(from), Some(to)).await?;
        let by_number: BTreeMap<String, &Case> =
            cases.iter().filter(|c| c.state == "passed").map(|c| (c.number.clone(), c)).collect();
        let passed: Vec<String> = by_number.keys().cloned().collect();
        let known: BTreeSet<String> = self
            .inspection_cases("recheck", &city, None, None)
            .await?
            .iter()
            .filter_map(|c| c.text("record_number").map(str::to_owned))
            .collect();
        let mut run = SupervisionRun { records: cases.len(), reviews: passed.len(), ..SupervisionRun::default() };
        for number in recheck_sample(&passed, share, key) {
            if known.contains(number) {
                run.known += 1;
                continue;
            }
            let case = by_number[number];
            let mut fields = Map::new();
            for code in ["title", "vehicle_class", "station_code"] {
                fields.insert(code.into(), Json::from(case.text(code).unwrap_or_default()));
            }
            fields.insert("record_number".into(), Json::from(number));
            fields.insert("first_reviewer".into(), Json::from(case.person.map(|p| p.to_string()).unwrap_or_default()));
            fields.insert("sample_key".into(), Json::from(key.chars().take(80).collect::<String>()));
            let opened = self.open_inspection_case(actor, "recheck", &case.region.to_string(), "recheck_sample", fields).await?;
            let drawn = self.act_on_case(actor, opened.case.id, "draw", Map::new(), None).await?;
            run.opened.push(drawn.case.number);
        }
        Ok(run)
    }
}

fn anomaly_title(kind: AnomalyKind) -> &'static str {
    match kind {
        AnomalyKind::PassRateHigh => "检验机构通过率明显高于同行",
        AnomalyKind::SameInstrumentValues => "不同车辆仪器检测值相同",
        AnomalyKind::WatermarkOrder => "照片水印时间异常",
        AnomalyKind::ReviewTooFast => "审核用时过短",
    }
}
