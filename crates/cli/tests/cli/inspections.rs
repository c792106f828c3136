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
