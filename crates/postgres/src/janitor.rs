use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diningcoach_kernel::InfraError;
use diningcoach_kernel::schedule::PeriodicTask;

use crate::pool::checkout;
use crate::schema::{outbox, processed_jobs, scheduled_runs};
use crate::{PgError, PgPool};

/// Keeps the job bookkeeping tables small: published outbox rows after a week, processed-job records after 30 days
/// (far beyond the longest retry, so a late redelivery is still recognised), schedule rows after 90 days.
pub struct OutboxJanitor {
    pool: PgPool,
}

impl OutboxJanitor {
    pub const PUBLISHED_RETENTION: TimeDelta = TimeDelta::days(7);
    pub const PROCESSED_RETENTION: TimeDelta = TimeDelta::days(30);
    pub const SCHEDULE_RETENTION: TimeDelta = TimeDelta::days(90);

    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl PeriodicTask for OutboxJanitor {
    fn name(&self) -> &'static str {
        "outbox-janitor"
    }

    fn period(&self) -> Duration {
        Duration::from_secs(3600)
    }

    async fn run(&self, now: DateTime<Utc>) -> Result<String, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let published = diesel::delete(
            outbox::table.filter(outbox::published_at.lt(now - Self::PUBLISHED_RETENTION)),
        )
        .execute(&mut conn)
        .await
        .map_err(PgError::from)?;
        let processed = diesel::delete(
            processed_jobs::table
                .filter(processed_jobs::processed_at.lt(now - Self::PROCESSED_RETENTION)),
        )
        .execute(&mut conn)
        .await
        .map_err(PgError::from)?;
        let runs = diesel::delete(
            scheduled_runs::table
                .filter(scheduled_runs::period_start.lt(now - Self::SCHEDULE_RETENTION)),
        )
        .execute(&mut conn)
        .await
        .map_err(PgError::from)?;
        Ok(format!(
            "deleted {published} published jobs, {processed} processed-job records, {runs} schedule rows"
        ))
    }
}
