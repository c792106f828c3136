//! Accounts: creation, role grants, disabling, API tokens and token authentication.

use chrono::Duration;
use fq_domain::account::{Account, AccountError, AccountId, ApiToken, Login, RoleCode, RoleGrant, Scope};
use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_domain::org::{OrgId, clean_name};
use fq_domain::region::RegionCode;
use fq_store::{Change, Op, StoreError};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::Engine;
use crate::access::require_admin;
use crate::error::EngineError;
use crate::secrets::{decoy_hash, hash_password, new_token_secret, token_hash, verify_password};

/// A request to create an account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    pub org: Uuid,
    /// At least 12 characters; an account without a password signs in with tokens only.
    #[serde(default)]
    pub password: Option<String>,
    /// (role, region, organisation the grant is narrowed to).
    #[serde(default)]
    pub grants: Vec<(String, String, Option<Uuid>)>,
}

/// The longest a token may live: ten years.
const MAX_TOKEN_DAYS: u32 = 3_650;

/// A freshly issued API token. The secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: Uuid,
    pub account: AccountId,
    pub secret: String,
}

fn may_delegate(actor: &Actor, role: &str, scope: &Scope) -> bool {
    match actor {
        Actor::System | Actor::Cli { .. } => true,
        Actor::Account(account) => account.may_delegate(role, scope),
    }
}

impl Engine {
    async fn parse_grant(
        &self,
        actor: &Actor,
        idx: usize,
        (role, region, org): &(String, String, Option<Uuid>),
    ) -> Result<RoleGrant, EngineError> {
        let field = format!("grants[{idx}]");
        let role = RoleCode::parse(role.trim()).map_err(|e| EngineError::field("role_invalid", &field, e.to_string()))?;
        let region =
            RegionCode::parse(region.trim()).map_err(|e| EngineError::field("region_code_invalid", &field, e.to_string()))?;
        self.active_region(&region, &field).await?;
        let org = org.map(OrgId);
        if let Some(org) = org
            && self.store.organisation(org).await?.is_none()
        {
            return Err(EngineError::field("org_unknown", &field, format!("organisation {org} does not exist")));
        }
        let grant = RoleGrant { role, scope: Scope { region, org } };
        if !may_delegate(actor, grant.role.as_str(), &grant.scope) {
            return Err(EngineError::forbidden(format!(
                "granting {} over {}: a grant may not reach beyond the granter's own rights",
                grant.role, grant.scope.region
            )));
        }
        Ok(grant)
    }

    /// Creates an account in an organisation, with optional password and grants.
    pub async fn create_account(&self, actor: &Actor, request: NewAccount) -> Result<(Account, u64), EngineError> {
        self.create_account_as(actor, request, false).await
    }

    pub(crate) async fn create_account_as(
        &self,
        actor: &Actor,
        request: NewAccount,
        demo: bool,
    ) -> Result<(Account, u64), EngineError> {
        let login = Login::parse(request.login.trim()).map_err(|e| EngineError::invalid(&e))?;
        let display_name =
            clean_name(&request.display_name, 50).ok_or_else(|| EngineError::invalid(&AccountError::DisplayName))?;
        if let Some(password) = &request.password
            && password.chars().count() < 12
        {
            return Err(EngineError::invalid(&AccountError::WeakPassword));
        }
        let org_id = OrgId(request.org);
        let org = self
            .store
            .organisation(org_id)
            .await?
            .ok_or_else(|| EngineError::field("org_unknown", "org", format!("organisation {org_id} does not exist")))?;
        require_admin(actor, &org.region, Some(org.id), "creating an account")?;
        let mut grants = Vec::with_capacity(request.grants.len());
        for (idx, grant) in request.grants.iter().enumerate() {
            grants.push(self.parse_grant(actor, idx, grant).await?);
        }
        if self.store.account_by_login(&login).await?.is_some() {
            return Err(EngineError::field("login_taken", "login", format!("login {login} is taken")));
        }
        let password_hash = request.password.as_deref().map(hash_password).transpose()?;
        let account = Account { id: AccountId(Uuid::now_v7()), login, display_name, org: org.id, grants, disabled: false, demo };
        let payload = json!({ "account": account, "has_password": password_hash.is_some() });
        let change = Change::new().op(Op::InsertAccount { account: account.clone(), password_hash }).event(NewEvent::new(
            format!("account:{}", account.id),
            "account.created",
            actor.journal_name(),
            payload,
        ));
        let committed = self.store.commit(change).await.map_err(|e| match e {
            StoreError::Conflict { entity: "account", key } => {
                EngineError::field("login_taken", "login", format!("login {key} is taken"))
            }
            other => other.into(),
        })?;
        Ok((account, committed.last_seq))
    }

    async fn account_for_admin(&self, actor: &Actor, login: &str, what: &str) -> Result<Account, EngineError> {
        let login = Login::parse(login.trim()).map_err(|e| EngineError::invalid(&e))?;
        let account = self
            .store
            .account_by_login(&login)
            .await?
            .ok_or_else(|| EngineError::NotFound { entity: "account", key: login.to_string() })?;
        let org =
            self.store.organisation(account.org).await?.ok_or_else(|| {
                EngineError::Store(StoreError::corrupt(format!("account {login}"), "its organisation is missing"))
            })?;
        require_admin(actor, &org.region, Some(org.id), what)?;
        // Managing an account (its tokens, grants, status) is as good as holding its rights, so
        // the actor must be able to grant every right the account has.
        if let Some(grant) = account.grants.iter().find(|g| !may_delegate(actor, g.role.as_str(), &g.scope)) {
            return Err(EngineError::forbidden(format!(
                "{what}: account {} holds {} over {}, beyond the actor's own rights",
                account.login, grant.role, grant.scope.region
            )));
        }
        Ok(account)
    }

