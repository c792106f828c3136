//! `fengqiao bench engine`: the case engine's figures.
//!
//! 1. In-memory lifecycles: the demo programme's dispute decided in memory — open → accept (a
//!    by-region draw among 20 units) → finish (a CEL guard) → confirm (closes it) — each event
//!    applied to the case, on one thread, with the real calendar.
//! 2. Durable actions on SQLite (synchronous=FULL): 16 clients, each opening a case and taking
//!    accept → finish → confirm through the engine (load, decide, commit with projections), as
//!    fast as acknowledgements come back. Actions/s counts the three actions; the p99 of one
//!    action is printed beside the disk's fdatasync p99, measured in the same run before and
//!    after the clients.
//! 3. Allocation decisions: random-balanced draws among 20 eligible handlers with constraints
//!    (own county excluded, capacity, duty), on one thread: decisions per second per core.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::CalendarSet;
use fq_domain::case::{ActionRequest, CandidatePool, Case, CaseId, DecideEnv, NewCase, OrgFacts, decide_action, decide_create};
use fq_domain::dispatch::{Candidate, DispatchRequest, draw};
use fq_domain::org::{OrgId, OrgKind};
use fq_domain::programme::{DispatchPolicy, Programme};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::{Engine, NewOrganisation, OpenCase, Programmes, embedded_calendar};
use fq_store::Store;
use fq_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::quantile;
use super::store::{SyncProbe, failure};
use crate::config::Config;
use crate::failure::Outcome;

const CLIENTS: usize = 16;
const UNITS: u128 = 20;

#[derive(Debug, Default)]
struct Figures {
    in_memory_lifecycles_per_s: f64,
    durable_actions_per_s: f64,
    durable_cases_per_s: f64,
    action_p50_us: f64,
    action_p99_us: f64,
    durable_mean_group: f64,
    single_client_action_p50_us: f64,
    single_client_action_p99_us: f64,
    fsync_p50_us: f64,
    fsync_p99_us: f64,
    allocation_decisions_per_s: f64,
}

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).expect("a valid region code")
}

/// Units of Xinchang (330624): a county centre and one centre per town code 001-019.
fn units() -> (BTreeMap<OrgId, OrgFacts>, Vec<Candidate>) {
    let mut orgs = BTreeMap::new();
    let mut candidates = Vec::new();
    for n in 0..UNITS {
        let id = OrgId(Uuid::from_u128(n + 1));
        let code = if n == 0 { "330624".to_owned() } else { format!("330624{n:03}") };
        let facts =
            OrgFacts { id, region: region(&code), kind: OrgKind::Centre, parent: (n > 0).then(|| OrgId(Uuid::from_u128(1))) };
        candidates.push(Candidate {
            unit: id,
            person: None,
            region: facts.region.clone(),
            unit_kind: OrgKind::Centre,
            load: (n % 7) as f64,
            capacity: None,
            on_duty: true,
            qualified: true,
            skills: Vec::new(),
            conflicts: Vec::new(),
            assigned_total: n as u64,
        });
        orgs.insert(id, facts);
    }
    (orgs, candidates)
}

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// One lifecycle in memory; returns the events it made.
fn lifecycle(
    programme: &Programme,
    env: &DecideEnv<'_>,
    n: u64,
    actor: &Actor,
    requests: &[ActionRequest; 3],
    fields: &Map<String, Json>,
) -> usize {
    let new = NewCase {
        id: CaseId(Uuid::from_u64_pair(0, n)),
        number: format!("YS2026-{n:06}"),
        kind: "dispute".into(),
        priority: None,
        region: region("330624001"),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: fields.clone(),
    };
    let mut events = decide_create(programme, new, actor, env).expect("the case opens");
    let mut case = Case::replay(&events).expect("created");
    for request in requests {
        let more = decide_action(programme, &case, request, actor, env).expect("the action is allowed");
        for event in &more {
            case.apply(event);
        }
        events.extend(more);
    }
    assert!(case.closed_at.is_some(), "the lifecycle closes the case");
    events.len()
}

/// Lifecycles per second on every core at once (cases are independent, as in the server).
fn in_memory(programme: &Programme, calendars: &CalendarSet, budget: Duration, threads: usize) -> f64 {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(|| in_memory_one(programme, calendars, budget))).collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0.0)).sum()
    })
}

