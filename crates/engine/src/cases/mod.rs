//! Case use cases: opening a case, acting on it, reading it (only where the actor may), lists,
//! timelines, the scheduler's timers and dispatch replay.
//!
//! Each command loads the case's snapshot, loads what the decision may need (organisations,
//! candidates), lets the domain decide, and commits the events with the projections, expecting
//! the case's stream not to have moved. If another command got there first, the command is
//! decided again on the new state (a few times), so concurrent actions never overwrite each other.

mod cache;
mod mask_history;
mod numbers;
mod pools;
mod project;
mod timers;
pub(crate) mod visibility;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::case::{
    ActionRequest, Case, CaseEvent, CaseId, DecideEnv, NewCase, OrgFacts, available_actions, decide_action, decide_create,
    dispatch_needs, orgs_needed,
};
use fq_domain::grid::GridCode;
use fq_domain::journal::{EventRecord, NewEvent};
use fq_domain::org::OrgId;
use fq_domain::programme::{Programme, RoleDef};
use fq_domain::region::RegionCode;
use fq_store::{CaseFilter, CaseSummary, Expectation, HandlerProfile, HandlerTally, NotificationRecord, Op, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

pub(crate) use cache::Caches;
pub(crate) use numbers::NumberAllocator;
pub use timers::TimerReport;

use crate::Engine;
use crate::access::require_admin;
use crate::error::EngineError;

/// How many times a command is decided again when another one changed the case first.
const RETRIES: usize = 8;

/// A request to open a case, as it arrives from a form, the API or the CLI.
#[derive(Debug, Clone, Deserialize)]
pub struct OpenCase {
    pub programme: String,
    pub kind: String,
    #[serde(default)]
    pub priority: Option<String>,
    pub region: String,
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default = "default_channel")]
    pub channel: String,
    #[serde(default)]
    pub intake_org: Option<Uuid>,
    #[serde(default)]
    pub fields: Map<String, Json>,
}

fn default_channel() -> String {
    "station".into()
}

/// An action the viewer may take now.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOffer {
    pub code: String,
    pub name: String,
}

/// A case as its viewer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub case: Case,
    pub programme_name: String,
    pub kind_name: String,
    pub state_name: String,
    pub actions: Vec<ActionOffer>,
    /// Personal information (ID and phone numbers) is masked in `case`.
    pub masked: bool,
    /// The viewer may reveal it ([`Engine::reveal_case`]; journaled).
    pub may_reveal: bool,
}

/// One event of a case's history.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub seq: u64,
    pub kind: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
    /// When it really happened, for what was entered later (a session held at sea).
    pub occurred_at: Option<DateTime<Utc>>,
    pub event: Json,
}

impl From<EventRecord> for TimelineEntry {
    fn from(r: EventRecord) -> TimelineEntry {
        TimelineEntry {
            seq: r.seq,
            event: r.payload_json(),
            kind: r.kind,
            actor: r.actor,
            recorded_at: r.recorded_at,
            occurred_at: r.occurred_at,
        }
    }
}

/// A list request.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseQuery {
    pub programme: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// Only cases within this region (which must lie within the reader's scope).
    #[serde(default)]
    pub region: Option<String>,
    /// Only the cases of the actor's own unit.
    #[serde(default)]
    pub mine: bool,
    #[serde(default)]
    pub open_only: bool,
    /// Only open cases past their earliest deadline.
    #[serde(default)]
    pub overdue: bool,
    /// Only cases with a yellow or red card.
    #[serde(default)]
    pub carded: bool,
    /// Case number, or text in the title.
    #[serde(default)]
    pub text: Option<String>,
    /// `number` (newest first, the default), `opened` (oldest first) or `due` (earliest deadline first).
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub offset: Option<u32>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One automatic draw of a case, drawn again.
#[derive(Debug, Clone, Serialize)]
pub struct DispatchReplay {
    pub seq: u64,
    pub policy: String,
    pub seed: u64,
    pub candidates: usize,
    pub recorded: Vec<String>,
    pub replayed: Vec<String>,
    pub identical: bool,
}

