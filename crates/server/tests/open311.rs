//! Open311 GeoReport v2 over HTTP, in process on a temporary SQLite store: discovery, services,
//! service definitions, POST requests, GET requests and GET request, each in JSON and XML, with
//! their errors (bad api_key, unknown service_code, unknown request, bad dates...).
//!
//! Every response's STRUCTURE (element and key names, nesting, value types; not values) is
//! compared with real GeoReport responses from Washington DC and Boston and with the
//! specification's examples (tests/open311/, see SOURCE.txt there): every key they use must be
//! in ours, with a compatible type.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use fq_domain::actor::Actor;
use fq_engine::{Engine, NewAccount, NewOrganisation, OpenCase, Programmes};
use fq_server::AppState;
use fq_store::Store;
use fq_store_sqlite::{SqliteOptions, SqliteStore};
use quick_xml::events::Event;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

/// A point inside Luqiao district (331004), by its boundary in data/boundaries/county.geojson.
const LUQIAO: (f64, f64) = (28.58, 121.37);

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/open311/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cli() -> Actor {
    Actor::Cli { os_user: "test".into() }
}

struct World {
    _dir: tempfile::TempDir,
    app: axum::Router,
    engine: Engine,
    /// A token of an account with the intake role over Luqiao.
    token: String,
    /// A token of an account holding only the handler role there.
    handler_token: String,
    /// A town of Luqiao.
    town: String,
}

struct Reply {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    fn xml(&self) -> Node {
        assert!(self.text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"), "no XML declaration: {}", self.text);
        parse_xml(&self.text)
    }
}

impl World {
    async fn new() -> World {
        World::with_programmes(None).await
    }

