//! Stories of the risk tables that are not journaled: stored forecasts, position reports.

use chrono::NaiveDate;
use std::sync::Arc;

use fq_store::{
    AreasAround, Change, EVERY_CATEGORY, Op, PositionArea, PositionRecord, PositionsAround, RiskCheckRecord, RiskForecastRecord,
};

use super::assert_intact;
use crate::Harness;
use crate::fixtures::{at, code};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn forecast(category: &str, first: u32, horizon_days: i32, stored_events: u64, expected: f64) -> RiskForecastRecord {
    RiskForecastRecord {
        county: code("331004"),
        category: category.into(),
        day: day(first),
        horizon_days,
        model: "fq-risk 1".into(),
        stored_events,
        made_at: at(i64::from(first)),
        // Not round in binary: the cells must come back bit for bit.
        cells: vec![[121.398_765_432_1, 28.580_123_456_7, expected], [121.4, 28.6, 0.1 + 0.2]],
    }
}

async fn put(h: &dyn Harness, record: &RiskForecastRecord) {
    h.store().commit(Change::new().op(Op::PutRiskForecast(Box::new(record.clone())))).await.unwrap();
}

pub async fn risk_forecasts_replace_only_with_more_events(h: &dyn Harness) {
    let store = h.store();
    let luqiao = code("331004");
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), None);

    let week = forecast("theft", 20, 7, 100, 0.25);
    put(h, &week).await;
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), Some(week.clone()));
    // Another horizon, category, day or county is another forecast.
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 30).await.unwrap(), None);
    assert_eq!(store.risk_forecast(&luqiao, "fire", day(20), 7).await.unwrap(), None);
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(21), 7).await.unwrap(), None);
    assert_eq!(store.risk_forecast(&code("331003"), "theft", day(20), 7).await.unwrap(), None);

    // A fit over more stored events replaces it; one over fewer (a slower process) or the same
    // number does not.
    let newer = forecast("theft", 20, 7, 105, 0.5);
    put(h, &newer).await;
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), Some(newer.clone()));
    put(h, &forecast("theft", 20, 7, 101, 9.0)).await;
    put(h, &forecast("theft", 20, 7, 105, 9.0)).await;
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), Some(newer.clone()));
    // Another model's fit (an upgrade) replaces it even over as many events, or fewer.
    let upgraded = RiskForecastRecord { model: "fq-risk 2".into(), ..forecast("theft", 20, 7, 104, 0.75) };
    put(h, &upgraded).await;
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), Some(upgraded.clone()));
    put(h, &newer).await;
    let newer = store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap().unwrap();
    assert_eq!(newer.model, "fq-risk 1", "and back: the model differs again");

    // A second process reads the same rows.
    let second = h.second_store().await;
    assert_eq!(second.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), Some(newer.clone()));

    // Pruning forgets the days before the given one and keeps that day on.
    let later = forecast("theft", 25, 30, 120, 1.5);
    put(h, &later).await;
    store.commit(Change::new().op(Op::PruneRiskForecasts { before: day(25) })).await.unwrap();
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(20), 7).await.unwrap(), None);
    assert_eq!(store.risk_forecast(&luqiao, "theft", day(25), 30).await.unwrap(), Some(later));

    // Derived data: nothing of it is in the journal.
    assert_intact(store, 0).await;
}

fn checked(scope: &str, first: u32, horizon_days: i32, pai: f64) -> RiskCheckRecord {
    RiskCheckRecord {
        county: code("331004"),
        scope: scope.into(),
        day: day(first),
        horizon_days,
        model: "fq-risk 1".into(),
        checked_at: at(i64::from(first) + 7),
        figures: serde_json::json!({ "categories": ["theft"], "check": { "pai": pai, "events": 12 } }),
    }
}

async fn put_check(h: &dyn Harness, check: RiskCheckRecord) {
    h.store().commit(Change::new().op(Op::PutRiskCheck(Box::new(check)))).await.unwrap();
}

