//! Where a trace's companions can be, so that a store reads only the reports near the subject.
//!
//! A contact compares another's report with the subject's position at that moment, interpolated
//! between two of the subject's reports at most [`MAX_GAP_MINUTES`] apart, or else its report
//! within the trace's same-time minutes, at most
//! [`MAX_SAME_TIME_MINUTES`](super::MAX_SAME_TIME_MINUTES) (see [`contacts`](super::contacts)).
//! So a report at time t can count only if it lies within the distance of the box around the
//! subject's reports either side of t, each within the gap of it. The window is cut into slices
//! of [`SLICE_MINUTES`], halved while that cuts the area to read by a quarter (a subject moving
//! diagonally); each slice's box is the subject's reports in and either side of it, widened by
//! the distance. Reading only inside the boxes gives exactly the contacts that reading
//! everything gives (a property test checks it), but reads a few thousand reports instead of a
//! province's 72 hours.

use chrono::{DateTime, Duration, Utc};

use super::{EARTH_RADIUS, MAX_GAP_MINUTES, MAX_SAME_TIME_MINUTES, Position};

/// The length of one slice of the window: short enough that a vessel's box stays small, long
/// enough that a month's trace is a few hundred boxes.
const SLICE_MINUTES: i64 = 60;

/// A slice is halved while its halves' boxes together cover at most three quarters of its own
/// box, but a slice shorter than twice this is not halved (an hour becomes slices of 7½ minutes
/// at the least).
const MIN_SLICE_MINUTES: i64 = 5;

/// A part of the window, `[from, to)`, and the area (degrees, bounds included) in which a
/// report of that time may be within the distance of the subject.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchBox {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub west: f64,
    pub east: f64,
    pub south: f64,
    pub north: f64,
}

impl SearchBox {
    /// True if a report at `at`, `lon`, `lat` lies in the box.
    pub fn holds(&self, at: DateTime<Utc>, lon: f64, lat: f64) -> bool {
        self.from <= at && at < self.to && (self.west..=self.east).contains(&lon) && (self.south..=self.north).contains(&lat)
    }
}

/// The boxes covering the window `(at − hours, at]` of a trace within `metres`, from the
/// subject's reports (`track`, by time: those of `[at − hours − gap, at + gap]` at least, the
/// ones [`contacts`](super::contacts) places it by).
/// Slices with no report of the subject near them have no box: nobody can be near it there.
pub fn search_boxes(track: &[&Position], at: DateTime<Utc>, hours: i64, metres: f64) -> Vec<SearchBox> {
    let slice = Duration::minutes(SLICE_MINUTES);
    // The last slice runs a second past `at`, so that it holds the reports at `at`: the stores
    // keep times to the microsecond, and a slice ending a nanosecond after `at` would be empty.
    let end = at + Duration::seconds(1);
    let mut boxes = Vec::new();
    let mut from = at - Duration::hours(hours);
    while from < end {
        let to = (from + slice).min(end);
        slice_boxes(track, (from, to), widened(placing(track, from, to), metres), metres, &mut boxes);
        from = to;
    }
    boxes
}

/// A box's area in square degrees: enough to compare boxes of one place.
type Area = (f64, f64, f64, f64);

fn extent(area: Option<Area>) -> f64 {
    area.map_or(0.0, |(west, east, south, north)| (east - west) * (north - south))
}

/// Pushes the box of the slice `[from, to)` (`area`: the subject's reports placing it there,
/// widened; None for none, and no box); or, where halving the slice cuts the area to read
/// by a quarter or more (a subject moving diagonally: a car's hour is a box tens of kilometres
/// wide, its halves two boxes half as wide and high), the boxes of its halves, down to slices
/// of [`MIN_SLICE_MINUTES`] or a little more.
fn slice_boxes(
    track: &[&Position],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    area: Option<Area>,
    metres: f64,
    boxes: &mut Vec<SearchBox>,
) {
    let Some(area) = area else { return };
    if to - from >= Duration::minutes(2 * MIN_SLICE_MINUTES) {
        let mid = from + (to - from) / 2;
        let (early, late) = (widened(placing(track, from, mid), metres), widened(placing(track, mid, to), metres));
        if extent(early) + extent(late) <= 0.75 * extent(Some(area)) {
            slice_boxes(track, (from, mid), early, metres, boxes);
            slice_boxes(track, (mid, to), late, metres, boxes);
            return;
        }
    }
    let (west, east, south, north) = area;
    boxes.push(SearchBox { from, to, west, east, south, north });
}

