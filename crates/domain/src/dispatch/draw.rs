//! The draw itself: constraints first, then the policy's choice among those left.

use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::{Candidate, DispatchRequest};
use crate::Coded;
use crate::programme::DispatchPolicy;
use crate::region::RegionLevel;

/// Loads closer than this are equal (weights are small decimals such as 0.5).
const LOAD_EPSILON: f64 = 1e-9;

/// Why no handler could be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    #[error("no eligible handler for a {policy} draw in {region}: {considered} candidates, {summary}")]
    NoCandidate { policy: &'static str, region: String, considered: usize, summary: String },
    #[error("the manual policy has no automatic draw: name the unit in the action")]
    Manual,
}

impl Coded for DispatchError {
    fn code(&self) -> &'static str {
        match self {
            DispatchError::NoCandidate { .. } => "dispatch_no_candidate",
            DispatchError::Manual => "dispatch_manual",
        }
    }
}

/// Checks every constraint on one candidate; the error names the first one it breaks.
pub fn eligible(request: &DispatchRequest, candidate: &Candidate) -> Result<(), &'static str> {
    Constraints::new(request).check(candidate)
}

/// A request's constraints with what every candidate is compared with worked out once.
struct Constraints<'a> {
    request: &'a DispatchRequest,
    own_county: Option<crate::region::RegionCode>,
}

impl<'a> Constraints<'a> {
    fn new(request: &'a DispatchRequest) -> Constraints<'a> {
        let own_county = if request.exclude_own_county { request.region.at_level(RegionLevel::County) } else { None };
        Constraints { request, own_county }
    }

    fn check(&self, candidate: &Candidate) -> Result<(), &'static str> {
        let request = self.request;
        if !request.unit_kinds.is_empty() && !request.unit_kinds.contains(&candidate.unit_kind) {
            return Err("unit kind");
        }
        if !candidate.on_duty {
            return Err("not on duty");
        }
        if !candidate.qualified {
            return Err("not qualified");
        }
        if candidate.capacity.is_some_and(|cap| candidate.load + request.weight > cap + LOAD_EPSILON) {
            return Err("at capacity");
        }
        if self.own_county.as_ref().is_some_and(|county| county.contains(&candidate.region)) {
            return Err("own county");
        }
        if request.within.as_ref().is_some_and(|area| !area.contains(&candidate.region)) {
            return Err("outside the area");
        }
        if !candidate.conflicts.is_empty() && candidate.conflicts.iter().any(|c| request.conflict_keys.contains(c)) {
            return Err("conflict of interest");
        }
        if !request.exclude.is_empty() && request.exclude.contains(&candidate.key()) {
            return Err("returned the case before");
        }
        if let Some(needed) = &request.qualification
            && !candidate.skills.contains(needed)
        {
            return Err("not qualified for the class");
        }
        if request.policy == DispatchPolicy::Skill
            && let Some(skill) = &request.skill
            && !candidate.skills.contains(skill)
        {
            return Err("lacks the skill");
        }
        Ok(())
    }
}

/// Draws for `request` among `candidates`: indices of the chosen ones, in order (one, or
/// `request.count` for a joint draw).
pub fn draw(request: &DispatchRequest, candidates: &[Candidate]) -> Result<Vec<usize>, DispatchError> {
    let constraints = Constraints::new(request);
    let all: Vec<usize> = (0..candidates.len()).filter(|&i| constraints.check(&candidates[i]).is_ok()).collect();
    // Specialists first: with a skill but another policy (joint draws aside), those skilled in
    // the case's code are preferred when any is eligible, everyone eligible otherwise. By region,
    // the preference holds within each area before the draw widens to the next.
    let preferred = |pool: &[usize]| -> Vec<usize> {
        let Some(skill) = request.skill.as_ref().filter(|_| request.policy != DispatchPolicy::Skill) else {
            return pool.to_vec();
        };
        let skilled: Vec<usize> = pool.iter().copied().filter(|&i| candidates[i].skills.contains(skill)).collect();
        if skilled.is_empty() { pool.to_vec() } else { skilled }
    };
    let pool = if matches!(request.policy, DispatchPolicy::ByRegion | DispatchPolicy::Joint) { all } else { preferred(&all) };
    let none = || no_candidate(request, candidates);
    match request.policy {
        DispatchPolicy::Manual => Err(DispatchError::Manual),
        DispatchPolicy::ByRegion => by_region(request, candidates, &pool, &preferred).map(|i| vec![i]).ok_or_else(none),
        DispatchPolicy::RoundRobin => {
            pool.iter().copied().min_by(|&a, &b| by_turn(&candidates[a], &candidates[b])).map(|i| vec![i]).ok_or_else(none)
        }
        DispatchPolicy::LeastLoaded | DispatchPolicy::Skill => least_loaded(candidates, &pool).map(|i| vec![i]).ok_or_else(none),
        DispatchPolicy::RandomBalanced => {
            let pool = shared_out(request, candidates, &pool);
            random_balanced(request.seed, candidates, &pool).map(|i| vec![i]).ok_or_else(none)
        }
        DispatchPolicy::Joint => joint(request, candidates, &pool),
    }
}

