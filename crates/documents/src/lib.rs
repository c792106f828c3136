//! Legal documents of a case (调解申请书, 调解协议书, 司法确认申请书) rendered to PDF.
//!
//! Templates are [typst](https://typst.app) source text that administrators can edit; the
//! programmes ship defaults under `programmes/<programme>/documents/*.typ`. This crate compiles a
//! template with the case data and returns the PDF bytes:
//!
//! ```no_run
//! let data = serde_json::json!({ "title": "信用卡逾期费用争议", "demo": true });
//! let template = "#let d = json(bytes(sys.inputs.data))\n= #d.at(\"title\", default: \"\")";
//! let pdf = fq_documents::render_pdf("example.typ", template, &data)?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), fq_documents::DocumentError>(())
//! ```
//!
//! # Rendering environment
//!
//! - **Fonts:** only the embedded subset of *Noto Serif CJK SC* (Regular and Bold, SIL OFL 1.1,
//!   see `assets/fonts/SOURCE.txt`), family name `"Noto Serif CJK SC"`. System fonts are never
//!   read, so a server without fonts renders the same PDF. The subset covers ASCII, Latin-1,
//!   general and CJK punctuation, full-width forms and all of GB 2312; other characters (rare
//!   name characters, emoji) render as an empty box, without an error.
//! - **No network, no files:** typst packages (`#import "@preview/..."`) and file reads other than
//!   the template itself fail with `template_invalid`.
//! - **Deterministic:** the PDF has no creation date and a document id derived from its title, so
//!   the same template and data always give the same bytes.
//! - The typst compiler sits behind the cargo feature `pdf` (on by default). Without it,
//!   [`render_pdf`] returns the error code `pdf_disabled`.
//!
//! # Data contract
//!
//! The data is passed as JSON text in `sys.inputs.data`; templates start with
//! `#let d = json(bytes(sys.inputs.data))` and read every value with
//! `d.at("key", default: ...)`, so a missing value renders as a blank line to fill in by hand.
//! The same template can be tried with the typst command line:
//! `typst compile --input data='{"title": "…"}' template.typ`. Keys used by the bundled templates
//! (all optional, all strings unless noted):
//!
//! | key | example | meaning |
//! |---|---|---|
//! | `programme` | 金融纠纷多元化解 | programme name |
//! | `number` | JR2026-000123 | case number |
//! | `title` | 信用卡逾期费用争议 | claim title (请求事项) |
//! | `category` | 信用卡 | dispute category |
//! | `channel` | 消保服务站 | intake channel |
//! | `intake_unit` | 越城区消保服务站 | unit that took the case in |
//! | `region` | 浙江省绍兴市越城区 | where the dispute arose |
//! | `description` | … | facts and reasons (事实和理由 / 纠纷主要事实); paragraphs separated by blank lines |
//! | `amount` | 12,000.00 | amount claimed, yuan, formatted |
//! | `agreed_amount` | 8,000.00 | amount agreed in the mediation, yuan, formatted |
//! | `agreed_amount_capital` | 人民币捌仟元整 | the same in capital numerals, from [`yuan_in_capitals`] |
//! | `performance_due` | 2026年12月31日 | deadline to perform the agreement |
//! | `applicant` | object | `name`, `id_number`, `phone`, `address`, `role` (default 申请人) |
//! | `respondent` | object | same keys as `applicant` (role default 被申请人) |
//! | `institution_name` | 某银行绍兴分行 | financial institution involved |
//! | `organisation` | 绍兴市金融纠纷人民调解委员会 | mediation organisation |
//! | `mediators` | array of strings | mediators' names |
//! | `court` | 绍兴市越城区人民法院 | court for judicial confirmation |
//! | `agreement_date` | 2026年11月20日 | date the mediation agreement was signed |
//! | `date` | 2026年11月27日 | date of the document |
//! | `demo` | boolean | `true` prints a visible 「演示数据」 mark on every page |

pub mod fonts;

use std::fmt;

mod capitals;
#[cfg(feature = "pdf")]
mod pdf;

pub use capitals::yuan_in_capitals;

/// Why a document could not be rendered.
///
/// `code` is stable and meant for programs and API responses; `message` is for people (it names
/// the template and, for `template_invalid`, the line and typst's message of the first error).
///
/// Codes:
/// - `template_invalid`: the template does not compile (syntax error, unknown variable, failed
///   file or package access, ...).
/// - `pdf_failed`: the document compiled but could not be written as PDF.
/// - `pdf_disabled`: the crate was built without its `pdf` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentError {
    /// Stable, machine-readable error code (see the type's documentation).
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

impl DocumentError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl fmt::Display for DocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DocumentError {}

/// Renders `template` (typst source text, named `name` in errors) with `data` available to the
/// template, to PDF bytes.
///
/// `data` reaches the template as the JSON text `sys.inputs.data` (see the crate documentation
/// for the data contract). Safe to call from several threads at once; the fonts, the font book
/// and the typst standard library are prepared once per process, on the first call (measured on
/// the 2-core build machine: about 30 ms for the first two-page document, 20–35 ms for each
/// further one, in release as in debug builds since dependencies are optimised in both).
///
/// # Errors
///
/// `template_invalid`, `pdf_failed` or `pdf_disabled` (see [`DocumentError`]).
pub fn render_pdf(name: &str, template: &str, data: &serde_json::Value) -> Result<Vec<u8>, DocumentError> {
    #[cfg(feature = "pdf")]
    {
        pdf::render(name, template, data)
    }
    #[cfg(not(feature = "pdf"))]
    {
        let _ = (template, data);
        Err(DocumentError::new(
            "pdf_disabled",
            format!("cannot render {name}: this build has no PDF support (cargo feature `pdf`)"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_has_code_and_message() {
        let error = DocumentError::new("pdf_failed", "x.typ: broken");
        assert_eq!(error.to_string(), "pdf_failed: x.typ: broken");
    }

    #[cfg(not(feature = "pdf"))]
    #[test]
    fn without_the_feature_rendering_is_disabled() {
        let error = render_pdf("a.typ", "Hello", &serde_json::Value::Null).unwrap_err();
        assert_eq!(error.code, "pdf_disabled");
        assert!(error.message.contains("a.typ"));
    }
}
