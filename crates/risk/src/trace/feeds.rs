//! Where the feeds that saw one subject disagree on where it was (位置数据不一致): a wrong fix,
//! a spoofed transponder, a clock that is off. A trace reads the subject's reports from every
//! feed its reader may read (a feed: one source of one county) and builds one track from them,
//! so the analyst must know where the feeds part. Two comparisons:
//!
//! - **Copies stamped with the same time** (one report received by two counties' feeds) lie
//!   within [`DISAGREE_METRES`] of each other.
//! - **A report between two of another feed's reports** lies near where that feed places the
//!   subject at that moment: interpolated between its reports either side, at most
//!   [`MAX_GAP_MINUTES`] apart, the way the trace places the subject for its companions. The
//!   subject may have changed speed between them, or gone out and back, so the allowance is
//!   [`DISAGREE_METRES`] plus the larger of the distance between those two reports (a subject
//!   going straight from one to the other, at any speeds, is within it) and how far it could
//!   stray from that line at the speed the feeds saw it move meanwhile (a trawler or a patrol
//!   turning back between two reports of a sparse feed). Two feeds that report at different
//!   moments and disagree make the track zigzag between them; this is what flags it. A clock
//!   that is off shows where the subject starts, stops or turns, if it moves further in the
//!   offset than the allowance.
//!
//! Not compared: a report before another feed's first or after its last, or across a silence of
//! that feed longer than the gap (nothing places the subject there but the report itself).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{MAX_GAP_MINUTES, distance_metres, interpolate};

/// Copies of one report further apart than this disagree: well above the error of a
/// satellite fix and the rounding of a feed's format, well below the default contact distance.
/// It is also the fix error a report between another feed's is allowed beyond the subject's
/// possible course.
pub const DISAGREE_METRES: f64 = 100.0;

/// One of the subject's reports, with the feed that sent it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeedReport<'r> {
    pub source: &'r str,
    /// The county the feed serves (empty: a feed of no county).
    pub region: &'r str,
    pub at: DateTime<Utc>,
    pub lon: f64,
    pub lat: f64,
}

/// One finding of the feeds disagreeing on where the subject was: at one time, the copies of
/// that time; or one report against one other feed's reports either side (a report off two
/// other feeds' courses is two findings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Disagreement {
    pub at: DateTime<Utc>,
    /// The greatest distance between two of the copies, in metres.
    pub metres: f64,
    /// The distance the copies may lie apart: [`DISAGREE_METRES`], plus for a place
    /// interpolated the distance between the two reports it is interpolated from, or how far
    /// the subject could stray from them at the speed the feeds saw it move, if more.
    pub allowed_metres: f64,
    /// Copies stamped with the same time: every feed's, by county code (a feed of no county
    /// first); the first is the copy the track and the contacts use. A report between another
    /// feed's: the report, then where the other feed places the subject then.
    pub copies: Vec<FeedCopy>,
}

/// One feed's place for the subject at the disagreement's time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedCopy {
    pub source: String,
    /// The county the feed serves (empty: a feed of no county).
    pub region: String,
    pub lon: f64,
    pub lat: f64,
    /// None: the feed's report at that time. Some: no report then; the place is interpolated
    /// between the feed's reports at these two times.
    pub between: Option<[DateTime<Utc>; 2]>,
}

impl FeedCopy {
    fn of(report: &FeedReport<'_>) -> FeedCopy {
        FeedCopy {
            source: report.source.to_owned(),
            region: report.region.to_owned(),
            lon: report.lon,
            lat: report.lat,
            between: None,
        }
    }
}

/// Every disagreement among one subject's `reports` (any order), by time; at one time, the
/// copies stamped with it first, then the reports between another feed's, by their feed.
pub fn disagreements(reports: &[FeedReport<'_>]) -> Vec<Disagreement> {
    let mut sorted: Vec<&FeedReport<'_>> = reports.iter().collect();
    sorted.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| (a.region, a.source).cmp(&(b.region, b.source))));
    let mut found = same_time(&sorted);
    found.extend(between_reports(&sorted));
    // At one time, the copies of that time before the reports between (the sort is stable, so
    // each keeps its order within).
    found.sort_by_key(|d| (d.at, d.copies.iter().any(|c| c.between.is_some())));
    found
}