/// The track record's checks: read back by county, scope and horizon over a span of first days,
/// latest first; a check made again replaces its row; kept by the pruning of forecasts.
pub async fn risk_checks_read_by_span_latest_first(h: &dyn Harness) {
    let store = h.store();
    let luqiao = code("331004");
    for (first, pai) in [(3, 1.5), (10, 2.0), (17, 0.5)] {
        put_check(h, checked(EVERY_CATEGORY, first, 7, pai)).await;
    }
    // Another scope, horizon or county is another record.
    put_check(h, checked("theft", 10, 7, 9.0)).await;
    put_check(h, checked(EVERY_CATEGORY, 10, 1, 9.0)).await;
    put_check(h, RiskCheckRecord { county: code("331003"), ..checked(EVERY_CATEGORY, 10, 7, 9.0) }).await;
    let read = |from: u32, before: u32| store.risk_checks(&luqiao, EVERY_CATEGORY, 7, day(from), day(before));
    let days = |checks: &[RiskCheckRecord]| checks.iter().map(|c| c.day).collect::<Vec<_>>();
    assert_eq!(days(&read(1, 30).await.unwrap()), [day(17), day(10), day(3)]);
    // `from` is in the span, `before` is not.
    assert_eq!(days(&read(3, 17).await.unwrap()), [day(10), day(3)]);
    assert_eq!(read(18, 30).await.unwrap(), []);
    assert_eq!(read(1, 30).await.unwrap()[1], checked(EVERY_CATEGORY, 10, 7, 2.0), "read back whole");
    assert_eq!(days(&store.risk_checks(&luqiao, "theft", 7, day(1), day(30)).await.unwrap()), [day(10)]);

    // A check made again (late reports counted) replaces the row.
    put_check(h, checked(EVERY_CATEGORY, 10, 7, 2.5)).await;
    let again = h.second_store().await.risk_checks(&luqiao, EVERY_CATEGORY, 7, day(10), day(11)).await.unwrap();
    assert_eq!(again, [checked(EVERY_CATEGORY, 10, 7, 2.5)]);
    // The nightly pruning of forecasts leaves the record alone.
    store.commit(Change::new().op(Op::PruneRiskForecasts { before: day(30) })).await.unwrap();
    assert_eq!(read(1, 30).await.unwrap().len(), 3);
    assert_intact(store, 0).await;
}

