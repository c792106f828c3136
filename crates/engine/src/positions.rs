//! Position reports kept for the 72-hour trace (P6, 72小时轨迹): AIS, Beidou terminals and
//! checkpoint logs are stored once per subject and time, each file with the county its feed
//! serves; a trace reads the hours before a time from the store (the subject's track, and who
//! came within a distance meanwhile). Tracing a person or vessel is sensitive: operators trace
//! with every report; holders of the risk programme's `tracer` role (轨迹研判员) only with the
//! reports of the counties their grants cover, so that nothing of another county's feeds is
//! shown to them, not even whether a subject was seen there; every trace is journaled with who
//! asked.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_domain::region::{RegionCode, RegionLevel};
use fq_risk::trace::{Contact, Disagreement, FeedReport, MAX_GAP_MINUTES, Position};
use fq_store::{AreasAround, Change, Op, PositionArea, PositionRecord, PositionsAround};
use serde::Serialize;
use serde_json::json;

use crate::Engine;

/// The role of the risk programme that may trace in the console, within its scope.
pub const TRACE_ROLE: &str = "tracer";

/// The role of a feed's account that pushes the position reports of a county over HTTP.
pub const POSITION_FEED_ROLE: &str = "position_feed";

/// The regions whose position feeds an account traces with: those of its enabled `tracer`
/// grants not narrowed to one organisation (feeds belong to counties, not units). Empty: the
/// account may not trace. The console's menu and the engine both ask this.
pub fn trace_scopes(account: &fq_domain::account::Account) -> Vec<RegionCode> {
    if account.disabled {
        return Vec::new();
    }
    account
        .grants
        .iter()
        .filter(|g| g.role.as_str() == TRACE_ROLE && g.scope.org.is_none())
        .map(|g| g.scope.region.clone())
        .collect()
}
use crate::error::EngineError;

/// What storing a file of position reports did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PositionsReport {
    pub source: String,
    /// The county the feed serves (None: operators only trace with it).
    pub region: Option<String>,
    pub rows: usize,
    pub stored: usize,
    /// Reports of the same subject and time sent before (or twice in the file).
    pub duplicates: usize,
    pub subjects: usize,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// A trace from the stored reports.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    pub id: String,
    pub at: DateTime<Utc>,
    pub hours: i64,
    pub within_metres: f64,
    /// Where the subject cannot be interpolated, reports this many minutes apart are at the
    /// same time (a checkpoint passed once).
    pub same_time_minutes: i64,
    /// The counties whose reports were read (None: every report, an operator's trace).
    pub regions: Option<Vec<String>>,
    pub track: Vec<Position>,
    pub contacts: Vec<Contact>,
    /// Where the feeds that saw the subject disagree on where it was (a wrong fix, a spoofed
    /// transponder, a clock that is off; `fq_risk::trace::disagreements`), over the track's
    /// hours and the half hour either side whose reports place the subject for its companions:
    /// the analyst must know which place the track and the contacts rest on.
    pub disagreements: Vec<Disagreement>,
}

