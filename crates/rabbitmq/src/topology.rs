//! The exchanges and queues, their names and their declaration.
//!
//! ```text
//!  publisher ──► <p>.jobs (direct) ──rk=kind──► <p>.jobs.<kind> (quorum, x-delivery-limit) ──► consumer
//!                    ▲                               │ delivery limit exceeded (dead-letter)
//!                    │ TTL expired (dead-letter,     ▼
//!                    │ original routing key)     <p>.parking (fanout) ──► <p>.parking (classic, durable)
//!  consumer ──► <p>.delay.<ms>ms (fanout) ──► <p>.delay.<ms>ms (TTL queue)
//! ```

use std::time::Duration;

use diningcoach_kernel::JobKind;
use lapin::options::{
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use crate::error::bounded;
use crate::{BrokerConfig, RabbitError};

/// The names and shapes of everything the adapter declares, derived from the configuration alone so that every
/// process computes the same topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    prefix: String,
    retry_delays: Vec<Duration>,
    delivery_limit: u32,
    queue_expiry: Option<Duration>,
}

impl Topology {
    pub fn new(config: &BrokerConfig) -> Self {
        Self {
            prefix: config.prefix.clone(),
            retry_delays: config.retry_delays.clone(),
            delivery_limit: config.delivery_limit,
            queue_expiry: config.queue_expiry,
        }
    }

    /// The direct exchange every job is published to, routed by its kind.
    pub fn jobs_exchange(&self) -> String {
        format!("{}.jobs", self.prefix)
    }

    /// The queue that holds the jobs of one kind, so that a flood of one kind never delays another.
    pub fn job_queue(&self, kind: JobKind) -> String {
        format!("{}.jobs.{}", self.prefix, kind.as_str())
    }

    /// The fanout exchange and the TTL queue behind it that hold a job for the `index`-th retry delay.
    pub fn retry_queue(&self, index: usize) -> Option<String> {
        self.retry_delays
            .get(index)
            .map(|delay| format!("{}.delay.{}ms", self.prefix, delay.as_millis()))
    }

    pub fn retry_delays(&self) -> &[Duration] {
        &self.retry_delays
    }

    /// The fanout exchange and the queue where jobs that will not succeed wait for an operator.
    pub fn parking(&self) -> String {
        format!("{}.parking", self.prefix)
    }

    fn queue_arguments(&self) -> FieldTable {
        let mut arguments = FieldTable::default();
        if let Some(expiry) = self.queue_expiry {
            arguments.insert("x-expires".into(), AMQPValue::LongLongInt(millis(expiry)));
        }
        arguments
    }

