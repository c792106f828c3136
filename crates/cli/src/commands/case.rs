//! `fengqiao case open|act|show|timeline|list|fire-timers`: cases from the server's command line,
//! acting as the operator (recorded as `cli:<user>` in the journal).

use fq_engine::{CaseQuery, Engine, OpenCase};
use serde_json::{Map, Value as Json};

use crate::args::CaseCommand;
use crate::commands::cli_actor;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

pub async fn run(config: &Config, command: CaseCommand) -> Outcome {
    open::with_engine(config, |engine| async move { case(&engine, command).await }).await
}

fn object(text: &str, what: &str) -> Result<Map<String, Json>, Failure> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::new("json_invalid", format!("{what} must be a JSON object like {{\"title\": \"...\"}}"))),
        Err(e) => Err(Failure::new("json_invalid", format!("{what} is not JSON: {e}"))),
    }
}

fn print_json(value: &impl serde::Serialize) -> Outcome {
    println!("{}", serde_json::to_string_pretty(value).map_err(|e| Failure::new("output_failed", e.to_string()))?);
    Ok(())
}

async fn case(engine: &Engine, command: CaseCommand) -> Outcome {
    let actor = cli_actor();
    match command {
        CaseCommand::Open { programme, kind, region, priority, channel, fields } => {
            let request = OpenCase {
                programme,
                kind,
                priority,
                region,
                grid: None,
                channel,
                intake_org: None,
                fields: object(&fields, "FIELDS")?,
            };
            let view = engine.open_case(&actor, request).await?;
            println!("{}\t{}\t{}", view.case.number, view.case.id, view.state_name);
        }
        CaseCommand::Act { case, action, inputs } => {
            let id = engine.find_case(&actor, &case).await?.case.id;
            let view = engine.act_on_case(&actor, id, &action, object(&inputs, "INPUTS")?, None).await?;
            let unit = view.case.unit.map(|u| u.to_string()).unwrap_or_else(|| "-".into());
            println!("{}\t{}\tunit {unit}", view.case.number, view.state_name);
        }
        CaseCommand::Show { case } => print_json(&engine.find_case(&actor, &case).await?)?,
        CaseCommand::Timeline { case } => {
            let id = engine.find_case(&actor, &case).await?.case.id;
            for entry in engine.case_timeline(&actor, id).await? {
                println!("{}\t{}\t{}\t{}\t{}", entry.seq, entry.recorded_at.to_rfc3339(), entry.actor, entry.kind, entry.event);
            }
            let same = engine.verify_case_snapshot(&actor, id).await?;
            println!("snapshot equals the replay of the journal: {same}");
            if !same {
                return Err(Failure::new("snapshot_differs", "the stored case differs from its journal stream"));
            }
        }
        CaseCommand::List { programme, state, open, limit } => {
            let query = CaseQuery { programme, state, open_only: open, limit: Some(limit), ..CaseQuery::default() };
            for case in engine.list_cases(&actor, query).await? {
                let due = case.due_at.map(|d| d.to_rfc3339()).unwrap_or_else(|| "-".into());
                println!("{}\t{}\t{}\t{}\t{}\tdue {due}", case.number, case.kind, case.state, case.region, case.title);
            }
        }
        CaseCommand::FireTimers => {
            let report = engine.fire_due_timers(10_000).await?;
            println!("{} due, {} fired, {} events, {} races", report.due, report.fired, report.events, report.raced);
        }
    }
    Ok(())
}
