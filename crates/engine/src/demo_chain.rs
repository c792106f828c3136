//! Demonstration cases that walk a programme's chain of steps, each stopped at a different step,
//! so that a newcomer finds one case at every step. Used for the financial (`finance`) and
//! maritime (`maritime`) programmes. Titles start with 【演示】; parties are 演示当事人.

use std::sync::Arc;

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use serde_json::{Map, Value as Json};

use crate::error::EngineError;
use crate::{Engine, OpenCase};

/// One demo case: its fields, its channel, and the steps it takes (action, inputs, hours after
/// the step before).
pub(crate) struct DemoCase {
    pub fields: Json,
    pub channel: &'static str,
    pub steps: Vec<(&'static str, Json, i64)>,
}

pub(crate) fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

impl Engine {
    /// Opens `cases` of `programme`'s `dispute` kind in the towns of `county`, each as many days
    /// ago as it needs for its steps, and takes their steps at those times; returns how many.
    pub(crate) async fn seed_demo_chain(
        &self,
        programme: &str,
        county: &RegionCode,
        cases: Vec<DemoCase>,
    ) -> Result<usize, EngineError> {
        if self.programmes.get(programme).is_none() {
            return Ok(0);
        }
        let towns = self.region_children(county).await?;
        if towns.is_empty() {
            return Ok(0);
        }
        let system = Actor::System;
        let real_now = self.now();
        let mut opened = 0;
        for (n, case) in cases.into_iter().enumerate() {
            let town = &towns[n % towns.len().min(4)];
            // The further a case gets, the earlier it was opened.
            let opened_at = real_now - Duration::days(12 + n as i64 * 3) - Duration::hours(n as i64 % 4);
            let at = Arc::new(std::sync::Mutex::new(opened_at));
            let clock = Arc::clone(&at);
            let engine = self.clone().with_clock(Arc::new(move || *clock.lock().expect("demo clock")));
            let request = OpenCase {
                programme: programme.into(),
                kind: "dispute".into(),
                priority: None,
                region: town.code.to_string(),
                grid: None,
                channel: case.channel.into(),
                intake_org: None,
                fields: object(case.fields),
            };
            let id = engine.open_case(&system, request).await?.case.id;
            opened += 1;
            for (action, inputs, hours) in case.steps {
                let next = *at.lock().expect("demo clock") + Duration::hours(hours);
                if next > real_now {
                    break;
                }
                *at.lock().expect("demo clock") = next;
                // A step that cannot be taken (nobody to draw) ends the story.
                if engine.act_on_case(&system, id, action, object(inputs), None).await.is_err() {
                    break;
                }
            }
        }
        Ok(opened)
    }
}
