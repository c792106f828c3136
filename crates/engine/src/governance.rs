//! The governance index (基层治理指数, P7): five dimensions computed from the cases of every
//! programme received in a region over a period, each 0 to 100, and their weighted mean. The
//! formulas and weights are documented in docs/RISK.md ("Governance index"); a dimension without
//! data (no denominator) is left out and the weights of the others are renormalised, and the
//! report says so.
//!
//! - 风险感知 risk perception: cases found by the system's own eyes (grid workers, the risk
//!   model, supervision checks) ÷ cases received.
//! - 闭环处置 closed-loop handling: cases received and since closed ÷ cases received.
//! - 处置成效 effectiveness: the mean of the on-time rate of closed cases (no yellow or red card;
//!   an imported record as its source says) and, where the programme records outcomes, the resolved share of those with an outcome.
//! - 群众参与 participation: the mean of the share received from residents' own channels
//!   (online, Open311 apps, hotline, letters) and the share of closed cases the resident rated.
//! - 社会评价 social evaluation: the mean rating (1 to 5) mapped to 0 to 100.

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::region::RegionCode;
use fq_store::CaseFilter;
use serde::Serialize;

use crate::Engine;
use crate::access::reads_programme;
use crate::error::EngineError;

/// The dimensions with their weights.
pub const DIMENSIONS: [(&str, f64); 5] =
    [("risk_perception", 0.20), ("closed_loop", 0.25), ("effectiveness", 0.25), ("participation", 0.15), ("evaluation", 0.15)];

/// Channels through which the system finds cases itself.
const PROACTIVE: [&str; 5] = ["grid", "model", "manual", "anomaly_check", "patrol"];
/// Channels through which residents bring cases themselves.
const RESIDENTS: [&str; 5] = ["online", "open311", "hotline", "letter", "app"];

/// One region's index.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexRow {
    pub region: String,
    pub cases: u64,
    /// Score per dimension (0–100), `None` without data.
    pub dimensions: Vec<(String, Option<f64>)>,
    pub index: Option<f64>,
}

/// The index of a region and of each region below it.
#[derive(Debug, Clone, Serialize)]
pub struct GovernanceIndex {
    pub total: IndexRow,
    pub children: Vec<IndexRow>,
}

#[derive(Default)]
struct Tally {
    cases: u64,
    proactive: u64,
    residents: u64,
    closed: u64,
    /// Closed cases whose timeliness is known, and those of them closed on time.
    closed_judged: u64,
    on_time: u64,
    with_outcome: u64,
    resolved: u64,
    rated: u64,
    rating_sum: u64,
}

impl Tally {
    fn add(&mut self, case: &Case, resolved_outcome: impl Fn(&Case) -> Option<bool>) {
        self.cases += 1;
        self.proactive += u64::from(PROACTIVE.contains(&case.channel.as_str()));
        self.residents += u64::from(RESIDENTS.contains(&case.channel.as_str()));
        if case.closed_at.is_some() {
            self.closed += 1;
            // As the dispute figures judge it: reminders are not cards, and an imported record
            // counts as its source system says (or not at all).
            if let Some(on_time) = case.closed_on_time() {
                self.closed_judged += 1;
                self.on_time += u64::from(on_time);
            }
            if let Some(rating) = &case.rating {
                self.rated += 1;
                self.rating_sum += u64::from(rating.score);
            }
        }
        if let Some(resolved) = resolved_outcome(case) {
            self.with_outcome += 1;
            self.resolved += u64::from(resolved);
        }
    }

    fn row(&self, region: String) -> IndexRow {
        let share = |n: u64, d: u64| (d > 0).then(|| 100.0 * n as f64 / d as f64);
        let mean = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some((a + b) / 2.0),
            (a, b) => a.or(b),
        };
        let values = [
            share(self.proactive, self.cases),
            share(self.closed, self.cases),
            mean(share(self.on_time, self.closed_judged), share(self.resolved, self.with_outcome)),
            mean(share(self.residents, self.cases), share(self.rated, self.closed)),
            (self.rated > 0).then(|| (self.rating_sum as f64 / self.rated as f64 - 1.0) / 4.0 * 100.0),
        ];
        let (sum, weights) = DIMENSIONS
            .iter()
            .zip(&values)
            .filter_map(|((_, w), v)| v.map(|v| (w * v, *w)))
            .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b));
        IndexRow {
            region,
            cases: self.cases,
            dimensions: DIMENSIONS.iter().zip(values).map(|((name, _), v)| ((*name).to_owned(), v)).collect(),
            index: (weights > 0.0).then(|| sum / weights),
        }
    }
}

impl Engine {
    /// The index of `region` and each region below it, over cases received in `[from, to)`.
    pub async fn governance_index(
        &self,
        actor: &Actor,
        region: &RegionCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<GovernanceIndex, EngineError> {
        // Every programme the reader reads over the region; ledger entries (points, coins) are
        // not work and are left out.
        let readable: Vec<String> =
            self.programmes.all().filter(|p| reads_programme(actor, p, region)).map(|p| p.code.clone()).collect();
        if readable.is_empty() {
            return Err(EngineError::forbidden(format!("the governance index of {region} is outside your scope")));
        }
        if to <= from {
            return Err(EngineError::field("period_invalid", "to", "the end of the period must come after its start"));
        }
        let filter =
            CaseFilter { regions: vec![region.clone()], opened_from: Some(from), opened_to: Some(to), ..CaseFilter::default() };
        let cases = self.cases_matching(&filter).await?;
        let resolved = |case: &Case| {
            let programme = self.programmes.get(&case.programme)?;
            let kind = programme.kind(&case.kind)?;
            let outcome = case.outcome.as_ref()?;
            kind.outcomes.iter().find(|o| o.code == outcome.code).map(|o| o.resolved)
        };
        let children = self.region_children(region).await?;
        let mut total = Tally::default();
        let mut below: Vec<(RegionCode, Tally)> = children.iter().map(|c| (c.code.clone(), Tally::default())).collect();
        let counts = |case: &&Case| {
            readable.contains(&case.programme)
                && self.programmes.get(&case.programme).and_then(|p| p.kind(&case.kind)).is_some_and(|k| !k.ledger)
        };
        for case in cases.iter().filter(counts) {
            total.add(case, resolved);
            if let Some((_, tally)) = below.iter_mut().find(|(code, _)| code.contains(&case.region)) {
                tally.add(case, resolved);
            }
        }
        Ok(GovernanceIndex {
            total: total.row(region.to_string()),
            children: below.iter().filter(|(_, t)| t.cases > 0).map(|(code, t)| t.row(code.to_string())).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_without_data_are_left_out_and_the_weights_renormalised() {
        let empty = Tally::default().row("331004".into());
        assert_eq!(empty.index, None);
        let mut t = Tally { cases: 10, proactive: 2, closed: 8, closed_judged: 8, on_time: 6, ..Tally::default() };
        let row = t.row("331004".into());
        let values: Vec<Option<f64>> = row.dimensions.iter().map(|(_, v)| *v).collect();
        assert_eq!(values, [Some(20.0), Some(80.0), Some(75.0), Some(0.0), None]);
        // (0.2·20 + 0.25·80 + 0.25·75 + 0.15·0) / 0.85
        assert!((row.index.unwrap() - (4.0 + 20.0 + 18.75) / 0.85).abs() < 1e-9);
        t.rated = 4;
        t.rating_sum = 18;
        let rated = t.row("331004".into());
        assert_eq!(rated.dimensions[4].1, Some(87.5));
    }
}
