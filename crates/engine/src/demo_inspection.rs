//! Demo inspection records (labelled 【演示】) for the vehicle-inspection review in 金华: a
//! station in 婺城区 registers them and submits them, and the engine draws their reviewers.

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::calendar::beijing;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::Engine;
use crate::cases::OpenCase;
use crate::error::EngineError;

/// Demo records submitted for review.
const RECORDS: usize = 6;

impl Engine {
    pub(crate) async fn seed_demo_inspection_records(&self, station: Uuid) -> Result<usize, EngineError> {
        let system = Actor::System;
        let classes = ["k33", "k33", "h31", "k33", "h11", "k33"];
        for (i, class) in classes.iter().enumerate().take(RECORDS) {
            let inspected = (self.now() - Duration::hours(2 + i as i64)).with_timezone(&beijing());
            let fields = match json!({
                "title": format!("【演示】浙G{:05}", 20_000 + i),
                "vin": "LSVAU2180N2183294",
                "vehicle_class": class,
                "station_code": "330702-S01",
                "inspected_at": inspected.format("%Y-%m-%dT%H:%M").to_string(),
            }) {
                Json::Object(map) => map,
                _ => serde_json::Map::new(),
            };
            let request = OpenCase {
                programme: "inspection".into(),
                kind: "record".into(),
                priority: None,
                region: "330702".into(),
                grid: None,
                channel: "station_push".into(),
                intake_org: Some(station),
                fields,
            };
            let opened = self.open_case(&system, request).await?;
            self.act_on_case(&system, opened.case.id, "submit", serde_json::Map::new(), None).await?;
        }
        Ok(RECORDS)
    }
}
