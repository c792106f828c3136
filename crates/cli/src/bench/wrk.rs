//! Drives `wrk` (Debian package `wrk`) for `bench http`: an event-loop load generator in C that
//! keeps `--connections` connections busy from two threads, so that far less of the machine's
//! two cores goes to the client than with one blocking thread per connection.
//!
//! The request paths and the bearer token go into a generated Lua script; its `done` hook prints
//! one JSON line (wrk's documented `summary` and `latency` objects) that we read back.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

/// What wrk measured in one phase (times in microseconds).
#[derive(Debug, Deserialize)]
pub struct WrkSummary {
    pub requests: u64,
    pub duration_us: u64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
    /// Responses with a status of 400 or more.
    pub status_errors: u64,
}

/// Whether a `wrk` binary answers on the PATH.
pub fn available() -> bool {
    Command::new("wrk").arg("--version").output().is_ok()
}

/// The Lua script: requests cycle through `paths` (each thread from its own offset), with the
/// token when there is one, and `done` prints the summary as JSON.
fn script(paths: &[String], token: Option<&str>) -> String {
    let quoted: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    let headers = match token {
        Some(token) => format!("{{ [\"Authorization\"] = \"Bearer {token}\" }}"),
        None => "{}".to_owned(),
    };
    format!(
        r#"local paths = {{ {list} }}
local headers = {headers}
local n = 0
local counter = 0
setup = function(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end
init = function(args)
  n = offset or 0
end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"socket_errors":%d,"status_errors":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
"#,
        list = quoted.join(", ")
    )
}

/// Runs wrk against `base` for `budget` with `connections` connections on two threads.
pub fn run(
    dir: &Path,
    base: &str,
    paths: &[String],
    token: Option<&str>,
    connections: usize,
    budget: Duration,
) -> Result<WrkSummary, String> {
    let script_path = dir.join("bench-http.lua");
    std::fs::write(&script_path, script(paths, token)).map_err(|e| format!("cannot write {}: {e}", script_path.display()))?;
    let threads = connections.clamp(1, 2);
    let output = Command::new("wrk")
        .arg(format!("--threads={threads}"))
        .arg(format!("--connections={connections}"))
        .arg(format!("--duration={}s", budget.as_secs().max(1)))
        .arg("--timeout=30s")
        .arg(format!("--script={}", script_path.display()))
        .arg(base)
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!("wrk failed ({}): {}{}", output.status, stdout, String::from_utf8_lossy(&output.stderr)));
    }
    let line =
        stdout.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| format!("wrk printed no summary line: {stdout}"))?;
    serde_json::from_str(line).map_err(|e| format!("wrk's summary line {line:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::script;

    #[test]
    fn the_script_quotes_paths_and_sends_the_token() {
        let s = script(&["/api/v1/cases/a\"b".to_owned(), "/healthz".to_owned()], Some("fq_secret"));
        assert!(s.contains(r#"local paths = { "/api/v1/cases/a\"b", "/healthz" }"#), "{s}");
        assert!(s.contains(r#"["Authorization"] = "Bearer fq_secret""#), "{s}");
        let anonymous = script(&["/healthz".to_owned()], None);
        assert!(anonymous.contains("local headers = {}"), "{anonymous}");
    }
}
