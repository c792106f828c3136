//! Cases: the aggregate every programme runs on.
//!
//! A case is the fold of its events ([`CaseEvent`], one journal stream per case). Commands are
//! decided by pure functions ([`decide_create`], [`decide_action`], [`decide_time`]) that take the
//! case, the programme's definition and everything they need from outside (the time, the
//! calendar, a dispatch draw) and return the events to append, or the reason for refusing.

mod act;
mod events;
mod import;
mod mask;
mod time;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use uuid::Uuid;

pub use act::{
    ActionRequest, CandidatePool, CaseError, DecideEnv, NewCase, OrgFacts, available_actions, decide_action, decide_create,
    dispatch_needs, orgs_needed,
};
pub use events::{CaseEvent, ClockShift, Recipient, SupervisionLevel};
pub use import::{ImportedCase, decide_import};
pub use mask::{is_personal, mask_fields, mask_id_number, mask_middle};
pub use time::{PendingTimer, decide_time, next_timer, pending_timers, time_dispatch_needs};

use crate::account::AccountId;
use crate::grid::GridCode;
use crate::org::OrgId;
use crate::programme::{ClockLimits, FieldValue};
use crate::region::RegionCode;

/// A case's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CaseId(pub Uuid);

impl CaseId {
    /// The journal stream of the case.
    pub fn stream(&self) -> String {
        format!("case:{}", self.0)
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A co-handling sub-task (会办) given to one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subtask {
    pub unit: OrgId,
    pub lead: bool,
    pub done: bool,
    pub result: Option<String>,
    pub done_at: Option<DateTime<Utc>>,
}

/// A running or stopped stage clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    pub stage: String,
    pub started_at: DateTime<Utc>,
    pub limits: ClockLimitsRecord,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub red_at: Option<DateTime<Utc>>,
    pub paused_since: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// Supervision levels already raised on this clock, each once.
    pub raised: Vec<SupervisionLevel>,
}

impl Clock {
    pub fn running(&self) -> bool {
        self.stopped_at.is_none() && self.paused_since.is_none()
    }
}

/// The limits a clock was started with, as text (`5wd`), so that history reads the same after a
/// programme changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockLimitsRecord {
    pub warn: Option<String>,
    pub limit: String,
    pub red: Option<String>,
}

impl From<&ClockLimits> for ClockLimitsRecord {
    fn from(limits: &ClockLimits) -> ClockLimitsRecord {
        ClockLimitsRecord {
            warn: limits.warn.map(|l| l.to_string()),
            limit: limits.limit.to_string(),
            red: limits.red.map(|l| l.to_string()),
        }
    }
}

/// A supervision card raised on a case (提醒, 黄牌, 红牌).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Card {
    pub level: SupervisionLevel,
    pub stage: String,
    pub at: DateTime<Utc>,
    pub unit: Option<OrgId>,
}

/// The requester's (or verifier's) rating after closure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub score: u8,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// A case as its events made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    pub number: String,
    pub programme: String,
    /// The programme version the case was opened under.
    pub programme_version: u32,
    pub kind: String,
    pub state: String,
    /// The state a suspension came from, to return to.
    pub suspended_from: Option<String>,
    pub priority: String,
    pub region: RegionCode,
    pub grid: Option<GridCode>,
    /// How the case came in (station, shared court, online, hotline, referral...).
    pub channel: String,
    pub intake_org: Option<OrgId>,
    /// The journal name of whoever submitted it.
    pub requester: String,
    pub fields: BTreeMap<String, FieldValue>,
    pub unit: Option<OrgId>,
    pub person: Option<AccountId>,
    /// Handlers (candidate keys) who returned the case: not drawn for it again.
    pub returned_by: Vec<String>,
    pub subtasks: Vec<Subtask>,
    pub subtasks_wait_all: bool,
    pub clocks: BTreeMap<String, Clock>,
    /// Index into the kind's escalation tiers.
    pub tier: Option<usize>,
    pub reopened: u32,
    pub returned: u32,
    pub rating: Option<Rating>,
    pub cards: Vec<Card>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The case's weight in its handler's load.
    pub load_weight: f64,
    /// Events applied so far (the journal stream's version).
    pub version: u64,
    /// How the matter ended, as the programme names its outcomes (agreement, no agreement,
    /// withdrawn...); set by the action that reached it, or by an import.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<CaseOutcome>,
    /// Where an imported historical case came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<CaseOrigin>,
}

