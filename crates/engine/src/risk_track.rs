//! The track record of forecasts (预测检验档案). Every night the forecasts whose horizon ended
//! that night (yesterday's day, the week from seven days ago, the month from thirty days ago)
//! are checked against the events stored by then (`fq_risk::check`), every category's summed
//! and each category's, and the checks are stored for good (`risk_checks`): the forecasts
//! themselves are forgotten after a month, and a county needs months of checks to know how far
//! to trust them. Today's forecast lists, after the recent rows checked on the page
//! ([`crate::risk_record`]), the stored checks before them, and sums up how the model did
//! against previous-period counts over them all. `fengqiao risk check-forecasts` fills the
//! record for the periods before the nightly run began, fitting each forecast on the events
//! stored before its day.

use std::sync::Arc;

use chrono::NaiveDate;
use fq_domain::actor::Actor;
use fq_domain::calendar::local_date;
use fq_domain::region::RegionCode;
use fq_risk::Event;
use fq_risk::backtest::Horizon;
use fq_risk::check::{Calibrated, ForecastCheck};
use fq_risk::metrics::ReliabilityBin;
use fq_store::{Change, EVERY_CATEGORY, Op, RiskCheckRecord};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::error::EngineError;
use crate::risk_forecast::{KEPT_FORECAST_DAYS, add_cells, join_failed};
use crate::risk_record::PastForecast;
use crate::risk_whistle::{NIGHTLY_CELL_METRES, first_days, require_county, require_risk_category, risk_categories};

/// How many periods today's forecast lists at most, recent rows and stored checks together:
/// two weeks of days, a quarter of weeks, a year of months.
pub fn track_length(horizon: Horizon) -> usize {
    match horizon {
        Horizon::Day => 14,
        Horizon::Week => 13,
        Horizon::Month => 12,
    }
}

/// The most periods one backfill checks: a year of weeks (each period fits every category).
pub const MAX_BACKFILL_PERIODS: usize = 53;

/// How the listed forecasts did together: the periods with a check, their events, the events
/// the model's flagged cells held and those the same number of cells picked by the previous
/// period's counts held, and in how many periods the model held more (or fewer) than those.
/// Then whether the probabilities held, over every study cell of the periods calibrated (quiet
/// ones included: each period's cells counted once): the Brier score, the Brier score of
/// forecasting every cell at the pooled share that had an event (the reference a useful
/// forecast beats), and the reliability table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordSummary {
    pub periods: usize,
    pub events: usize,
    pub captured: f64,
    pub previous_captured: f64,
    pub ahead: usize,
    pub behind: usize,
    pub calibrated_periods: usize,
    pub brier: Option<f64>,
    pub reference_brier: Option<f64>,
    pub reliability: Vec<ReliabilityBin>,
}

/// The summary of the record's `rows`; None when none of them has a check or a calibration.
pub fn summarise_record(rows: &[PastForecast]) -> Option<RecordSummary> {
    let checks: Vec<_> = rows.iter().filter_map(|r| r.check.as_ref()).collect();
    // A row kept before the probabilities were checked has no calibration: left out of them.
    let calibrated: Vec<_> = rows.iter().filter_map(|r| r.calibration.as_ref()).filter(|c| c.cells > 0).collect();
    if checks.is_empty() && calibrated.is_empty() {
        return None;
    }
    // Both sides flag the same number of cells, so the events they hold compare as the PAIs do;
    // a difference below a millionth of an event (shares of tied cells) is a tie.
    let margin = |c: &&ForecastCheck| c.captured - c.previous_captured;
    let cells: usize = calibrated.iter().map(|c| c.cells).sum();
    let reliability = pooled(calibrated.iter().flat_map(|c| &c.reliability));
    let (brier, reference_brier) = if cells == 0 {
        (None, None)
    } else {
        let brier = calibrated.iter().map(|c| c.brier * c.cells as f64).sum::<f64>() / cells as f64;
        let pooled = Calibrated { cells, brier, reliability: reliability.clone() };
        (Some(brier), Some(pooled.reference_brier()))
    };
    Some(RecordSummary {
        periods: checks.len(),
        events: checks.iter().map(|c| c.events).sum(),
        captured: checks.iter().map(|c| c.captured).sum(),
        previous_captured: checks.iter().map(|c| c.previous_captured).sum(),
        ahead: checks.iter().filter(|c| margin(c) > 1e-6).count(),
        behind: checks.iter().filter(|c| margin(c) < -1e-6).count(),
        calibrated_periods: calibrated.len(),
        brier,
        reference_brier,
        reliability,
    })
}

