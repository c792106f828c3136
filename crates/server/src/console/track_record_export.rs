//! The track record of forecasts as a workbook (`/heatmap/record.xlsx`): 说明 (what was asked,
//! the sum, who exported and when), 各期检验 (one row per period, figures as numbers a
//! spreadsheet can add up) and 概率可信度 (the reliability table). No personal data: counts per
//! period only, so the export is not journaled (unlike a trace's).

use chrono::{DateTime, Utc};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::display::clock;
use super::heatmap::figure;
use super::i18n::{self, Lang};
use super::sheets::table;
use super::track_record::Record;

/// Who exported and when.
pub(crate) struct About {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The columns of 各期检验, in order.
const PERIOD_COLUMNS: [&str; 16] = [
    "rec.day",
    "rec.last",
    "rec.categories",
    "rec.events",
    "rec.outside",
    "rec.study_cells",
    "rec.flagged",
    "rec.captured",
    "rec.rate",
    "rec.pai",
    "rec.pei",
    "rec.previous",
    "rec.previous_pai",
    "rec.cells_calibrated",
    "rec.brier",
    "rec.checked_at",
];

/// The workbook of `record`.
pub(crate) fn workbook(lang: Lang, record: &Record, about: &About) -> Result<Vec<u8>, XlsxError> {
    let t = |key: &str| i18n::text(lang, key);
    let bold = Format::new().set_bold();
    let mut book = Workbook::new();

    let sheet = book.add_worksheet();
    sheet.set_name(t("rec.sheet_about"))?;
    let s = record.summary.as_ref();
    let number = |v: Option<f64>| v.map_or_else(String::new, figure);
    let brier = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.4}"));
    let rows: [(&str, String); 15] = [
        ("rec.county", format!("{}（{}）", record.place, record.county)),
        ("rec.category", record.category_name.clone().unwrap_or_else(|| t("rec.every_category"))),
        ("rec.horizon_days", record.horizon.days().to_string()),
        ("rec.span", format!("{} – {}", record.from.format("%Y-%m-%d"), record.to.format("%Y-%m-%d"))),
        ("rec.listed", record.periods.len().to_string()),
        ("rec.checked", s.map_or(0, |s| s.periods).to_string()),
        ("rec.events", s.map_or(0, |s| s.events).to_string()),
        ("rec.captured", number(s.map(|s| s.captured))),
        ("rec.previous", number(s.map(|s| s.previous_captured))),
        ("rec.ahead", s.map_or(0, |s| s.ahead).to_string()),
        ("rec.behind", s.map_or(0, |s| s.behind).to_string()),
        ("rec.brier", brier(s.and_then(|s| s.brier))),
        ("rec.reference_brier", brier(s.and_then(|s| s.reference_brier))),
        ("rec.export_by", about.by.clone()),
        ("rec.export_at", clock(about.at, "%Y-%m-%d %H:%M:%S")),
    ];
    for (row, (key, value)) in rows.iter().enumerate() {
        sheet.write_string_with_format(row as u32, 0, t(key), &bold)?;
        sheet.write_string(row as u32, 1, value)?;
    }
    sheet.write_string(rows.len() as u32 + 1, 0, t("rec.export_note"))?;
    sheet.set_column_width(0, 30)?;
    sheet.set_column_width(1, 40)?;

