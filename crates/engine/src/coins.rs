//! Safety coins (平安金币): a resident's ledger in the `coins` programme, kept per county. Each
//! entry is a case (so the ledger is the journal); the rule sets the coins earned; a redemption
//! is refused when the balance does not cover it (one at a time in this process, so two
//! redemptions cannot both spend the same coins; several server processes on one PostgreSQL
//! database could, which needs a database-level guard: not built); a reversed entry stops
//! counting, and reversing an award already spent leaves the balance negative (a debt).

use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::programme::{FieldValue, Party, valid_id_number};
use fq_domain::region::RegionCode;
use fq_store::CaseFilter;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::Engine;
use crate::access::reads_programme;
use crate::cases::{CaseView, OpenCase};
use crate::error::EngineError;

/// Coins earned by rule [I: local schemes differ].
pub const RULES: [(&str, i64); 5] =
    [("valid_report", 10), ("risk_confirmed", 30), ("patrol", 20), ("mediation_help", 30), ("volunteer", 10)];
/// Rules that spend coins.
pub const REDEMPTIONS: [&str; 2] = ["redeem_goods", "redeem_service"];

/// One line of a resident's ledger.
#[derive(Debug, Clone, Serialize)]
pub struct CoinEntry {
    pub number: String,
    pub rule: String,
    pub coins: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub counted: bool,
    pub title: String,
}

/// A resident's ledger in a region.
#[derive(Debug, Clone, Serialize)]
pub struct CoinLedger {
    pub balance: i64,
    pub earned: i64,
    pub spent: i64,
    pub entries: Vec<CoinEntry>,
}

/// What one ledger entry records.
struct Line<'a> {
    rule: &'a str,
    coins: i64,
    note: &'a str,
    source: Option<&'a str>,
}

/// The county a ledger is kept in: entries are stored and balances read at the county, so a
/// balance cannot be spent twice by naming a town and then a village.
fn ledger_county(region: &RegionCode) -> Result<RegionCode, EngineError> {
    region.at_level(fq_domain::region::RegionLevel::County).ok_or_else(|| {
        EngineError::field("region_not_county", "region", format!("coin ledgers are kept per county; {region} is above one"))
    })
}

fn resident_id(party: &Party) -> Result<String, EngineError> {
    party.id_number.as_deref().filter(|id| valid_id_number(id)).map(str::to_uppercase).ok_or_else(|| {
        EngineError::field("resident_id_required", "resident.id_number", "a resident's ledger is kept by a valid ID number")
    })
}

