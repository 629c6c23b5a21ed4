//! The transactional outbox: jobs are rows written with the data that caused them, and a relay moves them to the
//! broker. A broker outage delays jobs; it never loses them, and it never fails the request that created them.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diningcoach_kernel::{Job, JobId, JobKind, JobPublisher};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::pool::checkout;
use crate::schema::outbox;
use crate::{PgError, PgPool};

#[derive(Insertable)]
#[diesel(table_name = outbox)]
struct NewOutboxRow<'a> {
    id: Uuid,
    kind: &'a str,
    version: i16,
    payload: &'a serde_json::Value,
    created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = outbox)]
struct PendingRow {
    id: Uuid,
    kind: String,
    version: i16,
    payload: serde_json::Value,
    created_at: DateTime<Utc>,
}

/// Adds jobs to the outbox on `conn`, inside the caller's transaction: the jobs exist exactly when the data does.
pub async fn insert_jobs(conn: &mut AsyncPgConnection, jobs: &[Job]) -> QueryResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewOutboxRow<'_>> = jobs
        .iter()
        .map(|job| NewOutboxRow {
            id: job.id.as_uuid(),
            kind: job.kind.as_str(),
            version: i16::try_from(job.version).unwrap_or(i16::MAX),
            payload: &job.payload,
            created_at: job.created_at,
        })
        .collect();
    diesel::insert_into(outbox::table)
        .values(&rows)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The outbox table as a whole: enqueueing outside a business transaction, relaying, and its backlog.
#[derive(Clone)]
pub struct PgOutbox {
    pool: PgPool,
}

impl PgOutbox {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Enqueues jobs on their own, for work that no other write causes (an operator's replay, a scheduled run).
    pub async fn enqueue(&self, jobs: &[Job]) -> Result<(), PgError> {
        let mut conn = checkout(&self.pool).await?;
        insert_jobs(&mut conn, jobs).await?;
        Ok(())
    }

    /// How many jobs wait for the broker, and the age of the oldest, in seconds.
    pub async fn backlog(&self) -> Result<(i64, f64), PgError> {
        let mut conn = checkout(&self.pool).await?;
        let (count, oldest): (i64, Option<DateTime<Utc>>) = outbox::table
            .filter(outbox::published_at.is_null())
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(outbox::created_at),
            ))
            .first(&mut conn)
            .await?;
        let age = oldest
            .map(|t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0);
        Ok((count, age.max(0.0)))
    }

    /// Publishes up to `limit` pending jobs, oldest first, and marks the confirmed ones published.
    ///
    /// Rows are locked with `FOR UPDATE SKIP LOCKED`, so several relays share the backlog without publishing a job
    /// twice. A job the broker does not confirm stays pending, with its error recorded, and ends the batch: the
    /// broker is probably down and the next jobs would fail the same way. Returns how many were published.
    pub async fn relay_batch(
        &self,
        publisher: &dyn JobPublisher,
        limit: i64,
    ) -> Result<RelayOutcome, PgError> {
        let mut conn = checkout(&self.pool).await?;
        conn.transaction(async |conn| {
            let rows: Vec<PendingRow> = outbox::table
                .filter(outbox::published_at.is_null())
                .order(outbox::id)
                .limit(limit)
                .select(PendingRow::as_select())
                .for_update()
                .skip_locked()
                .load(conn)
                .await?;
            let fetched = rows.len();
            let mut published = Vec::with_capacity(fetched);
            let mut failure = None;
            for row in rows {
                let id = row.id;
                let Some(job) = row.into_job() else {
                    // A kind this build does not know (written by a newer release during a rolling deploy): leave
                    // it for a relay that knows it.
                    continue;
                };
                match publisher.publish(&job).await {
                    Ok(()) => published.push(id),
                    Err(error) => {
                        diesel::update(outbox::table.find(id))
                            .set((
                                outbox::attempts.eq(outbox::attempts + 1),
                                outbox::last_error.eq(error.to_string()),
                            ))
                            .execute(conn)
                            .await?;
                        failure = Some(error.to_string());
                        break;
                    }
                }
            }
            if !published.is_empty() {
                diesel::update(outbox::table.filter(outbox::id.eq_any(&published)))
                    .set(outbox::published_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
            }
            Ok::<_, PgError>(RelayOutcome {
                fetched,
                published: published.len(),
                failure,
            })
        })
        .await
    }
}

impl PendingRow {
    fn into_job(self) -> Option<Job> {
        Some(Job {
            id: JobId::from_uuid(self.id),
            kind: JobKind::parse(&self.kind)?,
            version: u16::try_from(self.version).ok()?,
            created_at: self.created_at,
            payload: self.payload,
        })
    }
}

/// What one relay pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayOutcome {
    pub fetched: usize,
    pub published: usize,
    /// Why publishing stopped early, when it did.
    pub failure: Option<String>,
}

/// How the relay paces itself.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    pub batch_size: i64,
    /// How long an idle relay waits before looking again: the worst-case latency a job adds.
    pub idle_interval: Duration,
    /// The longest pause after failures (the broker or the database down); pauses double up to it.
    pub max_backoff: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            idle_interval: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Moves committed outbox rows to the broker until cancelled.
pub struct OutboxRelay {
    outbox: PgOutbox,
    publisher: Arc<dyn JobPublisher>,
    config: RelayConfig,
}

impl OutboxRelay {
    pub fn new(outbox: PgOutbox, publisher: Arc<dyn JobPublisher>, config: RelayConfig) -> Self {
        Self {
            outbox,
            publisher,
            config,
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = self.config.idle_interval;
        loop {
            let pause = match self
                .outbox
                .relay_batch(self.publisher.as_ref(), self.config.batch_size)
                .await
            {
                Ok(RelayOutcome {
                    failure: None,
                    fetched,
                    published,
                }) => {
                    backoff = self.config.idle_interval;
                    if published > 0 {
                        tracing::debug!(published, "relayed outbox jobs");
                    }
                    // A full batch means more are waiting: go straight on.
                    if fetched as i64 >= self.config.batch_size {
                        Duration::ZERO
                    } else {
                        self.config.idle_interval
                    }
                }
                Ok(RelayOutcome {
                    failure: Some(reason),
                    published,
                    ..
                }) => {
                    tracing::warn!(published, %reason, "the broker did not take outbox jobs; will retry");
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    backoff
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the outbox; will retry");
                    backoff = (backoff * 2).min(self.config.max_backoff);
                    backoff
                }
            };
            if pause.is_zero() {
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}
