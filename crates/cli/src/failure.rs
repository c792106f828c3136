//! How a command fails: a stable code, a message that names what and where, and an exit code.

use std::process::ExitCode;

use fq_domain::Coded;
use fq_engine::EngineError;
use fq_store::{LocationError, StoreError};

use crate::config::ConfigError;

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub exit: u8,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into(), exit: 1 }
    }

    /// The journal did not verify (exit code 3).
    pub fn broken_journal(message: impl Into<String>) -> Failure {
        Failure { code: "journal_broken", message: message.into(), exit: 3 }
    }

    pub fn report(&self) -> ExitCode {
        eprintln!("error[{}]: {}", self.code, self.message);
        ExitCode::from(self.exit)
    }
}

impl From<EngineError> for Failure {
    fn from(err: EngineError) -> Failure {
        let message = match err.field() {
            Some(field) if !err.to_string().contains(&field) => format!("{err} (field {field})"),
            _ => err.to_string(),
        };
        Failure::new(err.code(), message)
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Failure {
        Failure::new(err.code(), err.to_string())
    }
}

impl From<ConfigError> for Failure {
    fn from(err: ConfigError) -> Failure {
        Failure::new("config_invalid", err.to_string())
    }
}

impl From<LocationError> for Failure {
    fn from(err: LocationError) -> Failure {
        Failure::new(err.code(), err.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Failure {
        Failure::new("io_error", err.to_string())
    }
}

pub type Outcome = Result<(), Failure>;
