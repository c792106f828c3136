use std::collections::BTreeMap;

use super::*;

const DEMO: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes/demo/programme.toml"));
const DEMO_CATEGORIES: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes/demo/catalogs/dispute_category.toml"));

fn files<'a>(main: &'a str, catalog: &'a str) -> ProgrammeFiles<'a> {
    let mut files = BTreeMap::new();
    files.insert("programme.toml".to_owned(), main.as_bytes());
    files.insert("catalogs/dispute_category.toml".to_owned(), catalog.as_bytes());
    ProgrammeFiles { dir: "programmes/demo".into(), files }
}

pub(crate) fn demo() -> Programme {
    load_programme(&files(DEMO, DEMO_CATEGORIES)).expect("the demo programme loads")
}

/// The demo programme with one more action: a leader sets the dispute's priority
/// (`reprioritise`) while it is handled or suspended.
pub(crate) fn demo_with_reprioritise() -> Programme {
    let catalog = "[catalogs]\npriority_choice = { name = \"优先级\", items = [{ code = \"normal\", name = \"普通\" }, { code = \"urgent\", name = \"紧急\" }] }\n";
    let action = "[[kinds.actions]]\ncode = \"reprioritise\"\nname = \"调整优先级\"\nfrom = [\"handling\", \"suspended\"]\nroles = [\"leader\"]\ninputs = [{ code = \"priority\", type = \"enum\", label = \"优先级\", catalog = \"priority_choice\", required = true }]\neffects = [\"reprioritise\"]\n\n[[kinds.actions]]\ncode = \"suspend\"";
    let text = DEMO.replacen("[catalogs]\n", catalog, 1).replacen("[[kinds.actions]]\ncode = \"suspend\"", action, 1);
    load_programme(&files(&text, DEMO_CATEGORIES)).expect("the demo programme with reprioritise loads")
}

#[test]
fn the_demo_programme_loads_whole() {
    let demo = demo();
    assert_eq!(demo.code, "demo");
    let kind = demo.kind("dispute").unwrap();
    assert_eq!(kind.initial, "submitted");
    assert!(demo.in_catalog("dispute_category", "labour"));
    assert!(!demo.in_catalog("dispute_category", "gift"));
    assert_eq!(kind.tiers.len(), 3);
    let finish = kind.action("finish").unwrap();
    assert!(finish.guard.is_some());
    assert_eq!(
        finish.effects,
        vec![
            Effect::StopClock("handle".into()),
            Effect::StartClock("verify".into()),
            Effect::Notify(NotifyTarget::Role("verifier".into()))
        ]
    );
    // "*" expands to every non-terminal state.
    assert_eq!(kind.action("supervise").unwrap().from.len(), kind.states.iter().filter(|s| !s.terminal).count());
}

#[test]
fn the_time_limit_matrix_picks_the_most_specific_row() {
    let demo = demo();
    let handle = demo.kind("dispute").unwrap().clock("handle").unwrap();
    assert_eq!(handle.limits_for(RegionLevel::Town, "normal").limit.to_string(), "5wd");
    assert_eq!(handle.limits_for(RegionLevel::Town, "urgent").limit.to_string(), "2wd");
    assert_eq!(handle.limits_for(RegionLevel::Village, "normal").limit.to_string(), "3wd");
    assert_eq!(handle.limits_for(RegionLevel::Village, "urgent").limit.to_string(), "1wd");
}

/// Replaces the first occurrence of `from` in the demo programme and loads it.
fn broken(from: &str, to: &str) -> ProgrammeError {
    assert!(DEMO.contains(from), "the test's anchor {from:?} is not in the demo programme");
    let text = DEMO.replacen(from, to, 1);
    load_programme(&files(&text, DEMO_CATEGORIES)).expect_err("the broken programme must be refused")
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].lines().count() + 1
}

