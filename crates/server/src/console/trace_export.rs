//! `POST /trace/export.xlsx`: the trace the form asks for as a workbook, for the analyst's
//! report (研判报告): what was asked and by whom, the track, the companions and where the feeds
//! disagree, one sheet each, times in Beijing time to the second. The engine journals the
//! export as such (`risk.trace_exported`): the record leaves the system. The subject is posted
//! and is not in the file's name, so that no address or download list shows who was traced.

use axum::extract::State;
use chrono::{DateTime, Utc};
use fq_engine::Trace;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::display::{Names, clock};
use super::forms::Posted;
use super::i18n::{self, Lang};
use super::layout::{self, Page};
use super::sheets::{XLSX, table};
use super::trace::{county_names, feeds_read, posted_trace};
use super::viewer::Viewer;
use crate::AppState;

/// The most rows a sheet holds below its header: a spreadsheet takes 1,048,576 in all, and a
/// month's trace of a subject reported every few seconds by several feeds can pass that. The
/// 说明 sheet says when a sheet holds fewer than there are.
const MAX_SHEET_ROWS: usize = 1_000_000;

/// `POST /trace/export.xlsx`.
pub(crate) async fn xlsx(State(state): State<AppState>, viewer: Viewer, posted: Posted) -> Page {
    let trace = match posted_trace(&state, &viewer, &posted, true).await {
        Ok(trace) => trace,
        Err(page) => return page,
    };
    let lang = viewer.lang;
    let mut names = Names::new(&state.engine);
    let counties = county_names(&mut names, trace.disagreements.iter().flat_map(|d| &d.copies)).await;
    let about = About {
        feeds: feeds_read(&mut names, &trace).await,
        by: viewer.actor.account().map_or_else(|| viewer.actor.journal_name(), |a| format!("{}（{}）", a.display_name, a.login)),
        at: state.engine.current_time(),
    };
    let body = workbook(lang, &trace, &about, &|code| counties.get(code).cloned().unwrap_or_default())
        .map_err(|e| layout::internal(&state, &viewer, &e))?;
    let name = format!("trace-{}.xlsx", clock(about.at, "%Y%m%d-%H%M%S"));
    Ok(layout::attachment(body, XLSX, &name))
}

/// Who exported, when, and which feeds the trace read (None: every feed).
struct About {
    feeds: Option<String>,
    by: String,
    at: DateTime<Utc>,
}

/// `at` in Beijing time, to the second.
fn when(at: DateTime<Utc>) -> String {
    clock(at, "%Y-%m-%d %H:%M:%S")
}

