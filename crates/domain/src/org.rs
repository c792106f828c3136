//! Organisations (单位): the departments, stations, courts, mediation committees, centres and
//! cooperating units that handle cases, each attached to a region.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Coded;
use crate::region::RegionCode;

/// An organisation's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgId(pub Uuid);

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of unit an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 职能部门: a government department (judicial bureau, market regulation, human resources...).
    Department,
    /// 站所/服务站: a station (consumer-protection service station, inspection station, police station).
    Station,
    /// 法院/法庭/共享法庭: a court, a tribunal or a shared court point.
    Court,
    /// 人民调解委员会/行业调解组织: a mediation committee or industry mediation organisation.
    MediationCommittee,
    /// 中心: a governance, mediation or service centre (社会治理中心, 矛调中心, 公职律师服务中心).
    Centre,
    /// 协作单位: a cooperating unit that answers orders (registry, bank, customs, vehicle office).
    CooperatingUnit,
}

impl OrgKind {
    pub const ALL: [OrgKind; 6] = [
        OrgKind::Department,
        OrgKind::Station,
        OrgKind::Court,
        OrgKind::MediationCommittee,
        OrgKind::Centre,
        OrgKind::CooperatingUnit,
    ];

    /// The stable identifier used in storage, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Department => "department",
            OrgKind::Station => "station",
            OrgKind::Court => "court",
            OrgKind::MediationCommittee => "mediation_committee",
            OrgKind::Centre => "centre",
            OrgKind::CooperatingUnit => "cooperating_unit",
        }
    }

    pub fn parse(text: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The kind's name in Simplified Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            OrgKind::Department => "职能部门",
            OrgKind::Station => "站所",
            OrgKind::Court => "法院（法庭）",
            OrgKind::MediationCommittee => "调解组织",
            OrgKind::Centre => "中心",
            OrgKind::CooperatingUnit => "协作单位",
        }
    }
}

/// One organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub region: RegionCode,
    /// The organisation it reports to, if any (a station under its department, a committee under
    /// its centre). Supervision notices go up this line.
    pub parent: Option<OrgId>,
    /// Created by the demo seed; labelled in every view.
    pub demo: bool,
}

/// Why an organisation cannot be created as requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("name must be 1 to 100 characters without control characters")]
    Name,
    #[error("kind {0:?} is not one of department, station, court, mediation_committee, centre, cooperating_unit")]
    Kind(String),
}

impl Coded for OrgError {
    fn code(&self) -> &'static str {
        match self {
            OrgError::Name => "org_name_invalid",
            OrgError::Kind(_) => "org_kind_invalid",
        }
    }
    fn field(&self) -> Option<String> {
        Some(match self {
            OrgError::Name => "name".into(),
            OrgError::Kind(_) => "kind".into(),
        })
    }
}

/// Checks and normalises a display name (organisation or person): trimmed, 1 to `max` characters,
/// no control characters.
pub fn clean_name(text: &str, max: usize) -> Option<String> {
    let trimmed = text.trim();
    let len = trimmed.chars().count();
    ((1..=max).contains(&len) && !trimmed.chars().any(char::is_control)).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(OrgKind::parse("Court"), None);
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("  路桥区矛调中心 ", 100).as_deref(), Some("路桥区矛调中心"));
        assert_eq!(clean_name("   ", 100), None);
        assert_eq!(clean_name("a\u{7}b", 100), None);
        assert_eq!(clean_name(&"字".repeat(101), 100), None);
        assert!(clean_name(&"字".repeat(100), 100).is_some());
    }
}
