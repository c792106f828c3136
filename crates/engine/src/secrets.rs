//! Random secrets and password hashing. Randomness comes from the operating system.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::error::EngineError;

/// `n` random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], EngineError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| EngineError::Store(fq_store::StoreError::Backend(format!("no OS randomness: {e}"))))?;
    Ok(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new API token: `fqt_` and 64 hex digits (256 bits).
pub(crate) fn new_token_secret() -> Result<String, EngineError> {
    Ok(format!("fqt_{}", hex(&random_bytes::<32>()?)))
}

/// The stored form of a token secret.
pub(crate) fn token_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// A readable random password for demo accounts: 16 characters without look-alikes.
pub(crate) fn new_password() -> Result<String, EngineError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<16>()?;
    Ok(bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect())
}

/// Hashes a password with Argon2id (the crate's defaults follow the OWASP recommendation).
pub(crate) fn hash_password(password: &str) -> Result<String, EngineError> {
    let hash: Result<PasswordHash, _> = Argon2::default().hash_password(password.as_bytes());
    hash.map(|hash| hash.to_string())
        .map_err(|e| EngineError::Store(fq_store::StoreError::Backend(format!("password hashing failed: {e}"))))
}

/// Checks a password against a stored PHC string.
pub(crate) fn verify_password(password: &str, stored: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), stored).is_ok()
}

/// A hash that no password matches, verified when a login is unknown so that the answer takes as
/// long as for a known one (no account enumeration by timing).
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown logins").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse batterz", &stored));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn secrets_are_random_and_well_formed() {
        let (a, b) = (new_token_secret().unwrap(), new_token_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 68);
        assert_ne!(token_hash(&a), token_hash(&b));
        let password = new_password().unwrap();
        assert_eq!(password.chars().count(), 16);
    }
}
