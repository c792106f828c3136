//! Accounts and sign-in: who am I, create accounts, grant roles, disable; console sessions for
//! API clients that run in the browser.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use fq_engine::NewAccount;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::api::json::ApiJson;
use crate::auth::{Caller, SESSION_COOKIE, cookie};
use crate::error::{ApiError, ErrorBody};

pub(super) fn routes(state: AppState) -> Router<AppState> {
    let sign_ins = axum::middleware::from_fn_with_state(state, crate::limit::sign_ins);
    Router::new()
        .route("/me", get(me))
        .route("/accounts", post(create))
        .route("/accounts/{login}/grants", post(grant))
        .route("/accounts/{login}/disabled", post(disable))
        .route("/sessions", post(sign_in).layer(sign_ins))
        .route("/sessions/current", delete(sign_out))
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GrantBody {
    pub role: String,
    pub region: String,
    pub org: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AccountBody {
    pub id: Uuid,
    pub login: String,
    pub display_name: String,
    pub org: Uuid,
    pub grants: Vec<GrantBody>,
    pub disabled: bool,
    pub demo: bool,
}

impl From<&fq_domain::account::Account> for AccountBody {
    fn from(a: &fq_domain::account::Account) -> AccountBody {
        AccountBody {
            id: a.id.0,
            login: a.login.as_str().to_owned(),
            display_name: a.display_name.clone(),
            org: a.org.0,
            grants: a
                .grants
                .iter()
                .map(|g| GrantBody {
                    role: g.role.to_string(),
                    region: g.scope.region.to_string(),
                    org: g.scope.org.map(|o| o.0),
                })
                .collect(),
            disabled: a.disabled,
            demo: a.demo,
        }
    }
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = AccountBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn me(Caller(actor): Caller) -> Result<Json<AccountBody>, ApiError> {
    let account = actor.account().ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "not an account"))?;
    Ok(Json(AccountBody::from(account)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateAccountBody {
    login: String,
    display_name: String,
    org: Uuid,
    /// At least 12 characters; omit for a token-only account.
    password: Option<String>,
    #[serde(default)]
    grants: Vec<GrantRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRequest {
    role: String,
    region: String,
    org: Option<Uuid>,
}

/// Creates an account (admin over the organisation's region; grants never wider than your own).
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = CreateAccountBody,
    responses((status = 201, body = AccountBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateAccountBody>,
) -> Result<(StatusCode, Json<AccountBody>), ApiError> {
    let request = NewAccount {
        login: body.login,
        display_name: body.display_name,
        org: body.org,
        password: body.password,
        grants: body.grants.into_iter().map(|g| (g.role, g.region, g.org)).collect(),
    };
    let (account, _) = state.engine.create_account(&actor, request).await?;
    Ok((StatusCode::CREATED, Json(AccountBody::from(&account))))
}

/// Grants a role to an account.
#[utoipa::path(post, path = "/api/v1/accounts/{login}/grants", tag = "accounts", request_body = GrantRequest, params(("login" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("session" = [])))]
pub(crate) async fn grant(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(login): Path<String>,
    ApiJson(body): ApiJson<GrantRequest>,
) -> Result<StatusCode, ApiError> {
    state.engine.grant_role(&actor, &login, (body.role, body.region, body.org)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DisableBody {
    disabled: bool,
}

/// Disables (or enables) an account; its tokens and sessions stop working at once.
#[utoipa::path(post, path = "/api/v1/accounts/{login}/disabled", tag = "accounts", request_body = DisableBody, params(("login" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = []), ("session" = [])))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(login): Path<String>,
    ApiJson(body): ApiJson<DisableBody>,
) -> Result<StatusCode, ApiError> {
    state.engine.set_account_disabled(&actor, &login, body.disabled).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignInBody {
    login: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionBody {
    /// Send it back in `X-CSRF-Token` with every request that changes something.
    csrf: String,
    expires_at: chrono::DateTime<chrono::Utc>,
    account: AccountBody,
}

/// The session cookie: HttpOnly, SameSite=Lax, Secure when the request came over TLS.
pub(crate) fn session_cookie(secret: &str, max_age: i64, headers: &HeaderMap) -> HeaderValue {
    let secure = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let value = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("fq_session=; Path=/; Max-Age=0"))
}

/// Signs in; the session cookie is set and the CSRF token returned. Five failures in fifteen
/// minutes lock the login for fifteen minutes (409 `login_locked`).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = SignInBody,
    responses((status = 201, body = SessionBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    crate::auth::ClientAddr(client): crate::auth::ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response, ApiError> {
    let session = state.engine.sign_in(&body.login, &body.password, &client).await.map_err(|e| match e {
        fq_engine::EngineError::Unauthenticated => {
            ApiError::new(StatusCode::UNAUTHORIZED, "login_failed", "the login or the password is wrong")
        }
        other => other.into(),
    })?;
    let account = AccountBody::from(session.actor.account().expect("a password sign-in is an account"));
    let max_age = (session.expires_at - chrono::Utc::now()).num_seconds().max(0);
    let mut response =
        (StatusCode::CREATED, Json(SessionBody { csrf: session.csrf, expires_at: session.expires_at, account })).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(&session.secret, max_age, &headers));
    Ok(response)
}

/// Signs out the current session.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "accounts", responses((status = 204)), security(("session" = [])))]
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    Caller(_actor): Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state.engine.sign_out(&secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie("", 0, &headers));
    Ok(response)
}
