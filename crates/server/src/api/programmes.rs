//! Programmes and their case kinds: what a client needs to build intake and action forms.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use fq_domain::programme::{ActionDef, CaseKind, FieldDef, FieldType, Programme};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/programmes", get(list)).route("/programmes/{code}", get(one))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ProgrammeBody {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub version: u32,
    pub roles: Vec<RoleBody>,
    pub kinds: Vec<KindBody>,
    /// Catalogs by code: their items (code, name).
    #[schema(value_type = Object)]
    pub catalogs: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RoleBody {
    pub code: String,
    pub name: String,
    pub assignment_only: bool,
    pub personal_data: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct KindBody {
    pub code: String,
    pub name: String,
    pub public: bool,
    pub priorities: Vec<String>,
    pub initial: String,
    pub intake_roles: Vec<String>,
    pub fields: Vec<FieldBody>,
    pub states: Vec<StateBody>,
    pub actions: Vec<ActionBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldBody {
    pub code: String,
    pub label: String,
    /// text, number, money, date, enum, bool, region, location, party, attachment, org.
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
    pub multiple: bool,
    pub personal: bool,
    /// For `enum`: the catalog.
    pub catalog: Option<String>,
    pub max_len: Option<usize>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StateBody {
    pub code: String,
    pub name: String,
    pub terminal: bool,
    pub pauses_clocks: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionBody {
    pub code: String,
    pub name: String,
    pub from: Vec<String>,
    pub to: Option<String>,
    pub roles: Vec<String>,
    pub required: Vec<String>,
    pub inputs: Vec<FieldBody>,
    pub guard: Option<String>,
}

pub(crate) fn field_body(f: &FieldDef) -> FieldBody {
    let (catalog, max_len, min, max) = match &f.kind {
        FieldType::Enum { catalog } => (Some(catalog.clone()), None, None, None),
        FieldType::Text { max_len } => (None, Some(*max_len), None, None),
        FieldType::Number { min, max, .. } => (None, None, *min, *max),
        FieldType::Money { min_fen, max_fen } => {
            (None, None, min_fen.map(|m| m as f64 / 100.0), max_fen.map(|m| m as f64 / 100.0))
        }
        _ => (None, None, None, None),
    };
    FieldBody {
        code: f.code.clone(),
        label: f.label.clone(),
        kind: f.kind.name().to_owned(),
        required: f.required,
        multiple: f.multiple,
        personal: f.personal,
        catalog,
        max_len,
        min,
        max,
    }
}

fn action_body(a: &ActionDef) -> ActionBody {
    ActionBody {
        code: a.code.clone(),
        name: a.name.clone(),
        from: a.from.clone(),
        to: a.to.clone(),
        roles: a.roles.iter().map(|r| r.to_string()).collect(),
        required: a.required.clone(),
        inputs: a.inputs.iter().map(field_body).collect(),
        guard: a.guard.as_ref().map(|g| g.source().to_owned()),
    }
}

fn kind_body(k: &CaseKind) -> KindBody {
    KindBody {
        code: k.code.clone(),
        name: k.name.clone(),
        public: k.public,
        priorities: k.priorities.clone(),
        initial: k.initial.clone(),
        intake_roles: k.intake_roles.iter().map(|r| r.to_string()).collect(),
        fields: k.fields.iter().map(field_body).collect(),
        states: k
            .states
            .iter()
            .map(|s| StateBody {
                code: s.code.clone(),
                name: s.name.clone(),
                terminal: s.terminal,
                pauses_clocks: s.pauses_clocks,
            })
            .collect(),
        actions: k.actions.iter().filter(|a| !a.system).map(action_body).collect(),
    }
}

pub(crate) fn programme_body(p: &Programme) -> ProgrammeBody {
    let catalogs = p
        .catalogs
        .iter()
        .map(|(code, c)| (code.clone(), serde_json::json!({ "name": c.name, "items": c.items.iter().map(|i| serde_json::json!({"code": i.code, "name": i.name, "parent": i.parent})).collect::<Vec<_>>() })))
        .collect::<serde_json::Map<_, _>>();
    ProgrammeBody {
        code: p.code.clone(),
        name: p.name.clone(),
        name_en: p.name_en.clone(),
        version: p.version,
        roles: p
            .roles
            .values()
            .map(|r| RoleBody {
                code: r.code.to_string(),
                name: r.name.clone(),
                assignment_only: r.assignment_only,
                personal_data: r.personal_data,
            })
            .collect(),
        kinds: p.kinds.iter().map(kind_body).collect(),
        catalogs: serde_json::Value::Object(catalogs),
    }
}

/// The programmes this server runs. Public: they describe forms, not cases.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "programmes", responses((status = 200, body = [ProgrammeBody])))]
pub(crate) async fn list(State(state): State<AppState>) -> Json<Vec<ProgrammeBody>> {
    Json(state.engine.programmes().all().map(|p| programme_body(p)).collect())
}

/// One programme.
#[utoipa::path(get, path = "/api/v1/programmes/{code}", tag = "programmes", params(("code" = String, Path)),
    responses((status = 200, body = ProgrammeBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn one(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<ProgrammeBody>, ApiError> {
    let programme = state.engine.programmes().get(&code).ok_or_else(|| {
        ApiError::new(axum::http::StatusCode::NOT_FOUND, "not_found", format!("programme {code} does not exist"))
    })?;
    Ok(Json(programme_body(programme)))
}
