//! Catalog imports on PostgreSQL: the `catalog_imports` rows, their outbox job, and batches of foods committed
//! together with the import's progress, so that a run that dies resumes after its last committed batch; or,
//! into an empty catalog, a first load in one transaction with the search indexes built at its end.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Text, Timestamptz};
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
    TransactionManager,
};
use diningcoach_catalog::{
    AnalysedFood, BatchOutcome, CatalogError, CatalogImport, Claim, Creation, FirstLoad,
    ImportFormat, ImportId, ImportJobs, ImportProgress, ImportReport, ImportStatus, NewImport,
};
use diningcoach_kernel::{InfraError, Job, UserId};
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::foods::{LoadBatch, upsert_foods};
use crate::outbox::insert_jobs;
use crate::pool::{PgConnection, checkout, checkout_owned};
use crate::schema::{catalog_imports, foods};
use crate::{PgError, PgPool};

/// Implements [`ImportJobs`].
#[derive(Clone)]
pub struct PgCatalogImports {
    pool: PgPool,
}

impl PgCatalogImports {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = catalog_imports)]
#[diesel(check_for_backend(diesel::pg::Pg))]
struct ImportRow {
    id: Uuid,
    requested_by: Option<Uuid>,
    format: String,
    file_name: String,
    file_path: String,
    file_bytes: i64,
    request_hash: Option<String>,
    status: String,
    rows_committed: i64,
    bytes_committed: i64,
    report: serde_json::Value,
    failure: Option<String>,
    attempts: i32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl ImportRow {
    fn into_import(self) -> Result<CatalogImport, InfraError> {
        let corrupt =
            |what: &str| InfraError::Fault(format!("import {}: stored {what} is invalid", self.id));
        let format = self
            .format
            .parse::<ImportFormat>()
            .map_err(|_| corrupt("format"))?;
        let status = ImportStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?;
        // A report from an older shape, or the column's default, reads as an empty report rather than failing
        // the status page.
        let report = serde_json::from_value::<ImportReport>(self.report).unwrap_or_default();
        Ok(CatalogImport {
            id: ImportId::from_uuid(self.id),
            requested_by: self.requested_by.map(UserId::from_uuid),
            format,
            file_name: self.file_name,
            file_path: self.file_path,
            file_bytes: to_u64(self.file_bytes),
            status,
            rows_committed: to_u64(self.rows_committed),
            bytes_committed: to_u64(self.bytes_committed),
            report,
            failure: self.failure,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
            updated_at: self.updated_at,
        })
    }
}

fn infra(error: impl Into<PgError>) -> InfraError {
    InfraError::from(error.into())
}

fn report_json(report: &ImportReport) -> Result<serde_json::Value, InfraError> {
    serde_json::to_value(report).map_err(|error| {
        InfraError::Fault(format!("the import report does not serialise: {error}"))
    })
}

/// The row of run `attempt` while it still owns the import.
macro_rules! owned_by {
    ($id:expr, $attempt:expr) => {
        catalog_imports::table
            .filter(catalog_imports::id.eq($id.as_uuid()))
            .filter(catalog_imports::status.eq(ImportStatus::Running.as_str()))
            .filter(catalog_imports::attempts.eq(i32::try_from($attempt).unwrap_or(i32::MAX)))
    };
}

#[async_trait]
impl ImportJobs for PgCatalogImports {
    async fn create(&self, import: &NewImport, job: Option<Job>) -> Result<Creation, CatalogError> {
        let report = report_json(&ImportReport::default())?;
        let mut conn = checkout(&self.pool).await.map_err(infra)?;
        let inserted = conn
            .transaction(async |conn| {
                let row: ImportRow = diesel::insert_into(catalog_imports::table)
                    .values((
                        catalog_imports::id.eq(import.id.as_uuid()),
                        catalog_imports::requested_by.eq(import.requested_by.map(|u| u.as_uuid())),
                        catalog_imports::format.eq(import.format.as_str()),
                        catalog_imports::file_name.eq(&import.file_name),
                        catalog_imports::file_path.eq(&import.file_path),
                        catalog_imports::file_bytes.eq(to_i64(import.file_bytes)),
                        catalog_imports::idempotency_key
                            .eq(import.idempotency.as_ref().map(|i| i.key.as_str())),
                        catalog_imports::request_hash
                            .eq(import.idempotency.as_ref().map(|i| i.request_hash.as_str())),
                        catalog_imports::report.eq(&report),
                    ))
                    .returning(ImportRow::as_returning())
                    .get_result(conn)
                    .await?;
                if let Some(job) = &job {
                    insert_jobs(conn, std::slice::from_ref(job)).await?;
                }
                Ok::<_, DieselError>(row)
            })
            .await;
        match (inserted, &import.idempotency) {
            (Ok(row), _) => Ok(Creation::Created(row.into_import()?)),
            // The key was used before (or concurrently, by a request that committed first): answer with that
            // import if the request was the same.
            (
                Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)),
                Some(idempotency),
            ) => {
                let existing: Option<ImportRow> = catalog_imports::table
                    .filter(
                        catalog_imports::requested_by.eq(import.requested_by.map(|u| u.as_uuid())),
                    )
                    .filter(catalog_imports::idempotency_key.eq(&idempotency.key))
                    .select(ImportRow::as_select())
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(infra)?;
                match existing {
                    Some(row) if row.request_hash.as_deref() == Some(&idempotency.request_hash) => {
                        Ok(Creation::Replayed(row.into_import()?))
                    }
                    Some(_) => Err(CatalogError::IdempotencyKeyReused),
                    None => Err(CatalogError::Infra(InfraError::Fault(
                        "an idempotency conflict with an import that does not exist".into(),
                    ))),
                }
            }
            (Err(error), _) => Err(CatalogError::Infra(infra(error))),
        }
    }

    async fn find(&self, id: ImportId) -> Result<Option<CatalogImport>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let row: Option<ImportRow> = catalog_imports::table
            .find(id.as_uuid())
            .select(ImportRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        row.map(ImportRow::into_import).transpose()
    }

    async fn claim(&self, id: ImportId, stale_after: Duration) -> Result<Claim, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        // Times are the database's, so that hosts with skewed clocks agree on what is stale.
        let claimable = catalog_imports::status
            .eq(ImportStatus::Queued.as_str())
            .or(catalog_imports::status
                .eq(ImportStatus::Running.as_str())
                .and(
                    sql::<Bool>("updated_at < now() - make_interval(secs => ")
                        .bind::<Double, _>(stale_after.as_secs_f64())
                        .sql(")"),
                ));
        let claimed: Option<ImportRow> = diesel::update(
            catalog_imports::table
                .filter(catalog_imports::id.eq(id.as_uuid()))
                .filter(claimable),
        )
        .set((
            catalog_imports::status.eq(ImportStatus::Running.as_str()),
            catalog_imports::attempts.eq(catalog_imports::attempts + 1),
            catalog_imports::started_at
                .eq(sql::<Nullable<Timestamptz>>("coalesce(started_at, now())")),
            catalog_imports::updated_at.eq(diesel::dsl::now),
        ))
        .returning(ImportRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional()
        .map_err(infra)?;
        if let Some(row) = claimed {
            return Ok(Claim::Claimed(row.into_import()?));
        }
        let current: Option<ImportRow> = catalog_imports::table
            .find(id.as_uuid())
            .select(ImportRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(infra)?;
        Ok(match current {
            None => Claim::Missing,
            Some(row) => {
                let import = row.into_import()?;
                if import.status.is_final() {
                    Claim::Finished(import)
                } else {
                    Claim::Busy
                }
            }
        })
    }

    async fn commit_batch(
        &self,
        id: ImportId,
        attempt: u32,
        foods: &[AnalysedFood],
        progress: &ImportProgress,
    ) -> Result<Option<BatchOutcome>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let mut report = progress.report.clone();
        conn.transaction(async |conn| {
            // Lock the row first: a concurrent claim waits for this batch, and a lost claim writes nothing.
            let owned: Option<Uuid> = owned_by!(id, attempt)
                .select(catalog_imports::id)
                .for_update()
                .first(conn)
                .await
                .optional()?;
            if owned.is_none() {
                return Ok(None);
            }
            let outcome = upsert_foods(conn, foods).await?;
            report.record_written(outcome.inserted, outcome.updated);
            let report = serde_json::to_value(&report)
                .map_err(|e| DieselError::SerializationError(Box::new(e)))?;
            diesel::update(owned_by!(id, attempt))
                .set((
                    catalog_imports::rows_committed.eq(to_i64(progress.rows)),
                    catalog_imports::bytes_committed.eq(to_i64(progress.bytes)),
                    catalog_imports::report.eq(report),
                    catalog_imports::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            Ok::<_, DieselError>(Some(outcome))
        })
        .await
        .map_err(infra)
    }

    async fn finish(
        &self,
        id: ImportId,
        attempt: u32,
        progress: &ImportProgress,
        failure: Option<String>,
    ) -> Result<bool, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        end_run(&mut conn, id, attempt, progress, failure).await
    }

    async fn first_load(
        &self,
        id: ImportId,
        attempt: u32,
    ) -> Result<Option<Box<dyn FirstLoad>>, InfraError> {
        let load = PgFirstLoad::begin(&self.pool, id, attempt).await?;
        Ok(load.map(|load| Box::new(load) as Box<dyn FirstLoad>))
    }

    async fn keep_alive(&self, id: ImportId, attempt: u32, bytes: u64) -> Result<bool, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let updated = diesel::update(owned_by!(id, attempt))
            .set((
                catalog_imports::bytes_committed.eq(to_i64(bytes)),
                catalog_imports::updated_at.eq(diesel::dsl::now),
            ))
            .execute(&mut conn)
            .await
            .map_err(infra)?;
        Ok(updated > 0)
    }
}

