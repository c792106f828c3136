//! `/figures?programme=&region=&from=&to=&by=&channel=&station=&category=`: a dispute
//! programme's figures (the engine's [`FigureReport`]) with a breakdown whose rows drill down:
//! a region row opens that region, a channel, station or category row narrows to it, a month
//! row opens that month. Aggregates only: no case is named.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{Datelike, Days, Months, NaiveDate};
use fq_domain::calendar::beijing;
use fq_domain::region::RegionCode;
use fq_engine::{Breakdown, EngineError, FigureQuery, FigureReport, Figures, figure_kind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::dashboard::readable_programmes;
use super::display::{Names, yuan};
use super::forms::Choice;
use super::i18n::{self, Lang};
use super::layout::{self, Page, encode, value};
use super::map::Scale;
use super::period;
use super::scope;
use super::viewer::Viewer;
use crate::AppState;

/// The longest period one page reads, in days (historical imports span years).
const MAX_DAYS: i64 = 366 * 10;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FigureParams {
    programme: Option<String>,
    region: Option<String>,
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    channel: Option<String>,
    station: Option<String>,
    category: Option<String>,
}

#[derive(Debug, Serialize)]
struct Card {
    key: &'static str,
    value: String,
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct Row {
    label: String,
    /// The page this row drills down to, if any.
    href: Option<String>,
    cases: u64,
    /// Width of the volume bar, 0 to 100.
    bar: u32,
    amount: String,
    agreed: String,
    success: String,
    first_line: String,
    online: String,
    days: String,
    on_time: String,
    performed: String,
}

fn pct(v: Option<f64>) -> String {
    Scale { worse_when_high: false, percent: true, decimals: 1 }.show(v)
}

fn days(v: Option<f64>) -> String {
    Scale { worse_when_high: false, percent: false, decimals: 1 }.show(v)
}

fn cards(lang: Lang, r: &FigureReport) -> Vec<Card> {
    let t = &r.total;
    let of = |n: u64, d: u64| Some(i18n::fill(lang, "fig.of", &[("n", &n.to_string()), ("of", &d.to_string())]));
    let yoy = r.year_on_year().map(|v| format!("{:+.1}%", v * 100.0)).unwrap_or_else(|| "—".into());
    vec![
        Card {
            key: "fig.cases",
            value: t.cases.to_string(),
            note: Some(i18n::fill(lang, "fig.open_note", &[("n", &t.open.to_string())])),
        },
        Card { key: "fig.amount", value: yuan(t.amount_fen), note: None },
        Card {
            key: "fig.agreed",
            value: yuan(t.agreed_fen),
            note: Some(i18n::fill(lang, "fig.paid_note", &[("paid", &yuan(t.paid_fen))])),
        },
        Card { key: "fig.success", value: pct(t.success_rate()), note: of(t.resolved, t.ended) },
        Card { key: "fig.first_line", value: pct(t.first_line_rate()), note: of(t.first_line, t.ended) },
        Card { key: "fig.online", value: pct(t.online_rate()), note: of(t.online_resolved, t.resolved) },
        Card {
            key: "fig.days",
            value: days(t.median_days),
            note: Some(i18n::fill(lang, "fig.days_note", &[("mean", &days(t.mean_days())), ("n", &t.timed.to_string())])),
        },
        Card { key: "fig.on_time", value: pct(t.on_time_rate()), note: of(t.on_time, t.closed_judged) },
        Card { key: "fig.performed", value: pct(t.performance_rate()), note: of(t.performed, t.performance_due) },
        Card {
            key: "fig.yoy",
            value: yoy,
            note: Some(i18n::fill(lang, "fig.yoy_note", &[("n", &r.previous_year_cases.to_string())])),
        },
    ]
}

fn nonempty(text: &Option<String>) -> Option<String> {
    text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned)
}

/// The query string of this page with some parameters replaced.
fn link(base: &[(&str, String)], changes: &[(&str, String)]) -> String {
    let mut pairs: Vec<(&str, String)> = base.iter().filter(|(k, _)| !changes.iter().any(|(c, _)| c == k)).cloned().collect();
    pairs.extend(changes.iter().cloned());
    let query: Vec<String> =
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(&v))).collect();
    format!("/figures?{}", query.join("&"))
}

