//! Demonstration cases for the demo programme, on real towns of the demo counties: some waiting
//! for intake, some being handled, some closed and rated, opened over the past weeks so that
//! lists, time limits, cards and dashboards have something to show. Every title starts with
//! 【演示】 and every party is called 演示当事人.

use std::sync::Arc;

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use serde_json::{Map, Value as Json, json};

use crate::error::EngineError;
use crate::{Engine, OpenCase};

const TITLES: [(&str, &str); 12] = [
    ("邻里漏水纠纷", "neighbour"),
    ("宅基地边界争议", "housing_homestead"),
    ("装修噪音扰民", "neighbour"),
    ("劳务费拖欠", "labour"),
    ("婚后财产分割", "marriage_family"),
    ("山林承包界址争议", "forest_land"),
    ("交通事故赔偿", "damages"),
    ("租赁合同押金退还", "contract"),
    ("养殖场气味影响", "business"),
    ("赡养费给付", "marriage_family"),
    ("物业费收取争议", "contract"),
    ("工伤赔偿协商", "labour"),
];

/// How far each demo case gets: 0 waits for intake, 1 is being handled, 2 is closed, 3 is
/// closed and rated.
fn stage_of(n: usize) -> usize {
    [1, 3, 0, 1, 2, 3, 1, 3, 2, 1, 3, 0][n % 12]
}

fn fields(title: &str, category: &str, n: usize) -> Map<String, Json> {
    let value = json!({
        "title": format!("【演示】{title}"),
        "category": category,
        "description": "演示数据：由系统生成，不涉及真实人员。",
        "applicant": { "name": format!("演示当事人{}", ["甲", "乙", "丙", "丁"][n % 4]), "role": "申请人", "phone": format!("1380000{:04}", n) },
    });
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

impl Engine {
    /// Opens the demo cases of one county; returns how many.
    pub(crate) async fn seed_demo_cases(&self, county: &RegionCode, per_county: usize) -> Result<usize, EngineError> {
        if self.programmes.get("demo").is_none() {
            return Ok(0);
        }
        let towns = self.region_children(county).await?;
        if towns.is_empty() {
            return Ok(0);
        }
        let system = Actor::System;
        let real_now = self.now();
        let mut opened = 0;
        for n in 0..per_county {
            let (title, category) = TITLES[n % TITLES.len()];
            let town = &towns[n % towns.len().min(5)];
            // Spread over the last six weeks, at office hours.
            let opened_at = real_now - Duration::days((n as i64 * 7 + 3) % 42 + 1) - Duration::hours((n as i64) % 5);
            let at = Arc::new(std::sync::Mutex::new(opened_at));
            let clock = Arc::clone(&at);
            let engine = self.clone().with_clock(Arc::new(move || *clock.lock().expect("demo clock")));
            let request = OpenCase {
                programme: "demo".into(),
                kind: "dispute".into(),
                priority: Some(if n % 5 == 0 { "urgent" } else { "normal" }.into()),
                region: town.code.to_string(),
                grid: None,
                channel: ["station", "online", "hotline", "referral"][n % 4].into(),
                intake_org: None,
                fields: fields(title, category, n),
            };
            let id = engine.open_case(&system, request).await?.case.id;
            opened += 1;
            let stage = stage_of(n);
            let steps: &[(&str, Json, i64)] = &[
                ("accept", json!({}), 2),
                ("finish", json!({"outcome": "resolved", "note": "经调解双方达成一致（演示）"}), 70),
                ("confirm", json!({}), 24),
                ("rate", json!({"rating": 3 + (n % 3), "comment": "演示评价"}), 2),
            ];
            let take = match stage {
                0 => 0,
                1 => 1,
                2 => 3,
                _ => 4,
            };
            for (action, inputs, hours) in steps.iter().take(take) {
                let next = *at.lock().expect("demo clock") + Duration::hours(*hours);
                if next > real_now {
                    break;
                }
                *at.lock().expect("demo clock") = next;
                let inputs = match inputs {
                    Json::Object(map) => map.clone(),
                    _ => Map::new(),
                };
                // A demo case whose dispatch finds nobody stays where it is.
                if engine.act_on_case(&system, id, action, inputs, None).await.is_err() {
                    break;
                }
            }
        }
        Ok(opened)
    }
}
