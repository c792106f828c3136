//! `fengqiao simulate inspections`: synthetic inspection records (P2) as JSON lines, labelled.

use std::io::Write;

use fq_domain::inspection::{plate_letter, simulate};
use fq_engine::city_county_weights;

use crate::args::SimulateCommand;
use crate::failure::{Failure, Outcome};

pub fn run(command: SimulateCommand) -> Outcome {
    let SimulateCommand::Inspections { city, days, per_day, first_day, seed, out } = command;
    let letter = plate_letter(&city)
        .ok_or_else(|| Failure::new("region_not_city", format!("--city {city}: not a city of Zhejiang (3301 to 3311)")))?;
    if days == 0 || days > 3_660 || per_day == 0 || per_day > 1_000_000 {
        return Err(Failure::new("argument_invalid", "--days is 1 to 3660 and --per-day 1 to 1,000,000"));
    }
    let counties = city_county_weights(&city)?;
    let records = simulate(letter, &counties, first_day, days, per_day, seed);
    let fail = |e: std::io::Error| Failure::new("file_unwritable", format!("cannot write the records: {e}"));
    let mut sink: Box<dyn Write> = match &out {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path).map_err(fail)?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    for record in &records {
        let line = serde_json::to_string(record).map_err(|e| Failure::new("encoding_failed", e.to_string()))?;
        writeln!(sink, "{line}").map_err(fail)?;
    }
    sink.flush().map_err(fail)?;
    let shares: Vec<String> =
        counties.iter().map(|c| format!("{} {}", c.name, records.iter().filter(|r| r.county == c.code).count())).collect();
    eprintln!(
        "{} synthetic inspection records (SIM-…, labelled synthetic) for city {city} over {days} day(s) from {first_day}, seed {seed}: {}",
        records.len(),
        shares.join(", ")
    );
    Ok(())
}
