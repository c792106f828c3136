//! Typed fields: what a case kind (or an action) collects, and the checking of submitted values.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::Coded;
use crate::region::RegionCode;

/// The type of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// Free text, at most `max_len` characters.
    Text {
        max_len: usize,
    },
    /// A number within optional bounds.
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
    },
    /// An amount in yuan with at most two decimals, stored in fen (cents).
    Money {
        min_fen: Option<i64>,
        max_fen: Option<i64>,
    },
    Date,
    /// An instant: RFC 3339 with a zone, or `YYYY-MM-DDTHH:MM` read as Beijing time (what a
    /// browser's date-and-time input sends). Stored in UTC.
    DateTime,
    /// One code of a catalog of the programme.
    Enum {
        catalog: String,
    },
    Bool,
    /// A region code (2 to 12 digits).
    Region,
    /// A WGS-84 point `{lon, lat}`.
    Location,
    /// A party to the case (name, role, optional ID number and phone).
    Party,
    /// An uploaded file, by its id.
    Attachment,
    /// An organisation, by its id.
    Org,
    /// Structured data from a machine interface (an inspection record's items, instrument
    /// values and photos), kept as sent: a JSON object or list of at most `max_len` bytes. Never
    /// asked on a form; the programme's own intake checks its shape.
    Json {
        max_len: usize,
    },
}

impl FieldType {
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text { .. } => "text",
            FieldType::Number { .. } => "number",
            FieldType::Money { .. } => "money",
            FieldType::Date => "date",
            FieldType::DateTime => "datetime",
            FieldType::Enum { .. } => "enum",
            FieldType::Bool => "bool",
            FieldType::Region => "region",
            FieldType::Location => "location",
            FieldType::Party => "party",
            FieldType::Attachment => "attachment",
            FieldType::Org => "org",
            FieldType::Json { .. } => "json",
        }
    }
}

/// One field of a case kind or action.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub code: String,
    pub label: String,
    pub kind: FieldType,
    pub required: bool,
    /// A list of values rather than one.
    pub multiple: bool,
    /// Personal information (ID and phone numbers): masked in lists unless the role may see it.
    pub personal: bool,
    /// Asked on the intake form and offered as an Open311 attribute; `false` for what is
    /// filled in later (an agreement's amount, a ruling's number).
    pub intake: bool,
}

/// A party to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    /// Applicant, respondent, third party... as the programme names it.
    #[serde(default)]
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// A checked value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum FieldValue {
    Text(String),
    Number(f64),
    /// Fen (1/100 yuan).
    Money(i64),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Enum(String),
    Bool(bool),
    Region(RegionCode),
    Location {
        lon: f64,
        lat: f64,
    },
    Party(Party),
    Attachment(Uuid),
    Org(Uuid),
    Json(Json),
    List(Vec<FieldValue>),
}

/// An instant from RFC 3339 with a zone, or from a local `YYYY-MM-DDTHH:MM[:SS]` in Beijing time.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.to_utc());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .and_then(|local| crate::calendar::beijing().from_local_datetime(&local).single())
        .map(|t| t.to_utc())
}

