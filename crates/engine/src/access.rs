//! Access decisions. System and command-line actors are the operators of the machine and may do
//! anything; accounts may do what their grants cover.

use fq_domain::account::RoleCode;
use fq_domain::actor::Actor;
use fq_domain::org::OrgId;
use fq_domain::region::RegionCode;

use crate::error::EngineError;

/// True if the actor holds `role` over business of `org` in `region`.
pub(crate) fn may(actor: &Actor, role: &str, region: &RegionCode, org: Option<OrgId>) -> bool {
    match actor {
        Actor::System | Actor::Cli { .. } => true,
        Actor::Account(account) => account.may(role, region, org),
    }
}

/// Administration in `region` (for `org`, when the grant is narrowed to one organisation).
pub(crate) fn require_admin(actor: &Actor, region: &RegionCode, org: Option<OrgId>, what: &str) -> Result<(), EngineError> {
    if may(actor, RoleCode::ADMIN, region, org) {
        Ok(())
    } else {
        Err(EngineError::forbidden(format!("{what} needs the admin role over region {region}")))
    }
}

/// Reading anything in `region`: any grant whose scope covers it.
pub(crate) fn may_read(actor: &Actor, region: &RegionCode, org: Option<OrgId>) -> bool {
    match actor {
        Actor::System | Actor::Cli { .. } => true,
        Actor::Account(account) => !account.disabled && account.grants.iter().any(|g| g.scope.covers(region, org)),
    }
}

/// Operations on reference data that only the machine's operators may run.
pub(crate) fn require_operator(actor: &Actor, what: &str) -> Result<(), EngineError> {
    match actor {
        Actor::System | Actor::Cli { .. } => Ok(()),
        Actor::Account(_) => Err(EngineError::forbidden(format!("{what} is run by an operator on the server (fengqiao CLI)"))),
    }
}

/// True if the actor reads `programme`'s cases in `region`: operators; leaders over it; holders
/// of one of the programme's roles over it that is not assignment-only.
pub(crate) fn reads_programme(actor: &Actor, programme: &fq_domain::programme::Programme, region: &RegionCode) -> bool {
    match actor {
        Actor::System | Actor::Cli { .. } => true,
        Actor::Account(account) => {
            account.may(RoleCode::LEADER, region, None)
                || programme.roles.keys().any(|r| !programme.assignment_only(r) && account.may(r, region, None))
        }
    }
}