impl Engine {
    pub(crate) fn programme(&self, code: &str) -> Result<Arc<Programme>, EngineError> {
        self.programmes
            .get(code)
            .cloned()
            .ok_or_else(|| EngineError::field("programme_unknown", "programme", format!("programme {code} is not installed")))
    }

    fn seed(&self) -> u64 {
        let mut bytes = [0u8; 8];
        // The OS random source; a failure there is not worth refusing a case over.
        if getrandom::fill(&mut bytes).is_err() {
            return self.now().timestamp_nanos_opt().unwrap_or_default() as u64;
        }
        u64::from_le_bytes(bytes)
    }

    /// The snapshot of a case, whoever asks (internal).
    pub(crate) async fn load_case(&self, id: CaseId) -> Result<Case, EngineError> {
        let record =
            self.store.case_record(id).await?.ok_or_else(|| EngineError::NotFound { entity: "case", key: id.to_string() })?;
        serde_json::from_str(&record.snapshot).map_err(|e| StoreError::corrupt(format!("case {id}"), e).into())
    }

    /// The snapshots of the cases `filter` selects, decoded (figures, boards, oversight).
    pub(crate) async fn cases_matching(&self, filter: &CaseFilter) -> Result<Vec<Case>, EngineError> {
        self.store
            .case_snapshots(filter)
            .await?
            .iter()
            .map(|s| serde_json::from_str::<Case>(s).map_err(|e| StoreError::corrupt("case snapshot", e).into()))
            .collect()
    }

    /// Opens a case. Kinds opened only by the engine's own intake (inspection records, ledger
    /// entries) are refused here: they go through their use case.
    pub async fn open_case(&self, actor: &Actor, request: OpenCase) -> Result<CaseView, EngineError> {
        let programme = self.programme(&request.programme)?;
        if programme.kind(&request.kind).is_some_and(|k| k.engine_intake) {
            return Err(EngineError::Refused {
                code: "intake_engine_only",
                field: Some("kind".into()),
                message: format!(
                    "{} cases are opened through their own intake (the API's programme endpoints or the CLI), not as generic cases",
                    request.kind
                ),
            });
        }
        self.open_case_as_engine(actor, request).await
    }

    /// Opens a case of any kind, engine-only kinds included: for the engine's own use cases.
    pub(crate) async fn open_case_as_engine(&self, actor: &Actor, request: OpenCase) -> Result<CaseView, EngineError> {
        self.open_case_guarded(actor, request, None).await
    }