/// Reliability bins of several checks pooled bin by bin (matched by both edges: bins of other
/// edges, were they ever changed, stay apart), the means weighted by the cells.
fn pooled<'a>(bins: impl Iterator<Item = &'a ReliabilityBin>) -> Vec<ReliabilityBin> {
    let mut pooled: Vec<ReliabilityBin> = Vec::new();
    for bin in bins {
        let at = match pooled.iter().position(|p| p.from == bin.from && p.to == bin.to) {
            Some(at) => at,
            None => {
                pooled.push(ReliabilityBin { from: bin.from, to: bin.to, ..ReliabilityBin::default() });
                pooled.len() - 1
            }
        };
        let p = &mut pooled[at];
        let (n, m) = (p.cells as f64, bin.cells as f64);
        if n + m > 0.0 {
            p.mean_forecast = (p.mean_forecast * n + bin.mean_forecast * m) / (n + m);
            p.observed = (p.observed * n + bin.observed * m) / (n + m);
        }
        p.cells += bin.cells;
    }
    pooled.sort_by(|a, b| a.from.total_cmp(&b.from).then(a.to.total_cmp(&b.to)));
    pooled
}

/// Of `stored` (latest first), the periods that follow one another back from `next` (each ends
/// by the first day of the one listed before it), at most `limit`: the nightly run checks a
/// period every night, so stored periods overlap.
pub(crate) fn successive(stored: Vec<PastForecast>, horizon: Horizon, mut next: NaiveDate, limit: usize) -> Vec<PastForecast> {
    let mut listed = Vec::new();
    for check in stored {
        if listed.len() >= limit {
            break;
        }
        if check.day + chrono::Duration::days(i64::from(horizon.days())) <= next {
            next = check.day;
            listed.push(check);
        }
    }
    listed
}

/// The longest span of first days one read of the track record covers (three years).
pub const MAX_RECORD_SPAN_DAYS: i64 = 3 * 366;

/// A checked forecast of one scope: a category, or None for every category summed.
type ScopedCheck = (Option<String>, PastForecast);

/// What a row of the track record keeps (`risk_checks.figures`): the categories checked and the
/// check. The table is kept for good, so every field of both has a default (a row written before
/// a field was added still reads) and unknown fields are ignored; the format is pinned by a test
/// (renaming a field of [`ForecastCheck`] would lose the rows). The day and when it was checked
/// are the row's columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
struct StoredCheck {
    categories: Vec<String>,
    check: Option<ForecastCheck>,
    calibration: Option<Calibrated>,
}

impl Engine {
    /// Checks `county`'s forecasts over `horizon` from `day`, every category's summed and each
    /// category's, against `events` (the county's located events stored before a day at or
    /// after the horizon's end). Forecasts not held are fitted on the events before `day`, and
    /// kept while the database keeps that day's forecasts; a category with too little history
    /// then is left out, as its map leaves it out.
    async fn check_forecasts_of(
        &self,
        county: &RegionCode,
        horizon: Horizon,
        day: NaiveDate,
        events: &Arc<Vec<Event>>,
    ) -> Result<Vec<ScopedCheck>, EngineError> {
        let programme = self.programme("risk")?;
        let first = fq_risk::events::day_number(day);
        let before: Arc<Vec<Event>> = Arc::new(events.iter().filter(|e| e.day < first).cloned().collect());
        let categories = risk_categories(&programme, &before);
        let (mut held, missing) = self.held_forecasts(county, categories, day, horizon, before.len()).await?;
        let keep = day >= local_date(self.now()) - chrono::Duration::days(KEPT_FORECAST_DAYS);
        for (c, forecast) in self.fit_forecasts(county, &before, missing, day, horizon, keep).await? {
            if let Ok(forecast) = forecast {
                held.push((c, forecast));
            }
        }
        held.sort_by(|a, b| a.0.cmp(&b.0));
        if held.is_empty() {
            return Ok(Vec::new());
        }
        // Every category summed, then each alone (a map of one category reads its own row).
        let mut scopes: Vec<(Option<String>, Vec<String>, Vec<f64>)> = Vec::new();
        let mut summed = Vec::new();
        for (_, forecast) in &held {
            add_cells(&mut summed, &forecast.cells);
        }
        scopes.push((None, held.iter().map(|(c, _)| c.clone()).collect(), summed));
        for (c, forecast) in &held {
            scopes.push((Some(c.clone()), vec![c.clone()], forecast.cells.iter().map(|c| c.expected).collect()));
        }
        // Each check lays the day's grid over the county's events: off the request threads.
        let events = Arc::clone(events);
        tokio::task::spawn_blocking(move || {
            scopes
                .into_iter()
                .map(|(scope, categories, expected)| {
                    let outcome = fq_risk::check::check(&events, &categories, NIGHTLY_CELL_METRES, horizon, day, &expected);
                    let (check, calibration) = fq_risk::check::Outcome::split(outcome);
                    (scope, PastForecast { day, categories, missing: Vec::new(), check, calibration, checked_at: None })
                })
                .collect()
        })
        .await
        .map_err(join_failed)
    }

