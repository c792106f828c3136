//! The programme registry: every programme definition, embedded in the binary from
//! `programmes/` at the repository root, or read from a directory given with `--programmes DIR`.
//! A broken definition is refused whole, with its file, line and reason, before anything starts.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use fq_domain::programme::{Programme, ProgrammeError, ProgrammeFiles, load_programme};

/// The programme files found when this crate was built (see `build.rs`): including them makes a
/// new or removed file rebuild the crate, so that the embedded set is never stale.
const _PROGRAMME_FILES: &str = include_str!(concat!(env!("OUT_DIR"), "/programme_files.txt"));

#[derive(rust_embed::RustEmbed)]
#[folder = "../../programmes/"]
struct Embedded;

/// The programmes an engine runs, by code.
#[derive(Debug, Clone, Default)]
pub struct Programmes {
    by_code: BTreeMap<String, Arc<Programme>>,
}

impl Programmes {
    /// The programmes shipped inside the binary.
    pub fn embedded() -> Result<Programmes, ProgrammeError> {
        let mut dirs: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
        for path in Embedded::iter() {
            let Some((dir, rest)) = path.split_once('/') else { continue };
            if let Some(file) = Embedded::get(&path) {
                dirs.entry(dir.to_owned()).or_default().insert(rest.to_owned(), file.data.into_owned());
            }
        }
        Programmes::from_dirs(&dirs, "programmes")
    }

    /// Every `<code>/programme.toml` (with its other files) under `root`.
    pub fn from_directory(root: &Path) -> Result<Programmes, ProgrammeError> {
        let unreadable = |path: &Path, e: std::io::Error| ProgrammeError {
            file: path.display().to_string(),
            line: 0,
            reason: format!("cannot read: {e}"),
        };
        let mut dirs: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
        let entries = std::fs::read_dir(root).map_err(|e| unreadable(root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| unreadable(root, e))?;
            let dir = entry.path();
            if !dir.join("programme.toml").is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let files = dirs.entry(name).or_default();
            read_tree(&dir, &dir, files).map_err(|(path, e)| unreadable(&path, e))?;
        }
        if dirs.is_empty() {
            return Err(ProgrammeError {
                file: root.display().to_string(),
                line: 0,
                reason: "no <code>/programme.toml below this directory".into(),
            });
        }
        Programmes::from_dirs(&dirs, &root.display().to_string())
    }

    fn from_dirs(dirs: &BTreeMap<String, BTreeMap<String, Vec<u8>>>, root: &str) -> Result<Programmes, ProgrammeError> {
        let mut by_code = BTreeMap::new();
        for (dir, files) in dirs {
            let files = ProgrammeFiles {
                dir: format!("{root}/{dir}"),
                files: files.iter().map(|(k, v)| (k.clone(), v.as_slice())).collect(),
            };
            let programme = load_programme(&files)?;
            if programme.code != *dir {
                return Err(ProgrammeError {
                    file: format!("{root}/{dir}/programme.toml"),
                    line: 1,
                    reason: format!("the programme's code {:?} must be its directory's name {dir:?}", programme.code),
                });
            }
            by_code.insert(programme.code.clone(), Arc::new(programme));
        }
        Ok(Programmes { by_code })
    }

    pub fn get(&self, code: &str) -> Option<&Arc<Programme>> {
        self.by_code.get(code)
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Programme>> {
        self.by_code.values()
    }
}

fn read_tree(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), (std::path::PathBuf, std::io::Error)> {
    for entry in std::fs::read_dir(dir).map_err(|e| (dir.to_path_buf(), e))? {
        let path = entry.map_err(|e| (dir.to_path_buf(), e))?.path();
        if path.is_dir() {
            read_tree(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml" || e == "typ") {
            // Programme files and their document templates.
            let bytes = std::fs::read(&path).map_err(|e| (path.clone(), e))?;
            let relative = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            out.insert(relative, bytes);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_programmes_load() {
        let programmes = Programmes::embedded().expect("every shipped programme is valid");
        assert!(programmes.get("demo").is_some());
    }

    #[test]
    fn a_directory_override_is_checked_and_a_broken_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let demo = dir.path().join("demo");
        std::fs::create_dir_all(demo.join("catalogs")).unwrap();
        let main = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes/demo/programme.toml")).unwrap();
        let catalog =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes/demo/catalogs/dispute_category.toml")).unwrap();
        std::fs::write(demo.join("catalogs/dispute_category.toml"), catalog).unwrap();
        std::fs::write(demo.join("programme.toml"), &main).unwrap();
        assert!(Programmes::from_directory(dir.path()).unwrap().get("demo").is_some());

        let broken = main.replacen("to = \"verifying\"", "to = \"verfying\"", 1);
        std::fs::write(demo.join("programme.toml"), &broken).unwrap();
        let err = Programmes::from_directory(dir.path()).unwrap_err();
        assert!(err.file.ends_with("demo/programme.toml"), "{err}");
        assert_eq!(err.line, broken[..broken.find("to = \"verfying\"").unwrap()].lines().count() + 1);
        assert!(err.reason.contains("verfying"), "{err}");

        std::fs::rename(&demo, dir.path().join("other")).unwrap();
        // A programme with document templates loads from a directory too (they are read with it).
        let shipped = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../programmes"));
        let everything = Programmes::from_directory(shipped).expect("the shipped directory loads");
        assert!(!everything.get("finance").unwrap().kinds[0].documents.is_empty());
        std::fs::write(dir.path().join("other/programme.toml"), &main).unwrap();
        let err = Programmes::from_directory(dir.path()).unwrap_err();
        assert!(err.reason.contains("directory's name"), "{err}");
    }
}
