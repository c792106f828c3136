//! `fengqiao bench http`: case-detail and case-list requests per second and their p99 over many
//! keep-alive connections, beside the same server's bare `/healthz` in the same run.
//!
//! The database is a scratch SQLite file with `--cases` synthetic cases (decided by the real
//! domain code, committed in bulk; kept in `--dir` between runs so that seeding happens once).
//! The server runs in this process on 127.0.0.1; the load comes from `--connections` threads,
//! each with its own keep-alive connection, so client and server share this machine's cores.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fq_domain::actor::Actor;
use fq_engine::{Engine, NewAccount, NewOrganisation};
use fq_store::{CaseFilter, Store};
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use serde_json::json;

use super::store::failure;
use super::{quantile, wrk};
use crate::args::LoadTool;
use crate::config::Config;
use crate::failure::{Failure, Outcome};

/// What one phase measured.
#[derive(Debug, Clone)]
struct Phase {
    tool: &'static str,
    requests_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
}

/// How `bench http` loads the server.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub connections: usize,
    pub seconds: u64,
    pub tool: LoadTool,
}

/// Runs `connections` blocking client threads against `base` + `paths` (cycled, each client
/// from its own offset) for `budget`.
fn load_threads(connections: usize, budget: Duration, token: Option<&str>, base: &str, paths: &Arc<Vec<String>>) -> Phase {
    let deadline = Instant::now() + budget;
    let start = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|client| {
            let paths = Arc::clone(paths);
            let base = base.to_owned();
            let token = token.map(str::to_owned);
            std::thread::spawn(move || {
                let config = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(30)))
                    .max_idle_connections_per_host(1)
                    .build();
                let agent: ureq::Agent = config.into();
                let (mut latencies, mut errors, mut n) = (Vec::new(), 0u64, 0usize);
                while Instant::now() < deadline {
                    let mut request = agent.get(format!("{base}{}", paths[(client * 7919 + n * 31) % paths.len()]));
                    if let Some(token) = &token {
                        request = request.header("Authorization", format!("Bearer {token}"));
                    }
                    let t = Instant::now();
                    match request.call() {
                        Ok(mut response) => {
                            let ok = response.status().as_u16() == 200;
                            let _ = response.body_mut().read_to_vec();
                            latencies.push(t.elapsed().as_secs_f64() * 1e3);
                            if !ok {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                    n += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for worker in workers {
        if let Ok((latencies, e)) = worker.join() {
            all.extend(latencies);
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_by(f64::total_cmp);
    Phase {
        tool: "threads",
        requests_per_s: all.len() as f64 / elapsed,
        p50_ms: quantile(&all, 0.5),
        p99_ms: quantile(&all, 0.99),
        max_ms: all.last().copied().unwrap_or(0.0),
        errors,
    }
}

impl Phase {
    fn from_wrk(w: &wrk::WrkSummary) -> Phase {
        Phase {
            tool: "wrk",
            requests_per_s: w.requests as f64 / (w.duration_us.max(1) as f64 / 1e6),
            p50_ms: w.p50_us / 1e3,
            p99_ms: w.p99_us / 1e3,
            max_ms: w.max_us / 1e3,
            errors: w.socket_errors + w.status_errors,
        }
    }
}

/// One phase: `paths` on `base` with the chosen tool, off the async runtime.
async fn measure(load: Load, dir: &Path, base: &str, paths: Vec<String>, token: Option<&str>) -> Result<Phase, Failure> {
    let budget = Duration::from_secs(load.seconds.max(1));
    let use_wrk = match load.tool {
        LoadTool::Wrk => true,
        LoadTool::Threads => false,
        LoadTool::Auto => wrk::available(),
    };
    let (dir, base, token) = (dir.to_owned(), base.to_owned(), token.map(str::to_owned));
    tokio::task::spawn_blocking(move || {
        if use_wrk {
            wrk::run(&dir, &base, &paths, token.as_deref(), load.connections, budget)
                .map(|w| Phase::from_wrk(&w))
                .map_err(|e| failure("wrk", e))
        } else {
            Ok(load_threads(load.connections, budget, token.as_deref(), &base, &Arc::new(paths)))
        }
    })
    .await
    .map_err(|e| failure("load", e))?
}

pub async fn run(config: &Config, cases: usize, load: Load, dir: Option<PathBuf>, json: bool) -> Outcome {
    let connections = load.connections;
    let budget = Duration::from_secs(load.seconds.max(1));
    let dir = dir.unwrap_or_else(|| config.storage.data_dir.join("bench-http"));
    std::fs::create_dir_all(&dir).map_err(|e| failure(&format!("cannot create {}", dir.display()), e))?;
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.join("bench.db"), SqliteOptions::default()).await.map_err(|e| failure("open", e))?);
    let engine = Engine::new(Arc::clone(&store));
    engine.ensure_reference_data().await.map_err(|e| failure("reference data", e))?;
    let all = CaseFilter { all_regions: true, programme: Some("demo".into()), limit: 1, ..CaseFilter::default() };
    let existing = store.count_cases(&all).await.map_err(|e| failure("count", e))? as usize;
    if existing < cases {
        let started = Instant::now();
        if !json {
            eprintln!("seeding {} synthetic cases into {} (kept for later runs)...", cases - existing, dir.display());
        }
        let mut last = Instant::now();
        engine
            .seed_synthetic_cases(cases - existing, |done| {
                if !json && last.elapsed() > Duration::from_secs(10) {
                    eprintln!("  {done} cases ({:.0}/s)", done as f64 / started.elapsed().as_secs_f64());
                    last = Instant::now();
                }
            })
            .await
            .map_err(|e| failure("seeding", e))?;
        if !json {
            eprintln!("seeded in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    let total = store.count_cases(&all).await.map_err(|e| failure("count", e))?;

    // A provincial leader reads everything (lists within scope, details masked).
    let operator = Actor::Cli { os_user: "bench".into() };
    let login = format!("bench-{}", std::process::id());
    let org = engine
        .create_organisation(
            &operator,
            NewOrganisation { name: "基准测试单位".into(), kind: "centre".into(), region: "33".into(), parent: None },
        )
        .await
        .map_err(|e| failure("organisation", e))?
        .0;
    let account = NewAccount {
        login: login.clone(),
        display_name: "基准".into(),
        org: org.id.0,
        password: None,
        grants: vec![("leader".into(), "33".into(), None)],
    };
    engine.create_account(&operator, account).await.map_err(|e| failure("account", e))?;
    let token = engine.issue_token(&operator, &login, "bench", Some(1)).await.map_err(|e| failure("token", e))?.secret;
    let sample = store.cases(&CaseFilter { limit: 2_000, ..all.clone() }).await.map_err(|e| failure("sample", e))?;
    let ids: Vec<String> = sample.iter().map(|c| c.id.to_string()).collect();
    let counties: Vec<String> = {
        let mut c: Vec<String> = sample
            .iter()
            .filter_map(|c| c.region.at_level(fq_domain::region::RegionLevel::County))
            .map(|r| r.to_string())
            .collect();
        c.sort();
        c.dedup();
        c
    };

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| failure("listen", e))?;
    let base = format!("http://{}", listener.local_addr().map_err(|e| failure("listen", e))?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fq_server::serve(listener, fq_server::AppState::new(engine.clone()), async move {
        let _ = stopped.await;
    }));

    let detail_paths: Vec<String> = ids.iter().map(|id| format!("/api/v1/cases/{id}")).collect();
    let list_paths: Vec<String> =
        counties.iter().map(|c| format!("/api/v1/cases?programme=demo&region={c}&open=true&limit=50")).collect();
    let hello = measure(load, &dir, &base, vec!["/healthz".to_owned()], None).await?;
    let detail = measure(load, &dir, &base, detail_paths, Some(&token)).await?;
    let list = measure(load, &dir, &base, list_paths, Some(&token)).await?;
    let _ = stop.send(());
    let _ = server.await;
    store.close().await;

    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let detail_ratio = detail.requests_per_s / hello.requests_per_s.max(1.0);
    let list_ratio = list.requests_per_s / hello.requests_per_s.max(1.0);
    if json {
        let phase_json = |p: &Phase| json!({ "requests_per_s": p.requests_per_s.round(), "p50_ms": (p.p50_ms * 100.0).round() / 100.0, "p99_ms": (p.p99_ms * 100.0).round() / 100.0, "max_ms": (p.max_ms * 100.0).round() / 100.0, "errors": p.errors });
        println!(
            "{}",
            json!({
                "cores": cores,
                "load_tool": hello.tool,
                "cases": total,
                "connections": connections,
                "seconds_per_phase": budget.as_secs(),
                "hello": phase_json(&hello),
                "case_detail": phase_json(&detail),
                "case_list": phase_json(&list),
                "hello_requests_per_s": hello.requests_per_s.round(),
                "case_detail_requests_per_s": detail.requests_per_s.round(),
                "case_list_requests_per_s": list.requests_per_s.round(),
                "case_detail_vs_hello": (detail_ratio * 1000.0).round() / 1000.0,
                "case_list_vs_hello": (list_ratio * 1000.0).round() / 1000.0,
                "case_detail_p99_ms": (detail.p99_ms * 100.0).round() / 100.0,
                "case_list_p99_ms": (list.p99_ms * 100.0).round() / 100.0,
                "case_list_max_ms": (list.max_ms * 100.0).round() / 100.0,
            })
        );
    } else {
        println!(
            "HTTP on {cores} cores, {total} cases (SQLite), {connections} keep-alive connections ({}), {} s per phase",
            hello.tool,
            budget.as_secs()
        );
        for (name, p) in [("hello (/healthz)", &hello), ("case detail", &detail), ("case list (50/page)", &list)] {
            println!(
                "  {name:<22} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.1} ms   errors {}",
                p.requests_per_s, p.p50_ms, p.p99_ms, p.max_ms, p.errors
            );
        }
        println!(
            "  detail = {detail_ratio:.2}x hello, list = {list_ratio:.2}x hello (target >= 0.7x); targets p99 <= 10 ms, list pages < 100 ms"
        );
    }
    Ok(())
}
