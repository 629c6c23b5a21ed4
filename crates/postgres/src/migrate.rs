use diesel::sql_types::BigInt;
use diesel::{RunQueryDsl, sql_query};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::PgError;

/// The migrations of `migrations/`, compiled into every binary that needs them.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Changes whenever a migration file changes; names the test template database.
pub const MIGRATIONS_FINGERPRINT: &str = env!("MIGRATIONS_FINGERPRINT");

/// Serialises migrations across processes: several API instances starting together take turns, and the later
/// ones find nothing pending.
const MIGRATION_LOCK_KEY: i64 = 0x4469_6e69_6e67_0001;

/// Applies pending migrations under a PostgreSQL advisory lock; returns the versions it applied.
pub async fn run_migrations(database_url: &str) -> Result<Vec<String>, PgError> {
    let url = database_url.to_owned();
    // diesel's migration harness is synchronous; the wrapper drives the async connection from a blocking thread.
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .map_err(|e| PgError::Connection(e.to_string()))?;
        sql_query("SELECT pg_advisory_lock($1)")
            .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
            .execute(&mut conn)?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| PgError::Migration(e.to_string()));
        // Closing the connection releases the lock anyway; unlocking first frees waiters sooner.
        let _ = sql_query("SELECT pg_advisory_unlock($1)")
            .bind::<BigInt, _>(MIGRATION_LOCK_KEY)
            .execute(&mut conn);
        applied
    })
    .await
    .map_err(|e| PgError::Migration(format!("the migration thread failed: {e}")))?
}
