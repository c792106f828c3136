//! `/trace` 72小时轨迹: for the risk programme's analysts, where a person or vessel was over the
//! hours before a time and who was with them, from the position feeds of the counties in the
//! analyst's scope (the engine decides which reports they read and journals every trace). The
//! subject is posted, never put in an address, so that no access log holds who was traced.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::{EngineError, Trace};
use serde::Serialize;

use super::display::{self, Names};
use super::forms::{Fault, Posted};
use super::i18n;
use super::layout::{self, Page, value};
use super::map::Projection;
use super::viewer::Viewer;
use crate::AppState;

/// The drawing's size, in SVG units.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
const MARGIN: f64 = 24.0;

/// The disagreements listed and drawn: a feed off by a kilometre for three days of reports
/// every ten seconds disagrees 26,000 times, which no one reads on a page; the workbook, the
/// API and the CLI give them all.
const DISAGREEMENTS_SHOWN: usize = 100;

#[derive(Debug, Serialize)]
struct Report {
    at: String,
    lon: String,
    lat: String,
}

#[derive(Debug, Serialize)]
struct With {
    id: String,
    closest: String,
    closest_at: String,
    reports: usize,
    from: String,
    to: String,
    /// Where on the drawing the subject was when they were closest.
    x: f64,
    y: f64,
}

/// A finding of the feeds disagreeing, each copy as "source county lon, lat".
#[derive(Debug, Serialize)]
struct Disagreement {
    at: String,
    apart: String,
    copies: Vec<String>,
}

/// `GET /trace`: the form.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer) -> Page {
    if !viewer.nav.trace {
        return Err(layout::denied(&state, &viewer));
    }
    let now = display::clock(state.engine.current_time(), "%Y-%m-%dT%H:%M");
    let same_minutes = fq_risk::trace::DEFAULT_SAME_TIME_MINUTES.to_string();
    let values = minijinja::context! { id => "", at => now, hours => "72", within => "500", same_minutes => same_minutes };
    let ctx = minijinja::context! { values => values, error => Option::<String>::None, error_field => Option::<String>::None };
    Ok(layout::page(&state, &viewer, "trace.html", ctx))
}

/// What the form asks.
struct Asked {
    id: String,
    at: DateTime<Utc>,
    hours: i64,
    within: f64,
    same_minutes: i64,
}

/// The form's fields read, or the fault of the first that is not a number or a time (the
/// engine checks their ranges).
fn asked(posted: &Posted, lang: i18n::Lang) -> Result<Asked, Fault> {
    let fault = |field: &str, key: &str| Fault::on(field, i18n::text(lang, key));
    let at = local_time(&posted.text("at")).ok_or_else(|| fault("at", "trace.bad_time"))?;
    let hours = posted.text("hours").trim().parse::<i64>().map_err(|_| fault("hours", "trace.bad_hours"))?;
    let within = posted.text("within").trim().parse::<f64>().map_err(|_| fault("within", "trace.bad_within"))?;
    let same_minutes =
        posted.text("same_minutes").trim().parse::<i64>().map_err(|_| fault("same_minutes", "trace.bad_same_minutes"))?;
    Ok(Asked { id: posted.text("id"), at, hours, within, same_minutes })
}

/// The form again, as posted, with `fault` at its field (422).
fn refused(state: &AppState, viewer: &Viewer, posted: &Posted, fault: Fault) -> axum::response::Response {
    let ctx = minijinja::context! { values => posted_values(posted), error => fault.message, error_field => fault.field };
    layout::page_with_status(state, viewer, StatusCode::UNPROCESSABLE_ENTITY, "trace.html", ctx)
}

fn posted_values(posted: &Posted) -> minijinja::Value {
    minijinja::context! {
        id => posted.text("id"), at => posted.text("at"), hours => posted.text("hours"), within => posted.text("within"),
        same_minutes => posted.text("same_minutes"),
    }
}

/// The counties of the feeds of `copies`, by name ("—": a feed of no county).
pub(super) async fn county_names<'c>(
    names: &mut Names<'_>,
    copies: impl Iterator<Item = &'c fq_engine::FeedCopy>,
) -> HashMap<String, String> {
    let mut counties = HashMap::new();
    for copy in copies {
        if !counties.contains_key(&copy.region) {
            let name = match RegionCode::parse(&copy.region) {
                Ok(code) => names.region(&code).await,
                Err(_) => "—".to_owned(),
            };
            counties.insert(copy.region.clone(), name);
        }
    }
    counties
}

