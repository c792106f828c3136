//! The demonstration data set, seeded on the first start when demo seeding is on.
//!
//! Everything here is generated, not real: organisation names start with 【演示】, accounts are
//! marked `demo`, grids are generated cells named （生成）. It is built on the real region tree of
//! the five counties that run the programmes, so that the console shows real places.

use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_domain::region::RegionCode;
use fq_store::{Change, Op};
use serde_json::json;

use crate::Engine;
use crate::accounts::NewAccount;
use crate::error::EngineError;
use crate::orgs::NewOrganisation;
use crate::secrets::new_password;

/// Settings key holding the time demo data was seeded.
pub const DEMO_SEEDED_KEY: &str = "demo.seeded_at";

/// The counties of the programmes in the mission: Qiantang, Longwan, Xinchang, Putuo, Luqiao.
pub const DEMO_COUNTIES: [&str; 5] = ["330114", "330303", "330624", "330903", "331004"];

/// Demo grid cell size.
const DEMO_CELL_METRES: u32 = 1_000;

/// A demo account and its one-time password.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub region: String,
    pub password: String,
}

/// What the demo seed created.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    pub organisations: usize,
    pub grids: usize,
    pub accounts: Vec<DemoAccount>,
    /// Demo cases of the demo, finance and maritime programmes.
    pub cases: usize,
}

/// Demo cases per demo county.
const DEMO_CASES_PER_COUNTY: usize = 12;

