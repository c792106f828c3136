//! Reading and checking a programme directory. The first problem found is reported with its file,
//! line and reason; a programme with any problem is refused whole.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::raw::{RawCatalogFile, RawDispatch, RawField, RawItem, RawLimits, RawProgramme, S};
use super::{
    ActionDef, ActionScope, CaseKind, Catalog, CatalogItem, ClockDef, ClockLimits, DispatchDef, DispatchPolicy, DispatchTarget,
    Effect, FieldDef, FieldType, Guard, MatrixRow, NotifyTarget, Programme, RoleDef, StateDef, TierDef,
};
use super::{documents, outcomes};
use crate::Coded;
use crate::account::RoleCode;
use crate::calendar::Limit;
use crate::org::OrgKind;
use crate::region::{RegionCode, RegionLevel};

/// The files of one programme directory, by path relative to it (`programme.toml`,
/// `catalogs/category.toml`...). `dir` names the directory in messages.
#[derive(Debug, Clone)]
pub struct ProgrammeFiles<'a> {
    pub dir: String,
    pub files: BTreeMap<String, &'a [u8]>,
}

/// A problem in a programme definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {reason}")]
pub struct ProgrammeError {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl Coded for ProgrammeError {
    fn code(&self) -> &'static str {
        "programme_invalid"
    }
    fn field(&self) -> Option<String> {
        Some(format!("{}:{}", self.file, self.line))
    }
}

/// Error reporting for one file.
pub(super) struct Source<'a> {
    pub(super) path: String,
    pub(super) text: &'a str,
}

impl Source<'_> {
    pub(super) fn line(&self, span: &Range<usize>) -> usize {
        self.text[..span.start.min(self.text.len())].bytes().filter(|b| *b == b'\n').count() + 1
    }

    pub(super) fn err<T>(&self, span: Range<usize>, reason: impl Into<String>) -> Result<T, ProgrammeError> {
        Err(ProgrammeError { file: self.path.clone(), line: self.line(&span), reason: reason.into() })
    }

    fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, ProgrammeError> {
        toml::from_str(self.text).map_err(|e| ProgrammeError {
            file: self.path.clone(),
            line: e.span().map_or(1, |span| self.line(&span)),
            reason: e.message().to_owned(),
        })
    }
}

pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && text.len() <= 40
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(super) fn identifier(src: &Source<'_>, value: &S<String>, what: &str) -> Result<String, ProgrammeError> {
    if is_identifier(value.get_ref()) {
        Ok(value.get_ref().clone())
    } else {
        src.err(
            value.span(),
            format!("{what} {:?} must be lower-case letters, digits and _, starting with a letter", value.get_ref()),
        )
    }
}

fn limit(src: &Source<'_>, value: &S<String>) -> Result<Limit, ProgrammeError> {
    Limit::parse(value.get_ref()).or_else(|e| src.err(value.span(), e.to_string()))
}

/// Loads and checks a programme.
pub fn load_programme(files: &ProgrammeFiles<'_>) -> Result<Programme, ProgrammeError> {
    let main_path = format!("{}/programme.toml", files.dir);
    let main_bytes = files.files.get("programme.toml").ok_or_else(|| ProgrammeError {
        file: main_path.clone(),
        line: 1,
        reason: "the programme directory has no programme.toml".into(),
    })?;
    let text = std::str::from_utf8(main_bytes).map_err(|e| ProgrammeError {
        file: main_path.clone(),
        line: 1,
        reason: format!("not UTF-8: {e}"),
    })?;
    let src = Source { path: main_path, text };
    let raw: RawProgramme = src.parse()?;

    let code = identifier(&src, &raw.code, "programme code")?;
    let prefix = raw.number_prefix.get_ref();
    if prefix.is_empty() || prefix.len() > 12 || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return src.err(raw.number_prefix.span(), "number_prefix must be 1 to 12 letters, digits or -");
    }

    let mut roles = BTreeMap::new();
    for (name, role) in &raw.roles {
        let code = RoleCode::parse(name).or_else(|e| src.err(role.span(), e.to_string()))?;
        roles.insert(
            name.clone(),
            RoleDef {
                code,
                name: role.get_ref().name.clone(),
                assignment_only: role.get_ref().assignment_only,
                personal_data: role.get_ref().personal_data,
            },
        );
    }

    let mut catalogs = BTreeMap::new();
    for (name, reference) in &raw.catalogs {
        if !is_identifier(name) {
            return src.err(reference.span(), format!("catalog name {name:?} must be lower-case letters, digits and _"));
        }
        catalogs.insert(name.clone(), load_catalog(files, &src, reference)?);
    }

    let mut kinds = Vec::new();
    for raw_kind in &raw.kinds {
        let mut kind = load_kind(&src, raw_kind, &roles, &catalogs)?;
        kind.documents = documents::load_documents(&src, files, &raw_kind.get_ref().documents, &kind)?;
        if kinds.iter().any(|k: &CaseKind| k.code == kind.code) {
            return src.err(raw_kind.get_ref().code.span(), format!("case kind {} is defined twice", kind.code));
        }
        kinds.push(kind);
    }
    if kinds.is_empty() {
        return src.err(0..0, "a programme needs at least one [[kinds]]");
    }
    Ok(Programme {
        code,
        name: raw.name,
        name_en: raw.name_en,
        version: raw.version,
        number_prefix: prefix.clone(),
        roles,
        catalogs,
        kinds,
    })
}

