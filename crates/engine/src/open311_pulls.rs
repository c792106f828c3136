//! The Open311 servers the nightly run pulls (每晚拉取的 Open311 服务器), kept in the database:
//! whichever server process wins the night pulls the same servers, whatever its configuration
//! file says. Operators and the province's administrators add and remove them (the pulled
//! events land in every county, so no county's administrator chooses alone); every change is
//! journaled on one stream (who added or removed which server, and when), and the list is
//! kept beside it as a setting.

use chrono::{DateTime, Utc};
use fq_domain::actor::Actor;
use fq_domain::journal::NewEvent;
use fq_domain::region::RegionCode;
use fq_store::{Change, Expectation, Op};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Engine;
use crate::access::{may, require_admin};
use crate::error::EngineError;

/// The journal stream of the list's changes.
pub const PULLS_STREAM: &str = "risk_open311_pulls";
/// The setting holding the list (JSON).
const PULLS_SETTING: &str = "risk.open311_pulls";
/// The longest server address accepted.
const MAX_URL: usize = 500;
/// What choosing the servers is called in a refusal.
const CHOOSING: &str = "choosing the Open311 servers of the nightly run";
/// The journal kind of an addition.
const ADDED: &str = "risk.open311_pull_added";

/// The region whose administrators choose the servers: the whole province.
fn province() -> RegionCode {
    RegionCode::parse("33").expect("the province's code")
}

/// Whether `actor` chooses the nightly run's Open311 servers: operators, and administrators of
/// the whole province.
pub fn chooses_open311_pulls(actor: &Actor) -> bool {
    may(actor, fq_domain::account::RoleCode::ADMIN, &province(), None)
}

/// A server of the nightly run as the console lists it: the source's name, and who added it and
/// when (from the journal; none for a list written before it was journaled).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Open311PullEntry {
    pub source: String,
    pub source_name: String,
    pub url: String,
    pub added_by: Option<String>,
    pub added_at: Option<DateTime<Utc>>,
}

/// A source whose columns read Open311 GeoReport v2 requests (the ones a server can be pulled into).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Open311Source {
    pub code: String,
    pub name: String,
}

/// An Open311 GeoReport v2 server pulled every night into a risk source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Pull {
    /// A source of data/risk/sources-v1.toml (its columns read the server's requests).
    pub source: String,
    /// The server's base address (requests.json is read under it).
    pub url: String,
}

impl Open311Pull {
    /// The same server written without surrounding spaces or a trailing slash, as stored.
    pub fn normalised(&self) -> Open311Pull {
        Open311Pull { source: self.source.trim().to_owned(), url: self.url.trim().trim_end_matches('/').to_owned() }
    }
}

/// Whether a source's columns read GeoReport v2 requests.
fn reads_open311(def: &fq_risk::sources::SourceDef) -> bool {
    def.columns.id == "service_request_id" && def.columns.time == "requested_datetime"
}

