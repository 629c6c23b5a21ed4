//! The foundation end to end: the real API and worker, PostgreSQL, RabbitMQ and an SMTP server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::Utc;
use diningcoach_e2e::{DeadSmtp, SmtpSink, Stack, eventually};
use diningcoach_kernel::{Email, Job, MailTemplate, OutgoingEmail};
use diningcoach_postgres::PgOutbox;

fn mail_to(address: &str) -> Job {
    let mail = OutgoingEmail {
        to: Email::parse(address).unwrap(),
        template: MailTemplate::ConfirmEmail {
            nickname: "Ann".into(),
            link: "https://app.test/verify-email?token=abc".into(),
        },
    };
    Job::new(&mail, Utc::now()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_serves_probes_docs_and_problems_and_stops_gracefully() {
    let stack = Stack::new().await;
    let api = stack.api().await;

    let ready: serde_json::Value = api
        .client
        .get(api.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["checks"]["postgresql"], "up");
    assert_eq!(ready["checks"]["rabbitmq"], "up");

    let doc: serde_json::Value = api
        .client
        .get(api.url("/api-docs/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/auth/signup"].is_object());
    let swagger = api
        .client
        .get(api.url("/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(swagger.status(), 200);

    let missing = api
        .client
        .get(api.url("/api/v1/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );

    let metrics = api
        .client
        .get(api.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("db_pool_connections"));
    assert!(metrics.contains("outbox_pending_jobs 0"));
    assert!(metrics.contains("rabbitmq_connected 1"));

    let status = api.process.terminate(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "the API exited with {status} after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_in_the_outbox_becomes_a_mail_on_the_smtp_server() {
    let sink = SmtpSink::start(Duration::ZERO).await;
    let stack = Stack::new()
        .await
        .with("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port));
    let worker = stack.worker().await;

    PgOutbox::new(stack.db.pool())
        .enqueue(&[mail_to("ann@example.org")])
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert!(mails[0].contains("To: ann@example.org"));
    assert!(mails[0].contains("Subject: Confirm your DiningCoach email address"));
    assert!(mails[0].contains("https://app.test/verify-email?token=abc"));
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM outbox WHERE published_at IS NULL")
            .await,
        0
    );
    assert_eq!(
        stack
            .count("SELECT count(*) AS n FROM processed_jobs")
            .await,
        1
    );

    let status = worker.terminate(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "the worker exited with {status} after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    let dead = DeadSmtp::start().await;
    let stack = Stack::new()
        .await
        .with("SMTP_URL", format!("smtp://127.0.0.1:{}", dead.port));
    let worker = stack.worker().await;
    PgOutbox::new(stack.db.pool())
        .enqueue(&[mail_to("ann@example.org"), mail_to("bob@example.org")])
        .await
        .unwrap();

    // The jobs reach the broker and fail against the dead server; they wait in the retry queues.
    eventually(
        Duration::from_secs(30),
        "the worker to try and fail",
        || async { (dead.attempts() >= 2).then_some(()) },
    )
    .await;
    let port = dead.stop().await;

    let sink = SmtpSink::start_on(port, Duration::ZERO).await;
    let mails = sink.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 2);
    worker.terminate(Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_job_loses_nothing() {
    // The sink holds each mail for 3 s before accepting it: the worker is killed while it waits.
    let sink = SmtpSink::start(Duration::from_secs(3)).await;
    let stack = Stack::new()
        .await
        .with("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port));
    let worker = stack.worker().await;
    PgOutbox::new(stack.db.pool())
        .enqueue(&[mail_to("ann@example.org")])
        .await
        .unwrap();

    eventually(
        Duration::from_secs(30),
        "the worker to be sending the mail",
        || async { (sink.deliveries_started() == 1).then_some(()) },
    )
    .await;
    worker.kill().await;
    assert!(
        sink.mails().is_empty(),
        "the mail must not have been accepted before the kill"
    );

    let restarted = stack.worker().await;
    let mails = sink.wait_for(1, Duration::from_secs(60)).await;
    assert!(mails[0].contains("To: ann@example.org"));
    // The job is done once: the ledger records it, and no second delivery follows.
    eventually(
        Duration::from_secs(10),
        "the job to be recorded as done",
        || async {
            (stack
                .count("SELECT count(*) AS n FROM processed_jobs")
                .await
                == 1)
                .then_some(())
        },
    )
    .await;
    assert_eq!(sink.mails().len(), 1);
    restarted.terminate(Duration::from_secs(30)).await;
}
