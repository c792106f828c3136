//! What a commit carries: events plus the projection changes they imply.

use fq_domain::account::{Account, AccountId, ApiToken, RoleGrant};
use fq_domain::boundary::Boundary;
use fq_domain::grid::{Grid, GridCode};
use fq_domain::journal::{Hash, NewEvent};
use fq_domain::org::Organisation;
use fq_domain::region::{Region, RegionCode};
use uuid::Uuid;

use crate::access::{LoginThrottle, SessionRecord};
use crate::attachments::AttachmentRecord;
use crate::cases::{CaseRecord, HandlerProfile, NotificationRecord, TallyDelta};

/// One projection write. Every variant is applied by every backend inside the commit's
/// transaction; the conformance suite checks each one.
#[derive(Debug, Clone)]
pub enum Op {
    /// Inserts regions; an existing code is updated (name, retired flag).
    UpsertRegions(Vec<Region>),
    /// Renames one region.
    RenameRegion {
        code: RegionCode,
        name: String,
    },
    /// Marks regions retired (they stay for history).
    RetireRegions(Vec<RegionCode>),
    /// Inserts or replaces boundary polygons.
    UpsertBoundaries(Vec<Boundary>),
    /// Inserts grids; an existing code is a conflict.
    InsertGrids(Vec<Grid>),
    /// Removes generated grids (never imported ones) whose codes are listed.
    DeleteGeneratedGrids(Vec<GridCode>),
    InsertOrganisation(Organisation),
    /// Inserts an account with its grants and, optionally, a password hash (PHC string).
    InsertAccount {
        account: Account,
        password_hash: Option<String>,
    },
    AddRoleGrant {
        account: AccountId,
        grant: RoleGrant,
    },
    SetAccountDisabled {
        account: AccountId,
        disabled: bool,
    },
    InsertApiToken(ApiToken),
    RevokeApiToken {
        token: Uuid,
    },
    /// Marks every API token of an account revoked (disabled account): enabling the account
    /// again does not bring them back.
    RevokeAccountTokens {
        account: AccountId,
    },
    /// Inserts risk events; one whose (source, source id) is stored already is left as it is.
    InsertRiskEvents(Vec<crate::RiskEventRecord>),
    /// Inserts position reports; one whose (subject, time, county) is stored already is left as
    /// it is.
    InsertPositions(Vec<crate::PositionRecord>),
    /// Stores a forecast: it replaces the row of the same county, category, day and horizon
    /// when it was fitted over more stored events (never over fewer: a slower process must not
    /// put back an older fit) or by another model.
    PutRiskForecast(Box<crate::RiskForecastRecord>),
    /// Stores a checked forecast of the track record: it replaces the row of the same county,
    /// scope, day and horizon (a check made again counts the events stored since).
    PutRiskCheck(Box<crate::RiskCheckRecord>),
    /// Forgets the forecasts whose first day is before `before`.
    PruneRiskForecasts {
        before: chrono::NaiveDate,
    },
    /// Sets a key in the settings table (instance-wide facts such as "demo data seeded").
    PutSetting {
        key: String,
        value: String,
    },
    /// Inserts a case row or replaces the row with the same id. A number already used by
    /// another case is a conflict (entity "case number").
    PutCase(Box<CaseRecord>),
    InsertNotifications(Vec<NotificationRecord>),
    /// Adds to handlers' tallies, creating rows as needed.
    AdjustTallies(Vec<TallyDelta>),
    /// Inserts or replaces a handler's dispatch profile.
    PutHandlerProfile(HandlerProfile),
    InsertSession(SessionRecord),
    /// Marks one session revoked (sign-out).
    RevokeSession {
        id_hash: String,
    },
    /// Marks every session of an account revoked (disabled account, changed password).
    RevokeAccountSessions {
        account: AccountId,
    },
    /// Inserts or replaces a login's throttling row.
    PutLoginThrottle(LoginThrottle),
    /// Forgets a login's failures (after a successful sign-in).
    ClearLoginThrottle {
        login: String,
    },
    /// Stores an uploaded file. An id already used is a conflict (entity "attachment").
    InsertAttachment {
        record: AttachmentRecord,
        bytes: Vec<u8>,
    },
    /// Ties uploaded files to a case. An unknown attachment is `Missing`.
    AttachToCase {
        attachments: Vec<Uuid>,
        case: fq_domain::case::CaseId,
    },
}

/// A precondition checked inside the transaction before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// The stream has exactly `version` events (0 = the stream does not exist yet). This is the
    /// optimistic-concurrency check for aggregates.
    StreamVersion { stream: String, version: u64 },
}

/// A unit of work: all of it is applied, or none of it.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub expect: Vec<Expectation>,
    pub ops: Vec<Op>,
    pub events: Vec<NewEvent>,
}

impl Change {
    pub fn new() -> Change {
        Change::default()
    }

    pub fn op(mut self, op: Op) -> Change {
        self.ops.push(op);
        self
    }

    pub fn event(mut self, event: NewEvent) -> Change {
        self.events.push(event);
        self
    }

    pub fn expect(mut self, expectation: Expectation) -> Change {
        self.expect.push(expectation);
        self
    }
}

/// What a successful commit appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    /// Sequence numbers of the first and last appended events (equal for one event). A change
    /// without events appends nothing and reports the head it committed after.
    pub first_seq: u64,
    pub last_seq: u64,
    /// The chain head after this change.
    pub head: Hash,
}