/// A source code: lower-case letters, digits and underscores, 1 to 32 of them.
fn valid_source(source: &str) -> bool {
    (1..=32).contains(&source.len()) && source.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Engine {
    /// Stores a CSV of position reports (columns of `fq_risk::trace::read_positions`) from
    /// `source`, a feed of the county `region` (None: operators only trace with it): all or
    /// nothing (the first bad row refuses the file, naming it); a subject's report at a time
    /// stored before is skipped. Operators store any; a feed's account (`position_feed`) only
    /// the reports of a county its grant covers.
    pub async fn ingest_positions(
        &self,
        actor: &Actor,
        source: &str,
        region: Option<&RegionCode>,
        bytes: &[u8],
    ) -> Result<PositionsReport, EngineError> {
        if let Actor::Account(account) = actor {
            // A feed of several counties that did not say which: name the field it left out.
            let mut counties: Vec<&RegionCode> =
                account.grants.iter().filter(|g| g.role.as_str() == POSITION_FEED_ROLE).map(|g| &g.scope.region).collect();
            counties.sort_unstable();
            counties.dedup();
            if region.is_none() && counties.len() > 1 {
                return Err(EngineError::field(
                    "region_required",
                    "region",
                    format!("this feed covers {} counties: say which county the reports belong to", counties.len()),
                ));
            }
            let covered = region.is_some_and(|county| account.may(POSITION_FEED_ROLE, county, None));
            if !covered {
                return Err(EngineError::forbidden(
                    "position reports are stored by operators, or pushed by a feed account (position_feed) for a county it covers",
                ));
            }
        }
        if !valid_source(source) {
            return Err(EngineError::field("source_invalid", "source", "a source is 1 to 32 lower-case letters, digits or _"));
        }
        if let Some(county) = region {
            if county.level() != RegionLevel::County {
                return Err(EngineError::field("region_not_county", "region", format!("{county} is not a 6-digit county code")));
            }
            self.active_region(county, "region").await?;
        }
        let region_code = region.map(ToString::to_string).unwrap_or_default();
        let mut reports =
            fq_risk::trace::read_positions(bytes).map_err(|e| EngineError::field("positions_invalid", "file", e.to_string()))?;
        let rows = reports.len();
        reports.sort_by(|a, b| a.id.cmp(&b.id).then(a.at.cmp(&b.at)));
        reports.dedup_by(|a, b| a.id == b.id && a.at == b.at);
        let keys: Vec<(String, DateTime<Utc>)> = reports.iter().map(|p| (p.id.clone(), p.at)).collect();
        let known = self.store.positions_known(&region_code, &keys).await?;
        let mut subjects: Vec<&str> = reports.iter().map(|p| p.id.as_str()).collect();
        subjects.sort_unstable();
        subjects.dedup();
        let report = PositionsReport {
            source: source.to_owned(),
            region: region.map(ToString::to_string),
            rows,
            stored: reports.len() - known,
            duplicates: rows - (reports.len() - known),
            subjects: subjects.len(),
            first: reports.iter().map(|p| p.at).min(),
            last: reports.iter().map(|p| p.at).max(),
        };
        if report.stored > 0 {
            let records: Vec<PositionRecord> = reports
                .into_iter()
                .map(|p| PositionRecord {
                    subject: p.id,
                    at: p.at,
                    lon: p.lon,
                    lat: p.lat,
                    source: source.to_owned(),
                    region: region_code.clone(),
                })
                .collect();
            let summary = json!({ "source": source, "region": region, "rows": rows, "stored": report.stored, "subjects": report.subjects, "first": report.first, "last": report.last });
            let change = Change::new().op(Op::InsertPositions(records)).event(NewEvent::new(
                format!("positions:{source}"),
                "risk.positions_ingested",
                actor.journal_name(),
                summary,
            ));
            self.store.commit(change).await?;
        }
        Ok(report)
    }

    /// The regions whose reports `actor` traces with: None for every report (operators); the
    /// scopes of the account's `tracer` grants ([`trace_scopes`]); refused to anyone else.
    pub fn trace_scope(&self, actor: &Actor) -> Result<Option<Vec<RegionCode>>, EngineError> {
        match actor {
            Actor::System | Actor::Cli { .. } => Ok(None),
            Actor::Account(account) => {
                let scopes = trace_scopes(account);
                if scopes.is_empty() || self.programmes().get("risk").is_none() {
                    return Err(EngineError::forbidden(
                        "tracing a person or vessel is for the risk programme's trace analysts (轨迹研判员) and operators",
                    ));
                }
                Ok(Some(scopes))
            }
        }
    }

    /// The trace of `id` over the `hours` before `at` from the stored reports (an analyst's:
    /// those of the counties in their scope), and everyone within `within` metres of it at the
    /// same time (where it cannot be interpolated, within `same_minutes` of one of its
    /// reports). Journaled: who traced whom, when, with which counties' reports.
    pub async fn trace(
        &self,
        actor: &Actor,
        id: &str,
        at: DateTime<Utc>,
        hours: i64,
        within: f64,
        same_minutes: i64,
    ) -> Result<Trace, EngineError> {
        self.trace_journaled(actor, TraceAsk { id, at, hours, within, same_minutes }, "risk.trace_viewed").await
    }

    /// [`Engine::trace`] for a file the reader takes away (the console's workbook): the same
    /// trace, journaled as exported (`risk.trace_exported`), for the record leaves the system.
    pub async fn export_trace(
        &self,
        actor: &Actor,
        id: &str,
        at: DateTime<Utc>,
        hours: i64,
        within: f64,
        same_minutes: i64,
    ) -> Result<Trace, EngineError> {
        self.trace_journaled(actor, TraceAsk { id, at, hours, within, same_minutes }, "risk.trace_exported").await
    }

    async fn trace_journaled(&self, actor: &Actor, ask: TraceAsk<'_>, event: &'static str) -> Result<Trace, EngineError> {
        let TraceAsk { id, at, hours, within, same_minutes } = ask;
        let scope = self.trace_scope(actor)?;
        let id = id.trim();
        if id.is_empty() || id.chars().count() > fq_risk::trace::MAX_ID_CHARS {
            let limit = fq_risk::trace::MAX_ID_CHARS;
            return Err(EngineError::field("subject_invalid", "id", format!("a subject is 1 to {limit} characters")));
        }
        // A signed or far year parses as a time; the window's arithmetic before it would fail.
        if !fq_domain::calendar::plausible_day(at.date_naive()) {
            let years = fq_domain::calendar::INPUT_YEARS;
            return Err(EngineError::field(
                "at_invalid",
                "at",
                format!("{at} is outside the years {} to {}", years.start, years.end - 1),
            ));
        }
        if !fq_risk::trace::valid_hours(hours) {
            return Err(EngineError::field("hours_invalid", "hours", "a trace covers 1 to 720 hours"));
        }
        if !fq_risk::trace::valid_within(within) {
            return Err(EngineError::field("within_invalid", "within", "contacts are within 0 to 100,000 metres"));
        }
        if !fq_risk::trace::valid_same_time(same_minutes) {
            return Err(EngineError::field("same_minutes_invalid", "same_minutes", "the same time is 0 to 30 minutes apart"));
        }
        // The subject's reports first, from half an hour before the window to half an hour
        // after `at` (a second more: the store's window excludes its end): `contacts` places
        // the subject between two reports at most that far apart. Then only the reports that
        // could be near it: those in the boxes around its track, hour by hour
        // (`fq_risk::trace::search_boxes`), not every report of the window (a province's 72
        // hours are over a million).
        let gap = Duration::minutes(MAX_GAP_MINUTES);
        let (from, until) = (at - Duration::hours(hours) - gap, at + gap + Duration::seconds(1));
        let as_position = |r: PositionRecord| Position { id: r.subject, at: r.at, lon: r.lon, lat: r.lat };
        // Both reads from one snapshot: a file stored meanwhile cannot add companions of a
        // stretch of track the first read did not see.
        let areas_of: AreasAround = Arc::new(move |own: &[PositionRecord]| {
            fq_risk::trace::search_boxes(&own_positions(own).iter().collect::<Vec<_>>(), at, hours, within)
                .iter()
                .map(|b| PositionArea { from: b.from, to: b.to, west: b.west, east: b.east, south: b.south, north: b.north })
                .collect()
        });
        let PositionsAround { own: records, near } =
            self.store.positions_around(id, from, until, scope.as_deref(), areas_of).await?;
        let disagreements = disagreements(&records);
        let own = own_positions(&records);
        let mut positions: Vec<Position> = near.into_iter().filter(|r| r.subject != id).map(as_position).collect();
        // Copies of one report from several feeds are the same report: the first is kept. (Two
        // feeds that disagree on where it was: the copy within the box is the one read.)
        positions.dedup_by(|a, b| a.id == b.id && a.at == b.at);
        positions.extend(own);
        let track: Vec<Position> = fq_risk::trace::track(&positions, id, at, hours).into_iter().cloned().collect();
        let contacts = fq_risk::trace::contacts(&positions, id, at, hours, within, same_minutes);
        let regions: Option<Vec<String>> = scope.map(|s| s.iter().map(ToString::to_string).collect());
        let change = Change::new().event(NewEvent::new(
            "access:trace",
            event,
            actor.journal_name(),
            json!({ "id": id, "at": at, "hours": hours, "within_metres": within, "same_time_minutes": same_minutes, "regions": regions, "reports": track.len(), "contacts": contacts.len(), "disagreements": disagreements.len() }),
        ));
        self.store.commit(change).await?;
        Ok(Trace {
            id: id.to_owned(),
            at,
            hours,
            within_metres: within,
            same_time_minutes: same_minutes,
            regions,
            track,
            contacts,
            disagreements,
        })
    }
}

/// What a trace asks: [`Engine::trace`]'s arguments.
struct TraceAsk<'a> {
    id: &'a str,
    at: DateTime<Utc>,
    hours: i64,
    within: f64,
    same_minutes: i64,
}

/// Where the subject's feeds disagree, among all of its `records` the trace read (the track's
/// hours and the half hour either side, which place it for the companions).
fn disagreements(records: &[PositionRecord]) -> Vec<Disagreement> {
    let reports: Vec<FeedReport<'_>> =
        records.iter().map(|r| FeedReport { source: &r.source, region: &r.region, at: r.at, lon: r.lon, lat: r.lat }).collect();
    fq_risk::trace::disagreements(&reports)
}

/// The subject's own reports as positions, each once: a report seen by several counties' feeds
/// is stored once in each, and the store gives them by time, so the copies are neighbours.
fn own_positions(records: &[PositionRecord]) -> Vec<Position> {
    let mut own: Vec<Position> =
        records.iter().map(|r| Position { id: r.subject.clone(), at: r.at, lon: r.lon, lat: r.lat }).collect();
    own.dedup_by(|a, b| a.at == b.at);
    own
}
