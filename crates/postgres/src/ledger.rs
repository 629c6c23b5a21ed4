use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diningcoach_kernel::{InfraError, JobId, JobKind, JobLedger};

use crate::pool::checkout;
use crate::schema::processed_jobs;
use crate::{PgError, PgPool};

/// The processed-jobs table: lets non-idempotent handlers (mail) ignore a redelivered job.
#[derive(Clone)]
pub struct PgJobLedger {
    pool: PgPool,
}

impl PgJobLedger {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl JobLedger for PgJobLedger {
    async fn is_done(&self, job: JobId) -> Result<bool, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let found = diesel::select(diesel::dsl::exists(
            processed_jobs::table.find(job.as_uuid()),
        ))
        .get_result(&mut conn)
        .await
        .map_err(PgError::from)?;
        Ok(found)
    }

    async fn mark_done(&self, job: JobId, kind: JobKind) -> Result<(), InfraError> {
        let mut conn = checkout(&self.pool).await?;
        diesel::insert_into(processed_jobs::table)
            .values((
                processed_jobs::job_id.eq(job.as_uuid()),
                processed_jobs::kind.eq(kind.as_str()),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await
            .map_err(PgError::from)?;
        Ok(())
    }
}
