//! Safety coins (平安金币): a resident's ledger in the `coins` programme, kept per county. Each
//! entry is a case (so the ledger is the journal); the rule sets the coins earned; a redemption
//! is refused when the balance does not cover it (one at a time in this process; across
//! processes on one database, each commits against the length of the resident's ledger stream,
//! read before the balance, so two redemptions cannot both spend the same coins, nor two awards
//! pay one case twice); a reversed entry stops counting, and reversing an award already spent
//! leaves the balance negative (a debt). Who may write a ledger is checked before any of it is
//! read; an award on a case names a case of the ledger's county.

use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::journal::NewEvent;
use fq_domain::programme::{FieldValue, Party, valid_id_number};
use fq_domain::region::RegionCode;
use fq_store::{CaseFilter, Expectation, StoreError};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::Engine;
use crate::access::{may, reads_programme};
use crate::cases::{CaseView, OpenCase};
use crate::error::EngineError;

/// Coins earned by rule [I: local schemes differ].
pub const RULES: [(&str, i64); 5] =
    [("valid_report", 10), ("risk_confirmed", 30), ("patrol", 20), ("mediation_help", 30), ("volunteer", 10)];
/// Rules that spend coins.
pub const REDEMPTIONS: [&str; 2] = ["redeem_goods", "redeem_service"];
/// Rules earned on a case (the risk report confirmed, the mediation helped): the award names it.
pub const CASE_RULES: [&str; 2] = ["risk_confirmed", "mediation_help"];
/// The longest note an entry keeps (its title on the ledger).
pub const NOTE_CHARS: usize = 200;
/// Times a guarded entry (a redemption, an award on a case) reads the ledger again when another
/// process recorded an entry meanwhile.
const LEDGER_RETRIES: usize = 5;

/// The stream a resident's redemptions and awards on a case in a county are committed against
/// (named by a hash of the ID number: the journal's stream names are listed to auditors, the ID
/// number is not).
fn ledger_stream(county: &RegionCode, id_number: &str) -> String {
    let hash = blake3::hash(id_number.to_uppercase().as_bytes()).to_hex();
    format!("coins:{county}:{}", &hash[..32])
}

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
#[derive(Clone, Copy)]
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

/// The ledger of a resident's entries (by time): a reversed entry stops counting.
fn ledger_of(cases: &[Case]) -> CoinLedger {
    let entries: Vec<CoinEntry> = cases
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
    CoinLedger { balance: earned - spent, earned, spent, entries }
}