/// Fewer past assignments first, then the key: a turn order that needs no stored cursor.
fn by_turn(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    a.assigned_total.cmp(&b.assigned_total).then_with(|| key_order(a, b))
}

/// The order of [`Candidate::key`] without building the strings: hyphenated lower-case UUIDs
/// sort as their bytes do, and a unit alone sorts before the unit with a person.
fn key_order(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    (a.unit, a.person).cmp(&(b.unit, b.person))
}

fn by_load(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    a.load.total_cmp(&b.load).then_with(|| by_turn(a, b))
}

fn least_loaded(candidates: &[Candidate], pool: &[usize]) -> Option<usize> {
    pool.iter().copied().min_by(|&a, &b| by_load(&candidates[a], &candidates[b]))
}

/// The eligible handlers of the case's own area at `level`, widening one level at a time.
fn by_region(
    request: &DispatchRequest,
    candidates: &[Candidate],
    pool: &[usize],
    preferred: &dyn Fn(&[usize]) -> Vec<usize>,
) -> Option<usize> {
    let mut level = request.level.min(request.region.level());
    loop {
        if let Some(area) = request.region.at_level(level) {
            let local: Vec<usize> = pool.iter().copied().filter(|&i| candidates[i].region == area).collect();
            if let Some(best) = least_loaded(candidates, &preferred(&local)) {
                return Some(best);
            }
        }
        level = level.parent()?;
    }
}

/// Uniformly among the least-loaded eligible handlers.
fn random_balanced(seed: u64, candidates: &[Candidate], pool: &[usize]) -> Option<usize> {
    let min = pool.iter().map(|&i| candidates[i].load).min_by(f64::total_cmp)?;
    let mut lightest: Vec<usize> = pool.iter().copied().filter(|&i| candidates[i].load - min < LOAD_EPSILON).collect();
    // The candidates' order in the snapshot must not matter: sort by key before drawing.
    lightest.sort_by(|&a, &b| key_order(&candidates[a], &candidates[b]));
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    Some(lightest[uniform(&mut rng, lightest.len())])
}

/// With cross-county shares: the eligible candidates of a target county drawn by weight (from
/// its own stream of the seed, so that the draw replays), or all of `pool` when that county has
/// nobody eligible (the backlog spills over city-wide).
fn shared_out(request: &DispatchRequest, candidates: &[Candidate], pool: &[usize]) -> Vec<usize> {
    let total: f64 = request.shares.iter().map(|(_, w)| w.max(0.0)).sum();
    if request.shares.is_empty() || total <= 0.0 {
        return pool.to_vec();
    }
    let mut rng = ChaCha20Rng::seed_from_u64(request.seed ^ 0x5348_4152_4553);
    // A point in [0, total) on a grid fine enough for any configured weights.
    const STEPS: usize = 1 << 30;
    let mut at = uniform(&mut rng, STEPS) as f64 / STEPS as f64 * total;
    let target = request
        .shares
        .iter()
        .find(|(_, w)| {
            if at < w.max(0.0) {
                true
            } else {
                at -= w.max(0.0);
                false
            }
        })
        .or(request.shares.last())
        .map(|(county, _)| county);
    let there: Vec<usize> = pool.iter().copied().filter(|&i| target.is_some_and(|c| c.contains(&candidates[i].region))).collect();
    if there.is_empty() { pool.to_vec() } else { there }
}

/// An unbiased index below `n` (rejection sampling, so every index has the same chance).
pub(crate) fn uniform(rng: &mut ChaCha20Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return (x % n) as usize;
        }
    }
}

/// `count` distinct units, least loaded first; the first is the lead.
fn joint(request: &DispatchRequest, candidates: &[Candidate], pool: &[usize]) -> Result<Vec<usize>, DispatchError> {
    let mut sorted = pool.to_vec();
    sorted.sort_by(|&a, &b| by_load(&candidates[a], &candidates[b]));
    let mut chosen: Vec<usize> = Vec::new();
    for i in sorted {
        if chosen.len() == request.count.max(1) {
            break;
        }
        if !chosen.iter().any(|&c| candidates[c].unit == candidates[i].unit) {
            chosen.push(i);
        }
    }
    if chosen.len() < request.count.max(1) { Err(no_candidate(request, candidates)) } else { Ok(chosen) }
}

fn no_candidate(request: &DispatchRequest, candidates: &[Candidate]) -> DispatchError {
    let mut reasons: std::collections::BTreeMap<&'static str, usize> = std::collections::BTreeMap::new();
    for candidate in candidates {
        if let Err(reason) = eligible(request, candidate) {
            *reasons.entry(reason).or_default() += 1;
        }
    }
    let summary = if reasons.is_empty() {
        if candidates.is_empty() { "none configured".to_owned() } else { "too few distinct units".to_owned() }
    } else {
        reasons.iter().map(|(reason, n)| format!("{n} excluded: {reason}")).collect::<Vec<_>>().join(", ")
    };
    DispatchError::NoCandidate {
        policy: request.policy.as_str(),
        region: request.region.to_string(),
        considered: candidates.len(),
        summary,
    }
}
