//! `fengqiao serve` on an empty directory: database created, regions loaded, pages answering.

use crate::support::{Workspace, get};

#[test]
fn first_start_creates_the_database_loads_regions_and_serves() {
    let ws = Workspace::new();
    let server = ws.serve(&[]);
    assert!(ws.db().is_file(), "the SQLite file is created under the data directory");
    assert!(server.startup.iter().any(|l| l.contains("first start: loaded the division tree")), "{:?}", server.startup);
    assert!(server.startup.iter().any(|l| l.contains("demo-admin")), "demo accounts are printed: {:?}", server.startup);

    let (status, body) = get(&server.url("/healthz"), None);
    assert_eq!((status, body.as_str()), (200, "ok"));
    let (status, body) = get(&server.url("/readyz"), None);
    assert_eq!(status, 200, "{body}");

    let (status, page) = get(&server.url("/"), None);
    assert_eq!(status, 200);
    for (id, count) in [("province", "1"), ("city", "11"), ("county", "90"), ("town", "1,387"), ("village", "25,547")] {
        let cell = format!(r#"id="count-{id}">{count}<"#);
        assert!(page.contains(&cell), "landing page lacks {cell}");
    }
    assert!(page.contains("SQLite"), "the page names the database");
    assert!(page.contains("演示数据"), "demo data is labelled on the page");

    let (_, status_json) = get(&server.url("/api/v1/status"), None);
    let status_json: serde_json::Value = serde_json::from_str(&status_json).unwrap();
    assert_eq!(status_json["regions"]["villages"], 25_547);
    assert!(status_json["generated_grids"].as_u64().unwrap() > 0, "demo grids are generated");
    let events = status_json["journal_events"].as_u64().unwrap();
    drop(server);

    // The second start loads nothing again and seeds nothing again.
    let again = ws.serve(&[]);
    assert!(!again.startup.iter().any(|l| l.contains("first start")), "{:?}", again.startup);
    assert!(!again.startup.iter().any(|l| l.contains("seeded demo data")), "{:?}", again.startup);
    let (_, status_json) = get(&again.url("/api/v1/status"), None);
    let status_json: serde_json::Value = serde_json::from_str(&status_json).unwrap();
    assert_eq!(status_json["journal_events"].as_u64().unwrap(), events);
    let demo_file = std::fs::read_to_string(ws.data_dir().join("demo-accounts.txt")).unwrap();
    assert!(demo_file.contains("demo-admin") && demo_file.contains("password:"));
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let ws = Workspace::new();
    let _first = ws.serve(&["--no-demo"]);
    let stderr = ws.run(&["serve", "--listen", "127.0.0.1:0", "--no-demo"]).fails(1);
    assert!(stderr.contains("data_dir_in_use") && stderr.contains("another fengqiao server"), "{stderr}");
}

#[test]
fn a_taken_port_is_named() {
    let ws = Workspace::new();
    let first = ws.serve(&["--no-demo"]);
    let addr = first.base.trim_start_matches("http://").to_owned();
    let other = Workspace::new();
    let stderr = other.run(&["serve", "--no-demo", "--listen", &addr]).fails(1);
    assert!(stderr.contains("listen_failed") && stderr.contains(&addr), "{stderr}");
}

#[test]
fn regions_are_public_reference_data() {
    let ws = Workspace::new();
    let server = ws.serve(&["--no-demo"]);
    let (status, body) = get(&server.url("/api/v1/regions/331004"), None);
    assert_eq!(status, 200);
    let region: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(region["name"], "路桥区");
    assert_eq!(region["children"].as_array().unwrap().len(), 12, "路桥区 has 12 towns/streets");
    let (status, body) = get(&server.url("/api/v1/regions/33100"), None);
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("region_code_invalid"));
    let (status, _) = get(&server.url("/api/v1/regions/331099"), None);
    assert_eq!(status, 404);
}
