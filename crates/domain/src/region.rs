//! Administrative regions (行政区划) identified by their national statistical codes.
//!
//! The codes are hierarchical by prefix: province `33` (2 digits) > city `3301` (4) > county
//! `330102` (6) > town or street `330102001` (9) > village or community `330102001051` (12). A
//! region's subtree is therefore every code that starts with its code, which is how scopes are
//! checked without walking a tree.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Coded;

/// The five levels of the division tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省 (2-digit code).
    Province,
    /// 市 (4-digit code).
    City,
    /// 县/区/县级市 (6-digit code).
    County,
    /// 乡/镇/街道 (9-digit code).
    Town,
    /// 村/社区 (12-digit code).
    Village,
}

impl RegionLevel {
    /// All levels from the top of the tree down.
    pub const ALL: [RegionLevel; 5] =
        [RegionLevel::Province, RegionLevel::City, RegionLevel::County, RegionLevel::Town, RegionLevel::Village];

    /// The number of digits in a code of this level.
    pub fn code_len(self) -> usize {
        match self {
            RegionLevel::Province => 2,
            RegionLevel::City => 4,
            RegionLevel::County => 6,
            RegionLevel::Town => 9,
            RegionLevel::Village => 12,
        }
    }

    /// The level of a code with `len` digits, if any.
    pub fn from_code_len(len: usize) -> Option<RegionLevel> {
        RegionLevel::ALL.into_iter().find(|level| level.code_len() == len)
    }

    /// Small integer used in storage (1 = province ... 5 = village).
    pub fn rank(self) -> u8 {
        match self {
            RegionLevel::Province => 1,
            RegionLevel::City => 2,
            RegionLevel::County => 3,
            RegionLevel::Town => 4,
            RegionLevel::Village => 5,
        }
    }

    /// Inverse of [`RegionLevel::rank`].
    pub fn from_rank(rank: u8) -> Option<RegionLevel> {
        RegionLevel::ALL.into_iter().find(|level| level.rank() == rank)
    }

    /// The level's name in Simplified Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县（市、区）",
            RegionLevel::Town => "乡镇（街道）",
            RegionLevel::Village => "村（社区）",
        }
    }

    /// The level one step up, if any.
    pub fn parent(self) -> Option<RegionLevel> {
        match self {
            RegionLevel::Province => None,
            RegionLevel::City => Some(RegionLevel::Province),
            RegionLevel::County => Some(RegionLevel::City),
            RegionLevel::Town => Some(RegionLevel::County),
            RegionLevel::Village => Some(RegionLevel::Town),
        }
    }
}

/// Why a string is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegionCodeError {
    #[error("region code {0:?} must contain only the digits 0-9")]
    NotDigits(String),
    #[error("region code {0:?} has {1} digits; expected 2, 4, 6, 9 or 12")]
    BadLength(String, usize),
}

impl Coded for RegionCodeError {
    fn code(&self) -> &'static str {
        "region_code_invalid"
    }
}

/// A national administrative division code of 2, 4, 6, 9 or 12 digits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    /// Parses and validates a code.
    pub fn parse(text: &str) -> Result<RegionCode, RegionCodeError> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(RegionCodeError::NotDigits(text.to_owned()));
        }
        if RegionLevel::from_code_len(text.len()).is_none() {
            return Err(RegionCodeError::BadLength(text.to_owned(), text.len()));
        }
        Ok(RegionCode(text.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level, known from the number of digits.
    pub fn level(&self) -> RegionLevel {
        RegionLevel::from_code_len(self.0.len()).expect("length checked at construction")
    }

    /// The code of the region one level up, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let parent = self.level().parent()?;
        Some(RegionCode(self.0[..parent.code_len()].to_owned()))
    }

    /// The ancestor (or self) at `level`, if `level` is at or above this code's level.
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        (level <= self.level()).then(|| RegionCode(self.0[..level.code_len()].to_owned()))
    }

    /// True if `other` is this region or lies inside it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.0)
    }
}

impl TryFrom<String> for RegionCode {
    type Error = RegionCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        RegionCode::parse(&value)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> String {
        code.0
    }
}

