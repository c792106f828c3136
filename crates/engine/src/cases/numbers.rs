//! Case numbers: `<prefix><year>-<sequence>`, one gap-free-as-possible series per programme and
//! Beijing-time year. The next number comes from memory after the first look-up; the unique
//! index on numbers settles any race with another process (PostgreSQL), after which the engine
//! looks up the series again and retries.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Datelike, Utc};
use fq_domain::calendar::local_date;
use fq_store::Store;

use crate::error::EngineError;

#[derive(Debug, Default)]
pub(crate) struct NumberAllocator {
    last: Mutex<HashMap<String, u64>>,
}

/// A number handed out for one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaseNumber {
    pub text: String,
    pub series: String,
    pub seq: u64,
}

impl NumberAllocator {
    /// The next number of `programme`'s series for the year of `now`.
    pub(crate) async fn next(
        &self,
        store: &dyn Store,
        programme: &str,
        prefix: &str,
        now: DateTime<Utc>,
    ) -> Result<CaseNumber, EngineError> {
        let year = local_date(now).year();
        let series = format!("{programme}:{year}");
        let known = self.last.lock().expect("number lock").get(&series).copied();
        let last = match known {
            Some(last) => last,
            None => store.last_case_number(&series).await?,
        };
        let mut map = self.last.lock().expect("number lock");
        // Another task may have moved the series on while we looked it up.
        let entry = map.entry(series.clone()).or_insert(last);
        *entry = (*entry).max(last) + 1;
        let seq = *entry;
        Ok(CaseNumber { text: format!("{prefix}{year}-{seq:06}"), series, seq })
    }

    /// Forgets a series after a collision, so that the next number is looked up again.
    pub(crate) fn forget(&self, series: &str) {
        self.last.lock().expect("number lock").remove(series);
    }
}
