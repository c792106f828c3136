//! A kind's documents: typst templates in the programme directory, rendered from a case (the
//! engine fills them; docs/DOCUMENTS.md gives the data they receive).

use super::load::{Source, identifier};
use super::raw::{RawDocument, S};
use super::{CaseKind, DocumentDef, ProgrammeError, ProgrammeFiles};

pub(super) fn load_documents(
    src: &Source<'_>,
    files: &ProgrammeFiles<'_>,
    raw: &[S<RawDocument>],
    kind: &CaseKind,
) -> Result<Vec<DocumentDef>, ProgrammeError> {
    let mut out: Vec<DocumentDef> = Vec::new();
    for item in raw {
        let d = item.get_ref();
        let code = identifier(src, &d.code, "document code")?;
        if out.iter().any(|x| x.code == code) {
            return src.err(d.code.span(), format!("document {code} appears twice"));
        }
        let path = d.template.get_ref();
        if !path.ends_with(".typ") {
            return src.err(d.template.span(), format!("document {code}: the template {path} must be a .typ file"));
        }
        let Some(bytes) = files.files.get(path.as_str()) else {
            return src.err(d.template.span(), format!("document {code}: template {path} is not in the programme directory"));
        };
        let Ok(source) = std::str::from_utf8(bytes) else {
            return src.err(d.template.span(), format!("document {code}: template {path} is not UTF-8"));
        };
        let mut states = Vec::new();
        for state in &d.states {
            if kind.state(state.get_ref()).is_none() {
                return src.err(state.span(), format!("document {code}: state {} is not one of the kind's", state.get_ref()));
            }
            states.push(state.get_ref().clone());
        }
        out.push(DocumentDef { code, name: d.name.clone(), template: path.clone(), source: source.to_owned(), states });
    }
    Ok(out)
}
