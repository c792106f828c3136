//! Reads an export for `import cases` into text cells with their line numbers: CSV (UTF-8,
//! header first, quoted cells may span lines) or the first sheet of an XLSX workbook.

use std::io::Cursor;

use calamine::{Data, Reader, open_workbook_auto_from_rs};

use super::Table;
use crate::error::EngineError;

fn unreadable(name: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::field("file_unreadable", "file", format!("cannot read {name}: {e}"))
}

/// Reads `bytes`, the file `name` (its extension says which format).
pub fn read_table(name: &str, bytes: &[u8]) -> Result<Table, EngineError> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "csv" => read_csv(name, bytes),
        "xlsx" | "xlsm" | "xls" | "ods" => read_workbook(name, bytes),
        _ => Err(EngineError::field("file_type_unknown", "file", format!("{name}: expected a .csv or .xlsx file"))),
    }
}

fn read_csv(name: &str, bytes: &[u8]) -> Result<Table, EngineError> {
    // Excel writes a byte-order mark before UTF-8 CSV.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| unreadable(name, e))?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            EngineError::field("csv_invalid", &format!("{name}:{line}"), e.to_string())
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        rows.push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(Table { headers, rows })
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(t) => match t.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.format("%Y-%m-%d").to_string(),
            Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => t.to_string(),
        },
    }
}

fn read_workbook(name: &str, bytes: &[u8]) -> Result<Table, EngineError> {
    let mut book = open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| unreadable(name, e))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| unreadable(name, "the workbook has no sheet"))?
        .map_err(|e| unreadable(name, e))?;
    // Spreadsheet row numbers start at 1, and the used range may start below the top.
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row)) + 1;
    let mut rows = range.rows().enumerate();
    let headers = rows.next().map(|(_, r)| r.iter().map(cell_text).collect()).unwrap_or_default();
    let rows = rows
        .map(|(i, r)| (first_row + i as u64, r.iter().map(cell_text).collect::<Vec<_>>()))
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .collect();
    Ok(Table { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_the_line_they_start_on() {
        let text = "id,text\n1,one\n2,\"two\nlines\"\n3,three\n";
        let table = read_table("x.csv", text.as_bytes()).unwrap();
        assert_eq!(table.headers, ["id", "text"]);
        let lines: Vec<u64> = table.rows.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 3, 5]);
        assert_eq!(table.rows[1].1[1], "two\nlines");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_header() {
        let table = read_table("x.CSV", "\u{feff}id,name\n1,a\n".as_bytes()).unwrap();
        assert_eq!(table.headers[0], "id");
    }

    #[test]
    fn other_files_are_refused_by_name() {
        let err = read_table("x.json", b"{}").unwrap_err();
        assert_eq!(fq_domain::Coded::code(&err), "file_type_unknown");
        let err = read_table("x.xlsx", b"not a zip").unwrap_err();
        assert_eq!(fq_domain::Coded::code(&err), "file_unreadable");
    }
}