/// Ends run `attempt` (see [`ImportJobs::finish`]); `false` when the run no longer owns the import.
async fn end_run(
    conn: &mut AsyncPgConnection,
    id: ImportId,
    attempt: u32,
    progress: &ImportProgress,
    failure: Option<String>,
) -> Result<bool, InfraError> {
    let report = report_json(&progress.report)?;
    let status = if failure.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Done
    };
    let updated = diesel::update(owned_by!(id, attempt))
        .set((
            catalog_imports::status.eq(status.as_str()),
            catalog_imports::failure.eq(failure),
            catalog_imports::rows_committed.eq(to_i64(progress.rows)),
            catalog_imports::bytes_committed.eq(to_i64(progress.bytes)),
            catalog_imports::report.eq(report),
            catalog_imports::finished_at.eq(sql::<Nullable<Timestamptz>>("now()")),
            catalog_imports::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await
        .map_err(infra)?;
    Ok(updated > 0)
}

/// What a first load takes away and puts back, in the order they are put back: the catalog's unique indexes
/// but for primary keys (so that a natural key written twice is found first, see [`settle_natural_keys`]),
/// its other indexes, then the word-start table's keys. Read from the catalog so that the migrations stay the
/// only place they are defined. Primary keys stay: ids come in order, so keeping them up is cheap, and the
/// vocabulary's inserts find conflicts through its own.
const DEFERRED_STRUCTURES: &str = "\
    SELECT take_away, put_back, is_unique FROM ( \
        SELECT 1 AS step, i.indexrelid::regclass::text AS name, i.indisunique AS is_unique, \
               format('DROP INDEX %s', i.indexrelid::regclass) AS take_away, \
               pg_get_indexdef(i.indexrelid) AS put_back \
        FROM pg_index AS i \
        WHERE i.indrelid IN ('foods'::regclass, 'food_words'::regclass, 'search_words'::regclass) \
          AND NOT i.indisprimary \
        UNION ALL \
        SELECT 2, c.conname, false, format('ALTER TABLE food_words DROP CONSTRAINT %I', c.conname), \
               format('ALTER TABLE food_words ADD CONSTRAINT %I %s', c.conname, pg_get_constraintdef(c.oid)) \
        FROM pg_constraint AS c \
        WHERE c.conrelid = 'food_words'::regclass AND c.contype IN ('p', 'f') \
    ) AS deferred ORDER BY step, NOT is_unique, name";

/// Of the foods of a first load that share a natural key, removes all but the last written (ids grow in the
/// order foods are written, as each batch's do), with their word starts; answers how many it removed.
const SETTLE_NATURAL_KEYS: &str = "\
    WITH replaced AS ( \
        DELETE FROM foods AS f USING foods AS later \
        WHERE later.natural_key = f.natural_key AND later.id > f.id RETURNING f.id \
    ), words AS ( \
        DELETE FROM food_words AS w USING replaced WHERE w.food_id = replaced.id \
    ) SELECT count(*) AS n FROM replaced";

/// The triggers that keep the word starts and the vocabulary up to date as foods are inserted, which a first
/// load replaces ([`LoadBatch`]), as `ALTER TABLE foods` subcommands: `DISABLE` or `ENABLE` them. Disabling
/// a trigger is transactional: a load that does not commit leaves them enabled.
fn triggers_on_insert(action: &str) -> String {
    ["foods_words_on_insert", "foods_vocabulary_on_insert"]
        .map(|trigger| format!("{action} TRIGGER {trigger}"))
        .join(", ")
}

/// An index or a key that a first load builds once at its end.
#[derive(QueryableByName)]
struct Deferred {
    #[diesel(sql_type = Text)]
    take_away: String,
    #[diesel(sql_type = Text)]
    put_back: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Builds a unique index of a first load's foods. A natural key written twice (a barcode repeated in a later
/// batch, which an upsert would have turned into an update) fails the build; the load then keeps the later
/// food ([`SETTLE_NATURAL_KEYS`]) and builds the index again. Answers how many foods were replaced: nothing
/// is spent looking for them in a load without any.
async fn settle_natural_keys(
    conn: &mut AsyncPgConnection,
    unique_index: &str,
) -> Result<u64, DieselError> {
    // A savepoint: the failed build must not abort the load's transaction.
    let built = conn
        .transaction(async |conn| conn.batch_execute(unique_index).await)
        .await;
    match built {
        Ok(()) => Ok(0),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            let replaced: Count = diesel::sql_query(SETTLE_NATURAL_KEYS)
                .get_result(conn)
                .await?;
            conn.batch_execute(unique_index).await?;
            Ok(to_u64(replaced.n))
        }
        Err(error) => Err(error),
    }
}

/// Implements [`FirstLoad`] on one connection holding one transaction from `begin` to `finish`.
///
/// Built once over the whole file, a b-tree is sorted rather than grown row by row, and a GIN index is built
/// from sorted entries: a 100,000-food load spends half the database time of batches that keep every index and
/// the word-start table up to date (docs/benchmarks.md). The word starts and the vocabulary of inserted foods are
/// written batch by batch by the load itself ([`LoadBatch`]), into tables without their keys: the triggers that
/// otherwise do it are disabled until the end of the load, since computing word starts in SQL took more of
/// PostgreSQL's time than writing the foods. A batch is written by a task of its own while the next one is
/// prepared: PostgreSQL waited on the importer a third of the time when the two took turns.
struct PgFirstLoad {
    conn: LoadConnection,
    id: ImportId,
    attempt: u32,
    deferred: Vec<Deferred>,
}

/// Where a first load's connection is.
enum LoadConnection {
    /// Waiting for the next batch.
    Idle(Box<PgConnection<'static>>),
    /// With the task writing a batch, which hands it back.
    Writing(JoinHandle<(PgConnection<'static>, Result<(), DieselError>)>),
    /// The load has ended, its connection back in the pool; or a batch failed, and its connection went back in
    /// the load's transaction, which the pool discards (rolled back).
    Ended,
}

impl PgFirstLoad {
    /// Locks the catalog and, when it holds no food, takes its search structures away for the load.
    async fn begin(pool: &PgPool, id: ImportId, attempt: u32) -> Result<Option<Self>, InfraError> {
        let mut conn = checkout_owned(pool).await?;
        AnsiTransactionManager::begin_transaction(&mut *conn)
            .await
            .map_err(infra)?;
        // Readers wait until the load commits; a writer in between would see a catalog without its indexes.
        conn.batch_execute("LOCK TABLE foods, food_words, search_words IN ACCESS EXCLUSIVE MODE")
            .await
            .map_err(infra)?;
        let empty: bool = diesel::select(diesel::dsl::not(diesel::dsl::exists(
            foods::table.select(foods::id),
        )))
        .get_result(&mut *conn)
        .await
        .map_err(infra)?;
        if !empty {
            AnsiTransactionManager::rollback_transaction(&mut *conn)
                .await
                .map_err(infra)?;
            return Ok(None);
        }
        let deferred: Vec<Deferred> = diesel::sql_query(DEFERRED_STRUCTURES)
            .load(&mut *conn)
            .await
            .map_err(infra)?;
        for structure in &deferred {
            conn.batch_execute(&structure.take_away)
                .await
                .map_err(infra)?;
        }
        conn.batch_execute(&format!(
            "ALTER TABLE foods {}",
            triggers_on_insert("DISABLE")
        ))
        .await
        .map_err(infra)?;
        Ok(Some(Self {
            conn: LoadConnection::Idle(Box::new(conn)),
            id,
            attempt,
            deferred,
        }))
    }

    /// The connection, once the batch being written (if any) is: its error is the load's.
    async fn idle(&mut self) -> Result<PgConnection<'static>, InfraError> {
        match std::mem::replace(&mut self.conn, LoadConnection::Ended) {
            LoadConnection::Idle(conn) => Ok(*conn),
            LoadConnection::Writing(task) => {
                let (conn, written) = task.await.map_err(|error| {
                    InfraError::Fault(format!("a first load's batch was not written: {error}"))
                })?;
                written.map_err(infra)?;
                Ok(conn)
            }
            LoadConnection::Ended => Err(InfraError::Fault(
                "a first load was used after its end".into(),
            )),
        }
    }

    async fn put_back_and_end(
        conn: &mut AsyncPgConnection,
        deferred: &[Deferred],
        id: ImportId,
        attempt: u32,
        progress: &ImportProgress,
        failure: Option<String>,
    ) -> Result<bool, InfraError> {
        // Index builds sort in memory up to this much (for this transaction only; the default is 64 MB).
        conn.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")
            .await
            .map_err(infra)?;
        let mut replaced = 0;
        for structure in deferred {
            if structure.is_unique {
                replaced += settle_natural_keys(conn, &structure.put_back)
                    .await
                    .map_err(infra)?;
            } else {
                conn.batch_execute(&structure.put_back)
                    .await
                    .map_err(infra)?;
            }
        }
        conn.batch_execute(&format!(
            "ALTER TABLE foods {}",
            triggers_on_insert("ENABLE")
        ))
        .await
        .map_err(infra)?;
        // The planner's statistics, at once rather than when autovacuum gets to the new rows.
        conn.batch_execute("ANALYZE foods, food_words, search_words")
            .await
            .map_err(infra)?;
        let mut progress = progress.clone();
        progress.report.record_replaced(replaced);
        end_run(conn, id, attempt, &progress, failure).await
    }
}

#[async_trait]
impl FirstLoad for PgFirstLoad {
    async fn write(&mut self, foods: &[AnalysedFood]) -> Result<BatchOutcome, InfraError> {
        let batch = LoadBatch::of(foods);
        let mut conn = self.idle().await?;
        self.conn = LoadConnection::Writing(tokio::spawn(async move {
            let written = batch.write(&mut conn).await;
            (conn, written)
        }));
        Ok(BatchOutcome {
            inserted: foods.len() as u64,
            updated: 0,
        })
    }

    async fn finish(
        &mut self,
        progress: &ImportProgress,
        failure: Option<String>,
    ) -> Result<bool, InfraError> {
        let (id, attempt) = (self.id, self.attempt);
        let mut conn = self.idle().await?;
        let owned =
            Self::put_back_and_end(&mut conn, &self.deferred, id, attempt, progress, failure).await;
        // On an error the connection goes back with its transaction open and is discarded (rolled back).
        if owned? {
            AnsiTransactionManager::commit_transaction(&mut *conn)
                .await
                .map_err(infra)?;
            Ok(true)
        } else {
            AnsiTransactionManager::rollback_transaction(&mut *conn)
                .await
                .map_err(infra)?;
            Ok(false)
        }
    }
}
