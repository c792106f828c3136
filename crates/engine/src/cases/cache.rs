//! In-process caches on the hot path of actions. None of them can make a write wrong:
//! - case snapshots: an action decided on a stale snapshot fails its commit (the stream
//!   expectation) and is decided again from the database, with the entry dropped;
//! - organisations by id: organisations are never edited (only created), so an entry never
//!   goes stale;
//! - the organisations of a province (dispatch candidates): kept for a few seconds, and dropped
//!   when this process creates an organisation; one created by another process is seen within
//!   that time.
//!
//! - regions (for opening cases): trusted for a minute; a region import in this process drops
//!   them;
//! - handler tallies and profiles (dispatch inputs): tallies are kept current with this
//!   process's own commits and read again after a couple of seconds (other processes' work);
//!   profiles for a few seconds, dropped when this process sets one. A draw records the loads it
//!   used, so replay is exact whatever their age.
//!
//! Reads shown to people (case views, lists, KPIs) always come from the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fq_domain::case::{Case, CaseId};
use fq_domain::org::{OrgId, Organisation};
use fq_domain::region::{Region, RegionCode};
use fq_store::{HandlerProfile, HandlerTally, TallyDelta};

/// Entries kept before a cache is emptied and starts again (a crude bound that needs no LRU).
const MAX_CASES: usize = 50_000;
const MAX_ORGS: usize = 100_000;
/// How long a province's organisation list is trusted.
const PROVINCE_TTL: Duration = Duration::from_secs(5);
const REGION_TTL: Duration = Duration::from_secs(60);
const TALLY_TTL: Duration = Duration::from_secs(2);
const PROFILE_TTL: Duration = Duration::from_secs(5);
const MAX_HANDLERS: usize = 100_000;

/// An entry with the time it was read.
type Timed<T> = (Instant, T);

#[derive(Debug, Default)]
pub(crate) struct Caches {
    cases: Mutex<HashMap<CaseId, Arc<Case>>>,
    orgs: Mutex<HashMap<OrgId, Organisation>>,
    provinces: Mutex<HashMap<RegionCode, Timed<Arc<Vec<Organisation>>>>>,
    regions: Mutex<HashMap<RegionCode, Timed<Region>>>,
    tallies: Mutex<HashMap<String, Timed<HandlerTally>>>,
    profiles: Mutex<HashMap<String, Timed<Option<HandlerProfile>>>>,
}

impl Caches {
    pub(crate) fn case(&self, id: CaseId) -> Option<Arc<Case>> {
        self.cases.lock().expect("case cache").get(&id).cloned()
    }

    pub(crate) fn put_case(&self, case: Case) {
        let mut cases = self.cases.lock().expect("case cache");
        if cases.len() >= MAX_CASES {
            cases.clear();
        }
        cases.insert(case.id, Arc::new(case));
    }

    pub(crate) fn drop_case(&self, id: CaseId) {
        self.cases.lock().expect("case cache").remove(&id);
    }

    pub(crate) fn org(&self, id: OrgId) -> Option<Organisation> {
        self.orgs.lock().expect("org cache").get(&id).cloned()
    }

    pub(crate) fn put_org(&self, org: Organisation) {
        let mut orgs = self.orgs.lock().expect("org cache");
        if orgs.len() >= MAX_ORGS {
            orgs.clear();
        }
        orgs.insert(org.id, org);
    }

    pub(crate) fn province(&self, code: &RegionCode) -> Option<Arc<Vec<Organisation>>> {
        let provinces = self.provinces.lock().expect("province cache");
        provinces.get(code).filter(|(at, _)| at.elapsed() < PROVINCE_TTL).map(|(_, list)| Arc::clone(list))
    }

    pub(crate) fn put_province(&self, code: RegionCode, list: Arc<Vec<Organisation>>) {
        self.provinces.lock().expect("province cache").insert(code, (Instant::now(), list));
    }

    /// After this process created an organisation.
    pub(crate) fn organisations_changed(&self) {
        self.provinces.lock().expect("province cache").clear();
    }

    pub(crate) fn region(&self, code: &RegionCode) -> Option<Region> {
        let regions = self.regions.lock().expect("region cache");
        regions.get(code).filter(|(at, _)| at.elapsed() < REGION_TTL).map(|(_, r)| r.clone())
    }

    pub(crate) fn put_region(&self, region: Region) {
        let mut regions = self.regions.lock().expect("region cache");
        if regions.len() >= MAX_ORGS {
            regions.clear();
        }
        regions.insert(region.code.clone(), (Instant::now(), region));
    }

    /// After this process imported regions.
    pub(crate) fn regions_changed(&self) {
        self.regions.lock().expect("region cache").clear();
    }

    /// The fresh tallies among `keys`, and the keys to read from the store.
    pub(crate) fn tallies(&self, keys: &[String]) -> (HashMap<String, HandlerTally>, Vec<String>) {
        let tallies = self.tallies.lock().expect("tally cache");
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for key in keys {
            match tallies.get(key).filter(|(at, _)| at.elapsed() < TALLY_TTL) {
                Some((_, tally)) => {
                    found.insert(key.clone(), tally.clone());
                }
                None => missing.push(key.clone()),
            }
        }
        (found, missing)
    }

    /// Tallies read from the store for `keys` (a key without a row has an empty tally).
    pub(crate) fn put_tallies(&self, keys: &[String], read: &[HandlerTally]) {
        let mut tallies = self.tallies.lock().expect("tally cache");
        if tallies.len() >= MAX_HANDLERS {
            tallies.clear();
        }
        let now = Instant::now();
        for key in keys {
            let tally = read
                .iter()
                .find(|t| &t.handler == key)
                .cloned()
                .unwrap_or_else(|| HandlerTally { handler: key.clone(), ..HandlerTally::default() });
            tallies.insert(key.clone(), (now, tally));
        }
    }

    /// Applies this process's committed deltas to the cached tallies.
    pub(crate) fn apply_tallies(&self, deltas: &[TallyDelta]) {
        let mut tallies = self.tallies.lock().expect("tally cache");
        for d in deltas {
            if let Some((_, t)) = tallies.get_mut(&d.handler) {
                t.add(d);
            }
        }
    }

    /// The fresh profiles among `keys` (`None` inside: known to have none), and the keys to read.
    pub(crate) fn profiles(&self, keys: &[String]) -> (HashMap<String, Option<HandlerProfile>>, Vec<String>) {
        let profiles = self.profiles.lock().expect("profile cache");
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        for key in keys {
            match profiles.get(key).filter(|(at, _)| at.elapsed() < PROFILE_TTL) {
                Some((_, profile)) => {
                    found.insert(key.clone(), profile.clone());
                }
                None => missing.push(key.clone()),
            }
        }
        (found, missing)
    }

    pub(crate) fn put_profiles(&self, keys: &[String], read: &[HandlerProfile]) {
        let mut profiles = self.profiles.lock().expect("profile cache");
        if profiles.len() >= MAX_HANDLERS {
            profiles.clear();
        }
        let now = Instant::now();
        for key in keys {
            profiles.insert(key.clone(), (now, read.iter().find(|p| &p.handler == key).cloned()));
        }
    }

    /// After this process set a handler's profile.
    pub(crate) fn profiles_changed(&self) {
        self.profiles.lock().expect("profile cache").clear();
    }
}
