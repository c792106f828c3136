//! Cases: open, list (filters, sorting, paging), read with the timeline and attachments, reveal
//! personal information (journaled), act, and the next assigned case.

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use fq_domain::case::CaseId;
use fq_engine::{CaseQuery, CaseView, OpenCase, TimelineEntry};
use fq_store::{AttachmentRecord, CaseSummary};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json_};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list).post(open))
        .route("/cases/next", get(next))
        .route("/cases/{id}", get(one))
        .route("/cases/{id}/reveal", post(reveal))
        .route("/cases/{id}/actions/{action}", post(act))
}

/// A case body as the engine keeps it (fields, clocks, sub-tasks, cards...).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseBody {
    #[schema(value_type = Object)]
    pub case: Json_,
    pub programme_name: String,
    pub kind_name: String,
    pub state_name: String,
    /// Actions the caller may take now.
    pub actions: Vec<ActionOfferBody>,
    /// Personal information is masked in `case`.
    pub masked: bool,
    /// The caller may reveal it (`POST /cases/{id}/reveal`, journaled).
    pub may_reveal: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionOfferBody {
    pub code: String,
    pub name: String,
}

impl From<CaseView> for CaseBody {
    fn from(view: CaseView) -> CaseBody {
        CaseBody {
            case: serde_json::to_value(&view.case).unwrap_or(Json_::Null),
            programme_name: view.programme_name,
            kind_name: view.kind_name,
            state_name: view.state_name,
            actions: view.actions.into_iter().map(|a| ActionOfferBody { code: a.code, name: a.name }).collect(),
            masked: view.masked,
            may_reveal: view.may_reveal,
        }
    }
}

/// A case with its history and files.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseDetail {
    #[serde(flatten)]
    pub view: CaseBody,
    pub timeline: Vec<TimelineBody>,
    pub attachments: Vec<AttachmentBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TimelineBody {
    /// The journal sequence number.
    pub seq: u64,
    /// `case.created`, `case.acted`...
    pub kind: String,
    pub actor: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// When it really happened, when that differs from when it was recorded (entered later).
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    #[schema(value_type = Object)]
    pub event: Json_,
}

