//! The adapter's one error type.

use thiserror::Error;

/// What went wrong talking to RabbitMQ. Callers mostly care whether to try again later (`NotConnected`,
/// `Timeout`, `Amqp`) or whether something is wrong with the setup or the message (`InvalidConfig`, `Refused`).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RabbitError {
    #[error("invalid RabbitMQ configuration: {0}")]
    InvalidConfig(String),
    /// The supervisor has no open connection right now (the broker is down or we are reconnecting).
    #[error("not connected to RabbitMQ")]
    NotConnected,
    #[error("RabbitMQ did not answer {operation} in time")]
    Timeout { operation: &'static str },
    #[error("RabbitMQ failed {operation}: {source}")]
    Amqp {
        operation: &'static str,
        #[source]
        source: lapin::Error,
    },
    /// The broker would not route the message to any queue (or it could not be encoded): retrying will not help.
    #[error("RabbitMQ refused the message: {0}")]
    Refused(String),
    /// The broker negatively confirmed the message (an internal problem, e.g. a queue without quorum): it does not
    /// hold it, but may later.
    #[error("RabbitMQ did not take the message: {0}")]
    Nacked(String),
    /// The adapter was shut down; nothing more can be done with it.
    #[error("the RabbitMQ adapter is shut down")]
    ShutDown,
}

impl RabbitError {
    pub(crate) fn amqp(operation: &'static str) -> impl FnOnce(lapin::Error) -> Self {
        move |source| Self::Amqp { operation, source }
    }

    /// True when the failure is the broker's absence rather than the message's fault: worth retrying later.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::NotConnected
                | Self::Timeout { .. }
                | Self::Amqp { .. }
                | Self::Nacked(_)
                | Self::ShutDown
        )
    }
}

/// Runs a broker operation with a deadline, so that a half-open connection cannot hang a caller.
pub(crate) async fn bounded<T>(
    limit: std::time::Duration,
    operation: &'static str,
    future: impl std::future::Future<Output = lapin::Result<T>>,
) -> Result<T, RabbitError> {
    match tokio::time::timeout(limit, future).await {
        Ok(result) => result.map_err(RabbitError::amqp(operation)),
        Err(_) => Err(RabbitError::Timeout { operation }),
    }
}
