//! The programme definitions under `programmes/` are embedded at compile time (rust-embed).
//! Cargo rebuilds on a change to a file it was told about, but a newly added programme or catalog
//! file is not one of them: watching the directory makes an added or removed file rebuild too.
fn main() {
    println!("cargo:rerun-if-changed=../../programmes");
}