    /// [`Engine::open_case_as_engine`], committed only while `guard`'s stream is as long as it
    /// expects (its event is appended in the same commit): a use case that read something
    /// before opening (a balance) is refused with `StreamMoved` when another process changed it
    /// meanwhile, and reads it again.
    pub(crate) async fn open_case_guarded(
        &self,
        actor: &Actor,
        request: OpenCase,
        guard: Option<(Expectation, NewEvent)>,
    ) -> Result<CaseView, EngineError> {
        let programme = self.programme(&request.programme)?;
        let region = RegionCode::parse(request.region.trim())
            .map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
        if self.caches.region(&region).is_none() {
            let found = self.active_region(&region, "region").await?;
            self.caches.put_region(found);
        }
        let grid = request
            .grid
            .as_deref()
            .map(|g| GridCode::parse(g.trim()).map_err(|e| EngineError::field("grid_code_invalid", "grid", e.to_string())))
            .transpose()?;
        let channel = request.channel.trim().to_owned();
        if channel.is_empty() || channel.len() > 32 {
            return Err(EngineError::field("channel_invalid", "channel", "channel must be 1 to 32 characters"));
        }
        let kind = programme.kind(&request.kind).ok_or_else(|| {
            EngineError::field(
                "case_kind_unknown",
                "kind",
                format!("case kind {} is not defined in {}", request.kind, programme.code),
            )
        })?;
        if !kind.accepts_channel(&channel) {
            return Err(EngineError::field(
                "channel_unknown",
                "channel",
                format!("channel {channel} is not one of this kind's: {}", kind.channels.join(", ")),
            ));
        }
        for _ in 0..RETRIES {
            let now = self.now();
            let number = self.numbers.next(self.store.as_ref(), &programme.code, &programme.number_prefix, now).await?;
            let new = NewCase {
                id: CaseId(Uuid::now_v7()),
                number: number.text.clone(),
                kind: kind.code.clone(),
                priority: request.priority.clone(),
                region: region.clone(),
                grid: grid.clone(),
                channel: channel.clone(),
                intake_org: request.intake_org.map(OrgId),
                fields: request.fields.clone(),
            };
            let mut orgs = BTreeMap::new();
            let calendar = self.calendars.for_region(&region);
            let env = DecideEnv { now, calendar, seed: self.seed(), orgs: &orgs, pools: &[] };
            let events = decide_create(&programme, new, actor, &env)?;
            let case = Case::replay(&events).expect("decide_create starts with Created");
            orgs.clear();
            let mut change = project::case_change(&programme, None, &case, &events, &actor.journal_name(), Some(&number));
            if let Some(op) = self.attachment_op(actor, &case, &events).await? {
                change = change.op(op);
            }
            if let Some((expect, event)) = &guard {
                change = change.expect(expect.clone()).event(event.clone());
            }
            let deltas = project::deltas_of(&change);
            match self.store.commit(change).await {
                Ok(_) => {
                    self.caches.apply_tallies(&deltas);
                    self.caches.put_case(case.clone());
                    return Ok(self.view(actor, &programme, case));
                }
                Err(StoreError::Conflict { entity: "case number", .. }) => self.numbers.forget(&number.series),
                Err(err) => return Err(err.into()),
            }
        }
        Err(EngineError::Store(StoreError::Backend("could not allocate a case number: too many concurrent openings".into())))
    }

