//! `audit verify` and `audit checkpoint`: walking the whole journal.

use fq_domain::journal::{
    BreakKind, ChainBreak, ChainSummary, ChainVerifier, Checkpoint, Hash, Verdict, beyond_head, resolve_unlinked,
};
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
    /// any `published` checkpoints. Safe beside a running server: the head is read after the rows
    /// (see [`ChainVerifier`]), and rows committed during the walk are walked too. `progress` is
    /// called with the number of rows checked so far.
    pub async fn verify_journal(
        &self,
        published: Vec<Checkpoint>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<AuditOutcome, EngineError> {
        // Rows numbered 0 or below are never reached by a walk from the start; the schema refuses
        // them, so one being there means the table was rebuilt around a forged row.
        if let Some(min) = self.store.journal_extent().await?.min_seq
            && min < 1
        {
            return Ok(AuditOutcome::Broken(ChainBreak {
                seq: 0,
                kind: BreakKind::Inserted,
                detail: format!("a row numbered {min} lies before the first row of the journal"),
            }));
        }
        let mut verifier = ChainVerifier::new(published);
        loop {
            let before = verifier.last_seq();
            if let Some(found) = self.walk(&mut verifier, progress).await? {
                return Ok(AuditOutcome::Broken(found));
            }
            let head = self.store.recorded_head().await?;
            // The head moved past what was walked: a server committed meanwhile. Walk the new
            // rows; stop when a round finds none (then the head is ahead of the rows: a deleted tail).
            let caught_up = head.seq().is_none_or(|seq| seq <= verifier.last_seq());
            if caught_up || verifier.last_seq() == before {
                return self.conclude(verifier.finish(head)).await;
            }
        }
    }

    /// Feeds every row after the verifier's last one. Returns the first break, if any.
    async fn walk(
        &self,
        verifier: &mut ChainVerifier,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Option<ChainBreak>, EngineError> {
        let mut after = verifier.last_seq();
        loop {
            let page = match self.store.events_after(after, PAGE).await {
                Ok(page) => page,
                Err(StoreError::CorruptEvent { seq, reason }) => {
                    // Check the readable rows before the corrupt one first: an earlier break wins.
                    let before =
                        self.store.events_after(after, u32::try_from(seq.saturating_sub(after + 1)).unwrap_or(PAGE)).await?;
                    for row in before {
                        if let Some(verdict) = verifier.push(row) {
                            return self.located_break(verdict).await.map(Some);
                        }
                    }
                    let found = ChainBreak { seq, kind: BreakKind::Edited, detail: format!("the row cannot be read: {reason}") };
                    return self.located_break(Verdict::Broken(found)).await.map(Some);
                }
                Err(other) => return Err(other.into()),
            };
            let Some(last) = page.last() else { return Ok(None) };
            after = last.seq;
            for row in page {
                if let Some(verdict) = verifier.push(row) {
                    return self.located_break(verdict).await.map(Some);
                }
            }
            progress(after);
        }
    }

    /// Resolves a break found while walking. A break at a row beyond the head recorded now (read
    /// after the row) is that row's insertion, whatever else is wrong with it.
    async fn located_break(&self, verdict: Verdict) -> Result<ChainBreak, EngineError> {
        let found = match self.conclude(verdict).await? {
            AuditOutcome::Broken(found) => found,
            AuditOutcome::Intact(_) => unreachable!("a walk reports only breaks"),
        };
        Ok(match self.store.recorded_head().await?.seq() {
            Some(head_seq) if found.seq > head_seq => beyond_head(head_seq + 1, head_seq),
            _ => found,
        })
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