    /// Grants a role to an existing account.
    pub async fn grant_role(
        &self,
        actor: &Actor,
        login: &str,
        grant: (String, String, Option<Uuid>),
    ) -> Result<u64, EngineError> {
        let account = self.account_for_admin(actor, login, "granting a role").await?;
        let grant = self.parse_grant(actor, 0, &grant).await?;
        if account.grants.contains(&grant) {
            return Err(EngineError::Conflict {
                entity: "role grant",
                key: format!("{} {} {}", account.login, grant.role, grant.scope.region),
            });
        }
        let change = Change::new().op(Op::AddRoleGrant { account: account.id, grant: grant.clone() }).event(NewEvent::new(
            format!("account:{}", account.id),
            "account.role_granted",
            actor.journal_name(),
            json!({ "grant": grant }),
        ));
        Ok(self.store.commit(change).await?.last_seq)
    }

    /// Disables or re-enables an account. Disabling ends its API tokens and console sessions
    /// for good: an account enabled again needs new tokens and a new sign-in.
    pub async fn set_account_disabled(&self, actor: &Actor, login: &str, disabled: bool) -> Result<u64, EngineError> {
        let account = self.account_for_admin(actor, login, "disabling an account").await?;
        let kind = if disabled { "account.disabled" } else { "account.enabled" };
        let mut change = Change::new().op(Op::SetAccountDisabled { account: account.id, disabled });
        if disabled {
            change =
                change.op(Op::RevokeAccountTokens { account: account.id }).op(Op::RevokeAccountSessions { account: account.id });
        }
        let change = change.event(NewEvent::new(format!("account:{}", account.id), kind, actor.journal_name(), json!({})));
        Ok(self.store.commit(change).await?.last_seq)
    }

    /// Issues an API token for an account. An account may issue its own; an administrator may
    /// issue for accounts in its scope.
    pub async fn issue_token(
        &self,
        actor: &Actor,
        login: &str,
        label: &str,
        valid_days: Option<u32>,
    ) -> Result<IssuedToken, EngineError> {
        let account = match actor.account() {
            Some(me) if me.login.as_str() == login.trim() => me.clone(),
            _ => self.account_for_admin(actor, login, "issuing a token").await?,
        };
        if account.disabled {
            return Err(EngineError::field("account_disabled", "login", format!("account {} is disabled", account.login)));
        }
        let label = clean_name(label, 100)
            .ok_or_else(|| EngineError::field("label_invalid", "label", "label must be 1 to 100 characters"))?;
        if valid_days.is_some_and(|days| days > MAX_TOKEN_DAYS) {
            return Err(EngineError::field(
                "token_lifetime_invalid",
                "days",
                format!("a token lives at most {MAX_TOKEN_DAYS} days"),
            ));
        }
        let now = self.now();
        let secret = new_token_secret()?;
        let token = ApiToken {
            id: Uuid::now_v7(),
            account: account.id,
            label,
            secret_hash: token_hash(&secret),
            created_at: now,
            expires_at: valid_days.map(|days| now + Duration::days(i64::from(days))),
            revoked: false,
        };
        let payload = json!({ "token": token.id, "label": token.label, "expires_at": token.expires_at });
        let change = Change::new().op(Op::InsertApiToken(token.clone())).event(NewEvent::new(
            format!("account:{}", account.id),
            "api_token.issued",
            actor.journal_name(),
            payload,
        ));
        self.store.commit(change).await?;
        Ok(IssuedToken { id: token.id, account: account.id, secret })
    }

    /// Checks a login and password. Unknown logins, wrong passwords, accounts without a password
    /// and disabled accounts are refused alike, in about the same time. (Rate limiting and the
    /// journal entry for each sign-in belong to the console's session layer.)
    pub async fn authenticate_password(&self, login: &str, password: &str) -> Result<Actor, EngineError> {
        let account = match Login::parse(login.trim()) {
            Ok(login) => self.store.account_by_login(&login).await?,
            Err(_) => None,
        };
        let stored = match &account {
            Some(account) => self.store.password_hash(account.id).await?,
            None => None,
        };
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref().unwrap_or(decoy_hash())))
            .await
            .map_err(|e| EngineError::Store(StoreError::Backend(e.to_string())))?;
        match account {
            Some(account) if matches && !account.disabled => Ok(Actor::Account(Box::new(account))),
            _ => Err(EngineError::Unauthenticated),
        }
    }

    /// Turns a bearer token into the actor it belongs to. Unknown, revoked or expired tokens and
    /// tokens of disabled accounts are all refused the same way.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Actor, EngineError> {
        let token = self.store.api_token_by_secret_hash(&token_hash(secret)).await?.ok_or(EngineError::Unauthenticated)?;
        if !token.usable_at(self.now()) {
            return Err(EngineError::Unauthenticated);
        }
        let account = self.store.account(token.account).await?.ok_or(EngineError::Unauthenticated)?;
        if account.disabled {
            return Err(EngineError::Unauthenticated);
        }
        Ok(Actor::Account(Box::new(account)))
    }
}
