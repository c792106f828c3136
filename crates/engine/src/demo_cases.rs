//! Demonstration cases for the demo programme, on real towns of the demo counties: some waiting
//! for intake, some being handled, some closed and rated, opened over the past weeks so that
//! lists, time limits, cards and dashboards have something to show. Every title starts with
//! 【演示】 and every party is called 演示当事人.

use chrono::Duration;
use fq_domain::region::RegionCode;
use serde_json::{Value as Json, json};

use crate::Engine;
use crate::demo_chain::DemoCase;
use crate::error::EngineError;

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

fn fields(title: &str, category: &str, n: usize) -> Json {
    json!({
        "title": format!("【演示】{title}"),
        "category": category,
        "description": "演示数据：由系统生成，不涉及真实人员。",
        "applicant": { "name": format!("演示当事人{}", ["甲", "乙", "丙", "丁"][n % 4]), "role": "申请人", "phone": format!("1380000{:04}", n) },
    })
}

impl Engine {
    /// Opens the demo cases of one county; returns how many.
    pub(crate) async fn seed_demo_cases(&self, county: &RegionCode, per_county: usize) -> Result<usize, EngineError> {
        let cases = (0..per_county)
            .map(|n| {
                let (title, category) = TITLES[n % TITLES.len()];
                let steps = vec![
                    ("accept", json!({}), 2),
                    ("finish", json!({"outcome": "resolved", "note": "经调解双方达成一致（演示）"}), 70),
                    ("confirm", json!({}), 24),
                    ("rate", json!({"rating": 3 + (n % 3), "comment": "演示评价"}), 2),
                ];
                let take = match stage_of(n) {
                    0 => 0,
                    1 => 1,
                    2 => 3,
                    _ => 4,
                };
                DemoCase {
                    fields: fields(title, category, n),
                    channel: ["station", "online", "hotline", "referral"][n % 4],
                    priority: Some(if n % 5 == 0 { "urgent" } else { "normal" }),
                    // Spread over the last six weeks, at office hours.
                    opened_ago: Duration::days((n as i64 * 7 + 3) % 42 + 1) + Duration::hours((n as i64) % 5),
                    steps: steps.into_iter().take(take).collect(),
                }
            })
            .collect();
        self.seed_demo_chain("demo", county, 5, cases).await
    }
}