impl FieldValue {
    /// The value as plain JSON, for guards, documents and APIs.
    pub fn to_json(&self) -> Json {
        match self {
            FieldValue::Text(s) | FieldValue::Enum(s) => Json::from(s.clone()),
            FieldValue::Number(n) => Json::from(*n),
            FieldValue::Money(fen) => Json::from(*fen as f64 / 100.0),
            FieldValue::Date(d) => Json::from(d.to_string()),
            FieldValue::DateTime(t) => Json::from(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            FieldValue::Bool(b) => Json::from(*b),
            FieldValue::Region(r) => Json::from(r.to_string()),
            FieldValue::Location { lon, lat } => serde_json::json!({ "lon": lon, "lat": lat }),
            FieldValue::Party(p) => serde_json::to_value(p).unwrap_or(Json::Null),
            FieldValue::Attachment(id) | FieldValue::Org(id) => Json::from(id.to_string()),
            FieldValue::Json(value) => value.clone(),
            FieldValue::List(items) => Json::Array(items.iter().map(FieldValue::to_json).collect()),
        }
    }

    /// The organisation ids of an `org` field (one or a list).
    pub fn org_ids(&self) -> Vec<Uuid> {
        match self {
            FieldValue::Org(id) => vec![*id],
            FieldValue::List(items) => items.iter().flat_map(FieldValue::org_ids).collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a submitted value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl Coded for FieldError {
    fn code(&self) -> &'static str {
        self.code
    }
    fn field(&self) -> Option<String> {
        Some(self.field.clone())
    }
}

/// Catalog codes by catalog name, for checking enum values.
pub type CatalogCodes<'a> = &'a dyn Fn(&str, &str) -> bool;

impl FieldDef {
    fn fail(&self, code: &'static str, message: impl Into<String>) -> FieldError {
        FieldError { field: self.code.clone(), code, message: message.into() }
    }

    /// Checks one submitted JSON value. `in_catalog(catalog, code)` answers enum look-ups.
    pub fn check(&self, value: &Json, in_catalog: CatalogCodes<'_>) -> Result<FieldValue, FieldError> {
        if self.multiple {
            let Json::Array(items) = value else {
                return Err(self.fail("field_type", format!("{} expects a list", self.label)));
            };
            if self.required && items.is_empty() {
                return Err(self.fail("field_required", format!("{} needs at least one value", self.label)));
            }
            return items.iter().map(|item| self.check_one(item, in_catalog)).collect::<Result<_, _>>().map(FieldValue::List);
        }
        self.check_one(value, in_catalog)
    }

    fn check_one(&self, value: &Json, in_catalog: CatalogCodes<'_>) -> Result<FieldValue, FieldError> {
        let wrong = |expected: &str| self.fail("field_type", format!("{} expects {expected}", self.label));
        match &self.kind {
            FieldType::Text { max_len } => {
                let text = value.as_str().ok_or_else(|| wrong("text"))?.trim();
                if text.chars().count() > *max_len {
                    return Err(self.fail("field_too_long", format!("{} is longer than {max_len} characters", self.label)));
                }
                if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
                    return Err(self.fail("field_invalid", format!("{} contains control characters", self.label)));
                }
                Ok(FieldValue::Text(text.to_owned()))
            }
            FieldType::Number { min, max, integer } => {
                let n = value.as_f64().filter(|n| n.is_finite()).ok_or_else(|| wrong("a number"))?;
                if *integer && n.fract() != 0.0 {
                    return Err(wrong("a whole number"));
                }
                if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                    let range = format!(
                        "{} to {}",
                        min.map_or("-∞".into(), |m| m.to_string()),
                        max.map_or("∞".into(), |m| m.to_string())
                    );
                    return Err(self.fail("field_out_of_range", format!("{} must be between {range}", self.label)));
                }
                Ok(FieldValue::Number(n))
            }
            FieldType::Money { min_fen, max_fen } => {
                let fen = match value {
                    Json::Number(n) => n.as_f64().filter(|y| y.is_finite()).map(|yuan| (yuan * 100.0).round()),
                    Json::String(s) => s.trim().parse::<f64>().ok().filter(|y| y.is_finite()).map(|yuan| (yuan * 100.0).round()),
                    _ => None,
                }
                .ok_or_else(|| wrong("an amount in yuan"))?;
                if fen.abs() > 1e15 {
                    return Err(self.fail("field_out_of_range", format!("{} is too large", self.label)));
                }
                let fen = fen as i64;
                if min_fen.is_some_and(|m| fen < m) || max_fen.is_some_and(|m| fen > m) {
                    return Err(self.fail("field_out_of_range", format!("{} is outside its allowed range", self.label)));
                }
                Ok(FieldValue::Money(fen))
            }
            // Years outside 1900–2199 are typing mistakes here, and far dates break time arithmetic.
            FieldType::Date => value
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
                .filter(|d| (1900..2200).contains(&d.year()))
                .map(FieldValue::Date)
                .ok_or_else(|| wrong("a date (YYYY-MM-DD) between 1900 and 2199")),
            FieldType::DateTime => value
                .as_str()
                .and_then(|s| parse_instant(s.trim()))
                .filter(|t| (1900..2200).contains(&t.year()))
                .map(FieldValue::DateTime)
                .ok_or_else(|| wrong("a date and time (YYYY-MM-DDTHH:MM, Beijing time, or RFC 3339 with a zone)")),
            FieldType::Enum { catalog } => {
                let code = value.as_str().ok_or_else(|| wrong("a catalog code"))?.trim();
                if !in_catalog(catalog, code) {
                    return Err(
                        self.fail("field_not_in_catalog", format!("{code:?} is not in the catalog {catalog} of {}", self.label))
                    );
                }
                Ok(FieldValue::Enum(code.to_owned()))
            }
            FieldType::Bool => value.as_bool().map(FieldValue::Bool).ok_or_else(|| wrong("true or false")),
            FieldType::Region => {
                let text = value.as_str().ok_or_else(|| wrong("a region code"))?;
                RegionCode::parse(text.trim()).map(FieldValue::Region).map_err(|e| self.fail("field_invalid", e.to_string()))
            }
            FieldType::Location => {
                let lon = value.get("lon").and_then(Json::as_f64).ok_or_else(|| wrong("{lon, lat}"))?;
                let lat = value.get("lat").and_then(Json::as_f64).ok_or_else(|| wrong("{lon, lat}"))?;
                if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                    return Err(self.fail("field_out_of_range", format!("{} is not a WGS-84 point", self.label)));
                }
                Ok(FieldValue::Location { lon, lat })
            }
            FieldType::Party => {
                let party: Party =
                    serde_json::from_value(value.clone()).map_err(|_| wrong("a party {name, role, id_number, phone}"))?;
                let name =
                    crate::org::clean_name(&party.name, 100).ok_or_else(|| self.fail("field_invalid", "a party needs a name"))?;
                if let Some(id) = &party.id_number
                    && !valid_id_number(id)
                {
                    return Err(self.fail(
                        "field_invalid",
                        format!("{} has an ID number that is not 18 characters with a valid check digit", self.label),
                    ));
                }
                if let Some(phone) = &party.phone
                    && !(phone.len() >= 7
                        && phone.len() <= 20
                        && phone.chars().all(|c| c.is_ascii_digit() || c == '-' || c == '+'))
                {
                    return Err(self.fail("field_invalid", format!("{} has a phone number that is not digits", self.label)));
                }
                Ok(FieldValue::Party(Party { name, ..party }))
            }
            FieldType::Attachment => value
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .map(FieldValue::Attachment)
                .ok_or_else(|| wrong("an attachment id")),
            FieldType::Org => value
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .map(FieldValue::Org)
                .ok_or_else(|| wrong("an organisation id")),
            FieldType::Json { max_len } => {
                if !(value.is_object() || value.is_array()) {
                    return Err(wrong("a JSON object or list"));
                }
                if value.to_string().len() > *max_len {
                    return Err(self.fail("field_too_long", format!("{} is longer than {max_len} bytes", self.label)));
                }
                Ok(FieldValue::Json(value.clone()))
            }
        }
    }
}