    async fn with_programmes(programmes: Option<Programmes>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("fengqiao.db"), SqliteOptions::default()).await.unwrap());
        let mut engine = Engine::new(store);
        if let Some(programmes) = programmes {
            engine = engine.with_programmes(programmes);
        }
        engine.ensure_reference_data().await.unwrap();
        let org =
            NewOrganisation {
                name: "路桥区社会治理中心".into(), kind: "centre".into(), region: "331004".into(), parent: None
            };
        let org = engine.create_organisation(&cli(), org).await.unwrap().0.id.0;
        let token = account(&engine, "open311-intake", org, "intake").await;
        let handler_token = account(&engine, "open311-handler", org, "handler").await;
        let towns = engine.region_children(&fq_domain::region::RegionCode::parse("331004").unwrap()).await.unwrap();
        let app = fq_server::router(AppState::new(engine.clone()));
        World { _dir: dir, app, engine, token, handler_token, town: towns[0].code.to_string() }
    }

    async fn call(&self, method: Method, uri: &str, form: Option<&[(&str, &str)]>) -> Reply {
        let request = Request::builder().method(method).uri(uri).header(header::HOST, "open311.test");
        let request = match form {
            Some(pairs) => request
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(pairs).unwrap()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
        Reply { status, content_type, text: String::from_utf8(bytes.to_vec()).unwrap() }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri, None).await
    }

    async fn post(&self, uri: &str, form: &[(&str, &str)]) -> Reply {
        self.call(Method::POST, uri, Some(form)).await
    }

    /// Submits a dispute at the Luqiao point; returns its number.
    async fn submit(&self, description: &str) -> String {
        self.submit_to("demo.dispute", description).await
    }

    async fn submit_to(&self, service_code: &str, description: &str) -> String {
        let (lat, long) = (LUQIAO.0.to_string(), LUQIAO.1.to_string());
        let reply = self
            .post(
                "/open311/v2/requests.json",
                &[
                    ("api_key", &self.token),
                    ("service_code", service_code),
                    ("lat", &lat),
                    ("long", &long),
                    ("description", description),
                    ("attribute[category]", "neighbour"),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()[0]["service_request_id"].as_str().unwrap().to_owned()
    }
}

async fn account(engine: &Engine, login: &str, org: Uuid, role: &str) -> String {
    let request = NewAccount {
        login: login.into(),
        display_name: login.into(),
        org,
        password: None,
        grants: vec![(role.into(), "331004".into(), None)],
    };
    engine.create_account(&cli(), request).await.unwrap();
    engine.issue_token(&cli(), login, "open311", None).await.unwrap().secret
}

// ---- structure comparison ----

/// An XML element: its name, children and text.
#[derive(Debug, Clone, Default)]
struct Node {
    name: String,
    children: Vec<Node>,
    text: String,
}

fn parse_xml(text: &str) -> Node {
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack = vec![Node::default()];
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("bad XML ({e}): {text}")) {
            Event::Start(start) => stack.push(Node { name: start.name().as_ref().to_owned(), ..Node::default() }),
            Event::Empty(start) => {
                let node = Node { name: start.name().as_ref().to_owned(), ..Node::default() };
                stack.last_mut().unwrap().children.push(node);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let text = &mut stack.last_mut().unwrap().text;
                match r.resolve_char_ref().unwrap() {
                    Some(c) => text.push(c),
                    None => text.push_str(quick_xml::escape::resolve_predefined_entity(r.as_ref()).unwrap_or("?")),
                }
            }
            Event::CData(t) => stack.last_mut().unwrap().text.push_str(&t.into_inner()),
            Event::End(_) => {
                let node = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(node);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

/// What a leaf's text looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Leaf {
    Bool,
    DateTime,
    /// A number with a decimal point (coordinates).
    Decimal,
    /// Digits only: a count, or an identifier that happens to be numeric ("006").
    Integer,
    Text,
}

fn leaf_of(text: &str) -> Option<Leaf> {
    let text = text.trim();
    if text.is_empty() {
        None
    } else if text == "true" || text == "false" {
        Some(Leaf::Bool)
    } else if DateTime::parse_from_rfc3339(text).is_ok() {
        Some(Leaf::DateTime)
    } else if text.contains('.') && text.parse::<f64>().is_ok() {
        Some(Leaf::Decimal)
    } else if text.chars().all(|c| c.is_ascii_digit()) {
        Some(Leaf::Integer)
    } else {
        Some(Leaf::Text)
    }
}

/// The union of the structure of all elements of one name at one place: the children's shapes
/// by name and the kinds of text seen.
#[derive(Debug, Clone, Default)]
struct Shape {
    children: BTreeMap<String, Shape>,
    leaves: Vec<Leaf>,
    /// An element with no children seen (a leaf or an empty list).
    childless: bool,
}

fn shape_of(node: &Node) -> Shape {
    let mut shape = Shape::default();
    add_to_shape(&mut shape, node);
    shape
}

fn add_to_shape(shape: &mut Shape, node: &Node) {
    if node.children.is_empty() {
        shape.childless = true;
        if let Some(leaf) = leaf_of(&node.text) {
            shape.leaves.push(leaf);
        }
    }
    for child in &node.children {
        add_to_shape(shape.children.entry(child.name.clone()).or_default(), child);
    }
}

/// Elements that hold a list of one kind of item (JSON arrays).
const LISTS: [&str; 7] = ["services", "attributes", "values", "endpoints", "formats", "service_requests", "errors"];

/// May a value shown as `ours` stand where the real response had `real`?
fn compatible(real: Leaf, ours: Leaf) -> bool {
    match real {
        Leaf::Bool => ours == Leaf::Bool,
        Leaf::DateTime => ours == Leaf::DateTime,
        Leaf::Decimal => matches!(ours, Leaf::Decimal | Leaf::Integer),
        // Numeric identifiers are strings to the specification; counts stay numbers (checked in JSON).
        Leaf::Integer | Leaf::Text => true,
    }
}

/// Every element the real XML has (at each place) our XML has too, with compatible text.
fn assert_xml_covers(real: &Shape, ours: &Shape, path: &str) {
    for (name, real_child) in &real.children {
        let here = format!("{path}/{name}");
        let Some(our_child) = ours.children.get(name) else {
            panic!("{here}: the real response has it, ours does not (ours has {:?})", ours.children.keys().collect::<Vec<_>>())
        };
        if LISTS.contains(&name.as_str()) && our_child.children.is_empty() {
            panic!("{here}: our list is empty everywhere, so its items cannot be compared");
        }
        for real_leaf in &real_child.leaves {
            for our_leaf in &our_child.leaves {
                assert!(compatible(*real_leaf, *our_leaf), "{here}: real text is {real_leaf:?}, ours is {our_leaf:?}");
            }
        }
        assert_xml_covers(real_child, our_child, &here);
    }
}

/// Our JSON against the real XML's shape, as the specification maps XML to JSON: lists become
/// arrays (of the item's shape), elements with children objects, leaves scalars (or null when
/// absent). `is_list` says whether `shape` is a list element.
fn assert_json_matches_xml(shape: &Shape, ours: &Value, is_list: bool, path: &str) {
    if is_list {
        let items = ours.as_array().unwrap_or_else(|| panic!("{path}: a list in XML must be an array in JSON, not {ours}"));
        let (item_name, item_shape) = shape.children.iter().next().expect("a real list with items");
        for (n, item) in items.iter().enumerate() {
            assert_json_matches_xml(item_shape, item, LISTS.contains(&item_name.as_str()), &format!("{path}[{n}]"));
        }
        return;
    }
    if !shape.children.is_empty() {
        let object = ours.as_object().unwrap_or_else(|| panic!("{path}: must be an object, not {ours}"));
        for (name, child) in &shape.children {
            let here = format!("{path}.{name}");
            let value = object.get(name).unwrap_or_else(|| panic!("{here}: the real response has it, our JSON does not"));
            assert_json_matches_xml(child, value, LISTS.contains(&name.as_str()), &here);
        }
        return;
    }
    if ours.is_null() {
        return;
    }
    for leaf in &shape.leaves {
        let fits = match leaf {
            Leaf::Bool => ours.is_boolean(),
            Leaf::DateTime => ours.as_str().is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()),
            Leaf::Decimal => ours.is_number(),
            Leaf::Integer => ours.is_number() || ours.is_string(),
            Leaf::Text => ours.is_string(),
        };
        assert!(fits, "{path}: the real response has {leaf:?} here, ours has {ours}");
    }
}

/// Every key of the real JSON is in ours, with the same JSON type (or null).
fn assert_json_covers(real: &Value, ours: &Value, path: &str) {
    match (real, ours) {
        (_, Value::Null) | (Value::Null, _) => {}
        (Value::Object(real), Value::Object(ours)) => {
            for (key, value) in real {
                let here = format!("{path}.{key}");
                let mine = ours.get(key).unwrap_or_else(|| panic!("{here}: the real response has it, ours does not"));
                assert_json_covers(value, mine, &here);
            }
        }
        (Value::Array(real), Value::Array(ours)) => {
            assert!(real.is_empty() || !ours.is_empty(), "{path}: our array is empty");
            for (n, mine) in ours.iter().enumerate() {
                for value in real {
                    assert_json_covers(value, mine, &format!("{path}[{n}]"));
                }
            }
        }
        (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_)) => {}
        (real, ours) => panic!("{path}: the real response has {real}, ours has {ours}"),
    }
}

