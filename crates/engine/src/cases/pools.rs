//! Loading what a decision needs from the store before it is made: the candidates of each draw
//! it may make (with their loads and profiles), and the facts of the organisations it may touch.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use fq_domain::case::{CandidatePool, OrgFacts};
use fq_domain::dispatch::Candidate;
use fq_domain::org::{OrgId, Organisation};
use fq_domain::programme::{DispatchDef, DispatchTarget};
use fq_domain::region::{RegionCode, RegionLevel};
use fq_store::{HandlerProfile, Store};

use super::cache::Caches;

use crate::error::EngineError;

fn facts(org: &Organisation) -> OrgFacts {
    OrgFacts { id: org.id, region: org.region.clone(), kind: org.kind, parent: org.parent }
}

/// Candidates for every definition in `defs`, for a case located in `region`. Units are looked
/// for in the case's province; people are the enabled holders of the definition's role.
pub(crate) async fn load_pools(
    store: &dyn Store,
    caches: &Caches,
    defs: Vec<DispatchDef>,
    region: &RegionCode,
    orgs: &mut BTreeMap<OrgId, OrgFacts>,
) -> Result<Vec<CandidatePool>, EngineError> {
    let mut pools = Vec::new();
    let mut province_orgs: Option<Arc<Vec<Organisation>>> = None;
    for def in defs {
        let mut raw: Vec<(Organisation, Option<fq_domain::account::AccountId>)> = Vec::new();
        match def.target {
            DispatchTarget::Unit => {
                if province_orgs.is_none() {
                    let province = region.at_level(RegionLevel::Province).unwrap_or_else(|| region.clone());
                    let list = match caches.province(&province) {
                        Some(list) => list,
                        None => {
                            let list = Arc::new(store.organisations_within(&province).await?);
                            caches.put_province(province, Arc::clone(&list));
                            list
                        }
                    };
                    province_orgs = Some(list);
                }
                for org in province_orgs.iter().flat_map(|list| list.iter()) {
                    if def.unit_kinds.is_empty() || def.unit_kinds.contains(&org.kind) {
                        raw.push((org.clone(), None));
                    }
                }
            }
            DispatchTarget::Person => {
                let role = def.role.as_ref().map(|r| r.as_str().to_owned()).unwrap_or_default();
                let mut by_org: BTreeMap<OrgId, Option<Organisation>> = BTreeMap::new();
                for account in store.accounts_with_role(&role).await? {
                    if let std::collections::btree_map::Entry::Vacant(slot) = by_org.entry(account.org) {
                        slot.insert(organisation(store, caches, account.org).await?);
                    }
                    if let Some(Some(org)) = by_org.get(&account.org)
                        && (def.unit_kinds.is_empty() || def.unit_kinds.contains(&org.kind))
                    {
                        raw.push((org.clone(), Some(account.id)));
                    }
                }
            }
        }
        for (org, _) in &raw {
            orgs.entry(org.id).or_insert_with(|| facts(org));
        }
        let keys: Vec<String> = raw.iter().map(|(org, person)| handler_key(org.id, *person)).collect();
        let (mut tallies, stale) = caches.tallies(&keys);
        if !stale.is_empty() {
            let read = store.handler_tallies(&stale).await?;
            caches.put_tallies(&stale, &read);
            tallies.extend(read.into_iter().map(|t| (t.handler.clone(), t)));
        }
        let (mut profiles, stale) = caches.profiles(&keys);
        if !stale.is_empty() {
            let read = store.handler_profiles(&stale).await?;
            caches.put_profiles(&stale, &read);
            for key in stale {
                let profile = read.iter().find(|p| p.handler == key).cloned();
                profiles.insert(key, profile);
            }
        }
        let candidates = raw
            .into_iter()
            .zip(keys)
            .map(|((org, person), key)| {
                let tally = tallies.get(&key);
                let profile = profiles.get(&key).cloned().flatten().unwrap_or_else(|| HandlerProfile::default_for(key.clone()));
                Candidate {
                    unit: org.id,
                    person,
                    region: org.region,
                    unit_kind: org.kind,
                    load: tally.map_or(0.0, |t| t.open_load),
                    capacity: profile.capacity,
                    on_duty: profile.on_duty,
                    qualified: profile.qualified,
                    skills: profile.skills,
                    conflicts: profile.conflicts,
                    assigned_total: tally.map_or(0, |t| t.assigned_total.max(0) as u64),
                }
            })
            .collect();
        pools.push(CandidatePool { def, candidates });
    }
    Ok(pools)
}

/// Facts of the organisations named by `ids` that exist (unknown ones are left out: the
/// decision names them in its error).
pub(crate) async fn load_orgs(
    store: &dyn Store,
    caches: &Caches,
    ids: impl IntoIterator<Item = OrgId>,
    orgs: &mut BTreeMap<OrgId, OrgFacts>,
) -> Result<(), EngineError> {
    let wanted: BTreeSet<OrgId> = ids.into_iter().filter(|id| !orgs.contains_key(id)).collect();
    for id in wanted {
        if let Some(org) = organisation(store, caches, id).await? {
            orgs.insert(id, facts(&org));
        }
    }
    Ok(())
}

/// One organisation, from the cache (organisations are never edited) or the store.
async fn organisation(store: &dyn Store, caches: &Caches, id: OrgId) -> Result<Option<Organisation>, EngineError> {
    if let Some(org) = caches.org(id) {
        return Ok(Some(org));
    }
    let org = store.organisation(id).await?;
    if let Some(org) = &org {
        caches.put_org(org.clone());
    }
    Ok(org)
}

/// The tally and profile key of a handler: the unit, or `unit/person`.
pub(crate) fn handler_key(unit: OrgId, person: Option<fq_domain::account::AccountId>) -> String {
    match person {
        Some(p) => format!("{unit}/{p}"),
        None => unit.to_string(),
    }
}
