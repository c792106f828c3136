//! `fengqiao bench allocate`: the inspection-review allocation (issue 6) in memory on one core:
//! synthetic records of a city's counties to reviewers of the other counties. Targets: 10,000
//! records × 1,000 reviewers in ≤ 1 s, ≥ 1,000,000 decisions/s per core, max/mean load ≤ 1.05.

use std::collections::BTreeMap;
use std::time::Instant;

use fq_domain::inspection::{Allocation, Item, Ratios, Reviewer, plate_letter, simulate};
use fq_engine::city_county_weights;
use serde_json::json;

use crate::failure::{Failure, Outcome};

/// Runs of the whole batch; the median is reported.
const RUNS: usize = 5;

pub fn run(records: u32, reviewers: u32, city: &str, json: bool) -> Outcome {
    let letter =
        plate_letter(city).ok_or_else(|| Failure::new("region_not_city", format!("--city {city}: not a city of Zhejiang")))?;
    if records == 0 || reviewers < 2 {
        return Err(Failure::new("argument_invalid", "--records must be positive and --reviewers at least 2"));
    }
    let counties = city_county_weights(city)?;
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("a date");
    let items: Vec<Item> = simulate(letter, &counties, day, 1, records, 7)
        .into_iter()
        .map(|r| Item { id: r.id, county: r.county, class: r.class })
        .collect();
    // Reviewers spread over the counties by the same weights; one in twenty off duty; three in
    // five qualified for every class, the rest for passenger cars only.
    let total: f64 = counties.iter().map(|c| c.weight).sum();
    let mut people = Vec::with_capacity(reviewers as usize);
    let mut i = 0u32;
    for (n, county) in counties.iter().enumerate() {
        let share = if n + 1 == counties.len() {
            reviewers - i
        } else {
            ((f64::from(reviewers) * county.weight / total).round() as u32).min(reviewers - i)
        };
        for _ in 0..share {
            people.push(Reviewer {
                id: format!("{}-r{i:05}", county.code),
                county: county.code.clone(),
                capacity: 1_000,
                on_duty: i % 20 != 7,
                qualified: if i % 5 < 3 { 0b1111 } else { 0b0001 },
                load: 0,
            });
            i += 1;
        }
    }
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let allocation = Allocation::run(2026, Ratios::new(), people.clone(), items.clone());
        times.push(start.elapsed().as_secs_f64());
        last = Some(allocation);
    }
    times.sort_by(f64::total_cmp);
    let batch = times[RUNS / 2];
    let allocation = last.expect("at least one run");
    let own_county = allocation
        .decisions
        .iter()
        .zip(&allocation.items)
        .filter(|(d, item)| d.reviewer.as_deref().is_some_and(|r| r.starts_with(&item.county)))
        .count();
    let unallocated = allocation.decisions.iter().filter(|d| d.reviewer.is_none()).count();
    // Balance among those eligible for everything they could be given: the fully qualified on
    // duty (the passenger-car-only reviewers take a share of one class and are counted apart).
    let loads = allocation.loads();
    let balance = |filter: &dyn Fn(&Reviewer) -> bool| {
        let values: Vec<f64> = people.iter().filter(|r| filter(r)).map(|r| f64::from(loads[r.id.as_str()])).collect();
        let mean = values.iter().sum::<f64>() / values.len().max(1) as f64;
        let max = values.iter().copied().fold(0.0, f64::max);
        if mean > 0.0 { max / mean } else { 0.0 }
    };
    let overall = balance(&|r| r.on_duty);
    let all_classes = balance(&|r| r.on_duty && r.qualified == 0b1111);
    let cars_only = balance(&|r| r.on_duty && r.qualified == 0b0001);
    let replay_start = Instant::now();
    let replays = allocation.replay();
    let replay = replay_start.elapsed().as_secs_f64();
    let per_second = f64::from(records) / batch;
    let mut by_county: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &allocation.items {
        *by_county.entry(item.county.as_str()).or_default() += 1;
    }
    if json {
        println!(
            "{}",
            json!({
                "records": records,
                "reviewers": reviewers,
                "city": city,
                "counties": counties.len(),
                "batch_seconds": batch,
                "decisions_per_second_one_core": per_second,
                "max_over_mean_load": overall,
                "max_over_mean_load_all_classes": all_classes,
                "max_over_mean_load_cars_only": cars_only,
                "own_county_assignments": own_county,
                "unallocated": unallocated,
                "replays_identically": replays,
                "replay_seconds": replay,
                "targets": {"batch_seconds": 1.0, "decisions_per_second_one_core": 1_000_000.0, "max_over_mean_load": 1.05},
            })
        );
    } else {
        println!(
            "allocation of {records} synthetic records of city {city} ({} counties) to {reviewers} reviewers, one core",
            counties.len()
        );
        println!("  batch:          {:.1} ms (median of {RUNS}; target <= 1000 ms)", batch * 1000.0);
        println!("  decisions/s:    {per_second:.0} (target >= 1,000,000 per core)");
        println!(
            "  max/mean load:  {overall:.3} among on-duty reviewers ({all_classes:.3} of those qualified for every class, {cars_only:.3} of the passenger-car-only; target <= 1.05)"
        );
        println!("  own county:     {own_county} records (must be 0); unallocated: {unallocated}");
        println!("  replay:         {} in {:.1} ms", if replays { "identical" } else { "DIFFERENT" }, replay * 1000.0);
    }
    if own_county > 0 || !replays {
        return Err(Failure::new("bench_invariant_broken", "a record was given to its own county, or the batch did not replay"));
    }
    Ok(())
}
