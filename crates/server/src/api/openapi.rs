//! The OpenAPI 3.1 description, generated from the handlers and their types, served at
//! `/api/openapi.json`, with a documentation page at `/api/docs/` that needs no internet.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{accounts, attachments, cases, inspection, kpis, orgs, programmes, regions, risk, status};

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token issued with `fengqiao account token`."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "fq_session",
                "The console's session cookie; requests that change something also send X-CSRF-Token.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "fengqiao",
        description = "The case engine of fengqiao (枫桥): programmes, cases, attachments, organisations, accounts, regions and KPIs. Every error has the envelope {\"error\": {\"code\", \"message\", \"field\"}}.",
        license(name = "Apache-2.0")
    ),
    paths(
        status::status,
        programmes::list, programmes::one,
        cases::open, cases::list, cases::next, cases::one, cases::reveal, cases::act,
        attachments::upload, attachments::download,
        orgs::list, orgs::create, orgs::one,
        accounts::me, accounts::create, accounts::grant, accounts::disable, accounts::sign_in, accounts::sign_out,
        regions::region, regions::grids,
        kpis::kpis,
        inspection::push, inspection::batch, inspection::record, inspection::ranking, inspection::evaluation,
        risk::push,
        risk::forecast,
        risk::track_record,
        risk::trace,
        risk::push_positions,
    ),
    modifiers(&Security),
    tags(
        (name = "cases", description = "案件: open, list, read, act"),
        (name = "programmes", description = "项目 and their case kinds"),
        (name = "attachments", description = "附件"),
        (name = "organisations", description = "单位"),
        (name = "accounts", description = "账号 and sign-in"),
        (name = "regions", description = "行政区划 and grids"),
        (name = "kpis", description = "指标"),
        (name = "inspection", description = "机动车检验审核: records pushed by stations, ranking, evaluation"),
        (name = "risk", description = "风险预警: events pushed by their sources; the forecast per grid; the 72-hour trace"),
        (name = "status", description = "what is running"),
    )
)]
pub(crate) struct ApiDoc;

/// The description as pretty JSON (also what the snapshot test compares).
pub fn openapi_json() -> String {
    ApiDoc::openapi().to_pretty_json().expect("the OpenAPI description serializes")
}
