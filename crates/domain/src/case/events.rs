//! The events of a case and how each one changes it. Every computed instant (a due time, a shifted
//! deadline) is inside the event, so that folding needs no calendar and gives the same case on
//! every machine, whatever the programme or calendar files say later.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Card, Case, CaseId, Clock, ClockLimitsRecord, Rating, Subtask};
use crate::account::AccountId;
use crate::dispatch::DrawRecord;
use crate::grid::GridCode;
use crate::org::OrgId;
use crate::programme::FieldValue;
use crate::region::RegionCode;

/// Graded supervision (督办).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionLevel {
    /// A supervision note written by a leader (督办意见).
    Note,
    /// 提醒: the warning point passed.
    Reminder,
    /// 黄牌: the limit passed.
    Yellow,
    /// 红牌: the red point passed (seriously overdue).
    Red,
}

impl SupervisionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            SupervisionLevel::Note => "note",
            SupervisionLevel::Reminder => "reminder",
            SupervisionLevel::Yellow => "yellow",
            SupervisionLevel::Red => "red",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            SupervisionLevel::Note => "督办",
            SupervisionLevel::Reminder => "提醒",
            SupervisionLevel::Yellow => "黄牌",
            SupervisionLevel::Red => "红牌",
        }
    }

    /// Counted against the unit in its tallies (cards, not notes or reminders).
    pub fn is_card(self) -> bool {
        matches!(self, SupervisionLevel::Yellow | SupervisionLevel::Red)
    }
}

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
pub enum Recipient {
    Unit {
        unit: OrgId,
    },
    Account {
        account: AccountId,
    },
    /// Everyone holding `role` over `region`.
    Role {
        role: String,
        region: RegionCode,
    },
    /// The requester, by journal name (an account, or a resident reached by SMS later).
    Requester {
        requester: String,
    },
}

/// New deadlines of one clock after a pause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockShift {
    pub stage: String,
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub red_at: Option<DateTime<Utc>>,
}

/// Everything that can happen to a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CaseEvent {
    Created {
        id: CaseId,
        number: String,
        programme: String,
        programme_version: u32,
        kind: String,
        state: String,
        priority: String,
        region: RegionCode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grid: Option<GridCode>,
        channel: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        intake_org: Option<OrgId>,
        requester: String,
        fields: BTreeMap<String, FieldValue>,
        load_weight: f64,
        at: DateTime<Utc>,
    },
    /// An action was taken: the state moved from `from` to `to` (maybe the same).
    Acted {
        action: String,
        from: String,
        to: String,
        actor: String,
        /// The action's own inputs (reasons, notes...), not the case fields it updated.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        inputs: BTreeMap<String, FieldValue>,
        at: DateTime<Utc>,
    },
    FieldsUpdated {
        fields: BTreeMap<String, FieldValue>,
    },
    Assigned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<OrgId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<AccountId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draw: Option<Box<DrawRecord>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The handler gave the case back (退回), with the reason.
    Returned {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<OrgId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<AccountId>,
        reason: String,
    },
    SubtasksOpened {
        units: Vec<OrgId>,
        wait_all: bool,
    },
    SubtaskCompleted {
        unit: OrgId,
        result: String,
        at: DateTime<Utc>,
    },
    ClockStarted {
        stage: String,
        started_at: DateTime<Utc>,
        limits: ClockLimitsRecord,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        warn_at: Option<DateTime<Utc>>,
        due_at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        red_at: Option<DateTime<Utc>>,
        /// Cards the stage's clock had raised before it was restarted at a new priority: each
        /// card is raised once per stage, so a clock repriced after its limit passed is not
        /// carded for it again.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kept: Vec<SupervisionLevel>,
    },
    ClockStopped {
        stage: String,
        at: DateTime<Utc>,
    },
    /// Entering a suspension from `from_state`: every running clock stops counting.
    ClocksPaused {
        at: DateTime<Utc>,
        from_state: String,
    },
    /// Leaving a suspension: the paused clocks run again with later deadlines.
    ClocksResumed {
        at: DateTime<Utc>,
        shifts: Vec<ClockShift>,
    },
    Supervised {
        level: SupervisionLevel,
        /// The clock whose point passed; `None` for a written note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<OrgId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        at: DateTime<Utc>,
    },
    /// Into an escalation tier: the first at intake, a higher one on escalation.
    TierEntered {
        tier: usize,
        tier_code: String,
        automatic: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        at: DateTime<Utc>,
    },
    /// The priority changed (a warning's level raised or lowered); running clocks restart.
    Reprioritised {
        from: String,
        to: String,
        at: DateTime<Utc>,
    },
    /// A failed verification sent the case back (重办).
    Reopened {
        reason: String,
        at: DateTime<Utc>,
    },
    Rated {
        score: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
        at: DateTime<Utc>,
    },
    PointsAwarded {
        unit: OrgId,
        points: i32,
        reason: String,
    },
    Notified {
        recipients: Vec<Recipient>,
        /// What it is about: the action or supervision that caused it.
        reason: String,
        at: DateTime<Utc>,
    },
    Closed {
        at: DateTime<Utc>,
    },
    /// The matter reached one of the programme's outcomes.
    OutcomeRecorded {
        outcome: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<DateTime<Utc>>,
    },
    /// The outcome reached before no longer stands (the agreement is mediated again).
    OutcomeCleared {
        at: DateTime<Utc>,
    },
    /// The case is a historical record brought in by an import (`fengqiao import cases`).
    Imported {
        source: String,
        external_id: String,
        /// The line of the record in the imported file.
        line: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_time: Option<bool>,
        at: DateTime<Utc>,
    },
}

