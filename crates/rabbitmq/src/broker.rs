//! The connection supervisor.
//!
//! lapin can recover a connection by itself, but we do not rely on it: a 2026 report on its tracker shows it never
//! recovering after a broker restart, and its recovery replays channels and consumers we would rather rebuild
//! knowingly. Instead one task owns the connection: it connects with exponential back-off, declares the topology,
//! opens the publishing channel, publishes the resulting [`Session`] to everyone who needs it, watches the
//! connection, and starts again from scratch when it drops. Consumers and publishers only ever use the current
//! session, and restart on a new one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use diningcoach_kernel::health::{Gauge, HealthCheck};
use futures_util::StreamExt;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::{Mutex, watch};
use tokio::task::JoinHandle;

use crate::error::bounded;
use crate::{BrokerConfig, JobConsumers, LapinJobPublisher, ParkingLot, RabbitError, Topology};

/// One live connection with the topology declared on it and a channel in confirm mode for publishing.
#[derive(Clone)]
pub(crate) struct Session {
    /// Increases with every new connection, so a consumer can tell a new session from the one it lost.
    pub(crate) generation: u64,
    pub(crate) connection: Arc<Connection>,
    /// Shared by all publishers of the process: a confirm-mode channel tracks each publish's confirm separately.
    pub(crate) publisher: Channel,
}

impl Session {
    pub(crate) fn is_alive(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }

    /// A fresh channel, for consumers and operator tools that must not disturb the shared publishing channel.
    pub(crate) async fn channel(&self, limit: Duration) -> Result<Channel, RabbitError> {
        bounded(limit, "open a channel", self.connection.create_channel()).await
    }
}

pub(crate) struct BrokerShared {
    pub(crate) config: BrokerConfig,
    pub(crate) topology: Topology,
    pub(crate) session: watch::Receiver<Option<Session>>,
    /// `true` once shutdown has begun; the supervisor and the consumers watch it.
    pub(crate) stopping: watch::Sender<bool>,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

impl BrokerShared {
    /// The current session if its connection is up.
    pub(crate) fn live_session(&self) -> Result<Session, RabbitError> {
        if *self.stopping.borrow() {
            return Err(RabbitError::ShutDown);
        }
        match self.session.borrow().as_ref() {
            Some(session) if session.is_alive() => Ok(session.clone()),
            _ => Err(RabbitError::NotConnected),
        }
    }
}

/// The process's link to RabbitMQ: cheap to clone, shared by the publisher, the consumers and the operator tools.
#[derive(Clone)]
pub struct Broker {
    pub(crate) shared: Arc<BrokerShared>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("prefix", &self.shared.config.prefix)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Broker {
    /// Validates the configuration and starts the supervisor in the background. Returns at once: the API must start
    /// (and serve from its outbox) while the broker is down. Needs a running tokio runtime.
    pub fn start(config: BrokerConfig) -> Result<Self, RabbitError> {
        config.validate()?;
        let (session_tx, session_rx) = watch::channel(None);
        let (stopping, _) = watch::channel(false);
        let shared = Arc::new(BrokerShared {
            topology: Topology::new(&config),
            config,
            session: session_rx,
            stopping,
            supervisor: Mutex::new(None),
        });
        let task = tokio::spawn(supervise(Arc::clone(&shared), session_tx));
        if let Ok(mut slot) = shared.supervisor.try_lock() {
            *slot = Some(task);
        }
        Ok(Self { shared })
    }

    /// Is the connection up (topology declared, publishing channel open)? Cheap: no network round trip, fit for
    /// every `/health/ready` call.
    pub fn is_connected(&self) -> bool {
        self.shared.live_session().is_ok()
    }

    /// Waits until connected, e.g. for a CLI command that is pointless without the broker.
    pub async fn wait_until_connected(&self, limit: Duration) -> Result<(), RabbitError> {
        let mut session = self.shared.session.clone();
        let wait = session.wait_for(|current| current.as_ref().is_some_and(Session::is_alive));
        match tokio::time::timeout(limit, wait).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(RabbitError::ShutDown),
            Err(_) => Err(RabbitError::Timeout {
                operation: "connect",
            }),
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.shared.config
    }

    pub fn topology(&self) -> &Topology {
        &self.shared.topology
    }

    /// The [`JobPublisher`](diningcoach_kernel::JobPublisher) for the outbox relay.
    pub fn publisher(&self) -> LapinJobPublisher {
        LapinJobPublisher::new(self.clone())
    }

    /// The consumer runtime for the worker; add handlers, then `run` it.
    pub fn consumers(&self) -> JobConsumers {
        JobConsumers::new(self.clone())
    }

    /// The operator tools for parked jobs, for the CLI.
    pub fn parking_lot(&self) -> ParkingLot {
        ParkingLot::new(self.clone())
    }

    /// Deletes this prefix's queues and exchanges, with their messages. For tests and throw-away environments only.
    pub async fn delete_topology(&self) -> Result<(), RabbitError> {
        let session = self.shared.live_session()?;
        let limit = self.shared.config.operation_timeout;
        let channel = session.channel(limit).await?;
        let deleted = self.shared.topology.delete(&channel, limit).await;
        let _ = bounded(limit, "close a channel", channel.close(200, "OK".into())).await;
        deleted
    }

    /// Stops reconnecting and closes the connection. Consumers see the shutdown too and stop taking deliveries; to
    /// let their handlers finish first, shut the consumers down (their `run` returning) before calling this.
    pub async fn shutdown(&self) {
        self.shared.stopping.send_replace(true);
        let task = self.shared.supervisor.lock().await.take();
        if let Some(task) = task {
            let limit = self.shared.config.operation_timeout + Duration::from_secs(1);
            if tokio::time::timeout(limit, task).await.is_err() {
                tracing::warn!("the RabbitMQ supervisor did not stop in time");
            }
        }
    }
}

/// Reports the broker to `/health/ready`.
#[async_trait]
impl HealthCheck for Broker {
    fn dependency(&self) -> &'static str {
        "rabbitmq"
    }

