use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A secret handed to a client (a refresh token, a link in a mail). Only its hash is stored, so a leaked database
/// does not leak working tokens; 256 random bits make the plain SHA-256 safe (no dictionary to attack).
#[derive(Clone, PartialEq, Eq)]
pub struct OpaqueToken(String);

impl std::fmt::Debug for OpaqueToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpaqueToken(..)")
    }
}

impl OpaqueToken {
    /// Encodes 32 random bytes from the randomness port.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as a client presented it; unknown until its hash is looked up.
    pub fn presented(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

/// What is stored of an [`OpaqueToken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What a mailed link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailTokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl EmailTokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailTokenPurpose::VerifyEmail => "verify_email",
            EmailTokenPurpose::ResetPassword => "reset_password",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hash_stably_and_never_print() {
        let token = OpaqueToken::from_random([7; 32]);
        assert_eq!(token.expose().len(), 43);
        assert_eq!(
            token.hash(),
            OpaqueToken::presented(&format!(" {} ", token.expose())).hash()
        );
        assert_ne!(token.hash(), OpaqueToken::from_random([8; 32]).hash());
        assert_eq!(format!("{token:?}"), "OpaqueToken(..)");
    }
}
