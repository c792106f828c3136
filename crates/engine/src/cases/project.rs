//! Turning a decision into one change: the case's events for the journal, and what they imply for
//! the projections (the case row, notifications, handler tallies). Everything here is derived
//! from the case before and after and the events, so rebuilding from the journal gives the same.

use std::collections::BTreeMap;

use fq_domain::case::{Case, CaseEvent, Recipient, SupervisionLevel, is_personal, next_timer};
use fq_domain::journal::NewEvent;
use fq_domain::programme::{FieldValue, Programme};
use fq_domain::region::RegionLevel;
use fq_store::{CaseRecord, Change, Expectation, NotificationRecord, Op, TallyDelta};

use super::numbers::CaseNumber;
use super::pools::handler_key;

/// The change that appends `events` to the case's stream, expecting it unchanged since `before`.
pub(crate) fn case_change(
    programme: &Programme,
    before: Option<&Case>,
    after: &Case,
    events: &[CaseEvent],
    actor: &str,
    number: Option<&CaseNumber>,
) -> Change {
    let stream = after.id.stream();
    let mut change =
        Change::new().expect(Expectation::StreamVersion { stream: stream.clone(), version: before.map_or(0, |b| b.version) });
    for event in events {
        let payload = serde_json::to_value(event).expect("case events serialize");
        change = change.event(NewEvent::new(stream.clone(), event.journal_kind(), actor, payload));
    }
    let title_personal = programme.kind(&after.kind).is_some_and(|k| is_personal(&k.fields, "title"));
    change = change.op(Op::PutCase(Box::new(record(after, number, title_personal))));
    let notes = notifications(after, events);
    if !notes.is_empty() {
        change = change.op(Op::InsertNotifications(notes));
    }
    let tallies = tally_deltas(before, after, events);
    if !tallies.is_empty() {
        change = change.op(Op::AdjustTallies(tallies));
    }
    change
}

/// The tally deltas a change carries (to keep the in-process tally cache current after it commits).
pub(crate) fn deltas_of(change: &Change) -> Vec<TallyDelta> {
    change.ops.iter().filter_map(|op| if let Op::AdjustTallies(d) = op { Some(d.clone()) } else { None }).flatten().collect()
}

/// The case row: the snapshot plus the columns lists and the scheduler query.
pub(crate) fn record(case: &Case, number: Option<&CaseNumber>, title_personal: bool) -> CaseRecord {
    // The title column feeds lists and exports, which never carry personal information.
    let title = match case.fields.get("title") {
        Some(FieldValue::Text(t)) if title_personal => fq_domain::case::mask_middle(t, 1, 1),
        Some(FieldValue::Text(t)) => t.clone(),
        _ => case.number.clone(),
    };
    let (series, seq) = match number {
        Some(n) => (n.series.clone(), n.seq),
        None => series_of(&case.number, &case.programme),
    };
    CaseRecord {
        id: case.id,
        number: case.number.clone(),
        number_series: series,
        number_seq: seq,
        programme: case.programme.clone(),
        kind: case.kind.clone(),
        state: case.state.clone(),
        priority: case.priority.clone(),
        region: case.region.clone(),
        unit: case.unit,
        person: case.person,
        title,
        tier: case.tier.map(|t| t as u32),
        opened_at: case.opened_at,
        closed_at: case.closed_at,
        due_at: if case.closed_at.is_some() { None } else { case.next_due() },
        next_timer_at: if case.closed_at.is_some() { None } else { next_timer(case) },
        yellow_cards: case.cards.iter().filter(|c| c.level == SupervisionLevel::Yellow).count() as u32,
        red_cards: case.cards.iter().filter(|c| c.level == SupervisionLevel::Red).count() as u32,
        rating: case.rating.as_ref().map(|r| r.score),
        version: case.version,
        snapshot: serde_json::to_string(case).expect("cases serialize"),
    }
}

