//! `/heatmap/record` 预测检验档案: a county's track record of forecasts over a span the reader
//! picks (a year back from yesterday by default, at most three years), every period listed one
//! after the other (latest first) with how the model's cells and previous-period counts did,
//! then the sum and whether the probabilities held. Today's forecast on the heat map lists a
//! fixed quarter of weeks; this is the page for the long view, and `/heatmap/record.xlsx` is the
//! same as a workbook for the analysts' reports. Readers of the risk programme over the county,
//! as the forecast (the engine decides: `Engine::track_record`).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::{EngineError, Horizon, PastForecast, RecordSummary};
use serde::Deserialize;

use super::dashboard::readable_programmes;
use super::display::Names;
use super::heatmap::{check_context, county_of, risk_category_names, summary_context};
use super::i18n;
use super::layout::{self, Page, value};
use super::period;
use super::viewer::Viewer;
use crate::AppState;

/// The longest span one page reads, in days (the engine's limit).
const MAX_SPAN_DAYS: i64 = fq_engine::MAX_RECORD_SPAN_DAYS;
/// The span shown when none is asked for: a year of periods.
const DEFAULT_DAYS: u64 = 365;
/// How many days before a period's first day the heat map a row links to shows (its default).
const LINKED_MAP_DAYS: u64 = 90;

#[derive(Debug, Deserialize)]
pub(crate) struct RecordParams {
    region: Option<String>,
    category: Option<String>,
    horizon: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// What was asked and what the record holds over it.
pub(crate) struct Record {
    pub county: RegionCode,
    pub place: String,
    pub category: Option<String>,
    pub category_name: Option<String>,
    pub horizon: Horizon,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub periods: Vec<PastForecast>,
    pub summary: Option<RecordSummary>,
}

/// The page's query for `county`, `category` and `horizon` over `span` (None: the default
/// span), for the links to it.
pub(crate) fn query(
    county: &RegionCode,
    category: Option<&str>,
    horizon: Horizon,
    span: Option<(NaiveDate, NaiveDate)>,
) -> String {
    let days = span.map(|(from, to)| (from.format("%Y-%m-%d").to_string(), to.format("%Y-%m-%d").to_string()));
    let pairs = [
        ("region", Some(county.as_str())),
        ("category", category),
        ("horizon", Some(horizon.code())),
        ("from", days.as_ref().map(|d| d.0.as_str())),
        ("to", days.as_ref().map(|d| d.1.as_str())),
    ];
    let present: Vec<(&str, &str)> = pairs.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    serde_urlencoded::to_string(present).unwrap_or_default()
}

/// Reads the record the query asks for. `Ok(Err(ctx))`: the query is refused (422), `ctx`
/// naming why; `Err`: a page to answer with (no access, a store failure).
pub(crate) async fn read(
    state: &AppState,
    viewer: &Viewer,
    q: &RecordParams,
) -> Result<Result<Record, minijinja::Value>, axum::response::Response> {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(state, viewer, &e);
    let readable = readable_programmes(engine, viewer.account());
    let Some((_, scopes)) = readable.iter().find(|(p, _)| p.code == "risk") else { return Err(layout::denied(state, viewer)) };
    // A refused query keeps what was asked in the form, to be corrected.
    let refuse = |error: String| {
        minijinja::context! { error => error, region => &q.region, category => &q.category, horizon => &q.horizon, from => &q.from, to => &q.to }
    };
    let county = match county_of(engine, q.region.as_deref(), &scopes[0]).await {
        Ok(county) => county,
        Err(e @ EngineError::Invalid { .. }) => return Ok(Err(refuse(layout::reason(lang, &e)))),
        Err(e) => return Err(fail(e)),
    };
    let horizon = match Horizon::or_week(q.horizon.as_deref()) {
        Ok(h) => h,
        Err(text) => return Ok(Err(refuse(i18n::text(lang, "heat.bad_horizon").replace("{value}", &text)))),
    };
    // The latest period that can have been checked ended yesterday.
    let yesterday = engine.current_time().with_timezone(&beijing()).date_naive() - Days::new(1);
    // `period` takes the days between the two dates below its limit; the engine, up to its own.
    let span = period::period(q.from.as_deref(), q.to.as_deref(), yesterday, DEFAULT_DAYS, MAX_SPAN_DAYS + 1);
    if span.range.is_none() {
        return Ok(Err(refuse(i18n::text(lang, "fig.bad_period_3y"))));
    }
    let category = q.category.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let (periods, summary) =
        match engine.track_record(&viewer.actor, &county, category.as_deref(), horizon, (span.from_day, span.to_day)).await {
            Ok(record) => record,
            Err(e @ EngineError::Invalid { .. }) => return Ok(Err(refuse(layout::reason(lang, &e)))),
            Err(e) => return Err(fail(e)),
        };
    let category_name = category.as_ref().and_then(|c| risk_category_names(engine, std::slice::from_ref(c)).pop());
    let place = Names::new(engine).region(&county).await;
    Ok(Ok(Record { county, place, category, category_name, horizon, from: span.from_day, to: span.to_day, periods, summary }))
}

/// `GET /heatmap/record`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<RecordParams>) -> Page {
    let record = match read(&state, &viewer, &q).await? {
        Ok(record) => record,
        Err(ctx) => return Ok(refused(&state, &viewer, ctx)),
    };
    let days = u64::try_from(record.horizon.days()).unwrap_or(7);
    let rows: Vec<minijinja::Value> = record
        .periods
        .iter()
        .map(|p| {
            let last = p.day + Days::new(days - 1);
            // The row's own forecast on the heat map: a map's forecast starts the day after the
            // period it shows.
            let to = p.day - Days::new(1);
            let map = super::heatmap::forecast_query(
                &record.county,
                record.category.as_deref(),
                (to - Days::new(LINKED_MAP_DAYS - 1), to),
                record.horizon,
            );
            minijinja::context! {
                day => p.day.format("%Y-%m-%d").to_string(),
                last => last.format("%Y-%m-%d").to_string(),
                categories => p.categories.len(),
                check => p.check.as_ref().map(check_context),
                brier => p.calibration.as_ref().filter(|c| c.cells > 0).map(|c| format!("{:.3}", c.brier)),
                checked_at => p.checked_at.map(|t| t.with_timezone(&beijing()).format("%Y-%m-%d %H:%M").to_string()),
                map => map,
            }
        })
        .collect();
    let ctx = minijinja::context! {
        place => record.place,
        region => record.county.to_string(),
        category => &record.category,
        category_name => record.category_name,
        categories => value(&risk_categories(&state)),
        horizon => record.horizon.code(),
        horizon_days => record.horizon.days(),
        from => record.from.format("%Y-%m-%d").to_string(),
        to => record.to.format("%Y-%m-%d").to_string(),
        rows => rows,
        record_summary => record.summary.as_ref().map(summary_context),
        query => query(&record.county, record.category.as_deref(), record.horizon, Some((record.from, record.to))),
        error => Option::<String>::None,
    };
    Ok(layout::page(&state, &viewer, "track_record.html", ctx))
}