fn load_catalog(
    files: &ProgrammeFiles<'_>,
    src: &Source<'_>,
    reference: &S<super::raw::RawCatalogRef>,
) -> Result<Catalog, ProgrammeError> {
    let raw = reference.get_ref();
    let (items, item_src): (Vec<S<RawItem>>, Source<'_>) = match &raw.file {
        Some(file) => {
            let bytes = files.files.get(file.get_ref().as_str()).ok_or_else(|| ProgrammeError {
                file: src.path.clone(),
                line: src.line(&file.span()),
                reason: format!("catalog file {} is not in the programme directory", file.get_ref()),
            })?;
            let path = format!("{}/{}", files.dir, file.get_ref());
            let text = std::str::from_utf8(bytes).map_err(|e| ProgrammeError {
                file: path.clone(),
                line: 1,
                reason: format!("not UTF-8: {e}"),
            })?;
            let file_src = Source { path, text };
            let parsed: RawCatalogFile = file_src.parse()?;
            (parsed.items, file_src)
        }
        None => (
            raw.items.iter().map(|i| S::new(i.span(), clone_item(i.get_ref()))).collect(),
            Source { path: src.path.clone(), text: src.text },
        ),
    };
    if items.is_empty() {
        return src.err(reference.span(), format!("catalog {} has no items", raw.name));
    }
    let mut out: Vec<CatalogItem> = Vec::new();
    for item in &items {
        let item_ref = item.get_ref();
        let code = identifier(&item_src, &item_ref.code, "catalog code")?;
        if out.iter().any(|i| i.code == code) {
            return item_src.err(item_ref.code.span(), format!("catalog code {code} appears twice"));
        }
        out.push(CatalogItem {
            code,
            name: item_ref.name.clone(),
            parent: item_ref.parent.as_ref().map(|p| p.get_ref().clone()),
        });
    }
    for item in &items {
        if let Some(parent) = &item.get_ref().parent
            && !out.iter().any(|i| &i.code == parent.get_ref())
        {
            return item_src.err(parent.span(), format!("parent {} is not in the catalog", parent.get_ref()));
        }
    }
    Ok(Catalog { name: raw.name.clone(), items: out })
}

fn clone_item(item: &RawItem) -> RawItem {
    RawItem {
        code: S::new(item.code.span(), item.code.get_ref().clone()),
        name: item.name.clone(),
        parent: item.parent.as_ref().map(|p| S::new(p.span(), p.get_ref().clone())),
    }
}