    /// Stores `rows` in the track record, stamped now: a horizon without a located event of its
    /// categories too (listed as having nothing to check, so that the record has no gaps).
    /// Returns how many rows were stored.
    async fn store_checks(&self, county: &RegionCode, horizon: Horizon, rows: Vec<ScopedCheck>) -> Result<usize, EngineError> {
        let checked_at = self.now();
        let mut change = Change::new();
        let mut stored = 0;
        for (scope, row) in rows.into_iter().filter(|(_, r)| !r.categories.is_empty()) {
            let figures = StoredCheck { categories: row.categories, check: row.check, calibration: row.calibration };
            let figures =
                serde_json::to_value(figures).map_err(|e| EngineError::field("forecast_failed", "check", e.to_string()))?;
            change = change.op(Op::PutRiskCheck(Box::new(RiskCheckRecord {
                county: county.clone(),
                scope: scope.unwrap_or_else(|| EVERY_CATEGORY.to_owned()),
                day: row.day,
                horizon_days: horizon.days(),
                model: fq_risk::whistle::MODEL.to_owned(),
                checked_at,
                figures,
            })));
            stored += 1;
        }
        if stored > 0 {
            self.store.commit(change).await?;
        }
        Ok(stored)
    }

    /// The nightly run's checks of `day`: `county`'s forecasts whose horizon ended by `day`
    /// (from the day before, from seven days and from thirty days before), stored in the track
    /// record (a check made again the same night replaces its row), against `events` (the
    /// county's events stored before `day`, as the night's whistle read them). Each horizon's
    /// rows are stored together, or not at all; a horizon that fails leaves the others to be
    /// checked. Returns how many rows were stored, and the horizons that failed with why.
    pub(crate) async fn keep_checks(
        &self,
        county: &RegionCode,
        day: NaiveDate,
        events: &Arc<Vec<Event>>,
    ) -> (usize, Vec<(Horizon, EngineError)>) {
        let (mut stored, mut failed) = (0, Vec::new());
        for horizon in [Horizon::Day, Horizon::Week, Horizon::Month] {
            let from = day - chrono::Duration::days(i64::from(horizon.days()));
            let kept = match self.check_forecasts_of(county, horizon, from, events).await {
                Ok(rows) => self.store_checks(county, horizon, rows).await,
                Err(e) => Err(e),
            };
            match kept {
                Ok(n) => stored += n,
                Err(e) => failed.push((horizon, e)),
            }
        }
        (stored, failed)
    }

