//! `fengqiao audit verify|checkpoint`.

use fq_engine::{AuditOutcome, Engine, parse_checkpoint};
use serde_json::json;

use crate::args::AuditCommand;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;
use crate::progress::Progress;

pub async fn run(config: &Config, command: AuditCommand) -> Outcome {
    open::with_engine(config, |engine| async move { audit(&engine, command).await }).await
}

async fn audit(engine: &Engine, command: AuditCommand) -> Outcome {
    match command {
        AuditCommand::Verify { checkpoint, json } => {
            let published = checkpoint.iter().map(|c| parse_checkpoint(c)).collect::<Result<Vec<_>, _>>()?;
            let progress = Progress::new("journal rows checked");
            let outcome = engine.verify_journal(published, &|n| progress.set(n)).await?;
            progress.finish();
            match outcome {
                AuditOutcome::Intact(summary) => {
                    if json {
                        println!(
                            "{}",
                            json!({ "intact": true, "events": summary.events, "head": summary.head.map(|h| h.to_string()) })
                        );
                    } else {
                        match summary.head {
                            Some(head) => println!("journal intact: {} events, head {head}", summary.events),
                            None => println!("journal intact: empty"),
                        }
                    }
                    Ok(())
                }
                AuditOutcome::Broken(found) => {
                    if json {
                        println!(
                            "{}",
                            json!({ "intact": false, "seq": found.seq, "kind": found.kind.as_str(), "detail": found.detail })
                        );
                    }
                    Err(Failure::broken_journal(format!("journal broken at {found}")))
                }
            }
        }
        AuditCommand::Checkpoint { json } => {
            let head = engine.checkpoint().await.map_err(|e| match e {
                fq_engine::EngineError::Invalid { code: "journal_broken", message, .. } => Failure::broken_journal(message),
                other => other.into(),
            })?;
            match (head, json) {
                (Some(head), true) => {
                    println!("{}", json!({ "seq": head.seq, "hash": head.hash.to_hex(), "checkpoint": head.to_string() }));
                }
                (Some(head), false) => println!("{head}"),
                (None, true) => println!("{}", json!({ "seq": 0, "hash": null })),
                (None, false) => println!("0: (empty journal)"),
            }
            Ok(())
        }
    }
}
