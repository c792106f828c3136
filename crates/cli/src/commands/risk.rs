//! `fengqiao risk ...`: the risk forecasts measured on real data (backtest, convert-nij), and the
//! stored events, whistles, positions and traces; the nightly run's commands are in
//! `risk_nightly.rs`.

use fq_risk::{Backtest, Horizon, Layout, Report, read_events, read_events_as};

use crate::args::RiskCommand;
use crate::config::Config;
use crate::open;

/// The shipped level table.
const SHIPPED_LEVELS: &str = include_str!("../../../../data/risk/levels-v1.toml");
use crate::failure::{Failure, Outcome};

pub async fn run(config: &Config, command: RiskCommand) -> Outcome {
    match command {
        RiskCommand::Whistle { county: Some(county), category, cell_size, at, json, .. } => {
            let county = fq_domain::region::RegionCode::parse(&county)
                .map_err(|e| Failure::new("region_code_invalid", format!("--county: {e}")))?;
            open::with_engine(config, |engine| async move {
                let actor = crate::commands::cli_actor();
                let runs = match &category {
                    Some(category) => {
                        let run = engine.whistle(&actor, &county, category, cell_size, at).await?;
                        vec![fq_engine::CountyWhistle {
                            county: county.to_string(),
                            category: category.clone(),
                            run,
                            skipped: None,
                        }]
                    }
                    None => engine.whistle_all(&actor, &county, cell_size, at).await?,
                };
                if json {
                    println!("{}", serde_json::to_string(&runs).unwrap_or_default());
                } else if runs.is_empty() {
                    println!("{county}: no stored events with a point before {at}");
                }
                for r in runs.iter().filter(|_| !json) {
                    print_whistle_run(r);
                }
                Ok(())
            })
            .await
        }
        RiskCommand::Ingest { source, file, json } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", file.display())))?;
            open::with_engine(config, |engine| async move {
                engine.ensure_reference_data().await?;
                let report = engine.ingest_risk_events(&crate::commands::cli_actor(), &source, &bytes).await?;
                if json {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                } else {
                    for bad in &report.bad {
                        eprintln!("{}:{}: {}: {}: {}", file.display(), bad.line, bad.column, bad.code, bad.message);
                    }
                    println!(
                        "{source}: {} rows, {} stored ({} in grids, {} by region code), {} sent before, {} outside every grid without a region",
                        report.rows,
                        report.stored,
                        report.in_grids,
                        report.by_region,
                        report.duplicates,
                        report.outside.len()
                    );
                }
                if report.bad.is_empty() {
                    Ok(())
                } else {
                    Err(Failure { code: "events_invalid", message: format!("{} bad rows; nothing was stored", report.bad.len()), exit: 4 })
                }
            })
            .await
        }
        RiskCommand::PullOpen311 { source, url, start_date, json } => {
            let now = chrono::Utc::now();
            let start = crate::open311_pull::start_of(start_date.as_deref(), now)?;
            let pulled = crate::open311_pull::fetch(&url, start, now)?;
            for warning in &pulled.warnings {
                eprintln!("warning: {warning}");
            }
            let (address, body, pages) = (pulled.address, pulled.body, pulled.pages);
            open::with_engine(config, |engine| async move {
                engine.ensure_reference_data().await?;
                let report = engine.ingest_risk_events(&crate::commands::cli_actor(), &source, &body).await?;
                if json {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                } else {
                    println!(
                        "{address}: {} requests in {pages} pages, {} stored ({} in grids), {} pulled before, {} outside every grid",
                        report.rows,
                        report.stored,
                        report.in_grids,
                        report.duplicates,
                        report.outside.len()
                    );
                }
                if report.bad.is_empty() {
                    Ok(())
                } else {
                    Err(Failure {
                        code: "events_invalid",
                        message: format!("{} bad requests; nothing was stored", report.bad.len()),
                        exit: 4,
                    })
                }
            })
            .await
        }
        RiskCommand::Positions { source, region, file, json } => {
            let region = region
                .as_deref()
                .map(|r| fq_domain::region::RegionCode::parse(r.trim()))
                .transpose()
                .map_err(|e| Failure::new("region_code_invalid", format!("--region: {e}")))?;
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", file.display())))?;
            open::with_engine(config, |engine| async move {
                engine.ensure_reference_data().await?;
                let report = engine.ingest_positions(&crate::commands::cli_actor(), &source, region.as_ref(), &bytes).await?;
                if json {
                    println!("{}", serde_json::to_string(&report).unwrap_or_default());
                } else {
                    println!(
                        "{source}: {} reports of {} subjects, {} stored, {} sent before",
                        report.rows, report.subjects, report.stored, report.duplicates
                    );
                }
                Ok(())
            })
            .await
        }
        RiskCommand::Trace { positions: None, id, at, hours, within, same_minutes, json } => {
            open::with_engine(config, |engine| async move {
                let trace = engine.trace(&crate::commands::cli_actor(), &id, at, hours, within, same_minutes).await?;
                print_trace(&trace, json);
                Ok(())
            })
            .await
        }
        RiskCommand::Open311Pulls { action, json } => super::risk_nightly::pulls(config, action, json).await,
        RiskCommand::Night { day, json } => super::risk_nightly::night(config, day, json).await,
        RiskCommand::CheckForecasts { county, horizon, periods, replace, json } => {
            super::risk_nightly::backfill_checks(config, &county, &horizon, (periods, replace), json).await
        }
        other => offline(other),
    }
}

