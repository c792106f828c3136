//! The mapping file of `fengqiao import cases`: how the columns of another system's export
//! become a programme's cases. Checked whole against the programme and the file's header
//! before any row is read, so a wrong mapping imports nothing. docs/IMPORT.md describes it.

use std::collections::BTreeMap;

use fq_domain::programme::{CaseKind, FieldType, Programme};
use fq_domain::region::RegionCode;
use serde::Deserialize;

use crate::error::EngineError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    name: String,
    source: String,
    kind: String,
    region: String,
    /// Our name of a column → its header in the file (the first one the file has is used).
    columns: BTreeMap<String, Vec<String>>,
    case: RawCase,
    #[serde(default)]
    fields: BTreeMap<String, ValueSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    external_id: ValueSpec,
    opened_at: ValueSpec,
    closed_at: Option<ValueSpec>,
    channel: ValueSpec,
    state: ValueSpec,
    outcome: Option<ValueSpec>,
    on_time: Option<ValueSpec>,
}

/// Where one value comes from: a column, a template over columns, a constant, or rules; then
/// optionally translated by `map`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    pub column: Option<String>,
    /// Text with `{column}` placeholders.
    pub template: Option<String>,
    pub value: Option<String>,
    /// The first rule whose every `when` column equals its text gives the value.
    pub rules: Option<Vec<Rule>>,
    /// Source text → our code; a text not listed is a bad row unless `otherwise` is given.
    pub map: Option<BTreeMap<String, String>>,
    pub otherwise: Option<String>,
    /// An empty cell gives no value instead of a bad row.
    #[serde(default)]
    pub optional: bool,
    /// chrono formats for dates and times; a date alone is midnight Beijing time.
    #[serde(default)]
    pub formats: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    pub when: BTreeMap<String, String>,
    pub value: String,
}

/// A checked mapping, its columns resolved to positions in the file.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    pub source: String,
    pub kind: String,
    pub region: RegionCode,
    /// Our column name → (index in the row, header in the file).
    pub columns: BTreeMap<String, (usize, String)>,
    pub external_id: ValueSpec,
    pub opened_at: ValueSpec,
    pub closed_at: Option<ValueSpec>,
    pub channel: ValueSpec,
    pub state: ValueSpec,
    pub outcome: Option<ValueSpec>,
    pub on_time: Option<ValueSpec>,
    pub fields: BTreeMap<String, ValueSpec>,
}

fn invalid(key: &str, message: impl Into<String>) -> EngineError {
    EngineError::field("mapping_invalid", key, message)
}

impl Mapping {
    /// Parses `text` (the mapping file `file`) and checks it against `programme` and the
    /// file's `headers`.
    pub fn parse(file: &str, text: &str, programme: &Programme, headers: &[String]) -> Result<Mapping, EngineError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            invalid(&format!("{file}:{line}"), e.message().to_owned())
        })?;
        let kind = programme
            .kind(&raw.kind)
            .ok_or_else(|| invalid("kind", format!("case kind {} is not defined in {}", raw.kind, programme.code)))?;
        let region = RegionCode::parse(raw.region.trim()).map_err(|e| invalid("region", e.to_string()))?;
        if raw.source.trim().is_empty() || raw.source.len() > 40 {
            return Err(invalid("source", "source must be 1 to 40 characters"));
        }
        let mut columns = BTreeMap::new();
        for (ours, names) in &raw.columns {
            let found = names.iter().find_map(|n| headers.iter().position(|h| h.trim() == n.as_str()).map(|i| (i, n.clone())));
            match found {
                Some(hit) => columns.insert(ours.clone(), hit),
                None => {
                    return Err(invalid(
                        &format!("columns.{ours}"),
                        format!("the file has none of the headers {names:?}; its headers are {headers:?}"),
                    ));
                }
            };
        }
        let check = Checker { columns: &columns, kind, programme };
        let c = &raw.case;
        check.spec("case.external_id", &c.external_id, &Target::Text)?;
        check.spec("case.opened_at", &c.opened_at, &Target::Time)?;
        if let Some(spec) = &c.closed_at {
            check.spec("case.closed_at", spec, &Target::Time)?;
        }
        check.spec("case.channel", &c.channel, &Target::Channel)?;
        check.spec("case.state", &c.state, &Target::State)?;
        if let Some(spec) = &c.outcome {
            check.spec("case.outcome", spec, &Target::Outcome)?;
        }
        if let Some(spec) = &c.on_time {
            check.spec("case.on_time", spec, &Target::Bool)?;
        }
        for (field, spec) in &raw.fields {
            let def = kind
                .fields
                .iter()
                .find(|f| f.code == *field)
                .ok_or_else(|| invalid(&format!("fields.{field}"), format!("{} has no field {field}", kind.code)))?;
            let target = match &def.kind {
                FieldType::Enum { catalog } => Target::Catalog(catalog.clone()),
                FieldType::Bool => Target::Bool,
                _ => Target::Text,
            };
            check.spec(&format!("fields.{field}"), spec, &target)?;
        }
        for required in kind.fields.iter().filter(|f| f.required) {
            if !raw.fields.contains_key(&required.code) {
                return Err(invalid(
                    "fields",
                    format!("the required field {} ({}) is not mapped", required.code, required.label),
                ));
            }
        }
        Ok(Mapping {
            name: raw.name,
            source: raw.source,
            kind: kind.code.clone(),
            region,
            columns,
            external_id: raw.case.external_id,
            opened_at: raw.case.opened_at,
            closed_at: raw.case.closed_at,
            channel: raw.case.channel,
            state: raw.case.state,
            outcome: raw.case.outcome,
            on_time: raw.case.on_time,
            fields: raw.fields,
        })
    }
}

