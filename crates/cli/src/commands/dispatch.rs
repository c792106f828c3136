//! `fengqiao dispatch replay|handler`.

use fq_domain::account::AccountId;
use fq_domain::org::OrgId;
use fq_engine::Engine;
use fq_store::HandlerProfile;

use crate::args::DispatchCommand;
use crate::commands::cli_actor;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

pub async fn run(config: &Config, command: DispatchCommand) -> Outcome {
    open::with_engine(config, |engine| async move { dispatch(&engine, command).await }).await
}

async fn dispatch(engine: &Engine, command: DispatchCommand) -> Outcome {
    let actor = cli_actor();
    match command {
        DispatchCommand::Replay { case, json } => {
            let (view, draws) = engine.replay_dispatch(&actor, &case).await?;
            if json {
                let value = serde_json::json!({ "case": view.case.number, "draws": draws });
                println!("{value}");
            } else {
                println!("case {} ({}): {} automatic draw(s)", view.case.number, view.case.id, draws.len());
                for d in &draws {
                    let verdict = if d.identical { "identical" } else { "DIFFERENT" };
                    println!(
                        "  event {}: {} seed {} over {} candidates: recorded {:?}, replayed {:?}: {verdict}",
                        d.seq, d.policy, d.seed, d.candidates, d.recorded, d.replayed
                    );
                }
            }
            if draws.iter().any(|d| !d.identical) {
                return Err(Failure {
                    code: "dispatch_replay_differs",
                    message: "a replayed draw differs from the record".into(),
                    exit: 4,
                });
            }
        }
        DispatchCommand::Handler { unit, person, off_duty, unqualified, capacity, skills, conflicts } => {
            let profile = HandlerProfile {
                handler: String::new(),
                on_duty: !off_duty,
                capacity,
                qualified: !unqualified,
                skills,
                conflicts,
            };
            let saved = engine.set_handler_profile(&actor, OrgId(unit), person.map(AccountId), profile).await?;
            println!(
                "{}: on duty {}, qualified {}, capacity {}, skills {:?}, conflicts {:?}",
                saved.handler,
                saved.on_duty,
                saved.qualified,
                saved.capacity.map_or("none".into(), |c| c.to_string()),
                saved.skills,
                saved.conflicts
            );
        }
    }
    Ok(())
}
