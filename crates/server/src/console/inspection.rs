//! The vehicle-inspection review in the console: the record panel of a record's case page (what
//! the reviewer looks at: items, brake values, photos with their watermark times against the
//! inspection, the insurance policy and the rules of the standard that fired), the station
//! ranking (`/inspection/ranking`) and the sub-centre dashboard (`/inspection/evaluation`), the
//! last two for supervisors and leaders.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate};
use fq_domain::calendar::beijing;
use fq_domain::case::Case;
use fq_domain::inspection::{InspectionRecord, item_name, photo_name};
use fq_domain::programme::{FieldValue, Programme};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_engine::EngineError;
use serde::{Deserialize, Serialize};

use super::display;
use super::i18n;
use super::layout::{self, Page, value};
use super::period;
use super::viewer::Viewer;
use crate::AppState;

#[derive(Debug, Serialize)]
pub(crate) struct RecordPanel {
    record_id: String,
    synthetic: bool,
    station: String,
    vehicle: String,
    started: String,
    ended: String,
    minutes: i64,
    verdict: Option<String>,
    fired: Vec<String>,
    items: Vec<(String, String, bool)>,
    brakes: Vec<(String, String)>,
    /// Type code, name, watermark time, whether it falls outside the inspection, reference.
    photos: Vec<(String, String, String, bool, String)>,
    insurance: Vec<(String, String)>,
}

/// The panel of a record's case, when it carries one.
pub(crate) fn record_panel(programme: &Programme, case: &Case) -> Option<RecordPanel> {
    let Some(FieldValue::Json(value)) = case.fields.get("record") else { return None };
    let r: InspectionRecord = serde_json::from_value(value.clone()).ok()?;
    let local = |t: chrono::DateTime<chrono::Utc>| display::clock(t, "%Y-%m-%d %H:%M:%S");
    let late = r.inspection_ended + chrono::Duration::minutes(30);
    let verdict = match (case.fields.get("machine_verdict"), programme.kind(&case.kind)) {
        (Some(FieldValue::Enum(code)), Some(kind)) => {
            kind.fields.iter().find(|f| f.code == "machine_verdict").map(|def| programme.enum_name(def, code).to_owned())
        }
        _ => None,
    };
    let fired = match case.fields.get("rules_fired") {
        Some(FieldValue::List(items)) => {
            items.iter().filter_map(|v| if let FieldValue::Text(t) = v { Some(t.clone()) } else { None }).collect()
        }
        _ => Vec::new(),
    };
    Some(RecordPanel {
        record_id: r.id.clone(),
        synthetic: r.synthetic,
        station: r.station.clone(),
        vehicle: format!("{} · {} · {} · 使用性质 {}", r.plate, r.vin, r.vehicle_type, r.use_type),
        started: local(r.inspection_started),
        ended: local(r.inspection_ended),
        minutes: (r.inspection_ended - r.inspection_started).num_minutes(),
        verdict,
        fired,
        items: r.items.iter().map(|i| (i.code.clone(), item_name(&i.code).unwrap_or("—").to_owned(), i.passed)).collect(),
        brakes: vec![
            ("整车制动率".into(), format!("{:.1}%", r.brake_ratio)),
            ("前轴制动不平衡率".into(), format!("{:.1}%", r.front_imbalance)),
            ("驻车制动率".into(), format!("{:.1}%", r.parking_ratio)),
        ],
        photos: r
            .photos
            .iter()
            .map(|p| {
                let outside = p.watermark_at < r.inspection_started || p.watermark_at > late;
                (
                    p.kind.clone(),
                    photo_name(&p.kind).unwrap_or("—").to_owned(),
                    local(p.watermark_at),
                    outside,
                    p.reference.clone(),
                )
            })
            .collect(),
        insurance: vec![
            ("保单号".into(), r.insurance.policy_number.clone()),
            ("号牌号码".into(), r.insurance.plate.clone()),
            ("车辆识别代号".into(), r.insurance.vin.clone()),
            ("保险期间".into(), format!("{} 至 {}", r.insurance.valid_from, r.insurance.valid_to)),
        ],
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct OversightParams {
    city: Option<String>,
    month: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// The cities the viewer may oversee: those of its supervisor or leader grants (a province-wide
/// grant oversees every city of the province).
async fn cities(state: &AppState, viewer: &Viewer) -> Result<Vec<(String, String)>, EngineError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for grant in viewer.account().grants.iter().filter(|g| ["supervisor", "leader"].contains(&g.role.as_str())) {
        let region = &grant.scope.region;
        let codes: Vec<RegionCode> = match region.at_level(RegionLevel::City) {
            Some(city) => vec![city],
            None => state.engine.region_children(region).await?.into_iter().map(|r| r.code).collect(),
        };
        for code in codes {
            if !out.iter().any(|(c, _)| *c == code.to_string()) {
                let name = state.engine.region(&code).await?.name;
                out.push((code.to_string(), name));
            }
        }
    }
    Ok(out)
}

/// The city asked for among the viewer's, or the first (金华 when it is among them: the pilot).
fn chosen(cities: &[(String, String)], asked: Option<&str>) -> Option<(String, String)> {
    let asked = asked.map(str::trim).filter(|c| !c.is_empty());
    cities
        .iter()
        .find(|(c, _)| Some(c.as_str()) == asked)
        .or_else(|| cities.iter().find(|(c, _)| c == "3307"))
        .or(cities.first())
        .cloned()
}

/// `GET /inspection/ranking`: the month's station ranking.
pub(crate) async fn ranking(State(state): State<AppState>, viewer: Viewer, Query(q): Query<OversightParams>) -> Page {
    if !viewer.nav.inspection {
        return Err(layout::denied(&state, &viewer));
    }
    let fail = |e| layout::fail(&state, &viewer, &e);
    let cities = cities(&state, &viewer).await.map_err(fail)?;
    let Some((city, city_name)) = chosen(&cities, q.city.as_deref()) else { return Err(layout::denied(&state, &viewer)) };
    let today = state.engine.current_time().with_timezone(&beijing()).date_naive();
    let asked = q.month.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let month = match asked {
        None => Some(NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today)),
        Some(m) => {
            NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok().filter(|d| fq_domain::calendar::plausible_day(*d))
        }
    };
    let (rows, error, status) = match month {
        None => (Vec::new(), Some(i18n::text(viewer.lang, "insp.bad_month")), StatusCode::UNPROCESSABLE_ENTITY),
        Some(first) => (
            state.engine.station_ranking(&viewer.actor, &city, first.year(), first.month()).await.map_err(fail)?,
            None,
            StatusCode::OK,
        ),
    };
    let month_text = month.map_or_else(|| asked.unwrap_or_default().to_owned(), |m| m.format("%Y-%m").to_string());
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let change = match r.previous_rank {
                Some(before) if before > r.rank => format!("↑{}", before - r.rank),
                Some(before) if before < r.rank => format!("↓{}", r.rank - before),
                Some(_) => "—".into(),
                None => "—".into(),
            };
            let pass_rate =
                if r.reviewed > 0 { display::percent(f64::from(r.passed) / f64::from(r.reviewed)) } else { "—".into() };
            serde_json::json!({
                "rank": r.rank, "station": r.station, "points": r.points, "change": change,
                "entries": r.entries, "reviewed": r.reviewed, "pass_rate": pass_rate,
            })
        })
        .collect();
    let ctx = minijinja::context! {
        cities => value(&cities),
        city => city,
        city_name => city_name,
        month => month_text,
        rows => value(&rows),
        error => error,
    };
    Ok(layout::page_with_status(&state, &viewer, status, "inspection_ranking.html", ctx))
}