/// Position reports read back by time and by the counties of their feeds: every one (operators),
/// one county's, and with regions that overlap (a city and one of its counties, a county twice)
/// each report once.
pub async fn positions_read_by_time_and_county(h: &dyn Harness) {
    let store = h.store();
    let lon = |minute: i64| 122.1 + minute as f64 * 1e-4;
    let report = |subject: &str, minute: i64, region: &str| PositionRecord {
        subject: subject.into(),
        at: at(0) + chrono::Duration::minutes(minute),
        lon: lon(minute),
        lat: 29.9,
        source: "beidou".into(),
        region: region.into(),
    };
    let reports = vec![
        report("boat-b", 10, "330903"),
        report("boat-a", 10, "330903"),
        report("boat-c", 5, "330902"),
        report("boat-d", 20, "331004"),
        report("boat-e", 15, ""),
        report("boat-a", 600, "330903"),
    ];
    store.commit(Change::new().op(Op::InsertPositions(reports.clone()))).await.unwrap();
    let (from, to) = (at(0), at(0) + chrono::Duration::minutes(60));
    let window = [PositionArea::window(from, to)];
    let subjects =
        |records: Vec<PositionRecord>| records.into_iter().map(|r| format!("{}@{}", r.subject, r.region)).collect::<Vec<_>>();
    // Every report in the hour, by time then subject; the one after it is not read.
    let all = store.positions_in(&window, None).await.unwrap();
    assert_eq!(subjects(all.clone()), ["boat-c@330902", "boat-a@330903", "boat-b@330903", "boat-e@", "boat-d@331004"]);
    assert_eq!(all[1], reports[1], "read back as stored");
    let putuo = [code("330903")];
    assert_eq!(subjects(store.positions_in(&window, Some(&putuo)).await.unwrap()), ["boat-a@330903", "boat-b@330903"]);
    // 舟山市 and 普陀区 within it, and 普陀区 again: each report once.
    let overlapping = [code("3309"), code("330903"), code("330903")];
    assert_eq!(
        subjects(store.positions_in(&window, Some(&overlapping)).await.unwrap()),
        ["boat-c@330902", "boat-a@330903", "boat-b@330903"]
    );
    assert!(store.positions_in(&window, Some(&[code("331004"), code("330902")])).await.unwrap().len() == 2);
    assert!(store.positions_in(&window, Some(&[])).await.unwrap().is_empty(), "no region, no reports");

    // Areas: a time and a place, bounds included (the bounds are the reports' own longitudes).
    // boat-c (minute 5) is in the first, boat-e (minute 15) and boat-d (minute 20) in the
    // second; the two overlap on boat-a and boat-b at minute 10, given once.
    let minute = |m: i64| at(0) + chrono::Duration::minutes(m);
    let area = |from: i64, to: i64, west: f64, east: f64| PositionArea {
        from: minute(from),
        to: minute(to),
        west,
        east,
        south: 29.9,
        north: 29.9,
    };
    let areas = [area(0, 11, lon(5), lon(10)), area(10, 21, lon(10), lon(20))];
    assert_eq!(
        subjects(store.positions_in(&areas, None).await.unwrap()),
        ["boat-c@330902", "boat-a@330903", "boat-b@330903", "boat-e@", "boat-d@331004"]
    );
    assert_eq!(
        subjects(store.positions_in(&areas[1..], None).await.unwrap()),
        ["boat-a@330903", "boat-b@330903", "boat-e@", "boat-d@331004"]
    );
    assert_eq!(subjects(store.positions_in(&areas, Some(&putuo)).await.unwrap()), ["boat-a@330903", "boat-b@330903"]);
    // Just outside in place (north of 29.9), and in time (`to` is not included): nothing.
    let north = PositionArea { south: 29.900_001, north: 30.0, ..area(0, 60, 122.0, 123.0) };
    assert!(store.positions_in(&[north, area(0, 5, 122.0, 123.0)], None).await.unwrap().is_empty());
    assert!(store.positions_in(&[], None).await.unwrap().is_empty());

    // One subject's reports, by time, those of the regions asked for; boat-a again from 路桥区's
    // feed at minute 600 comes after 普陀区's copy.
    store.commit(Change::new().op(Op::InsertPositions(vec![report("boat-a", 600, "331004")]))).await.unwrap();
    let day = (at(0), at(0) + chrono::Duration::days(1));
    // The subject's own read of a trace, with no area drawn around it.
    let reader = &store;
    let own = |subject: &'static str, (from, to), regions: Option<Vec<fq_domain::region::RegionCode>>| async move {
        let no_areas: AreasAround = Arc::new(|_: &[PositionRecord]| Vec::new());
        let read = reader.positions_around(subject, from, to, regions.as_deref(), no_areas).await.unwrap();
        assert!(read.near.is_empty(), "no area, no reports near");
        read.own
    };
    let every = own("boat-a", day, None).await;
    assert_eq!(subjects(every.clone()), ["boat-a@330903", "boat-a@330903", "boat-a@331004"]);
    assert_eq!(every.iter().map(|r| r.at).collect::<Vec<_>>(), [minute(10), minute(600), minute(600)]);
    let of_putuo = own("boat-a", day, Some(vec![code("3309")])).await;
    assert_eq!(of_putuo.iter().map(|r| r.at).collect::<Vec<_>>(), [minute(10), minute(600)]);
    assert_eq!(of_putuo[0], reports[1], "read back as stored");
    assert_eq!(own("boat-a", (minute(11), day.1), Some(vec![code("331004")])).await.len(), 1);
    assert!(own("boat-a", (day.0, minute(10)), None).await.is_empty(), "the window's end is not included");
    assert!(own("boat-z", day, None).await.is_empty());
    assert!(own("boat-a", day, Some(Vec::new())).await.is_empty(), "no region, no reports");
}

