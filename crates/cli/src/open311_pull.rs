//! Pulling service requests from an Open311 GeoReport v2 server, every page of them.
//!
//! GeoReport v2 has no paging: a server answers a request list with at most its own limit
//! (1,000 is the spec's example; many use fewer), the newest first, over a window of at most 90
//! days. So the pull asks window by window from the start (90 days before now by default), each
//! with both `start_date` and `end_date`, and within a window walks back in time: after each
//! answer it asks again with `end_date` at the oldest request it was given (one second before
//! it when the answer brought nothing older), until an answer is empty or reaches the window's
//! start. Requests given twice (at a page's edge) are kept once. The pages are joined into one
//! JSON array, ingested all or nothing like a single answer.
//!
//! Two limits of the protocol are reported, not hidden: a second holding more requests than a
//! page (the server never gives the rest of that second; the walk goes on before it and names
//! the second), and a server that ignores `end_date` (the walk cannot go back; it says so).
//! The walk relies on each answer being the newest requests of its window by
//! `requested_datetime`, as GeoReport servers sort them.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use serde_json::Value;

use crate::failure::Failure;

/// One answer's body, or why there is none.
type Page = Result<Vec<u8>, Failure>;

/// The most pages one pull reads (a server that never stops repeating itself is cut off).
pub const MAX_PAGES: usize = 500;

/// The longest window one request asks for (GeoReport servers cap it; fengqiao's at 90 days).
pub const WINDOW_DAYS: i64 = 90;

/// What a pull read.
#[derive(Debug)]
pub struct Pulled {
    /// The address asked, with the pull's start.
    pub address: String,
    /// Every request once, as one JSON array.
    pub body: Vec<u8>,
    pub pages: usize,
    pub requests: usize,
    /// What the protocol kept from the pull (seconds with more requests than a page; a server
    /// that ignored `end_date`), to be shown as warnings.
    pub warnings: Vec<String>,
}

/// The start of a pull: RFC 3339, or a date (its start, Beijing time); 90 days before `now` if
/// none.
pub fn start_of(text: Option<&str>, now: DateTime<Utc>) -> Result<DateTime<Utc>, Failure> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(now - TimeDelta::days(WINDOW_DAYS));
    };
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(fq_domain::calendar::start_of_day))
        .filter(|t| *t <= now)
        .ok_or_else(|| {
            Failure::new("start_date_invalid", format!("--start-date {text:?} is not an RFC 3339 time or a date, not after now"))
        })
}

/// `[from, to]` cut into windows of at most [`WINDOW_DAYS`], oldest first.
pub fn windows(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let span = TimeDelta::days(WINDOW_DAYS);
    let mut out = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + span).min(to);
        out.push((start, end));
        start = end;
    }
    out
}

/// GETs `{url}/requests.json` from `start` to `now`, window by window and page by page.
/// Blocking: call it off the async runtime's threads.
pub fn fetch(url: &str, start: DateTime<Utc>, now: DateTime<Utc>) -> Result<Pulled, Failure> {
    let address = format!("{}/requests.json", url.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(60))).build().into();
    let get = |from: &str, to: &str| -> Page {
        let shown = format!("{address}?start_date={from}&end_date={to}");
        agent
            .get(&address)
            .query("start_date", from)
            .query("end_date", to)
            .call()
            .map_err(|e| Failure::new("open311_unreachable", format!("{shown}: {e}")))?
            .body_mut()
            .read_to_vec()
            .map_err(|e| Failure::new("open311_unreadable", format!("{shown}: {e}")))
    };
    let walked = walk(get, &windows(start, now))?;
    let requests = walked.requests.len();
    Ok(Pulled {
        address: format!("{address}?start_date={}", text(start)),
        body: serde_json::to_vec(&Value::Array(walked.requests)).unwrap_or_default(),
        pages: walked.pages,
        requests,
        warnings: walked.warnings,
    })
}

/// What a walk gathered.
#[derive(Debug, Default)]
pub struct Walked {
    pub requests: Vec<Value>,
    pub pages: usize,
    pub warnings: Vec<String>,
}

/// A time as a query writes it: UTC, with a fraction only when it has one.
fn text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The start of the second `at` falls in.
fn floor_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at)
}

