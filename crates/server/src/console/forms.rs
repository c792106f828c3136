//! Forms generated from a programme's fields: the widgets a template draws for each field type,
//! the posted form read back into the JSON the engine checks, and the engine's validation error
//! put next to the field it names.
//!
//! A field `code` is posted as `f.<code>` (parties and locations as `f.<code>.<part>`). Files
//! come with `multipart/form-data`; once uploaded they are kept as hidden ids, so a form shown
//! again after an error does not ask for them twice.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fq_domain::Coded;
use fq_domain::actor::Actor;
use fq_domain::org::Organisation;
use fq_domain::programme::{FieldDef, FieldType, Programme};
use fq_engine::{Engine, EngineError};
use serde::Serialize;
use serde_json::{Map, Number, Value as Json};
use uuid::Uuid;

use super::i18n::{self, Lang};
use super::layout::reason;

/// A posted file.
#[derive(Debug)]
pub(crate) struct Upload {
    pub field: String,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A posted form, url-encoded or multipart, in order, repeated names kept.
#[derive(Debug, Default)]
pub(crate) struct Posted {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl Posted {
    pub(crate) fn first(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The trimmed value of `name`, empty when absent.
    pub(crate) fn text(&self, name: &str) -> String {
        self.first(name).unwrap_or_default().trim().to_owned()
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn unreadable() -> Response {
    (StatusCode::BAD_REQUEST, "表单无法读取 / the form could not be read").into_response()
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Posted, Response> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let axum::Form(pairs) =
                axum::Form::<Vec<(String, String)>>::from_request(req, state).await.map_err(|_| unreadable())?;
            return Ok(Posted { pairs, files: Vec::new() });
        }
        let mut form = Multipart::from_request(req, state).await.map_err(|_| unreadable())?;
        let mut posted = Posted::default();
        while let Some(field) = form.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    let bytes = field.bytes().await.map_err(|_| unreadable())?;
                    if !file_name.is_empty() && !bytes.is_empty() {
                        posted.files.push(Upload { field: name, name: file_name, bytes: bytes.to_vec() });
                    }
                }
                None => posted.pairs.push((name, field.text().await.map_err(|_| unreadable())?)),
            }
        }
        Ok(posted)
    }
}

/// One option of a select.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An uploaded file kept by a form shown again.
#[derive(Debug, Serialize)]
pub(crate) struct Kept {
    pub id: String,
    pub name: String,
}

/// What a template needs to draw one field.
#[derive(Debug, Serialize)]
pub(crate) struct Widget {
    /// The posted name, `f.<code>`.
    pub name: String,
    /// The element id, unique on the page.
    pub id: String,
    pub label: String,
    /// text, textarea, lines, number, money, date, select, bool, file, party, location.
    pub control: &'static str,
    pub required: bool,
    pub multiple: bool,
    pub options: Vec<Choice>,
    pub value: String,
    pub parts: BTreeMap<&'static str, String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub step: Option<&'static str>,
    pub max_len: Option<usize>,
    pub kept: Vec<Kept>,
    pub error: Option<String>,
}

/// The engine's refusal of a form: next to its field, or above the form.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    pub field: Option<String>,
    pub message: String,
}

impl Fault {
    pub(crate) fn of(lang: Lang, err: &EngineError) -> Fault {
        Fault { field: err.field(), message: reason(lang, err) }
    }

    pub(crate) fn on(field: &str, message: String) -> Fault {
        Fault { field: Some(field.to_owned()), message }
    }

    /// The message for `field` if it is the one at fault.
    pub(crate) fn for_field(fault: Option<&Fault>, field: &str) -> Option<String> {
        fault.filter(|f| f.field.as_deref() == Some(field)).map(|f| f.message.clone())
    }

    /// The message to show above the form when no field of `fields` is at fault.
    pub(crate) fn general(fault: Option<&Fault>, fields: &[&str]) -> Option<String> {
        fault.filter(|f| f.field.as_deref().is_none_or(|name| !fields.contains(&name))).map(|f| f.message.clone())
    }
}

/// What select fields choose from.
#[derive(Debug)]
pub(crate) struct Choices<'a> {
    pub programme: &'a Programme,
    pub orgs: &'a [Organisation],
    pub lang: Lang,
}

fn control(def: &FieldDef) -> &'static str {
    match (&def.kind, def.multiple) {
        (FieldType::Enum { .. } | FieldType::Org, _) => "select",
        (FieldType::Attachment, _) => "file",
        (FieldType::Party, _) => "party",
        (FieldType::Location, _) => "location",
        (FieldType::Bool, _) => "bool",
        (FieldType::Json { .. }, _) => "json",
        (_, true) => "lines",
        (FieldType::Text { max_len }, false) if *max_len > 200 => "textarea",
        (FieldType::Text { .. } | FieldType::Region, false) => "text",
        (FieldType::Number { .. }, false) => "number",
        (FieldType::Money { .. }, false) => "money",
        (FieldType::Date, false) => "date",
        (FieldType::DateTime, false) => "datetime",
    }
}

