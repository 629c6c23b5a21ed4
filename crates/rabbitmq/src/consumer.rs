//! The consumer runtime: deliveries in, handlers run, acknowledgements out — and what to do when a handler fails.
//!
//! A delivery is acknowledged only after its outcome is safe: the handler succeeded, or the job was republished
//! (with a confirm) to a retry queue or to the parking queue. If that republish fails the delivery stays
//! unacknowledged, and the broker gives it to a consumer again once the channel is gone — a lost connection, a
//! crashed or killed worker — so nothing is lost; at worst a job runs twice, which handlers must tolerate.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diningcoach_kernel::{Job, JobFailure, JobHandler, JobKind};
use futures_util::StreamExt;
use futures_util::future;
use futures_util::stream::{self, select_all};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, Consumer};
use tokio::task::JoinSet;

use crate::broker::{BrokerShared, Session};
use crate::envelope::{self, LAST_ERROR_HEADER, PARK_REASON_HEADER, ROUTING_KEY_HEADER};
use crate::error::bounded;
use crate::publisher::publish_confirmed;
use crate::{Broker, RabbitError};

/// Pause before re-subscribing when consumers stopped while the connection stayed up (e.g. someone deleted a
/// queue), so that a persistent problem does not become a busy loop.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_secs(1);

/// Runs the worker's handlers, one consumer (and channel) per job kind, re-subscribing on every new connection
/// the [`Broker`] supervisor makes.
pub struct JobConsumers {
    broker: Broker,
    handlers: HashMap<JobKind, Arc<dyn JobHandler>>,
}

impl std::fmt::Debug for JobConsumers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobConsumers")
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What a handler's result means for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    /// Republish to the retry queue of delay `index`, as attempt `next_attempt`.
    Retry {
        index: usize,
        next_attempt: u32,
        reason: String,
    },
    Park {
        reason: String,
    },
}

/// Why the inner delivery loop ended.
enum Interruption {
    Shutdown,
    Lost,
}

impl JobConsumers {
    pub fn new(broker: Broker) -> Self {
        Self {
            broker,
            handlers: HashMap::new(),
        }
    }

    /// Consumes the queue of `kind` with `handler`. Kinds without a handler are not consumed: their jobs wait.
    pub fn handle(mut self, kind: JobKind, handler: Arc<dyn JobHandler>) -> Self {
        self.handlers.insert(kind, handler);
        self
    }

    /// Consumes the queues of every kind in `handlers`.
    pub fn with_handlers(mut self, handlers: HashMap<JobKind, Arc<dyn JobHandler>>) -> Self {
        self.handlers.extend(handlers);
        self
    }

    /// Consumes until `shutdown` resolves (or the broker is shut down), then stops taking deliveries, lets running
    /// handlers finish for up to `shutdown_grace`, and returns. Handlers still running after that are abandoned;
    /// their messages are redelivered. Broker outages are handled inside: this only returns early on a setup error.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), RabbitError> {
        if self.handlers.is_empty() {
            return Err(RabbitError::InvalidConfig("no job handlers to run".into()));
        }
        let shared = Arc::clone(&self.broker.shared);
        let handlers = Arc::new(self.handlers);
        let mut sessions = shared.session.clone();
        let mut stopping = shared.stopping.subscribe();
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let mut channels: Vec<(Channel, ShortString)> = Vec::new();
        tokio::pin!(shutdown);

        'sessions: loop {
            let session = tokio::select! {
                _ = &mut shutdown => break 'sessions,
                _ = stopping.wait_for(|stop| *stop) => break 'sessions,
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue 'sessions,
                session = sessions.wait_for(|current| current.as_ref().is_some_and(Session::is_alive)) => match session {
                    Ok(session) => match session.clone() {
                        Some(session) => session,
                        None => continue 'sessions,
                    },
                    Err(_) => break 'sessions,
                },
            };
            let consumers = match subscribe(&shared, &session, &handlers).await {
                Ok(consumers) => consumers,
                Err(error) => {
                    tracing::warn!(%error, "cannot start the job consumers; trying again");
                    tokio::select! {
                        _ = &mut shutdown => break 'sessions,
                        _ = tokio::time::sleep(RESUBSCRIBE_PAUSE) => continue 'sessions,
                    }
                }
            };
            tracing::info!(
                generation = session.generation,
                kinds = consumers.len(),
                "job consumers started"
            );
            channels = consumers
                .iter()
                .map(|(_, channel, consumer)| (channel.clone(), consumer.tag()))
                .collect();
            // Each stream ends with a `None` marker, so that one kind's consumer being cancelled (its queue was
            // deleted) is noticed even while the other kinds go on.
            let mut deliveries = select_all(consumers.into_iter().map(|(kind, _, consumer)| {
                consumer
                    .map(move |item| (kind, Some(item)))
                    .chain(stream::once(future::ready((kind, None))))
            }));

