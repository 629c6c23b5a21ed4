use thiserror::Error;

/// Why a value at the edge could not become one of the kernel's types.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KernelError {
    #[error("not a valid email address: {reason}")]
    InvalidEmail { reason: &'static str },
    #[error("limit must be between 1 and {max}, got {got}")]
    InvalidLimit { got: i64, max: u16 },
    #[error("the cursor is malformed or was not issued by this server")]
    InvalidCursor,
    #[error("not a valid id: {0}")]
    InvalidId(String),
}

/// A failure of the infrastructure under a port, as the domains see it. Adapters sort their errors into these two
/// because the answer differs: an outage is a 503 the client may retry, a fault is a 500 someone must look at.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InfraError {
    /// A dependency is down or saturated (no pooled connection in time, server unreachable).
    #[error("{dependency} is unavailable: {reason}")]
    Unavailable {
        dependency: &'static str,
        reason: String,
    },
    /// Anything else that went wrong below the port.
    #[error("{0}")]
    Fault(String),
}
