use chrono::{TimeZone, Utc};

use super::*;

fn at(day: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

#[test]
fn deductions_can_be_appealed_once_and_an_upheld_appeal_removes_them() {
    let rules = default_rules();
    let mut fine = award(&rules, "330702-S01", "cp_record_rejected", at(3, 2), "SIM-1 审核不通过").unwrap();
    assert_eq!(fine.points, -1);
    assert_eq!(award(&rules, "330702-S01", "gold_star", at(3, 2), "").unwrap_err(), PointsError::RuleUnknown("gold_star".into()));
    let mut praise = award(&rules, "330702-S01", "sv_praise", at(3, 2), "").unwrap();
    assert_eq!(appeal(&mut praise).unwrap_err(), PointsError::NotADeduction);
    assert_eq!(decide_appeal(&mut fine, true).unwrap_err(), PointsError::NotPending);
    appeal(&mut fine).unwrap();
    assert!(fine.counts(), "a pending appeal does not suspend the deduction");
    assert_eq!(appeal(&mut fine).unwrap_err(), PointsError::AlreadyAppealed);
    decide_appeal(&mut fine, true).unwrap();
    assert!(!fine.counts());
}

#[test]
fn the_monthly_ranking_shares_ranks_on_ties_and_follows_beijing_months() {
    let rules = default_rules();
    let stations: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| (*s).to_owned()).collect();
    let mut entries = vec![
        award(&rules, "A", "rc_clean_month", at(10, 2), "").unwrap(),     // +2
        award(&rules, "B", "sv_praise", at(10, 2), "").unwrap(),          // +1
        award(&rules, "C", "sv_praise", at(10, 2), "").unwrap(),          // +1
        award(&rules, "D", "cp_record_rejected", at(10, 2), "").unwrap(), // -1
        // 30 November 17:00 UTC is 1 December in Beijing: December's.
        award(&rules, "D", "cp_false_data", at(30, 17), "").unwrap(),
        // October (Beijing) for the previous ranking: D was first then.
        award(&rules, "D", "hw_video_online", Utc.with_ymd_and_hms(2026, 10, 20, 2, 0, 0).unwrap(), "").unwrap(),
    ];
    let november = monthly_ranking(&stations, &entries, 2026, 11);
    let lines: Vec<(u32, &str, i32, Option<u32>)> =
        november.iter().map(|r| (r.rank, r.station.as_str(), r.points, r.previous_rank)).collect();
    assert_eq!(lines, [(1, "A", 2, Some(2)), (2, "B", 1, Some(2)), (2, "C", 1, Some(2)), (4, "D", -1, Some(1))]);
    assert_eq!(monthly_ranking(&stations, &entries, 2026, 12).iter().find(|r| r.station == "D").unwrap().points, -20);
    // D's deduction overturned on appeal: it no longer counts.
    appeal(&mut entries[3]).unwrap();
    decide_appeal(&mut entries[3], true).unwrap();
    let again = monthly_ranking(&stations, &entries, 2026, 11);
    assert_eq!(again.iter().find(|r| r.station == "D").unwrap().points, 0);
    // September had no entries: October's ranking has no previous ranks.
    assert!(monthly_ranking(&stations, &entries, 2026, 10).iter().all(|r| r.previous_rank.is_none()));
}
