//! Synthetic vehicle-inspection records for the counties of a city, for tests, demos and
//! benchmarks. Every record says it is synthetic (ids start with `SIM-`, `synthetic = true`);
//! volumes follow the weights the caller gives each county (the engine uses the real county
//! areas). The vehicles, items, instrument values, photos and insurance policies follow the
//! shapes of domain-rules §2 (GB 38900 item codes, photo type codes, brake ratios), with a small
//! share of the faults a review looks for (a policy whose plate differs from the licence, a
//! photo watermarked before the inspection began, a failing brake).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::record::{InspectionRecord, Insurance, ItemResult, Photo, Report, VEHICLE_CLASSES, check_digit};

use crate::dispatch::uniform;

/// A county and its share of the city's inspections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountyWeight {
    pub code: String,
    pub name: String,
    pub weight: f64,
}

/// The plate letter of a Zhejiang city (浙A Hangzhou … 浙L Zhoushan), by its 4-digit code.
pub fn plate_letter(city: &str) -> Option<char> {
    let letters = [
        ("3301", 'A'),
        ("3302", 'B'),
        ("3303", 'C'),
        ("3304", 'F'),
        ("3305", 'E'),
        ("3306", 'D'),
        ("3307", 'G'),
        ("3308", 'H'),
        ("3309", 'L'),
        ("3310", 'J'),
        ("3311", 'K'),
    ];
    letters.iter().find(|(code, _)| *code == city).map(|(_, l)| *l)
}

const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

fn pick(rng: &mut ChaCha20Rng, from: &[u8]) -> char {
    char::from(from[uniform(rng, from.len())])
}

/// A VIN with a correct check digit (ISO 3779, position 9).
fn vin(rng: &mut ChaCha20Rng) -> String {
    let mut chars: Vec<char> = (0..17).map(|_| pick(rng, VIN_CHARS)).collect();
    chars[8] = check_digit(&chars).unwrap_or('0');
    chars.into_iter().collect()
}

