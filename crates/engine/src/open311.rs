//! Open311 GeoReport v2 use cases: the public case kinds as services, their cases as service
//! requests, and registering a case from a GeoReport request.
//!
//! The HTTP side and the JSON and XML formats belong to the server (`fq-server`'s `open311`
//! module); this module decides what is public and maps the case model onto GeoReport's
//! vocabulary (docs/OPEN311.md has the whole mapping).
//!
//! Only kinds marked `public = true` are services, named `<programme>.<kind>`. A service request
//! never carries personal data: no parties, attachments or organisation fields; the description
//! and the position only for requests registered through Open311 itself, and then only when the
//! kind's description and location fields are not `personal`. Reading is open to anyone (as GeoReport intends); registering needs an API token
//! whose account holds one of the kind's intake roles over the case's region.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use fq_domain::actor::Actor;
use fq_domain::calendar::beijing;
use fq_domain::case::Case;
use fq_domain::geometry::area_from_geojson_text;
use fq_domain::org::OrgId;
use fq_domain::programme::{CaseKind, FieldDef, FieldType, FieldValue, Programme};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_store::{CaseFilter, CaseSummary, StoreError};
use geo::{BoundingRect, Contains};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use crate::error::EngineError;
use crate::{Engine, OpenCase};

/// The most requests one list answers (GeoReport's default limit).
pub const OPEN311_MAX_REQUESTS: usize = 1000;

/// The longest window of a request list, and its default (the last 90 days).
pub const OPEN311_WINDOW_DAYS: i64 = 90;

/// The channel recorded on cases registered through Open311.
pub const OPEN311_CHANNEL: &str = "open311";

/// The built-in attribute that places a request in a region (a region code).
pub const REGION_ATTRIBUTE: &str = "region";

/// The built-in attribute that sets a request's priority, for kinds with more than one.
pub const PRIORITY_ATTRIBUTE: &str = "priority";

/// A text field of at most this many characters is a GeoReport `string`; longer ones are `text`.
const SHORT_TEXT: usize = 200;

/// The case field a request's title is written to when the client sends none (GeoReport has no
/// title: it comes from the description, or the service's name).
const TITLE_FIELD: &str = "title";

/// A public case kind as a GeoReport service.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Service {
    /// `<programme>.<kind>`.
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    pub keywords: Vec<String>,
    /// The programme's name.
    pub group: String,
    /// What a request may carry besides the standard parameters, in order.
    pub attributes: Vec<Open311Attribute>,
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Attribute {
    pub code: String,
    /// `string`, `number`, `datetime`, `text`, `singlevaluelist` or `multivaluelist`.
    pub datatype: &'static str,
    pub required: bool,
    pub datatype_description: String,
    /// 1-based position.
    pub order: u32,
    /// The question shown to the person (the field's label).
    pub description: String,
    /// The choices of a list.
    pub values: Vec<Open311Value>,
}

/// One choice of a list attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Value {
    pub key: String,
    pub name: String,
}

/// GeoReport's two statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Open311Status {
    Open,
    Closed,
}

impl Open311Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Open311Status::Open => "open",
            Open311Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Open311Status> {
        match text.trim() {
            "open" => Some(Open311Status::Open),
            "closed" => Some(Open311Status::Closed),
            _ => None,
        }
    }
}

/// A case as a GeoReport service request: nothing personal in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Open311Request {
    /// The case number.
    pub service_request_id: String,
    pub status: Open311Status,
    /// The name of the case's state.
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    /// The description field, when the kind does not mark it personal.
    pub description: Option<String>,
    /// The assigned unit's name.
    pub agency_responsible: Option<String>,
    pub requested_datetime: DateTime<Utc>,
    /// When the case last changed (its latest event).
    pub updated_datetime: DateTime<Utc>,
    /// The earliest running deadline of an open case.
    pub expected_datetime: Option<DateTime<Utc>>,
    /// The names of the case's region and the regions above it.
    pub address: Option<String>,
    /// The case's region code.
    pub address_id: Option<String>,
    /// From the kind's location field, when it is not personal.
    pub lat: Option<f64>,
    pub long: Option<f64>,
}

