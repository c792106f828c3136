//! `fengqiao import cases`: another system's historical cases, mapped row by row to a
//! programme's cases and committed in one change. All or nothing: one bad row (a value the
//! mapping cannot translate, a field the programme refuses, an id seen before) imports none,
//! and the report names every bad row by line and column.

mod mapping;
mod table;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::beijing;
use fq_domain::case::{Case, CaseError, CaseId, ImportedCase, decide_import};
use fq_domain::programme::{FieldType, Programme};
use fq_store::{CaseFilter, Change, StoreError};
use serde::Serialize;
use serde_json::{Map, json};
use uuid::Uuid;

use mapping::placeholders;
pub use mapping::{Mapping, Rule, ValueSpec};
pub use table::read_table;

use crate::Engine;
use crate::cases::case_change_for_bench;
use crate::error::EngineError;

/// A file read into text cells: its header and its rows with their line numbers.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub headers: Vec<String>,
    /// (line in the file, cells).
    pub rows: Vec<(u64, Vec<String>)>,
}

/// A row that cannot be imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadRow {
    pub line: u64,
    /// The file's header of the column at fault, or the mapping key when no column is.
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub mapping: String,
    pub rows: u64,
    /// Cases written (0 when any row was bad, or on a dry run).
    pub imported: u64,
    pub dry_run: bool,
    pub by_state: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
    pub by_channel: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, u64>,
    pub bad_rows: Vec<BadRow>,
}

/// One row's values, read through the mapping.
struct RowReader<'a> {
    mapping: &'a Mapping,
    cells: &'a [String],
    line: u64,
}

impl RowReader<'_> {
    fn cell(&self, column: &str) -> &str {
        self.mapping.columns.get(column).and_then(|(i, _)| self.cells.get(*i)).map_or("", |s| s.trim())
    }

    fn header(&self, spec: &ValueSpec, key: &str) -> String {
        let column = spec
            .column
            .as_deref()
            .or_else(|| spec.rules.as_ref().and_then(|r| r.first()?.when.keys().next().map(String::as_str)));
        let column = column.or_else(|| spec.template.as_deref().and_then(|t| placeholders(t).next()));
        column.and_then(|c| self.mapping.columns.get(c)).map_or_else(|| key.to_owned(), |(_, h)| h.clone())
    }

    fn bad(&self, spec: &ValueSpec, key: &str, code: &'static str, message: String) -> BadRow {
        BadRow { line: self.line, column: self.header(spec, key), code, message }
    }

    /// The text a spec gives for this row; `None` for an empty optional value.
    fn text(&self, spec: &ValueSpec, key: &str) -> Result<Option<String>, BadRow> {
        let raw = if let Some(column) = &spec.column {
            self.cell(column).to_owned()
        } else if let Some(template) = &spec.template {
            let mut out = template.clone();
            for name in placeholders(template) {
                out = out.replace(&format!("{{{name}}}"), self.cell(name));
            }
            out.trim().to_owned()
        } else if let Some(value) = &spec.value {
            value.clone()
        } else {
            let rules = spec.rules.as_deref().unwrap_or_default();
            match rules.iter().find(|r: &&Rule| r.when.iter().all(|(c, v)| self.cell(c) == v.as_str())) {
                Some(rule) => rule.value.clone(),
                None => {
                    return Err(self.bad(spec, key, "import_no_rule", format!("{key}: no rule matches this row")));
                }
            }
        };
        if raw.is_empty() {
            return if spec.optional {
                Ok(None)
            } else {
                Err(self.bad(spec, key, "import_value_missing", format!("{key}: the cell is empty")))
            };
        }
        match &spec.map {
            None => Ok(Some(raw)),
            Some(map) => match map.get(&raw).or(spec.otherwise.as_ref()) {
                Some(code) => Ok(Some(code.clone())),
                None => Err(self.bad(spec, key, "import_value_unmapped", format!("{key}: {raw:?} is not in the mapping's map"))),
            },
        }
    }

    fn time(&self, spec: &ValueSpec, key: &str) -> Result<Option<DateTime<Utc>>, BadRow> {
        let Some(text) = self.text(spec, key)? else { return Ok(None) };
        for format in &spec.formats {
            if let Ok(t) = NaiveDateTime::parse_from_str(&text, format) {
                return Ok(beijing().from_local_datetime(&t).single().map(|t| t.to_utc()));
            }
            if let Ok(d) = NaiveDate::parse_from_str(&text, format) {
                let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
                return Ok(beijing().from_local_datetime(&midnight).single().map(|t| t.to_utc()));
            }
        }
        Err(self.bad(spec, key, "import_time_invalid", format!("{key}: {text:?} matches none of the formats {:?}", spec.formats)))
    }
}

