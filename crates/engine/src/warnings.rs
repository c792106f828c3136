//! The warnings board (预警看板) of the risk programme: the open warnings of a region, highest
//! level and oldest first, and the day's roll-up per level for daily clearing (日结日清): issued
//! that day, cleared that day, still open at the end of it, past their time limit.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::{end_of_day, start_of_day};
use fq_domain::case::Case;
use fq_domain::region::RegionCode;
use fq_store::CaseFilter;
use serde::Serialize;

use crate::Engine;
use crate::access::reads_programme;
use crate::error::EngineError;

/// Levels, lowest first (the kind's priorities).
pub const LEVELS: [&str; 4] = ["blue", "yellow", "orange", "red"];

/// One level's line of the day's roll-up.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LevelRollUp {
    pub level: String,
    pub issued: u32,
    pub cleared: u32,
    /// Open at the end of the day (日结 remaining).
    pub open: u32,
    /// Of those, past their time limit.
    pub overdue: u32,
}

/// The board.
#[derive(Debug, Clone, Serialize)]
pub struct WarningBoard {
    pub region: RegionCode,
    pub day: NaiveDate,
    pub levels: Vec<LevelRollUp>,
    /// Open warnings, highest level first, then oldest.
    pub open: Vec<Case>,
}

/// A closed warning for the library of typical cases (典型案例库).
#[derive(Debug, Clone, Serialize)]
pub struct TypicalCase {
    pub number: String,
    pub title: String,
    pub category: String,
    pub level: String,
    pub handling: String,
    pub closed_at: DateTime<Utc>,
}

impl Engine {
    /// The warnings of `region` are read by the risk programme's roles and leaders over it.
    fn check_reads_warnings(&self, actor: &Actor, region: &RegionCode) -> Result<(), EngineError> {
        let programme = self.programme("risk")?;
        if reads_programme(actor, &programme, region) {
            Ok(())
        } else {
            Err(EngineError::forbidden(format!("the warnings of {region} are outside your scope")))
        }
    }

    /// Cleared warnings of `region` (their handling reported), newest first, optionally of one
    /// category and containing `text` in the title or the handling: the library of typical
    /// cases to learn from.
    pub async fn typical_warnings(
        &self,
        actor: &Actor,
        region: &RegionCode,
        category: Option<&str>,
        text: Option<&str>,
    ) -> Result<Vec<TypicalCase>, EngineError> {
        self.check_reads_warnings(actor, region)?;
        let filter = CaseFilter {
            programme: Some("risk".into()),
            kind: Some("warning".into()),
            state: Some("cleared".into()),
            regions: vec![region.clone()],
            ..CaseFilter::default()
        };
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        let mut out = Vec::new();
        for case in self.cases_matching(&filter).await? {
            let field = |code: &str| case.text(code).unwrap_or_default().to_owned();
            let (title, handling, code) = (field("title"), field("handling"), field("category"));
            if category.is_some_and(|c| c != code) || text.is_some_and(|t| !title.contains(t) && !handling.contains(t)) {
                continue;
            }
            let Some(closed_at) = case.closed_at else { continue };
            out.push(TypicalCase {
                number: case.number.clone(),
                title,
                category: code,
                level: case.priority.clone(),
                handling,
                closed_at,
            });
        }
        out.sort_by_key(|t| std::cmp::Reverse(t.closed_at));
        Ok(out)
    }

    /// The warnings board of `region` for the Beijing `day` (open warnings as they are now).
    pub async fn warning_board(&self, actor: &Actor, region: &RegionCode, day: NaiveDate) -> Result<WarningBoard, EngineError> {
        self.check_reads_warnings(actor, region)?;
        if !fq_domain::calendar::plausible_day(day) {
            return Err(EngineError::field("day_invalid", "day", format!("{day} is not a day one can ask about")));
        }
        let filter = CaseFilter {
            programme: Some("risk".into()),
            kind: Some("warning".into()),
            regions: vec![region.clone()],
            ..CaseFilter::default()
        };
        let cases = self.cases_matching(&filter).await?;
        let (start, end) = (start_of_day(day), end_of_day(day));
        let mut levels: BTreeMap<&str, LevelRollUp> =
            LEVELS.iter().map(|l| (*l, LevelRollUp { level: (*l).to_owned(), ..LevelRollUp::default() })).collect();
        for case in &cases {
            let Some(line) = levels.get_mut(case.priority.as_str()) else { continue };
            if case.opened_at >= start && case.opened_at < end {
                line.issued += 1;
            }
            if case.closed_at.is_some_and(|t| t >= start && t < end) {
                line.cleared += 1;
            }
            let open_then = case.opened_at < end && case.closed_at.is_none_or(|t| t >= end);
            if open_then {
                line.open += 1;
                if case.clocks.values().any(|c| c.stopped_at.is_none_or(|s| s >= end) && c.due_at < end) {
                    line.overdue += 1;
                }
            }
        }
        let rank = |c: &Case| LEVELS.iter().position(|l| *l == c.priority).unwrap_or(0);
        let mut open: Vec<Case> = cases.into_iter().filter(|c| c.closed_at.is_none()).collect();
        open.sort_by(|a, b| rank(b).cmp(&rank(a)).then(a.opened_at.cmp(&b.opened_at)));
        let levels = LEVELS.iter().rev().filter_map(|l| levels.remove(l)).collect();
        Ok(WarningBoard { region: region.clone(), day, levels, open })
    }
}
