//! Time: which points of a case's clocks are still to come, and what happens when they pass —
//! graded supervision (提醒 → 黄牌 → 红牌) and automatic escalation up the tiers.

use chrono::{DateTime, Utc};

use super::act::{DecideEnv, Work, next_tier_dispatch};
use super::events::SupervisionLevel;
use super::{Case, CaseEvent, TIER_CLOCK};
use crate::programme::{CaseKind, NotifyTarget, Programme};

/// A point in time when something is due on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTimer {
    pub at: DateTime<Utc>,
    pub stage: String,
    pub level: SupervisionLevel,
}

/// The points still to fire: for each running clock, each of its warning, limit and red points
/// not raised yet. Paused and stopped clocks have none.
pub fn pending_timers(case: &Case) -> Vec<PendingTimer> {
    let mut timers = Vec::new();
    for clock in case.clocks.values().filter(|c| c.running()) {
        let points = [
            (clock.warn_at, SupervisionLevel::Reminder),
            (Some(clock.due_at), SupervisionLevel::Yellow),
            (clock.red_at, SupervisionLevel::Red),
        ];
        for (at, level) in points {
            if let Some(at) = at
                && !clock.raised.contains(&level)
            {
                timers.push(PendingTimer { at, stage: clock.stage.clone(), level });
            }
        }
    }
    timers.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.level.cmp(&b.level)));
    timers
}

/// The next instant something is due on the case.
pub fn next_timer(case: &Case) -> Option<DateTime<Utc>> {
    pending_timers(case).first().map(|t| t.at)
}

/// The dispatch an automatic escalation at `env.now` would draw with, so the engine can load
/// its candidates first.
pub fn time_dispatch_needs(kind: &CaseKind, case: &Case, now: DateTime<Utc>) -> Vec<crate::programme::DispatchDef> {
    let tier_due = pending_timers(case).iter().any(|t| t.stage == TIER_CLOCK && t.at <= now);
    let auto = case.tier.and_then(|t| kind.tiers.get(t)).is_some_and(|t| t.auto);
    if tier_due && auto { next_tier_dispatch(kind, case.tier).into_iter().collect() } else { Vec::new() }
}

/// Fires every point due at `env.now`, in time order, each once. A stage clock raises
/// supervision on the responsible unit and notifies it and its superior. The tier clock of an
/// automatic tier moves the case up one tier (if there is one); otherwise it raises a yellow card.
pub fn decide_time(programme: &Programme, case: &Case, env: &DecideEnv<'_>) -> Vec<CaseEvent> {
    let Some(kind) = programme.kind(&case.kind) else { return Vec::new() };
    let mut work = Work::new(kind, case.clone(), env);
    while let Some(timer) = pending_timers(&work.case).into_iter().find(|t| t.at <= env.now) {
        if timer.stage == TIER_CLOCK {
            let tier = work.case.tier.unwrap_or(0);
            let auto = kind.tiers.get(tier).is_some_and(|t| t.auto);
            if auto && tier + 1 < kind.tiers.len() && work.enter_tier(tier + 1, true, None).is_ok() {
                continue;
            }
            // The top tier, a manual tier, or nobody to draw: the overrun is supervised instead.
        }
        work.push(CaseEvent::Supervised {
            level: timer.level,
            stage: Some(timer.stage.clone()),
            unit: work.case.unit,
            note: None,
            at: timer.at,
        });
        let reason = format!("supervision:{}", timer.level.as_str());
        work.notify(&NotifyTarget::Unit, &reason);
        if timer.level != SupervisionLevel::Reminder {
            work.notify(&NotifyTarget::Superior, &reason);
        }
    }
    work.events
}
