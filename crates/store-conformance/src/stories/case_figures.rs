//! Stories of the console's case lists and figures: more filters, three orders, paging by key and
//! by offset, counts, KPIs (whole and per county) and the daily trend in Beijing time.

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use fq_store::{CaseFilter, CaseKpis, CaseRecord, CaseSort, Change, Op};

use crate::Harness;
use crate::fixtures::{at, case, case_change, code};

fn filter(regions: &[&str]) -> CaseFilter {
    CaseFilter { regions: regions.iter().map(|r| code(r)).collect(), limit: 100, ..CaseFilter::default() }
}

/// "GOV-2025-00000n" for each n.
fn gov(seqs: &[u64]) -> Vec<String> {
    seqs.iter().map(|n| format!("GOV-2025-{n:06}")).collect()
}

/// The list `f` gives, checked against `count_cases`, which must ignore the order, `before`,
/// `offset` and `limit`.
async fn listed(h: &dyn Harness, f: &CaseFilter) -> Vec<String> {
    let store = h.store();
    let list: Vec<String> = store.cases(f).await.unwrap().into_iter().map(|c| c.number).collect();
    let whole = CaseFilter { sort: CaseSort::NumberDesc, before: None, offset: 0, limit: 100, ..f.clone() };
    let all = store.cases(&whole).await.unwrap();
    let count = store.count_cases(f).await.unwrap();
    assert_eq!(count, all.len() as u64, "count_cases of {f:?}");
    let paged = CaseFilter { sort: CaseSort::DueAsc, before: Some("GOV-2025-000002".into()), offset: 3, limit: 1, ..f.clone() };
    assert_eq!(store.count_cases(&paged).await.unwrap(), count, "count_cases ignores sort, before, offset and limit");
    list
}