/// The times at which copies stamped with the same time lie more than [`DISAGREE_METRES`]
/// apart (`sorted` by time and feed).
fn same_time(sorted: &[&FeedReport<'_>]) -> Vec<Disagreement> {
    sorted
        .chunk_by(|a, b| a.at == b.at)
        .filter(|copies| copies.len() > 1)
        .filter_map(|copies| {
            let metres = copies
                .iter()
                .enumerate()
                .flat_map(|(i, a)| copies[i + 1..].iter().map(move |b| (a, b)))
                .map(|(a, b)| distance_metres((a.lon, a.lat), (b.lon, b.lat)))
                .fold(0.0, f64::max);
            (metres > DISAGREE_METRES).then(|| Disagreement {
                at: copies[0].at,
                metres,
                allowed_metres: DISAGREE_METRES,
                copies: copies.iter().map(|r| FeedCopy::of(r)).collect(),
            })
        })
        .collect()
}

/// One feed's reports of the subject, by time, and the speed of each leg between two of them
/// (metres a second; None across a silence longer than the gap, which is no leg).
struct Feed<'f, 'r> {
    reports: Vec<&'f FeedReport<'r>>,
    legs: Vec<Option<f64>>,
}

impl<'f, 'r> Feed<'f, 'r> {
    fn new(reports: Vec<&'f FeedReport<'r>>) -> Self {
        let gap = Duration::minutes(MAX_GAP_MINUTES);
        let legs = reports
            .windows(2)
            .map(|pair| {
                let (a, b) = (pair[0], pair[1]);
                (b.at - a.at <= gap).then(|| distance_metres((a.lon, a.lat), (b.lon, b.lat)) / seconds(b.at - a.at))
            })
            .collect();
        Feed { reports, legs }
    }
}

type Feeds<'f, 'r> = BTreeMap<(&'r str, &'r str), Feed<'f, 'r>>;

/// Each report that lies further than allowed from where another feed places the subject at
/// its time, between that feed's reports either side (`sorted` by time and feed).
fn between_reports(sorted: &[&FeedReport<'_>]) -> Vec<Disagreement> {
    let mut grouped: BTreeMap<(&str, &str), Vec<&FeedReport<'_>>> = BTreeMap::new();
    for report in sorted {
        grouped.entry((report.region, report.source)).or_default().push(report);
    }
    let feeds: Feeds<'_, '_> = grouped.into_iter().map(|(key, reports)| (key, Feed::new(reports))).collect();
    let mut speeds = Vec::new();
    let mut found = Vec::new();
    for report in sorted {
        for (other, feed) in &feeds {
            if *other == (report.region, report.source) {
                continue;
            }
            let theirs = &feed.reports;
            let i = theirs.partition_point(|q| q.at < report.at);
            // A copy of the same time is compared as such; no report either side, or a
            // silence longer than the gap: nothing places the subject then.
            if i == 0 || i == theirs.len() || theirs[i].at == report.at || feed.legs[i - 1].is_none() {
                continue;
            }
            let (before, after) = (theirs[i - 1], theirs[i]);
            let place = interpolate((before.at, before.lon, before.lat), (after.at, after.lon, after.lat), report.at);
            let metres = distance_metres((report.lon, report.lat), place);
            let speed = seen_speed(&feeds, report, (before.at, after.at), &mut speeds);
            let allowed_metres = DISAGREE_METRES + leeway(report, (before, after), speed);
            if metres > allowed_metres {
                let placed = FeedCopy {
                    source: other.1.to_owned(),
                    region: other.0.to_owned(),
                    lon: place.0,
                    lat: place.1,
                    between: Some([before.at, after.at]),
                };
                found.push(Disagreement { at: report.at, metres, allowed_metres, copies: vec![FeedCopy::of(report), placed] });
            }
        }
    }
    found
}

/// How far from where the other feed's reports `before` and `after` place the subject at
/// `report`'s time it may have been (metres, the fix error aside): the distance between those
/// two reports (a straight course, at any speeds), or if more, how far it could stray at the
/// `speed` the feeds saw it move meanwhile ([`seen_speed`]): it may have gone out and back
/// between them (a trawler, a patrol), which the distance between them does not show.
fn leeway(report: &FeedReport<'_>, (before, after): (&FeedReport<'_>, &FeedReport<'_>), speed: f64) -> f64 {
    let step = distance_metres((before.lon, before.lat), (after.lon, after.lat));
    let (since, until) = (seconds(report.at - before.at), seconds(after.at - report.at));
    let share = since / (since + until);
    // At that speed the subject was within speed × (t − t₀) of the first report, which lies a
    // share of the step from the place interpolated; likewise from the second.
    let stray = (speed * since + share * step).min(speed * until + (1.0 - share) * step);
    step.max(stray)
}

/// A duration in seconds, to the millisecond.
fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// The speed (metres a second) at which the feeds saw the subject move around the time from
/// `from` to `to`: the median over every feed's legs (consecutive reports at most the gap
/// apart) whose span overlaps that time or as long again either side, leaving out those ending
/// at `report` (a wrong fix must not make its own allowance). Either side too, so that where
/// the subject turns back between `from` and `to` its speed before and after counts, not only
/// the little headway of that stretch. The median, so that a few wrong fixes among them do not
/// make every report fit. `speeds` is scratch space.
fn seen_speed(
    feeds: &Feeds<'_, '_>,
    report: &FeedReport<'_>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    speeds: &mut Vec<f64>,
) -> f64 {
    let span = to - from;
    let (from, to) = (from - span, to + span);
    speeds.clear();
    for feed in feeds.values() {
        let reports = &feed.reports;
        let first = reports.partition_point(|q| q.at <= from).saturating_sub(1);
        for (i, speed) in feed.legs.iter().enumerate().skip(first) {
            let (a, b) = (reports[i], reports[i + 1]);
            if a.at >= to {
                break;
            }
            let Some(speed) = speed else { continue };
            if b.at > from && !std::ptr::eq(a, report) && !std::ptr::eq(b, report) {
                speeds.push(*speed);
            }
        }
    }
    if speeds.is_empty() {
        return 0.0;
    }
    let middle = speeds.len() / 2;
    *speeds.select_nth_unstable_by(middle, f64::total_cmp).1
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn at(minute: f64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap() + Duration::milliseconds((minute * 60_000.0).round() as i64)
    }

    /// Each finding's time and the county of the report flagged.
    fn flagged(reports: &[FeedReport<'_>]) -> Vec<(DateTime<Utc>, String)> {
        disagreements(reports).iter().map(|d| (d.at, d.copies[0].region.clone())).collect()
    }

    fn report<'r>(region: &'r str, source: &'r str, minute: f64, lon: f64, lat: f64) -> FeedReport<'r> {
        FeedReport { source, region, at: at(minute), lon, lat }
    }

    /// About 111 m of latitude.
    const NORTH_111M: f64 = 0.001;

    #[test]
    fn copies_of_one_time_disagree_beyond_a_fix_error() {
        let reports = [
            report("330903", "ais", 0.0, 122.3, 30.0),
            report("330921", "ais", 0.0, 122.3, 30.0 + 0.0004), // 44 m: a fix's error
            report("330903", "ais", 10.0, 122.3, 30.0),
            report("330902", "beidou", 10.0, 122.3, 30.0 + 2.0 * NORTH_111M),
            report("330921", "ais", 10.0, 122.3, 30.0),
        ];
        let found = disagreements(&reports);
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert_eq!((d.at, d.allowed_metres), (at(10.0), DISAGREE_METRES));
        assert!((d.metres - 222.4).abs() < 1.0, "{}", d.metres);
        let feeds: Vec<&str> = d.copies.iter().map(|c| c.region.as_str()).collect();
        assert_eq!(feeds, ["330902", "330903", "330921"], "every copy, by county");
        assert!(d.copies.iter().all(|c| c.between.is_none()));
    }

    #[test]
    fn a_report_off_the_other_feeds_path_disagrees() {
        // 普陀区's feed: a boat sailing east, a report every 2 minutes, about 190 m apart.
        let mut reports: Vec<FeedReport<'_>> =
            (0..=10).map(|i| report("330903", "ais", 2.0 * f64::from(i), 122.3 + 0.002 * f64::from(i), 30.0)).collect();
        // 岱山县's feed reports at odd minutes: on the line at minute 3, 333 m north of it at
        // minute 7 (allowed: 100 m and the 193 m between 普陀区's reports at 6 and 8).
        reports.push(report("330921", "beidou", 3.0, 122.303, 30.0));
        reports.push(report("330921", "beidou", 7.0, 122.307, 30.0 + 3.0 * NORTH_111M));
        let found = disagreements(&reports);
        let d = found.iter().find(|d| d.copies[0].region == "330921").expect("the report off the path");
        assert_eq!(d.at, at(7.0));
        assert!((d.metres - 333.6).abs() < 1.0 && (d.allowed_metres - 100.0 - 192.7).abs() < 1.0, "{d:?}");
        let placed = &d.copies[1];
        assert_eq!((placed.region.as_str(), placed.between), ("330903", Some([at(6.0), at(8.0)])));
        assert!((placed.lon - 122.307).abs() < 1e-9 && (placed.lat - 30.0).abs() < 1e-9, "{placed:?}");
        // 普陀区's report at 6 is 250 m from where 岱山县's reports at 3 and 7 place the boat, but
        // those two are 509 m apart: within the allowance. Its others are before 岱山县's first
        // report or after its last. The report at 3 lies on the line.
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn no_comparison_outside_the_other_feeds_reports_or_across_its_silence() {
        let reports = [
            report("330903", "ais", 0.0, 122.3, 30.0),
            report("330903", "ais", 40.0, 122.3, 30.0),
            // Far off, but before 普陀区's first report, across its 40-minute silence, after its
            // last; and 岱山县's own silences (51 and 35 minutes) place nothing at 0 and 40.
            report("330921", "ais", -31.0, 122.5, 30.2),
            report("330921", "ais", 20.0, 122.5, 30.2),
            report("330921", "ais", 55.0, 122.5, 30.2),
        ];
        assert!(disagreements(&reports).is_empty());
        // 岱山县's silence of 30 minutes exactly places the subject.
        let placed = [reports[0], reports[1], report("330921", "ais", -10.0, 122.5, 30.2), reports[3], reports[4]];
        let found = disagreements(&placed);
        assert_eq!(found.iter().map(|d| (d.at, d.copies[0].region.as_str())).collect::<Vec<_>>(), [(at(0.0), "330903")]);
    }

    #[test]
    fn a_clock_off_shows_where_the_subject_starts_and_stops() {
        // The boat lies at anchor, sails north for 10 minutes at 6.7 km/h and anchors again.
        // 普陀区's feed reports at even minutes and is right; 岱山县's at odd minutes, but its
        // clock runs two and a half minutes late. Under way, the 278 m the late clock makes is
        // within the allowance (100 m and the 222 m between two reports); where the boat starts
        // and stops, it is not.
        let true_lat = |minute: f64| 30.0 + 0.001 * (minute - 10.0).clamp(0.0, 10.0);
        let even = (0..=20).map(|i| 2.0 * f64::from(i));
        let mut reports: Vec<FeedReport<'_>> = even.clone().map(|m| report("330903", "ais", m, 122.3, true_lat(m))).collect();
        reports.extend(even.map(|m| report("330921", "ais", m + 1.0, 122.3, true_lat(m + 1.0 - 2.5))));
        assert_eq!(flagged(&reports), [(at(12.0), "330903".to_owned()), (at(21.0), "330921".to_owned())]);
    }

    #[test]
    fn a_trawler_turning_back_between_two_reports_agrees_and_a_wrong_fix_does_not() {
        // 普陀区's AIS reports every minute: the boat trawls 600 m east and back in 12 minutes
        // (100 m a minute). 岱山县's Beidou terminal reports at minutes 0 and 12, both at the
        // start: the straight line between them is no line at all.
        let east = |minute: f64| 122.3 + 0.001_04 * (6.0 - (minute - 6.0).abs());
        let ais = |minute: f64, lat: f64| report("330903", "ais", minute, east(minute), lat);
        let mut reports: Vec<FeedReport<'_>> = (0..=12).map(|m| ais(f64::from(m), 30.0)).collect();
        reports.push(report("330921", "beidou", 0.0, 122.3, 30.0));
        reports.push(report("330921", "beidou", 12.0, 122.3, 30.0));
        assert!(disagreements(&reports).is_empty(), "{:?}", disagreements(&reports));
        // Two wrong fixes in a row, 2 km north: flagged, though the jumps to and from them are
        // fast (the median speed is the trawl's); the other reports still agree.
        for m in [4, 5] {
            reports[m] = ais(m as f64, 30.018);
        }
        assert_eq!(flagged(&reports), [(at(4.0), "330903".to_owned()), (at(5.0), "330903".to_owned())]);
    }

    #[test]
    fn a_turn_between_two_reports_of_a_dense_feed_agrees() {
        // A car at 80 km/h (22 m a second) drives to the end of a road and back, turning at
        // second 45. 普陀区's feed reports every 10 seconds, 岱山县's 5 seconds later: 普陀区's
        // reports at 40 and 50 are one place, 岱山县's at 45 is 111 m beyond it. The speed
        // either side of those ten seconds says the car could be there.
        let north = |second: f64| 30.0 + 0.0002 * (45.0 - (second - 45.0).abs());
        let feed = |region: &'static str, second: f64| report(region, "ais", second / 60.0, 122.3, north(second));
        let mut reports: Vec<FeedReport<'_>> = (0..10).map(|i| feed("330903", 10.0 * f64::from(i))).collect();
        reports.extend((0..10).map(|i| feed("330921", 10.0 * f64::from(i) + 5.0)));
        assert!(disagreements(&reports).is_empty(), "{:?}", disagreements(&reports));
    }

    #[test]
    fn the_order_is_by_time_and_the_copies_of_one_time_first() {
        let reports = [
            report("330921", "ais", 5.0, 122.31, 30.0),
            report("330902", "ais", 5.0, 122.30, 30.0),
            report("330903", "ais", 0.0, 122.3, 30.0),
            report("330903", "ais", 10.0, 122.3, 30.0),
        ];
        let found = disagreements(&reports);
        let rows: Vec<(DateTime<Utc>, &str, bool)> =
            found.iter().map(|d| (d.at, d.copies[0].region.as_str(), d.copies[1].between.is_some())).collect();
        assert_eq!(rows, [(at(5.0), "330902", false), (at(5.0), "330921", true)], "{found:?}");
    }

    proptest! {
        /// A subject going straight, at any speeds, reported exactly by any feeds at any
        /// times: no feed disagrees with another.
        #[test]
        fn a_straight_course_at_any_speeds_never_disagrees(
            start in (121.0f64..123.0, 28.0f64..31.0),
            heading in (-0.1f64..0.1, -0.1f64..0.1),
            steps in prop::collection::vec((0.0f64..1.0, 0u8..3, 0.0f64..20.0), 2..60),
        ) {
            // The share of the course run by each report's time grows with time (any speeds,
            // stops included); each report goes to one of three feeds.
            let mut minute = 0.0;
            let mut run = 0.0;
            let total: f64 = steps.iter().map(|s| s.0).sum::<f64>().max(1e-9);
            let feeds = ["330902", "330903", "330921"];
            let reports: Vec<FeedReport<'_>> = steps
                .iter()
                .map(|&(advance, feed, minutes)| {
                    minute += minutes + 0.01;
                    run += advance / total;
                    report(feeds[usize::from(feed)], "ais", minute, start.0 + run * heading.0, start.1 + run * heading.1)
                })
                .collect();
            let found = disagreements(&reports);
            prop_assert!(found.is_empty(), "{:?}", found);
        }

        /// A report pushed sideways off another feed's course by more than the allowance is
        /// flagged, whatever the course's length and the report's time.
        #[test]
        fn a_report_off_the_course_is_flagged(
            speed in 0.0f64..0.002,
            minute in 0.5f64..9.5,
            off in 0.0f64..0.05,
        ) {
            let reports = [
                report("330903", "ais", 0.0, 122.3, 30.0),
                report("330903", "ais", 10.0, 122.3 + 10.0 * speed, 30.0),
                report("330921", "ais", minute, 122.3 + minute * speed, 30.0 + off),
            ];
            let step = distance_metres((122.3, 30.0), (122.3 + 10.0 * speed, 30.0));
            let sideways = distance_metres((122.3, 30.0), (122.3, 30.0 + off));
            let flagged = disagreements(&reports).iter().any(|d| d.at == at(minute));
            // Well inside or well outside the allowance (the curvature of the Earth aside).
            prop_assume!((sideways - DISAGREE_METRES - step).abs() > 1.0);
            prop_assert_eq!(flagged, sideways > DISAGREE_METRES + step);
        }
    }
}