/// The series and sequence of a number `<prefix><year>-<seq>` (the row already exists; the
/// series columns are not updated on replacement, so this only has to be stable).
fn series_of(number: &str, programme: &str) -> (String, u64) {
    let (head, seq) = number.rsplit_once('-').unwrap_or((number, "0"));
    let year: String = head.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    (format!("{programme}:{year}"), seq.parse().unwrap_or(0))
}

/// The stored form of a recipient. Role notices are addressed to the role in the case's county,
/// so that each county's holders of the role find theirs.
pub(crate) fn recipient_key(recipient: &Recipient) -> String {
    match recipient {
        Recipient::Unit { unit } => format!("unit:{unit}"),
        Recipient::Account { account } => format!("account:{account}"),
        Recipient::Role { role, region } => {
            let county = region.at_level(RegionLevel::County).unwrap_or_else(|| region.clone());
            format!("role:{role}@{county}")
        }
        Recipient::Requester { requester } => format!("requester:{requester}"),
    }
}

fn notifications(case: &Case, events: &[CaseEvent]) -> Vec<NotificationRecord> {
    let mut out = Vec::new();
    for event in events {
        if let CaseEvent::Notified { recipients, reason, at } = event {
            for recipient in recipients {
                out.push(NotificationRecord {
                    recipient: recipient_key(recipient),
                    case_id: case.id,
                    case_number: case.number.clone(),
                    reason: reason.clone(),
                    at: *at,
                });
            }
        }
    }
    out
}

/// What the events change in handlers' tallies. Load follows the case: taken off the handler it
/// had, put on the one it has, while it is open.
pub(crate) fn tally_deltas(before: Option<&Case>, after: &Case, events: &[CaseEvent]) -> Vec<TallyDelta> {
    let mut deltas: BTreeMap<String, TallyDelta> = BTreeMap::new();
    let keys = |case: &Case| -> Vec<String> {
        match case.unit {
            Some(unit) => {
                let mut k = vec![handler_key(unit, None)];
                if case.person.is_some() {
                    k.push(handler_key(unit, case.person));
                }
                k
            }
            None => Vec::new(),
        }
    };
    let mut add = |key: String, f: &dyn Fn(&mut TallyDelta)| f(deltas.entry(key.clone()).or_insert_with(|| TallyDelta::new(key)));
    if let Some(b) = before.filter(|b| b.closed_at.is_none()) {
        for key in keys(b) {
            add(key, &|d| {
                d.open_load -= b.load_weight;
                d.open_cases -= 1;
            });
        }
    }
    if after.closed_at.is_none() {
        for key in keys(after) {
            add(key, &|d| {
                d.open_load += after.load_weight;
                d.open_cases += 1;
            });
        }
    }
    for event in events {
        match event {
            CaseEvent::Assigned { unit: Some(unit), person, .. } => {
                add(handler_key(*unit, None), &|d| d.assigned_total += 1);
                if person.is_some() {
                    add(handler_key(*unit, *person), &|d| d.assigned_total += 1);
                }
            }
            CaseEvent::Supervised { level, unit: Some(unit), .. } => add(handler_key(*unit, None), &|d| match level {
                SupervisionLevel::Reminder => d.reminders += 1,
                SupervisionLevel::Yellow => d.yellow_cards += 1,
                SupervisionLevel::Red => d.red_cards += 1,
                SupervisionLevel::Note => {}
            }),
            CaseEvent::PointsAwarded { unit, points, .. } => add(handler_key(*unit, None), &|d| d.points += i64::from(*points)),
            CaseEvent::Returned { unit: Some(unit), person, .. } => {
                add(handler_key(*unit, None), &|d| d.returns += 1);
                if person.is_some() {
                    add(handler_key(*unit, *person), &|d| d.returns += 1);
                }
            }
            CaseEvent::Closed { .. } => {
                for key in keys(after) {
                    add(key, &|d| d.closed += 1);
                }
            }
            CaseEvent::Rated { score, .. } => {
                for key in keys(after) {
                    add(key, &|d| {
                        d.rating_sum += i64::from(*score);
                        d.rating_count += 1;
                    });
                }
            }
            _ => {}
        }
    }
    deltas.into_values().filter(|d| !d.is_zero()).collect()
}