    /// Fills `county`'s track record over `horizon` for the `periods` periods before today
    /// (today less one horizon, two, ...), as the nightly run would have, fitting each forecast
    /// not held on the events stored before its day: for a county whose history was imported,
    /// or whose nightly run began later. A period already in the record keeps its check (made
    /// the night the period ended, on the forecast shown then) unless `replace`. Operators
    /// only. Returns every category's summed check of each period, latest first: those kept
    /// with when they were checked (periods with no located event have no check).
    pub async fn backfill_checks(
        &self,
        actor: &Actor,
        county: &RegionCode,
        horizon: Horizon,
        periods: usize,
        replace: bool,
    ) -> Result<Vec<PastForecast>, EngineError> {
        crate::access::require_operator(actor, "filling the track record of forecasts")?;
        require_county(county)?;
        self.active_region(county, "county").await?;
        if !(1..=MAX_BACKFILL_PERIODS).contains(&periods) {
            return Err(EngineError::field(
                "periods_out_of_range",
                "periods",
                format!("{periods} periods: from 1 to {MAX_BACKFILL_PERIODS}"),
            ));
        }
        let today = local_date(self.now());
        let back = |k: usize| today - chrono::Duration::days(i64::try_from(k).unwrap_or(0) * i64::from(horizon.days()));
        let kept = if replace { Vec::new() } else { self.stored_checks(county, None, horizon, back(periods), today).await? };
        let events = Arc::new(self.stored_events(county, today).await?);
        let programme = self.programme("risk")?;
        let first_days = first_days(&programme, &events);
        let mut record = Vec::new();
        for k in 1..=periods {
            // A kept check stands unless it predates the events stored since (a history imported
            // after it: nothing to check then, or fewer categories than there are now).
            let categories = first_days.values().filter(|d| **d < fq_risk::events::day_number(back(k))).count();
            let current = |c: &&PastForecast| c.day == back(k) && c.check.is_some() && c.categories.len() >= categories;
            if let Some(check) = kept.iter().find(current) {
                record.push(check.clone());
                continue;
            }
            let rows = self.check_forecasts_of(county, horizon, back(k), &events).await?;
            if let Some((_, every)) = rows.iter().find(|(scope, _)| scope.is_none()) {
                record.push(every.clone());
            }
            self.store_checks(county, horizon, rows).await?;
        }
        Ok(record)
    }

    /// The track record of `county` and `category` (None: every category) over `horizon`: the
    /// stored checks of the periods that ended by `to` and began on `from` or later, one after
    /// the other back from `to` (the stored periods overlap: see [`successive`]), latest first,
    /// and their summary. Readers of the risk programme over the county, as the forecast's.
    pub async fn track_record(
        &self,
        actor: &Actor,
        county: &RegionCode,
        category: Option<&str>,
        horizon: Horizon,
        (from, to): (NaiveDate, NaiveDate),
    ) -> Result<(Vec<PastForecast>, Option<RecordSummary>), EngineError> {
        let programme = self.programme("risk")?;
        if !crate::access::reads_programme(actor, &programme, county) {
            return Err(EngineError::forbidden(format!("the forecasts of {county} are outside your scope")));
        }
        require_county(county)?;
        if let Some(c) = category {
            require_risk_category(&programme, c)?;
        }
        self.known_region(county, "county").await?;
        let plausible = fq_domain::calendar::plausible_day;
        if from > to || (to - from).num_days() > MAX_RECORD_SPAN_DAYS || !plausible(from) || !plausible(to) {
            // The field at fault: the last day when it alone is out of the years.
            let field = if plausible(from) && !plausible(to) { "to" } else { "from" };
            return Err(EngineError::field(
                "period_invalid",
                field,
                format!(
                    "{from} to {to}: the first day on or before the last, at most {MAX_RECORD_SPAN_DAYS} days apart, in the years {} to {}",
                    fq_domain::calendar::INPUT_YEARS.start,
                    fq_domain::calendar::INPUT_YEARS.end - 1
                ),
            ));
        }
        // A period ends the day before the next begins: one that ended by `to` began a horizon
        // before the day after it.
        let end = to + chrono::Duration::days(1);
        let before = end - chrono::Duration::days(i64::from(horizon.days())) + chrono::Duration::days(1);
        let stored = self.stored_checks(county, category, horizon, from, before).await?;
        let record = successive(stored, horizon, end, usize::MAX);
        let summary = summarise_record(&record);
        Ok((record, summary))
    }

    /// The stored checks of `county` and `category` (None: every category) over `horizon` whose
    /// first day is in `from..before`, latest first; a row that cannot be read is logged and
    /// left out.
    pub(crate) async fn stored_checks(
        &self,
        county: &RegionCode,
        category: Option<&str>,
        horizon: Horizon,
        from: NaiveDate,
        before: NaiveDate,
    ) -> Result<Vec<PastForecast>, EngineError> {
        let scope = category.unwrap_or(EVERY_CATEGORY);
        let rows = self.store.risk_checks(county, scope, horizon.days(), from, before).await?;
        Ok(rows.into_iter().filter_map(|row| read_stored(county, scope, row)).collect())
    }
}

