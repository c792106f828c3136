//! Accounts (账号), roles (角色) and scopes (权限范围).
//!
//! An account belongs to one organisation. Its rights come from role grants; each grant names a
//! role and a scope: a region subtree, optionally narrowed to one organisation. A county mediator
//! is `mediator` on `331004`; a provincial administrator is `admin` on `33`.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Coded;
use crate::org::OrgId;
use crate::region::RegionCode;

/// An account's identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub Uuid);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A login name: 3 to 64 characters of lower-case letters, digits, `.`, `_` and `-`, starting
/// with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Login(String);

impl Login {
    pub fn parse(text: &str) -> Result<Login, AccountError> {
        let ok_len = (3..=64).contains(&text.len());
        let ok_chars = text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let ok_start = text.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        if ok_len && ok_chars && ok_start { Ok(Login(text.to_owned())) } else { Err(AccountError::Login(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Login {
    type Error = AccountError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Login::parse(&value)
    }
}

impl From<Login> for String {
    fn from(login: Login) -> String {
        login.0
    }
}

/// A role's code, such as `admin` or `mediator`. Programmes define their own roles; the core
/// roles are in [`RoleCode::ADMIN`] and its siblings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleCode(String);

impl RoleCode {
    /// 系统管理员: manages organisations, accounts, grids and reference data in its scope.
    pub const ADMIN: &'static str = "admin";
    /// 领导: reads aggregates and dashboards for its scope.
    pub const LEADER: &'static str = "leader";
    /// 工作人员: handles cases of its organisation.
    pub const STAFF: &'static str = "staff";

    /// 2 to 32 characters of lower-case letters, digits and `_`, starting with a letter.
    pub fn parse(text: &str) -> Result<RoleCode, AccountError> {
        let ok = (2..=32).contains(&text.len())
            && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok { Ok(RoleCode(text.to_owned())) } else { Err(AccountError::Role(text.to_owned())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for RoleCode {
    type Error = AccountError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RoleCode::parse(&value)
    }
}

impl From<RoleCode> for String {
    fn from(role: RoleCode) -> String {
        role.0
    }
}

/// Where a grant applies: a region subtree, optionally only for one organisation's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub region: RegionCode,
    pub org: Option<OrgId>,
}

impl Scope {
    /// True if this scope includes business of `org` located in `region`.
    pub fn covers(&self, region: &RegionCode, org: Option<OrgId>) -> bool {
        self.region.contains(region) && self.org.is_none_or(|mine| org == Some(mine))
    }
}

/// One role granted to an account within a scope.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoleGrant {
    pub role: RoleCode,
    pub scope: Scope,
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub login: Login,
    pub display_name: String,
    pub org: OrgId,
    pub grants: Vec<RoleGrant>,
    pub disabled: bool,
    /// Created by the demo seed; labelled in every view.
    pub demo: bool,
}

impl Account {
    /// True if one of the account's grants gives `role` over business of `org` in `region`.
    /// A disabled account has no rights at all.
    pub fn may(&self, role: &str, region: &RegionCode, org: Option<OrgId>) -> bool {
        !self.disabled && self.grants.iter().any(|g| g.role.as_str() == role && g.scope.covers(region, org))
    }

    /// True if the account holds `role` with a scope at least as wide as `scope`: granting a role
    /// never widens the granter's own rights.
    pub fn may_delegate(&self, role: &str, scope: &Scope) -> bool {
        !self.disabled
            && self.grants.iter().any(|g| {
                (g.role.as_str() == role || g.role.as_str() == RoleCode::ADMIN)
                    && g.scope.region.contains(&scope.region)
                    && g.scope.org.is_none_or(|mine| scope.org == Some(mine))
            })
    }

    /// The regions of the grants whose role passes `keep`, without those inside another one
    /// (what a region picker offers, what a list or a dashboard covers).
    pub fn outermost_regions(&self, keep: impl Fn(&str) -> bool) -> Vec<RegionCode> {
        outermost(self.grants.iter().filter(|g| keep(g.role.as_str())).map(|g| g.scope.region.clone()).collect())
    }
}

/// `regions` sorted, without duplicates and without those inside another one.
pub fn outermost(mut regions: Vec<RegionCode>) -> Vec<RegionCode> {
    regions.sort();
    regions.dedup();
    let all = regions.clone();
    regions.retain(|r| !all.iter().any(|other| other != r && other.contains(r)));
    regions
}

/// A bearer token for integrations; only the hash of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: Uuid,
    pub account: AccountId,
    pub label: String,
    /// BLAKE3 of the secret, hex. Tokens carry 256 random bits, so a fast hash is enough.
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

impl ApiToken {
    /// True if the token may be used at `now`.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && self.expires_at.is_none_or(|t| now < t)
    }
}

/// Why an account request is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("login {0:?} must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")]
    Login(String),
    #[error("role {0:?} must be 2 to 32 characters of a-z, 0-9 or '_', starting with a letter")]
    Role(String),
    #[error("display name must be 1 to 50 characters without control characters")]
    DisplayName,
    #[error("password must be at least 12 characters")]
    WeakPassword,
}

impl Coded for AccountError {
    fn code(&self) -> &'static str {
        match self {
            AccountError::Login(_) => "login_invalid",
            AccountError::Role(_) => "role_invalid",
            AccountError::DisplayName => "display_name_invalid",
            AccountError::WeakPassword => "password_too_weak",
        }
    }
    fn field(&self) -> Option<String> {
        Some(
            match self {
                AccountError::Login(_) => "login",
                AccountError::Role(_) => "role",
                AccountError::DisplayName => "display_name",
                AccountError::WeakPassword => "password",
            }
            .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn region(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    fn account(grants: Vec<RoleGrant>) -> Account {
        Account {
            id: AccountId(Uuid::nil()),
            login: Login::parse("zhang.san").unwrap(),
            display_name: "张三".into(),
            org: OrgId(Uuid::nil()),
            grants,
            disabled: false,
            demo: false,
        }
    }

    fn grant(role: &str, region_code: &str, org: Option<OrgId>) -> RoleGrant {
        RoleGrant { role: RoleCode::parse(role).unwrap(), scope: Scope { region: region(region_code), org } }
    }

    #[test]
    fn outermost_regions_drop_nested_and_filtered_grants() {
        let leader = account(vec![
            grant("mediator", "331004001", None),
            grant("leader", "3310", None),
            grant("mediator", "331004", None),
            grant("mediator", "330102", None),
            grant("admin", "33", None),
        ]);
        let mediating = leader.outermost_regions(|role| role == "mediator");
        assert_eq!(mediating, vec![region("330102"), region("331004")], "the town inside 331004 adds nothing");
        let reading = leader.outermost_regions(|role| role != "admin");
        assert_eq!(reading, vec![region("330102"), region("3310")]);
        assert!(leader.outermost_regions(|role| role == "reviewer").is_empty());
    }

    #[test]
    fn county_scope_covers_its_subtree_only() {
        let mediator = account(vec![grant("mediator", "331004", None)]);
        assert!(mediator.may("mediator", &region("331004001001"), None));
        assert!(!mediator.may("mediator", &region("331003001001"), None), "other county");
        assert!(!mediator.may("mediator", &region("3310"), None), "the city above");
        assert!(!mediator.may("admin", &region("331004"), None), "wrong role");
    }

    #[test]
    fn org_scope_narrows_to_one_organisation() {
        let org = OrgId(Uuid::from_u128(7));
        let other = OrgId(Uuid::from_u128(8));
        let staff = account(vec![grant("staff", "331004", Some(org))]);
        assert!(staff.may("staff", &region("331004001"), Some(org)));
        assert!(!staff.may("staff", &region("331004001"), Some(other)), "other organisation");
        assert!(!staff.may("staff", &region("331004001"), None), "business of no organisation");
    }

    #[test]
    fn disabled_accounts_have_no_rights() {
        let mut admin = account(vec![grant("admin", "33", None)]);
        assert!(admin.may("admin", &region("331004"), None));
        admin.disabled = true;
        assert!(!admin.may("admin", &region("331004"), None));
        assert!(!admin.may_delegate("staff", &Scope { region: region("331004"), org: None }));
    }

    #[test]
    fn delegation_never_widens_rights() {
        let county_admin = account(vec![grant("admin", "331004", None)]);
        assert!(county_admin.may_delegate("mediator", &Scope { region: region("331004001"), org: None }));
        assert!(!county_admin.may_delegate("mediator", &Scope { region: region("3310"), org: None }));
        let org = OrgId(Uuid::from_u128(1));
        let org_admin = account(vec![grant("admin", "331004", Some(org))]);
        assert!(org_admin.may_delegate("staff", &Scope { region: region("331004"), org: Some(org) }));
        assert!(!org_admin.may_delegate("staff", &Scope { region: region("331004"), org: None }));
    }

    #[test]
    fn tokens_expire_and_revoke() {
        let now = Utc::now();
        let mut token = ApiToken {
            id: Uuid::nil(),
            account: AccountId(Uuid::nil()),
            label: "t".into(),
            secret_hash: String::new(),
            created_at: now,
            expires_at: Some(now + chrono::Duration::hours(1)),
            revoked: false,
        };
        assert!(token.usable_at(now));
        assert!(!token.usable_at(now + chrono::Duration::hours(2)));
        token.expires_at = None;
        token.revoked = true;
        assert!(!token.usable_at(now));
    }

    proptest! {
        #[test]
        fn login_and_role_parsers_never_panic(text in "\\PC{0,70}") {
            if let Ok(login) = Login::parse(&text) { prop_assert_eq!(login.as_str(), text.as_str()); }
            let _ = RoleCode::parse(&text);
        }
    }
}