/// `GET /inspection/evaluation`: the sub-centre dashboard.
pub(crate) async fn evaluation(State(state): State<AppState>, viewer: Viewer, Query(q): Query<OversightParams>) -> Page {
    if !viewer.nav.inspection {
        return Err(layout::denied(&state, &viewer));
    }
    let lang = viewer.lang;
    let fail = |e| layout::fail(&state, &viewer, &e);
    let cities = cities(&state, &viewer).await.map_err(fail)?;
    let Some((city, city_name)) = chosen(&cities, q.city.as_deref()) else { return Err(layout::denied(&state, &viewer)) };
    let today = state.engine.current_time().with_timezone(&beijing()).date_naive();
    let shown = period::period(q.from.as_deref(), q.to.as_deref(), today, 30, 366);
    let (view, error, status) = match shown.range {
        None => (None, Some(i18n::text(lang, "fig.bad_period_1y")), StatusCode::UNPROCESSABLE_ENTITY),
        Some((from, to)) => {
            (Some(state.engine.inspection_evaluation(&viewer.actor, &city, from, to).await.map_err(fail)?), None, StatusCode::OK)
        }
    };
    let inspection = state.engine.programmes().get("inspection");
    let reason_name = |code: &str| inspection.map_or(code, |p| p.catalog_name("reject_reason", code)).to_owned();
    let row = |name: String, e: &fq_domain::inspection::Evaluation| {
        let mut reasons: Vec<(&String, &u32)> = e.reasons.iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(a.1));
        serde_json::json!({
            "name": name,
            "reviews": e.reviews,
            "mean": e.mean_seconds().map_or("—".into(), |s| format!("{s:.0}")),
            "rejection": e.rejection_rate().map_or("—".into(), display::percent),
            "reasons": reasons.iter().take(3).map(|(code, n)| format!("{}（{n}）", reason_name(code))).collect::<Vec<_>>().join("；"),
            "rechecked": e.rechecked,
            "disagreement": e.disagreement_rate().map_or("—".into(), display::percent),
            "warn": e.disagreement_rate().is_some_and(|r| r > 0.0),
        })
    };
    let (counties, reviewers, total) = match &view {
        Some(v) => {
            let counties: Vec<_> =
                v.report.by_county.iter().map(|(k, e)| row(v.counties.get(k).cloned().unwrap_or_else(|| k.clone()), e)).collect();
            let reviewers: Vec<_> = v
                .report
                .by_reviewer
                .iter()
                .map(|(k, e)| row(v.reviewers.get(k).cloned().unwrap_or_else(|| k.clone()), e))
                .collect();
            let total = v.report.by_county.values().map(|e| e.reviews).sum::<u32>();
            (counties, reviewers, total)
        }
        None => (Vec::new(), Vec::new(), 0),
    };
    let ctx = minijinja::context! {
        cities => value(&cities),
        city => city,
        city_name => city_name,
        from => shown.from_day.format("%Y-%m-%d").to_string(),
        to => shown.to_day.format("%Y-%m-%d").to_string(),
        counties => value(&counties),
        reviewers => value(&reviewers),
        total => total,
        error => error,
    };
    Ok(layout::page_with_status(&state, &viewer, status, "inspection_evaluation.html", ctx))
}
