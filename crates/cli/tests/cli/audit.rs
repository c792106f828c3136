//! `fengqiao audit verify` names each kind of tampering done with raw SQL, and exits non-zero.

use std::path::PathBuf;
use std::sync::OnceLock;

use crate::support::Workspace;

fn repo_file(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

/// A database with exactly ten journal events, built once through the CLI and copied per test.
fn template() -> &'static PathBuf {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let ws = Workspace::new();
        ws.run(&["import", "regions"]).ok();
        ws.run(&["import", "boundaries", &repo_file("data/boundaries/county.geojson")]).ok();
        for n in 0..8 {
            ws.run(&["org", "add", "--name", &format!("审计测试单位{n}"), "--kind", "station", "--region", "331004001"]).ok();
        }
        let kept = ws.dir.keep();
        kept.join("data")
    })
}

fn tampered(sql: &str) -> Workspace {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.data_dir()).unwrap();
    for entry in std::fs::read_dir(template()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("fengqiao.db") {
            std::fs::copy(entry.path(), ws.data_dir().join(entry.file_name())).unwrap();
        }
    }
    if !sql.is_empty() {
        let conn = rusqlite::Connection::open(ws.db()).unwrap();
        // An intruder with file access first removes the append-only triggers.
        conn.execute_batch("DROP TRIGGER journal_no_update; DROP TRIGGER journal_no_delete;").unwrap();
        conn.execute_batch(sql).unwrap();
    }
    ws
}

#[test]
fn an_untouched_journal_verifies() {
    let ws = tampered("");
    let out = ws.run(&["audit", "verify"]).ok().stdout();
    assert!(out.contains("journal intact: 10 events"), "{out}");
    let json: serde_json::Value = serde_json::from_str(&ws.run(&["audit", "verify", "--json"]).ok().stdout()).unwrap();
    assert_eq!(json["intact"], true);
    assert_eq!(json["events"], 10);
}

#[test]
fn each_kind_of_tampering_is_named_with_its_row() {
    let cases = [
        ("changed payload", r#"UPDATE journal SET payload = '{"name":"改过的"}' WHERE seq = 5"#, "row 5 edited"),
        ("deleted row", "DELETE FROM journal WHERE seq = 5", "row 5 deleted"),
        (
            "swapped rows",
            "UPDATE journal SET seq = 1000000 WHERE seq = 4; UPDATE journal SET seq = 4 WHERE seq = 7; UPDATE journal SET seq = 7 WHERE seq = 1000000;",
            "row 4 reordered",
        ),
        (
            "inserted row",
            "UPDATE journal SET seq = seq + 1000000 WHERE seq >= 5; UPDATE journal SET seq = seq - 999999 WHERE seq > 1000000;
             INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
             SELECT 5, 'forged', 1, kind, actor, recorded_at, occurred_at, payload, hash, hash FROM journal WHERE seq = 4;",
            "row 5 inserted",
        ),
        (
            "appended row",
            "INSERT INTO journal (seq, stream, stream_seq, kind, actor, recorded_at, occurred_at, payload, prev_hash, hash)
             SELECT 11, 'forged', 1, kind, actor, recorded_at, occurred_at, payload, hash, hash FROM journal WHERE seq = 10;",
            "row 11 inserted",
        ),
        ("garbage hash", "UPDATE journal SET hash = 'not a hash' WHERE seq = 3", "row 3 edited"),
    ];
    for (name, sql, expected) in cases {
        let ws = tampered(sql);
        let stderr = ws.run(&["audit", "verify"]).fails(3);
        assert!(stderr.contains("journal_broken") && stderr.contains(expected), "{name}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&ws.run(&["audit", "verify", "--json"]).stdout()).unwrap();
        assert_eq!(json["intact"], false, "{name}");
        // A broken chain gets no checkpoint.
        ws.run(&["audit", "checkpoint"]).fails(3);
    }
}

#[test]
fn a_published_checkpoint_catches_a_truncated_tail_with_a_forged_head() {
    let ws = tampered("");
    let checkpoint = ws.run(&["audit", "checkpoint"]).ok().stdout().trim().to_owned();
    assert!(checkpoint.starts_with("10:"), "{checkpoint}");
    ws.run(&["audit", "verify", "--checkpoint", &checkpoint]).ok();
    // Delete the last two rows and move the recorded head back to match.
    let conn = rusqlite::Connection::open(ws.db()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER journal_no_delete; DELETE FROM journal WHERE seq > 8;
         UPDATE journal_head SET seq = 8, hash = (SELECT hash FROM journal WHERE seq = 8);",
    )
    .unwrap();
    drop(conn);
    ws.run(&["audit", "verify"]).ok();
    let stderr = ws.run(&["audit", "verify", "--checkpoint", &checkpoint]).fails(3);
    assert!(stderr.contains("row 9 deleted") && stderr.contains("published checkpoint"), "{stderr}");
    let stderr = ws.run(&["audit", "verify", "--checkpoint", "ten:abc"]).fails(1);
    assert!(stderr.contains("checkpoint_invalid"), "{stderr}");
}
