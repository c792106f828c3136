//! `fengqiao risk open311-pulls`, `fengqiao risk night` and `fengqiao risk check-forecasts`: the
//! nightly run's Open311 servers, kept in the database for every process, one night run by hand,
//! and the nightly checks of past forecasts filled in for the periods before the nightly runs.

use chrono::Utc;

use crate::args::PullsAction;
use crate::config::Config;
use crate::failure::{Failure, Outcome};
use crate::nightly::{self, Night};
use crate::open;

/// Lists, adds or removes the nightly run's stored Open311 servers.
pub async fn pulls(config: &Config, action: Option<PullsAction>, json: bool) -> Outcome {
    let configured = config.scheduler.open311_pulls.clone();
    open::with_engine(config, |engine| async move {
        let actor = crate::commands::cli_actor();
        match action {
            Some(PullsAction::Add { source, url }) => {
                let added = engine.add_open311_pull(&actor, &source, &url).await?;
                if !json {
                    println!(
                        "{}",
                        if added { "added to the nightly pulls" } else { "already pulled every night; nothing changed" }
                    );
                }
            }
            Some(PullsAction::Remove { source, url }) => {
                engine.remove_open311_pull(&actor, &source, &url).await?;
                if !json {
                    println!("removed from the nightly pulls");
                }
            }
            None => {}
        }
        let stored = engine.open311_pulls().await?;
        if json {
            let list = serde_json::json!({ "stored": stored, "configured": configured });
            println!("{list}");
        } else {
            println!("{} servers pulled every night by whichever process runs the night:", stored.len());
            for p in &stored {
                println!("  {:<16} {}", p.source, p.url);
            }
            if !configured.is_empty() {
                println!("and in this process's configuration (scheduler.open311_pulls):");
                for p in &configured {
                    println!("  {:<16} {}", p.source, p.url);
                }
            }
        }
        Ok(())
    })
    .await
}

/// Runs one night now.
pub async fn night(config: &Config, day: Option<chrono::NaiveDate>, json: bool) -> Outcome {
    let day = day.unwrap_or_else(|| fq_domain::calendar::local_date(Utc::now()));
    let scheduler = config.scheduler.clone();
    open::with_engine(config, |engine| async move {
        engine.ensure_reference_data().await?;
        let night = nightly::night(&engine, &scheduler, day).await?;
        if json {
            println!("{}", serde_json::to_string(&night).unwrap_or_default());
            return Ok(());
        }
        match &night {
            Night::Idle => println!("{day}: no Open311 servers to pull and no stored events; nothing done"),
            Night::Taken => println!("{day}: the night is claimed or finished by another run; nothing done"),
            Night::Ran { pulled, run } => {
                for p in pulled {
                    match &p.error {
                        Some(e) => println!("{} {}: failed: {e}", p.source, p.url),
                        None => println!("{} {}: {} requests, {} stored", p.source, p.url, p.requests, p.stored),
                    }
                }
                for r in &run.runs {
                    super::risk::print_whistle_run(r);
                }
                println!("{} past forecasts checked into the track record", run.checked);
                for (county, why) in &run.failed {
                    println!("{county}: {why}");
                }
            }
        }
        Ok(())
    })
    .await
}

/// Fills a county's track record of forecasts for the periods before today.
pub async fn backfill_checks(
    config: &Config,
    county: &str,
    horizon: &str,
    (periods, replace): (Option<usize>, bool),
    json: bool,
) -> Outcome {
    let county = fq_domain::region::RegionCode::parse(county)
        .map_err(|e| Failure::new("region_code_invalid", format!("--county: {e}")))?;
    let horizon = fq_engine::Horizon::parse(horizon)
        .ok_or_else(|| Failure::new("horizon_invalid", format!("--horizon {horizon:?} is not 1d, 7d or 30d")))?;
    open::with_engine(config, |engine| async move {
        let periods = periods.unwrap_or_else(|| fq_engine::track_length(horizon));
        let record = engine.backfill_checks(&crate::commands::cli_actor(), &county, horizon, periods, replace).await?;
        if json {
            println!("{}", serde_json::to_string(&record).unwrap_or_default());
            return Ok(());
        }
        let checked = record.iter().filter(|p| p.check.is_some()).count();
        println!("{county}: {checked} of {periods} forecasts of {} days checked (every category summed):", horizon.days());
        for past in &record {
            let Some(c) = &past.check else { continue };
            let kept = past.checked_at.map(|t| format!(" (kept, checked {})", t.format("%Y-%m-%d %H:%M UTC"))).unwrap_or_default();
            println!(
                "  from {}: {} events; model's top {:.1} cells held {:.1} (PAI {:.2}, PEI {:.2}); previous counts' {:.1} (PAI {:.2}){kept}",
                past.day, c.events, c.flagged_cells, c.captured, c.pai, c.pei, c.previous_captured, c.previous_pai
            );
        }
        if let Some(s) = fq_engine::summarise_record(&record) {
            println!(
                "together: {} events; the model's cells held {:.1}, previous counts' {:.1}; the model ahead in {} periods, behind in {}",
                s.events, s.captured, s.previous_captured, s.ahead, s.behind
            );
        }
        Ok(())
    })
    .await
}