fn bound(value: Option<f64>) -> Option<String> {
    value.map(|v| if v.fract() == 0.0 { format!("{v:.0}") } else { v.to_string() })
}

fn options(def: &FieldDef, choices: &Choices<'_>, selected: &[&str]) -> Vec<Choice> {
    let choice = |value: String, label: String| Choice { selected: selected.contains(&value.as_str()), value, label };
    match &def.kind {
        FieldType::Enum { catalog } => choices
            .programme
            .catalogs
            .get(catalog)
            .map(|c| c.items.iter().map(|item| choice(item.code.clone(), item.name.clone())).collect())
            .unwrap_or_default(),
        FieldType::Org => choices.orgs.iter().map(|org| choice(org.id.to_string(), org.name.clone())).collect(),
        FieldType::Bool => vec![
            choice("true".into(), i18n::text(choices.lang, "form.yes")),
            choice("false".into(), i18n::text(choices.lang, "form.no")),
        ],
        _ => Vec::new(),
    }
}

/// The widgets of `defs` in a form called `form`, filled with what was posted (a form shown
/// again) and with the fault next to its field.
pub(crate) fn widgets(
    form: &str,
    defs: &[FieldDef],
    choices: &Choices<'_>,
    posted: Option<&Posted>,
    fault: Option<&Fault>,
) -> Vec<Widget> {
    defs.iter()
        .map(|def| {
            let name = format!("f.{}", def.code);
            let sent: Vec<&str> = posted.map(|p| p.all(&name).collect()).unwrap_or_default();
            let part = |p: &str| posted.map(|posted| posted.text(&format!("{name}.{p}"))).unwrap_or_default();
            let mut parts = BTreeMap::new();
            match def.kind {
                FieldType::Party => {
                    for p in ["name", "role", "id_number", "phone"] {
                        parts.insert(p, part(p));
                    }
                }
                FieldType::Location => {
                    for p in ["lon", "lat"] {
                        parts.insert(p, part(p));
                    }
                }
                _ => {}
            }
            let kept = if def.kind == FieldType::Attachment {
                sent.iter()
                    .filter(|v| Uuid::parse_str(v).is_ok())
                    .map(|id| Kept {
                        id: (*id).to_owned(),
                        name: posted.and_then(|p| p.first(&format!("fname.{id}"))).unwrap_or(id).to_owned(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let (min, max, step, max_len) = match &def.kind {
                FieldType::Number { min, max, integer } => {
                    (bound(*min), bound(*max), Some(if *integer { "1" } else { "any" }), None)
                }
                FieldType::Money { min_fen, max_fen } => {
                    (bound(min_fen.map(|f| f as f64 / 100.0)), bound(max_fen.map(|f| f as f64 / 100.0)), Some("0.01"), None)
                }
                FieldType::Text { max_len } => (None, None, None, Some(*max_len)),
                _ => (None, None, None, None),
            };
            Widget {
                id: format!("{form}-{}", def.code),
                label: def.label.clone(),
                control: control(def),
                required: def.required,
                multiple: def.multiple,
                options: options(def, choices, &sent),
                value: if def.multiple { sent.join("\n") } else { sent.first().copied().unwrap_or_default().to_owned() },
                parts,
                min,
                max,
                step,
                max_len,
                kept,
                error: Fault::for_field(fault, &def.code),
                name,
            }
        })
        .collect()
}

/// One posted text as the JSON the engine expects for `kind`; what does not parse is passed on
/// as text, so that the engine's message names the field.
fn scalar(kind: &FieldType, raw: &str) -> Json {
    let raw = raw.trim();
    match kind {
        FieldType::Number { .. } => {
            raw.parse::<f64>().ok().and_then(Number::from_f64).map_or_else(|| Json::from(raw), Json::Number)
        }
        FieldType::Bool if raw == "true" => Json::Bool(true),
        FieldType::Bool if raw == "false" => Json::Bool(false),
        _ => Json::from(raw),
    }
}

/// The posted values of `defs`, as the engine's input map. Empty fields are left out.
pub(crate) fn values(defs: &[FieldDef], posted: &Posted) -> Map<String, Json> {
    let mut out = Map::new();
    for def in defs {
        let name = format!("f.{}", def.code);
        let value = match def.kind {
            FieldType::Party => {
                let part = |p: &str| posted.text(&format!("{name}.{p}"));
                let [party_name, role, id_number, phone] = ["name", "role", "id_number", "phone"].map(part);
                if [&party_name, &role, &id_number, &phone].iter().all(|p| p.is_empty()) {
                    continue;
                }
                let mut party = Map::new();
                party.insert("name".into(), Json::from(party_name));
                party.insert("role".into(), Json::from(if role.is_empty() { def.label.clone() } else { role }));
                for (key, text) in [("id_number", id_number), ("phone", phone)] {
                    if !text.is_empty() {
                        party.insert(key.into(), Json::from(text));
                    }
                }
                Json::Object(party)
            }
            FieldType::Location => {
                let (lon, lat) = (posted.text(&format!("{name}.lon")), posted.text(&format!("{name}.lat")));
                if lon.is_empty() && lat.is_empty() {
                    continue;
                }
                let number = FieldType::Number { min: None, max: None, integer: false };
                serde_json::json!({ "lon": scalar(&number, &lon), "lat": scalar(&number, &lat) })
            }
            _ => {
                let raw: Vec<&str> = posted
                    .all(&name)
                    .flat_map(|v| if control(def) == "lines" { v.lines().collect::<Vec<_>>() } else { vec![v] })
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect();
                if raw.is_empty() {
                    continue;
                }
                if def.multiple {
                    Json::Array(raw.iter().map(|v| scalar(&def.kind, v)).collect())
                } else {
                    scalar(&def.kind, raw[0])
                }
            }
        };
        let value = if def.multiple && !value.is_array() { Json::Array(vec![value]) } else { value };
        out.insert(def.code.clone(), value);
    }
    out
}

/// Uploads the files posted for the attachment fields of `defs` and adds their ids (and names,
/// for a form shown again) to the posted values. A refused file is a fault of its field.
pub(crate) async fn upload(
    engine: &Engine,
    actor: &Actor,
    lang: Lang,
    defs: &[FieldDef],
    posted: &mut Posted,
) -> Result<(), Fault> {
    let files = std::mem::take(&mut posted.files);
    for file in files {
        let Some(def) = defs.iter().find(|d| d.kind == FieldType::Attachment && format!("f.{}", d.code) == file.field) else {
            continue;
        };
        let record =
            engine.upload_attachment(actor, &file.name, file.bytes).await.map_err(|e| Fault::on(&def.code, reason(lang, &e)))?;
        posted.pairs.push((file.field.clone(), record.id.to_string()));
        posted.pairs.push((format!("fname.{}", record.id), record.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(code: &str, kind: FieldType, multiple: bool) -> FieldDef {
        FieldDef { code: code.into(), label: code.into(), kind, required: false, multiple, personal: false, intake: true }
    }

    fn posted(pairs: &[(&str, &str)]) -> Posted {
        Posted { pairs: pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), files: Vec::new() }
    }

    #[test]
    fn posted_forms_become_engine_inputs() {
        let defs = vec![
            def("title", FieldType::Text { max_len: 200 }, false),
            def("rating", FieldType::Number { min: Some(1.0), max: Some(5.0), integer: true }, false),
            def("amount", FieldType::Money { min_fen: Some(0), max_fen: None }, false),
            def("agreed", FieldType::Bool, false),
            def("units", FieldType::Org, true),
            def("notes", FieldType::Text { max_len: 100 }, true),
            def("applicant", FieldType::Party, false),
            def("where", FieldType::Location, false),
            def("empty", FieldType::Date, false),
        ];
        let form = posted(&[
            ("f.title", " 邻里纠纷 "),
            ("f.rating", "4"),
            ("f.amount", "1234.50"),
            ("f.agreed", "false"),
            ("f.units", "a"),
            ("f.units", "b"),
            ("f.notes", "一\n\n二"),
            ("f.applicant.name", "张三"),
            ("f.applicant.phone", "13800000000"),
            ("f.where.lon", "121.4"),
            ("f.where.lat", "x"),
            ("f.empty", ""),
        ]);
        let json = Json::Object(values(&defs, &form));
        assert_eq!(json["title"], "邻里纠纷");
        assert_eq!(json["rating"], 4.0);
        assert_eq!(json["amount"], "1234.50");
        assert_eq!(json["agreed"], false);
        assert_eq!(json["units"], serde_json::json!(["a", "b"]));
        assert_eq!(json["notes"], serde_json::json!(["一", "二"]));
        assert_eq!(json["applicant"], serde_json::json!({"name": "张三", "role": "applicant", "phone": "13800000000"}));
        assert_eq!(
            json["where"],
            serde_json::json!({"lon": 121.4, "lat": "x"}),
            "what does not parse is left to the engine to name"
        );
        assert!(json.get("empty").is_none());
    }

    #[test]
    fn faults_sit_next_to_their_field() {
        let fault = Fault::on("title", "必填".into());
        assert_eq!(Fault::for_field(Some(&fault), "title").as_deref(), Some("必填"));
        assert_eq!(Fault::general(Some(&fault), &["title"]), None);
        assert_eq!(Fault::general(Some(&fault), &["other"]).as_deref(), Some("必填"));
    }
}
