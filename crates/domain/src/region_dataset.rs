//! Parsing the division tree from the five CSV files of the national statistical codes
//! (统计用区划代码), in the layout of the `china-division` data set that fengqiao ships in
//! `data/regions/`.
//!
//! | file            | level    | required columns            |
//! |-----------------|----------|-----------------------------|
//! | provinces.csv   | province | `code`, `name`              |
//! | cities.csv      | city     | `code`, `name`, `provinceCode` |
//! | areas.csv       | county   | `code`, `name`, `cityCode`  |
//! | streets.csv     | town     | `code`, `name`, `areaCode`  |
//! | villages.csv    | village  | `code`, `name`, `streetCode` |
//!
//! Every row is checked: the code has the level's length, it starts with its declared parent's
//! code, the parent exists, no code appears twice, the name is not empty. The first problem is
//! reported with its file, line and column, and nothing is returned.

use std::collections::HashSet;

use crate::Coded;
use crate::region::{Region, RegionCode, RegionCounts, RegionLevel};

/// The raw bytes of the five files.
#[derive(Debug, Clone, Copy)]
pub struct DivisionFiles<'a> {
    pub provinces: &'a [u8],
    pub cities: &'a [u8],
    pub counties: &'a [u8],
    pub towns: &'a [u8],
    pub villages: &'a [u8],
}

impl<'a> DivisionFiles<'a> {
    /// The file names, in level order, as they appear in error messages and under `data/regions/`.
    pub const FILE_NAMES: [&'static str; 5] = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv"];

    fn by_level(&self) -> [(RegionLevel, &'static str, &'a [u8], Option<&'static str>); 5] {
        [
            (RegionLevel::Province, Self::FILE_NAMES[0], self.provinces, None),
            (RegionLevel::City, Self::FILE_NAMES[1], self.cities, Some("provinceCode")),
            (RegionLevel::County, Self::FILE_NAMES[2], self.counties, Some("cityCode")),
            (RegionLevel::Town, Self::FILE_NAMES[3], self.towns, Some("areaCode")),
            (RegionLevel::Village, Self::FILE_NAMES[4], self.villages, Some("streetCode")),
        ]
    }

    /// A content hash over all five files, recorded in the journal with each import.
    pub fn content_hash(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for (_, name, bytes, _) in self.by_level() {
            hasher.update(name.as_bytes());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        hasher.finalize().to_hex().to_string()
    }
}

/// A problem in one of the files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}{}: {reason}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct DatasetError {
    pub file: &'static str,
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl Coded for DatasetError {
    fn code(&self) -> &'static str {
        "region_dataset_invalid"
    }
    fn field(&self) -> Option<String> {
        Some(format!("{}:{}", self.file, self.line))
    }
}

/// The parsed tree: every region, sorted by code.
#[derive(Debug, Clone)]
pub struct DivisionTree {
    pub regions: Vec<Region>,
    pub counts: RegionCounts,
    pub content_hash: String,
}

/// Parses and checks the five files.
pub fn parse_division_tree(files: DivisionFiles<'_>) -> Result<DivisionTree, DatasetError> {
    let mut regions = Vec::new();
    let mut seen: HashSet<RegionCode> = HashSet::new();
    let mut counts = RegionCounts::default();
    for (level, file, bytes, parent_column) in files.by_level() {
        let err = |line: u64, column: Option<&str>, reason: String| DatasetError {
            file,
            line,
            column: column.map(str::to_owned),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
        let headers = reader.headers().map_err(|e| err(1, None, format!("cannot read the header: {e}")))?.clone();
        let column_index = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| err(1, Some(name), format!("the header has no column {name:?}")))
        };
        let code_idx = column_index("code")?;
        let name_idx = column_index("name")?;
        let parent_idx = parent_column.map(column_index).transpose()?;
        let mut rows_in_file = 0u64;
        for (idx, record) in reader.records().enumerate() {
            let line = idx as u64 + 2;
            let record = record.map_err(|e| err(line, None, format!("malformed CSV row: {e}")))?;
            let field =
                |i: usize, name: &str| record.get(i).map(str::trim).ok_or_else(|| err(line, Some(name), "missing value".into()));
            let code_text = field(code_idx, "code")?;
            let code = RegionCode::parse(code_text).map_err(|e| err(line, Some("code"), e.to_string()))?;
            if code.level() != level {
                return Err(err(
                    line,
                    Some("code"),
                    format!("{code} is a {:?} code but this file holds {level:?} codes", code.level()),
                ));
            }
            let name = field(name_idx, "name")?;
            if name.is_empty() {
                return Err(err(line, Some("name"), format!("region {code} has an empty name")));
            }
            if let (Some(idx), Some(column)) = (parent_idx, parent_column) {
                let declared = field(idx, column)?;
                let expected = code.parent().expect("non-province codes have parents");
                if declared != expected.as_str() {
                    return Err(err(
                        line,
                        Some(column),
                        format!("{code} declares parent {declared:?}, but its code says {expected}"),
                    ));
                }
                if !seen.contains(&expected) {
                    return Err(err(line, Some(column), format!("parent region {expected} of {code} is not in the data")));
                }
            }
            if !seen.insert(code.clone()) {
                return Err(err(line, Some("code"), format!("region {code} appears twice")));
            }
            counts.add(level);
            rows_in_file += 1;
            regions.push(Region { code, name: name.to_owned(), retired: false });
        }
        if rows_in_file == 0 {
            return Err(err(1, None, "the file has no rows".into()));
        }
    }
    regions.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(DivisionTree { regions, counts, content_hash: files.content_hash() })
}

/// What an import would change in an existing tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeDiff {
    pub added: Vec<Region>,
    pub renamed: Vec<(RegionCode, String, String)>,
    pub retired: Vec<RegionCode>,
    /// Regions that were retired and appear again.
    pub restored: Vec<RegionCode>,
}

