//! Programmes as data: what a programme's case kinds collect, how their workflow runs, which time
//! limits apply, how they are dispatched and who may do what. Written as
//! `programmes/<code>/programme.toml` plus catalog files, checked once at start (a broken
//! definition is refused with file, line and reason), then shared read-only.
//!
//! docs/PROGRAMMES.md is the guide to writing one.

mod documents;
mod effect;
mod field;
mod guard;
mod load;
mod outcomes;
mod raw;

use std::collections::BTreeMap;

pub use effect::{Effect, NotifyTarget};
pub use field::{CatalogCodes, FieldDef, FieldError, FieldType, FieldValue, Party, check_fields, valid_id_number};
pub use guard::{Guard, GuardError};
pub use load::{ProgrammeError, ProgrammeFiles, load_programme};

use crate::account::RoleCode;
use crate::calendar::Limit;
use crate::org::OrgKind;
use crate::region::{RegionCode, RegionLevel};

/// A checked programme.
#[derive(Debug, Clone)]
pub struct Programme {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub version: u32,
    /// Case numbers read `<prefix><year>-<sequence>`.
    pub number_prefix: String,
    pub roles: BTreeMap<String, RoleDef>,
    pub catalogs: BTreeMap<String, Catalog>,
    pub kinds: Vec<CaseKind>,
}

impl Programme {
    pub fn kind(&self, code: &str) -> Option<&CaseKind> {
        self.kinds.iter().find(|k| k.code == code)
    }

    /// True if `code` is in catalog `catalog`.
    pub fn in_catalog(&self, catalog: &str, code: &str) -> bool {
        self.catalogs.get(catalog).is_some_and(|c| c.items.iter().any(|item| item.code == code))
    }

    /// The name of `code` in the catalog of the enum field `def`; the code itself when the field
    /// is not an enum or the code is not in its catalog (an older value).
    pub fn enum_name<'a>(&'a self, def: &FieldDef, code: &'a str) -> &'a str {
        let FieldType::Enum { catalog } = &def.kind else { return code };
        self.catalog_name(catalog, code)
    }

    /// The name of `code` in `catalog`; the code itself when it is not there.
    pub fn catalog_name<'a>(&'a self, catalog: &str, code: &'a str) -> &'a str {
        self.catalogs.get(catalog).and_then(|c| c.items.iter().find(|i| i.code == code)).map_or(code, |i| i.name.as_str())
    }

    /// True if the role may reveal personal information.
    pub fn personal_data(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.personal_data)
    }

    /// True if the role only ever receives work and may not list, search or pick cases.
    pub fn assignment_only(&self, role: &str) -> bool {
        self.roles.get(role).is_some_and(|r| r.assignment_only)
    }
}

/// A role a programme uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDef {
    pub code: RoleCode,
    pub name: String,
    /// Reviewers and the like: they get their next assigned case and nothing else.
    pub assignment_only: bool,
    /// May reveal personal information (ID and phone numbers); each reveal is journaled.
    pub personal_data: bool,
}

/// A list of codes (categories, outcomes, reasons...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub name: String,
    pub items: Vec<CatalogItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
}

/// One kind of case with everything it needs.
#[derive(Debug, Clone)]
pub struct CaseKind {
    pub code: String,
    pub name: String,
    /// Offered through Open311 and public intake.
    pub public: bool,
    pub priorities: Vec<String>,
    pub fields: Vec<FieldDef>,
    pub states: Vec<StateDef>,
    pub initial: String,
    pub actions: Vec<ActionDef>,
    pub clocks: Vec<ClockDef>,
    pub dispatch: DispatchDef,
    pub tiers: Vec<TierDef>,
    /// The system action run when every co-handling sub-task (or the lead one) is done.
    pub on_subtasks_done: Option<String>,
    /// Clocks started at intake.
    pub start_clocks: Vec<String>,
    /// Roles that may register a case of this kind (the system and operators always may).
    pub intake_roles: Vec<RoleCode>,
    /// Opened only through the engine's own use case, never the generic API or forms.
    pub engine_intake: bool,
    /// Ledger entries rather than work (left out of work figures).
    pub ledger: bool,
    /// The intake channels a case of this kind may come through (`station`, `shared_court`,
    /// `online`, `open311`, `hotline`, `court_referral`, `referral`, `grid`...). Empty: any.
    pub channels: Vec<String>,
    /// How a case of this kind can end (agreement, no agreement, withdrawn...).
    pub outcomes: Vec<OutcomeDef>,
    /// Which fields and channels the programme's figures read.
    pub figures: FiguresDef,
    /// Documents rendered from the case (applications, agreements), as typst templates.
    pub documents: Vec<DocumentDef>,
}

