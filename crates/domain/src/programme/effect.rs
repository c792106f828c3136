//! Effects of actions, written in programme files as short strings: `dispatch`, `start_clock:handle`,
//! `notify:superior`, `points:-2`...

use std::fmt;

/// Who a notification goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyTarget {
    /// The person the case is assigned to.
    Assignee,
    /// The unit the case is assigned to.
    Unit,
    /// The assigned unit's parent organisation.
    Superior,
    /// Whoever submitted the case.
    Requester,
    /// Everyone holding the role over the case's region.
    Role(String),
}

/// Something an action does besides changing state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Choose a handler with the kind's dispatch policy (or the named policy).
    Dispatch {
        policy: Option<String>,
    },
    /// Hand the case to the unit in the input field `to_unit` (转办).
    Transfer,
    /// Give the case back for dispatch, with the reason in the input (退回).
    Return,
    /// Open sub-tasks for the units in the input field `units`; the first is the lead. The case
    /// waits for all of them, or for the lead only.
    CoHandle {
        wait_all: bool,
    },
    /// Close the actor's unit's open sub-task with the input `result`.
    CompleteSubtask,
    StartClock(String),
    StopClock(String),
    /// Stop and start again from now (after a reopening).
    RestartClock(String),
    Notify(NotifyTarget),
    /// Points for the assigned unit (positive or negative).
    Points(i32),
    /// Up one escalation tier.
    Escalate,
    /// Enter the first escalation tier and start its clock (a kind whose actions never do this
    /// enters it at intake).
    StartTiers,
    /// Count a reopening (failed verification).
    Reopen,
    /// Record the input `rating` (1-5) and `comment`.
    Rate,
    /// Record the input `note` as a supervision note (督办) and notify the unit and its superior.
    Supervise,
    /// Withdraw the outcome the case had reached (an agreement the court would not confirm,
    /// mediated again).
    ClearOutcome,
    /// Set the priority to the input `priority` (one of the kind's priorities) and restart the
    /// running clocks from now with that priority's limits (a warning raised to red answers
    /// within red's hours of the raise).
    Reprioritise,
}

impl Effect {
    /// Parses one effect string.
    pub fn parse(text: &str) -> Result<Effect, String> {
        let (verb, arg) = match text.split_once(':') {
            Some((verb, arg)) => (verb.trim(), Some(arg.trim())),
            None => (text.trim(), None),
        };
        let need = |what: &str| {
            arg.filter(|a| !a.is_empty()).map(str::to_owned).ok_or_else(|| format!("{verb} needs {what}, as {verb}:<{what}>"))
        };
        let none = |effect: Effect| if arg.is_some() { Err(format!("{verb} takes no argument")) } else { Ok(effect) };
        match verb {
            "dispatch" => Ok(Effect::Dispatch { policy: arg.map(str::to_owned) }),
            "transfer" => none(Effect::Transfer),
            "return" => none(Effect::Return),
            "cohandle" => match arg {
                Some("all") | None => Ok(Effect::CoHandle { wait_all: true }),
                Some("lead") => Ok(Effect::CoHandle { wait_all: false }),
                Some(other) => Err(format!("cohandle waits for all or lead, not {other:?}")),
            },
            "complete_subtask" => none(Effect::CompleteSubtask),
            "start_clock" => Ok(Effect::StartClock(need("stage")?)),
            "stop_clock" => Ok(Effect::StopClock(need("stage")?)),
            "restart_clock" => Ok(Effect::RestartClock(need("stage")?)),
            "notify" => {
                let target = need("target")?;
                Ok(Effect::Notify(match target.as_str() {
                    "assignee" => NotifyTarget::Assignee,
                    "unit" => NotifyTarget::Unit,
                    "superior" => NotifyTarget::Superior,
                    "requester" => NotifyTarget::Requester,
                    other => match other.strip_prefix("role:") {
                        Some(role) if !role.is_empty() => NotifyTarget::Role(role.to_owned()),
                        _ => {
                            return Err(format!(
                                "notify goes to assignee, unit, superior, requester or role:<role>, not {other:?}"
                            ));
                        }
                    },
                }))
            }
            "points" => {
                let amount = need("amount")?;
                amount.parse::<i32>().map(Effect::Points).map_err(|_| format!("points:{amount} is not a whole number"))
            }
            "escalate" => none(Effect::Escalate),
            "start_tiers" => none(Effect::StartTiers),
            "reopen" => none(Effect::Reopen),
            "rate" => none(Effect::Rate),
            "supervise" => none(Effect::Supervise),
            "clear_outcome" => none(Effect::ClearOutcome),
            "reprioritise" => none(Effect::Reprioritise),
            other => Err(format!(
                "unknown effect {other:?}; known: dispatch, transfer, return, cohandle, complete_subtask, start_clock, stop_clock, restart_clock, notify, points, escalate, start_tiers, reopen, rate, supervise, clear_outcome, reprioritise"
            )),
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Dispatch { policy: Some(p) } => write!(f, "dispatch:{p}"),
            Effect::Dispatch { policy: None } => f.write_str("dispatch"),
            Effect::Transfer => f.write_str("transfer"),
            Effect::Return => f.write_str("return"),
            Effect::CoHandle { wait_all } => write!(f, "cohandle:{}", if *wait_all { "all" } else { "lead" }),
            Effect::CompleteSubtask => f.write_str("complete_subtask"),
            Effect::StartClock(s) => write!(f, "start_clock:{s}"),
            Effect::StopClock(s) => write!(f, "stop_clock:{s}"),
            Effect::RestartClock(s) => write!(f, "restart_clock:{s}"),
            Effect::Notify(t) => write!(f, "notify:{t:?}"),
            Effect::Points(n) => write!(f, "points:{n}"),
            Effect::Escalate => f.write_str("escalate"),
            Effect::StartTiers => f.write_str("start_tiers"),
            Effect::Reopen => f.write_str("reopen"),
            Effect::Rate => f.write_str("rate"),
            Effect::Supervise => f.write_str("supervise"),
            Effect::ClearOutcome => f.write_str("clear_outcome"),
            Effect::Reprioritise => f.write_str("reprioritise"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effects_parse_with_their_arguments() {
        assert_eq!(Effect::parse("dispatch").unwrap(), Effect::Dispatch { policy: None });
        assert_eq!(Effect::parse("start_clock:handle").unwrap(), Effect::StartClock("handle".into()));
        assert_eq!(Effect::parse("notify:role:leader").unwrap(), Effect::Notify(NotifyTarget::Role("leader".into())));
        assert_eq!(Effect::parse("points:-2").unwrap(), Effect::Points(-2));
        assert_eq!(Effect::parse("cohandle:lead").unwrap(), Effect::CoHandle { wait_all: false });
        assert_eq!(Effect::parse("clear_outcome").unwrap(), Effect::ClearOutcome);
        for bad in ["start_clock", "notify:boss", "points:lots", "teleport", "reopen:now", "cohandle:some"] {
            assert!(Effect::parse(bad).is_err(), "{bad}");
        }
    }
}
