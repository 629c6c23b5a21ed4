use std::fmt;

use chrono::{DateTime, Utc};
use diningcoach_kernel::Email;
use serde::{Deserialize, Serialize};

use crate::IdentityError;

pub use diningcoach_kernel::UserId;

/// The name other users see: 2 to 30 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Nickname(String);

impl Nickname {
    pub fn parse(raw: &str) -> Result<Self, IdentityError> {
        let trimmed = raw.trim();
        let length = trimmed.chars().count();
        if !(2..=30).contains(&length) {
            return Err(IdentityError::invalid(
                "nickname",
                "must be 2 to 30 characters",
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(IdentityError::invalid(
                "nickname",
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A value read back from storage, which only ever holds parsed nicknames.
    pub fn from_trusted(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as the user typed it, accepted by the policy. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// Applies the policy of OWASP ASVS 5.0 §6.2: 8 to 128 characters, any characters, no composition rules, and
    /// not guessable — neither among the common passwords nor derived from what we know of the user (`context`:
    /// the email, the nickname). zxcvbn estimates guessability with its dictionaries; scores 0 and 1 ("too
    /// guessable", "very guessable") are refused.
    pub fn new(raw: &str, field: &'static str, context: &[&str]) -> Result<Self, IdentityError> {
        let length = raw.chars().count();
        if length < Self::MIN_CHARS {
            return Err(IdentityError::invalid(
                field,
                "must be at least 8 characters",
            ));
        }
        if length > Self::MAX_CHARS {
            return Err(IdentityError::invalid(
                field,
                "must be at most 128 characters",
            ));
        }
        let estimate = zxcvbn::zxcvbn(raw, context);
        if u8::from(estimate.score()) < 2 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| "it is too easy to guess".to_owned());
            return Err(IdentityError::invalid(
                field,
                format!("is too easy to guess: {hint}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password presented to log in or to confirm an action: checked against a hash, not against the policy
    /// (the policy may have changed since it was chosen).
    pub fn presented(raw: &str) -> Self {
        Self(raw.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A password hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

impl PasswordHash {
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub nickname: Nickname,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

/// A user with their password hash: only the login and password-change paths need it.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: PasswordHash,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
}

/// Physical activity, as the nutrient-need formulas use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityLevel {
    Sedentary,
    Light,
    Moderate,
    Active,
    VeryActive,
}

/// Height and weight, within what a human body can be.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct BodyMetrics {
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
}

impl BodyMetrics {
    pub fn check_height(height_cm: f64) -> Result<f64, IdentityError> {
        if height_cm.is_finite() && (40.0..=272.0).contains(&height_cm) {
            Ok(height_cm)
        } else {
            Err(IdentityError::invalid(
                "height_cm",
                "must be between 40 and 272",
            ))
        }
    }

    pub fn check_weight(weight_kg: f64) -> Result<f64, IdentityError> {
        if weight_kg.is_finite() && (2.0..=650.0).contains(&weight_kg) {
            Ok(weight_kg)
        } else {
            Err(IdentityError::invalid(
                "weight_kg",
                "must be between 2 and 650",
            ))
        }
    }
}

/// What a user told us about themselves, besides their health.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub user: UserSummary,
    pub birth_year: Option<i16>,
    pub sex: Option<Sex>,
    pub body: BodyMetrics,
    pub activity_level: Option<ActivityLevel>,
}

/// The account fields a profile shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub nickname: String,
    pub role: Role,
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<&User> for UserSummary {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            email: user.email.to_string(),
            nickname: user.nickname.as_str().to_owned(),
            role: user.role,
            email_verified: user.email_verified,
            created_at: user.created_at,
        }
    }
}

/// A change to one field: leave it, clear it, or set it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

impl<T> Patch<T> {
    pub fn map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Patch<U>, E> {
        Ok(match self {
            Patch::Keep => Patch::Keep,
            Patch::Clear => Patch::Clear,
            Patch::Set(value) => Patch::Set(f(value)?),
        })
    }
}

/// A validated change to the profile.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfilePatch {
    pub nickname: Option<Nickname>,
    pub birth_year: Patch<i16>,
    pub sex: Patch<Sex>,
    pub height_cm: Patch<f64>,
    pub weight_kg: Patch<f64>,
    pub activity_level: Patch<ActivityLevel>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_policy_refuses_short_long_common_and_personal_passwords() {
        let context = ["ann.lee@example.org", "annlee"];
        for (raw, refused) in [
            ("short1!", true),
            ("password", true),
            ("password123", true),
            ("qwertyuiop", true),
            ("annlee2024", true),
            ("correct horse battery staple", false),
            ("Tz8#mVq2!pLr", false),
        ] {
            assert_eq!(
                Password::new(raw, "password", &context).is_err(),
                refused,
                "{raw}"
            );
        }
        assert!(
            Password::new(&"x7Rq!".repeat(26), "password", &context).is_err(),
            "over 128 characters"
        );
    }

    #[test]
    fn nicknames_are_trimmed_and_bounded() {
        assert_eq!(
            Nickname::parse("  Ann  ").map(|n| n.as_str().to_owned()),
            Ok("Ann".to_owned())
        );
        assert!(Nickname::parse("A").is_err());
        assert!(Nickname::parse(&"a".repeat(31)).is_err());
        assert!(Nickname::parse("An\u{0007}n").is_err());
    }
}
