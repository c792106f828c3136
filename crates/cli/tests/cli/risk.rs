//! `fengqiao risk backtest` on the real Portland history it ships with (not its figures: those
//! are in docs/RISK.md, measured by running the command), and its refusals.

use crate::support::Workspace;

const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/samples/portland-nij/portland_nij.csv");

#[test]
fn the_backtest_reports_every_model_as_json() {
    let w = Workspace::new();
    let run = w
        .bare_command()
        .args(["risk", "backtest", "--events", EVENTS, "--cell-size", "300", "--category", "vehicle_theft"])
        .args(["--horizon", "7d", "--train-until", "2017-02-28", "--origins", "2", "--json"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    for model in ["ours", "kde", "previous_period"] {
        let m = &report["models"][model];
        for area in ["1", "5", "10"] {
            let pai = m["pai"][area].as_f64().unwrap();
            let pei = m["pei"][area].as_f64().unwrap();
            assert!(pai >= 0.0 && (0.0..=1.0).contains(&pei), "{model} {area}: {pai} {pei}");
        }
        assert!(m["brier"].as_f64().unwrap() > 0.0);
        assert!(!m["reliability"].as_array().unwrap().is_empty());
    }
    let origins = report["origins"].as_array().unwrap();
    assert_eq!(origins.len(), 2);
    assert_eq!(origins[0], "2017-03-01", "the first origin is the day after training ends");
    assert!(report["study_cells"].as_u64().unwrap() > 100);
    assert!(report.get("hindsight").is_none(), "hindsight maps only when asked");

    // The hindsight maps: one per bandwidth, each scored like the models.
    let run = w
        .bare_command()
        .args(["risk", "backtest", "--events", EVENTS, "--cell-size", "300", "--category", "vehicle_theft"])
        .args(["--horizon", "7d", "--train-until", "2017-02-28", "--origins", "2", "--json", "--hindsight"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let with_maps: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(with_maps["models"], report["models"], "the maps change no model's scores");
    let maps = with_maps["hindsight"].as_array().unwrap();
    let bandwidths: Vec<f64> = maps.iter().map(|m| m["bandwidth_metres"].as_f64().unwrap()).collect();
    assert_eq!(bandwidths, [0.0, 150.0, 300.0, 450.0, 600.0, 900.0, 1200.0]);
    assert!(maps.iter().all(|m| (0.0..=1.0).contains(&m["pei"]["5"].as_f64().unwrap())));
}

#[test]
fn bad_input_is_refused_with_the_reason() {
    let w = Workspace::new();
    let refused = |args: &[&str]| {
        let out = w.bare_command().args(["risk", "backtest", "--events"]).args(args).output().unwrap();
        assert!(!out.status.success());
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let base = ["--cell-size", "300", "--horizon", "7d", "--train-until", "2017-02-28"];
    let (_, err) = refused(&[&[EVENTS, "--category", "arson"], &base[..]].concat());
    assert!(err.contains("error[backtest_invalid]") && err.contains("burglary, vehicle_theft"), "{err}");
    let (_, err) =
        refused(&[EVENTS, "--category", "burglary", "--cell-size", "300", "--horizon", "2w", "--train-until", "2017-02-28"]);
    assert!(err.contains("error[horizon_invalid]"), "{err}");
    let bad = w.path().join("bad.csv");
    std::fs::write(&bad, "time,lon,lat,category\n2017-01-01,-122.6,45.5,burglary\nyesterday,-122.6,45.5,burglary\n").unwrap();
    let (code, err) = refused(&[&[bad.to_str().unwrap(), "--category", "burglary"], &base[..]].concat());
    assert_eq!(code, Some(4));
    assert!(err.contains("line 3, time"), "{err}");
    // A published layout: named columns and US dates; a bad row left out only when asked.
    let sf = w.path().join("sf.csv");
    std::fs::write(&sf, "Category,Date,X,Y\nBURGLARY,07/11/2017,-122.4,37.77\n,07/12/2017,-122.4,37.77\n").unwrap();
    let layout = ["--columns", "time=Date,lon=X,lat=Y,category=Category", "--date-format", "%m/%d/%Y"];
    let sf_args = [sf.to_str().unwrap(), "--category", "BURGLARY"];
    let (code, err) = refused(&[&sf_args[..], &layout[..], &base[..]].concat());
    assert_eq!(code, Some(4));
    assert!(err.contains("line 3, category"), "{err}");
    let (_, err) = refused(&[&sf_args[..], &layout[..], &base[..], &["--skip-bad-rows"][..]].concat());
    assert!(err.contains("left out 1 bad rows of 2") && !err.contains("events_invalid"), "{err}");
    let (_, err) = refused(&[&sf_args[..], &["--columns", "place=X"][..], &base[..]].concat());
    assert!(err.contains("error[columns_invalid]"), "{err}");
}

#[test]
fn the_trace_lists_a_vessel_and_its_neighbours() {
    let w = Workspace::new();
    let ais = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/samples/ais-marinecadastre/ais_2022-01-03_lower_mississippi.csv");
    let run = w
        .bare_command()
        .args([
            "risk",
            "trace",
            "--positions",
            ais,
            "--id",
            "311050800",
            "--at",
            "2022-01-03T00:25:00Z",
            "--within",
            "1000",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["track"].as_array().unwrap().len(), 21);
    let contacts = report["contacts"].as_array().unwrap();
    assert!(!contacts.is_empty());
    assert!(contacts.iter().all(|c| c["closest_metres"].as_f64().unwrap() <= 1000.0));
    let bad = w.path().join("bad.csv");
    std::fs::write(&bad, "mmsi,time,lat,lon\n1,2022-01-03T00:00:00Z,95,10\n").unwrap();
    let refused = w
        .bare_command()
        .args(["risk", "trace", "--id", "1", "--at", "2022-01-03T01:00:00Z", "--positions"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("line 2, lat/lon"));
}

#[test]
fn the_whistle_list_ranks_cells_by_level() {
    let w = Workspace::new();
    let run = w
        .bare_command()
        .args(["risk", "whistle", "--events", EVENTS, "--cell-size", "300", "--category", "vehicle_theft"])
        .args(["--horizon", "30d", "--at", "2017-03-01", "--json"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let cells = report["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    let order = ["red", "orange", "yellow", "blue"];
    let ranks: Vec<usize> = cells.iter().map(|c| order.iter().position(|l| *l == c["level"]).unwrap()).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "highest level first");
    let bad = w.path().join("levels.toml");
    std::fs::write(&bad, "version = 1\n[default]\nblue = 0.5\nyellow = 0.2\norange = 0.6\nred = 0.9\n").unwrap();
    let refused = w
        .bare_command()
        .args(["risk", "whistle", "--events", EVENTS, "--cell-size", "300", "--category", "vehicle_theft", "--horizon", "7d"])
        .args(["--at", "2017-03-01", "--levels"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[levels_invalid]"));
}

/// A workspace with the region tree, the county boundaries and 路桥区 covered by generated grids.
fn luqiao_with_grids() -> Workspace {
    let w = Workspace::new();
    w.run(&["import", "regions"]).ok();
    w.run(&["import", "boundaries", &format!("{}/../../data/boundaries/county.geojson", env!("CARGO_MANIFEST_DIR"))]).ok();
    w.run(&["import", "grids", "--generate-for", "331004", "--cell-metres", "1000"]).ok();
    w
}

#[test]
fn service_requests_are_pulled_from_an_open311_server() {
    // A portal (another fengqiao with its demo cases, public through Open311) and ours.
    let portal = Workspace::new();
    let server = portal.serve(&[]);
    let w = luqiao_with_grids();
    let url = server.url("/open311/v2");
    let pull = |w: &Workspace| {
        let run = w.command().args(["risk", "pull-open311", "--url", &url, "--json"]).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()
    };
    let first = pull(&w);
    let rows = first["rows"].as_u64().unwrap();
    assert!(rows > 0 && first["stored"].as_u64().unwrap() > 0, "{first}");
    let placed = first["in_grids"].as_u64().unwrap() + first["by_region"].as_u64().unwrap();
    assert_eq!(placed, first["stored"].as_u64().unwrap(), "by their point or the portal's area: {first}");
    let again = pull(&w);
    assert_eq!((again["stored"].as_u64(), again["duplicates"].as_u64()), (Some(0), Some(first["stored"].as_u64().unwrap())));
    let down = w.command().args(["risk", "pull-open311", "--url", "http://127.0.0.1:9/open311/v2"]).output().unwrap();
    assert!(String::from_utf8_lossy(&down.stderr).contains("error[open311_unreachable]"));
}

#[test]
fn the_nightly_run_pulls_the_servers_stored_in_the_database() {
    let portal = Workspace::new();
    let server = portal.serve(&[]);
    let w = luqiao_with_grids();
    // Nothing to pull and nothing stored: the night does nothing and journals nothing.
    let idle = w.run(&["risk", "night", "--json"]).ok().stdout();
    assert!(idle.contains("\"outcome\":\"idle\""), "{idle}");

    // The portal stored once for every process (a second add changes nothing); bad input named.
    let url = server.url("/open311/v2");
    assert!(w.run(&["risk", "open311-pulls", "add", "--url", &url]).ok().stdout().contains("added"));
    assert!(w.run(&["risk", "open311-pulls", "add", "--url", &format!("{url}/")]).ok().stdout().contains("nothing changed"));
    let bad = w.run(&["risk", "open311-pulls", "add", "--url", "10.0.0.5/open311"]).fails(1);
    assert!(bad.contains("error[url_invalid]"), "{bad}");
    let unknown = w.run(&["risk", "open311-pulls", "add", "--source", "no_such", "--url", &url]).fails(1);
    assert!(unknown.contains("error[source_unknown]"), "{unknown}");
    let csv = w.run(&["risk", "open311-pulls", "add", "--source", "grid_patrol", "--url", &url]).fails(1);
    assert!(csv.contains("error[source_not_open311]"), "{csv}");
    let listed: serde_json::Value = serde_json::from_str(&w.run(&["risk", "open311-pulls", "--json"]).ok().stdout()).unwrap();
    assert_eq!(listed["stored"], serde_json::json!([{ "source": "open311_portal", "url": url }]), "{listed}");

    // The night pulls it (no server in this process's configuration), then whistles; the same
    // day again is left alone. A night a year ago (caught up by hand) pulls from two days
    // before it to now, which holds the portal's demo cases.
    let year_ago = (chrono::Utc::now() - chrono::Duration::days(365)).date_naive().to_string();
    let night = ["risk", "night", "--day", year_ago.as_str(), "--json"];
    let ran: serde_json::Value = serde_json::from_str(&w.run(&night).ok().stdout()).unwrap();
    assert_eq!(ran["outcome"], "ran", "{ran}");
    let pulled = &ran["pulled"][0];
    assert_eq!((pulled["url"].as_str(), pulled["error"].is_null()), (Some(url.as_str()), true), "{ran}");
    assert!(pulled["stored"].as_u64().unwrap() > 0, "{ran}");
    let again = w.run(&night).ok().stdout();
    assert!(again.contains("\"outcome\":\"taken\""), "{again}");
    // A night that has not come yet is refused: it would stop the real one.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).date_naive().to_string();
    let early = w.run(&["risk", "night", "--day", &tomorrow]).fails(1);
    assert!(early.contains("error[day_in_future]"), "{early}");

    // Removed; removing it again names it; every change is in the journal, which verifies.
    w.run(&["risk", "open311-pulls", "remove", "--url", &url]).ok();
    let gone = w.run(&["risk", "open311-pulls", "remove", "--url", &url]).fails(1);
    assert!(gone.contains("error[not_found]"), "{gone}");
    assert!(w.run(&["risk", "open311-pulls"]).ok().stdout().starts_with("0 servers"));
    w.run(&["audit", "verify"]).ok();
}

/// `fengqiao risk check-forecasts`: a county's track record filled for the weeks before today,
/// printed as JSON or as lines with the sum; bad input named, nothing stored.
#[test]
fn the_track_record_is_filled_from_the_command_line() {
    let w = luqiao_with_grids();
    // Unpaid wages at one place in 路桥区 every other day for eighteen months up to yesterday
    // (a month's forecast trains on a year of months before it).
    let today = fq_domain::calendar::local_date(chrono::Utc::now());
    let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
    for back in (1..560).step_by(2) {
        csv += &format!("W{back},{} 09:00,121.400000,28.580000,,欠薪,2,\n", today - chrono::Duration::days(back));
    }
    let file = w.path().join("wages.csv");
    // A file with a bad row stores nothing; each bad row is named by line, column and code.
    std::fs::write(&file, format!("{csv}LATE,2306-11-26 09:00,121.400000,28.580000,,欠薪,2,\n")).unwrap();
    let err = w.run(&["risk", "ingest", "--source", "grid_patrol", file.to_str().unwrap()]).fails(4);
    assert!(err.contains(":282: reported_at: time_out_of_range: ") && err.contains("error[events_invalid]"), "{err}");
    std::fs::write(&file, csv).unwrap();
    w.run(&["risk", "ingest", "--source", "grid_patrol", file.to_str().unwrap()]).ok();

    let refused = |args: &[&str], code: &str| {
        let err = w.run(&[&["risk", "check-forecasts"], args].concat()).fails(1);
        assert!(err.contains(&format!("error[{code}]")), "{args:?}: {err}");
    };
    refused(&["--county", "331004", "--horizon", "14d"], "horizon_invalid");
    refused(&["--county", "lq", "--horizon", "7d"], "region_code_invalid");
    refused(&["--county", "331004001", "--horizon", "7d"], "region_not_county");
    refused(&["--county", "331004", "--horizon", "7d", "--periods", "0"], "periods_out_of_range");
    refused(&["--county", "331004", "--horizon", "7d", "--periods", "54"], "periods_out_of_range");

    let json = w.run(&["risk", "check-forecasts", "--county", "331004", "--horizon", "7d", "--periods", "3", "--json"]);
    let record: serde_json::Value = serde_json::from_str(&json.ok().stdout()).unwrap();
    let days: Vec<&str> = record.as_array().unwrap().iter().filter_map(|p| p["day"].as_str()).collect();
    let back = |weeks: i64| (today - chrono::Duration::days(7 * weeks)).to_string();
    assert_eq!(days, [back(1), back(2), back(3)], "{record}");
    // Three or four reports a week, all at the one place the model ranks first.
    for p in record.as_array().unwrap() {
        let check = &p["check"];
        assert!((3..=4).contains(&check["events"].as_u64().unwrap()), "{check}");
        assert_eq!(check["captured"].as_f64(), check["events"].as_f64(), "{check}");
    }
    let text = w.run(&["risk", "check-forecasts", "--county", "331004", "--horizon", "30d", "--periods", "2"]).ok().stdout();
    assert!(text.starts_with("331004: 2 of 2 forecasts of 30 days checked"), "{text}");
    assert!(text.contains(&format!("from {}:", today - chrono::Duration::days(60))) && text.contains("together:"), "{text}");
}
