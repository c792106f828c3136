//! The typst side: one engine per process (fonts, font book, standard library), templates
//! handed in per call through a small pool of virtual file slots.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use typst::diag::{FileError, FileResult, Severity, SourceDiagnostic};
use typst::foundations::{Bytes, Dict, IntoValue};
use typst::syntax::{DiagSpanKind, FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst_as_lib::TypstEngine;
use typst_as_lib::file_resolver::FileResolver;
use typst_layout::PagedDocument;

use crate::DocumentError;

use crate::fonts::{BOLD, REGULAR};

/// Built on first use: parses the embedded fonts, builds the font book and the standard library.
static ENGINE: LazyLock<TypstEngine> = LazyLock::new(|| {
    TypstEngine::builder()
        .fonts([Bytes::new(REGULAR), Bytes::new(BOLD)])
        .add_file_resolver(Slots)
        // Keep typst's memoisation across a few renders: repeated renders of the same template
        // reuse shaped text, while memory stays bounded.
        .comemo_evict_max_age(Some(10))
        .build()
});

/// Templates being compiled right now, by the virtual file they occupy.
///
/// typst interns every `FileId` for the life of the process (at most 2^16 of them), so templates
/// are not given fresh paths per call: a render borrows the lowest free slot
/// `/template-<n>.typ`, and the number of paths ever used is the peak number of parallel renders.
static SOURCES: LazyLock<Mutex<HashMap<FileId, Source>>> = LazyLock::new(Mutex::default);

fn sources() -> MutexGuard<'static, HashMap<FileId, Source>> {
    // The map holds plain data; a panic elsewhere cannot leave it half-updated.
    SOURCES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A borrowed slot; frees it when dropped (also on panic).
struct Slot(FileId);

impl Slot {
    fn acquire(template: &str) -> (Self, Source) {
        let mut map = sources();
        let id = (0..)
            .map(|n| {
                let path = VirtualPath::new(format!("/template-{n}.typ")).expect("valid path");
                RootedPath::new(VirtualRoot::Project, path).intern()
            })
            .find(|id| !map.contains_key(id))
            .expect("a free slot");
        let text = template.strip_prefix('\u{feff}').unwrap_or(template);
        let source = Source::new(id, text.to_owned());
        map.insert(id, source.clone());
        (Self(id), source)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        sources().remove(&self.0);
    }
}

/// Serves the templates in [`SOURCES`] as typst sources; every other file (`read`, `image`,
/// `json("file")`, `#import`, packages) is reported as not found. (A template could `#include`
/// another template that is being rendered at the same moment by guessing its slot; templates
/// are written by administrators and hold no case data, so this is not worth a per-thread guard.)
struct Slots;

impl FileResolver for Slots {
    fn resolve_binary(&self, id: FileId) -> FileResult<Cow<'_, Bytes>> {
        Err(not_found(id))
    }

    fn resolve_source(&self, id: FileId) -> FileResult<Cow<'_, Source>> {
        sources().get(&id).map(|source| Cow::Owned(source.clone())).ok_or_else(|| not_found(id))
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_without_slash().into())
}

pub(crate) fn render(name: &str, template: &str, data: &serde_json::Value) -> Result<Vec<u8>, DocumentError> {
    let (slot, source) = Slot::acquire(template);
    let mut inputs = Dict::new();
    inputs.insert("data".into(), data.to_string().into_value());

    let compiled = ENGINE.compile_with_input::<_, _, PagedDocument>(slot.0, inputs);
    let document = compiled.output.map_err(|error| match error {
        typst_as_lib::TypstAsLibError::TypstSource(diagnostics) => template_invalid(name, &source, &diagnostics),
        other => DocumentError::new("template_invalid", format!("{name}: {other}")),
    })?;
    drop(slot);

    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default()).map_err(|diagnostics| {
        let first = diagnostics.first().map_or("unknown error", |d| d.message.as_str());
        DocumentError::new("pdf_failed", format!("{name}: {first}"))
    })
}

/// `template_invalid` naming the template, the line and typst's message of the first error.
fn template_invalid(name: &str, source: &Source, diagnostics: &[SourceDiagnostic]) -> DocumentError {
    let Some(first) = diagnostics.iter().find(|d| d.severity == Severity::Error).or(diagnostics.first()) else {
        return DocumentError::new("template_invalid", format!("{name}: does not compile"));
    };
    let line = match first.span.get() {
        DiagSpanKind::Number { id, num, sub_range } if id == source.id() => {
            source.range(num, sub_range).and_then(|range| source.lines().byte_to_line(range.start))
        }
        DiagSpanKind::Range { id, range } if id == source.id() => source.lines().byte_to_line(range.start),
        _ => None,
    };
    let mut message = match line {
        Some(line) => format!("{name}, line {}: {}", line + 1, first.message),
        None => format!("{name}: {}", first.message),
    };
    for hint in first.hints.iter().take(2) {
        message.push_str(" (hint: ");
        message.push_str(&hint.v);
        message.push(')');
    }
    DocumentError::new("template_invalid", message)
}
