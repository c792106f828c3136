//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>): discovery at
//! `/open311/discovery.{json,xml}`, the endpoint at `/open311/v2/`. Public case kinds are the
//! services; their cases are the service requests. docs/OPEN311.md describes the mapping.
//!
//! Reading needs no credentials (nothing personal is ever shown); POST requests needs an
//! `api_key`, a fengqiao API token. The use cases are the engine's (`Engine::open311_*`); this
//! module parses parameters and writes the two formats.

mod body;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use fq_domain::calendar::beijing;
use fq_engine::{EngineError, Open311Query, Open311Status, Open311Submission};
use fq_store::StoreError;

use self::body::{
    CreatedBody, Discovery, Endpoint, Format, Open311Error, RequestBody, RequestsXml, ServiceBody, ServiceDefinition,
    ServicesXml, reply,
};
use crate::AppState;

/// The specification this endpoint implements.
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

/// When this endpoint's behaviour last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-11-27T00:00:00+08:00";

pub(crate) fn routes() -> Router<AppState> {
    let open311 = Router::new()
        .route("/{file}", get(discovery))
        .route("/v2/{file}", get(get_list).post(post_request))
        .route("/v2/services/{file}", get(service_definition))
        .route("/v2/requests/{file}", get(one_request))
        .fallback(unknown);
    Router::new().nest("/open311", open311)
}

/// Anything else under /open311: a GeoReport 404 (in XML if an `.xml` was asked for).
async fn unknown(uri: Uri) -> Response {
    let path = uri.path();
    not_a_resource(path.rsplit('/').next().unwrap_or(path))
}

impl From<EngineError> for Open311Error {
    fn from(err: EngineError) -> Open311Error {
        let status = match &err {
            EngineError::Invalid { .. } | EngineError::Refused { .. } => StatusCode::BAD_REQUEST,
            EngineError::Unauthenticated | EngineError::Forbidden(_) | EngineError::Denied { .. } => StatusCode::FORBIDDEN,
            EngineError::NotFound { .. } => StatusCode::NOT_FOUND,
            EngineError::Conflict { .. } | EngineError::Store(StoreError::Conflict { .. } | StoreError::StreamMoved { .. }) => {
                StatusCode::CONFLICT
            }
            EngineError::Store(StoreError::Unavailable { .. } | StoreError::Closed) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %err, "an Open311 request failed");
            return Open311Error::new(status, "the server could not complete the request; the error is in its log");
        }
        let description = match err {
            EngineError::Unauthenticated => "api_key is missing or invalid".to_owned(),
            EngineError::NotFound { entity, key } => format!("{entity} {key} was not found"),
            other => other.to_string(),
        };
        Open311Error::new(status, description)
    }
}

/// Answers with `result`'s error in `format`.
fn answer(format: Format, result: Result<Response, Open311Error>) -> Response {
    result.unwrap_or_else(|err| err.into_response_in(format))
}

fn not_a_resource(file: &str) -> Response {
    Open311Error::not_found(format!("{file} is not an Open311 resource: see /open311/discovery.json"))
        .into_response_in(Format::guess(file))
}

// ---- discovery ----

async fn discovery(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(("discovery", format)) = Format::split(&file) else { return not_a_resource(&file) };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| !h.is_empty());
    let scheme = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()).filter(|s| *s == "https").unwrap_or("http");
    let url = match host {
        Some(host) => format!("{scheme}://{host}/open311/v2"),
        None => "/open311/v2".to_owned(),
    };
    let body = Discovery {
        changeset: CHANGESET.into(),
        contact: "Ask the operators of this fengqiao server (枫桥 case engine).".into(),
        key_service: "An api_key is a fengqiao API token, issued by an administrator: \
                      fengqiao account token --login <login> --label open311. Its account needs the service's intake role \
                      over the region of each request. Reading needs no key."
            .into(),
        endpoints: vec![Endpoint {
            specification: SPECIFICATION.into(),
            url,
            changeset: CHANGESET.into(),
            kind: "production".into(),
            formats: vec!["text/xml", "application/json"],
        }],
    };
    reply(format, StatusCode::OK, &body, &body.xml())
}