/// What a value must turn into, to check the constants and map targets of a spec.
enum Target {
    Text,
    Time,
    Bool,
    Channel,
    State,
    Outcome,
    Catalog(String),
}

struct Checker<'a> {
    columns: &'a BTreeMap<String, (usize, String)>,
    kind: &'a CaseKind,
    programme: &'a Programme,
}

impl Checker<'_> {
    fn spec(&self, key: &str, spec: &ValueSpec, target: &Target) -> Result<(), EngineError> {
        let sources = [spec.column.is_some(), spec.template.is_some(), spec.value.is_some(), spec.rules.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err(invalid(key, "give exactly one of column, template, value or rules"));
        }
        let column = |name: &str| {
            if self.columns.contains_key(name) {
                Ok(())
            } else {
                Err(invalid(key, format!("column {name} is not declared in [columns]")))
            }
        };
        if let Some(name) = &spec.column {
            column(name)?;
        }
        if let Some(template) = &spec.template {
            for name in placeholders(template) {
                column(name)?;
            }
        }
        if matches!(target, Target::Time) && spec.formats.is_empty() && spec.value.is_none() {
            return Err(invalid(key, "a date or time needs formats, e.g. formats = [\"%Y-%m-%d\"]"));
        }
        // Every text the spec can produce as is (constants, map targets, rule values).
        let mut outputs: Vec<&String> = Vec::new();
        outputs.extend(spec.value.iter());
        outputs.extend(spec.otherwise.iter());
        if let Some(map) = &spec.map {
            outputs.extend(map.values());
        }
        for rule in spec.rules.iter().flatten() {
            for name in rule.when.keys() {
                column(name)?;
            }
            if spec.map.is_none() {
                outputs.push(&rule.value);
            }
        }
        // A column or template without a map passes its text through: checked row by row (a
        // bool must then read true or false, an amount must parse).
        for out in outputs {
            if out.is_empty() && spec.optional {
                continue;
            }
            let ok = match target {
                Target::Text | Target::Time => true,
                Target::Bool => out == "true" || out == "false",
                Target::Channel => self.kind.accepts_channel(out),
                Target::State => self.kind.state(out).is_some(),
                Target::Outcome => self.kind.outcome(out).is_some(),
                Target::Catalog(catalog) => self.programme.in_catalog(catalog, out),
            };
            if !ok {
                let what = match target {
                    Target::Bool => "true or false".to_owned(),
                    Target::Channel => format!("a channel of {} ({})", self.kind.code, self.kind.channels.join(", ")),
                    Target::State => format!("a state of {}", self.kind.code),
                    Target::Outcome => format!("an outcome of {}", self.kind.code),
                    Target::Catalog(c) => format!("a code of catalog {c}"),
                    Target::Text | Target::Time => String::new(),
                };
                return Err(invalid(key, format!("{out:?} is not {what}")));
            }
        }
        Ok(())
    }
}

/// The `{name}` placeholders of a template.
pub(crate) fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name))
}
