//! How values read on a page: Beijing times, yuan, names for region codes, organisation and
//! account ids, the colour of a deadline, and the rows of case lists.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::{DueTone, Engine};
use fq_store::CaseSummary;
use serde::Serialize;
use uuid::Uuid;

use super::i18n::{self, Lang};

/// `2026-03-02 09:30`, Beijing time. Midnight is written as 24:00 of the day before, as time
/// limits are ("ends at 24:00 of the fifth working day").
pub(crate) fn when(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&beijing());
    if local.time() == chrono::NaiveTime::MIN {
        let day = local.date_naive().pred_opt().unwrap_or(local.date_naive());
        return format!("{} 24:00", day.format("%Y-%m-%d"));
    }
    local.format("%Y-%m-%d %H:%M").to_string()
}

/// `at` in Beijing time in chrono's `format`: for times to the second, which [`when`] leaves out.
pub(crate) fn clock(at: DateTime<Utc>, format: &str) -> String {
    at.with_timezone(&beijing()).format(format).to_string()
}

/// A time limit as programmes write it (`5wd`) in words: 5个工作日, 5 working days.
pub(crate) fn limit(lang: Lang, text: &str) -> String {
    use fq_domain::calendar::{Limit, LimitUnit};
    let Ok(limit) = Limit::parse(text) else { return text.to_owned() };
    if lang == Lang::Zh {
        return limit.name_zh();
    }
    let unit = match limit.unit {
        LimitUnit::CalendarDays => "day",
        LimitUnit::WorkingDays => "working day",
        LimitUnit::WorkingHours => "working hour",
        LimitUnit::Hours => "hour",
    };
    format!("{} {unit}{}", limit.amount, if limit.amount == 1 { "" } else { "s" })
}

/// `2026-03-02`, Beijing time.
pub(crate) fn day(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing()).format("%Y-%m-%d").to_string()
}

/// Fen as yuan: `123456` → `1,234.56`.
pub(crate) fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", super::templates::thousands(abs / 100), abs % 100)
}

/// A byte count for people: `12.3 KB`.
pub(crate) fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / 1024.0 / 1024.0),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// True for demonstration data, which is named 【演示】.
pub(crate) fn is_demo(name: &str) -> bool {
    name.contains("【演示】")
}

/// A deadline and how close it is.
#[derive(Debug, Serialize)]
pub(crate) struct Due {
    pub at: String,
    /// overdue, soon, on_time: the page colours it red, amber or green.
    pub tone: &'static str,
    pub label: String,
}

pub(crate) fn due(engine: &Engine, lang: Lang, region: &RegionCode, at: DateTime<Utc>) -> Due {
    let tone = engine.due_tone(region, at);
    let key = match tone {
        DueTone::Overdue => "case.due_overdue",
        DueTone::Soon => "case.due_soon",
        DueTone::OnTime => "case.due_on_time",
    };
    Due { at: when(at), tone: tone.as_str(), label: i18n::text(lang, key) }
}

/// Names looked up once per page.
#[derive(Debug)]
pub(crate) struct Names<'a> {
    engine: &'a Engine,
    regions: HashMap<String, String>,
    orgs: HashMap<Uuid, String>,
    accounts: HashMap<String, String>,
}