/// The counties whose feeds were read, by name (None: every feed, an operator's trace).
pub(super) async fn feeds_read(names: &mut Names<'_>, trace: &Trace) -> Option<String> {
    let codes = trace.regions.as_ref()?;
    let mut listed = Vec::new();
    for code in codes.iter().filter_map(|c| RegionCode::parse(c).ok()) {
        listed.push(names.region(&code).await);
    }
    Some(listed.join("、"))
}

/// Checks the posted form (its CSRF token, the viewer's right to trace, its fields) and traces
/// as it asks; `exported` for a file the reader takes away (journaled as such). The trace, or
/// the page to answer with instead.
pub(super) async fn posted_trace(state: &AppState, viewer: &Viewer, posted: &Posted, exported: bool) -> Result<Trace, Page> {
    if !viewer.csrf_ok(posted) {
        return Err(Err(layout::csrf_refused(state, viewer)));
    }
    if !viewer.nav.trace {
        return Err(Err(layout::denied(state, viewer)));
    }
    let lang = viewer.lang;
    let ask = match asked(posted, lang) {
        Ok(ask) => ask,
        Err(fault) => return Err(Ok(refused(state, viewer, posted, fault))),
    };
    let (engine, actor) = (&state.engine, &viewer.actor);
    let (id, at, hours, within, same_minutes) = (ask.id.as_str(), ask.at, ask.hours, ask.within, ask.same_minutes);
    let traced = if exported {
        engine.export_trace(actor, id, at, hours, within, same_minutes).await
    } else {
        engine.trace(actor, id, at, hours, within, same_minutes).await
    };
    match traced {
        Ok(trace) => Ok(trace),
        Err(e @ EngineError::Invalid { .. }) => Err(Ok(refused(state, viewer, posted, Fault::of(lang, &e)))),
        Err(e) => Err(Err(layout::fail(state, viewer, &e))),
    }
}

/// `POST /trace`: the trace.
pub(crate) async fn run(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    let trace = match posted_trace(&state, &viewer, &posted, false).await {
        Ok(trace) => trace,
        Err(page) => return page,
    };
    let mut names = Names::new(&state.engine);
    let shown = &trace.disagreements[..trace.disagreements.len().min(DISAGREEMENTS_SHOWN)];
    let counties = county_names(&mut names, shown.iter().flat_map(|d| &d.copies)).await;
    let drawing = Drawing::of(&trace, shown, &counties);
    let feeds = feeds_read(&mut names, &trace).await;
    let track: Vec<Report> = trace
        .track
        .iter()
        .map(|p| Report { at: display::when(p.at), lon: format!("{:.5}", p.lon), lat: format!("{:.5}", p.lat) })
        .collect();
    let with: Vec<With> = trace
        .contacts
        .iter()
        .map(|c| {
            let (x, y) = drawing.as_ref().map_or((0.0, 0.0), |d| d.at_time(&trace, c.closest_at));
            With {
                id: c.id.clone(),
                closest: format!("{:.0}", c.closest_metres),
                closest_at: display::when(c.closest_at),
                reports: c.reports,
                from: display::when(c.first_at),
                to: display::when(c.last_at),
                x,
                y,
            }
        })
        .collect();
    let disagreements: Vec<Disagreement> = shown
        .iter()
        .map(|d| Disagreement {
            at: display::when(d.at),
            apart: format!("{:.0} / {:.0}", d.metres, d.allowed_metres),
            copies: d.copies.iter().map(|c| place(viewer.lang, c, &counties)).collect(),
        })
        .collect();
    let ctx = minijinja::context! {
        values => posted_values(&posted),
        error => Option::<String>::None,
        error_field => Option::<String>::None,
        traced => true,
        disagreements => value(&disagreements),
        disagree_metres => format!("{:.0}", fq_engine::DISAGREE_METRES),
        disagreements_all => trace.disagreements.len(),
        subject => trace.id.clone(),
        until => display::when(trace.at),
        hours => trace.hours,
        within => format!("{:.0}", trace.within_metres),
        same_minutes => trace.same_time_minutes,
        regions => feeds,
        track => value(&track),
        with => value(&with),
        path => drawing.as_ref().map(|d| d.path.clone()),
        start => drawing.as_ref().map(|d| d.start),
        end => drawing.as_ref().map(|d| d.end),
        doubts => drawing.as_ref().map(|d| value(&d.doubts)),
        width => WIDTH,
        height => HEIGHT,
    };
    Ok(layout::page(&state, &viewer, "trace.html", ctx))
}

