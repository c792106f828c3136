//! Supervision of the review (监督): anomaly checks over records and reviews, each naming its
//! subject and the records behind it (the engine is to open a supervision case for each), and
//! the re-check sample (复核抽查): a share of passed records drawn for a second review by a senior
//! reviewer, with the disagreements counted against the first reviewer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::record::InspectionRecord;

/// Stations with fewer records than this are not compared with their peers.
const MIN_STATION_RECORDS: usize = 30;
/// How many binomial standard deviations above the city's pass rate is "far above its peers".
const PASS_RATE_SIGMAS: f64 = 3.0;
/// Distinct vehicles with the same instrument values at one station on one day.
const SAME_VALUES_VEHICLES: usize = 3;
/// Reviews faster than this (seconds) cannot have looked at the photos.
const IMPLAUSIBLE_SECONDS: u32 = 15;
/// A reviewer is flagged when this share of their reviews (at least 10) is implausibly fast.
const FAST_SHARE: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// A station's pass rate far above its peers'.
    PassRateHigh,
    /// Identical instrument values across different vehicles.
    SameInstrumentValues,
    /// Photo watermarks out of order with the inspection (before its start, or decreasing).
    WatermarkOrder,
    /// A reviewer's reviews done implausibly fast.
    ReviewTooFast,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    /// The station or reviewer concerned.
    pub subject: String,
    pub detail: String,
    /// The records behind it (for the supervision case).
    pub records: Vec<String>,
}

/// How one record was reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewDone {
    pub record: String,
    pub reviewer: String,
    pub passed: bool,
    pub seconds: u32,
}

/// Records, by station, with the review outcome of each (`passed`).
pub fn anomalies(records: &[InspectionRecord], reviews: &[ReviewDone]) -> Vec<Anomaly> {
    let mut out = Vec::new();
    let outcome: BTreeMap<&str, &ReviewDone> = reviews.iter().map(|r| (r.record.as_str(), r)).collect();

    // Pass rates: each station against the whole city (binomial standard error).
    let reviewed: Vec<(&InspectionRecord, bool)> =
        records.iter().filter_map(|r| outcome.get(r.id.as_str()).map(|o| (r, o.passed))).collect();
    if !reviewed.is_empty() {
        let city = reviewed.iter().filter(|(_, p)| *p).count() as f64 / reviewed.len() as f64;
        let mut stations: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for (r, passed) in &reviewed {
            let entry = stations.entry(r.station.as_str()).or_default();
            entry.0 += 1;
            entry.1 += usize::from(*passed);
        }
        for (station, (n, passed)) in stations {
            if n < MIN_STATION_RECORDS {
                continue;
            }
            let rate = passed as f64 / n as f64;
            let se = (city * (1.0 - city) / n as f64).sqrt().max(1e-9);
            if (rate - city) / se > PASS_RATE_SIGMAS {
                out.push(Anomaly {
                    kind: AnomalyKind::PassRateHigh,
                    subject: station.to_owned(),
                    detail: format!("通过率 {:.1}%，全市 {:.1}%（{n} 条）", rate * 100.0, city * 100.0),
                    records: reviewed.iter().filter(|(r, _)| r.station == station).map(|(r, _)| r.id.clone()).collect(),
                });
            }
        }
    }

    // The same brake values for several vehicles at one station on one day: copied data.
    let mut same: BTreeMap<(String, String, String), Vec<&InspectionRecord>> = BTreeMap::new();
    for r in records {
        let values = format!("{:.1}/{:.1}/{:.1}", r.brake_ratio, r.front_imbalance, r.parking_ratio);
        let day = (r.inspection_started + chrono::Duration::hours(8)).date_naive().to_string();
        same.entry((r.station.clone(), day, values)).or_default().push(r);
    }
    for ((station, day, values), group) in same {
        let mut vins: Vec<&str> = group.iter().map(|r| r.vin.as_str()).collect();
        vins.sort_unstable();
        vins.dedup();
        if vins.len() >= SAME_VALUES_VEHICLES {
            out.push(Anomaly {
                kind: AnomalyKind::SameInstrumentValues,
                subject: station,
                detail: format!("{day} {} 辆不同车辆制动检测值完全相同（{values}）", vins.len()),
                records: group.iter().map(|r| r.id.clone()).collect(),
            });
        }
    }

    // Watermarks: none before the inspection began, and in the order the photos were taken.
    for r in records {
        let before = r.photos.iter().any(|p| p.watermark_at < r.inspection_started);
        let decreasing = r.photos.windows(2).any(|w| w[1].watermark_at < w[0].watermark_at);
        if before || decreasing {
            out.push(Anomaly {
                kind: AnomalyKind::WatermarkOrder,
                subject: r.station.clone(),
                detail: format!("{} 照片水印时间{}", r.id, if before { "早于检验开始" } else { "先后颠倒" }),
                records: vec![r.id.clone()],
            });
        }
    }

    // Reviewers whose reviews are implausibly fast.
    let mut by_reviewer: BTreeMap<&str, Vec<&ReviewDone>> = BTreeMap::new();
    for review in reviews {
        by_reviewer.entry(review.reviewer.as_str()).or_default().push(review);
    }
    for (reviewer, done) in by_reviewer {
        let fast: Vec<&&ReviewDone> = done.iter().filter(|d| d.seconds < IMPLAUSIBLE_SECONDS).collect();
        if done.len() >= 10 && fast.len() as f64 >= FAST_SHARE * done.len() as f64 {
            out.push(Anomaly {
                kind: AnomalyKind::ReviewTooFast,
                subject: reviewer.to_owned(),
                detail: format!("{} / {} 条审核用时不足 {IMPLAUSIBLE_SECONDS} 秒", fast.len(), done.len()),
                records: fast.iter().map(|d| d.record.clone()).collect(),
            });
        }
    }
    out.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
    out
}

/// The passed records drawn for re-check: each with probability `share`, decided by a keyed
/// hash of its id, so that the sample is fixed by the key (published after the period) and
/// nobody can steer which records are drawn.
pub fn recheck_sample<'a>(passed: &'a [String], share: f64, key: &str) -> Vec<&'a str> {
    let threshold = (share.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    let key = blake3::hash(key.as_bytes());
    passed
        .iter()
        .filter(|id| {
            let hash = blake3::keyed_hash(key.as_bytes(), id.as_bytes());
            let bytes: [u8; 8] = hash.as_bytes()[..8].try_into().expect("eight bytes");
            u64::from_le_bytes(bytes) < threshold
        })
        .map(String::as_str)
        .collect()
}

/// A second review of a re-checked record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recheck {
    pub record: String,
    pub first_reviewer: String,
    pub second_passed: bool,
}

/// Per first reviewer: re-checked records and disagreements (the senior reviewer rejected what
/// they passed), which count against them.
pub fn disagreements(rechecks: &[Recheck]) -> BTreeMap<String, (u32, u32)> {
    let mut out: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for r in rechecks {
        let entry = out.entry(r.first_reviewer.clone()).or_default();
        entry.0 += 1;
        entry.1 += u32::from(!r.second_passed);
    }
    out
}
