//! Console sign-in: cookie sessions with a CSRF token, lockout after repeated failures, and a
//! journal entry for every attempt.
//!
//! Only the BLAKE3 hash of a session secret is stored. A session ends at an absolute time (no
//! silent extension), on sign-out, or when its account is disabled.

use chrono::{DateTime, Duration, Utc};
use fq_domain::account::Login;
use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_store::{Change, LoginThrottle, Op, SessionRecord};
use serde_json::json;

use crate::Engine;
use crate::error::EngineError;
use crate::secrets::{random_bytes, token_hash};

/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 12;
/// Failed sign-ins of one login within [`FAILURE_WINDOW_MINUTES`] that lock it.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// How long a locked login stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// A new session: the secret goes into the cookie, the CSRF token into every form.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub secret: String,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
    pub actor: Actor,
}

/// A valid session and who it belongs to.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub actor: Actor,
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Engine {
    /// A fresh random value for the sign-in form's CSRF check (a double-submitted cookie: the
    /// form and a cookie carry the same value), so that another site cannot sign a browser in to
    /// an account of its choosing.
    pub fn new_form_token(&self) -> Result<String, EngineError> {
        Ok(hex(&random_bytes::<16>()?))
    }

    /// Signs in with a password. `client` (the remote address) is journaled with the attempt.
    /// Five failures in fifteen minutes lock the login for fifteen minutes; while locked, even the
    /// right password is refused (`login_locked`) without being checked.
    pub async fn sign_in(&self, login: &str, password: &str, client: &str) -> Result<NewSession, EngineError> {
        let key = login.trim().to_lowercase();
        let stream = format!("login:{}", if key.is_empty() { "-" } else { &key });
        let now = self.now();
        let throttle = self.store.login_throttle(&key).await?;
        if let Some(until) = throttle.as_ref().and_then(|t| t.locked_until).filter(|until| *until > now) {
            let change = Change::new().event(NewEvent::new(
                &stream,
                "login.refused_locked",
                "system",
                json!({ "login": key, "client": client, "locked_until": until }),
            ));
            self.store.commit(change).await?;
            return Err(EngineError::Refused {
                code: "login_locked",
                field: Some("login".into()),
                message: format!(
                    "too many failed sign-ins: this login is locked until {}",
                    until.with_timezone(&fq_domain::calendar::beijing()).format("%H:%M")
                ),
            });
        }
        match self.authenticate_password(&key, password).await {
            Ok(actor) => {
                let account = actor.account().expect("password sign-in gives an account").clone();
                let secret = hex(&random_bytes::<32>()?);
                let csrf = hex(&random_bytes::<16>()?);
                let expires_at = now + Duration::hours(SESSION_HOURS);
                let record = SessionRecord {
                    id_hash: token_hash(&secret),
                    account: account.id,
                    csrf: csrf.clone(),
                    created_at: now,
                    expires_at,
                    revoked: false,
                };
                let change = Change::new().op(Op::InsertSession(record)).op(Op::ClearLoginThrottle { login: key.clone() }).event(
                    NewEvent::new(
                        &stream,
                        "login.succeeded",
                        actor.journal_name(),
                        json!({ "login": key, "client": client, "account": account.id }),
                    ),
                );
                self.store.commit(change).await?;
                Ok(NewSession { secret, csrf, expires_at, actor })
            }
            Err(EngineError::Unauthenticated) => {
                let in_window = throttle.filter(|t| now - t.window_start < Duration::minutes(FAILURE_WINDOW_MINUTES));
                let (failures, window_start) = in_window.map_or((1, now), |t| (t.failures + 1, t.window_start));
                let locked_until = (failures >= MAX_FAILURES).then(|| now + Duration::minutes(LOCKOUT_MINUTES));
                let change = Change::new()
                    .op(Op::PutLoginThrottle(LoginThrottle { login: key.clone(), failures, window_start, locked_until }))
                    .event(NewEvent::new(
                        &stream,
                        "login.failed",
                        "system",
                        json!({ "login": key, "client": client, "failures": failures, "locked_until": locked_until }),
                    ));
                self.store.commit(change).await?;
                Err(EngineError::Unauthenticated)
            }
            Err(other) => Err(other),
        }
    }

    /// The session a cookie secret belongs to, if it is still valid.
    pub async fn session(&self, secret: &str) -> Result<ActiveSession, EngineError> {
        let record = self.store.session(&token_hash(secret)).await?.ok_or(EngineError::Unauthenticated)?;
        if record.revoked || record.expires_at <= self.now() {
            return Err(EngineError::Unauthenticated);
        }
        let account = self.store.account(record.account).await?.ok_or(EngineError::Unauthenticated)?;
        if account.disabled {
            return Err(EngineError::Unauthenticated);
        }
        Ok(ActiveSession { actor: Actor::Account(Box::new(account)), csrf: record.csrf, expires_at: record.expires_at })
    }

    /// Ends a session (sign-out). An unknown or already ended session is not an error.
    pub async fn sign_out(&self, secret: &str) -> Result<(), EngineError> {
        let id_hash = token_hash(secret);
        let Some(record) = self.store.session(&id_hash).await? else { return Ok(()) };
        if record.revoked {
            return Ok(());
        }
        let change = Change::new().op(Op::RevokeSession { id_hash }).event(NewEvent::new(
            format!("account:{}", record.account),
            "session.ended",
            format!("account:{}", record.account),
            json!({ "created_at": record.created_at }),
        ));
        self.store.commit(change).await?;
        Ok(())
    }

    /// True when `login` is a valid login string (for form validation).
    pub fn valid_login(login: &str) -> bool {
        Login::parse(login.trim()).is_ok()
    }
}
