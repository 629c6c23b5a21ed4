//! Periodic tasks: work that runs once per period however many workers run.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::InfraError;

#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PeriodicTask: Send + Sync {
    /// A stable name: it is the key that makes one worker, and only one, run each period.
    fn name(&self) -> &'static str;
    fn period(&self) -> Duration;
    /// Does the work; returns a one-line outcome for the schedule's record. Must be safe to run again for a
    /// period whose run crashed half-way.
    async fn run(&self, now: DateTime<Utc>) -> Result<String, InfraError>;
}

/// The start of the period that contains `now`, aligned to the Unix epoch so that every worker agrees on it.
pub fn period_start(now: DateTime<Utc>, period: Duration) -> DateTime<Utc> {
    let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
    let now_ms = now.timestamp_millis();
    let start_ms = now_ms - now_ms.rem_euclid(period_ms);
    DateTime::<Utc>::from_timestamp_millis(start_ms).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn periods_are_aligned_to_the_epoch() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 10, 37, 12).single();
        let Some(now) = now else { panic!("date") };
        let hour = period_start(now, Duration::from_secs(3600));
        assert_eq!(
            hour,
            Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0)
                .single()
                .unwrap_or(now)
        );
        let day = period_start(now, Duration::from_secs(86_400));
        assert_eq!(
            day,
            Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
                .single()
                .unwrap_or(now)
        );
        assert_eq!(period_start(hour, Duration::from_secs(3600)), hour);
    }
}
