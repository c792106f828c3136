//! Demonstration cases for the financial-dispute programme (`finance`) in one demo county: one
//! at each step of the mechanism chain (waiting for intake, with the institution, in mediation, on
//! the small-claim fast track, agreed, in judicial confirmation, performed and closed).

use fq_domain::region::RegionCode;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::Engine;
use crate::demo_chain::{DemoCase, chain_opened_ago};
use crate::error::EngineError;

/// Title, category, amount in yuan, and how many steps of [`steps`] the case takes.
const CASES: [(&str, &str, u32, usize); 7] = [
    ("信用卡分期手续费争议", "credit_card", 1_800, 0),
    ("保险理赔金额争议", "insurance_claim", 26_000, 1),
    ("理财产品销售误导", "mis_selling", 48_000, 2),
    ("银行卡被盗刷赔付", "bank_card", 3_200, 3),
    ("个人贷款提前还款违约金", "personal_loan", 9_500, 4),
    ("网络借贷催收投诉", "collection", 12_000, 3),
    ("退保金额争议", "surrender", 15_600, 7),
];

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
    let agreed = if small { amount } else { amount * 3 / 4 };
    steps.push(("record_payout", json!({"paid_amount": agreed, "paid_on": "2026-11-01"}), 96));
    steps.push(("record_performance", json!({"performed": true}), 24));
    steps
}

impl Engine {
    /// Opens the demo financial disputes of `county`, with `bank` (named `bank_name`) as the
    /// respondent institution; returns how many.
    pub(crate) async fn seed_demo_finance_cases(
        &self,
        county: &RegionCode,
        bank: Uuid,
        bank_name: &str,
    ) -> Result<usize, EngineError> {
        let cases = CASES
            .iter()
            .enumerate()
            .map(|(n, &(title, category, amount, take))| DemoCase {
                fields: json!({
                    "title": format!("【演示】{title}"),
                    "category": category,
                    "amount": amount,
                    "institution_name": bank_name,
                    "description": "演示数据：由系统生成，不涉及真实人员和机构。",
                    "applicant": { "name": format!("演示当事人{}", ["甲", "乙", "丙", "丁"][n % 4]), "role": "申请人", "phone": format!("1380001{n:04}") },
                }),
                channel: ["station", "shared_court", "online", "hotline"][n % 4],
                priority: None,
                opened_ago: chain_opened_ago(n),
                steps: steps(bank, amount, amount <= 5_000).into_iter().take(take).collect(),
            })
            .collect();
        self.seed_demo_chain("finance", county, 4, cases).await
    }
}
