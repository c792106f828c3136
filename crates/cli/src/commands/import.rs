//! `fengqiao import regions|boundaries|grids`.

use std::path::Path;

use fq_domain::region::RegionCode;
use fq_domain::region_dataset::DivisionFiles;
use fq_engine::{Engine, embedded_division_files};

use crate::args::ImportCommand;
use crate::commands::cli_actor;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", path.display())))
}

pub async fn run(config: &Config, command: ImportCommand) -> Outcome {
    open::with_engine(config, |engine| async move { import(&engine, command).await }).await
}

async fn import(engine: &Engine, command: ImportCommand) -> Outcome {
    let actor = cli_actor();
    match command {
        ImportCommand::Regions { dir } => {
            let report = match dir {
                None => engine.import_regions(&actor, "embedded data/regions", embedded_division_files()).await?,
                Some(dir) => {
                    let files: Vec<Vec<u8>> =
                        DivisionFiles::FILE_NAMES.iter().map(|name| read(&dir.join(name))).collect::<Result<_, _>>()?;
                    let division = DivisionFiles {
                        provinces: &files[0],
                        cities: &files[1],
                        counties: &files[2],
                        towns: &files[3],
                        villages: &files[4],
                    };
                    engine.import_regions(&actor, &dir.display().to_string(), division).await?
                }
            };
            match report.journal_seq {
                None => println!("the division tree is already up to date ({})", report.counts),
                Some(seq) => println!(
                    "imported the division tree from {}: {} added, {} renamed, {} retired, {} restored; now {} (journal event {seq})",
                    report.source, report.added, report.renamed, report.retired, report.restored, report.counts
                ),
            }
            Ok(())
        }
        ImportCommand::Boundaries { file } => {
            let bytes = read(&file)?;
            let report = engine.import_boundaries(&actor, &file.display().to_string(), &bytes).await?;
            println!(
                "imported {} boundary polygons from {} (journal event {})",
                report.boundaries, report.source, report.journal_seq
            );
            Ok(())
        }
        ImportCommand::Grids { file: Some(file), .. } => {
            let bytes = read(&file)?;
            let report = engine.import_grids(&actor, &file.display().to_string(), &bytes).await?;
            println!("imported {} grids from {} (journal event {})", report.grids, file.display(), report.journal_seq);
            Ok(())
        }
        ImportCommand::Grids { file: None, generate_for, cell_metres } => {
            let county = generate_for.unwrap_or_default();
            let county =
                RegionCode::parse(&county).map_err(|e| Failure::new("region_code_invalid", format!("--generate-for: {e}")))?;
            let report = engine.generate_grids(&actor, &county, cell_metres).await?;
            println!(
                "generated {} demonstration cells of {cell_metres} m for county {county}, replacing {} (journal event {}); they are labelled as generated",
                report.grids, report.replaced, report.journal_seq
            );
            Ok(())
        }
    }
}
