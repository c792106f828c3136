//! One module per subcommand.

pub mod account;
pub mod audit;
pub mod backup;
pub mod case;
pub mod dispatch;
pub mod import;
pub mod inspection;
pub mod migrate;
pub mod org;
pub mod programmes;
pub mod risk;
pub mod risk_nightly;
pub mod serve;
pub mod simulate;

use fq_domain::actor::Actor;

/// The actor recorded for changes made at the command line: the operating-system user.
pub fn cli_actor() -> Actor {
    let os_user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    Actor::Cli { os_user }
}
