//! `fengqiao backup` while the server writes, and `fengqiao restore`.

use crate::support::{Server, Workspace, get};

#[test]
fn online_backup_restores_into_a_fresh_directory() {
    let ws = Workspace::new();
    // No scheduler: the nightly risk run would journal its claim at a moment of its own and the
    // heads compared below would race it.
    let server =
        Server::start(ws.command().args(["serve", "--listen", "127.0.0.1:0"]).env("FENGQIAO__SCHEDULER__IN_SERVER", "false"));
    let copy = ws.path().join("copy.db");
    let out = ws.run(&["backup", copy.to_str().unwrap()]).ok().stdout();
    assert!(out.contains("integrity checked") && out.contains("journal head"), "{out}");
    let stderr = ws.run(&["backup", copy.to_str().unwrap()]).fails(1);
    assert!(stderr.contains("already exists"), "{stderr}");
    let (_, original) = get(&server.url("/api/v1/status"), None);
    let original: serde_json::Value = serde_json::from_str(&original).unwrap();

    let target = Workspace::new();
    let out = target.run(&["restore", copy.to_str().unwrap()]).ok().stdout();
    assert!(out.contains("restored"), "{out}");
    target.run(&["audit", "verify"]).ok();
    let restored = Server::start(
        target.command().args(["serve", "--listen", "127.0.0.1:0", "--no-demo"]).env("FENGQIAO__SCHEDULER__IN_SERVER", "false"),
    );
    let (_, status) = get(&restored.url("/api/v1/status"), None);
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["regions"], original["regions"]);
    assert_eq!(status["grids"], original["grids"]);
    assert_eq!(status["journal_head"], original["journal_head"]);

    // Restoring over a database needs --force and refuses while a server runs.
    let stderr = target.run(&["restore", copy.to_str().unwrap()]).fails(1);
    assert!(stderr.contains("--force"), "{stderr}");
    let stderr = target.run(&["restore", copy.to_str().unwrap(), "--force"]).fails(1);
    assert!(stderr.contains("another fengqiao server"), "{stderr}");
    drop(restored);
    let out = target.run(&["restore", copy.to_str().unwrap(), "--force"]).ok().stdout();
    assert!(out.contains("kept the replaced database"), "{out}");
}

#[test]
fn a_tampered_backup_is_not_restored() {
    let ws = Workspace::new();
    ws.run(&["import", "regions"]).ok();
    let copy = ws.path().join("copy.db");
    ws.run(&["backup", copy.to_str().unwrap()]).ok();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch("DROP TRIGGER journal_no_update; UPDATE journal SET actor = 'someone else' WHERE seq = 1;").unwrap();
    drop(conn);
    let target = Workspace::new();
    let stderr = target.run(&["restore", copy.to_str().unwrap()]).fails(3);
    assert!(stderr.contains("row 1 edited"), "{stderr}");
    assert!(!target.db().exists(), "nothing is restored");
}

#[test]
fn restores_in_quick_succession_keep_every_replaced_database() {
    let ws = Workspace::new();
    ws.run(&["import", "regions"]).ok();
    let copy = ws.path().join("copy.db");
    ws.run(&["backup", copy.to_str().unwrap()]).ok();
    let checkpoint = ws.run(&["audit", "checkpoint"]).ok().stdout().trim().to_owned();
    let target = Workspace::new();
    target.run(&["restore", copy.to_str().unwrap()]).ok();
    target.run(&["restore", copy.to_str().unwrap(), "--force", "--checkpoint", &checkpoint]).ok();
    target.run(&["restore", copy.to_str().unwrap(), "--force"]).ok();
    let kept = std::fs::read_dir(target.data_dir())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".replaced-"))
        .count();
    assert_eq!(kept, 2, "two replaced databases, neither overwritten");
    // A checkpoint the backup does not contain refuses the restore.
    let forged = format!("{}:{}", checkpoint.split(':').next().unwrap(), "ab".repeat(32));
    let stderr = target.run(&["restore", copy.to_str().unwrap(), "--force", "--checkpoint", &forged]).fails(3);
    assert!(stderr.contains("published checkpoint"), "{stderr}");
}