impl Engine {
    /// Seeds the demo data set once. Returns `None` when it was seeded before.
    pub async fn seed_demo(&self) -> Result<Option<DemoSeed>, EngineError> {
        if self.store.setting(DEMO_SEEDED_KEY).await?.is_some() {
            return Ok(None);
        }
        let system = Actor::System;
        let org = |name: String, kind: &str, region: &str, parent| NewOrganisation {
            name,
            kind: kind.into(),
            region: region.into(),
            parent,
        };
        let (province_centre, _) =
            self.create_organisation_as(&system, org("【演示】浙江省社会治理中心".into(), "centre", "33", None), true).await?;
        let mut organisations = 1;
        let mut finance_bank = None;
        let mut maritime_county = None;
        let mut grids = 0;
        let mut accounts = Vec::new();
        let mut add_account = async |login: &str,
                                     display_name: &str,
                                     org_id: uuid::Uuid,
                                     role: &str,
                                     region: &str,
                                     narrowed_to: Option<uuid::Uuid>| {
            let password = new_password()?;
            let request = NewAccount {
                login: login.into(),
                display_name: display_name.into(),
                org: org_id,
                password: Some(password.clone()),
                grants: vec![(role.into(), region.into(), narrowed_to)],
            };
            self.create_account_as(&system, request, true).await?;
            accounts.push(DemoAccount {
                login: login.into(),
                display_name: display_name.into(),
                role: role.into(),
                region: region.into(),
                password,
            });
            Ok::<(), EngineError>(())
        };
        add_account("demo-admin", "演示管理员", province_centre.id.0, "admin", "33", None).await?;
        // Reads every programme's figures province-wide (the imported historical cases too).
        add_account("demo-leader", "演示省级领导", province_centre.id.0, "leader", "33", None).await?;
        for code in DEMO_COUNTIES {
            let county = self.region(&RegionCode::parse(code).expect("valid demo county")).await?;
            let name = &county.name;
            let (centre, _) = self
                .create_organisation_as(
                    &system,
                    org(format!("【演示】{name}社会治理中心"), "centre", code, Some(province_centre.id.0)),
                    true,
                )
                .await?;
            let (committee, _) = self
                .create_organisation_as(
                    &system,
                    org(format!("【演示】{name}人民调解委员会"), "mediation_committee", code, Some(centre.id.0)),
                    true,
                )
                .await?;
            let (court, _) =
                self.create_organisation_as(&system, org(format!("【演示】{name}人民法院"), "court", code, None), true).await?;
            organisations += 3;
            if code == "331004" {
                add_account("demo-luqiao-staff", "演示路桥区工作人员", centre.id.0, "staff", code, None).await?;
                add_account("demo-luqiao-leader", "演示路桥区领导", centre.id.0, "leader", code, None).await?;
                // The demo programme's roles, so that every step of a case can be clicked through.
                add_account("demo-luqiao-intake", "演示路桥区受理员", centre.id.0, "intake", code, None).await?;
                add_account("demo-luqiao-dispatcher", "演示路桥区派单员", centre.id.0, "dispatcher", code, None).await?;
                add_account("demo-luqiao-handler", "演示路桥区承办人", centre.id.0, "handler", code, None).await?;
                add_account("demo-luqiao-verifier", "演示路桥区回访员", centre.id.0, "verifier", code, None).await?;
                // The risk programme's roles: a grid worker who raises warnings and follows them up.
                add_account("demo-luqiao-grid", "演示路桥区网格员", centre.id.0, "grid_worker", code, None).await?;
                // The financial-dispute programme's roles: the respondent institution (its grant
                // narrowed to its own business), the mediation committee and the court.
                let (bank, _) = self
                    .create_organisation_as(
                        &system,
                        org(format!("【演示】某银行{name}支行"), "cooperating_unit", code, None),
                        true,
                    )
                    .await?;
                // The registry of where cases are received: a consumer-protection service station
                // hosted by the bank, and a shared court point in a street hosted by the court.
                self.create_organisation_as(
                    &system,
                    org(format!("【演示】{name}消保服务站"), "station", code, Some(bank.id.0)),
                    true,
                )
                .await?;
                let street = self.region_children(&county.code).await?.first().map(|t| (t.code.to_string(), t.name.clone()));
                if let Some((street_code, street_name)) = street {
                    self.create_organisation_as(
                        &system,
                        org(format!("【演示】{street_name}共享法庭"), "court", &street_code, Some(court.id.0)),
                        true,
                    )
                    .await?;
                    organisations += 1;
                }
                organisations += 2;
                finance_bank = Some((bank.id.0, bank.name.clone()));
                add_account("demo-luqiao-bank", "演示银行联络员", bank.id.0, "institution", code, Some(bank.id.0)).await?;
                add_account("demo-luqiao-mediator", "演示路桥区调解员", committee.id.0, "mediator", code, None).await?;
                add_account("demo-luqiao-court", "演示路桥区法院联络员", court.id.0, "court_clerk", code, None).await?;
            }
            if code == "330903" {
                // A reviewer of another county, for the random cross-region review.
                add_account("demo-putuo-reviewer", "演示普陀区评查员", centre.id.0, "reviewer", code, None).await?;
                // The maritime-dispute programme's roles.
                add_account("demo-putuo-intake", "演示普陀区受理员", centre.id.0, "intake", code, None).await?;
                add_account("demo-putuo-mediator", "演示普陀区调解员", committee.id.0, "mediator", code, None).await?;
                add_account("demo-putuo-court", "演示普陀区法院联络员", court.id.0, "court_clerk", code, None).await?;
                // The risk programme's trace analyst, who traces the demo boats' last 72 hours.
                add_account("demo-putuo-tracer", "演示普陀区轨迹研判员", centre.id.0, "tracer", code, None).await?;
                maritime_county = Some(county.code.clone());
            }
            grids += self.generate_grids(&system, &county.code, DEMO_CELL_METRES).await?.grids;
        }
        // Vehicle-inspection review in 金华: a station in 婺城区, review sub-centres in 金东区 and
        // 义乌市 (one reviewer each; the review draws within the city, never the record's county),
        // a senior reviewer in 兰溪市 for the re-checks and a supervisor over the city.
        let mut inspection = None;
        if self.programmes.get("inspection").is_some() {
            let (station, _) = self
                .create_organisation_as(&system, org("【演示】婺城区机动车检测站".into(), "station", "330702", None), true)
                .await?;
            add_account("demo-jinhua-station", "演示婺城区检测站", station.id.0, "station", "330702", None).await?;
            let mut centres = Vec::new();
            for (county, login, name, role) in [
                ("330703", "demo-jindong-reviewer", "演示金东区审核员", "reviewer"),
                ("330782", "demo-yiwu-reviewer", "演示义乌市审核员", "reviewer"),
                ("330781", "demo-lanxi-senior", "演示兰溪市复核员", "senior_reviewer"),
            ] {
                let county_name = self.region(&RegionCode::parse(county).expect("a demo county")).await?.name;
                let (centre, _) = self
                    .create_organisation_as(
                        &system,
                        org(format!("【演示】{county_name}审核分中心"), "centre", county, None),
                        true,
                    )
                    .await?;
                add_account(login, name, centre.id.0, role, county, None).await?;
                centres.push((login, centre.id.0));
                organisations += 1;
            }
            let (city_centre, _) = self
                .create_organisation_as(&system, org("【演示】金华市机动车检验监管中心".into(), "centre", "3307", None), true)
                .await?;
            add_account("demo-jinhua-supervisor", "演示金华市监督员", city_centre.id.0, "supervisor", "3307", None).await?;
            organisations += 2;
            inspection = Some((station.id.0, centres));
        }
        let mut cases = 0;
        if let Some((station, centres)) = inspection {
            cases += self.seed_demo_inspection(station, &centres).await?;
        }
        for code in DEMO_COUNTIES {
            cases += self.seed_demo_cases(&RegionCode::parse(code).expect("valid demo county"), DEMO_CASES_PER_COUNTY).await?;
        }
        if let Some((bank, bank_name)) = finance_bank {
            let luqiao = RegionCode::parse("331004").expect("valid demo county");
            cases += self.seed_demo_finance_cases(&luqiao, bank, &bank_name).await?;
        }
        if self.programmes.get("risk").is_some() {
            cases += self.seed_demo_warnings().await?;
            self.seed_demo_risk_events().await?;
        }
        if let Some(putuo) = maritime_county {
            cases += self.seed_demo_maritime_cases(&putuo).await?;
            if self.programmes.get("risk").is_some() {
                self.seed_demo_positions(&putuo).await?;
            }
        }
        // Time limits that ran out while the demo cases were being "handled" raise their cards now.
        while self.fire_due_timers(500).await?.due == 500 {}
        let seeded_at = fq_domain::journal::journal_time(self.now());
        let logins: Vec<&str> = accounts.iter().map(|a| a.login.as_str()).collect();
        let change = Change::new().op(Op::PutSetting { key: DEMO_SEEDED_KEY.into(), value: seeded_at.clone() }).event(NewEvent::new(
            "demo",
            "demo.seeded",
            system.journal_name(),
            json!({ "seeded_at": seeded_at, "organisations": organisations, "grids": grids, "accounts": logins, "counties": DEMO_COUNTIES, "cases": cases }),
        ));
        self.store.commit(change).await?;
        Ok(Some(DemoSeed { organisations, grids, accounts, cases }))
    }
}
