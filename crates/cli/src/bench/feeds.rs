//! Where a subject's feeds disagree (`fq_risk::trace::disagreements`), at the scale of a busy
//! AIS subject, for `fengqiao bench risk`: the car of the trace bench seen for 72 hours by two
//! counties' feeds, each reporting every 10 seconds, 5 seconds apart (51,840 reports, the
//! most a trace of one subject reads from two shore stations), one report in 200 of the second
//! feed a wrong fix 2 km off the road. Every wrong fix must be found, and nothing else.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use fq_risk::trace::{FeedReport, disagreements};
use serde_json::{Value, json};

use super::store::failure;
use super::trace::on_the_road;
use crate::failure::Failure;

const HOURS: i64 = 72;
const EVERY_SECONDS: i64 = 10;
/// One report of the second feed in this many is a wrong fix.
const WRONG_EVERY: usize = 200;
/// Runs measured; the median is reported.
const RUNS: usize = 5;

/// The figures: the median seconds, the reports compared, the wrong fixes planted and found.
pub(super) fn measure() -> Result<Value, Failure> {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap_or_default();
    let steps = HOURS * 3600 / EVERY_SECONDS;
    let mut reports = Vec::new();
    let mut planted = 0;
    for (feed, (region, offset)) in [("330903", 0), ("330921", EVERY_SECONDS / 2)].into_iter().enumerate() {
        for step in 0..steps {
            let seconds = step * EVERY_SECONDS + offset;
            // Along the road and back, as the trace bench's car.
            let (lon, mut lat) = on_the_road(seconds as f64);
            if feed == 1 && step as usize % WRONG_EVERY == WRONG_EVERY / 2 {
                lat += 0.018;
                planted += 1;
            }
            reports.push(FeedReport { source: "ais", region, at: start + Duration::seconds(seconds), lon, lat });
        }
    }
    let mut samples = Vec::new();
    let mut found = Vec::new();
    for _ in 0..RUNS {
        let begin = Instant::now();
        found = disagreements(&reports);
        samples.push(begin.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    // Each wrong fix is found once, against the first feed's road, and nothing else is.
    let wrong = found.iter().filter(|d| d.copies[0].region == "330921" && d.metres > 1900.0).count();
    if wrong != planted || found.len() != planted {
        let other: Vec<String> = found
            .iter()
            .filter(|d| !(d.copies[0].region == "330921" && d.metres > 1900.0))
            .take(3)
            .map(|d| format!("{} {:.0} m (allowed {:.0}) {:?}", d.at, d.metres, d.allowed_metres, d.copies))
            .collect();
        return Err(failure(
            "disagreements",
            format!("{planted} wrong fixes planted, {wrong} of them found, {} findings; others: {other:?}", found.len()),
        ));
    }
    Ok(json!({
        "disagreements_seconds": samples[RUNS / 2],
        "disagreements_reports": reports.len(),
        "disagreements_wrong_fixes": planted,
        "disagreements_found": found.len(),
    }))
}
