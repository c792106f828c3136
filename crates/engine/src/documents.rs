//! Documents of a case (调解申请书, 调解协议书, 司法确认申请书): who may produce one, in
//! which states, and the journal record that one was produced. The console fills the template
//! and renders the PDF (fq-documents).

use fq_domain::actor::Actor;
use fq_domain::case::CaseId;
use fq_domain::programme::DocumentDef;

use crate::Engine;
use crate::cases::CaseView;
use crate::cases::visibility;
use crate::error::EngineError;

impl Engine {
    /// The case, with its personal information, for producing document `code`. A document
    /// carries the parties' ID numbers, so it needs a role that may see them; it must be one of
    /// the kind's documents and allowed in the case's state. Each one produced is journaled.
    pub async fn case_for_document(&self, actor: &Actor, id: CaseId, code: &str) -> Result<(CaseView, DocumentDef), EngineError> {
        let case = self.load_case(id).await?;
        let programme = self.programme(&case.programme)?;
        if !visibility::may_view(actor, &programme, &case) {
            return Err(EngineError::NotFound { entity: "case", key: id.to_string() });
        }
        let document = programme
            .kind(&case.kind)
            .and_then(|k| k.document(code))
            .cloned()
            .ok_or_else(|| EngineError::NotFound { entity: "document", key: code.to_owned() })?;
        if !document.states.is_empty() && !document.states.contains(&case.state) {
            return Err(EngineError::field(
                "document_wrong_state",
                "document",
                format!("{} is produced in the states {}, not {}", document.name, document.states.join(", "), case.state),
            ));
        }
        if !visibility::may_reveal(actor, &programme, &case) {
            return Err(EngineError::Denied {
                code: "forbidden_personal_data",
                message: "a document carries personal information your role may not see".into(),
            });
        }
        let change = fq_store::Change::new().event(fq_domain::journal::NewEvent::new(
            format!("access:case:{id}"),
            "case.document_produced",
            actor.journal_name(),
            serde_json::json!({ "case": id, "number": case.number, "document": document.code }),
        ));
        self.store.commit(change).await?;
        Ok((self.view_as(actor, &programme, case, false), document))
    }
}