/// The outcome of a case and when it was reached (unknown for some imported records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseOutcome {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// The source record of an imported case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseOrigin {
    /// The mapping's source name (`cfpb`): external ids are unique within it.
    pub source: String,
    pub external_id: String,
    /// Whether the source says the case was handled in time (it carries no clocks of ours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

/// The clock key of the escalation tier's clock.
pub const TIER_CLOCK: &str = "$tier";

impl Case {
    /// The open sub-task of `unit`, if any.
    pub fn open_subtask_of(&self, unit: OrgId) -> Option<&Subtask> {
        self.subtasks.iter().find(|s| s.unit == unit && !s.done)
    }

    /// True when the co-handling the case waits for is complete.
    pub fn subtasks_complete(&self) -> bool {
        if self.subtasks.is_empty() {
            return false;
        }
        if self.subtasks_wait_all { self.subtasks.iter().all(|s| s.done) } else { self.subtasks.iter().any(|s| s.lead && s.done) }
    }

    /// The value of a text or catalog (enum) field, if it has one.
    pub fn text(&self, code: &str) -> Option<&str> {
        match self.fields.get(code) {
            Some(FieldValue::Text(t) | FieldValue::Enum(t)) => Some(t),
            _ => None,
        }
    }

    /// Whether the case was closed on time: an imported record as its source system says (None
    /// when it does not say); any other when it was closed with no yellow or red card (the
    /// reminders at a limit's warning point are not cards against the unit). None while open.
    pub fn closed_on_time(&self) -> Option<bool> {
        let closed = self.closed_at?;
        match &self.origin {
            Some(origin) => origin.on_time,
            None => Some(!self.cards.iter().any(|c| c.level.is_card()) && closed >= self.opened_at),
        }
    }

    /// The earliest deadline among running clocks (the case's "due" for lists and colours).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.clocks.values().filter(|c| c.stopped_at.is_none() && c.stage != TIER_CLOCK).map(|c| c.due_at).min()
    }

    /// The case as JSON for guards: its fields plus `state`, `priority`, `region`, `tier`, `reopened`.
    pub fn guard_view(&self) -> Json {
        self.guard_view_of(None)
    }

    /// [`Case::guard_view`] limited to the fields named in `only` (the built-in properties are
    /// always there).
    pub fn guard_view_of(&self, only: Option<&[String]>) -> Json {
        let wanted = |k: &String| only.is_none_or(|names| names.contains(k));
        let mut map: serde_json::Map<String, Json> =
            self.fields.iter().filter(|(k, _)| wanted(k)).map(|(k, v)| (k.clone(), v.to_json())).collect();
        map.insert("state".into(), json!(self.state));
        map.insert("priority".into(), json!(self.priority));
        map.insert("region".into(), json!(self.region.to_string()));
        map.insert("tier".into(), json!(self.tier));
        map.insert("reopened".into(), json!(self.reopened));
        Json::Object(map)
    }

    /// Applies one event. Events are facts: applying never fails; an event that does not fit
    /// the case (a corrupted stream) is applied as far as it makes sense.
    pub fn apply(&mut self, event: &CaseEvent) {
        events::apply(self, event);
        self.version += 1;
    }

    /// Builds a case from its whole stream.
    pub fn replay(events: &[CaseEvent]) -> Option<Case> {
        let mut case = match events.first()? {
            CaseEvent::Created { .. } => events::blank(),
            _ => return None,
        };
        for event in events {
            case.apply(event);
        }
        Some(case)
    }
}

#[cfg(test)]
mod tests;