#[test]
fn broken_definitions_are_refused_with_file_line_and_reason() {
    let cases: [(&str, &str, &str); 20] = [
        ("to = \"verifying\"", "to = \"verfying\"", "to-state verfying is not defined"),
        (
            "roles = [\"verifier\"]\neffects = [\"stop_clock:verify\", \"points:2\"]",
            "roles = [\"auditor\"]\neffects = [\"stop_clock:verify\", \"points:2\"]",
            "role auditor is not declared",
        ),
        (
            "guard = \"case.outcome != 'not_resolved' || has(input.note)\"",
            "guard = \"case.outcome !=\"",
            "guard does not compile",
        ),
        ("\"start_clock:verify\"", "\"start_clock:verfy\"", "clock verfy is not defined"),
        ("limit = \"5wd\"", "limit = \"5 working days\"", "is not a time limit"),
        ("warn = \"4wd\"", "warn = \"6wd\"", "must come before the limit"),
        (
            "catalog = \"outcome\", intake = false },\n  { code = \"evidence\"",
            "catalog = \"outcomes\", intake = false },\n  { code = \"evidence\"",
            "catalog outcomes is not defined",
        ),
        ("type = \"money\"", "type = \"currency\"", "field type \"currency\""),
        (
            "policy = \"by_region\"\nlevel = \"town\"\nunit_kinds",
            "policy = \"nearest\"\nlevel = \"town\"\nunit_kinds",
            "dispatch policy \"nearest\"",
        ),
        (
            "effects = [\"cohandle:all\", \"notify:unit\"]",
            "effects = [\"cohandle:most\", \"notify:unit\"]",
            "cohandle waits for all or lead",
        ),
        (
            "{ code = \"to_unit\", type = \"org\", label = \"承办单位\", required = true }",
            "{ code = \"to_unit\", type = \"text\", label = \"承办单位\", required = true }",
            "needs a required input",
        ),
        ("on_subtasks_done = \"cohandling_done\"", "on_subtasks_done = \"accept\"", "must be a system action"),
        (
            "{ code = \"verifying\", name = \"待回访\" }",
            "{ code = \"verifying\", name = \"待回访\" },\n  { code = \"limbo\", name = \"无人可达\" }",
            "state limbo cannot be reached",
        ),
        ("number_prefix = \"YS\"", "number_prefix = \"YS/\"", "number_prefix must be"),
        (
            "effects = [\"stop_clock:accept\", \"dispatch\",",
            "effects = [\"stop_clock:accept\", \"dispatch:manual\",",
            "a manual dispatch needs a required input",
        ),
        // occurred_at must name a required datetime input of the action.
        (
            "code = \"supervise\"\nname = \"督办\"",
            "code = \"supervise\"\nname = \"督办\"\noccurred_at = \"note\"",
            "occurred_at names \"note\", which must be a required datetime input",
        ),
        (
            "code = \"supervise\"\nname = \"督办\"",
            "code = \"supervise\"\nname = \"督办\"\noccurred_at = \"when\"",
            "occurred_at names \"when\"",
        ),
        (
            "{ code = \"title\", type = \"text\", label = \"事由\", required = true, max_len = 200 }",
            "{ code = \"title\", type = \"text\", label = \"事由\", required = true, max_len = 200, intake = false }",
            "a required field must be asked at intake",
        ),
        // A public kind that lists its channels must list Open311's; channels are identifiers.
        (
            "intake_roles = [\"intake\"]\non_subtasks_done",
            "intake_roles = [\"intake\"]\nchannels = [\"station\", \"hotline\"]\non_subtasks_done",
            "a public kind that lists its channels must list open311",
        ),
        (
            "intake_roles = [\"intake\"]\non_subtasks_done",
            "intake_roles = [\"intake\"]\nchannels = [\"open311\", \"窗口\"]\non_subtasks_done",
            "must be an identifier",
        ),
    ];
    for (from, to, reason) in cases {
        let err = broken(from, to);
        assert_eq!(err.file, "programmes/demo/programme.toml", "{err}");
        assert!(err.reason.contains(reason), "expected {reason:?}, got {err}");
        let text = DEMO.replacen(from, to, 1);
        let first_changed_line = line_of(&text, to.lines().find(|l| !DEMO.contains(l)).unwrap_or(to.lines().next().unwrap()));
        assert!(err.line.abs_diff(first_changed_line) <= 3, "{err}: expected near line {first_changed_line}");
    }
}

#[test]
fn co_handling_without_its_follow_up_action_is_refused() {
    let err = broken("on_subtasks_done = \"cohandling_done\"\n", "");
    assert!(err.reason.contains("sets no on_subtasks_done action"), "{err}");
}

#[test]
fn syntax_errors_and_catalog_files_are_located() {
    let err = load_programme(&files("code = \"demo\"\nname = \n", DEMO_CATEGORIES)).unwrap_err();
    assert_eq!(err.line, 2, "{err}");
    let err = load_programme(&files(DEMO, "name = \"纠纷类别\"\n[[items]]\ncode = \"Bad Code\"\nname = \"x\"\n")).unwrap_err();
    assert_eq!((err.file.as_str(), err.line), ("programmes/demo/catalogs/dispute_category.toml", 3), "{err}");
    let mut missing = files(DEMO, DEMO_CATEGORIES);
    missing.files.remove("catalogs/dispute_category.toml");
    let err = load_programme(&missing).unwrap_err();
    assert!(err.reason.contains("is not in the programme directory"), "{err}");
}

