//! Warning levels from forecasts (domain-rules §6.2: 蓝 blue, 黄 yellow, 橙 orange, 红 red): per
//! category, the probability of at least one event over the horizon at which a cell reaches
//! each level, and a rising trend raising it by one. The thresholds are a versioned file
//! (`data/risk/levels-v1.toml`); a file with a mistake is refused with the reason.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A warning level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 4] = [Level::Blue, Level::Yellow, Level::Orange, Level::Red];

    /// The code the warning programme uses for the level (its priority): `blue` … `red`.
    pub fn code(self) -> &'static str {
        match self {
            Level::Blue => "blue",
            Level::Yellow => "yellow",
            Level::Orange => "orange",
            Level::Red => "red",
        }
    }

    /// The level of a code; `None` for anything else.
    pub fn parse(code: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.code() == code)
    }

    fn raised(self) -> Level {
        match self {
            Level::Blue => Level::Yellow,
            Level::Yellow => Level::Orange,
            Level::Orange | Level::Red => Level::Red,
        }
    }
}

/// The probability thresholds of one category.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub blue: f64,
    pub yellow: f64,
    pub orange: f64,
    pub red: f64,
}

impl Thresholds {
    /// The level a probability reaches, the trend left aside; `None` below blue.
    pub fn level(&self, probability: f64) -> Option<Level> {
        let at = [self.blue, self.yellow, self.orange, self.red];
        Level::ALL.into_iter().zip(at).rev().find(|(_, at)| probability >= *at).map(|(level, _)| level)
    }
}

/// The level table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelTable {
    pub version: u32,
    pub default: Thresholds,
    #[serde(default)]
    pub categories: BTreeMap<String, Thresholds>,
}

impl LevelTable {
    /// Reads and checks a table: thresholds within (0, 1] and increasing from blue to red.
    pub fn load(text: &str) -> Result<LevelTable, String> {
        let table: LevelTable = toml::from_str(text).map_err(|e| e.to_string())?;
        for (name, t) in std::iter::once(("default", &table.default)).chain(table.categories.iter().map(|(k, v)| (k.as_str(), v)))
        {
            let ok = [t.blue, t.yellow, t.orange, t.red].iter().all(|p| *p > 0.0 && *p <= 1.0)
                && t.blue < t.yellow
                && t.yellow < t.orange
                && t.orange < t.red;
            if !ok {
                return Err(format!("{name}: thresholds must be in (0, 1] and increase from blue to red"));
            }
        }
        Ok(table)
    }

    /// The level of a cell: by its probability, one higher when its trend is rising; `None`
    /// below blue (a rising trend alone does not raise a warning).
    pub fn level(&self, category: &str, probability: f64, rising: bool) -> Option<Level> {
        let base = self.categories.get(category).unwrap_or(&self.default).level(probability)?;
        Some(if rising { base.raised() } else { base })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/risk/levels-v1.toml"));

    #[test]
    fn levels_follow_the_thresholds_and_trends_raise_them() {
        let table = LevelTable::load(SHIPPED).unwrap();
        assert_eq!(table.level("burglary", 0.05, true), None, "a trend alone raises nothing");
        assert_eq!(table.level("burglary", 0.12, false), Some(Level::Blue));
        assert_eq!(table.level("burglary", 0.12, true), Some(Level::Yellow));
        assert_eq!(table.level("burglary", 0.80, true), Some(Level::Red));
        // A category with lower thresholds of its own.
        assert_eq!(table.level("order_civil_to_criminal", 0.16, false), Some(Level::Yellow));
        let bad = SHIPPED.replacen("yellow = 0.25", "yellow = 0.05", 1);
        assert!(LevelTable::load(&bad).unwrap_err().contains("increase"));
        assert!(LevelTable::load("version = 1\n").is_err());
    }

    #[test]
    fn levels_read_and_write_the_programme_codes() {
        for level in Level::ALL {
            assert_eq!(Level::parse(level.code()), Some(level));
        }
        assert_eq!(Level::parse("purple"), None);
        let t = Thresholds { blue: 0.1, yellow: 0.25, orange: 0.45, red: 0.7 };
        assert_eq!(
            [0.05, 0.1, 0.3, 0.5, 0.7].map(|p| t.level(p)),
            [None, Some(Level::Blue), Some(Level::Yellow), Some(Level::Orange), Some(Level::Red)]
        );
    }
}
