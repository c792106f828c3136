//! Heat-map data (热力图) for a county: the county's grids with the number of cases located in
//! each over a period (by the case's grid, or by its point when it names none), and the points
//! themselves for a density layer. Cases without a location, and located ones outside every grid,
//! are counted and reported, never dropped silently.

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::programme::FieldValue;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_risk::backtest::Horizon;
use fq_store::CaseFilter;
use geo::MultiPolygon;

use crate::Engine;
use crate::access::reads_programme;
use crate::error::EngineError;

/// The `programme` of a query that maps the stored risk events (readers of the risk programme).
pub const RISK_EVENTS: &str = "risk_events";

/// What to map.
#[derive(Debug, Clone)]
pub struct HeatQuery {
    pub county: RegionCode,
    /// One programme, or every one; [`RISK_EVENTS`] maps the stored risk events instead of cases.
    pub programme: Option<String>,
    /// Cases whose `category` field has this code.
    pub category: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// With [`RISK_EVENTS`]: each grid's forecast for the day, week or month after the period,
    /// or from today for a period reaching today (our model over the events stored before its
    /// first day), besides the period's counts.
    pub forecast: Option<Horizon>,
    /// With a forecast: its check once its horizon is over, and beside a forecast from today
    /// the record of the last ones (the page and the API; a drawing of the map skips them).
    pub checks: bool,
}

/// One grid and its count.
#[derive(Debug, Clone)]
pub struct HeatCell {
    pub code: String,
    pub name: String,
    pub generated: bool,
    pub area: MultiPolygon<f64>,
    pub count: u32,
    /// The forecast's expected count over its horizon (forecast maps only).
    pub expected: f64,
}

impl HeatCell {
    /// The forecast's probability of at least one event over its horizon (forecast maps only).
    pub fn probability(&self) -> f64 {
        fq_risk::whistle::at_least_one(self.expected)
    }
}

/// The map's data.
#[derive(Debug, Clone)]
pub struct HeatMap {
    pub cells: Vec<HeatCell>,
    pub points: Vec<(f64, f64)>,
    pub cases: usize,
    pub without_location: usize,
    pub outside_grids: usize,
    /// What the forecast layer forecast, when asked for.
    pub forecast: Option<crate::risk_forecast::ForecastLayer>,
}

impl Engine {
    /// The county's grids with the stored risk events placed in each.
    async fn risk_event_map(&self, actor: &Actor, query: &HeatQuery) -> Result<HeatMap, EngineError> {
        let programme = self.programme("risk")?;
        if !reads_programme(actor, &programme, &query.county) {
            return Err(EngineError::forbidden(format!("the risk events of {} are outside your scope", query.county)));
        }
        let grids = self.store.grids_within(&query.county).await?;
        let mut cells = cells_of(&grids);
        // Each event's grid by its code (cells are in the grids' order): a county's years of
        // events times its hundreds of grids would otherwise be compared one by one.
        let at: std::collections::HashMap<String, usize> =
            grids.iter().enumerate().map(|(i, g)| (g.code.to_string(), i)).collect();
        let mut map =
            HeatMap { cells: Vec::new(), points: Vec::new(), cases: 0, without_location: 0, outside_grids: 0, forecast: None };
        for event in self.store.risk_events(&query.county, query.from, query.to).await? {
            if query.category.as_ref().is_some_and(|c| *c != event.category) {
                continue;
            }
            map.cases += 1;
            match event.grid.as_ref().and_then(|g| at.get(g.as_str()).copied()) {
                Some(i) => cells[i].count += 1,
                None => map.outside_grids += usize::from(event.lon.is_some()),
            }
            match (event.lon, event.lat) {
                (Some(x), Some(y)) => map.points.push((x, y)),
                _ => map.without_location += 1,
            }
        }
        if let Some(horizon) = query.forecast {
            map.forecast = Some(self.forecast_grids(query, horizon, &grids, &mut cells).await?);
        }
        map.cells = cells;
        Ok(map)
    }
}

/// The grids as cells of the map, with no count yet.
pub(crate) fn cells_of(grids: &[fq_domain::grid::Grid]) -> Vec<HeatCell> {
    grids
        .iter()
        .map(|g| HeatCell {
            code: g.code.to_string(),
            name: g.name.clone(),
            generated: g.generated,
            area: g.area.clone(),
            count: 0,
            expected: 0.0,
        })
        .collect()
}

fn location(case: &Case) -> Option<(f64, f64)> {
    match case.fields.get("location") {
        Some(FieldValue::Location { lon, lat }) => Some((*lon, *lat)),
        _ => None,
    }
}

impl Engine {
    /// The heat-map data of a county.
    pub async fn heat_map(&self, actor: &Actor, query: &HeatQuery) -> Result<HeatMap, EngineError> {
        if query.county.level() != RegionLevel::County {
            return Err(EngineError::field("region_not_county", "region", format!("{} is not a county", query.county)));
        }
        // A county code not in the division tree would draw an empty map, read as "no risk" (the
        // tree is public reference data: saying so tells no one anything).
        self.known_region(&query.county, "region").await?;
        if query.programme.as_deref() == Some(RISK_EVENTS) {
            return self.risk_event_map(actor, query).await;
        }
        // Only the programmes the reader reads over the county; one asked for must be one of them.
        let readable: Vec<String> =
            self.programmes.all().filter(|p| reads_programme(actor, p, &query.county)).map(|p| p.code.clone()).collect();
        if readable.is_empty() || query.programme.as_ref().is_some_and(|p| !readable.contains(p)) {
            return Err(EngineError::forbidden(format!("these cases of {} are outside your scope", query.county)));
        }
        if query.to <= query.from {
            return Err(EngineError::field("period_invalid", "to", "the end of the period must come after its start"));
        }
        let grids = self.store.grids_within(&query.county).await?;
        let mut cells = cells_of(&grids);
        // The same point-to-grid look-up as ingest: the cell of a grid code.
        let index = crate::risk_ingest::grid_index(&grids);
        let position: std::collections::HashMap<String, usize> =
            cells.iter().enumerate().map(|(i, c)| (c.code.clone(), i)).collect();
        let filter = CaseFilter {
            programme: query.programme.clone(),
            regions: vec![query.county.clone()],
            opened_from: Some(query.from),
            opened_to: Some(query.to),
            ..CaseFilter::default()
        };
        let mut map =
            HeatMap { cells: Vec::new(), points: Vec::new(), cases: 0, without_location: 0, outside_grids: 0, forecast: None };
        for case in self.cases_matching(&filter).await? {
            if !readable.contains(&case.programme) {
                continue;
            }
            if let Some(category) = &query.category
                && !matches!(case.fields.get("category"), Some(FieldValue::Enum(c)) if c == category)
            {
                continue;
            }
            map.cases += 1;
            let point = location(&case);
            let by_grid = case.grid.as_ref().and_then(|g| position.get(&g.to_string()).copied());
            let by_point = point.and_then(|(x, y)| index.locate(x, y)).and_then(|i| position.get(index.code(i)).copied());
            match by_grid.or(by_point) {
                Some(i) => cells[i].count += 1,
                None if point.is_some() => map.outside_grids += 1,
                None => {}
            }
            match point {
                Some(p) => map.points.push(p),
                None => map.without_location += 1,
            }
        }
        map.cells = cells;
        Ok(map)
    }
}
