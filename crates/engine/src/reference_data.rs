//! The reference data shipped inside the binary (from `data/` at the repository root, each file
//! with its SOURCE), so that the first `fengqiao serve` on a machine with no other files works.

use fq_domain::region_dataset::DivisionFiles;

macro_rules! data_file {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/", $path))
    };
}

/// The Zhejiang division tree (see `data/regions/SOURCE.md`).
pub static EMBEDDED_REGIONS: [&[u8]; 5] = [
    data_file!("regions/provinces.csv"),
    data_file!("regions/cities.csv"),
    data_file!("regions/areas.csv"),
    data_file!("regions/streets.csv"),
    data_file!("regions/villages.csv"),
];

/// The province, city and county outlines (see `data/boundaries/SOURCE.md`), as (name, bytes).
pub static EMBEDDED_BOUNDARIES: [(&str, &[u8]); 3] = [
    ("data/boundaries/province.geojson", data_file!("boundaries/province.geojson")),
    ("data/boundaries/city.geojson", data_file!("boundaries/city.geojson")),
    ("data/boundaries/county.geojson", data_file!("boundaries/county.geojson")),
];

/// The embedded division tree as the five files the parser takes.
pub fn embedded_division_files() -> DivisionFiles<'static> {
    DivisionFiles {
        provinces: EMBEDDED_REGIONS[0],
        cities: EMBEDDED_REGIONS[1],
        counties: EMBEDDED_REGIONS[2],
        towns: EMBEDDED_REGIONS[3],
        villages: EMBEDDED_REGIONS[4],
    }
}

/// The Chinese working-day calendar (see `data/calendar/SOURCE.md`).
pub static EMBEDDED_CALENDAR: &[u8] = data_file!("calendar/cn-workdays.toml");

/// The embedded calendar, parsed. It is checked by the tests, so failing here is a build defect.
pub fn embedded_calendar() -> fq_domain::calendar::CalendarSet {
    fq_domain::calendar::parse_calendar("data/calendar/cn-workdays.toml", EMBEDDED_CALENDAR).expect("the shipped calendar parses")
}
