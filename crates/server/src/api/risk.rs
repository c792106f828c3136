//! Risk events pushed by their sources (`data/risk/sources-v1.toml`), each with its own feed
//! account and that account's API tokens; the forecast per grid of a county (the heat map's
//! forecast layer as data, for dashboards and other systems); and the 72-hour trace of a person
//! or vessel (P6) for the risk programme's analysts, from their counties' position feeds.

// utoipa's `path` macro names each IntoParams type with its module path, which this lint flags.
#![allow(unused_qualifications)]

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use fq_domain::calendar::{local_date, start_of_day};
use fq_domain::region::RegionCode;
use fq_engine::{HeatQuery, Horizon, IngestReport, RISK_EVENTS};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};

/// The largest body one push may carry.
const MAX_PUSH_BYTES: usize = 16 * 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/risk/sources/{code}/events", post(push).layer(axum::extract::DefaultBodyLimit::max(MAX_PUSH_BYTES)))
        .route("/risk/forecast", get(forecast))
        .route("/risk/checks", get(track_record))
        .route("/risk/trace", post(trace))
        .route("/risk/positions/{source}", post(push_positions).layer(axum::extract::DefaultBodyLimit::max(MAX_PUSH_BYTES)))
}

/// Pushes a file of events of a source (CSV or JSON, as the source is defined). All or nothing:
/// a body with a bad row stores nothing and answers 422 with the error envelope
/// (`events_invalid`) and every bad row in `bad`, each with its line, its own stable `code`
/// (`time_invalid`, `time_out_of_range`, `category_unmapped`, `id_duplicate`, `region_unknown`,
/// `place_required`, `number_invalid`, `id_required`, `id_too_long`, `file_invalid`,
/// `header_invalid`), the column and a message; ids sent before are skipped. Only the source's
/// feed account may push.
#[utoipa::path(post, path = "/api/v1/risk/sources/{code}/events", tag = "risk", params(("code" = String, Path, description = "source code")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 422, body = Object), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn push(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<PushReply>), ApiError> {
    let report = state.engine.ingest_risk_events(&actor, &code, &body).await?;
    if report.bad.is_empty() {
        return Ok((StatusCode::OK, Json(PushReply { error: None, report })));
    }
    // The envelope every refusal carries, beside the rows named (each with its own code).
    let error = json!({
        "code": "events_invalid",
        "message": format!("{} bad rows; nothing was stored", report.bad.len()),
        "field": Option::<String>::None,
    });
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(PushReply { error: Some(error), report })))
}

