//! Organisations: creating and reading them.

use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_domain::org::{OrgError, OrgId, OrgKind, Organisation, clean_name};
use fq_domain::region::RegionCode;
use fq_store::{Change, Op};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::Engine;
use crate::access::{may_read, require_admin};
use crate::error::EngineError;

/// A request to create an organisation, as it arrives from a form, the API or the CLI.
#[derive(Debug, Clone, Deserialize)]
pub struct NewOrganisation {
    pub name: String,
    pub kind: String,
    pub region: String,
    #[serde(default)]
    pub parent: Option<Uuid>,
}

impl Engine {
    /// Creates an organisation. Needs the admin role over its region (or over its parent
    /// organisation, for an organisation-scoped administrator).
    pub async fn create_organisation(&self, actor: &Actor, request: NewOrganisation) -> Result<(Organisation, u64), EngineError> {
        self.create_organisation_as(actor, request, false).await
    }

    pub(crate) async fn create_organisation_as(
        &self,
        actor: &Actor,
        request: NewOrganisation,
        demo: bool,
    ) -> Result<(Organisation, u64), EngineError> {
        let name = clean_name(&request.name, 100).ok_or_else(|| EngineError::invalid(&OrgError::Name))?;
        let kind =
            OrgKind::parse(request.kind.trim()).ok_or_else(|| EngineError::invalid(&OrgError::Kind(request.kind.clone())))?;
        let region = RegionCode::parse(request.region.trim())
            .map_err(|e| EngineError::field("region_code_invalid", "region", e.to_string()))?;
        let parent = request.parent.map(OrgId);
        require_admin(actor, &region, parent, "creating an organisation")?;
        self.active_region(&region, "region").await?;
        if let Some(parent_id) = parent {
            let unknown = || EngineError::field("parent_unknown", "parent", format!("organisation {parent_id} does not exist"));
            let parent_org = self.store.organisation(parent_id).await?.ok_or_else(unknown)?;
            // A parent outside the actor's sight is reported like a missing one.
            if !may_read(actor, &parent_org.region, Some(parent_org.id)) {
                return Err(unknown());
            }
            if !parent_org.region.contains(&region) {
                return Err(EngineError::field(
                    "parent_outside_region",
                    "parent",
                    format!(
                        "parent organisation {} is in region {}, which does not contain {region}",
                        parent_org.name, parent_org.region
                    ),
                ));
            }
        }
        let org = Organisation { id: OrgId(Uuid::now_v7()), name, kind, region, parent, demo };
        let change = Change::new().op(Op::InsertOrganisation(org.clone())).event(NewEvent::new(
            format!("organisation:{}", org.id),
            "organisation.created",
            actor.journal_name(),
            json!(org),
        ));
        let committed = self.store.commit(change).await?;
        self.caches.organisations_changed();
        Ok((org, committed.last_seq))
    }

    /// One organisation, if the actor may see it.
    pub async fn organisation(&self, actor: &Actor, id: OrgId) -> Result<Organisation, EngineError> {
        let not_found = || EngineError::NotFound { entity: "organisation", key: id.to_string() };
        let org = self.store.organisation(id).await?.ok_or_else(not_found)?;
        // An organisation outside the actor's scope is reported as missing, so that its
        // existence does not leak.
        if !may_read(actor, &org.region, Some(org.id)) {
            return Err(not_found());
        }
        Ok(org)
    }

    /// Organisations within `region` that the actor may see.
    pub async fn organisations_within(&self, actor: &Actor, region: &RegionCode) -> Result<Vec<Organisation>, EngineError> {
        let all = self.store.organisations_within(region).await?;
        Ok(all.into_iter().filter(|org| may_read(actor, &org.region, Some(org.id))).collect())
    }
}