impl TreeDiff {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.renamed.is_empty() && self.retired.is_empty() && self.restored.is_empty()
    }
}

/// Compares the regions already stored with a newly parsed tree. Both inputs may be in any order.
pub fn diff_tree(existing: &[Region], incoming: &[Region]) -> TreeDiff {
    use std::collections::HashMap;
    let old: HashMap<&RegionCode, &Region> = existing.iter().map(|r| (&r.code, r)).collect();
    let new_codes: HashSet<&RegionCode> = incoming.iter().map(|r| &r.code).collect();
    let mut diff = TreeDiff::default();
    for region in incoming {
        match old.get(&region.code) {
            None => diff.added.push(region.clone()),
            Some(before) => {
                if before.name != region.name {
                    diff.renamed.push((region.code.clone(), before.name.clone(), region.name.clone()));
                }
                if before.retired {
                    diff.restored.push(region.code.clone());
                }
            }
        }
    }
    for region in existing {
        if !region.retired && !new_codes.contains(&region.code) {
            diff.retired.push(region.code.clone());
        }
    }
    diff.added.sort_by(|a, b| a.code.cmp(&b.code));
    diff.retired.sort();
    diff.restored.sort();
    diff.renamed.sort();
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVINCES: &[u8] = "code,name\n33,\"浙江省\"\n".as_bytes();
    const CITIES: &[u8] = "code,name,provinceCode\n3310,\"台州市\",33\n".as_bytes();
    const COUNTIES: &[u8] = "code,name,cityCode,provinceCode\n331004,\"路桥区\",3310,33\n".as_bytes();
    const TOWNS: &[u8] = "code,name,areaCode,provinceCode,cityCode\n331004001,\"路桥街道\",331004,33,3310\n".as_bytes();
    const VILLAGES: &[u8] =
        "code,name,streetCode,provinceCode,cityCode,areaCode\n331004001001,\"甲社区\",331004001,33,3310,331004\n331004001002,\"乙村\",331004001,33,3310,331004\n"
            .as_bytes();

    fn files() -> DivisionFiles<'static> {
        DivisionFiles { provinces: PROVINCES, cities: CITIES, counties: COUNTIES, towns: TOWNS, villages: VILLAGES }
    }

    #[test]
    fn parses_a_small_tree() {
        let tree = parse_division_tree(files()).unwrap();
        assert_eq!(tree.regions.len(), 6);
        assert_eq!(tree.counts.villages, 2);
        assert_eq!(tree.counts.towns, 1);
        assert_eq!(tree.regions[0].code.as_str(), "33");
        assert_eq!(tree.regions[5].name, "乙村");
    }

    #[test]
    fn names_file_line_and_column_of_the_first_problem() {
        let cases: [(&[u8], &str, u64, Option<&str>); 5] = [
            (
                "code,name,streetCode\n331004001001,\"甲\",331004001\n331004002001,\"乙\",331004002\n".as_bytes(),
                "parent region 331004002",
                3,
                Some("streetCode"),
            ),
            ("code,name,streetCode\n33100400100,\"甲\",331004001\n".as_bytes(), "digits", 2, Some("code")),
            ("code,name,streetCode\n331004001001,\"\",331004001\n".as_bytes(), "empty name", 2, Some("name")),
            (
                "code,name,streetCode\n331004001001,\"甲\",331004001\n331004001001,\"乙\",331004001\n".as_bytes(),
                "appears twice",
                3,
                Some("code"),
            ),
            ("code,name\n331004001001,\"甲\"\n".as_bytes(), "no column", 1, Some("streetCode")),
        ];
        for (villages, reason, line, column) in cases {
            let err = parse_division_tree(DivisionFiles { villages, ..files() }).unwrap_err();
            assert_eq!(err.file, "villages.csv");
            assert_eq!(err.line, line, "{err}");
            assert_eq!(err.column.as_deref(), column, "{err}");
            assert!(err.reason.contains(reason), "{err}");
        }
    }

    #[test]
    fn mismatched_parent_column_is_refused() {
        let towns = "code,name,areaCode\n331004001,\"路桥街道\",331003\n".as_bytes();
        let err = parse_division_tree(DivisionFiles { towns, ..files() }).unwrap_err();
        assert_eq!(err.file, "streets.csv");
        assert!(err.reason.contains("declares parent"), "{err}");
    }

    #[test]
    fn empty_file_is_refused() {
        let err = parse_division_tree(DivisionFiles { cities: b"code,name,provinceCode\n", ..files() }).unwrap_err();
        assert_eq!(err.file, "cities.csv");
        assert!(err.reason.contains("no rows"));
    }

    #[test]
    fn diff_reports_added_renamed_retired_and_restored() {
        let tree = parse_division_tree(files()).unwrap();
        assert_eq!(diff_tree(&[], &tree.regions).added.len(), 6);
        assert!(diff_tree(&tree.regions, &tree.regions).is_empty());

        let mut existing = tree.regions.clone();
        existing[5].name = "旧名".into();
        existing[4].retired = true;
        existing.push(Region { code: RegionCode::parse("331004001003").unwrap(), name: "丙村".into(), retired: false });
        let diff = diff_tree(&existing, &tree.regions);
        assert_eq!(diff.renamed, vec![(existing[5].code.clone(), "旧名".into(), "乙村".into())]);
        assert_eq!(diff.restored, vec![existing[4].code.clone()]);
        assert_eq!(diff.retired, vec![RegionCode::parse("331004001003").unwrap()]);
        assert!(diff.added.is_empty());
    }

    #[test]
    fn content_hash_changes_with_content() {
        let a = files().content_hash();
        let b = DivisionFiles { villages: &VILLAGES[..VILLAGES.len() - 1], ..files() }.content_hash();
        assert_ne!(a, b);
        assert_eq!(a, files().content_hash());
    }
}
