//! Rows of the case projections: the case table (a snapshot plus the columns lists filter on),
//! notifications, handler tallies (load and KPIs) and handler profiles (duty, capacity, skills).

use chrono::{DateTime, Utc};
use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;
use serde::{Deserialize, Serialize};

/// One case as stored: its snapshot (the fold of its stream, as JSON) and the columns that
/// lists, the scheduler and the number allocator query.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: CaseId,
    pub number: String,
    /// `<programme>:<year>`: the series the number belongs to.
    pub number_series: String,
    pub number_seq: u64,
    pub programme: String,
    pub kind: String,
    pub state: String,
    pub priority: String,
    pub region: RegionCode,
    pub unit: Option<OrgId>,
    pub person: Option<AccountId>,
    pub title: String,
    pub tier: Option<u32>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The earliest running deadline (for lists and colours).
    pub due_at: Option<DateTime<Utc>>,
    /// When the scheduler must look at the case next.
    pub next_timer_at: Option<DateTime<Utc>>,
    /// Events in the case's stream.
    pub version: u64,
    pub snapshot: String,
}

/// A case as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseSummary {
    pub id: CaseId,
    pub number: String,
    pub programme: String,
    pub kind: String,
    pub state: String,
    pub priority: String,
    pub region: RegionCode,
    pub unit: Option<OrgId>,
    pub person: Option<AccountId>,
    pub title: String,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
}

/// Which cases a list wants. Every list is bounded by `limit` and pages by `before` (the number
/// of the last case of the previous page: newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub programme: Option<String>,
    /// Cases located within any of these regions (the reader's scopes). Empty: nothing, unless
    /// `all_regions`.
    pub regions: Vec<RegionCode>,
    /// No region restriction (operators; lists already narrowed to a unit or a person).
    pub all_regions: bool,
    pub unit: Option<OrgId>,
    pub person: Option<AccountId>,
    pub state: Option<String>,
    pub open_only: bool,
    pub before: Option<String>,
    pub limit: u32,
}

/// A notification to one recipient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationRecord {
    /// `unit:<uuid>`, `account:<uuid>`, `role:<role>@<region>` or `requester:<name>`.
    pub recipient: String,
    pub case_id: CaseId,
    pub case_number: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// A handler's running totals. The same shape carries additions to them ([`TallyDelta`],
/// negative to subtract).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HandlerTally {
    /// The candidate key: a unit id, or `unit/person`.
    pub handler: String,
    pub open_load: f64,
    pub open_cases: i64,
    pub assigned_total: i64,
    pub reminders: i64,
    pub yellow_cards: i64,
    pub red_cards: i64,
    pub points: i64,
    pub returns: i64,
    pub closed: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
}

/// Additions to one handler's tallies.
pub type TallyDelta = HandlerTally;

impl HandlerTally {
    pub fn new(handler: impl Into<String>) -> HandlerTally {
        HandlerTally { handler: handler.into(), ..HandlerTally::default() }
    }

    pub fn is_zero(&self) -> bool {
        *self == HandlerTally::new(self.handler.clone())
    }

    /// Adds `delta` (the handler key is not compared).
    pub fn add(&mut self, delta: &TallyDelta) {
        self.open_load += delta.open_load;
        self.open_cases += delta.open_cases;
        self.assigned_total += delta.assigned_total;
        self.reminders += delta.reminders;
        self.yellow_cards += delta.yellow_cards;
        self.red_cards += delta.red_cards;
        self.points += delta.points;
        self.returns += delta.returns;
        self.closed += delta.closed;
        self.rating_sum += delta.rating_sum;
        self.rating_count += delta.rating_count;
    }
}

/// What dispatch must know about a handler beyond its organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandlerProfile {
    pub handler: String,
    pub on_duty: bool,
    pub capacity: Option<f64>,
    pub qualified: bool,
    pub skills: Vec<String>,
    pub conflicts: Vec<String>,
}

impl HandlerProfile {
    /// The profile of a handler nobody has configured: on duty, qualified, no cap.
    pub fn default_for(handler: impl Into<String>) -> HandlerProfile {
        HandlerProfile {
            handler: handler.into(),
            on_duty: true,
            capacity: None,
            qualified: true,
            skills: Vec::new(),
            conflicts: Vec::new(),
        }
    }
}
