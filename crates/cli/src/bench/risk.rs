//! `fengqiao bench risk`: the risk engine's computations on synthetic data of the stated sizes:
//! ingest and the point mapping on one core, the nightly fits and the trends on every core, as
//! the nightly run does (`fq_risk::cores`). Targets (design/quality.md): ≥ 5,000,000 points/s per core over ~700 polygons;
//! the nightly forecast of 700 cells × 12 categories × 3 years of daily history in < 10 s;
//! trends for 8,400 series in < 50 ms. And ingest end to end: grid-patrol CSV files through
//! the engine's ingest (parse, map to the source's schema, place in grids, skip ids sent
//! before, one durable commit per file) into a scratch SQLite database over 路桥区's grids. And
//! the 72-hour trace over a province's worth of position reports (`trace.rs`).

use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use fq_risk::BacktestError;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::events::{date_of, day_number};
use fq_risk::grid::Grid;
use fq_risk::levels::LevelTable;
use fq_risk::locate::{PolygonIndex, jittered_tiling};
use fq_risk::projection::Local;
use fq_risk::trend::{cusum_alarm, ewma_alarm, trends};
use fq_risk::whistle::{CellForecast, nightly};
use serde_json::{Value, json};

use crate::failure::Outcome;

const CELLS_X: usize = 28;
const CELLS_Y: usize = 25;
const CATEGORIES: usize = 12;
const DAYS: i32 = 3 * 365;
const POINTS: usize = 5_000_000;
const PARSED: usize = 200_000;

/// SplitMix64: a small deterministic generator for synthetic data.
pub(super) struct Mix(pub(super) u64);

