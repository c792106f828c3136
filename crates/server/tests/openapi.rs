//! The OpenAPI description is generated from the code; this snapshot makes every API change a
//! reviewed change. After changing the API on purpose, refresh it with
//! `UPDATE_SNAPSHOTS=1 cargo test -p fq-server --test openapi` and commit `docs/openapi.json`.

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

#[test]
fn the_api_description_matches_its_snapshot() {
    let generated = fq_server::openapi_json();
    let parsed: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
    assert!(parsed["paths"]["/api/v1/cases/{id}/actions/{action}"]["post"].is_object());
    assert!(parsed["components"]["securitySchemes"]["bearer"].is_object());
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, format!("{generated}\n")).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    assert!(
        stored.trim_end() == generated.trim_end(),
        "the API changed but docs/openapi.json did not: review the change, then run UPDATE_SNAPSHOTS=1 cargo test -p fq-server --test openapi"
    );
}