fn in_memory_one(programme: &Programme, calendars: &CalendarSet, budget: Duration) -> f64 {
    let (orgs, candidates) = units();
    let pools = vec![CandidatePool { def: programme.kind("dispute").expect("demo dispute").dispatch.clone(), candidates }];
    let now: DateTime<Utc> = "2026-03-02T01:00:00Z".parse().expect("a time");
    let env = DecideEnv { now, calendar: calendars.for_region(&region("330624001")), seed: 7, orgs: &orgs, pools: &pools };
    let actor = Actor::Cli { os_user: "bench".into() };
    let fields =
        object(json!({"title": "邻里漏水纠纷", "category": "neighbour", "applicant": {"name": "张三", "role": "申请人"}}));
    let requests = [
        ActionRequest { action: "accept".into(), inputs: Map::new() },
        ActionRequest { action: "finish".into(), inputs: object(json!({"outcome": "resolved"})) },
        ActionRequest { action: "confirm".into(), inputs: Map::new() },
    ];
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..100 {
            std::hint::black_box(lifecycle(programme, &env, n, &actor, &requests, &fields));
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn allocation(budget: Duration) -> f64 {
    let (_, mut candidates) = units();
    // Half the pool in another county, so that excluding the case's own county leaves ten.
    for (i, c) in candidates.iter_mut().enumerate() {
        if i % 2 == 0 {
            c.region = region(&format!("330681{:03}", i + 1));
        }
        c.capacity = Some(50.0);
    }
    let mut request = DispatchRequest {
        policy: DispatchPolicy::RandomBalanced,
        region: region("330624001"),
        level: RegionLevel::Town,
        unit_kinds: vec![OrgKind::Centre],
        exclude_own_county: true,
        within: None,
        qualification: None,
        shares: Vec::new(),
        skill: None,
        conflict_keys: vec!["张三".into()],
        exclude: Vec::new(),
        weight: 1.0,
        count: 1,
        seed: 0,
    };
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            request.seed = n;
            let picked = draw(&request, &candidates).expect("ten are eligible");
            // Keep the loads moving as real assignments do, bounded so capacity never binds.
            let c = &mut candidates[picked[0]];
            c.load = if c.load >= 40.0 { 0.0 } else { c.load + 1.0 };
            n += 1;
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn durable(dir: &Path, budget: Duration, max_batch: usize) -> Result<Durable, crate::failure::Failure> {
    let options = SqliteOptions { synchronous: Synchronous::Full, max_batch };
    let sqlite = Arc::new(SqliteStore::open(&dir.join("bench.db"), options).await.map_err(|e| failure("open", e))?);
    let store: Arc<dyn Store> = sqlite.clone();
    let engine = Engine::new(Arc::clone(&store));
    engine.ensure_reference_data().await.map_err(|e| failure("reference data", e))?;
    let operator = Actor::Cli { os_user: "bench".into() };
    let county = engine
        .create_organisation(
            &operator,
            NewOrganisation {
                name: "县社会治理中心".into(), kind: "centre".into(), region: "330624".into(), parent: None
            },
        )
        .await
        .map_err(|e| failure("organisation", e))?
        .0;
    let towns = engine.region_children(&region("330624")).await.map_err(|e| failure("towns", e))?;
    for town in &towns {
        let request = NewOrganisation {
            name: format!("{}矛调中心", town.name),
            kind: "centre".into(),
            region: town.code.to_string(),
            parent: Some(county.id.0),
        };
        engine.create_organisation(&operator, request).await.map_err(|e| failure("organisation", e))?;
    }
    let town_codes: Arc<Vec<String>> = Arc::new(towns.iter().map(|t| t.code.to_string()).collect());

    // One client's lifecycle: open, then three actions, each timed.
    async fn run_client(
        engine: Engine,
        towns: Arc<Vec<String>>,
        client: usize,
        deadline: Instant,
        actions: Arc<AtomicU64>,
        cases: Arc<AtomicU64>,
    ) -> Result<Vec<f64>, fq_engine::EngineError> {
        let operator = Actor::Cli { os_user: "bench".into() };
        let mut latencies = Vec::new();
        let mut n = client;
        while Instant::now() < deadline {
            let open = OpenCase {
                programme: "demo".into(),
                kind: "dispute".into(),
                priority: None,
                region: towns[n % towns.len()].clone(),
                grid: None,
                channel: "station".into(),
                intake_org: None,
                fields: object(
                    json!({"title": "邻里漏水纠纷", "category": "neighbour", "applicant": {"name": "张三", "role": "申请人"}}),
                ),
            };
            let id = engine.open_case(&operator, open).await?.case.id;
            for (action, inputs) in [("accept", json!({})), ("finish", json!({"outcome": "resolved"})), ("confirm", json!({}))] {
                let t = Instant::now();
                engine.act_on_case(&operator, id, action, object(inputs), None).await?;
                latencies.push(t.elapsed().as_secs_f64() * 1e6);
                actions.fetch_add(1, Ordering::Relaxed);
            }
            cases.fetch_add(1, Ordering::Relaxed);
            n += CLIENTS;
        }
        Ok(latencies)
    }

    let mut probe = SyncProbe::new(dir)?;
    let mut fsync = Vec::new();
    tokio::task::block_in_place(|| probe.run(budget / 2, &mut fsync))?;
    // Warm-up (caches, WAL growth), not counted.
    let warm = Instant::now() + Duration::from_millis(500);
    run_client(engine.clone(), Arc::clone(&town_codes), 0, warm, Arc::default(), Arc::default())
        .await
        .map_err(|e| failure("warm-up", e))?;

    let actions = Arc::new(AtomicU64::new(0));
    let cases = Arc::new(AtomicU64::new(0));
    let (groups_before, changes_before) = sqlite.commit_counters();
    let start = Instant::now();
    let deadline = start + budget;
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        tasks.push(tokio::spawn(run_client(
            engine.clone(),
            Arc::clone(&town_codes),
            client,
            deadline,
            Arc::clone(&actions),
            Arc::clone(&cases),
        )));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| failure("client", e))?.map_err(|e| failure("action", e))?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let (groups_after, changes_after) = sqlite.commit_counters();
    let mean_group = (changes_after - changes_before) as f64 / (groups_after - groups_before).max(1) as f64;
    // One client alone: an action's own latency, without queueing behind fifteen others.
    let alone =
        run_client(engine.clone(), Arc::clone(&town_codes), 0, Instant::now() + budget / 2, Arc::default(), Arc::default())
            .await
            .map_err(|e| failure("single client", e))?;
    tokio::task::block_in_place(|| probe.run(budget / 2, &mut fsync))?;
    drop(probe);
    store.close().await;
    latencies.sort_by(f64::total_cmp);
    fsync.sort_by(f64::total_cmp);
    let mut alone = alone;
    alone.sort_by(f64::total_cmp);
    Ok(Durable {
        actions_per_s: actions.load(Ordering::Relaxed) as f64 / elapsed,
        cases_per_s: cases.load(Ordering::Relaxed) as f64 / elapsed,
        mean_group,
        latencies,
        alone,
        fsync,
    })
}

/// What the durable run measured (latencies sorted, in µs).
#[derive(Debug, Default)]
struct Durable {
    actions_per_s: f64,
    cases_per_s: f64,
    mean_group: f64,
    latencies: Vec<f64>,
    alone: Vec<f64>,
    fsync: Vec<f64>,
}

pub async fn run(config: &Config, seconds: u64, only: Option<&str>, dir: Option<PathBuf>, json: bool) -> Outcome {
    if let Some(figure) = only.filter(|f| !["memory", "durable", "allocation"].contains(f)) {
        return Err(crate::failure::Failure::new(
            "bench_unknown_figure",
            format!("--only {figure}: choose memory, durable or allocation"),
        ));
    }
    let wanted = |figure: &str| only.is_none_or(|o| o == figure);
    let budget = Duration::from_secs(seconds.max(1));
    let programmes = Programmes::embedded().map_err(|e| failure("programmes", e))?;
    let programme = programmes.get("demo").ok_or_else(|| failure("programmes", "the demo programme is missing"))?;
    let calendars = embedded_calendar();
    let (dir, scratch) = match dir {
        Some(dir) => (dir, false),
        None => (config.storage.data_dir.join(format!("bench-engine-{}", std::process::id())), true),
    };
    std::fs::create_dir_all(&dir).map_err(|e| failure(&format!("cannot create {}", dir.display()), e))?;
    if !json {
        eprintln!("measuring in {} ({} s per figure)...", dir.display(), budget.as_secs());
    }
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut f = Figures {
        in_memory_lifecycles_per_s: if wanted("memory") {
            tokio::task::block_in_place(|| in_memory(programme, &calendars, budget, cores))
        } else {
            0.0
        },
        allocation_decisions_per_s: if wanted("allocation") { tokio::task::block_in_place(|| allocation(budget)) } else { 0.0 },
        ..Figures::default()
    };
    let durable_result =
        if wanted("durable") { durable(&dir, budget, config.storage.group_commit_max).await } else { Ok(Durable::default()) };
    if scratch {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let d = durable_result?;
    f.durable_actions_per_s = d.actions_per_s;
    f.durable_cases_per_s = d.cases_per_s;
    f.durable_mean_group = d.mean_group;
    f.action_p50_us = quantile(&d.latencies, 0.5);
    f.action_p99_us = quantile(&d.latencies, 0.99);
    f.single_client_action_p50_us = quantile(&d.alone, 0.5);
    f.single_client_action_p99_us = quantile(&d.alone, 0.99);
    f.fsync_p50_us = quantile(&d.fsync, 0.5);
    f.fsync_p99_us = quantile(&d.fsync, 0.99);
    let p99_ratio = f.action_p99_us / f.fsync_p99_us.max(1.0);
    let alone_ratio = f.single_client_action_p99_us / f.fsync_p99_us.max(1.0);
    if json {
        println!(
            "{}",
            json!({
                "dir": dir.display().to_string(),
                "cores": cores,
                "seconds_per_figure": budget.as_secs(),
                "in_memory_lifecycles_per_s": f.in_memory_lifecycles_per_s.round(),
                "in_memory_lifecycles_per_s_per_core": (f.in_memory_lifecycles_per_s / cores as f64).round(),
                "durable_clients": CLIENTS,
                "durable_actions_per_s": f.durable_actions_per_s.round(),
                "durable_cases_per_s": f.durable_cases_per_s.round(),
                "action_p50_us": f.action_p50_us.round(),
                "action_p99_us": f.action_p99_us.round(),
                "durable_mean_group": (f.durable_mean_group * 10.0).round() / 10.0,
                "fsync_p50_us": f.fsync_p50_us.round(),
                "fsync_p99_us": f.fsync_p99_us.round(),
                "action_p99_vs_fsync_p99": (p99_ratio * 100.0).round() / 100.0,
                "single_client_action_p50_us": f.single_client_action_p50_us.round(),
                "single_client_action_p99_us": f.single_client_action_p99_us.round(),
                "single_client_p99_vs_fsync_p99": (alone_ratio * 100.0).round() / 100.0,
                "allocation_decisions_per_s": f.allocation_decisions_per_s.round(),
                "allocation_decisions_per_s_per_core": f.allocation_decisions_per_s.round(),
            })
        );
    } else {
        println!("case engine on {cores} cores (demo programme, SQLite synchronous=FULL in {})", dir.display());
        println!(
            "  in-memory lifecycles (open → accept → finish → confirm)  {:>10.0} /s (target >= 45,000)",
            f.in_memory_lifecycles_per_s
        );
        println!(
            "  durable actions, {CLIENTS} clients                        {:>10.0} /s (target >= 10,000); {:.0} cases/s",
            f.durable_actions_per_s, f.durable_cases_per_s
        );
        println!(
            "  action latency p50 {:.0} µs, p99 {:.0} µs with {CLIENTS} clients (mean group {:.1}); disk fdatasync p50 {:.0} µs, p99 {:.0} µs: {p99_ratio:.2}x (target <= 2x)",
            f.action_p50_us, f.action_p99_us, f.durable_mean_group, f.fsync_p50_us, f.fsync_p99_us
        );
        println!(
            "  one client alone: action p50 {:.0} µs, p99 {:.0} µs = {alone_ratio:.2}x the fdatasync p99",
            f.single_client_action_p50_us, f.single_client_action_p99_us
        );
        println!(
            "  allocation decisions (random-balanced, 20 handlers)    {:>10.0} /s on one core (target >= 1,000,000)",
            f.allocation_decisions_per_s
        );
    }
    Ok(())
}
