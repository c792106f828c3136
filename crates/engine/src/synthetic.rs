//! Synthetic cases in bulk, for benchmarks on a scratch database: decided by the real domain
//! code (so their events, snapshots and rows are what real cases have), committed thousands per
//! change. Titles start with 【基准】 so that nobody mistakes them for real or demo cases.

use std::collections::BTreeMap;

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::case::{Case, CaseId, DecideEnv, NewCase, decide_create};
use fq_domain::region::RegionLevel;
use fq_store::Change;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::Engine;
use crate::cases::{case_change_for_bench, next_number_for_bench};
use crate::error::EngineError;

/// Cases per commit.
const BATCH: usize = 2_000;

impl Engine {
    /// Opens `count` synthetic cases of the demo programme's dispute kind, spread over every
    /// active town of the division tree and over the past year. `progress` is told the running
    /// total after each commit.
    pub async fn seed_synthetic_cases(&self, count: usize, mut progress: impl FnMut(usize)) -> Result<usize, EngineError> {
        let programme = self
            .programmes
            .get("demo")
            .cloned()
            .ok_or_else(|| EngineError::field("programme_unknown", "programme", "the demo programme is not installed"))?;
        let towns: Vec<_> = self
            .store
            .regions_all()
            .await?
            .into_iter()
            .filter(|r| !r.retired && r.level() == RegionLevel::Town)
            .map(|r| r.code)
            .collect();
        if towns.is_empty() {
            return Err(EngineError::field("regions_missing", "regions", "import the division tree first"));
        }
        let categories = ["neighbour", "contract", "labour", "marriage_family", "damages", "housing_homestead"];
        let system = Actor::System;
        let orgs = BTreeMap::new();
        let now = self.now();
        let mut done = 0;
        while done < count {
            let mut change = Change::new();
            let end = (done + BATCH).min(count);
            for i in done..end {
                let region = towns[(i * 7919) % towns.len()].clone();
                let opened = now - Duration::minutes(((i * 37) % (365 * 24 * 60)) as i64);
                let number = next_number_for_bench(self, &programme, opened).await?;
                let fields: Map<String, Json> = match json!({
                    "title": format!("【基准】纠纷{i}"),
                    "category": categories[i % categories.len()],
                }) {
                    Json::Object(map) => map,
                    _ => Map::new(),
                };
                let new = NewCase {
                    id: CaseId(Uuid::now_v7()),
                    number: number.text.clone(),
                    kind: "dispute".into(),
                    priority: None,
                    region: region.clone(),
                    grid: None,
                    channel: "hotline".into(),
                    intake_org: None,
                    fields,
                };
                let env = DecideEnv {
                    now: opened,
                    calendar: self.calendars.for_region(&region),
                    seed: i as u64,
                    orgs: &orgs,
                    pools: &[],
                };
                let events = decide_create(&programme, new, &system, &env)?;
                let case = Case::replay(&events).expect("decide_create starts with Created");
                let one = case_change_for_bench(&programme, &case, &events, &number);
                change.expect.extend(one.expect);
                change.ops.extend(one.ops);
                change.events.extend(one.events);
            }
            self.store.commit(change).await?;
            done = end;
            progress(done);
        }
        Ok(done)
    }
}
