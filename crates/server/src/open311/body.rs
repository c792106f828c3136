//! The response bodies of GeoReport v2, in its two formats. JSON lists are arrays; XML wraps
//! each list in an element named for the list, each item in one named for the item
//! (`<services><service>`, `<attributes><attribute>`, `<values><value>`...), as the
//! specification's examples and the real DC and Boston responses do. XML is written by
//! quick-xml's serde serializer, so escaping is never done by hand.
//!
//! Absent values are `null` in JSON and empty elements in XML.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use fq_domain::calendar::beijing;
use fq_engine::{Open311Attribute, Open311Request, Open311Service};
use serde::Serialize;

/// The format a resource was asked in (its extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Xml,
}

impl Format {
    /// `services.json` → (`services`, JSON). Other extensions are not resources.
    pub(crate) fn split(file: &str) -> Option<(&str, Format)> {
        let (stem, extension) = file.rsplit_once('.')?;
        match extension {
            "json" => Some((stem, Format::Json)),
            "xml" => Some((stem, Format::Xml)),
            _ => None,
        }
    }

    /// The format to answer an unroutable request in: XML if it asked for XML, else JSON.
    pub(crate) fn guess(file: &str) -> Format {
        if file.ends_with(".xml") { Format::Xml } else { Format::Json }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json; charset=utf-8",
            Format::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// A GeoReport date and time: ISO 8601 in Beijing time, with its offset.
pub(crate) fn datetime(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing()).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Serialises `value` as an XML document (its root element named by the type's serde name).
pub(crate) fn xml_document<T: Serialize>(value: &T) -> Result<String, quick_xml::SeError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut out);
    serializer.indent(' ', 2);
    value.serialize(serializer)?;
    out.push('\n');
    Ok(out)
}

/// A response in the asked format: `json` as JSON, or `xml` as an XML document.
pub(crate) fn reply<J: Serialize, X: Serialize>(format: Format, status: StatusCode, json: &J, xml: &X) -> Response {
    let text = match format {
        Format::Json => serde_json::to_string(json).map_err(|e| e.to_string()),
        Format::Xml => xml_document(xml).map_err(|e| e.to_string()),
    };
    match text {
        Ok(text) => {
            let mut response = (status, text).into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
            response
        }
        Err(reason) => {
            tracing::error!(%reason, "an Open311 body did not serialise");
            Open311Error::internal().into_response_in(format)
        }
    }
}

// ---- errors ----

/// A GeoReport error: `[{"code": 400, "description": "..."}]` or
/// `<errors><error><code>400</code><description>...</description></error></errors>`, with the
/// code as the HTTP status.
#[derive(Debug, Clone)]
pub(crate) struct Open311Error {
    pub status: StatusCode,
    pub description: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ErrorBody {
    pub code: u16,
    pub description: String,
}

#[derive(Debug, Serialize)]
#[serde(rename = "errors")]
struct ErrorsXml<'a> {
    error: &'a [ErrorBody],
}

impl Open311Error {
    pub(crate) fn new(status: StatusCode, description: impl Into<String>) -> Open311Error {
        Open311Error { status, description: description.into() }
    }

    pub(crate) fn bad_request(description: impl Into<String>) -> Open311Error {
        Open311Error::new(StatusCode::BAD_REQUEST, description)
    }

    pub(crate) fn not_found(description: impl Into<String>) -> Open311Error {
        Open311Error::new(StatusCode::NOT_FOUND, description)
    }

    pub(crate) fn internal() -> Open311Error {
        Open311Error::new(StatusCode::INTERNAL_SERVER_ERROR, "the server could not complete the request; the error is in its log")
    }

    pub(crate) fn into_response_in(self, format: Format) -> Response {
        let body = [ErrorBody { code: self.status.as_u16(), description: self.description }];
        let text = match format {
            Format::Json => serde_json::to_string(&body).unwrap_or_default(),
            Format::Xml => xml_document(&ErrorsXml { error: &body }).unwrap_or_default(),
        };
        let mut response = (self.status, text).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
        response
    }
}

// ---- discovery ----

#[derive(Debug, Serialize)]
pub(crate) struct Discovery {
    pub changeset: String,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub formats: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename = "discovery")]
pub(crate) struct DiscoveryXml<'a> {
    changeset: &'a str,
    contact: &'a str,
    key_service: &'a str,
    endpoints: EndpointsXml<'a>,
}

#[derive(Debug, Serialize)]
struct EndpointsXml<'a> {
    endpoint: Vec<EndpointXml<'a>>,
}

#[derive(Debug, Serialize)]
struct EndpointXml<'a> {
    specification: &'a str,
    url: &'a str,
    changeset: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    formats: FormatsXml<'a>,
}

#[derive(Debug, Serialize)]
struct FormatsXml<'a> {
    format: &'a [&'static str],
}

impl Discovery {
    pub(crate) fn xml(&self) -> DiscoveryXml<'_> {
        DiscoveryXml {
            changeset: &self.changeset,
            contact: &self.contact,
            key_service: &self.key_service,
            endpoints: EndpointsXml {
                endpoint: self
                    .endpoints
                    .iter()
                    .map(|e| EndpointXml {
                        specification: &e.specification,
                        url: &e.url,
                        changeset: &e.changeset,
                        kind: &e.kind,
                        formats: FormatsXml { format: &e.formats },
                    })
                    .collect(),
            },
        }
    }
}

// ---- services ----

#[derive(Debug, Serialize)]
pub(crate) struct ServiceBody {
    pub service_code: String,
    pub service_name: String,
    pub description: String,
    /// Every service has attributes (at least the region).
    pub metadata: bool,
    /// Requests become cases at once.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub keywords: String,
    pub group: String,
}

