//! Whistles from the stored events (吹哨): for a county and a category, the whistle list of the
//! events stored before a day (our model and the level table), and for each cell that reaches
//! orange or red a warning case of the risk programme, opened by the system through the model
//! channel in the town of the grid under the cell's centre, and dispatched with the category's
//! response plan to that place's responsible centre. A grid with an open model warning of the
//! category is not whistled again until that one is cleared.

use chrono::NaiveDate;
use fq_domain::actor::Actor;
use fq_domain::calendar::{local_date, start_of_day};
use fq_domain::region::RegionCode;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::levels::{Level, LevelTable};
use fq_store::CaseFilter;
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use crate::Engine;
use crate::cases::OpenCase;
use crate::error::EngineError;
use crate::risk_ingest::grid_index;

/// The shipped level table.
const LEVELS: &str = include_str!("../../../data/risk/levels-v1.toml");

/// What a whistle run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WhistleRun {
    pub cells: usize,
    /// Warning cases opened now (numbers), and cells whose grid has an open model warning.
    pub opened: Vec<String>,
    pub known: usize,
    /// Cells at orange or red whose centre is in no grid (no responsible place to send to).
    pub unplaced: usize,
}

impl Engine {
    /// Runs the whistle for `county` and `category` at `day` (the forecast's first day), over
    /// the events stored before it, and opens warning cases for the orange and red cells.
    pub async fn whistle(
        &self,
        actor: &Actor,
        county: &RegionCode,
        category: &str,
        cell_metres: f64,
        day: NaiveDate,
    ) -> Result<WhistleRun, EngineError> {
        crate::access::require_operator(actor, "running the whistle")?;
        let programme = self.programme("risk")?;
        if !programme.in_catalog("risk_category", category) {
            return Err(EngineError::field("category_unknown", "category", format!("{category} is not a risk category")));
        }
        let (from, to) = (start_of_day(NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(day)), start_of_day(day));
        let events: Vec<Event> = self
            .store
            .risk_events(county, from, to)
            .await?
            .into_iter()
            .filter_map(|e| {
                let (lon, lat) = (e.lon?, e.lat?);
                Some(Event { day: fq_risk::events::day_number(local_date(e.occurred_at)), lon, lat, category: e.category })
            })
            .collect();
        let table = LevelTable::load(LEVELS).map_err(|e| EngineError::field("levels_invalid", "levels", e))?;
        let list = fq_risk::whistle::whistles(&events, category, cell_metres, Horizon::Week, day, &table)
            .map_err(|e| EngineError::field("whistle_invalid", "events", e.to_string()))?;
        let grids = self.store.grids_within(county).await?;
        let index = grid_index(&grids);
        let filter = CaseFilter {
            programme: Some("risk".into()),
            kind: Some("warning".into()),
            regions: vec![county.clone()],
            open_only: true,
            ..CaseFilter::default()
        };
        let already: Vec<(String, String)> = self
            .cases_matching(&filter)
            .await?
            .iter()
            .filter(|c| c.channel == "model")
            .filter_map(|c| Some((c.grid.as_ref()?.to_string(), c.text("category")?.to_owned())))
            .collect();
        let mut run = WhistleRun { cells: list.len(), ..WhistleRun::default() };
        let system = Actor::System;
        for w in list.iter().filter(|w| w.level >= Level::Orange) {
            let Some(i) = index.locate(w.lon, w.lat) else {
                run.unplaced += 1;
                continue;
            };
            let code = index.code(i).to_owned();
            if already.iter().any(|(g, c)| *g == code && c == category) {
                run.known += 1;
                continue;
            }
            let Some(grid) = grids.iter().find(|g| g.code.to_string() == code) else { continue };
            let level = match w.level {
                Level::Red => "red",
                _ => "orange",
            };
            let fields = json!({
                "title": format!("模型预警：{}（概率 {:.0}%）", grid.name, w.probability * 100.0),
                "category": category,
                "description": format!(
                    "{day} 起 7 天内至少发生一起的概率 {:.1}%，期望 {:.2} 起；近 26 周趋势斜率 {:+.2}{}",
                    w.probability * 100.0, w.expected, w.slope, if w.rising { "（上升）" } else { "" }
                ),
                "location": { "lon": w.lon, "lat": w.lat },
            });
            let Json::Object(fields) = fields else { continue };
            let request = OpenCase {
                programme: "risk".into(),
                kind: "warning".into(),
                priority: Some(level.into()),
                region: grid.region.to_string(),
                grid: Some(code.clone()),
                channel: "model".into(),
                intake_org: None,
                fields,
            };
            let opened = self.open_case(&system, request).await?;
            let mut plan = Map::new();
            plan.insert("plan".into(), Json::from(category));
            // Dispatch may find nobody (no centre in the place): the warning stays issued, visible on the board.
            let _ = self.act_on_case(&system, opened.case.id, "dispatch", plan, None).await;
            run.opened.push(opened.case.number);
        }
        Ok(run)
    }
}