/// Reads every window with `get(start_date, end_date)`, walking back page by page.
///
/// After an answer that brought something new, the next asks up to the end of the second of
/// the oldest request given (servers write whole seconds but may hold finer times, so the rest
/// of that second is asked again and repeats are dropped by id). After an answer that brought
/// nothing new, the walk goes on from just before that second. An answer as large as the
/// largest seen that brought nothing new may have been cut inside a second holding more than a
/// page: that is warned of, as is an answer that is not newest first (the walk cannot follow
/// it) and a server that ignores `end_date`.
pub fn walk(mut get: impl FnMut(&str, &str) -> Page, windows: &[(DateTime<Utc>, DateTime<Utc>)]) -> Result<Walked, Failure> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Walked::default();
    let mut largest = 0usize;
    for &(from, to) in windows {
        let mut end = to;
        loop {
            out.pages += 1;
            if out.pages > MAX_PAGES {
                return Err(Failure::new(
                    "open311_too_many_pages",
                    format!("the server gave more than {MAX_PAGES} pages; nothing was stored"),
                ));
            }
            let page = out.pages;
            let answer: Value = serde_json::from_slice(&get(&text(from), &text(end))?)
                .map_err(|e| Failure::new("open311_unreadable", format!("page {page} is not JSON: {e}")))?;
            let Value::Array(requests) = answer else {
                return Err(Failure::new("open311_unreadable", format!("page {page} is not a list of service requests")));
            };
            let given = requests.len();
            if given == 0 {
                break;
            }
            largest = largest.max(given);
            let times: Vec<DateTime<Utc>> = requests
                .iter()
                .filter_map(|r| r.get("requested_datetime").and_then(Value::as_str))
                .filter_map(fq_risk::sources::parse_time)
                .collect();
            let mut new = 0;
            for request in requests {
                // A request without an id cannot be told from another: kept, and left to the
                // source's validation to name.
                let id = request.get("service_request_id").map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                if id.is_none_or(|id| seen.insert(id)) {
                    out.requests.push(request);
                    new += 1;
                }
            }
            let Some(oldest) = times.iter().min().copied() else {
                out.warnings.push(format!("page {page} has no request time to walk back from: older requests were not pulled"));
                break;
            };
            if times.windows(2).any(|w| w[1] > w[0]) {
                out.warnings.push(format!("page {page} is not newest first: requests before {} were not pulled", text(oldest)));
                break;
            }
            if times[0] > end {
                out.warnings.push(format!(
                    "the server ignored end_date {} (it answered later requests): if it caps its answers, requests before {} may be missing",
                    text(end),
                    text(oldest)
                ));
                break;
            }
            if oldest <= from {
                break;
            }
            let second = floor_second(oldest);
            let next = if new > 0 {
                (second + TimeDelta::seconds(1)).min(end)
            } else {
                if given == largest && given >= 2 {
                    out.warnings.push(format!(
                        "an answer of {given} requests at or after {} brought nothing new: if that second holds more than one answer, the rest of it is not pulled",
                        text(second)
                    ));
                }
                second - TimeDelta::microseconds(1)
            };
            // Every step goes back (or the same edge once, to see whether it brings more).
            if next < from || (next == end && new == 0) {
                break;
            }
            end = next;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn base() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
    }

    /// A server holding requests at exact times, answering at most `limit` of those in
    /// `[start, end]`, newest first, each written to the whole second in Beijing time (as
    /// fengqiao's server writes them), or by `write` when given.
    fn server(
        held: Vec<(String, DateTime<Utc>)>,
        limit: usize,
        write: fn(DateTime<Utc>) -> String,
    ) -> impl FnMut(&str, &str) -> Page {
        move |start: &str, end: &str| {
            let (start, end) = (DateTime::parse_from_rfc3339(start).unwrap(), DateTime::parse_from_rfc3339(end).unwrap());
            let mut page: Vec<&(String, DateTime<Utc>)> = held.iter().filter(|(_, at)| *at >= start && *at <= end).collect();
            page.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
            page.truncate(limit);
            let body: Vec<Value> = page
                .iter()
                .map(|(id, at)| serde_json::json!({ "service_request_id": id, "requested_datetime": write(*at) }))
                .collect();
            Ok(serde_json::to_vec(&body).unwrap())
        }
    }

    fn beijing_seconds(at: DateTime<Utc>) -> String {
        at.with_timezone(&fq_domain::calendar::beijing()).to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    fn ids(walked: &Walked) -> Vec<String> {
        let mut ids: Vec<String> = walked.requests.iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect();
        ids.sort_unstable();
        ids
    }

    fn held(n: i64, step: TimeDelta, prefix: &str) -> Vec<(String, DateTime<Utc>)> {
        (0..n).map(|i| (format!("{prefix}{i:04}"), base() + step * i32::try_from(i).unwrap())).collect()
    }

    fn day() -> [(DateTime<Utc>, DateTime<Utc>); 1] {
        [(base() - TimeDelta::hours(1), base() + TimeDelta::days(30))]
    }

    #[test]
    fn every_request_is_pulled_once_across_pages() {
        for (n, limit) in [(0, 5), (3, 5), (5, 5), (12, 5), (1000, 100), (7, 1), (7, 2)] {
            let requests = held(n, TimeDelta::minutes(7), "R");
            let want: Vec<String> = requests.iter().map(|(id, _)| id.clone()).collect();
            let walked = walk(server(requests, limit, beijing_seconds), &day()).unwrap();
            assert_eq!(ids(&walked), want, "{n} requests, {limit} a page");
            assert!(walked.warnings.is_empty(), "{n}, {limit}: {:?}", walked.warnings);
            assert!(walked.pages <= 3 * (n as usize / limit + 2), "{n} requests, {limit} a page: {} pages", walked.pages);
        }
    }

    #[test]
    fn times_finer_than_the_written_second_are_all_pulled() {
        // Three requests in each of 20 seconds, 0.3 s apart, written to the whole second; five a page.
        let requests = held(60, TimeDelta::milliseconds(333), "F");
        let walked = walk(server(requests, 5, beijing_seconds), &day()).unwrap();
        assert_eq!(ids(&walked).len(), 60, "{:?}", walked.warnings);
        // Written without a zone (Beijing time, as some servers do): the walk still goes back.
        let requests = held(30, TimeDelta::minutes(1), "Z");
        let local = |at: DateTime<Utc>| at.with_timezone(&fq_domain::calendar::beijing()).format("%Y-%m-%d %H:%M:%S").to_string();
        let walked = walk(server(requests, 4, local), &day()).unwrap();
        assert_eq!(ids(&walked).len(), 30);
    }

    #[test]
    fn a_second_with_more_than_a_page_is_named_and_the_walk_goes_on_before_it() {
        // Twelve requests at one instant and three earlier, five a page.
        let crowded = base() + TimeDelta::hours(5);
        let mut requests: Vec<(String, DateTime<Utc>)> = (0..12).map(|i| (format!("S{i:02}"), crowded)).collect();
        requests.extend(held(3, TimeDelta::hours(1), "E"));
        let walked = walk(server(requests, 5, beijing_seconds), &day()).unwrap();
        let got = ids(&walked);
        assert_eq!(got.iter().filter(|i| i.starts_with('E')).count(), 3, "the earlier ones are pulled: {got:?}");
        assert_eq!(got.iter().filter(|i| i.starts_with('S')).count(), 5, "a page of the crowded second");
        assert_eq!(walked.warnings.len(), 1, "{:?}", walked.warnings);
        assert!(walked.warnings[0].contains("2026-11-01T05:00:00Z"), "{}", walked.warnings[0]);
    }

    #[test]
    fn a_server_that_is_not_newest_first_is_named() {
        let requests = held(20, TimeDelta::minutes(1), "O");
        let mut newest_first = server(requests, 5, beijing_seconds);
        let oldest_first = move |start: &str, end: &str| {
            let mut page: Vec<Value> = serde_json::from_slice(&newest_first(start, end)?).unwrap();
            page.reverse();
            Ok(serde_json::to_vec(&page).unwrap())
        };
        let walked = walk(oldest_first, &day()).unwrap();
        assert!(walked.warnings.iter().any(|w| w.contains("not newest first")), "{:?}", walked.warnings);
    }

    #[test]
    fn windows_cover_the_span_in_ninety_days_at_most() {
        let to = base() + TimeDelta::days(200);
        let cut = windows(base(), to);
        assert_eq!(cut.len(), 3);
        assert_eq!((cut[0].0, cut[2].1), (base(), to));
        assert!(cut.windows(2).all(|w| w[0].1 == w[1].0), "contiguous");
        assert!(cut.iter().all(|(a, b)| *b - *a <= TimeDelta::days(WINDOW_DAYS) && a < b));
        assert!(windows(to, to).is_empty());
        // Requests spread over 200 days, pulled window by window.
        let requests: Vec<(String, DateTime<Utc>)> =
            (0..200).map(|d| (format!("D{d:03}"), base() + TimeDelta::days(d) + TimeDelta::hours(3))).collect();
        let walked = walk(server(requests, 40, beijing_seconds), &cut).unwrap();
        assert_eq!(ids(&walked).len(), 200);
    }

    #[test]
    fn the_start_is_a_time_a_date_or_ninety_days_back() {
        let now = base();
        assert_eq!(start_of(None, now).unwrap(), now - TimeDelta::days(90));
        assert_eq!(start_of(Some("2026-10-01T00:00:00Z"), now).unwrap(), Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap());
        assert_eq!(start_of(Some("2026-10-01"), now).unwrap(), Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).unwrap());
        assert_eq!(start_of(Some("last week"), now).unwrap_err().code, "start_date_invalid");
        assert_eq!(start_of(Some("2027-01-01"), now).unwrap_err().code, "start_date_invalid", "not after now");
    }

    #[test]
    fn a_server_that_ignores_end_date_is_named() {
        let requests = held(10, TimeDelta::hours(1), "R");
        let body: Vec<Value> = requests[5..]
            .iter()
            .rev()
            .map(|(id, at)| serde_json::json!({ "service_request_id": id, "requested_datetime": beijing_seconds(*at) }))
            .collect();
        let page = serde_json::to_vec(&body).unwrap();
        let walked = walk(|_: &str, _: &str| Ok(page.clone()), &day()).unwrap();
        assert_eq!(walked.requests.len(), 5);
        assert!(walked.warnings.iter().any(|w| w.contains("ignored end_date")), "{:?}", walked.warnings);
    }

    #[test]
    fn a_page_that_is_not_a_list_is_refused_by_number() {
        let failure = walk(|_: &str, _: &str| Ok(b"{\"error\":\"down\"}".to_vec()), &day()).unwrap_err();
        assert_eq!(failure.code, "open311_unreadable");
        assert!(failure.message.contains("page 1"), "{}", failure.message);
    }
}
