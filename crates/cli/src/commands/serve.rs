//! `fengqiao serve`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use fq_engine::DemoSeed;
use fq_server::AppState;
use fq_store::DatabaseLocation;
use tokio::net::TcpListener;

use crate::args::ServeArgs;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open::{self, DataDirLock};

pub async fn run(mut config: Config, args: ServeArgs) -> Outcome {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if args.no_demo {
        config.demo.seed = false;
    }
    let location = open::location(&config)?;
    open::ensure_dir(&config.storage.data_dir)?;
    // Two servers on one SQLite file would fight over its single writer; PostgreSQL takes many.
    let _lock = match &location {
        DatabaseLocation::Sqlite(path) => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            Some(DataDirLock::acquire(dir)?)
        }
        DatabaseLocation::Postgres(_) => None,
    };
    let engine = open::engine(&config).await?;
    if let Some((regions, boundaries)) = engine.ensure_reference_data().await? {
        let polygons: usize = boundaries.iter().map(|b| b.boundaries).sum();
        println!("first start: loaded the division tree ({}) and {polygons} boundary polygons", regions.counts);
    }
    if config.demo.seed
        && let Some(seed) = engine.seed_demo().await?
    {
        announce_demo(&seed, &config.storage.data_dir)?;
    }
    let listener = TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| Failure::new("listen_failed", format!("cannot listen on {}: {e}", config.server.listen)))?;
    let addr = listener.local_addr()?;
    let status = engine.status().await?;
    println!("fengqiao {} listening on http://{addr}/ ({location})", status.version);
    println!("regions: {}; grids: {}; journal: {} events", status.regions, status.grids, status.journal_events);
    std::io::stdout().flush()?;
    let (stop_scheduler, stopped) = tokio::sync::watch::channel(false);
    let scheduler = config.scheduler.in_server.then(|| {
        let (engine, nightly_engine) = (engine.clone(), engine.clone());
        let every = Duration::from_secs(config.scheduler.interval_seconds.max(1));
        let (timers_stop, nightly_stop) = (stopped.clone(), stopped);
        let nightly_config = config.scheduler.clone();
        (
            tokio::spawn(async move { engine.run_scheduler(every, wait_for(timers_stop)).await }),
            tokio::spawn(async move { crate::nightly::run(nightly_engine, nightly_config, wait_for(nightly_stop)).await }),
        )
    });
    let served = fq_server::serve(listener, AppState::new(engine.clone()), shutdown_signal()).await;
    tracing::info!("shutting down: finishing queued writes");
    let _ = stop_scheduler.send(true);
    if let Some((timers, nightly)) = scheduler {
        let _ = timers.await;
        let _ = nightly.await;
    }
    engine.store().close().await;
    served.map_err(|e| Failure::new("server_failed", e.to_string()))
}

/// `fengqiao worker`: the scheduler alone, until a signal.
pub async fn worker(config: Config) -> Outcome {
    let engine = open::engine(&config).await?;
    let every = Duration::from_secs(config.scheduler.interval_seconds.max(1));
    println!(
        "fengqiao worker: firing due timers every {}s, the nightly risk run after {:02}:00 Beijing time, on {}",
        every.as_secs(),
        config.scheduler.nightly_hour,
        open::location(&config)?
    );
    std::io::stdout().flush()?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let nightly = tokio::spawn(crate::nightly::run(engine.clone(), config.scheduler.clone(), wait_for(stopped)));
    engine.run_scheduler(every, shutdown_signal()).await;
    let _ = stop.send(true);
    let _ = nightly.await;
    engine.store().close().await;
    Ok(())
}

async fn wait_for(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

/// Prints the demo accounts once and keeps them in `<data_dir>/demo-accounts.txt` (mode 0600).
fn announce_demo(seed: &DemoSeed, data_dir: &Path) -> Outcome {
    let mut text = String::from("# fengqiao demo accounts (演示账号). Generated demo data, not real people.\n");
    for account in &seed.accounts {
        text.push_str(&format!(
            "{}\t{}\t{} @ {}\tpassword: {}\n",
            account.login, account.display_name, account.role, account.region, account.password
        ));
    }
    let path = data_dir.join("demo-accounts.txt");
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path).and_then(|mut f| f.write_all(text.as_bytes()))?;
    println!(
        "seeded demo data (演示数据): {} organisations, {} generated grids, {} accounts, {} demo cases; passwords saved in {}",
        seed.organisations,
        seed.grids,
        seed.accounts.len(),
        seed.cases,
        path.display()
    );
    print!("{text}");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
