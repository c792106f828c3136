//! Use cases the web console needs beyond the API's: how close a deadline is on the case's own
//! working-day calendar, the organisations and accounts an administrator manages, and the
//! dispatch board (cases waiting for a handler, and the units' current load).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use fq_domain::account::{Account, AccountId, RoleCode};
use fq_domain::actor::Actor;
use fq_domain::org::{OrgId, Organisation};
use fq_domain::region::RegionCode;
use fq_store::HandlerTally;

use crate::access::require_admin;
use crate::error::EngineError;
use crate::{CaseQuery, CaseView, Engine};

/// How close a running deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueTone {
    /// Past its deadline.
    Overdue,
    /// Due within one working day of office time.
    Soon,
    /// Further away.
    OnTime,
}

impl DueTone {
    pub fn as_str(self) -> &'static str {
        match self {
            DueTone::Overdue => "overdue",
            DueTone::Soon => "soon",
            DueTone::OnTime => "on_time",
        }
    }
}

/// The dispatch board of one programme: cases waiting for a handler, and the units' load.
#[derive(Debug, Clone)]
pub struct DispatchBoard {
    /// Open cases in the states `dispatching` and `submitted`, oldest first.
    pub waiting: Vec<CaseView>,
    /// The units in the reader's scope with their tallies, most loaded first.
    pub units: Vec<(Organisation, HandlerTally)>,
}

/// The states a case waits for dispatch in.
const WAITING_STATES: [&str; 2] = ["dispatching", "submitted"];

/// Longer than any run of rest days in a Chinese calendar: a deadline further away is not soon.
const SOON_HORIZON_DAYS: i64 = 21;

impl Engine {
    /// The engine's current time (the console's "now" for default periods and deadlines).
    pub fn current_time(&self) -> DateTime<Utc> {
        self.now()
    }

    /// How close `due_at` is for a case in `region`, on that region's working-day calendar:
    /// overdue, due within one working day of office time, or further away.
    pub fn due_tone(&self, region: &RegionCode, due_at: DateTime<Utc>) -> DueTone {
        let now = self.now();
        if due_at <= now {
            return DueTone::Overdue;
        }
        if due_at - now > Duration::days(SOON_HORIZON_DAYS) {
            return DueTone::OnTime;
        }
        let calendar = self.calendars.for_region(region);
        if calendar.working_seconds_between(now, due_at) <= calendar.office_hours().seconds_per_day() {
            DueTone::Soon
        } else {
            DueTone::OnTime
        }
    }

    /// The regions of the actor's grants, without those inside another one.
    fn grant_regions(actor: &Actor, keep: impl Fn(&str) -> bool) -> Vec<RegionCode> {
        actor.account().map(|account| account.outermost_regions(keep)).unwrap_or_default()
    }

    /// Every organisation the account may see through any of its grants, by region then name.
    /// Operators have no scope to list from (they use the command line).
    pub async fn organisations_in_scope(&self, actor: &Actor) -> Result<Vec<Organisation>, EngineError> {
        let mut found = BTreeMap::new();
        for region in Engine::grant_regions(actor, |_| true) {
            for org in self.organisations_within(actor, &region).await? {
                found.insert(org.id, org);
            }
        }
        let mut orgs: Vec<Organisation> = found.into_values().collect();
        orgs.sort_by(|a, b| a.region.cmp(&b.region).then_with(|| a.name.cmp(&b.name)));
        Ok(orgs)
    }

    /// The enabled accounts of an organisation holding a core or programme role, for an
    /// administrator of that organisation. Sorted by login.
    pub async fn organisation_accounts(&self, actor: &Actor, org: OrgId) -> Result<Vec<Account>, EngineError> {
        let org = self.organisation(actor, org).await?;
        require_admin(actor, &org.region, Some(org.id), "listing the accounts of an organisation")?;
        let mut roles: BTreeSet<String> =
            [RoleCode::ADMIN, RoleCode::LEADER, RoleCode::STAFF].into_iter().map(str::to_owned).collect();
        for programme in self.programmes.all() {
            roles.extend(programme.roles.keys().cloned());
        }
        let mut accounts: BTreeMap<AccountId, Account> = BTreeMap::new();
        for role in roles {
            for account in self.store.accounts_with_role(&role).await? {
                if account.org == org.id {
                    accounts.insert(account.id, account);
                }
            }
        }
        let mut accounts: Vec<Account> = accounts.into_values().collect();
        accounts.sort_by(|a, b| a.login.cmp(&b.login));
        Ok(accounts)
    }

    /// The dispatch board of `programme`: up to `limit` waiting cases per waiting state that the
    /// actor may list, and the units in the regions of its programme roles.
    pub async fn dispatch_board(&self, actor: &Actor, programme: &str, limit: u32) -> Result<DispatchBoard, EngineError> {
        let definition = self.programmes.get(programme).cloned().ok_or_else(|| {
            EngineError::field("programme_unknown", "programme", format!("programme {programme} is not installed"))
        })?;
        let mut waiting = Vec::new();
        for state in WAITING_STATES {
            let query = CaseQuery {
                programme: programme.to_owned(),
                state: Some(state.to_owned()),
                open_only: true,
                sort: Some("opened".into()),
                limit: Some(limit),
                ..CaseQuery::default()
            };
            for summary in self.list_cases(actor, query).await? {
                // Lists and views follow the same rules; a case that moved out of sight since
                // the list was read is left out rather than failing the board.
                match self.case_view(actor, summary.id).await {
                    Ok(view) => waiting.push(view),
                    Err(EngineError::NotFound { .. }) => {}
                    Err(other) => return Err(other),
                }
            }
        }
        waiting.sort_by_key(|view| view.case.opened_at);
        let mut units: BTreeMap<OrgId, (Organisation, HandlerTally)> = BTreeMap::new();
        let broad = |role: &str| definition.roles.contains_key(role) && !definition.assignment_only(role);
        for region in Engine::grant_regions(actor, broad) {
            for (org, tally) in self.unit_tallies(actor, &region).await? {
                units.insert(org.id, (org, tally));
            }
        }
        let mut units: Vec<(Organisation, HandlerTally)> = units.into_values().collect();
        units.sort_by(|a, b| b.1.open_load.total_cmp(&a.1.open_load).then_with(|| a.0.name.cmp(&b.0.name)));
        Ok(DispatchBoard { waiting, units })
    }
}