/// `GET /heatmap/record.xlsx`: the same record as a workbook; a refused query answers with the
/// page naming why (422).
pub(crate) async fn xlsx(State(state): State<AppState>, viewer: Viewer, Query(q): Query<RecordParams>) -> Page {
    let record = match read(&state, &viewer, &q).await? {
        Ok(record) => record,
        Err(ctx) => return Ok(refused(&state, &viewer, ctx)),
    };
    let about = super::track_record_export::About {
        by: viewer.actor.account().map_or_else(|| viewer.actor.journal_name(), |a| format!("{}（{}）", a.display_name, a.login)),
        at: state.engine.current_time(),
    };
    let body =
        super::track_record_export::workbook(viewer.lang, &record, &about).map_err(|e| layout::internal(&state, &viewer, &e))?;
    let name = format!(
        "forecast-record-{}-{}-{}-{}.xlsx",
        record.county,
        record.horizon.code(),
        record.from.format("%Y%m%d"),
        record.to.format("%Y%m%d")
    );
    Ok(layout::attachment(body, super::sheets::XLSX, &name))
}

/// The page naming why the query was refused (422), with its form to ask again.
fn refused(state: &AppState, viewer: &Viewer, ctx: minijinja::Value) -> axum::response::Response {
    let ctx = minijinja::context! { categories => value(&risk_categories(state)), ..ctx };
    layout::page_with_status(state, viewer, StatusCode::UNPROCESSABLE_ENTITY, "track_record.html", ctx)
}

/// The risk categories for the form: code and name, in the catalog's order.
fn risk_categories(state: &AppState) -> Vec<(String, String)> {
    let risk = state.engine.programmes().get("risk");
    let items = risk.and_then(|p| p.catalogs.get("risk_category")).map(|c| c.items.clone()).unwrap_or_default();
    items.into_iter().map(|i| (i.code, i.name)).collect()
}