    /// Takes `action` on a case. `expected_version`, when given, refuses the action if the case
    /// changed since the actor looked at it (a form left open).
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        id: CaseId,
        action: &str,
        inputs: Map<String, Json>,
        expected_version: Option<u64>,
    ) -> Result<CaseView, EngineError> {
        let request = ActionRequest { action: action.to_owned(), inputs };
        for attempt in 0..RETRIES {
            // The cached snapshot first; after a refused commit, the database's.
            let case = match self.caches.case(id).filter(|_| attempt == 0) {
                Some(case) => Case::clone(&case),
                None => self.load_case(id).await?,
            };
            let programme = self.programme(&case.programme)?;
            if !visibility::may_view(actor, &programme, &case) {
                return Err(EngineError::NotFound { entity: "case", key: id.to_string() });
            }
            if let Some(expected) = expected_version
                && expected != case.version
            {
                return Err(EngineError::Refused {
                    code: "case_changed",
                    field: None,
                    message: format!(
                        "the case changed since you opened it (version {} now, {expected} then): look again",
                        case.version
                    ),
                });
            }
            let kind = programme.kind(&case.kind).ok_or_else(|| {
                EngineError::field("case_kind_unknown", "kind", format!("case kind {} is no longer defined", case.kind))
            })?;
            let mut orgs: BTreeMap<OrgId, OrgFacts> = BTreeMap::new();
            pools::load_orgs(self.store.as_ref(), &self.caches, orgs_needed(&case, &request.inputs), &mut orgs).await?;
            let defs = kind.action(action).map(|a| dispatch_needs(kind, &case, a)).unwrap_or_default();
            let candidate_pools = if defs.is_empty() {
                Vec::new()
            } else {
                pools::load_pools(self.store.as_ref(), &self.caches, defs, &case.region, &mut orgs).await?
            };
            let env = DecideEnv {
                now: self.now(),
                calendar: self.calendars.for_region(&case.region),
                seed: self.seed(),
                orgs: &orgs,
                pools: &candidate_pools,
            };
            let events = decide_action(&programme, &case, &request, actor, &env)?;
            let occurred = occurred_at(kind, action, &events, &case, env.now)?;
            let mut after = case.clone();
            for event in &events {
                after.apply(event);
            }
            let mut change = project::case_change(&programme, Some(&case), &after, &events, &actor.journal_name(), None);
            if let Some(at) = occurred {
                // Entered later (a session at sea): the journal keeps both times.
                for event in &mut change.events {
                    event.occurred_at = Some(at);
                }
            }
            if let Some(op) = self.attachment_op(actor, &after, &events).await? {
                change = change.op(op);
            }
            let deltas = project::deltas_of(&change);
            match self.store.commit(change).await {
                Ok(_) => {
                    self.caches.apply_tallies(&deltas);
                    self.caches.put_case(after.clone());
                    return Ok(self.view(actor, &programme, after));
                }
                Err(StoreError::StreamMoved { .. }) if expected_version.is_none() => {
                    self.caches.drop_case(id);
                    continue;
                }
                Err(StoreError::StreamMoved { .. }) => {
                    return Err(EngineError::Refused {
                        code: "case_changed",
                        field: None,
                        message: "the case changed while you acted: look again".into(),
                    });
                }
                Err(err) => return Err(err.into()),
            }
        }
        Err(EngineError::Store(StoreError::Backend(format!("case {id} is changing too fast: try again"))))
    }

    /// The case as `actor` sees it: personal information masked for every account (operators
    /// at the server's command line see it whole).
    fn view(&self, actor: &Actor, programme: &Programme, case: Case) -> CaseView {
        let masked = actor.account().is_some();
        self.view_as(actor, programme, case, masked)
    }

    pub(crate) fn view_as(&self, actor: &Actor, programme: &Programme, case: Case, masked: bool) -> CaseView {
        let kind = programme.kind(&case.kind);
        let actions = available_actions(programme, &case, actor)
            .into_iter()
            .map(|a| ActionOffer { code: a.code.clone(), name: a.name.clone() })
            .collect();
        CaseView {
            programme_name: programme.name.clone(),
            kind_name: kind.map(|k| k.name.clone()).unwrap_or_default(),
            state_name: kind.and_then(|k| k.state(&case.state)).map(|s| s.name.clone()).unwrap_or_else(|| case.state.clone()),
            actions,
            may_reveal: visibility::may_reveal(actor, programme, &case),
            case: if masked { case.masked(kind) } else { case },
            masked,
        }
    }

    /// A case with its personal information shown, for a viewer whose role may see it. Each
    /// such view is journaled (who, which case, when).
    pub async fn reveal_case(&self, actor: &Actor, id: CaseId) -> Result<CaseView, EngineError> {
        let case = self.load_case(id).await?;
        let programme = self.programme(&case.programme)?;
        if !visibility::may_view(actor, &programme, &case) {
            return Err(EngineError::NotFound { entity: "case", key: id.to_string() });
        }
        if !visibility::may_reveal(actor, &programme, &case) {
            return Err(EngineError::Denied {
                code: "forbidden_personal_data",
                message: "your role may not see personal information".into(),
            });
        }
        let change = fq_store::Change::new().event(NewEvent::new(
            format!("access:case:{id}"),
            "case.personal_viewed",
            actor.journal_name(),
            serde_json::json!({ "case": id, "number": case.number }),
        ));
        self.store.commit(change).await?;
        Ok(self.view_as(actor, &programme, case, false))
    }

    /// A case, if the actor may see it (otherwise it "does not exist").
    pub async fn case_view(&self, actor: &Actor, id: CaseId) -> Result<CaseView, EngineError> {
        let case = self.load_case(id).await?;
        let programme = self.programme(&case.programme)?;
        if !visibility::may_view(actor, &programme, &case) {
            return Err(EngineError::NotFound { entity: "case", key: id.to_string() });
        }
        Ok(self.view(actor, &programme, case))
    }

    /// A case by its id or its number.
    pub async fn find_case(&self, actor: &Actor, key: &str) -> Result<CaseView, EngineError> {
        let id = match Uuid::parse_str(key.trim()) {
            Ok(id) => CaseId(id),
            Err(_) => self
                .store
                .case_id_by_number(key.trim())
                .await?
                .ok_or_else(|| EngineError::NotFound { entity: "case", key: key.to_owned() })?,
        };
        self.case_view(actor, id).await
    }

    /// A case with its history and attachments, checked and loaded once (the API's detail page).
    pub async fn case_detail(
        &self,
        actor: &Actor,
        key: &str,
    ) -> Result<(CaseView, Vec<TimelineEntry>, Vec<fq_store::AttachmentRecord>), EngineError> {
        let view = self.find_case(actor, key).await?;
        self.case_extras(view).await
    }

    /// The history and attachments of a case already shown to the actor.
    pub async fn case_extras(
        &self,
        view: CaseView,
    ) -> Result<(CaseView, Vec<TimelineEntry>, Vec<fq_store::AttachmentRecord>), EngineError> {
        let id = view.case.id;
        let timeline = self.history(&view).await?;
        let attachments = self.store.case_attachments(id).await?;
        Ok((view, timeline, attachments))
    }

    /// The history of a case as `view` shows it: masked when the view is.
    async fn history(&self, view: &CaseView) -> Result<Vec<TimelineEntry>, EngineError> {
        let records = self.store.stream_events(&view.case.id.stream()).await?;
        let mut timeline: Vec<TimelineEntry> = records.into_iter().map(TimelineEntry::from).collect();
        if view.masked {
            let programme = self.programme(&view.case.programme)?;
            let kind = programme.kind(&view.case.kind);
            for entry in &mut timeline {
                mask_history::mask_event(&mut entry.event, kind);
            }
        }
        Ok(timeline)
    }

    /// A case's history, oldest first.
    pub async fn case_timeline(&self, actor: &Actor, id: CaseId) -> Result<Vec<TimelineEntry>, EngineError> {
        let view = self.case_view(actor, id).await?;
        self.history(&view).await
    }

    /// Rebuilds a case from its journal stream and compares it with the stored snapshot.
    pub async fn verify_case_snapshot(&self, actor: &Actor, id: CaseId) -> Result<bool, EngineError> {
        self.case_view(actor, id).await?;
        // The stored snapshot itself, not the (masked) view of it.
        let stored = self.load_case(id).await?;
        let events: Vec<CaseEvent> = self
            .store
            .stream_events(&id.stream())
            .await?
            .into_iter()
            .map(|r| {
                serde_json::from_value(r.payload_json())
                    .map_err(|e| StoreError::corrupt(format!("event {} of case {id}", r.seq), e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Case::replay(&events).is_some_and(|rebuilt| rebuilt == stored))
    }

    /// Cases the actor may list. Assignment-only handlers may not list or filter at all: they
    /// take their next assigned case ([`Engine::next_assigned_case`]).
    pub async fn list_cases(&self, actor: &Actor, query: CaseQuery) -> Result<Vec<CaseSummary>, EngineError> {
        let programme = self.programme(&query.programme)?;
        if visibility::assignment_only(actor, &programme) {
            return Err(EngineError::Denied {
                code: "forbidden_assignment_only",
                message: "your role receives its cases by assignment only: open your next assigned case instead of listing"
                    .into(),
            });
        }
        let filter = self.case_filter(actor, &programme, &query)?;
        Ok(self.store.cases(&filter).await?)
    }

    /// How many cases a list request matches (its paging ignored).
    pub async fn count_cases(&self, actor: &Actor, query: CaseQuery) -> Result<u64, EngineError> {
        let programme = self.programme(&query.programme)?;
        if visibility::assignment_only(actor, &programme) {
            return Err(EngineError::Denied {
                code: "forbidden_assignment_only",
                message: "your role receives its cases by assignment only".into(),
            });
        }
        let filter = self.case_filter(actor, &programme, &query)?;
        Ok(self.store.count_cases(&filter).await?)
    }

    /// The store filter for a list request, narrowed to what the actor may list.
    fn case_filter(&self, actor: &Actor, programme: &Programme, query: &CaseQuery) -> Result<CaseFilter, EngineError> {
        let sort = match query.sort.as_deref() {
            None | Some("number") => fq_store::CaseSort::NumberDesc,
            Some("opened") => fq_store::CaseSort::OpenedAsc,
            Some("due") => fq_store::CaseSort::DueAsc,
            Some(other) => {
                return Err(EngineError::field("sort_invalid", "sort", format!("sort {other:?} is not number, opened or due")));
            }
        };
        if let Some(kind) = &query.kind
            && programme.kind(kind).is_none()
        {
            return Err(EngineError::field(
                "case_kind_unknown",
                "kind",
                format!("case kind {kind} is not defined in {}", programme.code),
            ));
        }
        let text =
            query.text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(|t| t.chars().take(100).collect::<String>());
        let mut filter = CaseFilter {
            programme: Some(programme.code.clone()),
            kind: query.kind.clone(),
            state: query.state.clone(),
            open_only: query.open_only,
            due_before: query.overdue.then(|| self.now()),
            carded: query.carded,
            text,
            sort,
            before: query.before.clone(),
            offset: query.offset.unwrap_or(0).min(100_000),
            limit: query.limit.unwrap_or(50).clamp(1, 500),
            ..CaseFilter::default()
        };
        let scopes = visibility::listable_scopes(actor, programme);
        // Checked before `mine`: one's own unit's cases are listed only to who holds a role
        // that may list at all (the "involved" rule of visibility).
        if scopes.as_ref().is_some_and(visibility::ListScopes::is_empty) {
            return Err(EngineError::Denied {
                code: "forbidden_role",
                message: format!("you hold no role of programme {}", programme.code),
            });
        }
        let region = query
            .region
            .as_deref()
            .map(|r| RegionCode::parse(r.trim()).map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string())))
            .transpose()?;
        if query.mine {
            let account = actor
                .account()
                .ok_or_else(|| EngineError::field("mine_needs_account", "mine", "only a signed-in account has a unit"))?;
            // Cases given to one's own unit are visible wherever they are.
            filter.unit = Some(account.org);
            match region {
                Some(region) => filter.regions = vec![region],
                None => filter.all_regions = true,
            }
            return Ok(filter);
        }
        match (scopes, &region) {
            (None, None) => filter.all_regions = true,
            (None, Some(region)) => filter.regions = vec![region.clone()],
            (Some(scopes), None) => (filter.regions, filter.narrowed) = (scopes.regions, scopes.narrowed),
            (Some(scopes), Some(region)) => {
                let inside = scopes.within(region).ok_or_else(|| EngineError::Denied {
                    code: "forbidden_region",
                    message: format!("region {region} is outside your scope"),
                })?;
                (filter.regions, filter.narrowed) = (inside.regions, inside.narrowed);
            }
        }
        Ok(filter)
    }

    /// The oldest open case assigned to the actor personally (assignment-only handlers' only way
    /// to their work).
    pub async fn next_assigned_case(&self, actor: &Actor, programme: &str) -> Result<Option<CaseView>, EngineError> {
        let programme = self.programme(programme)?;
        let account = actor
            .account()
            .ok_or_else(|| EngineError::field("next_needs_account", "actor", "only a signed-in account has assigned cases"))?;
        let filter = CaseFilter {
            programme: Some(programme.code.clone()),
            person: Some(account.id),
            open_only: true,
            all_regions: true,
            limit: 500,
            ..CaseFilter::default()
        };
        let mut assigned = self.store.cases(&filter).await?;
        assigned.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then_with(|| a.number.cmp(&b.number)));
        // The oldest the person can act on now: one waiting for someone else (a record sent back
        // to its station) is not their next.
        for summary in assigned {
            let view = self.case_view(actor, summary.id).await?;
            if !view.actions.is_empty() {
                return Ok(Some(view));
            }
        }
        Ok(None)
    }

    /// Draws every automatic dispatch of a case again from its recorded inputs and seed.
    pub async fn replay_dispatch(&self, actor: &Actor, key: &str) -> Result<(CaseView, Vec<DispatchReplay>), EngineError> {
        let view = self.find_case(actor, key).await?;
        let mut out = Vec::new();
        for record in self.store.stream_events(&view.case.id.stream()).await? {
            let event: CaseEvent = serde_json::from_value(record.payload_json())
                .map_err(|e| StoreError::corrupt(format!("event {}", record.seq), e))?;
            if let CaseEvent::Assigned { draw: Some(draw), .. } = event {
                let (identical, replayed) = draw.replay().map_err(|e| EngineError::invalid(&e))?;
                out.push(DispatchReplay {
                    seq: record.seq,
                    policy: draw.request.policy.as_str().to_owned(),
                    seed: draw.request.seed,
                    candidates: draw.candidates.len(),
                    recorded: draw.chosen.clone(),
                    replayed,
                    identical,
                });
            }
        }
        Ok((view, out))
    }

    /// Sets a handler's dispatch profile (duty, capacity, qualification, skills, conflicts).
    /// Needs the admin role over the handler's unit.
    pub async fn set_handler_profile(
        &self,
        actor: &Actor,
        unit: OrgId,
        person: Option<fq_domain::account::AccountId>,
        profile: HandlerProfile,
    ) -> Result<HandlerProfile, EngineError> {
        let org = self
            .store
            .organisation(unit)
            .await?
            .ok_or_else(|| EngineError::field("org_unknown", "unit", format!("organisation {unit} does not exist")))?;
        require_admin(actor, &org.region, Some(unit), "setting a handler's profile")?;
        if let Some(person) = person {
            let account = self
                .store
                .account(person)
                .await?
                .ok_or_else(|| EngineError::field("account_unknown", "person", format!("account {person} does not exist")))?;
            if account.org != unit {
                return Err(EngineError::field(
                    "person_not_in_unit",
                    "person",
                    format!("account {} belongs to another organisation", account.login.as_str()),
                ));
            }
        }
        if profile.capacity.is_some_and(|c| !(c > 0.0 && c <= 100_000.0)) {
            return Err(EngineError::field("capacity_invalid", "capacity", "capacity must be above 0"));
        }
        let profile = HandlerProfile { handler: pools::handler_key(unit, person), ..profile };
        let change = fq_store::Change::new().op(Op::PutHandlerProfile(profile.clone())).event(NewEvent::new(
            format!("handler:{}", profile.handler),
            "handler.profile_set",
            actor.journal_name(),
            serde_json::to_value(&profile).expect("profiles serialize"),
        ));
        self.store.commit(change).await?;
        self.caches.profiles_changed();
        Ok(profile)
    }

    /// The tallies (load, cards, points, ratings) of the units the actor may read in `region`.
    pub async fn unit_tallies(
        &self,
        actor: &Actor,
        region: &RegionCode,
    ) -> Result<Vec<(fq_domain::org::Organisation, HandlerTally)>, EngineError> {
        let orgs = self.organisations_within(actor, region).await?;
        let keys: Vec<String> = orgs.iter().map(|o| o.id.to_string()).collect();
        let tallies: BTreeMap<String, HandlerTally> =
            self.store.handler_tallies(&keys).await?.into_iter().map(|t| (t.handler.clone(), t)).collect();
        Ok(orgs
            .into_iter()
            .map(|o| {
                let key = o.id.to_string();
                let tally = tallies.get(&key).cloned().unwrap_or(HandlerTally { handler: key, ..HandlerTally::default() });
                (o, tally)
            })
            .collect())
    }

    /// Notifications for the actor: to its account, its unit, and the roles it holds in its
    /// counties.
    pub async fn my_notifications(&self, actor: &Actor, limit: u32) -> Result<Vec<NotificationRecord>, EngineError> {
        let Some(account) = actor.account() else { return Ok(Vec::new()) };
        let mut keys = vec![format!("account:{}", account.id), format!("unit:{}", account.org)];
        for grant in &account.grants {
            if let Some(county) = grant.scope.region.at_level(fq_domain::region::RegionLevel::County) {
                keys.push(format!("role:{}@{county}", grant.role));
            }
        }
        keys.sort();
        keys.dedup();
        // Role notices go to a county while grants may be narrower (a town, one organisation,
        // assignment-only): each notice is shown only if its case is, so that no case number
        // reaches who may not see the case.
        let limit = limit.clamp(1, 500);
        let mut shown = Vec::new();
        for notice in self.store.notifications(&keys, limit.saturating_mul(2)).await? {
            let case = match self.load_case(notice.case_id).await {
                Ok(case) => case,
                Err(EngineError::NotFound { .. }) => continue,
                Err(other) => return Err(other),
            };
            let visible = self.programmes.get(&case.programme).is_some_and(|p| visibility::may_view(actor, p, &case));
            if visible {
                shown.push(notice);
                if shown.len() == limit as usize {
                    break;
                }
            }
        }
        Ok(shown)
    }

    /// The programme roles the actor holds, for the console.
    pub fn programme_roles<'p>(&self, actor: &Actor, programme: &'p Programme) -> Vec<&'p RoleDef> {
        programme.roles.values().filter(|r| actor.account().is_none_or(|a| a.grants.iter().any(|g| g.role == r.code))).collect()
    }
}

