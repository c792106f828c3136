//! The bundled document templates render with full, empty and odd data.
#![cfg(feature = "pdf")]

use fq_documents::render_pdf;
use serde_json::{Value, json};

const PROGRAMMES: &[&str] = &["finance", "maritime"];
const TEMPLATES: &[&str] = &["mediation_application.typ", "mediation_agreement.typ", "confirmation_application.typ"];

fn template(programme: &str, name: &str) -> String {
    let path = format!("{}/../../programmes/{programme}/documents/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn example() -> Value {
    serde_json::from_str(include_str!("example_data.json")).expect("example data")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_pdf(pdf: &[u8], what: &str) {
    assert!(pdf.starts_with(b"%PDF-"), "{what}: not a PDF");
    assert!(contains(pdf, b"/FontFile"), "{what}: the font is not embedded");
    assert!(!contains(pdf, b"/CreationDate"), "{what}: has a creation date");
}

#[test]
fn every_template_renders_the_example() {
    let mut data = example();
    for programme in PROGRAMMES {
        if *programme == "maritime" {
            data["vessel"] = json!("浙普渔12345");
            data["title"] = json!("渔船船员工资争议");
        }
        for name in TEMPLATES {
            let pdf = render_pdf(name, &template(programme, name), &data).unwrap_or_else(|e| panic!("{programme}/{name}: {e}"));
            assert_pdf(&pdf, &format!("{programme}/{name}"));
        }
    }
}

#[test]
fn every_template_renders_with_almost_nothing() {
    let sparse = [
        json!({}),
        json!({"demo": false, "applicant": {}, "mediators": []}),
        // Wrong types and nulls must not crash a template either.
        json!({"applicant": "张三", "respondent": null, "mediators": "李四", "amount": 12000,
               "agreed_amount": 8000.5, "demo": "yes", "terms": [null, ""], "number": null}),
        Value::Null,
    ];
    for programme in PROGRAMMES {
        for name in TEMPLATES {
            for data in &sparse {
                let pdf = render_pdf(name, &template(programme, name), data)
                    .unwrap_or_else(|e| panic!("{programme}/{name} with {data}: {e}"));
                assert_pdf(&pdf, &format!("{programme}/{name} with {data}"));
            }
        }
    }
}

#[test]
fn output_is_deterministic() {
    let data = example();
    let source = template("finance", "mediation_agreement.typ");
    let first = render_pdf("a.typ", &source, &data).expect("first");
    let second = render_pdf("a.typ", &source, &data).expect("second");
    assert!(first == second, "two renders of the same input differ");
    // The name given for error messages does not leak into the document either.
    let third = render_pdf("other-name.typ", &source, &data).expect("third");
    assert!(first == third, "the template name changes the output");
}

#[test]
fn parallel_renders_do_not_mix_templates() {
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let source = format!("#set text(font: \"Noto Serif CJK SC\")\n第{i}号");
                let pdf = render_pdf("t.typ", &source, &Value::Null).expect("render");
                let again = render_pdf("t.typ", &source, &Value::Null).expect("render");
                assert!(pdf == again);
                pdf
            })
        })
        .collect();
    let pdfs: Vec<Vec<u8>> = handles.into_iter().map(|h| h.join().expect("thread")).collect();
    for (i, a) in pdfs.iter().enumerate() {
        for b in &pdfs[i + 1..] {
            assert!(a != b, "two different templates gave the same PDF");
        }
    }
}

#[test]
fn syntax_error_names_template_and_line() {
    let source = "#let d = json(bytes(sys.inputs.data))\n= 标题\n\n#let x = (1, 2\n正文";
    let error = render_pdf("broken.typ", source, &json!({})).expect_err("must fail");
    assert_eq!(error.code, "template_invalid");
    assert!(error.message.contains("broken.typ"), "{error}");
    assert!(error.message.contains("line 4"), "{error}");
}

#[test]
fn runtime_error_names_template_and_line() {
    let source = "#let d = json(bytes(sys.inputs.data))\n\n#d.missing_key";
    let error = render_pdf("strict.typ", source, &json!({"a": 1})).expect_err("must fail");
    assert_eq!(error.code, "template_invalid");
    assert!(error.message.starts_with("strict.typ, line 3: "), "{error}");
    assert!(error.to_string().starts_with("template_invalid: "), "{error}");
}

#[test]
fn no_packages_and_no_files() {
    let package = r#"#import "@preview/cetz:0.4.2": canvas"#;
    let error = render_pdf("pkg.typ", package, &json!({})).expect_err("no packages");
    assert_eq!(error.code, "template_invalid", "{error}");
    let file = r#"#read("/etc/passwd")"#;
    let error = render_pdf("file.typ", file, &json!({})).expect_err("no files");
    assert_eq!(error.code, "template_invalid", "{error}");
}

#[test]
fn characters_outside_the_font_do_not_panic() {
    let data = json!({
        // 𠈌 (CJK extension B), 䶮 (extension A, a name character), emoji, Hangul, Arabic.
        "applicant": {"name": "王𠈌䶮", "address": "🏠 서울 عربي"},
        "description": "生僻字：𪚥𠀀，表情：😀。",
    });
    for name in TEMPLATES {
        let pdf = render_pdf(name, &template("finance", name), &data).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(pdf.starts_with(b"%PDF-"));
    }
}

#[test]
fn markup_in_data_is_printed_not_interpreted() {
    let data = json!({"title": "#panic(\"x\") *粗体* $x$ <label> @ref", "description": "]) } #"});
    for name in TEMPLATES {
        render_pdf(name, &template("finance", name), &data).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn demo_mark_changes_the_document() {
    let source = template("finance", "mediation_agreement.typ");
    let mut data = example();
    data["demo"] = json!(false);
    let real = render_pdf("a.typ", &source, &data).expect("real");
    data["demo"] = json!(true);
    let demo = render_pdf("a.typ", &source, &data).expect("demo");
    assert!(real != demo);
}
