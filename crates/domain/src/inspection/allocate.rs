//! Allocation of inspection records to reviewers in another county of the same city (P2, 全市
//! 随机交叉审核): each record goes uniformly at random to one of the least-loaded eligible
//! reviewers outside its own county. Eligible: on duty, qualified for the record's class, and
//! under capacity. With a cross-county ratio table a county's records go to the listed counties
//! in the given shares; when the chosen county has nobody eligible left, the record spills over
//! to every other county of the city.
//!
//! Nobody chooses: the draw is a function of the reviewers' state, the records in order and a
//! seed, so the whole batch replays identically from its recorded inputs ([`Allocation::replay`]).
//!
//! Per decision the work is one pass over the counties (about ten in a city), not over the
//! reviewers: each county keeps its eligible reviewers in buckets by load, so the least-loaded
//! ones of a county are one bucket and moving a reviewer up a bucket is a swap-remove.

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::dispatch::uniform;

/// A reviewer as the allocation sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reviewer {
    pub id: String,
    /// The county (6-digit code) the reviewer works in.
    pub county: String,
    /// Records the reviewer may hold at once (open assignments included in `load`).
    pub capacity: u32,
    pub on_duty: bool,
    /// Bit `c` set: qualified for record class `c` (0–31: passenger cars, trucks, buses...).
    pub qualified: u32,
    /// Records assigned and not yet reviewed.
    pub load: u32,
}

/// A record to allocate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    /// The county (6-digit code) of the station that inspected the vehicle.
    pub county: String,
    /// The record's class (0–31), matched against the reviewers' qualifications.
    pub class: u8,
}

/// Where each county's records go: target county → weight. Counties not listed send to every
/// other county, in proportion to nothing but load (the plain least-loaded draw).
pub type Ratios = BTreeMap<String, BTreeMap<String, u32>>;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub item: String,
    /// The chosen reviewer's id; `None` when nobody outside the county was eligible.
    pub reviewer: Option<String>,
    /// The load the chosen reviewer had, and how many were tied at it (the draw was uniform
    /// among them).
    pub load: u32,
    pub tied: u32,
    /// The record spilled over city-wide because its ratio county had nobody eligible.
    pub spilled: bool,
}

/// A whole allocation with everything needed to repeat it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub seed: u64,
    pub ratios: Ratios,
    /// The reviewers as they were before the first record.
    pub reviewers: Vec<Reviewer>,
    pub items: Vec<Item>,
    pub decisions: Vec<Decision>,
}

impl Allocation {
    /// Allocates `items` in order among `reviewers` (their loads as given).
    pub fn run(seed: u64, ratios: Ratios, reviewers: Vec<Reviewer>, items: Vec<Item>) -> Allocation {
        let mut pool = Pool::new(&reviewers);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let mut shares = Shares::default();
        let decisions = items.iter().map(|item| pool.decide(item, &ratios, &mut shares, &mut rng)).collect();
        Allocation { seed, ratios, reviewers, items, decisions }
    }

    /// Draws again from the recorded inputs: `true` when every decision is the recorded one.
    pub fn replay(&self) -> bool {
        Allocation::run(self.seed, self.ratios.clone(), self.reviewers.clone(), self.items.clone()).decisions == self.decisions
    }

    /// The reviewers' loads after the allocation, by reviewer id.
    pub fn loads(&self) -> BTreeMap<&str, u32> {
        let mut out: BTreeMap<&str, u32> = self.reviewers.iter().map(|r| (r.id.as_str(), r.load)).collect();
        for d in &self.decisions {
            if let Some(id) = &d.reviewer
                && let Some(load) = out.get_mut(id.as_str())
            {
                *load += 1;
            }
        }
        out
    }
}

/// Eligible reviewers of one county in buckets by load.
#[derive(Debug, Default)]
struct County {
    code: String,
    /// `buckets[l]`: indices (into the pool's reviewers) of those with load `l`.
    buckets: Vec<Vec<usize>>,
    /// The lowest non-empty bucket, if any.
    min: Option<usize>,
}

impl County {
    fn insert(&mut self, reviewer: usize, load: usize, slot: &mut [(usize, usize)]) {
        if self.buckets.len() <= load {
            self.buckets.resize_with(load + 1, Vec::new);
        }
        slot[reviewer] = (load, self.buckets[load].len());
        self.buckets[load].push(reviewer);
        self.min = Some(self.min.map_or(load, |m| m.min(load)));
    }

    fn remove(&mut self, reviewer: usize, slot: &mut [(usize, usize)]) {
        let (load, at) = slot[reviewer];
        let bucket = &mut self.buckets[load];
        bucket.swap_remove(at);
        if let Some(&moved) = bucket.get(at) {
            slot[moved].1 = at;
        }
        if self.min == Some(load) && bucket.is_empty() {
            self.min = (load + 1..self.buckets.len()).find(|&l| !self.buckets[l].is_empty());
        }
    }
}

/// How many records each county has sent to each target so far (for ratio shares).
#[derive(Debug, Default)]
struct Shares(BTreeMap<(String, String), u64>);

