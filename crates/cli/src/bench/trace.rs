//! The 72-hour trace at a province's scale, for `fengqiao bench risk`: the position reports of
//! 2,000 boats on the feeds of ten coastal counties (one report every 6 minutes for 80 hours,
//! 1.6 million reports) stored through the engine into a scratch database (SQLite; PostgreSQL
//! as well with `--postgres`), then a boat
//! traced by an operator (every county's reports) and by a trace analyst of its county (that
//! county's only: on SQLite one range of the table, kept by county and time). Synthetic tracks; one boat of each
//! county keeps company with the traced one, so that the companions are really searched.
//!
//! A car on the first county's feed drives a 200 km diagonal road to and fro at 80 km/h,
//! reporting every minute, with a companion car beside it: traced by the operator too, it is
//! the subject whose hours are halved into short slices (`fq_risk::trace::search_boxes`).

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use fq_engine::{Engine, NewAccount, NewOrganisation};
use serde_json::{Value, json};

use super::risk::Mix;
use super::store::failure;
use crate::failure::Failure;

/// Ten coastal counties of Zhejiang (real codes): 普陀、定海、岱山、嵊泗、象山、椒江、路桥、温岭、玉环、三门.
const COUNTIES: [&str; 10] = ["330903", "330902", "330921", "330922", "330225", "331002", "331004", "331081", "331083", "331022"];
const BOATS_PER_COUNTY: usize = 200;
const HOURS: i64 = 80;
const EVERY_MINUTES: i64 = 6;
/// The car's road, south-west end to north-east end (degrees), and its speed.
const ROAD: [(f64, f64); 2] = [(120.95, 28.05), (122.25, 29.45)];
pub(super) const CAR_KMH: f64 = 80.0;
/// Traces measured per reader; the median is reported.
const RUNS: usize = 3;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap_or_default()
}

/// One county's feed file: its boats wander a box about 50 km across; boat 1 follows boat 0
/// about 100 m off.
fn feed(rng: &mut Mix, county: usize) -> String {
    let (lon0, lat0) = (121.5 + 0.12 * county as f64, 28.0 + 0.2 * county as f64);
    let mut csv = String::from("id,time,lat,lon\n");
    let steps = HOURS * 60 / EVERY_MINUTES;
    let mut boats: Vec<(f64, f64)> = (0..BOATS_PER_COUNTY).map(|_| (lon0 + rng.next() * 0.5, lat0 + rng.next() * 0.5)).collect();
    for step in 0..steps {
        let at = (start() + Duration::minutes(step * EVERY_MINUTES)).to_rfc3339();
        for (b, boat) in boats.iter_mut().enumerate() {
            boat.0 += (rng.next() - 0.5) * 0.004;
            boat.1 += (rng.next() - 0.5) * 0.004;
            csv.push_str(&format!("boat-{county}-{b},{at},{:.6},{:.6}\n", boat.1, boat.0));
        }
        // The companion of boat 0.
        let (x, y) = boats[0];
        csv.push_str(&format!("mate-{county},{at},{:.6},{:.6}\n", y + 0.0009, x));
        if county == 0 {
            drive(&mut csv, step * EVERY_MINUTES);
        }
    }
    csv
}

/// Where the car is `seconds` after it sets off: along [`ROAD`] and back, at [`CAR_KMH`].
pub(super) fn on_the_road(seconds: f64) -> (f64, f64) {
    let [(lon0, lat0), (lon1, lat1)] = ROAD;
    let km = fq_risk::trace::distance_metres((lon0, lat0), (lon1, lat1)) / 1000.0;
    // How far along the road, as a share of it: a triangle wave, one leg per crossing.
    let legs = seconds / 3600.0 * CAR_KMH / km;
    let share = if legs as i64 % 2 == 0 { legs.fract() } else { 1.0 - legs.fract() };
    (lon0 + share * (lon1 - lon0), lat0 + share * (lat1 - lat0))
}