/// A feed's copy as "source county", the county by name where `counties` has it.
fn feed(copy: &fq_engine::FeedCopy, counties: &HashMap<String, String>) -> String {
    format!("{} {}", copy.source, counties.get(&copy.region).unwrap_or(&copy.region))
}

/// A feed's place as "source county lon, lat", and for a place interpolated, between which of
/// the feed's reports (Beijing time, to the second: feeds report every few seconds).
fn place(lang: i18n::Lang, copy: &fq_engine::FeedCopy, counties: &HashMap<String, String>) -> String {
    let at = format!("{} {:.5}, {:.5}", feed(copy, counties), copy.lon, copy.lat);
    let Some([from, to]) = copy.between else { return at };
    let clock = |t: DateTime<Utc>| display::clock(t, "%H:%M:%S");
    format!("{at}{}", i18n::fill(lang, "trace.between", &[("from", &clock(from)), ("to", &clock(to))]))
}

/// A `datetime-local` value (Beijing time, minutes or seconds) as a UTC time.
fn local_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()?;
    beijing().from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// Where another feed put (or places) the subject where the feeds disagree: a dashed line from
/// the first copy (the track's of that time, or the report off the other feed's course) to the
/// other, with what the other feed said.
#[derive(Debug, Serialize)]
struct Doubt {
    from: (f64, f64),
    to: (f64, f64),
    title: String,
}

/// The track drawn on the console's projection (`map::Projection`) fitted to its extent and to
/// the other feeds' places where they disagree.
struct Drawing {
    path: String,
    start: (f64, f64),
    end: (f64, f64),
    doubts: Vec<Doubt>,
    projection: Projection,
}

impl Drawing {
    /// `shown`: the disagreements drawn; `counties` names their feeds' counties for the hover text.
    fn of(trace: &Trace, shown: &[fq_engine::Disagreement], counties: &HashMap<String, String>) -> Option<Drawing> {
        if trace.track.is_empty() {
            return None;
        }
        let copies = shown.iter().flat_map(|d| &d.copies).map(|c| (c.lon, c.lat));
        // A stationary subject is drawn in a box about 10 m across, not magnified without end.
        let points = trace.track.iter().map(|p| (p.lon, p.lat)).chain(copies).map(|p| geo::Rect::new(p, p));
        let projection = Projection::fit_frame(points, (WIDTH, HEIGHT, MARGIN), 1e-4)?;
        let points: Vec<(f64, f64)> = trace.track.iter().map(|p| projection.point(p.lon, p.lat)).collect();
        let path = points
            .iter()
            .enumerate()
            .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" }))
            .collect::<String>();
        let on = &projection;
        let doubts = shown
            .iter()
            .flat_map(|d| {
                // The track's copy of that time, or the report off another feed's course.
                let first = on.point(d.copies[0].lon, d.copies[0].lat);
                d.copies[1..].iter().map(move |c| Doubt {
                    from: first,
                    to: on.point(c.lon, c.lat),
                    title: format!("{} {} · {:.0} m", display::when(d.at), feed(c, counties), d.metres),
                })
            })
            .collect();
        Some(Drawing { path, start: points[0], end: points[points.len() - 1], doubts, projection })
    }