impl Engine {
    /// Imports `table` into `programme` through the mapping file's `text`. With `dry_run`,
    /// checks every row and reports without writing.
    pub async fn import_cases(
        &self,
        programme: &str,
        mapping_file: &str,
        mapping_text: &str,
        table: &Table,
        dry_run: bool,
    ) -> Result<ImportReport, EngineError> {
        let programme = self.programme(programme)?;
        let mapping = Mapping::parse(mapping_file, mapping_text, &programme, &table.headers)?;
        self.active_region(&mapping.region, "region").await?;
        let existing = self.imported_ids(&programme, &mapping.source).await?;
        let now = self.now();
        let mut report =
            ImportReport { mapping: mapping.name.clone(), rows: table.rows.len() as u64, dry_run, ..ImportReport::default() };
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut records = Vec::new();
        for (line, cells) in &table.rows {
            let reader = RowReader { mapping: &mapping, cells, line: *line };
            match read_row(&reader, &programme, &existing, &mut seen) {
                Ok(record) => records.push(record),
                Err(bad) => report.bad_rows.push(bad),
            }
        }
        let system = Actor::System;
        let mut decided = Vec::new();
        for record in records {
            let (line, id_spec) = (record.line, record.fields_columns.clone());
            match decide_import(&programme, record.case, &system, now) {
                Ok(events) => decided.push(events),
                Err(e) => report.bad_rows.push(refused_row(line, &mapping, &id_spec, &e)),
            }
        }
        report.bad_rows.sort_by_key(|b| b.line);
        if !report.bad_rows.is_empty() {
            return Ok(report);
        }
        let kind = programme.kind(&mapping.kind).expect("the mapping checked its kind");
        for events in &decided {
            let case = Case::replay(events).expect("decide_import starts with Created");
            *report.by_state.entry(case.state.clone()).or_default() += 1;
            *report.by_channel.entry(case.channel.clone()).or_default() += 1;
            if let Some(o) = &case.outcome {
                *report.by_outcome.entry(o.code.clone()).or_default() += 1;
            }
            if let Some(field) = &kind.figures.category
                && let Some(fq_domain::programme::FieldValue::Enum(code)) = case.fields.get(field)
            {
                *report.by_category.entry(code.clone()).or_default() += 1;
            }
        }
        if dry_run {
            return Ok(report);
        }
        self.commit_imported(&programme, decided, &mut report).await?;
        Ok(report)
    }

    /// Numbers the decided cases and commits them in one change.
    async fn commit_imported(
        &self,
        programme: &Programme,
        decided: Vec<Vec<fq_domain::case::CaseEvent>>,
        report: &mut ImportReport,
    ) -> Result<(), EngineError> {
        let mut series = Vec::new();
        let result = self.number_and_commit(programme, decided, &mut series).await;
        if result.is_err() {
            // Numbers handed out were not used: look the series up again next time.
            series.sort();
            series.dedup();
            series.iter().for_each(|s| self.numbers.forget(s));
        } else {
            report.imported = report.rows;
        }
        result
    }

    async fn number_and_commit(
        &self,
        programme: &Programme,
        decided: Vec<Vec<fq_domain::case::CaseEvent>>,
        series: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        let mut change = Change::new();
        for mut events in decided {
            let opened = match &events[0] {
                fq_domain::case::CaseEvent::Created { at, .. } => *at,
                _ => unreachable!("decide_import starts with Created"),
            };
            let number = crate::cases::next_number_for_bench(self, programme, opened).await?;
            if let fq_domain::case::CaseEvent::Created { number: n, .. } = &mut events[0] {
                n.clone_from(&number.text);
            }
            series.push(number.series.clone());
            let case = Case::replay(&events).expect("decide_import starts with Created");
            let one = case_change_for_bench(programme, &case, &events, &number);
            change.expect.extend(one.expect);
            change.ops.extend(one.ops);
            change.events.extend(one.events);
        }
        self.store.commit(change).await?;
        Ok(())
    }

    /// External ids already imported from `source` into `programme`, with their case numbers.
    async fn imported_ids(&self, programme: &Programme, source: &str) -> Result<HashMap<String, String>, EngineError> {
        let filter = CaseFilter { programme: Some(programme.code.clone()), all_regions: true, ..CaseFilter::default() };
        let mut out = HashMap::new();
        for snapshot in self.store.case_snapshots(&filter).await? {
            let case: Case = serde_json::from_str(&snapshot).map_err(|e| StoreError::corrupt("case snapshot", e))?;
            if let Some(origin) = case.origin.filter(|o| o.source == source) {
                out.insert(origin.external_id, case.number);
            }
        }
        Ok(out)
    }
}