// ---- services ----

async fn get_list(State(state): State<AppState>, Path(file): Path<String>, RawQuery(query): RawQuery) -> Response {
    match Format::split(&file) {
        Some(("services", format)) => {
            let services: Vec<ServiceBody> = state.engine.open311_services().iter().map(ServiceBody::from).collect();
            reply(format, StatusCode::OK, &services, &ServicesXml { service: &services })
        }
        Some(("requests", format)) => answer(format, list_requests(&state, format, query.as_deref()).await),
        _ => not_a_resource(&file),
    }
}

async fn service_definition(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, format)) = Format::split(&file) else { return not_a_resource(&file) };
    let result = state.engine.open311_service(code).map_err(Open311Error::from).map(|service| {
        let definition = ServiceDefinition::from(&service);
        reply(format, StatusCode::OK, &definition, &definition.xml())
    });
    answer(format, result)
}

// ---- reading requests ----

/// The parameters of a query string, in order (repeated names kept).
fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, Open311Error> {
    let Some(query) = query.filter(|q| !q.is_empty()) else { return Ok(Vec::new()) };
    let unreadable = |reason: String| Open311Error::bad_request(format!("the query string is unreadable: {reason}"));
    let uri: Uri = format!("/?{query}").parse().map_err(|e: axum::http::uri::InvalidUri| unreadable(e.to_string()))?;
    Query::<Vec<(String, String)>>::try_from_uri(&uri).map(|Query(pairs)| pairs).map_err(|r| unreadable(r.body_text()))
}

/// Every value of `name`, comma lists split ("can be declared multiple times, comma delimited").
fn values<'a>(params: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    params.iter().filter(|(k, _)| k == name).flat_map(|(_, v)| v.split(',')).map(str::trim).filter(|v| !v.is_empty()).collect()
}

/// The one value of `name`, if given.
fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, Open311Error> {
    let mut found = params.iter().filter(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let first = found.next();
    if found.next().is_some() {
        return Err(Open311Error::bad_request(format!("{name} may be given once")));
    }
    Ok(first)
}

/// A W3C datetime (ISO 8601 with a zone, e.g. 2010-01-01T00:00:00Z), or a date (midnight in
/// Beijing time).
fn parse_datetime(name: &str, text: &str) -> Result<DateTime<Utc>, Open311Error> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(at) = date.and_time(NaiveTime::MIN).and_local_timezone(beijing()).single()
    {
        return Ok(at.to_utc());
    }
    Err(Open311Error::bad_request(format!(
        "{name} {text:?} is not a W3C datetime with a time zone, such as 2026-01-01T00:00:00+08:00 or 2026-01-01T00:00:00Z"
    )))
}

async fn list_requests(state: &AppState, format: Format, query: Option<&str>) -> Result<Response, Open311Error> {
    let params = &query_pairs(query)?;
    let mut statuses = Vec::new();
    for status in values(params, "status") {
        statuses.push(
            Open311Status::parse(status)
                .ok_or_else(|| Open311Error::bad_request(format!("status {status:?} is neither open nor closed")))?,
        );
    }
    let query = Open311Query {
        service_request_ids: values(params, "service_request_id").into_iter().map(str::to_owned).collect(),
        service_codes: values(params, "service_code").into_iter().map(str::to_owned).collect(),
        start: single(params, "start_date")?.map(|t| parse_datetime("start_date", t)).transpose()?,
        end: single(params, "end_date")?.map(|t| parse_datetime("end_date", t)).transpose()?,
        statuses,
    };
    let requests = state.engine.open311_requests(&query).await?;
    let bodies: Vec<RequestBody> = requests.iter().map(RequestBody::from).collect();
    Ok(reply(format, StatusCode::OK, &bodies, &RequestsXml { request: &bodies }))
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((number, format)) = Format::split(&file) else { return not_a_resource(&file) };
    let result = state.engine.open311_request(number).await.map_err(Open311Error::from).map(|request| {
        let bodies = [RequestBody::from(&request)];
        reply(format, StatusCode::OK, &bodies, &RequestsXml { request: &bodies })
    });
    answer(format, result)
}

