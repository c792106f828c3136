//! `/export/cases.csv` and `/export/cases.xlsx`: the case list's current filter as a file, up to
//! [`MAX_ROWS`] rows. Lists never carry personal data (no parties, no phone or ID numbers), so
//! neither do exports; titles are the matter, not a person.

use axum::extract::{Query, State};
use axum::response::Response;
use fq_engine::EngineError;
use fq_store::CaseSummary;

use super::cases::{Filters, listable};
use super::display::{self, Names};
use super::i18n::{self, Lang};
use super::layout::{self, Page};
use super::viewer::Viewer;
use crate::AppState;

/// The most rows one export holds.
pub(crate) const MAX_ROWS: usize = 10_000;
/// Rows read per round trip.
const BATCH: u32 = 500;

pub(crate) const COLUMNS: [&str; 14] = [
    "export.number",
    "export.programme",
    "export.kind",
    "export.title",
    "export.state",
    "export.priority",
    "export.region_code",
    "export.place",
    "export.unit",
    "export.opened",
    "export.closed",
    "export.due",
    "export.yellow",
    "export.red",
];

/// One exported line, in the order of [`COLUMNS`]; the last two are counts.
struct Line {
    text: [String; 12],
    yellow: u32,
    red: u32,
}

/// Reads every case of the filter (up to the maximum), page by page.
async fn read_all(state: &AppState, viewer: &Viewer, filters: &Filters) -> Result<Option<Vec<CaseSummary>>, EngineError> {
    let programmes = listable(&state.engine, viewer);
    let wanted = filters.programme.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let Some(programme) = programmes.iter().find(|p| wanted.is_none_or(|w| w == p.code)) else { return Ok(None) };
    let mut filters = Filters { before: None, offset: None, ..filters.clone() };
    let by_number = filters.sort.as_deref().is_none_or(|s| s.is_empty() || s == "number");
    let mut out: Vec<CaseSummary> = Vec::new();
    loop {
        let batch = state.engine.list_cases(&viewer.actor, filters.query(&programme.code, BATCH)).await?;
        let done = (batch.len() as u32) < BATCH;
        out.extend(batch);
        if done || out.len() >= MAX_ROWS {
            break;
        }
        if by_number {
            filters.before = out.last().map(|c| c.number.clone());
        } else {
            filters.offset = Some(out.len() as u32);
        }
    }
    out.truncate(MAX_ROWS);
    Ok(Some(out))
}

async fn lines(state: &AppState, lang: Lang, cases: Vec<CaseSummary>) -> Vec<Line> {
    let engine = &state.engine;
    let mut names = Names::new(engine);
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let programme = engine.programmes().get(&c.programme).cloned();
        let kind = programme.as_ref().and_then(|p| p.kind(&c.kind));
        let state_name = kind.and_then(|k| k.state(&c.state)).map_or_else(|| c.state.clone(), |s| s.name.clone());
        let unit = match c.unit {
            Some(unit) => names.org(unit.0).await,
            None => String::new(),
        };
        out.push(Line {
            text: [
                c.number.clone(),
                programme.as_ref().map_or_else(|| c.programme.clone(), |p| p.name.clone()),
                kind.map_or_else(|| c.kind.clone(), |k| k.name.clone()),
                c.title.clone(),
                state_name,
                i18n::text(lang, &format!("case.priority_{}", c.priority)),
                c.region.to_string(),
                names.place(&c.region).await,
                unit,
                display::when(c.opened_at),
                c.closed_at.map(display::when).unwrap_or_default(),
                c.due_at.filter(|_| c.closed_at.is_none()).map(display::when).unwrap_or_default(),
            ],
            yellow: c.yellow_cards,
            red: c.red_cards,
        });
    }
    out
}

fn file_name(state: &AppState, filters: &Filters, ext: &str) -> String {
    let programme: String = filters.programme.as_deref().unwrap_or("cases").chars().filter(char::is_ascii_alphanumeric).collect();
    let today = display::day(state.engine.current_time()).replace('-', "");
    format!("cases-{programme}-{today}.{ext}")
}