/// What a push answers: the ingest report, and on a refusal the error envelope.
#[derive(Debug, Serialize)]
pub(crate) struct PushReply {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    #[serde(flatten)]
    report: IngestReport,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ForecastParams {
    /// A county code (six digits).
    county: String,
    /// One risk category (default: every category among the county's events, summed).
    category: Option<String>,
    /// The first day of the forecast (YYYY-MM-DD, Beijing time; default today, and never later:
    /// the days after today have not happened).
    day: Option<NaiveDate>,
    /// The days forecast: 1d, 7d (the default) or 30d.
    horizon: Option<String>,
}

/// One grid's forecast.
#[derive(Debug, Serialize)]
pub(crate) struct GridForecast {
    code: String,
    name: String,
    /// Expected events over the horizon, and the probability of at least one.
    expected: f64,
    probability: f64,
    /// The warning level the probability reaches (trend not applied), if any; a week's forecast
    /// only, the horizon the level thresholds are set for.
    level: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ForecastReply {
    county: String,
    day: NaiveDate,
    horizon_days: i32,
    categories: Vec<String>,
    skipped: Vec<String>,
    /// How many of the county's events, stored before `day`, the model was fitted on.
    events: usize,
    /// When the forecast was fitted (the oldest category's; by the nightly run or the first
    /// request for it, in any server process).
    fitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The level thresholds the grids' levels were read by: a week's forecast only (null for a
    /// day's or a month's, which have no levels).
    thresholds: Option<fq_risk::levels::Thresholds>,
    /// How the forecast did, once its horizon is over (null before, or when no event of its
    /// categories was stored for it): the 5% of the model's cells (at least one) it ranked highest against
    /// the events that happened (`captured`, `pai`, `pei`), beside the cells with the most
    /// events in the horizon before (`previous_captured`, `previous_pai`).
    check: Option<fq_risk::check::ForecastCheck>,
    /// Once its horizon has passed, whether its probabilities held over the study cells, quiet
    /// horizon or not: `cells`, the Brier score `brier` and the `reliability` table (bins of the
    /// probability of at least one event, with the share that had one).
    calibration: Option<fq_risk::check::Calibrated>,
    /// With a forecast from today: the last forecasts of the horizon that are over, latest
    /// first: those the database still keeps (four days or weeks, one month), each with the
    /// categories whose forecasts were held, those not held, and its check made now (none is
    /// fitted for this), or else the stored check of its day; then the older checks of the
    /// track record (预测检验档案), each with
    /// `checked_at`, the night it was checked (later reports are not counted in it). A fortnight
    /// of days, a quarter of weeks, a year of months in all.
    record: Vec<fq_engine::PastForecast>,
    /// The record's periods added up: `periods` with a check, their `events`, those in the
    /// model's flagged cells (`captured`) and in as many picked by the previous counts
    /// (`previous_captured`), and the periods the model held more (`ahead`) or fewer (`behind`);
    /// whether the probabilities held over every study cell of them (`brier`, `reliability`).
    record_summary: Option<fq_engine::RecordSummary>,
    /// Every grid of the county, likeliest first.
    grids: Vec<GridForecast>,
}

/// The forecast for every grid of a county over the day, week (default) or month from a day: our
/// model fitted on the events stored before the day, per grid the expected count, the
/// probability of at least one event and, for a week, the warning level it reaches. Readers of
/// the risk programme over the county and leaders.
#[utoipa::path(get, path = "/api/v1/risk/forecast", tag = "risk", params(ForecastParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn forecast(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<ForecastParams>,
) -> Result<Json<ForecastReply>, ApiError> {
    let (county, horizon) = county_and_horizon(&p.county, p.horizon.as_deref())?;
    // Today by default: the nightly run's forecast, fitted on the whole days before it (a later
    // day is brought back to today by the engine).
    let day = p.day.unwrap_or_else(|| local_date(state.engine.current_time()));
    asked_day(day, "day", "day_invalid")?;
    let query = HeatQuery {
        county: county.clone(),
        programme: Some(RISK_EVENTS.to_owned()),
        category: p.category.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()),
        from: start_of_day(day - chrono::Duration::days(90)),
        to: start_of_day(day),
        forecast: Some(horizon),
        checks: true,
    };
    let map = state.engine.heat_map(&actor, &query).await?;
    let layer =
        map.forecast.ok_or_else(|| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "forecast_missing", "no forecast"))?;
    let mut grids: Vec<GridForecast> = map
        .cells
        .into_iter()
        .map(|c| {
            let probability = c.probability();
            let level = layer.thresholds.and_then(|t| t.level(probability)).map(fq_risk::levels::Level::code);
            GridForecast { code: c.code, name: c.name, expected: c.expected, probability, level }
        })
        .collect();
    grids.sort_by(|a, b| b.expected.total_cmp(&a.expected).then(a.code.cmp(&b.code)));
    Ok(Json(ForecastReply {
        county: county.to_string(),
        day: layer.day,
        horizon_days: layer.horizon_days,
        categories: layer.categories,
        skipped: layer.skipped,
        events: layer.events,
        fitted_at: layer.fitted_at,
        thresholds: layer.thresholds,
        check: layer.check,
        calibration: layer.calibration,
        record: layer.record,
        record_summary: layer.record_summary,
        grids,
    }))
}

/// Refuses a day outside the years one may ask about (a signed or far year parses, then
/// breaks the day arithmetic done here before the engine sees it), naming the field.
fn asked_day(day: NaiveDate, field: &str, code: &'static str) -> Result<(), ApiError> {
    if fq_domain::calendar::plausible_day(day) {
        return Ok(());
    }
    let years = fq_domain::calendar::INPUT_YEARS;
    let message = format!("{day} is outside the years {} to {}", years.start, years.end - 1);
    Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field))
}

