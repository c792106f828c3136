//! Configuration: defaults in code, then a TOML file, then `FENGQIAO__*` environment variables
//! (`FENGQIAO__STORAGE__DATA_DIR` sets `storage.data_dir`), then command-line flags.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The example printed by `fengqiao config example`; a test checks it equals the defaults.
pub const EXAMPLE: &str = include_str!("../fengqiao.example.toml");

/// The file read when `--config` is not given, if it exists in the working directory.
pub const DEFAULT_FILE: &str = "fengqiao.toml";

#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub demo: DemoConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub programmes: ProgrammesConfig,
    #[serde(default)]
    pub scheduler: SchedulerConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgrammesConfig {
    /// A directory of `<code>/programme.toml` definitions to use instead of the embedded ones.
    /// Empty: the embedded programmes.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Run the timer scheduler inside `fengqiao serve` (turn off when `fengqiao worker`
    /// processes run it instead).
    pub in_server: bool,
    /// Seconds between passes over due timers.
    pub interval_seconds: u64,
    /// The Beijing-time hour (0–23) after which the nightly risk run starts: the Open311 pulls,
    /// then the whistle for every county and category with stored events; once a day across
    /// every process on the database.
    pub nightly_hour: u32,
    /// Open311 servers pulled each night before the whistle, each as the risk source it feeds,
    /// besides those stored in the database (`fengqiao risk open311-pulls add`, which every
    /// process reads).
    pub open311_pulls: Vec<fq_engine::Open311Pull>,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig { in_server: true, interval_seconds: 5, nightly_hour: 2, open311_pulls: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Directory for the SQLite database, its lock file, backups of demo passwords.
    pub data_dir: PathBuf,
    /// Empty: SQLite in `data_dir`. Or `sqlite:PATH`, or `postgres://USER@HOST:PORT/DB`.
    pub database: String,
    /// SQLite durability: `full` (every acknowledged write is on disk) or `normal` (faster; a power
    /// cut can lose the last writes).
    pub synchronous: SynchronousSetting,
    /// At most this many changes share one commit.
    pub group_commit_max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SynchronousSetting {
    Full,
    Normal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Seed the labelled demo data set on first start.
    pub seed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `fq_engine=debug,info` (RUST_LOG overrides it).
    pub filter: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig { listen: SocketAddr::from(([127, 0, 0, 1], 8080)) }
    }
}

impl Default for StorageConfig {
    fn default() -> StorageConfig {
        StorageConfig {
            data_dir: PathBuf::from("fengqiao-data"),
            database: String::new(),
            synchronous: SynchronousSetting::Full,
            group_commit_max: 512,
        }
    }
}

impl Default for DemoConfig {
    fn default() -> DemoConfig {
        DemoConfig { seed: true }
    }
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig { filter: "info".into(), format: LogFormat::Text }
    }
}

/// `Debug` never shows a database password.
impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("data_dir", &self.data_dir)
            .field("database", &fq_store::redact_url(&self.database))
            .field("synchronous", &self.synchronous)
            .field("group_commit_max", &self.group_commit_max)
            .finish()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("storage", &self.storage)
            .field("demo", &self.demo)
            .field("log", &self.log)
            .finish()
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    Missing(PathBuf),
    #[error("bad configuration: {0}")]
    Invalid(String),
}

/// Loads the layered configuration. `file` is `--config`; without it `fengqiao.toml` in the
/// working directory is read if present.
pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match file {
        Some(path) if !path.is_file() => return Err(ConfigError::Missing(path.to_path_buf())),
        Some(path) => figment = figment.merge(Toml::file_exact(path)),
        None if Path::new(DEFAULT_FILE).is_file() => figment = figment.merge(Toml::file_exact(DEFAULT_FILE)),
        None => {}
    }
    figment = figment.merge(Env::prefixed("FENGQIAO__").split("__"));
    let config: Config = figment.extract().map_err(|e| ConfigError::Invalid(e.to_string().replace('\n', "; ")))?;
    if config.storage.group_commit_max == 0 {
        return Err(ConfigError::Invalid("storage.group_commit_max must be at least 1".into()));
    }
    if config.scheduler.nightly_hour > 23 {
        return Err(ConfigError::Invalid(format!(
            "scheduler.nightly_hour {} is not an hour (0 to 23)",
            config.scheduler.nightly_hour
        )));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_defaults() {
        let parsed: Config = Figment::from(Toml::string(EXAMPLE)).extract().expect("the example parses");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn debug_redacts_the_database_password() {
        let mut config = Config::default();
        config.storage.database = "postgres://fq:hunter2@db/fq".into();
        let text = format!("{config:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("fq:***@db"), "{text}");
    }
}