/// A trace: the track, then the contacts, closest first.
fn print_trace(trace: &fq_engine::Trace, json: bool) {
    if json {
        println!("{}", serde_json::to_string(trace).unwrap_or_default());
        return;
    }
    let (id, at, hours, within, same) = (&trace.id, trace.at, trace.hours, trace.within_metres, trace.same_time_minutes);
    println!("{id}: {} reports in the {hours} hours before {at}", trace.track.len());
    for p in &trace.track {
        println!("  {}  {:.5}, {:.5}", p.at.format("%Y-%m-%d %H:%M:%S"), p.lon, p.lat);
    }
    println!("{} within {within} m at the same time (or within {same} minutes of a report):", trace.contacts.len());
    for c in &trace.contacts {
        println!(
            "  {:<12} closest {:>6.0} m at {}  ({} reports, {} to {})",
            c.id,
            c.closest_metres,
            c.closest_at.format("%H:%M:%S"),
            c.reports,
            c.first_at.format("%H:%M:%S"),
            c.last_at.format("%H:%M:%S")
        );
    }
    if !trace.disagreements.is_empty() {
        let n = trace.disagreements.len();
        println!(
            "{n} {} of the feeds on where {id} was (copies of one time more than {} m apart, the first the one used; or a report off where another feed's reports either side place it; times UTC):",
            if n == 1 { "disagreement" } else { "disagreements" },
            fq_engine::DISAGREE_METRES
        );
    }
    for d in &trace.disagreements {
        let copies: Vec<String> = d
            .copies
            .iter()
            .map(|c| {
                let place =
                    format!("{} {} {:.5}, {:.5}", c.source, if c.region.is_empty() { "—" } else { &c.region }, c.lon, c.lat);
                match c.between {
                    Some([from, to]) => {
                        format!("{place} (between its reports at {} and {})", from.format("%H:%M:%S"), to.format("%H:%M:%S"))
                    }
                    None => place,
                }
            })
            .collect();
        println!(
            "  {}  {:>6.0} m apart (allowed {:.0}): {}",
            d.at.format("%Y-%m-%d %H:%M:%S"),
            d.metres,
            d.allowed_metres,
            copies.join(" | ")
        );
    }
}

/// One county's whistle for one category, as a line.
pub fn print_whistle_run(r: &fq_engine::CountyWhistle) {
    if let Some(why) = &r.skipped {
        println!("{} {}: not forecast: {why}", r.county, r.category);
        return;
    }
    let run = &r.run;
    println!(
        "{} {}: {} cells reach a level; opened {} warning cases ({} grids already have an open model warning, {} of them raised; {} cells outside every grid){}{}",
        r.county,
        r.category,
        run.cells,
        run.opened.len(),
        run.known,
        run.raised.len(),
        run.unplaced,
        if run.opened.is_empty() { "" } else { ": " },
        run.opened.join(" ")
    );
}

