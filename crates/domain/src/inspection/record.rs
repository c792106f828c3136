//! An inspection record as a station sends it (by API push or in a batch file, one JSON object
//! per line): the vehicle, the station and its county, the inspection times, the manual items
//! with their results, the brake instrument values, the photos with their type codes and
//! watermark times, and the compulsory-insurance policy. [`InspectionRecord::check`] refuses a
//! record that cannot be reviewed, naming the field.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::coded::Coded;

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
    /// The policy type; the review accepts only the compulsory policy (交强险).
    #[serde(default = "compulsory")]
    pub kind: String,
    /// Vehicle and vessel tax (车船税) paid with the policy, or an exemption number.
    #[serde(default = "yes")]
    pub tax_paid: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_exemption: Option<String>,
}

fn compulsory() -> String {
    "交强险".into()
}

fn yes() -> bool {
    true
}

fn normal() -> String {
    "A".into()
}

fn four() -> u8 {
    4
}

/// The safety inspection report (安全技术检验报告, photo 0204) as the station's system read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The conclusion is 合格.
    pub conclusion_pass: bool,
    /// The inspectors' and the authorised signatory's signatures are all there.
    pub signatures: bool,
    /// The station's seal and the CMA seal.
    pub seal: bool,
    pub cma_seal: bool,
    /// The date printed on the report.
    pub date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionRecord {
    /// The station system's record id (检验流水号); `SIM-...` for synthetic records.
    pub id: String,
    /// Made by `fengqiao simulate inspections`, not a real inspection.
    #[serde(default)]
    pub synthetic: bool,
    /// The county (6-digit division code) of the station.
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
    /// The vehicle's record status in the registration system (机动车状态): A normal, C stolen,
    /// E deregistered, G unsettled violations, I unsettled accident, M reached scrapping...
    #[serde(default = "normal")]
    pub record_status: String,
    /// Approved passengers (核定载人数).
    #[serde(default)]
    pub approved_passengers: u32,
    /// First registration (初次登记日期) and the mandatory scrapping date (强制报废期止), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scrap_by: Option<NaiveDate>,
    /// A re-inspection after a failed one (复检), reviewed separately.
    #[serde(default)]
    pub reinspection: bool,
    /// The VIN rubbing film (拓印膜) is attached.
    #[serde(default = "yes")]
    pub rubbing_film: bool,
    /// Plate screws seen on the front and rear photos (four expected).
    #[serde(default = "four")]
    pub plate_screws: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// The ISO 3779 check digit (position 9) of a 17-character VIN; `None` for a character a VIN
/// cannot hold.
pub fn check_digit(chars: &[char]) -> Option<char> {
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

/// Why a record was refused: the field (`record.vin`, `record.photos[2].kind`) and a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RecordError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl Coded for RecordError {
    fn code(&self) -> &'static str {
        self.code
    }
    fn field(&self) -> Option<String> {
        Some(self.field.clone())
    }
}

fn refuse(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> RecordError {
    RecordError { field: field.into(), code, message: message.into() }
}

/// A 17-character VIN of the characters a VIN may hold (no I, O or Q).
fn vin_shape_ok(vin: &str) -> bool {
    vin.len() == 17 && vin.chars().all(|c| c.is_ascii_digit() || (c.is_ascii_uppercase() && !"IOQ".contains(c)))
}

impl InspectionRecord {
    /// The vehicle class code (`K33`...) of the record.
    pub fn class_code(&self) -> &'static str {
        VEHICLE_CLASSES.get(usize::from(self.class)).map_or("", |c| c.0)
    }

    /// Checks what the review needs: an id, a county code, a plate, a well-formed VIN, a known
    /// class, an inspection that ends after it starts, item and photo codes, a policy period.
    /// The check digit is not required here (a wrong one is what rule R12 is for).
    pub fn check(&self) -> Result<(), RecordError> {
        let text = |field: &str, value: &str, max: usize| {
            let n = value.trim().chars().count();
            if n == 0 {
                return Err(refuse(format!("record.{field}"), "field_required", format!("record.{field} is empty")));
            }
            if n > max {
                return Err(refuse(
                    format!("record.{field}"),
                    "field_too_long",
                    format!("record.{field} is longer than {max} characters"),
                ));
            }
            Ok(())
        };
        text("id", &self.id, 64)?;
        text("station", &self.station, 40)?;
        text("plate", &self.plate, 20)?;
        text("vehicle_type", &self.vehicle_type, 8)?;
        text("use_type", &self.use_type, 4)?;
        if self.county.len() != 6 || !self.county.chars().all(|c| c.is_ascii_digit()) || self.county.ends_with("00") {
            return Err(refuse(
                "record.county",
                "region_code_invalid",
                format!("{:?} is not a county code (6 digits)", self.county),
            ));
        }
        if !vin_shape_ok(&self.vin) {
            return Err(refuse("record.vin", "vin_invalid", format!("{:?} is not 17 VIN characters", self.vin)));
        }
        if usize::from(self.class) >= VEHICLE_CLASSES.len() {
            return Err(refuse(
                "record.class",
                "field_out_of_range",
                format!("class {} is not 0 to {}", self.class, VEHICLE_CLASSES.len() - 1),
            ));
        }
        if self.inspection_ended < self.inspection_started {
            return Err(refuse("record.inspection_ended", "inspection_times_invalid", "the inspection ends before it starts"));
        }
        if self.inspection_ended - self.inspection_started > chrono::Duration::hours(24) {
            return Err(refuse("record.inspection_ended", "inspection_times_invalid", "an inspection longer than a day"));
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.code.len() != 2 || !item.code.chars().all(|c| c.is_ascii_digit()) {
                return Err(refuse(
                    format!("record.items[{i}].code"),
                    "item_code_invalid",
                    format!("{:?} is not a two-digit item code", item.code),
                ));
            }
        }
        for (i, photo) in self.photos.iter().enumerate() {
            if photo.kind.len() != 4 || !photo.kind.chars().all(|c| c.is_ascii_digit()) {
                return Err(refuse(
                    format!("record.photos[{i}].kind"),
                    "photo_kind_invalid",
                    format!("{:?} is not a four-digit photo type", photo.kind),
                ));
            }
            if photo.reference.trim().is_empty() || photo.reference.len() > 500 {
                return Err(refuse(
                    format!("record.photos[{i}].reference"),
                    "field_required",
                    "a photo needs a reference of at most 500 characters",
                ));
            }
        }
        for (field, value) in
            [("brake_ratio", self.brake_ratio), ("front_imbalance", self.front_imbalance), ("parking_ratio", self.parking_ratio)]
        {
            if !(0.0..=200.0).contains(&value) {
                return Err(refuse(
                    format!("record.{field}"),
                    "field_out_of_range",
                    format!("record.{field} must be between 0 and 200 (%)"),
                ));
            }
        }
        if self.insurance.valid_to < self.insurance.valid_from {
            return Err(refuse("record.insurance.valid_to", "policy_period_invalid", "the policy ends before it starts"));
        }
        text("insurance.policy_number", &self.insurance.policy_number, 40)?;
        Ok(())
    }
}
