use diningcoach_kernel::{InfraError, KernelError};
use thiserror::Error;

/// One invalid field of a request, named as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdentityError {
    #[error("invalid input: {}", .0.iter().map(|i| format!("{} {}", i.field, i.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldIssue>),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Unknown email or wrong password: deliberately one answer, so that it does not reveal which accounts exist.
    #[error("the email or the password is wrong")]
    InvalidCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// A mailed link's token that is unknown, already used or expired.
    #[error("the link is invalid, already used or expired")]
    InvalidLinkToken,
    /// A refresh token that is unknown, expired or revoked.
    #[error("the session has ended; log in again")]
    SessionEnded,
    /// A refresh token presented a second time: it was stolen or leaked, so its whole family was revoked.
    #[error("the refresh token was already used; every session of this login has been revoked")]
    RefreshTokenReused,
    #[error("authentication is required")]
    Unauthenticated,
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the account does not exist")]
    UserNotFound,
    /// An update based on a version that another device has changed since (`If-Match` is stale).
    #[error("the resource changed since version {expected}; reload it and apply the change again")]
    VersionMismatch { expected: i32 },
    #[error(transparent)]
    Infra(#[from] InfraError),
}

impl IdentityError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        IdentityError::Invalid(vec![FieldIssue {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// Merges validation failures so that a client learns about every bad field at once.
    pub fn collect(
        results: impl IntoIterator<Item = Result<(), IdentityError>>,
    ) -> Result<(), IdentityError> {
        let mut issues = Vec::new();
        for result in results {
            match result {
                Ok(()) => {}
                Err(IdentityError::Invalid(more)) => issues.extend(more),
                Err(other) => return Err(other),
            }
        }
        if issues.is_empty() {
            Ok(())
        } else {
            Err(IdentityError::Invalid(issues))
        }
    }
}

impl From<KernelError> for IdentityError {
    fn from(error: KernelError) -> Self {
        let field = match error {
            KernelError::InvalidEmail { .. } => "email",
            KernelError::InvalidLimit { .. } => "limit",
            KernelError::InvalidCursor => "cursor",
            KernelError::InvalidId(_) => "id",
        };
        IdentityError::invalid(field, error.to_string())
    }
}