fn load_field(src: &Source<'_>, raw: &S<RawField>, catalogs: &BTreeMap<String, Catalog>) -> Result<FieldDef, ProgrammeError> {
    let f = raw.get_ref();
    let code = identifier(src, &f.code, "field code")?;
    let kind = match f.kind.get_ref().as_str() {
        "text" => FieldType::Text { max_len: f.max_len.unwrap_or(500) },
        "number" => FieldType::Number { min: f.min, max: f.max, integer: f.integer },
        "money" => FieldType::Money {
            min_fen: f.min.map(|m| (m * 100.0).round() as i64),
            max_fen: f.max.map(|m| (m * 100.0).round() as i64),
        },
        "date" => FieldType::Date,
        "datetime" => FieldType::DateTime,
        "enum" => {
            let catalog = f
                .catalog
                .as_ref()
                .map_or_else(|| src.err(raw.span(), format!("enum field {code} needs catalog = \"...\"")), Ok)?;
            if !catalogs.contains_key(catalog.get_ref()) {
                return src.err(catalog.span(), format!("catalog {} is not defined in [catalogs]", catalog.get_ref()));
            }
            FieldType::Enum { catalog: catalog.get_ref().clone() }
        }
        "bool" => FieldType::Bool,
        "region" => FieldType::Region,
        "location" => FieldType::Location,
        "party" => FieldType::Party,
        "attachment" => FieldType::Attachment,
        "org" => FieldType::Org,
        "json" => FieldType::Json { max_len: f.max_len.unwrap_or(65_536) },
        other => {
            return src.err(
                f.kind.span(),
                format!(
                    "field type {other:?} is not one of text, number, money, date, datetime, enum, bool, region, location, party, attachment, org, json"
                ),
            );
        }
    };
    if let (Some(min), Some(max)) = (f.min, f.max)
        && min > max
    {
        return src.err(raw.span(), format!("field {code}: min {min} is above max {max}"));
    }
    // Structured data comes from a machine interface, never from a form.
    let machine = matches!(kind, FieldType::Json { .. });
    if machine && f.intake == Some(true) {
        return src.err(raw.span(), format!("field {code}: a json field cannot be asked at intake"));
    }
    let intake = f.intake.unwrap_or(!machine);
    if f.required && !intake && !machine {
        return src.err(raw.span(), format!("field {code}: a required field must be asked at intake"));
    }
    Ok(FieldDef {
        label: f.label.clone().unwrap_or_else(|| code.clone()),
        code,
        kind,
        required: f.required,
        multiple: f.multiple,
        personal: f.personal,
        intake,
    })
}

fn load_limits(
    src: &Source<'_>,
    warn: Option<&S<String>>,
    limit_text: &S<String>,
    red: Option<&S<String>>,
    warn_counts_back: bool,
) -> Result<ClockLimits, ProgrammeError> {
    let limits = ClockLimits {
        warn: warn.map(|w| limit(src, w)).transpose()?,
        limit: limit(src, limit_text)?,
        red: red.map(|r| limit(src, r)).transpose()?,
    };
    let same_unit = |a: &Limit, b: &Limit| a.unit == b.unit;
    // A clock running to a date warns before the date: its warning and limit do not compare.
    if let Some(w) = &limits.warn
        && !warn_counts_back
        && same_unit(w, &limits.limit)
        && w.amount >= limits.limit.amount
    {
        return src.err(limit_text.span(), format!("the warning ({w}) must come before the limit ({})", limits.limit));
    }
    if let Some(r) = &limits.red
        && same_unit(r, &limits.limit)
        && r.amount <= limits.limit.amount
    {
        return src.err(limit_text.span(), format!("the red card ({r}) must come after the limit ({})", limits.limit));
    }
    Ok(limits)
}

fn region_level(src: &Source<'_>, value: &S<String>) -> Result<RegionLevel, ProgrammeError> {
    match value.get_ref().as_str() {
        "province" => Ok(RegionLevel::Province),
        "city" => Ok(RegionLevel::City),
        "county" => Ok(RegionLevel::County),
        "town" => Ok(RegionLevel::Town),
        "village" => Ok(RegionLevel::Village),
        other => src.err(value.span(), format!("region level {other:?} is not province, city, county, town or village")),
    }
}

