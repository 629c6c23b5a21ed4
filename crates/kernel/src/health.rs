//! What the API's health and metrics endpoints ask of each dependency.

use async_trait::async_trait;

/// A number worth watching, exported as a Prometheus gauge.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    pub value: f64,
}

/// A dependency the service cannot do its work without.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// The dependency's name as operators know it ("postgresql", "rabbitmq").
    fn dependency(&self) -> &'static str;
    /// `Err` with a short, operator-facing reason when the dependency cannot be used now.
    async fn check(&self) -> Result<(), String>;
    /// Current gauges (pool use, backlogs); cheap enough to call on every scrape.
    async fn gauges(&self) -> Vec<Gauge>;
}