/// The county and the horizon (a week by default) of a forecast's query, each named when bad.
fn county_and_horizon(county: &str, horizon: Option<&str>) -> Result<(RegionCode, Horizon), ApiError> {
    let county = RegionCode::parse(county.trim()).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("county")
    })?;
    let horizon = Horizon::or_week(horizon).map_err(|text| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "horizon_invalid", format!("{text:?} is not 1d, 7d or 30d"))
            .with_field("horizon")
    })?;
    Ok((county, horizon))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RecordParams {
    /// A county code (six digits).
    county: String,
    /// One risk category (default: every category summed).
    category: Option<String>,
    /// The periods' length: 1d, 7d (the default) or 30d.
    horizon: Option<String>,
    /// The first day of the earliest period to list (YYYY-MM-DD).
    from: NaiveDate,
    /// The last day of the latest period to list (default yesterday, Beijing time); at most
    /// three years after `from`.
    to: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub(crate) struct RecordReply {
    county: String,
    category: Option<String>,
    horizon_days: i32,
    /// The stored checks (预测检验档案) of the periods in the span, one after the other back
    /// from `to`, latest first: each with its categories, its check (null when nothing
    /// happened), its `calibration` and when it was checked (`checked_at`).
    record: Vec<fq_engine::PastForecast>,
    /// Those periods added up, as `record_summary` of the forecast.
    summary: Option<fq_engine::RecordSummary>,
}

/// The track record of a county's forecasts over a span: how each period's forecast did, checked
/// the night its horizon ended (or backfilled by an operator), and the sum. Readers of the risk
/// programme over the county and leaders, as the forecast.
#[utoipa::path(get, path = "/api/v1/risk/checks", tag = "risk", params(RecordParams),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn track_record(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(p): ApiQuery<RecordParams>,
) -> Result<Json<RecordReply>, ApiError> {
    let (county, horizon) = county_and_horizon(&p.county, p.horizon.as_deref())?;
    let to = p.to.unwrap_or_else(|| local_date(state.engine.current_time()) - chrono::Duration::days(1));
    let category = p.category.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
    let (record, summary) = state.engine.track_record(&actor, &county, category.as_deref(), horizon, (p.from, to)).await?;
    Ok(Json(RecordReply { county: county.to_string(), category, horizon_days: horizon.days(), record, summary }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TraceBody {
    /// The person or vessel: an MMSI, a Beidou terminal, a checkpoint id. In the body, never in
    /// an address, so that it is not written to access logs.
    id: String,
    /// The end of the trace (RFC 3339; default now).
    at: Option<chrono::DateTime<chrono::Utc>>,
    /// Hours back (default 72, at most 720).
    hours: Option<i64>,
    /// Who counts as with them: within this many metres at the same time (default 500).
    within: Option<f64>,
    /// Where their place cannot be interpolated (a checkpoint passed once): reports this many
    /// minutes apart count as at the same time (default 5, at most 30).
    same_minutes: Option<i64>,
}

/// The 72-hour trace of a person or vessel: their reports over the hours before `at`, and who
/// came within `within` metres meanwhile (closest first). Operators read every feed; the risk
/// programme's analysts only the feeds of the counties in their scope; anyone else gets 403.
/// Every trace is journaled with who asked.
#[utoipa::path(post, path = "/api/v1/risk/trace", tag = "risk", request_body = TraceBody,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn trace(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<TraceBody>,
) -> Result<Json<fq_engine::Trace>, ApiError> {
    let at = body.at.unwrap_or_else(|| state.engine.current_time());
    let (hours, within) = (body.hours.unwrap_or(72), body.within.unwrap_or(500.0));
    let same_minutes = body.same_minutes.unwrap_or(fq_risk::trace::DEFAULT_SAME_TIME_MINUTES);
    let trace = state.engine.trace(&actor, &body.id, at, hours, within, same_minutes).await?;
    Ok(Json(trace))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PositionsParams {
    /// The county the reports belong to (six digits; default: the county of the account's one
    /// `position_feed` grant).
    region: Option<String>,
}

/// Pushes a CSV of position reports (columns `id` or `mmsi`, `time`, `lat`, `lon`) of a feed:
/// all or nothing (a bad row stores nothing and is named, 422); a subject's report at a time
/// the county's feed sent before is skipped. For feed accounts holding `position_feed` over the
/// county; anyone else gets 403.
#[utoipa::path(post, path = "/api/v1/risk/positions/{source}", tag = "risk",
    params(("source" = String, Path, description = "the feed (ais, beidou, checkpoint...)"), PositionsParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn push_positions(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(source): Path<String>,
    ApiQuery(p): ApiQuery<PositionsParams>,
    body: Bytes,
) -> Result<Json<fq_engine::PositionsReport>, ApiError> {
    let asked = p.region.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let region = match asked {
        Some(text) => Some(RegionCode::parse(text).map_err(|e| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "region_code_invalid", e.to_string()).with_field("region")
        })?),
        // A feed of one county need not say which.
        None => {
            let mut counties = actor
                .account()
                .map(|a| {
                    a.grants.iter().filter(|g| g.role.as_str() == fq_engine::POSITION_FEED_ROLE).map(|g| g.scope.region.clone())
                })
                .into_iter()
                .flatten();
            match (counties.next(), counties.next()) {
                (Some(only), None) => Some(only),
                _ => None,
            }
        }
    };
    Ok(Json(state.engine.ingest_positions(&actor, &source, region.as_ref(), &body).await?))
}