fn load_dispatch(
    src: &Source<'_>,
    raw: &S<RawDispatch>,
    roles: &BTreeMap<String, RoleDef>,
    fields: &[FieldDef],
) -> Result<DispatchDef, ProgrammeError> {
    let d = raw.get_ref();
    let policy = DispatchPolicy::parse(d.policy.get_ref()).map_or_else(
        || {
            src.err(
                d.policy.span(),
                format!(
                    "dispatch policy {:?} is not manual, by_region, round_robin, least_loaded, skill, random_balanced or joint",
                    d.policy.get_ref()
                ),
            )
        },
        Ok,
    )?;
    let target = match d.target.as_ref().map(|t| t.get_ref().as_str()) {
        None | Some("unit") => DispatchTarget::Unit,
        Some("person") => DispatchTarget::Person,
        Some(other) => {
            return src
                .err(d.target.as_ref().map_or(raw.span(), S::span), format!("dispatch target {other:?} is not unit or person"));
        }
    };
    let role = match &d.role {
        None => None,
        Some(role) => {
            if !roles.contains_key(role.get_ref()) {
                return src.err(role.span(), format!("role {} is not declared in [roles]", role.get_ref()));
            }
            Some(RoleCode::parse(role.get_ref()).or_else(|e| src.err(role.span(), e.to_string()))?)
        }
    };
    if target == DispatchTarget::Person && role.is_none() {
        return src.err(raw.span(), "person dispatch needs the role handlers hold (role = \"...\")");
    }
    let mut unit_kinds = Vec::new();
    for kind in &d.unit_kinds {
        unit_kinds.push(
            OrgKind::parse(kind.get_ref())
                .map_or_else(|| src.err(kind.span(), format!("organisation kind {:?} is not known", kind.get_ref())), Ok)?,
        );
    }
    let skill_field = match &d.skill_field {
        None if policy == DispatchPolicy::Skill => return src.err(raw.span(), "skill dispatch needs skill_field = \"<field>\""),
        None => None,
        Some(field) => {
            if !fields.iter().any(|f| &f.code == field.get_ref()) {
                return src.err(field.span(), format!("skill_field {} is not a field of the kind", field.get_ref()));
            }
            Some(field.get_ref().clone())
        }
    };
    let qualification_field = match &d.qualification_field {
        None => None,
        Some(field) => match fields.iter().find(|f| &f.code == field.get_ref()) {
            Some(f) if matches!(f.kind, FieldType::Enum { .. }) && f.required => Some(field.get_ref().clone()),
            Some(_) => {
                return src.err(field.span(), format!("qualification_field {} must be a required enum field", field.get_ref()));
            }
            None => return src.err(field.span(), format!("qualification_field {} is not a field of the kind", field.get_ref())),
        },
    };
    let mut ratios = BTreeMap::new();
    for (source, targets) in &d.ratios {
        let county = |code: &str| {
            RegionCode::parse(code)
                .ok()
                .filter(|c| c.level() == RegionLevel::County)
                .map_or_else(|| src.err(raw.span(), format!("ratios: {code:?} is not a county code (6 digits)")), Ok)
        };
        if policy != DispatchPolicy::RandomBalanced {
            return src.err(raw.span(), "ratios apply only to random_balanced dispatch");
        }
        let from = county(source)?;
        let mut shares = Vec::new();
        for (target, weight) in targets {
            let to = county(target)?;
            if to == from {
                return src.err(raw.span(), format!("ratios: county {source} cannot send its own records to itself"));
            }
            if !(weight.is_finite() && *weight > 0.0) {
                return src.err(raw.span(), format!("ratios: the weight of {source} → {target} must be above 0"));
            }
            shares.push((to, *weight));
        }
        ratios.insert(from, shares);
    }
    let weight = d.weight.unwrap_or(1.0);
    if !(weight > 0.0 && weight <= 1000.0) {
        return src.err(raw.span(), format!("dispatch weight {weight} must be above 0 and at most 1000"));
    }
    let count = match &d.count {
        None => {
            if policy == DispatchPolicy::Joint {
                2
            } else {
                1
            }
        }
        Some(n) if policy != DispatchPolicy::Joint => return src.err(n.span(), "count applies only to joint dispatch"),
        Some(n) if (2..=20).contains(n.get_ref()) => *n.get_ref() as usize,
        Some(n) => return src.err(n.span(), format!("joint dispatch count {} must be 2 to 20", n.get_ref())),
    };
    Ok(DispatchDef {
        policy,
        target,
        count,
        unit_kinds,
        role,
        level: d.level.as_ref().map(|l| region_level(src, l)).transpose()?.unwrap_or(RegionLevel::Town),
        exclude_own_county: d.exclude_own_county,
        within: d.within.as_ref().map(|l| region_level(src, l)).transpose()?,
        skill_field,
        qualification_field,
        ratios,
        weight,
    })
}

