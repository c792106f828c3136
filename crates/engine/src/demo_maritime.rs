//! Demonstration cases for the maritime-dispute programme (`maritime`) in one demo county: one at
//! each step (waiting for intake, in mediation with a session held at sea entered later, agreed,
//! in judicial confirmation, performed and closed, sent to labour arbitration).

use chrono::Duration;
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use serde_json::{Value as Json, json};

use crate::Engine;
use crate::demo_chain::{DemoCase, chain_opened_ago};
use crate::error::EngineError;

/// Title, category, vessel, amount in yuan, and how many steps of [`steps`] the case takes.
const CASES: [(&str, &str, &str, u32, usize); 6] = [
    ("船员工资拖欠", "crew_pay", "浙普渔演示01", 36_000, 0),
    ("网具被拖坏赔偿", "gear", "浙普渔演示02", 18_000, 2),
    ("渔船碰撞维修费用分担", "collision_fishing", "浙普渔演示03", 85_000, 3),
    ("作业受伤赔偿", "work_injury", "浙普渔演示04", 120_000, 4),
    ("渔获分配争议", "catch", "浙普渔演示05", 9_000, 6),
    ("预支工资后未上船", "crew_advance", "浙普渔演示06", 15_000, 5),
];

/// The chain: accept, a session held at sea (entered on return), agreement, confirmation,
/// performance; the last case instead goes to labour arbitration after its session.
fn steps(amount: u32, arbitration: bool, held_at: &str) -> Vec<(&'static str, Json, i64)> {
    let mut steps = vec![
        ("accept", json!({}), 3),
        (
            "record_session",
            json!({"held_at": held_at, "method": "at_sea", "participants": "调解员、船东、船员代表（演示）", "summary": "海上现场调解（演示）"}),
            60,
        ),
    ];
    if arbitration {
        steps.push((
            "transfer_out",
            json!({"route": "labour_arbitration", "reason": "未上船的劳动争议由劳动仲裁处理（演示）"}),
            24,
        ));
        return steps;
    }
    steps.push(("record_agreement", json!({"agreed_amount": amount * 4 / 5, "performance_due": "2026-12-31"}), 24));
    steps.push(("apply_confirmation", json!({}), 24));
    steps.push(("confirm_valid", json!({"ruling_number": "（2026）浙72民特演示号"}), 72));
    steps.push(("record_performance", json!({"performed": true}), 120));
    steps
}

impl Engine {
    /// Opens the demo maritime disputes of `county`; returns how many.
    pub(crate) async fn seed_demo_maritime_cases(&self, county: &RegionCode) -> Result<usize, EngineError> {
        let now = self.now();
        let cases = CASES
            .iter()
            .enumerate()
            .map(|(n, &(title, category, vessel, amount, take))| {
                // Held at sea a day after the case was opened, entered on return two days later.
                let opened_ago = chain_opened_ago(n);
                let held_at =
                    (now - opened_ago + Duration::hours(27)).with_timezone(&beijing()).format("%Y-%m-%dT%H:%M").to_string();
                DemoCase {
                    fields: json!({
                        "title": format!("【演示】{title}"),
                        "category": category,
                        "vessel_name": vessel,
                        "port_of_registry": "沈家门（演示）",
                        "amount": amount,
                        "description": "演示数据：由系统生成，不涉及真实人员和船舶。",
                        "applicant": { "name": format!("演示当事人{}", ["甲", "乙", "丙", "丁"][n % 4]), "role": "申请人", "phone": format!("1380002{n:04}") },
                    }),
                    channel: ["station", "hotline", "shared_court", "online"][n % 4],
                    priority: None,
                    opened_ago,
                    steps: steps(amount, category == "crew_advance", &held_at).into_iter().take(take).collect(),
                }
            })
            .collect();
        self.seed_demo_chain("maritime", county, 4, cases).await
    }
}