/// `per_day` records a day for `days` days starting `first_day`, spread over the counties by
/// weight (each county with three to eight stations), from `seed`.
pub fn simulate(
    city_plate: char,
    counties: &[CountyWeight],
    first_day: NaiveDate,
    days: u32,
    per_day: u32,
    seed: u64,
) -> Vec<InspectionRecord> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let total: f64 = counties.iter().map(|c| c.weight.max(0.0)).sum();
    let stations: Vec<u32> = counties.iter().map(|_| 3 + uniform(&mut rng, 6) as u32).collect();
    let class_total: u32 = VEHICLE_CLASSES.iter().map(|c| c.2).sum();
    let mut out = Vec::with_capacity((days * per_day) as usize);
    for d in 0..days {
        let day = first_day + Duration::days(i64::from(d));
        // Each county's share of the day, rounded so that the day's total is exact.
        let mut left = per_day;
        for (ci, county) in counties.iter().enumerate() {
            let n = if ci + 1 == counties.len() {
                left
            } else {
                let n = (f64::from(per_day) * county.weight.max(0.0) / total.max(f64::MIN_POSITIVE)).round() as u32;
                n.min(left)
            };
            left -= n;
            for _ in 0..n {
                let seq = out.len() + 1;
                let class = {
                    let mut r = uniform(&mut rng, class_total as usize) as u32;
                    VEHICLE_CLASSES
                        .iter()
                        .position(|c| {
                            if r < c.2 {
                                true
                            } else {
                                r -= c.2;
                                false
                            }
                        })
                        .unwrap_or(0)
                };
                let (vehicle_type, _, _) = VEHICLE_CLASSES[class];
                let station = format!("{}-S{:02}", county.code, 1 + uniform(&mut rng, stations[ci] as usize));
                let minute = 8 * 60 + uniform(&mut rng, 9 * 60) as i64;
                let local = day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(minute);
                // Beijing time is UTC+8 all year.
                let started = Utc.from_utc_datetime(&(local - Duration::hours(8)));
                let ended = started + Duration::minutes(12 + uniform(&mut rng, 30) as i64);
                let plate = format!("浙{city_plate}{}{:04}", pick(&mut rng, PLATE_LETTERS), uniform(&mut rng, 10_000));
                let vin = vin(&mut rng);
                let faulty = uniform(&mut rng, 100);
                let items = ["01", "03", "16", "18", "19", "22", "43", "80"]
                    .iter()
                    .map(|code| ItemResult { code: (*code).to_owned(), passed: !(faulty == 0 && *code == "43") })
                    .collect();
                let brake_ratio =
                    if faulty == 0 { 48.0 + uniform(&mut rng, 10) as f64 } else { 62.0 + uniform(&mut rng, 25) as f64 };
                // First registration up to 15 years back; commercial vehicles carry a scrapping date.
                let registered_on = day - Duration::days(30 + uniform(&mut rng, 15 * 365) as i64);
                let old_car = class == 0 && (day - registered_on).num_days() >= 3652;
                let photo_kinds: &[&str] = if class == 0 && !old_car {
                    &["0111", "0112", "0113", "0157", "0322"]
                } else {
                    &["0111", "0112", "0113", "0157", "0322", "0348", "0323"]
                };
                let photos = photo_kinds
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| {
                        // One record in a hundred has a photo watermarked before the inspection began.
                        let offset = if faulty == 1 && i == 0 { -40 } else { 1 + i as i64 * 2 };
                        Photo {
                            kind: (*kind).to_owned(),
                            watermark_at: started + Duration::minutes(offset),
                            reference: format!("sim://{}/{seq}/{kind}.jpg", county.code),
                        }
                    })
                    .collect();
                let from = day - Duration::days(uniform(&mut rng, 300) as i64);
                // Two in a hundred policies carry another plate (a re-registered vehicle) with the same VIN.
                let policy_plate = if faulty == 2 || faulty == 3 {
                    format!("浙{city_plate}{}{:04}", pick(&mut rng, PLATE_LETTERS), uniform(&mut rng, 10_000))
                } else {
                    plate.clone()
                };
                out.push(InspectionRecord {
                    id: format!("SIM-{}-{}-{seq:07}", county.code, day.format("%Y%m%d")),
                    synthetic: true,
                    county: county.code.clone(),
                    station,
                    inspection_started: started,
                    inspection_ended: ended,
                    plate,
                    vin: vin.clone(),
                    vehicle_type: vehicle_type.to_owned(),
                    use_type: if class == 0 {
                        "A"
                    } else if class == 3 {
                        "B"
                    } else {
                        "F"
                    }
                    .to_owned(),
                    class: class as u8,
                    items,
                    brake_ratio,
                    front_imbalance: uniform(&mut rng, 180) as f64 / 10.0,
                    parking_ratio: 20.0 + uniform(&mut rng, 15) as f64,
                    photos,
                    insurance: Insurance {
                        policy_number: format!("PDZA{}{:09}", day.format("%Y"), rng.next_u32() % 1_000_000_000),
                        plate: policy_plate,
                        vin,
                        valid_from: from,
                        valid_to: from + Duration::days(364),
                        kind: "交强险".into(),
                        tax_paid: true,
                        tax_exemption: None,
                    },
                    // One record in a hundred carries an unsettled violation (a reminder to the reviewer).
                    record_status: if faulty == 4 { "G" } else { "A" }.to_owned(),
                    approved_passengers: [5, 2, 3, 45][class],
                    registered_on: Some(registered_on),
                    scrap_by: (class != 0).then(|| registered_on + Duration::days(15 * 365)),
                    reinspection: false,
                    rubbing_film: true,
                    plate_screws: if faulty == 5 { 3 } else { 4 },
                    report: Some(Report {
                        conclusion_pass: faulty != 0,
                        signatures: true,
                        seal: true,
                        cma_seal: true,
                        date: day,
                    }),
                });
            }
        }
    }
    out
}
