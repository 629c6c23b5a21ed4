use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use diningcoach_kernel::health::{Gauge, HealthCheck};

use crate::pool::checkout;
use crate::{PgOutbox, PgPool};

/// PostgreSQL as the health and metrics endpoints see it: reachable or not, pool use and the outbox backlog.
#[derive(Clone)]
pub struct PgHealth {
    pool: PgPool,
    outbox: PgOutbox,
}

impl PgHealth {
    pub fn new(pool: PgPool) -> Self {
        Self {
            outbox: PgOutbox::new(pool.clone()),
            pool,
        }
    }
}

#[async_trait]
impl HealthCheck for PgHealth {
    fn dependency(&self) -> &'static str {
        "postgresql"
    }

    async fn check(&self) -> Result<(), String> {
        let mut conn = checkout(&self.pool).await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn gauges(&self) -> Vec<Gauge> {
        let state = self.pool.state();
        let mut gauges = vec![
            Gauge {
                name: "db_pool_connections",
                help: "Connections the database pool holds",
                value: f64::from(state.connections),
            },
            Gauge {
                name: "db_pool_idle_connections",
                help: "Idle connections in the database pool",
                value: f64::from(state.idle_connections),
            },
            Gauge {
                name: "db_pool_checkout_timeouts_total",
                help: "Requests that found no free database connection in time",
                value: state.statistics.get_timed_out as f64,
            },
        ];
        if let Ok((pending, oldest_age)) = self.outbox.backlog().await {
            gauges.push(Gauge {
                name: "outbox_pending_jobs",
                help: "Jobs written to the outbox and not yet confirmed by the broker",
                value: pending as f64,
            });
            gauges.push(Gauge {
                name: "outbox_oldest_pending_seconds",
                help: "Age of the oldest job still waiting in the outbox",
                value: oldest_age,
            });
        }
        gauges
    }
}