/// The car and its companion (about 100 m north of it), once a minute for the `EVERY_MINUTES`
/// minutes from `minute`.
fn drive(csv: &mut String, minute: i64) {
    for m in minute..minute + EVERY_MINUTES {
        let at = (start() + Duration::minutes(m)).to_rfc3339();
        let (lon, lat) = on_the_road(m as f64 * 60.0);
        csv.push_str(&format!("car-0,{at},{lat:.6},{lon:.6}\ncar-mate,{at},{:.6},{lon:.6}\n", lat + 0.0009));
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Traces `subject` as `actor` `RUNS` times: the median seconds, the last trace's reports and
/// its companions, of which `mate` must be one.
async fn time_traces(
    engine: &Engine,
    actor: &Actor,
    (subject, mate): (&str, &str),
    at: DateTime<Utc>,
) -> Result<(f64, usize, Vec<String>), Failure> {
    let mut samples = Vec::new();
    let (mut track, mut contacts) = (0, Vec::new());
    for _ in 0..RUNS {
        let begin = Instant::now();
        let trace = engine
            .trace(actor, subject, at, 72, 500.0, fq_risk::trace::DEFAULT_SAME_TIME_MINUTES)
            .await
            .map_err(|e| failure("trace", e))?;
        samples.push(begin.elapsed().as_secs_f64());
        (track, contacts) = (trace.track.len(), trace.contacts.iter().map(|c| c.id.clone()).collect());
        // A trace that found no track or missed the companion measured nothing.
        if track == 0 || !trace.contacts.iter().any(|c| c.id == mate) {
            return Err(failure("trace", format!("{subject}: {track} reports traced, companion {mate} not found")));
        }
    }
    Ok((median(samples), track, contacts))
}

/// Stores the feeds into `scratch` and traces: the figures as JSON fields. The feeds are the
/// same on every run (their own generator), so that SQLite and PostgreSQL read the same reports.
pub(super) async fn run(scratch: super::Scratch) -> Result<Value, Failure> {
    // Closed whatever happens: a PostgreSQL scratch database is dropped by the close alone.
    let figures = measure(&scratch).await;
    scratch.close().await;
    figures
}

async fn measure(scratch: &super::Scratch) -> Result<Value, Failure> {
    let rng = &mut Mix(11);
    let (store, engine) = (&scratch.store, &scratch.engine);
    let operator = crate::commands::cli_actor();
    let files: Vec<String> = (0..COUNTIES.len()).map(|k| feed(rng, k)).collect();
    let begin = Instant::now();
    let mut stored = 0;
    for (file, county) in files.iter().zip(COUNTIES) {
        let county = RegionCode::parse(county).map_err(|e| failure("county", e))?;
        let report = engine
            .ingest_positions(&operator, "beidou", Some(&county), file.as_bytes())
            .await
            .map_err(|e| failure("positions", e))?;
        stored += report.stored;
    }
    let ingest_rate = stored as f64 / begin.elapsed().as_secs_f64();

    let centre = NewOrganisation {
        name: "普陀区社会治理中心（基准测试）".into(),
        kind: "centre".into(),
        region: COUNTIES[0].into(),
        parent: None,
    };
    let org = engine.create_organisation(&operator, centre).await.map_err(|e| failure("organisation", e))?.0.id.0;
    let login = "bench-tracer";
    let request = NewAccount {
        login: login.into(),
        display_name: login.into(),
        org,
        password: None,
        grants: vec![("tracer".into(), COUNTIES[0].into(), None)],
    };
    engine.create_account(&operator, request).await.map_err(|e| failure("account", e))?;
    let login = fq_domain::account::Login::parse(login).map_err(|e| failure("login", e))?;
    let account = store
        .account_by_login(&login)
        .await
        .map_err(|e| failure("account", e))?
        .ok_or_else(|| failure("account", "not stored"))?;
    let tracer = Actor::Account(Box::new(account));

    let at = start() + Duration::hours(HOURS - 4);
    let boat = ("boat-0-0", "mate-0");
    let (operator_s, track, operator_contacts) = time_traces(engine, &operator, boat, at).await?;
    let (county_s, _, county_contacts) = time_traces(engine, &tracer, boat, at).await?;
    let (car_s, car_track, car_contacts) = time_traces(engine, &operator, ("car-0", "car-mate"), at).await?;
    // The county's analyst finds exactly the operator's companions from the county's own feed
    // (each boat reports on one feed only).
    let own_feed = |id: &&String| id.starts_with("boat-0-") || id.as_str() == "mate-0";
    let expected: Vec<&String> = operator_contacts.iter().filter(own_feed).collect();
    if county_contacts.iter().collect::<Vec<_>>() != expected {
        return Err(failure(
            "trace",
            format!("the county's trace found {county_contacts:?}, the operator's {operator_contacts:?}"),
        ));
    }
    Ok(json!({
        "trace_reports_stored": stored,
        "trace_counties": COUNTIES.len(),
        "trace_subjects": COUNTIES.len() * (BOATS_PER_COUNTY + 1) + 2,
        "trace_store_reports_per_second": ingest_rate,
        "trace_track_reports": track,
        "trace_seconds_every_county": operator_s,
        "trace_contacts_every_county": operator_contacts.len(),
        "trace_seconds_one_county": county_s,
        "trace_contacts_one_county": county_contacts.len(),
        "trace_car_seconds": car_s,
        "trace_car_track_reports": car_track,
        "trace_car_contacts": car_contacts.len(),
    }))
}
