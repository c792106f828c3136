//! Deciding commands: opening a case and taking an action on it. Each check that can refuse has
//! its own stable error code, and nothing is decided until every check has passed.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json, json};

use super::events::{ClockShift, Recipient, SupervisionLevel};
use super::{Case, CaseEvent, CaseId, ClockLimitsRecord, TIER_CLOCK};
use crate::Coded;
use crate::actor::Actor;
use crate::calendar::{Limit, WorkCalendar};
use crate::dispatch::{Candidate, DispatchError, DispatchRequest, DrawRecord, draw};
use crate::grid::GridCode;
use crate::org::{OrgId, OrgKind};
use crate::programme::{
    ActionDef, ActionScope, CaseKind, DispatchDef, DispatchPolicy, Effect, FieldError, FieldValue, NotifyTarget, Programme,
    check_fields,
};
use crate::region::RegionCode;

/// What the decision needs to know about an organisation it may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFacts {
    pub id: OrgId,
    pub region: RegionCode,
    pub kind: OrgKind,
    pub parent: Option<OrgId>,
}

/// The candidates loaded for one dispatch definition.
#[derive(Debug, Clone)]
pub struct CandidatePool {
    pub def: DispatchDef,
    pub candidates: Vec<Candidate>,
}

/// Everything from outside a decision needs: the time, the case's calendar, a random seed for
/// draws, the organisations it may touch and the candidates for the draws it may make (see
/// [`dispatch_needs`] and [`orgs_needed`]).
#[derive(Debug)]
pub struct DecideEnv<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a WorkCalendar,
    pub seed: u64,
    pub orgs: &'a BTreeMap<OrgId, OrgFacts>,
    pub pools: &'a [CandidatePool],
}

/// A request to open a case.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: CaseId,
    /// Given by the engine from the programme's yearly counter.
    pub number: String,
    pub kind: String,
    pub priority: Option<String>,
    pub region: RegionCode,
    pub grid: Option<GridCode>,
    pub channel: String,
    pub intake_org: Option<OrgId>,
    pub fields: Map<String, Json>,
}

/// An action on a case, as submitted.
#[derive(Debug, Clone, Default)]
pub struct ActionRequest {
    pub action: String,
    pub inputs: Map<String, Json>,
}

/// Why a command was refused. Each variant has a stable code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    #[error("case kind {0} is not defined in this programme")]
    KindUnknown(String),
    #[error("priority {0} is not one of this kind's priorities")]
    PriorityUnknown(String),
    #[error("action {0} is not defined for this kind of case")]
    ActionUnknown(String),
    #[error("action {action} cannot be taken while the case is {state}")]
    WrongState { action: String, state: String },
    #[error("action {0} is taken only by the system")]
    SystemOnly(String),
    #[error("{action} needs one of the roles {roles}")]
    WrongRole { action: String, roles: String },
    #[error("{action}: your role does not cover region {region}")]
    WrongRegion { action: String, region: String },
    #[error("{action} is for the unit the case is assigned to")]
    NotAssignedUnit { action: String },
    #[error("{action} is for the person the case is assigned to")]
    NotAssignee { action: String },
    #[error("{action} is for whoever opened the case")]
    NotRequester { action: String },
    #[error("{action} is for a unit with an open co-handling sub-task")]
    NoSubtask { action: String },
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("{field} must be filled in before {action}")]
    MissingField { action: String, field: String },
    #[error("the condition of {action} is not met: {expression}")]
    GuardFalse { action: String, expression: String },
    #[error("the condition of {action} cannot be evaluated: {reason}")]
    GuardError { action: String, reason: String },
    #[error("{field}: organisation {org} does not exist")]
    OrgUnknown { field: String, org: OrgId },
    #[error("{field}: units must be different from each other")]
    DuplicateUnits { field: String },
    #[error(transparent)]
    Dispatch(#[from] DispatchError),
    #[error("the case is already at its highest tier")]
    TopTier,
    #[error("the case is already rated")]
    AlreadyRated,
    #[error("the case has no assigned unit yet")]
    Unassigned,
}