fn offline(command: RiskCommand) -> Outcome {
    match command {
        RiskCommand::Ingest { .. }
        | RiskCommand::PullOpen311 { .. }
        | RiskCommand::Whistle { events: None, .. }
        | RiskCommand::Positions { .. }
        | RiskCommand::Open311Pulls { .. }
        | RiskCommand::Night { .. }
        | RiskCommand::CheckForecasts { .. }
        | RiskCommand::Trace { positions: None, .. } => Ok(()),
        RiskCommand::Backtest {
            events,
            cell_size,
            category,
            horizon,
            train_until,
            origins,
            score_until,
            columns,
            date_format,
            skip_bad_rows,
            min_history,
            hindsight,
            json,
        } => {
            let bytes = std::fs::read(&events)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", events.display())))?;
            let horizon = Horizon::parse(&horizon)
                .ok_or_else(|| Failure::new("horizon_invalid", format!("--horizon {horizon:?} is not 1d, 7d or 30d")))?;
            let layout = Layout { date_format, ..Layout::default() }
                .with_columns(columns.as_deref().unwrap_or(""))
                .map_err(|e| Failure::new("columns_invalid", format!("--columns: {e}")))?;
            let invalid = |message: String| Failure { code: "events_invalid", message, exit: 4 };
            let (events_read, bad) =
                read_events_as(&bytes, &layout).map_err(|e| invalid(format!("{}: {e}", events.display())))?;
            let named = bad.iter().take(20).map(|r| format!("\n  line {}, {}: {}", r.line, r.column, r.message));
            if !bad.is_empty() && !skip_bad_rows {
                return Err(invalid(format!("{}: {} bad rows{}", events.display(), bad.len(), named.collect::<String>())));
            }
            if !bad.is_empty() {
                eprintln!(
                    "{}: left out {} bad rows of {}{}",
                    events.display(),
                    bad.len(),
                    bad.len() + events_read.len(),
                    named.collect::<String>()
                );
            }
            if !(1..=3650).contains(&min_history) {
                return Err(Failure::new("min_history_invalid", format!("--min-history {min_history} is not 1 to 3650 days")));
            }
            let spec = Backtest {
                cell_metres: cell_size,
                category,
                horizon,
                train_until,
                origins,
                score_until,
                min_history_days: min_history,
                hindsight,
            };
            let report = fq_risk::run(&events_read, &spec).map_err(|e| Failure::new("backtest_invalid", e.to_string()))?;
            if json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                print_report(&report);
            }
            Ok(())
        }
        RiskCommand::Whistle { events: Some(events), cell_size, category, horizon, at, levels, json, .. } => {
            let category = category.ok_or_else(|| Failure::new("category_missing", "--category is required with --events"))?;
            let bytes = std::fs::read(&events)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", events.display())))?;
            let horizon = Horizon::parse(&horizon)
                .ok_or_else(|| Failure::new("horizon_invalid", format!("--horizon {horizon:?} is not 1d, 7d or 30d")))?;
            let table = match &levels {
                None => SHIPPED_LEVELS.to_owned(),
                Some(path) => std::fs::read_to_string(path)
                    .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", path.display())))?,
            };
            let table = fq_risk::levels::LevelTable::load(&table).map_err(|e| Failure::new("levels_invalid", e))?;
            let read = read_events(&bytes).map_err(|e| Failure {
                code: "events_invalid",
                message: format!("{}: {e}", events.display()),
                exit: 4,
            })?;
            if !(10.0..=10_000.0).contains(&cell_size) {
                return Err(Failure::new("argument_invalid", "--cell-size is 10 to 10,000 metres"));
            }
            let list = fq_risk::whistle::whistles(&read, &category, cell_size, horizon, at, &table)
                .map_err(|e| Failure::new("whistle_invalid", e.to_string()))?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "category": category, "at": at, "horizon_days": horizon.days(), "cells": list })
                );
            } else {
                println!("{} cells reach a warning level for {category}, {} days from {at}:", list.len(), horizon.days());
                for w in list.iter().take(50) {
                    println!(
                        "  {:<7} p {:.3}  expected {:.2}  slope {:+.2}{}  at {:.5}, {:.5}",
                        format!("{:?}", w.level).to_lowercase(),
                        w.probability,
                        w.expected,
                        w.slope,
                        if w.rising { " rising" } else { "" },
                        w.lon,
                        w.lat
                    );
                }
            }
            Ok(())
        }
        RiskCommand::Trace { positions: Some(positions), id, at, hours, within, same_minutes, json } => {
            let bytes = std::fs::read(&positions)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", positions.display())))?;
            let reports = fq_risk::trace::read_positions(&bytes).map_err(|e| Failure {
                code: "positions_invalid",
                message: format!("{}: {e}", positions.display()),
                exit: 4,
            })?;
            use fq_risk::trace::{valid_hours, valid_same_time, valid_within};
            if !(valid_hours(hours) && valid_within(within) && valid_same_time(same_minutes)) {
                return Err(Failure::new(
                    "argument_invalid",
                    "--hours is 1 to 720, --within 0 to 100,000 metres and --same-minutes 0 to 30",
                ));
            }
            let track = fq_risk::trace::track(&reports, &id, at, hours).into_iter().cloned().collect();
            let contacts = fq_risk::trace::contacts(&reports, &id, at, hours, within, same_minutes);
            let trace = fq_engine::Trace {
                id,
                at,
                hours,
                within_metres: within,
                same_time_minutes: same_minutes,
                regions: None,
                track,
                contacts,
                // A file is one feed: no other feed's copies to disagree with.
                disagreements: Vec::new(),
            };
            print_trace(&trace, json);
            Ok(())
        }
        RiskCommand::ConvertNij { file, category, out } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::new("file_unreadable", format!("cannot read {}: {e}", file.display())))?;
            let (csv, skipped) = fq_risk::nij::convert(&bytes, &category).map_err(|e| Failure::new("file_invalid", e))?;
            std::fs::write(&out, &csv)
                .map_err(|e| Failure::new("file_unwritable", format!("cannot write {}: {e}", out.display())))?;
            eprintln!(
                "wrote {} events to {} ({skipped} rows without coordinates left out)",
                csv.lines().count() - 1,
                out.display()
            );
            Ok(())
        }
    }
}

