//! fengqiao's use cases. The server, the CLI and background jobs all come through here; nothing
//! else writes.
//!
//! A use case authorizes the actor, loads what it needs, asks the domain what should change, and
//! commits one [`fq_store::Change`] (events plus projections) through the store.
//!
//! Architecture invariant: every read and every action is authorized here, from the actor's role
//! grants (role + organisation + region scope). Handlers never decide access themselves.

mod access;
mod accounts;
mod attachments;
mod audit;
mod cases;
mod coins;
mod console;
mod demo;
mod demo_cases;
mod demo_chain;
mod demo_finance;
mod demo_inspection;
mod demo_maritime;
mod demo_positions;
mod demo_warnings;
mod documents;
mod error;
mod figures;
mod governance;
mod grids;
mod heatmap;
mod import_cases;
mod inspections;
mod kpis;
mod open311;
mod open311_pulls;
mod orgs;
mod positions;
mod programmes;
mod reference_data;
mod regions;
mod risk_forecast;
mod risk_ingest;
mod risk_record;
mod risk_track;
mod risk_whistle;
mod secrets;
mod sessions;
mod status;
mod synthetic;
mod warnings;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use fq_domain::calendar::CalendarSet;
use fq_store::Store;

pub use accounts::{IssuedToken, NewAccount};
pub use attachments::{MAX_ATTACHMENT_BYTES, sniff_content_type};
pub use audit::{AuditOutcome, parse_checkpoint};
pub use cases::{CaseQuery, CaseView, DispatchReplay, OpenCase, TimelineEntry, TimerReport};
pub use coins::{CoinEntry, CoinLedger, REDEMPTIONS as COIN_REDEMPTIONS, RULES as COIN_RULES};
pub use console::{DispatchBoard, DueTone};
pub use demo::{DemoAccount, DemoSeed};
pub use error::EngineError;
pub use figures::{Breakdown, FigureQuery, FigureReport, FigureRow, Figures, figure_kind};
pub use fq_risk::backtest::Horizon;
pub use fq_risk::trace::{DISAGREE_METRES, Disagreement, FeedCopy};
pub use governance::{DIMENSIONS as GOVERNANCE_DIMENSIONS, GovernanceIndex, IndexRow};
pub use grids::GridImportReport;
pub use heatmap::{HeatCell, HeatMap, HeatQuery, RISK_EVENTS};
pub use import_cases::{BadRow, ImportReport, Table, read_table};
pub use inspections::{
    EvaluationView, InspectionImport, Received, SHIPPED_RULES, StationRank, SupervisionRun, city_county_weights,
    shipped_rule_sets,
};
pub use kpis::KpiReport;
pub use open311::{Open311Attribute, Open311Query, Open311Request, Open311Service, Open311Status, Open311Submission};
pub use open311_pulls::{Open311Pull, Open311PullEntry, Open311Source, PULLS_STREAM, chooses_open311_pulls};
pub use orgs::NewOrganisation;
pub use positions::{POSITION_FEED_ROLE, PositionsReport, TRACE_ROLE, Trace, trace_scopes};
pub use programmes::Programmes;
pub use reference_data::{EMBEDDED_BOUNDARIES, EMBEDDED_REGIONS, embedded_calendar, embedded_division_files};
pub use regions::{BoundaryImportReport, RegionImportReport};
pub use risk_ingest::IngestReport;
pub use risk_record::{PastForecast, RECENT_ROWS};
pub use risk_track::{MAX_BACKFILL_PERIODS, MAX_RECORD_SPAN_DAYS, RecordSummary, summarise_record, track_length};
pub use risk_whistle::{CountyWhistle, NIGHTLY_CELL_METRES, NightlyRun, WhistleRun};
pub use sessions::{ActiveSession, LOCKOUT_MINUTES, MAX_FAILURES, NewSession, SESSION_HOURS};
pub use status::Status;
pub use warnings::{LEVELS as WARNING_LEVELS, LevelRollUp, TypicalCase, WarningBoard};

/// The source of "now" for every use case: the system clock in production, a fixed or stepped
/// clock in tests.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The engine: a store, a clock, the programmes and the working-day calendar.
#[derive(Clone)]
pub struct Engine {
    store: Arc<dyn Store>,
    clock: Clock,
    programmes: Arc<Programmes>,
    calendars: Arc<CalendarSet>,
    numbers: Arc<cases::NumberAllocator>,
    caches: Arc<cases::Caches>,
    /// The ids of the inspection records received, loaded on first use; held across a receipt
    /// so that a record sent twice at once is stored once.
    inspection_ids: Arc<tokio::sync::Mutex<Option<std::collections::HashSet<String>>>>,
    /// Held across a coin redemption's balance check and entry.
    coins_lock: Arc<tokio::sync::Mutex<()>>,
    /// The heat map's recent forecasts (risk_forecast.rs).
    forecasts: Arc<risk_forecast::ForecastCache>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("store", &self.store.location()).finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine on `store` with the system clock.
    pub fn new(store: Arc<dyn Store>) -> Engine {
        let programmes = Programmes::embedded().expect("the embedded programmes are checked by the tests");
        Engine {
            store,
            clock: Arc::new(Utc::now),
            programmes: Arc::new(programmes),
            calendars: Arc::new(embedded_calendar()),
            numbers: Arc::default(),
            caches: Arc::default(),
            inspection_ids: Arc::default(),
            coins_lock: Arc::default(),
            forecasts: Arc::default(),
        }
    }

    /// Replaces the programmes (`--programmes DIR`).
    pub fn with_programmes(mut self, programmes: Programmes) -> Engine {
        self.programmes = Arc::new(programmes);
        self
    }

    pub fn programmes(&self) -> &Programmes {
        &self.programmes
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Engine {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}