/// The filters of GET requests.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Open311Query {
    /// Case numbers; when given, every other filter is ignored.
    pub service_request_ids: Vec<String>,
    /// Service codes; empty means every public service.
    pub service_codes: Vec<String>,
    /// Requests opened at or after this instant.
    pub start: Option<DateTime<Utc>>,
    /// Requests opened at or before this instant.
    pub end: Option<DateTime<Utc>>,
    /// Empty means both.
    pub statuses: Vec<Open311Status>,
}

/// A POST requests, its parameters parsed (numbers as numbers) but not yet checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Open311Submission {
    pub service_code: String,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub description: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// `(code, value)` of each `attribute[code]` (or `attribute[code][]`), in order.
    pub attributes: Vec<(String, String)>,
}

/// The instants an event of a case carries (every kind of event that has one calls it `at`,
/// except clock starts).
#[derive(Deserialize)]
struct EventInstants {
    #[serde(default)]
    at: Option<DateTime<Utc>>,
    #[serde(default)]
    started_at: Option<DateTime<Utc>>,
}

fn bad(code: &'static str, field: &str, message: impl Into<String>) -> EngineError {
    EngineError::field(code, field, message)
}

/// The text field a request's `description` goes to: the one called `description`, else the
/// longest text field other than the title. `None` when the kind has none.
fn description_field(kind: &CaseKind) -> Option<&FieldDef> {
    let texts =
        || kind.fields.iter().filter(|f| !f.multiple && matches!(f.kind, FieldType::Text { .. }) && f.code != TITLE_FIELD);
    let max_len = |f: &&FieldDef| match f.kind {
        FieldType::Text { max_len } => max_len,
        _ => 0,
    };
    // `max_by_key` keeps the last of equals: reversed, the first in the file wins a tie.
    texts().find(|f| f.code == "description").or_else(|| texts().rev().max_by_key(max_len))
}

/// The title field filled from the description when the client sends no title.
fn title_field(kind: &CaseKind) -> Option<&FieldDef> {
    kind.fields.iter().find(|f| f.code == TITLE_FIELD && !f.multiple && matches!(f.kind, FieldType::Text { .. }))
}

/// The kind's single location field: filled from lat/long, shown only when not personal.
fn location_field(kind: &CaseKind) -> Option<&FieldDef> {
    kind.fields.iter().find(|f| !f.multiple && matches!(f.kind, FieldType::Location))
}

fn bounds_text(min: Option<String>, max: Option<String>) -> String {
    match (min, max) {
        (Some(min), Some(max)) => format!(", from {min} to {max}"),
        (Some(min), None) => format!(", at least {min}"),
        (None, Some(max)) => format!(", at most {max}"),
        (None, None) => String::new(),
    }
}

fn yuan(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, (fen % 100).abs())
}