impl Coded for CaseError {
    fn code(&self) -> &'static str {
        match self {
            CaseError::KindUnknown(_) => "case_kind_unknown",
            CaseError::PriorityUnknown(_) => "priority_unknown",
            CaseError::ActionUnknown(_) => "action_unknown",
            CaseError::WrongState { .. } => "action_wrong_state",
            CaseError::SystemOnly(_) => "action_system_only",
            CaseError::WrongRole { .. } => "forbidden_role",
            CaseError::WrongRegion { .. } => "forbidden_region",
            CaseError::NotAssignedUnit { .. } => "forbidden_not_assigned_unit",
            CaseError::NotAssignee { .. } => "forbidden_not_assignee",
            CaseError::NotRequester { .. } => "forbidden_not_requester",
            CaseError::NoSubtask { .. } => "forbidden_no_subtask",
            CaseError::Field(e) => e.code,
            CaseError::MissingField { .. } => "field_required",
            CaseError::GuardFalse { .. } => "guard_false",
            CaseError::GuardError { .. } => "guard_error",
            CaseError::OrgUnknown { .. } => "org_unknown",
            CaseError::DuplicateUnits { .. } => "units_duplicate",
            CaseError::Dispatch(e) => e.code(),
            CaseError::TopTier => "escalation_top_tier",
            CaseError::AlreadyRated => "already_rated",
            CaseError::Unassigned => "case_unassigned",
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            CaseError::Field(e) => Some(e.field.clone()),
            CaseError::MissingField { field, .. } | CaseError::OrgUnknown { field, .. } | CaseError::DuplicateUnits { field } => {
                Some(field.clone())
            }
            CaseError::PriorityUnknown(_) => Some("priority".into()),
            CaseError::KindUnknown(_) => Some("kind".into()),
            CaseError::ActionUnknown(_) => Some("action".into()),
            _ => None,
        }
    }
}

/// True if the actor may do things in `roles` over the case: the engine and command-line
/// operators always may.
fn role_check(
    actor: &Actor,
    action: &str,
    roles: &[crate::account::RoleCode],
    region: &RegionCode,
    unit: Option<OrgId>,
) -> Result<(), CaseError> {
    let Some(account) = actor.account() else { return Ok(()) };
    if roles.iter().any(|r| account.may(r.as_str(), region, unit)) {
        return Ok(());
    }
    let holds = |r: &crate::account::RoleCode| !account.disabled && account.grants.iter().any(|g| g.role == *r);
    if roles.iter().any(holds) {
        Err(CaseError::WrongRegion { action: action.to_owned(), region: region.to_string() })
    } else {
        Err(CaseError::WrongRole {
            action: action.to_owned(),
            roles: roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
}

fn in_catalog(programme: &Programme) -> impl Fn(&str, &str) -> bool + '_ {
    move |catalog, code| programme.in_catalog(catalog, code)
}

/// Decides the opening of a case: its creation, its first clocks and its first tier.
pub fn decide_create(
    programme: &Programme,
    new: NewCase,
    actor: &Actor,
    env: &DecideEnv<'_>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let kind = programme.kind(&new.kind).ok_or_else(|| CaseError::KindUnknown(new.kind.clone()))?;
    role_check(actor, "registering a case", &kind.intake_roles, &new.region, new.intake_org)?;
    let priority = match new.priority {
        Some(p) if kind.priorities.contains(&p) => p,
        Some(p) => return Err(CaseError::PriorityUnknown(p)),
        None => kind.priorities[0].clone(),
    };
    let fields = check_fields(&kind.fields, &new.fields, &in_catalog(programme))?;
    let mut work = Work::new(kind, super::events::blank(), env);
    work.push(CaseEvent::Created {
        id: new.id,
        number: new.number,
        programme: programme.code.clone(),
        programme_version: programme.version,
        kind: kind.code.clone(),
        state: kind.initial.clone(),
        priority,
        region: new.region,
        grid: new.grid,
        channel: new.channel,
        intake_org: new.intake_org,
        requester: actor.journal_name(),
        fields,
        load_weight: kind.dispatch.weight,
        at: env.now,
    });
    for stage in &kind.start_clocks {
        work.start_clock(stage);
    }
    let started_by_action = kind.actions.iter().any(|a| a.effects.contains(&Effect::StartTiers));
    if !kind.tiers.is_empty() && !started_by_action {
        work.enter_tier(0, true, None)?;
    }
    Ok(work.events)
}

/// Decides an action on `case`.
pub fn decide_action(
    programme: &Programme,
    case: &Case,
    request: &ActionRequest,
    actor: &Actor,
    env: &DecideEnv<'_>,
) -> Result<Vec<CaseEvent>, CaseError> {
    let kind = programme.kind(&case.kind).ok_or_else(|| CaseError::KindUnknown(case.kind.clone()))?;
    let action = kind.action(&request.action).ok_or_else(|| CaseError::ActionUnknown(request.action.clone()))?;
    if action.system && !matches!(actor, Actor::System) {
        return Err(CaseError::SystemOnly(action.code.clone()));
    }
    if !action.from.contains(&case.state) {
        return Err(CaseError::WrongState { action: action.code.clone(), state: case.state.clone() });
    }
    authorize(action, case, actor)?;
    let inputs = check_fields(&action.inputs, &request.inputs, &in_catalog(programme))?;
    let mut work = Work::new(kind, case.clone(), env);
    work.act(action, inputs, actor)?;
    Ok(work.events)
}

/// The actions `actor` may take on `case` in its present state (state, role, region and unit
/// checks; inputs, required fields and guards are checked when one is taken).
pub fn available_actions<'p>(programme: &'p Programme, case: &Case, actor: &Actor) -> Vec<&'p ActionDef> {
    let Some(kind) = programme.kind(&case.kind) else { return Vec::new() };
    kind.actions
        .iter()
        .filter(|a| !a.system && a.from.contains(&case.state) && authorize(a, case, actor).is_ok())
        .filter(|a| !a.roles.is_empty())
        .collect()
}

