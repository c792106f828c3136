//! Synthetic vehicle-inspection records for the counties of a city, for tests, demos and
//! benchmarks. Every record says it is synthetic (ids start with `SIM-`, `synthetic = true`);
//! volumes follow the weights the caller gives each county (the engine uses the real county
//! areas). The vehicles, items, instrument values, photos and insurance policies follow the
//! shapes of domain-rules §2 (GB 38900 item codes, photo type codes, brake ratios), with a small
//! share of the faults a review looks for (a policy whose plate differs from the licence, a
//! photo watermarked before the inspection began, a failing brake).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::dispatch::uniform;

/// A county and its share of the city's inspections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountyWeight {
    pub code: String,
    pub name: String,
    pub weight: f64,
}

/// Vehicle classes, the bit a reviewer's qualification sets for each, and their share.
pub const VEHICLE_CLASSES: [(&str, &str, u32); 4] =
    [("K33", "小型轿车", 78), ("H31", "轻型厢式货车", 12), ("H11", "重型货车", 6), ("K11", "大型客车", 4)];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemResult {
    /// Manual item code (外检项目, "01" plate … "43" braking, "80" record check).
    pub code: String,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Photo {
    /// Photo type code (照片种类: 0111 left-front 45°, 0113 VIN, 0322 axle-1 brake...).
    pub kind: String,
    pub watermark_at: DateTime<Utc>,
    /// A reference to the file in the station's system (not fetched).
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insurance {
    pub policy_number: String,
    pub plate: String,
    pub vin: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedRecord {
    pub id: String,
    pub synthetic: bool,
    pub county: String,
    pub station: String,
    pub inspection_started: DateTime<Utc>,
    pub inspection_ended: DateTime<Utc>,
    pub plate: String,
    pub vin: String,
    pub vehicle_type: String,
    /// 使用性质: A 非营运, B 公路客运, F 货运.
    pub use_type: String,
    /// Index into [`VEHICLE_CLASSES`].
    pub class: u8,
    pub items: Vec<ItemResult>,
    /// Whole-vehicle service brake ratio (%), front-axle imbalance (%), parking brake ratio (%).
    pub brake_ratio: f64,
    pub front_imbalance: f64,
    pub parking_ratio: f64,
    pub photos: Vec<Photo>,
    pub insurance: Insurance,
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

/// The ISO 3779 check digit (position 9) of a 17-character VIN; `None` for a character a VIN
/// cannot hold.
pub(crate) fn check_digit(chars: &[char]) -> Option<char> {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let value = |c: char| match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        'A'..='H' => Some(c as u32 - 'A' as u32 + 1),
        'J'..='N' => Some(c as u32 - 'J' as u32 + 1),
        'P' => Some(7),
        'R' => Some(9),
        'S'..='Z' => Some(c as u32 - 'S' as u32 + 2),
        _ => None,
    };
    let sum = chars.iter().zip(WEIGHTS).map(|(c, w)| value(*c).map(|v| v * w)).sum::<Option<u32>>()?;
    Some(match sum % 11 {
        10 => 'X',
        d => char::from_digit(d, 10).unwrap_or('0'),
    })
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
) -> Vec<SimulatedRecord> {
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
                let photo_kinds: &[&str] = if class == 0 {
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
                out.push(SimulatedRecord {
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
                    },
                });
            }
        }
    }
    out
}