impl From<TimelineEntry> for TimelineBody {
    fn from(e: TimelineEntry) -> TimelineBody {
        TimelineBody {
            seq: e.seq,
            kind: e.kind,
            actor: e.actor,
            recorded_at: e.recorded_at,
            occurred_at: e.occurred_at,
            event: e.event,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttachmentBody {
    pub id: Uuid,
    pub case_id: Option<Uuid>,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Hex BLAKE3 of the bytes.
    pub blake3: String,
    pub uploaded_by: String,
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
}

impl From<AttachmentRecord> for AttachmentBody {
    fn from(a: AttachmentRecord) -> AttachmentBody {
        AttachmentBody {
            id: a.id,
            case_id: a.case_id.map(|c| c.0),
            name: a.name,
            content_type: a.content_type,
            size: a.size,
            blake3: a.blake3,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CaseRow {
    pub id: Uuid,
    pub number: String,
    pub programme: String,
    pub kind: String,
    pub state: String,
    pub priority: String,
    pub region: String,
    pub unit: Option<Uuid>,
    pub person: Option<Uuid>,
    pub title: String,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The earliest running deadline.
    pub due_at: Option<chrono::DateTime<chrono::Utc>>,
    pub yellow_cards: u32,
    pub red_cards: u32,
}

impl From<CaseSummary> for CaseRow {
    fn from(c: CaseSummary) -> CaseRow {
        CaseRow {
            id: c.id.0,
            number: c.number,
            programme: c.programme,
            kind: c.kind,
            state: c.state,
            priority: c.priority,
            region: c.region.to_string(),
            unit: c.unit.map(|u| u.0),
            person: c.person.map(|p| p.0),
            title: c.title,
            opened_at: c.opened_at,
            closed_at: c.closed_at,
            due_at: c.due_at,
            yellow_cards: c.yellow_cards,
            red_cards: c.red_cards,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CasePage {
    pub items: Vec<CaseRow>,
    /// How many cases match the filters in all (only with `count=true`).
    pub total: Option<u64>,
    /// Pass as `before` for the next page (newest-first order only).
    pub next_before: Option<String>,
}

/// List filters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Programme code, e.g. `demo`.
    programme: String,
    kind: Option<String>,
    state: Option<String>,
    /// Region code within your scope.
    region: Option<String>,
    /// Only the cases of your own unit.
    #[serde(default)]
    mine: bool,
    #[serde(default)]
    open: bool,
    /// Open cases past their earliest deadline.
    #[serde(default)]
    overdue: bool,
    /// Cases with a yellow or red card.
    #[serde(default)]
    carded: bool,
    /// Case number or words of the title.
    text: Option<String>,
    /// `number` (newest first), `opened` or `due`.
    sort: Option<String>,
    before: Option<String>,
    offset: Option<u32>,
    /// 1 to 500, default 50.
    limit: Option<u32>,
    /// Also count all matching cases.
    #[serde(default)]
    count: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    programme: String,
    kind: String,
    priority: Option<String>,
    /// Region code (2 to 12 digits) where the matter is.
    region: String,
    grid: Option<String>,
    /// How it came in: station, online, hotline, referral...
    channel: Option<String>,
    intake_org: Option<Uuid>,
    /// The kind's fields, by code.
    #[schema(value_type = Object)]
    #[serde(default)]
    fields: Map<String, Json_>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActBody {
    /// The action's inputs, by code.
    #[schema(value_type = Object)]
    #[serde(default)]
    inputs: Map<String, Json_>,
    /// Refuse (409 `case_changed`) if the case moved past this version.
    expected_version: Option<u64>,
}

fn case_id(id: &str) -> Result<CaseId, ApiError> {
    Uuid::parse_str(id)
        .map(CaseId)
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("case {id} does not exist")).with_field("id"))
}

/// Opens a case.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases", request_body = OpenBody,
    responses((status = 201, body = CaseBody), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn open(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<OpenBody>,
) -> Result<(StatusCode, Json<CaseBody>), ApiError> {
    let request = OpenCase {
        programme: body.programme,
        kind: body.kind,
        priority: body.priority,
        region: body.region,
        grid: body.grid,
        channel: body.channel.unwrap_or_else(|| "online".into()),
        intake_org: body.intake_org,
        fields: body.fields,
    };
    let view = state.engine.open_case(&actor, request).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// Lists cases within the caller's scope.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases", params(ListParams),
    responses((status = 200, body = CasePage), (status = 403, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<CasePage>, ApiError> {
    let query = CaseQuery {
        programme: p.programme,
        kind: p.kind,
        state: p.state,
        region: p.region,
        mine: p.mine,
        open_only: p.open,
        overdue: p.overdue,
        carded: p.carded,
        text: p.text,
        sort: p.sort,
        before: p.before,
        offset: p.offset,
        limit: p.limit,
    };
    let total = if p.count { Some(state.engine.count_cases(&actor, query.clone()).await?) } else { None };
    let newest_first = query.sort.as_deref().is_none_or(|s| s == "number");
    let limit = query.limit.unwrap_or(50).clamp(1, 500) as usize;
    let items: Vec<CaseRow> = state.engine.list_cases(&actor, query).await?.into_iter().map(CaseRow::from).collect();
    let next_before = (newest_first && items.len() == limit).then(|| items.last().map(|c| c.number.clone())).flatten();
    Ok(Json(CasePage { items, total, next_before }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NextParams {
    programme: String,
}

/// The caller's oldest open case assigned to them personally (204 when none).
#[utoipa::path(get, path = "/api/v1/cases/next", tag = "cases", params(NextParams),
    responses((status = 200, body = CaseBody), (status = 204)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn next(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<NextParams>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    Ok(match state.engine.next_assigned_case(&actor, &p.programme).await? {
        Some(view) => Json(CaseBody::from(view)).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn detail(state: &AppState, view: CaseView) -> Result<CaseDetail, ApiError> {
    let (view, timeline, attachments) = state.engine.case_extras(view).await?;
    Ok(CaseDetail {
        view: view.into(),
        timeline: timeline.into_iter().map(TimelineBody::from).collect(),
        attachments: attachments.into_iter().map(AttachmentBody::from).collect(),
    })
}

/// A case with its timeline and attachments (personal information masked).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases", params(("id" = String, Path, description = "case id or number")),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn one(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let view = state.engine.find_case(&actor, &id).await?;
    Ok(Json(detail(&state, view).await?))
}

/// The case with personal information shown; journaled. Needs a role allowed to see it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/reveal", tag = "cases", params(("id" = String, Path)),
    responses((status = 200, body = CaseDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn reveal(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<CaseDetail>, ApiError> {
    let view = state.engine.reveal_case(&actor, case_id(&id)?).await?;
    Ok(Json(detail(&state, view).await?))
}

/// Takes an action on a case.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions/{action}", tag = "cases", request_body = ActBody,
    params(("id" = String, Path), ("action" = String, Path)),
    responses((status = 200, body = CaseBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn act(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, action)): Path<(String, String)>,
    ApiJson(body): ApiJson<ActBody>,
) -> Result<Json<CaseBody>, ApiError> {
    let view = state.engine.act_on_case(&actor, case_id(&id)?, &action, body.inputs, body.expected_version).await?;
    Ok(Json(view.into()))
}
