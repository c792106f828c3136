//! Bad configuration and bad database settings: a clear error naming what and where, exit 1.

use crate::support::Workspace;

#[test]
fn config_example_prints_and_is_accepted() {
    let ws = Workspace::new();
    let example = ws.run(&["config", "example"]).ok().stdout();
    assert!(example.contains("[storage]") && example.contains("synchronous = \"full\""));
    std::fs::write(ws.path().join("example.toml"), &example).unwrap();
    let shown = ws.run(&["--config", "example.toml", "config", "show"]).ok().stdout();
    assert!(shown.contains("127.0.0.1:8080"), "{shown}");
}

#[test]
fn bad_values_keys_and_files_are_named() {
    let ws = Workspace::new();
    let cases = [
        ("bad.toml", "[storage]\nsynchronous = \"fast\"\n", &["synchronous", "bad.toml", "fast"][..]),
        ("unknown.toml", "[storage]\ndata_dri = \"x\"\n", &["data_dri", "unknown.toml"][..]),
        ("syntax.toml", "[server\nlisten = 1\n", &["syntax.toml", "line 1"][..]),
        ("listen.toml", "[server]\nlisten = \"not an address\"\n", &["listen", "listen.toml"][..]),
    ];
    for (file, text, needles) in cases {
        std::fs::write(ws.path().join(file), text).unwrap();
        let stderr = ws.run(&["--config", file, "config", "show"]).fails(1);
        assert!(stderr.contains("config_invalid"), "{file}: {stderr}");
        for needle in needles {
            assert!(stderr.contains(needle), "{file}: {stderr} lacks {needle}");
        }
    }
    let stderr = ws.run(&["--config", "missing.toml", "config", "show"]).fails(1);
    assert!(stderr.contains("missing.toml") && stderr.contains("does not exist"), "{stderr}");
    let stderr = ws.command().env("FENGQIAO__STORAGE__GROUP_COMMIT_MAX", "many").args(["config", "show"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr.stderr).to_lowercase();
    assert!(stderr.contains("group_commit_max") && stderr.contains("fengqiao__") && stderr.contains("many"), "{stderr}");
}

#[test]
fn the_environment_overrides_the_file() {
    let ws = Workspace::new();
    std::fs::write(ws.path().join("fengqiao.toml"), "[server]\nlisten = \"127.0.0.1:9001\"\n").unwrap();
    let shown = ws.run(&["config", "show"]).ok().stdout();
    assert!(shown.contains("127.0.0.1:9001"), "the file in the working directory is read: {shown}");
    let out = ws.command().env("FENGQIAO__SERVER__LISTEN", "127.0.0.1:9002").args(["config", "show"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("127.0.0.1:9002"));
}

#[test]
fn bad_database_settings_are_named() {
    let ws = Workspace::new();
    let stderr = ws.run(&["--database", "mysql://root:pw@localhost/x", "audit", "verify"]).fails(1);
    assert!(stderr.contains("database_url_invalid") && stderr.contains("mysql") && !stderr.contains("pw@"), "{stderr}");
    let stderr = ws.run(&["--database", "postgres://postgres:topsecret@127.0.0.1:1/fengqiao", "audit", "verify"]).fails(1);
    assert!(
        stderr.contains("database_unavailable") && stderr.contains("127.0.0.1:1") && !stderr.contains("topsecret"),
        "{stderr}"
    );
    let stderr = ws.run(&["--database", "postgres://postgres@127.0.0.1:1/fengqiao", "serve", "--listen", "127.0.0.1:0"]).fails(1);
    assert!(stderr.contains("database_unavailable"), "{stderr}");
}

#[test]
fn an_unwritable_data_directory_is_named() {
    let ws = Workspace::new();
    let blocker = ws.path().join("not-a-dir");
    std::fs::write(&blocker, "a file where the data directory should be").unwrap();
    let stderr = ws.bare_command().arg("--data-dir").arg(&blocker).args(["serve", "--listen", "127.0.0.1:0"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&stderr.stderr);
    assert!(stderr.contains("not-a-dir"), "{stderr}");
}
