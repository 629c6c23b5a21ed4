//! Against the real RabbitMQ of the machine. Each test has its own name prefix (and so its own exchanges and
//! queues) and deletes them at the end, so the tests run in parallel on one broker.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use diningcoach_kernel::{Job, JobFailure, JobHandler, JobId, JobKind, JobPublisher};
use diningcoach_rabbitmq::{Broker, BrokerConfig, ParkedJob, ReplaySelection};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const DEADLINE: Duration = Duration::from_secs(20);

fn url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn config(test: &str) -> BrokerConfig {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("test-{test}-{}", &unique[..8]);
    BrokerConfig {
        url: url(),
        connection_name: prefix.clone(),
        prefix,
        prefetch: 4,
        retry_delays: vec![Duration::from_millis(200), Duration::from_millis(300)],
        delivery_limit: 5,
        queue_expiry: Some(Duration::from_secs(600)),
        reconnect_min_delay: Duration::from_millis(100),
        reconnect_max_delay: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(5),
        ..BrokerConfig::default()
    }
}

async fn started(config: BrokerConfig) -> TestBroker {
    let broker = Broker::start(config).unwrap();
    broker.wait_until_connected(DEADLINE).await.unwrap();
    TestBroker(broker)
}

/// A broker whose queues and exchanges are deleted even when the test fails half-way (normally [`teardown`] does
/// it), so failed runs leave nothing behind on the shared broker.
struct TestBroker(Broker);

impl std::ops::Deref for TestBroker {
    type Target = Broker;

    fn deref(&self) -> &Broker {
        &self.0
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let config = self.0.config().clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let properties = lapin::ConnectionProperties::default();
                let Ok(raw) = lapin::Connection::connect(&config.url, properties).await else {
                    return;
                };
                if let Ok(channel) = raw.create_channel().await {
                    let topology = diningcoach_rabbitmq::Topology::new(&config);
                    let _ = topology.delete(&channel, Duration::from_secs(5)).await;
                }
                let _ = raw.close(200, "OK".into()).await;
            });
        });
        let _ = cleanup.join();
    }
}

/// Polls `check` until it holds or the deadline passes.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn job(kind: JobKind) -> Job {
    Job {
        id: JobId::generate(),
        kind,
        version: 1,
        created_at: Utc::now(),
        payload: serde_json::json!({"n": 1}),
    }
}

type Behaviour = dyn Fn(&Job, usize) -> Result<(), JobFailure> + Send + Sync;

/// Records every call and answers by a rule of the job and of how often it was seen.
struct Recorder {
    calls: Mutex<HashMap<JobId, usize>>,
    behaviour: Box<Behaviour>,
}

impl Recorder {
    fn new(
        behaviour: impl Fn(&Job, usize) -> Result<(), JobFailure> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(HashMap::new()),
            behaviour: Box::new(behaviour),
        })
    }

    fn calls(&self, id: JobId) -> usize {
        self.calls.lock().unwrap().get(&id).copied().unwrap_or(0)
    }
}

#[async_trait]
impl JobHandler for Recorder {
    async fn handle(&self, job: &Job) -> Result<(), JobFailure> {
        let seen = {
            let mut calls = self.calls.lock().unwrap();
            let seen = calls.entry(job.id).or_default();
            *seen += 1;
            *seen
        };
        (self.behaviour)(job, seen)
    }
}