struct Pool<'a> {
    reviewers: &'a [Reviewer],
    loads: Vec<u32>,
    /// Per reviewer: (bucket, position) in its county, for the classes' pools.
    slots: Vec<Vec<(usize, usize)>>,
    /// Per class (0–31): the counties with their eligible reviewers.
    classes: Vec<Vec<County>>,
    /// Per reviewer: the index of its county in every class's list.
    county_of: Vec<usize>,
}

impl<'a> Pool<'a> {
    fn new(reviewers: &'a [Reviewer]) -> Pool<'a> {
        let mut codes: Vec<&str> = reviewers.iter().map(|r| r.county.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        let county_of: Vec<usize> =
            reviewers.iter().map(|r| codes.binary_search(&r.county.as_str()).expect("the county was collected")).collect();
        let mut classes = Vec::with_capacity(32);
        let mut slots = vec![vec![(0, 0); reviewers.len()]; 32];
        for (class, slot) in slots.iter_mut().enumerate() {
            let mut counties: Vec<County> = codes.iter().map(|c| County { code: (*c).to_owned(), ..County::default() }).collect();
            for (i, r) in reviewers.iter().enumerate() {
                if r.on_duty && r.qualified & (1 << class) != 0 && r.load < r.capacity {
                    counties[county_of[i]].insert(i, r.load as usize, slot);
                }
            }
            classes.push(counties);
        }
        Pool { reviewers, loads: reviewers.iter().map(|r| r.load).collect(), slots, classes, county_of }
    }

    fn decide(&mut self, item: &Item, ratios: &Ratios, shares: &mut Shares, rng: &mut ChaCha20Rng) -> Decision {
        let class = usize::from(item.class.min(31));
        let counties = &self.classes[class];
        // The county the ratio table sends this record to: the one furthest behind its share.
        let target = ratios.get(&item.county).and_then(|weights| {
            let total: u64 = weights.values().map(|w| u64::from(*w)).sum();
            let sent: u64 = weights.keys().map(|t| shares.0.get(&(item.county.clone(), t.clone())).copied().unwrap_or(0)).sum();
            weights
                .iter()
                .filter(|(t, w)| **w > 0 && **t != item.county)
                .map(|(t, w)| {
                    let got = shares.0.get(&(item.county.clone(), t.clone())).copied().unwrap_or(0) as f64;
                    let due = (sent + 1) as f64 * f64::from(*w) / total.max(1) as f64;
                    (t.clone(), due - got)
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                .map(|(t, _)| t)
        });
        let allowed = |c: &County| c.code != item.county && target.as_ref().is_none_or(|t| *t == c.code);
        let mut spilled = false;
        let mut pick = least_loaded(counties, &allowed);
        if pick.is_none() && target.is_some() {
            spilled = true;
            pick = least_loaded(counties, &|c: &County| c.code != item.county);
        }
        let Some((load, tied)) = pick else {
            return Decision { item: item.id.clone(), reviewer: None, load: 0, tied: 0, spilled };
        };
        // Uniform among the tied, counted county by county in code order.
        let mut rank = uniform(rng, tied as usize) as u64;
        let mut chosen = None;
        for c in counties.iter().filter(|c| allowed(c) || (spilled && c.code != item.county)) {
            if c.min == Some(load) {
                let bucket = &c.buckets[load];
                if rank < bucket.len() as u64 {
                    chosen = Some(bucket[rank as usize]);
                    break;
                }
                rank -= bucket.len() as u64;
            }
        }
        let reviewer = chosen.expect("the rank is below the number tied");
        if let Some(t) = target.filter(|_| !spilled) {
            *shares.0.entry((item.county.clone(), t)).or_default() += 1;
        }
        self.assign(reviewer);
        Decision {
            item: item.id.clone(),
            reviewer: Some(self.reviewers[reviewer].id.clone()),
            load: load as u32,
            tied: tied as u32,
            spilled,
        }
    }

    /// One more record for `reviewer`, in every class pool it is in.
    fn assign(&mut self, reviewer: usize) {
        let r = &self.reviewers[reviewer];
        self.loads[reviewer] += 1;
        let load = self.loads[reviewer];
        let at = self.county_of[reviewer];
        for (class, counties) in self.classes.iter_mut().enumerate() {
            if !(r.on_duty && r.qualified & (1 << class) != 0) {
                continue;
            }
            let county = &mut counties[at];
            let slot = &mut self.slots[class];
            county.remove(reviewer, slot);
            if load < r.capacity {
                county.insert(reviewer, load as usize, slot);
            }
        }
    }
}

/// The lowest load among the allowed counties and how many reviewers have it.
fn least_loaded(counties: &[County], allowed: &dyn Fn(&County) -> bool) -> Option<(usize, u64)> {
    let min = counties.iter().filter(|c| allowed(c)).filter_map(|c| c.min).min()?;
    let tied = counties.iter().filter(|c| allowed(c) && c.min == Some(min)).map(|c| c.buckets[min].len() as u64).sum();
    Some((min, tied))
}