fn authorize(action: &ActionDef, case: &Case, actor: &Actor) -> Result<(), CaseError> {
    let Some(account) = actor.account() else { return Ok(()) };
    let code = || action.code.clone();
    if action.scope == ActionScope::Region {
        role_check(actor, &action.code, &action.roles, &case.region, case.unit)?;
    } else if !action.roles.iter().any(|r| !account.disabled && account.grants.iter().any(|g| g.role == *r)) {
        // Work given to a unit or a person is theirs wherever the case is (cross-region review):
        // the role is needed, the region scope is not.
        return Err(CaseError::WrongRole {
            action: code(),
            roles: action.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
        });
    }
    match action.scope {
        ActionScope::Region => Ok(()),
        ActionScope::AssignedUnit if case.unit == Some(account.org) => Ok(()),
        ActionScope::AssignedUnit => Err(CaseError::NotAssignedUnit { action: code() }),
        ActionScope::Assignee if case.person == Some(account.id) => Ok(()),
        ActionScope::Assignee => Err(CaseError::NotAssignee { action: code() }),
        ActionScope::SubtaskUnit if case.open_subtask_of(account.org).is_some() => Ok(()),
        ActionScope::SubtaskUnit => Err(CaseError::NoSubtask { action: code() }),
        ActionScope::Requester if case.requester == actor.journal_name() => Ok(()),
        ActionScope::Requester => Err(CaseError::NotRequester { action: code() }),
    }
}

/// The dispatch definitions an action on `case` may draw with, so that the engine can load their
/// candidates first.
pub fn dispatch_needs(kind: &CaseKind, case: &Case, action: &ActionDef) -> Vec<DispatchDef> {
    let mut needs = Vec::new();
    for effect in &action.effects {
        match effect {
            Effect::Dispatch { policy } => needs.push(effective_dispatch(kind, case.tier, policy.as_deref())),
            Effect::Escalate => needs.extend(next_tier_dispatch(kind, case.tier)),
            _ => {}
        }
    }
    needs.retain(|d| d.policy != DispatchPolicy::Manual);
    needs
}

/// The dispatch of the tier above `tier`, if it draws.
pub(super) fn next_tier_dispatch(kind: &CaseKind, tier: Option<usize>) -> Option<DispatchDef> {
    let next = tier.map_or(0, |t| t + 1);
    kind.tiers.get(next).and_then(|t| t.dispatch.clone()).filter(|d| d.policy != DispatchPolicy::Manual)
}

