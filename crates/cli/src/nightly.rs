//! The nightly risk run inside `fengqiao serve` or `fengqiao worker`: after
//! `scheduler.nightly_hour` (Beijing time), once a day across every process on the database,
//! the Open311 servers of the configuration and of the database are pulled into their risk
//! sources (the last two days, so a missed night is caught up; ids pulled before are skipped),
//! then the whistle runs for every county and category with stored events (warning cases for
//! orange and red cells). `fengqiao risk night` runs one night by hand.

use std::future::Future;
use std::time::Duration;

use chrono::{NaiveDate, Timelike, Utc};
use fq_engine::{Engine, Open311Pull};
use serde::Serialize;

use crate::config::SchedulerConfig;

/// How often the loop looks at the clock.
const TICK: Duration = Duration::from_secs(60);

/// The day whose nightly run is due at `now` (Beijing time at or after `hour`), if any.
pub fn due_day(now: chrono::DateTime<Utc>, hour: u32) -> Option<NaiveDate> {
    let local = now.with_timezone(&fq_domain::calendar::beijing());
    (local.hour() >= hour).then(|| local.date_naive())
}

/// Runs the nightly loop until `stop` resolves.
pub async fn run(engine: Engine, config: SchedulerConfig, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut done: Option<NaiveDate> = None;
    // The first look waits a tick: a process that starts (or restarts) settles first, and a
    // short-lived one (a test, a migration check) journals nothing of its own.
    tokio::select! {
        () = &mut stop => return,
        () = tokio::time::sleep(TICK) => {}
    }
    loop {
        if let Some(day) = due_day(Utc::now(), config.nightly_hour).filter(|d| done != Some(*d)) {
            match night(&engine, &config, day).await {
                Ok(_) => done = Some(day),
                Err(err) => tracing::error!(error = %err, %day, "the nightly risk run failed; trying again"),
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// One Open311 server's pull in a night.
#[derive(Debug, Clone, Serialize)]
pub struct ServerPull {
    pub source: String,
    pub url: String,
    /// Requests read and events stored, or why the pull failed.
    pub requests: usize,
    pub stored: usize,
    pub error: Option<String>,
}

/// What one night did.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Night {
    /// Nothing to pull and no stored events: nothing was journaled.
    Idle,
    /// Another process has claimed the day, or finished it.
    Taken,
    /// This process ran it.
    Ran { pulled: Vec<ServerPull>, run: fq_engine::NightlyRun },
}

/// The servers to pull: the configuration's, then those stored in the database (shared by every
/// process), each once. A stored list that cannot be read is logged and the configuration's
/// are pulled: it must not stop the whistle.
pub async fn pulls(engine: &Engine, config: &SchedulerConfig) -> Vec<Open311Pull> {
    let stored = engine.open311_pulls().await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "the stored Open311 servers cannot be read; pulling the configuration's only");
        Vec::new()
    });
    let mut all: Vec<Open311Pull> = Vec::new();
    for pull in config.open311_pulls.iter().chain(&stored).map(Open311Pull::normalised) {
        if !all.contains(&pull) {
            all.push(pull);
        }
    }
    all
}

/// One night: claim the day, pull, whistle. Another process's claim leaves nothing to do, and so
/// does an instance with no pulls and no stored events (nothing is journaled then).
pub async fn night(engine: &Engine, config: &SchedulerConfig, day: NaiveDate) -> Result<Night, fq_engine::EngineError> {
    let pulls = pulls(engine, config).await;
    if pulls.is_empty() && engine.nightly_counties(day).await?.is_empty() {
        return Ok(Night::Idle);
    }
    if !engine.claim_nightly(day).await? {
        return Ok(Night::Taken);
    }
    // From the start of the day before yesterday, Beijing time (a missed night is caught up).
    let since = fq_domain::calendar::start_of_day(day - chrono::Duration::days(2));
    let mut pulled = Vec::new();
    for pull in &pulls {
        pulled.push(pull_one(engine, pull, since).await);
    }
    let run = engine.nightly_whistle(day).await?;
    let opened: usize = run.runs.iter().map(|r| r.run.opened.len()).sum();
    tracing::info!(%day, whistles = run.runs.len(), opened, checked = run.checked, "nightly whistle");
    Ok(Night::Ran { pulled, run })
}

/// Pulls one server into its source. A failure is logged and returned, never raised: one
/// unreachable server must not stop the others or the whistle.
async fn pull_one(engine: &Engine, pull: &Open311Pull, since: chrono::DateTime<Utc>) -> ServerPull {
    let mut out = ServerPull { source: pull.source.clone(), url: pull.url.clone(), requests: 0, stored: 0, error: None };
    let url = pull.url.clone();
    let fetched = tokio::task::spawn_blocking(move || crate::open311_pull::fetch(&url, since, Utc::now())).await;
    let body = match fetched {
        Ok(Ok(pulled)) => {
            tracing::info!(source = %pull.source, pages = pulled.pages, requests = pulled.requests, "Open311 pages read");
            for warning in &pulled.warnings {
                tracing::warn!(source = %pull.source, "{warning}");
            }
            out.requests = pulled.requests;
            pulled.body
        }
        Ok(Err(failure)) => {
            tracing::error!(source = %pull.source, error = %failure.message, "nightly Open311 pull failed");
            out.error = Some(failure.message);
            return out;
        }
        Err(err) => {
            tracing::error!(source = %pull.source, error = %err, "nightly Open311 pull panicked");
            out.error = Some(err.to_string());
            return out;
        }
    };
    match engine.ingest_risk_events(&fq_domain::actor::Actor::System, &pull.source, &body).await {
        // A pull is ingested all or nothing, like a file: a bad request stores none of them, and
        // the night's summary says which and why (not just a count in the log).
        Ok(report) if !report.bad.is_empty() => {
            let first = &report.bad[0];
            let error = format!(
                "{} bad requests, nothing stored; the first: request {} ({}): {}",
                report.bad.len(),
                first.line,
                first.code,
                first.message
            );
            tracing::error!(source = %pull.source, %error, "nightly Open311 pull refused");
            out.error = Some(error);
        }
        Ok(report) => {
            tracing::info!(source = %pull.source, rows = report.rows, stored = report.stored, "nightly Open311 pull");
            out.stored = report.stored;
        }
        Err(err) => {
            tracing::error!(source = %pull.source, error = %err, "nightly Open311 ingest failed");
            out.error = Some(err.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_night_is_due_after_the_hour_beijing_time() {
        // 17:59 UTC is 01:59 in Beijing the next day: not yet; 18:00 UTC is 02:00: due.
        let before = Utc.with_ymd_and_hms(2026, 11, 26, 17, 59, 0).unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 18, 0, 0).unwrap();
        assert_eq!(due_day(before, 2), None);
        assert_eq!(due_day(at, 2), NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(due_day(Utc.with_ymd_and_hms(2026, 11, 27, 15, 59, 0).unwrap(), 2), NaiveDate::from_ymd_opt(2026, 11, 27));
    }
}
