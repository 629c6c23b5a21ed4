//! Mail as the domains ask for it: a recipient and a template with its values. Rendering and delivery belong to
//! the mail adapter; sending is always a job, so that no request waits for an SMTP server.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::job::{JobKind, JobPayload};
use crate::{Email, Job, JobFailure, JobHandler, JobId, JobLedger};

/// The mails the product sends, each with exactly the values its template needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum MailTemplate {
    /// Sent at sign-up and on request: a link that proves the address is the user's.
    ConfirmEmail { nickname: String, link: String },
    /// Sent when a user forgot their password: a single-use link to choose a new one.
    ResetPassword { nickname: String, link: String },
}

/// One mail to one recipient: the payload of a [`JobKind::SendEmail`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub to: Email,
    #[serde(flatten)]
    pub template: MailTemplate,
}

impl JobPayload for OutgoingEmail {
    const KIND: JobKind = JobKind::SendEmail;
    const VERSION: u16 = 1;
}

/// Why a mail was not handed over.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MailError {
    /// The mail server cannot be reached or answered with a temporary error: try again later.
    #[error("the mail server is unavailable: {0}")]
    Unavailable(String),
    /// The mail server refused this mail for good (e.g. a malformed recipient).
    #[error("the mail was rejected: {0}")]
    Rejected(String),
}

/// Delivers mail. `message_id` is the job's id, so a mail retried after a crash keeps its Message-ID and mail
/// clients can fold the duplicates.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message_id: JobId, mail: &OutgoingEmail) -> Result<(), MailError>;
}

/// Handles [`JobKind::SendEmail`] jobs: sends each mail at most once per successful delivery, as far as a mail
/// server allows. The ledger makes a redelivered job a no-op; the window between the server accepting the mail and
/// the ledger recording it is the one place a crash can still send a duplicate, which the shared Message-ID folds.
pub struct SendEmailHandler {
    mailer: Arc<dyn Mailer>,
    ledger: Arc<dyn JobLedger>,
}

impl SendEmailHandler {
    pub fn new(mailer: Arc<dyn Mailer>, ledger: Arc<dyn JobLedger>) -> Self {
        Self { mailer, ledger }
    }
}

#[async_trait]
impl JobHandler for SendEmailHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobFailure> {
        let mail: OutgoingEmail = job.payload()?;
        if self.ledger.is_done(job.id).await? {
            return Ok(());
        }
        self.mailer
            .send(job.id, &mail)
            .await
            .map_err(|error| match error {
                MailError::Unavailable(_) => JobFailure::retryable(error.to_string()),
                MailError::Rejected(_) => JobFailure::permanent(error.to_string()),
            })?;
        // The mail is out: failing the job now would only send it again, so a ledger write that fails is
        // tolerated; it matters only if this very message is delivered a second time.
        let _ = self.ledger.mark_done(job.id, job.kind).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::InfraError;
    use crate::job::MockJobLedger;

    fn confirmation() -> Result<Job, JobFailure> {
        let to =
            Email::parse("ann@example.org").map_err(|e| JobFailure::permanent(e.to_string()))?;
        let mail = OutgoingEmail {
            to,
            template: MailTemplate::ConfirmEmail {
                nickname: "Ann".into(),
                link: "https://x/verify?token=t".into(),
            },
        };
        Job::new(&mail, Utc::now())
    }

    fn handler(mailer: MockMailer, ledger: MockJobLedger) -> SendEmailHandler {
        SendEmailHandler::new(Arc::new(mailer), Arc::new(ledger))
    }

    #[tokio::test]
    async fn sends_the_mail_and_records_it() -> Result<(), JobFailure> {
        let job = confirmation()?;
        let mut ledger = MockJobLedger::new();
        ledger.expect_is_done().times(1).returning(|_| Ok(false));
        ledger.expect_mark_done().times(1).returning(|_, _| Ok(()));
        let mut mailer = MockMailer::new();
        let expected_id = job.id;
        mailer
            .expect_send()
            .withf(move |id, mail| *id == expected_id && mail.to.as_str() == "ann@example.org")
            .times(1)
            .returning(|_, _| Ok(()));
        handler(mailer, ledger).handle(&job).await
    }

    #[tokio::test]
    async fn a_job_already_done_sends_nothing() -> Result<(), JobFailure> {
        let job = confirmation()?;
        let mut ledger = MockJobLedger::new();
        ledger.expect_is_done().returning(|_| Ok(true));
        ledger.expect_mark_done().never();
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        handler(mailer, ledger).handle(&job).await
    }

    #[tokio::test]
    async fn an_unavailable_server_is_retried_and_a_rejection_is_not() -> Result<(), JobFailure> {
        let job = confirmation()?;
        for (error, retryable) in [
            (MailError::Unavailable("connection refused".into()), true),
            (MailError::Rejected("550 no such user".into()), false),
        ] {
            let mut ledger = MockJobLedger::new();
            ledger.expect_is_done().returning(|_| Ok(false));
            ledger.expect_mark_done().never();
            let mut mailer = MockMailer::new();
            mailer
                .expect_send()
                .returning(move |_, _| Err(error.clone()));
            let outcome = handler(mailer, ledger).handle(&job).await;
            assert_eq!(matches!(outcome, Err(JobFailure::Retryable(_))), retryable);
            assert_eq!(matches!(outcome, Err(JobFailure::Permanent(_))), !retryable);
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_ledger_outage_before_sending_is_retried() -> Result<(), JobFailure> {
        let job = confirmation()?;
        let mut ledger = MockJobLedger::new();
        ledger.expect_is_done().returning(|_| {
            Err(InfraError::Unavailable {
                dependency: "postgresql",
                reason: "timeout".into(),
            })
        });
        let mut mailer = MockMailer::new();
        mailer.expect_send().never();
        let outcome = handler(mailer, ledger).handle(&job).await;
        assert!(matches!(outcome, Err(JobFailure::Retryable(_))));
        Ok(())
    }

    #[tokio::test]
    async fn a_malformed_payload_is_permanent() -> Result<(), JobFailure> {
        let mut job = confirmation()?;
        job.payload = serde_json::json!({"to": "not an address", "template": "confirm_email"});
        let outcome = handler(MockMailer::new(), MockJobLedger::new())
            .handle(&job)
            .await;
        assert!(matches!(outcome, Err(JobFailure::Permanent(_))));
        Ok(())
    }

    #[test]
    fn an_outgoing_email_is_a_flat_versioned_payload() {
        let Ok(to) = Email::parse("ann@example.org") else {
            panic!("email")
        };
        let mail = OutgoingEmail {
            to,
            template: MailTemplate::ConfirmEmail {
                nickname: "Ann".into(),
                link: "https://x/verify?token=t".into(),
            },
        };
        let json = serde_json::to_value(&mail).unwrap_or_default();
        assert_eq!(json["template"], "confirm_email");
        assert_eq!(json["to"], "ann@example.org");
        let back: Result<OutgoingEmail, _> = serde_json::from_value(json);
        assert_eq!(back.ok(), Some(mail));
    }
}