impl<'a> Names<'a> {
    pub(crate) fn new(engine: &'a Engine) -> Names<'a> {
        Names { engine, regions: HashMap::new(), orgs: HashMap::new(), accounts: HashMap::new() }
    }

    /// A region's name (its code when unknown). The division tree is public.
    pub(crate) async fn region(&mut self, code: &RegionCode) -> String {
        if let Some(name) = self.regions.get(code.as_str()) {
            return name.clone();
        }
        let name = self.engine.region(code).await.map(|r| r.name).unwrap_or_else(|_| code.to_string());
        self.regions.insert(code.to_string(), name.clone());
        name
    }

    /// A region's name with its county's in front for towns and villages: `路桥区 路桥街道`.
    pub(crate) async fn place(&mut self, code: &RegionCode) -> String {
        let own = self.region(code).await;
        match code.at_level(fq_domain::region::RegionLevel::County) {
            Some(county) if &county != code => format!("{} {own}", self.region(&county).await),
            _ => own,
        }
    }

    /// An organisation's name. Unit names on a case the viewer may see are not secret, even
    /// when the unit lies outside the viewer's own scope.
    pub(crate) async fn org(&mut self, id: Uuid) -> String {
        if let Some(name) = self.orgs.get(&id) {
            return name.clone();
        }
        let found = self.engine.store().organisation(fq_domain::org::OrgId(id)).await.ok().flatten();
        let name = found.map_or_else(|| id.to_string(), |o| o.name);
        self.orgs.insert(id, name.clone());
        name
    }

    /// Who a journal entry names: an account's display name, the system, or an operator.
    pub(crate) async fn actor(&mut self, lang: Lang, journal_name: &str) -> String {
        if let Some(name) = self.accounts.get(journal_name) {
            return name.clone();
        }
        let name = if journal_name == "system" {
            i18n::text(lang, "case.actor_system")
        } else if let Some(user) = journal_name.strip_prefix("cli:") {
            format!("{}（{user}）", i18n::text(lang, "case.actor_operator"))
        } else if let Some(id) = journal_name.strip_prefix("account:").and_then(|id| Uuid::parse_str(id).ok()) {
            let account = self.engine.store().account(fq_domain::account::AccountId(id)).await.ok().flatten();
            account.map_or_else(|| journal_name.to_owned(), |a| a.display_name)
        } else {
            journal_name.to_owned()
        };
        self.accounts.insert(journal_name.to_owned(), name.clone());
        name
    }
}

/// One line of a case list.
#[derive(Debug, Serialize)]
pub(crate) struct CaseRow {
    pub number: String,
    pub title: String,
    pub kind: String,
    pub state: String,
    pub place: String,
    pub opened: String,
    pub due: Option<Due>,
    pub yellow: u32,
    pub red: u32,
    pub closed: bool,
    pub demo: bool,
}

/// The rows of a list, with the programme's names for kinds and states.
pub(crate) async fn rows(engine: &Engine, lang: Lang, names: &mut Names<'_>, cases: Vec<CaseSummary>) -> Vec<CaseRow> {
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let kind = engine.programmes().get(&c.programme).and_then(|p| p.kind(&c.kind).cloned());
        let state = kind.as_ref().and_then(|k| k.state(&c.state)).map_or_else(|| c.state.clone(), |s| s.name.clone());
        out.push(CaseRow {
            kind: kind.map_or_else(|| c.kind.clone(), |k| k.name),
            state,
            place: names.place(&c.region).await,
            opened: when(c.opened_at),
            due: c.due_at.filter(|_| c.closed_at.is_none()).map(|at| due(engine, lang, &c.region, at)),
            yellow: c.yellow_cards,
            red: c.red_cards,
            closed: c.closed_at.is_some(),
            demo: is_demo(&c.title),
            number: c.number,
            title: c.title,
        });
    }
    out
}

/// A share as a percentage with one decimal (`0.125` → `12.5%`).
pub(crate) fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(yuan(123_456), "1,234.56");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(size(2048), "2.0 KB");
        let at = DateTime::parse_from_rfc3339("2026-03-02T01:30:00Z").unwrap().to_utc();
        assert_eq!(when(at), "2026-03-02 09:30");
        let midnight = DateTime::parse_from_rfc3339("2026-03-02T16:00:00Z").unwrap().to_utc();
        assert_eq!(when(midnight), "2026-03-02 24:00", "a deadline ends at 24:00 of its day");
        assert_eq!(limit(Lang::Zh, "5wd"), "5个工作日");
        assert_eq!(limit(Lang::En, "1wd"), "1 working day");
        assert_eq!(limit(Lang::En, "4wh"), "4 working hours");
        assert!(is_demo("【演示】邻里漏水纠纷"));
    }
}
