use async_trait::async_trait;
use diningcoach_dietary::{DietProfileInput, FoodAnalysis};
use diningcoach_kernel::{InfraError, UserId};

use crate::CatalogError;
use crate::food::FoodId;
use crate::gtin::Gtin;
use crate::stored::{AnalysedFood, BatchOutcome, Food, SearchPosition, TierQuery};

/// The health profile of a user, as the dietary engine takes it, and the account facts the catalog checks.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DietProfiles: Send + Sync {
    /// `None` when the user does not exist.
    async fn diet_profile(&self, user: UserId) -> Result<Option<DietProfileInput>, InfraError>;

    /// Whether the user has confirmed their email (only they may add foods). `false` when there is no such user.
    async fn email_verified(&self, user: UserId) -> Result<bool, InfraError>;
}

/// The stored catalog.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FoodRepository: Send + Sync {
    /// Up to `query.limit` foods of `query.tiers`: the first tier's after `query.after`, in its order, then the
    /// next tier's while there is room, and so on.
    async fn search<'a>(
        &self,
        query: &TierQuery<'a>,
    ) -> Result<Vec<(Food, SearchPosition)>, InfraError>;

    async fn food(&self, id: FoodId) -> Result<Option<Food>, InfraError>;

    async fn food_by_barcode(&self, gtin: &Gtin) -> Result<Option<Food>, InfraError>;

    /// Stores a new food.
    ///
    /// # Errors
    /// [`CatalogError::BarcodeTaken`] when a food with its barcode exists.
    async fn insert(
        &self,
        id: FoodId,
        food: &AnalysedFood,
        created_by: Option<UserId>,
    ) -> Result<Food, CatalogError>;

    /// Replaces a food's fields if its version is still `expected_version`.
    ///
    /// # Errors
    /// [`CatalogError::FoodNotFound`], [`CatalogError::VersionMismatch`], [`CatalogError::BarcodeTaken`].
    async fn update(
        &self,
        id: FoodId,
        expected_version: i32,
        food: &AnalysedFood,
    ) -> Result<Food, CatalogError>;

    /// `false` when there was no such food.
    async fn delete(&self, id: FoodId) -> Result<bool, InfraError>;

    /// Inserts or updates foods by barcode (or by code when they have none), in one transaction.
    async fn upsert_batch(&self, foods: &[AnalysedFood]) -> Result<BatchOutcome, InfraError>;

    /// Up to `limit` foods analysed by another version of the analyser, by id after `after`.
    async fn stale_analyses(
        &self,
        current_version: u32,
        after: Option<FoodId>,
        limit: u16,
    ) -> Result<Vec<Food>, InfraError>;

    /// Stores fresh analyses (and their tags) of existing foods; foods deleted meanwhile are skipped.
    async fn store_analyses(&self, analyses: &[(FoodId, FoodAnalysis)]) -> Result<u64, InfraError>;
}
