//! The programme definitions under `programmes/` are embedded at compile time (rust-embed).
//! Cargo rebuilds on a change to a file it was told about, but a newly added programme or catalog
//! file is not one of them. So every directory and file there is named (a directory's own time
//! changes when an entry is added or removed), and their list goes into `OUT_DIR`, which the
//! crate includes: a different list recompiles it.
use std::path::Path;

fn walk(dir: &Path, out: &mut Vec<String>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, out);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path.display().to_string());
        }
    }
}

fn main() {
    let mut files = Vec::new();
    walk(Path::new("../../programmes"), &mut files);
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("programme_files.txt"), files.join("\n")).expect("OUT_DIR is writable");
}
