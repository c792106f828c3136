//! The 32-byte BLAKE3 hashes that chain journal rows, stored as 64 lower-case hex digits.

use std::fmt;

/// A BLAKE3 hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; 32]);

/// Why a text is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a hash: expected 64 hexadecimal digits")]
pub struct HashParseError(pub String);

impl Hash {
    /// The predecessor of the first event.
    pub const GENESIS: Hash = Hash([0; 32]);

    /// Parses 64 hex digits (either case).
    pub fn parse(text: &str) -> Result<Hash, HashParseError> {
        blake3::Hash::from_hex(text).map(|h| Hash(*h.as_bytes())).map_err(|_| HashParseError(text.to_owned()))
    }

    pub fn to_hex(&self) -> String {
        self.hex().to_string()
    }

    /// The 64 hex digits without a heap allocation (for hot paths such as appending rows).
    pub fn hex(&self) -> impl std::ops::Deref<Target = str> + use<> {
        blake3::Hash::from_bytes(self.0).to_hex()
    }

    /// The first 12 hex digits, for messages.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_owned()
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let hash = Hash(*blake3::hash(b"fengqiao").as_bytes());
        assert_eq!(Hash::parse(&hash.to_hex()).unwrap(), hash);
        assert_eq!(Hash::parse(&hash.to_hex().to_uppercase()).unwrap(), hash);
        assert!(Hash::parse("abc").is_err());
        assert!(Hash::parse(&"g".repeat(64)).is_err());
        assert_eq!(Hash::GENESIS.to_hex(), "0".repeat(64));
    }
}
