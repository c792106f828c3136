//! Programme KPIs for a region: totals, per county, and a daily trend, for leaders' dashboards.
//!
//! Anyone holding one of the programme's roles (assignment-only ones excepted), or the core
//! `leader` role, over the region may read its aggregates; the figures never name a case.

use chrono::{DateTime, Utc};
use fq_domain::account::RoleCode;
use fq_domain::actor::Actor;
use fq_domain::programme::Programme;
use fq_domain::region::RegionCode;
use fq_store::{CaseFilter, CaseKpis, TrendPoint};
use serde::Serialize;

use crate::Engine;
use crate::error::EngineError;

/// The figures of one programme in one region over a period.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    pub programme: String,
    pub region: RegionCode,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub totals: CaseKpis,
    /// Share of closed cases closed without a yellow or red card (0 to 1), if any closed.
    pub on_time_rate: Option<f64>,
    /// Mean rating (1 to 5), if any was rated.
    pub mean_rating: Option<f64>,
    pub by_county: Vec<(RegionCode, CaseKpis)>,
    pub trend: Vec<TrendPoint>,
}

impl Engine {
    /// Aggregates of a programme over a region are for its roles (assignment-only ones
    /// excepted) and the core `leader` role, held over the whole region and not narrowed to
    /// one organisation.
    pub(crate) fn check_may_read_figures(
        &self,
        actor: &Actor,
        programme: &Programme,
        region: &RegionCode,
    ) -> Result<(), EngineError> {
        if let Some(account) = actor.account() {
            let may = !account.disabled
                && account.grants.iter().any(|g| {
                    let role = g.role.as_str();
                    let reads =
                        role == RoleCode::LEADER || (programme.roles.contains_key(role) && !programme.assignment_only(role));
                    reads && g.scope.region.contains(region) && g.scope.org.is_none()
                });
            if !may {
                return Err(EngineError::Denied {
                    code: "forbidden_region",
                    message: format!("reading the figures of region {region} needs a role of {} over it", programme.code),
                });
            }
        }
        Ok(())
    }

    /// KPIs of `programme` for cases located in `region` and opened in `[from, to)`.
    pub async fn kpi_report(
        &self,
        actor: &Actor,
        programme: &str,
        region: &RegionCode,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<KpiReport, EngineError> {
        let programme = self.programmes.get(programme).cloned().ok_or_else(|| {
            EngineError::field("programme_unknown", "programme", format!("programme {programme} is not installed"))
        })?;
        if to <= from {
            return Err(EngineError::field("period_invalid", "to", "the end of the period must come after its start"));
        }
        self.check_may_read_figures(actor, &programme, region)?;
        self.region(region).await?;
        let filter = CaseFilter {
            programme: Some(programme.code.clone()),
            regions: vec![region.clone()],
            opened_from: Some(from),
            opened_to: Some(to),
            ..CaseFilter::default()
        };
        let now = self.now();
        let totals = self.store.case_kpis(&filter, now).await?;
        let by_county = self.store.case_kpis_by_county(&filter, now).await?;
        let trend = self.store.case_trend(&CaseFilter { opened_from: None, opened_to: None, ..filter }, from, to).await?;
        let on_time_rate = (totals.closed > 0).then(|| totals.closed_on_time as f64 / totals.closed as f64);
        let mean_rating = (totals.rated > 0).then(|| totals.rating_sum as f64 / totals.rated as f64);
        Ok(KpiReport {
            programme: programme.code.clone(),
            region: region.clone(),
            from,
            to,
            totals,
            on_time_rate,
            mean_rating,
            by_county,
            trend,
        })
    }
}