impl Mix {
    pub(super) fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A Poisson draw (Knuth's method; the rates here are small).
    fn poisson(&mut self, rate: f64) -> u32 {
        let limit = (-rate).exp();
        let (mut k, mut p) = (0, self.next());
        while p > limit {
            k += 1;
            p *= self.next();
        }
        k
    }
}

fn seconds(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// Runs of the trends, whose median is reported.
const TREND_RUNS: usize = 5;

/// Events ingested per file, and files.
const INGEST_FILE: usize = 10_000;
const INGEST_FILES: usize = 10;

/// Ingest through the engine into a scratch SQLite database (synchronous=full): events per
/// second end to end, the grids they were placed over, and how many were stored.
async fn ingest(rng: &mut Mix) -> Result<(f64, usize, usize), crate::failure::Failure> {
    use super::store::failure;
    let scratch = super::Scratch::open("risk").await?;
    let (store, engine) = (&scratch.store, &scratch.engine);
    let actor = crate::commands::cli_actor();
    let luqiao = fq_domain::region::RegionCode::parse("331004").map_err(|e| failure("region", e))?;
    engine.generate_grids(&actor, &luqiao, 600).await.map_err(|e| failure("grids", e))?;
    let grids = store.grids_within(&luqiao).await.map_err(|e| failure("grids", e))?;
    // The mean of each cell's corners (the ring without its closing point): inside the
    // cell, which is a 600 m square or one clipped to the county's edge.
    let corners: Vec<(f64, f64)> = grids
        .iter()
        .filter_map(|g| {
            let ring = &g.area.0.first()?.exterior().0;
            let open = &ring[..ring.len().saturating_sub(1).max(1)];
            let n = open.len() as f64;
            Some((open.iter().map(|c| c.x).sum::<f64>() / n, open.iter().map(|c| c.y).sum::<f64>() / n))
        })
        .collect();
    let kinds = ["欠薪", "邻里纠纷", "消防隐患", "安全生产隐患", "重点人员"];
    let files: Vec<String> = (0..INGEST_FILES)
        .map(|f| {
            let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
            for i in 0..INGEST_FILE {
                let (x, y) = corners[(rng.next() * corners.len() as f64) as usize % corners.len()];
                let day = date_of(20_000 + (i % 700) as i32);
                csv.push_str(&format!(
                    "B{f}-{i},{day} 10:00,{:.6},{:.6},,{},{},基准测试\n",
                    x + (rng.next() - 0.5) * 0.0005,
                    y + (rng.next() - 0.5) * 0.0005,
                    kinds[i % kinds.len()],
                    1 + i % 3
                ));
            }
            csv
        })
        .collect();
    let start = Instant::now();
    let mut stored = 0;
    for file in &files {
        let report = engine.ingest_risk_events(&actor, "grid_patrol", file.as_bytes()).await.map_err(|e| failure("ingest", e))?;
        // A bench that stored nothing measured nothing: say why.
        if let Some(bad) = report.bad.first() {
            return Err(failure(
                "ingest",
                format!("{} bad rows; line {}, {}: {}", report.bad.len(), bad.line, bad.column, bad.message),
            ));
        }
        if report.stored < INGEST_FILE * 95 / 100 {
            return Err(failure(
                "ingest",
                format!("{} of {INGEST_FILE} stored, {} outside every grid", report.stored, report.outside.len()),
            ));
        }
        stored += report.stored;
    }
    let rate = (INGEST_FILE * INGEST_FILES) as f64 / start.elapsed().as_secs_f64();
    let grids = grids.len();
    scratch.close().await;
    Ok((rate, grids, stored))
}

pub async fn run(json: bool, postgres: Option<&str>) -> Outcome {
    use super::store::failure;
    let mut rng = Mix(7);
    let (ingest_rate, ingest_grids, ingest_stored) = ingest(&mut rng).await?;

    // Parsing: a CSV of events in the backtest's format.
    let mut text = String::from("time,lon,lat,category\n");
    for i in 0..PARSED {
        let day = date_of(17_000 + (i % 1000) as i32);
        text.push_str(&format!("{day},{:.6},{:.6},c{}\n", 121.3 + rng.next() * 0.2, 28.5 + rng.next() * 0.2, i % CATEGORIES));
    }
    let mut parsed = 0;
    let parse_s = seconds(|| parsed = fq_risk::read_events(text.as_bytes()).map(|e| e.len()).unwrap_or(0));

    // Point to polygon: ~700 jittered quadrilaterals of about 800 m, points over their box.
    let tiles = jittered_tiling(121.30, 28.50, 0.008, CELLS_X, CELLS_Y, 3);
    let index = PolygonIndex::new(tiles);
    let points: Vec<(f64, f64)> = (0..POINTS)
        .map(|_| (121.30 + rng.next() * 0.008 * CELLS_X as f64, 28.50 + rng.next() * 0.008 * CELLS_Y as f64))
        .collect();
    let mut found = 0usize;
    let locate_s = seconds(|| {
        for &(x, y) in &points {
            found += usize::from(black_box(index.locate(x, y)).is_some());
        }
    });

    // The nightly run's fits: 700 cells of 500 m, 12 categories, three years of daily events
    // each, with hotspots (rates varying by cell), through the function the engine's nightly
    // whistle calls: each category's day, week (with its whistle list and trends) and month.
    let grid = Grid { local: Local::about(121.4, 28.6), x0: 0.0, y0: 0.0, cell: 500.0, cols: CELLS_X, rows: CELLS_Y };
    let cells_n = grid.len();
    let first_day = day_number(NaiveDate::from_ymd_opt(2023, 1, 1).expect("a date"));
    let categories: Vec<String> = (1..=CATEGORIES).map(|k| format!("synthetic_{k:02}")).collect();
    let mut events = Vec::new();
    for (k, category) in categories.iter().enumerate() {
        let rates: Vec<f64> = (0..cells_n).map(|_| 0.002 + 0.03 * rng.next().powi(4)).collect();
        for day in 0..DAYS {
            for (cell, rate) in rates.iter().enumerate() {
                for _ in 0..rng.poisson(*rate * (1.0 + 0.1 * k as f64 / CATEGORIES as f64)) {
                    // Within 100 m of the cell's centre: the fit's own 500 m grid, laid from
                    // the south-westernmost event, then puts each cell's events in one cell.
                    let (c, r) = (cell % CELLS_X, cell / CELLS_X);
                    let (x, y) = ((c as f64 + 0.4 + 0.2 * rng.next()) * 500.0, (r as f64 + 0.4 + 0.2 * rng.next()) * 500.0);
                    let (lon, lat) = grid.local.degrees(x, y);
                    events.push(Event { day: first_day + day, lon, lat, category: category.clone() });
                }
            }
        }
    }
    let total_events = events.len();
    let levels = LevelTable::load(include_str!("../../../../data/risk/levels-v1.toml")).map_err(|e| failure("levels", e))?;
    let at = date_of(first_day + DAYS);
    let mut fits = Vec::new();
    let nightly_s = seconds(|| fits = nightly(&events, &categories, 500.0, at, &levels, true));
    let mut forecast_cells = 0usize;
    let (mut study_cells, mut whistled) = (0usize, 0usize);
    // A horizon the bench asked for: fitted, and without error.
    let fitted = |horizon: &Option<Result<Vec<CellForecast>, BacktestError>>, what: &str| match horizon {
        Some(Ok(cells)) => Ok(cells.len()),
        Some(Err(e)) => Err(failure(what, e)),
        None => Err(failure(what, "not fitted")),
    };
    for fit in &fits {
        let week = fit.week.as_ref().map_err(|e| failure("nightly week", e))?;
        let (day, month) = (fitted(&fit.day, "nightly day")?, fitted(&fit.month, "nightly month")?);
        forecast_cells += week.1.len() + day + month;
        study_cells = study_cells.max(week.1.len());
        whistled += week.0.len();
    }

    // The night's checks for the track record (`Engine::keep_checks`): for each horizon, every
    // category's forecast summed and each alone, set against the events of the horizon that
    // ended that night, one after the other as the engine does. The bench checks the forecasts
    // it just fitted against the horizons before `at`: a check costs the same for any forecast
    // on the same cells (each lays the grid over every event and ranks the cells).
    let mut checks = 0usize;
    let checks_s = seconds(|| {
        for horizon in [Horizon::Day, Horizon::Week, Horizon::Month] {
            let cells_of = |fit: &fq_risk::whistle::NightlyFit| -> Vec<f64> {
                let cells = match horizon {
                    Horizon::Day => fit.day.as_ref().and_then(|d| d.as_ref().ok()),
                    Horizon::Week => fit.week.as_ref().ok().map(|w| &w.1),
                    Horizon::Month => fit.month.as_ref().and_then(|m| m.as_ref().ok()),
                };
                cells.map(|c| c.iter().map(|c| c.expected).collect()).unwrap_or_default()
            };
            let from = at - chrono::Duration::days(i64::from(horizon.days()));
            let mut summed = vec![0.0; study_cells];
            let mut scopes = Vec::new();
            for fit in &fits {
                let own = cells_of(fit);
                summed.iter_mut().zip(&own).for_each(|(s, e)| *s += e);
                scopes.push((vec![fit.category.clone()], own));
            }
            scopes.push((categories.clone(), summed));
            for (categories, expected) in &scopes {
                let outcome = black_box(fq_risk::check::check(&events, categories, 500.0, horizon, from, expected));
                checks += usize::from(outcome.is_some_and(|o| o.check.is_some()));
            }
        }
    });

    // A check that came back empty (other cells) would have cost nothing worth timing.
    if checks != 3 * (CATEGORIES + 1) {
        return Err(failure("nightly checks", format!("{checks} of {} checks made", 3 * (CATEGORIES + 1))));
    }

    // Trends: 8,400 series of 52 weekly counts.
    let series: Vec<Vec<f64>> = (0..cells_n * CATEGORIES)
        .map(|i| (0..52).map(|w| f64::from(rng.poisson(2.0 + (i % 7) as f64 * w as f64 / 52.0))).collect())
        .collect();
    let mut rising = 0usize;
    let cores = fq_risk::cores::available();
    // The median of a few runs: one run of 50 ms on a virtual machine is at the mercy of its
    // neighbours (runs a third apart have been seen back to back).
    let mut runs: Vec<f64> = (0..TREND_RUNS)
        .map(|_| {
            seconds(|| {
                rising = 0;
                for (s, t) in series.iter().zip(trends(&series)) {
                    let sudden = ewma_alarm(s, 26, 0.3, 3.0).is_some() || cusum_alarm(s, 26, 0.5, 4.0).is_some();
                    rising += usize::from(t.is_some_and(|t| t.p_value < 0.05 && t.slope > 0.0) || sudden);
                }
            })
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    let trends_s = runs[TREND_RUNS / 2];

    let feeds = super::feeds::measure()?;
    let mut traced = super::trace::run(super::Scratch::open("trace").await?).await?;
    if let Some(url) = postgres {
        let on_postgres = super::trace::run(super::Scratch::postgres(url, "trace").await?).await?;
        if let (Value::Object(fields), Value::Object(pg)) = (&mut traced, on_postgres) {
            fields.extend(pg.into_iter().map(|(k, v)| (k.replacen("trace_", "trace_postgres_", 1), v)));
        }
    }

    let mut report = json!({
        "ingest_events_per_second": ingest_rate,
        "ingest_events_stored": ingest_stored,
        "ingest_grids": ingest_grids,
        "ingest_store": "SQLite, synchronous=full, one commit per file of 10,000 events",
        "events_parsed_per_second": parsed as f64 / parse_s,
        "points_per_second_one_core": POINTS as f64 / locate_s,
        "polygons": index.len(),
        "points_on_a_polygon": found,
        "nightly_forecast_seconds": nightly_s,
        "nightly_cells": study_cells,
        "nightly_categories": CATEGORIES,
        "nightly_horizons": ["1d", "7d", "30d"],
        "nightly_whistled_cells": whistled,
        "nightly_history_days": DAYS,
        "nightly_events": total_events,
        "nightly_forecasts": forecast_cells,
        "nightly_checks_seconds": checks_s,
        "nightly_checks": checks,
        "trend_series": series.len(),
        "trend_weeks": 52,
        "trends_seconds": trends_s,
        "trend_cores": cores,
        "trend_runs": TREND_RUNS,
        "series_rising": rising,
        "targets": { "points_per_second_one_core": 5_000_000.0, "nightly_forecast_seconds": 10.0, "trends_seconds": 0.05 },
    });
    if let (Some(fields), Value::Object(trace), Value::Object(feeds)) = (report.as_object_mut(), &traced, &feeds) {
        fields.extend(trace.clone());
        fields.extend(feeds.clone());
    }
    if json {
        println!("{report}");
    } else {
        println!(
            "ingest through the engine: {ingest_rate:.0} events/s ({ingest_stored} stored over {ingest_grids} grids of 路桥区; SQLite, synchronous=full, {INGEST_FILES} files of {INGEST_FILE})"
        );
        println!("events parsed from CSV (backtest format): {:.0}/s ({parsed} events)", parsed as f64 / parse_s);
        println!(
            "point to polygon: {:.0} points/s on one core over {} polygons (target ≥ 5,000,000); {found} of {POINTS} on a polygon",
            POINTS as f64 / locate_s,
            index.len()
        );
        println!(
            "nightly forecast (the day, the week with its whistle list, the month; refit and forecast on {cores} cores): {nightly_s:.2} s for {study_cells} cells × {CATEGORIES} categories × {DAYS} days ({total_events} events; {whistled} cells whistled) (target < 10 s)"
        );
        println!(
            "the night's checks for the track record (each horizon's forecasts, every category summed and each alone, against the horizon that ended; one core): {checks_s:.2} s for {checks} checks"
        );
        println!(
            "trends: {:.1} ms for {} series of 52 weeks on {cores} cores, the median of {TREND_RUNS} runs (target < 50 ms); {rising} rising",
            trends_s * 1000.0,
            series.len()
        );
        println!(
            "where two feeds disagree, 72 hours of a car reported every 10 s by each (one core): {:.1} ms for {} reports; {} wrong fixes planted, {} found",
            feeds["disagreements_seconds"].as_f64().unwrap_or(f64::NAN) * 1000.0,
            feeds["disagreements_reports"],
            feeds["disagreements_wrong_fixes"],
            feeds["disagreements_found"]
        );
        for (prefix, store) in [("trace_", "SQLite"), ("trace_postgres_", "PostgreSQL")] {
            let field = |k: &str| traced[format!("{prefix}{k}")].as_f64().unwrap_or(f64::NAN);
            if field("reports_stored").is_nan() {
                continue;
            }
            println!(
                "position reports stored through the engine into {store}: {:.0}/s ({:.0} reports of {:.0} subjects on {:.0} counties' feeds)",
                field("store_reports_per_second"),
                field("reports_stored"),
                field("subjects"),
                field("counties")
            );
            println!(
                "72-hour trace on {store} (median of 3): {:.3} s over every county's reports ({:.0} companions), {:.3} s for one county's trace analyst ({:.0} companions); {:.0} reports in the track",
                field("seconds_every_county"),
                field("contacts_every_county"),
                field("seconds_one_county"),
                field("contacts_one_county"),
                field("track_reports")
            );
            println!(
                "72-hour trace of a car at {} km/h on a diagonal road, reporting every minute, on {store} (every county, median of 3): {:.3} s ({:.0} reports in the track, {:.0} companions)",
                super::trace::CAR_KMH,
                field("car_seconds"),
                field("car_track_reports"),
                field("car_contacts")
            );
        }
    }
    Ok(())
}
