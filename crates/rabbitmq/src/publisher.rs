//! Publishing with confirms: a job is handed over only when the broker says it holds it durably.

use std::time::Duration;

use async_trait::async_trait;
use diningcoach_kernel::{Job, JobPublisher, PublishError};
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Confirmation};

use crate::error::bounded;
use crate::{Broker, RabbitError, envelope};

/// The [`JobPublisher`] the outbox relay uses. Never waits for a reconnection: with the broker down it answers
/// [`PublishError::Unavailable`] at once, and the relay tries again later — the outbox row is still there.
#[derive(Debug, Clone)]
pub struct LapinJobPublisher {
    broker: Broker,
}

impl LapinJobPublisher {
    pub fn new(broker: Broker) -> Self {
        Self { broker }
    }

    /// Publishes and waits for the confirm; the adapter's own error, for callers that want the detail.
    pub async fn publish_job(&self, job: &Job) -> Result<(), RabbitError> {
        let shared = &self.broker.shared;
        let session = shared.live_session()?;
        let (body, properties) = envelope::encode(job)?;
        publish_confirmed(
            &session.publisher,
            &shared.topology.jobs_exchange(),
            job.kind.as_str(),
            &body,
            properties,
            shared.config.operation_timeout,
        )
        .await
    }
}

#[async_trait]
impl JobPublisher for LapinJobPublisher {
    async fn publish(&self, job: &Job) -> Result<(), PublishError> {
        self.publish_job(job).await.map_err(|error| {
            if error.is_unavailable() {
                PublishError::Unavailable(error.to_string())
            } else {
                PublishError::Refused(error.to_string())
            }
        })
    }
}

/// Publishes one persistent, mandatory message and waits for the broker's confirm, all within `limit`. An
/// unroutable message comes back as [`RabbitError::Refused`] instead of vanishing.
pub(crate) async fn publish_confirmed(
    channel: &Channel,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    properties: BasicProperties,
    limit: Duration,
) -> Result<(), RabbitError> {
    let options = BasicPublishOptions {
        mandatory: true,
        ..BasicPublishOptions::default()
    };
    let confirmation = bounded(limit, "publish", async {
        channel
            .basic_publish(
                exchange.into(),
                routing_key.into(),
                options,
                body,
                properties,
            )
            .await?
            .await
    })
    .await?;
    match confirmation {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) => Err(RabbitError::Refused(format!(
            "no queue is bound for routing key {routing_key:?} on {exchange:?} ({})",
            returned.reply_text
        ))),
        Confirmation::Nack(_) => Err(RabbitError::Nacked(format!(
            "negative confirm from {exchange:?}"
        ))),
        // Only if the channel lost confirm mode, which ours never do: we cannot know the message is safe.
        Confirmation::NotRequested => Err(RabbitError::Refused(
            "publisher confirms are off on this channel".into(),
        )),
    }
}
