//! The catalog's view of a health profile: what the dietary engine needs to judge food for a user.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diningcoach_catalog::ports::DietProfiles;
use diningcoach_dietary::{DietProfileInput, DietSelection};
use diningcoach_kernel::{InfraError, UserId};

use crate::identity::diets_from_json;
use crate::pool::checkout;
use crate::schema::{health_profiles, users};
use crate::{PgError, PgPool};

#[derive(Clone)]
pub struct PgDietProfiles {
    pool: PgPool,
}

impl PgDietProfiles {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl DietProfiles for PgDietProfiles {
    async fn diet_profile(&self, user: UserId) -> Result<Option<DietProfileInput>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        type Row = (
            Vec<Option<String>>,
            serde_json::Value,
            Vec<Option<String>>,
            bool,
        );
        let row: Option<Row> = health_profiles::table
            .find(user.as_uuid())
            .select((
                health_profiles::conditions,
                health_profiles::diets,
                health_profiles::allergens,
                health_profiles::pregnant,
            ))
            .first(&mut conn)
            .await
            .optional()
            .map_err(PgError::from)?;
        Ok(row.map(
            |(conditions, diets, allergens, pregnant)| DietProfileInput {
                conditions: conditions.into_iter().flatten().collect(),
                diets: diets_from_json(diets)
                    .into_iter()
                    .map(|d| DietSelection {
                        code: d.code,
                        params: d.params,
                    })
                    .collect(),
                allergens: allergens.into_iter().flatten().collect(),
                pregnant,
            },
        ))
    }

    async fn email_verified(&self, user: UserId) -> Result<bool, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let verified: Option<bool> = users::table
            .find(user.as_uuid())
            .select(users::email_verified_at.is_not_null())
            .first(&mut conn)
            .await
            .optional()
            .map_err(PgError::from)?;
        Ok(verified.unwrap_or(false))
    }
}
