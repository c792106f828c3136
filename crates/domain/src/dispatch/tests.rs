use proptest::prelude::*;
use uuid::Uuid;

use crate::Coded as _;

use super::*;
use crate::account::AccountId;

fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

fn unit(n: u128, region_code: &str) -> Candidate {
    Candidate {
        unit: OrgId(Uuid::from_u128(n)),
        person: None,
        region: region(region_code),
        unit_kind: OrgKind::Centre,
        load: 0.0,
        capacity: None,
        on_duty: true,
        qualified: true,
        skills: Vec::new(),
        conflicts: Vec::new(),
        assigned_total: 0,
    }
}

fn request(policy: DispatchPolicy, case_region: &str) -> DispatchRequest {
    DispatchRequest {
        policy,
        region: region(case_region),
        level: RegionLevel::Town,
        unit_kinds: Vec::new(),
        exclude_own_county: false,
        within: None,
        qualification: None,
        shares: Vec::new(),
        skill: None,
        conflict_keys: Vec::new(),
        exclude: Vec::new(),
        weight: 1.0,
        count: 1,
        seed: 7,
    }
}

fn chosen(req: &DispatchRequest, candidates: &[Candidate]) -> Vec<u128> {
    draw(req, candidates).unwrap().into_iter().map(|i| candidates[i].unit.0.as_u128()).collect()
}

#[test]
fn by_region_prefers_the_town_then_widens() {
    // Two towns of 诸暨 (330681) and the county centre.
    let candidates = vec![unit(1, "330681001"), unit(2, "330681002"), unit(3, "330681")];
    let mut req = request(DispatchPolicy::ByRegion, "330681002003");
    assert_eq!(chosen(&req, &candidates), vec![2]);
    // Town 2's unit is off duty: the county answers.
    let mut off = candidates.clone();
    off[1].on_duty = false;
    assert_eq!(chosen(&req, &off), vec![3]);
    // Nobody in the county: refused, with the reasons counted.
    req.region = region("330682001001");
    let err = draw(&req, &off).unwrap_err();
    assert_eq!(err.code(), "dispatch_no_candidate");
    // County level asked: the county centre even though the town has a unit.
    req.region = region("330681002003");
    req.level = RegionLevel::County;
    assert_eq!(chosen(&req, &candidates), vec![3]);
}

#[test]
fn each_policy_chooses_as_documented() {
    let mut candidates = vec![unit(1, "330681"), unit(2, "330681"), unit(3, "330681")];
    candidates[0].load = 3.0;
    candidates[1].load = 1.0;
    candidates[2].load = 1.0;
    candidates[1].assigned_total = 9;
    candidates[2].assigned_total = 4;
    candidates[0].assigned_total = 2;
    // Least loaded: 2 and 3 tie on load; 3 has had fewer turns.
    assert_eq!(chosen(&request(DispatchPolicy::LeastLoaded, "330681"), &candidates), vec![3]);
    // Round robin: fewest past assignments, whatever the load.
    assert_eq!(chosen(&request(DispatchPolicy::RoundRobin, "330681"), &candidates), vec![1]);
    // Skill: only 1 knows labour disputes.
    candidates[0].skills = vec!["labour".into()];
    let mut skill = request(DispatchPolicy::Skill, "330681");
    skill.skill = Some("labour".into());
    assert_eq!(chosen(&skill, &candidates), vec![1]);
    // Joint: three distinct units, lightest first.
    let mut joint = request(DispatchPolicy::Joint, "330681");
    joint.count = 3;
    assert_eq!(chosen(&joint, &candidates), vec![3, 2, 1]);
    joint.count = 4;
    assert_eq!(draw(&joint, &candidates).unwrap_err().code(), "dispatch_no_candidate");
    assert_eq!(draw(&request(DispatchPolicy::Manual, "330681"), &candidates).unwrap_err(), DispatchError::Manual);
}