impl CaseEvent {
    /// The journal event type: `case.created`, `case.acted`...
    pub fn journal_kind(&self) -> &'static str {
        match self {
            CaseEvent::Created { .. } => "case.created",
            CaseEvent::Acted { .. } => "case.acted",
            CaseEvent::FieldsUpdated { .. } => "case.fields_updated",
            CaseEvent::Assigned { .. } => "case.assigned",
            CaseEvent::Returned { .. } => "case.returned",
            CaseEvent::SubtasksOpened { .. } => "case.subtasks_opened",
            CaseEvent::SubtaskCompleted { .. } => "case.subtask_completed",
            CaseEvent::ClockStarted { .. } => "case.clock_started",
            CaseEvent::ClockStopped { .. } => "case.clock_stopped",
            CaseEvent::ClocksPaused { .. } => "case.clocks_paused",
            CaseEvent::ClocksResumed { .. } => "case.clocks_resumed",
            CaseEvent::Supervised { .. } => "case.supervised",
            CaseEvent::TierEntered { .. } => "case.tier_entered",
            CaseEvent::Reprioritised { .. } => "case.reprioritised",
            CaseEvent::Reopened { .. } => "case.reopened",
            CaseEvent::Rated { .. } => "case.rated",
            CaseEvent::PointsAwarded { .. } => "case.points_awarded",
            CaseEvent::Notified { .. } => "case.notified",
            CaseEvent::Closed { .. } => "case.closed",
            CaseEvent::OutcomeRecorded { .. } => "case.outcome_recorded",
            CaseEvent::OutcomeCleared { .. } => "case.outcome_cleared",
            CaseEvent::Imported { .. } => "case.imported",
        }
    }
}

/// A case before its creation event: every field is overwritten by `Created`.
pub(super) fn blank() -> Case {
    Case {
        id: CaseId(uuid::Uuid::nil()),
        number: String::new(),
        programme: String::new(),
        programme_version: 0,
        kind: String::new(),
        state: String::new(),
        suspended_from: None,
        priority: String::new(),
        region: RegionCode::parse("33").expect("a valid province code"),
        grid: None,
        channel: String::new(),
        intake_org: None,
        requester: String::new(),
        fields: BTreeMap::new(),
        unit: None,
        person: None,
        returned_by: Vec::new(),
        subtasks: Vec::new(),
        subtasks_wait_all: true,
        clocks: BTreeMap::new(),
        tier: None,
        reopened: 0,
        returned: 0,
        rating: None,
        cards: Vec::new(),
        opened_at: DateTime::<Utc>::MIN_UTC,
        closed_at: None,
        load_weight: 1.0,
        version: 0,
        outcome: None,
        origin: None,
    }
}

