//! Demo data (labelled 【演示】) for the vehicle-inspection review in 金华: a day of generated
//! records of a station in 婺城区 pushed through the real intake (the review standard runs on
//! each, a reviewer of another county is drawn), most of them reviewed, the rest waiting as the
//! reviewers' next records; then the supervision checks, a re-check sample with one
//! disagreement, the month's re-check points, two more ledger entries and an appeal.

use chrono::{Datelike, Duration};
use fq_domain::account::Login;
use fq_domain::actor::Actor;
use fq_domain::calendar::local_date;
use fq_domain::inspection::{CountyWeight, Verdict, simulate};
use fq_store::HandlerProfile;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::Engine;
use crate::error::EngineError;

/// Records of the demo day, and how many of them are left for the reviewers to open.
const RECORDS: u32 = 24;
const LEFT_WAITING: usize = 4;

impl Engine {
    async fn demo_actor(&self, login: &str) -> Result<Actor, EngineError> {
        let login = Login::parse(login).map_err(|e| EngineError::field("login_invalid", "login", e.to_string()))?;
        let account = self
            .store
            .account_by_login(&login)
            .await?
            .ok_or_else(|| EngineError::NotFound { entity: "account", key: login.as_str().to_owned() })?;
        Ok(Actor::Account(Box::new(account)))
    }

    /// The demo's records and what follows from them. `centres` holds each reviewer's login with
    /// its unit.
    pub(crate) async fn seed_demo_inspection(&self, _station: Uuid, centres: &[(&str, Uuid)]) -> Result<usize, EngineError> {
        let system = Actor::System;
        // Qualifications: 金东 reviews every class, 义乌 cars and light vans only.
        for (login, unit) in centres {
            let actor = self.demo_actor(login).await?;
            let skills: &[&str] = if *login == "demo-yiwu-reviewer" { &["k33", "h31"] } else { &["k33", "h31", "h11", "k11"] };
            let profile =
                HandlerProfile { skills: skills.iter().map(|s| (*s).to_owned()).collect(), ..HandlerProfile::default_for("") };
            self.set_handler_profile(&system, fq_domain::org::OrgId(*unit), actor.account_id(), profile).await?;
        }
        let station = self.demo_actor("demo-jinhua-station").await?;
        let wucheng = [CountyWeight { code: "330702".into(), name: "婺城区".into(), weight: 1.0 }];
        let yesterday = local_date(self.now()) - Duration::days(1);
        let mut numbers = Vec::new();
        for mut record in simulate('G', &wucheng, yesterday, 1, RECORDS, 20_261_127) {
            record.id = record.id.replacen("SIM-", "DEMO-", 1);
            if record.insurance.plate == record.plate {
                record.insurance.plate = format!("【演示】{}", record.plate);
            }
            record.plate = format!("【演示】{}", record.plate);
            let received = self.receive_inspection(&station, record, "station_push").await?;
            numbers.push(received);
        }
        let mut reviewers: std::collections::BTreeMap<String, Actor> = std::collections::BTreeMap::new();
        for (login, _) in centres.iter().filter(|(l, _)| l.ends_with("-reviewer")) {
            let actor = self.demo_actor(login).await?;
            reviewers.insert(actor.account_id().map(|a| a.to_string()).unwrap_or_default(), actor);
        }
        let decided = numbers.len().saturating_sub(LEFT_WAITING);
        for received in numbers.iter().take(decided) {
            let Some(reviewer) = received.assigned.as_ref().and_then(|a| reviewers.get(a)) else { continue };
            let case = self.find_case(&system, &received.number).await?.case;
            let rejecting = received.review.fired.iter().find(|f| f.verdict == Verdict::Reject);
            let mut inputs = Map::new();
            let action = match rejecting {
                Some(rule) => {
                    inputs.insert("reject_reason".into(), Json::from(rule.reason.clone()));
                    inputs.insert("note".into(), Json::from(format!("【演示】{}，请整改后重新提交", rule.text)));
                    "reject"
                }
                None => "pass",
            };
            self.act_on_case(reviewer, case.id, action, inputs, None).await?;
        }
        let mut cases = numbers.len();
        let (from, to) = (self.now() - Duration::days(1), self.now() + Duration::hours(1));
        cases += self.run_inspection_supervision(&system, "3307", from, to, false).await?.opened.len();
        let rechecks = self.draw_inspection_rechecks(&system, "3307", from, to, 0.3, "demo-recheck-2026").await?;
        cases += rechecks.opened.len();
        let senior = self.demo_actor("demo-lanxi-senior").await?;
        for (i, number) in rechecks.opened.iter().enumerate() {
            let case = self.find_case(&system, number).await?.case;
            let mut inputs = Map::new();
            let action = if i == 0 {
                inputs.insert("reject_reason".into(), Json::from("plate_screws"));
                inputs.insert("note".into(), Json::from("【演示】正前方照片号牌螺丝缺失，初审未发现"));
                "disagree"
            } else {
                "agree"
            };
            self.act_on_case(&senior, case.id, action, inputs, None).await?;
        }
        let today = local_date(self.now());
        cases += self.settle_recheck_points(&system, "3307", today.year(), today.month()).await?.len();
        self.award_station_points(&system, "330702", "330702-S01", "hw_video_online", today, "【演示】检测线视频全程接入", None)
            .await?;
        let deduction = self
            .award_station_points(
                &system,
                "330702",
                "330702-S02",
                "sv_complaint_upheld",
                today,
                "【演示】群众投诉排队时间过长",
                None,
            )
            .await?;
        let mut appeal = Map::new();
        appeal.insert("appeal_reason".into(), Json::from("【演示】当日设备检定，已提前公告"));
        self.act_on_case(&station, deduction.case.id, "appeal", appeal, None).await?;
        cases += 2;
        Ok(cases)
    }
}