/// A note longer than the ledger keeps is refused, not cut: what was written is what is kept.
fn valid_note(note: &str) -> Result<(), EngineError> {
    if note.trim().chars().count() > NOTE_CHARS {
        return Err(EngineError::field("note_too_long", "note", format!("a note is at most {NOTE_CHARS} characters")));
    }
    Ok(())
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
        Ok(ledger_of(&self.coin_cases(region, id_number).await?))
    }

    /// Opens the entry in `county`'s ledger (committed with `guard` when given).
    async fn coin_entry(
        &self,
        actor: &Actor,
        county: &RegionCode,
        resident: &Party,
        line: Line<'_>,
        guard: Option<(Expectation, NewEvent)>,
    ) -> Result<CaseView, EngineError> {
        let Line { rule, coins, note, source } = line;
        let mut fields: Map<String, Json> = Map::new();
        let title = if note.trim().is_empty() { rule.to_owned() } else { note.trim().to_owned() };
        fields.insert("title".into(), Json::from(title));
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
            region: county.to_string(),
            grid: None,
            channel: "coin_rule".into(),
            intake_org: None,
            fields,
        };
        self.open_case_guarded(actor, request, guard).await
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
        let county = self.writable_ledger(actor, region).await?;
        let id = resident_id(resident)?;
        let (_, coins) = RULES
            .iter()
            .find(|(code, _)| *code == rule)
            .ok_or_else(|| EngineError::field("coin_rule_unknown", "rule", format!("{rule} is not a rule that earns coins")))?;
        valid_note(note)?;
        let source = source.map(str::trim).filter(|s| !s.is_empty());
        if source.is_none() && CASE_RULES.contains(&rule) {
            return Err(EngineError::field("source_required", "source", format!("{rule} is earned on a case: name its number")));
        }
        // One award of a rule for one case: the same help in the same mediation is not paid twice.
        if let Some(asked) = source {
            let source = &self.source_case(&county, asked).await?;
            let unpaid = |cases: &[Case]| {
                let paid = cases.iter().any(|c| {
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
                Ok(())
            };
            let line = Line { rule, coins: *coins, note, source: Some(source) };
            return self.guarded_entry(actor, (&county, &id), resident, line, unpaid).await;
        }
        self.coin_entry(actor, &county, resident, Line { rule, coins: *coins, note, source: None }, None).await
    }

    /// Records `line` in the resident's ledger once `check` passes on their entries. One at a
    /// time in this process; across processes sharing a database, the entries are read after
    /// the length of the ledger's stream and the entry is committed against it: one that another
    /// process recorded meanwhile has moved it, and the entries are read and checked again.
    async fn guarded_entry(
        &self,
        actor: &Actor,
        (county, id): (&RegionCode, &str),
        resident: &Party,
        line: Line<'_>,
        check: impl Fn(&[Case]) -> Result<(), EngineError>,
    ) -> Result<CaseView, EngineError> {
        let stream = ledger_stream(county, id);
        let _one_at_a_time = self.coins_lock.lock().await;
        for _ in 0..LEDGER_RETRIES {
            let version = self.store.stream_events(&stream).await?.len() as u64;
            check(&self.coin_cases(county, id).await?)?;
            let entered = NewEvent::new(
                stream.clone(),
                "coins.entered",
                actor.journal_name(),
                json!({ "county": county.as_str(), "rule": line.rule, "coins": line.coins }),
            );
            let guard = (Expectation::StreamVersion { stream: stream.clone(), version }, entered);
            match self.coin_entry(actor, county, resident, line, Some(guard)).await {
                Err(EngineError::Store(StoreError::StreamMoved { .. })) => {}
                done => return done,
            }
        }
        Err(EngineError::Refused {
            code: "coins_busy",
            field: None,
            message: "the ledger changed at every try: try again".into(),
        })
    }

    /// True if `actor` may record awards and redemptions in `county`'s ledgers (the entry kind's
    /// intake roles over it): the console shows its forms only then.
    pub fn writes_coin_ledgers(&self, actor: &Actor, county: &RegionCode) -> bool {
        let Ok(programme) = self.programme("coins") else { return false };
        let roles = programme.kind("entry").map(|k| k.intake_roles.as_slice()).unwrap_or_default();
        roles.iter().any(|role| may(actor, role.as_str(), county, None))
    }

    /// The county of the ledger `region` names, when `actor` may write entries there (the entry
    /// kind's intake roles over the county). Checked before any entry is read, so that a refusal
    /// says nothing about a resident's ledger.
    async fn writable_ledger(&self, actor: &Actor, region: &str) -> Result<RegionCode, EngineError> {
        let code = RegionCode::parse(region).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
        let county = ledger_county(&code)?;
        self.known_region(&county, "region").await?;
        if self.writes_coin_ledgers(actor, &county) {
            Ok(county)
        } else {
            Err(EngineError::forbidden(format!("recording coins in {county} is outside your roles or scope")))
        }
    }

    /// The number of the case an award is earned on, as the register writes it: a case of the
    /// ledger's county. One unknown and one in another county are refused alike, so that the
    /// refusal says nothing about other counties' cases.
    async fn source_case(&self, county: &RegionCode, asked: &str) -> Result<String, EngineError> {
        let unknown = || EngineError::field("source_case_unknown", "source", format!("{asked} is not a case number of {county}"));
        // Numbers are written in capitals (YS2026-000001); one typed in small letters is the same.
        let id = match self.store.case_id_by_number(asked).await? {
            Some(id) => Some(id),
            None => self.store.case_id_by_number(&asked.to_uppercase()).await?,
        };
        let Some(id) = id else { return Err(unknown()) };
        let case = self.load_case(id).await?;
        if !county.contains(&case.region) {
            return Err(unknown());
        }
        Ok(case.number)
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
        let county = self.writable_ledger(actor, region).await?;
        let id = resident_id(resident)?;
        if !REDEMPTIONS.contains(&rule) {
            return Err(EngineError::field("coin_rule_unknown", "rule", format!("{rule} is not a redemption")));
        }
        if !(1..=10_000).contains(&coins) {
            return Err(EngineError::field("coins_invalid", "coins", "a redemption spends 1 to 10,000 coins"));
        }
        valid_note(note)?;
        let covered = |cases: &[Case]| {
            let balance = ledger_of(cases).balance;
            if balance < coins {
                return Err(EngineError::Refused {
                    code: "coins_insufficient",
                    field: Some("coins".into()),
                    message: format!("the balance is {balance} coins, {coins} asked"),
                });
            }
            Ok(())
        };
        let line = Line { rule, coins: -coins, note, source: None };
        self.guarded_entry(actor, (&county, &id), resident, line, covered).await
    }
}
