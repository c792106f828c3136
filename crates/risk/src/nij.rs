//! The NIJ Real-Time Crime Forecasting Challenge history of Portland (data/samples/portland-nij):
//! its rows (`occ_date`, `x_coordina`, `y_coordina` in EPSG:2913 feet) as the backtest's CSV
//! (`time`, `lon`, `lat`, `category`).

use crate::projection::oregon_north_to_wgs84;

/// Converts the challenge's CSV to the backtest's, every row labelled `category`. Rows whose
/// coordinates are missing or zero (the challenge's unlocated calls) are counted and left out.
pub fn convert(bytes: &[u8], category: &str) -> Result<(String, usize), String> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| format!("no column {name}"));
    let (date, x, y) = (column("occ_date")?, column("x_coordina")?, column("y_coordina")?);
    let mut out = String::from("time,lon,lat,category\n");
    let mut skipped = 0;
    for row in reader.records() {
        let row = row.map_err(|e| e.to_string())?;
        let (Ok(fx), Ok(fy)) = (row[x].trim().parse::<f64>(), row[y].trim().parse::<f64>()) else {
            skipped += 1;
            continue;
        };
        if fx <= 0.0 || fy <= 0.0 {
            skipped += 1;
            continue;
        }
        let (lon, lat) = oregon_north_to_wgs84(fx, fy);
        out.push_str(&format!("{},{lon:.6},{lat:.6},{category}\n", row[date].trim()));
    }
    Ok((out, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_rows_become_portland_points() {
        let text = "occ_date,x_coordina,y_coordina,week_no\n2012-03-12,7688186,676342,260\n2012-03-13,0,0,260\n";
        let (csv, skipped) = convert(text.as_bytes(), "burglary").unwrap();
        assert_eq!(skipped, 1);
        let events = crate::read_events(csv.as_bytes()).unwrap();
        assert_eq!(events.len(), 1);
        let e = &events[0];
        assert!((45.4..45.7).contains(&e.lat) && (-122.9..-122.4).contains(&e.lon), "{e:?}");
    }
}
