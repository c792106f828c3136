//! SIGKILL in the middle of a concurrent write load: every acknowledged write survives and the
//! journal still verifies.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Workspace, agent, get, post_json};

#[test]
fn kill_9_under_load_loses_no_acknowledged_write() {
    let ws = Workspace::new();
    let (_org, token) = ws.admin_token("331004");
    let server = ws.serve(&["--no-demo"]);
    let url = server.url("/api/v1/organisations");
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (url, token, acknowledged, stop) = (url.clone(), token.clone(), Arc::clone(&acknowledged), Arc::clone(&stop));
        writers.push(std::thread::spawn(move || {
            let agent = agent();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let body = json!({ "name": format!("负载单位{writer}-{n}"), "kind": "station", "region": "331004001" });
                match post_json(&agent, &url, Some(&token), &body) {
                    Ok((201, created)) => {
                        let id = created["organisation"]["id"].as_str().expect("id").to_owned();
                        let seq = created["journal_seq"].as_u64().expect("journal_seq");
                        acknowledged.lock().unwrap().push((id, seq));
                    }
                    Ok((status, body)) => panic!("unexpected {status}: {body}"),
                    // The server died: this request was never acknowledged.
                    Err(_) => return,
                }
                n += 1;
            }
        }));
    }
    let start = Instant::now();
    while acknowledged.lock().unwrap().len() < 400 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill_9();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().expect("writer thread");
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 400, "the load was running when the server was killed ({})", acknowledged.len());

    let verified = ws.run(&["audit", "verify"]).ok().stdout();
    assert!(verified.contains("journal intact"), "{verified}");

    let again = ws.serve(&["--no-demo"]);
    let (status, body) = get(&again.url("/api/v1/organisations?region=331004"), Some(&token));
    assert_eq!(status, 200, "{body}");
    let stored: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let stored: HashSet<String> = stored.iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect();
    let lost: Vec<_> = acknowledged.iter().filter(|(id, _)| !stored.contains(id)).collect();
    assert!(lost.is_empty(), "{} acknowledged writes lost: {lost:?}", lost.len());
    let (_, status_json) = get(&again.url("/api/v1/status"), None);
    let status_json: serde_json::Value = serde_json::from_str(&status_json).unwrap();
    let events = status_json["journal_events"].as_u64().unwrap();
    let newest = acknowledged.iter().map(|(_, seq)| *seq).max().unwrap();
    assert!(events >= newest, "journal has {events} events, an acknowledged write was at {newest}");
}
