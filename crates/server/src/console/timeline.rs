//! A case's history read aloud: each journal event of the case as a sentence in the viewer's
//! language, with the programme's names for actions, states, clocks and tiers. Values of fields
//! are never repeated here (the creation event holds unmasked parties), only their labels.

use fq_domain::case::{CaseEvent, Recipient};
use fq_domain::programme::{CaseKind, FieldDef, FieldValue, Programme};
use fq_engine::TimelineEntry;
use serde::Serialize;

use super::display::{self, Names};
use super::i18n::{Lang, fill, text};

#[derive(Debug, Serialize)]
pub(crate) struct Line {
    pub seq: u64,
    pub at: String,
    pub actor: String,
    /// The event type (`case.acted`), for the page's icon and for tests.
    pub kind: String,
    pub text: String,
    /// Bookkeeping (clocks, notifications, points) drawn smaller than what people did.
    pub minor: bool,
}

/// Punctuation between the parts of a sentence: full-width in Chinese.
pub(crate) fn sep(lang: Lang) -> &'static str {
    if lang == Lang::Zh { "；" } else { "; " }
}

pub(crate) fn colon(lang: Lang) -> &'static str {
    if lang == Lang::Zh { "：" } else { ": " }
}

fn state_name(kind: Option<&CaseKind>, code: &str) -> String {
    kind.and_then(|k| k.state(code)).map_or_else(|| code.to_owned(), |s| s.name.clone())
}

fn clock_name(kind: Option<&CaseKind>, stage: &str, lang: Lang) -> String {
    if stage == fq_domain::case::TIER_CLOCK {
        return text(lang, "tl.tier_clock");
    }
    kind.and_then(|k| k.clock(stage)).map_or_else(|| stage.to_owned(), |c| c.name.clone())
}

/// The labels of the fields named, in the kind's order of fields.
fn labels(kind: Option<&CaseKind>, codes: impl Iterator<Item = String>) -> String {
    let mut named: Vec<(usize, String)> = codes
        .map(|code| {
            let found = kind.and_then(|k| k.fields.iter().enumerate().find(|(_, f)| f.code == code));
            found.map_or((usize::MAX, code), |(idx, f)| (idx, f.label.clone()))
        })
        .collect();
    named.sort();
    named.into_iter().map(|(_, label)| label).collect::<Vec<_>>().join("、")
}

/// An action's input as it reads: catalog names, organisation names, times and amounts; `None`
/// for what a sentence does not repeat (parties, files, places).
async fn said(
    value: &FieldValue,
    def: Option<&FieldDef>,
    programme: Option<&Programme>,
    names: &mut Names<'_>,
    lang: Lang,
) -> Option<String> {
    Some(match value {
        FieldValue::Text(t) => t.clone(),
        FieldValue::Enum(code) => match (programme, def) {
            (Some(p), Some(d)) => p.enum_name(d, code).to_owned(),
            _ => code.clone(),
        },
        FieldValue::Org(id) => names.org(*id).await,
        FieldValue::DateTime(t) => display::when(*t),
        FieldValue::Date(d) => d.to_string(),
        FieldValue::Money(fen) => format!("¥{}", display::yuan(*fen)),
        FieldValue::Number(n) => n.to_string(),
        FieldValue::Bool(b) => text(lang, if *b { "form.yes" } else { "form.no" }),
        FieldValue::List(items) => {
            let mut parts = Vec::new();
            for item in items {
                if let Some(part) = Box::pin(said(item, def, programme, names, lang)).await {
                    parts.push(part);
                }
            }
            if parts.is_empty() {
                return None;
            }
            parts.join("、")
        }
        FieldValue::Party(_)
        | FieldValue::Attachment(_)
        | FieldValue::Location { .. }
        | FieldValue::Region(_)
        | FieldValue::Json(_) => return None,
    })
}