// `where_at` finds the subject at its report within the same-time minutes only among the two
// reports either side of the time, which `placing` holds when they are within the gap.
const _: () = assert!(MAX_SAME_TIME_MINUTES <= MAX_GAP_MINUTES);

/// The subject's reports that can place it at a time in `[from, to)` (`where_at` in
/// [`contacts`](super::contacts)): those in the slice, the last before it and the first after
/// it. It is placed at a report, or interpolated between the two either side of the time when
/// they are at most the gap apart, or else found at one of those two within the same-time
/// minutes (at most the gap): so a report before or after the slice counts only within the
/// gap of it.
fn placing<'t, 'p>(track: &'t [&'p Position], from: DateTime<Utc>, to: DateTime<Utc>) -> &'t [&'p Position] {
    let gap = Duration::minutes(MAX_GAP_MINUTES);
    let (first_in, first_after) = (track.partition_point(|p| p.at < from), track.partition_point(|p| p.at < to));
    let lo = match first_in.checked_sub(1) {
        Some(i) if track[i].at >= from - gap => i,
        _ => first_in,
    };
    let hi = match track.get(first_after) {
        Some(p) if p.at <= to + gap => first_after + 1,
        _ => first_after,
    };
    &track[lo..hi]
}

/// The box around `reports` widened by `metres` on the sphere, with a little room for rounding;
/// None for no reports. A point within `metres` of a point in the box lies in the widened one:
/// its latitude differs by at most metres ÷ R (radians), and by haversine its longitude by at
/// most 2·asin(sin(metres ÷ 2R) ÷ cos φ), φ the highest latitude of either.
fn widened(reports: &[&Position], metres: f64) -> Option<Area> {
    let first = reports.first()?;
    let (mut west, mut east, mut south, mut north) = (first.lon, first.lon, first.lat, first.lat);
    for p in reports {
        (west, east) = (west.min(p.lon), east.max(p.lon));
        (south, north) = (south.min(p.lat), north.max(p.lat));
    }
    let room = |degrees: f64| degrees * (1.0 + 1e-9) + 1e-9;
    let dlat = room((metres / EARTH_RADIUS).to_degrees());
    let (south, north) = ((south - dlat).max(-90.0), (north + dlat).min(90.0));
    let highest = south.abs().max(north.abs()).to_radians();
    let ratio = (metres / (2.0 * EARTH_RADIUS)).sin() / highest.cos();
    let dlon = if ratio < 1.0 { room((2.0 * ratio.asin()).to_degrees()) } else { f64::INFINITY };
    if west - dlon < -180.0 || east + dlon > 180.0 {
        // Near a pole or across the date line: every longitude.
        return Some((-180.0, 180.0, south, north));
    }
    Some((west - dlon, east + dlon, south, north))
}