/// A document a case of this kind can produce (调解申请书, 调解协议书...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentDef {
    pub code: String,
    pub name: String,
    /// The template's path in the programme directory, and its text.
    pub template: String,
    pub source: String,
    /// The states in which it can be produced; empty: any.
    pub states: Vec<String>,
}

/// One way a case can end, with what it counts as in the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeDef {
    pub code: String,
    pub name: String,
    /// The dispute was resolved (counts towards the success rate).
    pub resolved: bool,
    /// Resolved at the first line (the institution's own handling, the intake point).
    pub first_line: bool,
    /// An agreement with something to perform (followed up until performed).
    pub agreement: bool,
}

/// The fields behind a kind's figures; each names a field of the kind of the right type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FiguresDef {
    /// An enum field to break the figures down by.
    pub category: Option<String>,
    /// Money fields: the amount in dispute, agreed, paid.
    pub amount: Option<String>,
    pub agreed_amount: Option<String>,
    pub paid_amount: Option<String>,
    /// A bool field: the agreement was performed.
    pub performed: Option<String>,
    /// A date field: the agreement's performance deadline.
    pub performance_due: Option<String>,
    /// Channels counted as online (online resolution rate).
    pub online_channels: Vec<String>,
}

impl CaseKind {
    /// True if a case of this kind may come through `channel`.
    pub fn accepts_channel(&self, channel: &str) -> bool {
        self.channels.is_empty() || self.channels.iter().any(|c| c == channel)
    }

    pub fn state(&self, code: &str) -> Option<&StateDef> {
        self.states.iter().find(|s| s.code == code)
    }

    pub fn action(&self, code: &str) -> Option<&ActionDef> {
        self.actions.iter().find(|a| a.code == code)
    }

    pub fn clock(&self, stage: &str) -> Option<&ClockDef> {
        self.clocks.iter().find(|c| c.stage == stage)
    }

    pub fn document(&self, code: &str) -> Option<&DocumentDef> {
        self.documents.iter().find(|d| d.code == code)
    }

    pub fn outcome(&self, code: &str) -> Option<&OutcomeDef> {
        self.outcomes.iter().find(|o| o.code == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDef {
    pub code: String,
    pub name: String,
    pub terminal: bool,
    /// Suspension: every running clock stops counting while the case is here.
    pub pauses_clocks: bool,
}

/// Whose business an action is, beyond holding one of its roles over the case's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionScope {
    /// The role over the case's region is enough.
    Region,
    /// The actor must belong to the unit the case is assigned to.
    AssignedUnit,
    /// The actor must be the person the case is assigned to.
    Assignee,
    /// The actor must belong to a unit with an open co-handling sub-task.
    SubtaskUnit,
    /// The actor must be the one who opened the case (谁发起、谁盯办: whoever raised a warning
    /// follows it up).
    Requester,
}

/// A workflow action.
#[derive(Debug, Clone)]
pub struct ActionDef {
    pub code: String,
    pub name: String,
    /// States it may be taken from (`*` in the file: any non-terminal state).
    pub from: Vec<String>,
    /// The state it leads to; `None` keeps the state; `Some("$previous")` returns to the state
    /// before a suspension.
    pub to: Option<String>,
    pub roles: Vec<RoleCode>,
    pub scope: ActionScope,
    /// Case fields that must have a value before the action.
    pub required: Vec<String>,
    /// What the action itself collects (a reason, a rating, target units...).
    pub inputs: Vec<FieldDef>,
    pub guard: Option<Guard>,
    pub effects: Vec<Effect>,
    /// Taken only by the engine itself (automatic transitions).
    pub system: bool,
    /// The `datetime` input that says when the action really happened. Its events are
    /// journaled with that time as `occurred_at`, beside the time they were recorded.
    pub occurred_at: Option<String>,
    /// The kind's outcome the action reaches (recorded as an event when taken).
    pub outcome: Option<String>,
}

/// One point of a clock: warning, limit or red card, each counted from the clock's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockLimits {
    pub warn: Option<Limit>,
    pub limit: Limit,
    pub red: Option<Limit>,
}

/// A row of the time-limit matrix: applies when the case matches every key it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    pub region_level: Option<RegionLevel>,
    pub priority: Option<String>,
    pub limits: ClockLimits,
}

