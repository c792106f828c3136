//! Pulling service requests from an Open311 GeoReport v2 server, every page of them.
//!
//! GeoReport v2 has no paging: a server answers a request list with at most its own limit
//! (1,000 is the spec's example; many use fewer), the newest first. So the pull walks back in
//! time: after each answer it asks again with `end_date` at the oldest request it was given,
//! until an answer brings no request it has not seen or reaches `start_date`. Requests given
//! twice (at a page's edge) are kept once. The pages are joined into one JSON array, ingested
//! all or nothing like a single answer.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use crate::failure::Failure;

/// One answer's body, or why there is none.
type Page = Result<Vec<u8>, Failure>;

/// The most pages one pull reads (a server that never stops repeating itself is cut off).
pub const MAX_PAGES: usize = 200;

/// What a pull read.
#[derive(Debug)]
pub struct Pulled {
    /// The first address asked.
    pub address: String,
    /// Every request once, as one JSON array.
    pub body: Vec<u8>,
    pub pages: usize,
    pub requests: usize,
}

/// GETs `{url}/requests.json` from `start_date` (when given), page after page. Blocking: call
/// it off the async runtime's threads.
pub fn fetch(url: &str, start_date: Option<&str>) -> Result<Pulled, Failure> {
    let address = format!("{}/requests.json", url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).build().into();
    let get = |end_date: Option<&str>| -> Page {
        let mut request = agent.get(&address);
        if let Some(start) = start_date {
            request = request.query("start_date", start);
        }
        if let Some(end) = end_date {
            request = request.query("end_date", end);
        }
        let shown = match end_date {
            Some(end) => format!("{address} (end_date {end})"),
            None => address.clone(),
        };
        request
            .call()
            .map_err(|e| Failure::new("open311_unreachable", format!("{shown}: {e}")))?
            .body_mut()
            .read_to_vec()
            .map_err(|e| Failure::new("open311_unreadable", format!("{shown}: {e}")))
    };
    let (requests, pages) = walk(get, start_date)?;
    let count = requests.len();
    let body = serde_json::to_vec(&Value::Array(requests)).unwrap_or_default();
    let shown = match start_date {
        Some(start) => format!("{address}?start_date={start}"),
        None => address,
    };
    Ok(Pulled { address: shown, body, pages, requests: count })
}

/// Reads pages with `get(end_date)` until one brings nothing new or reaches `start_date`.
pub fn walk(mut get: impl FnMut(Option<&str>) -> Page, start_date: Option<&str>) -> Result<(Vec<Value>, usize), Failure> {
    let start = start_date.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<Value> = Vec::new();
    let mut end: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let body = get(end.as_deref())?;
        let answer: Value = serde_json::from_slice(&body)
            .map_err(|e| Failure::new("open311_unreadable", format!("page {page} is not JSON: {e}")))?;
        let Value::Array(requests) = answer else {
            return Err(Failure::new("open311_unreadable", format!("page {page} is not a list of service requests")));
        };
        let mut new = 0;
        let mut oldest: Option<(chrono::DateTime<chrono::FixedOffset>, String)> = None;
        for request in requests {
            let when = request.get("requested_datetime").and_then(Value::as_str).map(str::to_owned);
            if let Some(text) = &when
                && let Ok(at) = chrono::DateTime::parse_from_rfc3339(text)
                && oldest.as_ref().is_none_or(|(o, _)| at < *o)
            {
                oldest = Some((at, text.clone()));
            }
            // A request without an id cannot be told from another: kept, and left to the
            // source's validation to name.
            let id = request.get("service_request_id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
            if id.is_none_or(|id| seen.insert(id)) {
                out.push(request);
                new += 1;
            }
        }
        let Some((oldest_at, oldest_text)) = oldest else { return Ok((out, page)) };
        // Nothing new, the start reached, or the same edge as before: every page is in.
        if new == 0 || start.is_some_and(|s| oldest_at <= s) || end.as_deref() == Some(oldest_text.as_str()) {
            return Ok((out, page));
        }
        end = Some(oldest_text);
    }
    Err(Failure::new("open311_too_many_pages", format!("the server gave more than {MAX_PAGES} pages; nothing was stored")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server holding `n` requests an hour apart, answering at most `limit` of those at or
    /// before `end_date`, newest first; it records the end dates it was asked for.
    fn server(n: usize, limit: usize) -> (Vec<Value>, impl FnMut(Option<&str>) -> Page) {
        let base = chrono::DateTime::parse_from_rfc3339("2026-11-01T00:00:00+08:00").unwrap();
        let all: Vec<Value> = (0..n)
            .map(|i| {
                let at = base + chrono::Duration::hours(i as i64);
                serde_json::json!({ "service_request_id": format!("R{i}"), "requested_datetime": at.to_rfc3339() })
            })
            .collect();
        let held = all.clone();
        let get = move |end: Option<&str>| {
            let end = end.map(|e| chrono::DateTime::parse_from_rfc3339(e).unwrap());
            let mut page: Vec<&Value> = held
                .iter()
                .filter(|r| {
                    let at = chrono::DateTime::parse_from_rfc3339(r["requested_datetime"].as_str().unwrap()).unwrap();
                    end.is_none_or(|e| at <= e)
                })
                .collect();
            page.reverse();
            page.truncate(limit);
            Ok(serde_json::to_vec(&page).unwrap())
        };
        (all, get)
    }

    #[test]
    fn every_request_is_pulled_once_across_pages() {
        for (n, limit) in [(0, 5), (3, 5), (5, 5), (12, 5), (1000, 100), (7, 1 + 1)] {
            let (all, get) = server(n, limit);
            let (got, pages) = walk(get, None).unwrap();
            let mut ids: Vec<&str> = got.iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
            ids.sort_unstable();
            let mut want: Vec<&str> = all.iter().map(|r| r["service_request_id"].as_str().unwrap()).collect();
            want.sort_unstable();
            assert_eq!(ids, want, "{n} requests, {limit} a page");
            assert!(pages <= n / (limit - 1) + 2, "{n} requests, {limit} a page: {pages} pages");
        }
    }

    #[test]
    fn the_walk_stops_at_the_start_date() {
        let (_, mut get) = server(50, 10);
        let mut asked = 0;
        let counting = |end: Option<&str>| {
            asked += 1;
            get(end)
        };
        // The newest 10 reach back to hour 40; the start is hour 45: one page is enough.
        let (got, pages) = walk(counting, Some("2026-11-02T21:00:00+08:00")).unwrap();
        assert_eq!((got.len(), pages, asked), (10, 1, 1));
    }

    #[test]
    fn a_page_that_is_not_a_list_is_refused_by_number() {
        let mut answers = vec![b"{\"error\":\"down\"}".to_vec()];
        let failure = walk(|_| Ok(answers.pop().unwrap_or_default()), None).unwrap_err();
        assert_eq!(failure.code, "open311_unreadable");
        assert!(failure.message.contains("page 1"), "{}", failure.message);
    }

    #[test]
    fn more_requests_at_one_time_than_a_page_holds_end_the_walk() {
        // Twelve requests at the same second, five a page: the edge never moves; the walk ends
        // instead of asking forever, with what it was given.
        let page: Vec<Value> = (0..5)
            .map(|i| serde_json::json!({ "service_request_id": format!("S{i}"), "requested_datetime": "2026-11-01T08:00:00+08:00" }))
            .collect();
        let body = serde_json::to_vec(&page).unwrap();
        let (got, pages) = walk(|_| Ok(body.clone()), None).unwrap();
        assert_eq!((got.len(), pages), (5, 2));
    }
}
