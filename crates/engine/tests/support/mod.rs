//! What several engine tests share: the operator, and an account made with one grant.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::sync::Arc;

use fq_domain::account::Login;
use fq_domain::actor::Actor;
use fq_engine::{Engine, NewAccount};
use fq_store::Store;
use uuid::Uuid;

/// An operator at the command line.
pub fn cli() -> Actor {
    Actor::Cli { os_user: "test".into() }
}

/// A new account of `org` holding `role` over `region`, as the actor it signs in as.
pub async fn account(engine: &Engine, store: &Arc<dyn Store>, login: &str, org: Uuid, role: &str, region: &str) -> Actor {
    narrowed_account(engine, store, login, org, (role, region, None)).await
}

/// [`account`] with its grant (role, region) narrowed to one organisation's business when the
/// third is given.
pub async fn narrowed_account(
    engine: &Engine,
    store: &Arc<dyn Store>,
    login: &str,
    org: Uuid,
    (role, region, narrowed_to): (&str, &str, Option<Uuid>),
) -> Actor {
    let request = NewAccount {
        login: login.into(),
        display_name: login.into(),
        org,
        password: None,
        grants: vec![(role.into(), region.into(), narrowed_to)],
    };
    engine.create_account(&cli(), request).await.unwrap();
    Actor::Account(Box::new(store.account_by_login(&Login::parse(login).unwrap()).await.unwrap().unwrap()))
}
