//! Stored forecasts, on SQLite and PostgreSQL: the nightly whistle stores the week's forecast it
//! read, and the day's and the month's; another process (a second engine on the same database) draws its heat map from that
//! row without fitting; an event stored later for an earlier day makes the row stale, and the
//! next map fits again and stores the new fit for every process, and so does a row of another
//! model (written before an upgrade); the nightly run forgets rows
//! older than a month; a whistle on other cells stores nothing. A forecast whose horizon is
//! over is checked against the events stored for it, and today's forecast lists the checks of
//! the last four that are held (SQLite: the checks read no store of their own).
//!
//! PostgreSQL: FENGQIAO_TEST_POSTGRES (default `postgres://postgres@127.0.0.1:5432/postgres`);
//! skipped with a note when unreachable, a failure when CI=true.

mod support;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fq_domain::Coded;
use fq_domain::calendar::start_of_day;
use fq_domain::region::RegionCode;
use fq_engine::{Engine, HeatMap, HeatQuery, Horizon, NIGHTLY_CELL_METRES, RISK_EVENTS};
use fq_store::Store;
use fq_store_postgres::{PgOptions, PgStore};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use geo::Centroid;
use support::cli;

fn engine_at(store: &Arc<dyn Store>, at: DateTime<Utc>) -> Engine {
    Engine::new(Arc::clone(store)).with_clock(Arc::new(move || at))
}

fn top(map: &HeatMap) -> (String, f64) {
    let top = map.cells.iter().max_by(|a, b| a.expected.total_cmp(&b.expected)).unwrap();
    (top.code.clone(), top.expected)
}

/// Luqiao with generated grids and wage-arrears reports every other day for 450 days from
/// `first` at one grid (225 events), which is returned.
async fn wages_at_one_grid(engine: &Engine, store: &Arc<dyn Store>, first: NaiveDate) -> fq_domain::grid::Grid {
    let luqiao = RegionCode::parse("331004").unwrap();
    engine.ensure_reference_data().await.unwrap();
    engine.generate_grids(&cli(), &luqiao, 1000).await.unwrap();
    let hot = store.grids_within(&luqiao).await.unwrap().into_iter().nth(40).unwrap();
    let c = hot.area.centroid().unwrap();
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    for d in (0..450).step_by(2) {
        csv += &format!("W{d},{} 09:00,{:.6},{:.6},,欠薪,2,\n", first + Duration::days(d), c.x(), c.y());
    }
    assert_eq!(engine.ingest_risk_events(&cli(), "grid_patrol", csv.as_bytes()).await.unwrap().stored, 225);
    hot
}