/// The workbook: 说明 (what was asked), 轨迹, 伴随对象, 位置数据不一致. `county` names a feed's
/// county by its code.
fn workbook(lang: Lang, trace: &Trace, about: &About, county: &dyn Fn(&str) -> String) -> Result<Vec<u8>, XlsxError> {
    let t = |key: &str| i18n::text(lang, key);
    let bold = Format::new().set_bold();
    // The disagreements' sheet has a row for each feed's place.
    let places = trace.disagreements.iter().map(|d| d.copies.len()).sum::<usize>();
    let mut book = Workbook::new();

    let sheet = book.add_worksheet();
    sheet.set_name(t("trace.sheet_about"))?;
    let rows: [(&str, String); 11] = [
        ("trace.subject", trace.id.clone()),
        ("trace.at", when(trace.at)),
        ("trace.hours", trace.hours.to_string()),
        ("trace.within", format!("{:.0}", trace.within_metres)),
        ("trace.same_minutes", trace.same_time_minutes.to_string()),
        ("trace.export_feeds", about.feeds.clone().unwrap_or_else(|| t("trace.export_all_feeds"))),
        ("trace.export_reports", count(lang, trace.track.len(), trace.track.len())),
        ("trace.export_with", count(lang, trace.contacts.len(), trace.contacts.len())),
        ("trace.export_disagree", count(lang, trace.disagreements.len(), places)),
        ("trace.export_by", about.by.clone()),
        ("trace.export_at", when(about.at)),
    ];
    for (row, (key, value)) in rows.iter().enumerate() {
        sheet.write_string_with_format(row as u32, 0, t(key), &bold)?;
        sheet.write_string(row as u32, 1, value)?;
    }
    sheet.set_column_width(0, 36)?;
    sheet.set_column_width(1, 40)?;

    let sheet = table(&mut book, lang, "trace.sheet_track", &["trace.time", "trace.lon", "trace.lat"], &[20, 12, 12], &bold)?;
    for (row, p) in trace.track.iter().take(MAX_SHEET_ROWS).enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, when(p.at))?;
        sheet.write_number(row, 1, p.lon)?;
        sheet.write_number(row, 2, p.lat)?;
    }

    let columns = ["trace.subject", "trace.closest", "trace.closest_at", "trace.reports", "trace.first", "trace.last"];
    let sheet = table(&mut book, lang, "trace.sheet_with", &columns, &[24, 14, 20, 14, 20, 20], &bold)?;
    for (row, c) in trace.contacts.iter().take(MAX_SHEET_ROWS).enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, &c.id)?;
        sheet.write_number(row, 1, c.closest_metres.round())?;
        sheet.write_string(row, 2, when(c.closest_at))?;
        sheet.write_number(row, 3, c.reports as f64)?;
        sheet.write_string(row, 4, when(c.first_at))?;
        sheet.write_string(row, 5, when(c.last_at))?;
    }

    // One row per feed's place, the time and distances repeated: a spreadsheet filters rows.
    let columns = [
        "trace.time",
        "trace.export_apart",
        "trace.export_allowed",
        "trace.export_source",
        "trace.export_county",
        "trace.lon",
        "trace.lat",
        "trace.export_between",
    ];
    let sheet = table(&mut book, lang, "trace.sheet_disagree", &columns, &[20, 10, 10, 12, 14, 12, 12, 24], &bold)?;
    let copies = trace.disagreements.iter().flat_map(|d| d.copies.iter().map(move |c| (d, c)));
    for (row, (d, c)) in copies.take(MAX_SHEET_ROWS).enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, when(d.at))?;
        sheet.write_number(row, 1, d.metres.round())?;
        sheet.write_number(row, 2, d.allowed_metres.round())?;
        sheet.write_string(row, 3, &c.source)?;
        sheet.write_string(row, 4, county(&c.region))?;
        sheet.write_number(row, 5, c.lon)?;
        sheet.write_number(row, 6, c.lat)?;
        if let Some([from, to]) = c.between {
            sheet.write_string(row, 7, format!("{}–{}", clock(from, "%H:%M:%S"), clock(to, "%H:%M:%S")))?;
        }
    }
    book.save_to_buffer()
}

