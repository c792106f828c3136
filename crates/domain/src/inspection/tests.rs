use std::collections::BTreeMap;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

/// The nine counties of Jinhua (3307) with reviewers spread over them.
const COUNTIES: [&str; 9] = ["330702", "330703", "330723", "330726", "330727", "330781", "330782", "330783", "330784"];

fn reviewers(per_county: usize) -> Vec<Reviewer> {
    COUNTIES
        .iter()
        .flat_map(|c| {
            (0..per_county).map(move |i| Reviewer {
                id: format!("{c}-r{i}"),
                county: (*c).to_owned(),
                capacity: 10_000,
                on_duty: true,
                qualified: 0b1111,
                load: 0,
            })
        })
        .collect()
}

fn items(n: usize) -> Vec<Item> {
    (0..n)
        .map(|i| Item { id: format!("rec{i}"), county: COUNTIES[(i * 7) % COUNTIES.len()].to_owned(), class: (i % 4) as u8 })
        .collect()
}

fn county_of(id: &str) -> &str {
    &id[..6]
}

#[test]
fn a_month_of_records_goes_to_other_counties_evenly_and_replays() {
    let all = items(30 * 900);
    let run = Allocation::run(11, Ratios::new(), reviewers(12), all);
    for d in &run.decisions {
        let item = run.items.iter().find(|i| i.id == d.item).unwrap();
        let reviewer = d.reviewer.as_deref().expect("someone eligible");
        assert_ne!(county_of(reviewer), item.county, "never reviewed in its own county");
    }
    let loads: Vec<u32> = run.loads().values().copied().collect();
    let mean = f64::from(loads.iter().sum::<u32>()) / loads.len() as f64;
    let max = f64::from(*loads.iter().max().unwrap());
    assert!(max / mean <= 1.05, "max/mean {}", max / mean);
    assert!(run.replay(), "the batch draws the same again");
    let other = Allocation::run(12, Ratios::new(), reviewers(12), run.items.clone());
    assert_ne!(other.decisions, run.decisions, "another seed, another draw");
}

#[test]
fn capacity_duty_and_qualification_decide_who_is_eligible() {
    let mut people = reviewers(1);
    people[1].on_duty = false; // 330703
    people[2].qualified = 0b0001; // 330723: passenger cars only
    people[3].capacity = 1; // 330726: one record at most
    let records: Vec<Item> = (0..40).map(|i| Item { id: format!("t{i}"), county: "330702".into(), class: 2 }).collect();
    let run = Allocation::run(3, Ratios::new(), people, records);
    let loads = run.loads();
    assert_eq!(loads["330703-r0"], 0, "off duty");
    assert_eq!(loads["330723-r0"], 0, "not qualified for heavy trucks");
    assert_eq!(loads["330726-r0"], 1, "capacity one");
    assert_eq!(loads["330702-r0"], 0, "own county");
    // Nobody eligible: the record stays unallocated, said so.
    let lonely =
        vec![Reviewer { id: "330702-x".into(), county: "330702".into(), capacity: 5, on_duty: true, qualified: 1, load: 0 }];
    let run = Allocation::run(1, Ratios::new(), lonely, vec![Item { id: "a".into(), county: "330702".into(), class: 0 }]);
    assert_eq!(run.decisions[0].reviewer, None);
}

#[test]
fn ratios_send_shares_and_spill_over_when_the_target_is_full() {
    let mut ratios = Ratios::new();
    ratios.insert("330702".into(), BTreeMap::from([("330703".to_owned(), 2), ("330723".to_owned(), 1)]));
    let records: Vec<Item> = (0..300).map(|i| Item { id: format!("t{i}"), county: "330702".into(), class: 0 }).collect();
    let run = Allocation::run(5, ratios.clone(), reviewers(3), records.clone());
    let mut by_county: BTreeMap<&str, u32> = BTreeMap::new();
    for d in &run.decisions {
        *by_county.entry(county_of(d.reviewer.as_deref().unwrap())).or_default() += 1;
    }
    assert_eq!(by_county.get("330703"), Some(&200));
    assert_eq!(by_county.get("330723"), Some(&100));
    // 330703's reviewers can take only 10 each: the rest of its share spills over city-wide.
    let mut full = reviewers(3);
    full.iter_mut().filter(|r| r.county == "330703").for_each(|r| r.capacity = 10);
    let run = Allocation::run(5, ratios, full, records);
    assert!(run.decisions.iter().any(|d| d.spilled));
    assert!(run.decisions.iter().all(|d| d.reviewer.is_some() && county_of(d.reviewer.as_deref().unwrap()) != "330702"));
    assert_eq!(run.loads().iter().filter(|(id, _)| county_of(id) == "330703").map(|(_, l)| *l).sum::<u32>(), 30);
    assert!(run.replay());
}