    let widths = [12, 12, 8, 10, 10, 12, 12, 14, 10, 8, 8, 14, 10, 12, 10, 18];
    let sheet = table(&mut book, lang, "rec.sheet_periods", &PERIOD_COLUMNS, &widths, &bold)?;
    let days = u64::try_from(record.horizon.days()).unwrap_or(7);
    for (row, p) in record.periods.iter().enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, p.day.format("%Y-%m-%d").to_string())?;
        sheet.write_string(row, 1, (p.day + chrono::Days::new(days - 1)).format("%Y-%m-%d").to_string())?;
        sheet.write_number(row, 2, p.categories.len() as f64)?;
        match &p.check {
            Some(c) => {
                let figures = [
                    c.events as f64,
                    c.events.saturating_sub(c.in_study) as f64,
                    c.study_cells as f64,
                    c.flagged_cells,
                    c.captured,
                    c.hit_rate_percent(),
                    c.pai,
                    c.pei,
                    c.previous_captured,
                    c.previous_pai,
                ];
                for (col, v) in figures.into_iter().enumerate() {
                    sheet.write_number(row, col as u16 + 3, (v * 1000.0).round() / 1000.0)?;
                }
            }
            None => {
                sheet.write_number(row, 3, 0.0)?;
                sheet.write_string(row, 4, t("rec.nothing_to_check"))?;
            }
        }
        if let Some(c) = p.calibration.as_ref().filter(|c| c.cells > 0) {
            sheet.write_number(row, 13, c.cells as f64)?;
            sheet.write_number(row, 14, (c.brier * 1e5).round() / 1e5)?;
        }
        if let Some(at) = p.checked_at {
            sheet.write_string(row, 15, clock(at, "%Y-%m-%d %H:%M"))?;
        }
    }

    let columns = ["heat.reliability_range", "heat.reliability_cells", "rec.mean_forecast", "rec.observed"];
    let sheet = table(&mut book, lang, "rec.sheet_reliability", &columns, &[16, 12, 18, 18], &bold)?;
    for (row, b) in s.map(|s| &s.reliability[..]).unwrap_or_default().iter().enumerate() {
        let row = row as u32 + 1;
        sheet.write_string(row, 0, format!("{}–{}%", figure(b.from * 100.0), figure(b.to * 100.0)))?;
        sheet.write_number(row, 1, b.cells as f64)?;
        sheet.write_number(row, 2, (b.mean_forecast * 1e4).round() / 100.0)?;
        sheet.write_number(row, 3, (b.observed * 1e4).round() / 100.0)?;
    }
    book.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};
    use chrono::{NaiveDate, TimeZone};
    use fq_domain::region::RegionCode;
    use fq_engine::{Horizon, PastForecast, summarise_record};
    use fq_risk::check::{Calibrated, ForecastCheck};
    use fq_risk::metrics::ReliabilityBin;

    use super::*;

    fn period(day: NaiveDate, captured: f64, events: usize) -> PastForecast {
        let check = (events > 0).then(|| ForecastCheck {
            events,
            in_study: events - 1,
            study_cells: 200,
            share: 0.05,
            flagged_cells: 10.0,
            captured,
            pai: captured / events as f64 * 20.0,
            pei: 0.5,
            previous_captured: 1.0,
            previous_pai: 20.0 / events as f64,
        });
        let bin = ReliabilityBin { from: 0.0, to: 0.01, cells: 200, mean_forecast: 0.004, observed: events as f64 / 200.0 };
        PastForecast {
            day,
            categories: vec!["dispute_labour".into(), "theft".into()],
            missing: Vec::new(),
            check,
            calibration: Some(Calibrated { cells: 200, brier: 0.0123, reliability: vec![bin] }),
            checked_at: Some(Utc.with_ymd_and_hms(2026, 11, 20, 18, 5, 0).unwrap()),
        }
    }

    #[test]
    fn the_workbook_holds_the_sum_every_period_as_numbers_and_the_probabilities() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let periods = vec![period(day(14), 3.0, 6), period(day(7), 0.0, 0), period(day(1) - chrono::Days::new(1), 2.5, 5)];
        let summary = summarise_record(&periods);
        let record = Record {
            county: RegionCode::parse("331004").unwrap(),
            place: "路桥区".into(),
            category: None,
            category_name: None,
            horizon: Horizon::Week,
            from: day(1) - chrono::Days::new(1),
            to: day(20),
            periods,
            summary,
        };
        let about =
            About { by: "演示领导（demo-leader）".into(), at: Utc.with_ymd_and_hms(2026, 11, 28, 1, 2, 3).unwrap() };
        let mut book = Xlsx::new(Cursor::new(workbook(Lang::Zh, &record, &about).unwrap())).unwrap();
        assert_eq!(book.sheet_names(), ["说明", "各期检验", "概率可信度"]);
        let cell =
            |range: &calamine::Range<Data>, row: u32, col: u32| range.get_value((row, col)).cloned().unwrap_or(Data::Empty);
        let text = |s: &str| Data::String(s.to_owned());

        let head = book.worksheet_range("说明").unwrap();
        assert_eq!(cell(&head, 0, 1), text("路桥区（331004）"));
        assert_eq!(cell(&head, 1, 1), text("全部类别合计"));
        assert_eq!(cell(&head, 3, 1), text("2026-10-31 – 2026-11-20"));
        assert_eq!(
            (cell(&head, 4, 1), cell(&head, 5, 1), cell(&head, 6, 1)),
            (text("3"), text("2"), text("11")),
            "listed, checked, events"
        );
        assert_eq!((cell(&head, 7, 1), cell(&head, 8, 1)), (text("5.5"), text("2")));
        assert_eq!(cell(&head, 11, 1), text("0.0123"));
        assert_eq!(cell(&head, 14, 1), text("2026-11-28 09:02:03"), "Beijing time");

        let rows = book.worksheet_range("各期检验").unwrap();
        assert_eq!(rows.height(), 4, "a header and three periods");
        assert_eq!((cell(&rows, 1, 0), cell(&rows, 1, 1)), (text("2026-11-14"), text("2026-11-20")));
        assert_eq!(
            (cell(&rows, 1, 3), cell(&rows, 1, 4), cell(&rows, 1, 7)),
            (Data::Float(6.0), Data::Float(1.0), Data::Float(3.0))
        );
        assert_eq!((cell(&rows, 1, 8), cell(&rows, 1, 9)), (Data::Float(50.0), Data::Float(10.0)), "hit rate % and PAI");
        assert_eq!(cell(&rows, 2, 4), text("无事件，无从检验"), "a quiet week");
        assert_eq!((cell(&rows, 2, 14), cell(&rows, 2, 15)), (Data::Float(0.0123), text("2026-11-21 02:05")));

        let bins = book.worksheet_range("概率可信度").unwrap();
        assert_eq!(bins.height(), 2);
        assert_eq!(
            (cell(&bins, 1, 0), cell(&bins, 1, 1), cell(&bins, 1, 2)),
            (text("0–1%"), Data::Float(600.0), Data::Float(0.4))
        );

        // The English workbook names its sheets in English.
        let book = Xlsx::new(Cursor::new(workbook(Lang::En, &record, &about).unwrap())).unwrap();
        assert_eq!(book.sheet_names(), ["About", "Periods", "Reliability"]);
    }
}
