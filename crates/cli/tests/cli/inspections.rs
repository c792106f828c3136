//! `fengqiao simulate inspections` and the invariants `fengqiao bench allocate` checks (not its
//! timings: those are measured by running the command, not by tests).

use crate::support::Workspace;

#[test]
fn simulated_records_are_labelled_and_the_same_for_the_same_seed() {
    let w = Workspace::new();
    let out = w.path().join("records.jsonl");
    let run = |seed: &str| {
        let status = w
            .bare_command()
            .args(["simulate", "inspections", "--city", "3307", "--days", "2", "--per-day", "300", "--seed", seed, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
        assert!(String::from_utf8_lossy(&status.stderr).contains("义乌市"), "the counties are named");
        std::fs::read_to_string(&out).unwrap()
    };
    let first = run("4");
    let lines: Vec<serde_json::Value> = first.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 600);
    assert!(lines.iter().all(|r| r["synthetic"] == true && r["id"].as_str().unwrap().starts_with("SIM-3307")));
    assert_eq!(run("4"), first);
    assert_ne!(run("5"), first);
    let refused = w.bare_command().args(["simulate", "inspections", "--city", "4401"]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("error[region_not_city]"));
}

#[test]
fn the_allocation_bench_reports_its_invariants_as_json() {
    let w = Workspace::new();
    let output =
        w.bare_command().args(["bench", "allocate", "--records", "3000", "--reviewers", "120", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["own_county_assignments"], 0);
    assert_eq!(report["unallocated"], 0);
    assert_eq!(report["replays_identically"], true);
    assert!(report["decisions_per_second_one_core"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_batch_of_records_is_reviewed_against_the_shipped_standard() {
    let w = Workspace::new();
    let file = w.path().join("records.jsonl");
    let made = w
        .bare_command()
        .args(["simulate", "inspections", "--days", "3", "--per-day", "400", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(made.status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    let early = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| {
            let start = r["inspection_started"].as_str().unwrap().to_owned();
            r["photos"].as_array().unwrap().iter().any(|p| p["watermark_at"].as_str().unwrap() < start.as_str())
        })
        .count() as u64;
    let output = w.bare_command().args(["inspection", "review", "--json", "--records"]).arg(&file).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["records"], 1_200);
    let verdicts: u64 = report["verdicts"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(verdicts, 1_200, "every record has a verdict");
    assert_eq!(report["rules"]["R04"].as_u64().unwrap_or(0), early, "watermarks before the start: R04");
    assert_eq!(report["anomalies"]["watermark_order"].as_u64().unwrap_or(0), early);
    // A line that is not a record is named, and nothing is reported.
    std::fs::write(&file, format!("{}\nnot json\n", text.lines().next().unwrap())).unwrap();
    let bad = w.bare_command().args(["inspection", "review", "--records"]).arg(&file).output().unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("error[record_invalid]") && err.contains(":2:"), "{err}");
}

#[test]
fn records_are_received_from_a_batch_file_and_supervised() {
    let w = Workspace::new();
    let file = w.path().join("day.jsonl");
    w.bare_command().args(["simulate", "inspections", "--days", "2", "--per-day", "40", "--out"]).arg(&file).output().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    // A bad line receives nothing, names the line and exits 4.
    let broken = w.path().join("broken.jsonl");
    std::fs::write(&broken, format!("{}\n{{\"id\": \"x\"}}\n", text.lines().next().unwrap())).unwrap();
    let err = w.command().args(["import", "inspections"]).arg(&broken).output().unwrap();
    assert_eq!(err.status.code(), Some(4), "{}", String::from_utf8_lossy(&err.stderr));
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("broken.jsonl:2:") && stderr.contains("error[import_lines_invalid]"), "{stderr}");
    // No reviewers yet: the records are stored and wait for one (nothing lost).
    let run = w.command().args(["import", "inspections", "--json"]).arg(&file).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let received = report["received"].as_array().unwrap();
    assert_eq!(received.len(), 80);
    assert!(
        received
            .iter()
            .all(|r| r["state"] == "submitted" && r["waiting"].as_str().is_some_and(|w| w.contains("no eligible handler")))
    );
    assert!(received.iter().all(|r| r["review"]["verdict"].is_string()));
    let again = w.command().args(["import", "inspections", "--json"]).arg(&file).output().unwrap();
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["already_received"].as_array().unwrap().len(), 80);
    // The supervision checks read the stored records (received now, so the period is today's).
    let today = chrono::Utc::now().date_naive();
    let (from, to) = ((today - chrono::Duration::days(1)).to_string(), (today + chrono::Duration::days(2)).to_string());
    let run =
        w.command().args(["inspection", "supervise", "--dry-run", "--json", "--from", &from, "--to", &to]).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!((report["records"].as_u64(), report["reviews"].as_u64()), (Some(80), Some(0)));
    assert_eq!(report["opened"].as_array().map(Vec::len), Some(0), "a dry run opens nothing");
    let bad = w.command().args(["inspection", "ranking", "--month", "2026-13"]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("error[month_invalid]"));
}