impl Engine {
    async fn coin_cases(&self, region: &RegionCode, id_number: &str) -> Result<Vec<Case>, EngineError> {
        let filter = CaseFilter {
            programme: Some("coins".into()),
            kind: Some("entry".into()),
            regions: vec![region.clone()],
            ..CaseFilter::default()
        };
        let mut out = Vec::new();
        for case in self.cases_matching(&filter).await? {
            let same = matches!(case.fields.get("resident"), Some(FieldValue::Party(p))
                if p.id_number.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(id_number)));
            if same {
                out.push(case);
            }
        }
        out.sort_by_key(|c| c.opened_at);
        Ok(out)
    }

    /// The ledger of the resident with `id_number` in `region`.
    pub async fn coin_ledger(&self, actor: &Actor, region: &RegionCode, id_number: &str) -> Result<CoinLedger, EngineError> {
        let region = &ledger_county(region)?;
        if !valid_id_number(id_number) {
            return Err(EngineError::field(
                "resident_id_required",
                "id_number",
                "a resident's ledger is kept by a valid ID number",
            ));
        }
        let programme = self.programme("coins")?;
        if !reads_programme(actor, &programme, region) {
            return Err(EngineError::forbidden(format!("the coin ledgers of {region} are outside your scope")));
        }
        let entries: Vec<CoinEntry> = self
            .coin_cases(region, id_number)
            .await?
            .iter()
            .map(|c| CoinEntry {
                number: c.number.clone(),
                rule: match c.fields.get("coin_rule") {
                    Some(FieldValue::Enum(r)) => r.clone(),
                    _ => String::new(),
                },
                coins: match c.fields.get("coins") {
                    Some(FieldValue::Number(n)) => *n as i64,
                    _ => 0,
                },
                at: c.opened_at,
                counted: c.state == "counted",
                title: match c.fields.get("title") {
                    Some(FieldValue::Text(t)) => t.clone(),
                    _ => String::new(),
                },
            })
            .collect();
        let counted = entries.iter().filter(|e| e.counted);
        let earned = counted.clone().filter(|e| e.coins > 0).map(|e| e.coins).sum();
        let spent = -counted.filter(|e| e.coins < 0).map(|e| e.coins).sum::<i64>();
        Ok(CoinLedger { balance: earned - spent, earned, spent, entries })
    }

    async fn coin_entry(&self, actor: &Actor, region: &str, resident: &Party, line: Line<'_>) -> Result<CaseView, EngineError> {
        let Line { rule, coins, note, source } = line;
        let code = RegionCode::parse(region).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
        let region = ledger_county(&code)?.to_string();
        let mut fields: Map<String, Json> = Map::new();
        let title = if note.trim().is_empty() { rule.to_owned() } else { note.trim().to_owned() };
        fields.insert("title".into(), Json::from(title.chars().take(200).collect::<String>()));
        fields.insert("resident".into(), json!(resident));
        fields.insert("coin_rule".into(), Json::from(rule));
        fields.insert("coins".into(), Json::from(coins));
        if let Some(source) = source {
            fields.insert("source_case".into(), Json::from(source));
        }
        let request = OpenCase {
            programme: "coins".into(),
            kind: "entry".into(),
            priority: None,
            region,
            grid: None,
            channel: "coin_rule".into(),
            intake_org: None,
            fields,
        };
        self.open_case_as_engine(actor, request).await
    }

    /// Awards a resident the coins of `rule` (for `source`, a case number, when there is one).
    pub async fn award_coins(
        &self,
        actor: &Actor,
        region: &str,
        resident: &Party,
        rule: &str,
        note: &str,
        source: Option<&str>,
    ) -> Result<CaseView, EngineError> {
        let id = resident_id(resident)?;
        let (_, coins) = RULES
            .iter()
            .find(|(code, _)| *code == rule)
            .ok_or_else(|| EngineError::field("coin_rule_unknown", "rule", format!("{rule} is not a rule that earns coins")))?;
        // One award of a rule for one case: the same help in the same mediation is not paid twice.
        if let Some(source) = source.map(str::trim).filter(|s| !s.is_empty()) {
            let code =
                RegionCode::parse(region).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
            let _one_at_a_time = self.coins_lock.lock().await;
            let paid = self.coin_cases(&ledger_county(&code)?, &id).await?.into_iter().any(|c| {
                c.state == "counted"
                    && matches!(c.fields.get("coin_rule"), Some(FieldValue::Enum(r)) if r == rule)
                    && c.text("source_case").is_some_and(|s| s == source)
            });
            if paid {
                return Err(EngineError::Refused {
                    code: "coins_already_awarded",
                    field: Some("source".into()),
                    message: format!("{rule} was already awarded to this resident for {source}"),
                });
            }
            return self.coin_entry(actor, region, resident, Line { rule, coins: *coins, note, source: Some(source) }).await;
        }
        self.coin_entry(actor, region, resident, Line { rule, coins: *coins, note, source }).await
    }

    /// The ledger of the resident of one entry (where the console lands after an award or a
    /// redemption, so that no ID number travels in an address): the entry must be one the actor
    /// sees; the resident comes back as the actor may see them (masked where the role says so).
    pub async fn coin_ledger_of_entry(
        &self,
        actor: &Actor,
        number: &str,
    ) -> Result<(Party, RegionCode, CoinLedger), EngineError> {
        let missing = || EngineError::NotFound { entity: "coin entry", key: number.to_owned() };
        let view = self.find_case(actor, number).await?;
        if view.case.programme != "coins" {
            return Err(missing());
        }
        let case = self.load_case(view.case.id).await?;
        let Some(FieldValue::Party(resident)) = case.fields.get("resident") else { return Err(missing()) };
        let id = resident_id(resident)?;
        let ledger = self.coin_ledger(actor, &case.region, &id).await?;
        let shown = match view.case.fields.get("resident") {
            Some(FieldValue::Party(p)) => p.clone(),
            _ => Party { id_number: None, phone: None, ..resident.clone() },
        };
        Ok((shown, case.region.clone(), ledger))
    }

    /// Spends `coins` of a resident's balance on goods or a service; refused when the balance in
    /// `region` does not cover it.
    pub async fn redeem_coins(
        &self,
        actor: &Actor,
        region: &str,
        resident: &Party,
        rule: &str,
        coins: i64,
        note: &str,
    ) -> Result<CaseView, EngineError> {
        let id = resident_id(resident)?;
        if !REDEMPTIONS.contains(&rule) {
            return Err(EngineError::field("coin_rule_unknown", "rule", format!("{rule} is not a redemption")));
        }
        if !(1..=10_000).contains(&coins) {
            return Err(EngineError::field("coins_invalid", "coins", "a redemption spends 1 to 10,000 coins"));
        }
        let code = RegionCode::parse(region).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
        let _one_at_a_time = self.coins_lock.lock().await;
        let balance = self.coin_ledger(actor, &code, &id).await?.balance;
        if balance < coins {
            return Err(EngineError::Refused {
                code: "coins_insufficient",
                field: Some("coins".into()),
                message: format!("the balance is {balance} coins, {coins} asked"),
            });
        }
        self.coin_entry(actor, region, resident, Line { rule, coins: -coins, note, source: None }).await
    }
}