/// A stage clock (accept, handle, verify...) with its time-limit matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockDef {
    pub stage: String,
    pub name: String,
    pub default: ClockLimits,
    pub matrix: Vec<MatrixRow>,
    /// A `date` field the clock runs to (an agreement's performance deadline): its limit and red
    /// point count on from the end of that day, its warning counts back from it.
    pub until: Option<String>,
}

impl ClockDef {
    /// The limits for a case at `level` with `priority`: the most specific matching matrix row
    /// (both keys beat one key), the first in the file on a tie, else the default.
    pub fn limits_for(&self, level: RegionLevel, priority: &str) -> &ClockLimits {
        let mut best: Option<(usize, &MatrixRow)> = None;
        for row in &self.matrix {
            let matches = row.region_level.is_none_or(|l| l == level) && row.priority.as_deref().is_none_or(|p| p == priority);
            let specificity = usize::from(row.region_level.is_some()) + usize::from(row.priority.is_some());
            if matches && best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, row));
            }
        }
        best.map_or(&self.default, |(_, row)| &row.limits)
    }
}

/// How cases of a kind find their handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DispatchPolicy {
    /// A person picks the unit (or person) in the action's input.
    Manual,
    /// The unit responsible for the case's place: its town (or village, or county) unit.
    ByRegion,
    RoundRobin,
    LeastLoaded,
    /// Handlers whose skills include the case's category, then the least loaded.
    Skill,
    /// Uniformly at random among the least-loaded eligible handlers, with constraints.
    RandomBalanced,
    /// Several units at once (co-handling).
    Joint,
}

impl DispatchPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DispatchPolicy::Manual => "manual",
            DispatchPolicy::ByRegion => "by_region",
            DispatchPolicy::RoundRobin => "round_robin",
            DispatchPolicy::LeastLoaded => "least_loaded",
            DispatchPolicy::Skill => "skill",
            DispatchPolicy::RandomBalanced => "random_balanced",
            DispatchPolicy::Joint => "joint",
        }
    }

    pub fn parse(text: &str) -> Option<DispatchPolicy> {
        [
            DispatchPolicy::Manual,
            DispatchPolicy::ByRegion,
            DispatchPolicy::RoundRobin,
            DispatchPolicy::LeastLoaded,
            DispatchPolicy::Skill,
            DispatchPolicy::RandomBalanced,
            DispatchPolicy::Joint,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

/// What dispatch chooses: a unit, or a person inside a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchTarget {
    Unit,
    Person,
}

/// Dispatch settings of a kind (or of one escalation tier).
#[derive(Debug, Clone, PartialEq)]
pub struct DispatchDef {
    pub policy: DispatchPolicy,
    pub target: DispatchTarget,
    /// Eligible organisation kinds (empty: any).
    pub unit_kinds: Vec<OrgKind>,
    /// For person dispatch: the role handlers must hold.
    pub role: Option<RoleCode>,
    /// For `by_region`: the level whose unit answers first (falls back upwards).
    pub level: RegionLevel,
    /// Never a handler from the case's own county.
    pub exclude_own_county: bool,
    /// Only handlers within the case's region at this level (the same city for cross-county
    /// review within a city).
    pub within: Option<RegionLevel>,
    /// For `skill`: the field whose value handlers' skills must include.
    pub skill_field: Option<String>,
    /// An enum field whose value every eligible handler must hold among their skills (a
    /// reviewer qualified for the record's vehicle class).
    pub qualification_field: Option<String>,
    /// Cross-county shares: for a case of a source county, the target counties and their
    /// weights (`random_balanced` only).
    pub ratios: BTreeMap<RegionCode, Vec<(RegionCode, f64)>>,
    /// How much one open case of this kind weighs in a handler's load.
    pub weight: f64,
    /// How many units a joint draw chooses (1 for the other policies).
    pub count: usize,
}

/// An escalation tier (on-site → department → joint consultation).
#[derive(Debug, Clone, PartialEq)]
pub struct TierDef {
    pub code: String,
    pub name: String,
    pub limit: Limit,
    /// Moves up by itself when its limit passes.
    pub auto: bool,
    /// Dispatch for this tier; `None` keeps the handler.
    pub dispatch: Option<DispatchDef>,
}

#[cfg(test)]
pub(crate) mod tests;
