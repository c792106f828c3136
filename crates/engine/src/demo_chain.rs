//! Demonstration cases that walk a programme's chain of steps, each stopped at a different step,
//! so that a newcomer finds one case at every step. Used for the demo, financial (`finance`) and
//! maritime (`maritime`) programmes. Titles start with 【演示】; parties are 演示当事人.

use std::sync::Arc;

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use serde_json::{Map, Value as Json};

use crate::error::EngineError;
use crate::{Engine, OpenCase};

/// One demo case: its fields, channel and priority, how long ago it was opened, and the steps it
/// takes (action, inputs, hours after the step before).
pub(crate) struct DemoCase {
    pub fields: Json,
    pub channel: &'static str,
    pub priority: Option<&'static str>,
    pub opened_ago: Duration,
    pub steps: Vec<(&'static str, Json, i64)>,
}

/// How long ago the `n`th case of a chain is opened when the further cases get the earlier they
/// start (the finance and maritime chains).
pub(crate) fn chain_opened_ago(n: usize) -> Duration {
    Duration::days(12 + n as i64 * 3) + Duration::hours(n as i64 % 4)
}

pub(crate) fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

impl Engine {
    /// Opens `cases` of `programme`'s `dispute` kind in the first `town_spread` towns of
    /// `county`, each at its own time, and takes their steps at those times (a step that would
    /// fall in the future is not taken); returns how many.
    pub(crate) async fn seed_demo_chain(
        &self,
        programme: &str,
        county: &RegionCode,
        town_spread: usize,
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
        let with_location = self
            .programmes
            .get(programme)
            .and_then(|p| p.kind("dispute"))
            .is_some_and(|k| k.fields.iter().any(|f| f.code == "location"));
        let mut opened = 0;
        for (n, case) in cases.into_iter().enumerate() {
            let town = &towns[n % towns.len().min(town_spread)];
            let at = Arc::new(std::sync::Mutex::new(real_now - case.opened_ago));
            let clock = Arc::clone(&at);
            let engine = self.clone().with_clock(Arc::new(move || *clock.lock().expect("demo clock")));
            // Where it happened: in one of the town's (generated) grids, near its middle, so that
            // the heat map has points; labelled demo like the case.
            let mut fields = object(case.fields);
            let mut grid = None;
            if with_location {
                let grids = self.store.grids_within(&town.code).await?;
                if let Some(g) = grids.get((n * 7) % grids.len().max(1)) {
                    use geo::{Centroid, Contains};
                    if let Some(c) = g.area.centroid() {
                        let nudge = |k: usize| ((n * k) % 9) as f64 / 9.0 - 0.45;
                        let near = geo::Point::new(c.x() + nudge(3) * 0.004, c.y() + nudge(5) * 0.003);
                        let point = if g.area.contains(&near) { near } else { c };
                        fields.insert("location".into(), serde_json::json!({ "lon": point.x(), "lat": point.y() }));
                        grid = Some(g.code.to_string());
                    }
                }
            }
            let request = OpenCase {
                programme: programme.into(),
                kind: "dispute".into(),
                priority: case.priority.map(str::to_owned),
                region: town.code.to_string(),
                grid,
                channel: case.channel.into(),
                intake_org: None,
                fields,
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