struct RunningConsumers {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

fn consume(broker: &Broker, kind: JobKind, handler: Arc<dyn JobHandler>) -> RunningConsumers {
    let (stop, stopped) = oneshot::channel::<()>();
    let consumers = broker.consumers().handle(kind, handler);
    let task = tokio::spawn(async move {
        consumers
            .run(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    RunningConsumers { stop, task }
}

impl RunningConsumers {
    async fn stop(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .unwrap()
            .unwrap();
    }
}

async fn raw_channel(broker: &Broker) -> (lapin::Connection, lapin::Channel) {
    let raw =
        lapin::Connection::connect(&broker.config().url, lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = raw.create_channel().await.unwrap();
    (raw, channel)
}

/// Messages ready for delivery in a kind's queue (unacknowledged ones are not counted).
async fn ready_messages(broker: &Broker, kind: JobKind) -> u32 {
    let (raw, channel) = raw_channel(broker).await;
    let passive = lapin::options::QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    let queue = broker.topology().job_queue(kind);
    let declared = channel
        .queue_declare(
            queue.as_str().into(),
            passive,
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();
    raw.close(200, "OK".into()).await.unwrap();
    declared.message_count()
}

async fn teardown(broker: TestBroker) {
    broker.delete_topology().await.unwrap();
    broker.shutdown().await;
    assert!(!broker.is_connected());
}

async fn parked(broker: &Broker) -> Vec<ParkedJob> {
    broker.parking_lot().list(100).await.unwrap()
}

/// The pid of the broker-side connection whose client named itself `name`, from `rabbitmqctl` (one connection a
/// line: the pid, a tab, the client properties with `{"connection_name","<name>"}`).
fn connection_pid(name: &str) -> Option<String> {
    let output = std::process::Command::new("rabbitmqctl")
        .args([
            "list_connections",
            "pid",
            "client_properties",
            "-q",
            "--no-table-headers",
        ])
        .output()
        .ok()?;
    let listing = String::from_utf8_lossy(&output.stdout);
    let needle = format!("{{\"connection_name\",\"{name}\"}}");
    listing
        .lines()
        .find(|line| line.contains(&needle))
        .and_then(|line| line.split('\t').next())
        .map(|pid| pid.trim().to_owned())
}

/// Force-closes the connection named `name` from the broker side, as an outage or a broker restart would.
fn close_connection(name: &str) -> String {
    let pid = connection_pid(name).expect("the test's connection is listed");
    let status = std::process::Command::new("rabbitmqctl")
        .args(["close_connection", &pid, "closed by a test", "-q"])
        .status()
        .unwrap();
    assert!(status.success());
    pid
}

#[tokio::test(flavor = "multi_thread")]
async fn a_published_job_is_handled_once_and_acknowledged() {
    let broker = started(config("once")).await;
    let recorder = Recorder::new(|_, _| Ok(()));
    let consumers = consume(&broker, JobKind::SendEmail, recorder.clone());

    let first = job(JobKind::SendEmail);
    broker.publisher().publish(&first).await.unwrap();
    eventually("the handler saw the job", || async {
        recorder.calls(first.id) == 1
    })
    .await;
    let second = job(JobKind::SendEmail);
    broker.publisher().publish(&second).await.unwrap();
    eventually("the handler saw the second job", || async {
        recorder.calls(second.id) == 1
    })
    .await;

    consumers.stop().await;
    // Acknowledged: with the consumers gone, nothing is left in the queue (an unacknowledged delivery would be back).
    assert_eq!(ready_messages(&broker, JobKind::SendEmail).await, 0);
    assert_eq!(recorder.calls(first.id), 1);
    assert_eq!(recorder.calls(second.id), 1);
    assert!(parked(&broker).await.is_empty());
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unroutable_job_is_refused_and_an_absent_broker_is_unavailable() {
    let broker = started(config("refuse")).await;
    // With its kind's queue gone, a job has nowhere to go: the mandatory flag makes that an error, not a drop.
    let (raw, channel) = raw_channel(&broker).await;
    let queue = broker.topology().job_queue(JobKind::DiaryRollup);
    channel
        .queue_delete(
            queue.as_str().into(),
            lapin::options::QueueDeleteOptions::default(),
        )
        .await
        .unwrap();
    raw.close(200, "OK".into()).await.unwrap();
    let result = broker.publisher().publish(&job(JobKind::DiaryRollup)).await;
    assert!(
        matches!(result, Err(diningcoach_kernel::PublishError::Refused(_))),
        "{result:?}"
    );
    // Other kinds are unaffected.
    broker
        .publisher()
        .publish(&job(JobKind::SendEmail))
        .await
        .unwrap();
    teardown(broker).await;

    let unreachable = BrokerConfig {
        url: "amqp://guest:guest@127.0.0.1:1/%2f".into(),
        ..config("down")
    };
    let absent = Broker::start(unreachable).unwrap();
    let started_at = tokio::time::Instant::now();
    let result = absent.publisher().publish(&job(JobKind::DiaryRollup)).await;
    assert!(
        matches!(
            result,
            Err(diningcoach_kernel::PublishError::Unavailable(_))
        ),
        "{result:?}"
    );
    assert!(started_at.elapsed() < Duration::from_secs(1));
    assert!(!absent.is_connected());
    absent.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retryable_failure_is_retried_until_it_succeeds() {
    let broker = started(config("retry")).await;
    let recorder = Recorder::new(|_, seen| {
        if seen < 3 {
            Err(JobFailure::retryable("smtp down"))
        } else {
            Ok(())
        }
    });
    let consumers = consume(&broker, JobKind::SendEmail, recorder.clone());

    let sent = job(JobKind::SendEmail);
    broker.publisher().publish(&sent).await.unwrap();
    eventually("the third attempt ran", || async {
        recorder.calls(sent.id) >= 3
    })
    .await;
    consumers.stop().await;
    assert_eq!(recorder.calls(sent.id), 3);
    assert!(parked(&broker).await.is_empty());
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_always_fails_is_parked_after_the_delays_with_its_reason() {
    let broker = started(config("exhaust")).await;
    let recorder = Recorder::new(|_, _| Err(JobFailure::retryable("smtp down")));
    let consumers = consume(&broker, JobKind::SendEmail, recorder.clone());

    let doomed = job(JobKind::SendEmail);
    broker.publisher().publish(&doomed).await.unwrap();
    eventually("the job is parked", || async {
        !parked(&broker).await.is_empty()
    })
    .await;
    consumers.stop().await;

    let parked = parked(&broker).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].job_id, Some(doomed.id));
    assert_eq!(parked[0].kind, Some(JobKind::SendEmail));
    assert_eq!(parked[0].attempts, 3);
    assert!(
        parked[0].reason.contains("smtp down"),
        "{}",
        parked[0].reason
    );
    assert_eq!(recorder.calls(doomed.id), 3);
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_is_parked_at_once() {
    let broker = started(config("permanent")).await;
    let recorder = Recorder::new(|_, _| Err(JobFailure::permanent("no such address")));
    let consumers = consume(&broker, JobKind::DiaryRollup, recorder.clone());

    let doomed = job(JobKind::DiaryRollup);
    broker.publisher().publish(&doomed).await.unwrap();
    eventually("the job is parked", || async {
        !parked(&broker).await.is_empty()
    })
    .await;
    consumers.stop().await;

    let parked = parked(&broker).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].job_id, Some(doomed.id));
    assert_eq!(parked[0].attempts, 1);
    assert_eq!(parked[0].reason, "no such address");
    assert_eq!(recorder.calls(doomed.id), 1);
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_body_is_parked() {
    let config = config("malformed");
    let broker = started(config.clone()).await;
    let recorder = Recorder::new(|_, _| Ok(()));
    let consumers = consume(&broker, JobKind::CatalogImport, recorder.clone());

    let raw = lapin::Connection::connect(&config.url, lapin::ConnectionProperties::default())
        .await
        .unwrap();
    let channel = raw.create_channel().await.unwrap();
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await
        .unwrap();
    let confirm = channel
        .basic_publish(
            broker.topology().jobs_exchange().as_str().into(),
            JobKind::CatalogImport.as_str().into(),
            lapin::options::BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            b"{ not json",
            lapin::BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(confirm, lapin::Confirmation::Ack(None));
    raw.close(200, "OK".into()).await.unwrap();

    eventually("the message is parked", || async {
        !parked(&broker).await.is_empty()
    })
    .await;
    consumers.stop().await;
    let parked = parked(&broker).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].job_id, None);
    assert_eq!(parked[0].kind, Some(JobKind::CatalogImport));
    assert!(
        parked[0].reason.contains("not a valid job"),
        "{}",
        parked[0].reason
    );
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unacknowledged_job_is_redelivered_when_its_consumer_dies() {
    let config = config("redeliver");
    let victim_config = BrokerConfig {
        connection_name: format!("{}-victim", config.prefix),
        ..config.clone()
    };
    let victim = started(victim_config.clone()).await;

    // The victim takes the job and never finishes it.
    let (began, mut begun) = tokio::sync::mpsc::unbounded_channel::<JobId>();
    struct Stuck(tokio::sync::mpsc::UnboundedSender<JobId>);
    #[async_trait]
    impl JobHandler for Stuck {
        async fn handle(&self, job: &Job) -> Result<(), JobFailure> {
            let _ = self.0.send(job.id);
            std::future::pending().await
        }
    }
    let victim_consumers = consume(&victim, JobKind::SendEmail, Arc::new(Stuck(began)));
    let stuck = job(JobKind::SendEmail);
    victim.publisher().publish(&stuck).await.unwrap();
    let got = tokio::time::timeout(DEADLINE, begun.recv()).await.unwrap();
    assert_eq!(got, Some(stuck.id));

    // A second worker waits; the victim dies as under SIGKILL: its work stops and its connection drops.
    let survivor = started(config).await;
    let recorder = Recorder::new(|_, _| Ok(()));
    let survivor_consumers = consume(&survivor, JobKind::SendEmail, recorder.clone());
    victim_consumers.task.abort();
    close_connection(&victim_config.connection_name);

    eventually("the survivor handled the job", || async {
        recorder.calls(stuck.id) == 1
    })
    .await;
    victim.shutdown().await;
    survivor_consumers.stop().await;
    assert!(parked(&survivor).await.is_empty());
    teardown(survivor).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consumers_resume_after_their_connection_is_forcibly_closed() {
    let config = config("resume");
    let broker = started(config.clone()).await;
    let recorder = Recorder::new(|_, _| Ok(()));
    let consumers = consume(&broker, JobKind::DiaryRollup, recorder.clone());

    let before = job(JobKind::DiaryRollup);
    broker.publisher().publish(&before).await.unwrap();
    eventually("the first job is handled", || async {
        recorder.calls(before.id) == 1
    })
    .await;

    let old_pid = close_connection(&config.connection_name);
    eventually("the supervisor reconnected", || async {
        broker.is_connected()
            && connection_pid(&config.connection_name).is_some_and(|pid| pid != old_pid)
    })
    .await;

    let after = job(JobKind::DiaryRollup);
    eventually("the publisher works again", || async {
        broker.publisher().publish(&after).await.is_ok()
    })
    .await;
    eventually(
        "the job published after reconnecting is handled",
        || async { recorder.calls(after.id) >= 1 },
    )
    .await;
    consumers.stop().await;
    assert_eq!(recorder.calls(before.id), 1);
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn parked_jobs_can_be_listed_without_loss_and_replayed() {
    let broker = started(config("replay")).await;
    // Fails permanently the first time it sees a job, succeeds afterwards: as if an operator fixed the cause.
    let recorder = Recorder::new(|_, seen| {
        if seen == 1 {
            Err(JobFailure::permanent("template missing"))
        } else {
            Ok(())
        }
    });
    let consumers = consume(&broker, JobKind::SendEmail, recorder.clone());

    let first = job(JobKind::SendEmail);
    let second = job(JobKind::SendEmail);
    broker.publisher().publish(&first).await.unwrap();
    broker.publisher().publish(&second).await.unwrap();
    eventually("both jobs are parked", || async {
        parked(&broker).await.len() == 2
    })
    .await;
    // Listing twice shows the same jobs: a listing takes nothing away.
    assert_eq!(parked(&broker).await.len(), 2);
    assert_eq!(broker.parking_lot().count().await.unwrap(), 2);

    let report = broker
        .parking_lot()
        .replay(&ReplaySelection::Only(vec![first.id]))
        .await
        .unwrap();
    assert_eq!(
        report
            .replayed
            .iter()
            .map(|job| job.job_id)
            .collect::<Vec<_>>(),
        vec![Some(first.id)]
    );
    assert!(report.failed.is_empty());
    eventually("the replayed job is handled", || async {
        recorder.calls(first.id) == 2
    })
    .await;
    let left = parked(&broker).await;
    assert_eq!(
        left.iter().map(|job| job.job_id).collect::<Vec<_>>(),
        vec![Some(second.id)]
    );

    let report = broker
        .parking_lot()
        .replay(&ReplaySelection::All)
        .await
        .unwrap();
    assert_eq!(report.replayed.len(), 1);
    eventually("the rest is handled", || async {
        recorder.calls(second.id) == 2
    })
    .await;
    consumers.stop().await;
    assert!(parked(&broker).await.is_empty());
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_shutdown_lets_running_handlers_finish() {
    let broker = started(config("graceful")).await;
    let (began, mut begun) = tokio::sync::mpsc::unbounded_channel::<JobId>();
    let finished = Arc::new(Mutex::new(Vec::<JobId>::new()));
    struct Slow(
        tokio::sync::mpsc::UnboundedSender<JobId>,
        Arc<Mutex<Vec<JobId>>>,
    );
    #[async_trait]
    impl JobHandler for Slow {
        async fn handle(&self, job: &Job) -> Result<(), JobFailure> {
            let _ = self.0.send(job.id);
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.1.lock().unwrap().push(job.id);
            Ok(())
        }
    }
    let consumers = consume(
        &broker,
        JobKind::CatalogImport,
        Arc::new(Slow(began, finished.clone())),
    );
    let slow = job(JobKind::CatalogImport);
    broker.publisher().publish(&slow).await.unwrap();
    let got = tokio::time::timeout(DEADLINE, begun.recv()).await.unwrap();
    assert_eq!(got, Some(slow.id));

    consumers.stop().await;
    assert_eq!(*finished.lock().unwrap(), vec![slow.id]);
    assert_eq!(ready_messages(&broker, JobKind::CatalogImport).await, 0);
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_past_the_delivery_limit_is_parked_not_dropped() {
    // A worker that crashes on a message again and again: every delivery is returned unacknowledged.
    let broker = started(config("limit")).await;
    let crashing = job(JobKind::SendEmail);
    broker.publisher().publish(&crashing).await.unwrap();

    let (raw, channel) = raw_channel(&broker).await;
    let queue = broker.topology().job_queue(JobKind::SendEmail);
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "crashing-worker".into(),
            lapin::options::BasicConsumeOptions::default(),
            lapin::types::FieldTable::default(),
        )
        .await
        .unwrap();
    let returns = tokio::spawn(async move {
        use futures_util::StreamExt;
        let mut returned = 0;
        while let Some(Ok(delivery)) = consumer.next().await {
            let requeue = lapin::options::BasicNackOptions {
                requeue: true,
                ..Default::default()
            };
            delivery.acker.nack(requeue).await.unwrap();
            returned += 1;
        }
        returned
    });
    eventually("the message is parked", || async {
        !parked(&broker).await.is_empty()
    })
    .await;
    raw.close(200, "OK".into()).await.unwrap();
    let returned = tokio::time::timeout(DEADLINE, returns)
        .await
        .unwrap()
        .unwrap();
    assert!(
        returned > broker.config().delivery_limit,
        "returned {returned} times"
    );

    let parked = parked(&broker).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].job_id, Some(crashing.id));
    assert_eq!(parked[0].kind, Some(JobKind::SendEmail));
    assert!(
        parked[0].reason.contains("delivery_limit"),
        "{}",
        parked[0].reason
    );
    teardown(broker).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consumers_redeclare_and_resume_when_their_queue_is_deleted() {
    let broker = started(config("requeue")).await;
    let recorder = Recorder::new(|_, _| Ok(()));
    let consumers = consume(&broker, JobKind::SendEmail, recorder.clone());
    let before = job(JobKind::SendEmail);
    broker.publisher().publish(&before).await.unwrap();
    eventually("the first job is handled", || async {
        recorder.calls(before.id) == 1
    })
    .await;

    // An operator deletes the queue under the running consumer: the broker cancels it.
    let (raw, channel) = raw_channel(&broker).await;
    let queue = broker.topology().job_queue(JobKind::SendEmail);
    channel
        .queue_delete(
            queue.as_str().into(),
            lapin::options::QueueDeleteOptions::default(),
        )
        .await
        .unwrap();
    raw.close(200, "OK".into()).await.unwrap();

    let after = job(JobKind::SendEmail);
    eventually("the queue is back", || async {
        broker.publisher().publish(&after).await.is_ok()
    })
    .await;
    eventually("the consumer is back", || async {
        recorder.calls(after.id) >= 1
    })
    .await;
    consumers.stop().await;
    teardown(broker).await;
}