/// The input field an effect reads, its type and whether it must be a list.
fn effect_needs(effect: &Effect) -> Option<(&'static str, &'static str, bool)> {
    match effect {
        Effect::Transfer => Some(("to_unit", "org", false)),
        Effect::Return => Some(("reason", "text", false)),
        Effect::CoHandle { .. } => Some(("units", "org", true)),
        Effect::CompleteSubtask => Some(("result", "text", false)),
        Effect::Rate => Some(("rating", "number", false)),
        Effect::Supervise => Some(("note", "text", false)),
        _ => None,
    }
}

fn load_kind(
    src: &Source<'_>,
    raw: &S<super::raw::RawKind>,
    roles: &BTreeMap<String, RoleDef>,
    catalogs: &BTreeMap<String, Catalog>,
) -> Result<CaseKind, ProgrammeError> {
    let k = raw.get_ref();
    let code = identifier(src, &k.code, "case kind code")?;

    let mut priorities = Vec::new();
    for p in &k.priorities {
        let name = identifier(src, p, "priority")?;
        if priorities.contains(&name) {
            return src.err(p.span(), format!("priority {name} appears twice"));
        }
        priorities.push(name);
    }

    let mut fields = Vec::new();
    for f in &k.fields {
        let field = load_field(src, f, catalogs)?;
        if fields.iter().any(|x: &FieldDef| x.code == field.code)
            || ["state", "priority", "region", "tier", "reopened"].contains(&field.code.as_str())
        {
            return src.err(
                f.get_ref().code.span(),
                format!("field {} is defined twice or shadows a built-in case property", field.code),
            );
        }
        fields.push(field);
    }

    let mut states: Vec<StateDef> = Vec::new();
    for s in &k.states {
        let state = s.get_ref();
        let code = identifier(src, &state.code, "state code")?;
        if states.iter().any(|x| x.code == code) {
            return src.err(state.code.span(), format!("state {code} is defined twice"));
        }
        states.push(StateDef { code, name: state.name.clone(), terminal: state.terminal, pauses_clocks: state.pauses_clocks });
    }
    let initial = k.initial.get_ref().clone();
    if !states.iter().any(|s| s.code == initial) {
        return src.err(k.initial.span(), format!("initial state {initial} is not defined"));
    }
    if !states.iter().any(|s| s.terminal) {
        return src.err(raw.span(), format!("case kind {code} has no terminal state: cases could never close"));
    }

    let mut clocks: Vec<ClockDef> = Vec::new();
    for c in &k.clocks {
        let clock = c.get_ref();
        let stage = identifier(src, &clock.stage, "clock stage")?;
        if clocks.iter().any(|x| x.stage == stage) {
            return src.err(clock.stage.span(), format!("clock {stage} is defined twice"));
        }
        let back = clock.until.is_some();
        let default = load_limits(src, clock.warn.as_ref(), &clock.limit, clock.red.as_ref(), back)?;
        let mut matrix = Vec::new();
        for row in &clock.matrix {
            let r: &RawLimits = row.get_ref();
            if r.region_level.is_none() && r.priority.is_none() {
                return src.err(row.span(), "a matrix row needs region_level, priority or both");
            }
            let priority = match &r.priority {
                None => None,
                Some(p) if priorities.contains(p.get_ref()) => Some(p.get_ref().clone()),
                Some(p) => return src.err(p.span(), format!("priority {} is not one of the kind's priorities", p.get_ref())),
            };
            matrix.push(MatrixRow {
                region_level: r.region_level.as_ref().map(|l| region_level(src, l)).transpose()?,
                priority,
                limits: load_limits(src, r.warn.as_ref(), &r.limit, r.red.as_ref(), back)?,
            });
        }
        let until = match &clock.until {
            None => None,
            Some(field) => {
                let def = fields.iter().find(|f: &&FieldDef| f.code == *field.get_ref());
                if def.is_none_or(|f| f.kind != FieldType::Date || f.multiple) {
                    return src.err(
                        field.span(),
                        format!("clock {stage}: until names {:?}, which must be a date field", field.get_ref()),
                    );
                }
                // A reminder before a date counts back in plain time: working days have no inverse here.
                let backwards = std::iter::once(&default).chain(matrix.iter().map(|r| &r.limits));
                if backwards.filter_map(|l| l.warn).any(|w| w.unit.is_working()) {
                    return src.err(c.span(), format!("clock {stage}: a warning before a date is in d or h, not working time"));
                }
                Some(field.get_ref().clone())
            }
        };
        clocks.push(ClockDef { name: clock.name.clone().unwrap_or_else(|| stage.clone()), stage, default, matrix, until });
    }
    let clock_exists = |stage: &str| clocks.iter().any(|c| c.stage == stage);
    let mut start_clocks = Vec::new();
    for stage in &k.start_clocks {
        if !clock_exists(stage.get_ref()) {
            return src.err(stage.span(), format!("clock {} is not defined in [[kinds.clocks]]", stage.get_ref()));
        }
        start_clocks.push(stage.get_ref().clone());
    }

    let mut intake_roles = Vec::new();
    for role in &k.intake_roles {
        if !roles.contains_key(role.get_ref()) {
            return src.err(role.span(), format!("intake role {} is not declared in [roles]", role.get_ref()));
        }
        intake_roles.push(RoleCode::parse(role.get_ref()).or_else(|e| src.err(role.span(), e.to_string()))?);
    }

    let mut channels: Vec<String> = Vec::new();
    for channel in &k.channels {
        let code = channel.get_ref();
        if !is_identifier(code) || code.len() > 32 {
            return src.err(channel.span(), format!("channel {code:?} must be an identifier of at most 32 characters"));
        }
        if channels.contains(code) {
            return src.err(channel.span(), format!("channel {code} is listed twice"));
        }
        channels.push(code.clone());
    }
    // Open311 registers its requests through the `open311` channel.
    if k.public && !channels.is_empty() && !channels.iter().any(|c| c == "open311") {
        let span = k.channels.first().map(S::span).unwrap_or_default();
        return src.err(span, "a public kind that lists its channels must list open311");
    }

    let outcomes = outcomes::load_outcomes(src, &k.outcomes)?;
    let figures = outcomes::load_figures(src, k.figures.as_ref(), &fields, &channels)?;

    let dispatch = match &k.dispatch {
        Some(d) => load_dispatch(src, d, roles, &fields)?,
        None => DispatchDef {
            policy: DispatchPolicy::Manual,
            target: DispatchTarget::Unit,
            unit_kinds: Vec::new(),
            role: None,
            level: RegionLevel::Town,
            exclude_own_county: false,
            within: None,
            skill_field: None,
            qualification_field: None,
            ratios: BTreeMap::new(),
            weight: 1.0,
            count: 1,
        },
    };

    let mut tiers: Vec<TierDef> = Vec::new();
    for t in &k.tiers {
        let tier = t.get_ref();
        let tier_code = identifier(src, &tier.code, "tier code")?;
        if tiers.iter().any(|x| x.code == tier_code) {
            return src.err(tier.code.span(), format!("tier {tier_code} is defined twice"));
        }
        tiers.push(TierDef {
            code: tier_code,
            name: tier.name.clone(),
            limit: limit(src, &tier.limit)?,
            auto: tier.auto,
            dispatch: tier.dispatch.as_ref().map(|d| load_dispatch(src, d, roles, &fields)).transpose()?,
        });
    }

    let state_names: BTreeSet<&str> = states.iter().map(|s| s.code.as_str()).collect();
    let has_suspension = states.iter().any(|s| s.pauses_clocks);
    let mut actions: Vec<ActionDef> = Vec::new();
    for a in &k.actions {
        let action = a.get_ref();
        let action_code = identifier(src, &action.code, "action code")?;
        if actions.iter().any(|x| x.code == action_code) {
            return src.err(action.code.span(), format!("action {action_code} is defined twice"));
        }
        let mut from = Vec::new();
        for state in &action.from {
            if state.get_ref() == "*" {
                from.extend(states.iter().filter(|s| !s.terminal).map(|s| s.code.clone()));
            } else if state_names.contains(state.get_ref().as_str()) {
                from.push(state.get_ref().clone());
            } else {
                return src.err(state.span(), format!("action {action_code}: from-state {} is not defined", state.get_ref()));
            }
        }
        if from.is_empty() {
            return src.err(action.code.span(), format!("action {action_code} has no from-states"));
        }
        let to = match &action.to {
            None => None,
            Some(to) if to.get_ref() == "$previous" => {
                if !has_suspension {
                    return src.err(to.span(), "$previous returns from a suspension, but no state pauses clocks");
                }
                Some(to.get_ref().clone())
            }
            Some(to) if state_names.contains(to.get_ref().as_str()) => Some(to.get_ref().clone()),
            Some(to) => return src.err(to.span(), format!("action {action_code}: to-state {} is not defined", to.get_ref())),
        };
        let mut action_roles = Vec::new();
        for role in &action.roles {
            if !roles.contains_key(role.get_ref()) {
                return src.err(role.span(), format!("action {action_code}: role {} is not declared in [roles]", role.get_ref()));
            }
            action_roles.push(RoleCode::parse(role.get_ref()).or_else(|e| src.err(role.span(), e.to_string()))?);
        }
        if action_roles.is_empty() && !action.system {
            return src.err(
                action.code.span(),
                format!("action {action_code} names no roles and is not a system action: nobody could take it"),
            );
        }
        let scope = match action.scope.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("region") => ActionScope::Region,
            Some("assigned_unit") => ActionScope::AssignedUnit,
            Some("assignee") => ActionScope::Assignee,
            Some("subtask_unit") => ActionScope::SubtaskUnit,
            Some("requester") => ActionScope::Requester,
            Some(other) => {
                return src.err(
                    action.scope.as_ref().map_or(a.span(), S::span),
                    format!("scope {other:?} is not region, assigned_unit, assignee, subtask_unit or requester"),
                );
            }
        };
        let mut required = Vec::new();
        for field in &action.required {
            if !fields.iter().any(|f| &f.code == field.get_ref()) {
                return src.err(
                    field.span(),
                    format!("action {action_code}: required field {} is not a field of the kind", field.get_ref()),
                );
            }
            required.push(field.get_ref().clone());
        }
        let mut inputs: Vec<FieldDef> = Vec::new();
        for input in &action.inputs {
            let field = load_field(src, input, catalogs)?;
            if inputs.iter().any(|x| x.code == field.code) {
                return src.err(input.get_ref().code.span(), format!("input {} is defined twice", field.code));
            }
            // An input named like a case field updates that field, so it must have its type.
            if let Some(case_field) = fields.iter().find(|f| f.code == field.code)
                && (case_field.kind != field.kind || case_field.multiple != field.multiple)
            {
                return src.err(
                    input.get_ref().kind.span(),
                    format!("input {} updates the case field of that name and must have its type", field.code),
                );
            }
            inputs.push(field);
        }
        let guard = match &action.guard {
            None => None,
            Some(text) => {
                let guard =
                    Guard::compile(text.get_ref()).or_else(|e| src.err(text.span(), format!("guard does not compile: {e}")))?;
                Some(guard)
            }
        };
        let mut effects = Vec::new();
        for e in &action.effects {
            let effect =
                Effect::parse(e.get_ref()).or_else(|reason| src.err(e.span(), format!("action {action_code}: {reason}")))?;
            match &effect {
                Effect::StartClock(stage) | Effect::StopClock(stage) | Effect::RestartClock(stage) if !clock_exists(stage) => {
                    return src.err(e.span(), format!("action {action_code}: clock {stage} is not defined"));
                }
                Effect::Notify(NotifyTarget::Role(role)) if !roles.contains_key(role) => {
                    return src.err(e.span(), format!("action {action_code}: role {role} is not declared in [roles]"));
                }
                Effect::Escalate | Effect::StartTiers if tiers.is_empty() => {
                    return src.err(e.span(), format!("action {action_code}: escalate needs [[kinds.tiers]]"));
                }
                Effect::Dispatch { policy: Some(p) } if DispatchPolicy::parse(p).is_none() => {
                    return src.err(e.span(), format!("action {action_code}: dispatch policy {p:?} is not known"));
                }
                _ => {}
            }
            if let Some((input, kind, multiple)) = effect_needs(&effect) {
                let found = inputs.iter().find(|f| f.code == input);
                if found.is_none_or(|f| f.kind.name() != kind || f.multiple != multiple || !f.required) {
                    let list = if multiple { ", multiple = true" } else { "" };
                    return src.err(
                        e.span(),
                        format!("action {action_code}: effect {effect} needs a required input {{ code = \"{input}\", type = \"{kind}\"{list} }}"),
                    );
                }
                if effect == Effect::Rate
                    && found
                        .is_some_and(|f| !matches!(f.kind, FieldType::Number { min: Some(1.0), max: Some(5.0), integer: true }))
                {
                    return src.err(
                        e.span(),
                        format!("action {action_code}: the rating input must be an integer number with min = 1 and max = 5"),
                    );
                }
            }
            effects.push(effect);
        }
        let occurred_at = match &action.occurred_at {
            None => None,
            Some(code) => {
                let input = inputs.iter().find(|f| f.code == *code.get_ref());
                if input.is_none_or(|f| f.kind != FieldType::DateTime || f.multiple || !f.required) {
                    return src.err(
                        code.span(),
                        format!(
                            "action {action_code}: occurred_at names {:?}, which must be a required datetime input",
                            code.get_ref()
                        ),
                    );
                }
                Some(code.get_ref().clone())
            }
        };
        let outcome = outcomes::action_outcome(src, action.outcome.as_ref(), &outcomes, &action_code)?;
        actions.push(ActionDef {
            code: action_code,
            name: action.name.clone(),
            from,
            to,
            roles: action_roles,
            scope,
            required,
            inputs,
            guard,
            effects,
            system: action.system,
            occurred_at,
            outcome,
        });
    }

    // Every state but the initial one must be reachable, or it is a mistake.
    for (state, raw_state) in states.iter().zip(&k.states) {
        let reachable = state.code == initial || actions.iter().any(|a| a.to.as_deref() == Some(state.code.as_str()));
        if !reachable {
            return src.err(raw_state.get_ref().code.span(), format!("state {} cannot be reached by any action", state.code));
        }
    }

    let on_subtasks_done = match &k.on_subtasks_done {
        None => None,
        Some(name) => {
            match actions.iter().find(|a| &a.code == name.get_ref()) {
                Some(a) if a.system => {}
                Some(_) => {
                    return src.err(
                        name.span(),
                        format!("on_subtasks_done action {} must be a system action (system = true)", name.get_ref()),
                    );
                }
                None => return src.err(name.span(), format!("on_subtasks_done action {} is not defined", name.get_ref())),
            }
            Some(name.get_ref().clone())
        }
    };
    let joint = dispatch.policy == DispatchPolicy::Joint
        || tiers.iter().any(|t| t.dispatch.as_ref().is_some_and(|d| d.policy == DispatchPolicy::Joint))
        || actions.iter().flat_map(|a| &a.effects).any(|e| matches!(e, Effect::Dispatch { policy: Some(p) } if p == "joint"));
    let cohandles = actions.iter().any(|a| a.effects.iter().any(|e| matches!(e, Effect::CoHandle { .. })));
    if (cohandles || joint) && on_subtasks_done.is_none() {
        return src.err(raw.span(), format!("case kind {code} opens co-handling sub-tasks but sets no on_subtasks_done action"));
    }
    // A manual dispatch takes the unit from the action's input, so the input must be there.
    let tiers_draw = tiers.iter().any(|t| t.dispatch.is_some());
    for (action, raw_action) in actions.iter().zip(&k.actions) {
        let manual = action.effects.iter().position(|e| match e {
            Effect::Dispatch { policy: Some(p) } => p == "manual",
            Effect::Dispatch { policy: None } => dispatch.policy == DispatchPolicy::Manual && !tiers_draw,
            _ => false,
        });
        let has_unit = action.inputs.iter().any(|f| f.code == "to_unit" && f.kind.name() == "org" && f.required && !f.multiple);
        if let Some(at) = manual
            && !has_unit
        {
            return src.err(
                raw_action.get_ref().effects.get(at).map_or(raw_action.span(), S::span),
                format!(
                    "action {}: a manual dispatch needs a required input {{ code = \"to_unit\", type = \"org\" }}",
                    action.code
                ),
            );
        }
    }

    Ok(CaseKind {
        code,
        name: k.name.clone(),
        public: k.public,
        priorities,
        fields,
        states,
        initial,
        actions,
        clocks,
        dispatch,
        tiers,
        on_subtasks_done,
        start_clocks,
        intake_roles,
        engine_intake: k.engine_intake || k.ledger,
        ledger: k.ledger,
        channels,
        outcomes,
        figures,
        documents: Vec::new(),
    })
}
