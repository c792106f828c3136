//! Where the database lives, chosen by URL scheme: `sqlite:` (the default, a file under the data
//! directory) or `postgres://` for deployments with several server processes.

use std::fmt;
use std::path::{Path, PathBuf};

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "SQLite",
            BackendKind::Postgres => "PostgreSQL",
        }
    }
}

/// A parsed database location. `Debug` and `Display` never show a password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

/// Why a database setting cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error("unsupported database URL scheme {scheme:?} in {redacted}: expected sqlite:PATH or postgres://USER@HOST:PORT/DB")]
    Scheme { scheme: String, redacted: String },
    #[error("database URL {0:?} names no file: expected sqlite:PATH")]
    EmptySqlitePath(String),
}

impl fq_domain::Coded for LocationError {
    fn code(&self) -> &'static str {
        "database_url_invalid"
    }
    fn field(&self) -> Option<String> {
        Some("storage.database".into())
    }
}

/// The SQLite file name inside the data directory.
pub const SQLITE_FILE_NAME: &str = "fengqiao.db";

impl DatabaseLocation {
    /// Parses a `storage.database` setting. An empty setting means the SQLite file under `data_dir`.
    pub fn parse(setting: &str, data_dir: &Path) -> Result<DatabaseLocation, LocationError> {
        let setting = setting.trim();
        if setting.is_empty() {
            return Ok(DatabaseLocation::Sqlite(data_dir.join(SQLITE_FILE_NAME)));
        }
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            return Ok(DatabaseLocation::Postgres(setting.to_owned()));
        }
        if let Some(rest) = setting.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(LocationError::EmptySqlitePath(setting.to_owned()));
            }
            return Ok(DatabaseLocation::Sqlite(PathBuf::from(path)));
        }
        let scheme = setting.split_once(':').map(|(s, _)| s).unwrap_or(setting).to_owned();
        Err(LocationError::Scheme { scheme, redacted: redact_url(setting) })
    }

    pub fn kind(&self) -> BackendKind {
        match self {
            DatabaseLocation::Sqlite(_) => BackendKind::Sqlite,
            DatabaseLocation::Postgres(_) => BackendKind::Postgres,
        }
    }
}

/// Replaces the password of a URL, and its whole query (which may carry `password=`), with
/// `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((before, _)) => (before, "?***"),
        None => (rest, ""),
    };
    let url = format!("{scheme}://{rest}{query}");
    let (authority, tail) = match rest.find('/') {
        Some(idx) => rest.split_at(idx),
        None => (rest, ""),
    };
    let tail = format!("{tail}{query}");
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map(|(u, _)| format!("{u}:***")).unwrap_or_else(|| userinfo.to_owned());
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url,
    }
}

impl fmt::Display for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseLocation::Sqlite(path) => write!(f, "SQLite {}", path.display()),
            DatabaseLocation::Postgres(url) => write!(f, "PostgreSQL {}", redact_url(url)),
        }
    }
}

impl fmt::Debug for DatabaseLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_passwords_in_the_authority_and_the_query() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("postgres://u@h/db?password=secret&sslmode=require"), "postgres://u@h/db?***");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn parses_the_schemes() {
        let dir = Path::new("/var/lib/fengqiao");
        assert_eq!(DatabaseLocation::parse("", dir).unwrap(), DatabaseLocation::Sqlite(dir.join("fengqiao.db")));
        assert_eq!(DatabaseLocation::parse("sqlite:/tmp/x.db", dir).unwrap(), DatabaseLocation::Sqlite("/tmp/x.db".into()));
        assert_eq!(
            DatabaseLocation::parse("sqlite:///tmp/x.db?mode=rwc", dir).unwrap(),
            DatabaseLocation::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(DatabaseLocation::parse("postgres://u@h/db", dir).unwrap().kind(), BackendKind::Postgres);
        assert!(
            matches!(DatabaseLocation::parse("mysql://root:pw@h/db", dir), Err(LocationError::Scheme { scheme, redacted }) if scheme == "mysql" && !redacted.contains("pw"))
        );
        assert!(matches!(DatabaseLocation::parse("sqlite:", dir), Err(LocationError::EmptySqlitePath(_))));
    }

    #[test]
    fn never_shows_passwords() {
        let loc = DatabaseLocation::Postgres("postgres://fq:s3cret@db.example:5432/fq".into());
        assert_eq!(loc.to_string(), "PostgreSQL postgres://fq:***@db.example:5432/fq");
        assert!(!format!("{loc:?}").contains("s3cret"));
        assert_eq!(redact_url("postgres://fq@h/db"), "postgres://fq@h/db");
        assert_eq!(redact_url("postgres://h"), "postgres://h");
    }
}
