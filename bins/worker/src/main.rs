//! diningcoach-worker: consumes the job queues, relays the outbox to the broker and runs the periodic tasks.
//! Composition root: read the settings, build the adapters, wire handlers, run until SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use diningcoach_catalog::{CatalogImportHandler, Reanalysis};
use diningcoach_config::{WorkerSettings, start};
use diningcoach_kernel::{JobKind, Mailer, SendEmailHandler, SystemClock};
use diningcoach_postgres::{
    OutboxJanitor, OutboxRelay, PgConfig, PgFoodRepository, PgJobLedger, PgOutbox, RelayConfig,
    Scheduler, connect,
};
use diningcoach_rabbitmq::{Broker, BrokerConfig};
use diningcoach_smtp::{FileMailer, LettreMailer, sender};
use tokio_util::sync::CancellationToken;

/// An import allocates and frees millions of small blocks (rows, analyses, column arrays) across the reading
/// thread and the writing one; with glibc's allocator, freeing them was a quarter of the importer's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match start("diningcoach-worker", WorkerSettings::from_env, |s| {
        s.common.log_format
    }) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn mailer(settings: &WorkerSettings) -> anyhow::Result<Arc<dyn Mailer>> {
    let from = sender(&settings.mail_from)?;
    Ok(match &settings.smtp_url {
        Some(url) => {
            tracing::info!("sending mail over SMTP");
            Arc::new(LettreMailer::new(url, from)?)
        }
        None => {
            tracing::info!(dir = %settings.mail_dir.display(), "SMTP_URL is not set: writing mails as .eml files");
            Arc::new(FileMailer::new(&settings.mail_dir, from)?)
        }
    })
}

/// Resolves on SIGTERM or SIGINT.
async fn termination() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the worker");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

async fn run(settings: WorkerSettings) -> anyhow::Result<()> {
    let mut pg = PgConfig::new(settings.common.database_url.clone());
    pg.max_connections = settings.common.db_pool_size;
    pg.checkout_timeout = settings.common.db_checkout_timeout;
    let pool = connect(&pg);

    let worker_name = format!("diningcoach-worker@{}", std::process::id());
    let mut broker_config = BrokerConfig::new(settings.common.amqp_url.clone());
    broker_config.prefix = settings.common.amqp_prefix.clone();
    broker_config.queue_expiry = settings.common.amqp_queue_expiry;
    broker_config.connection_name = worker_name.clone();
    broker_config.prefetch = settings.prefetch;
    broker_config.retry_delays = settings.retry_delays.clone();
    let broker = Broker::start(broker_config).context("invalid RabbitMQ settings")?;

    let send_email = Arc::new(SendEmailHandler::new(
        mailer(&settings)?,
        Arc::new(PgJobLedger::new(pool.clone())),
    ));

    // Imports read the files the API stored under IMPORT_DIR: with several hosts, a shared volume.
    let diet_catalog = diningcoach_api::diet_catalog()?;
    let imports = diningcoach_api::import_service(
        pool.clone(),
        diet_catalog.clone(),
        &settings.common.import_dir,
    );
    let catalog_import = Arc::new(CatalogImportHandler::new(Arc::new(imports)));

    let stop = CancellationToken::new();
    let relay = OutboxRelay::new(
        PgOutbox::new(pool.clone()),
        Arc::new(broker.publisher()),
        RelayConfig::default(),
    );
    let relay = tokio::spawn(relay.run(stop.clone()));
    let scheduler = Scheduler::new(pool.clone(), Arc::new(SystemClock), worker_name)
        .with_task(Arc::new(OutboxJanitor::new(pool.clone())))
        .with_task(Arc::new(Reanalysis::new(
            Arc::new(PgFoodRepository::new(pool.clone())),
            diet_catalog,
        )));
    let scheduler = tokio::spawn(scheduler.run(stop.clone()));

    tracing::info!("worker started: relaying the outbox, consuming jobs, running periodic tasks");
    let consumers = broker
        .consumers()
        .handle(JobKind::SendEmail, send_email)
        .handle(JobKind::CatalogImport, catalog_import);
    let stopping = stop.clone();
    let consumed = consumers
        .run(async move {
            termination().await;
            tracing::info!("stopping: finishing the jobs in hand");
            stopping.cancel();
        })
        .await;
    stop.cancel();
    let _ = tokio::join!(relay, scheduler);
    broker.shutdown().await;
    consumed.context("the job consumers failed")?;
    tracing::info!("worker stopped");
    Ok(())
}