/// The GeoReport datatype of a field, its description and its choices; `None` for fields
/// GeoReport cannot express (parties, attachments, organisations, locations, lists of anything
/// but catalog codes).
fn datatype_of(programme: &Programme, field: &FieldDef) -> Option<(&'static str, String, Vec<Open311Value>)> {
    if field.multiple && !matches!(field.kind, FieldType::Enum { .. }) {
        return None;
    }
    Some(match &field.kind {
        FieldType::Text { max_len } => {
            let datatype = if *max_len <= SHORT_TEXT { "string" } else { "text" };
            (datatype, format!("text, at most {max_len} characters"), Vec::new())
        }
        FieldType::Number { min, max, integer } => {
            let what = if *integer { "a whole number" } else { "a number" };
            ("number", format!("{what}{}", bounds_text(min.map(|n| n.to_string()), max.map(|n| n.to_string()))), Vec::new())
        }
        FieldType::Money { min_fen, max_fen } => (
            "number",
            format!("an amount in yuan, at most two decimals{}", bounds_text(min_fen.map(yuan), max_fen.map(yuan))),
            Vec::new(),
        ),
        FieldType::Date => {
            ("datetime", "a date: YYYY-MM-DD, or an ISO 8601 datetime (its date in Beijing time is kept)".to_owned(), Vec::new())
        }
        FieldType::DateTime => ("datetime", "an ISO 8601 datetime with its time zone".to_owned(), Vec::new()),
        FieldType::Enum { catalog } => {
            let catalog = programme.catalogs.get(catalog)?;
            let values =
                catalog.items.iter().map(|item| Open311Value { key: item.code.clone(), name: item.name.clone() }).collect();
            let datatype = if field.multiple { "multivaluelist" } else { "singlevaluelist" };
            (datatype, catalog.name.clone(), values)
        }
        FieldType::Bool => (
            "singlevaluelist",
            "yes or no".to_owned(),
            vec![Open311Value { key: "true".into(), name: "是".into() }, Open311Value { key: "false".into(), name: "否".into() }],
        ),
        FieldType::Region => ("string", "a region code (行政区划代码) of 2 to 12 digits".to_owned(), Vec::new()),
        FieldType::Location | FieldType::Party | FieldType::Attachment | FieldType::Org | FieldType::Json { .. } => return None,
    })
}

fn service_of(programme: &Programme, kind: &CaseKind) -> Open311Service {
    let described = description_field(kind).map(|f| f.code.as_str());
    let mut attributes = Vec::new();
    for field in kind.fields.iter().filter(|f| f.intake) {
        if Some(field.code.as_str()) == described {
            continue;
        }
        let Some((datatype, datatype_description, values)) = datatype_of(programme, field) else { continue };
        // The title is taken from the description (or the service's name) when missing.
        let required = field.required && field.code != TITLE_FIELD;
        attributes.push(Open311Attribute {
            code: field.code.clone(),
            datatype,
            required,
            datatype_description,
            order: 0,
            description: field.label.clone(),
            values,
        });
    }
    attributes.push(Open311Attribute {
        code: REGION_ATTRIBUTE.into(),
        datatype: "string",
        required: false,
        datatype_description: "a region code (行政区划代码) of 2 to 12 digits; also accepted as address_id. Without \
                               it, lat/long must lie inside a county"
            .into(),
        order: 0,
        description: "所在区域".into(),
        values: Vec::new(),
    });
    if kind.priorities.len() > 1 {
        attributes.push(Open311Attribute {
            code: PRIORITY_ATTRIBUTE.into(),
            datatype: "singlevaluelist",
            required: false,
            datatype_description: format!("the default is {}", kind.priorities[0]),
            order: 0,
            description: "优先级".into(),
            values: kind.priorities.iter().map(|p| Open311Value { key: p.clone(), name: p.clone() }).collect(),
        });
    }
    for (n, attribute) in attributes.iter_mut().enumerate() {
        attribute.order = u32::try_from(n + 1).unwrap_or(u32::MAX);
    }
    Open311Service {
        service_code: format!("{}.{}", programme.code, kind.code),
        service_name: kind.name.clone(),
        description: format!("{}（{}）", kind.name, programme.name),
        keywords: vec![programme.code.clone(), kind.code.clone()],
        group: programme.name.clone(),
        attributes,
    }
}