    /// Where the subject was at `at`: its report nearest in time.
    fn at_time(&self, trace: &Trace, at: DateTime<Utc>) -> (f64, f64) {
        let nearest = trace.track.iter().min_by_key(|p| (p.at - at).num_seconds().abs());
        nearest.map_or(self.end, |p| self.projection.point(p.lon, p.lat))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_time_is_beijing_time() {
        let at = local_time("2026-11-26T10:30").unwrap();
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 11, 26, 2, 30, 0).unwrap());
        assert_eq!(local_time("2026-11-26T10:30:15").unwrap().timestamp() - at.timestamp(), 15);
        assert_eq!(local_time("yesterday"), None);
        assert_eq!(local_time(""), None);
    }

    #[test]
    fn a_place_interpolated_says_between_which_reports() {
        let counties = HashMap::from([("330921".to_owned(), "岱山县".to_owned())]);
        let reported =
            fq_engine::FeedCopy { source: "ais".into(), region: "330921".into(), lon: 122.3, lat: 30.0, between: None };
        assert_eq!(place(i18n::Lang::Zh, &reported, &counties), "ais 岱山县 122.30000, 30.00000");
        let between =
            [Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 11, 26, 2, 10, 30).unwrap()];
        let placed = fq_engine::FeedCopy { between: Some(between), ..reported };
        assert_eq!(
            place(i18n::Lang::Zh, &placed, &counties),
            "ais 岱山县 122.30000, 30.00000（按其 10:00:00 与 10:10:30 的报告推算）"
        );
        assert!(place(i18n::Lang::En, &placed, &counties).ends_with(" (placed by its reports at 10:00:00 and 10:10:30)"));
    }

    #[test]
    fn the_track_fits_the_drawing_north_up() {
        let p = |lon: f64, lat: f64, minute: i64| fq_risk::trace::Position {
            id: "a".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 26, 0, 0, 0).unwrap() + chrono::Duration::minutes(minute),
            lon,
            lat,
        };
        let trace = Trace {
            id: "a".into(),
            at: Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap(),
            hours: 72,
            within_metres: 500.0,
            same_time_minutes: 5,
            regions: None,
            track: vec![p(122.30, 29.90, 0), p(122.40, 30.00, 30), p(122.50, 29.95, 60)],
            contacts: Vec::new(),
            disagreements: Vec::new(),
        };
        let d = Drawing::of(&trace, &[], &HashMap::new()).unwrap();
        assert!(d.path.starts_with('M') && d.path.matches(" L").count() == 2, "{}", d.path);
        let (sx, sy) = d.start;
        let (ex, _) = d.end;
        assert!(sx >= MARGIN - 1e-6 && ex <= WIDTH - MARGIN + 1e-6 && ex > sx, "west to east");
        assert!(((sx - MARGIN) - (WIDTH - MARGIN - ex)).abs() < 1e-6, "centred across: {sx} {ex}");
        let (_, top) = d.at_time(&trace, trace.track[1].at);
        assert!((top - MARGIN).abs() < 1e-6 && top < sy, "the northernmost report is at the top");
        // One report (a boat at anchor): drawn in the middle, not stretched without end.
        let anchored = Drawing::of(&Trace { track: vec![p(122.30, 29.90, 0)], ..trace.clone() }, &[], &HashMap::new()).unwrap();
        assert!(
            (anchored.start.0 - WIDTH / 2.0).abs() < 1e-6 && (anchored.start.1 - HEIGHT / 2.0).abs() < 1e-6,
            "{:?}",
            anchored.start
        );
        assert!(
            Drawing::of(&Trace { track: Vec::new(), ..trace.clone() }, &[], &HashMap::new()).is_none(),
            "no report, no drawing"
        );
        // Another feed put the subject far north at the second report: the frame holds that
        // place too, and a dashed line joins it to the track's copy.
        let copy = |region: &str, lon: f64, lat: f64| fq_engine::FeedCopy {
            source: "ais".into(),
            region: region.into(),
            lon,
            lat,
            between: None,
        };
        let doubted = fq_engine::Disagreement {
            at: trace.track[1].at,
            metres: 22_000.0,
            allowed_metres: fq_engine::DISAGREE_METRES,
            copies: vec![copy("330903", 122.40, 30.00), copy("330921", 122.40, 30.20)],
        };
        let named = HashMap::from([("330921".to_owned(), "岱山县".to_owned())]);
        let d = Drawing::of(&trace, &[doubted], &named).unwrap();
        assert_eq!(d.doubts.len(), 1);
        let (from, to) = (d.doubts[0].from, d.doubts[0].to);
        assert_eq!(from, d.at_time(&trace, trace.track[1].at), "from the track's copy");
        assert!((to.1 - MARGIN).abs() < 1e-6 && to.1 < from.1, "the other place is the frame's northern edge: {to:?}");
        assert!(d.doubts[0].title.contains("ais 岱山县") && d.doubts[0].title.contains("22000 m"), "{}", d.doubts[0].title);
    }
}
