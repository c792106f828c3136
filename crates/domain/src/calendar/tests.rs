use chrono::{Days, NaiveDate, TimeZone};
use proptest::prelude::*;

use super::*;

const SHIPPED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/calendar/cn-workdays.toml"));

fn shipped() -> CalendarSet {
    parse_calendar("cn-workdays.toml", SHIPPED.as_bytes()).expect("the shipped calendar parses")
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// A Beijing-time instant.
fn at(text: &str) -> DateTime<Utc> {
    beijing().from_local_datetime(&NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()).unwrap().to_utc()
}

fn bj(instant: DateTime<Utc>) -> String {
    instant.with_timezone(&beijing()).format("%Y-%m-%d %H:%M").to_string()
}

#[test]
fn make_up_days_work_and_holidays_rest() {
    let set = shipped();
    let cal = set.national();
    let cases = [
        ("2026-02-14", true, "Saturday before Spring Festival is a make-up working day"),
        ("2026-02-15", false, "Spring Festival"),
        ("2026-02-23", false, "last day of Spring Festival, a Monday"),
        ("2026-02-24", true, "back to work"),
        ("2026-02-28", true, "make-up Saturday after Spring Festival"),
        ("2026-09-20", true, "make-up Sunday before National Day"),
        ("2026-10-07", false, "National Day, a Wednesday"),
        ("2026-10-10", true, "make-up Saturday after National Day"),
        ("2026-10-11", false, "an ordinary Sunday"),
        ("2025-01-26", true, "make-up Sunday before Spring Festival 2025"),
        ("2025-01-28", false, "New Year's Eve 2025 is a holiday under the 2024 rules"),
        ("2024-02-18", true, "make-up Sunday after Spring Festival 2024"),
        ("2024-06-10", false, "Dragon Boat 2024, a Monday"),
        ("2027-02-08", false, "provisional: the third day of Spring Festival 2027"),
        ("2023-10-02", false, "an uncovered year knows only weekends... this Monday was a holiday, but 2023 is not in the data"),
    ];
    for (day, working, why) in cases {
        if day == "2023-10-02" {
            assert!(cal.is_working_day(date(day)), "uncovered years count weekdays as working: {why}");
            continue;
        }
        assert_eq!(cal.is_working_day(date(day)), working, "{day}: {why}");
    }
    assert_eq!(cal.coverage(date("2026-05-01")), Coverage::Official);
    assert_eq!(cal.coverage(date("2027-05-01")), Coverage::Provisional);
    assert_eq!(cal.coverage(date("2023-05-01")), Coverage::Uncovered);
}

#[test]
fn working_day_limits_across_spring_festival_and_national_day() {
    let set = shipped();
    let cal = set.national();
    let cases = [
        // start (Beijing)        n  end of this day (the deadline)   why
        ("2026-02-13 10:00", 1, "2026-02-14", "Friday + 1wd lands on the make-up Saturday"),
        ("2026-02-13 10:00", 2, "2026-02-24", "the whole holiday is skipped"),
        ("2026-02-14 09:00", 1, "2026-02-24", "starting on the make-up Saturday"),
        ("2026-02-16 09:00", 1, "2026-02-24", "starting inside the holiday"),
        ("2026-02-16 09:00", 0, "2026-02-24", "0wd from a holiday is the end of the next working day"),
        ("2026-02-27 10:00", 1, "2026-02-28", "Friday + 1wd is the make-up Saturday after the holiday"),
        ("2026-09-30 10:00", 1, "2026-10-08", "National Day skipped"),
        ("2026-10-09 10:00", 1, "2026-10-10", "make-up Saturday after National Day"),
        ("2026-09-19 10:00", 1, "2026-09-20", "make-up Sunday before National Day"),
        ("2025-01-24 17:00", 1, "2025-01-26", "2025: make-up Sunday before Spring Festival"),
        ("2025-01-27 17:00", 1, "2025-02-05", "2025: Spring Festival from New Year's Eve"),
        ("2025-09-30 09:00", 5, "2025-10-14", "2025: National Day and Mid-Autumn merged, make-up Saturday 10-11 counts"),
    ];
    for (start, n, end, why) in cases {
        let due = cal.add_working_days(at(start), n);
        assert_eq!(due, end_of_day(date(end)), "{start} + {n}wd: {why} (got {})", bj(due));
    }
}

#[test]
fn calendar_day_limits_move_past_rest_days() {
    let set = shipped();
    let cal = set.national();
    // Three days from Thursday 2026-02-12 end on Sunday 02-15, a holiday: extended to 02-24.
    assert_eq!(cal.add_calendar_days(at("2026-02-12 15:00"), 3), end_of_day(date("2026-02-24")));
    // Thirty days from 2026-09-01 is 10-01, National Day: extended to 10-08.
    assert_eq!(cal.add_calendar_days(at("2026-09-01 15:00"), 30), end_of_day(date("2026-10-08")));
    // An ordinary weekday is kept.
    assert_eq!(cal.add_calendar_days(at("2026-03-02 15:00"), 2), end_of_day(date("2026-03-04")));
}

#[test]
fn working_hours_use_office_hours_of_working_days() {
    let set = shipped();
    let cal = set.national();
    let cases = [
        ("2026-02-13 16:30", 2, "2026-02-14 09:30", "one hour Friday, one on the make-up Saturday"),
        ("2026-03-02 11:30", 1, "2026-03-02 14:00", "the lunch break is not working time"),
        ("2026-03-02 07:00", 4, "2026-03-02 14:00", "before office hours: counting starts at 08:30"),
        ("2026-03-06 17:00", 4, "2026-03-09 12:00", "half an hour on Friday, three and a half on Monday"),
        ("2026-09-30 17:00", 1, "2026-10-08 09:00", "into National Day"),
    ];
    for (start, hours, end, why) in cases {
        let due = Limit::parse(&format!("{hours}wh")).unwrap().due(at(start), cal);
        assert_eq!(bj(due), end, "{start} + {hours}wh: {why}");
    }
    // Friday 16:30-17:30 (1 h), the make-up Saturday (7.5 h), nothing during the holiday, 08:30-09:30 (1 h).
    assert_eq!(cal.working_seconds_between(at("2026-02-13 16:30"), at("2026-02-24 09:30")), 34_200);
}

#[test]
fn limits_parse_and_print() {
    for (text, unit) in [
        ("3d", LimitUnit::CalendarDays),
        ("5wd", LimitUnit::WorkingDays),
        ("4wh", LimitUnit::WorkingHours),
        ("48h", LimitUnit::Hours),
    ] {
        let limit = Limit::parse(text).unwrap();
        assert_eq!(limit.unit, unit);
        assert_eq!(limit.to_string(), text);
    }
    for bad in ["", "5", "wd", "0wd", "5 days", "-3d", "5w", "99999d"] {
        assert!(Limit::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(Limit::parse("5wd").unwrap().name_zh(), "5个工作日");
}

#[test]
fn regions_override_days_and_hours() {
    let text = format!(
        "{SHIPPED}\n[[regions]]\ncode = \"3306\"\nname = \"绍兴市\"\nholidays = [{{ name = \"测试\", dates = [\"2026-02-14\"] }}]\nworkdays = [\"2026-03-07\"]\nhours = [\"09:00-12:00\"]\n"
    );
    let set = parse_calendar("c.toml", text.as_bytes()).unwrap();
    let shaoxing = set.for_region(&RegionCode::parse("330602").unwrap());
    assert!(!shaoxing.is_working_day(date("2026-02-14")), "a regional holiday beats a national make-up day");
    assert!(shaoxing.is_working_day(date("2026-03-07")));
    assert_eq!(shaoxing.office_hours().seconds_per_day(), 3 * 3600);
    let elsewhere = set.for_region(&RegionCode::parse("331004").unwrap());
    assert!(elsewhere.is_working_day(date("2026-02-14")));
}

#[test]
fn broken_calendar_files_name_the_line() {
    let cases = [
        (
            "[hours]\nperiods = [\"08:30-12:00\"]\n[[years]]\nyear = 2026\nstatus = \"official\"\nsource = \"x\"\nworkdays = [\"2026-02-30\"]\n",
            7,
            "not a date",
        ),
        ("[hours]\nperiods = [\"08:30-12:00\", \"11:00-13:00\"]\n", 2, "overlap"),
        (
            "[hours]\nperiods = [\"08:30-12:00\"]\n[[years]]\nyear = 2026\nstatus = \"maybe\"\nsource = \"x\"\n",
            5,
            "official or provisional",
        ),
        (
            "[hours]\nperiods = [\"08:30-12:00\"]\n[[years]]\nyear = 2026\nstatus = \"official\"\nsource = \"x\"\nholidays = [{ name = \"a\", dates = [\"2026-02-14\"] }]\nworkdays = [\"2026-02-14\"]\n",
            8,
            "both",
        ),
        ("[hours]\nperiods = [\"08:30-12:00\"]\nextra = 1\n", 3, "unknown field"),
        (
            "[hours]\nperiods = [\"08:30-12:00\"]\n[[years]]\nyear = 2026\nstatus = \"official\"\nsource = \"x\"\nworkdays = [\"2025-02-14\"]\n",
            7,
            "not in the year",
        ),
    ];
    for (text, line, reason) in cases {
        let err = parse_calendar("bad.toml", text.as_bytes()).unwrap_err();
        assert_eq!(err.line, line, "{err}");
        assert!(err.reason.contains(reason), "{err}");
        assert_eq!(err.file, "bad.toml");
    }
}

fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // Any minute between 2024-01-01 and 2027-12-31, Beijing time.
    (0i64..(4 * 365 * 24 * 60)).prop_map(|minutes| at("2024-01-01 00:00") + TimeDelta::minutes(minutes))
}

proptest! {
    #[test]
    fn adding_then_measuring_working_time_round_trips(start in arb_instant(), seconds in 0i64..(60 * 8 * 3600)) {
        let set = shipped();
        let cal = set.national();
        let due = cal.add_working_seconds(start, seconds);
        prop_assert!(due >= start);
        prop_assert_eq!(cal.working_seconds_between(start, due), seconds);
    }

    #[test]
    fn working_day_limits_count_exactly_n_working_days(start in arb_instant(), n in 1u32..60) {
        let set = shipped();
        let cal = set.national();
        let due = cal.add_working_days(start, n);
        let last = local_date(due) - Days::new(1);
        prop_assert!(cal.is_working_day(last), "the deadline ends a working day");
        prop_assert_eq!(cal.working_days_between(local_date(start), last), n);
        prop_assert!(cal.add_working_days(start, n + 1) > due, "more days, later deadline");
    }

    #[test]
    fn calendar_day_limits_never_end_on_rest_days(start in arb_instant(), n in 1u32..90) {
        let set = shipped();
        let cal = set.national();
        let due = cal.add_calendar_days(start, n);
        let last = local_date(due) - Days::new(1);
        prop_assert!(cal.is_working_day(last));
        prop_assert!(last >= local_date(start) + Days::new(u64::from(n)));
    }
}