/// One attribute's values as the JSON the case field takes.
fn field_value(field: &FieldDef, values: &[String]) -> Result<Json, EngineError> {
    let code = &field.code;
    if field.multiple {
        return Ok(Json::Array(values.iter().map(|v| Json::from(v.trim())).collect()));
    }
    let [value] = values else {
        return Err(bad("attribute_single", code, format!("attribute {code} takes one value, {} were given", values.len())));
    };
    let value = value.trim();
    Ok(match &field.kind {
        // A datetime is checked by the field itself, with the same message as everywhere.
        FieldType::Text { .. } | FieldType::Enum { .. } | FieldType::Region | FieldType::Money { .. } | FieldType::DateTime => {
            Json::from(value)
        }
        FieldType::Number { .. } => {
            let number: f64 = value
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| bad("attribute_not_number", code, format!("attribute {code}: {value:?} is not a number")))?;
            json!(number)
        }
        FieldType::Bool => match value {
            "true" | "1" | "yes" => Json::Bool(true),
            "false" | "0" | "no" => Json::Bool(false),
            _ => return Err(bad("attribute_not_bool", code, format!("attribute {code}: {value:?} is not true or false"))),
        },
        FieldType::Date => {
            let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .ok()
                .or_else(|| DateTime::parse_from_rfc3339(value).ok().map(|t| t.with_timezone(&beijing()).date_naive()))
                .ok_or_else(|| {
                    bad(
                        "attribute_not_date",
                        code,
                        format!("attribute {code}: {value:?} is not YYYY-MM-DD or an ISO 8601 datetime"),
                    )
                })?;
            Json::from(date.to_string())
        }
        FieldType::Location | FieldType::Party | FieldType::Attachment | FieldType::Org | FieldType::Json { .. } => {
            return Err(bad(
                "attribute_unsupported",
                code,
                format!("attribute {code} ({}) cannot be given through Open311", field.kind.name()),
            ));
        }
    })
}

/// The first line of `text`, at most `max` characters.
fn headline(text: &str, max: usize) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    line.chars().take(max).collect()
}

/// A person's name from GeoReport's first and last names: family name first and no space in
/// Chinese, "first last" in Latin letters.
fn person_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let first = first.map(str::trim).filter(|s| !s.is_empty());
    let last = last.map(str::trim).filter(|s| !s.is_empty());
    match (first, last) {
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    }
}

fn parse_region(text: &str, field: &str) -> Result<RegionCode, EngineError> {
    RegionCode::parse(text.trim()).map_err(|e| {
        bad("region_code_invalid", field, format!("{field} must be a region code (行政区划代码, 2 to 12 digits): {e}"))
    })
}

impl Engine {
    /// The public kinds of every programme, as services.
    pub fn open311_services(&self) -> Vec<Open311Service> {
        self.programmes
            .all()
            .flat_map(|programme| programme.kinds.iter().filter(|k| k.public).map(|kind| service_of(programme, kind)))
            .collect()
    }

    /// One service with its attributes; unknown codes and kinds that are not public do not exist.
    pub fn open311_service(&self, service_code: &str) -> Result<Open311Service, EngineError> {
        let (programme, kind) = self.public_kind(service_code)?;
        let kind = programme.kind(&kind).expect("public_kind found it");
        Ok(service_of(&programme, kind))
    }

    /// The programme and kind code of a public service.
    fn public_kind(&self, service_code: &str) -> Result<(std::sync::Arc<Programme>, String), EngineError> {
        let missing = || EngineError::NotFound { entity: "service_code", key: service_code.to_owned() };
        let (programme, kind) = service_code.trim().split_once('.').ok_or_else(missing)?;
        let programme = self.programmes.get(programme).ok_or_else(missing)?;
        let kind = programme.kind(kind).filter(|k| k.public).ok_or_else(missing)?;
        Ok((std::sync::Arc::clone(programme), kind.code.clone()))
    }

