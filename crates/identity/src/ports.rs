//! What identity needs from the outside world. Each storage method is one atomic operation: the adapter runs it in
//! one transaction, so that, for example, a user never exists without their profile or their confirmation mail.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diningcoach_kernel::{Email, Job};
use uuid::Uuid;

use crate::health::ValidHealthProfile;
use crate::{
    Credentials, EmailTokenPurpose, HealthProfile, IdentityError, Nickname, Password, PasswordHash,
    Profile, ProfilePatch, Role, TokenHash, User, UserId,
};

/// A new account, ready to store.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub email: Email,
    pub nickname: Nickname,
    pub password_hash: PasswordHash,
    pub role: Role,
    /// Admins made by an operator are trusted; users prove their address by the mailed link.
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

/// A single-use token for a mailed link, with the mail that carries it.
#[derive(Debug, Clone)]
pub struct NewEmailToken {
    pub user: UserId,
    pub purpose: EmailTokenPurpose,
    pub hash: TokenHash,
    pub expires_at: DateTime<Utc>,
    pub mail: Job,
}

/// A refresh token to store: the first of a login's family, or the successor of a rotated one.
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub family: Uuid,
    pub user: UserId,
    pub hash: TokenHash,
    pub issued_at: DateTime<Utc>,
    /// The idle limit: unused this long, the token dies.
    pub expires_at: DateTime<Utc>,
    /// The absolute limit of the family, fixed at login: rotation never extends it.
    pub family_expires_at: DateTime<Utc>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now used, and its successor stored.
    Rotated { user: UserId, family: Uuid },
    /// The token had already been rotated: the family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Dead,
}

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores the user, an empty profile and health profile, the verification token and its mail, atomically.
    /// `EmailTaken` when the address is already registered.
    async fn register(
        &self,
        user: &NewUser,
        verification: Option<NewEmailToken>,
    ) -> Result<User, IdentityError>;

    async fn credentials_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<Credentials>, IdentityError>;

    async fn credentials(&self, user: UserId) -> Result<Option<Credentials>, IdentityError>;

    /// Stores a new token of this purpose with its mail, making the user's earlier tokens of the purpose unusable.
    async fn issue_email_token(&self, token: &NewEmailToken) -> Result<(), IdentityError>;

    /// Uses a verification token and marks the address verified. `None` when the token is unknown, used or expired.
    async fn verify_email(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, IdentityError>;

    /// Uses a reset token, sets the password and revokes every refresh token of the user, atomically.
    async fn reset_password(
        &self,
        token: &TokenHash,
        new_hash: &PasswordHash,
        now: DateTime<Utc>,
    ) -> Result<Option<UserId>, IdentityError>;

    /// Replaces the password hash (a change of password, or a re-hash with current parameters).
    async fn set_password_hash(
        &self,
        user: UserId,
        hash: &PasswordHash,
    ) -> Result<(), IdentityError>;

    /// Records a failed login and returns the failures within the window ending now, oldest first.
    async fn record_failed_login(
        &self,
        user: UserId,
        at: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, IdentityError>;

    async fn failed_logins_since(
        &self,
        user: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, IdentityError>;

    async fn clear_failed_logins(&self, user: UserId) -> Result<(), IdentityError>;

    /// Deletes the account and everything personal attached to it.
    async fn delete(&self, user: UserId) -> Result<(), IdentityError>;
}

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait SessionRepository: Send + Sync {
    async fn start(&self, token: &NewRefreshToken) -> Result<(), IdentityError>;

    /// Atomically uses `presented` and stores `successor` in its family if `presented` is current; the
    /// successor expires at `idle_expires_at` or at the family's absolute limit, whichever comes first. Revokes the
    /// family if `presented` was already used.
    async fn rotate(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: DateTime<Utc>,
        idle_expires_at: DateTime<Utc>,
    ) -> Result<Rotation, IdentityError>;

    /// Revokes the family of `token` (logout). Unknown tokens are ignored: logging out twice is not an error.
    async fn revoke_family(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;

    /// Revokes every session of the user but `keep` (the session that changed the password).
    async fn revoke_all(
        &self,
        user: UserId,
        keep: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<(), IdentityError>;
}

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ProfileRepository: Send + Sync {
    async fn profile(&self, user: UserId) -> Result<Option<Profile>, IdentityError>;

    async fn update_profile(
        &self,
        user: UserId,
        patch: &ProfilePatch,
    ) -> Result<Option<Profile>, IdentityError>;

    async fn health(&self, user: UserId) -> Result<Option<HealthProfile>, IdentityError>;

    /// Replaces the health profile if its version is still `expected_version` (any version when `None`).
    async fn replace_health(
        &self,
        user: UserId,
        profile: &ValidHealthProfile,
        expected_version: Option<i32>,
        now: DateTime<Utc>,
    ) -> Result<HealthProfile, IdentityError>;
}

/// Whether a presented password matched its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    Mismatch,
    /// It matched; `outdated` when the hash uses weaker parameters than today's and should be replaced.
    Match {
        outdated: bool,
    },
}

/// Password hashing. Hashing is slow on purpose: implementations run it off the async executor and bound how many
/// run at once.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    async fn hash(&self, password: &Password) -> Result<PasswordHash, IdentityError>;

    async fn verify(
        &self,
        password: &Password,
        hash: &PasswordHash,
    ) -> Result<PasswordCheck, IdentityError>;

    /// Spends the time of a verification without a real hash, so that a login for an unknown email takes as long
    /// as one with a wrong password.
    async fn waste_time(&self, password: &Password);
}

/// The claims of a valid access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user: UserId,
    pub role: Role,
    /// The login (refresh-token family) the token was issued for.
    pub session: Uuid,
}

/// Signs and checks short-lived access tokens (JWT).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait AccessTokens: Send + Sync {
    fn issue(
        &self,
        user: &User,
        session: Uuid,
        now: DateTime<Utc>,
    ) -> Result<String, IdentityError>;

    /// `Unauthenticated` for anything but a valid, unexpired token of ours.
    fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, IdentityError>;

    /// Seconds an access token lives.
    fn lifetime_secs(&self) -> u64;
}

/// Cryptographically secure randomness, behind a port so tests can make it predictable.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait Randomness: Send + Sync {
    fn bytes32(&self) -> [u8; 32];
}