fn print_report(r: &Report) {
    println!(
        "{} · horizon {} days · cells {} m · trained to {} · {} origins ({} to {}) · {} study cells · {} training events, {} scored ({} outside the study cells)",
        r.category,
        r.horizon_days,
        r.cell_metres,
        r.train_until,
        r.origins.len(),
        r.origins.first().map(ToString::to_string).unwrap_or_default(),
        r.origins.last().map(ToString::to_string).unwrap_or_default(),
        r.study_cells,
        r.training_events,
        r.scored_events,
        r.scored_outside_study
    );
    println!("model              PAI 1%   PAI 5%  PAI 10%   PEI 1%   PEI 5%  PEI 10%    Brier");
    for (name, s) in &r.models {
        let v = |t: &std::collections::BTreeMap<String, f64>, k: &str| t.get(k).copied().unwrap_or(0.0);
        println!(
            "{name:<16} {:>8.2} {:>8.2} {:>8.2} {:>8.3} {:>8.3} {:>8.3} {:>8.5}",
            v(&s.pai, "1"),
            v(&s.pai, "5"),
            v(&s.pai, "10"),
            v(&s.pei, "1"),
            v(&s.pei, "5"),
            v(&s.pei, "10"),
            s.brier
        );
    }
    println!(
        "ours at 5%: PAI {:.2}× kernel density, {:.2}× previous period; PEI {:+.3} against kernel density",
        r.pai5_over_kde, r.pai5_over_previous, r.pei5_minus_kde
    );
    println!(
        "kernel density: window {}, bandwidth {:.0} m (cross-validated on the training origins)",
        r.kde_window_days.map_or("all history".to_owned(), |d| format!("{d} days")),
        r.kde_bandwidth_metres
    );
    println!("our model: feature set {:?}, chosen on the training origins", r.ours_feature_set);
    if let Some(maps) = &r.hindsight {
        println!("hindsight maps (not forecasts: every event of the file but the scored horizon's own)");
        println!("bandwidth          PAI 1%   PAI 5%  PAI 10%   PEI 1%   PEI 5%  PEI 10%");
        for m in maps {
            let v = |t: &std::collections::BTreeMap<String, f64>, k: &str| t.get(k).copied().unwrap_or(0.0);
            println!(
                "{:<16} {:>8.2} {:>8.2} {:>8.2} {:>8.3} {:>8.3} {:>8.3}",
                format!("{:.0} m", m.bandwidth_metres),
                v(&m.pai, "1"),
                v(&m.pai, "5"),
                v(&m.pai, "10"),
                v(&m.pei, "1"),
                v(&m.pei, "5"),
                v(&m.pei, "10")
            );
        }
    }
    if let Some(ours) = r.models.get("ours") {
        println!("reliability (ours): forecast bin, cells, mean forecast, observed");
        for b in &ours.reliability {
            println!("  {:.2}–{:.2}  {:>8}  {:.4}  {:.4}", b.from, b.to, b.cells, b.mean_forecast, b.observed);
        }
    }
}
