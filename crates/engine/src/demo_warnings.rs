//! Demo warnings (labelled 【演示】) of the risk programme in 路桥区: raised by the demo grid
//! worker at each level, dispatched with their response plans, some reported and cleared within
//! the day, one lifted, so that the warnings board has something to roll up.

use fq_domain::account::Login;
use fq_domain::actor::Actor;
use serde_json::{Map, Value as Json, json};

use crate::Engine;
use crate::cases::OpenCase;
use crate::error::EngineError;

/// How far back the demo's generated history of risk reports reaches (days).
const DEMO_HISTORY_DAYS: i64 = 560;

/// Title, category, level, and how far it gets: 0 issued, 1 dispatched, 2 reported, 3 cleared,
/// 4 lifted.
const WARNINGS: [(&str, &str, &str, u8); 6] = [
    ("某小区两户因停车位多次争执，一方扬言报复", "order_civil_to_criminal", "red", 1),
    ("某厂拖欠二十余名工人三个月工资", "dispute_labour", "orange", 2),
    ("楼上漏水引发邻里纠纷", "dispute_neighbour", "yellow", 3),
    ("小区物业费上涨业主不满", "dispute_property", "blue", 0),
    ("出租房电动车违规充电", "fire", "yellow", 1),
    ("网传某地下水污染", "online_opinion", "blue", 4),
];

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

impl Engine {
    pub(crate) async fn seed_demo_warnings(&self) -> Result<usize, EngineError> {
        let login = Login::parse("demo-luqiao-grid").map_err(|e| EngineError::field("login_invalid", "login", e.to_string()))?;
        let Some(account) = self.store.account_by_login(&login).await? else { return Ok(0) };
        let grid = Actor::Account(Box::new(account));
        for (title, category, level, stage) in WARNINGS {
            let request = OpenCase {
                programme: "risk".into(),
                kind: "warning".into(),
                priority: Some(level.into()),
                region: "331004".into(),
                grid: None,
                channel: "grid".into(),
                intake_org: None,
                fields: object(json!({
                    "title": format!("【演示】{title}"),
                    "category": category,
                    "description": "演示数据：由系统生成，不涉及真实人员。",
                })),
            };
            let id = self.open_case(&grid, request).await?.case.id;
            if stage == 4 {
                self.act_on_case(&Actor::System, id, "lift", object(json!({"note": "经核实为不实信息（演示）"})), None).await?;
                continue;
            }
            if stage >= 1 {
                self.act_on_case(&grid, id, "dispatch", object(json!({"plan": category})), None).await?;
                self.act_on_case(&grid, id, "follow_up", object(json!({"follow_up": ["已电话督促责任单位（演示）"]})), None)
                    .await?;
            }
            if stage >= 2 {
                let report = object(json!({"handling": "已到场处置，情况稳定（演示）"}));
                self.act_on_case(&Actor::System, id, "report", report, None).await?;
            }
            if stage >= 3 {
                self.act_on_case(&grid, id, "clear", Map::new(), None).await?;
            }
        }
        Ok(WARNINGS.len())
    }

    /// 【演示】 grid-patrol reports in 路桥区, pushed through the real ingest of the `grid_patrol`
    /// source: a fortnight clustered around a few grids, for the heat map of risk events, and
    /// eighteen months of steady reports at four places and a scatter, so that the forecast
    /// layer and the nightly whistle have a history to fit on, and a quarter of weekly
    /// forecasts can be checked (`fengqiao risk check-forecasts`: a forecast trains on a year).
    pub(crate) async fn seed_demo_risk_events(&self) -> Result<usize, EngineError> {
        use geo::Centroid;
        let luqiao = fq_domain::region::RegionCode::parse("331004").expect("路桥区");
        let grids = self.store.grids_within(&luqiao).await?;
        if grids.is_empty() {
            return Ok(0);
        }
        let kinds = ["欠薪", "邻里纠纷", "消防隐患", "安全生产隐患", "重点人员"];
        let mut csv = String::from("report_id,reported_at,lon,lat,village,type,level,note\n");
        let today = fq_domain::calendar::local_date(self.now());
        let mut n = 0;
        // Three hot spots (a grid and its two neighbours in the list) and a scatter over the
        // county: the demo's own pattern, not real events.
        let len = grids.len();
        let mut picks: Vec<usize> = Vec::new();
        for (spot, count) in [(len / 5, 18), (len / 2, 12), (len * 4 / 5, 8)] {
            picks.extend((0..count).map(|k| (spot + k % 3) % len));
        }
        picks.extend((0..20).map(|k| (k * 37) % len));
        for (k, g) in picks.into_iter().enumerate() {
            let Some(c) = grids[g].area.centroid() else { continue };
            let day = today - chrono::Duration::days((k % 14) as i64);
            csv.push_str(&format!(
                "DEMO-{n:04},{day} 10:00,{:.6},{:.6},,{},{},【演示】网格员巡查上报\n",
                c.x(),
                c.y(),
                kinds[k % kinds.len()],
                1 + k % 3
            ));
            n += 1;
        }
        // The history: one report every `every` days at a place (a generated pattern, not real
        // events), each a little off the grid's centre so the density layer spreads.
        let places =
            [(len / 5, "欠薪", 3), (len / 2, "邻里纠纷", 5), (len * 4 / 5, "消防隐患", 8), (len / 3, "安全生产隐患", 11)];
        for (spot, kind, every) in places {
            let Some(c) = grids[spot].area.centroid() else { continue };
            for (j, back) in (15..DEMO_HISTORY_DAYS).step_by(every).enumerate() {
                let day = today - chrono::Duration::days(back);
                let (dx, dy) = (((j % 5) as f64 - 2.0) * 0.0006, ((j % 3) as f64 - 1.0) * 0.0006);
                csv.push_str(&format!(
                    "DEMO-{n:04},{day} 09:30,{:.6},{:.6},,{kind},{},【演示】网格员巡查上报\n",
                    c.x() + dx,
                    c.y() + dy,
                    1 + j % 2
                ));
                n += 1;
            }
        }
        for (j, back) in (15..DEMO_HISTORY_DAYS).step_by(4).enumerate() {
            let Some(c) = grids[(j * 53) % len].area.centroid() else { continue };
            let day = today - chrono::Duration::days(back);
            csv.push_str(&format!(
                "DEMO-{n:04},{day} 16:00,{:.6},{:.6},,{},1,【演示】网格员巡查上报\n",
                c.x(),
                c.y(),
                kinds[j % kinds.len()]
            ));
            n += 1;
        }
        let report = self.ingest_risk_events(&Actor::System, "grid_patrol", csv.as_bytes()).await?;
        Ok(report.stored)
    }
}
