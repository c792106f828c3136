//! Who caused a change. Every journal event names its actor.

use std::fmt;

use crate::account::{Account, AccountId};

/// The author of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The system itself: first-start loading of reference data, timers, scheduled jobs.
    System,
    /// An operator at the command line of the server machine, named by their OS user.
    Cli { os_user: String },
    /// A signed-in account (console or API token).
    Account(Box<Account>),
}

impl Actor {
    /// The stable text recorded in the journal: `system`, `cli:<user>` or `account:<uuid>`.
    pub fn journal_name(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Cli { os_user } => format!("cli:{os_user}"),
            Actor::Account(account) => format!("account:{}", account.id),
        }
    }

    /// The account behind the actor, if it is one.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Actor::Account(account) => Some(account),
            _ => None,
        }
    }

    pub fn account_id(&self) -> Option<AccountId> {
        self.account().map(|a| a.id)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Account(account) => write!(f, "{} ({})", account.login, account.id),
            other => f.write_str(&other.journal_name()),
        }
    }
}
