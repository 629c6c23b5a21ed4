use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diningcoach_kernel::InfraError;
use thiserror::Error;

/// What went wrong talking to PostgreSQL.
#[derive(Debug, Error)]
pub enum PgError {
    #[error("no database connection became free in time")]
    PoolTimeout,
    #[error("cannot connect to PostgreSQL: {0}")]
    Connection(String),
    #[error(transparent)]
    Query(#[from] DieselError),
    #[error("migrations failed: {0}")]
    Migration(String),
}

impl PgError {
    /// True when the database is down or saturated rather than the query being wrong: worth a 503 and a retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            PgError::PoolTimeout
                | PgError::Connection(_)
                | PgError::Query(
                    DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
                        | DieselError::BrokenTransactionManager
                )
        )
    }
}

impl From<PgError> for InfraError {
    fn from(error: PgError) -> Self {
        if error.is_unavailable() {
            InfraError::Unavailable {
                dependency: "postgresql",
                reason: error.to_string(),
            }
        } else {
            InfraError::Fault(error.to_string())
        }
    }
}