/// The demo programme with outcomes on its dispute kind, `finish` reaching one, and `figures`.
fn with_outcomes(outcomes: &str, finish_outcome: &str, figures: &str) -> Result<Programme, ProgrammeError> {
    let text = DEMO
        .replacen("initial = \"submitted\"\n", &format!("initial = \"submitted\"\noutcomes = {outcomes}\n"), 1)
        .replacen(
            "code = \"finish\"\nname = \"办结\"\n",
            &format!("code = \"finish\"\nname = \"办结\"\noutcome = \"{finish_outcome}\"\n"),
            1,
        )
        .replacen("[kinds.dispatch]\n", &format!("[kinds.figures]\n{figures}\n\n[kinds.dispatch]\n"), 1);
    load_programme(&files(&text, DEMO_CATEGORIES))
}

const OUTCOMES: &str =
    "[{ code = \"resolved\", name = \"化解\", resolved = true, first_line = true }, { code = \"failed\", name = \"未化解\" }]";

#[test]
fn outcomes_and_figures_load_and_are_checked() {
    let p = with_outcomes(OUTCOMES, "resolved", "amount = \"amount\"\ncategory = \"category\"\nonline_channels = [\"online\"]")
        .unwrap();
    let kind = p.kind("dispute").unwrap();
    assert_eq!(kind.outcomes.len(), 2);
    assert!(kind.outcome("resolved").unwrap().first_line);
    assert_eq!(kind.action("finish").unwrap().outcome.as_deref(), Some("resolved"));
    assert_eq!(kind.figures.amount.as_deref(), Some("amount"));
    assert_eq!(kind.figures.online_channels, ["online"]);

    let err = with_outcomes(OUTCOMES, "settled", "").unwrap_err();
    assert!(err.reason.contains("outcome settled is not one of the kind's outcomes"), "{err}");
    let err = with_outcomes(OUTCOMES, "resolved", "amount = \"title\"").unwrap_err();
    assert!(err.reason.contains("figures.amount: field title is not a single amount field"), "{err}");
    let err = with_outcomes(OUTCOMES, "resolved", "performed = \"signed\"").unwrap_err();
    assert!(err.reason.contains("the kind has no field signed"), "{err}");
    let unresolved_first_line = "[{ code = \"resolved\", name = \"化解\", first_line = true }]";
    let err = with_outcomes(unresolved_first_line, "resolved", "").unwrap_err();
    assert!(err.reason.contains("must be resolved = true"), "{err}");
    let twice = "[{ code = \"resolved\", name = \"a\", resolved = true }, { code = \"resolved\", name = \"b\" }]";
    assert!(with_outcomes(twice, "resolved", "").unwrap_err().reason.contains("appears twice"));
}

#[test]
fn a_clock_runs_until_a_date_field_only() {
    let clock = "stage = \"accept\"\nname = \"受理\"\nwarn = \"4wh\"";
    assert!(DEMO.contains(clock), "the anchor");
    let until = |field: &str| {
        let text = DEMO.replacen(clock, &format!("stage = \"accept\"\nname = \"受理\"\nuntil = \"{field}\"\nwarn = \"1d\""), 1);
        load_programme(&files(&text, DEMO_CATEGORIES))
    };
    for field in ["title", "nothing"] {
        let err = until(field).unwrap_err();
        assert!(err.reason.contains("must be a date field"), "{field}: {err}");
    }
}

const INSPECTION: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes/inspection/programme.toml"));

fn inspection(text: &str) -> Result<Programme, ProgrammeError> {
    let mut files = BTreeMap::new();
    files.insert("programme.toml".to_owned(), text.as_bytes());
    load_programme(&ProgrammeFiles { dir: "programmes/inspection".into(), files })
}

#[test]
fn cross_county_ratios_and_qualifications_are_checked() {
    let shipped = inspection(INSPECTION).expect("the inspection programme loads");
    let record = shipped.kind("record").unwrap();
    assert_eq!(record.dispatch.qualification_field.as_deref(), Some("vehicle_class"));
    let with = |ratios: &str| {
        INSPECTION.replacen(
            "qualification_field = \"vehicle_class\"\n",
            &format!("qualification_field = \"vehicle_class\"\n{ratios}\n"),
            1,
        )
    };
    let ok = inspection(&with("ratios = { \"330702\" = { \"330703\" = 2, \"330782\" = 1 } }")).unwrap();
    let shares = &ok.kind("record").unwrap().dispatch.ratios;
    assert_eq!(shares[&RegionCode::parse("330702").unwrap()].len(), 2);
    for (ratios, reason) in [
        ("ratios = { \"330702\" = { \"330702\" = 1 } }", "to itself"),
        ("ratios = { \"3307\" = { \"330703\" = 1 } }", "not a county code"),
        ("ratios = { \"330702\" = { \"330703\" = 0 } }", "must be above 0"),
    ] {
        let err = inspection(&with(ratios)).unwrap_err();
        assert!(err.reason.contains(reason), "{ratios}: {err}");
    }
    let err = inspection(&INSPECTION.replacen("qualification_field = \"vehicle_class\"", "qualification_field = \"vin\"", 1))
        .unwrap_err();
    assert!(err.reason.contains("required enum field"), "{err}");
}