    /// Declares everything. Idempotent: whichever process connects first creates the topology, the others find it.
    /// Declaring a name that exists with other arguments fails (PRECONDITION_FAILED) — change names, not arguments.
    pub async fn declare(&self, channel: &Channel, limit: Duration) -> Result<(), RabbitError> {
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let durable_queue = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let jobs = self.jobs_exchange();
        let parking = self.parking();

        bounded(
            limit,
            "declare the jobs exchange",
            channel.exchange_declare(
                jobs.as_str().into(),
                ExchangeKind::Direct,
                durable_exchange,
                FieldTable::default(),
            ),
        )
        .await?;

        // Parking first: the job queues dead-letter into it. A classic queue, because listing parked jobs returns
        // them to the queue, and a quorum queue would count those returns against a delivery limit.
        bounded(
            limit,
            "declare the parking exchange",
            channel.exchange_declare(
                parking.as_str().into(),
                ExchangeKind::Fanout,
                durable_exchange,
                FieldTable::default(),
            ),
        )
        .await?;
        bounded(
            limit,
            "declare the parking queue",
            channel.queue_declare(
                parking.as_str().into(),
                durable_queue,
                self.queue_arguments(),
            ),
        )
        .await?;
        bounded(
            limit,
            "bind the parking queue",
            channel.queue_bind(
                parking.as_str().into(),
                parking.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;

        for kind in JobKind::ALL {
            let queue = self.job_queue(kind);
            let mut arguments = self.queue_arguments();
            arguments.insert(
                "x-queue-type".into(),
                AMQPValue::LongString(LongString::from("quorum")),
            );
            arguments.insert(
                "x-delivery-limit".into(),
                AMQPValue::LongLongInt(i64::from(self.delivery_limit)),
            );
            // Without a dead-letter exchange a quorum queue silently drops a message past its delivery limit.
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(LongString::from(parking.as_str())),
            );
            at_least_once_dead_lettering(&mut arguments);
            bounded(
                limit,
                "declare a job queue",
                channel.queue_declare(queue.as_str().into(), durable_queue, arguments),
            )
            .await?;
            bounded(
                limit,
                "bind a job queue",
                channel.queue_bind(
                    queue.as_str().into(),
                    jobs.as_str().into(),
                    kind.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                ),
            )
            .await?;
        }

        for (index, delay) in self.retry_delays.iter().enumerate() {
            let Some(name) = self.retry_queue(index) else {
                continue;
            };
            bounded(
                limit,
                "declare a retry exchange",
                channel.exchange_declare(
                    name.as_str().into(),
                    ExchangeKind::Fanout,
                    durable_exchange,
                    FieldTable::default(),
                ),
            )
            .await?;
            let mut arguments = self.queue_arguments();
            // Quorum, like the job queues: a waiting retry survives a broker node's crash, and its return to the
            // job queue is dead-lettered at least once rather than at most once.
            arguments.insert(
                "x-queue-type".into(),
                AMQPValue::LongString(LongString::from("quorum")),
            );
            arguments.insert(
                "x-message-ttl".into(),
                AMQPValue::LongLongInt(millis(*delay)),
            );
            at_least_once_dead_lettering(&mut arguments);
            // No x-dead-letter-routing-key: the expired message keeps its routing key, its job kind, and so returns
            // to its own queue.
            arguments.insert(
                "x-dead-letter-exchange".into(),
                AMQPValue::LongString(LongString::from(jobs.as_str())),
            );
            bounded(
                limit,
                "declare a retry queue",
                channel.queue_declare(name.as_str().into(), durable_queue, arguments),
            )
            .await?;
            bounded(
                limit,
                "bind a retry queue",
                channel.queue_bind(
                    name.as_str().into(),
                    name.as_str().into(),
                    "".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                ),
            )
            .await?;
        }
        Ok(())
    }

    /// Deletes every queue and exchange of this prefix, messages included. For tests and throw-away environments.
    pub async fn delete(&self, channel: &Channel, limit: Duration) -> Result<(), RabbitError> {
        let mut queues: Vec<String> = JobKind::ALL
            .into_iter()
            .map(|kind| self.job_queue(kind))
            .collect();
        queues.extend((0..self.retry_delays.len()).filter_map(|index| self.retry_queue(index)));
        queues.push(self.parking());
        for queue in &queues {
            bounded(
                limit,
                "delete a queue",
                channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()),
            )
            .await?;
        }
        let mut exchanges: Vec<String> = (0..self.retry_delays.len())
            .filter_map(|index| self.retry_queue(index))
            .collect();
        exchanges.push(self.parking());
        exchanges.push(self.jobs_exchange());
        for exchange in &exchanges {
            bounded(
                limit,
                "delete an exchange",
                channel.exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default()),
            )
            .await?;
        }
        Ok(())
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// RabbitMQ dead-letters at most once by default: a message expiring from a retry queue, or passing a job queue's
/// delivery limit, is lost if the broker fails at that moment. At-least-once dead-lettering (quorum queues only)
/// keeps it until the target confirms; it requires `reject-publish` overflow.
fn at_least_once_dead_lettering(arguments: &mut FieldTable) {
    arguments.insert(
        "x-dead-letter-strategy".into(),
        AMQPValue::LongString(LongString::from("at-least-once")),
    );
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString(LongString::from("reject-publish")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_and_retry_queues_their_delay() {
        let config = BrokerConfig {
            prefix: "t1".into(),
            ..BrokerConfig::default()
        };
        let topology = Topology::new(&config);
        assert_eq!(topology.jobs_exchange(), "t1.jobs");
        assert_eq!(topology.job_queue(JobKind::SendEmail), "t1.jobs.email.send");
        assert_eq!(topology.retry_queue(0).as_deref(), Some("t1.delay.5000ms"));
        assert_eq!(
            topology.retry_queue(4).as_deref(),
            Some("t1.delay.3600000ms")
        );
        assert_eq!(topology.retry_queue(5), None);
        assert_eq!(topology.parking(), "t1.parking");
    }
}
