use chrono::{Duration, NaiveDate};

use super::*;

fn month() -> Vec<InspectionRecord> {
    let counties = [
        CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 1.0 },
        CountyWeight { code: "330782".into(), name: "义乌市".into(), weight: 1.0 },
    ];
    simulate('G', &counties, NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(), 10, 300, 21)
}

fn reviews(records: &[InspectionRecord], lenient_station: &str) -> Vec<ReviewDone> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| ReviewDone {
            record: r.id.clone(),
            reviewer: format!("rev{}", i % 7),
            passed: r.station == lenient_station || i % 8 != 0,
            seconds: 60 + (i % 90) as u32,
        })
        .collect()
}

fn kinds(found: &[Anomaly], kind: AnomalyKind) -> Vec<&Anomaly> {
    found.iter().filter(|a| a.kind == kind).collect()
}

#[test]
fn a_station_passing_everything_stands_out_from_its_peers() {
    let records = month();
    let lenient = records[0].station.clone();
    let found = anomalies(&records, &reviews(&records, &lenient));
    let high = kinds(&found, AnomalyKind::PassRateHigh);
    assert_eq!(high.len(), 1, "{high:?}");
    assert_eq!(high[0].subject, lenient);
    assert_eq!(high[0].records.len(), records.iter().filter(|r| r.station == lenient).count());
    // With everyone at the same rate nobody stands out.
    let even = anomalies(&records, &reviews(&records, "no such station"));
    assert!(kinds(&even, AnomalyKind::PassRateHigh).is_empty());
}

#[test]
fn copied_instrument_values_and_watermarks_out_of_order_are_found() {
    let mut records = month();
    let early = records.iter().filter(|r| r.photos.iter().any(|p| p.watermark_at < r.inspection_started)).count();
    assert!(early > 0, "the simulator puts some in");
    let found = anomalies(&records, &[]);
    assert_eq!(kinds(&found, AnomalyKind::WatermarkOrder).len(), early);
    assert!(
        kinds(&found, AnomalyKind::SameInstrumentValues).is_empty(),
        "{:?}",
        kinds(&found, AnomalyKind::SameInstrumentValues)
    );
    // Three vehicles of one station on one day with the same brake values; and one record
    // whose photos' watermarks go backwards.
    let station = records[0].station.clone();
    let day = records[0].inspection_started;
    let same: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.station == station && (r.inspection_started - day).num_hours().abs() < 6)
        .map(|(i, _)| i)
        .take(3)
        .collect();
    assert_eq!(same.len(), 3);
    for &i in &same {
        records[i].brake_ratio = 71.0;
        records[i].front_imbalance = 3.2;
        records[i].parking_ratio = 27.0;
    }
    let clean = records.iter().position(|r| r.photos.iter().all(|p| p.watermark_at >= r.inspection_started)).unwrap();
    let last = records[clean].photos.len() - 1;
    records[clean].photos[last].watermark_at = records[clean].inspection_started + Duration::seconds(10);
    let found = anomalies(&records, &[]);
    let copied = kinds(&found, AnomalyKind::SameInstrumentValues);
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0].records.len(), 3);
    assert_eq!(kinds(&found, AnomalyKind::WatermarkOrder).len(), early + 1);
}

#[test]
fn implausibly_fast_reviewers_are_named() {
    let done = |reviewer: &str, fast: usize| -> Vec<ReviewDone> {
        (0..10)
            .map(|i| ReviewDone {
                record: format!("{reviewer}-{i}"),
                reviewer: reviewer.into(),
                passed: true,
                seconds: if i < fast { 8 } else { 90 },
            })
            .collect()
    };
    let mut all = done("quick", 3);
    all.extend(done("careful", 1));
    let found = anomalies(&[], &all);
    let fast = kinds(&found, AnomalyKind::ReviewTooFast);
    assert_eq!(fast.len(), 1);
    assert_eq!((fast[0].subject.as_str(), fast[0].records.len()), ("quick", 3));
}

#[test]
fn the_recheck_sample_is_fixed_by_its_key_and_close_to_its_share() {
    let passed: Vec<String> = (0..10_000).map(|i| format!("SIM-{i}")).collect();
    let sample = recheck_sample(&passed, 0.1, "2026-11 key");
    assert!((900..=1_100).contains(&sample.len()), "{}", sample.len());
    assert_eq!(sample, recheck_sample(&passed, 0.1, "2026-11 key"));
    assert_ne!(sample, recheck_sample(&passed, 0.1, "another key"));
    assert!(recheck_sample(&passed, 0.0, "k").is_empty());
    assert_eq!(recheck_sample(&passed, 1.0, "k").len(), 10_000);
    let tally = disagreements(&[
        Recheck { record: "a".into(), first_reviewer: "r1".into(), second_passed: true },
        Recheck { record: "b".into(), first_reviewer: "r1".into(), second_passed: false },
        Recheck { record: "c".into(), first_reviewer: "r2".into(), second_passed: true },
    ]);
    assert_eq!(tally["r1"], (2, 1));
    assert_eq!(tally["r2"], (1, 0));
}