#[test]
fn the_simulator_is_labelled_deterministic_and_follows_the_weights() {
    let counties = vec![
        CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 3.0 },
        CountyWeight { code: "330703".into(), name: "金东区".into(), weight: 1.0 },
    ];
    let day = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let records = simulate('G', &counties, day, 2, 400, 9);
    assert_eq!(records.len(), 800);
    assert!(records.iter().all(|r| r.synthetic && r.id.starts_with("SIM-") && r.plate.starts_with("浙G")));
    assert_eq!(records.iter().filter(|r| r.county == "330702").count(), 600, "three quarters by weight");
    assert_eq!(records, simulate('G', &counties, day, 2, 400, 9), "the same seed, the same records");
    assert!(records.iter().all(|r| r.vin.len() == 17 && r.inspection_ended > r.inspection_started));
    // The faults a review looks for are there, and rare.
    let other_plate = records.iter().filter(|r| r.insurance.plate != r.plate).count();
    let early_photo = records.iter().filter(|r| r.photos.iter().any(|p| p.watermark_at < r.inspection_started)).count();
    assert!((1..=60).contains(&other_plate) && (1..=30).contains(&early_photo), "{other_plate} {early_photo}");
}

proptest! {
    /// Whatever the reviewers and records: never the record's own county, never an ineligible
    /// reviewer, each choice at the lowest load among the eligible with the tie counted right,
    /// and the batch replays.
    #[test]
    fn every_choice_is_among_the_least_loaded_eligible(
        people in prop::collection::vec((0usize..4, 1u32..6, any::<bool>(), 1u32..16, 0u32..3), 1..24),
        records in prop::collection::vec((0usize..4, 0u8..4), 1..80),
        seed in any::<u64>(),
    ) {
        let reviewers: Vec<Reviewer> = people.iter().enumerate().map(|(i, (c, cap, duty, q, load))| Reviewer {
            id: format!("{}-{i}", COUNTIES[*c]), county: COUNTIES[*c].into(), capacity: *cap, on_duty: *duty || i == 0,
            qualified: *q, load: (*load).min(cap - 1),
        }).collect();
        let items: Vec<Item> = records.iter().enumerate().map(|(i, (c, class))| Item {
            id: format!("i{i}"), county: COUNTIES[*c].into(), class: *class,
        }).collect();
        let run = Allocation::run(seed, Ratios::new(), reviewers.clone(), items.clone());
        prop_assert!(run.replay());
        // A naive reference: scan everyone for every record.
        let mut loads: Vec<u32> = reviewers.iter().map(|r| r.load).collect();
        for (item, d) in items.iter().zip(&run.decisions) {
            let eligible: Vec<usize> = (0..reviewers.len()).filter(|&i| {
                let r = &reviewers[i];
                r.on_duty && r.county != item.county && r.qualified & (1 << item.class) != 0 && loads[i] < r.capacity
            }).collect();
            match &d.reviewer {
                None => prop_assert!(eligible.is_empty()),
                Some(id) => {
                    let min = eligible.iter().map(|&i| loads[i]).min().unwrap();
                    let tied = eligible.iter().filter(|&&i| loads[i] == min).count() as u32;
                    let chosen = reviewers.iter().position(|r| &r.id == id).unwrap();
                    prop_assert!(eligible.contains(&chosen));
                    prop_assert_eq!((loads[chosen], d.load, d.tied), (min, min, tied));
                    loads[chosen] += 1;
                }
            }
        }
    }
}