/// A cell a spreadsheet program would read as a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return first) gets a leading apostrophe, so that a case title cannot run one on the
/// reader's machine (CSV injection). XLSX cells are written as strings and need none.
fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The CSV text: a UTF-8 byte-order mark (so that spreadsheet programs read the Chinese), the
/// header and the lines.
fn csv_bytes(lang: Lang, lines: &[Line]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(COLUMNS.iter().map(|key| i18n::text(lang, key)))?;
    for line in lines {
        let counts = [line.yellow.to_string(), line.red.to_string()];
        writer.write_record(line.text.iter().map(|t| defuse(t)).chain(counts.iter().cloned()))?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

fn xlsx_bytes(lang: Lang, lines: &[Line]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let sheet = workbook.add_worksheet();
    sheet.set_name(i18n::text(lang, "export.sheet"))?;
    for (col, key) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, i18n::text(lang, key), &bold)?;
    }
    for (row, line) in lines.iter().enumerate() {
        let row = row as u32 + 1;
        for (col, text) in line.text.iter().enumerate() {
            sheet.write_string(row, col as u16, text)?;
        }
        sheet.write_number(row, 12, f64::from(line.yellow))?;
        sheet.write_number(row, 13, f64::from(line.red))?;
    }
    for (col, width) in [16, 18, 10, 40, 10, 8, 14, 22, 28, 17, 17, 17, 6, 6].into_iter().enumerate() {
        sheet.set_column_width(col as u16, width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    workbook.save_to_buffer()
}

async fn export(state: &AppState, viewer: &Viewer, filters: &Filters) -> Result<Vec<Line>, Response> {
    match read_all(state, viewer, filters).await {
        Ok(Some(cases)) => Ok(lines(state, viewer.lang, cases).await),
        Ok(None) => Err(layout::denied(state, viewer)),
        Err(e) => Err(layout::fail(state, viewer, &e)),
    }
}

/// `GET /export/cases.csv`.
pub(crate) async fn csv(State(state): State<AppState>, viewer: Viewer, Query(filters): Query<Filters>) -> Page {
    let lines = export(&state, &viewer, &filters).await?;
    let body = csv_bytes(viewer.lang, &lines).map_err(|e| layout::internal(&state, &viewer, &e))?;
    Ok(layout::attachment(body, "text/csv; charset=utf-8", &file_name(&state, &filters, "csv")))
}

/// `GET /export/cases.xlsx`.
pub(crate) async fn xlsx(State(state): State<AppState>, viewer: Viewer, Query(filters): Query<Filters>) -> Page {
    let lines = export(&state, &viewer, &filters).await?;
    let body = xlsx_bytes(viewer.lang, &lines).map_err(|e| layout::internal(&state, &viewer, &e))?;
    let kind = super::sheets::XLSX;
    Ok(layout::attachment(body, kind, &file_name(&state, &filters, "xlsx")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line() -> Line {
        let mut text: [String; 12] = Default::default();
        text[0] = "YS2026-000001".into();
        text[3] = "【演示】邻里漏水纠纷, 二楼".into();
        Line { text, yellow: 1, red: 0 }
    }

    #[test]
    fn csv_has_a_bom_a_header_and_quoted_lines() {
        let bytes = csv_bytes(Lang::Zh, &[line()]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let mut rows = text.trim_start_matches('\u{feff}').lines();
        assert!(rows.next().unwrap().starts_with("编号,"));
        let first = rows.next().unwrap();
        assert!(
            first.starts_with("YS2026-000001,") && first.contains("\"【演示】邻里漏水纠纷, 二楼\"") && first.ends_with(",1,0")
        );
    }

    #[test]
    fn csv_cells_that_look_like_formulas_are_defused() {
        let mut formula = line();
        formula.text[3] = "=HYPERLINK(\"http://x\",\"点我\")".into();
        formula.text[4] = "-2+3".into();
        let text = String::from_utf8(csv_bytes(Lang::Zh, &[formula]).unwrap()).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert!(row.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\""), "{row}");
        assert!(row.contains(",'-2+3,"), "{row}");
        assert!(row.starts_with("YS2026-000001,"), "ordinary cells are untouched: {row}");
    }

    #[test]
    fn xlsx_is_a_zip_file() {
        let bytes = xlsx_bytes(Lang::En, &[line()]).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
    }
}