/// Checks a mainland resident ID number (GB 11643-1999): 17 digits and a check character.
pub fn valid_id_number(text: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let chars: Vec<char> = text.chars().collect();
    if chars.len() != 18 || !chars[..17].iter().all(char::is_ascii_digit) {
        return false;
    }
    let sum: u32 = chars[..17].iter().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    CHECK[(sum % 11) as usize] == chars[17].to_ascii_uppercase()
}

/// Checks a whole submission against `defs`: every required field present, every value valid,
/// no field that is not defined. Errors name the first field at fault.
pub fn check_fields(
    defs: &[FieldDef],
    input: &serde_json::Map<String, Json>,
    in_catalog: CatalogCodes<'_>,
) -> Result<BTreeMap<String, FieldValue>, FieldError> {
    if let Some(unknown) = input.keys().find(|k| !defs.iter().any(|d| &d.code == *k)) {
        return Err(FieldError {
            field: unknown.clone(),
            code: "field_unknown",
            message: format!("{unknown} is not a field here"),
        });
    }
    let mut out = BTreeMap::new();
    for def in defs {
        match input.get(&def.code) {
            None | Some(Json::Null) => {
                if def.required {
                    return Err(def.fail("field_required", format!("{} is required", def.label)));
                }
            }
            Some(Json::String(s)) if s.trim().is_empty() && !def.multiple => {
                if def.required {
                    return Err(def.fail("field_required", format!("{} is required", def.label)));
                }
            }
            Some(value) => {
                out.insert(def.code.clone(), def.check(value, in_catalog)?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn def(code: &str, kind: FieldType, required: bool) -> FieldDef {
        FieldDef { code: code.into(), label: code.into(), kind, required, multiple: false, personal: false, intake: true }
    }

    fn catalog(name: &str, code: &str) -> bool {
        name == "category" && ["loan", "card"].contains(&code)
    }

    #[test]
    fn datetimes_are_read_in_beijing_time_or_with_their_zone() {
        let when = def("when", FieldType::DateTime, true);
        let utc = |text: &str| DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        for (text, expected) in [
            ("2026-03-16T09:30", "2026-03-16T01:30:00Z"),
            ("2026-03-16 09:30", "2026-03-16T01:30:00Z"),
            ("2026-03-16T09:30:15", "2026-03-16T01:30:15Z"),
            ("2026-03-16T09:30:00+08:00", "2026-03-16T01:30:00Z"),
            ("2026-03-16T01:30:00Z", "2026-03-16T01:30:00Z"),
        ] {
            let value = when.check(&Json::from(text), &catalog).unwrap();
            assert_eq!(value, FieldValue::DateTime(utc(expected)), "{text}");
            assert_eq!(value.to_json(), Json::from(expected), "{text}");
        }
        for bad in ["16 March", "2026-03-16", "2026-13-16T09:30", ""] {
            let err = when.check(&Json::from(bad), &catalog).unwrap_err();
            assert_eq!(err.code, "field_type", "{bad}");
        }
    }

    #[test]
    fn values_are_checked_by_type() {
        let defs = vec![
            def("title", FieldType::Text { max_len: 5 }, true),
            def("amount", FieldType::Money { min_fen: Some(0), max_fen: None }, false),
            def("category", FieldType::Enum { catalog: "category".into() }, false),
            def("when", FieldType::Date, false),
            def("where", FieldType::Location, false),
            def("count", FieldType::Number { min: Some(1.0), max: Some(10.0), integer: true }, false),
        ];
        let ok = json!({"title": " 欠款 ", "amount": "1234.56", "category": "loan", "when": "2026-03-01", "where": {"lon": 121.4, "lat": 28.6}, "count": 3});
        let checked = check_fields(&defs, ok.as_object().unwrap(), &catalog).unwrap();
        assert_eq!(checked["title"], FieldValue::Text("欠款".into()));
        assert_eq!(checked["amount"], FieldValue::Money(123_456));

        let cases = [
            (json!({"amount": 1}), "title", "field_required"),
            (json!({"title": "太长的标题文字"}), "title", "field_too_long"),
            (json!({"title": "a", "amount": -1}), "amount", "field_out_of_range"),
            (json!({"title": "a", "category": "gift"}), "category", "field_not_in_catalog"),
            (json!({"title": "a", "when": "2026-02-30"}), "when", "field_type"),
            (json!({"title": "a", "where": {"lon": 200, "lat": 0}}), "where", "field_out_of_range"),
            (json!({"title": "a", "count": 2.5}), "count", "field_type"),
            (json!({"title": "a", "colour": "red"}), "colour", "field_unknown"),
        ];
        for (input, field, code) in cases {
            let err = check_fields(&defs, input.as_object().unwrap(), &catalog).unwrap_err();
            assert_eq!((err.field.as_str(), err.code), (field, code), "{input}: {err}");
        }
    }

    #[test]
    fn parties_and_id_numbers() {
        // A well-formed ID number (check digit computed by the rule, not a real person).
        assert!(valid_id_number("11010519491231002X"));
        assert!(!valid_id_number("110105194912310021"));
        assert!(!valid_id_number("1101051949123100"));
        let party = def("applicant", FieldType::Party, true);
        let ok = party.check(
            &json!({"name": "张三", "role": "申请人", "id_number": "11010519491231002x", "phone": "13800000000"}),
            &catalog,
        );
        assert!(ok.is_ok(), "{ok:?}");
        let bad = party.check(&json!({"name": "张三", "id_number": "123"}), &catalog).unwrap_err();
        assert_eq!(bad.code, "field_invalid");
    }
}
