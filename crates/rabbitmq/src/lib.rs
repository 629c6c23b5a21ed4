//! The RabbitMQ adapter: the jobs topology, a publisher with confirms, a supervised consumer runtime that retries
//! with growing delays and parks what cannot succeed, and operator tools for the parking queue.
//!
//! Start a [`Broker`] once per process; everything else hangs off it:
//!
//! ```no_run
//! # async fn wire(handler: std::sync::Arc<dyn diningcoach_kernel::JobHandler>) -> Result<(), diningcoach_rabbitmq::RabbitError> {
//! use diningcoach_kernel::JobKind;
//! use diningcoach_rabbitmq::{Broker, BrokerConfig};
//!
//! let broker = Broker::start(BrokerConfig::new("amqp://guest:guest@127.0.0.1:5672/%2f"))?;
//! let publisher = broker.publisher(); // impl JobPublisher, for the outbox relay
//! let shutdown = async { let _ = tokio::signal::ctrl_c().await; };
//! broker.consumers().handle(JobKind::SendEmail, handler).run(shutdown).await?;
//! broker.shutdown().await;
//! # drop(publisher); Ok(()) }
//! ```
//!
//! See `docs/messaging.md` for the topology, the retry and parking policy, and why the connection is supervised
//! here rather than by lapin.

mod broker;
mod config;
mod consumer;
mod envelope;
mod error;
mod parking;
mod publisher;
mod topology;

pub use broker::Broker;
pub use config::BrokerConfig;
pub use consumer::JobConsumers;
pub use envelope::{ATTEMPT_HEADER, LAST_ERROR_HEADER, PARK_REASON_HEADER, ROUTING_KEY_HEADER};
pub use error::RabbitError;
pub use parking::{ParkedJob, ParkingLot, ReplayReport, ReplaySelection};
pub use publisher::LapinJobPublisher;
pub use topology::Topology;