/// A row of the track record as the record lists it; None (logged) for one that cannot be read.
fn read_stored(county: &RegionCode, scope: &str, row: RiskCheckRecord) -> Option<PastForecast> {
    match serde_json::from_value::<StoredCheck>(row.figures) {
        Ok(stored) => Some(PastForecast {
            day: row.day,
            categories: stored.categories,
            missing: Vec::new(),
            check: stored.check,
            calibration: stored.calibration,
            checked_at: Some(row.checked_at),
        }),
        Err(e) => {
            tracing::warn!(%county, scope, day = %row.day, error = %e, "a stored check cannot be read; left out");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(captured: f64, previous_captured: f64, events: usize) -> PastForecast {
        let check = ForecastCheck {
            events,
            in_study: events,
            study_cells: 40,
            share: 0.05,
            flagged_cells: 2.0,
            captured,
            pai: captured / events as f64 * 20.0,
            pei: 1.0,
            previous_captured,
            previous_pai: previous_captured / events as f64 * 20.0,
        };
        // 38 cells at 2%, none with an event; 2 at 50%, one with.
        let calibration = Calibrated {
            cells: 40,
            brier: (38.0 * 0.02 * 0.02 + 2.0 * 0.25) / 40.0,
            reliability: vec![bin(0.02, 38, 0.02, 0.0), bin(0.4, 2, 0.5, 0.5)],
        };
        let day = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let categories = vec!["theft".into()];
        PastForecast {
            day,
            categories,
            missing: Vec::new(),
            check: Some(check),
            calibration: Some(calibration),
            checked_at: None,
        }
    }

    fn bin(from: f64, cells: u64, mean_forecast: f64, observed: f64) -> ReliabilityBin {
        let to = fq_risk::metrics::BINS.iter().copied().find(|edge| *edge > from).unwrap_or(1.0);
        ReliabilityBin { from, to, cells, mean_forecast, observed }
    }

    #[test]
    fn a_summary_adds_up_the_checked_periods_and_counts_ties_as_neither() {
        assert_eq!(summarise_record(&[]), None);
        let never = PastForecast { check: None, calibration: None, ..row(0.0, 0.0, 1) };
        assert_eq!(summarise_record(std::slice::from_ref(&never)), None, "nothing checked");
        // A quiet period: nothing to check, but its probabilities are calibrated.
        let quiet = PastForecast { check: None, ..row(0.0, 0.0, 1) };
        let alone = summarise_record(std::slice::from_ref(&quiet)).unwrap();
        assert_eq!((alone.periods, alone.calibrated_periods, alone.events), (0, 1, 0));
        let rows = [row(3.0, 1.0, 10), quiet, row(1.0, 2.5, 6), row(2.0, 2.0 + 1e-9, 4)];
        let summary = summarise_record(&rows).unwrap();
        assert_eq!((summary.periods, summary.events, summary.ahead, summary.behind), (3, 20, 1, 1));
        assert!((summary.captured - 6.0).abs() < 1e-12 && (summary.previous_captured - 5.5).abs() < 1e-6, "{summary:?}");
        assert_eq!(summary.calibrated_periods, 4, "the quiet period's cells count too");
    }

    #[test]
    fn the_probabilities_are_pooled_over_every_calibrated_period() {
        let mut varied = row(1.0, 1.0, 2);
        varied.calibration =
            Some(Calibrated { cells: 10, brier: 0.1, reliability: vec![bin(0.4, 2, 0.8, 1.0), bin(0.1, 8, 0.15, 0.25)] });
        // A row kept before the probabilities were checked counts for neither.
        let older = PastForecast { calibration: None, ..row(5.0, 5.0, 5) };
        let pooled = summarise_record(&[row(3.0, 1.0, 10), varied, older]).unwrap();
        let brier = ((38.0 * 0.0004 + 0.5) / 40.0 * 40.0 + 0.1 * 10.0) / 50.0;
        assert!((pooled.brier.unwrap() - brier).abs() < 1e-12, "{pooled:?}");
        let bins: Vec<(f64, u64)> = pooled.reliability.iter().map(|b| (b.from, b.cells)).collect();
        assert_eq!(bins, [(0.02, 38), (0.1, 8), (0.4, 4)], "in the order of the bins");
        let high = &pooled.reliability[2];
        assert!((high.mean_forecast - 0.65).abs() < 1e-12 && (high.observed - 0.75).abs() < 1e-12, "{high:?}");
        // The reference: every cell at the share that had an event (none of 38, 2 of 8, 3 of 4).
        let happened = 5.0 / 50.0;
        assert!((pooled.reference_brier.unwrap() - happened * (1.0 - happened)).abs() < 1e-12, "{pooled:?}");
        // A bin of other edges (were the bins ever changed) stays apart.
        let mut moved = row(1.0, 1.0, 2);
        moved.calibration =
            Some(Calibrated { cells: 2, brier: 0.2, reliability: vec![ReliabilityBin { to: 0.5, ..bin(0.4, 2, 0.45, 0.5) }] });
        let apart = summarise_record(&[row(3.0, 1.0, 10), moved]).unwrap();
        assert_eq!(
            apart.reliability.iter().map(|b| (b.from, b.to, b.cells)).collect::<Vec<_>>(),
            [(0.02, 0.05, 38), (0.4, 0.5, 2), (0.4, 1.0, 2)]
        );
        // No calibrated period: no Brier score (not a perfect one).
        let none = summarise_record(&[PastForecast { calibration: None, ..row(1.0, 0.0, 1) }]).unwrap();
        assert_eq!((none.brier, none.reference_brier, none.calibrated_periods), (None, None, 0));
    }

    fn stored(figures: serde_json::Value) -> Option<PastForecast> {
        let day = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let checked_at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let county = RegionCode::parse("331004").unwrap();
        let row = RiskCheckRecord {
            county: county.clone(),
            scope: EVERY_CATEGORY.into(),
            day,
            horizon_days: 7,
            model: "m".into(),
            checked_at,
            figures,
        };
        read_stored(&county, EVERY_CATEGORY, row)
    }

    /// The track record is kept for good: its rows' format is pinned here, and a row written
    /// with fewer fields (before one was added) or more (by a later version) still reads.
    #[test]
    fn a_stored_check_keeps_its_format_and_reads_older_and_newer_rows() {
        let row = row(3.0, 1.0, 10);
        let figures =
            StoredCheck { categories: row.categories.clone(), check: row.check.clone(), calibration: row.calibration.clone() };
        let pinned = serde_json::json!({
            "categories": ["theft"],
            "check": { "events": 10, "in_study": 10, "study_cells": 40, "share": 0.05, "flagged_cells": 2.0,
                       "captured": 3.0, "pai": 6.0, "pei": 1.0, "previous_captured": 1.0, "previous_pai": 2.0 },
            "calibration": { "cells": 40, "brier": (38.0 * 0.02 * 0.02 + 2.0 * 0.25) / 40.0,
                             "reliability": [
                                 { "from": 0.02, "to": 0.05, "cells": 38, "mean_forecast": 0.02, "observed": 0.0 },
                                 { "from": 0.4, "to": 1.0, "cells": 2, "mean_forecast": 0.5, "observed": 0.5 } ] }
        });
        assert_eq!(serde_json::to_value(&figures).unwrap(), pinned);
        let read = stored(pinned).unwrap();
        assert_eq!(
            (read.day, read.check, read.checked_at.is_some()),
            (NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(), row.check, true)
        );
        let older = stored(serde_json::json!({ "categories": ["theft"], "check": { "events": 4, "captured": 2.0 } })).unwrap();
        assert_eq!(older.check.as_ref().map(|c| (c.events, c.captured, c.pai)), Some((4, 2.0, 0.0)));
        assert_eq!((read.calibration, older.calibration), (row.calibration, None), "a row kept before calibration");
        let newer = stored(serde_json::json!({ "categories": ["theft"], "check": null, "model_detail": 3 })).unwrap();
        assert_eq!((newer.categories, newer.check), (vec!["theft".to_owned()], None));
        assert_eq!(stored(serde_json::json!("not an object")), None, "unreadable: left out");
    }

    #[test]
    fn the_track_record_is_a_fortnight_of_days_a_quarter_of_weeks_a_year_of_months() {
        let spans: Vec<i32> = [Horizon::Day, Horizon::Week, Horizon::Month]
            .into_iter()
            .map(|h| i32::try_from(track_length(h)).unwrap() * h.days())
            .collect();
        assert_eq!(spans, [14, 91, 360]);
    }
}