/// `n` things in `rows` rows, and where the rows are more than a sheet holds, how many it does.
fn count(lang: Lang, n: usize, rows: usize) -> String {
    if rows <= MAX_SHEET_ROWS {
        return n.to_string();
    }
    i18n::fill(lang, "trace.export_capped", &[("n", &n.to_string()), ("shown", &MAX_SHEET_ROWS.to_string())])
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};
    use chrono::TimeZone;
    use fq_engine::{Disagreement, FeedCopy};
    use fq_risk::trace::{Contact, Position};

    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap() + chrono::Duration::minutes(minute)
    }

    #[test]
    fn a_count_says_when_a_sheet_holds_fewer_rows() {
        assert_eq!(count(Lang::Zh, 12, 24), "12");
        assert_eq!(count(Lang::Zh, 600_000, 1_200_000), "600000（表中仅含前 1000000 行）");
    }

    #[test]
    fn the_workbook_holds_what_was_asked_the_track_the_companions_and_the_disagreements() {
        let p = |minute: i64, lon: f64| Position { id: "浙普渔演示03".into(), at: at(minute), lon, lat: 29.95 };
        let copy = |region: &str, lat: f64, between: Option<[DateTime<Utc>; 2]>| FeedCopy {
            source: "ais".into(),
            region: region.into(),
            lon: 122.31,
            lat,
            between,
        };
        let trace = Trace {
            id: "浙普渔演示03".into(),
            at: at(60),
            hours: 72,
            within_metres: 500.0,
            same_time_minutes: 5,
            regions: Some(vec!["330903".into()]),
            track: vec![p(0, 122.30), p(10, 122.31), p(20, 122.32)],
            contacts: vec![Contact {
                id: "浙普渔演示04".into(),
                closest_metres: 168.7,
                closest_at: at(10),
                reports: 3,
                first_at: at(0),
                last_at: at(20),
            }],
            disagreements: vec![Disagreement {
                at: at(5),
                metres: 2003.4,
                allowed_metres: 1061.2,
                copies: vec![copy("330921", 29.968, None), copy("330903", 29.95, Some([at(0), at(10)]))],
            }],
        };
        let about = About {
            feeds: Some("普陀区".into()), by: "演示普陀区轨迹研判员（demo-putuo-tracer）".into(), at: at(61)
        };
        let named = |code: &str| if code == "330921" { "岱山县".to_owned() } else { "普陀区".to_owned() };
        let bytes = workbook(Lang::Zh, &trace, &about, &named).unwrap();
        let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["说明", "轨迹", "伴随对象", "位置数据不一致"]);
        let cell =
            |range: &calamine::Range<Data>, row: u32, col: u32| range.get_value((row, col)).cloned().unwrap_or(Data::Empty);
        let text = |s: &str| Data::String(s.to_owned());

        let about_sheet = book.worksheet_range("说明").unwrap();
        assert_eq!(cell(&about_sheet, 0, 1), text("浙普渔演示03"));
        assert_eq!(cell(&about_sheet, 1, 1), text("2026-11-26 11:00:00"), "Beijing time");
        assert_eq!(cell(&about_sheet, 5, 1), text("普陀区"));
        assert_eq!(cell(&about_sheet, 9, 0), text("导出人"));
        assert_eq!(cell(&about_sheet, 9, 1), text("演示普陀区轨迹研判员（demo-putuo-tracer）"));

        let track = book.worksheet_range("轨迹").unwrap();
        assert_eq!(track.height(), 4, "a header and three reports");
        assert_eq!((cell(&track, 0, 0), cell(&track, 2, 0)), (text("时间"), text("2026-11-26 10:10:00")));
        assert_eq!(cell(&track, 3, 1), Data::Float(122.32));

        let with = book.worksheet_range("伴随对象").unwrap();
        assert_eq!(
            (cell(&with, 1, 0), cell(&with, 1, 1), cell(&with, 1, 3)),
            (text("浙普渔演示04"), Data::Float(169.0), Data::Float(3.0))
        );

        let doubts = book.worksheet_range("位置数据不一致").unwrap();
        assert_eq!(doubts.height(), 3, "one row per feed's place");
        assert_eq!((cell(&doubts, 1, 1), cell(&doubts, 1, 2)), (Data::Float(2003.0), Data::Float(1061.0)));
        assert_eq!((cell(&doubts, 1, 4), cell(&doubts, 2, 4)), (text("岱山县"), text("普陀区")));
        assert_eq!((cell(&doubts, 1, 7), cell(&doubts, 2, 7)), (Data::Empty, text("10:00:00–10:10:00")));

        // An operator's trace reads every feed; the English workbook names its sheets in English.
        let everyone = About { feeds: None, ..about };
        let mut book = Xlsx::new(Cursor::new(workbook(Lang::En, &trace, &everyone, &named).unwrap())).unwrap();
        assert_eq!(book.sheet_names(), ["About", "Track", "Companions", "Feeds disagree"]);
        assert_eq!(cell(&book.worksheet_range("About").unwrap(), 5, 1), text("All (operator)"));
    }
}