pub(super) fn apply(case: &mut Case, event: &CaseEvent) {
    match event {
        CaseEvent::Created {
            id,
            number,
            programme,
            programme_version,
            kind,
            state,
            priority,
            region,
            grid,
            channel,
            intake_org,
            requester,
            fields,
            load_weight,
            at,
        } => {
            *case = Case {
                id: *id,
                number: number.clone(),
                programme: programme.clone(),
                programme_version: *programme_version,
                kind: kind.clone(),
                state: state.clone(),
                priority: priority.clone(),
                region: region.clone(),
                grid: grid.clone(),
                channel: channel.clone(),
                intake_org: *intake_org,
                requester: requester.clone(),
                fields: fields.clone(),
                load_weight: *load_weight,
                opened_at: *at,
                ..blank()
            };
        }
        CaseEvent::Acted { to, .. } => case.state = to.clone(),
        CaseEvent::FieldsUpdated { fields } => case.fields.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone()))),
        CaseEvent::Assigned { unit, person, .. } => {
            case.unit = *unit;
            case.person = *person;
        }
        CaseEvent::Returned { unit, person, .. } => {
            let key = match (unit, person) {
                (Some(u), Some(p)) => Some(format!("{u}/{p}")),
                (Some(u), None) => Some(u.to_string()),
                _ => None,
            };
            case.returned_by.extend(key);
            case.unit = None;
            case.person = None;
            case.returned += 1;
        }
        CaseEvent::SubtasksOpened { units, wait_all } => {
            case.subtasks = units
                .iter()
                .enumerate()
                .map(|(i, unit)| Subtask { unit: *unit, lead: i == 0, done: false, result: None, done_at: None })
                .collect();
            case.subtasks_wait_all = *wait_all;
        }
        CaseEvent::SubtaskCompleted { unit, result, at } => {
            if let Some(task) = case.subtasks.iter_mut().find(|s| s.unit == *unit && !s.done) {
                task.done = true;
                task.result = Some(result.clone());
                task.done_at = Some(*at);
            }
        }
        CaseEvent::ClockStarted { stage, started_at, limits, warn_at, due_at, red_at, kept } => {
            case.clocks.insert(
                stage.clone(),
                Clock {
                    stage: stage.clone(),
                    started_at: *started_at,
                    limits: limits.clone(),
                    warn_at: *warn_at,
                    due_at: *due_at,
                    red_at: *red_at,
                    paused_since: None,
                    stopped_at: None,
                    raised: kept.clone(),
                },
            );
        }
        CaseEvent::ClockStopped { stage, at } => {
            if let Some(clock) = case.clocks.get_mut(stage) {
                clock.stopped_at = Some(*at);
                clock.paused_since = None;
            }
        }
        CaseEvent::ClocksPaused { at, from_state } => {
            case.suspended_from = Some(from_state.clone());
            for clock in case.clocks.values_mut().filter(|c| c.running()) {
                clock.paused_since = Some(*at);
            }
        }
        CaseEvent::ClocksResumed { shifts, .. } => {
            for shift in shifts {
                if let Some(clock) = case.clocks.get_mut(&shift.stage) {
                    clock.paused_since = None;
                    clock.warn_at = shift.warn_at;
                    clock.due_at = shift.due_at;
                    clock.red_at = shift.red_at;
                }
            }
            case.suspended_from = None;
        }
        CaseEvent::Supervised { level, stage, unit, at, .. } => {
            if let Some(stage) = stage
                && let Some(clock) = case.clocks.get_mut(stage)
                && !clock.raised.contains(level)
            {
                clock.raised.push(*level);
            }
            if *level != SupervisionLevel::Note {
                case.cards.push(Card { level: *level, stage: stage.clone().unwrap_or_default(), at: *at, unit: *unit });
            }
        }
        CaseEvent::TierEntered { tier, .. } => case.tier = Some(*tier),
        CaseEvent::Reprioritised { to, .. } => case.priority = to.clone(),
        CaseEvent::Reopened { at: _, .. } => {
            case.reopened += 1;
            case.closed_at = None;
            case.outcome = None;
        }
        CaseEvent::Rated { score, comment, at } => {
            case.rating = Some(Rating { score: *score, comment: comment.clone(), at: *at });
        }
        CaseEvent::PointsAwarded { .. } | CaseEvent::Notified { .. } => {}
        CaseEvent::Closed { at } => case.closed_at = Some(*at),
        CaseEvent::OutcomeRecorded { outcome, at } => {
            case.outcome = Some(super::CaseOutcome { code: outcome.clone(), at: *at });
        }
        CaseEvent::OutcomeCleared { .. } => case.outcome = None,
        CaseEvent::Imported { source, external_id, on_time, .. } => {
            case.origin = Some(super::CaseOrigin { source: source.clone(), external_id: external_id.clone(), on_time: *on_time });
        }
    }
}
