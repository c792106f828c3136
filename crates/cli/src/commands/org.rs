//! `fengqiao org add|list`.

use fq_domain::region::RegionCode;
use fq_engine::{Engine, NewOrganisation};

use crate::args::OrgCommand;
use crate::commands::cli_actor;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

pub async fn run(config: &Config, command: OrgCommand) -> Outcome {
    open::with_engine(config, |engine| async move { org(&engine, command).await }).await
}

async fn org(engine: &Engine, command: OrgCommand) -> Outcome {
    let actor = cli_actor();
    match command {
        OrgCommand::Add { name, kind, region, parent } => {
            let (org, seq) = engine.create_organisation(&actor, NewOrganisation { name, kind, region, parent }).await?;
            println!("{}\t{}\t{}\t{} (journal event {seq})", org.id, org.name, org.kind.as_str(), org.region);
        }
        OrgCommand::List { region } => {
            let region = RegionCode::parse(&region).map_err(|e| Failure::new("region_code_invalid", format!("--region: {e}")))?;
            for org in engine.organisations_within(&actor, &region).await? {
                let demo = if org.demo { "\tdemo" } else { "" };
                println!("{}\t{}\t{}\t{}{demo}", org.id, org.name, org.kind.as_str(), org.region);
            }
        }
    }
    Ok(())
}
