//! Renders one template with one JSON data file and prints the time each render took:
//! `cargo run -p fq-documents --example render -- TEMPLATE.typ DATA.json OUT.pdf`
//!
//! Render 1 includes preparing the engine (fonts, font book, standard library); render 2 repeats
//! the same input (typst's memoisation answers most of it); render 3 changes the data.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [template, data, out] = args.as_slice() else {
        return Err("usage: render TEMPLATE.typ DATA.json OUT.pdf".into());
    };
    let source = std::fs::read_to_string(template)?;
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data)?)?;
    let mut changed = data.clone();
    if let Some(map) = changed.as_object_mut() {
        map.insert("number".into(), "TEST-000001".into());
        map.insert("description".into(), "另一段事实和理由。".repeat(20).into());
    }
    let mut pdf = Vec::new();
    for (round, input) in [&data, &data, &changed].into_iter().enumerate() {
        let started = Instant::now();
        let bytes = fq_documents::render_pdf(template, &source, input)?;
        eprintln!("render {}: {:?}, {} bytes", round + 1, started.elapsed(), bytes.len());
        if round == 0 {
            pdf = bytes;
        }
    }
    std::fs::write(out, &pdf)?;
    Ok(())
}
