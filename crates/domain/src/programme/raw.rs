//! The programme file as written, with source positions kept for error messages.

use serde::Deserialize;
use toml::Spanned;

pub(super) type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProgramme {
    pub code: S<String>,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default = "one")]
    pub version: u32,
    pub number_prefix: S<String>,
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, S<RawRole>>,
    #[serde(default)]
    pub catalogs: std::collections::BTreeMap<String, S<RawCatalogRef>>,
    pub kinds: Vec<S<RawKind>>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRole {
    pub name: String,
    #[serde(default)]
    pub assignment_only: bool,
    #[serde(default)]
    pub personal_data: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCatalogRef {
    pub name: String,
    /// A catalog file beside programme.toml.
    pub file: Option<S<String>>,
    /// Or the items inline.
    #[serde(default)]
    pub items: Vec<S<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCatalogFile {
    /// The catalog's name (for readers of the file; programme.toml names it too).
    #[serde(default, rename = "name")]
    pub _name: Option<String>,
    pub items: Vec<S<RawItem>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawItem {
    pub code: S<String>,
    pub name: String,
    #[serde(default)]
    pub parent: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKind {
    pub code: S<String>,
    pub name: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default = "default_priorities")]
    pub priorities: Vec<S<String>>,
    pub initial: S<String>,
    #[serde(default)]
    pub fields: Vec<S<RawField>>,
    pub states: Vec<S<RawState>>,
    pub actions: Vec<S<RawAction>>,
    #[serde(default)]
    pub clocks: Vec<S<RawClock>>,
    #[serde(default)]
    pub start_clocks: Vec<S<String>>,
    #[serde(default)]
    pub intake_roles: Vec<S<String>>,
    /// Opened only by the engine's own intake (records checked against a standard, ledger
    /// entries whose amounts come from their rule), never by the generic API or forms.
    #[serde(default)]
    pub engine_intake: bool,
    /// Entries of a ledger (points, coins), not work: left out of work figures such as the
    /// governance index. Implies `engine_intake`.
    #[serde(default)]
    pub ledger: bool,
    #[serde(default)]
    pub channels: Vec<S<String>>,
    pub dispatch: Option<S<RawDispatch>>,
    #[serde(default)]
    pub tiers: Vec<S<RawTier>>,
    #[serde(default)]
    pub on_subtasks_done: Option<S<String>>,
    #[serde(default)]
    pub outcomes: Vec<S<RawOutcome>>,
    #[serde(default)]
    pub figures: Option<S<RawFigures>>,
    #[serde(default)]
    pub documents: Vec<S<RawDocument>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDocument {
    pub code: S<String>,
    pub name: String,
    /// A typst file in the programme directory.
    pub template: S<String>,
    /// States in which the document can be produced; empty: any.
    #[serde(default)]
    pub states: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutcome {
    pub code: S<String>,
    pub name: String,
    #[serde(default)]
    pub resolved: bool,
    #[serde(default)]
    pub first_line: bool,
    #[serde(default)]
    pub agreement: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFigures {
    pub category: Option<S<String>>,
    pub amount: Option<S<String>>,
    pub agreed_amount: Option<S<String>>,
    pub paid_amount: Option<S<String>>,
    pub performed: Option<S<String>>,
    pub performance_due: Option<S<String>>,
    #[serde(default)]
    pub online_channels: Vec<S<String>>,
}

fn default_priorities() -> Vec<S<String>> {
    vec![Spanned::new(0..0, "normal".to_owned())]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawField {
    pub code: S<String>,
    #[serde(rename = "type")]
    pub kind: S<String>,
    pub label: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub multiple: bool,
    #[serde(default)]
    pub personal: bool,
    /// `false`: filled later in the workflow, not asked at intake (default true).
    pub intake: Option<bool>,
    pub max_len: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    #[serde(default)]
    pub integer: bool,
    pub catalog: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawState {
    pub code: S<String>,
    pub name: String,
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub pauses_clocks: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAction {
    pub code: S<String>,
    pub name: String,
    pub from: Vec<S<String>>,
    pub to: Option<S<String>>,
    #[serde(default)]
    pub roles: Vec<S<String>>,
    #[serde(default)]
    pub scope: Option<S<String>>,
    #[serde(default)]
    pub required: Vec<S<String>>,
    #[serde(default)]
    pub inputs: Vec<S<RawField>>,
    pub guard: Option<S<String>>,
    #[serde(default)]
    pub effects: Vec<S<String>>,
    #[serde(default)]
    pub system: bool,
    /// A required `datetime` input telling when the action really happened (a mediation
    /// session held at sea, entered on return).
    pub occurred_at: Option<S<String>>,
    /// The kind's outcome this action reaches.
    pub outcome: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub warn: Option<S<String>>,
    pub limit: S<String>,
    pub red: Option<S<String>>,
    pub region_level: Option<S<String>>,
    pub priority: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawClock {
    pub stage: S<String>,
    pub name: Option<String>,
    pub warn: Option<S<String>>,
    pub limit: S<String>,
    pub red: Option<S<String>>,
    #[serde(default)]
    pub matrix: Vec<S<RawLimits>>,
    /// A date field the clock runs to: `limit` and `red` count on from the end of that day,
    /// `warn` counts back from it (a reminder before the date).
    pub until: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDispatch {
    pub policy: S<String>,
    #[serde(default)]
    pub target: Option<S<String>>,
    #[serde(default)]
    pub unit_kinds: Vec<S<String>>,
    pub role: Option<S<String>>,
    pub level: Option<S<String>>,
    #[serde(default)]
    pub exclude_own_county: bool,
    /// Only handlers within the case's region at this level (`city`: the same city).
    pub within: Option<S<String>>,
    pub skill_field: Option<S<String>>,
    /// An enum field whose value handlers must hold among their skills (a reviewer qualified
    /// for the vehicle class): a requirement, not a preference.
    pub qualification_field: Option<S<String>>,
    /// Cross-county shares: source county → {target county: weight}.
    #[serde(default)]
    pub ratios: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    pub weight: Option<f64>,
    pub count: Option<S<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub code: S<String>,
    pub name: String,
    pub limit: S<String>,
    #[serde(default)]
    pub auto: bool,
    pub dispatch: Option<S<RawDispatch>>,
}
