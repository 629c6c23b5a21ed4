//! Runs periodic tasks once per period across all workers: the worker whose insert of the (task, period) row
//! succeeds runs it; the primary key turns every other worker's insert into a no-op.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use diningcoach_kernel::Clock;
use diningcoach_kernel::schedule::{PeriodicTask, period_start};
use tokio_util::sync::CancellationToken;

use crate::pool::checkout;
use crate::schema::scheduled_runs;
use crate::{PgError, PgPool};

pub struct Scheduler {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    tasks: Vec<Arc<dyn PeriodicTask>>,
    /// Recorded with each claim, so an operator can see which worker ran what.
    worker: String,
    tick: Duration,
}

impl Scheduler {
    pub fn new(pool: PgPool, clock: Arc<dyn Clock>, worker: impl Into<String>) -> Self {
        Self {
            pool,
            clock,
            tasks: Vec::new(),
            worker: worker.into(),
            tick: Duration::from_secs(15),
        }
    }

    pub fn with_task(mut self, task: Arc<dyn PeriodicTask>) -> Self {
        self.tasks.push(task);
        self
    }

    /// How often the scheduler looks for a period to run; shorter only in tests.
    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Claims the task's current period; true when this worker won it and must run it.
    pub async fn claim(&self, task: &str, period: DateTime<Utc>) -> Result<bool, PgError> {
        let mut conn = checkout(&self.pool).await?;
        let inserted = diesel::insert_into(scheduled_runs::table)
            .values((
                scheduled_runs::task.eq(task),
                scheduled_runs::period_start.eq(period),
                scheduled_runs::claimed_by.eq(&self.worker),
            ))
            .on_conflict_do_nothing()
            .execute(&mut conn)
            .await?;
        Ok(inserted == 1)
    }

    async fn finish(
        &self,
        task: &str,
        period: DateTime<Utc>,
        outcome: &str,
    ) -> Result<(), PgError> {
        let mut conn = checkout(&self.pool).await?;
        diesel::update(scheduled_runs::table.find((task, period)))
            .set((
                scheduled_runs::finished_at.eq(diesel::dsl::now),
                scheduled_runs::outcome.eq(outcome),
            ))
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    /// Runs every task whose current period nobody has claimed yet. Returns the names of the tasks it ran.
    pub async fn run_due(&self) -> Vec<&'static str> {
        let mut ran = Vec::new();
        for task in &self.tasks {
            let now = self.clock.now();
            let period = period_start(now, task.period());
            match self.claim(task.name(), period).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(error) => {
                    tracing::warn!(task = task.name(), %error, "cannot claim the task's period; will try again");
                    continue;
                }
            }
            let outcome = match task.run(now).await {
                Ok(outcome) => {
                    tracing::info!(task = task.name(), %outcome, "periodic task done");
                    outcome
                }
                Err(error) => {
                    tracing::error!(task = task.name(), %error, "periodic task failed");
                    format!("failed: {error}")
                }
            };
            if let Err(error) = self.finish(task.name(), period, &outcome).await {
                tracing::warn!(task = task.name(), %error, "cannot record the task's outcome");
            }
            ran.push(task.name());
        }
        ran
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            self.run_due().await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.tick) => {}
            }
        }
    }
}