#[test]
fn random_balanced_is_uniform_among_the_lightest_and_replays() {
    let mut candidates: Vec<Candidate> = (1..=4).map(|n| unit(n, "330681")).collect();
    candidates[3].load = 1.0;
    let mut counts = [0u32; 4];
    for seed in 0..4000 {
        let mut req = request(DispatchPolicy::RandomBalanced, "330681");
        req.seed = seed;
        let pick = draw(&req, &candidates).unwrap()[0];
        counts[pick] += 1;
    }
    assert_eq!(counts[3], 0, "the heavier handler is never drawn");
    for c in &counts[..3] {
        assert!((1200..1470).contains(c), "uniform among three: {counts:?}");
    }
    // The same request and snapshot give the same choice, whatever the snapshot's order.
    let req = request(DispatchPolicy::RandomBalanced, "330681");
    let first = chosen(&req, &candidates);
    let mut shuffled = candidates.clone();
    shuffled.reverse();
    assert_eq!(chosen(&req, &shuffled), first);
    let record =
        DrawRecord { request: req, candidates: candidates.clone(), chosen: vec![candidates[first[0] as usize - 1].key()] };
    assert!(record.replay().unwrap().0);
    let forged = DrawRecord { chosen: vec!["someone else".into()], ..record };
    assert!(!forged.replay().unwrap().0);
}

#[test]
fn constraints_name_their_reason() {
    let mut c = unit(1, "330681001");
    let mut req = request(DispatchPolicy::RandomBalanced, "330681002001");
    assert_eq!(eligible(&req, &c), Ok(()));
    req.exclude_own_county = true;
    assert_eq!(eligible(&req, &c), Err("own county"));
    req.region = region("330682001001");
    c.conflicts = vec!["张三".into()];
    req.conflict_keys = vec!["张三".into()];
    assert_eq!(eligible(&req, &c), Err("conflict of interest"));
    req.conflict_keys.clear();
    c.capacity = Some(2.0);
    c.load = 1.5;
    assert_eq!(eligible(&req, &c), Err("at capacity"));
    c.load = 1.0;
    assert_eq!(eligible(&req, &c), Ok(()));
    req.exclude = vec![c.key()];
    assert_eq!(eligible(&req, &c), Err("returned the case before"));
    req.exclude.clear();
    c.qualified = false;
    assert_eq!(eligible(&req, &c), Err("not qualified"));
    req.unit_kinds = vec![OrgKind::Court];
    assert_eq!(eligible(&req, &c), Err("unit kind"));
}

/// Counties of 绍兴 (3306xx) used by the generated scenarios.
const COUNTIES: [&str; 6] = ["330602", "330603", "330604", "330624", "330681", "330683"];