            let interruption = loop {
                tokio::select! {
                    _ = &mut shutdown => break Interruption::Shutdown,
                    _ = stopping.wait_for(|stop| *stop) => break Interruption::Shutdown,
                    changed = sessions.changed() => {
                        let same = changed.is_ok()
                            && sessions.borrow().as_ref().is_some_and(|now| now.generation == session.generation);
                        if !same {
                            break Interruption::Lost;
                        }
                    }
                    Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
                    item = deliveries.next() => match item {
                        Some((kind, Some(Ok(delivery)))) => {
                            let Some(handler) = handlers.get(&kind).cloned() else { continue };
                            in_flight.spawn(process(Arc::clone(&shared), session.clone(), kind, handler, delivery));
                        }
                        Some((kind, Some(Err(error)))) => {
                            tracing::warn!(%kind, %error, "a job consumer failed");
                            break Interruption::Lost;
                        }
                        Some((kind, None)) => {
                            tracing::warn!(%kind, "a job consumer was cancelled");
                            break Interruption::Lost;
                        }
                        None => break Interruption::Lost,
                    },
                }
            };
            match interruption {
                Interruption::Shutdown => {
                    cancel(&shared, &channels).await;
                    break 'sessions;
                }
                Interruption::Lost => {
                    if session.is_alive() {
                        tracing::warn!("job consumers stopped while connected; re-subscribing");
                        close(&shared, &channels).await;
                        tokio::select! {
                            _ = &mut shutdown => break 'sessions,
                            _ = tokio::time::sleep(RESUBSCRIBE_PAUSE) => {}
                        }
                    }
                }
            }
        }

        let drained = tokio::time::timeout(shared.config.shutdown_grace, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                abandoned = in_flight.len(),
                "handlers still running at shutdown; their jobs will be redelivered"
            );
            in_flight.abort_all();
        }
        // Closing the channels returns prefetched, unprocessed deliveries to their queues at once.
        close(&shared, &channels).await;
        tracing::info!("job consumers stopped");
        Ok(())
    }
}

