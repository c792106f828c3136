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
    /// Yellow and red cards raised on it (a case with any was late somewhere).
    pub yellow_cards: u32,
    pub red_cards: u32,
    /// Its rating, once rated.
    pub rating: Option<u8>,
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
    pub yellow_cards: u32,
    pub red_cards: u32,
}

/// The order of a case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CaseSort {
    /// Newest number first (the default; pages by `before`).
    #[default]
    NumberDesc,
    /// Oldest opening first.
    OpenedAsc,
    /// Earliest running deadline first (cases without one last).
    DueAsc,
}

/// Which cases a list wants. Every list is bounded by `limit` and pages by `before` (the number
/// of the last case of the previous page: newest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub programme: Option<String>,
    /// Cases located within any of these regions (the reader's scopes). Empty (and no
    /// `narrowed`): nothing, unless `all_regions`.
    pub regions: Vec<RegionCode>,
    /// Also cases within these regions assigned to these units (grants narrowed to one
    /// organisation's business).
    pub narrowed: Vec<(RegionCode, OrgId)>,
    /// No region restriction (operators; lists already narrowed to a unit or a person).
    pub all_regions: bool,
    pub unit: Option<OrgId>,
    pub person: Option<AccountId>,
    pub state: Option<String>,
    pub kind: Option<String>,
    pub open_only: bool,
    /// Only open cases whose earliest deadline is before this instant (overdue now).
    pub due_before: Option<DateTime<Utc>>,
    /// Only cases with a yellow or red card.
    pub carded: bool,
    /// Only cases opened in `[opened_from, opened_to)`.
    pub opened_from: Option<DateTime<Utc>>,
    pub opened_to: Option<DateTime<Utc>>,
    /// Case number or title containing this text.
    pub text: Option<String>,
    pub sort: CaseSort,
    /// For `NumberDesc`: the number of the last case of the previous page.
    pub before: Option<String>,
    /// For the other orders: rows to skip.
    pub offset: u32,
    pub limit: u32,
}

/// Figures of a set of cases (a programme in a region, over a period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CaseKpis {
    pub opened: u64,
    pub open: u64,
    pub closed: u64,
    /// Open and past their earliest deadline now.
    pub overdue_open: u64,
    /// Closed without a yellow or red card.
    pub closed_on_time: u64,
    pub yellow_cards: u64,
    pub red_cards: u64,
    pub rated: u64,
    pub rating_sum: u64,
}

/// One day of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrendPoint {
    pub day: chrono::NaiveDate,
    pub opened: u64,
    pub closed: u64,
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