/// One region of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    /// A region that disappeared from a newer division dataset is retired, never deleted: cases,
    /// grids and organisations may still refer to it.
    pub retired: bool,
}

impl Region {
    pub fn level(&self) -> RegionLevel {
        self.code.level()
    }
}

/// How many active regions there are at each level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionCounts {
    pub provinces: u64,
    pub cities: u64,
    pub counties: u64,
    pub towns: u64,
    pub villages: u64,
}

impl RegionCounts {
    /// Adds one region of `level`.
    pub fn add(&mut self, level: RegionLevel) {
        *self.slot(level) += 1;
    }

    /// The count at `level`.
    pub fn get(&self, level: RegionLevel) -> u64 {
        match level {
            RegionLevel::Province => self.provinces,
            RegionLevel::City => self.cities,
            RegionLevel::County => self.counties,
            RegionLevel::Town => self.towns,
            RegionLevel::Village => self.villages,
        }
    }

    /// Sets the count at `level`.
    pub fn set(&mut self, level: RegionLevel, count: u64) {
        *self.slot(level) = count;
    }

    fn slot(&mut self, level: RegionLevel) -> &mut u64 {
        match level {
            RegionLevel::Province => &mut self.provinces,
            RegionLevel::City => &mut self.cities,
            RegionLevel::County => &mut self.counties,
            RegionLevel::Town => &mut self.towns,
            RegionLevel::Village => &mut self.villages,
        }
    }

    /// Total over all levels.
    pub fn total(&self) -> u64 {
        RegionLevel::ALL.into_iter().map(|level| self.get(level)).sum()
    }
}

impl fmt::Display for RegionCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} province(s), {} cities, {} counties, {} towns/streets, {} villages/communities",
            self.provinces, self.cities, self.counties, self.towns, self.villages
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn levels_follow_code_length() {
        let cases = [
            ("33", RegionLevel::Province, None),
            ("3301", RegionLevel::City, Some("33")),
            ("330102", RegionLevel::County, Some("3301")),
            ("330102001", RegionLevel::Town, Some("330102")),
            ("330102001051", RegionLevel::Village, Some("330102001")),
        ];
        for (text, level, parent) in cases {
            let code = RegionCode::parse(text).unwrap();
            assert_eq!(code.level(), level, "{text}");
            assert_eq!(code.parent().map(|p| p.to_string()).as_deref(), parent, "{text}");
        }
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "3", "330", "33010", "3301020011", "33a1", " 33", "330102001051 ", "3301020010511"] {
            let err = RegionCode::parse(bad).unwrap_err();
            assert_eq!(err.code(), "region_code_invalid", "{bad:?}");
        }
    }

    #[test]
    fn containment_is_prefix() {
        let county = RegionCode::parse("331004").unwrap();
        assert!(county.contains(&RegionCode::parse("331004001001").unwrap()));
        assert!(county.contains(&county));
        assert!(!county.contains(&RegionCode::parse("3310").unwrap()));
        assert!(!county.contains(&RegionCode::parse("331003001").unwrap()));
    }

    proptest! {
        #[test]
        fn ancestors_contain_descendants(digits in "[0-9]{12}", len_idx in 0usize..5) {
            let village = RegionCode::parse(&digits).unwrap();
            let level = RegionLevel::ALL[len_idx];
            let ancestor = village.at_level(level).unwrap();
            prop_assert!(ancestor.contains(&village));
            prop_assert_eq!(ancestor.level(), level);
            // Walking parents from the village reaches the ancestor.
            let mut walk = Some(village);
            let mut found = false;
            while let Some(code) = walk {
                if code == ancestor { found = true; }
                walk = code.parent();
            }
            prop_assert!(found);
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,16}") {
            let _ = RegionCode::parse(&text);
        }

        #[test]
        fn rank_round_trips(idx in 0usize..5) {
            let level = RegionLevel::ALL[idx];
            prop_assert_eq!(RegionLevel::from_rank(level.rank()), Some(level));
        }
    }
}
