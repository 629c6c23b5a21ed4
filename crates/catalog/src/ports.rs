use async_trait::async_trait;
use diningcoach_dietary::DietProfileInput;
use diningcoach_kernel::{InfraError, UserId};

/// The health profile of a user, as the dietary engine takes it.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DietProfiles: Send + Sync {
    /// `None` when the user does not exist.
    async fn diet_profile(&self, user: UserId) -> Result<Option<DietProfileInput>, InfraError>;
}