    async fn check(&self) -> Result<(), String> {
        self.shared
            .live_session()
            .map(|_| ())
            .map_err(|error| error.to_string())
    }

    async fn gauges(&self) -> Vec<Gauge> {
        vec![Gauge {
            name: "rabbitmq_connected",
            help: "1 when the connection to RabbitMQ is up, 0 while it is down or reconnecting",
            value: if self.is_connected() { 1.0 } else { 0.0 },
        }]
    }
}

/// The supervisor loop: connect, serve, notice the loss, back off, again — until shutdown.
async fn supervise(shared: Arc<BrokerShared>, sessions: watch::Sender<Option<Session>>) {
    let mut stopping = shared.stopping.subscribe();
    let mut delay = shared.config.reconnect_min_delay;
    let mut generation = 0_u64;
    loop {
        if *stopping.borrow() {
            break;
        }
        match connect(&shared, generation + 1).await {
            Ok(session) => {
                generation += 1;
                delay = shared.config.reconnect_min_delay;
                tracing::info!(prefix = %shared.config.prefix, generation, "connected to RabbitMQ");
                let connection = Arc::clone(&session.connection);
                sessions.send_replace(Some(session.clone()));
                let closing = watch_until_lost(&session, &mut stopping).await;
                sessions.send_replace(None);
                if closing {
                    let limit = shared.config.operation_timeout;
                    let _ = bounded(
                        limit,
                        "close the connection",
                        connection.close(200, "shutting down".into()),
                    )
                    .await;
                    break;
                }
                tracing::warn!(prefix = %shared.config.prefix, generation, "lost the connection to RabbitMQ; reconnecting");
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    connection.close(320, "connection lost".into()),
                )
                .await;
            }
            Err(error) => {
                tracing::warn!(prefix = %shared.config.prefix, %error, retry_in_ms = delay.as_millis() as u64, "cannot connect to RabbitMQ");
                tokio::select! {
                    _ = tokio::time::sleep(jittered(delay)) => {}
                    _ = stopping.wait_for(|stop| *stop) => break,
                }
                delay = (delay * 2).min(shared.config.reconnect_max_delay);
            }
        }
    }
    sessions.send_replace(None);
}

/// `delay` ± 20 %, so that many workers that lost the broker together do not all knock at the same instant.
fn jittered(delay: Duration) -> Duration {
    let random = u64::try_from(uuid::Uuid::new_v4().as_u128() % 401).unwrap_or(200);
    delay.mul_f64(0.8 + random as f64 / 1000.0)
}

async fn connect(shared: &BrokerShared, generation: u64) -> Result<Session, RabbitError> {
    let config = &shared.config;
    let properties = ConnectionProperties::default()
        .with_connection_name(config.connection_name.as_str().into());
    let connection = match tokio::time::timeout(
        config.connect_timeout,
        Connection::connect(&config.url, properties),
    )
    .await
    {
        Ok(result) => result.map_err(RabbitError::amqp("connect"))?,
        Err(_) => {
            return Err(RabbitError::Timeout {
                operation: "connect",
            });
        }
    };
    let connection = Arc::new(connection);
    let prepared = async {
        let limit = config.operation_timeout;
        let publisher = bounded(limit, "open a channel", connection.create_channel()).await?;
        shared.topology.declare(&publisher, limit).await?;
        bounded(
            limit,
            "enable publisher confirms",
            publisher.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        Ok::<_, RabbitError>(publisher)
    }
    .await;
    match prepared {
        Ok(publisher) => Ok(Session {
            generation,
            connection,
            publisher,
        }),
        Err(error) => {
            let _ = tokio::time::timeout(
                Duration::from_millis(500),
                connection.close(200, "setup failed".into()),
            )
            .await;
            Err(error)
        }
    }
}

/// Returns when the session's connection is lost (`false`) or shutdown was asked for (`true`). lapin reports
/// errors as events; the periodic status check catches a close that came without one.
async fn watch_until_lost(session: &Session, stopping: &mut watch::Receiver<bool>) -> bool {
    let mut events = session.connection.events_listener();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            _ = stopping.wait_for(|stop| *stop) => return true,
            event = events.next() => match event {
                Some(Event::Error(error)) => {
                    tracing::warn!(%error, "RabbitMQ connection error");
                    return false;
                }
                Some(_) => {}
                None => return false,
            },
            _ = tick.tick() => {
                if !session.is_alive() {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_a_fifth_of_the_delay() {
        for _ in 0..100 {
            let delay = jittered(Duration::from_secs(10));
            assert!(
                delay >= Duration::from_secs(8) && delay <= Duration::from_secs(12),
                "{delay:?}"
            );
        }
    }
}