impl From<&Open311Service> for ServiceBody {
    fn from(service: &Open311Service) -> ServiceBody {
        ServiceBody {
            service_code: service.service_code.clone(),
            service_name: service.service_name.clone(),
            description: service.description.clone(),
            metadata: !service.attributes.is_empty(),
            kind: "realtime",
            keywords: service.keywords.join(", "),
            group: service.group.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename = "services")]
pub(crate) struct ServicesXml<'a> {
    pub service: &'a [ServiceBody],
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<AttributeBody>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AttributeBody {
    pub variable: bool,
    pub code: String,
    pub datatype: &'static str,
    pub required: bool,
    pub datatype_description: String,
    pub order: u32,
    pub description: String,
    pub values: Vec<ValueBody>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ValueBody {
    pub key: String,
    pub name: String,
}

impl From<&Open311Attribute> for AttributeBody {
    fn from(attribute: &Open311Attribute) -> AttributeBody {
        AttributeBody {
            variable: true,
            code: attribute.code.clone(),
            datatype: attribute.datatype,
            required: attribute.required,
            datatype_description: attribute.datatype_description.clone(),
            order: attribute.order,
            description: attribute.description.clone(),
            values: attribute.values.iter().map(|v| ValueBody { key: v.key.clone(), name: v.name.clone() }).collect(),
        }
    }
}

impl From<&Open311Service> for ServiceDefinition {
    fn from(service: &Open311Service) -> ServiceDefinition {
        ServiceDefinition {
            service_code: service.service_code.clone(),
            attributes: service.attributes.iter().map(AttributeBody::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename = "service_definition")]
pub(crate) struct ServiceDefinitionXml<'a> {
    service_code: &'a str,
    attributes: AttributesXml<'a>,
}

#[derive(Debug, Serialize)]
struct AttributesXml<'a> {
    attribute: Vec<AttributeXml<'a>>,
}

#[derive(Debug, Serialize)]
struct AttributeXml<'a> {
    variable: bool,
    code: &'a str,
    datatype: &'a str,
    required: bool,
    datatype_description: &'a str,
    order: u32,
    description: &'a str,
    values: ValuesXml<'a>,
}

#[derive(Debug, Serialize)]
struct ValuesXml<'a> {
    value: &'a [ValueBody],
}

impl ServiceDefinition {
    pub(crate) fn xml(&self) -> ServiceDefinitionXml<'_> {
        ServiceDefinitionXml {
            service_code: &self.service_code,
            attributes: AttributesXml {
                attribute: self
                    .attributes
                    .iter()
                    .map(|a| AttributeXml {
                        variable: a.variable,
                        code: &a.code,
                        datatype: a.datatype,
                        required: a.required,
                        datatype_description: &a.datatype_description,
                        order: a.order,
                        description: &a.description,
                        values: ValuesXml { value: &a.values },
                    })
                    .collect(),
            },
        }
    }
}

// ---- service requests ----

/// One service request, every field of the specification in its order.
#[derive(Debug, Serialize)]
pub(crate) struct RequestBody {
    pub service_request_id: String,
    pub status: &'static str,
    pub status_notes: String,
    pub service_name: String,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: String,
    pub updated_datetime: String,
    pub expected_datetime: Option<String>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
}

impl From<&Open311Request> for RequestBody {
    fn from(request: &Open311Request) -> RequestBody {
        RequestBody {
            service_request_id: request.service_request_id.clone(),
            status: request.status.as_str(),
            status_notes: request.status_notes.clone(),
            service_name: request.service_name.clone(),
            service_code: request.service_code.clone(),
            description: request.description.clone(),
            agency_responsible: request.agency_responsible.clone(),
            service_notice: None,
            requested_datetime: datetime(request.requested_datetime),
            updated_datetime: datetime(request.updated_datetime),
            expected_datetime: request.expected_datetime.map(datetime),
            address: request.address.clone(),
            address_id: request.address_id.clone(),
            zipcode: None,
            lat: request.lat,
            long: request.long,
            media_url: None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename = "service_requests")]
pub(crate) struct RequestsXml<'a, T> {
    pub request: &'a [T],
}

/// The answer to POST requests: the new request's id (no token: requests become cases at once).
#[derive(Debug, Serialize)]
pub(crate) struct CreatedBody {
    pub service_request_id: String,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_choose_the_format() {
        assert_eq!(Format::split("services.json"), Some(("services", Format::Json)));
        assert_eq!(Format::split("demo.dispute.xml"), Some(("demo.dispute", Format::Xml)));
        assert_eq!(Format::split("services.csv"), None);
        assert_eq!(Format::split("services"), None);
        assert_eq!(Format::guess("x.xml"), Format::Xml);
    }

    #[test]
    fn errors_have_the_specification_shape() {
        let body = [ErrorBody { code: 403, description: "a <b> & c".into() }];
        assert_eq!(serde_json::to_string(&body).unwrap(), r#"[{"code":403,"description":"a <b> & c"}]"#);
        let xml = xml_document(&ErrorsXml { error: &body }).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<errors>"), "{xml}");
        assert!(xml.contains("<code>403</code>") && xml.contains("<description>a &lt;b&gt; &amp; c</description>"), "{xml}");
    }

    #[test]
    fn datetimes_carry_the_beijing_offset() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T16:30:00Z").unwrap().to_utc();
        assert_eq!(datetime(at), "2026-11-27T00:30:00+08:00");
    }
}