/// One event as a sentence.
async fn sentence(
    event: &CaseEvent,
    programme: Option<&Programme>,
    kind: Option<&CaseKind>,
    names: &mut Names<'_>,
    lang: Lang,
) -> String {
    match event {
        CaseEvent::Created { channel, fields, .. } => {
            let channel_key = format!("case.channel_{channel}");
            let channel = if super::i18n::has(&channel_key) { text(lang, &channel_key) } else { channel.clone() };
            fill(lang, "tl.created", &[("channel", &channel), ("fields", &labels(kind, fields.keys().cloned()))])
        }
        CaseEvent::Acted { action, from, to, inputs, .. } => {
            let action_def = kind.and_then(|k| k.action(action));
            let name = action_def.map_or_else(|| action.clone(), |a| a.name.clone());
            let mut out = if from == to {
                fill(lang, "tl.acted_same", &[("action", &name)])
            } else {
                fill(lang, "tl.acted", &[("action", &name), ("from", &state_name(kind, from)), ("to", &state_name(kind, to))])
            };
            for (code, value) in inputs {
                let def = action_def.and_then(|a| a.inputs.iter().find(|i| &i.code == code));
                let label = def.map_or_else(|| code.clone(), |i| i.label.clone());
                if let Some(said) = said(value, def, programme, names, lang).await {
                    out.push_str(&format!("{}{label}{}{said}", sep(lang), colon(lang)));
                }
            }
            out
        }
        CaseEvent::FieldsUpdated { fields } => {
            fill(lang, "tl.fields_updated", &[("fields", &labels(kind, fields.keys().cloned()))])
        }
        CaseEvent::Assigned { unit, person, draw, reason } => {
            let mut to = Vec::new();
            if let Some(unit) = unit {
                to.push(names.org(unit.0).await);
            }
            if let Some(person) = person {
                to.push(names.actor(lang, &format!("account:{person}")).await);
            }
            let key = if draw.is_some() { "tl.assigned_draw" } else { "tl.assigned" };
            let mut out = fill(lang, key, &[("to", &to.join(" / "))]);
            if let Some(reason) = reason {
                out.push_str(&format!("{}{reason}", sep(lang)));
            }
            out
        }
        CaseEvent::Returned { reason, .. } => fill(lang, "tl.returned", &[("reason", reason)]),
        CaseEvent::SubtasksOpened { units, .. } => {
            let mut list = Vec::new();
            for unit in units {
                list.push(names.org(unit.0).await);
            }
            fill(lang, "tl.subtasks_opened", &[("units", &list.join("、"))])
        }
        CaseEvent::SubtaskCompleted { unit, result, .. } => {
            fill(lang, "tl.subtask_completed", &[("unit", &names.org(unit.0).await), ("result", result)])
        }
        CaseEvent::ClockStarted { stage, due_at, .. } => {
            fill(lang, "tl.clock_started", &[("stage", &clock_name(kind, stage, lang)), ("due", &display::when(*due_at))])
        }
        CaseEvent::ClockStopped { stage, .. } => fill(lang, "tl.clock_stopped", &[("stage", &clock_name(kind, stage, lang))]),
        CaseEvent::ClocksPaused { .. } => text(lang, "tl.clocks_paused"),
        CaseEvent::ClocksResumed { .. } => text(lang, "tl.clocks_resumed"),
        CaseEvent::Supervised { level, stage, note, .. } => {
            let mut out = text(lang, &format!("tl.level_{}", level.as_str()));
            if let Some(stage) = stage {
                out.push_str(&fill(lang, "tl.supervised_stage", &[("stage", &clock_name(kind, stage, lang))]));
            }
            if let Some(note) = note {
                out.push_str(&format!("{}{note}", colon(lang)));
            }
            out
        }
        CaseEvent::TierEntered { tier, tier_code, automatic, reason, .. } => {
            let name = kind.and_then(|k| k.tiers.get(*tier)).map_or_else(|| tier_code.clone(), |t| t.name.clone());
            let mut out = fill(lang, if *automatic { "tl.tier_auto" } else { "tl.tier" }, &[("tier", &name)]);
            if let Some(reason) = reason {
                out.push_str(&format!("{}{reason}", sep(lang)));
            }
            out
        }
        CaseEvent::Reopened { reason, .. } => fill(lang, "tl.reopened", &[("reason", reason)]),
        CaseEvent::Reprioritised { from, to, .. } => {
            // Warning levels read by name (红色); other programmes' priorities by their code.
            let name = |p: &str| {
                let key = format!("warn.level_{p}");
                if super::i18n::has(&key) { text(lang, &key) } else { p.to_owned() }
            };
            fill(lang, "tl.reprioritised", &[("from", &name(from)), ("to", &name(to))])
        }
        CaseEvent::Rated { score, comment, .. } => {
            let mut out = fill(lang, "tl.rated", &[("score", &score.to_string())]);
            if let Some(comment) = comment {
                out.push_str(&format!("{}{comment}", colon(lang)));
            }
            out
        }
        CaseEvent::PointsAwarded { unit, points, .. } => {
            fill(lang, "tl.points", &[("unit", &names.org(unit.0).await), ("points", &format!("{points:+}"))])
        }
        CaseEvent::Notified { recipients, .. } => {
            let mut who = Vec::new();
            for recipient in recipients {
                who.push(match recipient {
                    Recipient::Unit { unit } => names.org(unit.0).await,
                    Recipient::Account { account } => names.actor(lang, &format!("account:{account}")).await,
                    Recipient::Role { role, .. } => {
                        programme.and_then(|p| p.roles.get(role)).map_or_else(|| role.clone(), |r| r.name.clone())
                    }
                    Recipient::Requester { .. } => text(lang, "tl.requester"),
                });
            }
            fill(lang, "tl.notified", &[("who", &who.join("、"))])
        }
        CaseEvent::Closed { .. } => text(lang, "tl.closed"),
        CaseEvent::OutcomeRecorded { outcome, .. } => {
            let name = kind.and_then(|k| k.outcome(outcome)).map_or_else(|| outcome.clone(), |o| o.name.clone());
            fill(lang, "tl.outcome", &[("outcome", &name)])
        }
        CaseEvent::OutcomeCleared { .. } => text(lang, "tl.outcome_cleared"),
        CaseEvent::Imported { source, external_id, line, .. } => {
            fill(lang, "tl.imported", &[("source", source), ("id", external_id), ("line", &line.to_string())])
        }
    }
}

/// The history of a case of `kind` in `programme`, oldest first.
pub(crate) async fn lines(
    entries: Vec<TimelineEntry>,
    programme: Option<&Programme>,
    kind: Option<&CaseKind>,
    names: &mut Names<'_>,
    lang: Lang,
) -> Vec<Line> {
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let text = match serde_json::from_value::<CaseEvent>(entry.event) {
            Ok(event) => sentence(&event, programme, kind, names, lang).await,
            Err(_) => entry.kind.clone(),
        };
        let minor = matches!(
            entry.kind.as_str(),
            "case.clock_started" | "case.clock_stopped" | "case.notified" | "case.points_awarded" | "case.tier_entered"
        );
        let actor = names.actor(lang, &entry.actor).await;
        // What was entered later reads at the time it happened, saying when it was entered.
        let (at, text) = match entry.occurred_at {
            Some(occurred) => {
                let note = fill(lang, "tl.entered_later", &[("at", &display::when(entry.recorded_at))]);
                (display::when(occurred), format!("{text}{note}"))
            }
            None => (display::when(entry.recorded_at), text),
        };
        out.push(Line { seq: entry.seq, at, actor, kind: entry.kind, text, minor });
    }
    out
}