/// Whether `url` looks like a server's base address: http or https, a host, no spaces.
fn valid_url(url: &str) -> bool {
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && url.len() <= MAX_URL
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Engine {
    /// The servers the nightly run pulls, in the order they were added.
    pub async fn open311_pulls(&self) -> Result<Vec<Open311Pull>, EngineError> {
        match self.store.setting(PULLS_SETTING).await? {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| EngineError::field("setting_invalid", PULLS_SETTING, e.to_string()))
            }
            None => Ok(Vec::new()),
        }
    }

    /// The servers with who added each and when, and the sources a server may be pulled into
    /// (operators and the province's administrators).
    pub async fn open311_pull_entries(&self, actor: &Actor) -> Result<(Vec<Open311PullEntry>, Vec<Open311Source>), EngineError> {
        require_admin(actor, &province(), None, CHOOSING)?;
        let pulls = self.open311_pulls().await?;
        let journal = self.store.stream_events(PULLS_STREAM).await?;
        let sources = self.risk_sources()?;
        let entries = pulls
            .into_iter()
            .map(|pull| {
                // The latest addition of this server (it may have been removed and added again).
                let added = journal.iter().rev().find(|e| {
                    e.kind == ADDED
                        && serde_json::from_str::<serde_json::Value>(&e.payload)
                            .is_ok_and(|p| p["source"] == pull.source.as_str() && p["url"] == pull.url.as_str())
                });
                let source_name = sources
                    .sources
                    .iter()
                    .find(|s| s.code == pull.source)
                    .map_or_else(|| pull.source.clone(), |s| s.name.clone());
                Open311PullEntry {
                    source_name,
                    added_by: added.map(|e| e.actor.clone()),
                    added_at: added.map(|e| e.recorded_at),
                    source: pull.source,
                    url: pull.url,
                }
            })
            .collect();
        let readers = sources
            .sources
            .iter()
            .filter(|s| reads_open311(s))
            .map(|s| Open311Source { code: s.code.clone(), name: s.name.clone() })
            .collect();
        Ok((entries, readers))
    }

    /// Adds a server to the nightly pulls (operators and the province's administrators). False
    /// when it was there already.
    pub async fn add_open311_pull(&self, actor: &Actor, source: &str, url: &str) -> Result<bool, EngineError> {
        require_admin(actor, &province(), None, CHOOSING)?;
        let pull = Open311Pull { source: source.into(), url: url.into() }.normalised();
        let sources = self.risk_sources()?;
        let Some(def) = sources.sources.iter().find(|s| s.code == pull.source) else {
            return Err(EngineError::field(
                "source_unknown",
                "source",
                format!("{} is not a source of data/risk/sources-v1.toml", pull.source),
            ));
        };
        // Only a source whose columns read GeoReport v2 requests: any other would fail every night.
        if !reads_open311(def) {
            return Err(EngineError::field(
                "source_not_open311",
                "source",
                format!("{} does not read Open311 requests (its id column is {})", pull.source, def.columns.id),
            ));
        }
        if !valid_url(&pull.url) {
            return Err(EngineError::field("url_invalid", "url", format!("{:?} is not an http or https address", pull.url)));
        }
        self.change_pulls(actor, ADDED, pull, |list, pull| {
            if list.contains(pull) {
                return false;
            }
            list.push(pull.clone());
            true
        })
        .await
    }

    /// Removes a server from the nightly pulls (operators and the province's administrators);
    /// one not in the list is not found.
    pub async fn remove_open311_pull(&self, actor: &Actor, source: &str, url: &str) -> Result<(), EngineError> {
        require_admin(actor, &province(), None, CHOOSING)?;
        let pull = Open311Pull { source: source.into(), url: url.into() }.normalised();
        let key = format!("{} {}", pull.source, pull.url);
        let removed = self
            .change_pulls(actor, "risk.open311_pull_removed", pull, |list, pull| {
                let before = list.len();
                list.retain(|p| p != pull);
                list.len() < before
            })
            .await?;
        if removed { Ok(()) } else { Err(EngineError::NotFound { entity: "nightly Open311 pull", key }) }
    }

    /// Applies `edit` to the stored list and, when it changed it, journals `kind` with the new
    /// list in one change that expects the stream as it was read (two operators at once: the
    /// second is decided again on the first's list).
    async fn change_pulls(
        &self,
        actor: &Actor,
        kind: &str,
        pull: Open311Pull,
        edit: impl Fn(&mut Vec<Open311Pull>, &Open311Pull) -> bool,
    ) -> Result<bool, EngineError> {
        for _ in 0..5 {
            let version = self.store.stream_events(PULLS_STREAM).await?.len() as u64;
            let mut list = self.open311_pulls().await?;
            if !edit(&mut list, &pull) {
                return Ok(false);
            }
            let value =
                serde_json::to_string(&list).map_err(|e| EngineError::field("setting_invalid", PULLS_SETTING, e.to_string()))?;
            let change = Change::new()
                .expect(Expectation::StreamVersion { stream: PULLS_STREAM.into(), version })
                .op(Op::PutSetting { key: PULLS_SETTING.into(), value })
                .event(NewEvent::new(
                    PULLS_STREAM,
                    kind,
                    actor.journal_name(),
                    json!({ "source": pull.source, "url": pull.url, "pulls": list.len() }),
                ));
            match self.store.commit(change).await {
                Ok(_) => return Ok(true),
                Err(fq_store::StoreError::StreamMoved { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Conflict { entity: "nightly Open311 pulls", key: "changed by others meanwhile".into() })
    }
}

#[cfg(test)]
mod tests {
    use super::valid_url;

    #[test]
    fn server_addresses() {
        for good in ["http://10.0.0.5:8080/open311/v2", "https://portal.example.cn/open311/v2", "http://localhost"] {
            assert!(valid_url(good), "{good}");
        }
        let long = format!("http://a/{}", "x".repeat(600));
        for bad in
            ["", "ftp://x/open311", "10.0.0.5/open311", "http://", "http:///open311", "http://a b/", "http://a\n", long.as_str()]
        {
            assert!(!valid_url(bad), "{bad:?}");
        }
    }
}
