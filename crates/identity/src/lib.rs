//! DiningCoach identity: who a user is, how they prove it, and what they told us about themselves.
//!
//! The [`IdentityService`] holds the use cases (sign up, confirm an email, log in, refresh, reset a password, edit
//! the profile and the health profile); storage, hashing, token signing, randomness and time are ports that the
//! adapters implement.

mod error;
mod health;
mod model;
pub mod ports;
mod service;
mod token;
mod vocabulary;

#[cfg(test)]
mod service_tests;

pub use error::FieldIssue;
pub use error::IdentityError;
#[cfg(any(test, feature = "mock"))]
pub use health::MockHealthVocabulary;
pub use health::{
    DietChoice, HealthProfile, HealthProfileInput, HealthVocabulary, HealthVocabularyError,
    ValidHealthProfile,
};
pub use model::{
    ActivityLevel, BodyMetrics, Credentials, Nickname, Password, PasswordHash, Patch, Profile,
    ProfilePatch, Role, Sex, User, UserId, UserSummary,
};
pub use service::{
    IdentityPorts, IdentityService, IdentitySettings, LoginOutcome, Principal, ProfilePatchInput,
    Registration, SessionTokens,
};
pub use token::{EmailTokenPurpose, OpaqueToken, TokenHash};