/// When the action really happened, for an action whose definition names an `occurred_at`
/// input: that input's time, which may not lie in the future or before the case was opened.
fn occurred_at(
    kind: &fq_domain::programme::CaseKind,
    action: &str,
    events: &[CaseEvent],
    case: &Case,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, EngineError> {
    let Some(input) = kind.action(action).and_then(|a| a.occurred_at.as_deref()) else { return Ok(None) };
    let value = events.iter().find_map(|e| match e {
        CaseEvent::Acted { inputs, .. } => inputs.get(input),
        _ => None,
    });
    let Some(fq_domain::programme::FieldValue::DateTime(at)) = value else { return Ok(None) };
    // A minute of grace for clocks that disagree a little.
    if *at > now + chrono::Duration::minutes(1) {
        return Err(EngineError::field("occurred_in_future", input, format!("{input} is in the future")));
    }
    if *at < case.opened_at {
        return Err(EngineError::field("occurred_before_case", input, format!("{input} is before the case was registered")));
    }
    Ok(Some(*at))
}

/// One new case's change, for bulk seeding (see `synthetic.rs`).
pub(crate) fn case_change_for_bench(
    programme: &Programme,
    case: &Case,
    events: &[CaseEvent],
    number: &numbers::CaseNumber,
) -> fq_store::Change {
    project::case_change(programme, None, case, events, &Actor::System.journal_name(), Some(number))
}

/// The next case number of a programme, for bulk seeding.
pub(crate) async fn next_number_for_bench(
    engine: &Engine,
    programme: &Programme,
    at: DateTime<Utc>,
) -> Result<numbers::CaseNumber, EngineError> {
    engine.numbers.next(engine.store.as_ref(), &programme.code, &programme.number_prefix, at).await
}