// ---- POST requests ----

/// `attribute[code]` or `attribute[code][]` → `code`.
fn attribute_code(name: &str) -> Option<&str> {
    let inner = name.strip_prefix("attribute[")?;
    let inner = inner.strip_suffix("[]").unwrap_or(inner);
    inner.strip_suffix(']').filter(|code| !code.is_empty() && !code.contains(['[', ']']))
}

fn number(params: &[(String, String)], name: &str) -> Result<Option<f64>, Open311Error> {
    single(params, name)?
        .map(|text| {
            text.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| Open311Error::bad_request(format!("{name} {text:?} is not a number")))
        })
        .transpose()
}

async fn post_request(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    match Format::split(&file) {
        Some(("requests", format)) => answer(format, submit(&state, format, query.as_deref(), form).await),
        _ => not_a_resource(&file),
    }
}

async fn submit(
    state: &AppState,
    format: Format,
    query: Option<&str>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, Open311Error> {
    let Form(params) = form.map_err(|rejection| {
        Open311Error::bad_request(format!("send the parameters as application/x-www-form-urlencoded: {}", rejection.body_text()))
    })?;
    // The key belongs in the body; some clients put it in the query string.
    let in_query = query_pairs(query)?;
    let api_key = single(&params, "api_key")?.or(single(&in_query, "api_key")?);
    let Some(api_key) = api_key else {
        return Err(Open311Error::new(StatusCode::FORBIDDEN, "api_key is required to submit a request"));
    };
    let actor = state.engine.authenticate_token(api_key).await?;
    let service_code =
        single(&params, "service_code")?.ok_or_else(|| Open311Error::bad_request("service_code is required"))?.to_owned();
    let text = |name: &str| single(&params, name).map(|v| v.map(str::to_owned));
    let submission = Open311Submission {
        service_code,
        lat: number(&params, "lat")?,
        long: number(&params, "long")?,
        address_string: text("address_string")?,
        address_id: text("address_id")?,
        description: text("description")?,
        first_name: text("first_name")?,
        last_name: text("last_name")?,
        phone: text("phone")?,
        attributes: params
            .iter()
            .filter_map(|(name, value)| attribute_code(name).map(|code| (code.to_owned(), value.clone())))
            .collect(),
    };
    let created = state.engine.open311_submit(&actor, submission).await?;
    let notice = created
        .expected_datetime
        .map(|due| format!("{}；期限 {}", created.status_notes, body::datetime(due)))
        .unwrap_or_else(|| created.status_notes.clone());
    let bodies = [CreatedBody { service_request_id: created.service_request_id, service_notice: Some(notice), account_id: None }];
    Ok(reply(format, StatusCode::OK, &bodies, &RequestsXml { request: &bodies }))
}

impl IntoResponse for Open311Error {
    fn into_response(self) -> Response {
        self.into_response_in(Format::Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_unwrapped() {
        assert_eq!(attribute_code("attribute[category]"), Some("category"));
        assert_eq!(attribute_code("attribute[tags][]"), Some("tags"));
        assert_eq!(attribute_code("attribute[]"), None);
        assert_eq!(attribute_code("attribute[a][b]"), None);
        assert_eq!(attribute_code("description"), None);
    }

    #[test]
    fn comma_lists_and_repeats_both_count() {
        let params = vec![
            ("status".to_owned(), "open, closed".to_owned()),
            ("status".to_owned(), "open".to_owned()),
            ("x".to_owned(), "y".to_owned()),
        ];
        assert_eq!(values(&params, "status"), vec!["open", "closed", "open"]);
        assert!(single(&params, "status").is_err());
        assert_eq!(single(&params, "x").unwrap(), Some("y"));
    }

    #[test]
    fn dates_need_a_zone_or_are_beijing_days() {
        assert_eq!(parse_datetime("d", "2026-01-01T00:00:00Z").unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
        assert_eq!(parse_datetime("d", "2026-01-01").unwrap().to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert!(parse_datetime("d", "2026-01-01T00:00:00").is_err());
        assert!(parse_datetime("d", "yesterday").is_err());
    }
}