async fn shared(store: Arc<dyn Store>) {
    let luqiao = RegionCode::parse("331004").unwrap();
    let first = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    let day = first + Duration::days(450);
    // The night's process at 02:00 Beijing time, and a server process later that morning.
    let night_at = start_of_day(day) + Duration::hours(2);
    let morning_at = start_of_day(day) + Duration::hours(10);
    let night = engine_at(&store, night_at);
    let hot = wages_at_one_grid(&night, &store, first).await;
    let c = hot.area.centroid().unwrap();

    // Nothing stored before the night; the night stores the week it whistled from.
    assert_eq!(store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap(), None);
    let run = night.nightly_whistle(day).await.unwrap();
    assert!(run.runs.iter().any(|r| r.category == "dispute_labour" && r.skipped.is_none()), "{run:?}");
    let row = store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap().expect("the night's forecast is stored");
    assert_eq!((row.stored_events, row.made_at), (225, night_at));
    assert!(row.cells.iter().any(|c| c[2] > 0.5), "the hot cell expects at least one");
    // And the day and the month fitted beside it, on the same events.
    let total = |cells: &[[f64; 3]]| cells.iter().map(|c| c[2]).sum::<f64>();
    let mut stored = Vec::new();
    for horizon_days in [1, 30] {
        let other =
            store.risk_forecast(&luqiao, "dispute_labour", day, horizon_days).await.unwrap().expect("the night's day and month");
        assert_eq!((other.stored_events, other.made_at), (225, night_at));
        stored.push(total(&other.cells));
    }
    assert!(stored[0] < total(&row.cells) && total(&row.cells) < stored[1], "a day, a week, a month: {stored:?}");

    // Another process's heat map of the period up to today: the forecast starts today (not
    // tomorrow), and it is the night's row, not a fit of its own (which would be dated now).
    let morning = engine_at(&store, morning_at);
    let query = HeatQuery {
        county: luqiao.clone(),
        programme: Some(RISK_EVENTS.into()),
        category: Some("dispute_labour".into()),
        from: start_of_day(day - Duration::days(90)),
        to: start_of_day(day + Duration::days(1)),
        forecast: Some(Horizon::Week),
        checks: true,
    };
    let map = morning.heat_map(&cli(), &query).await.unwrap();
    let layer = map.forecast.clone().unwrap();
    assert_eq!((layer.day, layer.events, layer.fitted_at), (day, 225, Some(night_at)));
    let (code, expected) = top(&map);
    assert_eq!(code, hot.code.to_string());
    let stored_top = row.cells.iter().map(|c| c[2]).fold(0.0, f64::max);
    assert!((expected - stored_top).abs() < 1e-9, "the grid holds the stored cell: {expected} {stored_top}");

    // A report for yesterday arrives late: the stored row no longer describes what is stored.
    // The morning process fits again and stores it; the night's process, whose own memory holds
    // the old fit, now reads the morning's.
    let late = format!(
        "report_id,reported_at,lon,lat,village,type,level,note\nLATE,{} 20:00,{:.6},{:.6},,欠薪,2,\n",
        day - Duration::days(1),
        c.x(),
        c.y()
    );
    assert_eq!(morning.ingest_risk_events(&cli(), "grid_patrol", late.as_bytes()).await.unwrap().stored, 1);
    let refitted = morning.heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    assert_eq!((refitted.events, refitted.fitted_at), (226, Some(morning_at)));
    let row = store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap().unwrap();
    assert_eq!((row.stored_events, row.made_at), (226, morning_at));
    let seen = night.heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    assert_eq!((seen.events, seen.fitted_at), (226, Some(morning_at)));

    // A row of another model (written before an upgrade) is not this model's forecast: a new
    // process fits again, over the same events, and its fit replaces the row. The model before
    // revision 2 (four feature sets) wrote the package version alone, the same version as now.
    let before = concat!("fq-risk ", env!("CARGO_PKG_VERSION"));
    let old = fq_store::RiskForecastRecord { model: before.into(), ..row.clone() };
    store.commit(fq_store::Change::new().op(fq_store::Op::PutRiskForecast(Box::new(old)))).await.unwrap();
    assert_eq!(store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap().unwrap().model, before);
    let afternoon_at = start_of_day(day) + Duration::hours(15);
    let upgraded = engine_at(&store, afternoon_at).heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    assert_eq!((upgraded.events, upgraded.fitted_at), (226, Some(afternoon_at)));
    let row = store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap().unwrap();
    assert_eq!((row.model.as_str(), row.made_at), (fq_risk::whistle::MODEL, afternoon_at));

    // A month ahead: the night's row went stale with the late report, so it is fitted again on
    // first asking, and stored.
    let month = morning.heat_map(&cli(), &HeatQuery { forecast: Some(Horizon::Month), ..query.clone() }).await.unwrap();
    assert_eq!(month.forecast.unwrap().fitted_at, Some(morning_at));
    assert!(store.risk_forecast(&luqiao, "dispute_labour", day, 30).await.unwrap().is_some());

    // An operator's whistle on other cells than the map's stores nothing; on the map's it does.
    let before = day - Duration::days(3);
    night.whistle(&cli(), &luqiao, "dispute_labour", NIGHTLY_CELL_METRES * 2.0, before).await.unwrap();
    assert_eq!(store.risk_forecast(&luqiao, "dispute_labour", before, 7).await.unwrap(), None);
    night.whistle(&cli(), &luqiao, "dispute_labour", NIGHTLY_CELL_METRES, before).await.unwrap();
    assert!(store.risk_forecast(&luqiao, "dispute_labour", before, 7).await.unwrap().is_some());

    // A night more than a month later forgets the day's rows.
    let later = day + Duration::days(40);
    night.nightly_whistle(later).await.unwrap();
    assert_eq!(store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap(), None);
    assert_eq!(store.risk_forecast(&luqiao, "dispute_labour", day, 30).await.unwrap(), None);
    assert!(store.risk_forecast(&luqiao, "dispute_labour", later, 7).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasts_are_shared_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    shared(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasts_are_shared_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    shared(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}

/// The forecast layer of a horizon that is over carries its check: the events of its categories
/// stored for the horizon against the cells it ranked highest, read as they are stored now (a
/// late report counts). A horizon not yet over, or one with no event, has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forecast_whose_horizon_is_over_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    let luqiao = RegionCode::parse("331004").unwrap();
    let first = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    let today = first + Duration::days(460);
    let engine = engine_at(&store, start_of_day(today) + Duration::hours(10));
    engine.ensure_reference_data().await.unwrap();
    engine.generate_grids(&cli(), &luqiao, 1000).await.unwrap();
    let grids = store.grids_within(&luqiao).await.unwrap();
    let (hot, cold, other) =
        (grids[40].area.centroid().unwrap(), grids[7].area.centroid().unwrap(), grids[90].area.centroid().unwrap());
    // Unpaid wages at one place every other day, and a scatter of neighbour disputes (another
    // category) at a second place, for 460 days up to today.
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    for d in (0..460).step_by(2) {
        csv += &format!("W{d},{} 09:00,{:.6},{:.6},,欠薪,2,\n", first + Duration::days(d), hot.x(), hot.y());
    }
    for d in (1..460).step_by(9) {
        csv += &format!("N{d},{} 09:00,{:.6},{:.6},,邻里纠纷,1,\n", first + Duration::days(d), other.x(), other.y());
    }
    // And a fire hazard during the week checked below, the first of its category.
    csv += &format!("F1,{} 09:00,{:.6},{:.6},,消防隐患,2,\n", first + Duration::days(456), other.x(), other.y());
    engine.ingest_risk_events(&cli(), "grid_patrol", csv.as_bytes()).await.unwrap();
    let week_from = today - Duration::days(7);
    let wages = |d: i64| (0..460).step_by(2).filter(|x| (d..d + 7).contains(x)).count();
    let query = HeatQuery {
        county: luqiao.clone(),
        programme: Some(RISK_EVENTS.into()),
        category: Some("dispute_labour".into()),
        from: start_of_day(week_from - Duration::days(90)),
        to: start_of_day(week_from),
        forecast: Some(Horizon::Week),
        checks: true,
    };
    let layer = engine.heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    // Fitted on the events before the week only, though the week's were read for the check.
    let before = (0..453).step_by(2).count() + (1..453).step_by(9).count();
    assert_eq!((layer.day, layer.events), (week_from, before));
    let check = layer.check.expect("the week from seven days ago is over");
    // Only the category's events of the week, every one at the hot place, which the forecast
    // ranks first. The study cells are the two places with events before the week, so 5% of
    // them is one cell, and capturing everything in half the cells is a PAI of 2. Previous-period
    // counts (the hot place had events the week before too) capture them as well.
    let in_week = wages((week_from - first).num_days());
    assert_eq!((check.events, check.in_study, check.flagged_cells), (in_week, in_week, 1.0));
    assert!((check.captured - in_week as f64).abs() < 1e-9, "{check:?}");
    assert!((check.pai - 2.0).abs() < 1e-9 && (check.pei - 1.0).abs() < 1e-9, "{check:?}");
    assert!((check.previous_captured - in_week as f64).abs() < 1e-9, "{check:?}");
    // Its probabilities over the two study cells: the hot one had events, the other none.
    let calibration = layer.calibration.as_ref().expect("a checked forecast is calibrated");
    let happened: f64 = calibration.reliability.iter().map(|b| b.observed * b.cells as f64).sum();
    assert_eq!((calibration.cells, happened), (2, 1.0), "{calibration:?}");

    // A late report for the week's first day, at a place with no event before: counted now,
    // and not capturable (outside the study cells). The forecast itself, fitted before the
    // week, is the same stored one.
    let late = format!(
        "report_id,reported_at,lon,lat,village,type,level,note\nLATE,{} 20:00,{:.6},{:.6},,欠薪,2,\n",
        week_from,
        cold.x(),
        cold.y()
    );
    assert_eq!(engine.ingest_risk_events(&cli(), "grid_patrol", late.as_bytes()).await.unwrap().stored, 1);
    // A process an hour later reads the stored forecast (a fit of its own would be dated then).
    let later = engine_at(&store, start_of_day(today) + Duration::hours(11));
    let again = later.heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    assert_eq!((again.events, again.fitted_at), (before, layer.fitted_at), "the forecast is not fitted again");
    let check = again.check.unwrap();
    assert_eq!((check.events, check.in_study), (in_week + 1, in_week));
    assert!((check.captured - in_week as f64).abs() < 1e-9, "{check:?}");

    // Every category: the neighbour disputes of the week count too.
    let all = engine.heat_map(&cli(), &HeatQuery { category: None, ..query.clone() }).await.unwrap().forecast.unwrap();
    assert_eq!(all.categories, ["dispute_labour", "dispute_neighbour"]);
    let disputes = (1..460).step_by(9).filter(|x| (453..460).contains(x)).count();
    assert_eq!(all.check.as_ref().unwrap().events, in_week + 1 + disputes);

    // A month from the same day is not over; nor is the week from six days ago, nor the week
    // from today.
    let six = HeatQuery { to: start_of_day(today - Duration::days(6)), ..query.clone() };
    let six = engine.heat_map(&cli(), &six).await.unwrap().forecast.unwrap();
    assert_eq!((six.day, six.over, six.check, six.record), (today - Duration::days(6), false, None, Vec::new()));
    assert_eq!(six.calibration, None, "not over: not calibrated");
    let month = engine.heat_map(&cli(), &HeatQuery { forecast: Some(Horizon::Month), ..query.clone() }).await.unwrap();
    assert_eq!(month.forecast.unwrap().check, None);
    let current = HeatQuery { to: start_of_day(today + Duration::days(1)), ..query.clone() };
    let now = engine.heat_map(&cli(), &current).await.unwrap().forecast.unwrap();
    assert_eq!((now.day, now.check.clone()), (today, None));
    assert!(layer.over && !now.over, "the week from seven days ago is over, today's is not");

    // Today's forecast lists the last four weeks with the checks of the forecasts held: the
    // week checked above, and three never fitted (a record fits nothing).
    let days: Vec<NaiveDate> = now.record.iter().map(|p| p.day).collect();
    assert_eq!(days, [7, 14, 21, 28].map(|d| today - Duration::days(d)));
    let labour = vec!["dispute_labour".to_owned()];
    assert_eq!(
        now.record[0],
        fq_engine::PastForecast {
            day: week_from,
            categories: labour.clone(),
            missing: vec![],
            check: Some(check),
            calibration: now.record[0].calibration.clone(),
            checked_at: None
        }
    );
    // Its probabilities: the two study cells, the hot one with events.
    let calibration = now.record[0].calibration.as_ref().expect("a held forecast is calibrated");
    assert_eq!((calibration.cells, calibration.reliability.iter().map(|b| b.cells).sum::<u64>()), (2, 2));
    assert!(now.record[1..].iter().all(|p| p.calibration.is_none()), "forecasts not held are not calibrated");
    assert!(now.record[1..].iter().all(|p| p.categories.is_empty() && p.missing == labour && p.check.is_none()));
    // Every category: those with events before the week (not the fire hazard, first seen in it).
    let every = engine.heat_map(&cli(), &HeatQuery { category: None, ..current.clone() }).await.unwrap().forecast.unwrap();
    assert_eq!(every.record[0].categories, ["dispute_labour", "dispute_neighbour"]);
    assert!(every.record[0].missing.is_empty(), "{:?}", every.record[0]);
    assert_eq!(every.record[0].check, all.check);
    // A month's record: the last month only (the database keeps a month of forecasts).
    let month = engine.heat_map(&cli(), &HeatQuery { forecast: Some(Horizon::Month), ..current.clone() }).await.unwrap();
    let record = month.forecast.unwrap().record;
    assert_eq!((record.len(), record[0].day, record[0].check.clone()), (1, today - Duration::days(30), None));
    // A past forecast's own map lists no record; a drawing of the map (no checks) neither
    // checks a past forecast nor lists today's record.
    assert!(again.record.is_empty());
    let drawn = engine.heat_map(&cli(), &HeatQuery { checks: false, ..query.clone() }).await.unwrap().forecast.unwrap();
    assert_eq!((drawn.check, drawn.record), (None, Vec::new()));
    let drawn = engine.heat_map(&cli(), &HeatQuery { checks: false, ..current.clone() }).await.unwrap().forecast.unwrap();
    assert!(drawn.record.is_empty() && drawn.fitted_at.is_some());
}

/// The track record (预测检验档案): a backfill checks past forecasts as the nightly run would
/// have and stores the checks for good; today's forecast lists the recent ones checked now and
/// the stored ones before them, periods not overlapping, with a summary; the nightly run stores
/// the checks of the horizons that ended that night; a recent row whose forecast is no longer
/// held (a late report) takes its stored check. Only operators backfill.
async fn track_record(store: Arc<dyn Store>) {
    let luqiao = RegionCode::parse("331004").unwrap();
    let first = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let today = first + Duration::days(560);
    let engine = engine_at(&store, start_of_day(today) + Duration::hours(10));
    engine.ensure_reference_data().await.unwrap();
    engine.generate_grids(&cli(), &luqiao, 1000).await.unwrap();
    let grids = store.grids_within(&luqiao).await.unwrap();
    let (hot, other) = (grids[40].area.centroid().unwrap(), grids[90].area.centroid().unwrap());
    // Unpaid wages at one place every other day; neighbour disputes at another every ninth.
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    for d in (0..560).step_by(2) {
        csv += &format!("W{d},{} 09:00,{:.6},{:.6},,欠薪,2,\n", first + Duration::days(d), hot.x(), hot.y());
    }
    for d in (1..560).step_by(9) {
        csv += &format!("N{d},{} 09:00,{:.6},{:.6},,邻里纠纷,1,\n", first + Duration::days(d), other.x(), other.y());
    }
    engine.ingest_risk_events(&cli(), "grid_patrol", csv.as_bytes()).await.unwrap();
    let weeks_back = |days: &[NaiveDate]| days.iter().map(|d| (today - *d).num_days() / 7).collect::<Vec<_>>();

    // Only operators backfill, a county at a time, 1 to 53 periods; nothing is stored then.
    let org =
        fq_engine::NewOrganisation { name: "研判中心".into(), kind: "centre".into(), region: "331004".into(), parent: None };
    let org = engine.create_organisation(&cli(), org).await.unwrap().0.id.0;
    let clerk = support::account(&engine, &store, "clerk", org, "analyst", "331004").await;
    let denied = engine.backfill_checks(&clerk, &luqiao, Horizon::Week, 13, false).await.unwrap_err();
    assert_eq!(denied.code(), "forbidden", "{denied}");
    for periods in [0, fq_engine::MAX_BACKFILL_PERIODS + 1] {
        let err = engine.backfill_checks(&cli(), &luqiao, Horizon::Week, periods, false).await.unwrap_err();
        assert_eq!(err.code(), "periods_out_of_range", "{err}");
    }
    let town = RegionCode::parse("331004001").unwrap();
    let err = engine.backfill_checks(&cli(), &town, Horizon::Week, 3, false).await.unwrap_err();
    assert_eq!(err.code(), "region_not_county");
    let nowhere = RegionCode::parse("339999").unwrap();
    let err = engine.backfill_checks(&cli(), &nowhere, Horizon::Week, 3, false).await.unwrap_err();
    assert_eq!(err.code(), "region_unknown");
    let every = |from: NaiveDate| store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 7, from, today);
    assert!(every(first).await.unwrap().is_empty());

    // Twenty weeks back: every week held wages, so every one is checked; the latest is the
    // check the week's own map makes.
    let backfilled = engine.backfill_checks(&cli(), &luqiao, Horizon::Week, 20, false).await.unwrap();
    assert_eq!(weeks_back(&backfilled.iter().map(|p| p.day).collect::<Vec<_>>()), (1..=20).collect::<Vec<_>>());
    assert!(backfilled.iter().all(|p| p.check.is_some() && p.categories == ["dispute_labour", "dispute_neighbour"]));
    let week_from = today - Duration::days(7);
    let query = HeatQuery {
        county: luqiao.clone(),
        programme: Some(RISK_EVENTS.into()),
        category: None,
        from: start_of_day(week_from - Duration::days(90)),
        to: start_of_day(week_from),
        forecast: Some(Horizon::Week),
        checks: true,
    };
    let own = engine.heat_map(&cli(), &query).await.unwrap().forecast.unwrap();
    assert_eq!(backfilled[0].check, own.check);
    assert_eq!(every(first).await.unwrap().len(), 20, "stored for every category summed");
    let labour = store.risk_checks(&luqiao, "dispute_labour", 7, first, today).await.unwrap();
    assert_eq!(labour.len(), 20, "and for each category");

    // Today's forecast: the four recent weeks checked now (their forecasts are held: the
    // backfill kept those the database keeps), then nine stored ones, a quarter in all.
    let current = HeatQuery { to: start_of_day(today), ..query.clone() };
    let now = engine.heat_map(&cli(), &current).await.unwrap().forecast.unwrap();
    assert_eq!(weeks_back(&now.record.iter().map(|p| p.day).collect::<Vec<_>>()), (1..=13).collect::<Vec<_>>());
    assert!(now.record[..4].iter().all(|p| p.checked_at.is_none() && p.missing.is_empty()), "checked now: {:?}", now.record[0]);
    assert!(now.record[4..].iter().all(|p| p.checked_at == Some(start_of_day(today) + Duration::hours(10))));
    assert_eq!(now.record[4].check, backfilled[4].check);
    let summary = now.record_summary.clone().unwrap();
    let events: usize = backfilled[..13].iter().map(|p| p.check.as_ref().unwrap().events).sum();
    assert_eq!((summary.periods, summary.events), (13, events));
    assert_eq!(summary, fq_engine::summarise_record(&backfilled[..13]).unwrap());
    // The probabilities over the thirteen weeks' study cells (the two places, each week).
    let cell_weeks: u64 = summary.reliability.iter().map(|b| b.cells).sum();
    assert_eq!(cell_weeks, 13 * 2, "{:?}", summary.reliability);
    // The reference forecasts every cell-week at the share that had an event.
    let (brier, reference) = (summary.brier.unwrap(), summary.reference_brier.unwrap());
    let happened = summary.reliability.iter().map(|b| b.observed * b.cells as f64).sum::<f64>() / 26.0;
    assert!(brier > 0.0 && brier < 1.0 && (reference - happened * (1.0 - happened)).abs() < 1e-12, "{summary:?}");
    // One category's record reads its own rows, weeks without a dispute included (nothing to
    // check in them).
    let one = HeatQuery { category: Some("dispute_neighbour".into()), ..current.clone() };
    let one = engine.heat_map(&cli(), &one).await.unwrap().forecast.unwrap();
    assert_eq!(one.record.len(), 13);
    assert!(one.record[4..].iter().all(|p| p.categories == ["dispute_neighbour"]));
    assert!(one.record.iter().any(|p| p.check.is_none()), "a week every ninth day misses");
    let one_summary = one.record_summary.unwrap();
    assert!(one_summary.events < summary.events);
    // The weeks without a dispute have nothing to check, but their probabilities are calibrated.
    assert!(one_summary.periods < 13 && one_summary.calibrated_periods == 13, "{one_summary:?}");

    // A night three days ago checked the week from ten days ago: stored, but it overlaps the
    // recent weeks, so today's record skips it.
    let night_at = start_of_day(today - Duration::days(3)) + Duration::hours(2);
    let night = engine_at(&store, night_at);
    let run = night.nightly_whistle(today - Duration::days(3)).await.unwrap();
    assert!(run.failed.is_empty(), "{:?}", run.failed);
    // Every category summed and each of the two, for the day, the week and the month: the day
    // four days ago had wages and no neighbour dispute, which is kept as nothing to check.
    assert_eq!(run.checked, 9);
    let ten = store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 7, today - Duration::days(10), today).await.unwrap();
    assert!(ten.iter().any(|c| c.day == today - Duration::days(10) && c.checked_at == night_at), "{ten:?}");
    let month = store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 30, first, today).await.unwrap();
    assert_eq!(month.iter().map(|c| c.day).collect::<Vec<_>>(), [today - Duration::days(33)]);
    let day = store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 1, first, today).await.unwrap();
    assert_eq!(day.iter().map(|c| c.day).collect::<Vec<_>>(), [today - Duration::days(4)]);
    let quiet = store.risk_checks(&luqiao, "dispute_neighbour", 1, first, today).await.unwrap();
    assert_eq!(quiet.len(), 1);
    assert!(quiet[0].figures["check"].is_null() && quiet[0].figures["categories"] == serde_json::json!(["dispute_neighbour"]));
    let again = engine.heat_map(&cli(), &current).await.unwrap().forecast.unwrap();
    assert_eq!(again.record.iter().map(|p| p.day).collect::<Vec<_>>(), now.record.iter().map(|p| p.day).collect::<Vec<_>>());

    // A late report for a day before every recent week: no recent forecast is held any more,
    // so each recent row takes its stored check (the late report is before their horizons).
    let late = format!(
        "report_id,reported_at,lon,lat,village,type,level,note\nLATE,{} 20:00,{:.6},{:.6},,欠薪,2,\n",
        today - Duration::days(200),
        hot.x(),
        hot.y()
    );
    assert_eq!(engine.ingest_risk_events(&cli(), "grid_patrol", late.as_bytes()).await.unwrap().stored, 1);
    // The week from seven days ago is fitted again for one category (its own map): a row holding
    // one of two categories takes the stored check, which holds both.
    let labour = HeatQuery { category: Some("dispute_labour".into()), ..query.clone() };
    assert!(engine.heat_map(&cli(), &labour).await.unwrap().forecast.unwrap().check.is_some());
    let later = engine.heat_map(&cli(), &current).await.unwrap().forecast.unwrap();
    assert_eq!(later.record.len(), 13);
    assert!(later.record.iter().all(|p| p.checked_at.is_some() && p.missing.is_empty()), "{:?}", later.record[0]);
    assert_eq!(later.record[0].check, backfilled[0].check);

    // A second backfill keeps the periods already checked (the nightly run's checks of the
    // forecasts shown then) unless told to check them again.
    let hour_later = start_of_day(today) + Duration::hours(11);
    let second = engine_at(&store, hour_later);
    let kept = second.backfill_checks(&cli(), &luqiao, Horizon::Week, 2, false).await.unwrap();
    assert!(kept.iter().all(|p| p.checked_at == Some(start_of_day(today) + Duration::hours(10))), "{kept:?}");
    let again = second.backfill_checks(&cli(), &luqiao, Horizon::Week, 2, true).await.unwrap();
    assert!(again.iter().all(|p| p.checked_at.is_none()), "checked now");
    let rows = store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 7, today - Duration::days(14), today).await.unwrap();
    let replaced: Vec<_> = rows.iter().filter(|r| r.checked_at == hour_later).map(|r| r.day).collect();
    assert_eq!(replaced, [today - Duration::days(7), today - Duration::days(14)], "{rows:?}");

    // A stored row that cannot be read is left out; the others are listed.
    let unreadable = fq_store::RiskCheckRecord {
        county: luqiao.clone(),
        scope: fq_store::EVERY_CATEGORY.into(),
        day: today - Duration::days(91),
        horizon_days: 7,
        model: "fq-risk ?".into(),
        checked_at: hour_later,
        figures: serde_json::json!("not a check"),
    };
    store.commit(fq_store::Change::new().op(fq_store::Op::PutRiskCheck(Box::new(unreadable)))).await.unwrap();
    let without = engine.heat_map(&cli(), &current).await.unwrap().forecast.unwrap();
    assert_eq!(without.record.len(), 12);
    assert!(without.record.iter().all(|p| p.day > today - Duration::days(91)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_track_record_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
    track_record(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_track_record_on_postgres() {
    let Some(db) = fq_store_postgres::scratch::ScratchDatabase::create().await else { return };
    let store: Arc<dyn Store> = Arc::new(PgStore::connect(&db.url, PgOptions::default()).await.unwrap());
    track_record(Arc::clone(&store)).await;
    store.close().await;
    db.drop_now().await;
}

/// A night whose checks of one horizon cannot be stored (here the database refuses the track
/// record's rows of weeks) still whistles and keeps its forecasts: the county and the horizon are
/// named in the night's failures, none of that horizon's rows is stored while the day's and the
/// month's are, and the night is over (not run again). The next night, the store writable again,
/// checks every horizon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_night_whose_checks_of_a_horizon_fail_names_it_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fengqiao.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path, SqliteOptions::default()).await.unwrap());
    let luqiao = RegionCode::parse("331004").unwrap();
    let first = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    let day = first + Duration::days(450);
    let night = engine_at(&store, start_of_day(day) + Duration::hours(2));
    wages_at_one_grid(&night, &store, first).await;

    let refuse = "CREATE TRIGGER refuse_weeks BEFORE INSERT ON risk_checks WHEN NEW.horizon_days = 7 \
                  BEGIN SELECT RAISE(ABORT, 'no room for weeks'); END;";
    rusqlite::Connection::open(&path).unwrap().execute_batch(refuse).unwrap();
    let run = night.nightly_whistle(day).await.unwrap();
    assert_eq!(run.failed.len(), 1, "{:?}", run.failed);
    assert_eq!(run.failed[0].0, "331004");
    assert!(run.failed[0].1.starts_with("checking past forecasts of 7 days failed"), "{:?}", run.failed);
    // The warnings stand: the week was whistled and kept.
    assert!(run.runs.iter().any(|r| r.category == "dispute_labour" && r.skipped.is_none()), "{run:?}");
    assert!(store.risk_forecast(&luqiao, "dispute_labour", day, 7).await.unwrap().is_some());
    // The week's rows (every category summed, and the one category) stored together or not at
    // all: none. The day's and the month's are, and counted.
    for (horizon, expected) in [(1, 1), (7, 0), (30, 1)] {
        for scope in [fq_store::EVERY_CATEGORY, "dispute_labour"] {
            let rows = store.risk_checks(&luqiao, scope, horizon, first, day).await.unwrap();
            assert_eq!(rows.len(), expected, "{horizon} {scope}: {rows:?}");
            assert!(rows.iter().all(|r| r.day == day - Duration::days(i64::from(horizon))), "{rows:?}");
        }
    }
    assert_eq!(run.checked, 4);
    assert!(!night.claim_nightly(day).await.unwrap(), "the night is over, its failure named in its summary");

    rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TRIGGER refuse_weeks;").unwrap();
    let next = engine_at(&store, start_of_day(day + Duration::days(1)) + Duration::hours(2));
    let run = next.nightly_whistle(day + Duration::days(1)).await.unwrap();
    assert!(run.failed.is_empty() && run.checked > 0, "{run:?}");
    let week = store.risk_checks(&luqiao, fq_store::EVERY_CATEGORY, 7, first, day).await.unwrap();
    assert_eq!(week.iter().map(|r| r.day).collect::<Vec<_>>(), [day - Duration::days(6)]);
}
