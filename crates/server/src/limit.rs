//! Per-address limits on sign-in attempts, on top of the engine's per-login lockout: one address
//! cannot try many logins quickly. GCRA from the `governor` crate, kept in memory per process.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::AppState;
use crate::auth::ClientAddr;
use crate::error::ApiError;

/// Sign-in attempts one address may make per minute (with that many at once).
const SIGN_INS_PER_MINUTE: u32 = 20;

/// The limiter shared by every sign-in route.
#[derive(Debug, Clone)]
pub(crate) struct SignInLimiter(Arc<DefaultKeyedRateLimiter<String>>);

impl SignInLimiter {
    pub(crate) fn new() -> SignInLimiter {
        let per_minute = NonZeroU32::new(SIGN_INS_PER_MINUTE).expect("a positive quota");
        SignInLimiter(Arc::new(DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute))))
    }

    fn allow(&self, client: &str) -> bool {
        // Forget idle addresses now and then, so that the map stays small.
        if self.0.len() > 10_000 {
            self.0.retain_recent();
        }
        self.0.check_key(&client.to_owned()).is_ok()
    }
}

/// Middleware for sign-in routes: 429 `too_many_sign_ins` past the address's quota.
pub(crate) async fn sign_ins(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == axum::http::Method::POST && !state.sign_ins.allow(&client) {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sign_ins",
            "too many sign-in attempts from your address: wait a minute",
        )
        .into_response();
    }
    next.run(request).await
}
