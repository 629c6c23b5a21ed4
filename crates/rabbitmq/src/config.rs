//! How the adapter finds the broker and shapes its topology. The binaries fill this from the environment.

use std::time::Duration;

use crate::RabbitError;

/// Settings of the RabbitMQ adapter. Every field has a default that suits a 2-core machine and local RabbitMQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// `amqp://user:password@host:port/vhost` (the default vhost is `%2f`).
    pub url: String,
    /// Prefixes every exchange and queue name, so that several environments — or parallel tests — can share one
    /// broker without seeing each other's messages.
    pub prefix: String,
    /// Shown by `rabbitmqctl list_connections client_properties` and the management UI, so an operator can tell
    /// processes apart (and a test can close exactly its own connection).
    pub connection_name: String,
    /// Unacknowledged deliveries per job kind, which is also how many handlers of one kind run concurrently.
    pub prefetch: u16,
    /// Wait before the 1st, 2nd, … retry of a job that failed with a retryable error. When they are used up the
    /// job is parked. Each delay is its own TTL queue, named by its length, so changing the list adds queues rather
    /// than conflicting with the existing ones.
    pub retry_delays: Vec<Duration>,
    /// How many times a quorum queue redelivers a message that was never acknowledged (a worker that crashes on it)
    /// before dead-lettering it to the parking queue. Our own retries republish a fresh message, so they do not
    /// count against it.
    pub delivery_limit: u32,
    /// Deletes a queue that has had no consumer and no use for this long (`x-expires`). Meant for test prefixes, so
    /// that queues of crashed test runs do not pile up on a shared broker; leave `None` in production.
    pub queue_expiry: Option<Duration>,
    /// Bound on one connection attempt (TCP + AMQP handshake).
    pub connect_timeout: Duration,
    /// Bound on one broker operation: a publish and its confirm, a declaration, an ack. Callers never hang longer.
    pub operation_timeout: Duration,
    /// First wait after a failed connection attempt; it doubles on each failure up to `reconnect_max_delay`.
    pub reconnect_min_delay: Duration,
    pub reconnect_max_delay: Duration,
    /// How long a graceful shutdown waits for running handlers before their messages are left to redelivery.
    pub shutdown_grace: Duration,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            url: "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned(),
            prefix: "diningcoach".to_owned(),
            connection_name: "diningcoach".to_owned(),
            prefetch: 16,
            retry_delays: vec![
                Duration::from_secs(5),
                Duration::from_secs(30),
                Duration::from_secs(120),
                Duration::from_secs(600),
                Duration::from_secs(3600),
            ],
            delivery_limit: 10,
            queue_expiry: None,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(5),
            reconnect_min_delay: Duration::from_millis(200),
            reconnect_max_delay: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl BrokerConfig {
    /// The defaults, pointed at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            ..Self::default()
        }
    }

    /// Rejects settings that would only fail later and less clearly (at declaration or at the first delivery).
    pub fn validate(&self) -> Result<(), RabbitError> {
        let invalid = |reason: &str| Err(RabbitError::InvalidConfig(reason.to_owned()));
        if self.url.parse::<lapin::uri::AMQPUri>().is_err() {
            return invalid("AMQP_URL is not a valid amqp:// or amqps:// URL");
        }
        if self.prefix.is_empty() || self.prefix.len() > 100 {
            return invalid("the name prefix must have 1 to 100 characters");
        }
        if self.prefetch == 0 {
            return invalid("prefetch must be at least 1 (0 means unlimited to RabbitMQ)");
        }
        if self.delivery_limit == 0 {
            return invalid("the delivery limit must be at least 1");
        }
        if self
            .retry_delays
            .iter()
            .any(|delay| delay.as_millis() == 0 || delay.as_millis() > u128::from(u32::MAX))
        {
            return invalid("retry delays must be between 1 ms and about 49 days");
        }
        if self.queue_expiry.is_some_and(|expiry| {
            expiry.as_millis() == 0 || expiry.as_millis() > u128::from(u32::MAX)
        }) {
            return invalid("the queue expiry must be between 1 ms and about 49 days");
        }
        if self.operation_timeout.is_zero() || self.connect_timeout.is_zero() {
            return invalid("timeouts must be positive");
        }
        if self.reconnect_min_delay.is_zero() || self.reconnect_max_delay < self.reconnect_min_delay
        {
            return invalid("reconnect delays must be positive, the maximum not below the minimum");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_nonsense_is_refused() {
        assert_eq!(BrokerConfig::default().validate(), Ok(()));
        let bad_url = BrokerConfig::new("http://example.com");
        assert!(matches!(
            bad_url.validate(),
            Err(RabbitError::InvalidConfig(_))
        ));
        let no_prefetch = BrokerConfig {
            prefetch: 0,
            ..BrokerConfig::default()
        };
        assert!(matches!(
            no_prefetch.validate(),
            Err(RabbitError::InvalidConfig(_))
        ));
        let zero_delay = BrokerConfig {
            retry_delays: vec![Duration::ZERO],
            ..BrokerConfig::default()
        };
        assert!(matches!(
            zero_delay.validate(),
            Err(RabbitError::InvalidConfig(_))
        ));
    }
}