fn assert_error(reply: &Reply, status: StatusCode, xml: bool) {
    assert_eq!(reply.status, status, "{}", reply.text);
    if xml {
        assert!(reply.content_type.starts_with("text/xml"), "{}", reply.content_type);
        let real = shape_of(&parse_xml(&fixture("boston-err-submitrequest-base_is_duplicate.xml")));
        let ours = reply.xml();
        assert_eq!(ours.name, "errors");
        assert_xml_covers(&real, &shape_of(&ours), "/errors");
        assert_eq!(ours.children[0].children[0].text, status.as_u16().to_string());
    } else {
        assert!(reply.content_type.starts_with("application/json"), "{}", reply.content_type);
        let body = reply.json();
        let errors = body.as_array().unwrap_or_else(|| panic!("errors are an array: {body}"));
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["code"], json!(status.as_u16()), "{body}");
        assert!(errors[0]["description"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
        // The same structure as Boston's XML error.
        let real = shape_of(&parse_xml(&fixture("boston-err-submitrequest-base_is_duplicate.xml")));
        assert_json_matches_xml(&real, &body, true, "errors");
    }
}

// ---- the tests ----

#[tokio::test]
async fn discovery_services_and_definitions_have_the_real_structure() {
    let w = World::new().await;

    let reply = w.get("/open311/discovery.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("application/json"));
    let discovery = reply.json();
    let real: Value = serde_json::from_str(&fixture("discovery-boston.json")).unwrap();
    assert_json_covers(&real, &discovery, "discovery");
    assert_eq!(discovery["endpoints"][0]["url"], "http://open311.test/open311/v2");
    assert_eq!(discovery["endpoints"][0]["specification"], "http://wiki.open311.org/GeoReport_v2");

    let reply = w.get("/open311/discovery.xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("text/xml"), "{}", reply.content_type);
    let ours = reply.xml();
    assert_eq!(ours.name, "discovery");
    assert_xml_covers(&shape_of(&parse_xml(&fixture("discovery-dc.xml"))), &shape_of(&ours), "/discovery");

    // Services: only the public kinds (the demo's peer review is private).
    let real_services = shape_of(&parse_xml(&fixture("dc-services.xml")));
    let reply = w.get("/open311/v2/services.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let services = reply.json();
    assert_json_matches_xml(&real_services, &services, true, "services");
    let codes: Vec<&str> = services.as_array().unwrap().iter().map(|s| s["service_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["demo.dispute", "finance.dispute", "maritime.dispute"]);
    assert_eq!(services[0]["service_name"], "矛盾纠纷");
    assert_eq!(services[0]["metadata"], true);
    assert_eq!(services[0]["type"], "realtime");

    let reply = w.get("/open311/v2/services.xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    let ours = reply.xml();
    assert_eq!(ours.name, "services");
    assert_eq!(ours.children.len(), 3);
    assert_xml_covers(&real_services, &shape_of(&ours), "/services");

    // A service definition.
    let real_definition = shape_of(&parse_xml(&fixture("dc-services-S0301.xml")));
    let reply = w.get("/open311/v2/services/demo.dispute.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let definition = reply.json();
    assert_json_matches_xml(&real_definition, &definition, false, "service_definition");
    assert_eq!(definition["service_code"], "demo.dispute");
    let attributes: BTreeMap<&str, &Value> =
        definition["attributes"].as_array().unwrap().iter().map(|a| (a["code"].as_str().unwrap(), a)).collect();
    // Parties, attachments and the location cannot be expressed; the description is a parameter;
    // the outcome is filled in later (`intake = false`), not asked of the public.
    let codes: Vec<&str> = attributes.keys().copied().collect();
    assert_eq!(codes, ["amount", "category", "priority", "region", "title"]);
    assert_eq!(attributes["category"]["datatype"], "singlevaluelist");
    assert_eq!(attributes["category"]["description"], "纠纷类别");
    let categories = attributes["category"]["values"].as_array().unwrap();
    assert!(categories.iter().any(|v| v["key"] == "neighbour" && v["name"].as_str().is_some_and(|n| !n.is_empty())));
    assert_eq!(attributes["amount"]["datatype"], "number");
    assert_eq!(attributes["title"]["datatype"], "string");
    assert_eq!(attributes["title"]["required"], false, "the title is taken from the description");
    assert_eq!(attributes["region"]["datatype"], "string");
    assert_eq!(
        attributes["priority"]["values"],
        json!([{"key": "normal", "name": "normal"}, {"key": "urgent", "name": "urgent"}])
    );
    let orders: Vec<u64> = definition["attributes"].as_array().unwrap().iter().map(|a| a["order"].as_u64().unwrap()).collect();
    assert_eq!(orders, (1..=5).collect::<Vec<u64>>());

    let reply = w.get("/open311/v2/services/demo.dispute.xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    let ours = reply.xml();
    assert_eq!(ours.name, "service_definition");
    assert_xml_covers(&real_definition, &shape_of(&ours), "/service_definition");

    // Unknown and non-public services do not exist.
    for format in ["json", "xml"] {
        for code in ["demo.peer_review", "demo.nothing", "nothing", "x.y.z"] {
            let reply = w.get(&format!("/open311/v2/services/{code}.{format}")).await;
            assert_error(&reply, StatusCode::NOT_FOUND, format == "xml");
        }
        assert_error(&w.get(&format!("/open311/v2/tokens/1.{format}")).await, StatusCode::NOT_FOUND, format == "xml");
        assert_error(&w.get(&format!("/open311/v2/nothing.{format}")).await, StatusCode::NOT_FOUND, format == "xml");
    }
    assert_error(&w.get("/open311/v2/services.csv").await, StatusCode::NOT_FOUND, false);
    assert_error(&w.get("/open311/discovery.txt").await, StatusCode::NOT_FOUND, false);
}

#[tokio::test]
async fn posting_requests_opens_cases_as_the_tokens_account() {
    let w = World::new().await;
    let (lat, long) = (LUQIAO.0.to_string(), LUQIAO.1.to_string());

    // lat/long inside Luqiao: the county; JSON.
    let reply = w
        .post(
            "/open311/v2/requests.json",
            &[
                ("api_key", &w.token),
                ("service_code", "demo.dispute"),
                ("lat", &lat),
                ("long", &long),
                ("address_string", "路桥区某街道某号"),
                ("description", "楼上漏水\n已协商两次未果"),
                ("first_name", "三"),
                ("last_name", "张"),
                ("phone", "13800001234"),
                ("email", "zhang@example.invalid"),
                ("attribute[category]", "neighbour"),
                ("attribute[amount]", "1200.50"),
                ("attribute[priority]", "urgent"),
                ("jurisdiction_id", "331004"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let created = reply.json();
    // The same structure as the specification's answer (service_request_id instead of a token).
    let real = shape_of(&parse_xml(&fixture("token.xml")));
    let mut without_token = real.clone();
    without_token.children.get_mut("request").unwrap().children.remove("token");
    assert_json_matches_xml(&without_token, &created, true, "service_requests");
    let number = created[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(number.starts_with("YS"), "{number}");
    assert!(created[0]["service_notice"].as_str().unwrap().starts_with("待受理"), "{created}");

    let stored = w.engine.case_view(&cli(), w.engine.store().case_id_by_number(&number).await.unwrap().unwrap()).await.unwrap();
    let case = &stored.case;
    assert_eq!(case.region.as_str(), "331004");
    assert_eq!(case.channel, "open311");
    assert_eq!(case.priority, "urgent");
    assert_eq!(case.fields["title"].to_json(), json!("楼上漏水"));
    assert_eq!(case.fields["description"].to_json(), json!("楼上漏水\n已协商两次未果"));
    assert_eq!(case.fields["category"].to_json(), json!("neighbour"));
    assert_eq!(case.fields["amount"].to_json(), json!(1200.5));
    assert_eq!(case.fields["location"].to_json(), json!({"lon": LUQIAO.1, "lat": LUQIAO.0}));
    assert_eq!(case.fields["applicant"].to_json()["name"], "张三");
    let intake = w.engine.authenticate_token(&w.token).await.unwrap();
    assert_eq!(case.requester, intake.journal_name());

    // A town code in attribute[region], XML; the answer has Boston's and the specification's shape.
    let reply = w
        .post(
            "/open311/v2/requests.xml",
            &[
                ("api_key", &w.token),
                ("service_code", "demo.dispute"),
                ("attribute[region]", &w.town),
                ("description", "装修噪音"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let ours = reply.xml();
    assert_eq!(ours.name, "service_requests");
    let boston = shape_of(&parse_xml(&fixture("boston-submitrequest-token.xml")));
    assert_eq!(boston.children.keys().collect::<Vec<_>>(), shape_of(&ours).children.keys().collect::<Vec<_>>());
    assert_xml_covers(&without_token, &shape_of(&ours), "/service_requests");
    let number = &ours.children[0].children[0].text;
    let id = w.engine.store().case_id_by_number(number).await.unwrap().unwrap();
    assert_eq!(w.engine.case_view(&cli(), id).await.unwrap().case.region.to_string(), w.town);

    // A region code as address_id; the api_key in the query string.
    let reply = w
        .post(
            &format!("/open311/v2/requests.json?api_key={}", w.token),
            &[("service_code", "demo.dispute"), ("address_id", "331004"), ("description", "x")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);

    // Errors, in both formats.
    for format in ["json", "xml"] {
        let xml = format == "xml";
        let uri = format!("/open311/v2/requests.{format}");
        let base = |key: &'static str, value: &'static str| {
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), (key, value)]
        };
        // Bad or missing api_key: 403.
        let reply = w.post(&uri, &base("api_key", "not-a-token")).await;
        assert_error(&reply, StatusCode::FORBIDDEN, xml);
        assert_error(
            &w.post(&uri, &[("service_code", "demo.dispute"), ("address_id", "331004")]).await,
            StatusCode::FORBIDDEN,
            xml,
        );
        // A valid key whose account may not register cases here: 403.
        let reply =
            w.post(&uri, &[("api_key", &w.handler_token), ("service_code", "demo.dispute"), ("address_id", "331004")]).await;
        assert_error(&reply, StatusCode::FORBIDDEN, xml);
        // A region outside the account's grant: 403.
        let reply = w.post(&uri, &[("api_key", &w.token), ("service_code", "demo.dispute"), ("address_id", "330624")]).await;
        assert_error(&reply, StatusCode::FORBIDDEN, xml);
        // Unknown or non-public service: 404.
        for code in ["demo.peer_review", "demo.nothing", "nothing"] {
            let reply = w.post(&uri, &[("api_key", &w.token), ("service_code", code), ("address_id", "331004")]).await;
            assert_error(&reply, StatusCode::NOT_FOUND, xml);
        }
        // Bad requests: 400.
        let bad: Vec<Vec<(&str, &str)>> = vec![
            vec![("address_id", "331004")],                                             // no service_code
            vec![("service_code", "demo.dispute")],                                     // no location
            vec![("service_code", "demo.dispute"), ("address_string", "路桥区某街道")], // no geocoder
            vec![("service_code", "demo.dispute"), ("lat", "0"), ("long", "0")],        // in no county
            vec![("service_code", "demo.dispute"), ("lat", "north"), ("long", "121")],  // not a number
            vec![("service_code", "demo.dispute"), ("lat", "28.58")],                   // lat without long
            vec![("service_code", "demo.dispute"), ("address_id", "Main St 1")],        // not a region code
            vec![("service_code", "demo.dispute"), ("address_id", "999999")],           // no such region
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), ("attribute[category]", "nonsense")],
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), ("attribute[amount]", "lots")],
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), ("attribute[applicant]", "张三")],
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), ("attribute[nothing]", "1")],
            vec![("service_code", "demo.dispute"), ("address_id", "331004"), ("attribute[priority]", "whenever")],
        ];
        for mut form in bad {
            form.insert(0, ("api_key", &w.token));
            let reply = w.post(&uri, &form).await;
            assert_error(&reply, StatusCode::BAD_REQUEST, xml);
        }
        // Not form-encoded: 400.
        let request = Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"service_code":"demo.dispute"}"#))
            .unwrap();
        let response = w.app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
    // Nothing above opened a case.
    let count = w.engine.store().count_cases(&fq_store::CaseFilter { all_regions: true, ..Default::default() }).await.unwrap();
    assert_eq!(count, 3);
}

#[tokio::test]
async fn reading_requests_filters_maps_status_and_hides_personal_data() {
    let w = World::new().await;
    let first = w.submit("楼上漏水").await;
    let second = w.submit("装修噪音").await;
    let third = w.submit("宅基地边界").await;
    // A private kind's case: never shown.
    let private = OpenCase {
        programme: "demo".into(),
        kind: "peer_review".into(),
        priority: None,
        region: "331004".into(),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: json!({"title": "评查"}).as_object().unwrap().clone(),
    };
    let private = w.engine.open_case(&cli(), private).await.unwrap().case.number;
    // Close the second (不予受理), accept the third (dispatched to the county centre).
    let intake = w.engine.authenticate_token(&w.token).await.unwrap();
    let id = |n: &str| {
        let store = Arc::clone(w.engine.store());
        let n = n.to_owned();
        async move { store.case_id_by_number(&n).await.unwrap().unwrap() }
    };
    let inputs = |v: Value| v.as_object().unwrap().clone();
    w.engine
        .act_on_case(&intake, id(&second).await, "reject_intake", inputs(json!({"reason": "不属于受理范围"})), None)
        .await
        .unwrap();
    w.engine.act_on_case(&intake, id(&third).await, "accept", inputs(json!({})), None).await.unwrap();

    // The whole list, JSON: the specification's structure.
    let real = shape_of(&parse_xml(&fixture("service-requests.xml")));
    let reply = w.get("/open311/v2/requests.json").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let list = reply.json();
    assert_json_matches_xml(&real, &list, true, "service_requests");
    let numbers = |v: &Value| {
        v.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let mut all = numbers(&list);
    all.sort();
    assert_eq!(all, [first.clone(), second.clone(), third.clone()]);
    let by_number: BTreeMap<String, &Value> =
        list.as_array().unwrap().iter().map(|r| (r["service_request_id"].as_str().unwrap().to_owned(), r)).collect();
    let open = by_number[&first];
    assert_eq!(open["status"], "open");
    assert_eq!(open["status_notes"], "待受理");
    assert_eq!(open["service_name"], "矛盾纠纷");
    assert_eq!(open["service_code"], "demo.dispute");
    assert_eq!(open["description"], "楼上漏水");
    assert_eq!(open["lat"], json!(LUQIAO.0));
    assert_eq!(open["long"], json!(LUQIAO.1));
    assert_eq!(open["address_id"], "331004");
    assert_eq!(open["address"], "浙江省台州市路桥区");
    assert!(open["agency_responsible"].is_null());
    assert!(open["expected_datetime"].as_str().is_some(), "the accept clock runs: {open}");
    let closed = by_number[&second];
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["status_notes"], "已办结");
    assert!(closed["expected_datetime"].is_null());
    let requested = DateTime::parse_from_rfc3339(closed["requested_datetime"].as_str().unwrap()).unwrap();
    let updated = DateTime::parse_from_rfc3339(closed["updated_datetime"].as_str().unwrap()).unwrap();
    assert!(updated >= requested);
    let accepted = by_number[&third];
    assert_eq!(accepted["status"], "open");
    assert_eq!(accepted["status_notes"], "办理中");
    assert_eq!(accepted["agency_responsible"], "路桥区社会治理中心");
    assert!(!reply.text.contains(&private));

    // The same list in XML.
    let reply = w.get("/open311/v2/requests.xml").await;
    assert_eq!(reply.status, StatusCode::OK);
    let ours = reply.xml();
    assert_eq!(ours.name, "service_requests");
    assert_eq!(ours.children.len(), 3);
    assert_xml_covers(&real, &shape_of(&ours), "/service_requests");

    // Filters: status, service_code, ids (comma list; unknown and private ones left out), dates.
    let only = |uri: String| {
        let w = &w;
        async move {
            let reply = w.get(&uri).await;
            assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text);
            let mut found = numbers(&reply.json());
            found.sort();
            found
        }
    };
    assert_eq!(only("/open311/v2/requests.json?status=closed".into()).await, [second.as_str()]);
    assert_eq!(only("/open311/v2/requests.json?status=open".into()).await, [first.as_str(), third.as_str()]);
    assert_eq!(only("/open311/v2/requests.json?status=open,closed".into()).await.len(), 3);
    assert_eq!(only("/open311/v2/requests.json?service_code=demo.dispute&status=closed".into()).await, [second.as_str()]);
    assert_eq!(
        only(format!("/open311/v2/requests.json?service_request_id={first},{private},YS1999-000001&status=closed")).await,
        [first.as_str()]
    );
    let now = Utc::now();
    let w3c = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    assert_eq!(
        only(format!(
            "/open311/v2/requests.json?start_date={}&end_date={}",
            w3c(now - Duration::hours(1)),
            w3c(now + Duration::hours(1))
        ))
        .await
        .len(),
        3
    );
    assert!(only(format!("/open311/v2/requests.json?start_date={}", w3c(now + Duration::hours(1)))).await.is_empty());
    assert!(only(format!("/open311/v2/requests.json?end_date={}", w3c(now - Duration::hours(1)))).await.is_empty());
    // The python client's jurisdiction_id and unknown parameters are ignored.
    assert_eq!(only("/open311/v2/requests.json?jurisdiction_id=331004&page=1".into()).await.len(), 3);

    // One request, JSON and XML.
    let real_one = shape_of(&parse_xml(&fixture("service-request.xml")));
    let reply = w.get(&format!("/open311/v2/requests/{first}.json")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let one = reply.json();
    assert_json_matches_xml(&real_one, &one, true, "service_requests");
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0]["service_request_id"], first.as_str());
    let reply = w.get(&format!("/open311/v2/requests/{first}.xml")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_xml_covers(&real_one, &shape_of(&reply.xml()), "/service_requests");

    // Nothing personal: the applicant's name and phone given on submission never appear.
    let reply = w
        .post(
            "/open311/v2/requests.json",
            &[
                ("api_key", &w.token),
                ("service_code", "demo.dispute"),
                ("address_id", "331004"),
                ("first_name", "四"),
                ("last_name", "李"),
                ("phone", "13912345678"),
                ("description", "欠薪"),
            ],
        )
        .await;
    let fourth = reply.json()[0]["service_request_id"].as_str().unwrap().to_owned();
    for uri in [
        format!("/open311/v2/requests/{fourth}.json"),
        format!("/open311/v2/requests/{fourth}.xml"),
        "/open311/v2/requests.json".into(),
    ] {
        let reply = w.get(&uri).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.text.contains(&fourth), "{uri}");
        for secret in ["李四", "13912345678", "申请人", "张三"] {
            assert!(!reply.text.contains(secret), "{uri} shows {secret}: {}", reply.text);
        }
    }

    // Errors: unknown and private requests, unknown services, bad dates and statuses.
    for format in ["json", "xml"] {
        let xml = format == "xml";
        for number in ["YS1999-000001", private.as_str(), "nothing"] {
            assert_error(&w.get(&format!("/open311/v2/requests/{number}.{format}")).await, StatusCode::NOT_FOUND, xml);
        }
        let list = format!("/open311/v2/requests.{format}");
        assert_error(&w.get(&format!("{list}?service_code=demo.peer_review")).await, StatusCode::NOT_FOUND, xml);
        assert_error(&w.get(&format!("{list}?service_code=nothing")).await, StatusCode::NOT_FOUND, xml);
        for query in [
            "start_date=yesterday",
            "end_date=2026-13-40T00:00:00Z",
            "start_date=2026-01-01T00:00:00",                                // no time zone
            "start_date=2026-03-01T00:00:00Z&end_date=2026-02-01T00:00:00Z", // start after end
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", // more than 90 days
            "start_date=2026-01-01T00:00:00Z&start_date=2026-01-02T00:00:00Z",
            "status=pending",
        ] {
            assert_error(&w.get(&format!("{list}?{query}")).await, StatusCode::BAD_REQUEST, xml);
        }
    }

    // A public kind's case told to a station: listed, but its free text and exact position,
    // given in confidence, are not published.
    let told = OpenCase {
        programme: "demo".into(),
        kind: "dispute".into(),
        priority: None,
        region: "331004".into(),
        grid: None,
        channel: "station".into(),
        intake_org: None,
        fields: json!({"title": "邻里纠纷", "description": "住在3号楼502的王某", "location": {"lon": LUQIAO.1, "lat": LUQIAO.0}})
            .as_object()
            .unwrap()
            .clone(),
    };
    let told = w.engine.open_case(&cli(), told).await.unwrap().case.number;
    let reply = w.get(&format!("/open311/v2/requests/{told}.json")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let request = &reply.json()[0];
    assert!(request["description"].is_null() && request["lat"].is_null() && request["long"].is_null(), "{request}");
    assert!(!reply.text.contains("502"), "{}", reply.text);
}

/// The demo programme, and a copy of it, `pilot`, whose description and location fields are
/// marked personal.
fn two_programmes(root: &std::path::Path) -> Programmes {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programmes/demo");
    let definition = std::fs::read_to_string(demo.join("programme.toml")).unwrap();
    let catalog = std::fs::read_to_string(demo.join("catalogs/dispute_category.toml")).unwrap();
    let personal = |text: &str| {
        let description = r#"{ code = "description", type = "text", label = "纠纷情况", max_len = 4000 }"#;
        let location = r#"{ code = "location", type = "location", label = "发生地点" }"#;
        assert!(text.contains(description) && text.contains(location), "the demo programme's fields changed");
        text.replace(description, &description.replace(" }", ", personal = true }"))
            .replace(location, &location.replace(" }", ", personal = true }"))
    };
    let pilot = personal(&definition.replacen(r#"code = "demo""#, r#"code = "pilot""#, 1).replacen(
        r#"number_prefix = "YS""#,
        r#"number_prefix = "PL""#,
        1,
    ));
    for (code, text) in [("demo", definition), ("pilot", pilot)] {
        std::fs::create_dir_all(root.join(code).join("catalogs")).unwrap();
        std::fs::write(root.join(code).join("programme.toml"), text).unwrap();
        std::fs::write(root.join(code).join("catalogs/dispute_category.toml"), &catalog).unwrap();
    }
    Programmes::from_directory(root).unwrap()
}

#[tokio::test]
async fn services_span_programmes_and_personal_fields_stay_hidden() {
    let programmes = tempfile::tempdir().unwrap();
    let w = World::with_programmes(Some(two_programmes(programmes.path()))).await;

    let services = w.get("/open311/v2/services.json").await.json();
    let codes: Vec<&str> = services.as_array().unwrap().iter().map(|s| s["service_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["demo.dispute", "pilot.dispute"]);
    // A personal description field is still the description parameter's target, so it is no attribute.
    let definition = w.get("/open311/v2/services/pilot.dispute.json").await.json();
    assert!(definition["attributes"].as_array().unwrap().iter().all(|a| a["code"] != "description"));

    let open = w.submit_to("demo.dispute", "公开的纠纷情况").await;
    let hidden = w.submit_to("pilot.dispute", "不公开的纠纷情况").await;
    assert!(open.starts_with("YS") && hidden.starts_with("PL"), "{open} {hidden}");
    // Stored all the same.
    let id = w.engine.store().case_id_by_number(&hidden).await.unwrap().unwrap();
    let case = w.engine.case_view(&cli(), id).await.unwrap().case;
    assert_eq!(case.fields["description"].to_json(), json!("不公开的纠纷情况"));
    assert_eq!(case.fields["location"].to_json(), json!({"lon": LUQIAO.1, "lat": LUQIAO.0}));

    let list = w.get("/open311/v2/requests.json").await;
    let requests = list.json();
    let by_number: BTreeMap<&str, &Value> =
        requests.as_array().unwrap().iter().map(|r| (r["service_request_id"].as_str().unwrap(), r)).collect();
    assert_eq!(by_number.len(), 2);
    assert_eq!(by_number[open.as_str()]["description"], "公开的纠纷情况");
    assert_eq!(by_number[open.as_str()]["lat"], json!(LUQIAO.0));
    let private = by_number[hidden.as_str()];
    assert_eq!(private["service_code"], "pilot.dispute");
    assert!(private["description"].is_null() && private["lat"].is_null() && private["long"].is_null(), "{private}");
    for uri in [
        "/open311/v2/requests.json".to_owned(),
        "/open311/v2/requests.xml".to_owned(),
        format!("/open311/v2/requests/{hidden}.json"),
        format!("/open311/v2/requests/{hidden}.xml"),
    ] {
        let reply = w.get(&uri).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert!(reply.text.contains(&hidden), "{uri}");
        assert!(!reply.text.contains("不公开的纠纷情况"), "{uri} shows a personal description: {}", reply.text);
    }

    let only = |query: &'static str| {
        let w = &w;
        async move {
            let reply = w.get(&format!("/open311/v2/requests.json?{query}")).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
            let mut found: Vec<String> =
                reply.json().as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect();
            found.sort();
            found
        }
    };
    assert_eq!(only("service_code=pilot.dispute").await, [hidden.as_str()]);
    assert_eq!(only("service_code=demo.dispute").await, [open.as_str()]);
    assert_eq!(only("service_code=demo.dispute,pilot.dispute").await.len(), 2);
    assert_eq!(only("service_code=demo.dispute&service_code=pilot.dispute&status=open").await.len(), 2);
}