/// `GET /figures`.
pub(crate) async fn page(State(state): State<AppState>, viewer: Viewer, Query(q): Query<FigureParams>) -> Page {
    let engine = &state.engine;
    let lang = viewer.lang;
    let fail = |e: EngineError| layout::fail(&state, &viewer, &e);
    let readable: Vec<_> =
        readable_programmes(engine, viewer.account()).into_iter().filter(|(p, _)| figure_kind(p).is_ok()).collect();
    let wanted = nonempty(&q.programme);
    let Some((programme, scopes)) = readable.iter().find(|(p, _)| wanted.as_ref().is_none_or(|w| *w == p.code)).cloned() else {
        return Err(layout::denied(&state, &viewer));
    };
    let kind = figure_kind(&programme).map_err(fail)?;
    let region = period::region(q.region.as_deref(), &scopes[0]).map_err(fail)?;
    let today = engine.current_time().with_timezone(&beijing()).date_naive();
    let shown = period::period(q.from.as_deref(), q.to.as_deref(), today, 365, MAX_DAYS);
    let (from_day, to_day) = (shown.from_day, shown.to_day);
    let by = q.by.as_deref().and_then(Breakdown::parse).unwrap_or(Breakdown::Region);
    let station = nonempty(&q.station).and_then(|s| Uuid::parse_str(&s).ok());
    let query = shown.range.map(|(from, to)| FigureQuery {
        programme: programme.code.clone(),
        region: region.clone(),
        from,
        to,
        channel: nonempty(&q.channel),
        station: station.map(fq_domain::org::OrgId),
        category: nonempty(&q.category),
        by,
    });
    let (report, error, status) = match query {
        None => (None, Some(i18n::text(lang, "fig.bad_period")), StatusCode::UNPROCESSABLE_ENTITY),
        Some(query) => match engine.dispute_figures(&viewer.actor, query).await {
            Ok(report) => (Some(report), None, StatusCode::OK),
            Err(e @ EngineError::Invalid { .. }) => (None, Some(layout::reason(lang, &e)), StatusCode::UNPROCESSABLE_ENTITY),
            Err(e) => return Err(fail(e)),
        },
    };

    let base: Vec<(&str, String)> = vec![
        ("programme", programme.code.clone()),
        ("region", region.to_string()),
        ("from", from_day.format("%Y-%m-%d").to_string()),
        ("to", to_day.format("%Y-%m-%d").to_string()),
        ("by", by.as_str().to_owned()),
        ("channel", nonempty(&q.channel).unwrap_or_default()),
        ("station", station.map(|s| s.to_string()).unwrap_or_default()),
        ("category", nonempty(&q.category).unwrap_or_default()),
    ];
    let category_field = kind.figures.category.as_ref().and_then(|f| kind.fields.iter().find(|d| d.code == *f));
    let category_name =
        |code: &str| category_field.map_or_else(|| code.to_owned(), |def| programme.enum_name(def, code).to_owned());
    let channel_name = |code: &str| i18n::text(lang, &format!("case.channel_{code}"));
    let mut names = Names::new(engine);
    let mut rows = Vec::new();
    // Active narrowings, each with the link that removes it.
    let mut narrowed: Vec<(String, String)> = Vec::new();
    if let Some(c) = nonempty(&q.channel) {
        narrowed.push((
            format!("{}：{}", i18n::text(lang, "fig.by_channel"), channel_name(&c)),
            link(&base, &[("channel", String::new())]),
        ));
    }
    if let Some(s) = station {
        narrowed.push((
            format!("{}：{}", i18n::text(lang, "fig.by_station"), names.org(s).await),
            link(&base, &[("station", String::new())]),
        ));
    }
    if let Some(c) = nonempty(&q.category) {
        narrowed.push((
            format!("{}：{}", i18n::text(lang, "fig.by_category"), category_name(&c)),
            link(&base, &[("category", String::new())]),
        ));
    }
    if let Some(report) = &report {
        let most = report.rows.iter().map(|r| r.figures.cases).max().unwrap_or(1).max(1);
        for row in &report.rows {
            let (label, href) = match by {
                Breakdown::Region => match RegionCode::parse(&row.key) {
                    Ok(code) if code != region => (names.region(&code).await, Some(link(&base, &[("region", row.key.clone())]))),
                    _ => (i18n::text(lang, "fig.region_itself"), None),
                },
                Breakdown::Channel => {
                    (channel_name(&row.key), Some(link(&base, &[("channel", row.key.clone()), ("by", "category".into())])))
                }
                Breakdown::Station => match Uuid::parse_str(&row.key) {
                    Ok(id) => {
                        (names.org(id).await, Some(link(&base, &[("station", row.key.clone()), ("by", "category".into())])))
                    }
                    Err(_) => (i18n::text(lang, "fig.no_station"), None),
                },
                Breakdown::Category if row.key.is_empty() => (i18n::text(lang, "fig.no_category"), None),
                Breakdown::Category => {
                    (category_name(&row.key), Some(link(&base, &[("category", row.key.clone()), ("by", "month".into())])))
                }
                Breakdown::Month => {
                    let first = NaiveDate::parse_from_str(&format!("{}-01", row.key), "%Y-%m-%d").ok();
                    let href = first.map(|d| {
                        let last = d.checked_add_months(Months::new(1)).map_or(d, |n| n - Days::new(1));
                        link(&base, &[("from", d.to_string()), ("to", last.to_string()), ("by", "channel".into())])
                    });
                    let label = first.map_or_else(
                        || row.key.clone(),
                        |d| i18n::fill(lang, "fig.month", &[("y", &d.year().to_string()), ("m", &d.month().to_string())]),
                    );
                    (label, href)
                }
            };
            rows.push(row_of(label, href, &row.figures, most));
        }
    }
    let programmes: Vec<Choice> = readable
        .iter()
        .map(|(p, _)| Choice { value: p.code.clone(), label: p.name.clone(), selected: p.code == programme.code })
        .collect();
    let regions = scope::region_choices(engine, &scopes, Some(region.as_str())).await.map_err(fail)?;
    let breakdowns: Vec<Choice> = Breakdown::ALL
        .iter()
        .map(|b| Choice {
            value: b.as_str().to_owned(),
            label: i18n::text(lang, &format!("fig.by_{}", b.as_str())),
            selected: *b == by,
        })
        .collect();
    let parent =
        region.parent().filter(|p| scopes.iter().any(|s| s.contains(p))).map(|p| link(&base, &[("region", p.to_string())]));
    let ctx = minijinja::context! {
        programme => programme.name.clone(),
        programme_code => programme.code.clone(),
        programmes => value(&programmes),
        regions => value(&regions),
        region_name => names.place(&region).await,
        parent => parent,
        breakdowns => value(&breakdowns),
        by_name => i18n::text(lang, &format!("fig.by_{}", by.as_str())),
        from => from_day.format("%Y-%m-%d").to_string(),
        to => to_day.format("%Y-%m-%d").to_string(),
        channel => nonempty(&q.channel),
        station => station.map(|s| s.to_string()),
        category => nonempty(&q.category),
        narrowed => value(&narrowed),
        cards => value(&report.as_ref().map(|r| cards(lang, r))),
        imported => report.as_ref().map_or(0, |r| r.imported),
        rows => value(&rows),
        error => error,
    };
    Ok(layout::page_with_status(&state, &viewer, status, "figures.html", ctx))
}

fn row_of(label: String, href: Option<String>, f: &Figures, most: u64) -> Row {
    Row {
        label,
        href,
        cases: f.cases,
        bar: u32::try_from(f.cases * 100 / most).unwrap_or(100),
        amount: yuan(f.amount_fen),
        agreed: yuan(f.agreed_fen),
        success: pct(f.success_rate()),
        first_line: pct(f.first_line_rate()),
        online: pct(f.online_rate()),
        days: days(f.median_days),
        on_time: pct(f.on_time_rate()),
        performed: pct(f.performance_rate()),
    }
}