/// Reports read by place: areas across the boundary of two place cells (0.05°, the index a trace
/// reads through) and areas too wide for cells, by county; and a trace's two reads
/// (`positions_around`) from one snapshot, a file stored between them seen by neither.
pub async fn positions_read_by_place_in_one_snapshot(h: &dyn Harness) {
    let store = h.store();
    let minute = |m: i64| at(0) + chrono::Duration::minutes(m);
    let report = |subject: &str, m: i64, lon: f64, region: &str| PositionRecord {
        subject: subject.into(),
        at: minute(m),
        lon,
        lat: 29.9,
        source: "ais".into(),
        region: region.into(),
    };
    // 122.05 is a cell boundary: the reports just west and just east of it are in two cells.
    let (west_of, east_of) = (122.049_999_999, 122.050_000_001);
    assert_ne!(fq_store::position_cell(west_of, 29.9), fq_store::position_cell(east_of, 29.9));
    store
        .commit(Change::new().op(Op::InsertPositions(vec![
            report("boat-a", 10, 122.04, "330903"),
            report("boat-b", 11, west_of, "330903"),
            report("boat-c", 12, east_of, "330902"),
            report("boat-d", 13, 122.06, "331004"),
            report("boat-e", 14, 123.5, "330903"),
        ])))
        .await
        .unwrap();
    let subjects = |records: &[PositionRecord]| records.iter().map(|r| r.subject.clone()).collect::<Vec<_>>();
    let area = |west: f64, east: f64| PositionArea { from: minute(0), to: minute(60), west, east, south: 29.86, north: 29.94 };
    let across = area(west_of, east_of);
    assert_eq!(across.cells().map(|c| c.len()), Some(4), "two cells west to east, two rows south to north");
    assert_eq!(subjects(&store.positions_in(&[across], None).await.unwrap()), ["boat-b", "boat-c"]);
    assert_eq!(
        subjects(&store.positions_in(&[area(122.0, 122.1)], None).await.unwrap()),
        ["boat-a", "boat-b", "boat-c", "boat-d"]
    );
    assert_eq!(
        subjects(&store.positions_in(&[area(122.0, 122.1)], Some(&[code("330903")])).await.unwrap()),
        ["boat-a", "boat-b"]
    );
    // Two degrees each way: more cells than are worth probing, read by time, and still by county.
    let wide = PositionArea { south: 28.9, north: 30.9, ..area(121.9, 123.9) };
    assert_eq!(wide.cells(), None);
    assert_eq!(subjects(&store.positions_in(&[wide], None).await.unwrap()), ["boat-a", "boat-b", "boat-c", "boat-d", "boat-e"]);
    assert_eq!(subjects(&store.positions_in(&[wide], Some(&[code("330903")])).await.unwrap()), ["boat-a", "boat-b", "boat-e"]);
    assert_eq!(
        subjects(&store.positions_in(&[wide, across], Some(&[code("3309")])).await.unwrap()),
        ["boat-a", "boat-b", "boat-c", "boat-e"]
    );

    // A trace's two reads: boat-a's reports, then the areas drawn around them. Between the two,
    // another process stores a report of boat-f beside boat-a: the reads, one snapshot, see
    // neither it nor anything else stored meanwhile; a read after them sees it.
    let writer = h.second_store().await;
    let late = report("boat-f", 10, 122.041, "330903");
    let (handle, stored) = (tokio::runtime::Handle::current(), late.clone());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_by_callback = Arc::clone(&seen);
    let areas_of: AreasAround = Arc::new(move |own: &[PositionRecord]| {
        seen_by_callback.lock().unwrap().extend(own.iter().cloned());
        // On a thread of its own: this runs inside the store's read, perhaps on a runtime worker.
        let (writer, handle, stored) = (Arc::clone(&writer), handle.clone(), stored.clone());
        std::thread::spawn(move || handle.block_on(writer.commit(Change::new().op(Op::InsertPositions(vec![stored])))))
            .join()
            .unwrap()
            .unwrap();
        own.iter()
            .map(|r| PositionArea {
                from: r.at,
                to: r.at + chrono::Duration::minutes(5),
                west: r.lon - 0.01,
                east: r.lon + 0.01,
                south: 29.8,
                north: 30.0,
            })
            .collect()
    });
    let PositionsAround { own, near } = store.positions_around("boat-a", minute(0), minute(60), None, areas_of).await.unwrap();
    assert_eq!(subjects(&own), ["boat-a"]);
    assert_eq!(*seen.lock().unwrap(), own, "the areas are drawn around the subject's reports as read");
    assert_eq!(subjects(&near), ["boat-a", "boat-b"], "boat-f, stored between the reads, is not seen");
    let after = [PositionArea { from: minute(10), to: minute(15), west: 122.03, east: 122.05, south: 29.8, north: 30.0 }];
    assert_eq!(subjects(&store.positions_in(&after, None).await.unwrap()), ["boat-a", "boat-f", "boat-b"]);

    // Read by an analyst of 331004 (路桥区): boat-a's reports are another county's, so there is
    // nothing to draw areas around, and the store asks for none beyond what it read.
    let none: AreasAround = Arc::new(|own: &[PositionRecord]| {
        assert!(own.is_empty(), "another county's reports reached the areas: {own:?}");
        Vec::new()
    });
    let of_luqiao = store.positions_around("boat-a", minute(0), minute(60), Some(&[code("331004")]), none).await.unwrap();
    assert_eq!(of_luqiao, PositionsAround::default());
}
