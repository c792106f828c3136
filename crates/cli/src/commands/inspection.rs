//! `fengqiao inspection ...`: a batch of records against the review standard (`review`, reads
//! only), and the supervision work on the stored records: anomaly checks, the re-check sample,
//! station points, the ranking and the sub-centre evaluation.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use fq_domain::calendar::start_of_day;
use fq_engine::Engine;

use fq_domain::calendar::local_date;
use fq_domain::inspection::{InspectionRecord, RuleSet, Verdict, anomalies};
use fq_engine::shipped_rule_sets;
use serde_json::json;

use crate::args::InspectionCommand;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::open;

pub async fn run(config: &Config, command: InspectionCommand) -> Outcome {
    match command {
        InspectionCommand::Review { records, rules, json } => review(&records, rules.as_deref(), json),
        other => open::with_engine(config, |engine| async move { oversee(&engine, other).await }).await,
    }
}

fn review(records: &Path, rules: Option<&Path>, json: bool) -> Outcome {
    let sets = match rules {
        None => shipped_rule_sets()?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", path.display())))?;
            vec![RuleSet::load(&path.display().to_string(), &text).map_err(|e| Failure::new("rules_invalid", e.to_string()))?]
        }
    };
    let text = std::fs::read_to_string(records)
        .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", records.display())))?;
    let mut batch = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let record: InspectionRecord = serde_json::from_str(line)
            .map_err(|e| Failure::new("record_invalid", format!("{}:{}: {e}", records.display(), i + 1)))?;
        batch.push(record);
    }
    let mut verdicts: BTreeMap<Verdict, u64> = BTreeMap::new();
    let mut fired: BTreeMap<String, (u64, String)> = BTreeMap::new();
    for record in &batch {
        let day = local_date(record.inspection_started);
        let set = RuleSet::in_force(&sets, day)
            .ok_or_else(|| Failure::new("rules_not_in_force", format!("{}: no rule set is in force on {day}", record.id)))?;
        let review = set.review(record).map_err(|e| Failure::new("rule_failed", format!("{}: {e}", record.id)))?;
        *verdicts.entry(review.verdict).or_default() += 1;
        for f in review.fired {
            fired.entry(f.code).or_insert((0, f.text)).0 += 1;
        }
    }
    let found = anomalies(&batch, &[]);
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for a in &found {
        *kinds
            .entry(serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
            .or_default() += 1;
    }
    let synthetic = batch.iter().filter(|r| r.synthetic).count();
    if json {
        let verdicts: BTreeMap<String, u64> = verdicts
            .iter()
            .map(|(v, n)| (serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(), *n))
            .collect();
        let rules: BTreeMap<&str, u64> = fired.iter().map(|(code, (n, _))| (code.as_str(), *n)).collect();
        println!(
            "{}",
            json!({ "records": batch.len(), "synthetic": synthetic, "verdicts": verdicts, "rules": rules, "anomalies": kinds })
        );
    } else {
        println!("{} records ({synthetic} synthetic) reviewed against the rule set in force on each day", batch.len());
        for (verdict, n) in &verdicts {
            println!("  {verdict:?}: {n}");
        }
        for (code, (n, text)) in &fired {
            println!("  {code} fired {n} times: {text}");
        }
        for (kind, n) in &kinds {
            println!("  anomaly {kind}: {n}");
        }
    }
    Ok(())
}

fn month_of(text: &str) -> Result<(i32, u32), Failure> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .map_err(|_| Failure::new("month_invalid", format!("--month {text:?} is not YYYY-MM")))?;
    Ok((first.year(), first.month()))
}

async fn oversee(engine: &Engine, command: InspectionCommand) -> Outcome {
    let actor = crate::commands::cli_actor();
    match command {
        InspectionCommand::Review { .. } => Ok(()),
        InspectionCommand::Supervise { city, from, to, dry_run, json } => {
            let run = engine.run_inspection_supervision(&actor, &city, start_of_day(from), start_of_day(to), dry_run).await?;
            if json {
                println!("{}", serde_json::to_string(&run).unwrap_or_default());
            } else {
                println!("{} records, {} decided reviews; {} anomalies", run.records, run.reviews, run.anomalies.len());
                for a in &run.anomalies {
                    println!("  {:?} {}: {}", a.kind, a.subject, a.detail);
                }
                println!(
                    "opened {} supervision cases ({} found before){}",
                    run.opened.len(),
                    run.known,
                    if dry_run { " (dry run)" } else { "" }
                );
            }
            Ok(())
        }
        InspectionCommand::Recheck { city, from, to, share, key, json } => {
            let run = engine.draw_inspection_rechecks(&actor, &city, start_of_day(from), start_of_day(to), share, &key).await?;
            if json {
                println!("{}", serde_json::to_string(&run).unwrap_or_default());
            } else {
                println!(
                    "{} passed records; drew {} for re-check ({} re-checked before): {}",
                    run.reviews,
                    run.opened.len(),
                    run.known,
                    run.opened.join(" ")
                );
            }
            Ok(())
        }
        InspectionCommand::SettlePoints { city, month } => {
            let (year, month) = month_of(&month)?;
            let made = engine.settle_recheck_points(&actor, &city, year, month).await?;
            println!("entered {} points entries: {}", made.len(), made.join(" "));
            Ok(())
        }
        InspectionCommand::AwardPoints { region, station, rule, on, note } => {
            let view = engine.award_station_points(&actor, &region, &station, &rule, on, &note, None).await?;
            println!("entered {} for {station}", view.case.number);
            Ok(())
        }
        InspectionCommand::Ranking { city, month, json } => {
            let (year, month) = month_of(&month)?;
            let ranking = engine.station_ranking(&actor, &city, year, month).await?;
            if json {
                println!("{}", serde_json::to_string(&ranking).unwrap_or_default());
            } else {
                println!("rank  before  station               points  entries  reviewed  passed");
                for r in &ranking {
                    let before = r.previous_rank.map_or("-".to_owned(), |r| r.to_string());
                    println!(
                        "{:>4}  {before:>6}  {:<20}  {:>6}  {:>7}  {:>8}  {:>6}",
                        r.rank, r.station, r.points, r.entries, r.reviewed, r.passed
                    );
                }
            }
            Ok(())
        }
        InspectionCommand::Evaluation { city, from, to, json } => {
            let view = engine.inspection_evaluation(&actor, &city, start_of_day(from), start_of_day(to)).await?;
            if json {
                println!("{}", serde_json::to_string(&view).unwrap_or_default());
            } else {
                println!("county/reviewer        reviews  mean s  rejected  re-checked  disagreements");
                let rows = view.report.by_county.iter().map(|(k, e)| (view.counties.get(k).unwrap_or(k), e));
                let people = view.report.by_reviewer.iter().map(|(k, e)| (view.reviewers.get(k).unwrap_or(k), e));
                for (name, e) in rows.chain(people) {
                    println!(
                        "{name:<22} {:>7}  {:>6.0}  {:>8}  {:>10}  {:>13}",
                        e.reviews,
                        e.mean_seconds().unwrap_or(0.0),
                        e.rejected,
                        e.rechecked,
                        e.disagreements
                    );
                }
            }
            Ok(())
        }
    }
}