/// The organisations an action on `case` may touch: the case's unit and sub-task units, and any
/// named in organisation inputs.
pub fn orgs_needed(case: &Case, inputs: &Map<String, Json>) -> Vec<OrgId> {
    let mut ids: Vec<OrgId> = case.unit.into_iter().chain(case.subtasks.iter().map(|s| s.unit)).collect();
    for value in inputs.values() {
        let texts: Vec<&str> = match value {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        ids.extend(texts.iter().filter_map(|t| uuid::Uuid::parse_str(t).ok()).map(OrgId));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// The dispatch in force: the current tier's if it has one, else the kind's; `policy` overrides
/// the policy.
fn effective_dispatch(kind: &CaseKind, tier: Option<usize>, policy: Option<&str>) -> DispatchDef {
    let mut def = tier.and_then(|t| kind.tiers.get(t)).and_then(|t| t.dispatch.clone()).unwrap_or_else(|| kind.dispatch.clone());
    if let Some(p) = policy.and_then(DispatchPolicy::parse) {
        def.policy = p;
    }
    def
}

/// A decision in progress: events are applied to a working copy as they are made, so that each
/// effect sees what the ones before it did.
pub(super) struct Work<'a> {
    pub kind: &'a CaseKind,
    pub case: Case,
    pub env: &'a DecideEnv<'a>,
    pub events: Vec<CaseEvent>,
    draws: u64,
    /// The acting account's organisation (for sub-task completion).
    actor_org: Option<OrgId>,
    /// The unit responsible when the action began: points go to it even if the action moved
    /// the case away (a return).
    unit_before: Option<OrgId>,
}

impl<'a> Work<'a> {
    pub fn new(kind: &'a CaseKind, case: Case, env: &'a DecideEnv<'a>) -> Work<'a> {
        Work { kind, case, env, events: Vec::new(), draws: 0, actor_org: None, unit_before: None }
    }

    pub fn push(&mut self, event: CaseEvent) {
        self.case.apply(&event);
        self.events.push(event);
    }

    fn now(&self) -> DateTime<Utc> {
        self.env.now
    }

    fn act(&mut self, action: &ActionDef, mut inputs: BTreeMap<String, FieldValue>, actor: &Actor) -> Result<(), CaseError> {
        self.actor_org = actor.account().map(|a| a.org);
        self.unit_before = self.case.unit;
        // Inputs named like case fields update them; the rest belong to the action.
        let updates: BTreeMap<String, FieldValue> =
            self.kind.fields.iter().filter_map(|f| inputs.remove_entry(&f.code)).collect();
        let view_inputs: Json = Json::Object(
            inputs
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .chain(updates.iter().map(|(k, v)| (k.clone(), v.to_json())))
                .collect(),
        );
        if !updates.is_empty() {
            self.push(CaseEvent::FieldsUpdated { fields: updates });
        }
        for field in &action.required {
            if !self.case.fields.contains_key(field) {
                return Err(CaseError::MissingField { action: action.code.clone(), field: field.clone() });
            }
        }
        if let Some(guard) = &action.guard {
            let roles: Vec<&str> =
                actor.account().map(|a| a.grants.iter().map(|g| g.role.as_str()).collect()).unwrap_or_default();
            let actor_view = json!({ "roles": roles, "name": actor.journal_name() });
            match guard.allows(&self.case.guard_view_of(guard.case_properties()), &view_inputs, &actor_view) {
                Ok(true) => {}
                Ok(false) => {
                    return Err(CaseError::GuardFalse { action: action.code.clone(), expression: guard.source().to_owned() });
                }
                Err(e) => return Err(CaseError::GuardError { action: action.code.clone(), reason: e.reason }),
            }
        }

        let from = self.case.state.clone();
        let to = match action.to.as_deref() {
            None => from.clone(),
            Some("$previous") => self.case.suspended_from.clone().unwrap_or_else(|| self.kind.initial.clone()),
            Some(state) => state.to_owned(),
        };
        self.push(CaseEvent::Acted {
            action: action.code.clone(),
            from: from.clone(),
            to: to.clone(),
            actor: actor.journal_name(),
            inputs: inputs.clone(),
            at: self.now(),
        });
        self.pause_or_resume(&from, &to);
        if let Some(outcome) = &action.outcome {
            self.push(CaseEvent::OutcomeRecorded { outcome: outcome.clone(), at: Some(self.now()) });
        }

        for effect in &action.effects {
            self.effect(effect, action, &inputs)?;
        }
        self.after_effects(&from)
    }

    /// Follow-ups every action shares: an automatic transition when co-handling completes, and
    /// closing in a terminal state.
    fn after_effects(&mut self, from: &str) -> Result<(), CaseError> {
        if let Some(done) = &self.kind.on_subtasks_done
            && self.case.subtasks_complete()
            && self.events.iter().any(|e| matches!(e, CaseEvent::SubtaskCompleted { .. }))
            && let Some(action) = self.kind.action(done)
            && action.from.contains(&self.case.state)
        {
            self.act(action, BTreeMap::new(), &Actor::System)?;
            return Ok(());
        }
        let terminal = |s: &str| self.kind.state(s).is_some_and(|s| s.terminal);
        if terminal(&self.case.state) && !terminal(from) {
            let running: Vec<String> =
                self.case.clocks.values().filter(|c| c.stopped_at.is_none()).map(|c| c.stage.clone()).collect();
            for stage in running {
                self.push(CaseEvent::ClockStopped { stage, at: self.now() });
            }
            self.push(CaseEvent::Closed { at: self.now() });
        }
        Ok(())
    }

    fn pause_or_resume(&mut self, from: &str, to: &str) {
        let pauses = |s: &str| self.kind.state(s).is_some_and(|s| s.pauses_clocks);
        if pauses(to) && !pauses(from) {
            self.push(CaseEvent::ClocksPaused { at: self.now(), from_state: from.to_owned() });
        } else if pauses(from) && !pauses(to) {
            let shifts = self.resumed_shifts();
            self.push(CaseEvent::ClocksResumed { at: self.now(), shifts });
        }
    }

    /// Each paused clock's deadlines moved later by the time it spent paused (working time for
    /// working-day limits).
    fn resumed_shifts(&self) -> Vec<ClockShift> {
        let now = self.now();
        let calendar = self.env.calendar;
        self.case
            .clocks
            .values()
            .filter(|c| c.stopped_at.is_none())
            .filter_map(|clock| {
                let since = clock.paused_since?;
                let working = calendar.working_seconds_between(since, now);
                let wall = (now - since).num_seconds().max(0);
                let shift = |at: DateTime<Utc>, limit: Option<&String>| -> DateTime<Utc> {
                    match limit.and_then(|l| Limit::parse(l).ok()) {
                        Some(limit) => limit.extend(at, working, wall, calendar),
                        None => at + chrono::TimeDelta::seconds(wall),
                    }
                };
                let limits = &clock.limits;
                Some(ClockShift {
                    stage: clock.stage.clone(),
                    warn_at: clock.warn_at.map(|at| shift(at, limits.warn.as_ref())),
                    due_at: shift(clock.due_at, Some(&limits.limit)),
                    red_at: clock.red_at.map(|at| shift(at, limits.red.as_ref())),
                })
            })
            .collect()
    }

    fn effect(&mut self, effect: &Effect, action: &ActionDef, inputs: &BTreeMap<String, FieldValue>) -> Result<(), CaseError> {
        let text = |key: &str| match inputs.get(key) {
            Some(FieldValue::Text(t)) => Some(t.clone()),
            _ => None,
        };
        match effect {
            Effect::Dispatch { policy } => {
                let def = effective_dispatch(self.kind, self.case.tier, policy.as_deref());
                if def.policy == DispatchPolicy::Manual {
                    self.transfer_to_input(inputs, text("reason"))?;
                } else {
                    self.draw_and_assign(&def)?;
                }
            }
            Effect::Transfer => self.transfer_to_input(inputs, text("reason"))?,
            Effect::Return => {
                let reason = text("reason").unwrap_or_default();
                self.push(CaseEvent::Returned { unit: self.case.unit, person: self.case.person, reason });
            }
            Effect::CoHandle { wait_all } => {
                let units: Vec<OrgId> =
                    inputs.get("units").map(|v| v.org_ids().into_iter().map(OrgId).collect()).unwrap_or_default();
                for unit in &units {
                    self.known_org("units", *unit)?;
                }
                let mut distinct = units.clone();
                distinct.sort();
                distinct.dedup();
                if distinct.len() != units.len() {
                    return Err(CaseError::DuplicateUnits { field: "units".into() });
                }
                self.push(CaseEvent::SubtasksOpened { units, wait_all: *wait_all });
            }
            Effect::CompleteSubtask => {
                // The action's scope made sure the actor's unit has an open sub-task; the system
                // or an operator completes the lead's.
                let unit = self.acting_subtask_unit(action)?;
                self.push(CaseEvent::SubtaskCompleted { unit, result: text("result").unwrap_or_default(), at: self.now() });
            }
            Effect::StartClock(stage) => self.start_clock(stage),
            Effect::StopClock(stage) => self.stop_clock(stage),
            Effect::RestartClock(stage) => {
                self.stop_clock(stage);
                self.start_clock(stage);
            }
            Effect::Notify(target) => self.notify(target, &action.code),
            Effect::Points(points) => {
                if let Some(unit) = self.unit_before.or(self.case.unit) {
                    self.push(CaseEvent::PointsAwarded { unit, points: *points, reason: action.code.clone() });
                }
            }
            Effect::Escalate => {
                let next = self.case.tier.map_or(0, |t| t + 1);
                if next >= self.kind.tiers.len() {
                    return Err(CaseError::TopTier);
                }
                self.enter_tier(next, false, text("reason"))?;
            }
            Effect::StartTiers => {
                if self.case.tier.is_none() {
                    self.enter_tier(0, true, None)?;
                }
            }
            Effect::Reprioritise => {
                let Some(FieldValue::Enum(to)) = inputs.get("priority") else {
                    return Err(CaseError::PriorityUnknown(String::new()));
                };
                let rank = |p: &str| self.kind.priorities.iter().position(|x| x == p);
                let Some(new_rank) = rank(to) else { return Err(CaseError::PriorityUnknown(to.clone())) };
                if *to != self.case.priority {
                    let raising = rank(&self.case.priority).is_none_or(|old| new_rank > old);
                    let from = self.case.priority.clone();
                    self.push(CaseEvent::Reprioritised { from, to: to.clone(), at: self.now() });
                    self.reprice_clocks(raising);
                }
            }
            Effect::Reopen => self.push(CaseEvent::Reopened { reason: text("reason").unwrap_or_default(), at: self.now() }),
            Effect::ClearOutcome => {
                if self.case.outcome.is_some() {
                    self.push(CaseEvent::OutcomeCleared { at: self.now() });
                }
            }
            Effect::Rate => {
                if self.case.rating.is_some() {
                    return Err(CaseError::AlreadyRated);
                }
                let score = match inputs.get("rating") {
                    Some(FieldValue::Number(n)) => n.round().clamp(1.0, 5.0) as u8,
                    _ => return Err(CaseError::MissingField { action: action.code.clone(), field: "rating".into() }),
                };
                self.push(CaseEvent::Rated { score, comment: text("comment"), at: self.now() });
            }
            Effect::Supervise => {
                self.push(CaseEvent::Supervised {
                    level: SupervisionLevel::Note,
                    stage: None,
                    unit: self.case.unit,
                    note: text("note"),
                    at: self.now(),
                });
                self.notify(&NotifyTarget::Unit, &action.code);
                self.notify(&NotifyTarget::Superior, &action.code);
            }
        }
        Ok(())
    }

    fn acting_subtask_unit(&self, action: &ActionDef) -> Result<OrgId, CaseError> {
        // Called after authorization: an account's unit has an open sub-task.
        let lead = self.case.subtasks.iter().find(|s| !s.done).map(|s| s.unit);
        match self.actor_org {
            Some(org) if self.case.open_subtask_of(org).is_some() => Ok(org),
            _ => lead.ok_or_else(|| CaseError::NoSubtask { action: action.code.clone() }),
        }
    }

    fn known_org(&self, field: &str, org: OrgId) -> Result<&OrgFacts, CaseError> {
        self.env.orgs.get(&org).ok_or_else(|| CaseError::OrgUnknown { field: field.to_owned(), org })
    }

    fn transfer_to_input(&mut self, inputs: &BTreeMap<String, FieldValue>, reason: Option<String>) -> Result<(), CaseError> {
        let unit = match inputs.get("to_unit") {
            Some(FieldValue::Org(id)) => OrgId(*id),
            _ => return Err(CaseError::MissingField { action: "transfer".into(), field: "to_unit".into() }),
        };
        self.known_org("to_unit", unit)?;
        self.push(CaseEvent::Assigned { unit: Some(unit), person: None, draw: None, reason });
        Ok(())
    }

    fn draw_and_assign(&mut self, def: &DispatchDef) -> Result<(), CaseError> {
        let pool = self.env.pools.iter().find(|p| p.def == *def);
        let candidates = pool.map(|p| p.candidates.clone()).unwrap_or_default();
        let request = self.dispatch_request(def);
        let chosen = draw(&request, &candidates)?;
        let keys = chosen.iter().map(|&i| candidates[i].key()).collect();
        let first = &candidates[chosen[0]];
        let (unit, person) = (first.unit, first.person);
        if def.policy == DispatchPolicy::Joint {
            let units = chosen.iter().map(|&i| candidates[i].unit).collect();
            let record = DrawRecord { request, candidates, chosen: keys };
            self.push(CaseEvent::Assigned { unit: Some(unit), person, draw: Some(Box::new(record)), reason: None });
            self.push(CaseEvent::SubtasksOpened { units, wait_all: true });
        } else {
            let record = DrawRecord { request, candidates, chosen: keys };
            self.push(CaseEvent::Assigned { unit: Some(unit), person, draw: Some(Box::new(record)), reason: None });
        }
        Ok(())
    }

    fn dispatch_request(&mut self, def: &DispatchDef) -> DispatchRequest {
        let mut conflict_keys = Vec::new();
        for value in self.case.fields.values() {
            let parties: Vec<&crate::programme::Party> = match value {
                FieldValue::Party(p) => vec![p],
                FieldValue::List(items) => {
                    items.iter().filter_map(|v| if let FieldValue::Party(p) = v { Some(p) } else { None }).collect()
                }
                _ => Vec::new(),
            };
            for party in parties {
                conflict_keys.push(party.name.clone());
                conflict_keys.extend(party.id_number.clone());
            }
            conflict_keys.extend(value.org_ids().into_iter().map(|id| id.to_string()));
        }
        conflict_keys.sort();
        conflict_keys.dedup();
        let skill = def.skill_field.as_ref().and_then(|f| match self.case.fields.get(f) {
            Some(FieldValue::Enum(code)) => Some(code.clone()),
            _ => None,
        });
        let qualification = def.qualification_field.as_ref().and_then(|f| match self.case.fields.get(f) {
            Some(FieldValue::Enum(code)) => Some(code.clone()),
            _ => None,
        });
        self.draws += 1;
        DispatchRequest {
            policy: def.policy,
            region: self.case.region.clone(),
            level: def.level,
            unit_kinds: def.unit_kinds.clone(),
            exclude_own_county: def.exclude_own_county,
            within: def.within.and_then(|level| self.case.region.at_level(level)),
            skill,
            qualification,
            shares: self
                .case
                .region
                .at_level(crate::region::RegionLevel::County)
                .and_then(|county| def.ratios.get(&county).cloned())
                .unwrap_or_default(),
            conflict_keys,
            exclude: self.case.returned_by.clone(),
            weight: def.weight,
            count: def.count,
            seed: self.env.seed.wrapping_add(self.draws - 1),
        }
    }

    pub fn start_clock(&mut self, stage: &str) {
        if let Some(started) = self.clock_started(stage, self.now()) {
            self.push(started);
        }
    }

    /// The event that starts `stage`'s clock at `start` with the case's current priority; none
    /// when the kind has no such clock, or its `until` date is not set.
    fn clock_started(&self, stage: &str, start: DateTime<Utc>) -> Option<CaseEvent> {
        let def = self.kind.clock(stage)?;
        let limits = def.limits_for(self.case.region.level(), &self.case.priority);
        let calendar = self.env.calendar;
        if let Some(field) = &def.until {
            // Runs to the end of the day in `field`: without a date there is nothing to run to.
            let Some(FieldValue::Date(day)) = self.case.fields.get(field) else { return None };
            let end = crate::calendar::end_of_day(*day);
            // Back from the date in plain time (the loader refuses working time here; the
            // statutory extension over holidays applies to periods running on, not back).
            let back = |l: Limit| match l.unit {
                crate::calendar::LimitUnit::Hours => end - chrono::TimeDelta::hours(i64::from(l.amount)),
                _ => end - chrono::TimeDelta::days(i64::from(l.amount)),
            };
            return Some(CaseEvent::ClockStarted {
                stage: stage.to_owned(),
                started_at: start,
                limits: ClockLimitsRecord::from(limits),
                warn_at: limits.warn.map(back),
                due_at: limits.limit.due(end, calendar),
                red_at: limits.red.map(|l| l.due(end, calendar)),
                kept: Vec::new(),
            });
        }
        Some(CaseEvent::ClockStarted {
            stage: stage.to_owned(),
            started_at: start,
            limits: ClockLimitsRecord::from(limits),
            warn_at: limits.warn.map(|l| l.due(start, calendar)),
            due_at: limits.limit.due(start, calendar),
            red_at: limits.red.map(|l| l.due(start, calendar)),
            kept: Vec::new(),
        })
    }

    /// The running clocks under a new priority. Raised: the new limits from now, unless the
    /// clock is due sooner already (a raise never buys time). Lowered: the new limits from the
    /// clock's own start (a lowering never restarts a late clock). Paused and stopped clocks
    /// keep theirs; so does a clock the kind does not define (an escalation tier's). A restarted
    /// clock keeps the cards it raised: none is raised twice for one stage.
    fn reprice_clocks(&mut self, raising: bool) {
        let running: Vec<super::Clock> = self
            .case
            .clocks
            .iter()
            .filter(|(stage, c)| c.running() && self.kind.clock(stage).is_some())
            .map(|(_, c)| c.clone())
            .collect();
        for clock in running {
            let stage = clock.stage;
            let start = if raising { self.now() } else { clock.started_at };
            let Some(mut started) = self.clock_started(&stage, start) else { continue };
            let CaseEvent::ClockStarted { due_at: new_due, kept, .. } = &mut started else { continue };
            if raising && *new_due >= clock.due_at {
                continue;
            }
            *kept = clock.raised;
            self.push(CaseEvent::ClockStopped { stage: stage.clone(), at: self.now() });
            self.push(started);
        }
    }

    fn stop_clock(&mut self, stage: &str) {
        if self.case.clocks.get(stage).is_some_and(|c| c.stopped_at.is_none()) {
            self.push(CaseEvent::ClockStopped { stage: stage.to_owned(), at: self.now() });
        }
    }

    /// Moves the case into tier `tier` with its own clock, and draws its handler if the tier
    /// dispatches.
    pub fn enter_tier(&mut self, tier: usize, automatic: bool, reason: Option<String>) -> Result<(), CaseError> {
        let def = &self.kind.tiers[tier];
        if tier > 0
            && let Some(dispatch) = next_tier_dispatch(self.kind, self.case.tier)
        {
            // Draw before entering, with the new tier's dispatch.
            self.draw_and_assign(&dispatch)?;
        }
        self.push(CaseEvent::TierEntered { tier, tier_code: def.code.clone(), automatic, reason, at: self.now() });
        self.stop_clock(TIER_CLOCK);
        let start = self.now();
        let limit = def.limit;
        self.push(CaseEvent::ClockStarted {
            stage: TIER_CLOCK.to_owned(),
            started_at: start,
            limits: ClockLimitsRecord { warn: None, limit: limit.to_string(), red: None },
            warn_at: None,
            due_at: limit.due(start, self.env.calendar),
            red_at: None,
            kept: Vec::new(),
        });
        if tier > 0 {
            self.notify(&NotifyTarget::Unit, "escalate");
            self.notify(&NotifyTarget::Superior, "escalate");
        }
        Ok(())
    }

    pub fn notify(&mut self, target: &NotifyTarget, reason: &str) {
        let recipients: Vec<Recipient> = match target {
            NotifyTarget::Assignee => self.case.person.map(|account| Recipient::Account { account }).into_iter().collect(),
            NotifyTarget::Unit => self.case.unit.map(|unit| Recipient::Unit { unit }).into_iter().collect(),
            NotifyTarget::Superior => self.superior().map(|unit| Recipient::Unit { unit }).into_iter().collect(),
            NotifyTarget::Requester => vec![Recipient::Requester { requester: self.case.requester.clone() }],
            NotifyTarget::Role(role) => vec![Recipient::Role { role: role.clone(), region: self.case.region.clone() }],
        };
        if !recipients.is_empty() {
            self.push(CaseEvent::Notified { recipients, reason: reason.to_owned(), at: self.now() });
        }
    }

    /// The unit above the assigned one: from the loaded facts, or from the draw's snapshot.
    fn superior(&self) -> Option<OrgId> {
        let unit = self.case.unit?;
        self.env.orgs.get(&unit).and_then(|o| o.parent)
    }
}
