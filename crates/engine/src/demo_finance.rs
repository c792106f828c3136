//! Demonstration cases for the financial-dispute programme (`finance`) in one demo county: one
//! at each step of the mechanism chain (waiting for intake, with the institution, in mediation, on
//! the small-claim fast track, agreed, in judicial confirmation, performed and closed), so that a
//! newcomer can click through every step. Titles start with 【演示】; parties are 演示当事人.

use std::sync::Arc;

use chrono::Duration;
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::error::EngineError;
use crate::{Engine, OpenCase};

/// Title, category, amount in yuan, and how many steps of [`steps`] the case takes.
const CASES: [(&str, &str, u32, usize); 7] = [
    ("信用卡分期手续费争议", "credit_card", 1_800, 0),
    ("保险理赔金额争议", "insurance_claim", 26_000, 1),
    ("理财产品销售误导", "mis_selling", 48_000, 2),
    ("银行卡被盗刷赔付", "bank_card", 3_200, 3),
    ("个人贷款提前还款违约金", "personal_loan", 9_500, 4),
    ("网络借贷催收投诉", "collection", 12_000, 3),
    ("退保金额争议", "surrender", 15_600, 6),
];

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// The chain, in order: each step is an action, its inputs and the hours after the step before.
fn steps(bank: Uuid, amount: u32, small: bool) -> Vec<(&'static str, Json, i64)> {
    let mut steps = vec![
        ("accept", json!({"to_unit": bank}), 3),
        ("to_mediation", json!({"reason": "机构处理未果，申请人不接受（演示）"}), 72),
    ];
    if small {
        steps.push(("fast_track", json!({}), 20));
        steps.push(("accept_opinion", json!({"agreed_amount": amount, "performance_due": "2026-12-31"}), 48));
    } else {
        steps.push(("record_agreement", json!({"agreed_amount": amount * 3 / 4, "performance_due": "2026-12-31"}), 96));
    }
    steps.push(("apply_confirmation", json!({}), 24));
    steps.push(("confirm_valid", json!({"ruling_number": "（2026）浙1004民特演示号"}), 72));
    steps.push(("record_performance", json!({"performed": true}), 120));
    steps
}

impl Engine {
    /// Opens the demo financial disputes of `county`, with `bank` as the respondent institution;
    /// returns how many.
    pub(crate) async fn seed_demo_finance_cases(&self, county: &RegionCode, bank: Uuid) -> Result<usize, EngineError> {
        if self.programmes.get("finance").is_none() {
            return Ok(0);
        }
        let towns = self.region_children(county).await?;
        if towns.is_empty() {
            return Ok(0);
        }
        let system = Actor::System;
        let real_now = self.now();
        let mut opened = 0;
        for (n, (title, category, amount, take)) in CASES.into_iter().enumerate() {
            let town = &towns[n % towns.len().min(4)];
            // The further a case gets, the earlier it was opened (the last one, 30 days ago).
            let opened_at = real_now - Duration::days(12 + n as i64 * 3) - Duration::hours(n as i64 % 4);
            let at = Arc::new(std::sync::Mutex::new(opened_at));
            let clock = Arc::clone(&at);
            let engine = self.clone().with_clock(Arc::new(move || *clock.lock().expect("demo clock")));
            let request = OpenCase {
                programme: "finance".into(),
                kind: "dispute".into(),
                priority: None,
                region: town.code.to_string(),
                grid: None,
                channel: ["station", "shared_court", "online", "hotline"][n % 4].into(),
                intake_org: None,
                fields: object(json!({
                    "title": format!("【演示】{title}"),
                    "category": category,
                    "amount": amount,
                    "institution_name": "【演示】某银行路桥区支行",
                    "description": "演示数据：由系统生成，不涉及真实人员和机构。",
                    "applicant": { "name": format!("演示当事人{}", ["甲", "乙", "丙", "丁"][n % 4]), "role": "申请人", "phone": format!("1380001{n:04}") },
                })),
            };
            let id = engine.open_case(&system, request).await?.case.id;
            opened += 1;
            for (action, inputs, hours) in steps(bank, amount, amount <= 5_000).into_iter().take(take) {
                let next = *at.lock().expect("demo clock") + Duration::hours(hours);
                if next > real_now {
                    break;
                }
                *at.lock().expect("demo clock") = next;
                // A step that cannot be taken (no mediation committee found) ends the story.
                if engine.act_on_case(&system, id, action, object(inputs), None).await.is_err() {
                    break;
                }
            }
        }
        Ok(opened)
    }
}
