//! The web console in-process, on a temporary SQLite store with the real regions and the demo
//! data set: sign-in and its refusals, CSRF, every page template rendered with real data, a case
//! filed, opened and acted on through the forms, exports, the dashboard, administration, and
//! denials (another county's case is "not found", a clerk is not an administrator).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fq_domain::actor::Actor;
use fq_domain::region::RegionCode;
use fq_engine::{CaseQuery, Engine, NewAccount};
use fq_server::AppState;
use tower::ServiceExt;

struct World {
    app: axum::Router,
    engine: Engine,
    passwords: HashMap<String, String>,
    _dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    content_type: String,
    body: String,
}

/// A browser: the session cookie and the page's CSRF token.
#[derive(Default)]
struct Browser {
    cookie: Option<String>,
    csrf: Option<String>,
    /// The sign-in form's token cookie (`fq_login`).
    login: Option<String>,
}

const PASSWORD: &str = "correct horse battery staple";

impl World {
    async fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let store =
            fq_store_sqlite::SqliteStore::open(&dir.path().join("fengqiao.db"), fq_store_sqlite::SqliteOptions::default())
                .await
                .unwrap();
        let engine = Engine::new(Arc::new(store));
        engine.ensure_reference_data().await.unwrap();
        let seed = engine.seed_demo().await.unwrap().expect("a fresh store is seeded");
        let passwords = seed.accounts.iter().map(|a| (a.login.clone(), a.password.clone())).collect();
        let app = fq_server::router(AppState::new(engine.clone()));
        World { app, engine, passwords, _dir: dir }
    }

    async fn get(&self, browser: &mut Browser, path: &str) -> Reply {
        let request = Request::builder().method(Method::GET).uri(path);
        let reply = self.call(browser, request, Body::empty()).await;
        if let Some(csrf) = hidden(&reply.body, "csrf") {
            browser.csrf = Some(csrf);
        }
        reply
    }

    async fn post(&self, browser: &Browser, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        let request =
            Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.call(browser, request, Body::from(body)).await
    }

    /// Posts `multipart/form-data`, as forms with a file input do.
    async fn post_files(&self, browser: &Browser, path: &str, pairs: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Reply {
        let boundary = "fq-console-test-boundary";
        let mut body: Vec<u8> = Vec::new();
        for (name, value) in pairs {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes());
        }
        for (name, file, bytes) in files {
            body.extend(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                    .bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").bytes());
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"));
        self.call(browser, request, Body::from(body)).await
    }

    async fn call(&self, browser: &Browser, request: axum::http::request::Builder, body: Body) -> Reply {
        let cookies: Vec<String> = [("fq_session", &browser.cookie), ("fq_login", &browser.login)]
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={v}")))
            .collect();
        let request = if cookies.is_empty() { request } else { request.header(header::COOKIE, cookies.join("; ")) };
        let response = self.app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let value = |name| response.headers().get(name).map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned());
        let (location, set_cookie, content_type) =
            (value(header::LOCATION), value(header::SET_COOKIE), value(header::CONTENT_TYPE).unwrap_or_default());
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 26).await.unwrap();
        Reply { status, location, set_cookie, content_type, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Opens the sign-in page as a new browser and posts the form, with its token and cookie.
    async fn login_form(&self, login: &str, password: &str) -> Reply {
        let mut browser = Browser::default();
        let page = self.get(&mut browser, "/login").await;
        let token = hidden(&page.body, "csrf").expect("the sign-in form carries a token");
        let cookie = page.set_cookie.expect("the sign-in page sets its token cookie");
        assert!(cookie.starts_with(&format!("fq_login={token};")) && cookie.contains("HttpOnly"), "{cookie}");
        browser.login = Some(token.clone());
        self.post(&browser, "/login", &[("login", login), ("password", password), ("next", "/"), ("csrf", &token)]).await
    }

    /// Signs in through the form and keeps the cookie and a CSRF token.
    async fn sign_in(&self, login: &str) -> Browser {
        let password = self.passwords.get(login).map_or(PASSWORD, String::as_str);
        let reply = self.login_form(login, password).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{login}: {}", reply.body);
        let cookie = reply.set_cookie.expect("the session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
        let secret = cookie.trim_start_matches("fq_session=").split(';').next().unwrap().to_owned();
        let mut browser = Browser { cookie: Some(secret), ..Browser::default() };
        let home = self.get(&mut browser, "/").await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        assert!(browser.csrf.is_some(), "every page carries the sign-out form's CSRF token");
        browser
    }

    async fn total_cases(&self) -> u64 {
        let query = CaseQuery { programme: "demo".into(), ..CaseQuery::default() };
        self.engine.count_cases(&Actor::System, query).await.unwrap()
    }

    /// A handler of another county (Putuo, 330903), with a password.
    async fn putuo_handler(&self) -> Browser {
        self.putuo_account("putuo-handler", "普陀承办人", ("handler", "330903")).await
    }

    /// A new account of Putuo's first organisation with one grant (role, region), signed in.
    async fn putuo_account(&self, login: &str, name: &str, (role, region): (&str, &str)) -> Browser {
        let putuo = RegionCode::parse("330903").unwrap();
        let orgs = self.engine.organisations_within(&Actor::System, &putuo).await.unwrap();
        let request = NewAccount {
            login: login.into(),
            display_name: name.into(),
            org: orgs[0].id.0,
            password: Some(PASSWORD.into()),
            grants: vec![(role.into(), region.into(), None)],
        };
        self.engine.create_account(&Actor::System, request).await.unwrap();
        self.sign_in(login).await
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The value of the first hidden input called `name`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_owned()).filter(|v| !v.is_empty())
}

/// The `data-page` of a rendered page.
fn page_of(html: &str) -> Option<String> {
    let start = html.find("data-page=\"")? + "data-page=\"".len();
    Some(html[start..start + html[start..].find('"')?].to_owned())
}

/// A Luqiao demo case number (the demo cases are numbered in county order: 5 counties × 12).
async fn luqiao_case(w: &World) -> String {
    let query = CaseQuery { programme: "demo".into(), region: Some("331004".into()), limit: Some(1), ..CaseQuery::default() };
    w.engine.list_cases(&Actor::System, query).await.unwrap()[0].number.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_out_pages_redirect_to_sign_in_and_bad_cookies_too() {
    let w = World::new().await;
    let mut anonymous = Browser::default();
    let reply = w.get(&mut anonymous, "/").await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    let reply = w.get(&mut anonymous, "/cases?programme=demo").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location.as_deref(), Some("/login?next=/cases%3Fprogramme%3Ddemo"), "back to the page after signing in");
    let reply = w.post(&anonymous, "/intake/demo/dispute", &[("f.title", "x")]).await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));

    // A tampered or expired cookie: to the sign-in page, and the cookie is cleared.
    let mut tampered = Browser { cookie: Some("0".repeat(64)), ..Browser::default() };
    let reply = w.get(&mut tampered, "/dashboard").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(reply.location.unwrap().starts_with("/login"));
    assert!(reply.set_cookie.unwrap().contains("Max-Age=0"));
    let mut signed = w.sign_in("demo-luqiao-intake").await;
    let secret = signed.cookie.clone().unwrap();
    let mut altered = Browser { cookie: Some(format!("{}x", &secret[..secret.len() - 1])), ..Browser::default() };
    assert_eq!(w.get(&mut altered, "/").await.status, StatusCode::SEE_OTHER);

    // The sign-in page shows the public facts without signing in.
    let login = w.get(&mut anonymous, "/login").await;
    assert_eq!(login.status, StatusCode::OK);
    for (id, count) in [("county", "90"), ("town", "1,387"), ("village", "25,547")] {
        assert!(login.body.contains(&format!(r#"id="count-{id}">{count}<"#)), "the sign-in page lacks {id}");
    }
    assert!(login.body.contains("演示数据"));

    // Signing out ends the session.
    let csrf = signed.csrf.clone().unwrap();
    let reply = w.post(&signed, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert_eq!(w.get(&mut signed, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sign_in_says_so_and_the_language_switches() {
    let w = World::new().await;
    let mut browser = Browser::default();
    // A form posted without the page's token (from another site) is refused before the
    // password is looked at.
    let password = w.passwords["demo-luqiao-intake"].clone();
    let reply = w.post(&browser, "/login", &[("login", "demo-luqiao-intake"), ("password", &password), ("next", "/")]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("登录页面已过期"), "{}", reply.body);
    assert!(!reply.set_cookie.is_some_and(|c| c.starts_with("fq_session")), "no session without the token");
    let reply = w.login_form("demo-luqiao-intake", "not the password").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body.contains("账号或密码不正确"), "{}", reply.body);
    assert!(!reply.set_cookie.is_some_and(|c| c.starts_with("fq_session")));
    assert!(reply.body.contains(r#"value="demo-luqiao-intake""#), "the login is kept in the form");

    // English on request, remembered in a cookie.
    let reply = w.get(&mut browser, "/lang/en?next=/login").await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert!(reply.set_cookie.unwrap().starts_with("fq_lang=en"));
    let request = Request::builder().uri("/login").header(header::COOKIE, "fq_lang=en");
    let english = w.call(&browser, request, Body::empty()).await;
    assert!(english.body.contains("Sign in") && english.body.contains(r#"<html lang="en">"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_the_csrf_token_is_refused_and_changes_nothing() {
    let w = World::new().await;
    let intake = w.sign_in("demo-luqiao-intake").await;
    let before = w.total_cases().await;
    let form = [("region", "331004001"), ("f.title", "无令牌的登记"), ("f.category", "neighbour")];
    let reply = w.post(&intake, "/intake/demo/dispute", &form).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.body.contains("表单已失效"), "{}", reply.body);
    let mut wrong = form.to_vec();
    wrong.push(("csrf", "0123456789abcdef0123456789abcdef"));
    assert_eq!(w.post(&intake, "/intake/demo/dispute", &wrong).await.status, StatusCode::FORBIDDEN);
    assert_eq!(w.total_cases().await, before, "nothing was registered");

    let number = luqiao_case(&w).await;
    let reply = w.post(&intake, &format!("/cases/{number}/reveal"), &[]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "revealing needs the token too");
    assert_eq!(w.post(&intake, "/logout", &[]).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_is_filed_read_revealed_and_acted_on_through_the_forms() {
    let w = World::new().await;
    let mut intake = w.sign_in("demo-luqiao-intake").await;
    let form = w.get(&mut intake, "/intake/demo/dispute").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="f.title""#) && form.body.contains(r#"name="f.applicant.phone""#));
    assert!(form.body.contains("路桥街道"), "the towns of the clerk's county are offered");
    let csrf = intake.csrf.clone().unwrap();

    // The engine's reason sits next to the field it names.
    let reply = w.post(&intake, "/intake/demo/dispute", &[("csrf", &csrf), ("region", "331004001"), ("f.amount", "12.5")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains(r#"id="intake-title-error""#), "{}", reply.body);
    assert!(reply.body.contains(r#"value="12.5""#), "what was typed is kept");

    let fields = [
        ("csrf", csrf.as_str()),
        ("region", "331004001"),
        ("priority", "normal"),
        ("channel", "station"),
        ("f.title", "楼道堆物纠纷（测试）"),
        ("f.category", "neighbour"),
        ("f.amount", "300"),
        ("f.applicant.name", "王五"),
        ("f.applicant.phone", "13912345678"),
    ];
    let reply = w.post(&intake, "/intake/demo/dispute", &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.location.unwrap();
    assert!(location.starts_with("/cases/YS") && location.ends_with("?done=opened"), "{location}");
    let number = location.trim_start_matches("/cases/").trim_end_matches("?done=opened").to_owned();

    let detail = w.get(&mut intake, &location).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(detail.body.contains("案件已登记"));
    assert!(detail.body.contains("楼道堆物纠纷（测试）") && detail.body.contains("邻里纠纷"), "the catalog's name for the code");
    assert!(detail.body.contains("139****5678") && !detail.body.contains("13912345678"), "the phone is masked");
    assert!(detail.body.contains("¥300.00"));
    assert!(detail.body.contains("待受理") && detail.body.contains("登记立案"), "state and history read in Chinese");
    assert!(detail.body.contains(&format!(r#"action="/cases/{number}/actions/accept""#)), "the accept form is offered");

    // Revealing is a POST with the token; the page then shows the number, and the view is journaled.
    let csrf = intake.csrf.clone().unwrap();
    let revealed = w.post(&intake, &format!("/cases/{number}/reveal"), &[("csrf", &csrf)]).await;
    assert_eq!(revealed.status, StatusCode::OK);
    assert!(revealed.body.contains("13912345678"));
    let id = w.engine.find_case(&Actor::System, &number).await.unwrap().case.id;
    let viewed = w.engine.store().stream_events(&format!("access:case:{id}")).await.unwrap();
    assert_eq!(viewed.len(), 1);

    // Accepting dispatches the case; the page says so and the history tells it.
    let version = hidden(&detail.body, "version").unwrap();
    let reply = w.post(&intake, &format!("/cases/{number}/actions/accept"), &[("csrf", &csrf), ("version", &version)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let detail = w.get(&mut intake, reply.location.as_deref().unwrap()).await;
    assert!(detail.body.contains("已完成：受理"), "{}", detail.body);
    assert!(detail.body.contains("办理中") && detail.body.contains("系统派单至"), "{}", detail.body);

    // An action with a stale version is refused with the reason, and nothing moves.
    let reply = w
        .post(
            &intake,
            &format!("/cases/{number}/actions/edit"),
            &[("csrf", &csrf), ("version", &version), ("f.description", "x")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("案件已被他人更新"), "{}", reply.body);

    // The handler adds information with the edit form.
    let mut handler = w.sign_in("demo-luqiao-handler").await;
    let page = w.get(&mut handler, &format!("/cases/{number}")).await;
    let version = hidden(&page.body, "version").unwrap();
    let csrf = handler.csrf.clone().unwrap();
    let reply = w
        .post(
            &handler,
            &format!("/cases/{number}/actions/edit"),
            &[("csrf", &csrf), ("version", &version), ("f.description", "双方同意清理楼道"), ("f.amount", "abc")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "a bad amount is named");
    assert!(reply.body.contains(&format!(r#"id="{number}-edit-amount-error""#)), "{}", reply.body);
    let reply = w
        .post(
            &handler,
            &format!("/cases/{number}/actions/edit"),
            &[("csrf", &csrf), ("version", &version), ("f.description", "双方同意清理楼道")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = w.get(&mut handler, &format!("/cases/{number}")).await;
    assert!(page.body.contains("双方同意清理楼道"));
    assert!(page.body.contains("更新信息：纠纷情况"), "{}", page.body);

    // Evidence is uploaded with the same form (multipart); a file of a refused type is named.
    let version = hidden(&page.body, "version").unwrap();
    let path = format!("/cases/{number}/actions/edit");
    let base = [("csrf", csrf.as_str()), ("version", version.as_str())];
    let reply = w.post_files(&handler, &path, &base, &[("f.evidence", "run.exe", b"MZ\x90\x00binary")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains(&format!(r#"id="{number}-edit-evidence-error""#)), "{}", reply.body);
    let note = "调解笔录：双方同意周五清理。".as_bytes();
    let reply = w.post_files(&handler, &path, &base, &[("f.evidence", "调解笔录.txt", note)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = w.get(&mut handler, &format!("/cases/{number}")).await;
    let html = page.body.replace("&#x2f;", "/");
    let start = html.find("/api/v1/attachments/").expect("a download link");
    let link = html[start..start + html[start..].find('"').unwrap()].to_owned();
    assert!(page.body.contains("调解笔录.txt"));
    let file = w.get(&mut handler, &link).await;
    assert_eq!((file.status, file.body.as_bytes()), (StatusCode::OK, note), "the link works with the session cookie");

    // A photo-sized file passes the server's default body limit on these forms.
    let version = hidden(&page.body, "version").unwrap();
    let big = "调".repeat(1024 * 1024);
    let base = [("csrf", csrf.as_str()), ("version", version.as_str())];
    let reply = w.post_files(&handler, &path, &base, &[("f.evidence", "长笔录.txt", big.as_bytes())]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "a 3 MiB file is accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_template_renders_with_real_data() {
    let w = World::new().await;
    let number = luqiao_case(&w).await;
    let luqiao = RegionCode::parse("331004").unwrap();
    let org = w.engine.organisations_within(&Actor::System, &luqiao).await.unwrap()[0].id;
    let mut seen = BTreeSet::new();
    let mut visit = async |browser: &mut Browser, path: &str, expected: StatusCode| {
        let reply = w.get(browser, path).await;
        assert_eq!(reply.status, expected, "{path}: {}", reply.body);
        assert!(reply.content_type.starts_with("text/html"), "{path}");
        assert!(
            !reply.body.contains(">none<") && !reply.body.contains("value=\"none\""),
            "{path}: a missing value printed as none"
        );
        seen.insert(page_of(&reply.body).unwrap_or_else(|| panic!("{path} has no data-page")));
        reply
    };
    let mut anonymous = Browser::default();
    visit(&mut anonymous, "/login", StatusCode::OK).await;
    visit(&mut anonymous, "/about", StatusCode::OK).await;
    let mut intake = w.sign_in("demo-luqiao-intake").await;
    for path in ["/", "/cases", "/cases?programme=demo&overdue=1&sort=due", "/intake", "/intake/demo/dispute", "/dispatch"] {
        visit(&mut intake, path, StatusCode::OK).await;
    }
    let detail = visit(&mut intake, &format!("/cases/{number}"), StatusCode::OK).await;
    assert!(detail.body.contains("演示数据"), "demo cases carry the badge");
    visit(&mut intake, "/cases/YS1999-999999", StatusCode::NOT_FOUND).await;
    let mut leader = w.sign_in("demo-luqiao-leader").await;
    visit(&mut leader, "/dashboard", StatusCode::OK).await;
    visit(&mut leader, "/registry", StatusCode::OK).await;
    let index = visit(&mut leader, "/index", StatusCode::OK).await;
    assert!(index.body.contains("闭环处置") && index.body.contains("data-index="), "{}", index.body);
    visit(&mut leader, "/index?from=2026-12-01&to=2026-01-01", StatusCode::UNPROCESSABLE_ENTITY).await;
    visit(&mut leader, "/coins", StatusCode::OK).await;
    let heat = visit(&mut leader, "/heatmap", StatusCode::OK).await;
    assert!(heat.body.contains("<path") && heat.body.contains("<title>"), "grids drawn with values on hover");
    let density = visit(&mut leader, "/heatmap?layer=density&programme=demo", StatusCode::OK).await;
    assert!(density.body.contains("fill-opacity"), "the density layer");
    visit(&mut leader, "/heatmap?region=3310", StatusCode::UNPROCESSABLE_ENTITY).await;
    let unknown = visit(&mut leader, "/heatmap?region=331099", StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(unknown.body.contains("331099"), "a county not in the division tree is named, not drawn empty");
    let events = visit(&mut leader, "/heatmap?programme=risk_events", StatusCode::OK).await;
    assert!(events.body.contains("网格员巡查上报") || events.body.contains("<path"), "the risk events' map");
    let forecast = visit(&mut leader, "/heatmap?layer=forecast", StatusCode::OK).await;
    assert!(forecast.body.contains("未来7天") && forecast.body.contains("7 天内至少发生一起"), "the forecast layer");
    assert!(!forecast.body.contains("按与最高网格之比着色"), "a week is coloured by the warning levels");
    // Today's week is not over: no check, but a link to the latest forecast that is, which is
    // checked against the demo's reports of that week.
    assert!(!forecast.body.contains("id=\"forecast-check\""), "today's week is not checked");
    let link = forecast.body.split("id=\"forecast-check-link\"").next().and_then(|b| b.rsplit("href=\"").next()).unwrap();
    let link = link.split('"').next().unwrap().replace("&amp;", "&");
    let checked = visit(&mut leader, &link, StatusCode::OK).await;
    assert!(checked.body.contains("预测检验") && checked.body.contains("PAI"), "{link}: {}", checked.body);
    assert!(
        checked.body.contains("id=\"forecast-calibration\"") && checked.body.contains("Brier 分数"),
        "its probabilities checked"
    );
    assert!(!checked.body.contains("forecast-check-link"), "a checked forecast links to no other");
    // It is the latest week that is over: it starts seven days before today's.
    let first_day = |body: &str| {
        let before = body.split(" 起 7 天内").next().unwrap();
        chrono::NaiveDate::parse_from_str(&before[before.len() - 10..], "%Y-%m-%d").unwrap()
    };
    assert_eq!(first_day(&checked.body) + chrono::Duration::days(7), first_day(&forecast.body));
    // Today's map lists the last four weeks: before, none held (a record fits nothing); after
    // the visit above fitted the latest, its check is in the first row.
    let rows = |body: &str| -> Vec<String> {
        let table = body.split("id=\"forecast-record\"").nth(1).unwrap().split("</table>").next().unwrap();
        table.split("<tr>").skip(2).map(str::to_owned).collect()
    };
    let before = rows(&forecast.body);
    assert_eq!(before.len(), 4, "{before:?}");
    assert!(before.iter().all(|r| r.contains("未存此预测")), "{before:?}");
    let after = rows(&visit(&mut leader, "/heatmap?layer=forecast", StatusCode::OK).await.body);
    assert!(after[0].contains("PAI") && after[1..].iter().all(|r| r.contains("未存此预测")), "{after:?}");
    assert!(after[0].contains(&link.replace('&', "&amp;")), "the row links to its own map: {link} {}", after[0]);
    // The track record filled by an operator: the older weeks follow, and the sum of them all.
    let (operator, luqiao) = (Actor::Cli { os_user: "test".into() }, RegionCode::parse("331004").unwrap());
    let backfilled = w.engine.backfill_checks(&operator, &luqiao, fq_engine::Horizon::Week, 13, false).await.unwrap();
    assert_eq!(backfilled.len(), 13);
    let filled = visit(&mut leader, "/heatmap?layer=forecast", StatusCode::OK).await;
    let listed = rows(&filled.body);
    assert_eq!(listed.len(), 13, "{listed:?}");
    assert!(
        listed[..4].iter().all(|r| !r.contains("取自档案")) && listed[4..].iter().all(|r| r.contains("取自档案")),
        "{listed:?}"
    );
    assert!(filled.body.contains("id=\"record-summary\"") && filled.body.contains("有检验的 13 期"), "the record is summed up");
    assert!(
        filled.body.contains("id=\"record-reliability\"") && filled.body.contains("Brier 分数"),
        "and its probabilities checked"
    );
    // The whole track record on its own page, linked from today's forecast: the 13 weeks in the
    // default year, each linking to its own map, the sum, and the same as a workbook.
    assert!(filled.body.contains("href=\"/heatmap/record?region=331004&amp;horizon=7d\""), "today's forecast links to it");
    let archive = visit(&mut leader, "/heatmap/record?region=331004&horizon=7d", StatusCode::OK).await;
    let periods = archive.body.split("id=\"record-periods\"").nth(1).unwrap().split("</table>").next().unwrap();
    assert_eq!(periods.matches("<tr>").count(), 14, "a header and 13 weeks: {periods}");
    assert!(periods.contains("layer=forecast") && periods.contains("PAI"), "{periods}");
    assert!(archive.body.contains("有检验的 13 期") && archive.body.contains("id=\"record-reliability\""), "summed up");
    let book = w.get(&mut leader, "/heatmap/record.xlsx?region=331004&horizon=7d").await;
    assert_eq!(
        (book.status, book.content_type.as_str()),
        (StatusCode::OK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    assert!(book.body.starts_with("PK"), "a workbook (a zip file)");
    // A span with nothing checked says how to fill it; a month has no record here.
    let empty = visit(&mut leader, "/heatmap/record?horizon=30d", StatusCode::OK).await;
    assert!(empty.body.contains("id=\"record-empty\"") && empty.body.contains("check-forecasts"), "{}", empty.body);
    // One category's own record: its weeks hold fewer events than every category's.
    let events_of = |body: &str| -> u64 {
        let summary = body.split("id=\"record-summary\">").nth(1).unwrap();
        summary.split("合计实际发生 ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
    };
    let one = visit(&mut leader, "/heatmap/record?category=dispute_labour", StatusCode::OK).await;
    assert!(one.body.contains("矛盾纠纷·劳资欠薪"), "the category is named");
    assert!(events_of(&one.body) < events_of(&archive.body), "one category's record, not every one's");
    // Refused by name, nothing read: a reversed span, an unknown category, a town, a bad horizon
    // (the reason is in the alert, not only in the form).
    for (path, named) in [
        ("/heatmap/record?from=2026-12-01&to=2026-01-01", "日期"),
        ("/heatmap/record?category=no_such", "no_such"),
        ("/heatmap/record?region=331004001", "331004001"),
        ("/heatmap/record?horizon=14d", "14d"),
    ] {
        let refused = visit(&mut leader, path, StatusCode::UNPROCESSABLE_ENTITY).await;
        let alert = refused.body.split("role=\"alert\">").nth(1).and_then(|a| a.split("</p>").next()).unwrap_or_default();
        assert!(alert.contains(named), "{path}: {alert}");
    }
    // A county code not in the division tree: named to a reader of the province (a county's
    // reader is refused it as outside their scope, before anything is looked up).
    let mut province = w.sign_in("demo-leader").await;
    let unknown = visit(&mut province, "/heatmap/record?region=331099", StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(unknown.body.contains("区划不存在"), "{}", unknown.body);
    assert_eq!(w.get(&mut leader, "/heatmap/record?region=331099").await.status, StatusCode::FORBIDDEN);
    let refused = w.get(&mut leader, "/heatmap/record.xlsx?category=no_such").await;
    assert_eq!((refused.status, refused.content_type.starts_with("text/html")), (StatusCode::UNPROCESSABLE_ENTITY, true));
    let mut stranger = w.sign_in("demo-putuo-reviewer").await;
    assert_eq!(w.get(&mut stranger, "/heatmap/record").await.status, StatusCode::FORBIDDEN, "no risk programme, no record");
    assert_eq!(w.get(&mut stranger, "/heatmap/record.xlsx").await.status, StatusCode::FORBIDDEN);
    // A risk analyst of another county reads their own county's record, not Luqiao's.
    let mut putuo = w.putuo_account("putuo-analyst", "普陀研判员", ("analyst", "330903")).await;
    let own = visit(&mut putuo, "/heatmap/record", StatusCode::OK).await;
    assert!(own.body.contains("普陀区") && own.body.contains("id=\"record-empty\""), "their own county, nothing checked");
    for path in ["/heatmap/record?region=331004", "/heatmap/record.xlsx?region=331004"] {
        let refused = w.get(&mut putuo, path).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!refused.body.contains("record-periods") && !refused.body.starts_with("PK"), "{path}");
    }
    let month = visit(&mut leader, "/heatmap?layer=forecast&horizon=30d", StatusCode::OK).await;
    assert!(month.body.contains("30 天内至少发生一起") && month.body.contains("按与最高网格之比着色"), "a month is shaded");
    assert!(month.body.contains("horizon=30d"), "downloads keep the horizon");
    // A category the form kept from another programme is dropped for the forecast (every risk
    // category), not refused with a page that has no form to change it.
    let kept = visit(&mut leader, "/heatmap?layer=forecast&programme=demo&category=no_such", StatusCode::OK).await;
    assert!(
        kept.body.contains("7 天内至少发生一起") && kept.body.contains("矛盾纠纷·劳资欠薪、"),
        "every risk category forecast"
    );
    let fortnight = visit(&mut leader, "/heatmap?layer=forecast&horizon=14d", StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(fortnight.body.contains("14d"), "the bad horizon is named");
    assert!(
        forecast.body.contains("programme=risk_events") && forecast.body.contains("layer=forecast"),
        "downloads keep the query"
    );
    let drawing = w.get(&mut leader, "/heatmap.svg?layer=forecast").await;
    assert_eq!((drawing.status, drawing.content_type.as_str()), (StatusCode::OK, "image/svg+xml"));
    assert!(drawing.body.starts_with("<svg") && drawing.body.contains("风险预测图") && drawing.body.contains("红色"));
    let picture = w.get(&mut leader, "/heatmap.png?programme=demo").await;
    assert_eq!((picture.status, picture.content_type.as_str()), (StatusCode::OK, "image/png"));
    assert!(picture.body.get(1..8).is_some_and(|b| b.contains("PNG")) || picture.body.contains("PNG\r\n"), "a PNG file");
    let bad = w.get(&mut leader, "/heatmap.png?region=3310").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "a bad region is named, not drawn");
    let mut outsider = w.sign_in("demo-putuo-reviewer").await;
    assert_eq!(w.get(&mut outsider, "/heatmap.svg").await.status, StatusCode::FORBIDDEN, "no programme of the map, no drawing");
    for by in ["region", "channel", "station", "category", "month"] {
        visit(&mut leader, &format!("/figures?programme=finance&by={by}"), StatusCode::OK).await;
    }
    let mut admin = w.sign_in("demo-admin").await;
    visit(&mut admin, "/admin", StatusCode::OK).await;
    visit(&mut admin, &format!("/admin/orgs/{org}"), StatusCode::OK).await;
    visit(&mut admin, "/admin/grids?region=331004", StatusCode::OK).await;
    visit(&mut admin, "/admin/open311", StatusCode::OK).await;
    let mut reviewer = w.sign_in("demo-putuo-reviewer").await;
    let work = visit(&mut reviewer, "/", StatusCode::OK).await;
    assert!(work.body.contains("下一件分配给我的案件"), "assignment-only roles see their next case");
    // The inspection review's oversight pages, for its supervisor; a wrong month is named.
    let mut supervisor = w.sign_in("demo-jinhua-supervisor").await;
    let ranking = visit(&mut supervisor, "/inspection/ranking", StatusCode::OK).await;
    assert!(ranking.body.contains("330702-S0"), "the demo stations are ranked");
    let bad = visit(&mut supervisor, "/inspection/ranking?month=2026-13", StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(bad.body.contains("月份应为 YYYY-MM"));
    let evaluation = visit(&mut supervisor, "/inspection/evaluation", StatusCode::OK).await;
    assert!(evaluation.body.contains("金东区") && evaluation.body.contains("义乌市"));
    visit(&mut supervisor, "/inspection/evaluation?from=2026-12-01&to=2026-11-01", StatusCode::UNPROCESSABLE_ENTITY).await;
    // Not for the reviewers.
    visit(&mut reviewer, "/inspection/ranking", StatusCode::FORBIDDEN).await;
    // The risk warnings board, for the grid worker; a wrong day is named.
    let mut grid = w.sign_in("demo-luqiao-grid").await;
    let board = visit(&mut grid, "/warnings", StatusCode::OK).await;
    assert!(board.body.contains("红色") && board.body.contains("日结汇总"), "{}", board.body);
    visit(&mut grid, "/warnings?day=tomorrow", StatusCode::UNPROCESSABLE_ENTITY).await;
    visit(&mut grid, "/warnings?day=-262143-01-01", StatusCode::UNPROCESSABLE_ENTITY).await;
    let library = visit(&mut grid, "/warnings?category=dispute_neighbour", StatusCode::OK).await;
    assert!(library.body.contains("楼上漏水引发邻里纠纷"), "the cleared demo warning is in the library");
    let none = visit(&mut grid, "/warnings?category=fire&q=%E6%BC%8F%E6%B0%B4", StatusCode::OK).await;
    assert!(none.body.contains("没有符合条件的已销号预警"));
    visit(&mut reviewer, "/warnings", StatusCode::FORBIDDEN).await;
    // The 72-hour trace's form, for the risk analyst (the trace itself has its own test).
    let mut analyst = w.sign_in("demo-putuo-tracer").await;
    visit(&mut analyst, "/trace", StatusCode::OK).await;

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let pages: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".html").map(str::to_owned))
        .filter(|name| name != "layout")
        .collect();
    assert_eq!(seen, pages, "every page template was rendered (layout and partials with them)");
    let partials: Vec<String> =
        std::fs::read_dir(dir.join("partials")).unwrap().filter_map(|e| e.ok()?.file_name().into_string().ok()).collect();
    assert!(partials.len() >= 5, "{partials:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_hold_the_current_filter() {
    let w = World::new().await;
    let mut intake = w.sign_in("demo-luqiao-intake").await;
    let reply = w.get(&mut intake, "/export/cases.csv?programme=demo&region=331004").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("text/csv"));
    let text = reply.body.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "编号,业务,类型,事由,状态,紧急程度,区划代码,地点,承办单位,登记时间,办结时间,期限,黄牌,红牌"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 12, "the twelve Luqiao demo cases");
    assert!(rows.iter().all(|r| r.starts_with("YS") && r.contains(",331004")), "{rows:?}");
    assert!(!text.contains("1380000"), "no phone number in an export");

    let reply = w.get(&mut intake, "/export/cases.xlsx?programme=demo").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.contains("spreadsheetml"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_reads_the_dashboard() {
    let w = World::new().await;
    let mut leader = w.sign_in("demo-luqiao-leader").await;
    let page = w.get(&mut leader, "/dashboard?kpi=closed").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("数据看板") && page.body.contains("按时办结率"));
    assert!(page.body.contains(r#"data-county="331004""#), "the county map is drawn from the real polygons");
    assert!(page.body.matches("<path d=\"M").count() >= 9, "台州 has nine counties");
    assert!(page.body.contains("<polyline"), "the trend is drawn");
    let bad = w.get(&mut leader, "/dashboard?from=2026-13-01").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A clerk whose role reads no figures of another county is refused.
    let other = w.get(&mut leader, "/dashboard?region=330903").await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_countys_handler_is_told_the_case_does_not_exist() {
    let w = World::new().await;
    let number = luqiao_case(&w).await;
    let mut putuo = w.putuo_handler().await;
    let reply = w.get(&mut putuo, &format!("/cases/{number}")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("记录不存在，或您无权查看"));
    assert!(!reply.body.contains("【演示】"), "no data of the case leaks");
    let csrf = putuo.csrf.clone().unwrap();
    let reply = w.post(&putuo, &format!("/cases/{number}/actions/edit"), &[("csrf", &csrf), ("f.description", "x")]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Nor is a clerk an administrator.
    assert_eq!(w.get(&mut putuo, "/admin").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_assigns_a_returned_case_from_the_board() {
    let w = World::new().await;
    // A Luqiao case accepted (dispatched by region), then returned by its unit: it waits.
    let fields = serde_json::json!({"title": "退回待派的纠纷", "category": "neighbour"});
    let request = fq_engine::OpenCase {
        programme: "demo".into(),
        kind: "dispute".into(),
        priority: None,
        region: "331004001".into(),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: fields.as_object().unwrap().clone(),
    };
    let case = w.engine.open_case(&Actor::System, request).await.unwrap().case;
    let accepted = w.engine.act_on_case(&Actor::System, case.id, "accept", Default::default(), None).await.unwrap().case;
    let unit = accepted.unit.expect("accepting dispatches");
    let request = NewAccount {
        login: "unit-handler".into(),
        display_name: "承办单位承办人".into(),
        org: unit.0,
        password: Some(PASSWORD.into()),
        grants: vec![("handler".into(), "331004".into(), None)],
    };
    w.engine.create_account(&Actor::System, request).await.unwrap();
    let handler = w.engine.authenticate_password("unit-handler", PASSWORD).await.unwrap();
    let reason = serde_json::json!({"reason": "不属于本单位职责"});
    w.engine.act_on_case(&handler, case.id, "return", reason.as_object().unwrap().clone(), None).await.unwrap();

    let mut dispatcher = w.sign_in("demo-luqiao-dispatcher").await;
    let board = w.get(&mut dispatcher, "/dispatch").await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(board.body.contains(&case.number) && board.body.contains("待派单"), "{}", board.body);
    let form = format!(r#"action="/cases/{}/actions/assign""#, case.number);
    assert!(board.body.contains(&form), "the assign form is on the board");
    assert!(board.body.contains("承办单位当前负荷") && board.body.contains("【演示】路桥区人民法院"), "the units' load");
    let court = w.engine.organisations_within(&Actor::System, &RegionCode::parse("331004").unwrap()).await.unwrap();
    let court = court.iter().find(|o| o.name.contains("法院")).unwrap().id.to_string();
    let csrf = dispatcher.csrf.clone().unwrap();
    let path = format!("/cases/{}/actions/assign", case.number);
    let stale = w.post(&dispatcher, &path, &[("csrf", &csrf), ("version", "1"), ("f.to_unit", &court)]).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY, "a board left open is refused");
    let current = w.engine.find_case(&Actor::System, &case.number).await.unwrap().case.version.to_string();
    let back = "/dispatch?programme=demo";
    let reply =
        w.post(&dispatcher, &path, &[("csrf", &csrf), ("version", &current), ("back", back), ("f.to_unit", &court)]).await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some(back)), "{}", reply.body);
    let now = w.engine.find_case(&Actor::System, &case.number).await.unwrap().case;
    assert_eq!((now.state.as_str(), now.unit.map(|u| u.to_string())), ("handling", Some(court)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_creates_an_organisation_and_an_account_then_disables_it() {
    let w = World::new().await;
    let mut admin = w.sign_in("demo-admin").await;
    w.get(&mut admin, "/admin").await;
    let csrf = admin.csrf.clone().unwrap();
    let reply = w.post(&admin, "/admin/orgs", &[("csrf", &csrf), ("name", ""), ("kind", "station"), ("region", "331004")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "a name is needed");
    let reply = w
        .post(&admin, "/admin/orgs", &[("csrf", &csrf), ("name", "路桥街道调解站"), ("kind", "station"), ("region", "331004001")])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let org_page = reply.location.unwrap();
    let org_path = org_page.split('?').next().unwrap().to_owned();
    let page = w.get(&mut admin, &org_page).await;
    assert!(page.body.contains("单位已创建") && page.body.contains("路桥街道调解站"));

    let account = [
        ("csrf", csrf.as_str()),
        ("login", "ljd-mediator"),
        ("display_name", "调解员甲"),
        ("password", "short"),
        ("role", "handler"),
        ("region", "331004001"),
    ];
    let reply = w.post(&admin, &format!("{org_path}/accounts"), &account).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains(r#"id="acc-password-error""#), "{}", reply.body);
    let mut account = account.to_vec();
    account[3] = ("password", PASSWORD);
    let reply = w.post(&admin, &format!("{org_path}/accounts"), &account).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = w.get(&mut admin, reply.location.as_deref().unwrap()).await;
    assert!(page.body.contains("ljd-mediator") && page.body.contains("承办人"), "{}", page.body);
    w.sign_in("ljd-mediator").await;

    let org = org_path.trim_start_matches("/admin/orgs/");
    let reply = w
        .post(
            &admin,
            "/admin/accounts/disabled",
            &[("csrf", &csrf), ("org", org), ("login", "ljd-mediator"), ("disabled", "true")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let refused = w.login_form("ljd-mediator", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "a disabled account cannot sign in");

    // Grids: a county covered again with larger generated cells; a wrong size is named.
    let reply = w.post(&admin, "/admin/grids/generate", &[("csrf", &csrf), ("county", "331004"), ("cell_metres", "50")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("方格边长应为"), "{}", reply.body);
    let reply = w.post(&admin, "/admin/grids/generate", &[("csrf", &csrf), ("county", "331004"), ("cell_metres", "3000")]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = w.get(&mut admin, reply.location.as_deref().unwrap()).await;
    assert!(page.body.contains("个演示网格") && page.body.contains("路桥区的网格"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_province_administrator_chooses_the_nightly_open311_servers() {
    let w = World::new().await;
    // A county's administrator has the administration pages but not the province's servers.
    let luqiao = RegionCode::parse("331004").unwrap();
    let org = w.engine.organisations_within(&Actor::System, &luqiao).await.unwrap()[0].id.0;
    let request = NewAccount {
        login: "luqiao-admin".into(),
        display_name: "路桥区管理员".into(),
        org,
        password: Some(PASSWORD.into()),
        grants: vec![("admin".into(), "331004".into(), None)],
    };
    w.engine.create_account(&Actor::System, request).await.unwrap();
    let mut county = w.sign_in("luqiao-admin").await;
    let grids = w.get(&mut county, "/admin/grids").await;
    assert!(grids.body.contains("/admin/grids") && !grids.body.contains("/admin/open311"), "no link to what it cannot open");
    assert_eq!(w.get(&mut county, "/admin/open311").await.status, StatusCode::FORBIDDEN);
    let csrf = county.csrf.clone().unwrap();
    let portal = "http://10.0.0.5:8080/open311/v2";
    let reply = w.post(&county, "/admin/open311/add", &[("csrf", &csrf), ("source", "open311_portal"), ("url", portal)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(w.engine.open311_pulls().await.unwrap().is_empty(), "a refusal changes nothing");

    let mut admin = w.sign_in("demo-admin").await;
    let page = w.get(&mut admin, "/admin/open311").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("还没有每晚拉取的服务器") && page.body.contains(r#"<option value="open311_portal""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"<option value="grid_patrol""#), "only sources that read Open311 requests are offered");
    let csrf = admin.csrf.clone().unwrap();
    // A bad address is named next to its field, the form kept, nothing stored.
    let reply =
        w.post(&admin, "/admin/open311/add", &[("csrf", &csrf), ("source", "open311_portal"), ("url", "10.0.0.5/open311")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains(r#"id="o-url-err""#) && reply.body.contains(r#"value="10.0.0.5&#x2f;open311""#),
        "{}",
        reply.body
    );
    let reply = w.post(&admin, "/admin/open311/add", &[("csrf", &csrf), ("source", "grid_patrol"), ("url", portal)]).await;
    assert!(reply.status == StatusCode::UNPROCESSABLE_ENTITY && reply.body.contains(r#"id="o-source-err""#), "{}", reply.body);
    assert!(w.engine.open311_pulls().await.unwrap().is_empty());
    // Without the form's token: refused.
    let reply = w.post(&admin, "/admin/open311/add", &[("source", "open311_portal"), ("url", portal)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    let reply = w.post(&admin, "/admin/open311/add", &[("csrf", &csrf), ("source", "open311_portal"), ("url", portal)]).await;
    assert_eq!((reply.status, reply.location.as_deref()), (StatusCode::SEE_OTHER, Some("/admin/open311?done=added")));
    let page = w.get(&mut admin, "/admin/open311?done=added").await;
    assert!(
        page.body.contains("服务器已添加") && page.body.contains(portal) && page.body.contains("演示管理员"),
        "{}",
        page.body
    );
    let again = w
        .post(&admin, "/admin/open311/add", &[("csrf", &csrf), ("source", "open311_portal"), ("url", &format!("{portal}/"))])
        .await;
    assert_eq!(again.location.as_deref(), Some("/admin/open311?done=present"), "the same server, written with a slash");
    assert_eq!(w.engine.open311_pulls().await.unwrap().len(), 1);

    let reply = w.post(&admin, "/admin/open311/remove", &[("csrf", &csrf), ("source", "open311_portal"), ("url", portal)]).await;
    assert_eq!(reply.location.as_deref(), Some("/admin/open311?done=removed"));
    assert!(w.engine.open311_pulls().await.unwrap().is_empty());
    let reply = w.post(&admin, "/admin/open311/remove", &[("csrf", &csrf), ("source", "open311_portal"), ("url", portal)]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "a server no longer listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_financial_disputes_show_every_step() {
    let w = World::new().await;
    let mut mediator = w.sign_in("demo-luqiao-mediator").await;
    let page = w.get(&mut mediator, "/cases?programme=finance&region=331004").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for state in
        ["待受理", "金融机构先行处理", "行业调解中", "小额快速赔付", "已达成协议（履行监督）", "司法确认审查中", "已办结"]
    {
        assert!(page.body.contains(state), "no demo financial dispute is at {state}: {}", page.body);
    }
    assert!(page.body.contains("共 7 件"), "{}", page.body);
    // A session held at sea, entered now with the time it was held (a browser's date-and-time
    // input, Beijing time); a time in the future is refused and named.
    let number = first_number(&w.get(&mut mediator, "/cases?programme=finance&state=mediation").await.body, "JR");
    let page = w.get(&mut mediator, &format!("/cases/{number}")).await;
    assert!(page.body.contains("行业调解中") && page.body.contains(r#"type="datetime-local""#), "{}", page.body);
    let version = hidden(&page.body, "version").unwrap();
    let csrf = mediator.csrf.clone().unwrap();
    let beijing = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&fq_domain::calendar::beijing()).format("%Y-%m-%dT%H:%M").to_string()
    };
    let now = w.engine.current_time();
    let session = |held: String| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("version".to_owned(), version.clone()),
            ("f.held_at".to_owned(), held),
            ("f.method".to_owned(), "at_sea".to_owned()),
            ("f.participants".to_owned(), "调解员、申请人、银行代表".to_owned()),
        ]
    };
    let path = format!("/cases/{number}/actions/record_session");
    let path = path.as_str();
    let future = session(beijing(now + chrono::Duration::days(1)));
    let pairs: Vec<(&str, &str)> = future.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = w.post(&mediator, path, &pairs).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert!(reply.body.contains("时间不能晚于现在"), "{}", reply.body);
    let held = now - chrono::Duration::hours(30);
    let past = session(beijing(held));
    let pairs: Vec<(&str, &str)> = past.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let reply = w.post(&mediator, path, &pairs).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let id = w.engine.find_case(&Actor::System, &number).await.unwrap().case.id;
    let rows = w.engine.store().stream_events(&id.stream()).await.unwrap();
    let last = rows.last().unwrap();
    let minute = |t: chrono::DateTime<chrono::Utc>| t.timestamp() / 60;
    assert_eq!(last.occurred_at.map(minute), Some(minute(held)), "{last:?}");
    // The history reads it at the time it was held, saying it was entered later, and the
    // respondent institution reads as its name, not its id.
    let page = w.get(&mut mediator, &format!("/cases/{number}")).await;
    let held_text = held.with_timezone(&fq_domain::calendar::beijing()).format("%Y-%m-%d %H:%M").to_string();
    assert!(page.body.contains(&held_text) && page.body.contains("补录"), "{}", page.body);
    assert!(page.body.contains("记录调解会") && page.body.contains("海上调解"), "{}", page.body);
    assert!(page.body.contains("被申请金融机构（单位）：【演示】某银行路桥区支行"), "{}", page.body);

    // The intake form offers the programme's own channels.
    let mut intake = w.sign_in("demo-luqiao-intake").await;
    let form = w.get(&mut intake, "/intake/finance/dispute").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("共享法庭") && form.body.contains("法院委派"), "{}", form.body);
    assert!(!form.body.contains("网格员上报") && !form.body.contains("Open311 接口"), "{}", form.body);
    assert!(!form.body.contains("司法确认裁定书文号") && !form.body.contains("协议金额"), "filled in later: {}", form.body);
    // Where it is received: the clerk's unit by default, or a registered station or shared court.
    assert!(form.body.contains(r#"<select id="intake_org" name="intake_org">"#), "{}", form.body);
    assert!(form.body.contains("【演示】路桥区消保服务站") && form.body.contains("共享法庭"), "{}", form.body);

    // The bank's desk lists only what is with the bank (its grant is narrowed to the bank).
    let mut bank = w.sign_in("demo-luqiao-bank").await;
    let page = w.get(&mut bank, "/cases?programme=finance").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("共 1 件") && page.body.contains("保险理赔金额争议"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_maritime_disputes_show_every_step_and_a_session_held_at_sea() {
    let w = World::new().await;
    let mut mediator = w.sign_in("demo-putuo-mediator").await;
    let page = w.get(&mut mediator, "/cases?programme=maritime&region=330903").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for state in ["待受理", "调解中", "已达成协议（履行监督）", "司法确认审查中", "已办结", "已转诉讼或仲裁"]
    {
        assert!(page.body.contains(state), "no demo maritime dispute is at {state}: {}", page.body);
    }
    assert!(page.body.contains("共 6 件"), "{}", page.body);
    // The case in mediation: its session at sea reads at the time it was held, entered later.
    let number = first_number(&w.get(&mut mediator, "/cases?programme=maritime&state=mediation").await.body, "HS");
    let page = w.get(&mut mediator, &format!("/cases/{number}")).await;
    assert!(page.body.contains("调解中") && page.body.contains("海上调解") && page.body.contains("补录"), "{}", page.body);
    // Luqiao's mediator sees none of Putuo's maritime cases.
    let mut luqiao = w.sign_in("demo-luqiao-mediator").await;
    let page = w.get(&mut luqiao, "/cases?programme=maritime").await;
    assert!(page.body.contains("共 0 件"), "{}", page.body);
}

/// The first case number with `prefix` linked from a list page (numbers carry the year, so tests
/// look them up rather than name them).
fn first_number(body: &str, prefix: &str) -> String {
    let start =
        body.find(&format!(r#"href="/cases/{prefix}"#)).expect("a case of that programme is listed") + r#"href="/cases/"#.len();
    body[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_reads_the_dispute_figures_and_drills_down() {
    let w = World::new().await;
    let mut leader = w.sign_in("demo-luqiao-leader").await;
    let page = w.get(&mut leader, "/figures?programme=finance&by=channel").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for label in ["化解成功率", "一线化解率", "线上化解率", "协议履行率", "受理量同比", "按受理渠道分组"]
    {
        assert!(page.body.contains(label), "the figures page shows {label}");
    }
    // The demo's financial disputes in 路桥区, each counted once, whatever the breakdown.
    let cases = |body: &str| -> u64 {
        let at = body.find(r#"data-kpi="fig.cases""#).expect("the cases card");
        let value = &body[at..];
        let start = value.find(r#"class="value">"#).unwrap() + r#"class="value">"#.len();
        value[start..start + value[start..].find('<').unwrap()].parse().unwrap()
    };
    let total = cases(&page.body);
    assert!(total >= 5, "the demo seeds financial disputes in 路桥区 ({total})");
    assert!(page.body.contains("channel=station"), "a channel row drills down to that channel");
    let drilled = w.get(&mut leader, "/figures?programme=finance&by=category&channel=station").await;
    assert_eq!(drilled.status, StatusCode::OK);
    assert!(cases(&drilled.body) < total && drilled.body.contains("当前下钻条件"), "narrowed to the station channel");
    let by_month = w.get(&mut leader, "/figures?programme=finance&by=month").await;
    assert_eq!(cases(&by_month.body), total);
    // Refusals: a bad period, another county, and a figure-less programme.
    assert_eq!(w.get(&mut leader, "/figures?programme=finance&from=2026-02-30").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.get(&mut leader, "/figures?programme=finance&region=330602").await.status, StatusCode::FORBIDDEN);
    // The bank's liaison reads only its own organisation's cases: no aggregates.
    let mut bank = w.sign_in("demo-luqiao-bank").await;
    assert_eq!(w.get(&mut bank, "/figures?programme=finance").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mediator_produces_the_agreement_as_a_pdf_and_it_is_journaled() {
    let w = World::new().await;
    let mut mediator = w.sign_in("demo-luqiao-mediator").await;
    let number = first_number(&w.get(&mut mediator, "/cases?programme=finance&state=agreed").await.body, "JR");
    let page = w.get(&mut mediator, &format!("/cases/{number}")).await;
    for code in ["mediation_application", "mediation_agreement", "confirmation_application"] {
        assert!(page.body.contains(&format!(r#"data-document="{code}""#)), "{code} is offered on an agreed case");
    }
    let csrf = mediator.csrf.clone().unwrap();
    let pdf = w.post(&mediator, &format!("/cases/{number}/documents/mediation_agreement"), &[("csrf", &csrf)]).await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.body.starts_with("%PDF-") && pdf.body.contains("/FontFile"), "a PDF with its font embedded");
    let id = w.engine.find_case(&Actor::System, &number).await.unwrap().case.id;
    let audit = w.engine.store().stream_events(&format!("access:case:{id}")).await.unwrap();
    assert!(audit.iter().any(|e| e.kind == "case.document_produced"), "producing a document is journaled");

    // Refusals: no CSRF token; a document the kind does not have; one not yet due in this state.
    let forged = w.post(&mediator, &format!("/cases/{number}/documents/mediation_agreement"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unknown = w.post(&mediator, &format!("/cases/{number}/documents/will"), &[("csrf", &csrf)]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let waiting = first_number(&w.get(&mut mediator, "/cases?programme=finance&state=mediation").await.body, "JR");
    let early = w.post(&mediator, &format!("/cases/{waiting}/documents/mediation_agreement"), &[("csrf", &csrf)]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "no agreement yet");
    // A leader reads figures, not the parties' ID numbers: no documents.
    let mut leader = w.sign_in("demo-luqiao-leader").await;
    let leader_page = w.get(&mut leader, &format!("/cases/{number}")).await;
    assert!(!leader_page.body.contains("data-document="), "documents are not offered without personal-data rights");
    let lcsrf = leader.csrf.clone().unwrap();
    let denied = w.post(&leader, &format!("/cases/{number}/documents/mediation_agreement"), &[("csrf", &lcsrf)]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registry_lists_stations_and_shared_courts_with_their_hosts() {
    let w = World::new().await;
    let mut intake = w.sign_in("demo-luqiao-intake").await;
    let page = w.get(&mut intake, "/registry").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("消保服务站") && page.body.contains("共享法庭"), "{}", page.body);
    assert!(page.body.contains("某银行路桥区支行"), "a station shows the bank that hosts it");
    // Another county's intake clerk sees only their own county's points; a handler who takes
    // no intake and reads no figures has no registry.
    let mut putuo_intake = w.sign_in("demo-putuo-intake").await;
    let other = w.get(&mut putuo_intake, "/registry").await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.body.contains("某银行路桥区支行"), "{}", other.body);
    let mut handler = w.putuo_handler().await;
    assert_eq!(w.get(&mut handler, "/registry").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safety_coins_are_awarded_and_redeemed_within_the_balance() {
    let w = World::new().await;
    let mut grid = w.sign_in("demo-luqiao-grid").await;
    let page = w.get(&mut grid, "/coins").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("路桥区") && page.body.contains("参加平安巡防"), "the county's page with the rules");
    let csrf = grid.csrf.clone().unwrap();
    let resident = [("csrf", csrf.as_str()), ("region", "331004"), ("name", "居民乙"), ("id_number", "331004199001010010")];
    let award = [&resident[..], &[("rule", "patrol"), ("note", "参加夜间巡防")][..]].concat();
    let done = w.post(&grid, "/coins/award", &award).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.location.unwrap();
    assert!(location.contains("entry=JB") && !location.contains("331004199001010010"), "no ID number in the address: {location}");
    let ledger = w.get(&mut grid, &location).await;
    assert!(ledger.body.contains("data-balance=\"20\"") && ledger.body.contains("331004**********10"), "{}", ledger.body);
    assert!(!ledger.body.contains("331004199001010010"), "the ID number is masked on screen");
    // More than the balance: refused with the reason, nothing entered.
    let too_much = [&resident[..], &[("rule", "redeem_goods"), ("coins", "50")][..]].concat();
    let refused = w.post(&grid, "/coins/redeem", &too_much).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("data-balance=\"20\""), "the ledger is unchanged");
    // The refused form keeps what was posted; the other form stays empty.
    assert_eq!(refused.body.matches(r#"value="居民乙""#).count(), 1, "{}", refused.body);
    assert!(refused.body.contains(r#"max="10000" value="50""#), "{}", refused.body);
    let spend = [&resident[..], &[("rule", "redeem_goods"), ("coins", "15")][..]].concat();
    let spent = w.post(&grid, "/coins/redeem", &spend).await;
    assert_eq!(spent.status, StatusCode::SEE_OTHER);
    let lookup = w
        .post(&grid, "/coins/lookup", &[("csrf", csrf.as_str()), ("region", "331004"), ("id_number", "331004199001010010")])
        .await;
    assert!(lookup.body.contains("data-balance=\"5\"") && lookup.body.contains("-15"), "{}", lookup.body);
    let bad = w.post(&grid, "/coins/lookup", &[("csrf", csrf.as_str()), ("region", "331004"), ("id_number", "12345")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = w.post(&grid, "/coins/award", &[("csrf", "forged"), ("region", "331004"), ("rule", "patrol")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // Another county's ledgers and roles without the programme: refused.
    assert_eq!(w.get(&mut grid, "/coins?region=330702").await.status, StatusCode::FORBIDDEN);
    let mut reviewer = w.sign_in("demo-putuo-reviewer").await;
    assert_eq!(w.get(&mut reviewer, "/coins").await.status, StatusCode::FORBIDDEN);
    // The grid worker has the forms; a leader reads the ledgers without them, and a posted
    // redemption is refused for the role.
    assert!(page.body.contains("action=\"/coins/redeem\"") && !page.body.contains("coins-read-only"));
    let mut leader = w.sign_in("demo-luqiao-leader").await;
    let read = w.get(&mut leader, "/coins?region=331004").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(read.body.contains("coins-read-only") && !read.body.contains("action=\"/coins/award\""), "{}", read.body);
    let leader_csrf = leader.csrf.clone().unwrap();
    let by_leader =
        [("csrf", leader_csrf.as_str()), ("region", "331004"), ("name", "居民乙"), ("id_number", "331004199001010010")];
    let spend = [&by_leader[..], &[("rule", "redeem_goods"), ("coins", "1")][..]].concat();
    assert_eq!(w.post(&leader, "/coins/redeem", &spend).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analyst_traces_a_boat_from_the_county_feed() {
    let w = World::new().await;
    let mut analyst = w.sign_in("demo-putuo-tracer").await;
    let form = w.get(&mut analyst, "/trace").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("72小时轨迹") && form.body.contains("name=\"id\""));
    let csrf = analyst.csrf.clone().unwrap();
    let now = chrono::Utc::now().with_timezone(&fq_domain::calendar::beijing()).format("%Y-%m-%dT%H:%M").to_string();
    assert!(form.body.contains("name=\"same_minutes\" min=\"0\" max=\"30\" value=\"5\""), "the same time's default is offered");
    let ask = |id: &'static str, at: String, hours: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("id", id.to_owned()),
            ("at", at),
            ("hours", hours.to_owned()),
            ("within", "500".to_owned()),
            ("same_minutes", "5".to_owned()),
        ]
    };
    let post = |pairs: Vec<(&'static str, String)>| {
        let w = &w;
        let analyst = &analyst;
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            w.post(analyst, "/trace", &pairs).await
        }
    };
    let traced = post(ask("浙普渔演示03", now.clone(), "72")).await;
    assert_eq!(traced.status, StatusCode::OK, "{}", traced.body);
    assert!(traced.body.contains("<svg class=\"trace\"") && traced.body.contains("浙普渔演示04"), "{}", traced.body);
    assert!(traced.body.contains("使用的位置数据：普陀区"), "the feeds read are named");
    assert!(traced.body.contains("伴随：500 米以内，同时容差 5 分钟"), "the rule used is stated");
    // The same time: not a number, or beyond the half hour, is refused at its field.
    for minutes in ["soon", "31"] {
        let mut pairs = ask("浙普渔演示03", now.clone(), "72");
        pairs.last_mut().unwrap().1 = minutes.to_owned();
        let refused = post(pairs).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{minutes}");
        assert!(refused.body.contains("name=\"same_minutes\"") && refused.body.contains("aria-invalid=\"true\""), "{minutes}");
        assert!(refused.body.contains(&format!("value=\"{minutes}\"")), "the value is kept: {minutes}");
    }
    assert!(
        !traced.body.contains("id=\"disagree-h\"") && !traced.body.contains("class=\"doubt\""),
        "one county's feed: nothing to disagree with"
    );
    // 岱山县's feed puts boat 03 2 km north at one of its reports: a tracer of 舟山市, who reads
    // both counties' feeds, is shown where they disagree; 普陀区's tracer reads one copy only.
    let at = chrono::Utc::now();
    let track = w.engine.trace(&Actor::System, "浙普渔演示03", at, 72, 500.0, 5).await.unwrap().track;
    let doubted = &track[track.len() / 2];
    let off =
        format!("id,time,lat,lon\n浙普渔演示03,{},{:.5},{:.5}\n", doubted.at.to_rfc3339(), doubted.lat + 0.018, doubted.lon);
    let daishan = RegionCode::parse("330921").unwrap();
    w.engine.ingest_positions(&Actor::System, "ais", Some(&daishan), off.as_bytes()).await.unwrap();
    let city = w.putuo_account("zhoushan-tracer", "舟山轨迹研判员", ("tracer", "3309")).await;
    let pairs = [
        ("csrf", city.csrf.clone().unwrap()),
        ("id", "浙普渔演示03".to_owned()),
        ("at", now.clone()),
        ("hours", "72".to_owned()),
        ("within", "500".to_owned()),
        ("same_minutes", "5".to_owned()),
    ];
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let both = w.post(&city, "/trace", &pairs).await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.body);
    assert!(both.body.contains("位置数据不一致（1 处）"), "{}", both.body);
    assert_eq!(both.body.matches("<g class=\"doubt\">").count(), 1, "the other place is drawn");
    let copy = |county: &str, lat: f64| format!("{county} {:.5}, {:.5}", doubted.lon, lat);
    assert!(both.body.contains(&format!("demo_beidou {}", copy("普陀区", doubted.lat))), "the track's copy first: {}", both.body);
    assert!(both.body.contains(&format!("ais {}", copy("岱山县", doubted.lat + 0.018))), "then 岱山县's");
    // 岱山县's feed off at 150 more reports: the page lists and draws the first 100 and says
    // where the others are.
    let many: String = track
        .iter()
        .filter(|p| p.at != doubted.at)
        .take(150)
        .map(|p| format!("浙普渔演示03,{},{:.5},{:.5}\n", p.at.to_rfc3339(), p.lat + 0.018, p.lon))
        .collect();
    w.engine
        .ingest_positions(&Actor::System, "ais", Some(&daishan), format!("id,time,lat,lon\n{many}").as_bytes())
        .await
        .unwrap();
    let crowded = w.post(&city, "/trace", &pairs).await;
    assert!(crowded.body.contains("位置数据不一致（151 处）"), "{}", crowded.body);
    assert!(crowded.body.contains("最早的 100 处；全部 151 处"), "{}", crowded.body);
    assert_eq!(crowded.body.matches("<g class=\"doubt\">").count(), 100);
    // The same trace as a workbook: an attachment whose name does not say who was traced,
    // journaled as an export; a bad field answers the form again; a forged form is refused.
    let workbook = w.post(&city, "/trace/export.xlsx", &pairs).await;
    assert_eq!(workbook.status, StatusCode::OK, "{}", workbook.body);
    assert!(workbook.content_type.contains("spreadsheetml"), "{}", workbook.content_type);
    assert!(workbook.body.starts_with("PK"), "an xlsx is a zip");
    let exported = w.engine.store().stream_events("access:trace").await.unwrap().pop().unwrap();
    assert_eq!(exported.kind, "risk.trace_exported");
    assert!(
        exported.payload.contains("浙普渔演示03") && exported.payload.contains("\"disagreements\":151"),
        "{}",
        exported.payload
    );
    let mut bad = pairs.clone();
    bad[4].1 = "far";
    let refused = w.post(&city, "/trace/export.xlsx", &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("name=\"within\"") && refused.body.contains("aria-invalid=\"true\""));
    let mut forged_export = pairs.clone();
    forged_export[0].1 = "forged";
    assert_eq!(w.post(&city, "/trace/export.xlsx", &forged_export).await.status, StatusCode::FORBIDDEN);
    assert!(post(ask("浙普渔演示03", now.clone(), "72")).await.body.contains("伴随对象"));
    assert!(!post(ask("浙普渔演示03", now.clone(), "72")).await.body.contains("id=\"disagree-h\""), "普陀区's tracer: one copy");
    let unknown = post(ask("浙普渔演示99", now.clone(), "72")).await;
    assert!(unknown.status == StatusCode::OK && unknown.body.contains("没有此对象的报告"));
    let bad_time = post(ask("浙普渔演示03", "tomorrow".into(), "72")).await;
    assert_eq!(bad_time.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_time.body.contains("截至时间无效") && bad_time.body.contains("aria-invalid"));
    let too_long = post(ask("浙普渔演示03", now, "9999")).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY, "the engine's limit is shown: {}", too_long.body);
    let forged = w.post(&analyst, "/trace", &[("csrf", "forged"), ("id", "浙普渔演示03")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A leader of another county and a mediator of this one: no trace.
    for login in ["demo-luqiao-leader", "demo-putuo-mediator"] {
        let mut other = w.sign_in(login).await;
        assert_eq!(w.get(&mut other, "/trace").await.status, StatusCode::FORBIDDEN, "{login}");
        let page = w.get(&mut other, "/").await;
        assert!(!page.body.contains("href=\"/trace\""), "{login} is not offered the trace");
    }
}
