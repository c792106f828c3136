//! The nightly risk run inside `fengqiao serve` or `fengqiao worker`: after
//! `scheduler.nightly_hour` (Beijing time), once a day across every process on the database,
//! the configured Open311 servers are pulled into their risk sources (the last two days, so a
//! missed night is caught up; ids pulled before are skipped), then the whistle runs for every
//! county and category with stored events (warning cases for orange and red cells).

use std::future::Future;
use std::time::Duration;

use chrono::{NaiveDate, Timelike, Utc};
use fq_engine::Engine;

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
                Ok(()) => done = Some(day),
                Err(err) => tracing::error!(error = %err, %day, "the nightly risk run failed; trying again"),
            }
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// One night: claim the day, pull, whistle. Another process's claim leaves nothing to do, and so
/// does an instance with no pulls configured and no stored events (nothing is journaled then).
pub async fn night(engine: &Engine, config: &SchedulerConfig, day: NaiveDate) -> Result<(), fq_engine::EngineError> {
    if config.open311_pulls.is_empty() && engine.nightly_counties(day).await?.is_empty() {
        return Ok(());
    }
    if !engine.claim_nightly(day).await? {
        return Ok(());
    }
    // From the start of the day before yesterday, Beijing time (a missed night is caught up).
    let since = fq_domain::calendar::start_of_day(day - chrono::Duration::days(2));
    for pull in &config.open311_pulls {
        let url = pull.url.clone();
        let fetched = tokio::task::spawn_blocking(move || crate::open311_pull::fetch(&url, since, Utc::now())).await;
        let body = match fetched {
            Ok(Ok(pulled)) => {
                tracing::info!(source = %pull.source, pages = pulled.pages, requests = pulled.requests, "Open311 pages read");
                for warning in &pulled.warnings {
                    tracing::warn!(source = %pull.source, "{warning}");
                }
                pulled.body
            }
            Ok(Err(failure)) => {
                // One unreachable server must not stop the others or the whistle.
                tracing::error!(source = %pull.source, error = %failure.message, "nightly Open311 pull failed");
                continue;
            }
            Err(err) => {
                tracing::error!(source = %pull.source, error = %err, "nightly Open311 pull panicked");
                continue;
            }
        };
        match engine.ingest_risk_events(&fq_domain::actor::Actor::System, &pull.source, &body).await {
            Ok(report) => {
                tracing::info!(source = %pull.source, rows = report.rows, stored = report.stored, bad = report.bad.len(), "nightly Open311 pull");
            }
            Err(err) => tracing::error!(source = %pull.source, error = %err, "nightly Open311 ingest failed"),
        }
    }
    let run = engine.nightly_whistle(day).await?;
    let opened: usize = run.runs.iter().map(|r| r.run.opened.len()).sum();
    tracing::info!(%day, whistles = run.runs.len(), opened, "nightly whistle");
    Ok(())
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