#[derive(Debug, Clone)]
struct Scenario {
    handlers: Vec<Candidate>,
    tasks: Vec<(usize, Vec<String>)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let handler =
        (0..COUNTIES.len(), any::<bool>(), any::<bool>(), proptest::option::of(3.0f64..30.0), proptest::option::of(0..5usize));
    (
        prop::collection::vec(handler, 2..40),
        prop::collection::vec((0..COUNTIES.len(), prop::collection::vec(0..5usize, 0..3)), 1..400),
    )
        .prop_map(|(hs, ts)| Scenario {
            handlers: hs
                .into_iter()
                .enumerate()
                .map(|(i, (county, on_duty, qualified, capacity, conflict))| Candidate {
                    on_duty: on_duty || i % 3 == 0,
                    qualified: qualified || i % 2 == 0,
                    capacity,
                    conflicts: conflict.map(|c| vec![format!("party-{c}")]).unwrap_or_default(),
                    ..unit(i as u128 + 1, COUNTIES[county])
                })
                .collect(),
            tasks: ts
                .into_iter()
                .map(|(county, parties)| (county, parties.into_iter().map(|p| format!("party-{p}")).collect()))
                .collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// However the constraints fall, a random-balanced draw never breaks one: every task lands on
    /// an eligible handler, or is refused only when nobody was eligible.
    #[test]
    fn random_balanced_never_breaks_a_constraint(s in scenario(), seed in any::<u64>()) {
        let mut handlers = s.handlers.clone();
        for (n, (county, parties)) in s.tasks.iter().enumerate() {
            let mut req = request(DispatchPolicy::RandomBalanced, &format!("{}001001", COUNTIES[*county]));
            req.exclude_own_county = true;
            req.conflict_keys = parties.clone();
            req.seed = seed.wrapping_add(n as u64);
            match draw(&req, &handlers) {
                Ok(picked) => {
                    let i = picked[0];
                    prop_assert_eq!(eligible(&req, &handlers[i]), Ok(()));
                    let county_code = region(COUNTIES[*county]);
                    prop_assert!(!county_code.contains(&handlers[i].region));
                    prop_assert!(handlers[i].capacity.is_none_or(|c| handlers[i].load + 1.0 <= c + 1e-9));
                    // Uniform among the least loaded: nobody eligible was lighter.
                    prop_assert!(handlers.iter().all(|h| eligible(&req, h).is_err() || h.load >= handlers[i].load));
                    handlers[i].load += 1.0;
                }
                Err(DispatchError::NoCandidate { .. }) => {
                    prop_assert!(handlers.iter().all(|h| eligible(&req, h).is_err()));
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }

    /// With at least 10 tasks per eligible handler, loads stay within one task of each other, and
    /// when the tasks divide evenly, max/mean is at most 1.05 (the bar; it comes out 1.0).
    #[test]
    fn random_balanced_keeps_loads_level(n in 2usize..60, per in 10usize..40, extra in 0usize..60, seed in any::<u64>(), off in prop::collection::vec(any::<bool>(), 60)) {
        let mut handlers: Vec<Candidate> = (0..n).map(|i| Candidate { on_duty: !off[i] || i == 0, ..unit(i as u128 + 1, COUNTIES[i % COUNTIES.len()]) }).collect();
        let eligible_count = handlers.iter().filter(|h| h.on_duty).count();
        let extra = extra % eligible_count;
        let tasks = per * eligible_count + extra;
        for t in 0..tasks {
            let mut req = request(DispatchPolicy::RandomBalanced, "330681001001");
            req.seed = seed.wrapping_add(t as u64);
            let i = draw(&req, &handlers).unwrap()[0];
            handlers[i].load += 1.0;
        }
        let loads: Vec<f64> = handlers.iter().filter(|h| h.on_duty).map(|h| h.load).collect();
        prop_assert!(handlers.iter().filter(|h| !h.on_duty).all(|h| h.load == 0.0));
        let max = loads.iter().copied().fold(f64::MIN, f64::max);
        let min = loads.iter().copied().fold(f64::MAX, f64::min);
        let mean = loads.iter().sum::<f64>() / loads.len() as f64;
        prop_assert!(max - min <= 1.0, "max {max} min {min}");
        if extra == 0 {
            prop_assert!(max / mean <= 1.05, "max/mean {}", max / mean);
        }
    }
}

proptest! {
    /// Sorting by (unit, person) is the order of the candidates' keys, so draws that sort
    /// without building the key strings choose what sorting the keys would.
    #[test]
    fn key_order_is_the_order_of_keys(ids in prop::collection::vec((any::<u128>(), proptest::option::of(any::<u128>())), 2..30)) {
        let candidates: Vec<Candidate> = ids
            .iter()
            .map(|(u, p)| Candidate { person: p.map(|p| AccountId(Uuid::from_u128(p))), ..unit(*u, "330681") })
            .collect();
        let mut by_tuple = candidates.clone();
        by_tuple.sort_by_key(|c| (c.unit, c.person));
        let mut by_key = candidates;
        by_key.sort_by_key(Candidate::key);
        prop_assert_eq!(by_tuple.iter().map(Candidate::key).collect::<Vec<_>>(), by_key.iter().map(Candidate::key).collect::<Vec<_>>());
    }
}

#[test]
fn specialists_come_first_under_other_policies_and_everyone_else_after() {
    let mut candidates: Vec<Candidate> = (1..=3).map(|n| unit(n, "330681")).collect();
    candidates[0].load = 5.0;
    candidates[0].skills = vec!["credit_card".into()];
    let mut least = request(DispatchPolicy::LeastLoaded, "330681");
    least.skill = Some("credit_card".into());
    // The only credit-card specialist is drawn although it carries the heaviest load.
    assert_eq!(chosen(&least, &candidates), vec![1]);
    let mut by_region = request(DispatchPolicy::ByRegion, "330681");
    by_region.skill = Some("credit_card".into());
    assert_eq!(chosen(&by_region, &candidates), vec![1]);
    // A specialist off duty is not eligible: the draw falls back to everyone eligible.
    candidates[0].on_duty = false;
    assert_eq!(chosen(&least, &candidates), vec![2]);
    // No specialist in the code at all: everyone eligible, as without a skill.
    least.skill = Some("mortgage".into());
    candidates[0].on_duty = true;
    assert_eq!(chosen(&least, &candidates), vec![2]);
    // By region, a specialist in another county does not beat the free mediators of the case's
    // own county: the preference holds within each area before the draw widens.
    let mut spread: Vec<Candidate> = vec![unit(1, "330603"), unit(2, "330602"), unit(3, "330602")];
    spread[0].skills = vec!["credit_card".into()];
    let mut local = request(DispatchPolicy::ByRegion, "330602");
    local.level = RegionLevel::County;
    local.skill = Some("credit_card".into());
    assert_eq!(chosen(&local, &spread), vec![2]);
    spread[2].skills = vec!["credit_card".into()];
    assert_eq!(chosen(&local, &spread), vec![3], "the county's own specialist first");
    // The draw record replays the preference.
    least.skill = Some("credit_card".into());
    let chosen_keys: Vec<String> = draw(&least, &candidates).unwrap().iter().map(|&i| candidates[i].key()).collect();
    let record = DrawRecord { request: least, candidates, chosen: chosen_keys };
    assert!(record.replay().unwrap().0);
}

#[test]
fn a_qualification_is_required_whatever_the_policy() {
    // Reviewers of 金东 and 义乌; only the 义乌 one is qualified for heavy goods vehicles (h11).
    let mut candidates = vec![unit(1, "330703"), unit(2, "330782")];
    candidates[0].skills = vec!["k33".into()];
    candidates[1].skills = vec!["k33".into(), "h11".into()];
    candidates[1].load = 5.0;
    let mut req = request(DispatchPolicy::RandomBalanced, "330702001");
    req.qualification = Some("h11".into());
    // The qualified one despite the heavier load.
    assert_eq!(chosen(&req, &candidates), vec![2]);
    req.policy = DispatchPolicy::LeastLoaded;
    assert_eq!(chosen(&req, &candidates), vec![2]);
    // Nobody qualified: refused, and the reason says why.
    req.qualification = Some("k11".into());
    let err = draw(&req, &candidates).unwrap_err();
    assert_eq!(err.code(), "dispatch_no_candidate");
    assert!(err.to_string().contains("not qualified for the class"), "{err}");
    // Without the requirement the lighter one is drawn.
    req.qualification = None;
    assert_eq!(chosen(&req, &candidates), vec![1]);
}

#[test]
fn cross_county_shares_hold_and_a_full_target_spills_over() {
    // 婺城's records: 金东 two shares, 义乌 one; 兰溪 has a reviewer but no share.
    let candidates = vec![unit(1, "330703"), unit(2, "330782"), unit(3, "330781")];
    let mut req = request(DispatchPolicy::RandomBalanced, "330702001");
    req.exclude_own_county = true;
    req.shares = vec![(region("330703"), 2.0), (region("330782"), 1.0)];
    let mut counts = [0u32; 4];
    for seed in 0..3000 {
        req.seed = seed;
        counts[chosen(&req, &candidates)[0] as usize] += 1;
    }
    assert_eq!(counts[3], 0, "no share, no records while the shared counties have reviewers");
    let ratio = f64::from(counts[1]) / f64::from(counts[2]);
    assert!((1.8..2.2).contains(&ratio), "2:1 within sampling error: {counts:?}");
    // The same seed, the same draw.
    req.seed = 17;
    assert_eq!(chosen(&req, &candidates), chosen(&req, &candidates));
    // 金东's reviewer is full: its share spills over to everyone eligible (义乌 or 兰溪).
    let mut full = candidates;
    full[0].capacity = Some(0.5);
    for seed in 0..200 {
        req.seed = seed;
        assert_ne!(chosen(&req, &full), vec![1]);
    }
}
