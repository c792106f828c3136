//! What the console's workbooks share: their content type, and a sheet of rows under a bold
//! header.

use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::i18n::{self, Lang};

pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A sheet named by the message `name` with a bold header of the messages `columns`, frozen
/// above the rows.
pub(crate) fn table<'b>(
    book: &'b mut Workbook,
    lang: Lang,
    name: &str,
    columns: &[&str],
    widths: &[u16],
    bold: &Format,
) -> Result<&'b mut Worksheet, XlsxError> {
    let sheet = book.add_worksheet();
    sheet.set_name(i18n::text(lang, name))?;
    sheet.set_freeze_panes(1, 0)?;
    for (col, (key, width)) in columns.iter().zip(widths).enumerate() {
        sheet.set_column_width(col as u16, *width)?;
        sheet.write_string_with_format(0, col as u16, i18n::text(lang, key), bold)?;
    }
    Ok(sheet)
}
