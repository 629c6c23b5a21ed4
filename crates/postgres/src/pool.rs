use std::time::Duration;

use bb8::RunError;
use diesel::ConnectionResult;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

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

/// Opens a connection with the session settings every statement of the project is written for.
///
/// Prepared statements use their generic plan from the first execution: every statement kept prepared is
/// written so that its plan does not depend on its values (ranges rather than `LIKE 'q%'`, see `food_search`),
/// and left to itself PostgreSQL kept re-planning the catalog search at every execution (1.4 ms of planning
/// for 1 ms of work). The few statements whose best plan does depend on their values set
/// `plan_cache_mode = force_custom_plan` for their own transaction.
///
/// No parallel workers: the services run many small statements at once on few cores, where starting a worker
/// costs more than it saves (a generic plan of the search used one: 10 ms instead of 0.5 ms).
async fn establish(url: String) -> ConnectionResult<AsyncPgConnection> {
    let mut conn = AsyncPgConnection::establish(&url).await?;
    conn.batch_execute(
        "SET plan_cache_mode = force_generic_plan; SET max_parallel_workers_per_gather = 0",
    )
    .await
    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// Builds the pool without connecting: the service starts (and reports itself unready) while PostgreSQL is down,
/// and connections are made on demand. Broken connections are dropped at check-in, so the pool heals by itself
/// after a database restart.
pub fn connect(config: &PgConfig) -> PgPool {
    let mut setup = ManagerConfig::default();
    setup.custom_setup = Box::new(|url| Box::pin(establish(url.to_owned())));
    // A checkout costs no round trip (a `SELECT 1` before every request was a third of a barcode scan's time):
    // a connection the server dropped while it was idle fails one request and is discarded at check-in.
    setup.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        config.url.clone(),
        setup,
    );
    bb8::Pool::builder()
        .max_size(config.max_connections)
        .min_idle(Some(0))
        .connection_timeout(config.checkout_timeout)
        .idle_timeout(Some(config.idle_timeout))
        .retry_connection(false)
        .build_unchecked(manager)
}

pub(crate) async fn checkout(pool: &PgPool) -> Result<PgConnection<'_>, PgError> {
    pool.get().await.map_err(checkout_error)
}

/// A connection that may outlive the borrow of the pool (one held across several port calls). Returned with a
/// transaction still open, it is discarded, not reused: the server then rolls the transaction back.
pub(crate) async fn checkout_owned(pool: &PgPool) -> Result<PgConnection<'static>, PgError> {
    pool.get_owned().await.map_err(checkout_error)
}

fn checkout_error(error: RunError<PoolError>) -> PgError {
    match error {
        RunError::TimedOut => PgError::PoolTimeout,
        RunError::User(PoolError::ConnectionError(e)) => PgError::Connection(e.to_string()),
        RunError::User(PoolError::QueryError(e)) => PgError::Query(e),
    }
}
