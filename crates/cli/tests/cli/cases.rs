//! The case engine from the command line: programme definitions refused with file and line (at
//! start too), cases opened and acted on by the operator, dispatch replayed identically.

use crate::support::Workspace;

fn copy_demo(to: &std::path::Path) -> std::path::PathBuf {
    let demo = to.join("demo");
    std::fs::create_dir_all(demo.join("catalogs")).unwrap();
    let root = format!("{}/../../programmes/demo", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(format!("{root}/programme.toml"), demo.join("programme.toml")).unwrap();
    std::fs::copy(format!("{root}/catalogs/dispute_category.toml"), demo.join("catalogs/dispute_category.toml")).unwrap();
    demo
}

#[test]
fn broken_programmes_are_refused_with_file_line_and_reason() {
    let ws = Workspace::new();
    let dir = ws.path().join("programmes");
    let demo = copy_demo(&dir);
    let out = ws.run(&["programmes", "check", dir.to_str().unwrap()]).ok().stdout();
    assert!(out.contains("every definition is valid") && out.contains("dispute") && out.contains("peer_review"), "{out}");

    let text = std::fs::read_to_string(demo.join("programme.toml")).unwrap();
    let broken = text.replacen("to = \"verifying\"", "to = \"verfying\"", 1);
    let line = broken[..broken.find("verfying").unwrap()].lines().count();
    std::fs::write(demo.join("programme.toml"), &broken).unwrap();
    let stderr = ws.run(&["programmes", "check", dir.to_str().unwrap()]).fails(1);
    assert!(
        stderr.contains("programme_invalid")
            && stderr.contains(&format!("programme.toml line {line}"))
            && stderr.contains("verfying"),
        "{stderr}"
    );
    // The server refuses to start on it, before touching the database.
    let stderr = ws.run(&["--programmes", dir.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"]).fails(1);
    assert!(stderr.contains("programme definition refused") && stderr.contains(&format!("line {line}")), "{stderr}");
    assert!(!ws.db().exists(), "nothing was created");
}

#[test]
fn the_operator_runs_a_case_and_replays_its_draw() {
    let ws = Workspace::new();
    ws.run(&["import", "regions"]).ok();
    let county = ws.run(&["org", "add", "--name", "新昌县社会治理中心", "--kind", "centre", "--region", "330624"]).ok().stdout();
    let county_id = county.split('\t').next().unwrap().to_owned();
    ws.run(&["org", "add", "--name", "镇矛调中心", "--kind", "centre", "--region", "330624001", "--parent", &county_id]).ok();

    let opened = ws
        .run(&[
            "case",
            "open",
            "--programme",
            "demo",
            "--kind",
            "dispute",
            "--region",
            "330624001",
            r#"{"title":"邻里漏水纠纷","category":"neighbour"}"#,
        ])
        .ok()
        .stdout();
    assert!(opened.starts_with("YS") && opened.contains("待受理"), "{opened}");
    let number = opened.split('\t').next().unwrap().to_owned();
    let stderr = ws.run(&["case", "act", &number, "finish"]).fails(1);
    assert!(stderr.contains("action_wrong_state"), "{stderr}");
    let stderr = ws
        .run(&[
            "case",
            "open",
            "--programme",
            "demo",
            "--kind",
            "dispute",
            "--region",
            "330624001",
            r#"{"category":"neighbour"}"#,
        ])
        .fails(1);
    assert!(stderr.contains("field_required") && stderr.contains("title"), "{stderr}");
    let accepted = ws.run(&["case", "act", &number, "accept"]).ok().stdout();
    assert!(accepted.contains("办理中"), "{accepted}");

    let replay = ws.run(&["dispatch", "replay", &number]).ok().stdout();
    assert!(replay.contains("1 automatic draw") && replay.contains("by_region") && replay.contains("identical"), "{replay}");
    let timeline = ws.run(&["case", "timeline", &number]).ok().stdout();
    assert!(
        timeline.contains("case.created")
            && timeline.contains("case.assigned")
            && timeline.contains("snapshot equals the replay of the journal: true"),
        "{timeline}"
    );
    let list = ws.run(&["case", "list", "--programme", "demo", "--open"]).ok().stdout();
    assert!(list.contains(&number) && list.contains("邻里漏水纠纷"), "{list}");
    let fired = ws.run(&["case", "fire-timers"]).ok().stdout();
    assert!(fired.contains("0 fired"), "nothing is due yet: {fired}");
    let stderr = ws.run(&["dispatch", "replay", "YS2026-999999"]).fails(1);
    assert!(stderr.contains("not_found"), "{stderr}");
}
