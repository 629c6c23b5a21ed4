use std::time::Duration;

use bb8::RunError;
use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};

use crate::PgError;

pub type PgPool = bb8::Pool<AsyncDieselConnectionManager<AsyncPgConnection>>;
pub(crate) type PgConnection<'a> =
    bb8::PooledConnection<'a, AsyncDieselConnectionManager<AsyncPgConnection>>;

/// Pool settings. The defaults suit a 2-core machine where PostgreSQL shares the CPU with the service.
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a request waits for a free connection before it is answered 503 instead of hanging.
    pub checkout_timeout: Duration,
    /// Connections idle longer than this are closed, so a quiet service holds few.
    pub idle_timeout: Duration,
}

impl PgConfig {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 16,
            checkout_timeout: Duration::from_secs(3),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

/// Builds the pool without connecting: the service starts (and reports itself unready) while PostgreSQL is down,
/// and connections are made on demand. Broken connections are dropped at check-in, so the pool heals by itself
/// after a database restart.
pub fn connect(config: &PgConfig) -> PgPool {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(config.url.clone());
    bb8::Pool::builder()
        .max_size(config.max_connections)
        .min_idle(Some(0))
        .connection_timeout(config.checkout_timeout)
        .idle_timeout(Some(config.idle_timeout))
        .retry_connection(false)
        .build_unchecked(manager)
}

pub(crate) async fn checkout(pool: &PgPool) -> Result<PgConnection<'_>, PgError> {
    pool.get().await.map_err(|error| match error {
        RunError::TimedOut => PgError::PoolTimeout,
        RunError::User(PoolError::ConnectionError(e)) => PgError::Connection(e.to_string()),
        RunError::User(PoolError::QueryError(e)) => PgError::Query(e),
    })
}
