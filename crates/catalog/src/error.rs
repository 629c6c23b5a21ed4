use diningcoach_kernel::InfraError;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogError {
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The stored health profile names a code the diet catalog no longer has (the catalog is data and evolves):
    /// judging without it could say "ok" to someone it is not ok for, so the user must update the profile first.
    #[error("the health profile needs updating: {0}")]
    HealthProfileOutdated(String),
    #[error("the account does not exist")]
    UserNotFound,
    #[error(transparent)]
    Infra(#[from] InfraError),
}
