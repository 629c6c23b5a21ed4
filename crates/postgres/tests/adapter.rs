//! The PostgreSQL adapter against the real server: migrations, schema, outbox relay, ledger, scheduler, janitor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diningcoach_kernel::schedule::PeriodicTask;
use diningcoach_kernel::{
    Email, InfraError, Job, JobId, JobKind, JobLedger, JobPublisher, MailTemplate, OutgoingEmail,
    PublishError, SystemClock,
};
use diningcoach_postgres::testing::TestDatabase;
use diningcoach_postgres::{
    MIGRATIONS, OutboxJanitor, PgJobLedger, PgOutbox, Scheduler, run_migrations,
};

fn mail_job(n: usize) -> Job {
    let mail = OutgoingEmail {
        to: Email::parse(&format!("user{n}@example.org")).unwrap(),
        template: MailTemplate::ConfirmEmail {
            nickname: format!("user{n}"),
            link: "https://x/verify".into(),
        },
    };
    Job::new(&mail, Utc::now()).unwrap()
}

/// A broker stand-in that records what it confirmed, and can be told to refuse.
#[derive(Default)]
struct RecordingPublisher {
    published: Mutex<Vec<JobId>>,
    refuse_after: Option<usize>,
}

#[async_trait]
impl JobPublisher for RecordingPublisher {
    async fn publish(&self, job: &Job) -> Result<(), PublishError> {
        let mut published = self.published.lock().unwrap();
        if self.refuse_after.is_some_and(|n| published.len() >= n) {
            return Err(PublishError::Unavailable("connection refused".into()));
        }
        published.push(job.id);
        Ok(())
    }
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    let mut conn = db.pool().get_owned().await.unwrap();
    let found: Count = sql_query(sql).get_result(&mut *conn).await.unwrap();
    found.n
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_run_up_down_and_up_again() {
    use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
    use diesel_migrations::MigrationHarness;

    let db = TestDatabase::empty().await.unwrap();
    let applied = run_migrations(db.url()).await.unwrap();
    assert!(!applied.is_empty());
    assert!(
        run_migrations(db.url()).await.unwrap().is_empty(),
        "a second run applies nothing"
    );

    let url = db.url().to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .unwrap();
        conn.revert_all_migrations(MIGRATIONS).unwrap();
        assert!(conn.pending_migrations(MIGRATIONS).unwrap().len() == applied.len());
        conn.run_pending_migrations(MIGRATIONS).unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_starts_migrate_once_under_the_advisory_lock() {
    let db = TestDatabase::empty().await.unwrap();
    let url = db.url().to_owned();
    let runs = (0..4).map(|_| {
        let url = url.clone();
        async move { run_migrations(&url).await }
    });
    let results = futures_join_all(runs).await;
    let applied: usize = results.into_iter().map(|r| r.unwrap().len()).sum();
    assert_eq!(applied, MIGRATIONS_COUNT.with(|n| *n));
}

thread_local! {
    static MIGRATIONS_COUNT: usize = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .map(|dir| dir.flatten().filter(|e| e.path().is_dir()).count())
        .unwrap_or(0);
}

async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_foreign_key_is_indexed() {
    let db = TestDatabase::new().await.unwrap();
    // A foreign key whose columns do not lead some index makes deletes of the parent scan the child table.
    let unindexed = count(
        &db,
        "SELECT count(*) AS n FROM pg_constraint c
         WHERE c.contype = 'f' AND NOT EXISTS (
           SELECT 1 FROM pg_index i
           WHERE i.indrelid = c.conrelid
             AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey)",
    )
    .await;
    assert_eq!(unindexed, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn schema_rs_matches_the_migrations() {
    let db = TestDatabase::new().await.unwrap();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = std::process::Command::new("diesel")
        .args(["print-schema", "--database-url", db.url()])
        .current_dir(root)
        .output()
        .expect("the diesel CLI is installed by deploy/test.sh; run that, or `cargo install diesel_cli`");
    assert!(
        output.status.success(),
        "diesel print-schema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let generated = String::from_utf8(output.stdout).unwrap();
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/schema.rs")).unwrap();
    assert!(
        generated == checked_in,
        "crates/postgres/src/schema.rs is out of date; regenerate it with `diesel print-schema`:\n{generated}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_publishes_each_job_once_in_order_and_marks_it() {
    let db = TestDatabase::new().await.unwrap();
    let outbox = PgOutbox::new(db.pool());
    let jobs: Vec<Job> = (0..5).map(mail_job).collect();
    outbox.enqueue(&jobs).await.unwrap();
    assert_eq!(outbox.backlog().await.unwrap().0, 5);

    let publisher = RecordingPublisher::default();
    let outcome = outbox.relay_batch(&publisher, 3).await.unwrap();
    assert_eq!(
        (outcome.fetched, outcome.published, outcome.failure),
        (3, 3, None)
    );
    let outcome = outbox.relay_batch(&publisher, 3).await.unwrap();
    assert_eq!(outcome.published, 2);
    assert_eq!(outbox.relay_batch(&publisher, 3).await.unwrap().fetched, 0);

    let expected: Vec<JobId> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(*publisher.published.lock().unwrap(), expected);
    assert_eq!(outbox.backlog().await.unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broker_outage_keeps_jobs_pending_with_the_error_recorded() {
    let db = TestDatabase::new().await.unwrap();
    let outbox = PgOutbox::new(db.pool());
    outbox
        .enqueue(&(0..4).map(mail_job).collect::<Vec<_>>())
        .await
        .unwrap();

    let flaky = RecordingPublisher {
        refuse_after: Some(1),
        ..Default::default()
    };
    let outcome = outbox.relay_batch(&flaky, 10).await.unwrap();
    assert_eq!(outcome.published, 1);
    assert!(outcome.failure.is_some());
    assert_eq!(outbox.backlog().await.unwrap().0, 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM outbox WHERE attempts = 1 AND last_error IS NOT NULL"
        )
        .await,
        1
    );

    let healthy = RecordingPublisher::default();
    assert_eq!(outbox.relay_batch(&healthy, 10).await.unwrap().published, 3);
    assert_eq!(outbox.backlog().await.unwrap().0, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_relays_never_publish_a_job_twice() {
    let db = TestDatabase::new().await.unwrap();
    let outbox = PgOutbox::new(db.pool());
    outbox
        .enqueue(&(0..300).map(mail_job).collect::<Vec<_>>())
        .await
        .unwrap();

    let publisher = Arc::new(RecordingPublisher::default());
    let relays = (0..4).map(|_| {
        let outbox = outbox.clone();
        let publisher = publisher.clone();
        async move {
            while outbox
                .relay_batch(publisher.as_ref(), 7)
                .await
                .unwrap()
                .fetched
                > 0
            {}
        }
    });
    futures_join_all(relays).await;

    let published = publisher.published.lock().unwrap();
    let mut seen = HashMap::new();
    for id in published.iter() {
        *seen.entry(*id).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), 300);
    assert!(seen.values().all(|&n| n == 1), "a job was published twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_query_uses_the_pending_index() {
    let db = TestDatabase::new().await.unwrap();
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    // On a near-empty table a sequential scan is cheapest; take it off the table to see the plan we rely on.
    sql_query("SET enable_seqscan = off")
        .execute(&mut conn)
        .await
        .unwrap();
    let plan: Vec<Line> = sql_query(
        "EXPLAIN SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let plan: Vec<String> = plan.into_iter().map(|l| l.line).collect();
    assert!(
        plan.iter().any(|l| l.contains("outbox_pending_idx")),
        "plan: {plan:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ledger_remembers_processed_jobs() {
    let db = TestDatabase::new().await.unwrap();
    let ledger = PgJobLedger::new(db.pool());
    let job = JobId::generate();
    assert!(!ledger.is_done(job).await.unwrap());
    ledger.mark_done(job, JobKind::SendEmail).await.unwrap();
    ledger.mark_done(job, JobKind::SendEmail).await.unwrap();
    assert!(ledger.is_done(job).await.unwrap());
}

struct CountingTask(AtomicUsize);

#[async_trait]
impl PeriodicTask for CountingTask {
    fn name(&self) -> &'static str {
        "counting"
    }
    fn period(&self) -> Duration {
        Duration::from_secs(3600)
    }
    async fn run(&self, _now: chrono::DateTime<Utc>) -> Result<String, InfraError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok("counted".into())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_periodic_task_runs_once_per_period_across_workers() {
    let db = TestDatabase::new().await.unwrap();
    let task = Arc::new(CountingTask(AtomicUsize::new(0)));
    let workers: Vec<Scheduler> = (0..3)
        .map(|n| {
            Scheduler::new(db.pool(), Arc::new(SystemClock), format!("worker-{n}"))
                .with_task(task.clone())
        })
        .collect();
    for _ in 0..2 {
        for worker in &workers {
            worker.run_due().await;
        }
    }
    assert_eq!(AtomicUsize::load(&task.0, Ordering::SeqCst), 1);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM scheduled_runs WHERE outcome = 'counted'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_janitor_deletes_only_old_bookkeeping() {
    let db = TestDatabase::new().await.unwrap();
    let outbox = PgOutbox::new(db.pool());
    let jobs: Vec<Job> = (0..3).map(mail_job).collect();
    outbox.enqueue(&jobs).await.unwrap();
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();
    sql_query("UPDATE outbox SET published_at = now() - interval '8 days' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(jobs[0].id.as_uuid())
        .execute(&mut conn)
        .await
        .unwrap();
    sql_query("UPDATE outbox SET published_at = now() - interval '1 day' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(jobs[1].id.as_uuid())
        .execute(&mut conn)
        .await
        .unwrap();
    let outcome = OutboxJanitor::new(db.pool()).run(Utc::now()).await.unwrap();
    assert!(outcome.starts_with("deleted 1 published"), "{outcome}");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbox").await, 2);
}