struct ReadRow {
    line: u64,
    case: ImportedCase,
    /// Field code → the mapping spec, to name the column of a refused field.
    fields_columns: BTreeMap<String, ValueSpec>,
}

fn read_row(
    r: &RowReader<'_>,
    programme: &Programme,
    existing: &HashMap<String, String>,
    seen: &mut HashMap<String, u64>,
) -> Result<ReadRow, BadRow> {
    let m = r.mapping;
    let external_id = r.text(&m.external_id, "case.external_id")?.unwrap_or_default();
    if let Some(number) = existing.get(&external_id) {
        return Err(r.bad(
            &m.external_id,
            "case.external_id",
            "import_duplicate",
            format!("{external_id} was imported before as case {number}"),
        ));
    }
    if let Some(first) = seen.insert(external_id.clone(), r.line) {
        return Err(r.bad(
            &m.external_id,
            "case.external_id",
            "import_duplicate",
            format!("{external_id} is also on line {first}"),
        ));
    }
    let opened_at = r.time(&m.opened_at, "case.opened_at")?.ok_or_else(|| {
        r.bad(&m.opened_at, "case.opened_at", "import_value_missing", "case.opened_at: the cell is empty".into())
    })?;
    let closed_at = match &m.closed_at {
        Some(spec) => r.time(spec, "case.closed_at")?,
        None => None,
    };
    let channel = r.text(&m.channel, "case.channel")?.unwrap_or_default();
    let state = r.text(&m.state, "case.state")?.unwrap_or_default();
    let outcome = match &m.outcome {
        Some(spec) => r.text(spec, "case.outcome")?,
        None => None,
    };
    let on_time = match &m.on_time {
        Some(spec) => r.text(spec, "case.on_time")?.map(|t| bool_of(r, spec, "case.on_time", &t)).transpose()?,
        None => None,
    };
    let kind = programme.kind(&m.kind).expect("the mapping checked its kind");
    let mut fields = Map::new();
    for (code, spec) in &m.fields {
        let key = format!("fields.{code}");
        let Some(text) = r.text(spec, &key)? else { continue };
        let def = kind.fields.iter().find(|f| f.code == *code).expect("the mapping checked its fields");
        let value = match &def.kind {
            FieldType::Party => json!({ "name": text, "role": def.label }),
            // Amounts go as text: the field check refuses what is not a finite amount.
            FieldType::Money { .. } => json!(text.replace(',', "")),
            FieldType::Number { .. } => match text.replace(',', "").parse::<f64>() {
                Ok(n) if n.is_finite() => json!(n),
                _ => return Err(r.bad(spec, &key, "import_number_invalid", format!("{key}: {text:?} is not a number"))),
            },
            FieldType::Bool => json!(bool_of(r, spec, &key, &text)?),
            _ => json!(text),
        };
        fields.insert(code.clone(), value);
    }
    let case = ImportedCase {
        id: CaseId(Uuid::now_v7()),
        number: String::new(),
        kind: kind.code.clone(),
        state,
        region: m.region.clone(),
        channel,
        fields,
        opened_at,
        closed_at,
        outcome,
        source: m.source.clone(),
        external_id,
        line: r.line,
        on_time,
    };
    Ok(ReadRow { line: r.line, case, fields_columns: m.fields.clone() })
}

/// `true` or `false`, as a map gives them; anything else is a bad row, not a silent `false`.
fn bool_of(r: &RowReader<'_>, spec: &ValueSpec, key: &str, text: &str) -> Result<bool, BadRow> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(r.bad(spec, key, "import_value_unmapped", format!("{key}: {text:?} is neither true nor false (map it)"))),
    }
}

/// A row the programme refused, named by the file's column of the refused field.
fn refused_row(line: u64, mapping: &Mapping, fields: &BTreeMap<String, ValueSpec>, e: &CaseError) -> BadRow {
    use fq_domain::Coded;
    let field = e.field().unwrap_or_default();
    let field = field.split('.').next().unwrap_or_default().to_owned();
    let spec = fields.get(&field).or(match field.as_str() {
        "state" => Some(&mapping.state),
        "channel" => Some(&mapping.channel),
        "outcome" => mapping.outcome.as_ref(),
        "opened_at" => Some(&mapping.opened_at),
        "closed_at" => mapping.closed_at.as_ref(),
        _ => None,
    });
    let reader = RowReader { mapping, cells: &[], line };
    let column = spec.map_or_else(|| field.clone(), |s| reader.header(s, &field));
    BadRow { line, column, code: e.code(), message: e.to_string() }
}
