//! The job contract shared by the domains that create work, the outbox that stores it, the broker that carries it
//! and the worker that does it.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{InfraError, JobId};

/// What a job does. Each kind has its own queue, so a flood of imports never delays a confirmation mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobKind {
    #[serde(rename = "email.send")]
    SendEmail,
    #[serde(rename = "diary.rollup")]
    DiaryRollup,
    #[serde(rename = "catalog.import")]
    CatalogImport,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [
        JobKind::SendEmail,
        JobKind::DiaryRollup,
        JobKind::CatalogImport,
    ];

    /// The stable name used as routing key and in the outbox.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::SendEmail => "email.send",
            JobKind::DiaryRollup => "diary.rollup",
            JobKind::CatalogImport => "catalog.import",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payload type knows its kind and the version of its shape, so producers and consumers cannot disagree silently.
pub trait JobPayload: Serialize + DeserializeOwned {
    const KIND: JobKind;
    /// Bumped when the payload's shape changes incompatibly; a consumer refuses versions it does not know.
    const VERSION: u16;
}

/// A unit of background work, as stored in the outbox and carried on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub version: u16,
    pub created_at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

impl Job {
    pub fn new<P: JobPayload>(payload: &P, created_at: DateTime<Utc>) -> Result<Self, JobFailure> {
        let payload = serde_json::to_value(payload)
            .map_err(|e| JobFailure::permanent(format!("payload does not serialise: {e}")))?;
        Ok(Self {
            id: JobId::generate(),
            kind: P::KIND,
            version: P::VERSION,
            created_at,
            payload,
        })
    }

    /// The typed payload; a job of another kind or an unknown version is a permanent failure, never a retry.
    pub fn payload<P: JobPayload>(&self) -> Result<P, JobFailure> {
        if self.kind != P::KIND {
            return Err(JobFailure::permanent(format!(
                "job {} is a {} job, not {}",
                self.id,
                self.kind,
                P::KIND
            )));
        }
        if self.version != P::VERSION {
            return Err(JobFailure::permanent(format!(
                "job {} has payload version {}, this worker understands {}",
                self.id,
                self.version,
                P::VERSION
            )));
        }
        P::deserialize(&self.payload).map_err(|e| {
            JobFailure::permanent(format!("job {} has a malformed payload: {e}", self.id))
        })
    }
}

/// Why a job did not complete, which decides what happens to it next.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JobFailure {
    /// Worth trying again later (a server down, a timeout): retried with growing delays, then parked.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Will never succeed (a malformed payload, a rejected address): parked at once for an operator.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl JobFailure {
    pub fn retryable(reason: impl Into<String>) -> Self {
        Self::Retryable(reason.into())
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent(reason.into())
    }
}

/// Does one kind of job. Handlers must be idempotent: a job may be delivered more than once.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait JobHandler: Send + Sync {
    async fn handle(&self, job: &Job) -> Result<(), JobFailure>;
}

/// Why the broker did not take a job.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PublishError {
    #[error("the broker is unavailable: {0}")]
    Unavailable(String),
    #[error("the broker refused the message: {0}")]
    Refused(String),
}

/// Hands jobs to the broker. Returns only once the broker has confirmed it holds the job durably.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait JobPublisher: Send + Sync {
    async fn publish(&self, job: &Job) -> Result<(), PublishError>;
}

/// Remembers which jobs have had their side effect, for handlers whose effect is not naturally idempotent (a mail
/// cannot be unsent). Natural idempotency (an upsert, a recomputation) needs no ledger.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait JobLedger: Send + Sync {
    async fn is_done(&self, job: JobId) -> Result<bool, InfraError>;
    async fn mark_done(&self, job: JobId, kind: JobKind) -> Result<(), InfraError>;
}

impl From<InfraError> for JobFailure {
    /// Infrastructure trouble is worth another try: an outage passes, a fault may be a lost race.
    fn from(error: InfraError) -> Self {
        JobFailure::Retryable(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Rollup {
        day: String,
    }

    impl JobPayload for Rollup {
        const KIND: JobKind = JobKind::DiaryRollup;
        const VERSION: u16 = 2;
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in JobKind::ALL {
            assert_eq!(JobKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(JobKind::parse("nope"), None);
    }

    #[test]
    fn typed_payloads_check_kind_and_version() {
        let job = Job::new(
            &Rollup {
                day: "2026-11-23".into(),
            },
            Utc::now(),
        );
        let Ok(mut job) = job else { panic!("job") };
        assert_eq!(
            job.payload::<Rollup>(),
            Ok(Rollup {
                day: "2026-11-23".into()
            })
        );

        job.version = 1;
        assert!(matches!(
            job.payload::<Rollup>(),
            Err(JobFailure::Permanent(_))
        ));
        job.version = 2;
        job.kind = JobKind::SendEmail;
        assert!(matches!(
            job.payload::<Rollup>(),
            Err(JobFailure::Permanent(_))
        ));
        job.kind = JobKind::DiaryRollup;
        job.payload = serde_json::json!({"days": 3});
        assert!(matches!(
            job.payload::<Rollup>(),
            Err(JobFailure::Permanent(_))
        ));
    }
}
