//! Rows of the console's sign-in state: sessions and per-login throttling.

use chrono::{DateTime, Utc};
use fq_domain::account::AccountId;

/// A console session. Only the hash of the cookie's secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex BLAKE3 of the session secret the cookie carries.
    pub id_hash: String,
    pub account: AccountId,
    /// The CSRF token every form of this session must send back.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    /// Absolute end of the session.
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// Failed sign-ins of one login, for lockout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginThrottle {
    /// The login as typed (normalised), known account or not.
    pub login: String,
    /// Failures in the current window.
    pub failures: u32,
    pub window_start: DateTime<Utc>,
    /// No sign-in is checked before this instant.
    pub locked_until: Option<DateTime<Utc>>,
}
