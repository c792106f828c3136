//! The scheduler's side of cases: firing due timers (supervision points, tier limits).
//!
//! Each due case is decided and committed with the case stream's version as expectation, so a
//! point fires exactly once even when several processes (on PostgreSQL) look at the same case:
//! the second commit is refused, and deciding again on the new state finds nothing left to fire.

use std::collections::BTreeMap;
use std::time::Duration;

use fq_domain::actor::Actor;
use fq_domain::case::{CaseId, DecideEnv, decide_time, orgs_needed, time_dispatch_needs};
use fq_store::StoreError;
use serde::Serialize;

use super::{RETRIES, pools, project};
use crate::Engine;
use crate::error::EngineError;

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TimerReport {
    /// Cases looked at.
    pub due: usize,
    /// Cases that received events.
    pub fired: usize,
    /// Events appended.
    pub events: usize,
    /// Commits refused because another process changed the case first (decided again).
    pub raced: usize,
}

impl Engine {
    /// Fires the timers due now on up to `limit` cases.
    pub async fn fire_due_timers(&self, limit: u32) -> Result<TimerReport, EngineError> {
        let now = self.now();
        let due = self.store.due_cases(now, limit).await?;
        let mut report = TimerReport { due: due.len(), ..TimerReport::default() };
        for id in due {
            match self.fire_case(id, &mut report).await {
                Ok(()) => {}
                // A case whose programme is gone or whose draw has no candidate stays due and is
                // logged; the others go on.
                Err(err) => tracing::warn!(case = %id, error = %err, "a due timer could not be fired"),
            }
        }
        Ok(report)
    }

    async fn fire_case(&self, id: CaseId, report: &mut TimerReport) -> Result<(), EngineError> {
        for _ in 0..RETRIES {
            let case = self.load_case(id).await?;
            let programme = self.programme(&case.programme)?;
            let now = self.now();
            let mut orgs = BTreeMap::new();
            pools::load_orgs(self.store.as_ref(), &self.caches, orgs_needed(&case, &serde_json::Map::new()), &mut orgs).await?;
            let defs = programme.kind(&case.kind).map(|k| time_dispatch_needs(k, &case, now)).unwrap_or_default();
            let candidate_pools = if defs.is_empty() {
                Vec::new()
            } else {
                pools::load_pools(self.store.as_ref(), &self.caches, defs, &case.region, &mut orgs).await?
            };
            let env = DecideEnv {
                now,
                calendar: self.calendars.for_region(&case.region),
                seed: self.seed(),
                orgs: &orgs,
                pools: &candidate_pools,
            };
            let events = decide_time(&programme, &case, &env);
            let mut after = case.clone();
            for event in &events {
                after.apply(event);
            }
            // Even with nothing to fire the row is rewritten, so that a stale next-timer column
            // (an older build, a programme change) cannot keep the case due for ever.
            let change = project::case_change(&programme, Some(&case), &after, &events, &Actor::System.journal_name(), None);
            let deltas = project::deltas_of(&change);
            match self.store.commit(change).await {
                Ok(_) => {
                    self.caches.apply_tallies(&deltas);
                    self.caches.put_case(after);
                    if !events.is_empty() {
                        report.fired += 1;
                        report.events += events.len();
                    }
                    return Ok(());
                }
                Err(StoreError::StreamMoved { .. }) => {
                    self.caches.drop_case(id);
                    report.raced += 1;
                }
                Err(err) => return Err(err.into()),
            }
        }
        Ok(())
    }

    /// Runs the scheduler until `stop` resolves: a pass every `every`, and at once again while
    /// passes come back full.
    pub async fn run_scheduler(&self, every: Duration, stop: impl Future<Output = ()>) {
        const BATCH: u32 = 200;
        tokio::pin!(stop);
        loop {
            match self.fire_due_timers(BATCH).await {
                Ok(report) if report.due as u32 == BATCH => continue,
                Ok(report) if report.fired > 0 => tracing::info!(fired = report.fired, events = report.events, "timers fired"),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "the scheduler's pass failed; trying again"),
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
