//! `POST /cases/{number}/documents/{code}`: a case's document (调解申请书, 调解协议书,
//! 司法确认申请书) rendered to PDF from the programme's typst template. A POST with the form's
//! CSRF token, like revealing personal data: the document carries it, and each one produced is
//! journaled by the engine. The data the templates receive is listed in docs/DOCUMENTS.md.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use fq_domain::calendar::beijing;
use fq_domain::case::Case;
use fq_domain::org::OrgKind;
use fq_domain::programme::{CaseKind, FieldType, FieldValue, Programme};
use fq_domain::region::RegionLevel;
use fq_engine::{EngineError, figure_kind};
use serde_json::{Map, Value as Json, json};

use super::display::{Names, is_demo, yuan};
use super::forms::Posted;
use super::i18n::{self, Lang};
use super::layout::{self, Page};
use super::viewer::Viewer;
use crate::AppState;

/// A date as documents write it: 2026年11月27日.
fn chinese_date(day: chrono::NaiveDate) -> String {
    day.format("%Y年%-m月%-d日").to_string()
}

fn chinese_day(at: DateTime<Utc>) -> String {
    chinese_date(at.with_timezone(&beijing()).date_naive())
}

/// Every field of the case as text for the template, by the kind's definitions.
fn field_texts(programme: &Programme, kind: &CaseKind, case: &Case) -> Map<String, Json> {
    let mut out = Map::new();
    for def in &kind.fields {
        let Some(value) = case.fields.get(&def.code) else { continue };
        let shown = match (value, &def.kind) {
            (FieldValue::Text(t), _) => json!(t),
            (FieldValue::Money(fen), _) => json!(yuan(*fen)),
            (FieldValue::Number(n), _) => json!(n.to_string()),
            (FieldValue::Date(d), _) => json!(chinese_date(*d)),
            (FieldValue::DateTime(t), _) => json!(t.with_timezone(&beijing()).format("%Y年%-m月%-d日 %H:%M").to_string()),
            (FieldValue::Enum(code), FieldType::Enum { .. }) => json!(programme.enum_name(def, code)),
            (FieldValue::Bool(b), _) => json!(if *b { "是" } else { "否" }),
            (FieldValue::Party(p), _) => json!({
                "name": p.name,
                "role": if p.role.is_empty() { def.label.clone() } else { p.role.clone() },
                "id_number": p.id_number,
                "phone": p.phone,
            }),
            _ => continue,
        };
        out.insert(def.code.clone(), shown);
    }
    out
}

async fn document_data(
    state: &AppState,
    lang: Lang,
    programme: &Programme,
    kind: &CaseKind,
    case: &Case,
) -> Result<Json, EngineError> {
    let engine = &state.engine;
    let mut names = Names::new(engine);
    let mut data = field_texts(programme, kind, case);
    let fen = |field: &Option<String>| match field.as_ref().and_then(|f| case.fields.get(f)) {
        Some(FieldValue::Money(fen)) => Some(*fen),
        _ => None,
    };
    let figures = figure_kind(programme).map(|k| k.figures.clone()).unwrap_or_default();
    if let Some(agreed) = fen(&figures.agreed_amount) {
        data.insert("agreed_amount_capital".into(), json!(fq_documents::yuan_in_capitals(agreed)));
    }
    let intake_unit = match case.intake_org {
        Some(org) => Some(names.org(org.0).await),
        None => None,
    };
    let organisation = match case.unit {
        Some(unit) => Some(names.org(unit.0).await),
        None => None,
    };
    let mut mediators = Vec::new();
    if let Some(person) = case.person {
        mediators.push(names.actor(lang, &format!("account:{person}")).await);
    }
    // The court of the case's county, for the judicial-confirmation application.
    let county = case.region.at_level(RegionLevel::County).unwrap_or_else(|| case.region.clone());
    let court = engine
        .organisations_within(&fq_domain::actor::Actor::System, &county)
        .await?
        .into_iter()
        .find(|o| o.kind == OrgKind::Court && o.parent.is_none())
        .map(|o| o.name);
    let agreement_date = case.outcome.as_ref().and_then(|o| o.at).map(chinese_day);
    let title = case.fields.get("title").and_then(|v| match v {
        FieldValue::Text(t) => Some(t.clone()),
        _ => None,
    });
    // The respondent institution stands in for a respondent party not entered separately; in
    // an agreement the respondent pays the applicant.
    if !data.contains_key("respondent")
        && let Some(Json::String(institution)) = data.get("institution_name").cloned()
    {
        data.insert("respondent".into(), json!({ "name": institution, "role": "被申请人" }));
    }
    let name_of = |party: &str| data.get(party).and_then(|p| p.get("name")).cloned();
    if let (Some(payer), Some(payee)) = (name_of("respondent"), name_of("applicant")) {
        data.insert("payer".into(), payer);
        data.insert("payee".into(), payee);
    }
    data.insert("programme".into(), json!(programme.name));
    data.insert("number".into(), json!(case.number));
    data.insert("channel".into(), json!(i18n::text(lang, &format!("case.channel_{}", case.channel))));
    data.insert("intake_unit".into(), json!(intake_unit));
    data.insert("region".into(), json!(names.place(&case.region).await));
    data.insert("organisation".into(), json!(organisation));
    data.insert("mediators".into(), json!(mediators));
    data.insert("court".into(), json!(court));
    data.insert("agreement_date".into(), json!(agreement_date));
    data.insert("date".into(), json!(chinese_day(engine.current_time())));
    data.insert("demo".into(), json!(title.as_deref().is_some_and(is_demo)));
    // Missing values are absent rather than null: the templates print a blank line to fill in.
    data.retain(|_, v| !v.is_null());
    Ok(Json::Object(data))
}

/// `POST /cases/{number}/documents/{code}`.
pub(crate) async fn produce(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((number, code)): Path<(String, String)>,
    posted: Posted,
) -> Page {
    if !viewer.csrf_ok(&posted) {
        return Err(layout::csrf_refused(&state, &viewer));
    }
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let id = state.engine.find_case(&viewer.actor, &number).await.map_err(fail)?.case.id;
    let (view, document) = state.engine.case_for_document(&viewer.actor, id, &code).await.map_err(fail)?;
    let programme = state
        .engine
        .programmes()
        .get(&view.case.programme)
        .cloned()
        .ok_or_else(|| fail(EngineError::NotFound { entity: "programme", key: view.case.programme.clone() }))?;
    let kind = programme
        .kind(&view.case.kind)
        .ok_or_else(|| fail(EngineError::NotFound { entity: "case kind", key: view.case.kind.clone() }))?;
    let data = document_data(&state, viewer.lang, &programme, kind, &view.case).await.map_err(fail)?;
    let template_name = format!("programmes/{}/{}", programme.code, document.template);
    let rendered = tokio::task::spawn_blocking(move || fq_documents::render_pdf(&template_name, &document.source, &data))
        .await
        .map_err(|e| fail(EngineError::Store(fq_store::StoreError::Backend(format!("rendering stopped: {e}")))))?;
    let bytes = match rendered {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::error!(code = e.code, error = %e.message, "a document template failed");
            return Err(layout::error_page(
                &state,
                &viewer,
                StatusCode::INTERNAL_SERVER_ERROR,
                &i18n::text(viewer.lang, "doc.failed_title"),
                &format!("[{}] {}", e.code, e.message),
            ));
        }
    };
    let file = format!("{}-{}.pdf", view.case.number, code);
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&format!("inline; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
