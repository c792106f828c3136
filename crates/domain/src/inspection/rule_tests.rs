//! Every shipped rule: a record that fires it and one that does not.

use chrono::{Duration, NaiveDate};

use super::*;

const RULES: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/inspection/rules-v1.toml"));

fn rules() -> RuleSet {
    RuleSet::load("data/inspection/rules-v1.toml", RULES).expect("the shipped rules load")
}

/// A clean passenger car and a clean heavy truck: no shipped rule fires on them.
fn clean(class: u8) -> InspectionRecord {
    let counties = [CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 1.0 }];
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let mut record = simulate('G', &counties, day, 1, 400, 3)
        .into_iter()
        .find(|r| r.class == class && r.insurance.plate == r.plate && r.items.iter().all(|i| i.passed))
        .expect("a record of the class");
    record.brake_ratio = 75.0;
    record.front_imbalance = 5.0;
    record.parking_ratio = 25.0;
    record.record_status = "A".into();
    record.approved_passengers = if class == 0 { 5 } else { 3 };
    // Five years old: the ten-year rule does not apply; a goods vehicle's scrapping date is ahead.
    record.registered_on = Some(day - Duration::days(5 * 365));
    record.scrap_by = (class != 0).then(|| day + Duration::days(10 * 365));
    record.report = Some(Report { conclusion_pass: true, signatures: true, seal: true, cma_seal: true, date: day });
    record.plate_screws = 4;
    record.insurance.valid_from = day - Duration::days(10);
    record.insurance.valid_to = day + Duration::days(300);
    let start = record.inspection_started;
    for (i, photo) in record.photos.iter_mut().enumerate() {
        photo.watermark_at = start + Duration::minutes(1 + i as i64);
    }
    if class != 0 && !record.photos.iter().any(|p| p.kind == "0323") {
        let mut chassis = record.photos[0].clone();
        chassis.kind = "0323".into();
        record.photos.push(chassis);
    }
    record
}

fn fired(record: &InspectionRecord) -> Vec<String> {
    rules().review(record).unwrap().fired.into_iter().map(|f| f.code).collect()
}

#[test]
fn clean_records_pass_with_no_rule_fired() {
    for class in [0, 2] {
        let review = rules().review(&clean(class)).unwrap();
        assert_eq!(review.fired, [], "class {class}");
        assert_eq!(review.verdict, Verdict::Pass);
    }
}

/// Each rule with the change to a clean record that makes it fire.
#[test]
fn every_shipped_rule_fires_on_its_case_and_not_otherwise() {
    let set = rules();
    type Change = fn(&mut InspectionRecord);
    let cases: Vec<(&str, u8, Change)> = vec![
        ("R01", 0, |r| r.insurance.plate = "浙G00000".into()),
        ("R02", 0, |r| r.insurance.vin = "LSVAU2180N2000000".into()),
        ("R03", 0, |r| r.insurance.valid_to = r.insurance.valid_from),
        ("R04", 0, |r| r.photos[0].watermark_at = r.inspection_started - Duration::minutes(5)),
        ("R05", 0, |r| r.photos[1].watermark_at = r.inspection_ended + Duration::minutes(45)),
        ("R06", 0, |r| r.inspection_ended = r.inspection_started + Duration::minutes(6)),
        ("R07", 2, |r| r.photos.retain(|p| p.kind != "0322")),
        ("R08", 0, |r| r.items[6].passed = false),
        ("R09", 0, |r| r.brake_ratio = 55.0),
        ("R10", 0, |r| r.front_imbalance = 24.0),
        ("R11", 0, |r| r.parking_ratio = 15.0),
        ("R12", 0, |r| {
            let mut chars: Vec<char> = r.vin.chars().collect();
            chars[8] = if chars[8] == '0' { '1' } else { '0' };
            r.vin = chars.into_iter().collect();
            r.insurance.vin.clone_from(&r.vin);
        }),
        ("R13", 2, |r| r.vehicle_type = "K11".into()),
        ("R14", 0, |r| r.record_status = "C".into()),
        ("R15", 0, |r| r.record_status = "E".into()),
        ("R16", 2, |r| r.scrap_by = r.registered_on),
        ("R17", 0, |r| r.record_status = "G".into()),
        ("R18", 0, |r| r.record_status = "K".into()),
        ("R19", 2, |r| r.approved_passengers = 9),
        ("R20", 0, |r| r.reinspection = true),
        ("R21", 0, |r| r.insurance.kind = "商业险".into()),
        ("R22", 0, |r| r.insurance.tax_paid = false),
        ("R23", 0, |r| r.report.as_mut().unwrap().conclusion_pass = false),
        ("R24", 0, |r| r.report.as_mut().unwrap().signatures = false),
        ("R25", 0, |r| r.report.as_mut().unwrap().cma_seal = false),
        ("R26", 0, |r| r.report.as_mut().unwrap().date = r.report.as_ref().unwrap().date.pred_opt().unwrap()),
        ("R27", 0, |r| r.rubbing_film = false),
        ("R28", 0, |r| r.plate_screws = 3),
        ("R29", 0, |r| r.registered_on = r.registered_on.map(|d| d - Duration::days(11 * 365))),
    ];
    let shipped: Vec<&str> = set.rules.iter().map(|r| r.code.as_str()).collect();
    let tested: Vec<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(shipped, tested, "every shipped rule has its test");
    for (code, class, change) in cases {
        let base = clean(class);
        assert!(!fired(&base).contains(&code.to_owned()), "{code} does not fire on a clean record");
        let mut record = base.clone();
        change(&mut record);
        let review = set.review(&record).unwrap();
        let codes: Vec<&str> = review.fired.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, [code], "{code} fires alone on its case");
        let rule = set.rules.iter().find(|r| r.code == code).unwrap();
        assert_eq!(review.verdict, rule.verdict, "{code}: the record's verdict is the rule's");
    }
}

#[test]
fn a_rule_file_with_a_mistake_is_refused_by_line() {
    let broken = RULES.replacen("record.brake_ratio < 60.0", "record.brake_ratio <", 1);
    let err = RuleSet::load("rules.toml", &broken).unwrap_err();
    assert!(err.reason.contains("R09"), "{err}");
    assert_eq!(err.line, RULES[..RULES.find("code = \"R09\"").unwrap()].matches('\n').count(), "{err}");
    let twice = format!(
        "{RULES}\n[[rules]]\ncode = \"R01\"\nitem = \"x\"\ncondition = \"true\"\nverdict = \"pass\"\nreason = \"x\"\ntext = \"x\"\nsource = \"S\"\n"
    );
    assert!(RuleSet::load("rules.toml", &twice).unwrap_err().reason.contains("twice"));
    let bad_verdict = RULES.replacen("verdict = \"human\"", "verdict = \"maybe\"", 1);
    assert!(RuleSet::load("rules.toml", &bad_verdict).is_err());
}

#[test]
fn the_set_in_force_is_the_latest_effective() {
    let v1 = rules();
    let v2 = RuleSet::load("v2.toml", &RULES.replacen("version = 1", "version = 2", 1).replacen("2026-01-01", "2027-01-01", 1))
        .unwrap();
    let sets = [v1, v2];
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(RuleSet::in_force(&sets, day(2026, 6, 1)).unwrap().version, 1);
    assert_eq!(RuleSet::in_force(&sets, day(2027, 1, 1)).unwrap().version, 2);
    assert!(RuleSet::in_force(&sets, day(2025, 12, 31)).is_none());
}