    /// Service requests: those named in `service_request_ids` (unknown or non-public numbers left
    /// out), or else the public cases opened in the window (default: the last 90 days; at most
    /// 90 days) of the services and statuses asked for, newest first, at most 1000.
    pub async fn open311_requests(&self, query: &Open311Query) -> Result<Vec<Open311Request>, EngineError> {
        if !query.service_request_ids.is_empty() {
            if query.service_request_ids.len() > OPEN311_MAX_REQUESTS {
                return Err(bad(
                    "too_many_ids",
                    "service_request_id",
                    format!("at most {OPEN311_MAX_REQUESTS} service_request_id values at once"),
                ));
            }
            let mut seen = BTreeSet::new();
            let mut out = Vec::new();
            for number in &query.service_request_ids {
                if !seen.insert(number.trim()) {
                    continue;
                }
                match self.open311_request(number).await {
                    Ok(request) => out.push(request),
                    Err(EngineError::NotFound { .. }) => {}
                    Err(err) => return Err(err),
                }
            }
            return Ok(out);
        }
        let (from, to) = self.open311_window(query.start, query.end)?;
        let kinds: Vec<(std::sync::Arc<Programme>, String)> = if query.service_codes.is_empty() {
            self.programmes
                .all()
                .flat_map(|p| p.kinds.iter().filter(|k| k.public).map(|k| (std::sync::Arc::clone(p), k.code.clone())))
                .collect()
        } else {
            let mut kinds = Vec::new();
            for code in &query.service_codes {
                let found = self.public_kind(code)?;
                if !kinds.iter().any(|(p, k): &(std::sync::Arc<Programme>, String)| p.code == found.0.code && *k == found.1) {
                    kinds.push(found);
                }
            }
            kinds
        };
        let open = query.statuses.is_empty() || query.statuses.contains(&Open311Status::Open);
        let closed = query.statuses.is_empty() || query.statuses.contains(&Open311Status::Closed);
        let mut summaries: Vec<CaseSummary> = Vec::new();
        for (programme, kind_code) in &kinds {
            let kind = programme.kind(kind_code).expect("public kinds exist");
            let base = CaseFilter {
                programme: Some(programme.code.clone()),
                kind: Some(kind.code.clone()),
                all_regions: true,
                opened_from: Some(from),
                // The filter's end is exclusive, GeoReport's inclusive; times are kept in µs.
                opened_to: Some(to + Duration::microseconds(1)),
                limit: OPEN311_MAX_REQUESTS as u32,
                ..CaseFilter::default()
            };
            let filters = match (open, closed) {
                (true, true) => vec![base],
                (true, false) => vec![CaseFilter { open_only: true, ..base }],
                (false, _) => kind
                    .states
                    .iter()
                    .filter(|s| s.terminal)
                    .map(|s| CaseFilter { state: Some(s.code.clone()), ..base.clone() })
                    .collect(),
            };
            for filter in filters {
                summaries.extend(self.store.cases(&filter).await?);
            }
        }
        summaries.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then_with(|| b.number.cmp(&a.number)));
        summaries.truncate(OPEN311_MAX_REQUESTS);
        let mut out = Vec::with_capacity(summaries.len());
        for summary in summaries {
            let Some(record) = self.store.case_record(summary.id).await? else { continue };
            let case: Case =
                serde_json::from_str(&record.snapshot).map_err(|e| StoreError::corrupt(format!("case {}", record.id), e))?;
            if let Some(request) = self.open311_of(&case).await? {
                out.push(request);
            }
        }
        Ok(out)
    }

    /// The window `[from, to]` (both inclusive) of a request list.
    fn open311_window(
        &self,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
    ) -> Result<(DateTime<Utc>, DateTime<Utc>), EngineError> {
        let span = Duration::days(OPEN311_WINDOW_DAYS);
        let (from, to) = match (start, end) {
            (None, None) => {
                let now = self.now();
                (now - span, now)
            }
            (Some(from), None) => (from, from + span),
            (None, Some(to)) => (to - span, to),
            (Some(from), Some(to)) => (from, to),
        };
        if from > to {
            return Err(bad("date_range_invalid", "start_date", "start_date is after end_date"));
        }
        if to - from > span {
            return Err(bad(
                "date_range_too_long",
                "end_date",
                format!("start_date and end_date may not span more than {OPEN311_WINDOW_DAYS} days"),
            ));
        }
        Ok((from, to))
    }

    /// One service request by case number. Cases of kinds that are not public do not exist here.
    pub async fn open311_request(&self, number: &str) -> Result<Open311Request, EngineError> {
        let missing = || EngineError::NotFound { entity: "service_request", key: number.trim().to_owned() };
        let number = number.trim();
        if number.is_empty() || number.len() > 64 {
            return Err(missing());
        }
        let id = self.store.case_id_by_number(number).await?.ok_or_else(missing)?;
        let record = self.store.case_record(id).await?.ok_or_else(missing)?;
        let case: Case = serde_json::from_str(&record.snapshot).map_err(|e| StoreError::corrupt(format!("case {id}"), e))?;
        self.open311_of(&case).await?.ok_or_else(missing)
    }

    /// A case as a service request, or `None` if its kind is not public (any more).
    async fn open311_of(&self, case: &Case) -> Result<Option<Open311Request>, EngineError> {
        let Some(programme) = self.programmes.get(&case.programme) else { return Ok(None) };
        let Some(kind) = programme.kind(&case.kind).filter(|k| k.public) else { return Ok(None) };
        let mut updated = case.opened_at;
        for event in self.store.stream_events(&case.id.stream()).await? {
            if let Ok(instants) = serde_json::from_str::<EventInstants>(&event.payload) {
                updated = updated.max(instants.at.unwrap_or(updated)).max(instants.started_at.unwrap_or(updated));
            }
        }
        Ok(Some(self.request_of(programme, kind, case, updated).await?))
    }

    async fn request_of(
        &self,
        programme: &Programme,
        kind: &CaseKind,
        case: &Case,
        updated: DateTime<Utc>,
    ) -> Result<Open311Request, EngineError> {
        let state = kind.state(&case.state);
        let closed = case.closed_at.is_some() || state.is_some_and(|s| s.terminal);
        // Free text and an exact position are published only for requests made through
        // Open311 itself, whose authors knew GeoReport makes them public; what a resident told
        // a station or the hotline was told in confidence.
        let published = case.channel == OPEN311_CHANNEL;
        let text_of =
            |field: Option<&FieldDef>| match field.filter(|f| published && !f.personal).and_then(|f| case.fields.get(&f.code)) {
                Some(FieldValue::Text(text)) => Some(text.clone()),
                _ => None,
            };
        let position = match location_field(kind).filter(|f| published && !f.personal).and_then(|f| case.fields.get(&f.code)) {
            Some(FieldValue::Location { lon, lat }) => Some((*lat, *lon)),
            _ => None,
        };
        let agency_responsible = match case.unit {
            Some(unit) => self.open311_org_name(unit).await?,
            None => None,
        };
        Ok(Open311Request {
            service_request_id: case.number.clone(),
            status: if closed { Open311Status::Closed } else { Open311Status::Open },
            status_notes: state.map(|s| s.name.clone()).unwrap_or_else(|| case.state.clone()),
            service_name: kind.name.clone(),
            service_code: format!("{}.{}", programme.code, kind.code),
            description: text_of(description_field(kind)),
            agency_responsible,
            requested_datetime: case.opened_at,
            updated_datetime: updated,
            expected_datetime: if closed { None } else { case.next_due() },
            address: self.open311_address(&case.region).await?,
            address_id: Some(case.region.to_string()),
            lat: position.map(|p| p.0),
            long: position.map(|p| p.1),
        })
    }

    async fn open311_org_name(&self, unit: OrgId) -> Result<Option<String>, EngineError> {
        if let Some(org) = self.caches.org(unit) {
            return Ok(Some(org.name));
        }
        Ok(match self.store.organisation(unit).await? {
            Some(org) => {
                let name = org.name.clone();
                self.caches.put_org(org);
                Some(name)
            }
            None => None,
        })
    }

    /// "浙江省台州市路桥区路南街道": the names from the province down to the region.
    async fn open311_address(&self, region: &RegionCode) -> Result<Option<String>, EngineError> {
        let mut chain = vec![region.clone()];
        while let Some(parent) = chain.last().and_then(RegionCode::parent) {
            chain.push(parent);
        }
        let mut names = Vec::new();
        for code in chain.iter().rev() {
            let found = match self.caches.region(code) {
                Some(found) => Some(found),
                None => {
                    let found = self.store.region(code).await?;
                    if let Some(found) = &found {
                        self.caches.put_region(found.clone());
                    }
                    found
                }
            };
            if let Some(found) = found {
                names.push(found.name);
            }
        }
        Ok((!names.is_empty()).then(|| names.concat()))
    }

    /// The county whose boundary contains the point, if any.
    pub async fn county_at(&self, lon: f64, lat: f64) -> Result<Option<RegionCode>, EngineError> {
        let point = geo::Point::new(lon, lat);
        for boundary in self.store.boundaries(RegionLevel::County).await? {
            let area = match area_from_geojson_text(&boundary.geojson) {
                Ok(area) => area,
                Err(reason) => {
                    tracing::warn!(region = %boundary.code, %reason, "a stored county boundary does not parse");
                    continue;
                }
            };
            if area.bounding_rect().is_some_and(|rect| rect.contains(&point)) && area.contains(&point) {
                return Ok(Some(boundary.code));
            }
        }
        Ok(None)
    }

    /// Registers a case from a GeoReport POST as `actor` (the API token's account), which needs
    /// one of the kind's intake roles over the case's region.
    ///
    /// The region comes from `attribute[region]`, else a region code in `address_id`, else the
    /// county whose boundary contains `lat`/`long` (there is no geocoder: `address_string` alone
    /// cannot be placed). `description` goes to the kind's description field (and, cut to its
    /// first line, to the title when none is given); the person's names and phone to the kind's
    /// first party field; `lat`/`long` to its location field.
    pub async fn open311_submit(&self, actor: &Actor, submission: Open311Submission) -> Result<Open311Request, EngineError> {
        let account = actor.account().ok_or(EngineError::Unauthenticated)?;
        let (programme, kind_code) = self.public_kind(&submission.service_code)?;
        let kind = programme.kind(&kind_code).expect("public_kind found it");

        let mut grouped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (code, value) in &submission.attributes {
            if !value.trim().is_empty() {
                grouped.entry(code.trim()).or_default().push(value.clone());
            }
        }
        let position = match (submission.lat, submission.long) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                    return Err(bad("lat_invalid", "lat", format!("lat {lat} is outside [-90, 90]")));
                }
                if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                    return Err(bad("long_invalid", "long", format!("long {lon} is outside [-180, 180]")));
                }
                Some((lat, lon))
            }
            (None, None) => None,
            (Some(_), None) => return Err(bad("long_missing", "long", "lat was given without long")),
            (None, Some(_)) => return Err(bad("lat_missing", "lat", "long was given without lat")),
        };

        let region = match (grouped.remove(REGION_ATTRIBUTE), submission.address_id.as_deref().map(str::trim)) {
            (Some(values), _) => match values.as_slice() {
                [one] => parse_region(one, "attribute[region]")?,
                _ => return Err(bad("attribute_single", REGION_ATTRIBUTE, "attribute region takes one value")),
            },
            (None, Some(address_id)) if !address_id.is_empty() => parse_region(address_id, "address_id")?,
            _ => match position {
                Some((lat, lon)) => self.county_at(lon, lat).await?.ok_or_else(|| {
                    bad(
                        "location_outside",
                        "lat",
                        format!(
                            "lat {lat}, long {lon} lies in no county this service knows: give a region code in attribute[region]"
                        ),
                    )
                })?,
                None => {
                    let reason = if submission.address_string.as_deref().is_some_and(|a| !a.trim().is_empty()) {
                        "address_string cannot be located (this service has no geocoder): give lat and long, or a \
                         region code in attribute[region] or address_id"
                    } else {
                        "a location is required: lat and long, or a region code in attribute[region] or address_id"
                    };
                    return Err(bad("location_required", "lat", reason));
                }
            },
        };
        let priority = match grouped.remove(PRIORITY_ATTRIBUTE) {
            None => None,
            Some(values) => match values.as_slice() {
                [one] => Some(one.trim().to_owned()),
                _ => return Err(bad("attribute_single", PRIORITY_ATTRIBUTE, "attribute priority takes one value")),
            },
        };

        let mut fields = Map::new();
        for (code, values) in &grouped {
            let field = kind.fields.iter().find(|f| f.code == *code && f.intake).ok_or_else(|| {
                bad("attribute_unknown", code, format!("service {} has no attribute {code}", submission.service_code.trim()))
            })?;
            if datatype_of(&programme, field).is_none() {
                return Err(bad(
                    "attribute_unsupported",
                    code,
                    format!("attribute {code} ({}) cannot be given through Open311", field.kind.name()),
                ));
            }
            fields.insert(field.code.clone(), field_value(field, values)?);
        }
        let description = submission.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
        if let (Some(field), Some(text)) = (description_field(kind), description)
            && !fields.contains_key(&field.code)
        {
            fields.insert(field.code.clone(), Json::from(text));
        }
        if let Some(field) = title_field(kind)
            && let FieldType::Text { max_len } = field.kind
            && !fields.contains_key(&field.code)
        {
            // Never from a description the kind marks personal: the title is shown in every
            // list and export.
            let description_personal = description_field(kind).is_some_and(|f| f.personal);
            let title = description.filter(|_| !description_personal).map(|d| headline(d, max_len)).filter(|t| !t.is_empty());
            fields.insert(field.code.clone(), Json::from(title.unwrap_or_else(|| headline(&kind.name, max_len))));
        }
        if let (Some(field), Some((lat, lon))) = (location_field(kind), position) {
            fields.entry(field.code.clone()).or_insert_with(|| json!({ "lon": lon, "lat": lat }));
        }
        let party = kind.fields.iter().find(|f| !f.multiple && matches!(f.kind, FieldType::Party));
        if let (Some(field), Some(name)) = (party, person_name(submission.first_name.as_deref(), submission.last_name.as_deref()))
            && !fields.contains_key(&field.code)
        {
            let mut value = json!({ "name": name, "role": field.label });
            if let Some(phone) = submission.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                value["phone"] = Json::from(phone);
            }
            fields.insert(field.code.clone(), value);
        }

        let request = OpenCase {
            programme: programme.code.clone(),
            kind: kind.code.clone(),
            priority,
            region: region.to_string(),
            grid: None,
            channel: OPEN311_CHANNEL.into(),
            intake_org: Some(account.org.0),
            fields,
        };
        let view = self.open_case(actor, request).await?;
        let opened = view.case.opened_at;
        // The view is masked for accounts; the request is built from the stored case.
        let record = self
            .store
            .case_record(view.case.id)
            .await?
            .ok_or_else(|| EngineError::NotFound { entity: "service_request", key: view.case.number.clone() })?;
        let case: Case =
            serde_json::from_str(&record.snapshot).map_err(|e| StoreError::corrupt(format!("case {}", record.id), e))?;
        self.request_of(&programme, kind, &case, opened).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_script() {
        assert_eq!(person_name(Some("三"), Some("张")).as_deref(), Some("张三"));
        assert_eq!(person_name(Some("Ada"), Some("Lovelace")).as_deref(), Some("Ada Lovelace"));
        assert_eq!(person_name(None, Some(" 李四 ")).as_deref(), Some("李四"));
        assert_eq!(person_name(Some(" "), None), None);
    }

    #[test]
    fn headlines_are_first_lines_cut_to_length() {
        assert_eq!(headline("\n  楼上漏水\n已协商两次", 200), "楼上漏水");
        assert_eq!(headline("一二三四五", 3), "一二三");
        assert_eq!(yuan(123_456), "1234.56");
        assert_eq!(yuan(5), "0.05");
    }

    #[test]
    fn statuses_parse() {
        assert_eq!(Open311Status::parse(" open"), Some(Open311Status::Open));
        assert_eq!(Open311Status::parse("closed"), Some(Open311Status::Closed));
        assert_eq!(Open311Status::parse("pending"), None);
    }
}
