//! Token authentication and scope over HTTP, denials first.

use serde_json::json;

use crate::support::{Workspace, agent, get, post_json};

#[test]
fn tokens_and_region_scope_decide_every_request() {
    let ws = Workspace::new();
    let (_luqiao_org, luqiao_admin) = ws.admin_token("331004");
    let jiaojiang = ws.run(&["org", "add", "--name", "椒江区中心", "--kind", "centre", "--region", "331002"]).ok().stdout();
    let jiaojiang_org = jiaojiang.split('\t').next().unwrap().to_owned();
    ws.run(&[
        "account",
        "add",
        "--login",
        "jiaojiang",
        "--name",
        "椒江管理员",
        "--org",
        &jiaojiang_org,
        "--grant",
        "admin:331002",
    ])
    .ok();
    let jiaojiang_admin = ws.run(&["account", "token", "--login", "jiaojiang"]).ok().stdout().trim().to_owned();
    let expired = ws.run(&["account", "token", "--login", "tester", "--days", "0"]).ok().stdout().trim().to_owned();

    let server = ws.serve(&["--no-demo"]);
    let agent = agent();
    let url = server.url("/api/v1/organisations");
    let station = |region: &str| json!({ "name": "新站所", "kind": "station", "region": region });

    // Anonymous, malformed and expired credentials.
    let (status, body) = post_json(&agent, &url, None, &station("331004001")).unwrap();
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthenticated")));
    let (status, _) = post_json(&agent, &url, Some("fqt_notatoken"), &station("331004001")).unwrap();
    assert_eq!(status, 401);
    let (status, _) = post_json(&agent, &url, Some(&expired), &station("331004001")).unwrap();
    assert_eq!(status, 401, "an expired token is refused");

    // In scope: created. Out of scope: forbidden.
    let (status, created) = post_json(&agent, &url, Some(&luqiao_admin), &station("331004001")).unwrap();
    assert_eq!(status, 201, "{created}");
    let id = created["organisation"]["id"].as_str().unwrap().to_owned();
    assert!(created["journal_seq"].as_u64().unwrap() > 0);
    let (status, body) = post_json(&agent, &url, Some(&luqiao_admin), &station("331002001")).unwrap();
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");

    // Another county's administrator cannot even see it exists.
    let (status, _) = get(&server.url(&format!("/api/v1/organisations/{id}")), Some(&jiaojiang_admin));
    assert_eq!(status, 404);
    let (status, body) = get(&server.url(&format!("/api/v1/organisations/{id}")), Some(&luqiao_admin));
    assert_eq!(status, 200, "{body}");
    let (_, listed) = get(&server.url("/api/v1/organisations?region=33"), Some(&luqiao_admin));
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    assert!(listed.iter().all(|o| o["region"].as_str().unwrap().starts_with("331004")), "{listed:?}");
    assert_eq!(listed.len(), 2);

    // Bad bodies name the field and change nothing.
    let (status, body) = post_json(&agent, &url, Some(&luqiao_admin), &json!({ "kind": "station", "region": "331004" })).unwrap();
    assert_eq!((status, body["error"]["field"].as_str()), (422, Some("name")), "{body}");
    let (status, body) =
        post_json(&agent, &url, Some(&luqiao_admin), &json!({ "name": "x", "kind": "shop", "region": "331004" })).unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["field"].as_str()),
        (422, Some("org_kind_invalid"), Some("kind"))
    );
    let (status, body) =
        post_json(&agent, &url, Some(&luqiao_admin), &json!({ "name": "x", "kind": "station", "region": "331004999" })).unwrap();
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("region_unknown")), "{body}");
    let mut response = agent
        .post(&url)
        .header("Authorization", format!("Bearer {luqiao_admin}"))
        .content_type("application/json")
        .send("{not json")
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.body_mut().read_to_string().unwrap().contains("body_not_json"));
    let (_, after) = get(&server.url("/api/v1/organisations?region=331004"), Some(&luqiao_admin));
    assert_eq!(serde_json::from_str::<Vec<serde_json::Value>>(&after).unwrap().len(), 2, "refused requests created nothing");

    // A disabled account's token stops working at once.
    ws.run(&["account", "disable", "--login", "jiaojiang"]).ok();
    let (status, _) = get(&server.url("/api/v1/organisations?region=331002"), Some(&jiaojiang_admin));
    assert_eq!(status, 401);
}

#[test]
fn accounts_take_passwords_from_standard_input_and_refuse_weak_ones() {
    let ws = Workspace::new();
    let (org, _) = ws.admin_token("331004");
    let args =
        ["account", "add", "--login", "wang.wu", "--name", "王五", "--org", &org, "--grant", "staff:331004", "--password-stdin"];
    let stderr = ws.run_with_input(&args, "short\n").fails(1);
    assert!(stderr.contains("password_too_weak"), "{stderr}");
    ws.run_with_input(&args, "a long enough passphrase\n").ok();
    let conn = rusqlite::Connection::open(ws.db()).unwrap();
    let stored: String = conn.query_row("SELECT password_hash FROM accounts WHERE login = 'wang.wu'", [], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("passphrase"), "only an Argon2id hash is stored");
    let journal: String = conn.query_row("SELECT group_concat(payload) FROM journal", [], |r| r.get(0)).unwrap();
    assert!(!journal.contains("passphrase") && !journal.contains("argon2"), "no password or hash in the journal");
    let stderr = ws.run(&["account", "add", "--login", "wang.wu", "--name", "重名", "--org", &org]).fails(1);
    assert!(stderr.contains("login_taken"), "{stderr}");
    let stderr = ws.run(&["account", "grant", "--login", "wang.wu", "staff:331004"]).fails(1);
    assert!(stderr.contains("already exists"), "{stderr}");
    ws.run(&["account", "grant", "--login", "wang.wu", "leader:331004"]).ok();
}
