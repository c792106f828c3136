//! `fengqiao import regions|boundaries|grids`.

use std::path::Path;

use fq_domain::region::RegionCode;
use fq_domain::region_dataset::DivisionFiles;
use fq_engine::{BadRow, Engine, ImportReport, embedded_division_files, read_table};

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
        ImportCommand::Cases { programme, mapping, file, dry_run, report, json } => {
            let text = String::from_utf8(read(&mapping)?)
                .map_err(|_| Failure::new("file_unreadable", format!("{} is not UTF-8", mapping.display())))?;
            let table = read_table(&file.display().to_string(), &read(&file)?)?;
            // A new data directory gets the division tree and boundaries, as on a first start.
            engine.ensure_reference_data().await?;
            let result = engine.import_cases(&programme, &mapping.display().to_string(), &text, &table, dry_run).await?;
            if let Some(path) = &report {
                write_bad_rows(path, &result.bad_rows)?;
            }
            if json {
                println!("{}", serde_json::to_string(&result).unwrap_or_default());
            } else {
                print_cases_report(&file, &result);
            }
            if result.bad_rows.is_empty() {
                Ok(())
            } else {
                Err(Failure {
                    code: "import_rows_invalid",
                    message: format!(
                        "{} of {} rows cannot be imported; nothing was imported{}",
                        result.bad_rows.len(),
                        result.rows,
                        report.map(|p| format!(" (every bad row is in {})", p.display())).unwrap_or_default()
                    ),
                    exit: 4,
                })
            }
        }
        ImportCommand::Inspections { file, dry_run, json } => {
            let text = String::from_utf8(read(&file)?)
                .map_err(|_| Failure::new("file_unreadable", format!("{} is not UTF-8", file.display())))?;
            engine.ensure_reference_data().await?;
            let report = engine.import_inspections(&actor, &text, dry_run).await?;
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                for (line, field, code, message) in &report.bad {
                    eprintln!("{}:{line}: {field}: {message} [{code}]", file.display());
                }
                let drawn = report.received.iter().filter(|r| r.assigned.is_some()).count();
                println!(
                    "{} lines: {} received ({drawn} drawn to a reviewer), {} received before and skipped{}",
                    report.lines,
                    report.received.len(),
                    report.already_received.len(),
                    if dry_run { " (dry run: nothing stored)" } else { "" }
                );
            }
            if report.bad.is_empty() {
                Ok(())
            } else {
                Err(Failure {
                    code: "import_lines_invalid",
                    message: format!(
                        "{} of {} lines are not records that can be reviewed; nothing was received",
                        report.bad.len(),
                        report.lines
                    ),
                    exit: 4,
                })
            }
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

/// How many bad rows the terminal shows (the --report file has them all).
const SHOWN_BAD_ROWS: usize = 30;

fn print_cases_report(file: &Path, r: &ImportReport) {
    let counts =
        |m: &std::collections::BTreeMap<String, u64>| m.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", ");
    if !r.bad_rows.is_empty() {
        for bad in r.bad_rows.iter().take(SHOWN_BAD_ROWS) {
            eprintln!("{}:{}: column {:?}: [{}] {}", file.display(), bad.line, bad.column, bad.code, bad.message);
        }
        if r.bad_rows.len() > SHOWN_BAD_ROWS {
            eprintln!("... and {} more bad rows", r.bad_rows.len() - SHOWN_BAD_ROWS);
        }
        return;
    }
    let verb = if r.dry_run { "checked (dry run, nothing written)" } else { "imported" };
    println!(
        "{verb} {} cases from {} through mapping \"{}\"",
        if r.dry_run { r.rows } else { r.imported },
        file.display(),
        r.mapping
    );
    println!("  by state:    {}", counts(&r.by_state));
    println!("  by outcome:  {}", counts(&r.by_outcome));
    println!("  by channel:  {}", counts(&r.by_channel));
    println!("  by category: {}", counts(&r.by_category));
}

fn write_bad_rows(path: &Path, rows: &[BadRow]) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::new("file_unwritable", format!("cannot write {}: {e}", path.display()));
    let mut w = csv::Writer::from_path(path).map_err(|e| fail(&e))?;
    w.write_record(["line", "column", "code", "message"]).map_err(|e| fail(&e))?;
    for row in rows {
        w.write_record([row.line.to_string().as_str(), &row.column, row.code, &row.message]).map_err(|e| fail(&e))?;
    }
    w.flush().map_err(|e| fail(&e))
}
