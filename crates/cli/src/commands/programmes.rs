//! `fengqiao programmes list|check`.

use fq_engine::Programmes;

use crate::args::ProgrammesCommand;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

pub fn run(config: &Config, command: ProgrammesCommand) -> Outcome {
    let programmes = match command {
        ProgrammesCommand::List => open::programmes(config)?,
        ProgrammesCommand::Check { dir } => {
            let checked = Programmes::from_directory(&dir).map_err(|e| Failure::new("programme_invalid", e.to_string()))?;
            println!("{}: every definition is valid", dir.display());
            checked
        }
    };
    for programme in programmes.all() {
        println!("{}\tv{}\t{}\t({})", programme.code, programme.version, programme.name, programme.name_en);
        for kind in &programme.kinds {
            println!(
                "  {}\t{}\t{} states, {} actions, {} clocks, {} tiers, dispatch {}",
                kind.code,
                kind.name,
                kind.states.len(),
                kind.actions.len(),
                kind.clocks.len(),
                kind.tiers.len(),
                kind.dispatch.policy.as_str()
            );
        }
    }
    Ok(())
}
