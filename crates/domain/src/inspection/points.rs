//! Station points (检验机构积分): a ledger per station of points awarded or deducted by rule
//! (hardware, service, compliance, re-check findings), with appeals, and the monthly ranking.
//! The ledger is a list of entries; an entry is never edited: an appeal's decision is a later
//! fact that makes a deduction count or not.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::local_date;

/// What points are given for (the rule table of the points scheme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointsRule {
    pub code: String,
    pub name: String,
    /// Positive awards, negative deducts.
    pub points: i32,
    /// `hardware`, `service`, `compliance`, `recheck`.
    pub group: String,
}

/// The scheme's default rules [I]: Jinhua's own table is not public; these follow the groups the
/// issue names, with weights to be set by the city.
pub fn default_rules() -> Vec<PointsRule> {
    let rule = |code: &str, name: &str, points: i32, group: &str| PointsRule {
        code: code.into(),
        name: name.into(),
        points,
        group: group.into(),
    };
    vec![
        rule("hw_video_online", "检测线视频全程在线", 2, "hardware"),
        rule("hw_equipment_fault", "检测设备故障未及时报修", -3, "hardware"),
        rule("sv_complaint_upheld", "服务投诉经核实", -5, "service"),
        rule("sv_praise", "群众表扬", 1, "service"),
        rule("cp_record_rejected", "检验资料审核不通过", -1, "compliance"),
        rule("cp_false_data", "检验数据造假", -20, "compliance"),
        rule("rc_disagreement", "复核抽查发现审核通过的记录不合格", -2, "recheck"),
        rule("rc_clean_month", "当月复核抽查无问题", 2, "recheck"),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Appeal {
    /// The station appealed; the entry counts until it is decided.
    Pending,
    /// The appeal failed: the entry counts.
    Rejected,
    /// The appeal succeeded: the entry no longer counts.
    Upheld,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub station: String,
    pub rule: String,
    pub points: i32,
    pub at: DateTime<Utc>,
    pub note: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appeal: Option<Appeal>,
}

impl Entry {
    pub fn counts(&self) -> bool {
        self.appeal != Some(Appeal::Upheld)
    }
}

/// Why an entry or an appeal is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    #[error("points rule {0} is not in the scheme")]
    RuleUnknown(String),
    #[error("only a deduction can be appealed")]
    NotADeduction,
    #[error("this entry was appealed already")]
    AlreadyAppealed,
    #[error("only a pending appeal can be decided")]
    NotPending,
}

/// An entry by `rule` for `station`.
pub fn award(rules: &[PointsRule], station: &str, rule: &str, at: DateTime<Utc>, note: &str) -> Result<Entry, PointsError> {
    let def = rules.iter().find(|r| r.code == rule).ok_or_else(|| PointsError::RuleUnknown(rule.to_owned()))?;
    Ok(Entry { station: station.into(), rule: def.code.clone(), points: def.points, at, note: note.into(), appeal: None })
}

/// The station appeals a deduction.
pub fn appeal(entry: &mut Entry) -> Result<(), PointsError> {
    if entry.points >= 0 {
        return Err(PointsError::NotADeduction);
    }
    if entry.appeal.is_some() {
        return Err(PointsError::AlreadyAppealed);
    }
    entry.appeal = Some(Appeal::Pending);
    Ok(())
}

/// The appeal is decided: `upheld` removes the deduction.
pub fn decide_appeal(entry: &mut Entry, upheld: bool) -> Result<(), PointsError> {
    if entry.appeal != Some(Appeal::Pending) {
        return Err(PointsError::NotPending);
    }
    entry.appeal = Some(if upheld { Appeal::Upheld } else { Appeal::Rejected });
    Ok(())
}

/// One line of a monthly ranking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    pub rank: u32,
    pub station: String,
    pub points: i32,
    /// The rank the month before (`None`: not ranked then, or that month had no entries).
    pub previous_rank: Option<u32>,
}

/// The ranking of `stations` by points counted in the Beijing month `(year, month)`, highest
/// first; equal points share a rank (1, 2, 2, 4), and within it stations sort by code.
pub fn monthly_ranking(stations: &[String], entries: &[Entry], year: i32, month: u32) -> Vec<Ranked> {
    let totals = |y: i32, m: u32| -> BTreeMap<&str, i32> {
        let mut sums: BTreeMap<&str, i32> = stations.iter().map(|s| (s.as_str(), 0)).collect();
        for e in entries.iter().filter(|e| e.counts()) {
            let day = local_date(e.at);
            if day.year() == y
                && day.month() == m
                && let Some(sum) = sums.get_mut(e.station.as_str())
            {
                *sum += e.points;
            }
        }
        sums
    };
    let ranks = |sums: &BTreeMap<&str, i32>| -> BTreeMap<String, (u32, i32)> {
        let mut ordered: Vec<(&str, i32)> = sums.iter().map(|(s, p)| (*s, *p)).collect();
        ordered.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let mut out = BTreeMap::new();
        let mut rank = 0;
        for (i, (station, points)) in ordered.iter().enumerate() {
            if i == 0 || ordered[i - 1].1 != *points {
                rank = i as u32 + 1;
            }
            out.insert((*station).to_owned(), (rank, *points));
        }
        out
    };
    let (py, pm) = if month == 1 { (year - 1, 12) } else { (year, month - 1) };
    // A month without a single counted entry was not ranked: nobody had a rank then.
    let ranked_before = entries.iter().any(|e| {
        let day = local_date(e.at);
        e.counts() && day.year() == py && day.month() == pm
    });
    let before = if ranked_before { ranks(&totals(py, pm)) } else { BTreeMap::new() };
    let mut now: Vec<Ranked> = ranks(&totals(year, month))
        .into_iter()
        .map(|(station, (rank, points))| Ranked { rank, previous_rank: before.get(&station).map(|(r, _)| *r), station, points })
        .collect();
    now.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.station.cmp(&b.station)));
    now
}
