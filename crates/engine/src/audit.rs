//! `audit verify` and `audit checkpoint`: walking the whole journal.

use fq_domain::journal::{BreakKind, ChainBreak, ChainSummary, ChainVerifier, Checkpoint, Hash, Verdict, resolve_unlinked};
use fq_store::StoreError;

use crate::Engine;
use crate::error::EngineError;

const PAGE: u32 = 5_000;

/// The result of a full walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutcome {
    Intact(ChainSummary),
    Broken(ChainBreak),
}

/// Parses a published checkpoint given as `SEQ:HASH`.
pub fn parse_checkpoint(text: &str) -> Result<Checkpoint, EngineError> {
    let bad = || {
        EngineError::field(
            "checkpoint_invalid",
            "checkpoint",
            format!("{text:?} is not SEQ:HASH (as printed by `fengqiao audit checkpoint`)"),
        )
    };
    let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
    let seq = seq.parse::<u64>().map_err(|_| bad())?;
    let hash = Hash::parse(hash).map_err(|_| bad())?;
    Ok(Checkpoint { seq, hash })
}

impl Engine {
    /// Walks the journal from the first row, checking every hash and link, the recorded head and
    /// any `published` checkpoints. `progress` is called with the number of rows checked so far.
    pub async fn verify_journal(
        &self,
        published: Vec<Checkpoint>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<AuditOutcome, EngineError> {
        let recorded = self.store.recorded_head().await?;
        let mut verifier = ChainVerifier::new(recorded, published);
        let mut after = 0u64;
        let mut checked = 0u64;
        loop {
            let page = match self.store.events_after(after, PAGE).await {
                Ok(page) => page,
                Err(StoreError::CorruptEvent { seq, reason }) => {
                    // Check the readable rows before the corrupt one first: an earlier break wins.
                    let before =
                        self.store.events_after(after, u32::try_from(seq.saturating_sub(after + 1)).unwrap_or(PAGE)).await?;
                    for row in before {
                        if let Some(verdict) = verifier.push(row) {
                            return self.conclude(verdict).await;
                        }
                    }
                    return Ok(AuditOutcome::Broken(ChainBreak {
                        seq,
                        kind: BreakKind::Edited,
                        detail: format!("the row cannot be read: {reason}"),
                    }));
                }
                Err(other) => return Err(other.into()),
            };
            let Some(last) = page.last() else { break };
            after = last.seq;
            checked += page.len() as u64;
            for row in page {
                if let Some(verdict) = verifier.push(row) {
                    return self.conclude(verdict).await;
                }
            }
            progress(checked);
        }
        self.conclude(verifier.finish()).await
    }

    async fn conclude(&self, verdict: Verdict) -> Result<AuditOutcome, EngineError> {
        Ok(match verdict {
            Verdict::Intact(summary) => AuditOutcome::Intact(summary),
            Verdict::Broken(found) => AuditOutcome::Broken(found),
            Verdict::Unlinked(unlinked) => {
                let at = self.store.find_event_by_hash(unlinked.predecessor_hash).await?;
                AuditOutcome::Broken(resolve_unlinked(&unlinked, at))
            }
        })
    }

    /// The head to publish: verifies the chain first and refuses to certify a broken one.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, EngineError> {
        match self.verify_journal(Vec::new(), &|_| {}).await? {
            AuditOutcome::Intact(summary) => Ok(summary.head),
            AuditOutcome::Broken(found) => Err(EngineError::Invalid {
                code: "journal_broken",
                field: None,
                message: format!("the journal is broken, no checkpoint can be certified: {found}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_checkpoints() {
        let hash = "ab".repeat(32);
        let cp = parse_checkpoint(&format!("42:{hash}")).unwrap();
        assert_eq!(cp.seq, 42);
        assert_eq!(cp.hash.to_hex(), hash);
        for bad in ["42", "x:ab", &format!("-1:{hash}"), "42:zz"] {
            assert!(parse_checkpoint(bad).is_err(), "{bad}");
        }
    }
}
