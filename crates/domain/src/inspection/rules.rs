//! The unified review standard (统一审核标准) as versioned rule sets: each rule names the item it
//! concerns, a CEL condition over `record` and `facts`, the verdict when it holds, and a reason.
//! A review lists the rules that fired; the record's verdict is the strictest of them (reject
//! over a human look over pass). The shipped set is `data/inspection/rules-v1.toml`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};

use super::record::{InspectionRecord, check_digit};
use crate::programme::{Guard, GuardError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// Needs a human look (无法判定需人工).
    Human,
    Reject,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub code: String,
    /// A photo type code, a manual item code, or a group (`photos`, `process`, `vehicle`).
    pub item: String,
    pub condition: Guard,
    pub verdict: Verdict,
    pub reason: String,
    pub text: String,
    /// Inferred rather than taken from a published table (see the rule file).
    pub inferred: bool,
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub version: u32,
    pub effective_from: NaiveDate,
    pub rules: Vec<Rule>,
}

/// A rule that fired on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fired {
    pub code: String,
    pub item: String,
    pub verdict: Verdict,
    pub reason: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub rule_set: u32,
    pub verdict: Verdict,
    pub fired: Vec<Fired>,
}

/// Why a rule file was refused: the file, the line and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct RuleSetError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    version: u32,
    effective_from: NaiveDate,
    rules: Vec<toml::Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: String,
    item: String,
    condition: String,
    verdict: Verdict,
    reason: String,
    text: String,
    source: String,
}

/// Photos every record must have: the whole-vehicle views, the VIN and the driver's belt; goods
/// vehicles and buses also the axle-1 brake station and the chassis.
fn required_photos(class: u8) -> &'static [&'static str] {
    if class == 0 { &["0111", "0112", "0113", "0157"] } else { &["0111", "0112", "0113", "0157", "0322", "0323"] }
}

/// The "ten-year" rule for passenger cars (domain-rules §2.3): the brake and chassis station
/// photos are needed for a car over ten years old or in commercial use; those absent. (Goods
/// vehicles and buses always need them: `missing_photos`.)
fn station_photos_missing(record: &InspectionRecord, day: NaiveDate) -> Vec<&'static str> {
    let old = record.registered_on.is_some_and(|r| day.years_since(r).unwrap_or(0) >= 10);
    if record.class != 0 || !(old || record.use_type != "A") {
        return Vec::new();
    }
    ["0322", "0323"].into_iter().filter(|kind| !record.photos.iter().any(|p| p.kind == *kind)).collect()
}

/// The ISO 3779 check digit (position 9) of a VIN is right.
fn vin_check_digit_ok(vin: &str) -> bool {
    let chars: Vec<char> = vin.chars().collect();
    chars.len() == 17 && check_digit(&chars) == Some(chars[8])
}

/// Values the rules read besides the record itself (docs/INSPECTION.md lists them).
pub fn facts(record: &InspectionRecord) -> Json {
    let day = record.inspection_started.with_timezone(&crate::calendar::beijing()).date_naive();
    let late = record.inspection_ended + chrono::Duration::minutes(30);
    let missing: Vec<&str> =
        required_photos(record.class).iter().copied().filter(|kind| !record.photos.iter().any(|p| p.kind == *kind)).collect();
    json!({
        "duration_minutes": (record.inspection_ended - record.inspection_started).num_minutes(),
        "photos_before_start": record.photos.iter().filter(|p| p.watermark_at < record.inspection_started).count(),
        "photos_after_end": record.photos.iter().filter(|p| p.watermark_at > late).count(),
        "insurance_covers_inspection": record.insurance.valid_from <= day && day <= record.insurance.valid_to,
        "missing_photos": missing,
        "failed_items": record.items.iter().filter(|i| !i.passed).map(|i| i.code.as_str()).collect::<Vec<_>>(),
        "vin_check_digit_ok": vin_check_digit_ok(&record.vin),
        "age_years": record.registered_on.map_or(0, |r| day.years_since(r).unwrap_or(0)),
        "past_scrap_date": record.scrap_by.is_some_and(|s| s < day),
        "report_on_inspection_day": record.report.as_ref().is_none_or(|r| r.date == day),
        "station_photos_missing": station_photos_missing(record, day),
    })
}

impl RuleSet {
    /// Loads a rule file, compiling every condition; errors name the file and line.
    pub fn load(file: &str, text: &str) -> Result<RuleSet, RuleSetError> {
        let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawSet = toml::from_str(text).map_err(|e| RuleSetError {
            file: file.to_owned(),
            line: e.span().map_or(1, |s| line(s.start)),
            reason: e.message().to_owned(),
        })?;
        let mut rules: Vec<Rule> = Vec::new();
        for spanned in &raw.rules {
            let at = line(spanned.span().start);
            let r = spanned.get_ref();
            let refuse = |reason: String| RuleSetError { file: file.to_owned(), line: at, reason };
            if rules.iter().any(|x| x.code == r.code) {
                return Err(refuse(format!("rule {} appears twice", r.code)));
            }
            let condition = Guard::compile(&r.condition).map_err(|e| refuse(format!("rule {}: {e}", r.code)))?;
            let inferred = match r.source.as_str() {
                "S" => false,
                "I" => true,
                other => return Err(refuse(format!("rule {}: source is S or I, not {other:?}", r.code))),
            };
            rules.push(Rule {
                code: r.code.clone(),
                item: r.item.clone(),
                condition,
                verdict: r.verdict,
                reason: r.reason.clone(),
                text: r.text.clone(),
                inferred,
            });
        }
        Ok(RuleSet { version: raw.version, effective_from: raw.effective_from, rules })
    }

    /// The rule set in force on `day`: the latest effective on or before it.
    pub fn in_force(sets: &[RuleSet], day: NaiveDate) -> Option<&RuleSet> {
        sets.iter().filter(|s| s.effective_from <= day).max_by_key(|s| (s.effective_from, s.version))
    }

    /// Reviews `record`: the rules that fire and the strictest verdict (pass when none fires).
    pub fn review(&self, record: &InspectionRecord) -> Result<Review, GuardError> {
        let record_json = serde_json::to_value(record).unwrap_or(Json::Null);
        let facts = facts(record);
        let mut fired = Vec::new();
        for rule in &self.rules {
            if rule.condition.holds(&[("record", &record_json), ("facts", &facts)])? {
                fired.push(Fired {
                    code: rule.code.clone(),
                    item: rule.item.clone(),
                    verdict: rule.verdict,
                    reason: rule.reason.clone(),
                    text: rule.text.clone(),
                });
            }
        }
        let verdict = fired.iter().map(|f| f.verdict).max().unwrap_or(Verdict::Pass);
        Ok(Review { rule_set: self.version, verdict, fired })
    }
}
