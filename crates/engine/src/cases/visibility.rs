//! Who may see a case. A case is shown to:
//! - operators (the CLI) and the engine itself;
//! - accounts holding one of the programme's roles (not an assignment-only one) over the case's
//!   region, within the organisation their grant is narrowed to;
//! - members of the unit the case is assigned to, or of a unit with a co-handling sub-task on
//!   it, who hold one of the programme's roles (cross-region work);
//! - the person the case is assigned to.
//!
//! Anyone else is told the case does not exist, so that numbers cannot be probed.

use fq_domain::account::{RoleGrant, outermost};
use fq_domain::actor::Actor;
use fq_domain::case::Case;
use fq_domain::org::OrgId;
use fq_domain::programme::Programme;
use fq_domain::region::RegionCode;

pub(crate) fn may_view(actor: &Actor, programme: &Programme, case: &Case) -> bool {
    let Some(account) = actor.account() else { return true };
    if account.disabled {
        return false;
    }
    if case.person == Some(account.id) {
        return true;
    }
    let programme_role = |role: &str| programme.roles.contains_key(role);
    let broad = |role: &str| programme_role(role) && !programme.assignment_only(role);
    if account.grants.iter().any(|g| broad(g.role.as_str()) && g.scope.covers(&case.region, case.unit)) {
        return true;
    }
    let involved = case.unit == Some(account.org) || case.subtasks.iter().any(|s| s.unit == account.org);
    involved && account.grants.iter().any(|g| broad(g.role.as_str()))
}

/// What an account may list of one programme: the subtrees of its programme roles that are
/// not assignment-only, and, for grants narrowed to one organisation, the cases of that
/// organisation within the grant's subtree (the same rule as [`may_view`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListScopes {
    pub(crate) regions: Vec<RegionCode>,
    pub(crate) narrowed: Vec<(RegionCode, OrgId)>,
}

impl ListScopes {
    pub(crate) fn is_empty(&self) -> bool {
        self.regions.is_empty() && self.narrowed.is_empty()
    }

    /// The part of these scopes within `region`, or `None` when `region` is outside all of them.
    pub(crate) fn within(&self, region: &RegionCode) -> Option<ListScopes> {
        let whole = self.regions.iter().any(|r| r.contains(region));
        let narrowed: Vec<(RegionCode, OrgId)> =
            self.narrowed.iter().filter(|(r, _)| r.contains(region)).map(|(_, org)| (region.clone(), *org)).collect();
        let inside = ListScopes { regions: if whole { vec![region.clone()] } else { Vec::new() }, narrowed };
        (!inside.is_empty()).then_some(inside)
    }
}

/// The list scopes of the actor in `programme`; `None` for operators (everything).
pub(crate) fn listable_scopes(actor: &Actor, programme: &Programme) -> Option<ListScopes> {
    let account = actor.account()?;
    if account.disabled {
        return Some(ListScopes::default());
    }
    let broad = |g: &&RoleGrant| programme.roles.contains_key(g.role.as_str()) && !programme.assignment_only(g.role.as_str());
    let regions = outermost(
        account.grants.iter().filter(broad).filter(|g| g.scope.org.is_none()).map(|g| g.scope.region.clone()).collect(),
    );
    let mut narrowed: Vec<(RegionCode, OrgId)> = account
        .grants
        .iter()
        .filter(broad)
        .filter_map(|g| g.scope.org.map(|org| (g.scope.region.clone(), org)))
        .filter(|(r, _)| !regions.iter().any(|whole| whole.contains(r)))
        .collect();
    narrowed.sort();
    narrowed.dedup();
    Some(ListScopes { regions, narrowed })
}

/// True if every programme role the account holds is assignment-only: such handlers get their
/// next assigned case and can never list, search or pick.
pub(crate) fn assignment_only(actor: &Actor, programme: &Programme) -> bool {
    actor.account().is_some_and(|a| {
        let roles: Vec<&str> = a.grants.iter().map(|g| g.role.as_str()).filter(|r| programme.roles.contains_key(*r)).collect();
        !roles.is_empty() && roles.iter().all(|r| programme.assignment_only(r))
    })
}

/// True if the actor may reveal the case's personal information: operators, and accounts
/// holding a `personal_data` role of the programme that would let them see the case.
pub(crate) fn may_reveal(actor: &Actor, programme: &Programme, case: &Case) -> bool {
    let Some(account) = actor.account() else { return true };
    if account.disabled {
        return false;
    }
    let involved =
        case.unit == Some(account.org) || case.subtasks.iter().any(|s| s.unit == account.org) || case.person == Some(account.id);
    account
        .grants
        .iter()
        .any(|g| programme.personal_data(g.role.as_str()) && (involved || g.scope.covers(&case.region, case.unit)))
}