pub async fn case_lists_filter_sort_and_count(h: &dyn Harness) {
    let store = h.store();
    // seq, kind, opened, due, closed, yellow, red, title
    type Plan = (u64, &'static str, i64, Option<i64>, Option<i64>, u32, u32, &'static str);
    let plan: [Plan; 7] = [
        (1, "dispute", 100, Some(1_000), None, 0, 0, "邻里纠纷 100%满意"),
        (2, "complaint", 200, Some(500), None, 1, 0, "噪音_投诉"),
        (3, "dispute", 300, None, None, 0, 0, "Road repair"),
        (4, "dispute", 300, Some(500), None, 0, 1, r"road\path"),
        (5, "complaint", 400, Some(100), Some(450), 1, 0, "ROAD works"),
        (6, "dispute", 500, Some(2_000), None, 0, 0, "普通"),
        (7, "dispute", 600, None, None, 0, 0, "其他"),
    ];
    // Stored out of order: no order may come from the order of insertion.
    for at_index in [5, 3, 1, 4, 6, 2, 0] {
        let (seq, kind, opened, due, closed, yellow, red, title) = plan[at_index];
        let mut c = case("gov", 2025, seq, "331004001");
        c.kind = kind.into();
        c.opened_at = at(opened);
        c.due_at = due.map(at);
        c.closed_at = closed.map(at);
        c.yellow_cards = yellow;
        c.red_cards = red;
        c.title = title.into();
        store.commit(case_change(&c)).await.unwrap();
    }
    // Elsewhere, matching almost everything below: regions still apply.
    let mut xiamen = case("gov", 2025, 8, "3502");
    xiamen.kind = "complaint".into();
    xiamen.due_at = Some(at(1));
    xiamen.yellow_cards = 3;
    xiamen.title = "road % _".into();
    store.commit(case_change(&xiamen)).await.unwrap();

    let all = filter(&["33"]);
    assert_eq!(listed(h, &all).await, gov(&[7, 6, 5, 4, 3, 2, 1]));
    assert_eq!(listed(h, &CaseFilter { all_regions: true, ..filter(&[]) }).await, gov(&[8, 7, 6, 5, 4, 3, 2, 1]));
    assert_eq!(store.count_cases(&filter(&[])).await.unwrap(), 0, "no regions: nothing");

    // Kind.
    assert_eq!(listed(h, &CaseFilter { kind: Some("complaint".into()), ..all.clone() }).await, gov(&[5, 2]));
    assert!(listed(h, &CaseFilter { kind: Some("nothing".into()), ..all.clone() }).await.is_empty());

    // Overdue: open, with a deadline strictly before the instant (the closed case 5 never is).
    assert_eq!(listed(h, &CaseFilter { due_before: Some(at(600)), ..all.clone() }).await, gov(&[4, 2]));
    assert!(
        listed(h, &CaseFilter { due_before: Some(at(500)), ..all.clone() }).await.is_empty(),
        "a deadline at t is not before t"
    );
    assert_eq!(listed(h, &CaseFilter { due_before: Some(at(1_001)), ..all.clone() }).await, gov(&[4, 2, 1]));
    assert_eq!(listed(h, &CaseFilter { due_before: Some(at(1_000_000)), ..all.clone() }).await, gov(&[6, 4, 2, 1]));

    // Carded: a yellow or a red card, open or closed.
    assert_eq!(listed(h, &CaseFilter { carded: true, ..all.clone() }).await, gov(&[5, 4, 2]));

    // Opening period: from inclusive, to exclusive.
    assert_eq!(listed(h, &CaseFilter { opened_from: Some(at(300)), ..all.clone() }).await, gov(&[7, 6, 5, 4, 3]));
    assert_eq!(listed(h, &CaseFilter { opened_to: Some(at(300)), ..all.clone() }).await, gov(&[2, 1]));
    assert_eq!(
        listed(h, &CaseFilter { opened_from: Some(at(200)), opened_to: Some(at(400)), ..all.clone() }).await,
        gov(&[4, 3, 2])
    );
    let micro = TimeDelta::microseconds(1);
    assert_eq!(
        listed(h, &CaseFilter { opened_from: Some(at(300) - micro), opened_to: Some(at(300) + micro), ..all.clone() }).await,
        gov(&[4, 3])
    );

    // Text: the whole number, or a piece of the title taken literally and case-sensitively.
    let text = |t: &str| CaseFilter { text: Some(t.into()), ..all.clone() };
    assert_eq!(listed(h, &text("GOV-2025-000003")).await, gov(&[3]));
    assert!(listed(h, &text("GOV-2025")).await.is_empty(), "a piece of a number is not a number");
    assert_eq!(listed(h, &text("纠纷")).await, gov(&[1]));
    assert_eq!(listed(h, &text("%")).await, gov(&[1]), "% is no wildcard");
    assert_eq!(listed(h, &text("_")).await, gov(&[2]), "_ is no wildcard");
    assert_eq!(listed(h, &text(r"\")).await, gov(&[4]), "the escape character is itself");
    assert_eq!(listed(h, &text(r"d\p")).await, gov(&[4]));
    assert_eq!(listed(h, &text("road")).await, gov(&[4]));
    assert_eq!(listed(h, &text("Road")).await, gov(&[3]));
    assert_eq!(listed(h, &text("ROAD")).await, gov(&[5]));
    assert!(listed(h, &text("100_")).await.is_empty());
    assert!(listed(h, &text("路")).await.is_empty());

    // Conditions combine.
    assert_eq!(
        listed(h, &CaseFilter { kind: Some("dispute".into()), open_only: true, carded: true, ..all.clone() }).await,
        gov(&[4])
    );
    assert_eq!(
        listed(h, &CaseFilter { open_only: true, opened_from: Some(at(200)), text: Some("o".into()), ..all.clone() }).await,
        gov(&[4, 3])
    );

    // Orders. Opening: ties by number, ascending.
    let opened = CaseFilter { sort: CaseSort::OpenedAsc, ..all.clone() };
    assert_eq!(listed(h, &opened).await, gov(&[1, 2, 3, 4, 5, 6, 7]));
    // Deadline: earliest first, ties newest number first, cases without one last (newest first).
    let due = CaseFilter { sort: CaseSort::DueAsc, ..all.clone() };
    assert_eq!(listed(h, &due).await, gov(&[5, 4, 2, 1, 6, 7, 3]));
    assert_eq!(listed(h, &CaseFilter { open_only: true, ..due.clone() }).await, gov(&[4, 2, 1, 6, 7, 3]));
    assert_eq!(listed(h, &CaseFilter { due_before: Some(at(1_500)), ..due.clone() }).await, gov(&[4, 2, 1]));

    // Pages by offset, in every order.
    let page = |f: &CaseFilter, offset: u32, limit: u32| CaseFilter { offset, limit, ..f.clone() };
    assert_eq!(listed(h, &page(&due, 0, 3)).await, gov(&[5, 4, 2]));
    assert_eq!(listed(h, &page(&due, 3, 3)).await, gov(&[1, 6, 7]));
    assert_eq!(listed(h, &page(&due, 6, 3)).await, gov(&[3]));
    assert!(listed(h, &page(&due, 7, 3)).await.is_empty());
    assert_eq!(listed(h, &page(&opened, 2, 2)).await, gov(&[3, 4]));
    assert_eq!(listed(h, &page(&opened, 5, 10)).await, gov(&[6, 7]));
    assert_eq!(listed(h, &page(&all, 2, 2)).await, gov(&[5, 4]));
    assert!(listed(h, &page(&all, 0, 0)).await.is_empty());
    // A key, then an offset after it.
    let keyed = CaseFilter { before: Some("GOV-2025-000006".into()), ..all.clone() };
    assert_eq!(listed(h, &keyed).await, gov(&[5, 4, 3, 2, 1]));
    assert_eq!(listed(h, &page(&keyed, 1, 2)).await, gov(&[4, 3]));
    assert_eq!(listed(h, &page(&keyed, 4, 2)).await, gov(&[1]));

    // Summaries carry the cards.
    let four = store.cases(&CaseFilter { text: Some("GOV-2025-000004".into()), ..all.clone() }).await.unwrap();
    assert_eq!((four[0].yellow_cards, four[0].red_cards, four[0].due_at), (0, 1, Some(at(500))));
    let two = store.cases(&CaseFilter { text: Some("GOV-2025-000002".into()), ..all.clone() }).await.unwrap();
    assert_eq!((two[0].yellow_cards, two[0].red_cards), (1, 0));
}

/// A case of the figures story.
fn figured(seq: u64, region: &str, due: Option<i64>, closed: Option<i64>, cards: (u32, u32), rating: Option<u8>) -> CaseRecord {
    let mut c = case("gov", 2025, seq, region);
    c.due_at = due.map(at);
    c.closed_at = closed.map(at);
    (c.yellow_cards, c.red_cards) = cards;
    c.rating = rating;
    c
}

pub async fn case_kpis_whole_and_per_county(h: &dyn Harness) {
    let store = h.store();
    let cases = [
        // Open, not yet due.
        figured(1, "331004", Some(20_000), None, (0, 0), None),
        // Open, overdue at 10,000.
        figured(2, "331004", Some(5_000), None, (1, 0), None),
        // Open, no deadline.
        figured(3, "331002", None, None, (0, 0), None),
        // Open, due exactly at 10,000: not overdue.
        figured(4, "3310", Some(10_000), None, (0, 0), None),
        // Closed on time, rated.
        figured(5, "331004", None, Some(3_000), (0, 0), Some(5)),
        // Closed late (yellow), rated.
        figured(6, "331004", None, Some(4_000), (1, 0), Some(3)),
        // Closed late (red).
        figured(7, "331002001", None, Some(4_500), (0, 2), None),
        // Closed on time, past deadline: not overdue.
        figured(8, "331004001001", Some(1), Some(6_000), (0, 0), Some(4)),
        // Elsewhere: open, overdue, red.
        figured(9, "350203", Some(1), None, (0, 1), None),
    ];
    for c in &cases {
        store.commit(case_change(c)).await.unwrap();
    }
    let now = at(10_000);
    let zhejiang = filter(&["33"]);
    let expected = CaseKpis {
        opened: 8,
        open: 4,
        closed: 4,
        overdue_open: 1,
        closed_on_time: 2,
        yellow_cards: 2,
        red_cards: 2,
        rated: 3,
        rating_sum: 12,
    };
    assert_eq!(store.case_kpis(&zhejiang, now).await.unwrap(), expected);
    // Later, more open cases are overdue (4's deadline has passed too); nothing else moves.
    assert_eq!(store.case_kpis(&zhejiang, at(30_000)).await.unwrap(), CaseKpis { overdue_open: 3, ..expected });
    assert_eq!(store.case_kpis(&zhejiang, at(1)).await.unwrap(), CaseKpis { overdue_open: 0, ..expected });
    // Sort, key, offset and limit are ignored.
    let paged =
        CaseFilter { sort: CaseSort::DueAsc, before: Some("GOV-2025-000002".into()), offset: 5, limit: 1, ..zhejiang.clone() };
    assert_eq!(store.case_kpis(&paged, now).await.unwrap(), expected);
    // The filter applies.
    let everywhere = CaseFilter { all_regions: true, ..filter(&[]) };
    assert_eq!(
        store.case_kpis(&everywhere, now).await.unwrap(),
        CaseKpis { opened: 9, open: 5, overdue_open: 2, red_cards: 3, ..expected }
    );
    assert_eq!(
        store.case_kpis(&CaseFilter { open_only: true, ..zhejiang.clone() }, now).await.unwrap(),
        CaseKpis { opened: 4, open: 4, overdue_open: 1, yellow_cards: 1, ..CaseKpis::default() }
    );
    assert_eq!(
        store.case_kpis(&CaseFilter { carded: true, ..zhejiang.clone() }, now).await.unwrap(),
        CaseKpis {
            opened: 3,
            open: 1,
            closed: 2,
            overdue_open: 1,
            yellow_cards: 2,
            red_cards: 2,
            rated: 1,
            rating_sum: 3,
            ..CaseKpis::default()
        }
    );
    assert_eq!(
        store.case_kpis(&CaseFilter { opened_from: Some(at(5)), opened_to: Some(at(7)), ..zhejiang.clone() }, now).await.unwrap(),
        CaseKpis { opened: 2, closed: 2, closed_on_time: 1, yellow_cards: 1, rated: 2, rating_sum: 8, ..CaseKpis::default() }
    );
    // Nothing matching: all zero.
    assert_eq!(store.case_kpis(&filter(&[]), now).await.unwrap(), CaseKpis::default());
    assert_eq!(
        store.case_kpis(&CaseFilter { kind: Some("none".into()), ..zhejiang.clone() }, now).await.unwrap(),
        CaseKpis::default()
    );

    // Per county: the first six digits; the city-level case 4 belongs to none; sorted by code.
    let jiaojiang = CaseKpis { opened: 2, open: 1, closed: 1, red_cards: 2, ..CaseKpis::default() };
    let luqiao = CaseKpis {
        opened: 5,
        open: 2,
        closed: 3,
        overdue_open: 1,
        closed_on_time: 2,
        yellow_cards: 2,
        rated: 3,
        rating_sum: 12,
        ..CaseKpis::default()
    };
    assert_eq!(store.case_kpis_by_county(&zhejiang, now).await.unwrap(), [(code("331002"), jiaojiang), (code("331004"), luqiao)]);
    let siming = CaseKpis { opened: 1, open: 1, overdue_open: 1, red_cards: 1, ..CaseKpis::default() };
    assert_eq!(
        store.case_kpis_by_county(&everywhere, now).await.unwrap(),
        [(code("331002"), jiaojiang), (code("331004"), luqiao), (code("350203"), siming)]
    );
    assert_eq!(
        store.case_kpis_by_county(&CaseFilter { all_regions: true, ..paged.clone() }, now).await.unwrap(),
        [(code("331002"), jiaojiang), (code("331004"), luqiao), (code("350203"), siming)],
        "paging is ignored"
    );
    assert_eq!(
        store.case_kpis_by_county(&filter(&["331004001"]), now).await.unwrap(),
        [(code("331004"), CaseKpis { opened: 1, closed: 1, closed_on_time: 1, rated: 1, rating_sum: 4, ..CaseKpis::default() })]
    );
    assert!(store.case_kpis_by_county(&filter(&["3310"]), at(0)).await.unwrap().iter().all(|(c, _)| c.as_str().len() == 6));
    assert!(store.case_kpis_by_county(&filter(&[]), now).await.unwrap().is_empty());
    assert!(store.case_kpis_by_county(&CaseFilter { carded: true, ..filter(&["331004001"]) }, now).await.unwrap().is_empty());
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).single().expect("fixture time")
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).expect("fixture day")
}

pub async fn case_trend_by_beijing_day(h: &dyn Harness) {
    let store = h.store();
    let last_micro = TimeDelta::microseconds(999_999);
    // seq, region, opened, closed
    type Plan = (u64, &'static str, DateTime<Utc>, Option<DateTime<Utc>>);
    let plan: [Plan; 8] = [
        // Opened before the period (Beijing 28 Feb 23:59:59), closed inside it (Beijing 2 Mar 00:00).
        (1, "331004", utc(2025, 2, 28, 15, 59, 59), Some(utc(2025, 3, 1, 16, 0, 0))),
        // Opened at the very start (Beijing 1 Mar 00:00): inside.
        (2, "331004", utc(2025, 2, 28, 16, 0, 0), None),
        // The last microsecond of Beijing 1 Mar; closed on Beijing 3 Mar.
        (3, "331002", utc(2025, 3, 1, 15, 59, 59) + last_micro, Some(utc(2025, 3, 3, 15, 59, 59))),
        // The first instant of Beijing 2 Mar.
        (4, "331004", utc(2025, 3, 1, 16, 0, 0), None),
        // Opened at the end of the period: outside.
        (5, "331004", utc(2025, 3, 5, 16, 0, 0), None),
        // Opened on Beijing 2 Mar, closed at the end of the period: only its opening counts.
        (6, "331004", utc(2025, 3, 2, 10, 0, 0), Some(utc(2025, 3, 5, 16, 0, 0))),
        // Elsewhere.
        (7, "3502", utc(2025, 3, 2, 1, 0, 0), Some(utc(2025, 3, 2, 2, 0, 0))),
        // Beijing 5 Mar (nothing happens on the 4th).
        (8, "331004", utc(2025, 3, 5, 15, 59, 59) + last_micro, None),
    ];
    for (seq, region, opened, closed) in plan {
        let mut c = case("gov", 2025, seq, region);
        c.opened_at = opened;
        c.closed_at = closed;
        store.commit(case_change(&c)).await.unwrap();
    }
    // Beijing 1 Mar 00:00 to Beijing 6 Mar 00:00.
    let (from, to) = (utc(2025, 2, 28, 16, 0, 0), utc(2025, 3, 5, 16, 0, 0));
    let point = |d: u32, opened: u64, closed: u64| fq_store::TrendPoint { day: day(d), opened, closed };
    let zhejiang = filter(&["33"]);
    assert_eq!(
        store.case_trend(&zhejiang, from, to).await.unwrap(),
        [point(1, 2, 0), point(2, 2, 1), point(3, 0, 1), point(5, 1, 0)]
    );
    let everywhere = CaseFilter { all_regions: true, ..filter(&[]) };
    assert_eq!(
        store.case_trend(&everywhere, from, to).await.unwrap(),
        [point(1, 2, 0), point(2, 3, 2), point(3, 0, 1), point(5, 1, 0)]
    );
    // The filter's own opening period decides which cases count: 1 and 2 are out, with 1's closing.
    let recent = CaseFilter { opened_from: Some(utc(2025, 3, 1, 0, 0, 0)), ..zhejiang.clone() };
    assert_eq!(
        store.case_trend(&recent, from, to).await.unwrap(),
        [point(1, 1, 0), point(2, 2, 0), point(3, 0, 1), point(5, 1, 0)]
    );
    // Other conditions too; and paging is ignored.
    assert_eq!(
        store.case_trend(&CaseFilter { open_only: true, limit: 1, offset: 2, ..zhejiang.clone() }, from, to).await.unwrap(),
        [point(1, 1, 0), point(2, 1, 0), point(5, 1, 0)]
    );
    // One Beijing day: [16:00Z, 16:00Z).
    assert_eq!(
        store.case_trend(&zhejiang, utc(2025, 3, 1, 16, 0, 0), utc(2025, 3, 2, 16, 0, 0)).await.unwrap(),
        [point(2, 2, 1)]
    );
    // A period ending a microsecond after the last one of Beijing 1 Mar.
    assert_eq!(
        store.case_trend(&zhejiang, from, utc(2025, 3, 1, 16, 0, 0)).await.unwrap(),
        [point(1, 2, 0)],
        "15:59:59.999999Z is still the 1st in Beijing"
    );
    assert!(store.case_trend(&zhejiang, to, to).await.unwrap().is_empty());
    assert!(store.case_trend(&filter(&[]), from, to).await.unwrap().is_empty());
    assert!(store.case_trend(&filter(&["3502"]), from, from + TimeDelta::hours(9)).await.unwrap().is_empty());

    // A case whose cards or rating change is still one row (figures read the latest).
    let mut again = case("gov", 2025, 9, "331004");
    again.opened_at = utc(2025, 3, 3, 1, 0, 0);
    store.commit(case_change(&again)).await.unwrap();
    again.yellow_cards = 1;
    again.version = 2;
    store.commit(Change::new().op(Op::PutCase(Box::new(again.clone())))).await.unwrap();
    assert_eq!(
        store.case_trend(&zhejiang, from, to).await.unwrap(),
        [point(1, 2, 0), point(2, 2, 1), point(3, 1, 1), point(5, 1, 0)]
    );
    assert_eq!(store.case_kpis(&CaseFilter { carded: true, ..zhejiang }, to).await.unwrap().yellow_cards, 1);
}
