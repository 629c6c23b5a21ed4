//! Crypto adapter for the identity ports: argon2id password hashing on blocking threads, HS256 access tokens,
//! and the operating system's randomness.

mod jwt;
mod password;

pub use jwt::JwtAccessTokens;
pub use password::{Argon2Hasher, HashingParams};

use diningcoach_identity::ports::Randomness;
use rand::RngCore;

/// Randomness from a CSPRNG seeded by the operating system.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandomness;

impl Randomness for OsRandomness {
    fn bytes32(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        bytes
    }
}