/// Opens one channel per handled kind with its prefetch, after re-declaring the topology (cheap, idempotent, and it
/// repairs a queue an operator deleted).
async fn subscribe(
    shared: &BrokerShared,
    session: &Session,
    handlers: &HashMap<JobKind, Arc<dyn JobHandler>>,
) -> Result<Vec<(JobKind, Channel, Consumer)>, RabbitError> {
    let limit = shared.config.operation_timeout;
    let mut consumers = Vec::with_capacity(handlers.len());
    for (index, kind) in handlers.keys().copied().enumerate() {
        let channel = session.channel(limit).await?;
        if index == 0 {
            shared.topology.declare(&channel, limit).await?;
        }
        bounded(
            limit,
            "set the prefetch",
            channel.basic_qos(shared.config.prefetch, BasicQosOptions::default()),
        )
        .await?;
        let queue = shared.topology.job_queue(kind);
        let tag = format!(
            "{}.{}.{}",
            shared.config.connection_name,
            kind.as_str(),
            session.generation
        );
        let consumer = bounded(
            limit,
            "start a consumer",
            channel.basic_consume(
                queue.as_str().into(),
                tag.as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        consumers.push((kind, channel, consumer));
    }
    Ok(consumers)
}

/// Stops new deliveries while keeping the channels open, so running handlers can still acknowledge.
async fn cancel(shared: &BrokerShared, channels: &[(Channel, ShortString)]) {
    for (channel, tag) in channels {
        let cancelled = channel.basic_cancel(tag.clone(), BasicCancelOptions::default());
        let _ = bounded(
            shared.config.operation_timeout,
            "cancel a consumer",
            cancelled,
        )
        .await;
    }
}

async fn close(shared: &BrokerShared, channels: &[(Channel, ShortString)]) {
    for (channel, _) in channels {
        if channel.status().connected() {
            let _ = bounded(
                shared.config.operation_timeout,
                "close a channel",
                channel.close(200, "OK".into()),
            )
            .await;
        }
    }
}

/// Runs one delivery to its end: handler, then ack, retry or park.
async fn process(
    shared: Arc<BrokerShared>,
    session: Session,
    kind: JobKind,
    handler: Arc<dyn JobHandler>,
    delivery: Delivery,
) {
    let attempt = envelope::attempt(&delivery.properties);
    let outcome = match serde_json::from_slice::<Job>(&delivery.data) {
        Err(error) => Outcome::Park {
            reason: format!("the body is not a valid job: {error}"),
        },
        Ok(job) if job.kind != kind => Outcome::Park {
            reason: format!("a {} job arrived on the {} queue", job.kind, kind),
        },
        Ok(job) => {
            let result = run_handler(handler, job.clone()).await;
            let outcome = decide(result, attempt, shared.topology.retry_delays().len());
            match &outcome {
                Outcome::Done => tracing::debug!(job = %job.id, %kind, attempt, "job done"),
                Outcome::Retry { reason, .. } => {
                    tracing::info!(job = %job.id, %kind, attempt, %reason, "job will be retried")
                }
                Outcome::Park { reason } => {
                    tracing::warn!(job = %job.id, %kind, attempt, %reason, "job parked")
                }
            }
            outcome
        }
    };
    let limit = shared.config.operation_timeout;
    let settled = match outcome {
        Outcome::Done => Ok(()),
        Outcome::Retry {
            index,
            next_attempt,
            reason,
        } => {
            let Some(exchange) = shared.topology.retry_queue(index) else {
                return;
            };
            let properties = envelope::with_headers(&delivery.properties, |headers| {
                envelope::set_attempt(headers, next_attempt);
                envelope::set_text(headers, LAST_ERROR_HEADER, &reason);
            });
            publish_confirmed(
                &session.publisher,
                &exchange,
                delivery.routing_key.as_str(),
                &delivery.data,
                properties,
                limit,
            )
            .await
        }
        Outcome::Park { reason } => {
            let properties = envelope::with_headers(&delivery.properties, |headers| {
                envelope::set_text(headers, PARK_REASON_HEADER, &reason);
                if !headers.contains_key(ROUTING_KEY_HEADER) {
                    envelope::set_text(headers, ROUTING_KEY_HEADER, delivery.routing_key.as_str());
                }
            });
            let parking = shared.topology.parking();
            publish_confirmed(
                &session.publisher,
                &parking,
                delivery.routing_key.as_str(),
                &delivery.data,
                properties,
                limit,
            )
            .await
        }
    };
    match settled {
        Ok(()) => {
            if let Err(error) = bounded(
                limit,
                "acknowledge",
                delivery.acker.ack(BasicAckOptions::default()),
            )
            .await
            {
                tracing::warn!(%error, %kind, "could not acknowledge; the job will be delivered again");
            }
        }
        Err(error) => {
            // Not acknowledged: the broker keeps the message. Ask for it back now if the channel still works (each
            // return counts toward the queue's delivery limit, which parks a message that can never be settled).
            tracing::warn!(%error, %kind, "could not move the job on; it stays in its queue");
            let requeue = BasicNackOptions {
                requeue: true,
                ..BasicNackOptions::default()
            };
            let _ = bounded(limit, "return a delivery", delivery.acker.nack(requeue)).await;
        }
    }
}

/// Runs the handler in its own task, so that a panic is a retryable failure rather than a delivery left
/// unacknowledged until the worker restarts.
async fn run_handler(handler: Arc<dyn JobHandler>, job: Job) -> Result<(), JobFailure> {
    let task = tokio::spawn(async move { handler.handle(&job).await });
    let _abort_if_abandoned = AbortOnDrop(task.abort_handle());
    match task.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => Err(JobFailure::retryable("the handler panicked")),
        Err(_) => Err(JobFailure::retryable("the handler was cancelled")),
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The retry policy: a retryable failure on attempt `n` waits the `n`-th delay; with none left, or a permanent
/// failure, the job is parked.
fn decide(result: Result<(), JobFailure>, attempt: u32, delays: usize) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(JobFailure::Permanent(reason)) => Outcome::Park { reason },
        Err(JobFailure::Retryable(reason)) => {
            let index = usize::try_from(attempt.saturating_sub(1)).unwrap_or(usize::MAX);
            if index < delays {
                Outcome::Retry {
                    index,
                    next_attempt: attempt.saturating_add(1),
                    reason,
                }
            } else {
                Outcome::Park {
                    reason: format!("gave up after {attempt} attempts: {reason}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_failures_walk_the_delays_then_park() {
        assert_eq!(decide(Ok(()), 1, 3), Outcome::Done);
        assert_eq!(
            decide(Err(JobFailure::retryable("down")), 1, 3),
            Outcome::Retry {
                index: 0,
                next_attempt: 2,
                reason: "down".into()
            }
        );
        assert_eq!(
            decide(Err(JobFailure::retryable("down")), 3, 3),
            Outcome::Retry {
                index: 2,
                next_attempt: 4,
                reason: "down".into()
            }
        );
        assert_eq!(
            decide(Err(JobFailure::retryable("down")), 4, 3),
            Outcome::Park {
                reason: "gave up after 4 attempts: down".into()
            }
        );
        assert_eq!(
            decide(Err(JobFailure::permanent("bad")), 1, 3),
            Outcome::Park {
                reason: "bad".into()
            }
        );
        assert!(matches!(
            decide(Err(JobFailure::retryable("x")), 1, 0),
            Outcome::Park { .. }
        ));
    }
}