#[cfg(test)]
mod tests {
    use super::super::{MAX_SAME_TIME_MINUTES, contacts, distance_metres, track};
    use super::*;
    use proptest::prelude::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z").unwrap().to_utc()
    }

    fn at_minute(id: &str, minute: i64, lon: f64, lat: f64) -> Position {
        Position { id: id.into(), at: t0() + Duration::minutes(minute), lon, lat }
    }

    #[test]
    fn a_slice_far_from_the_subject_has_no_box() {
        // Reports at minutes 0 and 10, then silence until minute 300: the slices of hours 2 and 3
        // have no report within half an hour of them.
        let reports = [at_minute("S", 0, 121.0, 29.0), at_minute("S", 10, 121.01, 29.0), at_minute("S", 300, 121.02, 29.0)];
        let track: Vec<&Position> = reports.iter().collect();
        let boxes = search_boxes(&track, reports[2].at, 5, 500.0);
        let hours: Vec<i64> = boxes.iter().map(|b| (b.from - t0()).num_hours()).collect();
        assert_eq!(hours, [0, 4, 5]);
        // The first box: the two reports, widened by about 500 m (0.0045° of latitude).
        let first = boxes[0];
        assert!((first.south - (29.0 - 0.0045)).abs() < 1e-4 && (first.north - (29.0 + 0.0045)).abs() < 1e-4, "{first:?}");
        assert!(first.west < 121.0 - 0.005 && first.east > 121.01 + 0.005, "{first:?}");
        // The last slice ends a second after `at`, so a report at `at` itself is searched, even
        // by a store that keeps times to the microsecond.
        assert!(boxes[2].holds(reports[2].at, 121.02, 29.0));
        assert_eq!(boxes[2].to - reports[2].at, Duration::seconds(1));
        assert!(search_boxes(&[], reports[2].at, 5, 500.0).is_empty());
    }

    #[test]
    fn a_diagonal_run_is_searched_in_short_slices() {
        // A car reporting every minute, 0.01° north-east a minute (about 80 km/h at 30°N), for
        // two hours; traced over the last hour. One box for the hour would be over 0.6° square
        // (more than 36 hundredths of a square degree); its halves, quarters and eighths each
        // cut the area read by more than a quarter, so the hour is eight slices of 7½ minutes,
        // their boxes about 0.09° square, and the last slice is the second at `at`.
        let run: Vec<Position> = (0..=120).map(|m| at_minute("S", m, 121.0 + 0.01 * m as f64, 29.0 + 0.01 * m as f64)).collect();
        let track: Vec<&Position> = run.iter().collect();
        let boxes = search_boxes(&track, run[120].at, 1, 500.0);
        let lengths: Vec<i64> = boxes.iter().map(|b| (b.to - b.from).num_seconds()).collect();
        assert_eq!(lengths, [450, 450, 450, 450, 450, 450, 450, 450, 1], "{boxes:?}");
        let area: f64 = boxes.iter().map(|b| (b.east - b.west) * (b.north - b.south)).sum();
        assert!(area < 0.36 / 4.0, "boxes of {area} square degrees in all");
        assert!(boxes.windows(2).all(|w| w[0].to == w[1].from), "the slices cover the hour without gaps");
        // Due east instead: halving a slice halves its width but not its height, and the area is
        // the same; the hour stays one slice (and the second at `at` another).
        let east: Vec<Position> = (0..=120).map(|m| at_minute("S", m, 121.0 + 0.01 * m as f64, 29.0)).collect();
        let boxes = search_boxes(&east.iter().collect::<Vec<_>>(), east[120].at, 1, 500.0);
        assert_eq!(boxes.iter().map(|b| (b.to - b.from).num_seconds()).collect::<Vec<_>>(), [3600, 1], "{boxes:?}");
    }

    #[test]
    fn near_a_pole_or_the_date_line_every_longitude_is_searched() {
        let polar = [at_minute("S", 0, 10.0, 89.999)];
        let b = search_boxes(&polar.iter().collect::<Vec<_>>(), polar[0].at, 1, 1_000.0);
        assert_eq!((b[0].west, b[0].east, b[0].north), (-180.0, 180.0, 90.0));
        let dateline = [at_minute("S", 0, 179.9999, 0.0)];
        let b = search_boxes(&dateline.iter().collect::<Vec<_>>(), dateline[0].at, 1, 1_000.0);
        assert_eq!((b[0].west, b[0].east), (-180.0, 180.0));
    }

    /// The point `metres` from (`lon`, `lat`) along `bearing` (radians from north), on the sphere.
    fn destination(lon: f64, lat: f64, metres: f64, bearing: f64) -> (f64, f64) {
        let (phi, lambda, delta) = (lat.to_radians(), lon.to_radians(), metres / EARTH_RADIUS);
        let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * bearing.cos()).asin();
        let lambda2 = lambda + (bearing.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
        (lambda2.to_degrees(), phi2.to_degrees())
    }

    fn walk() -> impl Strategy<Value = (Vec<Position>, f64)> {
        // A subject (b0) wandering near a spot at any latitude to ±80°, reporting at irregular
        // minutes with silences; four others who report either anywhere near, or about the
        // distance away (half to one and a half times it, in any direction) from where the
        // subject was at that minute, so that many fall just inside or just outside it; a
        // distance of 10 m to 20 km.
        // The subject's steps: minutes since its last report (1 to 35: often more than the
        // 30-minute silence, often just under it, sometimes a minute as a car's terminal) and a
        // move.
        let subject = (0i64..90, proptest::collection::vec((1i64..36, -0.05f64..0.05, -0.05f64..0.05), 1..40));
        let near = (1usize..5, 0usize..60, 0.0f64..1.0, 0.5f64..1.5, 0.0f64..std::f64::consts::TAU);
        let anywhere = (1usize..5, 0i64..600, -0.05f64..0.05, -0.05f64..0.05);
        let others = (proptest::collection::vec(near, 0..100), proptest::collection::vec(anywhere, 0..60));
        // Half the subjects barely move (at anchor, or drifting): their boxes are as tight as
        // they get, and a report just outside the distance is just outside the box.
        let spread = prop_oneof![Just(0.0), 0.0f64..0.01, 0.01f64..0.2, Just(1.0)];
        // The distance, from 10 m to 20 km evenly on a log scale: as often near a step's length
        // as far above it.
        let metres = (1.0f64..4.3).prop_map(|e| 10f64.powf(e));
        (-80.0f64..80.0, -179.0f64..179.0, subject, spread, others, metres).prop_map(
            |(lat, lon, subject, spread, (near, anywhere), metres)| {
                let (first, steps) = subject;
                let (mut minute, mut x, mut y) = (first, 0.0, 0.0);
                let mut subject = Vec::new();
                for (gap, dx, dy) in steps {
                    subject.push((minute, x, y));
                    (minute, x, y) = (minute + gap, x + dx * spread, y + dy * spread);
                }
                let mut reports: Vec<Position> =
                    subject.iter().map(|&(minute, dx, dy)| at_minute("b0", minute, lon + dx, lat + dy)).collect();
                // Where the subject was at a minute between two of its reports (or at one).
                for (who, i, part, share, bearing) in near {
                    let (m0, x0, y0) = subject[i % subject.len()];
                    let (m1, x1, y1) = subject[(i % subject.len() + 1).min(subject.len() - 1)];
                    let minute = m0 + ((m1 - m0) as f64 * part).floor() as i64;
                    let f = if m1 > m0 { (minute - m0) as f64 / (m1 - m0) as f64 } else { 0.0 };
                    let (x, y) = (lon + x0 + f * (x1 - x0), lat + y0 + f * (y1 - y0));
                    let (x, y) = destination(x, y, share * metres, bearing);
                    reports.push(at_minute(&format!("b{who}"), minute, x, y));
                }
                for (who, minute, dx, dy) in anywhere {
                    reports.push(at_minute(&format!("b{who}"), minute, lon + dx, lat + dy));
                }
                (reports, metres)
            },
        )
    }

    proptest! {
        // Many cases: a contact lost at a slice's edge needs a rare draw (a silence, a move and
        // a companion all near the edge), and each case takes microseconds.
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// Reading only what lies in the boxes finds the same contacts as reading everything.
        #[test]
        fn the_boxes_lose_no_contact((reports, metres) in walk(), hours in 1i64..11, same in 0i64..=MAX_SAME_TIME_MINUTES) {
            let at = t0() + Duration::minutes(600);
            let mut subject: Vec<&Position> = reports.iter().filter(|p| p.id == "b0").collect();
            subject.sort_by_key(|p| p.at);
            let boxes = search_boxes(&subject, at, hours, metres);
            let near: Vec<Position> = reports
                .iter()
                .filter(|p| p.id == "b0" || boxes.iter().any(|b| b.holds(p.at, p.lon, p.lat)))
                .cloned()
                .collect();
            prop_assert_eq!(contacts(&near, "b0", at, hours, metres, same), contacts(&reports, "b0", at, hours, metres, same));
            prop_assert_eq!(track(&near, "b0", at, hours), track(&reports, "b0", at, hours));
            // No report lies in two boxes: the slices do not overlap, so nothing is read twice.
            for p in reports.iter().filter(|p| p.id != "b0") {
                prop_assert!(boxes.iter().filter(|b| b.holds(p.at, p.lon, p.lat)).count() <= 1);
            }
        }

        /// A point exactly the distance away, in any direction, lies in the widened box.
        #[test]
        fn the_widening_holds_every_point_at_the_distance(
            lat in -85.0f64..85.0, lon in -170.0f64..170.0, metres in 1.0f64..100_000.0, bearing in 0.0f64..std::f64::consts::TAU,
        ) {
            let here = at_minute("S", 0, lon, lat);
            let (west, east, south, north) = widened(&[&here], metres).unwrap();
            let there = destination(lon, lat, metres, bearing);
            prop_assume!((distance_metres((lon, lat), there) - metres).abs() < 1e-3);
            prop_assert!((west..=east).contains(&there.0) || west == -180.0, "{there:?} not in {west}..{east}");
            prop_assert!((south..=north).contains(&there.1), "{there:?} not in {south}..{north}");
        }
    }
}
