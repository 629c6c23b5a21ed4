//! Operator tools for the parking queue: look at parked jobs without losing them, and send them back to work.
//!
//! Both read the queue with `basic.get` on a private channel without acknowledging: what is only looked at returns
//! to the queue when the channel closes (also if the CLI dies half-way), and a replayed job is acknowledged only
//! after its republish is confirmed.

use std::collections::HashSet;

use diningcoach_kernel::{Job, JobId, JobKind};
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};

use crate::envelope::{self, PARK_REASON_HEADER, ROUTING_KEY_HEADER};
use crate::error::bounded;
use crate::publisher::publish_confirmed;
use crate::{Broker, RabbitError};

/// A job waiting in the parking queue, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedJob {
    /// `None` when neither the body nor the message id holds a job id (a malformed message).
    pub job_id: Option<JobId>,
    /// `None` when the routing key names no kind we know.
    pub kind: Option<JobKind>,
    /// The routing key the job was published with; a replay sends it back there.
    pub routing_key: String,
    pub reason: String,
    /// How many times a handler ran it (or the delivery on which it was parked).
    pub attempts: u32,
}

/// Which parked jobs to replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplaySelection {
    All,
    Only(Vec<JobId>),
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Jobs sent back to their kind's queue (and removed from parking).
    pub replayed: Vec<ParkedJob>,
    /// Selected jobs that could not be sent back (e.g. no queue for their routing key); they stay parked.
    pub failed: Vec<(ParkedJob, String)>,
}

/// The parking queue's operator tools.
#[derive(Debug, Clone)]
pub struct ParkingLot {
    broker: Broker,
}

impl ParkingLot {
    pub fn new(broker: Broker) -> Self {
        Self { broker }
    }

    /// How many jobs are parked.
    pub async fn count(&self) -> Result<u32, RabbitError> {
        let (channel, count) = self.open().await?;
        self.close(&channel).await;
        Ok(count)
    }

    /// Up to `limit` parked jobs, oldest first. They all stay parked.
    pub async fn list(&self, limit: usize) -> Result<Vec<ParkedJob>, RabbitError> {
        let (channel, count) = self.open().await?;
        let listed = self.read(&channel, count, limit).await;
        // Closing without acknowledging puts every message we looked at back into the queue.
        self.close(&channel).await;
        listed
    }

    /// Sends the selected parked jobs back to their kind's queue as fresh first attempts.
    pub async fn replay(&self, selection: &ReplaySelection) -> Result<ReplayReport, RabbitError> {
        let shared = &self.broker.shared;
        let session = shared.live_session()?;
        let limit = shared.config.operation_timeout;
        let (channel, count) = self.open().await?;
        let wanted: Option<HashSet<JobId>> = match selection {
            ReplaySelection::All => None,
            ReplaySelection::Only(ids) => Some(ids.iter().copied().collect()),
        };
        let mut report = ReplayReport::default();
        // Only the messages parked when we started: a replayed job that fails at once and is parked again must not
        // be picked up by this same replay.
        let outcome = async {
            for _ in 0..count {
                let Some(message) = bounded(
                    limit,
                    "read the parking queue",
                    channel.basic_get(
                        shared.topology.parking().as_str().into(),
                        BasicGetOptions::default(),
                    ),
                )
                .await?
                else {
                    break;
                };
                let delivery = &message.delivery;
                let parked = describe(
                    &delivery.properties,
                    delivery.routing_key.as_str(),
                    &delivery.data,
                );
                let selected = match (&wanted, parked.job_id) {
                    (None, _) => true,
                    (Some(ids), Some(id)) => ids.contains(&id),
                    (Some(_), None) => false,
                };
                if !selected {
                    continue;
                }
                let headers = delivery.properties.headers().clone().unwrap_or_default();
                let mut headers = envelope::clear_history(&headers);
                envelope::set_attempt(&mut headers, 1);
                let properties: BasicProperties = delivery.properties.clone().with_headers(headers);
                let sent = publish_confirmed(
                    &session.publisher,
                    &shared.topology.jobs_exchange(),
                    &parked.routing_key,
                    &delivery.data,
                    properties,
                    limit,
                )
                .await;
                match sent {
                    Ok(()) => {
                        bounded(
                            limit,
                            "acknowledge a replayed job",
                            delivery.acker.ack(BasicAckOptions::default()),
                        )
                        .await?;
                        report.replayed.push(parked);
                    }
                    Err(error) if !error.is_unavailable() => {
                        report.failed.push((parked, error.to_string()))
                    }
                    Err(error) => return Err(error),
                }
            }
            Ok(())
        }
        .await;
        self.close(&channel).await;
        outcome.map(|()| report)
    }

    async fn open(&self) -> Result<(Channel, u32), RabbitError> {
        let shared = &self.broker.shared;
        let session = shared.live_session()?;
        let limit = shared.config.operation_timeout;
        let channel = session.channel(limit).await?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let queue = bounded(
            limit,
            "inspect the parking queue",
            channel.queue_declare(
                shared.topology.parking().as_str().into(),
                passive,
                FieldTable::default(),
            ),
        )
        .await;
        match queue {
            Ok(queue) => Ok((channel, queue.message_count())),
            Err(error) => {
                self.close(&channel).await;
                Err(error)
            }
        }
    }

    async fn read(
        &self,
        channel: &Channel,
        count: u32,
        limit: usize,
    ) -> Result<Vec<ParkedJob>, RabbitError> {
        let shared = &self.broker.shared;
        let timeout = shared.config.operation_timeout;
        let mut listed = Vec::new();
        for _ in 0..count {
            if listed.len() >= limit {
                break;
            }
            let got = channel.basic_get(
                shared.topology.parking().as_str().into(),
                BasicGetOptions::default(),
            );
            let Some(message) = bounded(timeout, "read the parking queue", got).await? else {
                break;
            };
            let delivery = &message.delivery;
            listed.push(describe(
                &delivery.properties,
                delivery.routing_key.as_str(),
                &delivery.data,
            ));
        }
        Ok(listed)
    }

    async fn close(&self, channel: &Channel) {
        let limit = self.broker.shared.config.operation_timeout;
        if channel.status().connected() {
            let _ = bounded(limit, "close a channel", channel.close(200, "OK".into())).await;
        }
    }
}

fn describe(properties: &BasicProperties, routing_key: &str, body: &[u8]) -> ParkedJob {
    let job = serde_json::from_slice::<Job>(body).ok();
    let job_id = job.as_ref().map(|job| job.id).or_else(|| {
        properties
            .message_id()
            .as_ref()
            .and_then(|id| id.as_str().parse::<JobId>().ok())
    });
    let routing_key = envelope::header_text(properties, ROUTING_KEY_HEADER)
        .unwrap_or_else(|| routing_key.to_owned());
    let kind = JobKind::parse(&routing_key).or(job.as_ref().map(|job| job.kind));
    let reason = envelope::header_text(properties, PARK_REASON_HEADER)
        .or_else(|| envelope::broker_death_reason(properties))
        .unwrap_or_else(|| "unknown".to_owned());
    ParkedJob {
        job_id,
        kind,
        routing_key,
        reason,
        attempts: envelope::attempt(properties),
    }
}
